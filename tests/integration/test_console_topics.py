"""The console's topics page and charts against real nodes (issue 12, items 2 and 7): /api/topics
lists topics and durable subscriptions with their pending counts; the unsubscribe action removes
an offline subscription and refuses one with an open consumer or none at all; the history the
charts draw follows the node's counters; and, in headless Chromium, the charts are drawn and the
Unsubscribe button works."""

import os
import time
import unittest

import harness
from test_console import ConsoleTestCase, _browser_python, browser_missing, http, post_json, q

HERE = os.path.dirname(os.path.abspath(__file__))
HISTORY_MS = 200  # limits.console_history_interval_ms in these tests


class ConsoleTopicsTest(ConsoleTestCase):

    def start(self, name):
        return self.start_node(name, overrides=["limits.console_history_interval_ms=%d"
                                                % HISTORY_MS])

    def subscribe_durable(self, node, topic, client_id, name):
        c = self.run_cli(*self.consumer_args(node, topic, 0, durable="true", clientId=client_id,
                                             subscriptionName=name), label="subscribe")
        self.assertEqual(c.returncode, 0, c.describe())

    def topics(self, node):
        r = http(self.url(node, "/api/topics"))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def wait_for(self, what, predicate, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail("%s: not within %.0f s" % (what, timeout))
            time.sleep(0.05)

    def test_topics_and_durable_subscriptions_in_the_api(self):
        node = self.start("contopics")
        self.subscribe_durable(node, "topic://prices", "app1", "s1")
        self.subscribe_durable(node, "topic://prices", "app2", "s2")
        self.produce(node, "topic://prices", 7)
        t = self.topics(node)
        topics = {x["name"]: x for x in t["topics"]}
        self.assertIn("topic://prices", topics, t)
        self.assertEqual(topics["topic://prices"]["enqueued"], 7, t)
        durables = {(d["client_id"], d["subscription_name"]): d for d in t["durable_subscriptions"]}
        self.assertEqual(set(durables), {("app1", "s1"), ("app2", "s2")}, t)
        for d in durables.values():
            self.assertEqual(d["topic"], "topic://prices")
            self.assertEqual(d["pending"], 7)
            self.assertFalse(d["active"])
        # Queues are not topics.
        self.produce(node, "queue://plain", 1)
        self.assertNotIn("queue://plain", {x["name"] for x in self.topics(node)["topics"]})

    def test_unsubscribe_action(self):
        node = self.start("conunsub")
        self.subscribe_durable(node, "topic://news", "app1", "s1")
        self.produce(node, "topic://news", 3)
        # An open consumer holds the subscription: refused, and it stays.
        holder = self.start_cli(*self.consumer_args(node, "topic://news", 1000, durable="true",
                                                    clientId="app1", subscriptionName="s1",
                                                    receiveTimeout=60000), label="holder")
        self.wait_for("the consumer is open", lambda: any(
            d["active"] for d in self.topics(node)["durable_subscriptions"]))
        url = self.url(node, "/api/topics/unsubscribe")
        r = post_json(url, {"client_id": "app1", "subscription_name": "s1"})
        self.assertEqual(r.status, 409, r)
        self.assertIn("open consumer", r.json()["error"])
        holder.kill()
        self.wait_for("the consumer is gone", lambda: not any(
            d["active"] for d in self.topics(node)["durable_subscriptions"]))
        r = post_json(url, {"client_id": "app1", "subscription_name": "s1"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["client_id"], "app1")
        self.assertEqual(self.topics(node)["durable_subscriptions"], [])
        # Again: there is no such subscription.
        r = post_json(url, {"client_id": "app1", "subscription_name": "s1"})
        self.assertEqual(r.status, 409, r)
        self.assertIn("no durable subscription", r.json()["error"])
        # Bad bodies and methods.
        for body, why in (({"client_id": "app1"}, "both needed"),
                          ({"client_id": "", "subscription_name": "s"}, "non-empty"),
                          ({"client_id": "a", "subscription_name": "s", "x": 1}, "unknown field"),
                          ([1, 2], "JSON object")):
            r = post_json(url, body)
            self.assertEqual(r.status, 400, (body, r))
            self.assertIn(why, r.json()["error"], (body, r))
        self.assertEqual(http(url).status, 405)
        self.assertEqual(http(self.url(node, "/api/topics"), "POST", "{}",
                              {"Content-Type": "application/json"}).status, 405)

    def test_history_follows_the_counters(self):
        node = self.start("conhist")
        self.produce(node, "queue://charted", 40)
        url = self.url(node, "/api/queues/%s/history" % q("queue://charted"))

        def latest():
            r = http(url)
            self.assertEqual(r.status, 200, r)
            s = r.json()["samples"]
            return s[-1] if s and s[-1]["enqueued"] == 40 and s[-1]["pending"] == 40 else None

        self.wait_for("a sample with 40 enqueued and pending", latest)
        self.consume(node, "queue://charted", 40)

        def drained():
            s = http(url).json()["samples"]
            return s[-1]["dequeued"] == 40 and s[-1]["pending"] == 0 and s

        s = self.wait_for("a sample with 40 dequeued", drained)
        self.assertEqual(http(url).json()["interval_ms"], HISTORY_MS)
        times = [x["t"] for x in s]
        self.assertEqual(times, sorted(times))
        self.assertLessEqual(len(s), 60)
        # Topics and durable subscriptions have histories too; a bad name is refused.
        self.subscribe_durable(node, "topic://t", "app1", "s1")
        durable = "durable://app1:s1@topic://t"
        self.wait_for("a sample of the durable subscription", lambda: http(
            self.url(node, "/api/queues/%s/history" % q(durable))).json()["samples"])
        r = http(self.url(node, "/api/queues/%s/history" % q("queue://")))
        self.assertEqual(r.status, 400, r)
        self.assertEqual(http(self.url(node, "/api/queues/%s/history" % q("queue://none")))
                         .json()["samples"], [])

    def test_bad_history_interval_is_refused_at_start(self):
        node = self.make_node("conbadhist", overrides=["limits.console_history_interval_ms=50"])
        node.start(wait_ready=False)
        self.assertEqual(node.wait_exit(10), harness.EXIT_BAD_CONFIG, node.describe())
        self.assertIn("limits.console_history_interval_ms", node.log)


class ConsoleTopicsBrowserTest(ConsoleTestCase):

    def test_charts_and_unsubscribe_in_headless_chromium(self):
        why = browser_missing()
        if why:
            self.skipTest(why)
        node = self.start_node("contopweb", overrides=["limits.console_history_interval_ms=%d"
                                                       % HISTORY_MS])
        c = self.run_cli(*self.consumer_args(node, "topic://web", 0, durable="true",
                                             clientId="webapp", subscriptionName="s1"),
                         label="subscribe")
        self.assertEqual(c.returncode, 0, c.describe())
        self.produce(node, "topic://web", 4)
        self.produce(node, "queue://web.charted", 30)
        shots = os.environ.get("ACTORMQ_IT_SCREENSHOTS") or os.path.join(self.workdir, "shots")
        os.makedirs(shots, exist_ok=True)
        p = self.run_program([_browser_python(), os.path.join(HERE, "browser_console_topics.py"),
                              node.console_url, "queue://web.charted", "topic://web",
                              "webapp:s1", shots], "browser", 120)
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertIn("unsubscribed", p.stdout)
        self.assertEqual(http(self.url(node, "/api/topics")).json()["durable_subscriptions"], [])


if __name__ == "__main__":
    unittest.main()
