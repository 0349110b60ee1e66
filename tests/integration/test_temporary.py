"""Temporary destinations and request/reply (docs/topics.md) against real nodes and the real
CLI: a request through `actormq request` gets its reply on a temporary queue; a temporary queue
belongs to its connection: another one may send to it but not consume from it, and it goes with
its owner (kill -9 of the client), sends to it then failing with a clear error; none is left
after a kill -9 of the node."""
import unittest

import harness


class TemporaryTest(harness.NodeTestCase):
    def test_request_reply_through_the_cli(self):
        node = self.start_node("temp-request")
        responder = self.start_cli("respond", "--brokerUrl", node.client_url, "--destination",
                                   "queue://service", "--messageCount", "3",
                                   "--receiveTimeout", "30000", label="respond")
        self.wait_until(lambda: "Answering" in responder.stderr or not responder.running(), 15,
                        "the responder to start")
        p = self.run_cli("request", "--brokerUrl", node.client_url, "--destination",
                         "queue://service", "--message", "ping", "--messageCount", "3",
                         "--timeout", "20000", label="request")
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertEqual(p.lines, ["reply:ping"] * 3, p.describe())
        self.finish(responder, 30)
        self.assertEqual(responder.returncode, 0, responder.describe())
        # The requester's temporary queue went with its connection.
        self.wait_until(lambda: not any(name.startswith("temp-queue://")
                                        for name in self.dstat(node)), 15,
                        "the temporary queue to go")
        # Nobody answers: the request times out, naming what it waited for.
        p = self.run_cli("request", "--brokerUrl", node.client_url, "--destination",
                         "queue://nobody", "--timeout", "500", label="request")
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("no reply to the request sent to queue://nobody within 500 ms", p.stderr)

    def test_a_temporary_queue_belongs_to_its_connection_and_goes_with_it(self):
        node = self.start_node("temp-owner")
        temp = "temp-queue://ID:owner1:1"
        owner = self.start_cli(*self.consumer_args(node, temp, 1000, clientId="owner1",
                                                   receiveTimeout=60000), label="owner")
        self.wait_until(lambda: "Consuming" in owner.stderr or not owner.running(), 15,
                        "the owner to open its temporary queue")
        self.assertTrue(owner.running(), owner.describe())
        # Another connection may send to it...
        self.produce(node, temp, 3)
        self.wait_until(lambda: len(owner.lines) == 3, 15, "the owner to receive 3 messages")
        # ... but not consume from it, even with a name it could claim.
        for args in ({}, {"clientId": "owner2"}):
            c = self.consume(node, temp, 1, check=False, receiveTimeout=1000, **args)
            self.assertNotEqual(c.returncode, 0, c.describe())
            self.assertIn("only the connection that created %s may consume from it" % temp,
                          c.stderr)
        self.assertIn(temp, self.dstat(node))
        # kill -9 of the owner's client: the node deletes the queue with its connection.
        owner.kill()
        self.wait_until(lambda: temp not in self.dstat(node), 15, "the temporary queue to go")
        p = self.produce(node, temp, 1, check=False)
        self.assertNotEqual(p.returncode, 0, p.describe())
        self.assertIn("temporary destination %s does not exist" % temp, p.stderr)

    def test_no_temporary_queue_outlives_a_kill_9_of_the_node(self):
        node = self.start_node("temp-crash")
        temp = "temp-queue://ID:owner3:7"
        owner = self.start_cli(*self.consumer_args(node, temp, 1000, clientId="owner3",
                                                   receiveTimeout=60000, prefetch=1,
                                                   sleep=600000), label="owner")
        self.wait_until(lambda: "Consuming" in owner.stderr or not owner.running(), 15,
                        "the owner to open its temporary queue")
        self.produce(node, temp, 5, persistent="true")
        self.wait_until(lambda: self.dstat(node).get(temp, {}).get("enqueued") == 5, 15,
                        "the temporary queue to hold the messages")
        node.kill()
        owner.kill()
        node.start()
        self.assertNotIn(temp, self.dstat(node))
        self.assertIn("broker removes %s" % temp, node.log)


if __name__ == "__main__":
    unittest.main()
