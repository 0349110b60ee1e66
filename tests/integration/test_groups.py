"""Message groups, exclusive consumers and consumer priority (docs/groups.md), on a real node with
the CLI: a group (--msgGroupID) sticks to one consumer and moves, with its unacknowledged messages
in order, when that consumer's process is killed; JMSXGroupSeq -1 closes a group; an exclusive
consumer (consumer.exclusive=true on the destination) takes everything and the next exclusive one
takes over on a SIGKILL of the first; a higher consumer.priority is served first; groups are
assigned again after a SIGKILL of the node."""

import unittest

import harness


class GroupsTest(harness.NodeTestCase):

    def start_consumer(self, node, destination, label, count=1000, **opts):
        """A consumer CLI that acknowledges nothing (CLIENT_ACKNOWLEDGE, a batch larger than
        anything sent), started and subscribed."""
        opts.setdefault("ackMode", "CLIENT_ACKNOWLEDGE")
        opts.setdefault("batchSize", 100000)
        p = self.start_cli(*self.consumer_args(node, destination, count, **opts), label=label)
        self.wait_until(lambda: "Consuming" in p.stderr or not p.running(), 20,
                        "consumer %s to subscribe" % label)
        self.assertTrue(p.running(), p.describe())
        return p

    def wait_lines(self, consumers, total, timeout=20):
        self.wait_until(lambda: sum(len(c.lines) for c in consumers) >= total, timeout,
                        "%d messages across the consumers: %r"
                        % (total, [len(c.lines) for c in consumers]))

    def test_a_group_sticks_and_moves_in_order_when_its_consumer_dies(self):
        node = self.start_node("groups-move")
        a = self.start_consumer(node, "queue://g", "a")
        b = self.start_consumer(node, "queue://g", "b")
        self.produce(node, "queue://g", 20, msgGroupID="orders-1")
        self.wait_lines([a, b], 20)
        owner, other = (a, b) if a.lines else (b, a)
        self.assertEqual(owner.lines, ["textMessage:%d" % i for i in range(20)], owner.describe())
        self.assertEqual(other.lines, [], other.describe())
        # Ungrouped messages still go to both.
        self.produce(node, "queue://g", 10, message="plain")
        self.wait_lines([a, b], 30)
        self.assertIn("plain", other.lines, other.describe())
        owner.kill()
        # The unacknowledged group messages go to the new owner first, in order, then the new ones.
        self.produce(node, "queue://g", 5, msgGroupID="orders-1", message="later")

        def group_lines():
            return [line for line in other.lines if line != "plain"]
        self.wait_until(lambda: len(group_lines()) >= 25, 20, "the group to move")
        self.assert_stays(lambda: len(group_lines()) == 25, 0.5, "25 group messages",
                          other.describe)
        self.assertEqual(group_lines(), ["textMessage:%d" % i for i in range(20)] + ["later"] * 5,
                         other.describe())

    def test_group_sequence_minus_one_closes_the_group(self):
        node = self.start_node("groups-close")
        a = self.start_consumer(node, "queue://gc", "a")
        b = self.start_consumer(node, "queue://gc", "b")
        self.produce(node, "queue://gc", 1, msgGroupID="g", message="first")
        self.wait_lines([a, b], 1)
        owner, other = (a, b) if a.lines else (b, a)
        self.produce(node, "queue://gc", 1, msgGroupID="g", message="second")
        self.wait_lines([a, b], 2)
        self.assertEqual(owner.lines, ["first", "second"], owner.describe())
        self.produce(node, "queue://gc", 1, msgGroupID="g", message="last",
                     property="JMSXGroupSeq=-1")
        self.wait_lines([a, b], 3)
        self.assertEqual(owner.lines, ["first", "second", "last"], owner.describe())
        # Closed: the next message of the group goes round robin, to the other consumer.
        self.produce(node, "queue://gc", 1, msgGroupID="g", message="reopened")
        self.wait_lines([a, b], 4)
        self.assertEqual(other.lines, ["reopened"], other.describe())

    def test_an_exclusive_consumer_takes_all_and_the_next_takes_over(self):
        node = self.start_node("groups-exclusive")
        first = self.start_consumer(node, "queue://ex?consumer.exclusive=true", "first")
        second = self.start_consumer(node, "queue://ex?consumer.exclusive=true", "second")
        plain = self.start_consumer(node, "queue://ex", "plain")
        self.produce(node, "queue://ex", 10)
        self.wait_lines([first, second, plain], 10)
        self.assertEqual(len(first.lines), 10, first.describe())
        first.kill()
        self.wait_lines([second], 10)
        self.assertEqual(second.lines, ["textMessage:%d" % i for i in range(10)],
                         second.describe())
        self.produce(node, "queue://ex", 5, message="more")
        self.wait_lines([second], 15)
        self.assertEqual(plain.lines, [], plain.describe())
        # With no exclusive consumer left, the plain one gets what is not acknowledged.
        second.kill()
        self.wait_lines([plain], 15)

    def test_a_higher_consumer_priority_is_served_first(self):
        node = self.start_node("groups-priority")
        low = self.start_consumer(node, "queue://cp?consumer.priority=1", "low")
        high = self.start_consumer(node, "queue://cp?consumer.priority=9", "high", prefetch=50)
        self.produce(node, "queue://cp", 30)
        self.wait_lines([low, high], 30)
        self.assertEqual(len(high.lines), 30, high.describe())
        self.assertEqual(low.lines, [], low.describe())

    def test_a_bad_consumer_option_is_refused(self):
        node = self.start_node("groups-badopt")
        p = self.run_cli(*self.consumer_args(node, "queue://x?consumer.exclusive=maybe", 1))
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("consumer.exclusive", p.stderr, p.describe())

    def test_groups_are_assigned_again_after_a_sigkill_of_the_node(self):
        node = self.start_node("groups-kill")
        self.produce(node, "queue://gk", 10, msgGroupID="g1", message="one")
        self.produce(node, "queue://gk", 10, msgGroupID="g2", message="two")
        node.kill()
        node.restart()
        # a takes the first message of one group, then pauses with its credit spent (prefetch
        # 1: one more message in its buffer); b gets the other group, and none of a's.
        a = self.start_consumer(node, "queue://gk", "a", prefetch=1, sleep=60000)
        self.wait_lines([a], 1)
        first = a.lines[0]
        b = self.start_consumer(node, "queue://gk", "b")
        other = "two" if first == "one" else "one"
        self.wait_lines([b], 10)
        self.assert_stays(lambda: b.lines == [other] * 10 and a.lines == [first], 1.0,
                          "each group with one consumer", b.describe)

if __name__ == "__main__":
    unittest.main()
