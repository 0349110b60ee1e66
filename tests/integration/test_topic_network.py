"""Topics across a network of brokers (docs/topics.md "Across a network of brokers",
docs/cluster.md): a peer's subscribers and durable subscriptions are demand for a topic; the
bridge of the publishing node keeps a network subscription on the topic (a durable subscription
owned by the link, `durable://network:PEER_STORE/NAME@topic://NAME`) and forwards its messages
once per link (conduit subscriptions), exactly once across a kill of either side and a takeover
on the shared store; a message that came over a link is never forwarded again (network TTL 1),
so rings of 2 and 3 nodes deliver each message once to each subscriber."""

import collections
import os
import re
import time
import unittest

import harness
from harness import text_messages
from test_cluster import Cluster, connector, wait_link, body_key, slow_sync_env

LINK_TIMEOUT = 30
DEBUG_TIMEOUT = 30
TOPIC = "topic://prices"


def network_rows(rows, topic=TOPIC):
    """The dstat rows of network subscriptions on `topic`."""
    return {name: row for name, row in rows.items()
            if name.startswith("durable://network:") and name.endswith("@" + topic)}


class TopicNetworkTest(harness.NodeTestCase):

    # -- helpers
    def debug_show(self, node, name):
        """actormq-debug show NAME: a list of dicts, one per actor shown."""
        self._cli_seq += 1
        p = self.run_program([os.path.join(harness.bin_dir(), "actormq-debug"), "--node",
                              "127.0.0.1:%d" % node.ports["cluster"], "show", name],
                             "%02d-debug" % self._cli_seq, DEBUG_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.describe())
        shown = []
        for line in p.stdout.splitlines():
            m = re.match(r"^\s+([\w-]+): ?(.*)$", line)
            if not m:
                if line.strip():
                    shown.append({})  # the head line of an actor
                continue
            if not shown:
                shown.append({})
            shown[-1][m.group(1)] = m.group(2)
        return [e for e in shown if e]

    def forwarded(self, node):
        """The messages every bridge of `node` forwarded, summed."""
        return sum(int(b.get("forwarded", 0)) for b in self.debug_show(node, "bridge"))

    def stored_bodies(self, node):
        return int(self.debug_show(node, "broker")[0]["stored-bodies"])

    def wait_network_subscription(self, node, consumers=1, topic=TOPIC, count=1):
        """Waits until `node` has `count` network subscriptions on `topic`, each consumed by
        its bridge (or none, with count=0)."""
        def ready():
            rows = network_rows(self.dstat(node), topic)
            return len(rows) == count and all(r["consumers"] == consumers for r in rows.values())
        self.wait_until(ready, 30, "%d network subscription(s) on %s on node %s"
                        % (count, topic, node.name))

    def durable(self, client_id, name, **opts):
        opts.update({"durable": "true", "clientId": client_id, "subscriptionName": name})
        return opts

    def subscribe_durable(self, node, client_id, name, topic=TOPIC):
        c = self.run_cli(*self.consumer_args(node, topic, 0, **self.durable(client_id, name)),
                         label="subscribe")
        self.assertEqual(c.returncode, 0, c.describe())

    def start_subscriber(self, node, count, label, topic=TOPIC, **opts):
        opts.setdefault("receiveTimeout", 60000)
        return self.start_cli(*self.consumer_args(node, topic, count, **opts), label=label)

    def wait_lines(self, proc, n, timeout, what):
        deadline = time.monotonic() + timeout
        while len(proc.lines) < n:
            if not proc.running() and len(proc.lines) < n:
                self.fail("%s: %s ended first\n%s" % (what, proc.label, proc.describe()))
            if time.monotonic() > deadline:
                self.fail("timed out after %.1f s waiting for %s (%d lines so far)\n%s"
                          % (timeout, what, len(proc.lines), proc.describe()))
            time.sleep(0.05)

    def assert_once_each(self, lines, expected, allow_redelivered=False):
        """Every expected body exactly once; with allow_redelivered, a repeat is accepted only
        if marked redelivered."""
        plain = collections.Counter(body_key(l) for l in lines
                                    if not (allow_redelivered and l.startswith("redelivered ")))
        every = collections.Counter(body_key(l) for l in lines)
        missing = sorted(set(expected) - set(every))
        self.assertEqual(missing, [], "never received (%d, first 10): %r"
                         % (len(missing), missing[:10]))
        twice = sorted(b for b, k in plain.items() if k > 1)
        self.assertEqual(twice, [], "received more than once: %r" % twice[:10])
        unknown = sorted(set(every) - set(expected))
        self.assertEqual(unknown, [], "received bodies nobody sent: %r" % unknown[:10])

    # -- publish on B, subscribers on A
    def test_two_subscribers_on_a_get_everything_once_and_the_link_carries_it_once(self):
        cl = Cluster(self).start()
        n = 100
        subs = [self.start_subscriber(cl.a, n, "sub%d" % i) for i in range(2)]
        # Conduit subscription: one network subscription for both subscribers.
        self.wait_network_subscription(cl.b)
        before = self.forwarded(cl.b)
        self.produce(cl.b, TOPIC, n, persistent="true")
        for s in subs:
            self.assertEqual(self.finish(s, 90).returncode, 0, s.describe())
            self.assertEqual(s.lines, text_messages(n), s.describe())
        self.assertEqual(self.forwarded(cl.b) - before, n,
                         "B's bridge forwarded each message once for two subscribers on A")
        # Nothing left on B for the link; the demand ended with the subscribers, and the
        # network subscription went with it.
        self.wait_network_subscription(cl.b, count=0)
        self.assertEqual(self.stored_bodies(cl.b), 0)

    def test_a_durable_subscriber_on_a_gets_what_was_published_while_it_was_offline(self):
        cl = Cluster(self).start()
        self.subscribe_durable(cl.a, "app1", "s1")
        # The offline subscription is demand: B keeps its network subscription.
        self.wait_network_subscription(cl.b)
        n = 50
        self.produce(cl.b, TOPIC, n, persistent="true")
        self.wait_dstat(cl.a, "durable://app1:s1@topic://prices", timeout=30, pending=n)
        c = self.consume(cl.a, TOPIC, n, timeout=90,
                         **self.durable("app1", "s1", receiveTimeout=20000))
        self.assertEqual(c.lines, text_messages(n), c.describe())
        rows = network_rows(self.dstat(cl.b))
        self.assertEqual([r["pending"] for r in rows.values()], [0], rows)
        # Unsubscribed: A's demand ends and B drops its network subscription.
        u = self.run_cli("unsubscribe", "--brokerUrl", cl.a.client_url, "--clientId", "app1",
                         "--subscriptionName", "s1", label="unsubscribe")
        self.assertEqual(u.returncode, 0, u.describe())
        self.wait_network_subscription(cl.b, count=0)
        self.produce(cl.b, TOPIC, 5, persistent="true")
        self.assertEqual(self.stored_bodies(cl.b), 0)

    def test_non_persistent_topic_messages_are_never_stored_on_either_side(self):
        cl = Cluster(self).start()
        self.subscribe_durable(cl.a, "app1", "s1")
        live = self.start_subscriber(cl.a, 30, "live")
        self.wait_network_subscription(cl.b)
        self.produce(cl.b, TOPIC, 30, persistent="false")
        self.assertEqual(self.finish(live, 60).returncode, 0, live.describe())
        self.assertEqual(live.lines, text_messages(30), live.describe())
        self.wait_dstat(cl.a, "durable://app1:s1@topic://prices", timeout=30, pending=30)
        self.assertEqual(self.stored_bodies(cl.a), 0, "A wrote non-persistent messages")
        self.assertEqual(self.stored_bodies(cl.b), 0, "B wrote non-persistent messages")
        c = self.consume(cl.a, TOPIC, 30, timeout=60,
                         **self.durable("app1", "s1", receiveTimeout=20000))
        self.assertEqual(c.lines, text_messages(30), c.describe())

    # -- kills
    def test_kill_b_mid_stream_c_takes_over_and_subscribers_on_a_get_everything_once(self):
        cl = Cluster(self).start()
        n = 300
        durable_sub = self.start_subscriber(cl.a, n, "durable-a", printRedelivered=True,
                                            **self.durable("app1", "s1"))
        live = self.start_subscriber(cl.a, n, "live-a")
        self.wait_network_subscription(cl.b)
        producer = self.start_cli(*self.producer_args(cl.failover_url, TOPIC, n, sleep=20,
                                                      persistent="true"), label="producer")
        self.wait_lines(durable_sub, 80, 60, "80 messages on A before the kill")
        cl.b.kill()
        cl.c.wait_ready()
        wait_link(cl.a, "c", LINK_TIMEOUT)
        self.assertEqual(self.finish(producer, 120).returncode, 0, producer.describe())
        self.assertEqual(harness.produced_count(producer.stderr), n, producer.describe())
        for s in (durable_sub, live):
            self.assertEqual(self.finish(s, 120).returncode, 0, s.describe())
        self.assert_once_each(durable_sub.lines, text_messages(n), allow_redelivered=True)
        self.assert_once_each(live.lines, text_messages(n))
        # Nothing more arrives later.
        more = self.consume(cl.a, TOPIC, 1, check=False,
                            **self.durable("app1", "s1", receiveTimeout=2000))
        self.assertEqual(more.lines, [], more.describe())

    def test_kill_b_before_a_acknowledged_c_sends_again_and_a_drops_the_resends(self):
        """A commits slowly (every sync sleeps 1 s): its non-durable subscriber has the messages
        at once, its durable subscription once A's commit is done, and only then does A
        acknowledge them to B. B is killed as soon as the subscriber has them, so the messages
        are still marked in transfer in the shared store; C takes over and sends them again, and
        A's topic drops the resends, for its subscriber (the topic's in-memory audit) and for its
        durable subscription (the store's audit)."""
        cl = Cluster(self)
        cl.a.env = slow_sync_env(self.workdir, 1000)
        for node in (cl.b, cl.c):
            node.env = os.environ.copy()
            node.env.pop("ACTORMQ_SLOW_SYNC_MS", None)
        cl.start()
        n = 20
        durable_sub = self.start_subscriber(cl.a, 1000, "durable-a", printRedelivered=True,
                                            **self.durable("app1", "s1"))
        live = self.start_subscriber(cl.a, 1000, "live-a", printRedelivered=True)
        self.wait_dstat(cl.a, "durable://app1:s1@topic://prices", timeout=30, consumers=1)
        self.wait_dstat(cl.a, TOPIC, timeout=30, consumers=1)
        self.wait_network_subscription(cl.b)
        self.produce(cl.b, TOPIC, n, asyncWindow=n, persistent="true", timeout=60)
        self.wait_lines(live, n, 30, "%d messages on A's subscriber" % n)
        cl.b.kill()
        cl.c.wait_ready(10)
        wait_link(cl.c, "a", 10)
        self.wait_until(lambda: "in transfer to node a again" in cl.c.log, 10,
                        "C to send the marked messages again (the kill came after A's acks?)")
        self.wait_lines(durable_sub, n, 30, "%d messages on A's durable subscriber" % n)
        self.wait_until(lambda: all(r["pending"] == 0 for r in network_rows(self.dstat(cl.c))
                                    .values()), 10, "C's network subscription to be empty")
        self.assert_stays(lambda: len(durable_sub.lines) <= n and len(live.lines) <= n, 2.5,
                          "no more than the %d messages on A" % n,
                          lambda: durable_sub.describe() + live.describe())
        for s in (durable_sub, live):
            s.kill()
            self.assertEqual(s.lines, text_messages(n), s.describe())
        # A's topic counted the resends it dropped.
        topic = self.debug_show(cl.a, TOPIC)
        self.assertGreater(int(topic[0]["duplicates-dropped"]), 0, topic)

    def test_kill_a_its_durable_subscriber_gets_everything_after_the_restart(self):
        cl = Cluster(self).start()
        self.subscribe_durable(cl.a, "app1", "s1")
        self.wait_network_subscription(cl.b)
        n = 200
        producer = self.start_cli(*self.producer_args(cl.b, TOPIC, n, sleep=10,
                                                      persistent="true"), label="producer")
        self.wait_until(lambda: self.dstat(cl.a).get("durable://app1:s1@topic://prices",
                                                     {}).get("pending", 0) >= 40,
                        60, "40 messages forwarded to A")
        cl.a.kill()
        self.assertEqual(self.finish(producer, 120).returncode, 0, producer.describe())
        cl.a.restart()
        c = self.consume(cl.a, TOPIC, n, timeout=120, check=False,
                         **self.durable("app1", "s1", receiveTimeout=30000,
                                        printRedelivered=True))
        self.assertEqual(c.returncode, 0, c.describe())
        self.assert_once_each(c.lines, text_messages(n), allow_redelivered=True)
        more = self.consume(cl.a, TOPIC, 1, check=False,
                            **self.durable("app1", "s1", receiveTimeout=2000))
        self.assertEqual(more.lines, [], more.describe())

    # -- rings
    def ring(self, names):
        """Nodes each with a connector to every other (a ring of 2 or 3 with links both ways)."""
        ports = {n: {k: harness.free_port() for k in ("client", "cluster", "console")}
                 for n in names}
        nodes = []
        for n in names:
            others = [ports[o]["cluster"] for o in names if o != n]
            nodes.append(self.make_node(n, ports=ports[n], extra_config=connector(*others)))
        for node in nodes:
            node.start()
        for node in nodes:
            for other in names:
                if other != node.name:
                    wait_link(node, other, LINK_TIMEOUT)
        return nodes

    def check_ring(self, names):
        nodes = self.ring(names)
        per_node = 30
        total = per_node * len(nodes)
        subs = [self.start_subscriber(node, total, "sub-" + node.name) for node in nodes]
        # Each node's bridges keep one network subscription per peer (each peer has a
        # subscriber); network subscriptions are no demand, so there are no more.
        for node in nodes:
            self.wait_network_subscription(node, count=len(nodes) - 1)
        for node in nodes:
            self.produce(node, TOPIC, per_node, persistent="true", message="from-" + node.name)
        expected = collections.Counter({"from-" + node.name: per_node for node in nodes})
        for s in subs:
            self.assertEqual(self.finish(s, 120).returncode, 0, s.describe())
            self.assertEqual(collections.Counter(s.lines), expected, s.describe())
        # A network subscription holds nothing: the messages that came over a link never went
        # into one.
        for node in nodes:
            self.wait_until(lambda: all(r["pending"] == 0 and r["enqueued"] == per_node
                                        for r in network_rows(self.dstat(node)).values()),
                            10, "node %s's network subscriptions to hold only its own %d "
                            "messages, all sent" % (node.name, per_node))
        # Each message crossed each link once, and nothing circulates afterwards.
        forwarded = [self.forwarded(node) for node in nodes]
        self.assertEqual(forwarded, [per_node * (len(nodes) - 1)] * len(nodes))
        self.assert_stays(lambda: [self.forwarded(node) for node in nodes] == forwarded, 1.5,
                          "no message forwarded again")

    def test_ring_of_two_each_subscriber_gets_each_message_once(self):
        self.check_ring(["r1", "r2"])

    def test_ring_of_three_each_subscriber_gets_each_message_once(self):
        self.check_ring(["r1", "r2", "r3"])

    # -- bad input
    def test_the_network_client_id_is_reserved_and_a_wildcard_subscription_stays_local(self):
        cl = Cluster(self).start()
        c = self.run_cli(*self.consumer_args(cl.a, TOPIC, 0, **self.durable("network", "x")),
                         label="reserved")
        self.assertNotEqual(c.returncode, 0, c.describe())
        self.assertIn("reserved for the network subscriptions", c.stderr, c.describe())
        # A wildcard subscription is served on its own node: it makes no demand across the link
        # (no network subscription on B), and the link goes on working.
        w = self.start_cli(*self.consumer_args(cl.a, "topic://prices.>", 1,
                                               receiveTimeout=60000), label="wildcard")
        self.wait_dstat(cl.a, "topic://prices.>", timeout=30, consumers=1)
        sub = self.start_subscriber(cl.a, 3, "after")
        self.wait_network_subscription(cl.b)
        self.wait_network_subscription(cl.b, topic="topic://prices.>", count=0)
        self.produce(cl.b, TOPIC, 3)
        self.assertEqual(self.finish(sub, 60).returncode, 0, sub.describe())
        self.assertEqual(sub.lines, text_messages(3), sub.describe())
        self.produce(cl.a, "topic://prices.eu", 1)
        self.assertEqual(self.finish(w, 60).returncode, 0, w.describe())

if __name__ == "__main__":
    unittest.main()
