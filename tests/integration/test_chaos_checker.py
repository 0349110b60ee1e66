"""The chaos history checker (tools/chaos/check_history.py) on made-up histories: a clean one
passes, and each doctored one is caught in its own category (issue 15, item 1). No node needed."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tools", "chaos",
                       "check_history.py")
QUEUE = "queue://chaos"
T0 = 1765000000.0


def producer_history(name, n, start=T0, step=0.01, outcome="ok"):
    """Events of a producer that sent n messages, one every `step` seconds."""
    events = [{"t": start, "client": name, "type": "start", "role": "producer"}]
    for i in range(1, n + 1):
        t = start + i * step
        mid = "%s-%d" % (name, i)
        events.append({"t": t, "client": name, "type": "invoke", "id": mid,
                       "destination": QUEUE, "n": i})
        events.append({"t": t + 0.001, "client": name, "type": outcome, "id": mid,
                       "producer_id": "ab" * 16, "producer_sequence": i, "duplicate": False})
    return events


def delivery(consumer, mid, t, redelivered=False, count=1, destination=QUEUE):
    return {"t": t, "client": consumer, "type": "deliver", "id": mid, "destination": destination,
            "redelivered": redelivered, "delivery_count": count}


def consumer_history(name, ids, start=T0 + 0.005, step=0.01):
    events = [{"t": start, "client": name, "type": "start", "role": "consumer"}]
    for k, mid in enumerate(ids):
        events.append(delivery(name, mid, start + (k + 1) * step))
        events.append({"t": start + (k + 1) * step, "client": name, "type": "ack", "id": mid,
                       "mode": "individual", "outcome": "ok"})
    return events


class CheckerTest(unittest.TestCase):
    N = 50

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="actormq-chaos-checker-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.producer = producer_history("p1", self.N)
        self.consumer = consumer_history("c1", ["p1-%d" % i for i in range(1, self.N + 1)])

    def write(self, name, events, tail=""):
        with open(os.path.join(self.dir, name + ".jsonl"), "w") as f:
            for e in events:
                f.write(json.dumps(e) + "\n")
            f.write(tail)

    def run_checker(self, *args):
        """(exit status, counts, stdout) of the checker over self.dir."""
        out = os.path.join(self.dir, "counts.json.out")
        r = subprocess.run([sys.executable, CHECKER, "--json", out] + list(args) + [self.dir],
                           capture_output=True, text=True, timeout=60)
        self.assertIn(r.returncode, (0, 1), r.stdout + r.stderr)
        with open(out) as f:
            return r.returncode, json.load(f), r.stdout

    def check(self, *args):
        self.write("p1", self.producer)
        self.write("c1", self.consumer)
        return self.run_checker(*args)

    def assert_only(self, counts, **expected):
        """The failing categories are 0 except those named."""
        for k in ("lost", "unflagged duplicates", "phantoms", "order violations"):
            self.assertEqual(counts[k], expected.get(k.replace(" ", "_"), 0), (k, counts))

    def test_clean_history_passes(self):
        rc, counts, out = self.check("--ordered", QUEUE)
        self.assertEqual(rc, 0, out)
        self.assertEqual(counts["sent"], self.N)
        self.assertEqual(counts["receipted"], self.N)
        self.assertEqual(counts["delivered"], self.N)
        self.assertEqual(counts["acks ok"], self.N)
        self.assertEqual(counts["flagged duplicates"], 0)
        self.assert_only(counts)
        self.assertEqual(counts["outages"], 0)
        self.assertNotIn("FAIL", out)

    def test_lost(self):
        self.consumer = [e for e in self.consumer if e.get("id") not in ("p1-7", "p1-30")]
        rc, counts, out = self.check()
        self.assertEqual(rc, 1, out)
        self.assert_only(counts, lost=2)
        self.assertIn("lost (first 10): p1-30 p1-7", out)

    def test_a_send_without_receipt_is_not_lost(self):
        # p1-50's outcome was never learned (the producer was killed): its absence is no loss.
        self.producer = self.producer[:-1]
        self.consumer = [e for e in self.consumer if e.get("id") != "p1-50"]
        rc, counts, out = self.check()
        self.assertEqual(rc, 0, out)
        self.assertEqual(counts["unknown"], 1)
        self.assert_only(counts)

    def test_flagged_duplicate_passes(self):
        self.consumer.append(delivery("c2", "p1-3", T0 + 5, redelivered=True, count=2))
        rc, counts, out = self.check()
        self.assertEqual(rc, 0, out)
        self.assertEqual(counts["flagged duplicates"], 1)
        self.assert_only(counts)

    def test_unflagged_duplicate(self):
        # Another consumer (a second history file) gets p1-3 again without the flag.
        self.write("c2", [delivery("c2", "p1-3", T0 + 5)])
        rc, counts, out = self.check()
        self.assertEqual(rc, 1, out)
        self.assertEqual(counts["flagged duplicates"], 0)
        self.assert_only(counts, unflagged_duplicates=1)
        self.assertIn("unflagged duplicates (first 10): p1-3", out)

    def test_unflagged_after_flagged_is_caught(self):
        # Flagged first (a consumer that died never logged it), then again unflagged: the second
        # delivery in time lacks the flag.
        self.consumer = [e for e in self.consumer if e.get("id") != "p1-4"]
        self.write("c2", [delivery("c2", "p1-4", T0 + 3, redelivered=True, count=2),
                          delivery("c2", "p1-4", T0 + 4)])
        rc, counts, _ = self.check()
        self.assertEqual(rc, 1)
        self.assert_only(counts, unflagged_duplicates=1)

    def test_phantom(self):
        self.consumer.append(delivery("c1", "p9-1", T0 + 5))
        rc, counts, out = self.check()
        self.assertEqual(rc, 1, out)
        self.assert_only(counts, phantoms=1)
        self.assertIn("phantoms (first 10): p9-1", out)

    def test_order_violation_only_on_ordered_queues(self):
        ids = ["p1-%d" % i for i in range(1, self.N + 1)]
        ids[10], ids[11] = ids[11], ids[10]
        self.consumer = consumer_history("c1", ids)
        rc, counts, out = self.check()
        self.assertEqual(rc, 0, "order is not promised without --ordered\n" + out)
        rc, counts, out = self.check("--ordered", QUEUE)
        self.assertEqual(rc, 1, out)
        self.assert_only(counts, order_violations=1)

    def test_redelivered_out_of_order_is_no_violation(self):
        # p1-5 comes after p1-10, but flagged: a redelivery after a failover may come late.
        ids = ["p1-%d" % i for i in range(1, self.N + 1) if i != 5]
        self.consumer = consumer_history("c1", ids)
        self.consumer.append(delivery("c1", "p1-5", T0 + 9, redelivered=True, count=2))
        rc, counts, out = self.check("--ordered", QUEUE)
        self.assertEqual(rc, 0, out)
        self.assert_only(counts)

    def test_outages(self):
        # p1's receipts pause for 3 s after its 10th send and 5 s after its 30th; p2 starts
        # 20 s after p1 ended: a gap with no receipt at all, but no producer waited.
        for e in self.producer:
            n = int(e["id"].split("-")[1]) if "id" in e else 0
            e["t"] += (3.0 if n > 10 else 0) + (5.0 if n > 30 else 0)
        last = max(e["t"] for e in self.producer)
        p2 = producer_history("p2", 10, start=last + 20)
        self.write("p2", p2)
        self.consumer += [delivery("c1", "p2-%d" % i, last + 40 + i) for i in range(1, 11)]
        rc, counts, out = self.check("--outage-threshold", "2")
        self.assertEqual(rc, 0, out)
        self.assertEqual(counts["outages"], 2, out)
        self.assertAlmostEqual(counts["outage max s"], 5.01, places=3)
        self.assertAlmostEqual(counts["outage median s"], 4.01, places=3)
        self.assertAlmostEqual(counts["longest producer gap s"], 5.01, places=3)
        self.assertAlmostEqual(counts["longest gap s"], 20.011, places=3)

    def test_a_line_cut_by_sigkill_is_tolerated(self):
        self.write("p1", self.producer)
        self.write("c1", self.consumer, tail='{"t": 1765000009.1, "client": "c1", "ty')
        rc, counts, out = self.run_checker()
        self.assertEqual(rc, 0, out)
        self.assertEqual(counts["unreadable lines"], 1)

    def topic_histories(self, copies_of_s1, copies_of_s2, s2_subscribed_at=T0 - 1):
        """A producer sending N messages to a topic with two durable subscriptions; s1 gets
        the ids in copies_of_s1, s2 those in copies_of_s2 (ids may repeat)."""
        topic = "topic://chaos-t"
        producer = producer_history("p1", self.N)
        for e in producer:
            if e.get("type") == "invoke":
                e["destination"] = topic
        self.write("p1", producer)
        for name, sub, ids, since in (("s1", "app:s1", copies_of_s1, T0 - 1),
                                      ("s2", "app:s2", copies_of_s2, s2_subscribed_at)):
            events = [{"t": since, "client": name, "type": "subscribed", "destination": topic,
                       "subscription": sub}]
            for k, mid in enumerate(ids):
                d = delivery(name, mid, T0 + 1 + k * 0.01, destination=topic)
                d["subscription"] = sub
                events.append(d)
            self.write(name, events)

    def test_topic_every_subscription_gets_every_message_once(self):
        ids = ["p1-%d" % i for i in range(1, self.N + 1)]
        self.topic_histories(ids, ids)
        rc, counts, _ = self.run_checker()
        self.assertEqual(rc, 0, counts)
        self.assert_only(counts)
        self.assertEqual(counts["flagged duplicates"], 0)

    def test_topic_message_one_subscription_missed_is_lost(self):
        ids = ["p1-%d" % i for i in range(1, self.N + 1)]
        self.topic_histories(ids, ids[:-3])
        rc, counts, out = self.run_checker()
        self.assertEqual(rc, 1)
        self.assert_only(counts, lost=3)
        self.assertIn("p1-%d" % self.N, out)

    def test_topic_message_sent_before_a_subscription_is_not_expected_there(self):
        ids = ["p1-%d" % i for i in range(1, self.N + 1)]
        # s2 subscribed after the 10th send: it need not have the first 10.
        self.topic_histories(ids, ids[10:], s2_subscribed_at=T0 + 10 * 0.01 + 0.005)
        rc, counts, _ = self.run_checker()
        self.assertEqual(rc, 0, counts)
        self.assert_only(counts)

    def test_topic_unflagged_duplicate_within_a_subscription(self):
        ids = ["p1-%d" % i for i in range(1, self.N + 1)]
        self.topic_histories(ids, ids + ["p1-7"])
        rc, counts, _ = self.run_checker()
        self.assertEqual(rc, 1)
        self.assert_only(counts, unflagged_duplicates=1)

    def test_no_history_is_an_error(self):
        r = subprocess.run([sys.executable, CHECKER, self.dir], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
