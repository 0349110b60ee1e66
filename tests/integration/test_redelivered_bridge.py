"""Issue 20's case on the reference topology (A bridged to the master/slave pair B/C): a message
the master had delivered and not yet seen acknowledged when it was killed reaches an application
again only marked redelivered, whether through C's bridge to A or on C itself (store.
persist_redelivered, docs/guarantees.md). Each test repeats the kill, since the window is narrow."""

import collections
import unittest

import harness
from harness import text_messages
from test_cluster import QUEUE, Cluster
from test_redelivered import split_marked


class BridgeTest(harness.NodeTestCase):
    """Issue 20's case: a consumer on A and one on the master B (failover to C), a producer
    through failover(B,C); B is killed mid-stream. A message B had delivered and not yet seen
    acknowledged goes to A through C's bridge: it must arrive marked."""

    ROUNDS = 2

    def _one_kill(self, ack_mode, both_on_bc=False):
        cl = Cluster(self).start()
        n = 600
        other_url = cl.failover_url if both_on_bc else cl.a.client_url
        other = self.start_cli(*self.consumer_args(other_url, QUEUE, 100000, receiveTimeout=5000,
                                                   printRedelivered=True, ackMode=ack_mode,
                                                   batchSize=1),
                               label="consumer-other")
        on_bc = self.start_cli(*self.consumer_args(cl.failover_url, QUEUE, 100000,
                                                   receiveTimeout=5000, printRedelivered=True,
                                                   ackMode=ack_mode, batchSize=1, prefetch=10,
                                                   sleep=10),
                               label="consumer-bc")
        producer = self.start_cli(*self.producer_args(cl.failover_url, QUEUE, n, sleep=10),
                                  label="producer")
        self.wait_until(lambda: len(on_bc.lines) >= 20 or not on_bc.running(), 30,
                        "20 messages at the consumer on B")
        cl.b.kill()
        cl.c.wait_ready(15)
        self.assertEqual(producer.wait(120), 0, producer.describe())
        for c in (other, on_bc):
            try:
                c.wait(120)
            except TimeoutError:
                self.fail("a consumer did not finish\n" + c.describe())
        got = split_marked(other.lines) + split_marked(on_bc.lines)
        counts = collections.Counter(b for b, _ in got)
        unmarked = collections.Counter(b for b, m in got if not m)
        missing = sorted(set(text_messages(n)) - set(counts))
        self.assertEqual(missing, [], "lost: %r" % missing[:10])
        doubled_unmarked = sorted(b for b, k in unmarked.items() if k > 1)
        self.assertEqual(doubled_unmarked, [],
                         "delivered twice without the redelivered mark (%d): %r\n%s\n%s"
                         % (len(doubled_unmarked), doubled_unmarked[:10], other.describe(),
                            on_bc.describe()))
        return sum(1 for k in counts.values() if k > 1)

    def test_auto_acknowledge(self):
        for _ in range(self.ROUNDS):
            self._one_kill("AUTO_ACKNOWLEDGE")
            self._reset()

    def test_individual_acknowledge(self):
        for _ in range(self.ROUNDS):
            self._one_kill("INDIVIDUAL_ACKNOWLEDGE")
            self._reset()

    def test_both_consumers_on_the_master_pair(self):
        for _ in range(self.ROUNDS):
            self._one_kill("AUTO_ACKNOWLEDGE", both_on_bc=True)
            self._reset()

    def _reset(self):
        """Ends this round's nodes and processes, so that the next round starts afresh."""
        for n in self._nodes:
            n.cleanup()
        for p in self._procs:
            p.kill()


if __name__ == "__main__":
    unittest.main()
