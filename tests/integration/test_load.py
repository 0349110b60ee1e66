"""Load, the short version for CI (issue 15 item 7): tools/chaos/load.py with 1,000 connections
that complete their Connect, 1,000 idle STOMP connections that get CONNECTED, 100 queues, and 10 s of producers faster than their consumers beside
a consumer that never acknowledges. Every check of the script must hold: each connection is
answered, 100 messages move beside them, every queue is listed, the console answers, the node's
RssAnon stays under the bound, and the node stops cleanly."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import harness

LOAD = os.path.join(harness.REPO, "tools", "chaos", "load.py")


class LoadTest(unittest.TestCase):

    def test_connections_queues_and_pressure(self):
        missing = harness.missing_binaries()
        self.assertIsNone(missing, missing)
        out = tempfile.mkdtemp(prefix="actormq-it-load-")
        result = os.path.join(out, "load.json")
        argv = [sys.executable, LOAD, "--connections", "1000", "--stomp-connections", "1000",
                "--queues", "100", "--seconds",
                "10", "--bin-dir", harness.bin_dir(), "--json", result]
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=150,
                               preexec_fn=harness._die_with_parent)
        except subprocess.TimeoutExpired as e:
            self.fail("load.py outlived its bound: %s" % e)
        report = "exit %d\n%s\n%s" % (r.returncode, r.stdout, r.stderr[-3000:])
        self.assertTrue(os.path.exists(result), "load.py did not finish\n" + report)
        with open(result) as f:
            counts = json.load(f)
        self.assertEqual([name for name, _ in counts["rows"]],
                         ["idle node", "connections held", "stomp connections held", "queues",
                          "pressure"], report)
        self.assertEqual(counts["failures"], [], report)
        self.assertEqual(r.returncode, 0, report)
        os.remove(result)
        os.rmdir(out)


if __name__ == "__main__":
    unittest.main()
