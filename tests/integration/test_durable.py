"""Durable topic subscriptions (docs/topics.md) against real nodes and the real CLI: what is
published while a subscriber is away is kept for it, across a kill -9 and a takeover on the
shared store, stored once for every subscription; unsubscribe; one connection per client id;
and the refusals."""
import os
import signal
import tempfile
import unittest

import harness
from harness import text_messages

F_OPEN_CONSUMER = 12
F_STATS_REQUEST = 24
F_STATS_REPLY = 25
ERROR_BAD_DESTINATION = 6
ERROR_INVALID_FIELD = 16


class DurableTest(harness.NodeTestCase):
    def durable_opts(self, client_id, name, **opts):
        opts.update({"durable": "true", "clientId": client_id, "subscriptionName": name})
        return opts

    def subscribe_durable(self, node, topic, client_id, name):
        """Creates the durable subscription with a consumer that leaves at once."""
        c = self.run_cli(*self.consumer_args(node, topic, 0,
                                             **self.durable_opts(client_id, name)),
                         label="subscribe")
        self.assertEqual(c.returncode, 0, c.describe())

    def consume_durable(self, node, topic, client_id, name, count, **opts):
        opts.setdefault("receiveTimeout", 20000)
        return self.consume(node, topic, count, timeout=90,
                            **self.durable_opts(client_id, name, **opts))

    def bodies(self, node):
        fields = self.debug_fields(node, "broker")
        return int(fields["stored-bodies"]), int(fields["body-references"])

    def test_offline_subscribers_catch_up_and_each_message_is_stored_once(self):
        node = self.start_node("durable-offline")
        self.subscribe_durable(node, "topic://prices", "app1", "s1")
        self.subscribe_durable(node, "topic://prices", "app2", "s2")
        n = 50
        self.produce(node, "topic://prices", n)
        # One body per message, one reference per subscription.
        self.assertEqual(self.bodies(node), (n, 2 * n))
        fields = self.debug_fields(node, "topic://prices")
        self.assertEqual(fields.get("durable-subscriptions"), "2", fields)
        self.assertEqual(fields.get("stored-for-durable-subscriptions"), str(n), fields)
        rows = self.dstat(node)
        self.assertEqual(rows["durable://app1:s1@topic://prices"]["pending"], n, rows)
        c1 = self.consume_durable(node, "topic://prices", "app1", "s1", n)
        self.assertEqual(c1.lines, text_messages(n), c1.describe())
        # The other subscription still holds every body.
        self.assertEqual(self.bodies(node), (n, n))
        c2 = self.consume_durable(node, "topic://prices", "app2", "s2", n)
        self.assertEqual(c2.lines, text_messages(n), c2.describe())
        self.wait_until(lambda: self.bodies(node) == (0, 0), 10, "the bodies to be deleted")
        # Nothing more for either.
        c = self.consume(node, "topic://prices", 1, check=False,
                         **self.durable_opts("app1", "s1", receiveTimeout=1000))
        self.assertEqual(c.lines, [], c.describe())

    def test_durable_and_non_durable_subscribers_side_by_side(self):
        node = self.start_node("durable-mixed")
        self.subscribe_durable(node, "topic://news", "app1", "s1")
        live = self.start_cli(*self.consumer_args(node, "topic://news", 10,
                                                  receiveTimeout=30000), label="live")
        self.wait_until(lambda: "Consuming" in live.stderr or not live.running(), 15,
                        "the live subscriber to subscribe")
        self.produce(node, "topic://news", 10, persistent="false")
        self.finish(live, 60)
        self.assertEqual(live.lines, text_messages(10), live.describe())
        # Non-persistent messages are kept in memory for the durable subscription.
        self.assertEqual(self.bodies(node), (0, 0))
        c = self.consume_durable(node, "topic://news", "app1", "s1", 10)
        self.assertEqual(c.lines, text_messages(10), c.describe())

    def test_kill_9_keeps_the_subscription_and_its_messages(self):
        node = self.start_node("durable-kill")
        self.subscribe_durable(node, "topic://orders", "app1", "s1")
        self.produce(node, "topic://orders", 30)
        node.kill()
        node.start()
        self.assertIn("durable subscription 's1' of client id 'app1'", node.log)
        # Kept for it across the crash, and fed after the restart too.
        self.produce(node, "topic://orders", 10, message="after")
        c = self.consume_durable(node, "topic://orders", "app1", "s1", 40)
        self.assertEqual(c.lines, text_messages(30) + ["after"] * 10, c.describe())
        self.assertEqual(self.bodies(node)[0], 0)

    def test_takeover_on_the_shared_store_keeps_the_subscription(self):
        data_dir = tempfile.mkdtemp(prefix="data-", dir=self.workdir)
        ports = [{k: harness.free_port() for k in ("client", "cluster", "console")}
                 for _ in range(2)]
        uris = ["tcp://127.0.0.1:%d" % p["client"] for p in ports]
        config = "standby: true\n" + "".join('shared_store_uris: "%s"\n' % u for u in uris)
        a, b = [self.make_node(name, data_dir=data_dir, ports=p, extra_config=config)
                for name, p in zip(("durable-b", "durable-c"), ports)]
        a.start()
        b.start(wait_ready=False)
        b.wait_for_log(r"is standby", 15)
        failover = "failover:(%s,%s)?randomize=false" % tuple(uris)
        self.subscribe_durable(failover, "topic://prices", "app1", "s1")
        self.produce(failover, "topic://prices", 20)
        # A subscriber that is online through the takeover gets the rest.
        online = self.start_cli(*self.consumer_args(
            failover, "topic://prices", 40,
            **self.durable_opts("app1", "s1", receiveTimeout=30000)), label="online")
        self.wait_until(lambda: len(online.lines) >= 20 or not online.running(), 30,
                        "the subscriber to receive what was kept for it")
        os.kill(a.pid, signal.SIGKILL)
        a.kill()
        b.wait_ready(15)
        self.assertIn("recovers the durable subscription 's1' of client id 'app1'", b.log)
        self.produce(failover, "topic://prices", 20, message="after", timeout=60)
        self.finish(online, 90)
        got = online.lines
        # Auto acknowledgement across a takeover may deliver the last message twice
        # (docs/guarantees.md); nothing is lost.
        self.assertEqual(got[:20], text_messages(20), online.describe())
        self.assertEqual(got.count("after"), 20, online.describe())
        # Then offline across a second restart of the same store (now on B).
        self.produce(b, "topic://prices", 5, message="later")
        b.kill()
        a.start()
        c = self.consume_durable(a, "topic://prices", "app1", "s1", 5)
        self.assertEqual(c.lines, ["later"] * 5, c.describe())

    def test_unsubscribe_removes_the_subscription_and_its_messages(self):
        node = self.start_node("durable-unsub")
        self.subscribe_durable(node, "topic://prices", "app1", "s1")
        self.produce(node, "topic://prices", 7)
        # Refused while a consumer of it is open.
        holder = self.start_cli(*self.consumer_args(
            node, "topic://prices", 100, **self.durable_opts("app1", "s1", receiveTimeout=30000,
                                                              prefetch=1, sleep=60000)),
            label="holder")
        self.wait_until(lambda: "Consuming" in holder.stderr or not holder.running(), 15,
                        "the consumer to open")
        other = self.run_cli("unsubscribe", "--brokerUrl", node.client_url, "--clientId", "app2",
                             "--subscriptionName", "s1")
        self.assertNotEqual(other.returncode, 0, other.describe())
        self.assertIn("no durable subscription 's1' of client id 'app2'", other.stderr)
        holder.kill()
        self.wait_until(lambda: self.debug_fields(node, "broker").get("client-ids") == "0", 15,
                        "the killed consumer's connection to end")
        u = self.run_cli("unsubscribe", "--brokerUrl", node.client_url, "--clientId", "app1",
                         "--subscriptionName", "s1")
        self.assertEqual(u.returncode, 0, u.describe())
        self.assertRegex(u.stderr, r"Unsubscribed s1 of client id app1: [67] pending messages "
                                   r"removed")
        self.assertEqual(self.bodies(node), (0, 0))
        self.assertNotIn("durable://app1:s1@topic://prices", self.dstat(node))
        self.assertEqual(self.debug_fields(node, "broker").get("durable-subscriptions"), "0")
        # A new subscription of that name starts empty.
        c = self.consume(node, "topic://prices", 1, check=False,
                         **self.durable_opts("app1", "s1", receiveTimeout=1000))
        self.assertEqual(c.lines, [], c.describe())
        again = self.run_cli("unsubscribe", "--brokerUrl", node.client_url, "--clientId", "app1",
                             "--subscriptionName", "s1")
        self.assertEqual(again.returncode, 0, again.describe())
        # Gone after a restart too.
        node.kill()
        node.start()
        self.assertEqual(self.debug_fields(node, "broker").get("durable-subscriptions"), "0")

    def test_a_second_connection_with_the_same_client_id_is_refused(self):
        node = self.start_node("durable-inuse")
        holder = self.start_cli(*self.consumer_args(
            node, "topic://prices", 1, **self.durable_opts("app1", "s1", receiveTimeout=30000)),
            label="holder")
        self.wait_until(lambda: "Consuming" in holder.stderr or not holder.running(), 15,
                        "the consumer to open")
        # The same client id is in use by the holder: a second connection is refused.
        dup = self.run_cli("unsubscribe", "--brokerUrl", node.client_url, "--clientId", "app1",
                           "--subscriptionName", "s1")
        self.assertNotEqual(dup.returncode, 0, dup.describe())
        self.assertIn("client id 'app1' is already in use by a connection from", dup.stderr)
        self.produce(node, "topic://prices", 1)
        self.finish(holder, 60)
        self.assertEqual(holder.returncode, 0, holder.describe())
        # Free again once the holder left.
        self.wait_until(lambda: self.debug_fields(node, "broker").get("client-ids") == "0", 15,
                        "the holder's connection to end")
        u = self.run_cli("unsubscribe", "--brokerUrl", node.client_url, "--clientId", "app1",
                         "--subscriptionName", "s1")
        self.assertEqual(u.returncode, 0, u.describe())

    def test_an_offline_subscription_expires_after_the_configured_time(self):
        node = self.start_node("durable-expiry", limits=(
            "offline_durable_subscriber_timeout_ms: 1500 "
            "offline_durable_subscriber_task_schedule_ms: 200"))
        self.subscribe_durable(node, "topic://prices", "app1", "gone")
        online = self.start_cli(*self.consumer_args(
            node, "topic://prices", 3, **self.durable_opts("app2", "kept", receiveTimeout=30000)),
            label="online")
        self.wait_until(lambda: "Consuming" in online.stderr or not online.running(), 15,
                        "the online subscriber to open")
        node.wait_for_log(r"removes the durable subscription 'gone' of client id 'app1'", 15)
        # The one with a consumer stays.
        self.assertNotIn("removes the durable subscription 'kept'", node.log)
        self.assertEqual(self.debug_fields(node, "broker").get("durable-subscriptions"), "1")
        self.produce(node, "topic://prices", 3)
        self.finish(online, 60)
        self.assertEqual(online.lines, text_messages(3), online.describe())
        self.assertNotIn("durable://app1:gone@topic://prices", self.dstat(node))

    def test_refusals_name_the_problem_and_the_connection_stays_usable(self):
        node = self.start_node("durable-bad")
        # The CLI refuses a durable consumer without a client id before asking the node.
        c = self.consume(node, "topic://prices", 1, check=False, durable="true",
                         subscriptionName="s1")
        self.assertNotEqual(c.returncode, 0, c.describe())
        self.assertIn("needs a client id (clientId)", c.stderr)
        c = self.consume(node, "queue://orders", 1, check=False,
                         **self.durable_opts("app1", "s1"))
        self.assertIn("a durable subscription is made on a topic", c.stderr)
        # The node refuses it the same way on a raw connection, which stays usable.
        raw = self.raw_client(node)
        raw.send(harness.connect_frame(client_id=""))
        self.assertTrue(raw.read_until(lambda d: harness.has_command(d, harness.F_CONNECTED), 5))
        open_durable = (harness.pb_field_varint(1, 7) + harness.pb_field_bytes(2, "topic://p") +
                        harness.pb_field_varint(6, 1) + harness.pb_field_bytes(7, "s1"))
        raw.received = b""
        raw.send(harness.frame(harness.pb_field_varint(harness.F_CORRELATION, 2) +
                               harness.pb_field_bytes(F_OPEN_CONSUMER, open_durable)))
        self.assertTrue(raw.read_until(lambda d: harness.find_error(d) is not None, 5))
        code, text = harness.find_error(raw.received)
        self.assertEqual(code, ERROR_INVALID_FIELD, text)
        self.assertIn("a durable subscription needs a client id", text)
        raw.received = b""
        raw.send(harness.frame(harness.pb_field_varint(harness.F_CORRELATION, 3) +
                               harness.pb_field_bytes(F_STATS_REQUEST, b"")))
        self.assertTrue(raw.read_until(lambda d: harness.has_command(d, F_STATS_REPLY), 5),
                        "the connection is no longer usable")
        # With a client id but no subscription name; and on a queue.
        raw2 = self.raw_client(node)
        raw2.send(harness.connect_frame(client_id="raw-durable"))
        self.assertTrue(raw2.read_until(lambda d: harness.has_command(d, harness.F_CONNECTED), 5))
        for corr, dest, name, code, what in (
                (2, "topic://p", "", ERROR_INVALID_FIELD, "needs a subscription name"),
                (3, "queue://q", "s1", ERROR_BAD_DESTINATION, "made on a topic, not on queue://q")):
            raw2.received = b""
            body = (harness.pb_field_varint(1, corr) + harness.pb_field_bytes(2, dest) +
                    harness.pb_field_varint(6, 1))
            if name:
                body += harness.pb_field_bytes(7, name)
            raw2.send(harness.frame(harness.pb_field_varint(harness.F_CORRELATION, corr) +
                                    harness.pb_field_bytes(F_OPEN_CONSUMER, body)))
            self.assertTrue(raw2.read_until(lambda d: harness.find_error(d) is not None, 5))
            got_code, text = harness.find_error(raw2.received)
            self.assertEqual(got_code, code, text)
            self.assertIn(what, text)
        raw.close()
        raw2.close()


if __name__ == "__main__":
    unittest.main()
