"""Disk faults.

- A flush of the store that fails with EIO (slow_sync.c, ACTORMQ_FAIL_SYNC_AFTER): the journal's
  flush (or, without the journal, LMDB's commit) fails, so the sends of that group commit are
  answered with the store's error (ERROR_STORE_FAILED) and nothing stored before is touched. The
  node stays up and the next commit, on a disk that works again, succeeds.
- A checkpoint whose flush of the LMDB file fails: its batches are applied again from the journal
  and committed once more; no send fails, nothing is lost or doubled.
- A file system that holds less than the store's configured size (a small tmpfs; needs root, as
  CI has): the store's high-water mark is taken from the file system's room, so sends fail with
  "the store is full" (limits.send_fail_if_no_space) while acknowledgements still find room; the node stays up, and consuming
  frees pages inside the file that later sends use.
"""
import collections
import os
import subprocess
import unittest

import harness
from harness import text_messages


class DiskFaultTest(harness.NodeTestCase):

    def test_a_failed_flush_fails_its_sends_and_loses_nothing_receipted(self):
        self._failed_flush(journal=True)

    def test_a_failed_flush_without_the_journal_fails_its_sends_and_loses_nothing(self):
        self._failed_flush(journal=False)

    def test_a_failed_checkpoint_is_committed_again_from_the_journal(self):
        lib = harness.shim_library(self.workdir, "actormq_slow_sync", "ACTORMQ_SLOW_SYNC_LIB")
        # The store's creation flushes data.mdb twice; the third flush is a checkpoint's.
        env = harness.preload_env(lib, ACTORMQ_FAIL_SYNC_AFTER=2, ACTORMQ_FAIL_SYNC_COUNT=1)
        node = self.start_node("ckpt", env=env)
        self.produce(node, "queue://ckpt", 500, timeout=60)
        self.wait_until(lambda: "checkpoint failed" in node.log, 30,
                        "a failed checkpoint\n" + node.describe())
        self.assertRegex(node.log, r"committed again")
        self.produce(node, "queue://ckpt", 200, message="after", timeout=60)
        self.assertTrue(node.running(), node.describe())
        self.assertEqual(node.stop(), harness.EXIT_CLEAN, node.describe())
        node.env = None
        node.restart()
        c = self.consume(node, "queue://ckpt", 700 + 10, receiveTimeout=3000, check=False,
                         timeout=120)
        counts = collections.Counter(c.lines)
        self.assertEqual(sorted(set(text_messages(500)) - set(c.lines)), [], c.describe())
        self.assertEqual(counts["after"], 200, c.describe())
        self.assertEqual(len(c.lines), 700, c.describe())

    def _failed_flush(self, journal):
        lib = harness.shim_library(self.workdir, "actormq_slow_sync", "ACTORMQ_SLOW_SYNC_LIB")
        env = harness.preload_env(lib, ACTORMQ_FAIL_SYNC_AFTER=60, ACTORMQ_FAIL_SYNC_COUNT=1,
                                  ACTORMQ_FAIL_SYNC_FILE="journal" if journal else "data.mdb")
        node = self.start_node("eio", env=env,
                               extra_config="store { journal: %s }" % str(journal).lower())
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


    @unittest.skipUnless(os.geteuid() == 0, "mounting a tmpfs needs root")
    def test_a_full_file_system_fails_sends_and_keeps_serving(self):
        mount = os.path.join(self.workdir, "small")
        os.makedirs(mount)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mount],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs: " + r.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", mount], timeout=30)
        # The store may grow to 64 MiB; the file system holds 6.
        node = self.start_node("enospc", data_dir=os.path.join(mount, "data"),
                               limits="send_fail_if_no_space: true",
                               extra_config="store { max_size_mb: 64 }\n")
        sent = 0
        failed = None
        for _ in range(40):  # 40 x 200 x 1 KiB is far more than 6 MiB
            p = self.produce(node, "queue://full", 200, check=False, timeout=60,
                             messageSize=1024)
            n = harness.produced_count(p.stderr)
            self.assertIsNotNone(n, p.describe())
            sent += n
            if p.returncode != 0:
                failed = p
                break
        self.assertIsNotNone(failed, "the file system never filled")
        self.assertIn("the store is full", failed.stderr, failed.describe())
        self.assertIn("room on its file system", failed.stderr, failed.describe())
        self.assertTrue(node.running(), "the node died on a full file system\n" + node.describe())
        self.assertGreater(sent, 0)

        # Every receipted send is there; consuming them frees pages that new sends reuse.
        c = self.consume(node, "queue://full", sent, timeout=120)
        self.assertEqual(len(c.lines), sent, c.describe())
        self.produce(node, "queue://full", 100, message="again", timeout=60)
        self.assertTrue(node.running(), node.describe())
        c = self.consume(node, "queue://full", 100, timeout=60)
        self.assertEqual(c.lines, ["again"] * 100, c.describe())
        self.assertEqual(node.stop(), harness.EXIT_CLEAN, node.describe())


if __name__ == "__main__":
    unittest.main()
