"""A small WebSocket client (RFC 6455) over a raw socket, for the STOMP over WebSocket tests: the
upgrade request, masked frames out, frames in. Written against the RFC, not the node's code, so
that the tests check the node's WebSocket and not an agreement of two copies of it."""

import base64
import hashlib
import os
import struct

import harness
import stomp_support

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 1, 2, 8, 9, 10


def ws_node(case, name, limits=None, extra=""):
    """A started node with a stomp and a ws listener on free ports (node.stomp_port,
    node.ws_port)."""
    port = harness.free_port()
    node = stomp_support.stomp_node(case, name, limits=limits,
                                    extra='ws { host: "127.0.0.1" port: %d }\n%s' % (port, extra))
    node.ws_port = port
    return node


def accept_of(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def upgrade_request(port, protocols=("v10.stomp", "v11.stomp", "v12.stomp"), key=None,
                    version="13", path="/"):
    key = key or base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: " + key,
             "Sec-WebSocket-Version: " + version]
    if protocols:
        lines.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), key


def frame(opcode, payload, fin=True, mask=True):
    """One frame as a client sends it (masked unless mask=False)."""
    if isinstance(payload, str):
        payload = payload.encode()
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([bit | 127]) + struct.pack(">Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def http_head(data):
    """(status, headers dict with lower-case names, rest) once `data` holds a whole HTTP head,
    else None."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = data[:end].decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, data[end + 4:]


def parse_frames(data):
    """The whole frames in `data` (as the node sends them: unmasked): [(opcode, payload)], and
    the bytes left."""
    frames = []
    while len(data) >= 2:
        op = data[0] & 0x0F
        n = data[1] & 0x7F
        at = 2
        if n == 126:
            if len(data) < 4:
                break
            n = struct.unpack(">H", data[2:4])[0]
            at = 4
        elif n == 127:
            if len(data) < 10:
                break
            n = struct.unpack(">Q", data[2:10])[0]
            at = 10
        if data[1] & 0x80:
            raise AssertionError("the node sent a masked frame")
        if len(data) < at + n:
            break
        frames.append((op, data[at:at + n]))
        data = data[at + n:]
    return frames, data


class WsClient:
    """A connection to a ws listener: upgrade() then send()/frames()."""

    def __init__(self, case, port, timeout=5.0):
        self.port = port
        self.raw = harness.RawClient(port, timeout)
        case.addCleanup(self.raw.close)
        self.status = None
        self.headers = {}
        self.body = b""  # of a refused upgrade
        self.upgraded = False

    def upgrade(self, timeout=5.0, **kw):
        """Sends the upgrade request; returns the HTTP status (101 when upgraded)."""
        request, key = upgrade_request(self.port, **kw)
        self.raw.send(request)
        if not self.raw.read_until(lambda d: http_head(d) is not None, timeout):
            raise AssertionError("no HTTP answer to the upgrade: %r" % self.raw.received)
        self.status, self.headers, rest = http_head(self.raw.received)
        self.raw.received = rest
        if self.status == 101:
            if self.headers.get("sec-websocket-accept") != accept_of(key):
                raise AssertionError("wrong Sec-WebSocket-Accept: %r" % self.headers)
            self.upgraded = True
        else:
            length = int(self.headers.get("content-length", "0"))
            self.raw.read_until(lambda d: len(d) >= length, timeout)
            self.body = self.raw.received[:length]
        return self.status

    def send(self, payload, opcode=OP_TEXT, **kw):
        self.raw.send(frame(opcode, payload, **kw))

    def frames(self):
        return parse_frames(self.raw.received)[0]

    def stomp_frames(self):
        """The STOMP frames of the data messages received: [(command, headers, body)]."""
        out = []
        for op, payload in self.frames():
            if op in (OP_TEXT, OP_BINARY) and payload.strip(b"\r\n"):
                out.extend(stomp_support.parse_frames(payload))
        return out

    def wait_frames(self, predicate, timeout=10.0):
        """Reads until predicate(frames()) holds; True if it did."""
        return self.raw.read_until(lambda d: predicate(parse_frames(d)[0]), timeout)

    def wait_stomp(self, command, timeout=10.0):
        """Reads until a STOMP frame `command` arrived; that frame, or None."""
        def has(_):
            return any(f[0] == command for f in self.stomp_frames())
        self.raw.read_until(lambda d: has(d), timeout)
        return next((f for f in self.stomp_frames() if f[0] == command), None)

    def close_code(self):
        """The code of the close frame received, or None."""
        for op, payload in self.frames():
            if op == OP_CLOSE:
                return struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
        return None
