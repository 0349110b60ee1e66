"""Wildcard subscriptions, composite destinations and virtual topics (docs/topics.md) against
real nodes and the real CLI: a consumer on topic://prices.> or queue://orders.* gets what goes to
every matching destination, those created after it subscribed included; a send to a wildcard is
refused and the connection stays usable; a composite send reaches every part, a persistent one
stored once and kept across a kill -9; a virtual topic feeds its consumer groups' queues."""
import unittest

import harness
from harness import text_messages

F_STATS_REQUEST = 24
F_STATS_REPLY = 25
ERROR_BAD_DESTINATION = 6


class WildcardsTest(harness.NodeTestCase):
    def bodies(self, node):
        fields = self.debug_fields(node, "broker")
        return int(fields["stored-bodies"]), int(fields["body-references"])

    def wait_bodies(self, node, expected):
        """Waits for the store's (bodies, references): acknowledgements commit a moment after
        a consumer has its messages."""
        self.wait_until(lambda: self.bodies(node) == expected, 20,
                        "stored bodies and references to be %r" % (expected,))

    def test_a_topic_wildcard_receives_from_existing_and_later_topics(self):
        node = self.start_node("wild-topic")
        # topic://prices.eu exists before the wildcard subscriber; prices.us.nyse comes after.
        self.produce(node, "topic://prices.eu", 1, message="unheard")
        deep = self.subscribe(node, "topic://prices.>", 9)
        one_level = self.subscribe(node, "topic://prices.*", 6)
        plain = self.subscribe(node, "topic://prices.eu", 3)
        self.produce(node, "topic://prices.eu", 3, message="eu")
        self.produce(node, "topic://prices.us", 3, message="us")
        self.produce(node, "topic://prices.us.nyse", 3, message="nyse")
        self.produce(node, "topic://other.eu", 3, message="other")
        self.assertEqual(sorted(self.finished(deep)), ["eu"] * 3 + ["nyse"] * 3 + ["us"] * 3)
        self.assertEqual(sorted(self.finished(one_level)), ["eu"] * 3 + ["us"] * 3)
        self.assertEqual(self.finished(plain), ["eu"] * 3)

    def test_a_durable_subscription_on_a_topic_wildcard_keeps_what_came_while_away(self):
        node = self.start_node("wild-durable")
        opts = {"durable": "true", "clientId": "app1", "subscriptionName": "all-prices"}
        c = self.run_cli(*self.consumer_args(node, "topic://prices.>", 0, **opts),
                         label="subscribe")
        self.assertEqual(c.returncode, 0, c.describe())
        self.produce(node, "topic://prices.eu", 2, message="eu")
        self.produce(node, "topic://prices.us", 2, message="us")
        node.kill()
        node.start()
        got = self.consume(node, "topic://prices.>", 4, timeout=60, receiveTimeout=20000,
                           **opts)
        self.assertEqual(sorted(got.lines), ["eu", "eu", "us", "us"])

    def test_a_queue_wildcard_consumes_from_existing_and_later_queues(self):
        node = self.start_node("wild-queue")
        self.produce(node, "queue://orders.eu", 5, message="eu")
        self.produce(node, "queue://orders.eu.north", 2, message="deep")
        c = self.subscribe(node, "queue://orders.*", 10)
        # A queue created after the consumer subscribed.
        self.produce(node, "queue://orders.us", 5, message="us")
        self.assertEqual(sorted(self.finished(c)), ["eu"] * 5 + ["us"] * 5)
        self.wait_dstat(node, "queue://orders.eu", pending=0, consumers=0)
        self.wait_dstat(node, "queue://orders.us", pending=0, consumers=0)
        self.wait_dstat(node, "queue://orders.eu.north", pending=2)
        # Client acknowledgement names the wildcard consumer's own keys: every message is
        # acknowledged on its own queue.
        self.produce(node, "queue://jobs.a", 3, message="a")
        self.produce(node, "queue://jobs.b", 3, message="b")
        got = self.consume(node, "queue://jobs.>", 6, ackMode="CLIENT_ACKNOWLEDGE",
                           receiveTimeout=20000)
        self.assertEqual(sorted(got.lines), ["a"] * 3 + ["b"] * 3)
        self.wait_dstat(node, "queue://jobs.a", pending=0, consumers=0)
        self.wait_dstat(node, "queue://jobs.b", pending=0, consumers=0)

    def test_a_send_to_a_wildcard_is_refused_and_the_connection_stays_usable(self):
        node = self.start_node("wild-send")
        p = self.produce(node, "topic://prices.>", 1, check=False)
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("wildcard '>'", p.stderr)
        raw = self.raw_client(node)
        raw.send(harness.connect_frame())
        self.assertTrue(raw.read_until(lambda d: harness.has_command(d, harness.F_CONNECTED), 5))
        for corr, dest, what in ((2, "queue://orders.*", "wildcard '*'"),
                                 (3, "queue://a,topic://b.>", "part 'topic://b.>'")):
            raw.received = b""
            message = harness.pb_field_bytes(1, dest) + harness.pb_field_bytes(2, b"x")
            raw.send(harness.frame(harness.pb_field_varint(harness.F_CORRELATION, corr) +
                                   harness.pb_field_bytes(harness.F_SEND,
                                                          harness.pb_field_bytes(1, message))))
            self.assertTrue(raw.read_until(lambda d: harness.find_error(d) is not None, 5))
            code, text = harness.find_error(raw.received)
            self.assertEqual(code, ERROR_BAD_DESTINATION, text)
            self.assertIn(what, text)
        raw.received = b""
        raw.send(harness.frame(harness.pb_field_varint(harness.F_CORRELATION, 9) +
                               harness.pb_field_bytes(F_STATS_REQUEST, b"")))
        self.assertTrue(raw.read_until(lambda d: harness.has_command(d, F_STATS_REPLY), 5),
                        "the connection is no longer usable")
        raw.close()
        stats = self.dstat(node)
        self.assertNotIn("queue://orders.*", stats)
        self.assertNotIn("queue://a", stats)

    def test_a_composite_send_reaches_every_part_stored_once_across_a_kill_9(self):
        node = self.start_node("composite")
        sub = self.subscribe(node, "topic://audit", 20)
        n = 20
        self.produce(node, "queue://a,queue://b,topic://audit", n, persistent="true")
        self.assertEqual(self.finished(sub), text_messages(n))
        # One body per message for both queues (the topic has no durable subscription: nothing
        # of it is stored).
        self.wait_bodies(node, (n, 2 * n))
        node.kill()
        node.start()
        self.wait_dstat(node, "queue://a", pending=n)
        self.wait_dstat(node, "queue://b", pending=n)
        self.assertEqual(self.consume(node, "queue://a", n).lines, text_messages(n))
        # A body goes with its last reference.
        self.wait_bodies(node, (n, n))
        self.assertEqual(self.consume(node, "b", n).lines, text_messages(n))
        self.wait_bodies(node, (0, 0))
        # Non-persistent composite sends, and a consumer on a composite destination.
        self.produce(node, "queue://c,d", 4, persistent="false", message="np")
        got = self.consume(node, "queue://c,queue://d", 8, receiveTimeout=20000)
        self.assertEqual(got.lines, ["np"] * 8)

    def test_a_virtual_topic_feeds_each_consumer_group_once(self):
        node = self.start_node("virtual")
        topic = "topic://VirtualTopic.Orders"
        # The groups' queues exist before the messages are published (ActiveMQ: a queue made
        # later gets only later messages).
        for group in ("A", "B"):
            self.run_cli(*self.consumer_args(node, "queue://Consumer.%s.VirtualTopic.Orders"
                                             % group, 0), label="create")
        n = 40
        groups = {}
        for group in ("A", "B"):
            queue = "queue://Consumer.%s.VirtualTopic.Orders" % group
            groups[group] = [self.subscribe(node, queue, n, receiveTimeout=5000, prefetch=1)
                             for _ in range(2)]
        plain = self.subscribe(node, topic, n)
        self.produce(node, topic, n, persistent="true")
        self.assertEqual(self.finished(plain), text_messages(n))
        for group, consumers in groups.items():
            got = []
            for c in consumers:
                self.finish(c, 60)
                got += c.lines
            # Each group gets every message once, shared between its two consumers.
            self.assertEqual(sorted(got), sorted(text_messages(n)), group)
            self.assertTrue(all(c.lines for c in consumers),
                            "one consumer of group %s got nothing" % group)
        self.wait_bodies(node, (0, 0))
        # Stored once for both queues while they wait.
        self.produce(node, topic, 5, persistent="true")
        self.wait_bodies(node, (5, 10))
        # A group's queue made after a publish gets only what is published later.
        self.run_cli(*self.consumer_args(node, "queue://Consumer.C.VirtualTopic.Orders", 0),
                     label="create")
        self.produce(node, topic, 1, message="later")
        self.wait_dstat(node, "queue://Consumer.C.VirtualTopic.Orders", pending=1)
        self.assertEqual(self.consume(node, "queue://Consumer.C.VirtualTopic.Orders", 1).lines,
                         ["later"])
        self.wait_dstat(node, "queue://Consumer.A.VirtualTopic.Orders", pending=6)

if __name__ == "__main__":
    unittest.main()
