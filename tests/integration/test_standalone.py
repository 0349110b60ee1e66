"""A standalone node driven by the real CLI: produce, consume, browse, dstat, purge."""

import time
import unittest

import harness
from harness import text_messages


class StandaloneTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        self.node = self.start_node("standalone-it")

    def test_persistent_messages_arrive_once_in_order(self):
        self.produce(self.node, "queue://q", 100)
        c = self.consume(self.node, "queue://q", 100, receiveTimeout=10000)
        self.assertEqual(c.lines, text_messages(100), c.describe())
        # Nothing is left behind: a second consumer finds the queue empty.
        c2 = self.consume(self.node, "queue://q", 1, receiveTimeout=1000, check=False)
        self.assertNotEqual(c2.returncode, 0, c2.describe())
        self.assertEqual(c2.lines, [], c2.describe())

    def test_message_text_and_size(self):
        self.produce(self.node, "queue://text", 3, message="hello actormq")
        c = self.consume(self.node, "queue://text", 3, receiveTimeout=10000)
        self.assertEqual(c.lines, ["hello actormq"] * 3, c.describe())

        self.produce(self.node, "queue://sized", 2, messageSize=1000)
        c = self.consume(self.node, "queue://sized", 2, receiveTimeout=10000)
        self.assertEqual([len(l) for l in c.lines], [1000, 1000], c.describe())

    def test_non_persistent_reaches_running_consumer(self):
        consumer = self.start_cli(*self.consumer_args(self.node, "queue://np", 50,
                                                      receiveTimeout=20000), label="consumer")
        self.wait_dstat(self.node, "queue://np", consumers=1)
        self.produce(self.node, "queue://np", 50, persistent="false")
        self.assertEqual(consumer.wait(20), 0, consumer.describe())
        self.assertEqual(consumer.lines, text_messages(50), consumer.describe())

    def test_receive_timeout_on_empty_queue(self):
        t0 = time.monotonic()
        c = self.consume(self.node, "queue://empty", 1, receiveTimeout=1000, check=False,
                         timeout=20)
        elapsed = time.monotonic() - t0
        self.assertNotEqual(c.returncode, 0, c.describe())
        self.assertEqual(c.stdout, "", c.describe())
        self.assertTrue(c.stderr.strip(), "no message on stderr\n" + c.describe())
        self.assertGreaterEqual(elapsed, 0.9, "gave up before the receive timeout")

    def test_competing_consumers_share_the_queue(self):
        consumers = [
            self.start_cli(*self.consumer_args(self.node, "queue://work", 200, prefetch=5,
                                               receiveTimeout=5000), label="consumer%d" % i)
            for i in range(2)
        ]
        self.wait_dstat(self.node, "queue://work", consumers=2)
        self.produce(self.node, "queue://work", 200)
        for c in consumers:
            try:
                c.wait(40)
            except TimeoutError as e:
                self.fail(str(e))
        got = [c.lines for c in consumers]
        union = got[0] + got[1]
        self.assertEqual(len(union), len(set(union)), "duplicates between or within consumers")
        self.assertEqual(sorted(union), sorted(text_messages(200)),
                         "\n".join(c.describe() for c in consumers))
        self.assertTrue(got[0] and got[1], "one consumer got nothing: %d / %d"
                        % (len(got[0]), len(got[1])))
        # Each consumer sees its share in queue order.
        for lines in got:
            idx = [int(l.split(":")[1]) for l in lines]
            self.assertEqual(idx, sorted(idx))

    def test_browse_does_not_consume(self):
        self.produce(self.node, "queue://browse", 5)
        for _ in range(2):
            b = self.run_cli("browse", "--brokerUrl", self.node.client_url,
                             "--destination", "queue://browse", timeout=20)
            self.assertEqual(b.returncode, 0, b.describe())
            self.assertEqual(b.lines, text_messages(5), b.describe())
        self.assertEqual(self.dstat(self.node)["queue://browse"]["pending"], 5)
        c = self.consume(self.node, "queue://browse", 5, receiveTimeout=10000)
        self.assertEqual(c.lines, text_messages(5), c.describe())

    def test_dstat_counts(self):
        self.produce(self.node, "queue://stats", 30)
        self.produce(self.node, "queue://other", 3)
        self.consume(self.node, "queue://stats", 10, receiveTimeout=10000)
        row = self.wait_dstat(self.node, "queue://stats", pending=20, consumers=0, enqueued=30,
                              dequeued=10)
        self.assertEqual(row, {"pending": 20, "consumers": 0, "enqueued": 30, "dequeued": 10})
        other = self.dstat(self.node).get("queue://other")
        self.assertEqual(other, {"pending": 3, "consumers": 0, "enqueued": 3, "dequeued": 0})

    def test_purge_empties_queue(self):
        self.produce(self.node, "queue://purge", 20)
        self.assertEqual(self.dstat(self.node)["queue://purge"]["pending"], 20)
        p = self.run_cli("purge", "--brokerUrl", self.node.client_url,
                         "--destination", "queue://purge", timeout=20)
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertEqual(self.dstat(self.node)["queue://purge"]["pending"], 0)
        c = self.consume(self.node, "queue://purge", 1, receiveTimeout=1000, check=False)
        self.assertNotEqual(c.returncode, 0, c.describe())
        self.assertEqual(c.lines, [], c.describe())
        # The queue still works after a purge.
        self.produce(self.node, "queue://purge", 2)
        c = self.consume(self.node, "queue://purge", 2, receiveTimeout=10000)
        self.assertEqual(c.lines, text_messages(2), c.describe())


if __name__ == "__main__":
    unittest.main()
