"""Message priority on queues (docs/selectors.md): higher priority is dispatched first, first in first
out within a priority, through the CLI's --priority and STOMP's priority header (test_selectors.py
has the STOMP side); the order survives a SIGKILL of the node (the priority is in the stored
index)."""

import unittest

import harness

# (priority, body) in the order sent; the order a consumer must see them in.
SENDS = [(4, "a4"), (9, "b9"), (0, "c0"), (9, "d9"), (4, "e4"), (7, "f7"), (0, "g0"), (5, "h5")]
EXPECTED = ["b9", "d9", "f7", "h5", "a4", "e4", "c0", "g0"]


class PriorityTest(harness.NodeTestCase):

    def send_all(self, node, destination, persistent="true"):
        for priority, body in SENDS:
            self.produce(node, destination, 1, priority=priority, message=body,
                         persistent=persistent)

    def test_higher_priority_first_fifo_within_a_priority(self):
        node = self.start_node("prio-order")
        self.send_all(node, "queue://prio")
        got = self.consume(node, "queue://prio", len(SENDS), receiveTimeout=10000)
        self.assertEqual(got.lines, EXPECTED, got.describe())

    def test_non_persistent_messages_are_ordered_too(self):
        node = self.start_node("prio-np")
        self.send_all(node, "queue://prio-np", persistent="false")
        got = self.consume(node, "queue://prio-np", len(SENDS), receiveTimeout=10000)
        self.assertEqual(got.lines, EXPECTED, got.describe())

    def test_priority_order_survives_a_sigkill(self):
        node = self.start_node("prio-kill")
        self.send_all(node, "queue://prio-kill")
        node.kill()
        node.restart()
        got = self.consume(node, "queue://prio-kill", len(SENDS), receiveTimeout=10000)
        self.assertEqual(got.lines, EXPECTED, got.describe())

    def test_default_priority_is_4(self):
        node = self.start_node("prio-default")
        self.produce(node, "queue://prio-d", 1, message="default")
        self.produce(node, "queue://prio-d", 1, message="five", priority=5)
        self.produce(node, "queue://prio-d", 1, message="three", priority=3)
        got = self.consume(node, "queue://prio-d", 3, receiveTimeout=10000)
        self.assertEqual(got.lines, ["five", "default", "three"], got.describe())

    def test_a_priority_out_of_range_is_refused(self):
        node = self.start_node("prio-range")
        p = self.run_cli(*self.producer_args(node, "queue://prio-r", 1, priority=10))
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("--priority", p.stderr, p.describe())


if __name__ == "__main__":
    unittest.main()
