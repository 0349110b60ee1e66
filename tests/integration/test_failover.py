"""Failover transport (issue 4): clients with `failover:(...)` URLs ride through the SIGKILL of a
shared-store master. Every test runs a B/C pair (two `standby: true` nodes on one temp data
folder, free ports, each config listing both client URIs as shared_store_uris) and checks the
full set of texts a consumer gets at the end: none missing, none twice.

1. A producer sends 10,000 persistent messages while the master is killed: before the first
   send, mid-stream, while a consumer waits in receive(), and between a commit and its receipt
   (the master preloads failover_slow_sync.c, which makes every fsync and every socket write
   sleep: receipts of committed messages leave late, so the kill lands between them). The producer completes; at least one run shows the node's
   duplicates-dropped counter above zero (the producer audit at work).
2. A CLIENT_ACKNOWLEDGE consumer keeps receiving across the kill: nothing whose acknowledge()
   returned comes again; what comes again is marked redelivered.
3. maxReconnectAttempts=3 with nothing listening: fails after 3 attempts naming the URIs.
4. A client given B's URI alone learns C's from Connected.failover_uris and fails over to it;
   with updateURIsSupported=false it does not.
"""

import collections
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness

COUNT = 10000
SLOW_SYNC_MS = 20
SLOW_SEND_MS = 40
TEXTS = harness.text_messages(COUNT)


def failover_shim(workdir):
    """A preload library that slows the node's syncs and socket writes: failover_slow_sync.c
    compiled into `workdir` (it also wraps send/write: ACTORMQ_SLOW_SEND_MS). Without a C
    compiler, the build's libactormq_slow_sync.so (syncs only) or $ACTORMQ_SLOW_SYNC_LIB.
    Returns (path, slows_sends) or (None, False)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    source = os.path.join(harness.HERE, "failover_slow_sync.c")
    if cc and os.path.exists(source):
        out = os.path.join(workdir, "libfailover_slow_sync.so")
        r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", out, source, "-ldl"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode == 0:
            return out, True
    env = os.environ.get("ACTORMQ_SLOW_SYNC_LIB")
    if env and os.path.exists(env):
        return env, False
    built = os.path.normpath(os.path.join(harness.bin_dir(), "..", "tests", "integration",
                                          "libactormq_slow_sync.so"))
    if os.path.exists(built):
        return built, False
    return None, False


def sanitizer_runtime():
    try:
        out = subprocess.run(["ldd", harness.node_binary()], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(libasan\.so[.\d]*)\s+=>\s+(\S+)", out)
    return m.group(2) if m else None


class FailoverTest(harness.NodeTestCase):
    CLI_TIMEOUT = 120.0

    # -- helpers
    def make_pair(self, env_b=None, env_c=None):
        """B and C, standby-enabled on one fresh data folder, both client URIs as
        shared_store_uris; B started as master, C waiting."""
        data_dir = tempfile.mkdtemp(prefix="data-", dir=self.workdir)
        ports = [{k: harness.free_port() for k in ("client", "cluster", "console")}
                 for _ in range(2)]
        uris = ["tcp://127.0.0.1:%d" % p["client"] for p in ports]
        config = "standby: true\n" + "".join('shared_store_uris: "%s"\n' % u for u in uris)
        b = self.make_node("fo-b", data_dir=data_dir, ports=ports[0], extra_config=config,
                           env=env_b)
        c = self.make_node("fo-c", data_dir=data_dir, ports=ports[1], extra_config=config,
                           env=env_c)
        b.start(timeout=60)
        c.start(wait_ready=False)
        c.wait_for_log(r"is standby: waiting for the lock", 15)
        return b, c

    def failover_url(self, *nodes, options="randomize=false"):
        url = "failover:(%s)" % ",".join(n.client_url for n in nodes)
        return url + ("?" + options if options else "")

    def kill(self, node):
        os.kill(node.pid, signal.SIGKILL)
        node.proc.kill()  # reap

    def wait_sent(self, producer, n, timeout=60):
        """Waits until the producer's stderr shows `Sent k of` with k >= n."""
        deadline = time.monotonic() + timeout
        while True:
            sent = [int(x) for x in re.findall(r"Sent (\d+) of", producer.stderr)]
            if sent and max(sent) >= n:
                return
            self.assertTrue(producer.running(), producer.describe())
            if time.monotonic() > deadline:
                self.fail("producer did not reach %d sends in %.0f s\n%s"
                          % (n, timeout, producer.describe()))
            time.sleep(0.02)

    def duplicates_dropped(self, node, destination):
        p = self.run_cli("dstat", "--verbose", "--brokerUrl", node.client_url, timeout=30,
                         label="dstat")
        self.assertEqual(p.returncode, 0, p.describe())
        for line in p.stdout.splitlines():
            fields = line.split()
            if fields and fields[0] == destination:
                return int(fields[-1])
        self.fail("no row for %s in\n%s" % (destination, p.stdout))

    def consume_all(self, node, destination, expected):
        """Consumes until the destination stays empty for 2 s; asserts exactly `expected`
        (order aside), none twice."""
        c = self.consume(node, destination, len(expected) + 1, receiveTimeout=2000, check=False,
                         timeout=120, prefetch=1000)
        got = c.lines
        dups = sorted(m for m, k in collections.Counter(got).items() if k > 1)
        self.assertEqual(dups, [], "stored twice (%d, first 10): %r" % (len(dups), dups[:10]))
        missing = sorted(set(expected) - set(got), key=lambda s: int(s.split(":")[1]))
        self.assertEqual(missing, [], "lost (%d, first 10): %r" % (len(missing), missing[:10]))
        extra = set(got) - set(expected)
        self.assertEqual(extra, set(), "unexpected messages: %r" % sorted(extra)[:10])
        return got

    def check_producer(self, producer, count=COUNT):
        rc = producer.wait(self.CLI_TIMEOUT)
        self.assertEqual(rc, 0, producer.describe())
        self.assertEqual(harness.produced_count(producer.stderr), count, producer.describe())
        return re.search(r"recognised (\d+) as resends", producer.stderr)

    # -- 1. a producer across the kill
    def test_kill_before_the_first_send(self):
        b, c = self.make_pair()
        self.kill(b)
        # B is dead and C not necessarily up yet: the producer's first connection retries.
        p = self.start_cli(*self.producer_args(self.failover_url(b, c), "queue://fo-1", COUNT,
                                               asyncWindow=100), label="producer")
        self.check_producer(p)
        c.wait_ready(10)
        self.consume_all(c, "queue://fo-1", TEXTS)

    def test_kill_mid_stream(self):
        b, c = self.make_pair()
        p = self.start_cli(*self.producer_args(self.failover_url(b, c, options=""),
                                               "queue://fo-2", COUNT, reportPause=True),
                           label="producer")
        self.wait_sent(p, 1000)
        self.kill(b)
        self.check_producer(p)
        self.assertIn("reconnected to " + c.client_url, p.stderr, p.describe())
        self.assertRegex(p.stderr, r"Longest send: [\d.]+ ms")
        self.consume_all(c, "queue://fo-2", TEXTS)

    def test_kill_mid_stream_with_an_async_window(self):
        b, c = self.make_pair()
        p = self.start_cli(*self.producer_args(self.failover_url(b, c), "queue://fo-3", COUNT,
                                               asyncWindow=64), label="producer")
        self.wait_sent(p, 3000)
        self.kill(b)
        self.check_producer(p)
        self.consume_all(c, "queue://fo-3", TEXTS)

    def test_kill_between_a_commit_and_its_receipt(self):
        lib, slows_sends = failover_shim(self.workdir)
        if lib is None:
            self.skipTest("no preload shim and no C compiler")
        preload = [lib]
        asan = sanitizer_runtime()
        if asan:
            preload.insert(0, asan)
        slow = os.environ.copy()
        slow["LD_PRELOAD"] = " ".join(preload)
        slow["ACTORMQ_SLOW_SYNC_MS"] = str(SLOW_SYNC_MS)
        slow["ACTORMQ_SLOW_SEND_MS"] = str(SLOW_SEND_MS)
        plain = os.environ.copy()
        plain.pop("ACTORMQ_SLOW_SYNC_MS", None)
        plain.pop("ACTORMQ_SLOW_SEND_MS", None)
        b, c = self.make_pair(env_b=slow, env_c=plain)
        with open("/proc/%d/maps" % b.pid) as f:
            self.assertIn(os.path.basename(lib), f.read(), "the shim is not loaded")
        p = self.start_cli(*self.producer_args(self.failover_url(b, c), "queue://fo-4", COUNT,
                                               asyncWindow=200), label="producer")
        self.wait_sent(p, 1000)
        # Commits are slow and the receipts of committed messages leave the node late (every
        # socket write sleeps first): the kill most likely lands after a commit and before its
        # receipts, leaving stored messages the producer resends.
        time.sleep(0.15)
        self.kill(b)
        resends = self.check_producer(p)
        c.wait_ready(10)
        self.consume_all(c, "queue://fo-4", TEXTS)
        dropped = self.duplicates_dropped(c, "queue://fo-4")
        self.assertEqual(dropped, int(resends.group(1)) if resends else 0, p.describe())
        self.assertGreater(dropped, 0, "no resend was recognised as a duplicate\n"
                           + p.describe())

    # -- 2. a consumer across the kill (and a producer at the same time)
    def test_client_ack_consumer_keeps_receiving_during_the_kill(self):
        b, c = self.make_pair()
        total = 3000
        url = self.failover_url(b, c)
        producer = self.start_cli(*self.producer_args(url, "queue://fo-5", total, asyncWindow=50,
                                                      sleep=1), label="producer")
        consumer = self.start_cli(*self.consumer_args(url, "queue://fo-5", 100000,
                                                      ackMode="CLIENT_ACKNOWLEDGE", batchSize=10,
                                                      prefetch=100, receiveTimeout=4000,
                                                      printRedelivered=True, verbose=True),
                                  label="consumer")
        deadline = time.monotonic() + 60
        while len(consumer.lines) < 500:
            self.assertTrue(consumer.running(), consumer.describe())
            self.assertLess(time.monotonic(), deadline, consumer.describe())
            time.sleep(0.02)
        self.kill(b)
        self.check_producer(producer, total)
        rc = consumer.wait(self.CLI_TIMEOUT)
        # It ends when nothing came for 4 s (exit 1, "no message within").
        self.assertIn("no message within 4000 ms", consumer.stderr, consumer.describe())
        self.assertEqual(rc, 1, consumer.describe())
        self.assertIn("reconnected to " + c.client_url, consumer.stderr, consumer.describe())

        lines = consumer.lines
        bodies = [l[len("redelivered "):] if l.startswith("redelivered ") else l for l in lines]
        counts = collections.Counter(bodies)
        missing = sorted(set(harness.text_messages(total)) - set(bodies),
                         key=lambda s: int(s.split(":")[1]))
        self.assertEqual(missing, [], "never received (%d): %r" % (len(missing), missing[:10]))
        # Whatever came a second time came marked redelivered.
        seen = set()
        for line, body in zip(lines, bodies):
            if body in seen:
                self.assertTrue(line.startswith("redelivered "),
                                "%s came again unmarked\n%s" % (body, consumer.describe()))
            seen.add(body)
        # Nothing whose acknowledge() returned came again (--verbose names the stdout lines each
        # acknowledge() covered).
        acked = set()
        for line in consumer.stderr.splitlines():
            if line.startswith("Acknowledged lines:"):
                acked.update(int(n) for n in line.split()[2:])
        self.assertTrue(acked)
        last = {body: i for i, body in enumerate(bodies)}
        again = sorted(bodies[i] for i in acked if last[bodies[i]] != i)
        self.assertEqual(again, [], "acknowledged, yet delivered again: %r" % again[:10])
        # The queue is empty: everything was acknowledged in the end.
        self.wait_dstat(c, "queue://fo-5", pending=0)

    # -- 3. nothing listening
    def test_gives_up_after_max_reconnect_attempts_naming_the_uris(self):
        ports = [harness.free_port(), harness.free_port()]
        uris = ["tcp://127.0.0.1:%d" % p for p in ports]
        url = "failover:(%s)?maxReconnectAttempts=3" % ",".join(uris)
        t0 = time.monotonic()
        p = self.run_cli(*self.producer_args(url, "queue://fo-6", 10), timeout=30)
        took = time.monotonic() - t0
        self.assertEqual(p.returncode, 1, p.describe())
        self.assertRegex(p.stderr, r"gave up after 3 attempts \(maxReconnectAttempts=3\)")
        for u in uris:
            self.assertIn(u, p.stderr, p.describe())
        self.assertLess(took, 10, p.describe())

    # -- 4. URIs learned from the broker
    def test_learns_the_standby_uri_from_the_broker(self):
        b, c = self.make_pair()
        p = self.start_cli(*self.producer_args(self.failover_url(b, options=""), "queue://fo-7",
                                               2000), label="producer")
        self.wait_sent(p, 200)
        self.kill(b)
        self.check_producer(p, 2000)
        self.assertIn("reconnected to " + c.client_url, p.stderr, p.describe())
        self.consume_all(c, "queue://fo-7", harness.text_messages(2000))

    def test_update_uris_supported_false_ignores_them(self):
        b, c = self.make_pair()
        url = self.failover_url(b, options="updateURIsSupported=false&maxReconnectAttempts=5")
        p = self.start_cli(*self.producer_args(url, "queue://fo-8", 5000), label="producer")
        self.wait_sent(p, 200)
        self.kill(b)
        rc = p.wait(30)
        self.assertEqual(rc, 1, p.describe())
        self.assertRegex(p.stderr, r"gave up after 5 attempts")
        self.assertNotIn(c.client_url, p.stderr, p.describe())


if __name__ == "__main__":
    unittest.main()
