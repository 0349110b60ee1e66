"""STOMP over WebSocket (the `ws` listener, docs/stomp.md): the upgrade and its sub-protocols,
STOMP frames in WebSocket messages exchanged with a python3-stomp client over TCP, pings, the
client's close, and bad input (a request that is no upgrade, an oversized message, a malformed
frame, a message that ends inside a frame, an unmasked frame), each answered with an error and a
closed connection while the node goes on serving the others."""

import json
import os
import shutil
import subprocess
import sys
import unittest
import urllib.request

import harness
import stomp_support as ss
import ws_support as ws

ss.require_stomp()

TIMEOUT = 10.0
HERE = os.path.dirname(os.path.abspath(__file__))


def _browser_python():
    """An interpreter that imports selenium and stomp (this one, or Debian's python3), or None."""
    for exe in (sys.executable, "/usr/bin/python3"):
        if not exe or not os.access(exe, os.X_OK):
            continue
        try:
            rc = subprocess.run([exe, "-c", "import selenium, stomp"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=30).returncode
        except (OSError, subprocess.TimeoutExpired):
            continue
        if rc == 0:
            return exe
    return None


def browser_missing():
    """Why the browser test cannot run, or None (as test_console.py's)."""
    missing = [p for p in ("chromium", "chromedriver") if not shutil.which(p)]
    if missing:
        return ("headless Chromium is not installed (%s missing): install chromium, "
                "chromium-driver and python3-selenium (tools/install-deps.sh --browser)"
                % ", ".join(missing))
    if _browser_python() is None:
        return ("selenium and stomp are not importable by %s nor /usr/bin/python3: install "
                "python3-selenium (tools/install-deps.sh --browser)" % sys.executable)
    return None


ws_node = ws.ws_node


def ws_connected(case, node, **kw):
    """A WsClient that has upgraded and sent CONNECT and got CONNECTED."""
    c = ws.WsClient(case, node.ws_port)
    case.assertEqual(c.upgrade(), 101, c.body)
    c.send(ss.CONNECT_12)
    connected = c.wait_stomp("CONNECTED")
    case.assertIsNotNone(connected, c.frames())
    return c


class StompWsTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        missing = ss.missing_stomp()
        if missing:
            self.fail(missing)

    def test_upgrade_picks_the_highest_stomp_subprotocol(self):
        node = ws_node(self, "ws-upgrade")
        for offered, agreed in ((("v10.stomp", "v11.stomp", "v12.stomp"), "v12.stomp"),
                                (("v11.stomp", "v10.stomp"), "v11.stomp"),
                                (("mqtt", "stomp"), "stomp"),
                                ((), None)):
            c = ws.WsClient(self, node.ws_port)
            self.assertEqual(c.upgrade(protocols=offered), 101, c.body)
            self.assertEqual(c.headers.get("sec-websocket-protocol"), agreed, offered)

    def test_messages_flow_between_websocket_and_tcp_clients(self):
        node = ws_node(self, "ws-flow")
        browser = ws_connected(self, node)
        browser.send(ss.raw_frame("SUBSCRIBE", [("id", "s1"), ("destination", "/queue/to.ws"),
                                                ("ack", "client-individual"),
                                                ("receipt", "sub")]))
        self.assertIsNotNone(browser.wait_stomp("RECEIPT"), browser.frames())
        tcp, got = ss.connect(self, node)
        tcp.send("/queue/to.ws", "from tcp \u00e9", headers={"persistent": "true",
                                                            "color": "blue"})
        msg = browser.wait_stomp("MESSAGE")
        self.assertIsNotNone(msg, browser.frames())
        self.assertEqual(msg[2], "from tcp \u00e9".encode())
        self.assertEqual(msg[1]["color"], "blue")
        self.assertEqual(msg[1]["destination"], "/queue/to.ws")
        # Every data message the node sent is one STOMP frame.
        for op, payload in browser.frames():
            if op == ws.OP_TEXT and payload.strip(b"\n"):
                self.assertEqual(len(ss.parse_frames(payload)), 1, payload)
        browser.send(ss.raw_frame("ACK", [("id", msg[1]["ack"])]))

        tcp.subscribe("/queue/from.ws", id="t1", ack="auto")
        browser.send(ss.raw_frame("SEND", [("destination", "/queue/from.ws"),
                                           ("persistent", "true"), ("receipt", "sent")],
                                  "from ws"))
        self.wait_until(lambda: got.bodies() == ["from ws"], TIMEOUT, "the message from ws")
        # A binary body (NUL inside, not UTF-8) goes out in a binary message.
        tcp.send("/queue/to.ws", b"\x00\xff\xfe", headers={"content-length": "3"})
        self.assertTrue(browser.wait_frames(
            lambda fs: any(op == ws.OP_BINARY for op, _ in fs)), browser.frames())
        binary = [p for op, p in browser.frames() if op == ws.OP_BINARY][0]
        self.assertTrue(binary.startswith(b"MESSAGE\n"), binary)
        self.assertIn(b"\n\n\x00\xff\xfe\x00", binary)

    def test_ping_gets_a_pong_and_close_an_answer(self):
        node = ws_node(self, "ws-ping")
        c = ws_connected(self, node)
        c.send(b"are you there", opcode=ws.OP_PING)
        self.assertTrue(c.wait_frames(lambda fs: (ws.OP_PONG, b"are you there") in fs),
                        c.frames())
        c.send(b"\x03\xe8bye", opcode=ws.OP_CLOSE)
        self.assertTrue(c.raw.read_until_closed(TIMEOUT), "the node did not close")
        self.assertEqual(c.close_code(), 1000)

    def test_heartbeats_are_newlines_in_messages(self):
        node = ws_node(self, "ws-heartbeat", extra="heartbeats { interval_ms: 100 }")
        c = ws.WsClient(self, node.ws_port)
        self.assertEqual(c.upgrade(), 101)
        c.send(ss.raw_frame("CONNECT", [("accept-version", "1.2"), ("host", "x"),
                                        ("heart-beat", "0,100")]))
        self.assertTrue(c.wait_frames(lambda fs: (ws.OP_TEXT, b"\n") in fs), c.frames())
        c.send(b"\n")  # the client's heart-beat: no error
        c.send(ss.raw_frame("DISCONNECT", [("receipt", "bye")]))
        self.assertIsNotNone(c.wait_stomp("RECEIPT"), c.frames())


# (what, how to make it, what the error must say, the close code)
BAD_MESSAGES = [
    ("a message over the size limit", lambda c: c.send(ss.raw_frame(
        "SEND", [("destination", "/queue/bad")], "y" * 70000)),
     "over the frame limit of 65536", 1009),
    ("a frame without a command", lambda c: c.send(b"destination:/queue/bad\n\n\0"),
     "a frame without a command", 1008),
    ("an unknown command", lambda c: c.send(b"FROB\n\n\0"), "unknown command 'FROB'", 1008),
    ("a message that ends inside a frame",
     lambda c: c.send(b"SEND\ndestination:/queue/bad\n\nhalf"), "ended inside a STOMP frame",
     1008),
    ("an unmasked frame", lambda c: c.send(ss.raw_frame("SEND", [("destination", "/queue/x")]),
                                           mask=False),
     "WebSocket protocol error", 1002),
    ("text that is not UTF-8", lambda c: c.send(b"SEND\ndestination:/queue/x\n\n\xff\xfe\0"),
     "not valid UTF-8", 1007),
]


class StompWsBadInputTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        missing = ss.missing_stomp()
        if missing:
            self.fail(missing)

    def test_each_bad_message_gets_an_error_and_a_close(self):
        node = ws_node(self, "ws-bad", limits="max_frame_bytes: 65536")
        good, got = ss.connect(self, node)
        good.subscribe("/queue/kept", id="k", ack="auto")
        for what, make, says, code in BAD_MESSAGES:
            with self.subTest(what):
                c = ws_connected(self, node)
                make(c)
                self.assertTrue(c.raw.read_until_closed(TIMEOUT),
                                "%s: the node did not close: %r" % (what, c.frames()))
                errors = [f for f in c.stomp_frames() if f[0] == "ERROR"]
                self.assertEqual(len(errors), 1, (what, c.frames()))
                text = errors[0][1].get("message", "") + errors[0][2].decode("utf-8", "replace")
                self.assertIn(says, text, what)
                self.assertEqual(c.close_code(), code, what)
                # Another client of the node goes on.
                good.send("/queue/kept", what)
                self.wait_until(lambda: what in got.bodies(), TIMEOUT, "the good client's " + what)

    def test_requests_that_are_no_upgrade_get_http_errors(self):
        node = ws_node(self, "ws-http")
        plain = harness.RawClient(node.ws_port, TIMEOUT)
        self.addCleanup(plain.close)
        plain.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(plain.read_until_closed(TIMEOUT))
        status, _, body = ws.http_head(plain.received)
        self.assertEqual(status, 400)
        self.assertIn(b"must be a WebSocket upgrade", body)

        c = ws.WsClient(self, node.ws_port)
        self.assertEqual(c.upgrade(protocols=("mqtt",)), 400)
        self.assertIn(b"v12.stomp, v11.stomp, v10.stomp, stomp", c.body)

        c = ws.WsClient(self, node.ws_port)
        self.assertEqual(c.upgrade(version="8"), 426)
        self.assertEqual(c.headers.get("sec-websocket-version"), "13")

        # STOMP without the upgrade first.
        raw = harness.RawClient(node.ws_port, TIMEOUT)
        self.addCleanup(raw.close)
        raw.send(ss.CONNECT_12)
        self.assertTrue(raw.read_until_closed(TIMEOUT))
        self.assertTrue(raw.received.startswith(b"HTTP/1.1 400 "), raw.received)

        # The node still upgrades and serves.
        ws_connected(self, node)


class StompListenersShownTest(harness.NodeTestCase):
    """The stomp and ws listeners, and their connections, in actormq-debug and the console."""

    def setUp(self):
        super().setUp()
        missing = ss.missing_stomp()
        if missing:
            self.fail(missing)

    def test_debug_tool_and_console_list_every_listener(self):
        node = ws_node(self, "ws-shown")
        ss.connect(self, node, client_id="over-tcp")
        ws_connected(self, node)
        debug = os.path.join(harness.bin_dir(), "actormq-debug")
        p = self.run_program([debug, "--node", "127.0.0.1:%d" % node.ports["cluster"], "actors"],
                             "debug", 30)
        self.assertEqual(p.returncode, 0, p.describe())
        out = p.stdout
        self.assertRegex(out, r"\|-- acceptor \(actor \d+, mailbox \d+\)  port %d, sessions 0, "
                              r"accepted 0, refused 0, protocol actormq" % node.client_port)
        self.assertIn("stomp acceptors (2)", out)
        self.assertRegex(out, r"acceptor stomp \(actor \d+, mailbox \d+\)  port %d, sessions 1, "
                              r"accepted 1, refused 0, protocol stomp\n" % node.stomp_port)
        self.assertRegex(out, r"acceptor ws \(actor \d+, mailbox \d+\)  port %d, sessions 1, "
                              r"accepted 1, refused 0, protocol stomp-ws\n" % node.ws_port)
        self.assertIn("sessions (2)", out)
        p = self.run_program([debug, "--node", "127.0.0.1:%d" % node.ports["cluster"], "show",
                              "acceptor ws"], "debug-show", 30)
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertIn("listener: ws", p.stdout)
        self.assertIn("port: %d" % node.ws_port, p.stdout)

        with urllib.request.urlopen(node.console_url + "/api/connections", timeout=10) as r:
            conns = json.loads(r.read())
        listeners = {(l["listener"], l["protocol"], l["port"], l["sessions"])
                     for l in conns["listeners"]}
        self.assertEqual(listeners, {("client", "actormq", node.client_port, 0),
                                     ("stomp", "stomp", node.stomp_port, 1),
                                     ("ws", "stomp-ws", node.ws_port, 1)})
        self.assertEqual(sorted(c["listener"] for c in conns["connections"]), ["stomp", "ws"])
        self.assertIn("over-tcp", [c["client_id"] for c in conns["connections"]])
        self.assertEqual((conns["accepted"], conns["refused"]), (2, 0))
        with urllib.request.urlopen(node.console_url + "/api/overview", timeout=10) as r:
            self.assertEqual(json.loads(r.read())["connections"], 2)
        with urllib.request.urlopen(node.console_url + "/metrics", timeout=10) as r:
            metrics = r.read().decode().splitlines()
        for line in ('actormq_listener_sessions{listener="client",protocol="actormq"} 0',
                     'actormq_listener_sessions{listener="stomp",protocol="stomp"} 1',
                     'actormq_listener_sessions{listener="ws",protocol="stomp-ws"} 1',
                     'actormq_listener_connections_accepted_total{listener="ws",'
                     'protocol="stomp-ws"} 1'):
            self.assertIn(line, metrics)


class StompWsBrowserTest(harness.NodeTestCase):

    def test_a_page_in_headless_chromium_talks_to_a_tcp_client(self):
        why = browser_missing()
        if why:
            self.skipTest(why)
        node = ws_node(self, "ws-browser")
        shots = os.environ.get("ACTORMQ_IT_SCREENSHOTS") or os.path.join(self.workdir, "shots")
        os.makedirs(shots, exist_ok=True)
        p = self.run_program([_browser_python(), os.path.join(HERE, "browser_stomp_ws.py"),
                              str(node.ws_port), str(node.stomp_port), shots], "browser", 120)
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertIn("page: subscribed over sub-protocol v12.stomp", p.stdout)
        self.assertIn("page shows: hello browser 0 | hello browser 1 | hello browser 2", p.stdout)
        self.assertIn("tcp client received: from the browser: got hello browser 0|hello browser 1|"
                      "hello browser 2", p.stdout)


if __name__ == "__main__":
    unittest.main()
