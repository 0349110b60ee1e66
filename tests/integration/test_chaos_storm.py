"""The short kill storm (issue 15 item 2, issue 20): tools/chaos/storm.py with 10 kills of the B/C
master or the hub A on the reference topology under failover producers and consumers on both
sides; the history checker must find nothing lost, no unflagged duplicate and no phantom.

The seed is random per run and printed on failure; ACTORMQ_CHAOS_SEED fixes it. A failing run
keeps its folder (histories, node logs) and names it in the failure message."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import harness

STORM = os.path.join(harness.REPO, "tools", "chaos", "storm.py")
KILLS = 10
STORM_TIMEOUT = 140  # s: storm.py's own bound; CTest gives the file 180


class StormTest(unittest.TestCase):

    def test_ten_kills_nothing_lost_nothing_doubled_unflagged(self):
        missing = harness.missing_binaries()
        self.assertIsNone(missing, missing)
        chaos_client = os.path.join(harness.bin_dir(), "actormq-chaos-client")
        self.assertTrue(os.access(chaos_client, os.X_OK),
                        "%s not found: build the target actormq-chaos-client" % chaos_client)
        seed = int(os.environ.get("ACTORMQ_CHAOS_SEED", int(time.time()) % 100000))
        out_dir = tempfile.mkdtemp(prefix="actormq-it-storm-")
        counts_path = os.path.join(out_dir, "storm.json")
        argv = [sys.executable, STORM, "--kills", str(KILLS), "--seed", str(seed),
                "--timeout", str(STORM_TIMEOUT), "--bin-dir", harness.bin_dir(),
                "--json", counts_path]
        started = time.monotonic()
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=STORM_TIMEOUT + 30,
                               preexec_fn=harness._die_with_parent)
        except subprocess.TimeoutExpired as e:
            self.fail("storm.py outlived its bound (seed %d): %s" % (seed, e))
        took = time.monotonic() - started
        report = "seed %d, %.0f s, exit %d\n%s\n%s" % (seed, took, r.returncode, r.stdout,
                                                      r.stderr[-3000:])
        self.assertTrue(os.path.exists(counts_path), "storm.py did not finish\n" + report)
        with open(counts_path) as f:
            counts = json.load(f)
        self.assertEqual(counts["kills"], KILLS, report)
        self.assertGreater(counts["receipted"], 0, report)
        self.assertEqual(counts["lost"], 0, report)
        self.assertEqual(counts["unflagged duplicates"], 0, report)
        self.assertEqual(counts["phantoms"], 0, report)
        self.assertEqual(r.returncode, 0, report)
        os.remove(counts_path)
        os.rmdir(out_dir)


if __name__ == "__main__":
    unittest.main()
