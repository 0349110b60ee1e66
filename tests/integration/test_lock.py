"""Two nodes on one data folder: the second refuses at once, naming the holder."""

import time
import unittest

import harness
from harness import text_messages


class LockTest(harness.NodeTestCase):

    def test_second_node_on_same_data_dir_exits_4(self):
        first = self.start_node("holder-it")
        second = self.make_node("intruder-it", data_dir=first.data_dir)
        t0 = time.monotonic()
        second.start(wait_ready=False)
        try:
            rc = second.wait_exit(2.0)
        except TimeoutError:
            self.fail("second node still running 2 s after start\n" + second.describe())
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, harness.EXIT_LOCKED, second.describe())
        self.assertLess(elapsed, 2.0)
        log = second.log
        self.assertIn("holder-it", log, "stderr does not name the holding node")
        self.assertIn(str(first.pid), log, "stderr does not name the holder's pid")
        self.assertIn("is locked", log)
        self.assertNotIn("is ready", log)

        # The first node goes on serving.
        self.assertTrue(first.running(), first.describe())
        self.produce(first, "queue://still", 3)
        c = self.consume(first, "queue://still", 3, receiveTimeout=10000)
        self.assertEqual(c.lines, text_messages(3), c.describe())

    def test_lock_is_released_when_the_holder_dies(self):
        first = self.start_node("holder-it")
        self.produce(first, "queue://handover", 4)
        first.kill()
        # The kernel drops the flock with the process: a new node gets it at once.
        second = self.start_node("next-it", data_dir=first.data_dir)
        c = self.consume(second, "queue://handover", 4, receiveTimeout=10000)
        self.assertEqual(c.lines, text_messages(4), c.describe())


if __name__ == "__main__":
    unittest.main()
