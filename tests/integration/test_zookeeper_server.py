"""The ZooKeeper server the replication tests start for themselves (zookeeper.py): it serves on
its own loopback port with its own data folder, two run side by side, and kill() ends it by PID."""

import os
import shutil
import tempfile
import time
import unittest

import zookeeper


class ZooKeeperServerTest(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="actormq-it-zookeeper-")
        self.servers = []
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for s in self.servers:
            s.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def start_server(self):
        server = zookeeper.Server(self.workdir)
        self.servers.append(server)
        return server.start()

    def wait_until(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail("timed out after %.1f s waiting for %s" % (timeout, what))
            time.sleep(0.05)

    def test_own_port_and_data_folder_stopped_by_pid(self):
        first = self.start_server()
        second = self.start_server()
        self.assertNotEqual(first.port, second.port)
        for s in (first, second):
            self.assertEqual(zookeeper.four_letter(s.port, "ruok"), "imok")
            # The server writes its transaction log folder into the data folder it was given.
            self.wait_until(lambda s=s: os.path.isdir(os.path.join(s.data_dir, "version-2")), 10,
                            "version-2 in %s" % s.data_dir)
        first.kill()
        self.assertFalse(first.running())
        self.wait_until(lambda: zookeeper.four_letter(first.port, "ruok", timeout=0.5) is None,
                        10, "the killed server's port to close")
        # The other server is not touched.
        self.assertTrue(second.serving())
        second.stop()
        self.assertFalse(second.running())


if __name__ == "__main__":
    unittest.main()
