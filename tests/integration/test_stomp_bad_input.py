"""Bad STOMP input over raw sockets: each case gets an ERROR frame naming the problem and its
connection closed, while a python3-stomp client on the same node goes on and nothing stored is
lost; a client that sends half a frame and vanishes; heart-beat negotiation and the inactivity
timeout (docs/stomp.md)."""

import unittest

import harness
import stomp_support as ss

ss.require_stomp()

TIMEOUT = 10.0


def send_frame(extra_headers=(), body="x", command="SEND"):
    return ss.raw_frame(command, [("destination", "/queue/bad")] + list(extra_headers), body)


# (what, bytes after CONNECT (None: no CONNECT first), what the ERROR must say)
BAD_INPUT = [
    ("a frame without a command", b"destination:/queue/bad\n\n\0",
     "a frame without a command"),
    ("an unknown command", b"FROB\n\n\0", "unknown command 'FROB'"),
    ("a header line without a colon", b"SEND\ndestination /queue/bad\n\nx\0", "has no colon"),
    ("an undefined escape", send_frame([("color", "a\\tb")]), "undefined escape '\\t'"),
    ("a content-length that is too long",
     send_frame([("content-length", "10")], "abc") + send_frame(), "does not match the body"),
    ("a content-length that is too short", send_frame([("content-length", "2")], "abc"),
     "does not match the body"),
    ("a negative content-length", send_frame([("content-length", "-1")], "abc"),
     "content-length '-1'"),
    ("a content-length that is no number", send_frame([("content-length", "ten")], "abc"),
     "content-length 'ten'"),
    ("a frame over the size limit", send_frame(body="y" * 70000), "frame limit of 65536"),
    ("more headers than the limit", send_frame([("h%d" % i, "v") for i in range(1001)]),
     "more than 1000 headers"),
    ("a SEND before CONNECT", None, "a SEND frame before CONNECT"),
    ("an ACK for an unknown id", ss.raw_frame("ACK", [("id", "no-such-ack")]),
     "ACK for an unknown id 'no-such-ack'"),
    ("a COMMIT of a transaction never begun", ss.raw_frame("COMMIT", [("transaction", "tx1")]),
     "no transaction 'tx1'"),
    ("a BEGIN without a transaction header", ss.raw_frame("BEGIN", []),
     "BEGIN without a transaction header"),
]


class StompBadInputTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        missing = ss.missing_stomp()
        if missing:
            self.fail(missing)

    def test_each_bad_frame_gets_an_error_and_a_closed_connection(self):
        node = ss.stomp_node(self, "stomp-bad", limits="max_frame_bytes: 65536")
        good, got = ss.connect(self, node)
        for i in range(5):
            good.send("/queue/kept", "kept-%d" % i, headers={"persistent": "true",
                                                            "receipt": "k%d" % i})
        self.wait_until(lambda: len(got.receipts) == 5, TIMEOUT, "5 receipts")
        for what, data, expected in BAD_INPUT:
            with self.subTest(what):
                raw = ss.raw_stomp(self, node)
                raw.send((ss.CONNECT_12 + data) if data is not None else send_frame())
                self.assertTrue(raw.read_until_closed(TIMEOUT),
                                "%s: the connection stayed open" % what)
                errors = [f for f in ss.parse_frames(raw.received) if f[0] == "ERROR"]
                self.assertEqual(len(errors), 1, "%s: %r" % (what, raw.received[:300]))
                headers, body = errors[0][1], errors[0][2].decode("utf-8", "replace")
                self.assertIn(expected, headers.get("message", ""), what)
                self.assertIn(expected, body, what)
        # The node goes on serving the client that behaved, and lost nothing it had stored.
        good.send("/queue/kept", "after", headers={"receipt": "after"})
        self.wait_until(lambda: "after" in got.receipts, TIMEOUT, "the receipt after")
        good.subscribe("/queue/kept", id="s", ack="auto")
        self.wait_until(lambda: got.count() == 6, TIMEOUT, "6 messages")
        self.assertEqual(got.bodies(), ["kept-%d" % i for i in range(5)] + ["after"])
        self.assertEqual(got.errors, [])
        row = self.dstat(node).get("queue://bad")
        self.assertTrue(row is None or row["enqueued"] == 0, row)

    def test_a_client_that_sends_half_a_frame_and_vanishes(self):
        node = ss.stomp_node(self, "stomp-half")
        good, got = ss.connect(self, node)
        raw = ss.raw_stomp(self, node)
        raw.send(ss.CONNECT_12 + ss.raw_frame("SUBSCRIBE", [("destination", "/queue/half"),
                                                           ("id", "0"), ("receipt", "sub")]))
        self.assertTrue(raw.read_until(lambda d: b"receipt-id:sub" in d, TIMEOUT), raw.received)
        self.wait_dstat(node, "queue://half", consumers=1, timeout=TIMEOUT)
        raw.send(b"SEND\ndestination:/queue/half\npersistent:true\ncontent-length:100\n\nabc")
        raw.abort()
        # Its session ends (its consumer goes) and the half frame stored nothing.
        self.wait_dstat(node, "queue://half", consumers=0, pending=0, enqueued=0, timeout=TIMEOUT)
        good.send("/queue/half", "whole", headers={"receipt": "whole"})
        self.wait_until(lambda: "whole" in got.receipts, TIMEOUT, "the receipt of a whole frame")
        self.wait_dstat(node, "queue://half", pending=1, timeout=TIMEOUT)

    def test_a_half_frame_is_cut_off_after_the_inactivity_timeout(self):
        node = ss.stomp_node(self, "stomp-stuck",
                             extra="heartbeats { inactivity_timeout_ms: 1000 }")
        raw = ss.raw_stomp(self, node)
        raw.send(ss.CONNECT_12 + b"SEND\ndestination:/queue/stuck\n\nabc")
        self.assertTrue(raw.read_until_closed(TIMEOUT), "a frame that never completes was kept")
        errors = [f for f in ss.parse_frames(raw.received) if f[0] == "ERROR"]
        self.assertEqual(len(errors), 1, raw.received)
        self.assertIn("did not complete", errors[0][1]["message"])

    # --- heart-beats

    def test_a_client_that_asked_for_no_heart_beats_is_not_cut_off(self):
        # ActiveMQ's rule: heart-beat 0,0 (or none, or STOMP 1.0) means no inactivity check.
        node = ss.stomp_node(self, "stomp-quiet",
                             extra="heartbeats { inactivity_timeout_ms: 500 }")
        raw = ss.raw_stomp(self, node)
        raw.send(ss.CONNECT_12)
        self.assertTrue(raw.read_until(lambda d: b"CONNECTED" in d, TIMEOUT))
        self.assertIn(b"heart-beat:0,250", raw.received)
        self.assertFalse(raw.read_until_closed(2.0), "a silent client without heart-beats "
                                                     "was cut off: %r" % raw.received)
        conn, got = ss.connect(self, node, version="1.0")
        self.assertFalse(raw.read_until_closed(1.0))
        conn.send("/queue/quiet", "still here", headers={"receipt": "q"})
        self.wait_until(lambda: "q" in got.receipts, TIMEOUT, "a receipt after the silence")
        raw.send(ss.raw_frame("SEND", [("destination", "/queue/quiet"), ("receipt", "r")], "x"))
        self.assertTrue(raw.read_until(lambda d: b"receipt-id:r" in d, TIMEOUT))

    def test_the_timeout_respects_the_interval_the_client_promised(self):
        node = ss.stomp_node(self, "stomp-promise",
                             extra="heartbeats { inactivity_timeout_ms: 1000 }")
        raw = ss.raw_stomp(self, node)
        # Promises a heart-beat every 2.5 s: the node waits twice that, not its own 1 s.
        raw.send(ss.raw_frame("CONNECT", [("accept-version", "1.2"), ("heart-beat", "2500,0")]))
        self.assertTrue(raw.read_until(lambda d: b"CONNECTED" in d, TIMEOUT))
        self.assertFalse(raw.read_until_closed(2.0), "cut off before the interval it promised")
        self.assertTrue(raw.read_until_closed(TIMEOUT), "never cut off")
        errors = [f for f in ss.parse_frames(raw.received) if f[0] == "ERROR"]
        self.assertEqual(len(errors), 1, raw.received)
        self.assertIn("nothing received for 5000 ms", errors[0][1]["message"])

    def test_a_client_that_sends_heart_beats_stays_connected(self):
        node = ss.stomp_node(self, "stomp-beats",
                             extra="heartbeats { inactivity_timeout_ms: 1000 interval_ms: 300 }")
        # The client sends heart-beats and asks for none: what is tested is the node's side (its
        # timeout), not whether a loaded machine delivers the node's beats within python3-stomp's
        # tolerance.
        conn, got = ss.connect(self, node, heartbeats=(300, 0))
        self.assert_stays(lambda: conn.is_connected() and not got.disconnected, 3.0,
                          "a client sending heart-beats stays connected")
        conn.send("/queue/beats", "alive", headers={"receipt": "b"})
        self.wait_until(lambda: "b" in got.receipts, TIMEOUT, "a receipt")


if __name__ == "__main__":
    unittest.main()
