"""Disk faults: a flush of the store that fails with EIO (slow_sync.c, ACTORMQ_FAIL_SYNC_AFTER).

LMDB's commit fails when its flush fails: the transaction is not committed, so the sends of that
group commit are answered with the store's error (ERROR_STORE_FAILED) and nothing stored before is
touched. The node stays up and the next commit, on a disk that works again, succeeds.
"""
import collections
import os
import unittest

import harness
from harness import text_messages


class DiskFaultTest(harness.NodeTestCase):

    def test_a_failed_flush_fails_its_sends_and_loses_nothing_receipted(self):
        lib = harness.shim_library(self.workdir, "actormq_slow_sync", "ACTORMQ_SLOW_SYNC_LIB")
        env = harness.preload_env(lib, ACTORMQ_FAIL_SYNC_AFTER=60, ACTORMQ_FAIL_SYNC_COUNT=1)
        node = self.start_node("eio", env=env)
        with open("/proc/%d/maps" % node.pid) as f:
            self.assertTrue(lib in f.read(), "the shim %s is not loaded" % lib)

        first = self.produce(node, "queue://eio", 1000, check=False, timeout=60)
        self.assertNotEqual(first.returncode, 0, "no send failed\n" + first.describe())
        self.assertRegex(first.stderr, r"(?i)store", first.describe())
        n = harness.produced_count(first.stderr)
        self.assertIsNotNone(n, first.describe())
        self.assertGreater(n, 0, first.describe())
        self.assertLess(n, 1000, first.describe())
        self.assertTrue(node.running(), "the node stopped\n" + node.describe())
        self.assertRegex(node.log, r"store failed a commit")

        # The disk works again (the shim fails only ACTORMQ_FAIL_SYNC_COUNT flushes).
        self.produce(node, "queue://eio", 200, message="after", timeout=60)

        self.assertEqual(node.stop(), harness.EXIT_CLEAN, node.describe())
        node.env = None
        node.restart()
        c = self.consume(node, "queue://eio", n + 200 + 10, receiveTimeout=3000, check=False,
                         timeout=120)
        got = c.lines
        counts = collections.Counter(got)
        missing = sorted(set(text_messages(n)) - set(got), key=lambda s: int(s.split(":")[1]))
        self.assertEqual(missing, [], "receipted sends lost (%d of %d, first 10): %r"
                         % (len(missing), n, missing[:10]))
        self.assertEqual(counts["after"], 200, c.describe())
        dups = sorted(m for m, k in counts.items() if k > 1 and m != "after")
        self.assertEqual(dups, [], "duplicates (first 10): %r" % dups[:10])
        # What failed was never stored: only the receipted sends and the 200 are there.
        self.assertEqual(len(got), n + 200, "unexpected messages: %r"
                         % sorted(set(got) - set(text_messages(n)) - {"after"})[:10])


if __name__ == "__main__":
    unittest.main()
