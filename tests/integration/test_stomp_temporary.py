"""Temporary queues and request/reply over STOMP (docs/topics.md, docs/stomp.md), driven by
Debian's python3-stomp: a STOMP client with a client-id owns /temp-queue/ID:<client-id>:<name>,
gets the replies a Protobuf responder (actormq respond) sends to its reply-to there, and another
STOMP connection may not consume from it."""
import unittest

import harness
import stomp_support as ss

ss.require_stomp()


class StompTemporaryTest(harness.NodeTestCase):
    TIMEOUT = 20

    def setUp(self):
        super().setUp()
        missing = ss.missing_stomp()
        if missing:
            self.fail(missing)

    def test_a_stomp_requester_gets_its_replies_on_its_temporary_queue(self):
        node = ss.stomp_node(self, "stomp-temp")
        replies = "/temp-queue/ID:stomp-req:replies"
        conn, got = ss.connect(self, node, client_id="stomp-req")
        conn.subscribe(replies, id="r", ack="auto", headers={"receipt": "sub"})
        self.wait_until(lambda: "sub" in got.receipts, self.TIMEOUT, "the subscription's receipt")
        responder = self.start_cli("respond", "--brokerUrl", node.client_url, "--destination",
                                   "queue://service", "--messageCount", "2",
                                   "--receiveTimeout", "30000", label="respond")
        self.wait_until(lambda: "Answering" in responder.stderr or not responder.running(),
                        self.TIMEOUT, "the responder to start")
        for i in range(2):
            conn.send("/queue/service", "q%d" % i,
                      headers={"reply-to": replies, "correlation-id": "c%d" % i})
        self.wait_until(lambda: got.count() == 2, self.TIMEOUT, "both replies")
        self.assertEqual(sorted(got.bodies()), ["reply:q0", "reply:q1"])
        self.assertEqual(sorted(m.headers.get("correlation-id") for m in got.messages),
                         ["c0", "c1"])
        self.finish(responder, 30)
        self.assertEqual(responder.returncode, 0, responder.describe())
        # Another STOMP connection may not consume from it.
        other, other_got = ss.connect(self, node, client_id="stomp-other")
        other.subscribe(replies, id="x", ack="auto")
        self.wait_until(lambda: other_got.errors or other_got.disconnected, self.TIMEOUT,
                        "the refusal")
        self.assertTrue(other_got.errors, "no ERROR frame")
        self.assertIn("only the connection that created temp-queue://ID:stomp-req:replies",
                      other_got.errors[0].headers.get("message", "") + other_got.errors[0].body)
        # The owner leaves: its temporary queue goes.
        conn.disconnect()
        self.wait_until(lambda: "temp-queue://ID:stomp-req:replies" not in self.dstat(node),
                        self.TIMEOUT, "the temporary queue to go")


if __name__ == "__main__":
    unittest.main()
