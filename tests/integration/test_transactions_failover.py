"""Local transactions across a failover (docs/transactions.md "Failover"): a transacted
`actormq producer` with a failover URL sends to a shared-store pair (B master, C standby, as in
test_failover.py) and B is SIGKILLed in the middle of the run: mid-stream, and with B's syncs
and socket writes slowed (failover_slow_sync.c) so that the kill most likely lands between a
commit and its receipt. The producer ends with every transaction committed; C holds every
message exactly once (a commit whose outcome was unknown was reported rolled back and redone
with the same producer sequences, which the producer audit drops if they were stored), and no
partial transaction."""

import os
import re
import time
import unittest

import harness
import test_failover as fo

COUNT = 2000


class TransactionFailoverTest(harness.NodeTestCase):
    CLI_TIMEOUT = 120.0

    make_pair = fo.FailoverTest.make_pair
    failover_url = fo.FailoverTest.failover_url
    kill = fo.FailoverTest.kill
    wait_sent = fo.FailoverTest.wait_sent
    consume_all = fo.FailoverTest.consume_all
    check_producer = fo.FailoverTest.check_producer

    def run_transacted_producer_across_the_kill(self, b, c, destination, batch, kill_after,
                                                pause=0.0):
        p = self.start_cli(*self.producer_args(self.failover_url(b, c), destination, COUNT,
                                               transacted="true", transactionBatchSize=batch),
                           label="producer")
        self.wait_sent(p, kill_after)
        if pause:
            time.sleep(pause)
        self.kill(b)
        self.check_producer(p, COUNT)
        c.wait_ready(10)
        self.consume_all(c, destination, harness.text_messages(COUNT))
        return p

    def test_kill_mid_stream(self):
        b, c = self.make_pair()
        self.run_transacted_producer_across_the_kill(b, c, "queue://txfo-1", 10, 500)

    def test_kill_between_a_commit_and_its_receipt(self):
        lib, _ = fo.failover_shim(self.workdir)
        if lib is None:
            self.skipTest("no preload shim and no C compiler")
        slow = harness.preload_env(lib, ACTORMQ_SLOW_SYNC_MS=fo.SLOW_SYNC_MS,
                                   ACTORMQ_SLOW_SEND_MS=fo.SLOW_SEND_MS)
        plain = os.environ.copy()
        plain.pop("ACTORMQ_SLOW_SYNC_MS", None)
        plain.pop("ACTORMQ_SLOW_SEND_MS", None)
        b, c = self.make_pair(env_b=slow, env_c=plain)
        p = self.run_transacted_producer_across_the_kill(b, c, "queue://txfo-2", 50, 300,
                                                         pause=0.1)
        # What the producer redid, if anything, it redid once per rollback it reported.
        redone = re.search(r"(\d+) transactions rolled back and sent again", p.stderr)
        lines = len(re.findall(r"transaction was rolled back", p.stderr))
        self.assertEqual(int(redone.group(1)) if redone else 0, lines, p.describe())


if __name__ == "__main__":
    unittest.main()
