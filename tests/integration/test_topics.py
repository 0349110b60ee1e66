"""Topics with non-durable subscribers (docs/topics.md), against real nodes and the real CLI:
fan-out to every current subscriber once and in order, nothing for a subscriber that was not
there, nothing in the store, a slow subscriber holding the publisher, and the refusals."""
import json
import unittest
import urllib.error
import urllib.request

import harness
from test_cluster import connector, wait_link


class TopicsTest(harness.NodeTestCase):
    def test_every_subscriber_receives_every_message_once_in_order(self):
        node = self.start_node("topic-fanout")
        n = 200
        subscribers = [self.subscribe(node, "topic://prices", n) for _ in range(3)]
        self.produce(node, "topic://prices", n)
        for c in subscribers:
            self.assertEqual(self.finished(c), harness.text_messages(n), c.describe())
        row = self.wait_dstat(node, "topic://prices", consumers=0)
        self.assertEqual(row["enqueued"], n, row)
        self.assertEqual(row["pending"], 0, row)
        fields = self.debug_fields(node, "topic://prices")
        self.assertEqual(fields.get("kind"), "topic", fields)
        self.assertEqual(fields.get("dispatched"), str(3 * n), fields)
        # The console lists the topic with its kind, and refuses to browse it.
        with urllib.request.urlopen(node.console_url + "/api/queues", timeout=10) as r:
            listed = {q["name"]: q for q in json.load(r)["queues"]}
        self.assertEqual(listed["topic://prices"]["kind"], "topic", listed)
        self.assertEqual(listed["topic://prices"]["enqueued"], n, listed)
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(node.console_url + "/api/queues/topic%3A%2F%2Fprices/messages",
                                   timeout=10)
        self.assertEqual(refused.exception.code, 400)
        self.assertIn("a topic cannot be browsed", refused.exception.read().decode())

    def test_a_late_subscriber_gets_only_what_is_published_after_it_came(self):
        node = self.start_node("topic-late")
        early = self.subscribe(node, "topic://news", 20)
        self.produce(node, "topic://news", 10, message="before")
        late = self.subscribe(node, "topic://news", 10)
        self.produce(node, "topic://news", 10, message="after")
        self.assertEqual(self.finished(early), ["before"] * 10 + ["after"] * 10)
        self.assertEqual(self.finished(late), ["after"] * 10)
        # Nothing published while nobody is subscribed is kept for anyone.
        self.produce(node, "topic://news", 5, message="unheard")
        fields = self.debug_fields(node, "topic://news")
        self.assertEqual(fields.get("dropped-without-subscribers"), "5", fields)
        c = self.consume(node, "topic://news", 1, check=False, receiveTimeout=1000)
        self.assertNotEqual(c.returncode, 0, c.describe())
        self.assertEqual(c.lines, [], c.describe())

    def test_topic_messages_leave_no_trace_in_the_store(self):
        node = self.start_node("topic-nostore")
        self.produce(node, "queue://warmup", 1)  # the store's first commits are behind us
        before = self.debug_fields(node, "store")
        sub = self.subscribe(node, "topic://ticks", 40)
        self.produce(node, "topic://ticks", 20, persistent="true")
        self.produce(node, "topic://ticks", 20, persistent="false")
        self.assertEqual(len(self.finished(sub)), 40)
        after = self.debug_fields(node, "store")
        for key in ("commits", "operations", "map-used"):
            if key in before:
                self.assertEqual(before[key], after[key], "store %s: %r then %r"
                                 % (key, before, after))
        self.assertIn("commits", before, before)
        self.wait_dstat(node, "topic://ticks", pending=0, consumers=0, enqueued=40)
        # A topic is not stored: after a restart the node has no such destination.
        node.stop()
        node.start()
        self.assertNotIn("topic://ticks", self.dstat(node))
        self.assertIn("queue://warmup", self.dstat(node))

    def test_a_slow_subscriber_holds_the_publisher_and_a_killed_one_releases_it(self):
        limit = 5
        node = self.start_node(
            "topic-slow", overrides=["limits.topic_subscriber_pending_messages=%d" % limit])
        n = 300
        fast = self.subscribe(node, "topic://flow", n)
        slow = self.subscribe(node, "topic://flow", n, prefetch=1, sleep=600000)
        producer = self.start_cli(*self.producer_args(node, "topic://flow", n), label="producer")

        def held():
            return int(self.debug_fields(node, "topic://flow").get("held-sends", "0")) > 0
        self.wait_until(held, 20, "the publisher to be held by the slow subscriber")
        enqueued = self.dstat(node)["topic://flow"]["enqueued"]
        self.assertLess(enqueued, n)
        self.assert_stays(lambda: producer.running()
                          and self.dstat(node)["topic://flow"]["enqueued"] == enqueued, 1.5,
                          "the publisher held")
        fields = self.debug_fields(node, "topic://flow")
        # The slow subscriber's backlog is bounded by the limit (plus the send that found it
        # full), and so is the node's memory for it.
        self.assertLessEqual(int(fields["pending"]), limit + 1, fields)
        # kill -9 of the slow subscriber's client: the publisher goes on, the other subscriber
        # receives everything.
        slow.kill()
        self.finish(producer, 60)
        self.assertEqual(producer.returncode, 0, producer.describe())
        self.assertEqual(self.finished(fast), harness.text_messages(n))
        self.wait_dstat(node, "topic://flow", consumers=0, pending=0, enqueued=n)

    def test_bad_topic_destinations_are_refused_with_their_reason(self):
        node = self.start_node("topic-bad")
        p = self.produce(node, "topic://", 1, check=False)
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("empty topic name", p.stderr)
        p = self.produce(node, "topic://prices.>", 1, check=False)
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("wildcard '>'", p.stderr)
        # A consumer may use wildcards (test_wildcards.py), whole elements only.
        c = self.consume(node, "topic://prices.x*", 1, check=False, receiveTimeout=1000)
        self.assertNotEqual(c.returncode, 0, c.describe())
        self.assertIn("bad wildcard in destination pattern", c.stderr)
        self.assertNotIn("topic://prices.>", self.dstat(node))

    def test_bridges_carry_queues_statically_and_topics_on_demand_only(self):
        # A forwards every queue to B (a static include of everything); a topic goes to B only
        # while B has subscribers on it (docs/topics.md "Across a network of brokers").
        b = self.start_node("topic-br-b")
        a = self.start_node("topic-br-a", extra_config=connector(
            b.ports["cluster"], options='statically_included_destinations: ">"'))
        wait_link(a, "topic-br-b", 30)
        on_a = self.subscribe(a, "topic://local", 5)
        on_b = self.subscribe(b, "topic://local", 5)
        self.wait_until(lambda: any(name.startswith("durable://network:") and
                                    name.endswith("@topic://local") and row["consumers"] == 1
                                    for name, row in self.dstat(a).items()),
                        30, "A's network subscription on topic://local for B")
        self.produce(a, "topic://local", 5)
        self.assertEqual(self.finished(on_a), harness.text_messages(5))
        self.assertEqual(self.finished(on_b), harness.text_messages(5))
        # No subscriber on B: the static include does not take topics.
        self.produce(a, "topic://nobody", 2)
        self.produce(a, "queue://bridged", 3)
        self.wait_dstat(b, "queue://bridged", timeout=30, pending=3)
        self.assertNotIn("topic://nobody", self.dstat(b))

if __name__ == "__main__":
    unittest.main()
