"""Shared-store master/slave: nodes with `standby: true` on one data folder. The holder of
<data-dir>/master.lock serves; the others wait with no port open and the store unopened, and the
first of them takes over, with every stored message, the instant the master dies.

Test 7 (a kill inside a group commit) preloads libactormq_slow_sync.so (slow_sync.c, built by
shim.cmake) into the master so that every fdatasync sleeps; the library is found through
$ACTORMQ_SLOW_SYNC_LIB, next to the build's tools, or compiled here with `cc`.
"""

import collections
import os
import platform
import re
import shutil
import signal
import socket
import tempfile
import time
import unittest

import harness
from harness import text_messages

# The functional bound: the standby listens within 1 s of the master's death.
TAKEOVER_BOUND_S = 1.0
SLOW_SYNC_MS = 300
ASYNC_WINDOW = 64

# nanosleep and clock_nanosleep (the shim sleeps in one of them), per architecture.
SLEEP_SYSCALLS = {"x86_64": {35, 230}, "aarch64": {101, 115}}


# --------------------------------------------------------------------------------------------
# What a process has open, from /proc


def _socket_inodes(pid):
    """Inodes of the sockets among the open descriptors of `pid`."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]$", target)
        if m:
            inodes.add(int(m.group(1)))
    return inodes


def _listening_table():
    """{inode: port} of every listening TCP socket (IPv4 and IPv6) of this network namespace."""
    table = {}
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                rows = f.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) < 10 or fields[3] != "0A":  # 0A = TCP_LISTEN
                continue
            port = int(fields[1].rsplit(":", 1)[1], 16)
            table[int(fields[9])] = port
    return table


def listening_ports(pid):
    """Ports on which process `pid` has a listening TCP socket."""
    mine = _socket_inodes(pid)
    return sorted(port for inode, port in _listening_table().items() if inode in mine)


def store_files_in_use(pid, data_dir):
    """Lines of /proc/PID/maps and descriptors of `pid` that refer to the LMDB store under
    `data_dir` (data.mdb, lock.mdb)."""
    store = os.path.realpath(os.path.join(data_dir, "store"))
    found = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            if "data.mdb" in line or "lock.mdb" in line or store in line:
                found.append("map: " + line.strip())
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith(store) or target.endswith(".mdb"):
            found.append("fd %s: %s" % (fd, target))
    return found


def threads_in_sleep(pid):
    """How many threads of `pid` are inside nanosleep/clock_nanosleep right now (None when
    /proc/PID/task/TID/syscall cannot be read or the architecture is unknown)."""
    numbers = SLEEP_SYSCALLS.get(platform.machine())
    if numbers is None:
        return None
    count = 0
    task_dir = "/proc/%d/task" % pid
    try:
        tids = os.listdir(task_dir)
    except OSError:
        return None
    readable = False
    for tid in tids:
        try:
            with open(os.path.join(task_dir, tid, "syscall")) as f:
                first = f.read().split()
        except OSError:
            continue
        readable = True
        if first and first[0].isdigit() and int(first[0]) in numbers:
            count += 1
    return count if readable else None


def accepts_connection(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_accepting(port, timeout):
    """monotonic() of the first accepted TCP connection to 127.0.0.1:port (polled every ~1 ms),
    or None after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return time.monotonic()
        except OSError:
            pass
        if time.monotonic() > deadline:
            return None
        time.sleep(0.001)


class MasterSlaveTest(harness.NodeTestCase):

    # -- helpers
    def make_pair_node(self, name, data_dir, uris=(), env=None, extra=""):
        """A node with `standby: true` on `data_dir` whose config lists `uris` as
        shared_store_uris (not started)."""
        config = ["standby: true"]
        config += ['shared_store_uris: "%s"' % u for u in uris]
        if extra:
            config.append(extra)
        return self.make_node(name, data_dir=data_dir, extra_config="\n".join(config), env=env)

    def make_pair(self, names=("ms-a", "ms-b"), env_a=None, env_b=None):
        """Two standby-enabled nodes on one fresh data folder, each config listing both client
        URIs as shared_store_uris (not started)."""
        data_dir = tempfile.mkdtemp(prefix="data-", dir=self.workdir)
        ports = [{k: harness.free_port() for k in ("client", "cluster", "console")}
                 for _ in names]
        uris = ["tcp://127.0.0.1:%d" % p["client"] for p in ports]
        nodes = []
        for name, p, env in zip(names, ports, (env_a, env_b)):
            config = "standby: true\n" + "".join('shared_store_uris: "%s"\n' % u for u in uris)
            nodes.append(self.make_node(name, data_dir=data_dir, ports=p, extra_config=config,
                                        env=env))
        return nodes

    def waiting_pattern(self, holder):
        return (r"node \S+ is standby: waiting for the lock of \S+ held by node %s \(pid %d\)"
                % (re.escape(holder.name), holder.pid))

    def wait_standby(self, standby, holder, timeout=10.0):
        """Waits until `standby` logs that it waits for the lock held by `holder` (name, pid)."""
        try:
            standby.wait_for_log(self.waiting_pattern(holder), timeout)
        except AssertionError as e:
            self.fail("%s\nholder: %s" % (e, holder.describe()))

    def assert_standing_by(self, standby):
        """The standby runs, is not ready, listens on no port and has not opened the store."""
        self.assertTrue(standby.running(), standby.describe())
        self.assertNotIn("is ready", standby.log, standby.describe())
        self.assertNotIn("acquired the lock", standby.log, standby.describe())
        self.assertEqual(listening_ports(standby.pid), [],
                         "the standby listens\n" + standby.describe())
        self.assertEqual(store_files_in_use(standby.pid, standby.data_dir), [],
                         "the standby opened the store\n" + standby.describe())

    def assert_stays_standing_by(self, standby, duration):
        """assert_standing_by, polled for `duration` s (failing at the first change)."""
        def standing_by():
            try:
                self.assert_standing_by(standby)
                return True
            except AssertionError as e:
                failure.append(str(e))
                return False

        failure = []
        self.assert_stays(standing_by, duration, "node %s standing by" % standby.name,
                          lambda: failure[-1])

    def kill_and_time_takeover(self, master, standby):
        """SIGKILL `master` and return the seconds until `standby` accepts a TCP connection on
        its client port (fails after 15 s)."""
        self.assertTrue(master.running(), master.describe())
        t0 = time.monotonic()
        os.kill(master.pid, signal.SIGKILL)
        t1 = wait_accepting(standby.client_port, 15.0)
        master.kill()  # reap
        if t1 is None:
            self.fail("the standby did not accept a connection within 15 s of the kill\n"
                      + standby.describe())
        took = t1 - t0
        standby.wait_ready(10.0)
        # The connection went to the standby, not to some other process on that port.
        self.assertIn(standby.client_port, listening_ports(standby.pid), standby.describe())
        return took

    def consume_exactly(self, node, destination, expected):
        """Consumes from `node` until the destination stays empty for 2 s; asserts the texts
        are `expected` in order, none twice, nothing else."""
        c = self.consume(node, destination, len(expected) + 1, receiveTimeout=2000, check=False,
                         timeout=60)
        got = c.lines
        dups = sorted(m for m, k in collections.Counter(got).items() if k > 1)
        self.assertEqual(dups, [], "consumed twice: %r\n%s" % (dups[:10], c.describe()))
        missing = [m for m in expected if m not in set(got)]
        self.assertEqual(missing, [], "missing after takeover (%d, first 10): %r\n%s"
                         % (len(missing), missing[:10], c.describe()))
        self.assertEqual(got, list(expected), c.describe())

    # -- 1. the standby waits with nothing open
    def test_standby_waits_with_no_port_and_no_store(self):
        a, b = self.make_pair()
        a.start()
        b.start(wait_ready=False)
        self.wait_standby(b, a)
        self.assert_stays_standing_by(b, 0.3)  # it stays that way
        # The detection sees the master's listeners (client and cluster ports).
        ports = listening_ports(a.pid)
        self.assertIn(a.client_port, ports, a.describe())
        self.assertIn(a.ports["cluster"], ports, a.describe())
        self.assertNotEqual(store_files_in_use(a.pid, a.data_dir), [],
                            "the master's store is not visible in /proc")
        # The lock file names the master; the standby did not touch it.
        with open(os.path.join(a.data_dir, "master.lock")) as f:
            self.assertEqual(f.read(), "%s %d\n" % (a.name, a.pid))
        self.produce(a, "queue://ms-1", 3)
        self.consume_exactly(a, "queue://ms-1", text_messages(3))

    # -- 2. kill -9 of the master: the standby serves within 1 s, with every message
    def test_kill_master_standby_takes_over_within_a_second(self):
        a, b = self.make_pair()
        a.start()
        b.start(wait_ready=False)
        self.wait_standby(b, a)
        self.produce(a, "queue://ms-2", 100)

        took = self.kill_and_time_takeover(a, b)
        notes = ["takeover %.0f ms" % (took * 1000)]
        master = b
        if took >= TAKEOVER_BOUND_S:
            # Once more, in case this machine (not the node) was slow that time.
            a.restart(wait_ready=False)
            self.wait_standby(a, b)
            took = self.kill_and_time_takeover(b, a)
            notes.append("retry %.0f ms" % (took * 1000))
            master = a
        self.assertLess(took, TAKEOVER_BOUND_S, "takeover too slow (%s)\n%s"
                        % (", ".join(notes), master.describe()))
        self.assertRegex(master.log, r"acquired the lock of \S+ after \d+ ms")
        self.assertRegex(master.log, r"recovered 1 destinations with 100 pending messages in "
                                     r"\d+ ms")
        self.consume_exactly(master, "queue://ms-2", text_messages(100))

    # -- 3. the killed node comes back as standby; a clean stop of the master hands over
    def test_restarted_node_stands_by_and_takes_over_on_sigterm(self):
        a, b = self.make_pair()
        a.start()
        b.start(wait_ready=False)
        self.wait_standby(b, a)
        self.produce(a, "queue://ms-3", 50)
        self.kill_and_time_takeover(a, b)

        a.restart(wait_ready=False)
        self.wait_standby(a, b)
        self.assert_stays_standing_by(a, 0.2)
        self.produce(b, "queue://ms-3b", 50)

        t0 = time.monotonic()
        rc = b.stop()
        self.assertEqual(rc, harness.EXIT_CLEAN, b.describe())
        a.wait_ready(10.0)
        self.assertLess(time.monotonic() - t0, 5.0, a.describe())
        self.assertRegex(a.log, r"recovered 2 destinations with 100 pending messages")
        self.consume_exactly(a, "queue://ms-3", text_messages(50))
        self.consume_exactly(a, "queue://ms-3b", text_messages(50))

    # -- 4. two nodes started at the same instant: exactly one serves
    def test_simultaneous_start_gives_exactly_one_master(self):
        rounds = 12
        done = 0
        attempts = 0
        while done < rounds:
            attempts += 1
            self.assertLess(attempts, rounds + 5, "too many rounds lost to taken ports")
            a, b = self.make_pair(names=("race-a%d" % done, "race-b%d" % done))
            a.start(wait_ready=False)
            b.start(wait_ready=False)
            state = {}
            deadline = time.monotonic() + 20
            while len(state) < 2:
                for n in (a, b):
                    log = n.log
                    if "is ready" in log:
                        state[n.name] = "ready"
                    elif "is standby: waiting" in log and n.name not in state:
                        state[n.name] = "waiting"
                    elif not n.running():
                        state[n.name] = "exited %s" % n.proc.returncode
                if time.monotonic() > deadline:
                    self.fail("round %d: no decision within 20 s: %r\n%s\n%s"
                              % (done, state, a.describe(), b.describe()))
                time.sleep(0.01)
            if any(s.startswith("exited") for s in state.values()) and any(
                    harness._PORT_TAKEN.search(n.log) for n in (a, b)):
                a.kill()
                b.kill()
                continue  # a port picked for this round was taken by another process
            # A second master, if there were one, would show up within a moment.
            self.assert_stays(lambda: sum("is ready" in n.log for n in (a, b)) <= 1, 0.2,
                              "round %d: one master at most" % done,
                              lambda: "%s\n%s" % (a.describe(), b.describe()))
            ready = [n for n in (a, b) if "is ready" in n.log]
            waiting = [n for n in (a, b) if "is standby: waiting" in n.log]
            detail = "round %d: %r\n%s\n%s" % (done, state, a.describe(), b.describe())
            self.assertEqual(len(ready), 1, detail)
            self.assertEqual(len(waiting), 1, detail)
            master, standby = ready[0], waiting[0]
            self.assertIsNot(master, standby, detail)
            self.assertRegex(standby.log, self.waiting_pattern(master), detail)
            self.assert_standing_by(standby)
            self.assertTrue(master.running(), detail)
            self.assertTrue(accepts_connection(master.client_port), detail)
            a.kill()
            b.kill()
            shutil.rmtree(a.data_dir, ignore_errors=True)
            done += 1

    # -- 5. a waiting standby stops at once on SIGTERM
    def test_standby_exits_at_once_on_sigterm(self):
        a, b = self.make_pair()
        a.start()
        b.start(wait_ready=False)
        self.wait_standby(b, a)
        t0 = time.monotonic()
        b.proc.signal(signal.SIGTERM)
        try:
            rc = b.wait_exit(1.0)
        except TimeoutError:
            self.fail("the standby still runs 1 s after SIGTERM\n" + b.describe())
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, harness.EXIT_CLEAN, b.describe())
        self.assertLess(elapsed, 1.0)
        self.assertNotIn("acquired the lock", b.log)
        # The master is untouched.
        self.assertTrue(a.running(), a.describe())
        with open(os.path.join(a.data_dir, "master.lock")) as f:
            self.assertEqual(f.read(), "%s %d\n" % (a.name, a.pid))
        self.produce(a, "queue://ms-5", 2)
        self.consume_exactly(a, "queue://ms-5", text_messages(2))

    # -- 6. a standby with a bad config fails at once instead of waiting
    def test_standby_with_bad_config_exits_2_at_once(self):
        a, _ = self.make_pair()
        a.start()
        bad = self.make_pair_node("ms-bad", a.data_dir, extra="no_such_key: 1")
        t0 = time.monotonic()
        bad.start(wait_ready=False)
        try:
            rc = bad.wait_exit(2.0)
        except TimeoutError:
            self.fail("a standby with an unknown key still runs after 2 s\n" + bad.describe())
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, harness.EXIT_BAD_CONFIG, bad.describe())
        self.assertLess(elapsed, 1.0, bad.describe())
        self.assertIn("no_such_key", bad.log, bad.describe())
        self.assertNotIn("waiting for the lock", bad.log)
        self.assertTrue(a.running(), a.describe())

    # -- 7. the master dies inside a group commit
    def test_kill_inside_group_commit_loses_no_acknowledged_message(self):
        lib = harness.shim_library(self.workdir, "actormq_slow_sync", "ACTORMQ_SLOW_SYNC_LIB")
        slow_env = harness.preload_env(lib, ACTORMQ_SLOW_SYNC_MS=SLOW_SYNC_MS)
        plain_env = os.environ.copy()
        plain_env.pop("ACTORMQ_SLOW_SYNC_MS", None)
        a, b = self.make_pair(env_a=slow_env, env_b=plain_env)
        a.start(timeout=60)
        with open("/proc/%d/maps" % a.pid) as f:
            self.assertIn("libactormq_slow_sync", f.read(), "the shim is not loaded")
        b.start(wait_ready=False)
        self.wait_standby(b, a)

        producer = self.start_cli(*self.producer_args(a, "queue://ms-7", 10000000,
                                                      asyncWindow=ASYNC_WINDOW),
                                  label="producer")
        # A few slow commits first, then kill while a thread sleeps in the shim (before the real
        # fdatasync, so that commit's pages are written but its meta page is not).
        started = time.monotonic()
        deadline = started + 30
        while True:
            self.assertTrue(producer.running(), producer.describe())
            row = self.dstat(a).get("queue://ms-7")
            if row and row["pending"] >= 3 * ASYNC_WINDOW and time.monotonic() - started > 1.5:
                break
            if time.monotonic() > deadline:
                self.fail("the queue did not fill within 30 s: %r\n%s" % (row, producer.describe()))
            time.sleep(0.1)
        in_sleep = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            in_sleep = threads_in_sleep(a.pid)
            if in_sleep is None or in_sleep > 0:
                break
            time.sleep(0.002)
        if in_sleep is None:
            # /proc/PID/task/TID/syscall unreadable here: a 300 ms sleep in every commit keeps
            # the store thread asleep most of the time under this load.
            time.sleep(SLOW_SYNC_MS / 2000.0)
        else:
            self.assertGreater(in_sleep, 0, "no thread of the node sleeps in a sync")
        os.kill(a.pid, signal.SIGKILL)
        a.kill()  # reap

        try:
            rc = producer.wait(15)
        except TimeoutError as e:
            self.fail("producer did not notice the dead node: %s" % e)
        self.assertNotEqual(rc, 0, producer.describe())
        n = harness.produced_count(producer.stderr)
        self.assertIsNotNone(n, "last stderr line is not 'produced N messages'\n"
                             + producer.describe())
        self.assertGreater(n, 0, producer.describe())

        # The standby (no shim) opens the store the killed master left.
        b.wait_ready(15.0)
        self.assertRegex(b.log, r"recovered \d+ destinations with \d+ pending messages")
        pending = self.dstat(b)["queue://ms-7"]["pending"]
        self.assertTrue(n <= pending <= n + ASYNC_WINDOW,
                        "pending %d after takeover vs %d acknowledged" % (pending, n))
        c = self.consume(b, "queue://ms-7", n + ASYNC_WINDOW + 10, receiveTimeout=3000,
                         check=False, timeout=120)
        got = c.lines
        dups = sorted(m for m, k in collections.Counter(got).items() if k > 1)
        self.assertEqual(dups, [], "stored twice (first 10): %r" % dups[:10])
        missing = sorted(set(text_messages(n)) - set(got), key=lambda s: int(s.split(":")[1]))
        self.assertEqual(missing, [], "acknowledged sends lost (%d, first 10): %r"
                         % (len(missing), missing[:10]))
        extra = set(got) - set(text_messages(n))
        self.assertTrue(extra <= set(text_messages(ASYNC_WINDOW, start=n)),
                        "messages beyond the sent range: %r" % sorted(extra)[:10])
        self.assertEqual(len(got), pending, "consumer got a different count than dstat showed")
        self.assertEqual(got[:n], text_messages(n), "messages out of order after the takeover")

    # -- 8. Connected tells clients the URIs of the nodes on this store
    def test_connected_carries_the_shared_store_uris(self):
        a, b = self.make_pair()
        a.start()
        uris = ["tcp://127.0.0.1:%d" % a.client_port, "tcp://127.0.0.1:%d" % b.client_port]
        connect = harness.pb_field_varint(1, 1)  # Connect.protocol_version = 1
        payload = (harness.pb_field_varint(harness.F_CORRELATION, 1)
                   + harness.pb_field_bytes(harness.F_CONNECT, connect))
        c = self.raw_client(a)
        c.send(harness.frame(payload))
        self.assertTrue(c.read_until(lambda d: harness.has_command(d, harness.F_CONNECTED), 5.0),
                        "no Connected frame: %r" % c.received)
        for u in uris:
            self.assertIn(u.encode(), c.received)
        connected = [v for fields in harness.split_frames(c.received)
                     for f, wt, v in fields if f == harness.F_CONNECTED and wt == 2][0]
        failover = [v.decode() for f, wt, v in harness.pb_parse(connected) if f == 7 and wt == 2]
        self.assertEqual(failover, uris)


if __name__ == "__main__":
    unittest.main()
