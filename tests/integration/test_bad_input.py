"""Bad input: bad configs stop the node with exit 2; bad clients are cut off while every other
client goes on; a consumer that vanishes loses nothing."""

import os
import socket
import time
import unittest

import harness
from harness import text_messages


class BadConfigTest(harness.NodeTestCase):

    def _config(self, node_name, body_lines):
        ports = [harness.free_port() for _ in range(3)]
        return "\n".join([
            'name: "%s"' % node_name,
            'data_dir: "data"',
            'client { host: "127.0.0.1" port: %d }' % ports[0],
            'cluster { host: "127.0.0.1" port: %d }' % ports[1],
            'console { host: "127.0.0.1" port: %d }' % ports[2],
        ] + body_lines) + "\n"

    def _expect_exit(self, node, code, timeout=10):
        node.start(wait_ready=False)
        try:
            rc = node.wait_exit(timeout)
        except TimeoutError:
            self.fail("node did not stop on a bad config\n" + node.describe())
        self.assertEqual(rc, code, node.describe())
        self.assertNotIn("is ready", node.log)
        return node.log

    def test_unknown_key_names_file_line_and_key(self):
        # Line 7 holds the unknown key.
        text = self._config("badkey-it", ["limits { max_frame_bytes: 65536 }",
                                          "no_such_key: 42"])
        self.assertEqual(text.splitlines()[6], "no_such_key: 42")
        node = self.make_node("badkey-it", config_text=text)
        log = self._expect_exit(node, harness.EXIT_BAD_CONFIG)
        self.assertIn("no_such_key", log)
        self.assertRegex(log, r"%s:7\b" % os.path.basename(node.config_path))
        self.assertIn(os.path.basename(node.config_path), log)

    def test_unknown_nested_key(self):
        text = self._config("badnested-it", ["limits { max_frame_bytez: 65536 }"])
        node = self.make_node("badnested-it", config_text=text)
        log = self._expect_exit(node, harness.EXIT_BAD_CONFIG)
        self.assertIn("max_frame_bytez", log)
        self.assertRegex(log, r"%s:6\b" % os.path.basename(node.config_path))

    def test_out_of_range_port(self):
        text = self._config("badport-it", []).replace(
            'client { host: "127.0.0.1" port: ', 'client { host: "127.0.0.1" port: 7', 1)
        self.assertRegex(text, r"client \{ host: \"127.0.0.1\" port: 7\d{5} \}")
        node = self.make_node("badport-it", config_text=text)
        log = self._expect_exit(node, harness.EXIT_BAD_CONFIG)
        self.assertIn("port", log)

    def test_out_of_range_port_override(self):
        node = self.make_node("badset-it", overrides=["client.port=70000"])
        log = self._expect_exit(node, harness.EXIT_BAD_CONFIG)
        self.assertIn("client.port", log)

    def test_unknown_override_key(self):
        node = self.make_node("badsetkey-it", overrides=["limits.no_such_limit=1"])
        log = self._expect_exit(node, harness.EXIT_BAD_CONFIG)
        self.assertIn("no_such_limit", log)

    def test_taken_client_port_exits_5(self):
        node = self.make_node("porttaken-it")
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", node.client_port))
            taken.listen()
            log = self._expect_exit(node, harness.EXIT_FATAL)
        self.assertIn(str(node.client_port), log)

    def test_dump_config_reloads(self):
        node = self.make_node("dump-it", limits="default_prefetch: 77")
        dump = self.run_program([harness.node_binary(), "--config", node.config_path,
                                 "--set", "limits.browse_max_messages=33", "--dump-config"],
                                "dump", 10)
        self.assertEqual(dump.returncode, 0, dump.describe())
        out = dump.stdout
        self.assertIn("dump-it", out)
        self.assertIn("77", out)
        self.assertIn("33", out)
        self.assertIn(str(node.client_port), out)
        # The dump is a valid config: a node started from it serves.
        reloaded = self.make_node("dump-it", config_text=out)
        reloaded.start()
        self.produce(reloaded, "queue://d", 1)


class BadClientTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        self.node = self.start_node("badclient-it", limits="max_frame_bytes: 1048576")

    def _others_still_work(self, dest, n=20):
        self.produce(self.node, dest, n)
        c = self.consume(self.node, dest, n, receiveTimeout=10000)
        self.assertEqual(c.lines, text_messages(n), c.describe())
        self.assertTrue(self.node.running(), self.node.describe())

    def test_raw_connect_handshake(self):
        # The hand-made frames below are valid: a Connect is answered by Connected.
        raw = self.raw_client(self.node)
        raw.send(harness.connect_frame())
        self.assertTrue(raw.read_until(lambda d: harness.has_command(d, harness.F_CONNECTED), 5),
                        "no Connected frame, got %r" % raw.received[:200])
        self.assertIn(b"badclient-it", raw.received)

    def test_malformed_frame_after_connect_gets_error_and_close(self):
        raw = self.raw_client(self.node)
        raw.send(harness.connect_frame())
        self.assertTrue(raw.read_until(lambda d: harness.has_command(d, harness.F_CONNECTED), 5))
        raw.received = b""
        # A well-framed body that does not parse (an unterminated varint).
        raw.send(harness.frame(b"\xff" * 16))
        self.assertTrue(raw.read_until_closed(5), "node kept the connection open")
        err = harness.find_error(raw.received)
        self.assertIsNotNone(err, "no Error frame before close: %r" % raw.received[:200])
        self.assertEqual(err[0], harness.ERROR_MALFORMED_FRAME, err)
        self.assertTrue(err[1], "Error frame without a message")
        self._others_still_work("queue://after-malformed")

    def test_garbage_gets_error_and_close_while_others_go_on(self):
        consumer = self.start_cli(*self.consumer_args(self.node, "queue://busy", 200,
                                                      receiveTimeout=20000), label="consumer")
        self.wait_dstat(self.node, "queue://busy", consumers=1)
        producer = self.start_cli(*self.producer_args(self.node, "queue://busy", 200, sleep=5),
                                  label="producer")
        raws = []
        for i in range(5):
            raw = self.raw_client(self.node)
            raw.send(harness.frame(b"\x00garbage\xff\xfe" * 4))
            raws.append(raw)
        for raw in raws:
            self.assertTrue(raw.read_until_closed(5), "node kept a garbage connection open")
            err = harness.find_error(raw.received)
            self.assertIsNotNone(err, "no Error frame before close: %r" % raw.received[:200])
            self.assertTrue(err[1], "Error frame without a message")
        # Text that is not even framed: "GET " as a length is far over the maximum.
        http = self.raw_client(self.node)
        http.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(http.read_until_closed(5), "node kept an HTTP client open")

        self.assertEqual(producer.wait(40), 0, producer.describe())
        self.assertEqual(consumer.wait(40), 0, consumer.describe())
        self.assertEqual(consumer.lines, text_messages(200), consumer.describe())
        self.assertTrue(self.node.running(), self.node.describe())

    def test_oversized_length_prefix_is_closed_quickly(self):
        raw = self.raw_client(self.node)
        t0 = time.monotonic()
        raw.send(b"\x7f\xff\xff\xff")
        self.assertTrue(raw.read_until_closed(3), "node waited for a 2 GiB frame")
        self.assertLess(time.monotonic() - t0, 3)
        err = harness.find_error(raw.received)
        self.assertIsNotNone(err, "no Error frame before close: %r" % raw.received[:200])
        self.assertEqual(err[0], harness.ERROR_FRAME_TOO_LARGE, err)
        # Just over the configured maximum (1 MiB) is refused too.
        raw2 = self.raw_client(self.node)
        raw2.send(b"\x00\x10\x00\x01")
        self.assertTrue(raw2.read_until_closed(3), "node accepted a frame over max_frame_bytes")
        self._others_still_work("queue://after-oversized")

    def test_closed_connections_free_their_sessions(self):
        # Connections that come and go (here without a single frame) must not leave anything
        # behind: a session that leaked would add about 2 KiB of the node's memory per connection.
        if self.node.sanitized():
            self.skipTest("ASan's own bookkeeping swamps the figures")

        def connect_and_close(n):
            for _ in range(n):
                with socket.create_connection(("127.0.0.1", self.node.client_port), timeout=5):
                    pass

        # The first round sets the allocator's working set; a second round of the same size
        # must not add to it. Each figure is taken once every session of the round has ended
        # (a session ends a little after its connection, at its next tick).
        accepted, sessions = self.node.client_counts()
        connect_and_close(3000)
        self.wait_sessions_ended(self.node, accepted + 3000, sessions)
        before = self.node.rss_anon_kib()
        connect_and_close(3000)
        self.wait_sessions_ended(self.node, accepted + 6000, sessions)
        grown = self.node.rss_anon_kib() - before
        self.assertLess(grown, 1024, "RssAnon grew by %d KiB over 3000 closed connections" % grown)
        self._others_still_work("queue://after-churn")

    def test_half_frame_then_vanish(self):
        lurkers = []
        for _ in range(3):
            raw = self.raw_client(self.node)
            raw.send(harness.connect_frame())
            raw.send(b"\x00\x00\x01\x00" + b"\x0a" * 100)  # 100 of 256 announced bytes
            lurkers.append(raw)
        silent = self.raw_client(self.node)
        silent.send(b"\x00\x00")  # half a length prefix
        # Others are served while the half frames sit in the node.
        self._others_still_work("queue://beside-half")
        for raw in lurkers:
            raw.abort()
        silent.abort()
        self._others_still_work("queue://after-half")

    def test_killed_consumer_loses_nothing(self):
        self.produce(self.node, "queue://held", 50)
        first = self.start_cli(*self.consumer_args(self.node, "queue://held", 1000,
                                                   ackMode="CLIENT_ACKNOWLEDGE",
                                                   batchSize=1000000, prefetch=10,
                                                   sleep=50),
                               label="consumer-killed")
        self.wait_until(lambda: len(first.lines) >= 5 or not first.running(), 20,
                        "5 messages at the first consumer")
        self.assertTrue(first.running(), first.describe())
        first.kill()
        seen_by_first = first.lines
        self.assertGreaterEqual(len(seen_by_first), 5)

        second = self.consume(self.node, "queue://held", 50, receiveTimeout=10000,
                              printRedelivered=True, check=False)
        self.assertEqual(second.returncode, 0, second.describe())
        lines = second.lines
        bodies = [l[len("redelivered "):] if l.startswith("redelivered ") else l for l in lines]
        self.assertEqual(len(bodies), len(set(bodies)), "duplicates: " + second.describe())
        self.assertEqual(sorted(bodies), sorted(text_messages(50)), second.describe())
        redelivered = {l[len("redelivered "):] for l in lines if l.startswith("redelivered ")}
        self.assertTrue(redelivered, "no message marked redelivered: " + second.describe())
        for body in seen_by_first:
            self.assertIn(body, redelivered,
                          "%s was delivered to the killed consumer but is not marked "
                          "redelivered" % body)
        # The queue is empty afterwards (the second consumer acknowledged all).
        self.wait_dstat(self.node, "queue://held", pending=0, consumers=0)


if __name__ == "__main__":
    unittest.main()
