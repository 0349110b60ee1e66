"""Flow control, as ActiveMQ's by default: a producer over a limit waits instead of failing.

- The store limit (store.max_size_mb): a persistent send that finds the store full waits for room
  (its receipt comes once consumers made some); the node log and the console name the limit; a
  consumer drains and every receipted message arrives once, in order. A transacted producer's
  commit waits the same way. With limits.send_fail_if_no_space_after_timeout_ms a waiting send
  fails after about that long. A kill -9 while producers wait loses nothing receipted.
  (limits.send_fail_if_no_space, where sends fail at once: test_store_full.py.)
- A queue's memory limit from its destination policy (ActiveMQ's policyEntry memoryLimit): that
  queue's non-persistent producers wait at its small limit while another queue goes on; with
  limits.send_fail_if_no_space they fail at once, with the timeout after it.
"""

import datetime
import time
import unittest

import harness
from stomp_support import pb_message, pb_send
from test_console import http, parse_metrics

SMALL_STORE = "store { max_size_mb: 1 }\n"
# Bodies of "textMessage:N" (about 16 bytes): a 1 MiB store is full after a few thousand.
COUNT = 8000
HELD_LOG = r"queue queue://%s: the store is full \(store\.max_size_mb = 1\): producers wait"


def log_time(line_match):
    """The timestamp at the start of the log line a match is in."""
    text = line_match.string
    start = text.rfind("\n", 0, line_match.start()) + 1
    return datetime.datetime.strptime(text[start:start + 23], "%Y-%m-%d %H:%M:%S.%f")


class StoreFlowControlTest(harness.NodeTestCase):

    def queue_row(self, node, name):
        r = http(node.console_url + "/api/queues")
        self.assertEqual(r.status, 200, r)
        rows = {q["name"]: q for q in r.json()["queues"]}
        self.assertIn(name, rows, r)
        return rows[name]

    def metrics(self, node):
        r = http(node.console_url + "/metrics")
        self.assertEqual(r.status, 200, r)
        return parse_metrics(r.text)

    def test_a_full_store_holds_the_producer_until_a_consumer_makes_room(self):
        node = self.start_node("sfc-held", extra_config=SMALL_STORE)
        producer = self.start_cli(*self.producer_args(node, "queue://held", COUNT,
                                                      asyncWindow=64), label="producer")
        node.wait_for_log(HELD_LOG % "held", 60)
        self.assertIn("store is full (store.max_size_mb = 1", node.log)
        # Held, not failed: ActiveMQ's block, which the log and the console explain.
        self.assert_stays(producer.running, 1.0, "the held producer running", producer.describe)
        row = self.queue_row(node, "queue://held")
        self.assertTrue(row["flow_controlled"], row)
        self.assertEqual(row["flow_reason"], "store full", row)
        samples = self.metrics(node)
        self.assertGreater(samples[("actormq_store_held_sends", frozenset())], 0)
        self.assertEqual(samples[("actormq_destination_flow_controlled",
                                  frozenset({("destination", "queue://held")}))], 1)
        stored = row["pending"]
        self.assertGreater(stored, 100, row)
        self.assertLess(stored, COUNT, row)

        consumer = self.start_cli(*self.consumer_args(node, "queue://held", COUNT,
                                                      receiveTimeout=20000), label="consumer")
        self.assertEqual(self.finish(consumer, 180).returncode, 0, consumer.describe())
        self.assertEqual(self.finish(producer, 60).returncode, 0, producer.describe())
        self.assertEqual(harness.produced_count(producer.stderr), COUNT, producer.describe())
        # Every receipted message once, in the order sent.
        self.assertEqual(consumer.lines, harness.text_messages(COUNT))
        node.wait_for_log(r"queue queue://held releases its producers: the store has room", 10)
        self.assertFalse(self.queue_row(node, "queue://held")["flow_controlled"])
        self.assertNotIn("error", node.log.lower(), node.describe())

    def test_a_transacted_producer_waits_in_its_commit(self):
        node = self.start_node("sfc-txn", extra_config=SMALL_STORE)
        count = 6000
        producer = self.start_cli(*self.producer_args(node, "queue://txn", count,
                                                      transacted="true",
                                                      transactionBatchSize=100),
                                  label="producer")
        node.wait_for_log(r"store is full \(store\.max_size_mb = 1", 60)
        self.assert_stays(producer.running, 1.0, "the held transacted producer running",
                          producer.describe)
        consumer = self.start_cli(*self.consumer_args(node, "queue://txn", count,
                                                      receiveTimeout=20000), label="consumer")
        self.assertEqual(self.finish(consumer, 180).returncode, 0, consumer.describe())
        self.assertEqual(self.finish(producer, 60).returncode, 0, producer.describe())
        self.assertNotIn("rolled back", producer.stderr, producer.describe())
        self.assertEqual(consumer.lines, harness.text_messages(count))

    def test_a_waiting_send_fails_after_the_timeout(self):
        node = self.start_node("sfc-timeout", extra_config=SMALL_STORE,
                               limits="send_fail_if_no_space_after_timeout_ms: 1500")
        p = self.produce(node, "queue://timeout", 200, messageSize=65536, check=False,
                         timeout=60)
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("the store is full", p.stderr, p.describe())
        held = node.wait_for_log(r"store is full \(store\.max_size_mb = 1[^\n]*sends wait for "
                                 r"room for up to 1500 ms", 10)
        failed = node.wait_for_log(r"1 sends failed after waiting 1500 ms for room", 10)
        waited = (log_time(failed) - log_time(held)).total_seconds()
        self.assertGreaterEqual(waited, 1.4, "failed after %.3f s" % waited)
        self.assertLess(waited, 6.0, "failed after %.3f s" % waited)
        samples = self.metrics(node)
        self.assertEqual(samples[("actormq_store_held_sends_timed_out_total", frozenset())], 1)
        self.assertEqual(samples[("actormq_store_held_sends", frozenset())], 0)
        # Everything receipted is there; nothing of the failed send.
        n = harness.produced_count(p.stderr)
        self.assertGreater(n, 0, p.describe())
        self.assertEqual(self.dstat(node)["queue://timeout"]["pending"], n)
        c = self.consume(node, "queue://timeout", n, receiveTimeout=10000, timeout=60)
        self.assertTrue(all(len(line) == 65536 for line in c.lines))

    def test_kill_while_producers_wait_loses_nothing_receipted(self):
        node = self.start_node("sfc-kill", extra_config=SMALL_STORE)
        url = "failover:(%s)?maxReconnectDelay=200" % node.client_url
        producer = self.start_cli(*self.producer_args(url, "queue://kill", COUNT,
                                                      asyncWindow=64), label="producer")
        node.wait_for_log(HELD_LOG % "kill", 60)
        self.assert_stays(producer.running, 0.5, "the held producer running", producer.describe)
        node.kill()
        node.restart()
        # The store is full again at once: the resent window waits as before.
        node.wait_for_log(HELD_LOG % "kill", 60)
        consumer = self.start_cli(*self.consumer_args(node, "queue://kill", COUNT,
                                                      receiveTimeout=20000), label="consumer")
        self.assertEqual(self.finish(consumer, 180).returncode, 0, consumer.describe())
        self.assertEqual(self.finish(producer, 60).returncode, 0, producer.describe())
        self.assertEqual(harness.produced_count(producer.stderr), COUNT, producer.describe())
        # Each message once (the producer audit drops the resends of stored ones).
        self.assertEqual(sorted(consumer.lines), sorted(harness.text_messages(COUNT)))
        self.wait_dstat(node, "queue://kill", timeout=10, pending=0)


ERROR_LIMIT_EXCEEDED = 7


def answers(data):
    """{correlation id: ("receipt", None) or ("error", (code, text))} of every complete frame."""
    out = {}
    for fields in harness.split_frames(data):
        corr = next((v for f, wt, v in fields if f == harness.F_CORRELATION and wt == 0), 0)
        for f, wt, v in fields:
            if f == harness.F_RECEIPT and wt == 2:
                out[corr] = ("receipt", None)
            elif f == harness.F_ERROR and wt == 2:
                parsed = harness.pb_parse(v)
                code = next((x for g, _, x in parsed if g == 1), 0)
                text = next((x for g, _, x in parsed if g == 2), b"").decode()
                out[corr] = ("error", (code, text))
    return out


class MemoryFlowControlTest(harness.NodeTestCase):
    POLICY = 'destination_policies { queue: "small.>" memory_limit_bytes: 65536 }\n'
    BODY = 16384
    # The library's non-persistent sends ask for no receipt: the node reads on until a
    # connection has 4 MiB of them unanswered, so a held producer needs more than that.
    COUNT = 1000

    def connected(self, node):
        raw = self.raw_client(node, timeout=10.0)
        raw.send(harness.connect_frame())
        self.assertTrue(raw.read_until(lambda d: harness.has_command(d, harness.F_CONNECTED), 5),
                        "no Connected frame, got %r" % raw.received[:200])
        raw.received = b""
        return raw

    def send_non_persistent(self, raw, destination, correlations):
        """Non-persistent sends that ask for a receipt (as STOMP's receipt header does)."""
        for c in correlations:
            raw.send(pb_send(c, pb_message(destination, b"m" * self.BODY, persistent=False)))

    def test_a_policy_limit_holds_one_queue_while_another_flows(self):
        node = self.start_node("mfc-held", extra_config=self.POLICY)
        held = self.start_cli(*self.producer_args(node, "queue://small.orders", self.COUNT,
                                                  persistent="false", messageSize=self.BODY),
                              label="held")
        node.wait_for_log(r'queue queue://small\.orders is over its memory limit \(\d+ of 65536 '
                          r'bytes, set by destination_policies \{ queue: "small\.>" \}\): '
                          r'producers wait', 30)
        self.assert_stays(held.running, 1.0, "the held producer running", held.describe)
        # A queue no entry matches has limits.destination_memory_bytes (64 MiB): it flows.
        self.produce(node, "queue://big", 100, persistent="false", messageSize=self.BODY,
                     timeout=60)
        self.wait_dstat(node, "queue://big", timeout=10, pending=100)
        r = http(node.console_url + "/api/queues")
        rows = {q["name"]: q for q in r.json()["queues"]}
        small, big = rows["queue://small.orders"], rows["queue://big"]
        self.assertTrue(small["flow_controlled"], small)
        self.assertEqual(small["flow_reason"], "memory limit 65536 bytes", small)
        self.assertLessEqual(small["memory_bytes"], 65536 + self.BODY, small)
        self.assertLessEqual(small["pending"], 65536 // self.BODY + 1, small)
        self.assertFalse(big["flow_controlled"], big)
        self.assertEqual(big["flow_reason"], "", big)

        c = self.consume(node, "queue://small.orders", self.COUNT, receiveTimeout=10000,
                         timeout=120)
        self.assertTrue(all(len(line) == self.BODY for line in c.lines))
        self.assertEqual(self.finish(held, 30).returncode, 0, held.describe())
        self.assertEqual(harness.produced_count(held.stderr), self.COUNT, held.describe())
        node.wait_for_log(r"queue queue://small\.orders releases its producers", 10)

    def test_send_fail_if_no_space_refuses_at_once(self):
        node = self.start_node("mfc-fail", extra_config=self.POLICY,
                               limits="send_fail_if_no_space: true")
        raw = self.connected(node)
        sent = range(2, 12)
        self.send_non_persistent(raw, "queue://small.orders", sent)
        self.assertTrue(raw.read_until(lambda d: set(sent) <= set(answers(d)), 10),
                        "not every send answered: %r" % answers(raw.received))
        got = answers(raw.received)
        # Accepted while under the limit (the last of them takes the queue over it: a body is
        # the message's envelope, a little over BODY bytes), refused from then on.
        accepted = next(i for i, c in enumerate(sent) if got[c][0] == "error")
        self.assertIn(accepted, (65536 // self.BODY, 65536 // self.BODY + 1), got)
        for c in sent[accepted:]:
            kind, (code, text) = got[c]
            self.assertEqual((kind, code), ("error", ERROR_LIMIT_EXCEEDED), got[c])
            self.assertIn('queue://small.orders is over its memory limit (65536 bytes, set by '
                          'destination_policies { queue: "small.>" }): the send was refused, at '
                          'once (limits.send_fail_if_no_space)', text)
        # Nothing of a refused send was taken.
        self.assertEqual(self.dstat(node)["queue://small.orders"]["pending"], accepted)
        self.assertTrue(node.running(), node.describe())

    def test_a_waiting_send_fails_after_the_timeout(self):
        node = self.start_node("mfc-timeout", extra_config=self.POLICY,
                               limits="send_fail_if_no_space_after_timeout_ms: 1000")
        raw = self.connected(node)
        # Enough to take the queue over its limit, each answered at once.
        accepted = 65536 // self.BODY
        first = range(2, 2 + accepted)
        self.send_non_persistent(raw, "queue://small.orders", first)
        self.assertTrue(raw.read_until(lambda d: set(first) <= set(answers(d)), 10))
        self.assertTrue(all(a == ("receipt", None) for a in answers(raw.received).values()))
        start = time.monotonic()
        self.send_non_persistent(raw, "queue://small.orders", [100])
        self.assertTrue(raw.read_until(lambda d: 100 in answers(d), 10), raw.received[-300:])
        waited = time.monotonic() - start
        kind, (code, text) = answers(raw.received)[100]
        self.assertEqual((kind, code), ("error", ERROR_LIMIT_EXCEEDED), text)
        self.assertIn("the send was refused, after waiting 1000 ms "
                      "(limits.send_fail_if_no_space_after_timeout_ms)", text)
        self.assertGreaterEqual(waited, 0.9, "failed after %.3f s" % waited)
        self.assertLess(waited, 5.0, "failed after %.3f s" % waited)
        node.wait_for_log(r"queue queue://small\.orders: 1 sends failed after waiting 1000 ms", 5)
        self.assertEqual(self.dstat(node)["queue://small.orders"]["pending"], accepted)


if __name__ == "__main__":
    unittest.main()
