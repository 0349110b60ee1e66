"""A hand-made Protobuf client for local transactions (protocol/actormq.proto: BeginTransaction,
CommitTransaction, RollbackTransaction; Send.transaction_id, Ack.transaction_id), so that a test
controls every frame: what is held, when the commit goes, and when the client vanishes."""

import time

import harness
import stomp_support as ss

F_DISPATCH = 16
F_ACK = 17
F_BEGIN = 28
F_COMMIT = 29
F_ROLLBACK = 30

ERROR_LIMIT_EXCEEDED = 7
ERROR_INVALID_FIELD = 16
ERROR_UNKNOWN_TRANSACTION = 17
ERROR_TRANSACTION_ROLLED_BACK = 18


class TxClient:
    """One Protobuf connection. request() waits for the answer to its correlation id."""

    def __init__(self, case, node, timeout=10.0):
        self.case = case
        self.timeout = timeout
        self.raw = harness.RawClient(node.client_port, timeout)
        case.addCleanup(self.raw.close)
        self.correlation = 1
        self.raw.send(harness.connect_frame(correlation_id=1))
        ok = self.raw.read_until(lambda d: harness.has_command(d, harness.F_CONNECTED), timeout)
        case.assertTrue(ok, "no Connected from the node")

    def _answer(self, correlation):
        for fields in harness.split_frames(self.raw.received):
            values = dict((f, v) for f, _, v in fields)
            if values.get(harness.F_CORRELATION) != correlation:
                continue
            if harness.F_RECEIPT in values:
                receipt = dict((f, v) for f, _, v in harness.pb_parse(values[harness.F_RECEIPT]))
                return ("receipt", receipt.get(1, 0), receipt.get(2, 0))
            if harness.F_ERROR in values:
                error = dict((f, v) for f, _, v in harness.pb_parse(values[harness.F_ERROR]))
                return ("error", error.get(1, 0), error.get(2, b"").decode("utf-8", "replace"))
        return None

    def request(self, field, body):
        self.correlation += 1
        c = self.correlation
        self.raw.send(harness.frame(harness.pb_field_varint(harness.F_CORRELATION, c) +
                                    harness.pb_field_bytes(field, body)))
        ok = self.raw.read_until(lambda d: self._answer(c) is not None, self.timeout)
        self.case.assertTrue(ok, "no answer to request %d (closed: %s)"
                             % (c, self.raw.closed_by_peer))
        return self._answer(c)

    def begin(self, tx):
        return self.request(F_BEGIN, harness.pb_field_bytes(1, tx))

    def commit(self, tx):
        return self.request(F_COMMIT, harness.pb_field_bytes(1, tx))

    def rollback(self, tx):
        return self.request(F_ROLLBACK, harness.pb_field_bytes(1, tx))

    def send(self, destination, body, tx=None):
        send = harness.pb_field_bytes(1, ss.pb_message(destination, body))
        if tx is not None:
            send += harness.pb_field_bytes(2, tx)
        return self.request(harness.F_SEND, send)

    def ack(self, consumer_id, keys, tx=None):
        body = harness.pb_field_varint(1, consumer_id)
        for k in keys:
            body += harness.pb_field_varint(2, k)
        if tx is not None:
            body += harness.pb_field_bytes(3, tx)
        return self.request(F_ACK, body)

    def open_consumer(self, consumer_id, destination, prefetch=100):
        self.correlation += 1
        c = self.correlation
        self.raw.send(ss.pb_open_consumer(c, consumer_id, destination, prefetch))
        ok = self.raw.read_until(lambda d: self._answer(c) is not None, self.timeout)
        self.case.assertTrue(ok, "no answer to OpenConsumer")
        return self._answer(c)

    def dispatches(self):
        """Every Dispatch received so far: dicts with key, redelivered, delivery_count, body."""
        out = []
        for fields in harness.split_frames(self.raw.received):
            for field, wt, value in fields:
                if field != F_DISPATCH or wt != 2:
                    continue
                d = {"redelivered": False, "delivery_count": 0}
                for f, _, v in harness.pb_parse(value):
                    if f == 2:
                        d["key"] = v
                    elif f == 3:
                        d["redelivered"] = bool(v)
                    elif f == 4:
                        d["delivery_count"] = v
                    elif f == 5:
                        d["body"] = ss._pb_message_fields(v)["body"]
                out.append(d)
        return out

    def wait_dispatches(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.dispatches()) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                self.case.fail("%d dispatches expected, have %d" % (n, len(self.dispatches())))
            self.raw.read_until(lambda d: False, min(left, 0.1))
        return self.dispatches()
