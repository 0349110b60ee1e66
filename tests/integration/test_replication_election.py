"""ZooKeeper electing the master of a replicated group (docs/replication.md): real nodes with a
`replication` block and a ZooKeeper server of the test's own (zookeeper.py). One replica serves,
the others open no port; the election waits for a quorum; kill -9 of the master elects another
within the session timeout; a master cut from ZooKeeper stops serving. The store is not copied
between replicas yet: these tests check the election only."""

import re
import socket
import time
import unittest
import uuid

import harness
import zookeeper

SESSION_MS = 2000
# After the master's death its session must expire on the server (SESSION_MS), then a replica
# sees the master znode go and claims it, then the new master recovers and opens its ports.
FAILOVER_BOUND_S = SESSION_MS / 1000 + 8


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class ReplicationElectionTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        msg = zookeeper.missing()
        if msg:
            self.fail(msg)
        self.zk = zookeeper.Server(self.workdir)
        self.addCleanup(self.zk.kill)
        self.zk.start()
        self.group = "/actormq-it/%s" % uuid.uuid4().hex[:12]

    def make_replica(self, name, replicas=3):
        extra = ('replication { zk_address: "%s" zk_path: "%s" replicas: %d '
                 'zk_session_timeout_ms: %d }' % (self.zk.address, self.group, replicas,
                                                  SESSION_MS))
        return self.make_node(name, extra_config=extra)

    def start_group(self, names=("r1", "r2", "r3")):
        nodes = [self.make_replica(n) for n in names]
        for n in nodes:
            n.start(wait_ready=False)
        return nodes

    def wait_for_master(self, nodes, timeout):
        """The one node of `nodes` that logs readiness within `timeout` s (fails if none, or
        if two do)."""
        deadline = time.monotonic() + timeout
        while True:
            ready = [n for n in nodes if re.search(r"is ready", n.log)]
            if len(ready) > 1:
                self.fail("two masters: %s" % ", ".join(n.describe() for n in ready))
            if ready:
                return ready[0]
            for n in nodes:
                if not n.running():
                    self.fail("replica exited: " + n.describe())
            if time.monotonic() > deadline:
                self.fail("no master within %.1f s:\n%s"
                          % (timeout, "\n".join(n.describe() for n in nodes)))
            time.sleep(0.05)

    def assert_replica(self, node, master_name):
        node.wait_for_log(r"registered as replica", 15)
        node.wait_for_log(r"the master is %s\b" % re.escape(master_name), 15)
        self.assertNotRegex(node.log, r"is ready")
        for key in ("client", "cluster", "console"):
            self.assertFalse(port_open(node.ports[key]),
                             "replica %s has its %s port open" % (node.name, key))

    def test_one_master_serves_the_others_open_no_port(self):
        nodes = self.start_group()
        master = self.wait_for_master(nodes, 30)
        self.assertRegex(master.log, r"is elected master of %s \(epoch \d+"
                         % re.escape(self.group))
        for n in nodes:
            if n is not master:
                self.assert_replica(n, master.name)
        self.produce(master, "queue://elected", 5)
        self.consume(master, "queue://elected", 5)
        # The others stay replicas (observed for a bounded time).
        self.assert_stays(lambda: all(not re.search(r"is ready", n.log)
                                      for n in nodes if n is not master), 1.0,
                          "the replicas not serving")

    def test_the_election_waits_for_a_quorum(self):
        first = self.make_replica("q1")
        first.start(wait_ready=False)
        first.wait_for_log(r"waiting for a quorum of replicas: 1 of 3 registered, 2 needed", 20)
        self.assert_stays(lambda: first.running() and not re.search(r"is ready", first.log),
                          1.5, "the lone replica waiting")
        self.assertFalse(port_open(first.client_port))
        second = self.make_replica("q2")
        second.start(wait_ready=False)
        master = self.wait_for_master([first, second], 30)
        other = second if master is first else first
        self.assert_replica(other, master.name)

    def test_kill_9_of_the_master_elects_another_within_the_session_timeout(self):
        nodes = self.start_group()
        master = self.wait_for_master(nodes, 30)
        epoch = int(re.search(r"epoch (\d+)", master.log).group(1))
        rest = [n for n in nodes if n is not master]
        for n in rest:
            self.assert_replica(n, master.name)
        killed_at = time.monotonic()
        master.kill()
        successor = self.wait_for_master(rest, FAILOVER_BOUND_S)
        took = time.monotonic() - killed_at
        new_epoch = int(re.search(r"epoch (\d+)", successor.log).group(1))
        self.assertGreater(new_epoch, epoch)
        self.assertLess(took, FAILOVER_BOUND_S)
        # Not before the dead master's session could expire: no two masters at once.
        self.assertGreater(took, SESSION_MS / 1000 * 0.5)
        third = next(n for n in rest if n is not successor)
        third.wait_for_log(r"the master is %s\b" % re.escape(successor.name), 15)
        self.produce(successor, "queue://after", 3)
        # The killed replica comes back as a replica of the new master.
        master.restart(wait_ready=False)
        master.wait_for_log(r"the master is %s\b" % re.escape(successor.name), 20)
        self.assertNotRegex(master.log, r"is ready")

    def test_a_master_cut_from_zookeeper_stops_serving(self):
        nodes = self.start_group()
        master = self.wait_for_master(nodes, 30)
        self.zk.kill()
        master.wait_for_log(r"lost its ZooKeeper connection", 10)
        rc = master.wait_exit(SESSION_MS / 1000 + 5)
        self.assertEqual(rc, harness.EXIT_FATAL, master.describe())
        self.assertRegex(master.log, r"no longer master of")
        self.assertFalse(port_open(master.client_port))


if __name__ == "__main__":
    unittest.main()
