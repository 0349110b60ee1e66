"""Logins (`users` in the node's configuration, docs/stomp.md "Login"): with users, a STOMP
client over TCP or WebSocket and a Protobuf client connect with a user's name and password, and
a wrong password, an unknown user or no login gets an authentication error that does not say
which part was wrong, and a closed connection; without users any login is taken."""

import unittest

import harness
import stomp_support as ss
import ws_support as ws
from ws_support import ws_node

ss.require_stomp()

TIMEOUT = 10.0
USERS = ('users { username: "system" password: "manager" }\n'
         'users { username: "guest" password: "pässword" }\n')
REFUSED = "authentication failed: wrong user name or password"


def connect_frame(login=None, passcode=None):
    headers = [("accept-version", "1.2"), ("host", "localhost")]
    if login is not None:
        headers.append(("login", login))
    if passcode is not None:
        headers.append(("passcode", passcode))
    return ss.raw_frame("CONNECT", headers)


class LoginTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        missing = ss.missing_stomp()
        if missing:
            self.fail(missing)

    def stomp_answer(self, node, frame):
        """The frames the node answers a raw CONNECT with, and whether it closed."""
        c = ss.raw_stomp(self, node)
        c.send(frame)
        c.read_until(lambda d: len(ss.parse_frames(d)) > 0, TIMEOUT)
        closed = c.read_until_closed(TIMEOUT)
        return ss.parse_frames(c.received), closed

    def test_stomp_over_tcp(self):
        node = ws_node(self, "login-stomp", extra=USERS)
        for login, passcode in (("system", "manager"), ("guest", "pässword")):
            c = ss.raw_stomp(self, node)
            c.send(connect_frame(login, passcode))
            self.assertTrue(c.read_until(lambda d: len(ss.parse_frames(d)) > 0, TIMEOUT))
            self.assertEqual(ss.parse_frames(c.received)[0][0], "CONNECTED", login)
        # python3-stomp with a login sends and receives.
        conn = stomp_connection(node)
        self.addCleanup(ss._quietly_disconnect, conn)
        got = ss.Collector()
        conn.set_listener("got", got)
        conn.connect("system", "manager", wait=True)
        conn.subscribe("/queue/login.q", id="1", ack="auto")
        conn.send("/queue/login.q", "after login", headers={"receipt": "r"})
        self.wait_until(lambda: got.bodies() == ["after login"], TIMEOUT, "the message")

        texts = []
        for login, passcode in (("system", "wrong"), ("nobody", "manager"), (None, None),
                                ("system", None), ("guest", "password")):
            frames, closed = self.stomp_answer(node, connect_frame(login, passcode))
            self.assertTrue(closed, (login, passcode))
            self.assertEqual([f[0] for f in frames], ["ERROR"], (login, passcode, frames))
            self.assertEqual(frames[0][1].get("code"), "authentication", frames)
            texts.append(frames[0][1].get("message"))
        # One text for all: it does not say which part was wrong.
        self.assertEqual(set(texts), {REFUSED})
        # The node serves on.
        conn.send("/queue/login.q", "still", headers={"receipt": "r2"})
        self.wait_until(lambda: got.bodies() == ["after login", "still"], TIMEOUT, "still")

    def test_stomp_over_websocket(self):
        node = ws_node(self, "login-ws", extra=USERS)
        good = ws.WsClient(self, node.ws_port)
        self.assertEqual(good.upgrade(), 101)
        good.send(connect_frame("system", "manager"))
        self.assertIsNotNone(good.wait_stomp("CONNECTED"), good.frames())
        bad = ws.WsClient(self, node.ws_port)
        self.assertEqual(bad.upgrade(), 101)
        bad.send(connect_frame("system", "guess"))
        self.assertTrue(bad.raw.read_until_closed(TIMEOUT))
        error = [f for f in bad.stomp_frames() if f[0] == "ERROR"]
        self.assertEqual(len(error), 1, bad.frames())
        self.assertEqual(error[0][1].get("message"), REFUSED)
        self.assertEqual(bad.close_code(), 1008)

    def test_protobuf_client(self):
        node = ws_node(self, "login-pb", extra=USERS)
        self.produce(node, "queue://login.pb", 2, user="system", password="manager")
        p = self.produce(node, "queue://login.pb", 1, check=False, user="system",
                         password="nope")
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn(REFUSED, p.stderr, p.describe())
        p = self.produce(node, "queue://login.pb", 1, check=False)
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn(REFUSED, p.stderr, p.describe())
        self.consume(node, "queue://login.pb", 2, user="guest", password="pässword")

    def test_without_users_any_login_is_taken(self):
        node = ws_node(self, "login-off")
        frames, _ = self.stomp_answer(node, connect_frame("anyone", "anything") +
                                      ss.raw_frame("DISCONNECT"))
        self.assertEqual(frames[0][0], "CONNECTED", frames)
        self.produce(node, "queue://login.off", 1, user="anyone", password="anything")


def stomp_connection(node):
    return ss.stomp.Connection12([("127.0.0.1", node.stomp_port)], reconnect_attempts_max=1)


if __name__ == "__main__":
    unittest.main()
