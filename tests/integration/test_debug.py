"""actormq-debug against real nodes: the actor tree's counts match what a producer and a
consumer did, `show NAME`, `watch`, and a port where no front door listens (a standby)."""

import json
import os
import re
import subprocess
import unittest
import urllib.request

import harness

DEBUG_TIMEOUT = 30.0


def debug_binary():
    return os.path.join(harness.bin_dir(), "actormq-debug")


class DebugToolTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        if not os.access(debug_binary(), os.X_OK):
            self.fail("actormq-debug not found at %s: build the tools/ target actormq-debug"
                      % debug_binary())
        self._debug_seq = 0

    def debug(self, node_or_port, *args):
        """Runs actormq-debug --node 127.0.0.1:PORT ARGS... to completion."""
        port = node_or_port if isinstance(node_or_port, int) else node_or_port.ports["cluster"]
        self._debug_seq += 1
        return self.run_program([debug_binary(), "--node", "127.0.0.1:%d" % port] + list(args),
                                "debug-%02d" % self._debug_seq, DEBUG_TIMEOUT)

    @staticmethod
    def queue_line(out, name):
        for line in out.splitlines():
            if re.search(r"\b%s \(actor \d+, mailbox \d+\)" % re.escape(name), line):
                return line
        return None

    def test_actors_tree_counts_match_producer_and_consumer(self):
        node = self.start_node("dbg")
        self.produce(node, "queue://debug.q", 10)
        self.consume(node, "queue://debug.q", 4)
        self.wait_dstat(node, "queue://debug.q", pending=6, dequeued=4)

        p = self.debug(node, "actors")
        self.assertEqual(p.returncode, 0, p.describe())
        out = p.stdout
        first = out.splitlines()[0]
        self.assertRegex(first, r"^node dbg \(actor \d+, mailbox \d+\) at 127\.0\.0\.1:%d" % node.ports["cluster"])
        self.assertIn("role master", first)
        self.assertIn("lock held by this node", first)
        self.assertIn("client port %d" % node.client_port, first)
        # The lock holder stays on while the lock is ours and says what it holds.
        self.assertRegex(out, r"\|-- lock holder \(actor \d+, mailbox \d+\)  lock \S+/master\.lock "
                              r"held by node dbg \(pid %d\)" % node.pid)
        self.assertRegex(out, r"\|-- store \(actor \d+, mailbox \d+\)  map .* used of 1\.0 GiB")
        self.assertRegex(out, r"commits \d+, operations \d+, batch last \d+ / max \d+ / mean")
        self.assertRegex(out, r"\|-- broker \(actor \d+, mailbox \d+\)  destinations 1")
        self.assertRegex(out, r"\|-- acceptor \(actor \d+, mailbox \d+\)  port %d" % node.client_port)
        line = self.queue_line(out, "queue://debug.q")
        self.assertIsNotNone(line, out)
        self.assertIn("pending 6,", line)
        self.assertIn("in-flight 0,", line)
        self.assertIn("consumers 0,", line)
        self.assertIn("enqueued 10,", line)
        self.assertIn("dequeued 4,", line)
        self.assertIn("duplicates dropped 0", line)
        self.assertIn("sessions: no client connections", out)
        self.assertIn("bridges: no network connectors", out)
        # Every actor reports how many messages wait in its mailbox.
        self.assertRegex(out, r"store \(actor \d+, mailbox \d+\)")
        self.assertRegex(out, r"queue://\S+ \(actor \d+, mailbox \d+\)")

    def test_sessions_show_client_address_and_consumers(self):
        node = self.start_node("dbgs")
        self.produce(node, "queue://debug.s", 2)
        # A consumer that waits for more than there is keeps its session open.
        consumer = self.start_cli(*self.consumer_args(node, "queue://debug.s", 5,
                                                      receiveTimeout=20000), label="consumer")
        self.wait_dstat(node, "queue://debug.s", consumers=1, dequeued=2)
        p = self.debug(node, "actors")
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertRegex(p.stdout, r"sessions \(1\)\n\|   `-- session \d+ \(actor \d+, mailbox \d+\)  client "
                                   r"127\.0\.0\.1:\d+, id \d+, listener client, client-id \S+, "
                                   r"consumers 1")
        line = self.queue_line(p.stdout, "queue://debug.s")
        self.assertIn("consumers 1,", line)
        self.assertIn("dequeued 2,", line)
        consumer.kill()

    def test_bridges_show_their_peer_and_state(self):
        peer = self.start_node("dbgpeer")
        node = self.start_node(
            "dbgbr", extra_config='network_connectors { name: "to-peer" uri: "static:(%s)" }'
            % peer.cluster_url)
        deadline = harness.time.monotonic() + 20
        while True:
            p = self.debug(node, "actors")
            self.assertEqual(p.returncode, 0, p.describe())
            if "peer dbgpeer at" in p.stdout or harness.time.monotonic() > deadline:
                break
            harness.time.sleep(0.2)
        self.assertRegex(p.stdout, r"`-- bridges \(1\)\n    `-- bridge to-peer \(actor \d+, mailbox \d+\)  peer "
                                   r"dbgpeer at 127\.0\.0\.1:%d, state \S+" % peer.ports["cluster"])
        p = self.debug(node, "show", "bridge")
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertIn("  name: to-peer\n", p.stdout)
        p = self.debug(peer, "actors")
        self.assertIn("bridges: no network connectors", p.stdout)

    def test_show_one_actor_in_detail(self):
        node = self.start_node("dbgshow")
        self.produce(node, "queue://debug.show", 3)
        self.wait_dstat(node, "queue://debug.show", pending=3)
        for name in ("queue://debug.show", "debug.show"):
            p = self.debug(node, "show", name)
            self.assertEqual(p.returncode, 0, p.describe())
            self.assertRegex(p.stdout, r"^queue://debug\.show \(actor \d+, mailbox \d+\)  \[queues\.\d+\]")
            self.assertIn("  pending: 3\n", p.stdout)
            self.assertIn("  enqueued: 3\n", p.stdout)
            self.assertIn("  kind: queue\n", p.stdout)
        actor_id = re.search(r"\(actor (\d+), mailbox \d+\)", p.stdout).group(1)
        p = self.debug(node, "show", actor_id)
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertIn("name: queue://debug.show", p.stdout)
        p = self.debug(node, "show", "store")
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertIn("  kind: store\n", p.stdout)
        self.assertRegex(p.stdout, r"  map-size: \d+\n")
        p = self.debug(node, "show", "no-such-actor")
        self.assertEqual(p.returncode, 5, p.describe())
        self.assertIn("no actor matching no-such-actor", p.stderr)

    def hold_reader(self, node):
        """Starts hold_reader on the node's store: a read transaction that stays open."""
        binary = os.environ.get("ACTORMQ_HOLD_READER")
        if not binary or not os.access(binary, os.X_OK):
            self.fail("ACTORMQ_HOLD_READER does not name the hold_reader program (ctest sets it)")
        reader = subprocess.Popen([binary, os.path.join(node.data_dir, "store")],
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def stop():
            if reader.poll() is None:
                reader.kill()
            reader.wait(10)
            for stream in (reader.stdin, reader.stdout, reader.stderr):
                stream.close()
        self.addCleanup(stop)
        line = reader.stdout.readline()  # the program prints as soon as the snapshot is taken
        if not line.startswith("holding "):
            reader.kill()
            self.fail("hold_reader printed %r: %s" % (line, reader.communicate(timeout=10)[1]))
        return reader, int(line.split()[1])

    def overview(self, node):
        url = "http://127.0.0.1:%d/api/overview" % node.ports["console"]
        with urllib.request.urlopen(url, timeout=DEBUG_TIMEOUT) as r:
            return json.load(r)["store"]

    def test_store_shows_its_oldest_reader(self):
        node = self.start_node("dbgreader")
        self.produce(node, "queue://debug.r", 1)
        p = self.debug(node, "actors")
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertRegex(p.stdout, r"store \(actor .*open readers 0, oldest reader none")

        reader, snapshot = self.hold_reader(node)
        self.produce(node, "queue://debug.r", 3)
        # The store's journal commits them to the LMDB file at its next checkpoint.
        found = {}

        def behind():
            p = self.debug(node, "actors")
            self.assertEqual(p.returncode, 0, p.describe())
            found["m"] = re.search(r"open readers (\d+), oldest reader pid (\d+) at transaction "
                                   r"(\d+) \((\d+) commits behind\)", p.stdout)
            found["out"] = p.stdout
            return found["m"] is not None and int(found["m"].group(4)) >= 1
        self.wait_until(behind, 20, "a commit after the reader's snapshot")
        m = found["m"]
        self.assertIsNotNone(m, found["out"])
        self.assertGreaterEqual(int(m.group(1)), 1)
        self.assertEqual(int(m.group(2)), reader.pid)
        self.assertEqual(int(m.group(3)), snapshot)
        self.assertGreaterEqual(int(m.group(4)), 1)
        store = self.overview(node)
        self.assertEqual(store["oldest_reader_pid"], reader.pid)
        self.assertEqual(store["oldest_reader_txn"], snapshot)
        self.assertEqual(store["oldest_reader_lag"], store["last_txn"] - snapshot)
        self.assertGreaterEqual(store["oldest_reader_lag"], 1)

        reader.stdin.close()  # the reader ends its transaction and exits
        self.assertEqual(reader.wait(10), 0)
        p = self.debug(node, "actors")
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertIn("open readers 0, oldest reader none", p.stdout)
        self.assertEqual(self.overview(node)["oldest_reader_pid"], 0)

    def test_watch_refreshes_for_count_rounds(self):
        node = self.start_node("dbgwatch")
        p = self.debug(node, "watch", "--interval", "200", "--count", "3")
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertEqual(p.stdout.count("\033[H\033[2J"), 3, p.describe())
        self.assertEqual(p.stdout.count("node dbgwatch (actor"), 3, p.describe())

    def test_closed_port_is_not_reachable(self):
        port = harness.free_port()
        p = self.debug(port, "actors")
        self.assertEqual(p.returncode, 3, p.describe())
        self.assertIn("is not reachable", p.stderr)
        self.assertIn("A standby node", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_standby_opens_no_port_and_the_tool_says_why(self):
        master = self.start_node("dbgm")
        standby = self.make_node("dbgsb", data_dir=master.data_dir, extra_config="standby: true")
        standby.start(wait_ready=False)
        standby.wait_for_log(r"is standby", 20)
        p = self.debug(standby, "actors")
        self.assertEqual(p.returncode, 3, p.describe())
        self.assertIn("127.0.0.1:%d is not reachable" % standby.ports["cluster"], p.stderr)
        self.assertIn("opens no port until it becomes master", p.stderr)
        # The master still answers.
        p = self.debug(master, "actors")
        self.assertEqual(p.returncode, 0, p.describe())

    def test_bad_node_argument(self):
        p = self.run_program([debug_binary(), "--node", "nonsense", "actors"], "debug-bad",
                             DEBUG_TIMEOUT)
        self.assertEqual(p.returncode, 1, p.describe())
        self.assertIn("expected HOST:PORT", p.stderr)


if __name__ == "__main__":
    unittest.main()
