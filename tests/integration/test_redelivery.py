"""Redelivery policy, dead letters and expiry (docs/redelivery.md): a message returned past
maximumRedeliveries moves to its dead-letter queue with dlqDeliveryFailureCause and
originalDestination, after waiting its redelivery delays; the delivery count survives kill -9;
individualDeadLetterStrategy; expired persistent messages reach the DLQ through the sweep with no
consumer, expired non-persistent ones are dropped and counted; a retry from the console moves
dead letters back; bad policies are refused at start."""

import json
import time
import unittest
import urllib.request

import harness
import stomp_support as ss

ss.require_stomp()

TIMEOUT = 30.0


def queue_rows(node):
    with urllib.request.urlopen(node.console_url + "/api/queues", timeout=10) as r:
        return {x["name"]: x for x in json.loads(r.read())["queues"]}


class RedeliveryTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        missing = ss.missing_stomp()
        if missing:
            self.fail(missing)

    def policy_node(self, name, policy):
        return ss.stomp_node(self, name, extra="destination_policies { %s }\n" % policy)

    def send(self, conn, got, destination, body, **headers):
        """A persistent send (STOMP's default is non-persistent), receipted."""
        headers.setdefault("persistent", "true")
        rid = "send-%s-%s" % (destination, body)
        conn.send(destination, body, headers=dict(headers, receipt=rid))
        self.wait_until(lambda: rid in got.receipts, TIMEOUT, "receipt " + rid)

    def wait_messages(self, got, n):
        self.wait_until(lambda: got.count() >= n, TIMEOUT,
                        "%d messages (have %d)" % (n, got.count()))

    def refuse(self, conn, got, n):
        """Receives message number n (from 1) and NACKs it; returns when it was received."""
        self.wait_messages(got, n)
        received = time.monotonic()
        conn.nack(got.messages[n - 1].headers["ack"])
        return received

    def dead_letters(self, node, queue, n):
        conn, got = ss.connect(self, node)
        conn.subscribe("/queue/" + queue, id="dlq", ack="client-individual")
        self.wait_messages(got, n)
        return conn, got

    def test_nacked_past_the_limit_waits_its_delays_then_lands_in_the_shared_dlq(self):
        node = self.policy_node("redeliv-shared", 'queue: ">" maximum_redeliveries: 2 '
                                'initial_redelivery_delay_ms: 300 redelivery_delay_ms: 600')
        conn, got = ss.connect(self, node)
        self.send(conn, got, "/queue/poison", "poison", color="red")
        conn.subscribe("/queue/poison", id="s1", ack="client-individual",
                       headers={"activemq.prefetchSize": "1"})
        times = [self.refuse(conn, got, n) for n in (1, 2, 3)]
        # The first redelivery waited the initial delay, the second the redelivery delay (the
        # timer fires after them, never before; the clocks differ by scheduling only).
        self.assertGreaterEqual(times[1] - times[0], 0.3 * 0.9, times)
        self.assertGreaterEqual(times[2] - times[1], 0.6 * 0.9, times)
        self.assertEqual(got.messages[1].headers.get("redelivered"), "true")
        self.wait_dstat(node, "queue://ActiveMQ.DLQ", pending=1, timeout=TIMEOUT)
        self.wait_dstat(node, "queue://poison", pending=0, timeout=TIMEOUT)
        # Not delivered a fourth time.
        self.assertEqual(got.count(), 3)
        _, dead = self.dead_letters(node, "ActiveMQ.DLQ", 1)
        h = dead.messages[0].headers
        self.assertEqual(dead.messages[0].body, "poison")
        self.assertEqual(h["originalDestination"], "queue://poison")
        self.assertTrue(h["dlqDeliveryFailureCause"].startswith(
            "Delivery[3] exceeds redelivery policy limit:RedeliveryPolicy "
            "{maximumRedeliveries=2, initialRedeliveryDelay=300, redeliveryDelay=600"), h)
        self.assertEqual(h["color"], "red")
        self.assertEqual(h["message-id"], got.messages[0].headers["message-id"])
        self.wait_until(lambda: queue_rows(node).get("queue://poison", {}).get("dead_lettered")
                        == 1, TIMEOUT, "1 dead-lettered")

    def test_individual_strategy_uses_the_prefixed_queue_and_others_keep_the_default(self):
        node = self.policy_node("redeliv-indiv", 'queue: "orders.>" maximum_redeliveries: 0 '
                                'dead_letter_strategy: "individual" '
                                'initial_redelivery_delay_ms: 0')
        conn, got = ss.connect(self, node)
        self.send(conn, got, "/queue/orders.eu", "order")
        self.send(conn, got, "/queue/other", "other")
        conn.subscribe("/queue/orders.eu", id="s1", ack="client-individual")
        self.refuse(conn, got, 1)
        self.wait_dstat(node, "queue://DLQ.orders.eu", pending=1, timeout=TIMEOUT)
        _, dead = self.dead_letters(node, "DLQ.orders.eu", 1)
        self.assertEqual(dead.messages[0].headers["originalDestination"], "queue://orders.eu")
        # queue://other matches no entry: the defaults (six redeliveries, one second apart).
        conn.subscribe("/queue/other", id="s2", ack="client-individual")
        self.refuse(conn, got, 2)
        self.wait_messages(got, 3)
        self.assertEqual(got.messages[2].body, "other")
        self.assertNotIn("queue://ActiveMQ.DLQ", self.dstat(node))

    def test_the_delivery_count_survives_kill_9(self):
        node = self.policy_node("redeliv-kill", 'queue: ">" maximum_redeliveries: 3 '
                                'initial_redelivery_delay_ms: 0 redelivery_delay_ms: 0')
        conn, got = ss.connect(self, node)
        self.send(conn, got, "/queue/k", "counted")
        conn.subscribe("/queue/k", id="s1", ack="client-individual")
        self.refuse(conn, got, 1)
        self.wait_messages(got, 2)  # delivered twice: the store holds the count before dispatch
        node.kill()
        node.restart()
        conn, got = ss.connect(self, node)
        conn.subscribe("/queue/k", id="s1", ack="client-individual")
        # Two deliveries more (the third and fourth), then the limit of 3 redeliveries is past.
        self.refuse(conn, got, 1)
        self.refuse(conn, got, 2)
        self.wait_dstat(node, "queue://ActiveMQ.DLQ", pending=1, timeout=TIMEOUT)
        self.assertEqual(got.count(), 2)
        self.assertTrue(all(m.headers.get("redelivered") == "true" for m in got.messages))
        _, dead = self.dead_letters(node, "ActiveMQ.DLQ", 1)
        self.assertTrue(dead.messages[0].headers["dlqDeliveryFailureCause"].startswith(
            "Delivery[4] exceeds"), dead.messages[0].headers)

    def test_a_closed_consumer_counts_and_the_dead_letter_survives_a_restart(self):
        node = self.policy_node("redeliv-close", 'queue: ">" maximum_redeliveries: 1 '
                                'initial_redelivery_delay_ms: 0')
        for _ in range(2):
            conn, got = ss.connect(self, node)
            if not self.dstat(node).get("queue://c"):
                self.send(conn, got, "/queue/c", "closed")
            conn.subscribe("/queue/c", id="s1", ack="client-individual")
            self.wait_messages(got, 1)
            conn.disconnect()
        self.wait_dstat(node, "queue://ActiveMQ.DLQ", pending=1, timeout=TIMEOUT)
        node.kill()
        node.restart()
        self.wait_dstat(node, "queue://ActiveMQ.DLQ", pending=1, timeout=TIMEOUT)
        self.wait_dstat(node, "queue://c", pending=0, timeout=TIMEOUT)

    def test_expired_persistent_messages_reach_the_dlq_without_a_consumer(self):
        node = self.policy_node("redeliv-exp", 'queue: ">" expire_messages_period_ms: 200')
        self.produce(node, "queue://exp", 5, msgTTL=300)
        self.produce(node, "queue://exp", 2)  # no time to live: stays
        self.wait_dstat(node, "queue://ActiveMQ.DLQ", pending=5, timeout=TIMEOUT)
        self.wait_dstat(node, "queue://exp", pending=2, timeout=TIMEOUT)
        _, dead = self.dead_letters(node, "ActiveMQ.DLQ", 5)
        for m in dead.messages:
            self.assertEqual(m.headers["dlqDeliveryFailureCause"], "expired")
            self.assertEqual(m.headers["originalDestination"], "queue://exp")
        self.wait_until(lambda: queue_rows(node).get("queue://exp", {}).get("expired") == 5,
                        TIMEOUT, "5 expired")
        self.assertEqual(queue_rows(node)["queue://exp"]["dropped"], 0)

    def test_expired_non_persistent_messages_are_dropped_and_counted(self):
        node = self.policy_node("redeliv-np", 'queue: ">" expire_messages_period_ms: 200')
        self.produce(node, "queue://np", 4, msgTTL=300, persistent="false")
        # The console's figures may lag a moment behind the queue's.
        self.wait_until(lambda: queue_rows(node).get("queue://np", {}).get("dropped") == 4,
                        TIMEOUT, "4 dropped")
        row = queue_rows(node)["queue://np"]
        self.assertEqual((row["expired"], row["pending"]), (4, 0), row)
        self.assertNotIn("queue://ActiveMQ.DLQ", self.dstat(node))
        with urllib.request.urlopen(node.console_url + "/metrics", timeout=10) as r:
            metrics = r.read().decode()
        self.assertIn('actormq_destination_dropped_total{destination="queue://np"} 4', metrics)

    def test_process_expired_false_deletes_them(self):
        node = self.policy_node("redeliv-noexp", 'queue: ">" expire_messages_period_ms: 200 '
                                'process_expired: false')
        self.produce(node, "queue://gone", 3, msgTTL=200)
        self.wait_dstat(node, "queue://gone", pending=0, timeout=TIMEOUT)
        self.assertNotIn("queue://ActiveMQ.DLQ", self.dstat(node))
        node.kill()
        node.restart()
        self.wait_dstat(node, "queue://gone", pending=0, timeout=TIMEOUT)

    def test_console_retry_moves_dead_letters_back(self):
        node = self.policy_node("redeliv-retry", 'queue: ">" expire_messages_period_ms: 100')
        self.produce(node, "queue://back", 3, msgTTL=100)
        self.wait_dstat(node, "queue://ActiveMQ.DLQ", pending=3, timeout=TIMEOUT)
        req = urllib.request.Request(
            node.console_url + "/api/queues/ActiveMQ.DLQ/retry", data=b'{"max": 2}',
            method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(json.loads(r.read())["moved"], 2)
        self.wait_dstat(node, "queue://ActiveMQ.DLQ", pending=1, timeout=TIMEOUT)
        self.wait_dstat(node, "queue://back", pending=2, timeout=TIMEOUT)
        conn, got = ss.connect(self, node)
        conn.subscribe("/queue/back", id="s", ack="auto")
        self.wait_messages(got, 2)
        for m in got.messages:
            self.assertNotIn("dlqDeliveryFailureCause", m.headers)
            self.assertEqual(m.headers["destination"], "/queue/back")

    def test_cli_retry_moves_dead_letters_back_and_the_policy_applies_again(self):
        node = self.policy_node("redeliv-cli", 'queue: ">" maximum_redeliveries: 0 '
                                'initial_redelivery_delay_ms: 0')
        conn, got = ss.connect(self, node)
        for body in ("a", "b", "c"):
            self.send(conn, got, "/queue/cli", body)
        conn.subscribe("/queue/cli", id="s1", ack="client-individual")
        for n in (1, 2, 3):
            self.refuse(conn, got, n)
        self.wait_dstat(node, "queue://ActiveMQ.DLQ", pending=3, timeout=TIMEOUT)
        conn.unsubscribe("s1")
        p = self.run_cli("retry", "--brokerUrl", node.client_url, "--destination",
                         "queue://ActiveMQ.DLQ", "--max", "2")
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertIn("Moved 2 messages", p.stderr)
        self.wait_dstat(node, "queue://ActiveMQ.DLQ", pending=1, timeout=TIMEOUT)
        self.wait_dstat(node, "queue://cli", pending=2, timeout=TIMEOUT)
        # Back with a fresh count: refused once more, they are dead again.
        conn.subscribe("/queue/cli", id="s2", ack="client-individual")
        self.refuse(conn, got, 4)
        self.refuse(conn, got, 5)
        self.assertEqual(sorted(m.body for m in got.messages[3:5]), ["a", "b"])
        self.wait_dstat(node, "queue://ActiveMQ.DLQ", pending=3, timeout=TIMEOUT)
        p = self.run_cli("retry", "--brokerUrl", node.client_url, "--destination",
                         "queue://ActiveMQ.DLQ")
        self.assertEqual(p.returncode, 0, p.describe())
        self.wait_dstat(node, "queue://ActiveMQ.DLQ", pending=0, timeout=TIMEOUT)


class BadPolicyTest(harness.NodeTestCase):

    def refused(self, policy, expected):
        node = self.make_node("badpolicy", extra_config="destination_policies { %s }\n" % policy)
        node.start(wait_ready=False)
        self.assertEqual(node.wait_exit(30), harness.EXIT_BAD_CONFIG, node.describe())
        self.assertIn(expected, node.all_logs)

    def test_a_negative_delay_is_refused(self):
        self.refused('queue: ">" redelivery_delay_ms: -5',
                     "destination_policies[0].redelivery_delay_ms: -5 is negative")

    def test_an_unknown_key_is_refused(self):
        self.refused('queue: ">" maximumRedeliveries: 3', "maximumRedeliveries")

    def test_an_entry_without_a_queue_is_refused(self):
        self.refused("maximum_redeliveries: 3", "destination_policies[0].queue")

    def test_an_unknown_strategy_is_refused(self):
        self.refused('queue: ">" dead_letter_strategy: "each"', "dead_letter_strategy")


if __name__ == "__main__":
    unittest.main()
