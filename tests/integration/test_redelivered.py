"""The redelivered mark survives the node that delivered (store.persist_redelivered, ActiveMQ's
persistJMSRedelivered): a message dispatched and not acknowledged when its node dies comes back
marked redelivered, with its delivery count, on a restart, on a takeover and across a bridge; a
message that was never dispatched comes back unmarked. See docs/guarantees.md; the takeover and
bridge cases are in test_redelivered_bridge.py."""

import unittest

import harness
from harness import text_messages

MARK = "redelivered "


def split_marked(lines):
    """(body, marked) for each printed line of a consumer run with --printRedelivered."""
    return [(l[len(MARK):], True) if l.startswith(MARK) else (l, False) for l in lines]


class RestartTest(harness.NodeTestCase):

    def _kill_mid_delivery(self, persist):
        # persist None: the default (on).
        config = "" if persist is None else "store { persist_redelivered: %s }" % (
            "true" if persist else "false")
        node = self.start_node("redeliv-it", extra_config=config)
        self.produce(node, "queue://r", 60)
        # A client-acknowledge consumer that never acknowledges: everything it saw is in flight.
        first = self.start_cli(*self.consumer_args(node, "queue://r", 1000,
                                                   ackMode="CLIENT_ACKNOWLEDGE",
                                                   batchSize=1000000, prefetch=10, sleep=20),
                               label="consumer-first")
        self.wait_until(lambda: len(first.lines) >= 8 or not first.running(), 20,
                        "8 messages at the first consumer")
        node.kill()
        first.kill()
        seen = set(first.lines)
        node.restart()
        second = self.consume(node, "queue://r", 60, receiveTimeout=10000, printRedelivered=True)
        got = split_marked(second.lines)
        self.assertEqual(sorted(b for b, _ in got), sorted(text_messages(60)), second.describe())
        return seen, {b for b, m in got if m}

    def test_delivered_before_a_crash_comes_back_marked(self):
        seen, marked = self._kill_mid_delivery(persist=None)
        missing = sorted(seen - marked)
        self.assertEqual(missing, [], "delivered before the kill, not marked after the restart")
        # Only what was dispatched (what the consumer printed, and at most its prefetch more).
        self.assertLessEqual(len(marked), len(seen) + 10, sorted(marked))

    def test_without_the_record_the_mark_is_lost(self):
        # The same run with store.persist_redelivered false: what makes the test above pass is
        # the record, not chance.
        seen, marked = self._kill_mid_delivery(persist=False)
        self.assertEqual(marked, set())
        self.assertTrue(seen)


if __name__ == "__main__":
    unittest.main()
