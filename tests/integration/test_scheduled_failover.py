"""A producer's scheduled sends across a failover (docs/scheduled.md): a failover producer sends
delayed messages to a shared-store pair whose master B has slow syncs and socket writes
(failover_slow_sync.c), and B is SIGKILLed mid-stream, most likely between a commit and its
receipts. The producer resends what it has no receipt for; the producer audit of scheduled sends
recognises what was stored, so C delivers every message exactly once when it falls due."""

import os
import time
import unittest

import harness
import test_failover as fo
import test_scheduled

COUNT = 600
DELAY_MS = 1000


class ScheduledFailoverTest(harness.NodeTestCase):
    CLI_TIMEOUT = 120.0

    make_pair = fo.FailoverTest.make_pair
    failover_url = fo.FailoverTest.failover_url
    kill = fo.FailoverTest.kill
    wait_sent = fo.FailoverTest.wait_sent
    consume_all = fo.FailoverTest.consume_all
    check_producer = fo.FailoverTest.check_producer
    scheduled = test_scheduled.ScheduledTest.scheduled

    def test_a_resent_scheduled_send_is_scheduled_once(self):
        lib, _ = fo.failover_shim(self.workdir)
        if lib is None:
            self.skipTest("no preload shim and no C compiler")
        slow = harness.preload_env(lib, ACTORMQ_SLOW_SYNC_MS=fo.SLOW_SYNC_MS,
                                   ACTORMQ_SLOW_SEND_MS=fo.SLOW_SEND_MS)
        plain = os.environ.copy()
        plain.pop("ACTORMQ_SLOW_SYNC_MS", None)
        plain.pop("ACTORMQ_SLOW_SEND_MS", None)
        b, c = self.make_pair(env_b=slow, env_c=plain)
        destination = "queue://sched-fo"
        p = self.start_cli(*self.producer_args(self.failover_url(b, c), destination, COUNT,
                                               asyncWindow=200, delay=DELAY_MS),
                           label="producer")
        self.wait_sent(p, COUNT // 2)
        # As test_failover's test_kill_between_commit_and_receipt: stored sends whose receipts
        # had not left B yet are resent to C.
        time.sleep(0.15)
        self.kill(b)
        resends = self.check_producer(p, COUNT)
        c.wait_ready(10)
        self.wait_until(lambda: self.scheduled(c) == [], 30, "every scheduled message to fall due")
        self.consume_all(c, destination, harness.text_messages(COUNT))
        self.assertGreater(int(resends.group(1)) if resends else 0, 0,
                           "no resend was recognised as a duplicate: the kill missed the window "
                           "between a commit and its receipts\n" + p.describe())


if __name__ == "__main__":
    unittest.main()
