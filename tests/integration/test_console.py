"""The web console against real nodes: the JSON API's counts match what a producer and a
consumer did; /health; /metrics in Prometheus's text format; bad input answers with the right
status and never echoes markup; credentials when the console binds elsewhere than 127.0.0.1;
and the queues page in a real browser (headless Chromium), skipped when none is installed."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import unittest
import urllib.error
import urllib.parse
import urllib.request

import harness

HTTP_TIMEOUT = 15.0
HERE = os.path.dirname(os.path.abspath(__file__))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body  # bytes

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.text)

    def __repr__(self):
        return "HTTP %d %s" % (self.status, self.body[:300])


def http(url, method="GET", body=None, headers=None, auth=None):
    """One request; answers every status as a Response (urllib raises for >= 400)."""
    headers = dict(headers or {})
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % auth).encode()).decode()
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else body.encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as r:
            return Response(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read())


def post_json(url, obj=None, raw=None, auth=None):
    body = raw if raw is not None else json.dumps(obj if obj is not None else {})
    return http(url, "POST", body, {"Content-Type": "application/json"}, auth)


def q(name):
    return urllib.parse.quote(name, safe="")


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value}; fails on any line that is not a HELP, TYPE
    or sample line, and on a sample whose family has no HELP and TYPE before it."""
    samples = {}
    typed = {}
    helped = set()
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            parts = line.split()
            assert len(parts) == 4 and parts[3] in ("counter", "gauge", "histogram",
                                                     "summary", "untyped"), line
            typed[parts[2]] = parts[3]
            continue
        assert not line.startswith("#"), "unexpected comment: %r" % line
        m = _SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name, labels_text = m.group(1), m.group(3) or ""
        assert name in typed and name in helped, "no HELP/TYPE before %r" % line
        if typed[name] == "counter":
            assert name.endswith("_total"), "counter without _total: %r" % line
        labels = {}
        pos = 0
        while pos < len(labels_text):
            lm = _LABEL.match(labels_text, pos)
            assert lm, "bad labels in %r" % line
            labels[lm.group(1)] = lm.group(2)
            pos = lm.end()
        samples[(name, frozenset(labels.items()))] = float(m.group(4))
    return samples


class ConsoleTestCase(harness.NodeTestCase):

    def url(self, node, path):
        return node.console_url + path


class ConsoleApiTest(ConsoleTestCase):

    def test_api_counts_match_producer_and_consumer(self):
        node = self.start_node("con")
        self.produce(node, "queue://console.q", 10)
        self.consume(node, "queue://console.q", 4)
        self.wait_dstat(node, "queue://console.q", pending=6, dequeued=4)

        r = http(self.url(node, "/api/queues"))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["Content-Type"].startswith("application/json"), r.headers)
        rows = {x["name"]: x for x in r.json()["queues"]}
        row = rows["queue://console.q"]
        self.assertEqual((row["pending"], row["enqueued"], row["dequeued"], row["consumers"],
                          row["in_flight"], row["duplicates_dropped"]), (6, 10, 4, 0, 0, 0), row)

        for name in ("console.q", "queue://console.q"):
            r = http(self.url(node, "/api/queues/" + q(name)))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["pending"], 6)

        r = http(self.url(node, "/api/queues/console.q/messages"))
        self.assertEqual(r.status, 200, r)
        bodies = [m["body"] for m in r.json()["messages"]]
        self.assertEqual(bodies, harness.text_messages(6, start=4))
        self.assertTrue(all(m["persistent"] for m in r.json()["messages"]))
        r = http(self.url(node, "/api/queues/console.q/messages?max=2"))
        self.assertEqual(len(r.json()["messages"]), 2)

        o = http(self.url(node, "/api/overview")).json()
        self.assertEqual(o["node"], "con")
        self.assertEqual(o["role"], "master")
        self.assertEqual(o["destinations"], 1)
        self.assertEqual(o["client_port"], node.client_port)
        self.assertEqual(o["console_port"], node.ports["console"])
        self.assertGreater(o["store"]["map_size_bytes"], 0)
        self.assertGreater(o["store"]["used_bytes"], 0)
        self.assertGreaterEqual(o["store"]["commits"], 1)
        self.assertGreater(o["uptime_ms"], 0)

        r = http(self.url(node, "/api/bridges")).json()
        self.assertEqual(r["bridges"], [])
        r = http(self.url(node, "/api/connections")).json()
        self.assertEqual(r["connections"], [])
        self.assertGreaterEqual(r["accepted"], 2)

        tree = http(self.url(node, "/api/actors")).json()
        self.assertEqual(tree["node"]["kind"], "node")
        queues = [v for v in tree["queues"].values() if v["name"] == "queue://console.q"]
        self.assertEqual(queues[0]["pending"], 6)
        self.assertIn("actor-id", tree["store"])

    def test_connections_show_a_consumer(self):
        node = self.start_node("conc")
        consumer = self.start_cli(*self.consumer_args(node, "queue://console.c", 1,
                                                      receiveTimeout=20000), label="consumer")
        self.wait_dstat(node, "queue://console.c", consumers=1)
        r = http(self.url(node, "/api/connections"))
        self.assertEqual(r.status, 200, r)
        conns = r.json()["connections"]
        self.assertEqual(len(conns), 1, conns)
        self.assertEqual(conns[0]["consumers"], 1)
        self.assertRegex(conns[0]["peer"], r"^127\.0\.0\.1:\d+$")
        consumer.kill()

    def test_concurrent_console_sends_are_all_stored(self):
        # Console sends share one producer identity across the HTTP server's threads, so they
        # reach the store out of order; the producer audit must store a late first send.
        node = self.start_node("conc")
        self.produce(node, "queue://console.c", 1)
        url = self.url(node, "/api/queues/console.c/send")
        failures = []

        def client(k):
            for i in range(100):
                r = post_json(url, {"body": "c%d-%d" % (k, i), "persistent": True})
                if r.status != 200 or r.json().get("duplicates") != 0:
                    failures.append((k, i, r.status, r.body[:200]))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertFalse(any(t.is_alive() for t in threads), "a console client hung")
        self.assertEqual(failures, [])
        self.wait_dstat(node, "queue://console.c", pending=801, enqueued=801, timeout=20)

    def test_send_and_purge_through_the_api(self):
        node = self.start_node("cons")
        self.produce(node, "queue://console.s", 1)
        r = post_json(self.url(node, "/api/queues/console.s/send"),
                      {"body": "hello <b>&</b> \u00e9", "persistent": True, "count": 3})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"queue": "queue://console.s", "sent": 3, "duplicates": 0})
        r = post_json(self.url(node, "/api/queues/console.s/send"),
                      {"body": "fleeting", "persistent": False})
        self.assertEqual(r.status, 200, r)
        self.wait_dstat(node, "queue://console.s", pending=5, enqueued=5)
        out = self.consume(node, "queue://console.s", 4)
        self.assertEqual(out.lines, ["textMessage:0"] + ["hello <b>&</b> \u00e9"] * 3)
        r = post_json(self.url(node, "/api/queues/console.s/purge"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"queue": "queue://console.s", "purged": 1})
        self.wait_dstat(node, "queue://console.s", pending=0, enqueued=5, dequeued=5)

    def test_health(self):
        node = self.start_node("conh")
        r = http(self.url(node, "/health"))
        self.assertEqual(r.status, 200, r)
        h = r.json()
        self.assertEqual(h["status"], "ready")
        self.assertEqual(h["role"], "master")
        self.assertEqual(h["node"], "conh")

    def test_metrics_in_prometheus_text_format(self):
        node = self.start_node("conm")
        self.produce(node, "queue://console.m", 7)
        self.consume(node, "queue://console.m", 2)
        self.wait_dstat(node, "queue://console.m", pending=5, dequeued=2)
        r = http(self.url(node, "/metrics"))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"),
                        r.headers)
        samples = parse_metrics(r.text)
        dest = frozenset({"destination": "queue://console.m"}.items())
        expected = {
            "actormq_destination_pending": 5,
            "actormq_destination_enqueued_total": 7,
            "actormq_destination_dequeued_total": 2,
            "actormq_destination_consumers": 0,
            "actormq_destination_in_flight": 0,
            "actormq_destination_duplicates_dropped_total": 0,
        }
        for name, value in expected.items():
            self.assertEqual(samples[(name, dest)], value, name)
        self.assertIn(("actormq_destination_memory_bytes", dest), samples)
        none = frozenset()
        self.assertEqual(samples[("actormq_up", none)], 1)
        self.assertEqual(samples[("actormq_master", none)], 1)
        self.assertEqual(samples[("actormq_sessions", none)], 0)
        self.assertGreater(samples[("actormq_store_map_size_bytes", none)], 0)
        self.assertGreater(samples[("actormq_store_used_bytes", none)], 0)
        self.assertGreaterEqual(samples[("actormq_store_commits_total", none)], 1)
        for name in ("actormq_store_last_batch_size", "actormq_store_mean_batch_size",
                     "actormq_store_last_commit_milliseconds", "actormq_store_readers"):
            self.assertIn((name, none), samples)
        # Nothing holds a read transaction open here (test_debug holds one).
        self.assertEqual(samples[("actormq_store_open_readers", none)], 0)
        self.assertEqual(samples[("actormq_store_oldest_reader_lag_transactions", none)], 0)

    def test_bad_input(self):
        node = self.start_node("conb")
        self.produce(node, "queue://console.b", 2)

        r = http(self.url(node, "/api/queues/no.such.queue"))
        self.assertEqual(r.status, 404, r)
        self.assertIn("no such queue: queue://no.such.queue", r.json()["error"])
        r = post_json(self.url(node, "/api/queues/no.such.queue/purge"))
        self.assertEqual(r.status, 404, r)
        r = http(self.url(node, "/api/queues/no.such.queue/messages"))
        self.assertEqual(r.status, 404, r)
        # The unknown queue was not created by asking.
        names = [x["name"] for x in http(self.url(node, "/api/queues")).json()["queues"]]
        self.assertEqual(names, ["queue://console.b"])
        # A send creates it, as in ActiveMQ's console.
        r = post_json(self.url(node, "/api/queues/console.new/send"), {"body": "first"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["sent"], 1, r)
        out = self.consume(node, "queue://console.new", 1)
        self.assertEqual(out.lines, ["first"])

        for raw in ('{"body": ', "not json", '["body"]', '{"body": 5}', '{"bogus": 1}',
                    '{"body": "x", "count": 0}', '{"body": "x", "priority": 12}'):
            r = post_json(self.url(node, "/api/queues/console.b/send"), raw=raw)
            self.assertEqual(r.status, 400, (raw, r))
            self.assertIn("error", r.json())
        # Containers nest at most 32 deep around a value: 33 empty arrays parse (and are refused as
        # not an object), 34 do not parse.
        send_b = self.url(node, "/api/queues/console.b/send")
        r = post_json(send_b, raw="[" * 33 + "]" * 33)
        self.assertEqual((r.status, r.json()["error"]),
                         (400, 'expected a JSON object such as {"body": "text"}'), r)
        r = post_json(send_b, raw="[" * 34 + "]" * 34)
        self.assertEqual(r.status, 400, r)
        self.assertIn("nested too deeply", r.json()["error"])
        r = post_json(send_b, raw='{"persistent": "yes"}')
        self.assertEqual(r.json(), {"error": "persistent must be true or false", "status": 400})
        # A lone surrogate escape stands for U+FFFD; a high one before another escape is refused.
        r = post_json(send_b, raw='{"body": "\\ud800\\u0041"}')
        self.assertEqual(r.status, 400, r)
        for raw in ('{"body": "a\\ud800"}', '{"body": "\\udc00b"}', '{"body": "\\ud83d\\ude00"}'):
            r = post_json(self.url(node, "/api/queues/console.u/send"), raw=raw)
            self.assertEqual(r.status, 200, (raw, r))
        out = self.consume(node, "queue://console.u", 3)
        self.assertEqual(out.lines, ["a\ufffd", "\ufffdb", "\U0001f600"])

        # Actions are POST only.
        for action in ("purge", "send", "delete"):
            r = http(self.url(node, "/api/queues/console.b/" + action))
            self.assertEqual(r.status, 405, (action, r))
            self.assertEqual(r.headers["Allow"], "POST")
        # A form post (what another site's page could send) is refused.
        r = http(self.url(node, "/api/queues/console.b/purge"), "POST", "x=1",
                 {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 415, r)
        r = http(self.url(node, "/api/queues/console.b/purge"), "POST", "{}",
                 {"Content-Type": "application/json", "Origin": "http://evil.example"})
        self.assertEqual(r.status, 403, r)
        # DNS rebinding: a request for another host name is refused.
        r = http(self.url(node, "/api/queues"), headers={"Host": "evil.example:%d"
                                                                  % node.ports["console"]})
        self.assertEqual(r.status, 421, r)
        self.wait_dstat(node, "queue://console.b", pending=2)

        r = http(self.url(node, "/no/such/page"))
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json()["error"], "not found")

        r = http(self.url(node, "/api/queues/console.b/messages?max=abc"))
        self.assertEqual(r.status, 400, r)

        # Delete removes the queue with its messages, also from the store (not back on restart).
        r = post_json(self.url(node, "/api/queues/console.b/delete"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["removed_messages"], 2, r)
        self.assertNotIn("queue://console.b", self.dstat(node))
        r = post_json(self.url(node, "/api/queues/console.b/delete"))
        self.assertEqual(r.status, 404, r)
        node.stop()
        node.restart()
        self.assertNotIn("queue://console.b", self.dstat(node))

    def test_markup_is_never_echoed(self):
        node = self.start_node("conx")
        markup = "<script>alert(1)</script>"
        for path in ("/api/queues/" + q(markup), "/api/queues/" + q(markup) + "/messages"):
            r = http(self.url(node, path))
            self.assertEqual(r.status, 400, r)
            self.assertNotIn(b"<", r.body)
            self.assertIn("bad character", r.json()["error"])
            self.assertIn(markup, r.json()["error"])  # named, as JSON-escaped text
        r = post_json(self.url(node, "/api/queues/" + q(markup) + "/send"), {"body": "x"})
        self.assertEqual(r.status, 400, r)
        self.assertNotIn(b"<", r.body)

        # A body with markup comes back as text, escaped in the JSON.
        self.produce(node, "queue://console.x", 1)
        body = '<img src=x onerror="alert(1)"> & \'quoted\''
        r = post_json(self.url(node, "/api/queues/console.x/send"), {"body": body})
        self.assertEqual(r.status, 200, r)
        r = http(self.url(node, "/api/queues/console.x/messages"))
        self.assertEqual(r.status, 200, r)
        self.assertNotIn(b"<img", r.body)
        self.assertEqual(r.json()["messages"][1]["body"], body)
        # The pages are static and carry no data; the script writes data as text only.
        for page in ("/", "/queues.html", "/connections.html", "/bridges.html",
                     "/scheduled.html"):
            r = http(self.url(node, page))
            self.assertEqual(r.status, 200, (page, r))
            self.assertTrue(r.headers["Content-Type"].startswith("text/html"))
            self.assertIn("script-src 'self'", r.headers["Content-Security-Policy"])
            self.assertNotIn(b"console.x", r.body)
        js = http(self.url(node, "/console.js")).text
        sink = re.search(r"\.(innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML|document\.write", js)
        self.assertIsNone(sink, "the console script writes markup: %r" % (sink and sink.group(0)))


class ConsoleBridgeTest(ConsoleTestCase):

    def test_bridges_in_the_api_the_page_data_and_metrics(self):
        peer = self.start_node("conpeer")
        node = self.start_node(
            "conbr", extra_config='network_connectors { name: "to-peer" uri: "static:(%s)" }'
            % peer.cluster_url)
        deadline_ok = False
        for _ in range(100):
            r = http(self.url(node, "/api/bridges"))
            self.assertEqual(r.status, 200, r)
            bridges = r.json()["bridges"]
            if bridges and bridges[0]["state"].get("peer") == "conpeer":
                deadline_ok = True
                break
            harness.time.sleep(0.1)
        self.assertTrue(deadline_ok, r)
        self.assertEqual(len(bridges), 1, bridges)
        state = bridges[0]["state"]
        self.assertEqual(state["kind"], "bridge")
        self.assertEqual(state["name"], "to-peer")
        self.assertEqual(r.json()["configured"],
                         [{"name": "to-peer", "uri": "static:(%s)" % peer.cluster_url}])
        self.assertEqual(http(self.url(node, "/api/overview")).json()["bridges"], 1)
        samples = parse_metrics(http(self.url(node, "/metrics")).text)
        labels = frozenset({"bridge": "to-peer", "peer": "conpeer"}.items())
        self.assertIn(("actormq_bridge_forwarded", labels), samples)
        self.assertIn(("actormq_bridge_in_transfer", labels), samples)
        # The peer has no connector of its own.
        self.assertEqual(http(self.url(peer, "/api/bridges")).json(),
                         {"bridges": [], "configured": []})


class ConsoleAuthTest(ConsoleTestCase):

    def test_elsewhere_than_127_0_0_1_without_credentials_refuses_to_start(self):
        node = self.make_node("cona", overrides=["console.host=127.0.0.2"])
        node.start(wait_ready=False)
        self.assertEqual(node.wait_exit(harness.STOP_TIMEOUT), harness.EXIT_FATAL, node.describe())
        self.assertIn("console_auth", node.log)
        self.assertIn("127.0.0.2:%d" % node.ports["console"], node.log)

    def test_credentials_are_required_when_bound_elsewhere(self):
        node = self.start_node(
            "conauth", overrides=["console.host=127.0.0.2"],
            extra_config='console_auth { user: "admin" password: "s3cret:pw" }')
        base = "http://127.0.0.2:%d" % node.ports["console"]
        self.produce(node, "queue://console.a", 3)
        good = ("admin", "s3cret:pw")
        for path in ("/", "/queues.html", "/api/queues", "/health", "/metrics",
                     "/api/queues/console.a/messages"):
            r = http(base + path)
            self.assertEqual(r.status, 401, (path, r))
            self.assertIn("Basic", r.headers["WWW-Authenticate"])
            self.assertIn("credentials required", r.json()["error"])
            r = http(base + path, auth=("admin", "wrong"))
            self.assertEqual(r.status, 401, (path, r))
            r = http(base + path, auth=good)
            self.assertEqual(r.status, 200, (path, r))
        r = post_json(base + "/api/queues/console.a/purge")
        self.assertEqual(r.status, 401, r)
        self.wait_dstat(node, "queue://console.a", pending=3)
        r = http(base + "/api/queues/console.a/purge", auth=good)
        self.assertEqual(r.status, 405, r)
        r = post_json(base + "/api/queues/console.a/send", {"body": "x"}, auth=good)
        self.assertEqual(r.status, 200, r)
        r = post_json(base + "/api/queues/console.a/purge", auth=good)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["purged"], 4)
        self.wait_dstat(node, "queue://console.a", pending=0)

    def test_credentials_need_user_and_password(self):
        node = self.make_node("conhalf", extra_config='console_auth { user: "admin" }')
        node.start(wait_ready=False)
        self.assertEqual(node.wait_exit(harness.STOP_TIMEOUT), harness.EXIT_FATAL, node.describe())
        self.assertIn("needs both a user and a password", node.log)


# ---- the browser ---------------------------------------------------------------------------


def _browser_python():
    """An interpreter that can import selenium (this one, or Debian's python3), or None."""
    for exe in (sys.executable, "/usr/bin/python3"):
        if not exe or not os.access(exe, os.X_OK):
            continue
        try:
            rc = subprocess.run([exe, "-c", "import selenium"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=30).returncode
        except (OSError, subprocess.TimeoutExpired):
            continue
        if rc == 0:
            return exe
    return None


def browser_missing():
    """Why the browser test cannot run, or None."""
    missing = [p for p in ("chromium", "chromedriver") if not shutil.which(p)]
    if missing:
        return ("headless Chromium is not installed (%s missing): install chromium, "
                "chromium-driver and python3-selenium (tools/install-deps.sh --browser)"
                % ", ".join(missing))
    if _browser_python() is None:
        return ("selenium is not importable by %s nor /usr/bin/python3: install python3-selenium "
                "(tools/install-deps.sh --browser)" % sys.executable)
    return None


class ConsoleBrowserTest(ConsoleTestCase):

    def test_queues_page_purge_in_headless_chromium(self):
        why = browser_missing()
        if why:
            self.skipTest(why)
        # Expired messages go to ActiveMQ.DLQ at once (the sweep every 100 ms): the page's
        # Retry button sends them back.
        node = self.start_node("conweb", extra_config='destination_policies { queue: ">" '
                               'expire_messages_period_ms: 100 }')
        self.produce(node, "queue://console.back", 2, msgTTL=50)
        self.wait_dstat(node, "queue://ActiveMQ.DLQ", pending=2)
        self.produce(node, "queue://console.web", 5)
        # A message whose body is markup: the page must show it as text.
        r = post_json(self.url(node, "/api/queues/console.web/send"),
                      {"body": '<img id="xss" src="x" onerror="document.title=\'owned\'">'})
        self.assertEqual(r.status, 200, r)
        self.wait_dstat(node, "queue://console.web", pending=6)
        # A message scheduled far ahead, for the scheduled page (docs/scheduled.md).
        self.produce(node, "queue://console.later", 1, delay=3600000)
        shots = os.environ.get("ACTORMQ_IT_SCREENSHOTS") or os.path.join(self.workdir, "shots")
        os.makedirs(shots, exist_ok=True)
        p = self.run_program([_browser_python(), os.path.join(HERE, "browser_console.py"),
                              node.console_url, "queue://console.web", "6", shots, "1",
                              "queue://ActiveMQ.DLQ"],
                             "browser", 120)
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertIn("purged: pending 0", p.stdout)
        self.assertIn("cancelled: 0 listed", p.stdout)
        self.assertIn("retried: pending 0", p.stdout)
        r = http(self.url(node, "/api/scheduled"))
        self.assertEqual(r.json()["scheduled"], [], r)
        self.wait_dstat(node, "queue://console.web", pending=0)
        self.wait_dstat(node, "queue://console.back", pending=2)


if __name__ == "__main__":
    unittest.main()
