"""Scheduled delivery (docs/scheduled.md) on real nodes with the CLI: a delayed message arrives no
earlier than its delay; repeat and period deliver the right number of copies; the console lists
what is scheduled and cancels it; a scheduled persistent message survives a SIGKILL of the node
and a failover to the slave of a shared store, and is delivered once; with scheduler_support
false the properties are ignored."""

import json
import tempfile
import time
import unittest
import urllib.request

import harness


def http_json(url, method="GET"):
    data = b"{}" if method == "POST" else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read().decode())


class ScheduledTest(harness.NodeTestCase):

    def start_consumer(self, node_or_url, destination, label="consumer", count=1000):
        p = self.start_cli(*self.consumer_args(node_or_url, destination, count), label=label)
        self.wait_until(lambda: "Consuming" in p.stderr or not p.running(), 20,
                        "consumer %s to subscribe" % label)
        self.assertTrue(p.running(), p.describe())
        return p

    def scheduled(self, node):
        return http_json(node.console_url + "/api/scheduled")["scheduled"]

    def test_a_delayed_message_arrives_no_earlier_than_its_delay(self):
        node = self.start_node("sched-delay")
        consumer = self.start_consumer(node, "queue://later")
        sent_at = time.monotonic()
        self.produce(node, "queue://later", 1, message="late", delay=2500)
        # Nothing before the delay has run out (measured from before the send).
        self.assert_stays(lambda: consumer.lines == [],
                          max(0.0, 2.3 - (time.monotonic() - sent_at)),
                          "no early delivery", consumer.describe)
        self.wait_until(lambda: consumer.lines == ["late"], 15, "the delayed message")
        self.assertGreaterEqual(time.monotonic() - sent_at, 2.5)
        self.wait_until(lambda: self.scheduled(node) == [], 5, "the scheduler to forget it")

    def test_repeat_and_period_deliver_each_copy(self):
        node = self.start_node("sched-repeat")
        consumer = self.start_consumer(node, "queue://again")
        sent_at = time.monotonic()
        self.produce(node, "queue://again", 1, message="tick", repeat=3, period=400)
        self.wait_until(lambda: len(consumer.lines) >= 4, 15, "four deliveries")
        # Three periods at least between the first and the last.
        self.assertGreaterEqual(time.monotonic() - sent_at, 1.2)
        self.assert_stays(lambda: len(consumer.lines) == 4, 1.5, "exactly four deliveries",
                          consumer.describe)
        self.assertEqual(consumer.lines, ["tick"] * 4)
        self.assertEqual(self.scheduled(node), [])

    def test_the_console_lists_and_cancels(self):
        node = self.start_node("sched-console")
        self.produce(node, "queue://yearly", 1, message="new year", cron="0 0 1 1 *")
        self.produce(node, "queue://soon", 1, message="soon", delay=600000, repeat=2,
                     period=1000)
        listed = self.scheduled(node)
        self.assertEqual(len(listed), 2, listed)
        soon, yearly = listed  # the earliest first
        self.assertEqual(soon["destination"], "queue://soon")
        self.assertEqual(soon["repeats_left"], 2)
        self.assertEqual(soon["period_ms"], 1000)
        self.assertEqual(yearly["destination"], "queue://yearly")
        self.assertEqual(yearly["cron"], "0 0 1 1 *")
        self.assertEqual(yearly["repeats_left"], -1)
        # Midnight of a 1st of January, UTC.
        due = time.gmtime(yearly["next_ms"] / 1000)
        self.assertEqual((due.tm_mon, due.tm_mday, due.tm_hour, due.tm_min), (1, 1, 0, 0))
        r = http_json(node.console_url + "/api/scheduled/%s/cancel" % yearly["id"], "POST")
        self.assertEqual(r["cancelled"], yearly["id"])
        self.assertEqual([s["id"] for s in self.scheduled(node)], [soon["id"]])
        # Cancelled is gone from the store too.
        node.kill()
        node.restart()
        self.assertEqual([s["id"] for s in self.scheduled(node)], [soon["id"]])
        with self.assertRaises(urllib.error.HTTPError) as e:
            http_json(node.console_url + "/api/scheduled/%s/cancel" % yearly["id"], "POST")
        self.assertEqual(e.exception.code, 404)

    def test_a_scheduled_message_survives_a_sigkill_and_is_delivered_once(self):
        node = self.start_node("sched-kill")
        self.produce(node, "queue://kept", 1, message="kept", delay=1500)
        node.kill()
        node.restart()
        self.assertEqual(len(self.scheduled(node)), 1)
        consumer = self.start_consumer(node, "queue://kept")
        self.wait_until(lambda: consumer.lines == ["kept"], 15, "the scheduled message")
        self.assert_stays(lambda: consumer.lines == ["kept"], 1.0, "one delivery",
                          consumer.describe)

    def test_a_due_message_delivered_before_a_sigkill_is_not_delivered_again(self):
        node = self.start_node("sched-kill-due")
        # Repeats keep the entry in the store across the deliveries made before the kill.
        self.produce(node, "queue://once", 1, message="r", repeat=2, period=300)
        self.wait_dstat(node, "queue://once", timeout=15, pending=3)
        node.kill()
        node.restart()
        # A delivery whose removal from the scheduler did not commit is made again after the
        # restart: the producer audit drops it.
        self.wait_until(lambda: self.scheduled(node) == [], 10, "the scheduler to be done")
        got = self.consume(node, "queue://once", 3, receiveTimeout=10000)
        self.assertEqual(got.lines, ["r"] * 3)
        self.wait_dstat(node, "queue://once", timeout=5, pending=0)

    def test_a_scheduled_message_survives_a_failover_to_the_slave(self):
        data_dir = tempfile.mkdtemp(prefix="data-", dir=self.workdir)
        ports = [{k: harness.free_port() for k in ("client", "cluster", "console")}
                 for _ in range(2)]
        uris = ["tcp://127.0.0.1:%d" % p["client"] for p in ports]
        config = "standby: true\n" + "".join('shared_store_uris: "%s"\n' % u for u in uris)
        master = self.make_node("sched-a", data_dir=data_dir, ports=ports[0], extra_config=config)
        slave = self.make_node("sched-b", data_dir=data_dir, ports=ports[1], extra_config=config)
        master.start()
        slave.start(wait_ready=False)
        slave.wait_for_log(r"is standby", 15)
        self.produce(master, "queue://ha", 1, message="survived", delay=2000)
        master.kill()
        slave.wait_ready(20)
        self.assertEqual(len(self.scheduled(slave)), 1)
        url = "failover:(%s,%s)" % tuple(uris)
        consumer = self.start_consumer(url, "queue://ha")
        self.wait_until(lambda: consumer.lines == ["survived"], 20, "the scheduled message")

    def test_without_scheduler_support_the_properties_are_ignored(self):
        node = self.start_node("sched-off", extra_config="scheduler_support: false")
        self.produce(node, "queue://now", 1, message="now", delay=600000)
        got = self.consume(node, "queue://now", 1, receiveTimeout=5000)
        self.assertEqual(got.lines, ["now"])

    def test_a_bad_schedule_is_refused(self):
        node = self.start_node("sched-bad")
        p = self.run_cli(*self.producer_args(node, "queue://bad", 1, cron="61 * * * *"))
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("AMQ_SCHEDULED_CRON", p.stderr, p.describe())


if __name__ == "__main__":
    unittest.main()
