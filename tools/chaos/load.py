#!/usr/bin/python3
"""Load on one node (issue 15 item 7): many connections, many queues, a consumer that never
acknowledges and producers faster than their consumers, while the node must keep serving and its
memory must stay bounded. docs/chaos.md.

    tools/chaos/load.py [--connections 10000] [--stomp-connections 10000] [--queues 1000]
                        [--seconds 120] [--bin-dir DIR]

Phases, on one node of its own (free ports, a temporary folder, stopped by PID at the end):
1. connections: opens --connections TCP connections, each completing the Connect handshake
   (raw frames), and holds them while a CLI producer and consumer move 100 messages and the
   console answers /health; then closes them.
2. stomp connections: the same with --stomp-connections raw STOMP connections on the node's
   stomp listener, each sending CONNECT (heart-beat 0,0: idle for good) and getting CONNECTED,
   held while a STOMP client beside them sends a message with a receipt and receives it, and the
   console answers /health; then closed. 0 skips the phase.
3. queues: one persistent message to each of --queues queues (raw Send frames on one
   connection, each receipted), then `actormq dstat` must list them all.
4. pressure: for --seconds, actormq-bench producers send persistent and non-persistent messages
   as fast as they can to a queue whose consumer reads slowly (--rate), and a raw consumer on a
   second queue takes deliveries and never acknowledges; RssAnon of the node is sampled every
   second and must stay under --max-rss-mib, and the console must answer throughout.
Prints one table; exit status 0 when every check held, 1 when one failed, 3 when the run could
not go on. Standard library only; the node is started with tests/integration/harness.py.
"""

import argparse
import json
import os
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import harness  # noqa: E402
from harness import frame, pb_field_bytes, pb_field_varint  # noqa: E402

F_CORRELATION, F_CONNECT, F_OPEN_CONSUMER, F_SEND = 1, 10, 12, 15
F_CONNECTED, F_DISPATCH, F_RECEIPT, F_ERROR = 11, 16, 18, 19


def log(msg):
    print("[load %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def send_frame(correlation, destination, body, persistent=True):
    message = (pb_field_bytes(1, destination) + pb_field_bytes(2, body)
               + pb_field_varint(3, 1 if persistent else 0))
    return frame(pb_field_varint(F_CORRELATION, correlation)
                 + pb_field_bytes(F_SEND, pb_field_bytes(1, message)))


def open_consumer_frame(correlation, consumer_id, destination, prefetch, ack_mode):
    body = (pb_field_varint(1, consumer_id) + pb_field_bytes(2, destination)
            + pb_field_varint(3, prefetch) + pb_field_varint(4, ack_mode))
    return frame(pb_field_varint(F_CORRELATION, correlation) + pb_field_bytes(F_OPEN_CONSUMER, body))


class FrameReader:
    """Splits a byte stream into the top-level fields of its frames."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data
        out = []
        while len(self.buf) >= 4:
            n = int.from_bytes(self.buf[:4], "big")
            if len(self.buf) < 4 + n:
                break
            out.append(harness.pb_parse(self.buf[4:4 + n]))
            self.buf = self.buf[4 + n:]
        return out


def kinds(fields):
    return {f for f, _, _ in fields}


def health_ms(node):
    t0 = time.monotonic()
    with urllib.request.urlopen("http://127.0.0.1:%d/health" % node.ports["console"],
                                timeout=10) as r:
        r.read()
        ok = r.status == 200
    return (time.monotonic() - t0) * 1000 if ok else None


def cli(args, *argv, timeout=120):
    return subprocess.run([os.path.join(args.bin_dir, "actormq")] + list(argv),
                          capture_output=True, text=True, timeout=timeout)


class Load:
    def __init__(self, args, workdir):
        self.args = args
        self.stomp_port = harness.free_port()
        self.failures = []
        self.rows = []
        os.environ["ACTORMQ_BIN_DIR"] = args.bin_dir
        self.node = harness.Node(
            name="load", workdir=workdir,
            limits="max_connections: %d max_destinations: %d"
            % (max(args.connections, args.stomp_connections) + 100, args.queues + 100),
            extra_config="heartbeats { connect_timeout_ms: 60000 inactivity_timeout_ms: 0 }\n"
            'stomp { host: "127.0.0.1" port: %d }\n' % self.stomp_port)

    def check(self, ok, text):
        if not ok:
            self.failures.append(text)
            log("FAILED: " + text)

    def rss_mib(self):
        return self.node.rss_anon_kib() / 1024.0

    def connections(self):
        a = self.args
        socks = []
        sel = selectors.DefaultSelector()
        t0 = time.monotonic()
        for i in range(a.connections):
            s = socket.create_connection(("127.0.0.1", self.node.ports["client"]), timeout=10)
            s.sendall(harness.connect_frame("load-%d" % i, 1))
            s.setblocking(False)
            socks.append(s)
            sel.register(s, selectors.EVENT_READ, FrameReader())
        connected = 0
        deadline = time.monotonic() + 120
        while connected < len(socks) and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                for fields in key.data.feed(data):
                    if F_CONNECTED in kinds(fields):
                        connected += 1
                        sel.unregister(key.fileobj)
        took = time.monotonic() - t0
        self.check(connected == a.connections, "%d of %d connections completed their Connect"
                   % (connected, a.connections))
        rss = self.rss_mib()
        ms = health_ms(self.node)
        self.check(ms is not None, "/health did not answer 200 beside %d connections" % connected)
        p = cli(a, "producer", "--brokerUrl", self.node.client_url, "--destination",
                "queue://beside", "--messageCount", "100")
        c = cli(a, "consumer", "--brokerUrl", self.node.client_url, "--destination",
                "queue://beside", "--messageCount", "100", "--receiveTimeout", "10000")
        moved = p.returncode == 0 and c.returncode == 0 and len(c.stdout.splitlines()) == 100
        self.check(moved, "100 messages did not move beside the connections: %s %s"
                   % (p.stderr[-300:], c.stderr[-300:]))
        for s in socks:
            s.close()
        self.rows.append(("connections held", "%d, handshakes in %.1f s, RssAnon %.1f MiB, "
                          "/health %.1f ms, 100 messages moved beside them: %s"
                          % (connected, took, rss, ms or -1, "yes" if moved else "no")))

    def stomp_connections(self):
        a = self.args
        if a.stomp_connections == 0:
            return
        port = self.stomp_port
        connect = b"CONNECT\naccept-version:1.2\nhost:load\nheart-beat:0,0\n\n\0"
        socks = []
        sel = selectors.DefaultSelector()
        t0 = time.monotonic()
        for i in range(a.stomp_connections):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(connect)
            s.setblocking(False)
            socks.append(s)
            sel.register(s, selectors.EVENT_READ, [b""])
        connected = 0
        deadline = time.monotonic() + 120
        while connected < len(socks) and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                key.data[0] += data
                if key.data[0].startswith(b"CONNECTED\n") and b"\0" in key.data[0]:
                    connected += 1
                    sel.unregister(key.fileobj)
        took = time.monotonic() - t0
        self.check(connected == a.stomp_connections, "%d of %d STOMP connections got CONNECTED"
                   % (connected, a.stomp_connections))
        rss = self.rss_mib()
        ms = health_ms(self.node)
        self.check(ms is not None, "/health did not answer 200 beside %d STOMP connections"
                   % connected)
        # A STOMP client beside them: SEND with a receipt, then SUBSCRIBE and the MESSAGE.
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(connect + b"SEND\ndestination:/queue/stomp.beside\npersistent:true\n"
                  b"receipt:sent\n\nbeside\0SUBSCRIBE\nid:1\ndestination:/queue/stomp.beside\n"
                  b"ack:auto\n\n\0")
        got = b""
        deadline = time.monotonic() + 30
        # CONNECTED, RECEIPT and MESSAGE: three NULs.
        while got.count(b"\0") < 3 and time.monotonic() < deadline:
            try:
                data = s.recv(65536)
            except socket.timeout:
                break
            if not data:
                break
            got += data
        s.close()
        moved = b"receipt-id:sent" in got and b"MESSAGE\n" in got and b"\nbeside\0" in got
        self.check(moved, "a STOMP message did not move beside the connections: %r" % got[-300:])
        for s in socks:
            s.close()
        self.rows.append(("stomp connections held", "%d, CONNECTED in %.1f s, RssAnon %.1f MiB, "
                          "/health %.1f ms, a message moved beside them: %s"
                          % (connected, took, rss, ms or -1, "yes" if moved else "no")))

    def queues(self):
        a = self.args
        s = socket.create_connection(("127.0.0.1", self.node.ports["client"]), timeout=30)
        reader = FrameReader()
        s.sendall(harness.connect_frame("load-queues", 1))
        t0 = time.monotonic()
        window = 64
        sent = receipted = errors = 0
        waiting = {1}
        while (sent < a.queues or waiting) and time.monotonic() - t0 < 300:
            while sent < a.queues and len(waiting) < window:
                sent += 1
                s.sendall(send_frame(sent + 1, "queue://load-%d" % sent, b"x" * 100))
                waiting.add(sent + 1)
            data = s.recv(65536)
            if not data:
                break
            for fields in reader.feed(data):
                corr = next((v for f, _, v in fields if f == F_CORRELATION), 0)
                waiting.discard(corr)
                if F_RECEIPT in kinds(fields):
                    receipted += 1
                elif F_ERROR in kinds(fields):
                    errors += 1
        s.close()
        took = time.monotonic() - t0
        self.check(receipted == a.queues and errors == 0, "%d of %d sends to new queues "
                   "receipted, %d errors" % (receipted, a.queues, errors))
        d = cli(a, "dstat", "--brokerUrl", self.node.client_url, timeout=60)
        listed = sum(1 for line in d.stdout.splitlines() if "queue://load-" in line)
        self.check(listed == a.queues, "dstat lists %d of %d queues" % (listed, a.queues))
        ms = health_ms(self.node)
        self.rows.append(("queues", "%d created with one message each in %.1f s; dstat lists %d; "
                          "RssAnon %.1f MiB; /health %.1f ms"
                          % (receipted, took, listed, self.rss_mib(), ms or -1)))

    def pressure(self):
        a = self.args
        bench = os.path.join(a.bin_dir, "actormq-bench")
        # A consumer that takes deliveries (client acknowledgement) and never acknowledges.
        hoarder = socket.create_connection(("127.0.0.1", self.node.ports["client"]), timeout=30)
        hoarder.sendall(harness.connect_frame("load-hoarder", 1))
        hoarder.sendall(open_consumer_frame(2, 1, "queue://hoarded", 1000, 1))
        hoarder.setblocking(False)
        procs = []
        common = ["--brokerUrl", self.node.client_url, "--size", "1024", "--json", "--quiet",
                  "--timeout", str(a.seconds + 120)]
        total = 10 ** 9  # the run is bounded by time: they are stopped at the end
        procs.append(subprocess.Popen([bench, "--destination", "queue://fast", "--producers",
                                       "2", "--consumers", "1", "--rate", "0", "--messages",
                                       str(total), "--persistent", "true", "--asyncWindow", "64"]
                                      + common, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, preexec_fn=harness._die_with_parent))
        procs.append(subprocess.Popen([bench, "--destination", "queue://hoarded", "--producers",
                                       "1", "--consumers", "0", "--messages", str(total),
                                       "--persistent", "false"] + common,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      preexec_fn=harness._die_with_parent))
        samples = []
        slow = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < a.seconds:
            time.sleep(1)
            try:
                while hoarder.recv(1 << 20):
                    pass
            except BlockingIOError:
                pass
            if not self.node.running():
                self.check(False, "the node stopped under pressure")
                break
            samples.append(self.rss_mib())
            ms = health_ms(self.node)
            if ms is None or ms > 1000:
                slow.append(ms)
        for p in procs:
            p.kill()
            p.wait()
        hoarder.close()
        top = max(samples) if samples else 0
        self.check(top <= a.max_rss_mib, "RssAnon reached %.1f MiB (bound %d)"
                   % (top, a.max_rss_mib))
        self.check(not slow, "/health failed or took over 1 s %d times" % len(slow))
        st = cli(a, "dstat", "--brokerUrl", self.node.client_url, timeout=60).stdout
        self.rows.append(("pressure", "%d s: RssAnon first / max / last %.1f / %.1f / %.1f MiB; "
                          "/health slow or failed %d times; dstat fast/hoarded: %s"
                          % (a.seconds, samples[0] if samples else 0, top,
                             samples[-1] if samples else 0, len(slow),
                             "; ".join(l.strip() for l in st.splitlines()
                                       if "fast" in l or "hoarded" in l))))

    def run(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = max(self.args.connections, self.args.stomp_connections) * 2 + 1024
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))  # the node inherits it
        self.node.start()
        self.rows.append(("idle node", "RssAnon %.1f MiB" % self.rss_mib()))
        for phase in (self.connections, self.stomp_connections, self.queues, self.pressure):
            log(phase.__name__)
            phase()
        self.check(self.node.stop() == harness.EXIT_CLEAN, "the node did not stop cleanly")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--stomp-connections", type=int, default=10000,
                    help="idle STOMP connections held (0: none)")
    ap.add_argument("--queues", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=120, help="length of the pressure phase")
    ap.add_argument("--max-rss-mib", type=int, default=512,
                    help="bound on the node's RssAnon during the pressure phase")
    ap.add_argument("--bin-dir", default=harness.bin_dir())
    ap.add_argument("--json", help="write the rows and failures to this file")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="actormq-load-")
    load = Load(args, workdir)
    rc = 0
    try:
        load.run()
    except (harness.NodeExited, OSError, subprocess.SubprocessError) as e:
        log("the run could not go on: %s" % e)
        rc = 3
    finally:
        if load.node.running():
            load.node.kill()
    print()
    print("| phase | result |")
    print("| --- | --- |")
    for name, text in load.rows:
        print("| %s | %s |" % (name, text))
    for f in load.failures:
        print("FAILED: " + f)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": load.rows, "failures": load.failures}, f)
    if rc == 0 and load.failures:
        rc = 1
    if rc == 0 and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        log("folder kept: %s" % workdir)
    return rc


if __name__ == "__main__":
    sys.exit(main())
