"""Durable topic subscriptions over STOMP (docs/stomp.md, docs/topics.md), driven by Debian's
python3-stomp: CONNECT's client-id, SUBSCRIBE's and UNSUBSCRIBE's activemq.subscriptionName."""

import unittest

import harness
import stomp_support as ss
from harness import text_messages

ss.require_stomp()


class StompDurableTest(harness.NodeTestCase):
    TIMEOUT = 20

    def setUp(self):
        super().setUp()
        missing = ss.missing_stomp()
        if missing:
            self.fail(missing)

    def wait_for(self, predicate, what):
        self.wait_until(predicate, self.TIMEOUT, what)

    def test_stomp_durable_subscription_catches_up_and_is_removed(self):
        node = ss.stomp_node(self, "stomp-durable")
        conn, got = ss.connect(self, node, client_id="stomp-app")
        conn.subscribe("/topic/prices", id="d1", ack="client-individual",
                       headers={"activemq.subscriptionName": "s1", "receipt": "sub"})
        self.wait_for(lambda: "sub" in got.receipts, "the subscription's receipt")
        conn.unsubscribe(id="d1", headers={"receipt": "closed"})
        self.wait_for(lambda: "closed" in got.receipts, "the consumer's close")
        # Published while the subscriber is away (by a Protobuf producer): kept for it.
        self.produce(node, "topic://prices", 5)
        conn.subscribe("/topic/prices", id="d2", ack="client-individual",
                       headers={"activemq.subscriptionName": "s1"})
        self.wait_for(lambda: got.count() >= 5, "the kept messages")
        self.assertEqual(got.bodies(), text_messages(5))
        for m in got.messages:
            conn.ack(m.headers["ack"])
        self.produce(node, "topic://prices", 3, message="kept")
        self.wait_for(lambda: got.count() >= 8, "the live messages")
        # Removed with what it holds (its consumer on this connection is closed first).
        conn.unsubscribe(id="d2", headers={"activemq.subscriptionName": "s1",
                                           "receipt": "removed"})
        self.wait_for(lambda: "removed" in got.receipts, "the unsubscribe's receipt")
        self.assertEqual(got.errors, [])
        self.assertNotIn("durable://stomp-app:s1@topic://prices", self.dstat(node))

    def test_stomp_durable_subscription_without_client_id_is_refused(self):
        node = ss.stomp_node(self, "stomp-durable-bad")
        conn, got = ss.connect(self, node)
        conn.subscribe("/topic/prices", id="d1", headers={"activemq.subscriptionName": "s1"})
        self.wait_for(lambda: got.errors, "an ERROR frame")
        self.assertIn("a durable subscription needs a client id", got.errors[0].headers["message"])


if __name__ == "__main__":
    unittest.main()
