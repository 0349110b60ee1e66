"""Integration test harness: real ActorMQ node processes on loopback, driven by the real CLI.

Standard library only. Every wait has a deadline; every process a test starts is tracked by PID
and killed (SIGKILL) in tearDown if it still runs; temporary folders are removed unless the test
failed or ACTORMQ_IT_KEEP=1 is set (their paths are then printed with the tail of each node log).

Binaries are looked up in $ACTORMQ_BIN_DIR (CTest sets it to <build>/tools), else in
<repo>/build/tools. A missing binary fails each test with a message saying what to build.

Typical use:

    class MyTest(harness.NodeTestCase):
        def test_roundtrip(self):
            node = self.start_node()
            self.produce(node, "queue://q", 10)
            out = self.consume(node, "queue://q", 10)
            self.assertEqual(out.lines, [f"textMessage:{i}" for i in range(10)])

Master/slave, failover and bridges: `Node(..., data_dir=other.data_dir)` shares a store,
`start(wait_ready=False)` + `wait_for_log()` watches a node that waits for the lock,
`extra_config` appends config text (network_connectors, shared_store_uris, ...),
`ports=` fixes ports, `restart()` starts the same config again after a kill.
"""

import ctypes
import itertools
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# Ports of the reference cluster and the standalone node: never handed out, so tests can run
# beside a running cluster.
RESERVED_PORTS = {61616, 61617, 61618, 62616, 62617, 62618, 8161, 8162, 8163, 61613, 61623, 61633,
                  61614, 61624, 61634}

READY_TIMEOUT = float(os.environ.get("ACTORMQ_IT_READY_TIMEOUT", "20"))
STOP_TIMEOUT = 10.0

EXIT_CLEAN = 0
EXIT_BAD_CONFIG = 2
EXIT_STORE_ERROR = 3
EXIT_LOCKED = 4
EXIT_FATAL = 5


# --------------------------------------------------------------------------------------------
# Binaries


def bin_dir():
    d = os.environ.get("ACTORMQ_BIN_DIR")
    if d:
        return d
    return os.path.join(REPO, "build", "tools")


def node_binary():
    return os.path.join(bin_dir(), "actormq-node")


def cli_binary():
    return os.path.join(bin_dir(), "actormq")


def shim_library(workdir, name, variable):
    """Path of the preload shim lib<name>.so (from <name minus 'actormq_'>.c here, built by
    shim.cmake): $`variable` (CTest sets it), the build's copy, or one compiled into `workdir`.
    Raises AssertionError saying what is missing."""
    env = os.environ.get(variable)
    if env:
        if not os.path.exists(env):
            raise AssertionError("%s=%s does not exist (build the target %s)"
                                 % (variable, env, name))
        return env
    built = os.path.normpath(os.path.join(bin_dir(), "..", "tests", "integration",
                                          "lib%s.so" % name))
    if os.path.exists(built):
        return built
    source = os.path.join(HERE, name[len("actormq_"):] + ".c")
    out = os.path.join(workdir, "lib%s.so" % name)
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise AssertionError("no lib%s.so and no C compiler: set %s or build the target %s "
                             "(tests/integration/shim.cmake)" % (name, variable, name))
    r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", out, source, "-ldl", "-lpthread"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("cannot compile %s:\n%s" % (source, r.stderr))
    return out


def preload_env(library, **settings):
    """The environment of a node with `library` preloaded (after the sanitizer runtime, which an
    ASan build needs first) and `settings` added."""
    preload = [library]
    try:
        ldd = subprocess.run(["ldd", node_binary()], capture_output=True, text=True,
                             timeout=10).stdout
        m = re.search(r"(libasan\.so[.\d]*)\s+=>\s+(\S+)", ldd)
        if m:
            preload.insert(0, m.group(2))
    except (OSError, subprocess.SubprocessError):
        pass
    env = os.environ.copy()
    env["LD_PRELOAD"] = " ".join(preload)
    env.update({k: str(v) for k, v in settings.items()})
    return env


def missing_binaries():
    """A message naming the binaries that are missing, or None."""
    missing = [p for p in (node_binary(), cli_binary()) if not os.access(p, os.X_OK)]
    if not missing:
        return None
    return ("ActorMQ binaries not found: %s. Build the tools/ targets actormq-node and actormq "
            "(cmake --build <build>) and set ACTORMQ_BIN_DIR to <build>/tools (CTest sets it)."
            % ", ".join(missing))


# --------------------------------------------------------------------------------------------
# Ports

_handed_out = set()


# Ports are picked below Linux's ephemeral range (32768-60999 by default), so that the local port
# of some test's outgoing connection never takes a port handed to a node before the node binds
# it; at random, so that tests running in parallel rarely pick the same one.
_PORT_RANGE = (20000, 32767)
_port_random = random.Random()


def free_port():
    """A loopback port that was free a moment ago, never a reserved one and never one this
    process handed out before."""
    for _ in range(1000):
        port = _port_random.randint(*_PORT_RANGE)
        if port in RESERVED_PORTS or port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port found")


# --------------------------------------------------------------------------------------------
# Processes

_PR_SET_PDEATHSIG = 1
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover
    _libc = None


def _die_with_parent():
    """preexec_fn: the child gets SIGKILL if the test process dies (a CTest timeout, a crash),
    so no node outlives its test."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def _tail(text, lines=30):
    return "\n".join(text.splitlines()[-lines:])


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Proc:
    """A child process with stdout and stderr in files (no pipe can fill up and block it)."""

    def __init__(self, argv, workdir, label, env=None, stdout_pipe=False):
        self.argv = list(argv)
        self.label = label
        self.stdout_path = os.path.join(workdir, label + ".stdout")
        self.stderr_path = os.path.join(workdir, label + ".stderr")
        self._out = None if stdout_pipe else open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.popen = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout_pipe else self._out, stderr=self._err,
            env=env if env is not None else os.environ.copy(), preexec_fn=_die_with_parent,
            close_fds=True)
        self.pid = self.popen.pid
        self.started = time.monotonic()

    @property
    def returncode(self):
        return self.popen.poll()

    def running(self):
        return self.popen.poll() is None

    def wait(self, timeout):
        """Exit code; raises TimeoutError (the process keeps running) after `timeout` s."""
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError("%s (pid %d) still running after %.1f s: %s\nstderr tail:\n%s"
                               % (self.label, self.pid, timeout, " ".join(self.argv),
                                  _tail(self.stderr))) from None
        self._close_files()
        return rc

    def kill(self):
        """SIGKILL by PID, then reap."""
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.popen.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:  # pragma: no cover (a D-state process)
            pass
        self._close_files()

    def signal(self, sig):
        if self.popen.poll() is None:
            os.kill(self.pid, sig)

    def _close_files(self):
        for f in (self._out, self._err):
            if f is not None and not f.closed:
                f.close()
        if self.popen.stdout is not None and self.popen.poll() is not None:
            self.popen.stdout.close()

    @property
    def stdout(self):
        return _read(self.stdout_path)

    @property
    def stderr(self):
        return _read(self.stderr_path)

    @property
    def lines(self):
        """stdout as a list of lines (line terminators removed)."""
        return self.stdout.splitlines()

    def describe(self):
        return ("%s (pid %d, exit %s): %s\nstdout tail:\n%s\nstderr tail:\n%s"
                % (self.label, self.pid, self.returncode, " ".join(self.argv),
                   _tail(self.stdout, 10), _tail(self.stderr)))


# --------------------------------------------------------------------------------------------
# Nodes


class NodeExited(AssertionError):
    pass


_SANITIZER = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)|"
                        r"WARNING: ThreadSanitizer|runtime error: ")

_PORT_TAKEN = re.compile(r"cannot open the \w+ port|address already in use|cannot_open_port",
                         re.IGNORECASE)


class Node:
    """One actormq-node process with its own config file in its own temp folder.

    name, data_dir (default <workdir>/data), ports (dict with client/cluster/console; free ones
    by default), limits (text inside `limits { }`), extra_config (appended verbatim),
    config_text (replaces the whole generated config), overrides (list of "key.path=value"
    passed as --set), host (the address its client and cluster listeners bind and their URLs
    name; the console stays on loopback), netns (a network namespace to run it in, through
    `ip netns exec`).
    """

    def __init__(self, name="t1", data_dir=None, ports=None, limits=None, extra_config="",
                 config_text=None, overrides=(), workdir=None, env=None, host="127.0.0.1",
                 netns=None):
        self.name = name
        self.host = host
        self.netns = netns
        self.workdir = workdir or tempfile.mkdtemp(prefix="actormq-it-%s-" % name)
        self.data_dir = data_dir or os.path.join(self.workdir, "data")
        # Ports picked here may be taken by another process before the node binds them; a first
        # start that fails on a port then retries with new ones.
        self._auto_ports = not ports and config_text is None
        self.ports = dict(ports or {})
        if config_text is not None:
            for k in ("client", "cluster", "console"):
                m = re.search(r"\b%s\s*:?\s*\{[^}]*?\bport:\s*(\d+)" % k, config_text)
                if m and k not in self.ports:
                    self.ports[k] = int(m.group(1))
        for k in ("client", "cluster", "console"):
            self.ports.setdefault(k, free_port())
        self.limits = limits
        self.extra_config = extra_config
        self.overrides = list(overrides)
        self.env = env
        self.config_path = os.path.join(self.workdir, name + ".conf")
        self.config_text = config_text if config_text is not None else self._generate()
        with open(self.config_path, "w") as f:
            f.write(self.config_text)
        self.proc = None
        self.procs = []  # every process of this node (restarts), for cleanup
        self.starts = 0

    def _generate(self):
        lines = [
            '# generated by tests/integration/harness.py',
            'name: "%s"' % self.name,
            'data_dir: "%s"' % self.data_dir,
            'client { host: "%s" port: %d }' % (self.host, self.ports["client"]),
            'cluster { host: "%s" port: %d }' % (self.host, self.ports["cluster"]),
            'console { host: "127.0.0.1" port: %d }' % self.ports["console"],
        ]
        if self.limits:
            lines.append("limits { %s }" % self.limits)
        if self.extra_config:
            lines.append(self.extra_config)
        return "\n".join(lines) + "\n"

    # -- addresses
    @property
    def client_port(self):
        return self.ports["client"]

    @property
    def client_url(self):
        return "tcp://%s:%d" % (self.host, self.ports["client"])

    @property
    def cluster_url(self):
        return "tcp://%s:%d" % (self.host, self.ports["cluster"])

    @property
    def console_url(self):
        return "http://127.0.0.1:%d" % self.ports["console"]

    # -- lifecycle
    def start(self, wait_ready=True, timeout=READY_TIMEOUT, args=()):
        if self.proc is not None and self.proc.running():
            raise RuntimeError("node %s is already running (pid %d)" % (self.name, self.proc.pid))
        retries = 3 if (wait_ready and self._auto_ports and self.starts == 0) else 0
        while True:
            self._spawn(args)
            if not wait_ready:
                return self
            try:
                self.wait_ready(timeout)
                return self
            except NodeExited:
                if retries == 0 or not _PORT_TAKEN.search(self.log):
                    raise
            retries -= 1
            self.ports = {k: free_port() for k in ("client", "cluster", "console")}
            self.config_text = self._generate()
            with open(self.config_path, "w") as f:
                f.write(self.config_text)

    def _spawn(self, args):
        self.starts += 1
        argv = [node_binary(), "--config", self.config_path]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv  # it execs the node: same pid
        for o in self.overrides:
            argv += ["--set", o]
        argv += list(args)
        env = self.env if self.env is not None else os.environ.copy()
        self.proc = Proc(argv, self.workdir, "%s.%d" % (self.name, self.starts), env=env)
        self.procs.append(self.proc)

    def restart(self, wait_ready=True, timeout=READY_TIMEOUT):
        """Starts the same config again (same ports, same data folder) after a stop or kill."""
        return self.start(wait_ready=wait_ready, timeout=timeout)

    @property
    def pid(self):
        return self.proc.pid

    @property
    def log_path(self):
        return self.proc.stderr_path

    @property
    def log(self):
        """This run's log (stderr)."""
        return self.proc.stderr if self.proc else ""

    @property
    def all_logs(self):
        return "".join(p.stderr for p in self.procs)

    def running(self):
        return self.proc is not None and self.proc.running()

    def wait_for_log(self, pattern, timeout, stop_if_exited=True):
        """Waits until this run's log matches the regex `pattern`; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log)
            if m:
                return m
            if stop_if_exited and not self.proc.running():
                m = rx.search(self.log)
                if m:
                    return m
                raise NodeExited("node %s exited with code %s before its log showed %r\n%s"
                                 % (self.name, self.proc.returncode, pattern, _tail(self.log)))
            if time.monotonic() > deadline:
                raise AssertionError("node %s: no %r in its log within %.1f s\n%s"
                                     % (self.name, pattern, timeout, _tail(self.log)))
            time.sleep(0.02)

    def wait_ready(self, timeout=READY_TIMEOUT):
        return self.wait_for_log(r"is ready", timeout)

    def kill(self):
        """SIGKILL by PID (the node gets no chance to clean up), then reap."""
        if self.proc is not None:
            self.proc.kill()

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then wait; returns the exit code (raises TimeoutError if it does not exit)."""
        self.proc.signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def wait_exit(self, timeout):
        """Exit code of this run; raises TimeoutError if it is still running after `timeout` s."""
        return self.proc.wait(timeout)

    def rss_anon_kib(self):
        """RssAnon of the running node in KiB (from /proc/PID/status)."""
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
        raise AssertionError("no RssAnon in /proc/%d/status" % self.pid)

    def client_counts(self):
        """(client connections accepted in all, client sessions open now), from the acceptor's
        counters through actormq-debug (the cluster port: no console thread is started, so the
        node's memory is not touched by asking)."""
        r = subprocess.run([os.path.join(bin_dir(), "actormq-debug"), "--node",
                            "127.0.0.1:%d" % self.ports["cluster"], "show", "acceptor"],
                           capture_output=True, text=True, timeout=30)
        found = {}
        for name in ("accepted", "sessions"):
            m = re.search(r"^\s*%s: (\d+)$" % name, r.stdout, re.M)
            if m is None:
                raise AssertionError("no %s in actormq-debug's acceptor of node %s:\n%s%s"
                                     % (name, self.name, r.stdout, r.stderr))
            found[name] = int(m.group(1))
        return found["accepted"], found["sessions"]

    def sanitized(self):
        """True when the running node is built with AddressSanitizer (its shadow memory makes
        RSS figures meaningless)."""
        try:
            with open("/proc/%d/maps" % self.pid) as f:
                return "libasan" in f.read()
        except OSError:
            return False

    def cleanup(self):
        for p in self.procs:
            p.kill()

    def describe(self):
        return "node %s (config %s, pid %s, exit %s), log tail:\n%s" % (
            self.name, self.config_path, self.proc.pid if self.proc else "-",
            self.proc.returncode if self.proc else "-", _tail(self.log, 40))


# --------------------------------------------------------------------------------------------
# CLI output parsing

_PRODUCED = re.compile(r"\bproduced (\d+) messages?\b", re.IGNORECASE)


def produced_count(stderr):
    """N from the LAST stderr line `produced N messages` (None if the last line is not it)."""
    lines = [l for l in stderr.splitlines() if l.strip()]
    if not lines:
        return None
    m = _PRODUCED.search(lines[-1])
    return int(m.group(1)) if m else None


def parse_dstat(text):
    """{name: {"pending", "consumers", "enqueued", "dequeued"}} from `actormq dstat` output.
    A row is a line whose first field looks like queue://... or topic://... followed by four
    integers (column separators such as '|' are ignored)."""
    rows = {}
    for line in text.splitlines():
        fields = line.replace("|", " ").split()
        if len(fields) < 5 or "://" not in fields[0]:
            continue
        try:
            nums = [int(x.replace(",", "")) for x in fields[1:5]]
        except ValueError:
            continue
        rows[fields[0]] = dict(zip(("pending", "consumers", "enqueued", "dequeued"), nums))
    return rows


# --------------------------------------------------------------------------------------------
# Hand-made Protobuf, enough to speak the wire protocol from a raw socket


def pb_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_field_varint(field, value):
    return pb_varint(field << 3 | 0) + pb_varint(value)


def pb_field_bytes(field, data):
    if isinstance(data, str):
        data = data.encode()
    return pb_varint(field << 3 | 2) + pb_varint(len(data)) + data


def frame(payload):
    """A length-prefixed frame around serialized Frame bytes."""
    return struct.pack(">I", len(payload)) + payload


# Frame field numbers (protocol/actormq.proto)
F_CORRELATION = 1
F_CONNECT = 10
F_CONNECTED = 11
F_SEND = 15
F_RECEIPT = 18
F_ERROR = 19

ERROR_MALFORMED_FRAME = 1
ERROR_FRAME_TOO_LARGE = 2


_raw_client_ids = itertools.count(1)


def connect_frame(client_id=None, correlation_id=1):
    """A Connect frame; without `client_id` a fresh one ("raw-it-N"), since a node refuses a
    second connection with a client id in use (docs/topics.md)."""
    if client_id is None:
        client_id = "raw-it-%d" % next(_raw_client_ids)
    connect = pb_field_varint(1, 1) + pb_field_bytes(2, client_id)  # PROTOCOL_VERSION_1
    return frame(pb_field_varint(F_CORRELATION, correlation_id) + pb_field_bytes(F_CONNECT, connect))


def pb_parse(data):
    """Top-level fields of a serialized message: list of (field, wire_type, value)."""
    fields = []
    i = 0

    def varint():
        nonlocal i
        shift = 0
        v = 0
        while True:
            if i >= len(data):
                raise ValueError("truncated varint")
            b = data[i]
            i += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v

    while i < len(data):
        key = varint()
        field, wt = key >> 3, key & 7
        if wt == 0:
            fields.append((field, wt, varint()))
        elif wt == 2:
            n = varint()
            fields.append((field, wt, bytes(data[i:i + n])))
            i += n
        elif wt == 1:
            fields.append((field, wt, bytes(data[i:i + 8])))
            i += 8
        elif wt == 5:
            fields.append((field, wt, bytes(data[i:i + 4])))
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
    return fields


def split_frames(data):
    """Complete frames in `data` as lists of parsed top-level fields (an incomplete tail is
    ignored)."""
    frames = []
    i = 0
    while i + 4 <= len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        if i + 4 + n > len(data):
            break
        frames.append(pb_parse(data[i + 4:i + 4 + n]))
        i += 4 + n
    return frames


def find_error(data):
    """(code, message) of the first Error frame in `data`, or None."""
    for fields in split_frames(data):
        for field, wt, value in fields:
            if field == F_ERROR and wt == 2:
                code, message = 0, ""
                for f2, wt2, v2 in pb_parse(value):
                    if f2 == 1 and wt2 == 0:
                        code = v2
                    elif f2 == 2 and wt2 == 2:
                        message = v2.decode("utf-8", "replace")
                return code, message
    return None


def has_command(data, field_number):
    return any(f == field_number for fields in split_frames(data) for f, _, _ in fields)


class RawClient:
    """A plain TCP connection to a node's client port."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.received = b""
        self.closed_by_peer = False

    def send(self, data):
        self.sock.sendall(data)

    def read_until_closed(self, timeout):
        """Reads until the peer closes (returns True) or `timeout` s pass (returns False)."""
        deadline = time.monotonic() + timeout
        while not self.closed_by_peer:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                self.closed_by_peer = True
            self.received += chunk
        return True

    def read_until(self, predicate, timeout):
        """Reads until predicate(received) holds (True), the peer closes or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while not predicate(self.received):
            left = deadline - time.monotonic()
            if left <= 0 or self.closed_by_peer:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                self.closed_by_peer = True
            self.received += chunk
        return True

    def abort(self):
        """Vanishes: closes with RST (SO_LINGER 0), as a killed or unplugged client would."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.sock.close()

    def close(self):
        self.sock.close()


# --------------------------------------------------------------------------------------------
# Test case base


class NodeTestCase(unittest.TestCase):
    """Starts nodes and CLI processes, and cleans up after them (only what it started)."""

    CLI_TIMEOUT = 60.0

    def setUp(self):
        msg = missing_binaries()
        if msg:
            self.fail(msg)
        self._nodes = []
        self._procs = []
        self._problems_at_start = self._problems()
        self.workdir = tempfile.mkdtemp(prefix="actormq-it-%s-" % self._testMethodName)
        self._cli_seq = 0
        # A cleanup, not tearDown: it also runs when a subclass's setUp fails after starting nodes.
        self.addCleanup(self._cleanup)

    def _problems(self):
        """How many failures and errors unittest has recorded (it does not tell cleanups
        whether this test failed, so _cleanup compares this count with setUp's)."""
        outcome = getattr(self, "_outcome", None)
        errors = getattr(outcome, "errors", None)  # Python <= 3.10 collects them here
        if errors is not None:
            return sum(1 for _, exc in errors if exc is not None)
        result = getattr(outcome, "result", None)
        if result is None:
            return 0
        return len(getattr(result, "failures", ())) + len(getattr(result, "errors", ()))

    def _cleanup(self):
        failed = self._problems() != self._problems_at_start
        for n in self._nodes:
            n.cleanup()
        for p in self._procs:
            p.kill()
        # A sanitizer build reports memory errors and undefined behaviour on stderr, and UBSan
        # goes on running: any such report fails the test.
        reports = []
        for p in [q for n in self._nodes for q in n.procs] + self._procs:
            m = _SANITIZER.search(p.stderr)
            if m:
                reports.append("%s: %s" % (p.stderr_path, p.stderr[m.start():m.start() + 2000]))
        failed = failed or bool(reports)
        dirs = [self.workdir] + [n.workdir for n in self._nodes]
        if failed:
            for n in self._nodes:
                if n.proc is not None:
                    sys.stderr.write("\n--- %s\n" % n.describe())
        if failed or os.environ.get("ACTORMQ_IT_KEEP") == "1":
            sys.stderr.write("\nkept test folders: %s\n" % " ".join(dirs))
        else:
            for d in dirs:
                shutil.rmtree(d, ignore_errors=True)
        if reports:
            raise AssertionError("sanitizer report(s):\n" + "\n".join(reports))

    # -- nodes
    def make_node(self, name="t1", **kw):
        """A Node (not started) that tearDown cleans up."""
        kw.setdefault("workdir", tempfile.mkdtemp(prefix="actormq-it-%s-" % name))
        node = Node(name=name, **kw)
        self._nodes.append(node)
        return node

    def start_node(self, name="t1", **kw):
        wait_ready = kw.pop("wait_ready", True)
        node = self.make_node(name, **kw)
        node.start(wait_ready=wait_ready)
        return node

    # -- CLI
    def start_cli(self, *args, label=None, stdout_pipe=False):
        """Starts `actormq ARGS...` in the background; tearDown kills it if it still runs."""
        self._cli_seq += 1
        label = "%02d-%s" % (self._cli_seq, label or (args[0] if args else "cli"))
        p = Proc([cli_binary()] + [str(a) for a in args], self.workdir, label,
                 stdout_pipe=stdout_pipe)
        self._procs.append(p)
        return p

    def run_cli(self, *args, timeout=None, label=None):
        """Runs `actormq ARGS...` to completion (fails the test if it outlives `timeout`)."""
        return self.finish(self.start_cli(*args, label=label), timeout or self.CLI_TIMEOUT)

    def run_program(self, argv, label, timeout):
        """Runs any program to completion, like run_cli; returns the finished Proc."""
        p = Proc([str(a) for a in argv], self.workdir, label)
        self._procs.append(p)
        return self.finish(p, timeout)

    def finish(self, p, timeout):
        """Waits for a started Proc; kills it and fails the test if it outlives `timeout`."""
        try:
            p.wait(timeout)
        except TimeoutError as e:
            p.kill()
            self.fail(str(e))
        return p

    def debug_fields(self, node, name, timeout=30):
        """The fields actormq-debug shows for one actor ("broker", "store", "topic://x"), as a
        dict of text."""
        self._cli_seq += 1
        p = self.run_program([os.path.join(bin_dir(), "actormq-debug"), "--node",
                              "127.0.0.1:%d" % node.ports["cluster"], "show", name],
                             "%02d-debug" % self._cli_seq, timeout)
        self.assertEqual(p.returncode, 0, p.describe())
        return dict(re.findall(r"^\s*([\w-]+): (.*)$", p.stdout, re.M))

    def subscribe(self, node, destination, count, **opts):
        """A CLI consumer on `destination`, started and subscribed (its open answered)."""
        opts.setdefault("receiveTimeout", 30000)
        c = self.start_cli(*self.consumer_args(node, destination, count, **opts),
                           label="subscriber")
        self.wait_until(lambda: "Consuming" in c.stderr or not c.running(), 15,
                        "the consumer of %s to subscribe" % destination)
        self.assertTrue(c.running(), c.describe())
        return c

    def finished(self, c, timeout=60):
        """Waits for a CLI consumer to end well; returns its lines."""
        self.finish(c, timeout)
        self.assertEqual(c.returncode, 0, c.describe())
        return c.lines

    @staticmethod
    def _opts(kw):
        out = []
        for k, v in kw.items():
            if v is None:
                continue
            if v is True:
                out.append("--" + k)
            elif v is False:
                continue
            else:
                out += ["--" + k, str(v)]
        return out

    def producer_args(self, node_or_url, destination, count, **opts):
        url = node_or_url if isinstance(node_or_url, str) else node_or_url.client_url
        return ["producer", "--brokerUrl", url, "--destination", destination,
                "--messageCount", str(count)] + self._opts(opts)

    def consumer_args(self, node_or_url, destination, count, **opts):
        url = node_or_url if isinstance(node_or_url, str) else node_or_url.client_url
        return ["consumer", "--brokerUrl", url, "--destination", destination,
                "--messageCount", str(count)] + self._opts(opts)

    def produce(self, node, destination, count, timeout=None, check=True, **opts):
        """Runs a producer to completion; with check, asserts exit 0, empty stdout and a last
        stderr line `produced COUNT messages`."""
        p = self.run_cli(*self.producer_args(node, destination, count, **opts), timeout=timeout,
                         label="producer")
        if check:
            self.assertEqual(p.returncode, 0, p.describe())
            self.assertEqual(p.stdout, "", "producer printed on stdout\n" + p.describe())
            self.assertEqual(produced_count(p.stderr), count, p.describe())
        return p

    def consume(self, node, destination, count, timeout=None, check=True, **opts):
        """Runs a consumer to completion; with check, asserts exit 0 and COUNT lines."""
        p = self.run_cli(*self.consumer_args(node, destination, count, **opts), timeout=timeout,
                         label="consumer")
        if check:
            self.assertEqual(p.returncode, 0, p.describe())
            self.assertEqual(len(p.lines), count, p.describe())
        return p

    def dstat(self, node):
        p = self.run_cli("dstat", "--brokerUrl", node.client_url, timeout=30, label="dstat")
        self.assertEqual(p.returncode, 0, p.describe())
        return parse_dstat(p.stdout)

    def wait_dstat(self, node, destination, timeout=10.0, **expected):
        """Polls dstat until the row of `destination` has the expected values; returns the row
        (fails with the last row seen at the deadline)."""
        deadline = time.monotonic() + timeout
        row = None
        while True:
            row = self.dstat(node).get(destination)
            if row is not None and all(row.get(k) == v for k, v in expected.items()):
                return row
            if time.monotonic() > deadline:
                self.fail("dstat row of %s is %r, expected %r within %.1f s"
                          % (destination, row, expected, timeout))
            time.sleep(0.1)

    def wait_until(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail("timed out after %.1f s waiting for %s" % (timeout, what))
            time.sleep(0.05)

    def assert_stays(self, predicate, duration, what, detail=None):
        """Asserts that predicate() holds for the next `duration` s, polling it all that time and
        failing as soon as it turns false. An absence ("nothing more arrives", "it stays that
        way") can only be observed for a bounded time: this names that time. detail() (if given)
        adds the state at the failure to the message."""
        start = time.monotonic()
        while True:
            if not predicate():
                self.fail("%s held for only %.2f of %.1f s%s"
                          % (what, time.monotonic() - start, duration,
                             "\n" + detail() if detail else ""))
            if time.monotonic() - start >= duration:
                return
            time.sleep(0.05)

    def wait_sessions_ended(self, node, accepted, sessions, timeout=10.0):
        """Waits until `node` has accepted `accepted` client connections in all and has
        `sessions` sessions open: the connections a test closed have all been accepted (a
        closed one may wait in the listen backlog) and their sessions have ended (a session
        ends a little after its connection)."""
        deadline = time.monotonic() + timeout
        while True:
            seen = node.client_counts()
            if seen[0] >= accepted and seen[1] == sessions:
                return
            if time.monotonic() > deadline:
                self.fail("node %s: %d connections accepted and %d sessions open, expected %d "
                          "and %d within %.1f s" % ((node.name,) + seen
                                                     + (accepted, sessions, timeout)))
            # Each request is a console connection, served on a thread of its own: seldom
            # enough that one has ended before the next starts, so that a test measuring the
            # node's memory does not measure the console's threads.
            time.sleep(0.25)

    def raw_client(self, node, timeout=5.0):
        c = RawClient(node.client_port, timeout)
        self.addCleanup(c.close)
        return c


def text_messages(n, start=0):
    return ["textMessage:%d" % i for i in range(start, start + n)]
