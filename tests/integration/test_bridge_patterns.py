"""Network connectors' destination patterns (ActiveMQ's wildcards, with or without the
queue:// scheme): a statically included wildcard forwards every matching destination without
demand, whether it existed when the link came up or was created later; an excluded wildcard
keeps its destinations home even when the peer has consumers on them. See docs/cluster.md."""

import unittest

import harness
from test_cluster import connector, wait_link

LINK_TIMEOUT = 30
PATTERNS = ('statically_included_destinations: "orders.>" '
            'excluded_destinations: "*.secret"')


class BridgePatternTest(harness.NodeTestCase):

    def pair(self, start_hub=True):
        """Hub A and node B, whose connector forwards B's messages to A."""
        a = self.make_node("hub")
        b = self.make_node("spoke", extra_config=connector(a.ports["cluster"], options=PATTERNS))
        if start_hub:
            a.start()
        b.start()
        return a, b

    def test_a_wildcard_without_scheme_forwards_new_destinations_without_demand(self):
        a, b = self.pair()
        wait_link(b, "hub", LINK_TIMEOUT)
        self.produce(b, "queue://other", 1)
        # Created after the link came up: the broker tells the bridge.
        self.produce(b, "queue://orders.eu", 2)
        self.produce(b, "queue://orders.eu.north", 1)
        self.wait_dstat(a, "queue://orders.eu", timeout=30, pending=2)
        self.wait_dstat(a, "queue://orders.eu.north", timeout=30, pending=1)
        self.wait_dstat(b, "queue://orders.eu", timeout=30, pending=0)
        # Not included: stays on B.
        self.assertEqual(self.dstat(b)["queue://other"]["pending"], 1)
        self.assertNotIn("queue://other", self.dstat(a))
        got = self.consume(a, "queue://orders.eu", 2, receiveTimeout=10000)
        self.assertEqual(got.lines, harness.text_messages(2))

    def test_a_wildcard_takes_destinations_that_existed_before_the_link(self):
        a, b = self.pair(start_hub=False)
        self.produce(b, "queue://orders.us", 3)
        a.start()
        wait_link(b, "hub", LINK_TIMEOUT)
        self.wait_dstat(a, "queue://orders.us", timeout=30, pending=3)
        self.wait_dstat(b, "queue://orders.us", timeout=30, pending=0)

    def test_an_excluded_wildcard_without_scheme_keeps_messages_home(self):
        a, b = self.pair()
        wait_link(b, "hub", LINK_TIMEOUT)
        # A consumer on A makes demand for orders.secret, which the static include matches too:
        # the exclusion wins.
        waiting = self.start_cli(*self.consumer_args(a, "queue://orders.secret", 1,
                                                     receiveTimeout=60000), label="secret")
        self.wait_until(lambda: self.dstat(a).get("queue://orders.secret", {}).get("consumers")
                        == 1, 20, "the consumer on A")
        self.produce(b, "queue://orders.secret", 1)
        self.produce(b, "queue://orders.eu", 1)
        self.wait_dstat(a, "queue://orders.eu", timeout=30, pending=1)
        self.assertEqual(self.dstat(b)["queue://orders.secret"]["pending"], 1)
        self.assertEqual(waiting.lines, [])
        waiting.kill()
        got = self.consume(b, "queue://orders.secret", 1, receiveTimeout=10000)
        self.assertEqual(got.lines, harness.text_messages(1))

    def test_a_bad_pattern_is_refused_at_start(self):
        node = self.make_node("badpattern", extra_config=connector(
            harness.free_port(), options='statically_included_destinations: "orders>"'))
        node.start(wait_ready=False)
        self.assertNotEqual(node.wait_exit(30), 0)
        self.assertIn("network_connectors[0].statically_included_destinations[0]", node.log)
        self.assertIn("'*' and '>' stand for whole elements", node.log)


if __name__ == "__main__":
    unittest.main()
