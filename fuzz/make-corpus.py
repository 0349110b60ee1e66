#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target into fuzz/corpus/<target>/ (small valid inputs).

Frames and envelopes are encoded with protoc --encode from the text below, URIs and destinations
are taken from docs/ and the unit tests, configurations are the files in config/. Run from the
repository's root: fuzz/make-corpus.py (it replaces the seeds it writes, keeps other files)."""
import glob
import hashlib
import os
import re
import struct
import subprocess
import zlib

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
corpus = os.path.join(root, "fuzz", "corpus")


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    folder = os.path.join(corpus, target)
    os.makedirs(folder, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def encode(message_type, text, proto):
    return subprocess.run(
        ["protoc", "--encode=" + message_type, "-I", os.path.join(root, "protocol"), proto],
        input=text.encode(), capture_output=True, check=True).stdout


def frame(text):
    body = encode("actormq.wire.Frame", text, "actormq.proto")
    return struct.pack(">I", len(body)) + body


# --- Protobuf client protocol: a few frames of each command a client sends, and a session.
message = ('destination: "queue://orders" body: "hello" persistent: true priority: 4 '
           'producer_id: "p-1" producer_sequence: 1 properties { key: "k" value: "v" } '
           'correlation_id: "c" reply_to: "queue://replies" type: "t"')
frames = [
    'correlation_id: 1 connect { protocol_version: PROTOCOL_VERSION_1 client_id: "c" user: "u" '
    'password: "p" heartbeat_ms: 1000 }',
    'correlation_id: 2 send { message { %s } }' % message,
    'correlation_id: 3 send { message { destination: "topic://prices" body: "" } }',
    'correlation_id: 4 open_consumer { consumer_id: 1 destination: "queue://orders" prefetch: 10 '
    'ack_mode: ACK_MODE_INDIVIDUAL priority: 2 }',
    'credit { consumer_id: 1 credit: 5 }',
    'correlation_id: 5 ack { consumer_id: 1 delivery_keys: [1, 2, 3] }',
    'correlation_id: 6 close_consumer { consumer_id: 1 }',
    'correlation_id: 7 browse { destination: "queue://orders" max_messages: 3 }',
    'correlation_id: 8 stats_request {}',
    'correlation_id: 9 purge { destination: "queue://orders" }',
    'heartbeat {}',
    'disconnect {}',
    'dispatch { consumer_id: 1 delivery_key: 1 message { %s } }' % message,
]
encoded = [frame(f) for f in frames]
for piece in (b"\x00", b"\x03"):
    for e in encoded:
        write("protobuf_codec", piece + e)
    write("protobuf_codec", piece + b"".join(encoded))
write("protobuf_codec", b"\x00" + struct.pack(">I", 0xFFFFFFFF))

# --- STOMP: frames of each command, in each version, and whole sessions.
def stomp(command, headers, body=""):
    return command + "\n" + "".join("%s:%s\n" % h for h in headers) + "\n" + body + "\0"


connect = {v: stomp("CONNECT", [("accept-version", v), ("host", "/"), ("login", "u"),
                                ("passcode", "p"), ("heart-beat", "1000,2000")])
           for v in ("1.0", "1.1", "1.2")}
frames = [
    stomp("STOMP", [("accept-version", "1.2"), ("host", "/")]),
    stomp("SEND", [("destination", "/queue/orders"), ("persistent", "true"), ("priority", "7"),
                   ("expires", "0"), ("correlation-id", "c"), ("reply-to", "/temp-queue/r"),
                   ("type", "t"), ("receipt", "r1"), ("color", "red")], "hello"),
    stomp("SEND", [("destination", "/topic/prices"), ("content-length", "5")], "a\0b\nc"),
    stomp("SEND", [("destination", "/queue/a"), ("weird\\cname", "a\\nb\\\\c\\r")], "x"),
    stomp("SUBSCRIBE", [("id", "s1"), ("destination", "/queue/orders"), ("ack", "client"),
                        ("activemq.prefetchSize", "5"), ("activemq.priority", "3")]),
    stomp("SUBSCRIBE", [("id", "s2"), ("destination", "/topic/prices"),
                        ("ack", "client-individual"), ("receipt", "r2")]),
    stomp("ACK", [("id", "1-1"), ("receipt", "r3")]),
    stomp("NACK", [("id", "2-2")]),
    stomp("ACK", [("message-id", "ID:1-1"), ("subscription", "s1")]),
    stomp("UNSUBSCRIBE", [("id", "s1"), ("receipt", "r4")]),
    stomp("BEGIN", [("transaction", "tx")]),
    stomp("DISCONNECT", [("receipt", "bye")]),
]
for v, c in connect.items():
    session = c + "\n" + "\r\n".join(frames[1:]) + "\n"
    selector = {"1.0": 0, "1.1": 1, "1.2": 2}[v]
    write("stomp_codec", b"\x00" + session.encode())
    write("stomp_codec", b"\x05" + session.encode())
    write("stomp_parser", bytes([selector]) + session.encode())
    write("stomp_parser", bytes([selector | (7 << 2)]) + session.encode())
for f in frames:
    write("stomp_parser", b"\x02" + f.encode())
    write("stomp_codec", b"\x00" + (connect["1.2"] + f).encode())
write("stomp_codec", b"\x00" + (connect["1.0"] + stomp(
    "SUBSCRIBE", [("destination", "/queue/a"), ("ack", "client")]) + stomp(
        "SEND", [("destination", "/queue/a")], "m") + stomp("ACK", [("message-id", "ID:1-1")]))
      .encode())

# --- STOMP over WebSocket: the upgrade, then the same frames in masked client messages (a ping
# and a close among them), and requests that are no upgrade.


def ws_frame(opcode, payload, mask=b"\x11\x22\x33\x44"):
    n = len(payload)
    head = bytes([0x80 | opcode])
    head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


upgrade = (b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Protocol: v10.stomp, v11.stomp, v12.stomp\r\n\r\n")
messages = b"".join(ws_frame(1, f.encode()) for f in [connect["1.2"]] + frames[1:3])
write("stomp_ws_codec", b"\x00" + upgrade + messages + ws_frame(9, b"p") +
      b"".join(ws_frame(1, f.encode()) for f in frames[3:]) + ws_frame(8, b"\x03\xe8"))
write("stomp_ws_codec", b"\x03" + upgrade + messages + ws_frame(1, b"\n"))
write("stomp_ws_codec", b"\x00" + upgrade + ws_frame(1, connect["1.2"].encode()) +
      ws_frame(2, stomp("SEND", [("destination", "/queue/a"), ("content-length", "3")],
                        "\x00\xff\x01").encode("latin-1")))
write("stomp_ws_codec", b"\x00" + upgrade.replace(b"13", b"8"))
write("stomp_ws_codec", b"\x00" + connect["1.2"].encode())

# --- URIs and destinations from docs/ and the unit tests.
texts = []
for path in glob.glob(os.path.join(root, "docs", "*.md")) + glob.glob(
        os.path.join(root, "tests", "protocol", "*.cpp")) + glob.glob(
        os.path.join(root, "config", "*.conf")):
    with open(path, encoding="utf-8") as f:
        texts.append(f.read())
text = "\n".join(texts)
uris = set(re.findall(r"(?:tcp|failover|static):[^\s\"'`]+", text))
for u in sorted(uris):
    write("uri", u.rstrip(".,;"))
destinations = set(re.findall(r"\"((?:queue|topic|temp-queue|temp-topic)://[^\"]*)\"", text))
destinations |= set(re.findall(r"\"(/(?:queue|topic|temp-queue|temp-topic)/[^\"]*)\"", text))
destinations |= {"orders", "orders.>", "price.*.ibm", "QUEUE://Orders", "topic://a.b"}
for d in sorted(destinations):
    write("destination", d)

# --- Configurations: the files in config/, and one with overrides after a NUL.
for path in sorted(glob.glob(os.path.join(root, "config", "*.conf"))):
    with open(path, "rb") as f:
        data = f.read()
    write("config", data)
write("config", b'name: "n" data_dir: "d"\0client.port=61700\nstore.max_size_mb=64\n'
      b'network_connectors.uri=x')

# --- Envelopes: the golden bytes of tests/protocol/envelope_test.cpp and a few more.
envelope_texts = [
    'destination: "queue://a" body: "b" properties { key: "x" value: "1" } '
    'properties { key: "a" value: "2" }',
    message,
    message + ' origin_store_id: "0b5e6a56" origin_sequence: 9',
    'destination: "topic://t" typed_properties { key: "n" value { int_value: 7 } } '
    'typed_properties { key: "d" value { double_value: 1.5 } } '
    'typed_properties { key: "b" value { bool_value: true } } body_type: BODY_TEXT '
    'message_id: "ID:m-1"',
    'destination: "queue://a" priority: 12 expiration_ms: -1',
]
for t in envelope_texts:
    write("envelope", encode("actormq.store.Envelope", t, "envelope.proto"))
for line in re.findall(r'CHECK\(hex\(out\) == ((?:"[^"]*"\s*(?://[^\n]*)?\s*)+)\)', text):
    code = re.sub(r"//[^\n]*", "", line)
    digits = "".join(re.findall(r'"([^"]*)"', code)).replace(" ", "")
    if digits:
        write("envelope", bytes.fromhex(digits))

# --- Store records: one of each type (the first byte picks it; storage/encoding.hpp).
index = struct.pack("<QIiqIIQ", 17, 5, 4, 0, 1, 1, 3)
write("store_records", b"\x00" + index)
write("store_records", b"\x01" + index[:32])
write("store_records", b"\x02" + struct.pack("<QQQ", 10, 9, 1) + b"queue://orders")
write("store_records", b"\x03" + b"bridge-a\0" + struct.pack(">Q", 42))
write("store_records", b"\x04" + struct.pack("<IQ", 3, 42))
write("store_records", b"\x05" + struct.pack("<Q", 1000))
write("store_records", b"\x05" + struct.pack("<Q", 1000) + bytes([0xA5]) * 128)
write("store_records", b"\x06" + struct.pack("<I", 2))
write("store_records", b"\x06" + struct.pack("<Q", 2))
write("store_records", b"\x07" + b"".join(struct.pack("<Q", s) for s in (1, 2, 5, 3, 1500, 7)))
write("store_records", b"\x08" + struct.pack(">IQIQ", 1, 5, 1, 6))

# journal_records: u32 count, then per operation its index in storage::operation and its fields
# (an index entry as stored, with body id 0).
journal_index = index[:32] + struct.pack("<Q", 0)


def text(b):
    return struct.pack("<I", len(b)) + b
put_fields = struct.pack("<I", 3) + journal_index + text(b"body") + text(b"producer-1") + struct.pack("<Q", 7)
write("journal_records", struct.pack("<I", 1) + b"\x00" + put_fields)
write("journal_records", struct.pack("<I", 2) + b"\x01" + struct.pack("<IQ", 3, 9)
      + b"\x06" + text(b"link") + struct.pack("<Q", 4) + b"\x01")
write("journal_records", struct.pack("<I", 1) + b"\x09" + struct.pack("<II", 4, 2)
      + struct.pack("<I", 5) + journal_index + struct.pack("<I", 6) + journal_index
      + text(b"shared")
      + text(b"p2") + struct.pack("<Q", 3))

# A scheduled message stored, then removed (schedule_op 11, unschedule_op 12).
scheduled_value = (struct.pack("<QQII", 1_800_000_000_000, 500, 2, 1) + text(b"queue://later")
                   + text(b"*/5 * * * *") + text(b"envelope"))
write("journal_records", struct.pack("<I", 2) + b"\x0b" + struct.pack("<Q", 41)
      + text(scheduled_value) + b"\x0c" + struct.pack("<Q", 41))

# replication_stream: the first byte splits the rest in two reads; then frames (storage/
# replication.hpp): u32 body size, u32 CRC-32 of the body, body = u8 version 1, u64 epoch,
# u64 sequence, u64 previous epoch, u8 flags, a journal record's payload.
def replication_frame(epoch, sequence, previous, flags, operations):
    body = struct.pack("<BQQQB", 1, epoch, sequence, previous, flags) + operations
    return struct.pack("<II", len(body), zlib.crc32(body)) + body
put_record = struct.pack("<I", 1) + b"\x00" + put_fields
write("replication_stream", b"\x05" + replication_frame(1, 1, 0, 0, put_record))
write("replication_stream", b"\x30" + replication_frame(2, 7, 1, 1, put_record)
      + replication_frame(2, 8, 2, 0, struct.pack("<I", 1) + b"\x01" + struct.pack("<IQ", 3, 9)))
write("replication_stream", b"\x00" + replication_frame(3, 1, 0, 0, b"")[:20])

# --- Selectors: the first byte picks the options and the sample message (fuzz/selector.cpp).
for i, s in enumerate([
        "color = 'red' AND weight > 10", "color > 10",
        "JMSType = 'car' AND color = 'blue' AND weight > 2500",
        "weight BETWEEN 1 AND 5000 OR NOT flag",
        "color IN ('red', 'blue') AND a LIKE 'a!_%' ESCAPE '!'",
        "missing IS NULL AND JMSCorrelationID IS NOT NULL",
        "(weight * 2 + 1) / 3 - -4 <> big",
        "JMSPriority >= 4 AND JMSDeliveryMode = 'PERSISTENT' AND JMSMessageID LIKE 'ID:%'",
        "f = 2.5 AND 0x1F = 31 AND 017 = 15 AND 10L = 10 AND 1e3 = 1000.0",
        "convert_string_expressions:color = 12", "color = 'it''s'", "color =="]):
    write("selector", bytes([i]) + s.encode())

# --- Cron expressions (docs/scheduled.md) and destinations with consumer options (fuzz/cron.cpp).
for s in ["* * * * *", "*/15 9-17 * * 1-5", "0 0 1 1 *", "5,10,15 */2 1-15/3 2,4 0,7",
          "0 12 25 * 3", "0 0 31 2 *", "60 * * * *",
          "queue://orders?consumer.exclusive=true&consumer.priority=5"]:
    write("cron", s)

# --- Store names of durable subscriptions, with and without a selector (fuzz/durable_name.cpp).
for s in ["durable://app1:s1@topic://prices",
          "durable://app1:s1:color%20%3D%20%27red%27@topic://prices",
          "durable://network:0c1f/prices@topic://prices",
          "durable://a%3Ab:c%40d:convert_string_expressions%3Aw%20%3E%2010@topic://t.>"]:
    write("durable_name", s)
