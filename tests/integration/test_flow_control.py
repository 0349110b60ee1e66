"""A producer faster than its consumers meets flow control, not unbounded memory."""

import os
import select
import time
import unittest

import harness

MESSAGE_SIZE = 64 * 1024
COUNT = 2000                      # 125 MiB of bodies in all, 1 MiB allowed per destination
HOLD_SECONDS = 5.0                # the producer must still be held back after this long
RSS_LIMIT_KIB = 200 * 1024        # absolute bound on the node's anonymous memory
RSS_GROWTH_KIB = 64 * 1024        # bound on its growth over the idle figure (half the bodies)
ROUNDS = 5                        # non-persistent floods, each with many halts of reading
STALL_SECONDS = 10                # a flood with no progress for this long has stalled


class FlowControlTest(harness.NodeTestCase):

    def test_producer_is_held_back_and_memory_stays_bounded(self):
        node = self.start_node("flow-it", limits="destination_memory_bytes: 1048576")
        idle_kib = node.rss_anon_kib()
        check_rss = not node.sanitized()  # ASan's shadow memory swamps the figures

        producer = self.start_cli(*self.producer_args(node, "queue://flood", COUNT,
                                                      persistent="false",
                                                      messageSize=MESSAGE_SIZE),
                                  label="producer")
        peak_kib = idle_kib
        t0 = time.monotonic()
        while time.monotonic() - t0 < HOLD_SECONDS:
            self.assertTrue(node.running(), node.describe())
            peak_kib = max(peak_kib, node.rss_anon_kib())
            if not producer.running():
                break
            time.sleep(0.1)
        self.assertTrue(producer.running(),
                        "producer of %d x 64 KiB finished within %.0f s with no consumer: "
                        "no flow control\n%s" % (COUNT, HOLD_SECONDS, producer.describe()))
        if check_rss:
            self.assertLess(peak_kib, RSS_LIMIT_KIB, "node RssAnon peaked at %d KiB" % peak_kib)
            self.assertLess(peak_kib - idle_kib, RSS_GROWTH_KIB,
                            "node RssAnon grew from %d to %d KiB" % (idle_kib, peak_kib))
        row = self.dstat(node).get("queue://flood")
        self.assertIsNotNone(row)
        self.assertLess(row["pending"], COUNT)
        self.assertLessEqual(row["pending"] * MESSAGE_SIZE, 8 * 1048576,
                             "queue holds %d messages of 64 KiB beyond its 1 MiB limit"
                             % row["pending"])
        self.assertRegex(node.log.lower(), r"flow.control|over its memory limit",
                         "the node does not say in its log that it holds producers back")

        # A consumer drains the queue; the producer is released and everything arrives.
        consumer = self.start_cli(*self.consumer_args(node, "queue://flood", COUNT,
                                                      receiveTimeout=15000),
                                  label="consumer", stdout_pipe=True)
        lines, sizes_ok, tail = 0, 0, b""
        fd = consumer.popen.stdout.fileno()
        deadline = time.monotonic() + 45
        while True:
            if time.monotonic() > deadline:
                self.fail("drain did not finish in 45 s: %d lines\n%s\n%s"
                          % (lines, consumer.describe(), producer.describe()))
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                parts = (tail + chunk).split(b"\n")
                tail = parts.pop()
                lines += len(parts)
                sizes_ok += sum(1 for p in parts if len(p) == MESSAGE_SIZE)
            peak_kib = max(peak_kib, node.rss_anon_kib())
        self.assertEqual(consumer.wait(10), 0, consumer.describe())
        self.assertEqual(producer.wait(20), 0, producer.describe())
        self.assertEqual(harness.produced_count(producer.stderr), COUNT, producer.describe())
        self.assertEqual(tail, b"")
        self.assertEqual(lines, COUNT)
        self.assertEqual(sizes_ok, COUNT, "bodies of the wrong size")
        if check_rss:
            self.assertLess(peak_kib, RSS_LIMIT_KIB, "node RssAnon peaked at %d KiB" % peak_kib)

    def test_reading_always_resumes_after_halts(self):
        """A producer faster than the queue's answers makes the session halt and resume reading
        its connection many times a second. Every resume must take: a lost one leaves the
        producer blocked in its write until the inactivity timeout ends its connection."""
        bench = os.path.join(harness.bin_dir(), "actormq-bench")
        if not os.access(bench, os.X_OK):
            self.fail("actormq-bench not found at %s: build the tools/ target actormq-bench"
                      % bench)
        node = self.start_node("resume-it")
        count = 50000 if node.sanitized() else 200000
        for round_ in range(ROUNDS):
            p = self.run_program([bench, "--brokerUrl", node.client_url,
                                  "--destination", "queue://resume%d" % round_,
                                  "--persistent", "false", "--messages", count,
                                  "--timeout", STALL_SECONDS, "--json", "--quiet"],
                                 "bench-%d" % round_, 180)
            self.assertEqual(p.returncode, 0,
                             "round %d: %s\n%s" % (round_, p.describe(), node.describe()))
        self.assertNotIn("inactivity timeout", node.log, node.describe())


if __name__ == "__main__":
    unittest.main()
