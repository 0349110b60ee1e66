"""STOMP 1.2 transactions on a real node, driven by Debian's python3-stomp (docs/stomp.md,
docs/transactions.md): BEGIN/SEND/COMMIT makes the sends visible only at COMMIT; ABORT drops them;
ACK in an aborted transaction redelivers the message; NACK in a committed one redelivers it;
a connection that closes mid-transaction is aborted; a COMMIT of a transaction never begun gets
an ERROR naming it."""

import unittest

import harness
import stomp_support as ss

ss.require_stomp()

TIMEOUT = 10.0


class StompTransactionTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        missing = ss.missing_stomp()
        if missing:
            self.fail(missing)

    def wait_receipts(self, collector, ids):
        self.wait_until(lambda: set(ids) <= set(collector.receipts), TIMEOUT,
                        "receipts %r (have %r)" % (ids, collector.receipts))

    def pending(self, node, destination):
        row = self.dstat(node).get(destination)
        return 0 if row is None else row["pending"]

    def test_commit_makes_the_sends_visible_and_abort_drops_them(self):
        node = ss.stomp_node(self, "stomp-txn")
        conn, got = ss.connect(self, node)
        conn.begin("t1", receipt="b1")
        for i in range(3):
            conn.send("/queue/stx", "c-%d" % i, persistent="true", transaction="t1",
                      receipt="s-%d" % i)
        conn.send("/queue/stx-2", "other", persistent="true", transaction="t1", receipt="s-x")
        self.wait_receipts(got, ["b1", "s-0", "s-1", "s-2", "s-x"])
        self.assertEqual(self.pending(node, "queue://stx"), 0)
        conn.commit("t1", receipt="c1")
        self.wait_receipts(got, ["c1"])
        self.assertEqual(self.pending(node, "queue://stx"), 3)
        self.assertEqual(self.pending(node, "queue://stx-2"), 1)
        conn.begin("t2")
        conn.send("/queue/stx", "dropped", persistent="true", transaction="t2")
        conn.abort("t2", receipt="a2")
        self.wait_receipts(got, ["a2"])
        self.assertEqual(self.pending(node, "queue://stx"), 3)
        conn.subscribe("/queue/stx", id="s1", ack="client-individual")
        self.wait_until(lambda: got.count() >= 3, TIMEOUT, "3 messages")
        self.assertEqual(got.bodies(), ["c-0", "c-1", "c-2"])
        self.assertEqual(got.errors, [])

    def test_ack_in_an_aborted_transaction_redelivers_and_nack_in_a_commit_too(self):
        node = ss.stomp_node(self, "stomp-txn-ack")
        conn, got = ss.connect(self, node)
        for i in range(2):
            conn.send("/queue/stx-ack", "m-%d" % i, persistent="true", receipt="p-%d" % i)
        self.wait_receipts(got, ["p-0", "p-1"])
        conn.subscribe("/queue/stx-ack", id="s1", ack="client-individual")
        self.wait_until(lambda: got.count() >= 2, TIMEOUT, "2 messages")
        first, second = got.messages[0], got.messages[1]
        conn.begin("a1")
        conn.ack(first.headers["ack"], transaction="a1")
        conn.abort("a1", receipt="abort-1")
        self.wait_receipts(got, ["abort-1"])
        self.wait_until(lambda: got.count() >= 3, TIMEOUT, "the aborted ACK's message again")
        again = got.messages[2]
        self.assertEqual(again.body, "m-0")
        self.assertEqual(again.headers.get("redelivered"), "true")
        # ACK the redelivery and NACK the other one in one committed transaction.
        conn.begin("a2")
        conn.ack(again.headers["ack"], transaction="a2")
        conn.nack(second.headers["ack"], transaction="a2")
        conn.commit("a2", receipt="commit-2")
        self.wait_receipts(got, ["commit-2"])
        self.wait_until(lambda: got.count() >= 4, TIMEOUT, "the NACKed message again")
        self.assertEqual(got.messages[3].body, "m-1")
        self.assertEqual(got.messages[3].headers.get("redelivered"), "true")
        conn.ack(got.messages[3].headers["ack"], receipt="last")
        self.wait_receipts(got, ["last"])
        self.wait_dstat(node, "queue://stx-ack", pending=0, timeout=TIMEOUT)

    def test_a_connection_that_closes_mid_transaction_is_aborted(self):
        node = ss.stomp_node(self, "stomp-txn-close")
        conn, got = ss.connect(self, node)
        conn.send("/queue/stx-in", "in", persistent="true", receipt="p")
        self.wait_receipts(got, ["p"])
        conn.subscribe("/queue/stx-in", id="s1", ack="client")
        self.wait_until(lambda: got.count() >= 1, TIMEOUT, "the message")
        conn.begin("c1")
        conn.send("/queue/stx-out", "held", persistent="true", transaction="c1")
        conn.ack(got.messages[0].headers["ack"], transaction="c1", receipt="held-ack")
        self.wait_receipts(got, ["held-ack"])
        conn.disconnect()
        conn2, got2 = ss.connect(self, node)
        conn2.subscribe("/queue/stx-in", id="s2", ack="auto")
        self.wait_until(lambda: got2.count() >= 1, TIMEOUT, "the message again")
        self.assertEqual(got2.messages[0].headers.get("redelivered"), "true")
        self.assertEqual(self.pending(node, "queue://stx-out"), 0)

    def test_a_commit_of_a_transaction_never_begun_is_an_error(self):
        node = ss.stomp_node(self, "stomp-txn-bad")
        conn, got = ss.connect(self, node)
        conn.commit("ghost", receipt="c")
        self.wait_until(lambda: got.errors, TIMEOUT, "an ERROR")
        error = got.errors[0]
        self.assertEqual(error.headers.get("code"), "unknown_transaction")
        self.assertIn("no transaction 'ghost'", error.headers.get("message", ""))
        # A new connection works as before.
        conn2, got2 = ss.connect(self, node)
        conn2.begin("ok")
        conn2.send("/queue/stx-ok", "fine", transaction="ok")
        conn2.commit("ok", receipt="done")
        self.wait_until(lambda: "done" in got2.receipts, TIMEOUT, "the commit's receipt")
        self.assertEqual(self.pending(node, "queue://stx-ok"), 1)


if __name__ == "__main__":
    unittest.main()
