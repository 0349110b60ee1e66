"""What the STOMP tests share: Debian's python3-stomp (the client no one here wrote), a node with
a stomp listener, a listener that collects frames, raw STOMP over a socket, and hand-made
Protobuf for the other side of the interoperability tests.

python3-stomp is a Debian package: /usr/bin/python3 imports it, a python3 of its own (pyenv, a
virtualenv) earlier on PATH may not. CTest runs the PATH python3, so a test module that cannot
import stomp runs itself again under /usr/bin/python3 (require_stomp())."""

import os
import subprocess
import sys
import threading
import time

import harness

DEBIAN_PYTHON = "/usr/bin/python3"
_REEXEC = "ACTORMQ_STOMP_REEXEC"

try:
    import stomp  # noqa: F401
except ImportError:
    stomp = None


def require_stomp():
    """Called at a test module's import: without stomp here, runs the same unittest command
    under Debian's python3 if that one imports it (never returns then). Otherwise the tests
    fail in setUp, saying what to install."""
    if stomp is not None or os.environ.get(_REEXEC) == "1":
        return
    if os.path.realpath(sys.executable) == os.path.realpath(DEBIAN_PYTHON):
        return
    if not os.path.exists(DEBIAN_PYTHON):
        return
    probe = subprocess.run([DEBIAN_PYTHON, "-c", "import stomp"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        return
    if not sys.argv[0].endswith("-m unittest"):
        return  # imported by something other than `python3 -m unittest ...`: do not take over
    os.environ[_REEXEC] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, "-m", "unittest"] + sys.argv[1:])


def missing_stomp():
    if stomp is None:
        return ("python3-stomp is not importable by %s (nor by %s): install it "
                "(tools/install-deps.sh)" % (sys.executable, DEBIAN_PYTHON))
    return None


class Collector:
    """A python3-stomp listener that keeps every MESSAGE, RECEIPT and ERROR it gets."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []
        self.receipts = []
        self.errors = []
        self.disconnected = False
        self.heartbeat_timeouts = 0

    def on_message(self, frame):
        with self.lock:
            self.messages.append(frame)

    def on_receipt(self, frame):
        with self.lock:
            self.receipts.append(frame.headers.get("receipt-id"))

    def on_error(self, frame):
        with self.lock:
            self.errors.append(frame)

    def on_disconnected(self):
        self.disconnected = True

    def on_heartbeat_timeout(self):
        # python3-stomp calls this when the node's heart-beats are late; it then disconnects.
        self.heartbeat_timeouts += 1

    def bodies(self):
        with self.lock:
            return [m.body for m in self.messages]

    def count(self):
        with self.lock:
            return len(self.messages)


def stomp_node(case, name, limits=None, extra=""):
    """A started node with a stomp listener on a free port (node.stomp_port)."""
    port = harness.free_port()
    node = case.start_node(name, limits=limits,
                           extra_config='stomp { host: "127.0.0.1" port: %d }\n%s' % (port, extra))
    node.stomp_port = port
    return node


def connect(case, node, heartbeats=(0, 0), version="1.2", client_id=None):
    """A connected python3-stomp connection and its Collector; disconnected at cleanup."""
    cls = {"1.0": stomp.Connection10, "1.1": stomp.Connection11, "1.2": stomp.Connection12}
    kw = {"heartbeats": heartbeats} if version != "1.0" else {}
    conn = cls[version]([("127.0.0.1", node.stomp_port)], reconnect_attempts_max=1, **kw)
    collector = Collector()
    conn.set_listener("collector", collector)
    headers = {"client-id": client_id} if client_id else {}
    conn.connect(wait=True, headers=headers)
    case.addCleanup(_quietly_disconnect, conn)
    return conn, collector


def _quietly_disconnect(conn):
    try:
        if conn.is_connected():
            conn.disconnect()
    except Exception:  # the node may be gone (killed by the test)
        pass


# --- raw STOMP over a socket


def raw_frame(command, headers=(), body=b""):
    out = command.encode() + b"\n"
    for k, v in headers:
        out += ("%s:%s\n" % (k, v)).encode()
    return out + b"\n" + (body.encode() if isinstance(body, str) else body) + b"\0"


CONNECT_12 = raw_frame("CONNECT", [("accept-version", "1.2"), ("host", "localhost")])


_ESCAPES = {"n": "\n", "c": ":", "\\": "\\", "r": "\r"}


def unescape(text):
    """A header name or value as STOMP 1.2 escapes them, unescaped."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], text[i:i + 2]))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_frames(data):
    """Complete frames in `data` as (command, headers dict, body); heart-beat newlines skipped.
    Bodies are read up to the NUL (no frame the node sends here has a NUL in its body)."""
    frames = []
    while True:
        data = data.lstrip(b"\r\n")
        end = data.find(b"\0")
        if end < 0:
            return frames
        head, _, body = data[:end].partition(b"\n\n")
        lines = head.decode("utf-8", "replace").split("\n")
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if lines[0] != "CONNECTED":
                k, v = unescape(k), unescape(v)
            headers.setdefault(k, v)
        frames.append((lines[0], headers, body))
        data = data[end + 1:]


def raw_stomp(case, node, timeout=5.0):
    c = harness.RawClient(node.stomp_port, timeout)
    case.addCleanup(c.close)
    return c


# --- hand-made Protobuf (protocol/actormq.proto)

F_OPEN_CONSUMER = 12
F_DISPATCH = 16
F_ACK = 17


def pb_message(destination, body, persistent=True, priority=4, correlation_id="",
               reply_to="", type_="", properties=None):
    m = harness.pb_field_bytes(1, destination) + harness.pb_field_bytes(2, body)
    m += harness.pb_field_varint(3, 1 if persistent else 0) + harness.pb_field_varint(4, priority)
    m += harness.pb_field_varint(6, int(time.time() * 1000))
    for k, v in sorted((properties or {}).items()):
        m += harness.pb_field_bytes(9, harness.pb_field_bytes(1, k) + harness.pb_field_bytes(2, v))
    if correlation_id:
        m += harness.pb_field_bytes(12, correlation_id)
    if reply_to:
        m += harness.pb_field_bytes(13, reply_to)
    if type_:
        m += harness.pb_field_bytes(14, type_)
    return m


def pb_send(correlation, message):
    return harness.frame(harness.pb_field_varint(harness.F_CORRELATION, correlation) +
                         harness.pb_field_bytes(harness.F_SEND, harness.pb_field_bytes(1, message)))


def pb_open_consumer(correlation, consumer_id, destination, prefetch=10):
    body = (harness.pb_field_varint(1, consumer_id) + harness.pb_field_bytes(2, destination) +
            harness.pb_field_varint(3, prefetch))
    return harness.frame(harness.pb_field_varint(harness.F_CORRELATION, correlation) +
                         harness.pb_field_bytes(F_OPEN_CONSUMER, body))


def pb_ack(consumer_id, key):
    body = harness.pb_field_varint(1, consumer_id) + harness.pb_field_varint(2, key)
    return harness.frame(harness.pb_field_bytes(F_ACK, body))


def pb_dispatches(data):
    """The Dispatch frames in `data`: dicts with key, redelivered and the message's fields
    (properties as a dict)."""
    out = []
    for fields in harness.split_frames(data):
        for field, wt, value in fields:
            if field != F_DISPATCH or wt != 2:
                continue
            d = {"properties": {}}
            for f, _, v in harness.pb_parse(value):
                if f == 2:
                    d["key"] = v
                elif f == 3:
                    d["redelivered"] = bool(v)
                elif f == 5:
                    d.update(_pb_message_fields(v))
            out.append(d)
    return out


def _pb_message_fields(data):
    names = {1: "destination", 2: "body", 3: "persistent", 4: "priority", 5: "expiration_ms",
             6: "timestamp_ms", 12: "correlation_id", 13: "reply_to", 14: "type"}
    m = {"properties": {}, "persistent": False, "priority": 0}
    for f, wt, v in harness.pb_parse(data):
        if f == 9:
            entry = dict((k, val) for k, _, val in harness.pb_parse(v))
            m["properties"][entry.get(1, b"").decode()] = entry.get(2, b"").decode()
        elif f in names:
            m[names[f]] = v.decode("utf-8", "replace") if wt == 2 and f != 2 else v
    m["persistent"] = bool(m["persistent"])
    return m
