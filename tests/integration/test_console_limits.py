"""The console under hostile clients, against real nodes: 100 connections that send half a
request line, a request line and no more, half a body or nothing do not delay anyone else's
answer, nor the client port; a request that arrives too slowly is cut off with 408; beyond
limits.console_max_connections a client gets 503 at once; state changes are POST only (DELETE
answers 405 and removes nothing) and a request without a body is answered at once."""

import http.client
import json
import os
import socket
import sys
import time
import unittest

import harness

# The issue asks for answers within 100 ms while 100 idle connections are open; a loaded 2-core
# CI machine gets a generous margin. The figures measured are printed on stderr.
ANSWER_BOUND = 2.0
CLIENT_TIMEOUT = 5.0
IDLE_CONNECTIONS = 100


class Answer:
    def __init__(self, status, headers, body, seconds):
        self.status = status
        self.headers = headers  # lower-case names
        self.body = body
        self.seconds = seconds

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "HTTP %s after %.3f s %r" % (self.status, self.seconds, self.body[:300])


def request(node, method, path, body=None, headers=None, timeout=CLIENT_TIMEOUT):
    """One request on a new connection; the answer with the seconds it took (None as status
    when no answer came within `timeout`)."""
    port = node.ports["console"]
    headers = dict(headers or {})
    if body is not None:
        headers.setdefault("Content-Type", "application/json")
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, data,
                      time.monotonic() - start)
    except (socket.timeout, TimeoutError):
        return Answer(None, {}, b"no answer within %.0f s" % timeout, time.monotonic() - start)
    finally:
        conn.close()


def raw_exchange(port, data, timeout=CLIENT_TIMEOUT):
    """Sends `data` as it is and reads one answer (until its Content-Length is complete or the
    server closes), then waits up to 1 s more for the server to close: (answer bytes, whether
    the server closed, seconds until the answer)."""
    start = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        answer, closed = read_answer(s, start + timeout)
        took = time.monotonic() - start
        if not closed:
            rest, closed = read_answer(s, time.monotonic() + 1.0)
            answer += rest
        return answer, closed, took
    finally:
        s.close()


def read_answer(s, deadline):
    """(bytes, closed): reads one answer (head and Content-Length bytes) or until the server
    closes or the deadline passes."""
    got = b""
    while time.monotonic() < deadline:
        head_end = got.find(b"\r\n\r\n")
        if head_end >= 0:
            length = 0
            for line in got[:head_end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if len(got) >= head_end + 4 + length:
                return got, False
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except (socket.timeout, TimeoutError):
            break
        except ConnectionResetError:
            return got, True
        if not chunk:
            return got, True
        got += chunk
    return got, False


def status_of(answer_bytes):
    line = answer_bytes.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) >= 2 else None


def still_open(s):
    """True when the server has neither closed `s` nor written to it."""
    s.setblocking(False)
    try:
        s.recv(1, socket.MSG_PEEK)  # an answer, or b"" (closed)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        s.setblocking(True)


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class ConsoleLimitsTest(harness.NodeTestCase):

    def host(self, node):
        return ("127.0.0.1:%d" % node.ports["console"]).encode()

    def open_idle_connections(self, node, queue, count):
        """`count` connections that stop sending part-way: a request line cut short, a request
        line and no headers (the issue's case), a POST whose body stops after 10 of 1000 bytes,
        and nothing at all, in turn."""
        host = self.host(node)
        kinds = [
            b"GET /hea",
            b"GET /health HTTP/1.1\r\n",
            b"POST /api/queues/" + queue.encode() + b"/send HTTP/1.1\r\nHost: " + host +
            b"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"body\": \"",
            b"",
        ]
        socks = []
        for i in range(count):
            s = socket.create_connection(("127.0.0.1", node.ports["console"]), timeout=10)
            self.addCleanup(s.close)
            data = kinds[i % len(kinds)]
            if data:
                s.sendall(data)
            socks.append(s)
        return socks

    def assert_prompt(self, answer, status, what):
        self.assertEqual(answer.status, status, "%s: %r" % (what, answer))
        self.assertLess(answer.seconds, ANSWER_BOUND, "%s took too long: %r" % (what, answer))

    def test_idle_connections_do_not_delay_other_clients(self):
        node = self.start_node("lim")
        self.produce(node, "queue://limits.q", 3)
        pid = node.pid
        threads_before = proc_status(pid, "Threads")
        fds_before = open_fds(pid)

        opened = time.monotonic()
        idle = self.open_idle_connections(node, "limits.q", IDLE_CONNECTIONS)
        # Measure once the node has accepted them all (each is then an open descriptor of it).
        deadline = time.monotonic() + 10
        while open_fds(pid) < fds_before + IDLE_CONNECTIONS:
            if time.monotonic() > deadline:
                self.fail("the node accepted only %d of %d connections within 10 s"
                          % (open_fds(pid) - fds_before, IDLE_CONNECTIONS))
            time.sleep(0.01)

        answers = []
        r = request(node, "GET", "/health")
        self.assert_prompt(r, 200, "GET /health beside %d idle connections" % len(idle))
        self.assertEqual(r.json()["status"], "ready", r)
        answers.append(r)
        r = request(node, "GET", "/api/queues")
        self.assert_prompt(r, 200, "GET /api/queues")
        self.assertEqual({x["name"]: x["pending"] for x in r.json()["queues"]},
                         {"queue://limits.q": 3}, r)
        answers.append(r)
        r = request(node, "POST", "/api/queues/limits.q/send", json.dumps({"body": "beside"}))
        self.assert_prompt(r, 200, "POST send")
        self.assertEqual(r.json()["sent"], 1, r)
        answers.append(r)
        r = request(node, "GET", "/api/queues/limits.q")
        self.assert_prompt(r, 200, "GET one queue")
        self.assertEqual(r.json()["pending"], 4, r)  # the half-sent POSTs sent nothing
        answers.append(r)
        held = time.monotonic() - opened
        # The answers came while every idle connection was still open (not after the node
        # dropped them).
        closed = [i for i, s in enumerate(idle) if not still_open(s)]
        self.assertEqual(closed, [], "idle connections closed by the node after %.1f s" % held)
        sys.stderr.write("\nconsole answers beside %d idle connections: %s ms (all %d held "
                         "for %.2f s)\n" % (len(idle), ", ".join(
                             "%.1f" % (a.seconds * 1000) for a in answers), len(idle), held))

        # The client port serves on.
        self.produce(node, "queue://limits.c", 5)
        self.consume(node, "queue://limits.c", 5)

        for s in idle:
            s.close()
        r = request(node, "GET", "/health")
        self.assert_prompt(r, 200, "GET /health after the idle connections closed")
        r = request(node, "GET", "/api/queues/limits.q")
        self.assert_prompt(r, 200, "GET one queue after the idle connections closed")
        self.assertEqual(r.json()["pending"], 4, r)
        # Their threads and sockets are given back.
        deadline = time.monotonic() + 15
        while True:
            threads, fds = proc_status(pid, "Threads"), open_fds(pid)
            if threads <= threads_before + 2 and fds <= fds_before + 2:
                break
            if time.monotonic() > deadline:
                self.fail("threads %d (before %d), open descriptors %d (before %d) 15 s after "
                          "the idle connections closed" % (threads, threads_before, fds,
                                                           fds_before))
            time.sleep(0.1)

    def test_slow_requests_are_cut_off(self):
        timeout_ms = 1000
        node = self.start_node("slow", limits="console_request_timeout_ms: %d" % timeout_ms)
        self.produce(node, "queue://limits.s", 1)
        port = node.ports["console"]
        host = self.host(node)

        # Slowloris: a header byte every 100 ms never completes the head.
        start = time.monotonic()
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: " + host + b"\r\n")
        cut = False
        while time.monotonic() - start < 10:
            try:
                s.sendall(b"X")
            except OSError:
                cut = True
                break
            answer, closed = read_answer(s, time.monotonic() + 0.1)
            if answer or closed:
                self.assertEqual(status_of(answer), 408, answer)
                self.assertIn(b"did not arrive complete", answer)
                cut = True
                break
        took = time.monotonic() - start
        self.assertTrue(cut, "a head sent one byte at a time was not cut off within 10 s")
        self.assertLess(took, timeout_ms / 1000 + ANSWER_BOUND, "cut off only after %.2f s" % took)
        sys.stderr.write("\nslowloris head cut off after %.2f s (request timeout %d ms)\n"
                         % (took, timeout_ms))

        cases = [
            ("a body that stops", b"POST /api/queues/limits.s/send HTTP/1.1\r\nHost: " + host +
             b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"body\":"),
            ("a request line cut short", b"GET /heal"),
        ]
        for what, data in cases:
            answer, closed, took = raw_exchange(port, data, timeout=10)
            self.assertEqual(status_of(answer), 408, (what, answer))
            self.assertIn(b"Connection: close", answer, what)
            self.assertTrue(closed, what)
            self.assertLess(took, timeout_ms / 1000 + ANSWER_BOUND, (what, took))
        # A connection that never sends is closed without an answer.
        answer, closed, took = raw_exchange(port, b"", timeout=10)
        self.assertEqual((answer, closed), (b"", True))
        self.assertLess(took, timeout_ms / 1000 + ANSWER_BOUND, took)
        # The cut-off POST sent nothing.
        r = request(node, "GET", "/api/queues/limits.s")
        self.assert_prompt(r, 200, "GET one queue")
        self.assertEqual(r.json()["pending"], 1, r)

    def test_connections_beyond_the_limit_get_503(self):
        node = self.start_node("cap", limits="console_max_connections: 4")
        held = self.open_idle_connections(node, "limits.cap", 4)
        for attempt in range(3):
            r = request(node, "GET", "/health")
            self.assert_prompt(r, 503, "GET /health beyond the connection limit")
            self.assertEqual(r.headers.get("retry-after"), "1", r)
            self.assertIn("too many open connections", r.json()["error"])
        self.assertTrue(all(still_open(s) for s in held))
        node.wait_for_log(r"refusing more with 503", timeout=5)
        # A slot that frees up serves the next client.
        held[0].close()
        self.health_once_a_slot_frees(node, "a held connection closed")
        for s in held[1:]:
            s.close()
        # More than the limit, one after another: each finds a slot. A closed connection's
        # thread ends a moment after the client has its answer, so a slot may take that moment
        # to free; a slot that never frees fails within the bound.
        for i in range(6):
            self.health_once_a_slot_frees(node, "request %d after every held connection closed" % i)

    def health_once_a_slot_frees(self, node, after):
        deadline = time.monotonic() + 10
        while True:
            r = request(node, "GET", "/health")
            if r.status == 200:
                return r
            self.assertEqual(r.status, 503, r)
            if time.monotonic() > deadline:
                self.fail("no slot 10 s after %s: %r" % (after, r))
            time.sleep(0.05)

    def test_state_changes_are_post_only(self):
        node = self.start_node("post")
        self.produce(node, "queue://limits.d", 2)
        port = node.ports["console"]
        host = self.host(node)

        # DELETE does not delete: 405 naming POST, and the queue keeps its messages.
        for path in ("/api/queues/limits.d", "/api/queues/queue%3A%2F%2Flimits.d",
                     "/api/queues/limits.d/delete"):
            r = request(node, "DELETE", path)
            self.assert_prompt(r, 405, "DELETE " + path)
            self.assertIn("error", r.json())
        r = request(node, "DELETE", "/api/queues/limits.d/delete")
        self.assertEqual(r.headers.get("allow"), "POST", r)
        r = request(node, "DELETE", "/api/queues/limits.d")
        self.assertEqual(r.headers.get("allow"), "GET, HEAD", r)
        r = request(node, "GET", "/api/queues/limits.d")
        self.assert_prompt(r, 200, "GET the queue after DELETE")
        self.assertEqual(r.json()["pending"], 2, r)
        self.wait_dstat(node, "queue://limits.d", pending=2)

        # The PUT without a body: 405 at once (not after a read timeout), nothing purged.
        answer, closed, took = raw_exchange(
            port, b"PUT /api/queues/limits.d/purge HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        self.assertEqual(status_of(answer), 405, answer)
        self.assertIn(b"Allow: POST", answer)
        self.assertLess(took, ANSWER_BOUND, took)
        # A POST that does not say how long its body is: 411 at once.
        answer, closed, took = raw_exchange(
            port, b"POST /api/queues/limits.d/purge HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        self.assertEqual(status_of(answer), 411, answer)
        self.assertIn(b"Content-Length", answer)
        self.assertLess(took, ANSWER_BOUND, took)
        # A body announced beyond 1 MiB is refused before it is read, and the connection closes.
        answer, closed, took = raw_exchange(
            port, b"POST /api/queues/limits.d/send HTTP/1.1\r\nHost: " + host +
            b"\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n{")
        self.assertEqual(status_of(answer), 413, answer)
        self.assertIn(b"Connection: close", answer)
        self.assertLess(took, ANSWER_BOUND, took)
        # Reads are GET only.
        r = request(node, "POST", "/api/queues", "{}")
        self.assert_prompt(r, 405, "POST /api/queues")
        self.assertEqual(r.headers.get("allow"), "GET, HEAD", r)
        r = request(node, "GET", "/api/queues/limits.d/purge")
        self.assert_prompt(r, 405, "GET purge")
        self.assertEqual(r.headers.get("allow"), "POST", r)
        r = request(node, "GET", "/api/queues/limits.d")
        self.assertEqual(r.json()["pending"], 2, r)

        # POST still deletes.
        r = request(node, "POST", "/api/queues/limits.d/delete", "{}")
        self.assert_prompt(r, 200, "POST delete")
        self.assertEqual(r.json()["deleted"], True, r)
        r = request(node, "GET", "/api/queues/limits.d")
        self.assertEqual(r.status, 404, r)


if __name__ == "__main__":
    unittest.main()
