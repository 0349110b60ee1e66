"""Selectors on durable subscriptions (docs/topics.md, "Durable subscriptions"),
against real nodes: the topic keeps for a subscription only what its selector selects, the
selector is kept with the subscription across a kill -9, and a consumer that opens the
subscription with another selector replaces it (JMS), over the Protobuf protocol and STOMP."""
import json
import unittest
import urllib.request

import harness
import stomp_support as ss

ss.require_stomp()

RED = "color = 'red'"
# The store name of app1's s1 on topic://paint with the selector RED (docs/topics.md).
RED_ROW = "durable://app1:s1:color%20%3D%20%27red%27@topic://paint"
BLUE_ROW = "durable://app1:s1:color%20%3D%20%27blue%27@topic://paint"
PLAIN_ROW = "durable://app1:s1@topic://paint"
# Over STOMP the selector has ActiveMQ's convert_string_expressions option, kept as its prefix.
STOMP_RED_ROW = ("durable://app1:s1:convert_string_expressions%3Acolor%20%3D%20%27red%27"
                 "@topic://paint")


class DurableSelectorTest(harness.NodeTestCase):
    def durable_opts(self, selector=None, **opts):
        opts.update({"durable": "true", "clientId": "app1", "subscriptionName": "s1"})
        if selector is not None:
            opts["selector"] = selector
        return opts

    def open_and_leave(self, node, selector=None):
        """Opens (or makes) app1's s1 on topic://paint with a consumer that leaves at once."""
        c = self.run_cli(*self.consumer_args(node, "topic://paint", 0,
                                             **self.durable_opts(selector)), label="subscribe")
        self.assertEqual(c.returncode, 0, c.describe())

    def publish(self, node, color, count):
        self.produce(node, "topic://paint", count, message=color,
                     property="color=%s" % color)

    def durable_rows(self, node):
        return {name: row for name, row in self.dstat(node).items()
                if name.startswith("durable://")}

    def test_the_selector_is_kept_with_the_subscription_across_a_kill_9(self):
        node = self.start_node("dsel-kill")
        self.open_and_leave(node, RED)
        self.publish(node, "red", 3)
        self.publish(node, "blue", 4)
        self.publish(node, "red", 2)
        # Only what it selects is kept for it.
        rows = self.durable_rows(node)
        self.assertEqual(list(rows), [RED_ROW])
        self.assertEqual(rows[RED_ROW]["pending"], 5, rows)
        node.kill()
        node.start()
        self.assertEqual(self.durable_rows(node)[RED_ROW]["pending"], 5)
        # After the restart the topic filters for it before its consumer is back.
        self.publish(node, "blue", 2)
        self.publish(node, "red", 1)
        self.assertEqual(self.durable_rows(node)[RED_ROW]["pending"], 6)
        c = self.consume(node, "topic://paint", 6, timeout=90,
                         **self.durable_opts(RED, receiveTimeout=20000))
        self.assertEqual(c.lines, ["red"] * 6, c.describe())
        self.assertEqual(self.durable_rows(node)[RED_ROW]["pending"], 0)

    def test_another_selector_replaces_the_subscription(self):
        node = self.start_node("dsel-replace")
        self.open_and_leave(node, RED)
        self.publish(node, "red", 3)
        self.assertEqual(self.durable_rows(node)[RED_ROW]["pending"], 3)
        # JMS: the same subscription with another selector is a new one; the old one goes with
        # its messages.
        self.open_and_leave(node, "color = 'blue'")
        self.assertEqual(list(self.durable_rows(node)), [BLUE_ROW])
        self.assertIn("it is opened with another selector", node.log)
        with urllib.request.urlopen(node.console_url + "/api/topics", timeout=10) as r:
            listed = json.load(r)["durable_subscriptions"]
        self.assertEqual([(d["client_id"], d["subscription_name"], d["selector"]) for d in listed],
                         [("app1", "s1", "color = 'blue'")], listed)
        self.publish(node, "red", 1)
        self.publish(node, "blue", 2)
        self.assertEqual(self.durable_rows(node)[BLUE_ROW]["pending"], 2)
        # Without a selector: a new one again, which takes everything.
        self.open_and_leave(node)
        self.assertEqual(list(self.durable_rows(node)), [PLAIN_ROW])
        self.publish(node, "red", 1)
        self.publish(node, "blue", 1)
        c = self.consume(node, "topic://paint", 2, timeout=90,
                         **self.durable_opts(receiveTimeout=20000))
        self.assertEqual(sorted(c.lines), ["blue", "red"], c.describe())
        # The same selector again is the same subscription: nothing is replaced.
        self.open_and_leave(node, RED)
        self.publish(node, "red", 2)
        self.open_and_leave(node, RED)
        self.assertEqual(self.durable_rows(node)[RED_ROW]["pending"], 2)

    def test_a_selector_too_long_for_the_store_name_is_refused(self):
        node = self.start_node("dsel-long")
        long_selector = " OR ".join("color = 'c%03d'" % i for i in range(40))
        c = self.consume(node, "topic://paint", 0, check=False,
                         **self.durable_opts(long_selector))
        self.assertNotEqual(c.returncode, 0, c.describe())
        self.assertIn("use a shorter selector or name", c.stderr)
        self.assertEqual(self.durable_rows(node), {})


class StompDurableSelectorTest(harness.NodeTestCase):
    TIMEOUT = 20

    def setUp(self):
        super().setUp()
        missing = ss.missing_stomp()
        if missing:
            self.fail(missing)

    def test_stomp_selector_header_filters_a_durable_subscription(self):
        node = ss.stomp_node(self, "dsel-stomp")
        conn, got = ss.connect(self, node, client_id="app1")
        conn.subscribe("/topic/paint", id="d1", ack="client-individual",
                       headers={"activemq.subscriptionName": "s1", "selector": RED,
                                "receipt": "sub"})
        self.wait_until(lambda: "sub" in got.receipts, self.TIMEOUT, "the subscription")
        conn.unsubscribe(id="d1", headers={"receipt": "closed"})
        self.wait_until(lambda: "closed" in got.receipts, self.TIMEOUT, "the consumer's close")
        self.produce(node, "topic://paint", 2, message="blue", property="color=blue")
        self.produce(node, "topic://paint", 3, message="red", property="color=red")
        rows = self.dstat(node)
        self.assertEqual(rows[STOMP_RED_ROW]["pending"], 3, rows)
        conn.subscribe("/topic/paint", id="d2", ack="client-individual",
                       headers={"activemq.subscriptionName": "s1", "selector": RED})
        self.wait_until(lambda: got.count() >= 3, self.TIMEOUT, "the kept messages")
        self.assertEqual(got.bodies(), ["red"] * 3)
        self.assertEqual(got.errors, [])
        # Another selector while its consumer is open: refused, the subscription stays.
        conn.subscribe("/topic/paint", id="d3", ack="client-individual",
                       headers={"activemq.subscriptionName": "s1", "selector": "color = 'blue'"})
        self.wait_until(lambda: got.errors, self.TIMEOUT, "an ERROR frame")
        self.assertIn("has an open consumer with another selector",
                      got.errors[0].headers["message"])
        self.assertIn(STOMP_RED_ROW, self.dstat(node))


if __name__ == "__main__":
    unittest.main()
