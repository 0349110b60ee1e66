"""Destinations carry their kind from the client to the broker, and a message's envelope keeps
what the Protobuf protocol gives it. Raw frames over loopback against a real node."""
import unittest

import harness

ERROR_BAD_DESTINATION = 6
F_OPEN_CONSUMER = 12
F_DISPATCH = 16


def message_bytes(destination, body=b"", extra=b""):
    return (harness.pb_field_bytes(1, destination) + harness.pb_field_bytes(2, body)
            + harness.pb_field_varint(3, 1) + harness.pb_field_varint(4, 4) + extra)


def send_frame(correlation_id, message):
    send = harness.pb_field_bytes(1, message)
    return harness.frame(harness.pb_field_varint(harness.F_CORRELATION, correlation_id)
                         + harness.pb_field_bytes(harness.F_SEND, send))


def frames_with(data, field_number):
    """The payloads of `field_number` in every complete frame of `data`, with its correlation."""
    found = []
    for fields in harness.split_frames(data):
        corr = next((v for f, wt, v in fields if f == harness.F_CORRELATION and wt == 0), 0)
        for f, wt, v in fields:
            if f == field_number and wt == 2:
                found.append((corr, v))
    return found


class DestinationKindsTest(harness.NodeTestCase):
    def setUp(self):
        super().setUp()
        self.node = self.start_node("kinds-it")

    def connected_client(self):
        raw = self.raw_client(self.node)
        raw.send(harness.connect_frame())
        self.assertTrue(raw.read_until(lambda d: harness.has_command(d, harness.F_CONNECTED), 5),
                        "no Connected frame, got %r" % raw.received[:200])
        raw.received = b""
        return raw

    def error_for(self, raw, corr):
        def answered(data):
            return any(c == corr for c, _ in frames_with(data, harness.F_ERROR))
        self.assertTrue(raw.read_until(answered, 5), "no Error for request %d: %r"
                        % (corr, raw.received[:300]))
        for c, payload in frames_with(raw.received, harness.F_ERROR):
            if c == corr:
                code = next((v for f, wt, v in harness.pb_parse(payload) if f == 1), 0)
                text = next((v for f, wt, v in harness.pb_parse(payload) if f == 2), b"")
                return code, text.decode()

    def test_unserved_kinds_and_bad_names_are_refused_with_their_reason(self):
        raw = self.connected_client()
        # A topic is served (docs/topics.md): a send without subscribers is answered.
        raw.send(send_frame(3, message_bytes("topic://prices", b"p")))
        self.assertTrue(raw.read_until(
            lambda d: any(c == 3 for c, _ in frames_with(d, harness.F_RECEIPT)), 5),
            "no Receipt for the topic send: %r" % raw.received[:300])
        raw.send(send_frame(4, message_bytes("topic://", b"p")))
        self.assertEqual(self.error_for(raw, 4),
                         (ERROR_BAD_DESTINATION, "empty topic name in 'topic://'"))
        raw.send(send_frame(5, message_bytes("topic://prices.>", b"p")))
        code, text = self.error_for(raw, 5)
        self.assertEqual(code, ERROR_BAD_DESTINATION)
        self.assertIn("wildcard '>' in destination 'topic://prices.>'", text)
        raw.send(send_frame(6, message_bytes("temp-queue://replies", b"r")))
        self.assertEqual(self.error_for(raw, 6),
                         (ERROR_BAD_DESTINATION,
                          "temporary destination temp-queue://replies does not exist: the "
                          "connection that made it has closed (or never made it)"))
        raw.send(send_frame(7, message_bytes("news://x", b"n")))
        code, text = self.error_for(raw, 7)
        self.assertEqual(code, ERROR_BAD_DESTINATION)
        self.assertIn("unsupported destination scheme 'news'", text)
        # The connection stays open and queues work on it.
        raw.send(send_frame(8, message_bytes("queue://kinds", b"q")))
        self.assertTrue(raw.read_until(
            lambda d: any(c == 8 for c, _ in frames_with(d, harness.F_RECEIPT)), 5),
            "no Receipt for the queue send: %r" % raw.received[:300])
        c = self.consume(self.node, "queue://kinds", 1, receiveTimeout=10000)
        self.assertEqual(c.lines, ["q"], c.describe())

    def test_jms_headers_and_properties_survive_store_and_dispatch(self):
        raw = self.connected_client()
        extra = (harness.pb_field_bytes(9, harness.pb_field_bytes(1, "colour")
                                        + harness.pb_field_bytes(2, "blue"))
                 + harness.pb_field_bytes(12, "corr-17")
                 + harness.pb_field_bytes(13, "queue://replies")
                 + harness.pb_field_bytes(14, "order"))
        raw.send(send_frame(3, message_bytes("queue://headers", b"hello", extra)))
        self.assertTrue(raw.read_until(
            lambda d: any(c == 3 for c, _ in frames_with(d, harness.F_RECEIPT)), 5),
            "no Receipt: %r" % raw.received[:300])
        # A crash in between: what comes back is read from the store.
        self.node.kill()
        self.node.restart()
        raw = self.connected_client()
        open_consumer = (harness.pb_field_varint(1, 1) + harness.pb_field_bytes(2, "queue://headers")
                         + harness.pb_field_varint(3, 10))
        raw.send(harness.frame(harness.pb_field_varint(harness.F_CORRELATION, 4)
                               + harness.pb_field_bytes(F_OPEN_CONSUMER, open_consumer)))
        self.assertTrue(raw.read_until(lambda d: frames_with(d, F_DISPATCH), 5),
                        "no Dispatch: %r" % raw.received[:300])
        dispatch = frames_with(raw.received, F_DISPATCH)[0][1]
        message = next(v for f, wt, v in harness.pb_parse(dispatch) if f == 5)
        fields = {}
        properties = {}
        for f, wt, v in harness.pb_parse(message):
            if f == 9:
                entry = dict((f2, v2) for f2, _, v2 in harness.pb_parse(v))
                properties[entry[1]] = entry[2]
            else:
                fields[f] = v
        self.assertEqual(fields[2], b"hello")
        self.assertEqual(properties, {b"colour": b"blue"})
        self.assertEqual(fields[12], b"corr-17")
        self.assertEqual(fields[13], b"queue://replies")
        self.assertEqual(fields[14], b"order")
        self.assertEqual(fields[1], b"queue://headers")
        self.assertTrue(fields.get(10), "no origin_store_id on the delivered message")
        self.assertEqual(fields.get(11), 1)


if __name__ == "__main__":
    unittest.main()
