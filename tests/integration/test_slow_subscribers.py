"""A slow non-durable topic subscriber (docs/topics.md "A slow subscriber"), against real nodes:
with limits.slow_topic_subscriber "drop_oldest" the publisher never waits, the slow subscriber
later gets the newest messages, and the topic counts what it dropped (dstat topics, /metrics,
the console's API, actormq-debug per subscriber); with "block" (the default) the publisher is
held and nothing is dropped. The slow subscriber is a CLI consumer stopped with SIGSTOP: it
neither reads nor acknowledges, so its messages wait in the topic."""
import json
import signal
import unittest
import urllib.request

import harness

LIMIT = 5


class SlowSubscriberTest(harness.NodeTestCase):
    def dstat_topics(self, node):
        """{name: discarded} from `actormq dstat topics` (its Discarded column)."""
        p = self.run_cli("dstat", "--brokerUrl", node.client_url, "topics", label="dstat")
        self.assertEqual(p.returncode, 0, p.describe())
        lines = p.stdout.splitlines()
        self.assertIn("Discarded", lines[0], p.stdout)
        out = {}
        for line in lines[1:]:
            fields = line.split()
            out[fields[0]] = int(fields[5])
        return out

    def start(self, name, policy=None):
        overrides = ["limits.topic_subscriber_pending_messages=%d" % LIMIT]
        if policy:
            overrides.append("limits.slow_topic_subscriber=%s" % policy)
        return self.start_node(name, overrides=overrides)

    def test_drop_oldest_lets_the_publisher_finish_and_counts_what_the_slow_one_lost(self):
        node = self.start("slow-drop", "drop_oldest")
        n = 300
        fast = self.subscribe(node, "topic://ticks", n, receiveTimeout=60000)
        # prefetch 1: one message reaches the stopped client, the rest waits in the topic.
        slow = self.subscribe(node, "topic://ticks", 1 + LIMIT, prefetch=1,
                              receiveTimeout=60000)
        slow.signal(signal.SIGSTOP)
        try:
            self.produce(node, "topic://ticks", n, timeout=60)
            self.assertEqual(self.finished(fast), harness.text_messages(n))
            dropped = n - 1 - LIMIT
            fields = self.debug_fields(node, "topic://ticks")
            self.assertEqual(fields.get("discarded"), str(dropped), fields)
            self.assertRegex(fields.get("discarded-by-subscriber", ""),
                             r"^session \d+ consumer \d+: %d$" % dropped, fields)
            self.assertEqual(fields.get("pending"), str(LIMIT), fields)
            self.assertEqual(fields.get("held-sends"), "0", fields)
        finally:
            slow.signal(signal.SIGCONT)
        # The first message it had, then the newest LIMIT: the oldest of the backlog went.
        self.assertEqual(self.finished(slow),
                         harness.text_messages(1) + harness.text_messages(LIMIT, n - LIMIT))
        self.assertEqual(self.dstat_topics(node)["topic://ticks"], dropped)
        with urllib.request.urlopen(node.console_url + "/api/topics", timeout=10) as r:
            topics = {t["name"]: t for t in json.load(r)["topics"]}
        self.assertEqual(topics["topic://ticks"]["discarded"], dropped, topics)
        with urllib.request.urlopen(node.console_url + "/metrics", timeout=10) as r:
            metrics = r.read().decode()
        self.assertIn('actormq_topic_discarded_total{destination="topic://ticks"} %d' % dropped,
                      metrics)

    def test_block_holds_the_publisher_and_drops_nothing(self):
        node = self.start("slow-block")
        n = 100
        fast = self.subscribe(node, "topic://ticks", n, receiveTimeout=60000)
        slow = self.subscribe(node, "topic://ticks", n, prefetch=1, receiveTimeout=60000)
        slow.signal(signal.SIGSTOP)
        try:
            producer = self.start_cli(*self.producer_args(node, "topic://ticks", n),
                                      label="producer")

            def held():
                return int(self.debug_fields(node, "topic://ticks").get("held-sends", "0")) > 0
            self.wait_until(held, 20, "the publisher to be held by the stopped subscriber")
            enqueued = self.dstat(node)["topic://ticks"]["enqueued"]
            self.assertLess(enqueued, n)
            self.assert_stays(lambda: producer.running()
                              and self.dstat(node)["topic://ticks"]["enqueued"] == enqueued, 1.5,
                              "the publisher held")
        finally:
            slow.signal(signal.SIGCONT)
        self.finish(producer, 60)
        self.assertEqual(producer.returncode, 0, producer.describe())
        self.assertEqual(self.finished(fast), harness.text_messages(n))
        self.assertEqual(self.finished(slow), harness.text_messages(n))
        self.assertEqual(self.dstat_topics(node)["topic://ticks"], 0)
        self.assertEqual(self.debug_fields(node, "topic://ticks").get("discarded"), "0")


if __name__ == "__main__":
    unittest.main()
