"""The origin identity: the first node that takes a message sets origin_store_id (its store's
UUID) and origin_sequence (the message's sequence in that queue), for a producer's sends and the
console's alike, and the identity crosses a bridge unchanged (docs/protocol.md)."""

import json
import os
import unittest

import harness
from test_cluster import Cluster
from test_console import http, post_json

QUEUE = "queue://origin"
HISTORY_TIMEOUT = 60


class OriginTest(harness.NodeTestCase):

    def store_id(self, node):
        r = http(node.console_url + "/api/overview")
        self.assertEqual(r.status, 200, r)
        store_id = r.json()["store"]["store_id"]
        self.assertRegex(store_id, r"^[0-9a-f-]{36}$")
        return store_id

    def console_send(self, node, body, count):
        r = post_json(node.console_url + "/api/queues/origin/send",
                      {"body": body, "persistent": True, "count": count})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["sent"], count)

    def test_a_node_stamps_its_store_and_the_sequence(self):
        node = self.start_node("origin")
        self.produce(node, QUEUE, 3)
        self.console_send(node, "from the console", 2)
        r = http(node.console_url + "/api/queues/origin/messages")
        self.assertEqual(r.status, 200, r)
        messages = r.json()["messages"]
        self.assertEqual(len(messages), 5, messages)
        store_id = self.store_id(node)
        self.assertEqual([m["origin_store_id"] for m in messages], [store_id] * 5)
        self.assertEqual([m["origin_sequence"] for m in messages], [1, 2, 3, 4, 5])

    def test_the_identity_crosses_a_bridge(self):
        cluster = Cluster(self).start()
        chaos_client = os.path.join(harness.bin_dir(), "actormq-chaos-client")
        self.assertTrue(os.access(chaos_client, os.X_OK), "build the target actormq-chaos-client")
        history = os.path.join(self.workdir, "a.jsonl")
        consumer = self.run_program_background(
            [chaos_client, "consumer", "--brokerUrl", cluster.a.client_url, "--destination",
             QUEUE, "--messageCount", "4", "--history", history], "consumer-a")
        # A's consumer makes demand; B's bridge forwards what B's producers send.
        cluster.wait_link(cluster.b, "a", 30)
        self.wait_until(lambda: self.demand_on(cluster.b), 30, "A's demand to reach B")
        self.produce(cluster.b, QUEUE, 2)
        self.console_send(cluster.b, "from B's console", 2)
        self.finish(consumer, HISTORY_TIMEOUT)
        self.assertEqual(consumer.returncode, 0, consumer.describe())
        with open(history) as f:
            deliveries = [e for e in map(json.loads, f) if e["type"] == "deliver"]
        self.assertEqual(len(deliveries), 4, deliveries)
        b_store = self.store_id(cluster.b)
        self.assertNotEqual(b_store, self.store_id(cluster.a))
        self.assertEqual([d["origin_store_id"] for d in deliveries], [b_store] * 4)
        self.assertEqual(sorted(d["origin_sequence"] for d in deliveries), [1, 2, 3, 4])

    def run_program_background(self, argv, label):
        p = harness.Proc([str(a) for a in argv], self.workdir, label)
        self._procs.append(p)
        return p

    def demand_on(self, node):
        """True once B's queue has a network consumer (A's bridge subscribed)."""
        row = self.dstat(node).get(QUEUE)
        return row is not None and row["consumers"] >= 1


if __name__ == "__main__":
    unittest.main()
