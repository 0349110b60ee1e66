"""What a client connection may send, and what it costs: message size against the frame limit,
out-of-range fields, the Connect handshake and its timeout, frames that never complete, idle
sockets at the connection limit, prefetch 0, the depth a browse reports, and the memory of an
idle connection."""

import socket
import time
import unittest
import urllib.request

import harness
from harness import pb_field_bytes, pb_field_varint, pb_varint, text_messages

ERROR_TIMEOUT = 15
ERROR_LIMIT_EXCEEDED = 7
ERROR_INVALID_FIELD = 16

F_OPEN_CONSUMER = 12
F_BROWSE = 22
F_BROWSE_REPLY = 23

DISPATCH_OVERHEAD_BYTES = 128


def int32_varint(field, value):
    """A Protobuf int32 field: negative values take ten bytes (two's complement)."""
    return pb_varint(field << 3) + pb_varint(value & 0xFFFFFFFFFFFFFFFF)


def message_bytes(destination, body, priority=4, expiration=None, persistent=True):
    out = pb_field_bytes(1, destination) + pb_field_bytes(2, body)
    if persistent:
        out += pb_field_varint(3, 1)
    out += int32_varint(4, priority)
    if expiration is not None:
        out += int32_varint(5, expiration)
    return out


def send_frame(correlation_id, message):
    return harness.frame(pb_field_varint(harness.F_CORRELATION, correlation_id) +
                         pb_field_bytes(harness.F_SEND, pb_field_bytes(1, message)))


def frames_with(data, field_number):
    return [f for f in harness.split_frames(data) if any(n == field_number for n, _, _ in f)]


class SessionLimitsTest(harness.NodeTestCase):

    def connected_raw(self, node):
        raw = self.raw_client(node)
        raw.send(harness.connect_frame())
        self.assertTrue(raw.read_until(lambda d: harness.has_command(d, harness.F_CONNECTED), 5),
                        "no Connected frame, got %r" % raw.received[:200])
        raw.received = b""
        return raw

    def connected_socket(self, node):
        """A plain connected socket (select() cannot watch descriptors above 1023)."""
        s = socket.create_connection(("127.0.0.1", node.client_port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(harness.connect_frame())
        got = b""
        while not harness.has_command(got, harness.F_CONNECTED):
            chunk = s.recv(4096)
            self.assertTrue(chunk, "closed before Connected")
            got += chunk
        return s

    def answer(self, raw, correlation_id, timeout=10):
        """The fields of the frame answering `correlation_id` (waits for it)."""
        def find(data):
            for f in harness.split_frames(data):
                if (harness.F_CORRELATION, 0, correlation_id) in f:
                    return f
            return None
        self.assertTrue(raw.read_until(lambda d: find(d) is not None, timeout),
                        "no answer to request %d, got %r" % (correlation_id, raw.received[:300]))
        return find(raw.received)

    def error_of(self, fields):
        for n, wt, v in fields:
            if n == harness.F_ERROR:
                return harness.find_error(harness.frame(b"".join(
                    [pb_field_bytes(harness.F_ERROR, v)])))
        return None

    def test_largest_accepted_message_is_delivered_and_browsed(self):
        max_frame = 1048576
        node = self.start_node("bigmsg-it", limits="max_frame_bytes: %d" % max_frame)
        limit = max_frame - DISPATCH_OVERHEAD_BYTES
        raw = self.connected_raw(node)
        # The limit counts the message as the producer sent it; the origin identity the node
        # stamps afterwards fits in the dispatch overhead.
        empty = len(message_bytes("queue://big", b""))
        # The body's length prefix grows by one byte between 127 and 16383 bytes and again above
        # 2097151: a body of this size makes the message exactly `limit` bytes with a 3-byte prefix.
        body_len = limit - empty - 2
        largest = message_bytes("queue://big", b"x" * body_len)
        self.assertEqual(len(largest), limit)
        raw.send(send_frame(7, largest))
        fields = self.answer(raw, 7)
        self.assertIsNone(self.error_of(fields), "the largest message was refused: %r" % fields)
        self.assertTrue(any(n == harness.F_RECEIPT for n, _, _ in fields), fields)

        # One byte more is refused, clearly, and the connection stays usable.
        raw.send(send_frame(8, message_bytes("queue://big", b"x" * (body_len + 1))))
        err = self.error_of(self.answer(raw, 8))
        self.assertIsNotNone(err)
        self.assertEqual(err[0], harness.ERROR_FRAME_TOO_LARGE, err)
        self.assertIn(str(limit), err[1])
        self.assertFalse(raw.closed_by_peer)
        raw.send(send_frame(9, message_bytes("queue://big", b"small")))
        self.assertIsNone(self.error_of(self.answer(raw, 9)))

        # Browse answers (and says the depth); then both are delivered.
        b = self.run_cli("browse", "--brokerUrl", node.client_url, "--destination", "queue://big",
                         timeout=30)
        self.assertEqual(b.returncode, 0, b.describe())
        self.assertIn("of 2 pending", b.stderr, b.describe())
        self.assertEqual(len(b.lines[0]), body_len, "browse changed the large body")
        c = self.consume(node, "queue://big", 2, receiveTimeout=10000)
        self.assertEqual(len(c.lines[0]), body_len)
        self.assertEqual(c.lines[1], "small")
        self.assertTrue(node.running(), node.describe())

    def test_cli_message_over_the_limit_gets_a_clear_error(self):
        node = self.start_node("bigcli-it", limits="max_frame_bytes: 65536")
        p = self.produce(node, "queue://cli-big", 1, messageSize=65536 - 100, check=False)
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("over this node's maximum", p.stderr, p.describe())
        self.assertEqual(self.dstat(node).get("queue://cli-big", {}).get("pending", 0), 0)

    def test_out_of_range_fields_are_refused(self):
        node = self.start_node("fields-it")
        raw = self.connected_raw(node)
        cases = [(11, message_bytes("queue://f", b"a", priority=99), "priority 99"),
                 (12, message_bytes("queue://f", b"b", priority=-5), "priority -5"),
                 (13, message_bytes("queue://f", b"c", expiration=-1), "expiration_ms -1"),
                 (16, message_bytes("queue://f", b"e") + pb_field_bytes(7, "p" * 600),
                  "producer_id of 600 bytes")]
        for corr, msg, named in cases:
            raw.send(send_frame(corr, msg))
            err = self.error_of(self.answer(raw, corr))
            self.assertIsNotNone(err, named)
            self.assertEqual(err[0], ERROR_INVALID_FIELD, err)
            self.assertIn(named, err[1])
        open_consumer = pb_field_varint(1, 1) + pb_field_bytes(2, "queue://f") + \
            pb_field_varint(4, 99)
        raw.send(harness.frame(pb_field_varint(harness.F_CORRELATION, 14) +
                               pb_field_bytes(F_OPEN_CONSUMER, open_consumer)))
        err = self.error_of(self.answer(raw, 14))
        self.assertIsNotNone(err)
        self.assertEqual(err[0], ERROR_INVALID_FIELD, err)
        self.assertIn("ack_mode 99", err[1])
        # None of them counts as a store failure.
        health = urllib.request.urlopen(node.console_url + "/health", timeout=10).read().decode()
        self.assertNotIn("failed commits", health)
        # In range is taken; nothing refused was stored.
        raw.send(send_frame(15, message_bytes("queue://f", b"ok", priority=9)))
        self.assertIsNone(self.error_of(self.answer(raw, 15)))
        self.assertEqual(self.dstat(node)["queue://f"]["pending"], 1)
        # Without a correlation id the client could not learn of the refusal: the connection
        # closes with the error.
        raw.send(send_frame(0, message_bytes("queue://f", b"d", priority=10)))
        self.assertTrue(raw.read_until_closed(10), "the connection stayed open")
        err = harness.find_error(raw.received)
        self.assertIsNotNone(err)
        self.assertEqual(err[0], ERROR_INVALID_FIELD, err)
        self.assertEqual(self.dstat(node)["queue://f"]["pending"], 1)

    def test_connect_with_correlation_zero_is_refused(self):
        node = self.start_node("corr0-it")
        raw = self.raw_client(node)
        raw.send(harness.connect_frame(correlation_id=0))
        self.assertTrue(raw.read_until_closed(10), "the connection stayed open")
        self.assertFalse(harness.has_command(raw.received, harness.F_CONNECTED),
                         "a Connect with correlation id 0 was answered")
        err = harness.find_error(raw.received)
        self.assertIsNotNone(err)
        self.assertEqual(err[0], ERROR_INVALID_FIELD, err)
        self.assertIn("correlation id", err[1])

    def test_connection_without_connect_is_closed(self):
        node = self.start_node("noconnect-it",
                               extra_config="heartbeats { connect_timeout_ms: 1000 }")
        raw = self.raw_client(node)
        t0 = time.monotonic()
        self.assertTrue(raw.read_until_closed(15), "a silent connection stayed open")
        self.assertGreater(time.monotonic() - t0, 0.5)
        err = harness.find_error(raw.received)
        self.assertIsNotNone(err, raw.received[:200])
        self.assertEqual(err[0], ERROR_TIMEOUT, err)
        self.assertIn("no connect within 1000 ms", err[1])

    def test_a_frame_that_trickles_in_is_closed(self):
        node = self.start_node("trickle-it", extra_config="heartbeats { inactivity_timeout_ms: 2000 }")
        raw = self.connected_raw(node)
        # A frame of 200 bytes, one byte every 0.5 s: each byte is activity, but the frame would
        # take 100 s; it must complete within the inactivity timeout.
        partial = send_frame(3, message_bytes("queue://t", b"y" * 150))
        deadline = time.monotonic() + 20
        i = 0
        while time.monotonic() < deadline and i < len(partial) - 1:
            try:
                raw.send(partial[i:i + 1])
            except OSError:
                break
            i += 1
            if raw.read_until(lambda d: False, 0.5) is False and raw.closed_by_peer:
                break
        self.assertTrue(raw.read_until_closed(5),
                        "a frame trickling in for %d bytes kept the connection open" % i)
        err = harness.find_error(raw.received)
        self.assertIsNotNone(err, raw.received[:200])
        self.assertEqual(err[0], ERROR_TIMEOUT, err)
        self.assertIn("did not complete", err[1])

    def test_idle_sockets_do_not_lock_clients_out(self):
        node = self.start_node("idle-it", limits="max_connections: 40")
        # Ten real clients connect; then many more sockets open and never send Connect.
        connected = [self.connected_raw(node) for _ in range(10)]
        idle = []
        for _ in range(60):
            s = socket.create_connection(("127.0.0.1", node.client_port), timeout=5)
            self.addCleanup(s.close)
            idle.append(s)
        # A client still gets in, and works.
        self.produce(node, "queue://idle", 10)
        c = self.consume(node, "queue://idle", 10, receiveTimeout=10000)
        self.assertEqual(c.lines, text_messages(10))
        # The connected clients were kept.
        for raw in connected:
            raw.read_until(lambda d: False, 0.05)
            self.assertFalse(raw.closed_by_peer, "a connected client was closed for idle sockets")
            self.assertIsNone(harness.find_error(raw.received), raw.received[:200])

    def test_prefetch_zero_is_refused(self):
        node = self.make_node("prefetch0-it", limits="default_prefetch: 0")
        node.start(wait_ready=False)
        self.assertEqual(node.wait_exit(15), harness.EXIT_BAD_CONFIG, node.describe())
        self.assertIn("limits.default_prefetch", node.log)
        self.assertIn("not supported", node.log)
        ok = self.start_node("prefetch1-it")
        p = self.run_cli(*self.consumer_args(ok, "queue://p", 1, prefetch=0, receiveTimeout=2000))
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("--prefetch", p.stderr, p.describe())

    def test_browse_reports_the_queue_depth(self):
        node = self.start_node("depth-it")
        self.produce(node, "queue://depth", 5)
        b = self.run_cli("browse", "--brokerUrl", node.client_url, "--destination",
                         "queue://depth", "--maxMessages", "2", timeout=30)
        self.assertEqual(b.returncode, 0, b.describe())
        self.assertEqual(b.lines, text_messages(2))
        self.assertIn("Browsed 2 of 5 pending", b.stderr, b.describe())

    def test_idle_connection_costs_a_few_kib(self):
        node = self.start_node("idlemem-it", limits="max_connections: 3000")
        if node.sanitized():
            self.skipTest("ASan's own bookkeeping swamps the figures")
        # Warm up the allocator with a round of connections that come and go, and measure
        # once their sessions have ended (a little after their connections).
        accepted, sessions = node.client_counts()
        for _ in range(2):
            warm = [self.connected_socket(node) for _ in range(200)]
            for raw in warm:
                raw.close()
        self.wait_sessions_ended(node, accepted + 400, sessions)
        before = node.rss_anon_kib()
        n = 2000
        held = [self.connected_socket(node) for _ in range(n)]
        grown = node.rss_anon_kib() - before
        per = grown / n
        note = "RssAnon grew by %d KiB for %d idle connections (%.1f KiB each)" % (grown, n, per)
        print(note)
        self.assertLess(per, 16, note)
        for raw in held:
            raw.close()
        self.produce(node, "queue://after-idle", 5)


if __name__ == "__main__":
    unittest.main()
