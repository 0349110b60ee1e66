"""A full store with limits.send_fail_if_no_space (ActiveMQ's sendFailIfNoSpace): producers get a
clear "store full" error at once, nothing stored is lost, the node keeps serving, space freed by
consumers is used again, and acknowledgements across the full point commit (nothing acknowledged
comes back after a restart). Without the key producers wait instead: test_store_flow_control.py."""

import time
import unittest

import harness


class StoreFullTest(harness.NodeTestCase):

    def test_full_store_refuses_sends_and_keeps_serving(self):
        node = self.start_node("full-it", limits="send_fail_if_no_space: true",
                               extra_config="store { max_size_mb: 1 }\n")
        # 64 KiB bodies fill a 1 MiB map after a dozen or so messages.
        p = self.produce(node, "queue://full", 200, messageSize=65536, check=False, timeout=60)
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("the store is full", p.stderr, p.describe())
        n = harness.produced_count(p.stderr)
        self.assertIsNotNone(n, p.describe())
        self.assertGreater(n, 0, p.describe())
        self.assertLess(n, 200, p.describe())
        self.assertTrue(node.running(), "the node died when its store filled\n" + node.describe())

        # Everything receipted is there, exactly once; consuming frees the space.
        self.assertEqual(self.dstat(node)["queue://full"]["pending"], n)
        c = self.consume(node, "queue://full", n, receiveTimeout=10000, timeout=60)
        self.assertEqual(len(c.lines), n, c.describe())
        self.assertTrue(all(len(line) == 65536 for line in c.lines), "a body changed")

        again = self.produce(node, "queue://full", 3, messageSize=65536, timeout=60)
        self.assertEqual(again.returncode, 0, again.describe())
        self.assertEqual(self.dstat(node)["queue://full"]["pending"], 3)

    def test_acknowledgements_of_a_full_store_stay_done_after_a_restart(self):
        """Fill the store until sends fail, consume everything, stop (SIGTERM or SIGKILL) and
        restart: no acknowledged message may come back. Several rounds, because whether a
        delete found free pages on a full map depended on timing."""
        node = self.start_node("ackfull-it", limits="send_fail_if_no_space: true",
                               extra_config="store { max_size_mb: 4 }\n")
        rounds = [("AUTO_ACKNOWLEDGE", "term"), ("CLIENT_ACKNOWLEDGE", "kill"),
                  ("AUTO_ACKNOWLEDGE", "kill"), ("INDIVIDUAL_ACKNOWLEDGE", "term"),
                  ("AUTO_ACKNOWLEDGE", "term"), ("CLIENT_ACKNOWLEDGE", "term")]
        deadline = time.monotonic() + 150
        for i, (mode, stop) in enumerate(rounds):
            self.assertLess(time.monotonic(), deadline, "round %d did not start in time" % i)
            what = "round %d (%s, %s)" % (i, mode, stop)
            # 1 KiB bodies, as in the report (a delete copies the pages it changes): a window of
            # sends fills most of the store, then sends one at a time (a commit each) fill what
            # the last window left.
            for window in (64, 0):
                p = self.produce(node, "queue://full", 1000000, messageSize=1024,
                                 asyncWindow=window, check=False, timeout=60)
                self.assertNotEqual(p.returncode, 0, what + "\n" + p.describe())
                self.assertIn("the store is full", p.stderr, what + "\n" + p.describe())
            # A send to another queue at the full point (stored or refused, as room allows).
            other = self.produce(node, "queue://other", 1, check=False, timeout=30)
            other_n = harness.produced_count(other.stderr)
            self.assertIsNotNone(other_n, what + "\n" + other.describe())
            stored = self.dstat(node)["queue://full"]["pending"]
            self.assertGreater(stored, 1000, what)

            c = self.consume(node, "queue://full", stored, ackMode=mode, receiveTimeout=10000,
                             check=False, timeout=60)
            # (Bodies are 1 KiB each: the failure messages show stderr only.)
            self.assertEqual(c.returncode, 0, "%s: the consumer failed\n%s\n%s"
                             % (what, c.stderr[-2000:], node.describe()))
            self.assertEqual(len(c.lines), stored, what + "\n" + c.stderr[-2000:])
            # Every acknowledgement has settled: none failed and brought its message back.
            self.wait_dstat(node, "queue://full", timeout=20, pending=0)

            if stop == "term":
                self.assertEqual(node.stop(), harness.EXIT_CLEAN, what + "\n" + node.describe())
            else:
                node.kill()
            node.restart()
            rows = self.dstat(node)
            self.assertEqual(rows["queue://full"]["pending"], 0,
                             "%s: acknowledged messages came back after the restart\n%s"
                             % (what, node.describe()))
            self.assertEqual(rows.get("queue://other", {}).get("pending", 0), other_n, what)
            if other_n:
                self.consume(node, "queue://other", other_n, receiveTimeout=10000, timeout=30)
            self.assertNotIn("acknowledgement failed", node.all_logs, what)


if __name__ == "__main__":
    unittest.main()
