"""A receipt for a persistent send means the message survives a power cut.

The node runs with libactormq_power_cut.so preloaded (power_cut.c, built by shim.cmake): it keeps
what every unflushed write to the store's data file and journal replaced, and at a chosen flush it
waits a moment (anything the node released too early leaves meanwhile), writes what a power cut
would leave on disk at that instant, and ends the process. The test puts those images in place of
the store's files, restarts the node and requires every receipted send, once. A node that sent a
receipt before the flush that makes its message durable fails here: that message is not in the
images. With the journal (the default) the cut falls on journal flushes and on checkpoints;
without it, on LMDB's commits.
"""
import collections
import os
import shutil
import unittest

import harness
from harness import text_messages

CUT_EXIT_CODE = 86


class PowerCutTest(harness.NodeTestCase):

    def test_every_receipted_sync_send_survives(self):
        self._cut_and_check(window=0, cut_at=120)

    def test_every_receipted_send_of_an_async_window_survives(self):
        self._cut_and_check(window=64, cut_at=60)

    def test_a_cut_at_a_checkpoint_loses_no_receipted_send(self):
        # A short checkpoint interval, and the cut counts the flushes of the LMDB file only:
        # it falls inside a checkpoint, with receipted sends in the journal alone.
        self._cut_and_check(window=0, cut_at=21, checkpoint_ms=5, only="data.mdb")

    def test_every_receipted_sync_send_survives_without_the_journal(self):
        self._cut_and_check(window=0, cut_at=120, journal=False)

    def _cut_and_check(self, window, cut_at, journal=True, checkpoint_ms=None, only=None):
        lib = harness.shim_library(self.workdir, "actormq_power_cut", "ACTORMQ_POWER_CUT_LIB")
        image = os.path.join(self.workdir, "cut.mdb")
        journal_image = os.path.join(self.workdir, "cut.journal")
        env = harness.preload_env(lib, ACTORMQ_POWER_CUT_AT=cut_at,
                                  ACTORMQ_POWER_CUT_IMAGE=image,
                                  ACTORMQ_POWER_CUT_JOURNAL_IMAGE=journal_image,
                                  ACTORMQ_POWER_CUT_DELAY_MS=300)
        if only:
            env["ACTORMQ_POWER_CUT_ONLY"] = only
        store = "journal: %s" % ("true" if journal else "false")
        if checkpoint_ms is not None:
            store += " checkpoint_interval_ms: %d" % checkpoint_ms
        node = self.make_node("cut-%d" % window, env=env, extra_config="store { %s }" % store)
        node.start()
        with open("/proc/%d/maps" % node.pid) as f:
            self.assertTrue(lib in f.read(), "the shim %s is not loaded" % lib)
        opts = {"asyncWindow": window} if window else {}
        producer = self.start_cli(*self.producer_args(node, "queue://cut", 10000000, **opts),
                                  label="producer")
        try:
            rc = node.wait_exit(60)
        except TimeoutError:
            self.fail("the node was not cut within 60 s\n" + node.describe())
        self.assertEqual(rc, CUT_EXIT_CODE, node.describe())
        if only:
            self.assertRegex(node.log, r"power_cut: cut at flush \d+, of \S*/%s" % only)
        try:
            producer.wait(15)
        except TimeoutError as e:
            self.fail("producer did not notice the dead node: %s" % e)
        n = harness.produced_count(producer.stderr)
        self.assertIsNotNone(n, "last stderr line is not 'produced N messages'\n"
                             + producer.describe())
        self.assertGreater(n, 0, "no receipt before the cut\n" + producer.describe())

        store_dir = os.path.join(node.data_dir, "store")
        shutil.copyfile(image, os.path.join(store_dir, "data.mdb"))
        if journal:
            self.assertTrue(os.path.exists(journal_image), "no journal image\n" + node.describe())
            shutil.copyfile(journal_image, os.path.join(store_dir, "journal"))
        else:
            self.assertFalse(os.path.exists(os.path.join(store_dir, "journal")))
        node.env = None  # the restart runs without the shim
        node.restart()
        in_flight = max(window, 1)
        c = self.consume(node, "queue://cut", n + in_flight + 10, receiveTimeout=3000,
                         check=False, timeout=120)
        got = c.lines
        counts = collections.Counter(got)
        dups = sorted(m for m, k in counts.items() if k > 1)
        self.assertEqual(dups, [], "duplicates after the cut (first 10): %r" % dups[:10])
        missing = sorted(set(text_messages(n)) - set(got), key=lambda s: int(s.split(":")[1]))
        self.assertEqual(missing, [], "receipted sends lost in the cut (%d of %d, first 10): %r"
                         % (len(missing), n, missing[:10]))
        extra = set(got) - set(text_messages(n))
        self.assertTrue(extra <= set(text_messages(in_flight, start=n)),
                        "unexpected messages: %r" % sorted(extra)[:10])


if __name__ == "__main__":
    unittest.main()
