"""Racing starts on one store, the short version for CI (issue 15 item 3): tools/chaos/races.py
with 20 rounds of two or three standby-enabled nodes started at once on one data folder; in each
round exactly one accepts client connections, and after the master is killed or stopped (while a
standby restarts, in some rounds) exactly one other takes over. The probes are connections to the
client ports. The seed is random per run and printed on failure; ACTORMQ_CHAOS_SEED fixes it."""

import os
import re
import subprocess
import sys
import time
import unittest

import harness

RACES = os.path.join(harness.REPO, "tools", "chaos", "races.py")
ROUNDS = 20
RACES_TIMEOUT = 120  # s: races.py's own bound; CTest gives the file 180


class RacesTest(unittest.TestCase):

    def races(self, rounds, *extra):
        missing = harness.missing_binaries()
        self.assertIsNone(missing, missing)
        seed = int(os.environ.get("ACTORMQ_CHAOS_SEED", int(time.time()) % 100000))
        argv = [sys.executable, RACES, "--rounds", str(rounds), "--seed", str(seed),
                "--timeout", str(RACES_TIMEOUT), "--bin-dir", harness.bin_dir()] + list(extra)
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=RACES_TIMEOUT + 30,
                               preexec_fn=harness._die_with_parent)
        except subprocess.TimeoutExpired as e:
            self.fail("races.py outlived its bound (seed %d): %s" % (seed, e))
        report = "seed %d, exit %d\n%s\n%s" % (seed, r.returncode, r.stdout, r.stderr[-3000:])
        m = re.search(r"^\| (\d+) \| (\d+) \| (\d+) \| (\d+) \|", r.stdout, re.M)
        self.assertIsNotNone(m, "no summary row\n" + report)
        return r, int(m.group(1)), int(m.group(4)), report

    def test_racing_starts_never_make_two_masters(self):
        r, rounds, failed, report = self.races(ROUNDS)
        self.assertEqual(rounds, ROUNDS, report)
        self.assertEqual(failed, 0, report)
        self.assertEqual(r.returncode, 0, report)

    def test_the_checks_catch_two_masters(self):
        """Nodes on stores of their own are all masters: every round must fail its check."""
        r, rounds, failed, report = self.races(3, "--separate-stores")
        self.assertEqual(rounds, 3, report)
        self.assertEqual(failed, 3, report)
        self.assertIn("accepted at once after a racing start", r.stdout, report)
        self.assertEqual(r.returncode, 1, report)


if __name__ == "__main__":
    unittest.main()
