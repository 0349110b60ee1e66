"""Auto acknowledgements share commits (store.auto_ack_delay_ms): the delete of an auto
acknowledged persistent message waits in its queue for the queue's next store write (a put, a
delivery record, an acknowledgement somebody waits on) and goes in the same commit, or goes
alone once the delay has passed. A clean stop writes the waiting deletes before the store's
final commit; a crash brings their messages back marked redelivered. See docs/guarantees.md and
docs/configuration.md.

The consumers here ask for one message more than the queue holds, so that they stay connected
and waiting: an auto acknowledging consumer acknowledges a message when it asks for the next one,
without waiting for an answer (so its delete may wait); when it closes it acknowledges its last
one and waits for the answer (so that write goes at once)."""

import os
import re
import unittest

import harness
from harness import text_messages

MARK = "redelivered "
DEBUG_TIMEOUT = 30
LONG_DELAY = "store { auto_ack_delay_ms: 60000 }"


class AutoAckCommitTest(harness.NodeTestCase):

    def queue_counters(self, node, queue):
        """The queue's counters as actormq-debug shows them (name -> int)."""
        p = self.run_program([os.path.join(harness.bin_dir(), "actormq-debug"), "--node",
                              "127.0.0.1:%d" % node.ports["cluster"], "show", queue],
                             "debug", DEBUG_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.describe())
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"^\s*([a-z-]+): (\d+)$", p.stdout, re.M)}

    def wait_counter(self, node, queue, name, value, timeout=20):
        seen = {}

        def reached():
            seen.clear()
            seen.update(self.queue_counters(node, queue))
            return seen.get(name) == value
        deadline_what = "%s %s = %d" % (queue, name, value)
        try:
            self.wait_until(reached, timeout, deadline_what)
        except AssertionError:
            self.fail("%s; last counters %r" % (deadline_what, seen))
        return seen

    def open_consumer(self, node, queue, count, **opts):
        """A consumer of `count` + 1 messages, once it has printed `count`."""
        c = self.start_cli(*self.consumer_args(node, queue, count + 1, receiveTimeout=60000,
                                               **opts), label="consumer")
        self.wait_until(lambda: len(c.lines) >= count or not c.running(), 30,
                        "%d messages at the consumer" % count)
        self.assertEqual(len(c.lines), count, c.describe())
        return c

    def test_waiting_deletes_ride_with_the_next_put(self):
        node = self.start_node("autoack-ride", extra_config=LONG_DELAY)
        self.produce(node, "queue://ride", 20)
        consumer = self.open_consumer(node, "queue://ride", 20)
        # Acknowledged, so no longer pending, their deletes waiting for a write.
        counters = self.wait_counter(node, "queue://ride", "acknowledged-deletes-waiting", 20)
        self.assertEqual(counters["acknowledged-deletes-shared"], 0, counters)
        self.assertEqual(counters["pending"] + counters["in-flight"], 0, counters)
        # The next put takes them into its commit.
        self.produce(node, "queue://ride", 1, message="rider")
        counters = self.queue_counters(node, "queue://ride")
        self.assertEqual(counters["acknowledged-deletes-waiting"], 0, counters)
        self.assertEqual(counters["acknowledged-deletes-shared"], 20, counters)
        self.finish(consumer, 30)
        self.assertEqual(consumer.returncode, 0, consumer.describe())
        self.assertEqual(consumer.lines, text_messages(20) + ["rider"])
        # The closing consumer's acknowledgement of the rider is awaited: written at once.
        counters = self.wait_counter(node, "queue://ride", "dequeued", 21)
        self.assertEqual(counters["acknowledged-deletes-waiting"], 0, counters)
        node.kill()
        node.restart()
        self.assertEqual(self.dstat(node)["queue://ride"]["pending"], 0)

    def test_a_clean_stop_writes_waiting_deletes(self):
        node = self.start_node("autoack-stop", extra_config=LONG_DELAY)
        self.produce(node, "queue://stop", 5)
        consumer = self.open_consumer(node, "queue://stop", 5)
        self.wait_counter(node, "queue://stop", "acknowledged-deletes-waiting", 5)
        consumer.kill()
        node.stop()
        self.assertEqual(node.wait_exit(30), 0, node.log)
        node.restart()
        self.assertEqual(self.dstat(node)["queue://stop"]["pending"], 0)
        empty = self.consume(node, "queue://stop", 1, check=False, receiveTimeout=500)
        self.assertEqual(empty.lines, [], empty.describe())

    def test_a_crash_brings_waiting_deletes_back_marked_redelivered(self):
        node = self.start_node("autoack-crash", extra_config=LONG_DELAY)
        self.produce(node, "queue://crash", 5)
        consumer = self.open_consumer(node, "queue://crash", 5)
        self.wait_counter(node, "queue://crash", "acknowledged-deletes-waiting", 5)
        node.kill()
        consumer.kill()
        node.restart()
        again = self.consume(node, "queue://crash", 5, receiveTimeout=10000,
                             printRedelivered=True)
        self.assertEqual(sorted(again.lines), sorted(MARK + m for m in text_messages(5)),
                         again.describe())

    def test_alone_after_the_delay(self):
        node = self.start_node("autoack-alone", extra_config="store { auto_ack_delay_ms: 300 }")
        self.produce(node, "queue://alone", 5)
        consumer = self.open_consumer(node, "queue://alone", 5)
        # No other write comes: the deletes go on their own once the delay has passed.
        counters = self.wait_counter(node, "queue://alone", "dequeued", 5)
        counters = self.wait_counter(node, "queue://alone", "acknowledged-deletes-waiting", 0)
        self.assertEqual(counters["acknowledged-deletes-shared"], 0, counters)
        node.kill()
        consumer.kill()
        node.restart()
        self.assertEqual(self.dstat(node)["queue://alone"]["pending"], 0)
        empty = self.consume(node, "queue://alone", 1, check=False, receiveTimeout=500)
        self.assertEqual(empty.lines, [], empty.describe())


if __name__ == "__main__":
    unittest.main()
