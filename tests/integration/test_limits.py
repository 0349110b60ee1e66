"""Node limits that clients reach: limits.max_destinations answers LIMIT_EXCEEDED at once for
every command that would create a destination (and the node keeps serving the ones it has, and
stops promptly), and a destination name over the documented maximum is refused with
BAD_DESTINATION before anything reaches the store."""

import json
import re
import time
import unittest
import urllib.request

import harness
from harness import pb_field_bytes, pb_field_varint, text_messages

# The documented maximum destination name length in bytes (docs/protocol.md), without the scheme.
MAX_NAME_BYTES = 255

# A client waits 30 s for the node by default: an answer that comes "at once" comes well within
# this bound, even on a loaded machine.
ANSWER_BOUND = 10.0

F_OPEN_CONSUMER = 12
F_BROWSE = 22
F_PURGE = 26
ERROR_BAD_DESTINATION = 6
ERROR_LIMIT_EXCEEDED = 7


def brief(p):
    """p.describe() with runs of a long destination name shortened."""
    return shorten(p.describe())


def shorten(text):
    return re.sub(r"n{40,}", lambda m: "n<%d>" % len(m.group()), text)


def health(node):
    with urllib.request.urlopen(node.console_url + "/health", timeout=15) as r:
        return r.status, json.loads(r.read().decode("utf-8"))


def errors_by_correlation(data):
    """{correlation id: (code, message)} of every Error frame in `data`."""
    out = {}
    for fields in harness.split_frames(data):
        corr = next((v for f, wt, v in fields if f == harness.F_CORRELATION and wt == 0), 0)
        for f, wt, value in fields:
            if f == harness.F_ERROR and wt == 2:
                code, message = 0, ""
                for f2, wt2, v2 in harness.pb_parse(value):
                    if f2 == 1 and wt2 == 0:
                        code = v2
                    elif f2 == 2 and wt2 == 2:
                        message = v2.decode("utf-8", "replace")
                out[corr] = (code, message)
    return out


def request(corr, command_field, body):
    return harness.frame(pb_field_varint(harness.F_CORRELATION, corr) +
                         pb_field_bytes(command_field, body))


def send_frame(corr, destination, producer_id="", sequence=0):
    message = pb_field_bytes(1, destination) + pb_field_bytes(2, b"x") + pb_field_varint(3, 1)
    if producer_id:
        message += pb_field_bytes(7, producer_id) + pb_field_varint(8, sequence)
    return request(corr, harness.F_SEND, pb_field_bytes(1, message))


class DestinationLimitTest(harness.NodeTestCase):
    """limits.max_destinations=1 with queue://kept holding three messages."""

    def setUp(self):
        super().setUp()
        self.node = self.start_node("dlimit-it", overrides=["limits.max_destinations=1"])
        self.produce(self.node, "queue://kept", 3)

    def _refused_at_once(self, *args):
        t0 = time.monotonic()
        p = self.run_cli(*args, timeout=ANSWER_BOUND, label=args[0])
        self.assertLess(time.monotonic() - t0, ANSWER_BOUND, p.describe())
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("ERROR_LIMIT_EXCEEDED", p.stderr, p.describe())
        self.assertIn("maximum of 1 destinations (limits.max_destinations)", p.stderr,
                      p.describe())
        self.assertIn("queue://new", p.stderr, p.describe())
        return p

    def _still_serves(self):
        self.assertTrue(self.node.running(), self.node.describe())
        rows = self.dstat(self.node)
        self.assertEqual(set(rows), {"queue://kept"}, rows)
        self.produce(self.node, "queue://kept", 2)
        c = self.consume(self.node, "queue://kept", 5, receiveTimeout=10000)
        self.assertEqual(c.lines, text_messages(3) + text_messages(2), c.describe())

    def test_producer_on_a_new_queue(self):
        self._refused_at_once(*self.producer_args(self.node, "queue://new", 1))
        self._still_serves()

    def test_consumer_on_a_new_queue(self):
        self._refused_at_once(*self.consumer_args(self.node, "queue://new", 1,
                                                  receiveTimeout=20000))
        self._still_serves()

    def test_browse_of_a_new_queue(self):
        self._refused_at_once("browse", "--brokerUrl", self.node.client_url,
                              "--destination", "queue://new")
        self._still_serves()

    def test_purge_of_a_new_queue(self):
        self._refused_at_once("purge", "--brokerUrl", self.node.client_url,
                              "--destination", "queue://new")
        self._still_serves()

    def test_many_clients_at_the_limit_at_once(self):
        # Several new names at the same moment: each is refused, none slips past the limit.
        procs = [self.start_cli(*self.producer_args(self.node, "queue://new.%d" % i, 1),
                                label="producer-%d" % i) for i in range(6)]
        for p in procs:
            self.finish(p, ANSWER_BOUND * 2)
            self.assertNotEqual(p.returncode, 0, p.describe())
            self.assertIn("ERROR_LIMIT_EXCEEDED", p.stderr, p.describe())
        self._still_serves()


class NoDestinationsTest(harness.NodeTestCase):

    def test_zero_destinations_refuses_at_once_and_stops_promptly(self):
        node = self.start_node("dzero-it", overrides=["limits.max_destinations=0"])
        t0 = time.monotonic()
        p = self.run_cli(*self.producer_args(node, "queue://any", 1), timeout=ANSWER_BOUND)
        self.assertLess(time.monotonic() - t0, ANSWER_BOUND, p.describe())
        self.assertIn("ERROR_LIMIT_EXCEEDED", p.stderr, p.describe())
        self.assertIn("maximum of 0 destinations", p.stderr, p.describe())
        # A client that vanishes right after asking for a new queue: its session must not be
        # left waiting for an answer, which kept the node from stopping until the stop timeout
        # (stop_timeout_ms, 5 s by default) cut the stop short.
        gone = self.start_cli(*self.producer_args(node, "queue://other", 1), label="vanishing")
        self.wait_until(lambda: "Producing" in gone.stderr or not gone.running(), ANSWER_BOUND,
                        "the producer to start sending")
        gone.kill()
        self.assertEqual(node.stop(), harness.EXIT_CLEAN, node.describe())
        self.assertIn("stopped", node.log)
        self.assertNotIn("the stop took longer", node.log, node.describe())


class DestinationNameLengthTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        self.node = self.start_node("dname-it")

    def _healthy(self):
        status, h = health(self.node)
        self.assertEqual(status, 200, h)
        self.assertEqual(h["status"], "ready", h)
        self.assertNotIn("warning", h)

    def test_longest_name_works(self):
        name = "queue://" + "n" * MAX_NAME_BYTES
        self.produce(self.node, name, 2)
        c = self.consume(self.node, name, 2, receiveTimeout=10000)
        self.assertEqual(c.lines, text_messages(2), brief(c))
        self._healthy()

    def test_cli_refuses_a_long_name(self):
        for length in (MAX_NAME_BYTES + 1, 504, 4000):
            name = "queue://" + "n" * length
            for args in (self.producer_args(self.node, name, 1),
                         self.consumer_args(self.node, name, 1, receiveTimeout=5000),
                         ["browse", "--brokerUrl", self.node.client_url, "--destination", name],
                         ["purge", "--brokerUrl", self.node.client_url, "--destination", name]):
                with self.subTest(command=args[0], length=length):
                    p = self.run_cli(*args, timeout=ANSWER_BOUND, label=args[0])
                    self.assertNotEqual(p.returncode, 0, brief(p))
                    self.assertTrue("destination name of %d bytes is over the maximum of %d bytes"
                                    % (length, MAX_NAME_BYTES) in p.stderr, brief(p))
                    self.assertFalse("STORE_FAILED" in p.stderr, brief(p))
        self.assertEqual(self.dstat(self.node), {})
        self._healthy()

    def test_node_refuses_a_long_name_with_bad_destination(self):
        # A client that does not check names itself: every command that names a destination is
        # answered BAD_DESTINATION on an open connection, and nothing reaches the store.
        raw = self.raw_client(self.node)
        raw.send(harness.connect_frame("long-names-it"))
        self.assertTrue(raw.read_until(lambda d: harness.has_command(d, harness.F_CONNECTED), 5),
                        raw.received[:200])
        requests = {}
        corr = 1
        for length in (MAX_NAME_BYTES + 1, 504, 600, 100000):
            name = "queue://" + "n" * length
            for what, data in (
                    ("send", lambda c: send_frame(c, name, "producer-1", c)),
                    ("consumer", lambda c: request(c, F_OPEN_CONSUMER,
                                                   pb_field_varint(1, c) + pb_field_bytes(2, name))),
                    ("browse", lambda c: request(c, F_BROWSE, pb_field_bytes(1, name))),
                    ("purge", lambda c: request(c, F_PURGE, pb_field_bytes(1, name)))):
                corr += 1
                requests[corr] = (what, length)
                raw.send(data(corr))
        answered = raw.read_until(lambda d: len(errors_by_correlation(d)) >= len(requests),
                                  ANSWER_BOUND)
        errors = errors_by_correlation(raw.received)
        self.assertTrue(answered, shorten("answers: %r" % errors))
        self.assertFalse(raw.closed_by_peer, "the node closed the connection")
        for c, (what, length) in requests.items():
            with self.subTest(command=what, length=length):
                code, message = errors[c]
                self.assertEqual(code, ERROR_BAD_DESTINATION, shorten(message))
                self.assertIn("destination name of %d bytes is over the maximum of %d bytes"
                              % (length, MAX_NAME_BYTES), message)
        # The same connection goes on with a good name.
        raw.received = b""
        raw.send(send_frame(1000, "queue://short", "producer-1", 1))
        self.assertTrue(raw.read_until(lambda d: harness.has_command(d, harness.F_RECEIPT),
                                       ANSWER_BOUND), raw.received[:200])
        self.assertEqual(set(self.dstat(self.node)), {"queue://short"})
        self._healthy()
        c = self.consume(self.node, "queue://short", 1, receiveTimeout=10000)
        self.assertEqual(c.lines, ["x"], brief(c))


if __name__ == "__main__":
    unittest.main()
