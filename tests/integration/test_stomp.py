"""STOMP on a real node, driven by Debian's python3-stomp: CONNECT, SEND and SUBSCRIBE in the
three ack modes, receipts, NACK, messages that cross between STOMP and the Protobuf protocol with
their headers, and a persistent STOMP message across a SIGKILL (docs/stomp.md)."""

import unittest

import harness
import stomp_support as ss
from stomp_support import stomp

ss.require_stomp()

TIMEOUT = 10.0


class StompTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        missing = ss.missing_stomp()
        if missing:
            self.fail(missing)

    def wait_messages(self, collector, n, what="messages"):
        self.wait_until(lambda: collector.count() >= n, TIMEOUT,
                        "%d %s (have %d)" % (n, what, collector.count()))

    def wait_receipts(self, collector, ids):
        self.wait_until(lambda: set(ids) <= set(collector.receipts), TIMEOUT,
                        "receipts %r (have %r)" % (ids, collector.receipts))

    def send_with_receipts(self, conn, collector, destination, bodies, **headers):
        ids = []
        for i, body in enumerate(bodies):
            rid = "send-%s-%d" % (destination, i)
            conn.send(destination, body, headers=dict(headers, receipt=rid))
            ids.append(rid)
        self.wait_receipts(collector, ids)

    # --- ack modes

    def test_auto_ack_goes_past_the_prefetch_and_empties_the_queue(self):
        node = ss.stomp_node(self, "stomp-auto")
        conn, got = ss.connect(self, node)
        bodies = ["auto-%d" % i for i in range(30)]
        self.send_with_receipts(conn, got, "/queue/auto", bodies, persistent="true")
        # A prefetch of 5: the node must acknowledge each written delivery and give the
        # credit back, or the consumer stops after 5.
        conn.subscribe("/queue/auto", id="s1", ack="auto", headers={"activemq.prefetchSize": "5"})
        self.wait_messages(got, 30)
        self.assertEqual(got.bodies(), bodies)
        m = got.messages[0]
        self.assertEqual(m.headers["destination"], "/queue/auto")
        self.assertEqual(m.headers["subscription"], "s1")
        self.assertEqual(m.headers.get("persistent"), "true")
        self.assertNotIn("ack", m.headers)
        self.wait_dstat(node, "queue://auto", pending=0, dequeued=30, timeout=TIMEOUT)

    def test_client_ack_acknowledges_everything_up_to_the_message(self):
        node = ss.stomp_node(self, "stomp-client")
        conn, got = ss.connect(self, node)
        self.send_with_receipts(conn, got, "/queue/client", ["c-%d" % i for i in range(5)])
        conn.subscribe("/queue/client", id="s1", ack="client")
        self.wait_messages(got, 5)
        third = got.messages[2].headers
        conn.ack(third["ack"], receipt="ack-3")
        self.wait_receipts(got, ["ack-3"])
        self.wait_dstat(node, "queue://client", pending=2, timeout=TIMEOUT)
        # The other two come back, marked redelivered, to the next connection.
        conn.disconnect()
        conn2, got2 = ss.connect(self, node)
        conn2.subscribe("/queue/client", id="s2", ack="client")
        self.wait_messages(got2, 2)
        self.assertEqual(got2.bodies(), ["c-3", "c-4"])
        self.assertTrue(all(m.headers.get("redelivered") == "true" for m in got2.messages))
        conn2.ack(got2.messages[1].headers["ack"])
        self.wait_dstat(node, "queue://client", pending=0, timeout=TIMEOUT)

    def test_client_individual_ack_acknowledges_one_message(self):
        node = ss.stomp_node(self, "stomp-indiv")
        conn, got = ss.connect(self, node)
        self.send_with_receipts(conn, got, "/queue/indiv", ["i-%d" % i for i in range(3)])
        conn.subscribe("/queue/indiv", id="s1", ack="client-individual")
        self.wait_messages(got, 3)
        conn.ack(got.messages[1].headers["ack"], receipt="ack-1")
        self.wait_receipts(got, ["ack-1"])
        self.wait_dstat(node, "queue://indiv", pending=2, timeout=TIMEOUT)
        conn.disconnect()
        conn2, got2 = ss.connect(self, node)
        conn2.subscribe("/queue/indiv", id="s2", ack="client-individual")
        self.wait_messages(got2, 2)
        self.assertEqual(sorted(got2.bodies()), ["i-0", "i-2"])

    def test_stomp_1_0_and_1_1_acknowledge_by_message_id(self):
        node = ss.stomp_node(self, "stomp-old")
        for version in ("1.0", "1.1"):
            conn, got = ss.connect(self, node, version=version)
            queue = "/queue/v" + version.replace(".", "")
            conn.send(queue, "old-" + version, headers={"receipt": "r"})
            self.wait_receipts(got, ["r"])
            conn.subscribe(queue, id="s", ack="client")
            self.wait_messages(got, 1)
            headers = got.messages[0].headers
            self.assertEqual(got.bodies(), ["old-" + version])
            if version == "1.0":
                conn.ack(headers["message-id"], receipt="a")
            else:
                conn.ack(headers["message-id"], headers["subscription"], receipt="a")
            self.wait_receipts(got, ["a"])
            self.wait_dstat(node, "queue://" + queue.split("/")[2], pending=0, timeout=TIMEOUT)
            conn.disconnect()

    def test_nack_redelivers_the_message(self):
        # No redelivery delay (docs/redelivery.md): the refused message is back at once.
        node = ss.stomp_node(self, "stomp-nack", extra='destination_policies { queue: ">" '
                             'initial_redelivery_delay_ms: 0 }')
        conn, got = ss.connect(self, node)
        self.send_with_receipts(conn, got, "/queue/nack", ["refused", "kept"])
        conn.subscribe("/queue/nack", id="s1", ack="client-individual",
                       headers={"activemq.prefetchSize": "1"})
        self.wait_messages(got, 1)
        first = got.messages[0]
        self.assertEqual(first.body, "refused")
        self.assertNotIn("redelivered", first.headers)
        conn.nack(first.headers["ack"], receipt="nack-1")
        self.wait_receipts(got, ["nack-1"])
        # Back at the front of the queue, to the same consumer, marked redelivered.
        self.wait_messages(got, 2)
        again = got.messages[1]
        self.assertEqual(again.body, "refused")
        self.assertEqual(again.headers.get("redelivered"), "true")
        self.assertEqual(again.headers["message-id"], first.headers["message-id"])
        conn.ack(again.headers["ack"])
        self.wait_messages(got, 3)
        self.assertEqual(got.messages[2].body, "kept")
        conn.ack(got.messages[2].headers["ack"], receipt="ack-2")
        self.wait_receipts(got, ["ack-2"])
        self.wait_dstat(node, "queue://nack", pending=0, dequeued=2, timeout=TIMEOUT)

    # --- receipts

    def test_every_frame_that_asks_gets_a_receipt(self):
        node = ss.stomp_node(self, "stomp-receipts")
        raw = ss.raw_stomp(self, node)
        raw.send(ss.CONNECT_12)
        self.assertTrue(raw.read_until(lambda d: b"CONNECTED" in d and b"\0" in d, TIMEOUT))
        frames = [
            ss.raw_frame("SEND", [("destination", "/queue/r"), ("receipt", "r-send")], "x"),
            ss.raw_frame("SUBSCRIBE", [("destination", "/queue/r"), ("id", "0"),
                                       ("ack", "client-individual"), ("receipt", "r-sub")]),
        ]
        raw.send(b"".join(frames))

        def received(commands):
            return lambda d: sorted(f[0] for f in ss.parse_frames(d)[1:]) == commands

        self.assertTrue(raw.read_until(received(["MESSAGE", "RECEIPT", "RECEIPT"]), TIMEOUT),
                        raw.received)
        parsed = ss.parse_frames(raw.received)[1:]
        self.assertEqual(sorted(f[1].get("receipt-id") for f in parsed if f[0] == "RECEIPT"),
                         ["r-send", "r-sub"])
        ack = [f[1]["ack"] for f in parsed if f[0] == "MESSAGE"][0]
        raw.send(ss.raw_frame("ACK", [("id", ack), ("receipt", "r-ack")]) +
                 ss.raw_frame("UNSUBSCRIBE", [("id", "0"), ("receipt", "r-unsub")]) +
                 ss.raw_frame("DISCONNECT", [("receipt", "r-bye")]))
        self.assertTrue(raw.read_until_closed(TIMEOUT), "the node kept the connection open")
        tail = ss.parse_frames(raw.received)[4:]
        self.assertEqual([(f[0], f[1].get("receipt-id")) for f in tail],
                         [("RECEIPT", "r-ack"), ("RECEIPT", "r-unsub"), ("RECEIPT", "r-bye")])
        self.wait_dstat(node, "queue://r", pending=0, consumers=0, timeout=TIMEOUT)

    def test_disconnect_receipt_comes_after_the_sends_before_it_are_stored(self):
        node = ss.stomp_node(self, "stomp-bye")
        raw = ss.raw_stomp(self, node)
        raw.send(ss.CONNECT_12)
        sends = b"".join(ss.raw_frame("SEND", [("destination", "/queue/bye"),
                                               ("persistent", "true")], "m%d" % i)
                         for i in range(200))
        raw.send(sends + ss.raw_frame("DISCONNECT", [("receipt", "bye")]))
        self.assertTrue(raw.read_until_closed(TIMEOUT))
        frames = ss.parse_frames(raw.received)
        self.assertEqual([(f[0], f[1].get("receipt-id")) for f in frames][-1], ("RECEIPT", "bye"))
        # The receipt promised that all 200 are stored: nothing may be missing after a SIGKILL.
        node.kill()
        node.restart()
        row = self.dstat(node).get("queue://bye")
        self.assertIsNotNone(row)
        self.assertEqual(row["pending"], 200, row)

    # --- STOMP and Protobuf

    def test_a_stomp_message_reaches_a_protobuf_consumer_intact(self):
        node = ss.stomp_node(self, "stomp-to-pb")
        conn, got = ss.connect(self, node)
        conn.send("/queue/interop", "body from stomp \u00e9", headers={
            "receipt": "r1", "persistent": "true", "priority": "7", "correlation-id": "corr-1",
            "reply-to": "/queue/replies", "type": "order", "color": "blue",
            "x-number": "42"})
        self.wait_receipts(got, ["r1"])
        pb = self.raw_client(node)
        pb.send(harness.connect_frame("pb-consumer") +
                ss.pb_open_consumer(2, 1, "queue://interop"))
        self.assertTrue(pb.read_until(lambda d: ss.pb_dispatches(d), TIMEOUT), pb.received)
        m = ss.pb_dispatches(pb.received)[0]
        self.assertEqual(m["body"], "body from stomp \u00e9".encode())
        self.assertEqual(m["destination"], "queue://interop")
        self.assertTrue(m["persistent"])
        self.assertEqual(m["priority"], 7)
        self.assertEqual(m["correlation_id"], "corr-1")
        self.assertEqual(m["reply_to"], "queue://replies")
        self.assertEqual(m["type"], "order")
        self.assertEqual(m["properties"].get("color"), "blue")
        self.assertEqual(m["properties"].get("x-number"), "42")
        for reserved in ("receipt", "persistent", "priority", "destination", "content-length"):
            self.assertNotIn(reserved, m["properties"])
        pb.send(ss.pb_ack(1, m["key"]))
        self.wait_dstat(node, "queue://interop", pending=0, timeout=TIMEOUT)
        # And the CLI, the Protobuf client library, prints the bodies STOMP sent.
        self.send_with_receipts(conn, got, "/queue/cli", ["stomp-%d" % i for i in range(5)],
                                persistent="true")
        p = self.consume(node, "queue://cli", 5, timeout=30)
        self.assertEqual(p.lines, ["stomp-%d" % i for i in range(5)])

    def test_a_protobuf_message_reaches_a_stomp_consumer_intact(self):
        node = ss.stomp_node(self, "pb-to-stomp")
        pb = self.raw_client(node)
        message = ss.pb_message("queue://interop2", "body from protobuf", persistent=True,
                                priority=8, correlation_id="corr-2", reply_to="queue://answers",
                                type_="invoice", properties={"color": "red", "weight": "3"})
        pb.send(harness.connect_frame("pb-producer") + ss.pb_send(2, message))
        self.assertTrue(pb.read_until(lambda d: harness.has_command(d, harness.F_RECEIPT),
                                      TIMEOUT), pb.received)
        self.produce(node, "queue://interop2", 3, persistent="false")
        conn, got = ss.connect(self, node)
        conn.subscribe("/queue/interop2", id="s", ack="auto")
        self.wait_messages(got, 4)
        first = got.messages[0]
        self.assertEqual(first.body, "body from protobuf")
        h = first.headers
        self.assertEqual(h["destination"], "/queue/interop2")
        self.assertEqual(h.get("persistent"), "true")
        self.assertEqual(h["priority"], "8")
        self.assertEqual(h["correlation-id"], "corr-2")
        self.assertEqual(h["reply-to"], "/queue/answers")
        self.assertEqual(h["type"], "invoice")
        self.assertEqual(h["color"], "red")
        self.assertEqual(h["weight"], "3")
        self.assertEqual(h["content-length"], str(len("body from protobuf")))
        self.assertEqual(got.bodies()[1:], harness.text_messages(3))
        self.assertNotIn("persistent", got.messages[1].headers)
        self.wait_dstat(node, "queue://interop2", pending=0, timeout=TIMEOUT)

    # --- durability

    def test_a_receipted_persistent_stomp_message_survives_a_sigkill(self):
        node = ss.stomp_node(self, "stomp-kill")
        conn, got = ss.connect(self, node)
        bodies = ["durable-%d" % i for i in range(20)]
        self.send_with_receipts(conn, got, "/queue/durable", bodies, persistent="true")
        conn.send("/queue/durable", "not persistent", headers={"receipt": "np"})
        self.wait_receipts(got, ["np"])
        node.kill()
        node.restart()
        conn2, got2 = ss.connect(self, node)
        conn2.subscribe("/queue/durable", id="s", ack="client-individual")
        self.wait_messages(got2, 20)
        self.assertEqual(got2.bodies(), bodies)
        self.assert_stays(lambda: got2.count() == 20, 0.5, "no non-persistent message after the "
                          "kill")
        for m in got2.messages:
            conn2.ack(m.headers["ack"])
        self.wait_dstat(node, "queue://durable", pending=0, timeout=TIMEOUT)


if __name__ == "__main__":
    unittest.main()
