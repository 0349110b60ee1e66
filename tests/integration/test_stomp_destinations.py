"""ActiveMQ's STOMP destinations beyond /queue/x and /topic/x (docs/stomp.md), driven by Debian's
python3-stomp: short temporary names (/temp-queue/x) owned by the connection, shown to others as
/remote-temp-queue/... and reachable from STOMP and the Protobuf client; wildcard subscriptions;
composite sends and subscriptions; a wildcard SEND refused with an ERROR while the node serves on."""
import unittest

import harness
import stomp_support as ss

ss.require_stomp()

TIMEOUT = 20.0


class StompDestinationsTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        missing = ss.missing_stomp()
        if missing:
            self.fail(missing)
        self.node = ss.stomp_node(self, "stomp-dest")

    def subscribe(self, conn, got, destination, sub_id):
        receipt = "sub-" + sub_id
        conn.subscribe(destination, id=sub_id, ack="auto", headers={"receipt": receipt})
        self.wait_until(lambda: receipt in got.receipts or got.errors, TIMEOUT,
                        "the receipt of the subscription to " + destination)
        self.assertFalse(got.errors, [e.headers for e in got.errors])

    def send(self, conn, got, destination, body, **headers):
        receipt = "send-%s-%s" % (destination, body)
        conn.send(destination, body, headers=dict(headers, receipt=receipt))
        self.wait_until(lambda: receipt in got.receipts or got.errors, TIMEOUT,
                        "the receipt of a send to " + destination)
        self.assertFalse(got.errors, [e.headers for e in got.errors])

    def test_short_temporary_names_belong_to_the_connection(self):
        node = self.node
        requester, replies = ss.connect(self, node)  # no client-id: the node names it
        self.subscribe(requester, replies, "/temp-queue/replies", "r")
        # A STOMP responder sees ActiveMQ's /remote-temp-queue/ form and answers there.
        responder, requests = ss.connect(self, node)
        self.subscribe(responder, requests, "/queue/service", "s")
        self.send(requester, replies, "/queue/service", "q0", **{"reply-to": "/temp-queue/replies",
                                                                 "correlation-id": "c0"})
        self.wait_until(lambda: requests.count() == 1, TIMEOUT, "the request")
        reply_to = requests.messages[0].headers["reply-to"]
        self.assertRegex(reply_to, r"^/remote-temp-queue/ID:[^:]+:replies$")
        self.send(responder, requests, reply_to, "a0", **{"correlation-id": "c0"})
        self.wait_until(lambda: replies.count() == 1, TIMEOUT, "the STOMP responder's reply")
        first = replies.messages[0]
        self.assertEqual(first.body, "a0")
        self.assertEqual(first.headers["correlation-id"], "c0")
        # The owner sees the name it used.
        self.assertEqual(first.headers["destination"], "/temp-queue/replies")
        # A Protobuf responder (the CLI) answers to the same queue.
        cli = self.start_cli("respond", "--brokerUrl", node.client_url, "--destination",
                             "queue://service.pb", "--messageCount", "1",
                             "--receiveTimeout", "30000", label="respond")
        self.wait_until(lambda: "Answering" in cli.stderr or not cli.running(), TIMEOUT,
                        "the responder to start")
        self.send(requester, replies, "/queue/service.pb", "q1",
                  **{"reply-to": "/temp-queue/replies", "correlation-id": "c1"})
        self.wait_until(lambda: replies.count() == 2, TIMEOUT, "the Protobuf responder's reply")
        self.assertEqual(replies.messages[1].body, "reply:q1")
        self.assertEqual(replies.messages[1].headers["correlation-id"], "c1")
        self.finish(cli, 30)
        self.assertEqual(cli.returncode, 0, cli.describe())
        # Another connection may not consume from it, by either name.
        uri = "temp-queue://" + reply_to[len("/remote-temp-queue/"):]
        thief, stolen = ss.connect(self, node)
        thief.subscribe(reply_to, id="x", ack="auto")
        self.wait_until(lambda: stolen.errors, TIMEOUT, "the refusal")
        self.assertIn("only the connection that created " + uri,
                      stolen.errors[0].headers.get("message", ""))
        self.assertIn(uri, self.dstat(node))
        # It goes with its connection: a send to it is refused afterwards.
        requester.disconnect()
        self.wait_until(lambda: uri not in self.dstat(node), TIMEOUT, "the temporary queue to go")
        late, late_got = ss.connect(self, node)
        late.send(reply_to, "too late", headers={"receipt": "late"})
        self.wait_until(lambda: late_got.errors, TIMEOUT, "the refusal of a late reply")
        self.assertIn("does not exist", late_got.errors[0].body)

    def test_short_temporary_topic_and_client_id(self):
        conn, got = ss.connect(self, self.node, client_id="stomp-app")
        self.subscribe(conn, got, "/temp-topic/events", "t")
        self.send(conn, got, "/temp-topic/events", "e1")
        self.wait_until(lambda: got.count() == 1, TIMEOUT, "the event")
        self.assertEqual(got.messages[0].headers["destination"], "/temp-topic/events")
        # With a client-id the name is the one the node documents: ID:<client-id>:<name>.
        self.assertIn("temp-topic://ID:stomp-app:events", self.dstat(self.node))

    def test_wildcard_subscriptions(self):
        node = self.node
        conn, got = ss.connect(self, node)
        self.subscribe(conn, got, "/topic/prices.>", "prices")
        self.subscribe(conn, got, "/queue/orders.*", "orders")
        sender, sent = ss.connect(self, node)
        for destination in ["/topic/prices.eu.fx", "/topic/prices.us", "/topic/other",
                            "/topic/prices", "/queue/orders.eu", "/queue/orders.eu.north",
                            "/queue/orders.us"]:
            self.send(sender, sent, destination, destination)
        self.wait_until(lambda: got.count() >= 4, TIMEOUT, "four matching messages")
        by_subscription = {}
        for m in got.messages:
            by_subscription.setdefault(m.headers["subscription"], []).append(
                (m.headers["destination"], m.body))
        self.assertEqual(sorted(by_subscription["prices"]),
                         [("/topic/prices.eu.fx", "/topic/prices.eu.fx"),
                          ("/topic/prices.us", "/topic/prices.us")])
        self.assertEqual(sorted(by_subscription["orders"]),
                         [("/queue/orders.eu", "/queue/orders.eu"),
                          ("/queue/orders.us", "/queue/orders.us")])
        # orders.eu.north is no match of orders.*: it stays on its queue.
        self.assertIn("queue://orders.eu.north", self.dstat(node))

    def test_composite_send_and_subscription(self):
        node = self.node
        topic_reader, topic_got = ss.connect(self, node)
        self.subscribe(topic_reader, topic_got, "/topic/c", "c")
        sender, sent = ss.connect(self, node)
        self.send(sender, sent, "/queue/a,/queue/b,/topic/c", "to all", persistent="true")
        self.wait_until(lambda: topic_got.count() == 1, TIMEOUT, "the topic's copy")
        # The Protobuf client (the CLI) takes queue a's copy; a composite subscription takes b's.
        cli = self.start_cli("consumer", "--brokerUrl", node.client_url, "--destination",
                             "queue://a", "--messageCount", "1", "--receiveTimeout", "20000",
                             label="consumer")
        reader, got = ss.connect(self, node)
        self.subscribe(reader, got, "/queue/b,/queue/d", "bd")
        self.send(sender, sent, "/queue/d", "to d")
        self.wait_until(lambda: got.count() == 2, TIMEOUT, "b's copy and d's message")
        self.assertEqual(sorted(got.bodies()), ["to all", "to d"])
        self.finish(cli, 30)
        self.assertEqual(cli.returncode, 0, cli.describe())
        self.assertIn("to all", cli.stdout)
        self.assertEqual(topic_got.bodies(), ["to all"])

    def test_a_wildcard_send_is_refused_and_the_node_serves_on(self):
        node = self.node
        reader, got = ss.connect(self, node)
        self.subscribe(reader, got, "/topic/prices.>", "p")
        for destination, wildcard in [("/topic/prices.>", "'>'"),
                                      ("/queue/a,/queue/orders.*", "'*'")]:
            bad, bad_got = ss.connect(self, node)
            bad.send(destination, "x", headers={"receipt": "bad"})
            self.wait_until(lambda: bad_got.errors, TIMEOUT, "the ERROR for " + destination)
            error = bad_got.errors[0]
            self.assertEqual(error.headers.get("receipt-id"), "bad")
            self.assertEqual(error.headers.get("code"), "bad_destination")
            self.assertIn("wildcard " + wildcard, error.headers.get("message", ""))
            self.assertIn("wildcards are for consumers", error.body)
            self.wait_until(lambda: bad_got.disconnected, TIMEOUT, "the connection to close")
        # Nothing went anywhere, and the node serves every other connection.
        sender, sent = ss.connect(self, node)
        self.send(sender, sent, "/topic/prices.eu", "fine")
        self.wait_until(lambda: got.count() == 1, TIMEOUT, "the later message")
        self.assertEqual(got.bodies(), ["fine"])
        self.assertNotIn("queue://a", self.dstat(node))


if __name__ == "__main__":
    unittest.main()
