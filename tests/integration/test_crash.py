"""kill -9 a node mid-stream and restart it: acknowledged persistent sends survive exactly once;
non-persistent messages promise nothing across a crash; a clean stop exits 0 and keeps them."""

import collections
import time
import unittest

import harness
from harness import text_messages
from test_cluster import slow_sync_env


class CrashTest(harness.NodeTestCase):

    def test_kill_mid_stream_keeps_every_acknowledged_send_once(self):
        self._kill_mid_stream(window=0)

    def test_kill_mid_stream_with_async_window(self):
        self._kill_mid_stream(window=64)

    def _kill_mid_stream(self, window):
        """With `window` persistent sends in flight at once (0: each waits for its receipt), a
        kill may keep up to max(window, 1) sends beyond the N receipted ones, never lose one of
        those N, never store one twice."""
        in_flight = max(window, 1)
        node = self.start_node("crash-it")
        opts = {"asyncWindow": window} if window else {}
        producer = self.start_cli(*self.producer_args(node, "queue://crash", 10000000, **opts),
                                  label="producer")
        # Kill once the queue holds some thousands, or after ~1.5 s with at least some.
        deadline = time.monotonic() + 20
        started = time.monotonic()
        while True:
            self.assertTrue(producer.running(),
                            "producer ended before the kill\n" + producer.describe())
            row = self.dstat(node).get("queue://crash")
            pending = row["pending"] if row else 0
            if pending >= 3000 or (pending > 0 and time.monotonic() - started >= 1.5):
                break
            if time.monotonic() > deadline:
                self.fail("the queue did not fill within 20 s (pending %d)\n%s"
                          % (pending, producer.describe()))
            time.sleep(0.2)
        node.kill()

        try:
            rc = producer.wait(15)
        except TimeoutError as e:
            self.fail("producer did not notice the dead node: %s" % e)
        self.assertNotEqual(rc, 0, producer.describe())
        n = harness.produced_count(producer.stderr)
        self.assertIsNotNone(n, "last stderr line is not 'produced N messages'\n"
                             + producer.describe())
        self.assertGreater(n, 0, producer.describe())

        node.restart()
        # The store holds N (every receipted send) and at most the sends that were in flight
        # (committed before the kill, their receipts lost).
        pending = self.dstat(node)["queue://crash"]["pending"]
        self.assertTrue(n <= pending <= n + in_flight,
                        "pending %d after restart vs produced %d" % (pending, n))

        c = self.consume(node, "queue://crash", n + in_flight + 10, receiveTimeout=3000,
                         check=False, timeout=120)
        got = c.lines
        counts = collections.Counter(got)
        dups = sorted(m for m, k in counts.items() if k > 1)
        self.assertEqual(dups, [], "duplicates after restart (first 10): %r" % dups[:10])
        expected = set(text_messages(n))
        missing = sorted(expected - set(got), key=lambda s: int(s.split(":")[1]))
        self.assertEqual(missing, [], "acknowledged sends lost (%d, first 10): %r"
                         % (len(missing), missing[:10]))
        extra = set(got) - expected
        self.assertTrue(extra <= set(text_messages(in_flight, start=n)),
                        "unexpected messages: %r" % sorted(extra)[:10])
        self.assertEqual(len(got), pending, "consumer got a different count than dstat showed")
        self.assertEqual(got[:n], text_messages(n), "messages out of order after restart")

    def test_non_persistent_messages_do_not_survive_a_crash(self):
        node = self.start_node("np-crash-it")
        self.produce(node, "queue://mixed", 5, message="persistent")
        self.produce(node, "queue://mixed", 5, message="transient", persistent="false")
        self.produce(node, "queue://np-only", 7, persistent="false")
        # Non-persistent sends get no receipt and the producer's Disconnect no answer
        # (docs/protocol.md), so the node may enqueue them just after the producer exits: wait
        # until it holds them all, so that the kill below is what takes them away.
        self.wait_dstat(node, "queue://mixed", timeout=5, pending=10)
        self.wait_dstat(node, "queue://np-only", timeout=5, pending=7)

        node.kill()
        node.restart()

        c = self.consume(node, "queue://mixed", 10, receiveTimeout=2000, check=False)
        self.assertEqual(c.lines, ["persistent"] * 5, c.describe())
        c = self.consume(node, "queue://np-only", 1, receiveTimeout=1000, check=False)
        self.assertNotEqual(c.returncode, 0, c.describe())
        self.assertEqual(c.lines, [], c.describe())

    def test_stop_tells_connected_clients(self):
        node = self.start_node("stopping-it")
        consumer = self.start_cli(*self.consumer_args(node, "queue://idle", 1,
                                                      receiveTimeout=30000), label="consumer")
        self.wait_dstat(node, "queue://idle", consumers=1)
        self.assertEqual(node.stop(), harness.EXIT_CLEAN, node.describe())
        try:
            rc = consumer.wait(10)
        except TimeoutError as e:
            self.fail("consumer did not notice the stop: %s" % e)
        self.assertNotEqual(rc, 0, consumer.describe())
        self.assertIn("stopping", consumer.stderr, consumer.describe())

    def test_a_stop_that_times_out_exits_6_and_names_what_still_ran(self):
        # Every fsync of this node takes 1.5 s: a stop that comes while a commit is under way
        # cannot finish within a stop timeout of 300 ms.
        node = self.make_node("stopslow-it", extra_config="stop_timeout_ms: 300",
                              env=slow_sync_env(self.workdir, 1500))
        node.start(timeout=30)
        producer = self.start_cli(*self.producer_args(node, "queue://slow", 5), label="producer")
        node.wait_for_log(r"broker creates queue://slow", 30)  # its commit is under way now
        node.proc.signal(15)
        try:
            rc = node.wait_exit(20)
        except TimeoutError:
            self.fail("the node did not exit after its stop timeout\n" + node.describe())
        self.assertEqual(rc, 6, node.describe())
        self.assertRegex(node.log, r"the stop took longer than 300 ms \(stop_timeout_ms\); "
                                   r"still running: .*the store \(its final commit\)")
        producer.kill()

    def test_clean_stop_exits_zero_and_keeps_persistent_messages(self):
        node = self.start_node("stop-it")
        self.produce(node, "queue://kept", 20)
        t0 = time.monotonic()
        rc = node.stop()
        self.assertEqual(rc, harness.EXIT_CLEAN, node.describe())
        # An idle node stops well within its 5 s stop deadline, without needing it.
        self.assertLess(time.monotonic() - t0, 3.0, "stop of an idle node took too long\n"
                        + node.describe())
        self.assertNotIn("took longer", node.log)
        node.restart()
        # Counts are persisted with the messages.
        self.assertEqual(self.dstat(node).get("queue://kept"),
                         {"pending": 20, "consumers": 0, "enqueued": 20, "dequeued": 0})
        c = self.consume(node, "queue://kept", 20, receiveTimeout=10000)
        self.assertEqual(c.lines, text_messages(20), c.describe())
        self.wait_dstat(node, "queue://kept", pending=0, consumers=0, enqueued=20, dequeued=20)


if __name__ == "__main__":
    unittest.main()
