"""Local transactions (docs/transactions.md) on real nodes: a commit makes every send of the
transaction visible at once, across queues; a rollback drops the sends and redelivers what was
acknowledged (redelivered, delivery count up); a client that vanishes or is SIGKILLed
mid-transaction leaves nothing visible and gets its received messages redelivered; a node
SIGKILLed before the commit keeps nothing of it, one SIGKILLed right after the commit's receipt
keeps all of it; bad input is answered with a clear error on a connection that stays usable;
`actormq producer/consumer --transacted true` run."""

import os
import re
import signal
import time
import unittest

import harness
import txn_support as tx
from txn_support import TxClient

TIMEOUT = 15.0


def pending(test, node, destination):
    row = test.dstat(node).get(destination)
    return 0 if row is None else row["pending"]


class TransactionTest(harness.NodeTestCase):

    def test_commit_makes_every_send_visible_at_once(self):
        node = self.start_node("txn-commit")
        c = TxClient(self, node)
        self.assertEqual(c.begin("t1")[0], "receipt")
        for i in range(3):
            self.assertEqual(c.send("queue://txa", "a-%d" % i, tx="t1")[0], "receipt")
        for i in range(2):
            self.assertEqual(c.send("queue://txb", "b-%d" % i, tx="t1")[0], "receipt")
        # Held: neither queue has anything.
        self.assertEqual(pending(self, node, "queue://txa"), 0)
        self.assertEqual(pending(self, node, "queue://txb"), 0)
        answer = c.commit("t1")
        self.assertEqual(answer, ("receipt", 5, 0))
        # The receipt comes after the commit: both queues hold their messages now.
        self.assertEqual(pending(self, node, "queue://txa"), 3)
        self.assertEqual(pending(self, node, "queue://txb"), 2)
        p = self.consume(node, "queue://txa", 3)
        self.assertEqual(p.lines, ["a-0", "a-1", "a-2"])
        # The transaction is over: committing it again is an error.
        code = c.commit("t1")
        self.assertEqual(code[:2], ("error", tx.ERROR_UNKNOWN_TRANSACTION), code)

    def test_rollback_drops_sends_and_redelivers_what_was_acknowledged(self):
        node = self.start_node("txn-rollback")
        self.produce(node, "queue://txr", 3)
        c = TxClient(self, node)
        self.assertEqual(c.open_consumer(1, "queue://txr")[0], "receipt")
        first = c.wait_dispatches(3)
        self.assertTrue(all(d["delivery_count"] == 1 and not d["redelivered"] for d in first))
        c.begin("r1")
        c.send("queue://txr-out", "dropped", tx="r1")
        self.assertEqual(c.ack(1, [d["key"] for d in first], tx="r1")[0], "receipt")
        # Acknowledged in the transaction only: still in flight, not deleted.
        self.assertEqual(pending(self, node, "queue://txr"), 3)
        self.assertEqual(c.rollback("r1")[0], "receipt")
        again = c.wait_dispatches(6)[3:]
        self.assertEqual(sorted(d["body"] for d in again), sorted(d["body"] for d in first))
        for d in again:
            self.assertTrue(d["redelivered"], d)
            self.assertEqual(d["delivery_count"], 2, d)
        self.assertEqual(pending(self, node, "queue://txr-out"), 0)
        # Acknowledged in a committed transaction: gone.
        c.begin("r2")
        c.ack(1, [d["key"] for d in again], tx="r2")
        self.assertEqual(c.commit("r2"), ("receipt", 3, 0))
        self.wait_dstat(node, "queue://txr", pending=0, timeout=TIMEOUT)

    def test_bad_input_gets_a_clear_error_and_the_connection_stays_usable(self):
        node = self.start_node("txn-bad", limits="max_transaction_messages: 3")
        c = TxClient(self, node)
        answer = c.commit("never")
        self.assertEqual(answer[:2], ("error", tx.ERROR_UNKNOWN_TRANSACTION), answer)
        self.assertIn("no transaction 'never'", answer[2])
        answer = c.send("queue://txbad", "x", tx="nope")
        self.assertEqual(answer[:2], ("error", tx.ERROR_UNKNOWN_TRANSACTION), answer)
        answer = c.rollback("nope")
        self.assertEqual(answer[:2], ("error", tx.ERROR_UNKNOWN_TRANSACTION), answer)
        c.begin("b1")
        answer = c.begin("b1")
        self.assertEqual(answer[:2], ("error", tx.ERROR_INVALID_FIELD), answer)
        for i in range(3):
            self.assertEqual(c.send("queue://txbad", "in-%d" % i, tx="b1")[0], "receipt")
        answer = c.send("queue://txbad", "over", tx="b1")
        self.assertEqual(answer[:2], ("error", tx.ERROR_LIMIT_EXCEEDED), answer)
        self.assertIn("max_transaction_messages", answer[2])
        answer = c.commit("b1")
        self.assertEqual(answer[:2], ("error", tx.ERROR_TRANSACTION_ROLLED_BACK), answer)
        self.assertEqual(pending(self, node, "queue://txbad"), 0)
        # The same connection goes on: the limit counts what is held now.
        c.begin("b2")
        c.send("queue://txbad", "fine", tx="b2")
        self.assertEqual(c.commit("b2"), ("receipt", 1, 0))
        self.assertEqual(c.send("queue://txbad", "plain")[0], "receipt")
        self.assertEqual(pending(self, node, "queue://txbad"), 2)

    def test_a_client_that_vanishes_mid_transaction_leaves_nothing(self):
        node = self.start_node("txn-vanish")
        self.produce(node, "queue://txv-in", 4)
        c = TxClient(self, node)
        c.open_consumer(1, "queue://txv-in")
        got = c.wait_dispatches(4)
        c.begin("v1")
        for i in range(5):
            c.send("queue://txv-out", "held-%d" % i, tx="v1")
        c.ack(1, [d["key"] for d in got], tx="v1")
        c.raw.abort()  # RST, as a pulled cable or a killed process
        p = self.consume(node, "queue://txv-in", 4, printRedelivered=True, receiveTimeout=10000)
        self.assertEqual(sorted(p.lines),
                         sorted("redelivered textMessage:%d" % i for i in range(4)))
        self.assertEqual(pending(self, node, "queue://txv-out"), 0)

    def test_sigkilled_transacted_cli_producer_and_consumer_leave_nothing(self):
        node = self.start_node("txn-kill")
        # The producer's one transaction is never committed: it is killed first.
        prod = self.start_cli(*self.producer_args(node, "queue://txk-out", 100, transacted="true",
                                                  transactionBatchSize=100, sleep=20))
        self.wait_until(lambda: "Sent 20 of 100" in prod.stderr or not prod.running(), TIMEOUT,
                        "the producer's 20th send")
        self.assertTrue(prod.running(), prod.describe())
        os.kill(prod.pid, signal.SIGKILL)
        prod.wait(10)
        self.produce(node, "queue://txk-in", 10)
        cons = self.start_cli(*self.consumer_args(node, "queue://txk-in", 1000, transacted="true",
                                                  batchSize=1000))
        self.wait_until(lambda: len(cons.stdout.splitlines()) >= 10, TIMEOUT,
                        "the consumer printing 10 messages")
        os.kill(cons.pid, signal.SIGKILL)
        cons.wait(10)
        # The node ends the dead connections (socket closed): their transactions are rolled back.
        self.assertEqual(pending(self, node, "queue://txk-out"), 0)
        p = self.consume(node, "queue://txk-in", 10, printRedelivered=True, receiveTimeout=10000)
        self.assertEqual(sorted(p.lines),
                         sorted("redelivered textMessage:%d" % i for i in range(10)))

    def test_node_sigkilled_before_the_commit_keeps_nothing(self):
        node = self.start_node("txn-node-before")
        c = TxClient(self, node)
        c.begin("k1")
        for i in range(5):
            c.send("queue://txnb", "m-%d" % i, tx="k1")
        node.kill()
        node.start()
        self.assertEqual(pending(self, node, "queue://txnb"), 0)

    def test_node_sigkilled_right_after_the_commit_receipt_keeps_all(self):
        node = self.start_node("txn-node-after")
        c = TxClient(self, node)
        c.begin("k2")
        for i in range(50):
            c.send("queue://txna-1", "one-%d" % i, tx="k2")
            c.send("queue://txna-2", "two-%d" % i, tx="k2")
        self.assertEqual(c.commit("k2"), ("receipt", 100, 0))
        node.kill()
        node.start()
        self.assertEqual(pending(self, node, "queue://txna-1"), 50)
        self.assertEqual(pending(self, node, "queue://txna-2"), 50)
        p = self.consume(node, "queue://txna-2", 50)
        self.assertEqual(p.lines, ["two-%d" % i for i in range(50)])

    def test_transacted_cli_producer_and_consumer(self):
        node = self.start_node("txn-cli")
        self.produce(node, "queue://txc", 95, transacted="true", transactionBatchSize=10)
        self.wait_dstat(node, "queue://txc", pending=95, timeout=TIMEOUT)
        p = self.consume(node, "queue://txc", 95, transacted="true", batchSize=10,
                         receiveTimeout=10000)
        self.assertEqual(p.lines, harness.text_messages(95))
        self.wait_dstat(node, "queue://txc", pending=0, timeout=TIMEOUT)


if __name__ == "__main__":
    unittest.main()
