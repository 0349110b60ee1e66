"""JMS selectors on real nodes (docs/selectors.md): a consumer with --selector gets only what it
selects, and what it does not select stays for other consumers; typed properties from the CLI's
--property; a selector that does not parse is refused when the consumer opens, naming the column
and what was expected; and STOMP through Debian's python3-stomp: SUBSCRIBE's selector header
(string headers compared as numbers, as in ActiveMQ), a refused selector, SEND's priority."""

import unittest

import harness
import stomp_support as ss
from stomp_support import stomp

ss.require_stomp()

TIMEOUT = 10.0


class SelectorTest(harness.NodeTestCase):

    def produce_with(self, node, destination, count, body, *properties, **opts):
        args = self.producer_args(node, destination, count, message=body, **opts)
        for p in properties:
            args += ["--property", p]
        p = self.run_cli(*args, label="producer")
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertEqual(harness.produced_count(p.stderr), count, p.describe())

    def fill(self, node, destination):
        self.produce_with(node, destination, 5, "red-heavy", "color=red", "weight=20")
        self.produce_with(node, destination, 4, "blue-heavy", "color=blue", "weight=20")
        self.produce_with(node, destination, 3, "red-light", "color=red", "weight=5")
        self.produce_with(node, destination, 2, "red-string", "color=red", "weight='20'")

    def test_a_selector_consumer_gets_what_it_selects_and_the_rest_stays(self):
        node = self.start_node("sel-two")
        self.fill(node, "queue://sel")
        picky = self.consume(node, "queue://sel", 5, receiveTimeout=10000,
                             selector="color = 'red' AND weight > 10")
        self.assertEqual(picky.lines, ["red-heavy"] * 5, picky.describe())
        # Nothing more for it: the string '20' is not a number in JMS.
        more = self.consume(node, "queue://sel", 1, check=False, receiveTimeout=500,
                            selector="color = 'red' AND weight > 10")
        self.assertNotEqual(more.returncode, 0, more.describe())
        self.wait_dstat(node, "queue://sel", pending=9, timeout=TIMEOUT)
        rest = self.consume(node, "queue://sel", 9, receiveTimeout=10000)
        self.assertEqual(rest.lines, ["blue-heavy"] * 4 + ["red-light"] * 3 + ["red-string"] * 2,
                         rest.describe())
        self.wait_dstat(node, "queue://sel", pending=0, timeout=TIMEOUT)

    def test_two_selector_consumers_at_once_split_the_queue(self):
        node = self.start_node("sel-split")
        red = self.start_cli(*self.consumer_args(node, "queue://split", 10, receiveTimeout=20000,
                                                 selector="color = 'red'"), label="red")
        blue = self.start_cli(*self.consumer_args(node, "queue://split", 4, receiveTimeout=20000,
                                                  selector="color IN ('blue', 'green')"),
                              label="blue")
        self.wait_dstat(node, "queue://split", consumers=2, timeout=TIMEOUT)
        self.fill(node, "queue://split")
        self.finish(red, 30)
        self.finish(blue, 30)
        self.assertEqual(red.returncode, 0, red.describe())
        self.assertEqual(blue.returncode, 0, blue.describe())
        self.assertEqual(sorted(red.lines),
                         sorted(["red-heavy"] * 5 + ["red-light"] * 3 + ["red-string"] * 2))
        self.assertEqual(blue.lines, ["blue-heavy"] * 4)
        self.wait_dstat(node, "queue://split", pending=0, timeout=TIMEOUT)

    def test_headers_and_priority_in_a_selector(self):
        node = self.start_node("sel-headers")
        self.produce_with(node, "queue://hdr", 2, "low", "kind=x", priority=2)
        self.produce_with(node, "queue://hdr", 2, "high", "kind=x", priority=8)
        self.produce_with(node, "queue://hdr", 1, "np", persistent="false")
        got = self.consume(node, "queue://hdr", 2, receiveTimeout=10000,
                           selector="JMSPriority < 5 AND JMSDeliveryMode = 'PERSISTENT'")
        self.assertEqual(got.lines, ["low", "low"], got.describe())
        got = self.consume(node, "queue://hdr", 1, receiveTimeout=10000,
                           selector="JMSDeliveryMode = 'NON_PERSISTENT' AND kind IS NULL")
        self.assertEqual(got.lines, ["np"], got.describe())

    def test_a_selector_that_does_not_parse_is_refused_at_open(self):
        node = self.start_node("sel-bad")
        p = self.consume(node, "queue://bad", 1, check=False, receiveTimeout=2000,
                         selector="color = = 'red'")
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("column 9", p.stderr, p.describe())
        self.assertIn("expected", p.stderr, p.describe())
        self.assertIn("INVALID_FIELD", p.stderr, p.describe())
        # The node carries on: a good consumer opens and receives.
        self.produce(node, "queue://bad", 1)
        self.consume(node, "queue://bad", 1, receiveTimeout=10000, selector="x IS NULL")

    def test_a_selector_consumer_survives_a_restart_of_its_queue(self):
        # After a SIGKILL the queue recovers from the index only: the selector reads the
        # envelopes back from the store.
        node = self.start_node("sel-kill")
        self.fill(node, "queue://sel-kill")
        node.kill()
        node.restart()
        got = self.consume(node, "queue://sel-kill", 3, receiveTimeout=10000,
                           selector="weight < 10")
        self.assertEqual(got.lines, ["red-light"] * 3, got.describe())


class StompSelectorTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        missing = ss.missing_stomp()
        if missing:
            self.fail(missing)

    def test_stomp_selector_compares_string_headers_as_numbers(self):
        node = ss.stomp_node(self, "stomp-sel")
        conn, got = ss.connect(self, node)
        sends = [("r20", "red", "20"), ("b20", "blue", "20"), ("r5", "red", "5"),
                 ("r11", "red", "11")]
        for i, (body, color, weight) in enumerate(sends):
            conn.send("/queue/ssel", body, headers={"color": color, "weight": weight,
                                                     "persistent": "true", "receipt": "s%d" % i})
        self.wait_until(lambda: len(got.receipts) == len(sends), TIMEOUT, "send receipts")
        conn.subscribe("/queue/ssel", id="s1", ack="client-individual",
                       headers={"selector": "color = 'red' AND weight > 10"})
        self.wait_until(lambda: got.count() >= 2, TIMEOUT, "2 messages")
        self.assert_stays(lambda: got.count() == 2, 0.5, "no third message")
        self.assertEqual(got.bodies(), ["r20", "r11"])
        self.wait_dstat(node, "queue://ssel", pending=4, timeout=TIMEOUT)
        # The others are still there for a consumer without a selector.
        rest = self.consume(node, "queue://ssel", 2, receiveTimeout=10000)
        self.assertEqual(rest.lines, ["b20", "r5"], rest.describe())

    def test_stomp_bad_selector_gets_an_error_naming_the_column(self):
        node = ss.stomp_node(self, "stomp-badsel")
        conn, got = ss.connect(self, node)
        conn.subscribe("/queue/x", id="s1", ack="auto",
                       headers={"selector": "color LIKE", "receipt": "sub"})
        self.wait_until(lambda: got.errors, TIMEOUT, "an ERROR frame")
        message = got.errors[0].headers.get("message", "") + got.errors[0].body
        self.assertIn("column 11", message)
        self.assertIn("a string literal", message)

    def test_stomp_priority_header_orders_the_queue(self):
        node = ss.stomp_node(self, "stomp-prio")
        conn, got = ss.connect(self, node)
        for i, (body, priority) in enumerate([("p1", "1"), ("p9", "9"), ("p4", "4"),
                                              ("p9b", "9")]):
            conn.send("/queue/sprio", body, headers={"priority": priority, "persistent": "true",
                                                      "receipt": "p%d" % i})
        self.wait_until(lambda: len(got.receipts) == 4, TIMEOUT, "send receipts")
        conn.subscribe("/queue/sprio", id="s1", ack="auto")
        self.wait_until(lambda: got.count() >= 4, TIMEOUT, "4 messages")
        self.assertEqual(got.bodies(), ["p9", "p9b", "p4", "p1"])
        self.assertEqual([m.headers["priority"] for m in got.messages], ["9", "9", "4", "1"])


if __name__ == "__main__":
    unittest.main()
