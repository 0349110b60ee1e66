"""Partitions (issue 15 item 4): nodes in network namespaces of their own, joined by a veth pair,
so that the link between them can be cut, restored, delayed and made lossy while messages cross
it. A (hub) and B each have a network connector to the other, as in the reference cluster; a
producer on B sends to a queue whose consumer is on A, so every message crosses B's bridge.

- A cut mid-stream: the link goes down and every TCP connection across it is destroyed (`ss -K`),
  for 3 s; the bridges reconnect on their own and the consumer gets every receipted message,
  none twice without the redelivered flag.
- A slow, lossy link (`tc netem delay 20ms loss 5%`) during the stream: the same.
- A consumer cut off with unacknowledged messages: its deliveries go back to the queue and a
  consumer that connects afterwards gets them, flagged redelivered.

Needs root (CI has it) and iproute2; skipped otherwise. The namespaces are made and removed by
the test; all traffic stays inside them.
"""
import collections
import os
import shutil
import subprocess
import time
import unittest

import harness
from harness import text_messages
from test_cluster import wait_link

SUBNET = "10.231.%d" % (os.getpid() % 250)


def ip(*args, check=True):
    r = subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError("ip %s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def in_ns(ns, *argv, check=True):
    r = subprocess.run(["ip", "netns", "exec", ns] + list(argv), capture_output=True, text=True,
                       timeout=30)
    if check and r.returncode != 0:
        raise AssertionError("%s in %s: %s" % (" ".join(argv), ns, r.stderr.strip()))
    return r


def unflagged(lines):
    return [l for l in lines if not l.startswith("redelivered ")]


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("ip") and shutil.which("tc"),
                     "network namespaces need root and iproute2")
class PartitionTest(harness.NodeTestCase):

    def setUp(self):
        super().setUp()
        tag = "%d%d" % (os.getpid() % 10000, int(time.monotonic() * 1000) % 1000)
        self.ns = {"a": "amq-a-" + tag, "b": "amq-b-" + tag}
        self.dev = {"a": "va" + tag, "b": "vb" + tag}
        self.addr = {"a": SUBNET + ".1", "b": SUBNET + ".2"}
        for n in "ab":
            ip("netns", "add", self.ns[n])
            self.addCleanup(ip, "netns", "del", self.ns[n], check=False)
        ip("link", "add", self.dev["a"], "type", "veth", "peer", "name", self.dev["b"])
        for n in "ab":
            ip("link", "set", self.dev[n], "netns", self.ns[n])
            in_ns(self.ns[n], "ip", "addr", "add", self.addr[n] + "/24", "dev", self.dev[n])
            in_ns(self.ns[n], "ip", "link", "set", self.dev[n], "up")
            in_ns(self.ns[n], "ip", "link", "set", "lo", "up")
        ports = {n: {"client": 7001, "cluster": 7002, "console": 7003} for n in "ab"}
        connector = 'network_connectors { uri: "static:(tcp://%s:7002)" }\n'
        self.a = self.make_node("a", host=self.addr["a"], netns=self.ns["a"], ports=ports["a"],
                                extra_config=connector % self.addr["b"])
        self.b = self.make_node("b", host=self.addr["b"], netns=self.ns["b"], ports=ports["b"],
                                extra_config=connector % self.addr["a"])
        self.a.start()
        self.b.start()
        wait_link(self.b, "a", 30)
        wait_link(self.a, "b", 30)

    def cli(self, ns, *args):
        """Starts `actormq ARGS...` inside namespace `ns`; tearDown kills it if it still runs."""
        self._cli_seq += 1
        p = harness.Proc(["ip", "netns", "exec", ns, harness.cli_binary()]
                         + [str(a) for a in args], self.workdir,
                         "%02d-%s" % (self._cli_seq, args[0]))
        self._procs.append(p)
        return p

    def cut(self, seconds):
        """Takes the link down, destroys every connection across it, restores it after `seconds`."""
        for n in "ab":
            in_ns(self.ns[n], "ip", "link", "set", self.dev[n], "down")
        for n, other in (("a", "b"), ("b", "a")):
            in_ns(self.ns[n], "ss", "-K", "dst", self.addr[other], check=False)
        time.sleep(seconds)  # the outage itself: what is measured is what happens after it
        for n in "ab":
            in_ns(self.ns[n], "ip", "link", "set", self.dev[n], "up")

    def stream(self, count, disturb):
        """Sends `count` persistent messages on B to a consumer on A while `disturb()` runs once
        some have arrived; returns (receipted count, consumer lines)."""
        consumer = self.cli(self.ns["a"], "consumer", "--brokerUrl", self.a.client_url,
                            "--destination", "queue://across", "--messageCount", count,
                            "--receiveTimeout", 60000, "--printRedelivered")
        producer = self.cli(self.ns["b"], "producer", "--brokerUrl", self.b.client_url,
                            "--destination", "queue://across", "--messageCount", count)
        self.wait_until(lambda: self.dstat_count() > 0, 30, "a message reaching A")
        disturb()
        self.finish(producer, 180)
        self.assertEqual(producer.returncode, 0, producer.describe())
        self.finish(consumer, 180)
        self.assertEqual(consumer.returncode, 0, consumer.describe())
        return harness.produced_count(producer.stderr), consumer.stdout.splitlines()

    def dstat_count(self):
        r = in_ns(self.ns["a"], harness.cli_binary(), "dstat", "--brokerUrl", self.a.client_url,
                  check=False)
        for line in r.stdout.splitlines():
            if "queue://across" in line:
                return int(line.split()[3])  # enqueued
        return 0

    def check_exactly_once(self, sent, lines):
        self.assertEqual(sent, 2000)
        plain = unflagged(lines)
        got = [l.split(" ", 1)[1] if l.startswith("redelivered ") else l for l in lines]
        missing = set(text_messages(sent)) - set(got)
        self.assertEqual(sorted(missing)[:10], [], "%d receipted messages lost" % len(missing))
        twice = [m for m, k in collections.Counter(plain).items() if k > 1]
        self.assertEqual(twice, [], "delivered twice without the redelivered flag")

    def test_a_cut_link_heals_and_loses_nothing(self):
        sent, lines = self.stream(2000, lambda: self.cut(3))
        self.check_exactly_once(sent, lines)
        self.assertRegex(self.b.log, r"bridge \S+ lost node a", "the cut went unnoticed")
        wait_link(self.b, "a", 30, nth=2)

    def test_a_slow_lossy_link_loses_nothing(self):
        probe = in_ns(self.ns["a"], "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay",
                      "1ms", check=False)
        if probe.returncode != 0:
            self.skipTest("tc netem is not available here: " + probe.stderr.strip())
        in_ns(self.ns["a"], "tc", "qdisc", "del", "dev", "lo", "root")

        def netem():
            for n in "ab":
                in_ns(self.ns[n], "tc", "qdisc", "add", "dev", self.dev[n], "root", "netem",
                      "delay", "20ms", "loss", "5%")
        sent, lines = self.stream(2000, netem)
        self.check_exactly_once(sent, lines)

    def test_a_consumer_cut_off_gets_its_messages_redelivered_to_another(self):
        producer = self.cli(self.ns["a"], "producer", "--brokerUrl", self.a.client_url,
                            "--destination", "queue://held", "--messageCount", 50)
        self.finish(producer, 60)
        self.assertEqual(producer.returncode, 0, producer.describe())
        # A consumer in B's namespace takes all 50 without acknowledging, then loses the link.
        # It waits for more than there are, so it never finishes (and acknowledges) on its own.
        hoarder = self.cli(self.ns["b"], "consumer", "--brokerUrl", self.a.client_url,
                           "--destination", "queue://held", "--messageCount", 1000,
                           "--ackMode", "CLIENT_ACKNOWLEDGE", "--batchSize", 1000,
                           "--receiveTimeout", 60000)
        self.wait_until(lambda: len(hoarder.stdout.splitlines()) >= 50, 30,
                        "the first consumer to receive the 50 messages")
        self.cut(1)
        hoarder.kill()
        # A's session notices the dead connection (inactivity timeout) and gives the messages
        # back; a consumer on A's side receives them, flagged.
        c = self.cli(self.ns["a"], "consumer", "--brokerUrl", self.a.client_url,
                     "--destination", "queue://held", "--messageCount", 50,
                     "--receiveTimeout", 90000, "--printRedelivered")
        self.finish(c, 120)
        self.assertEqual(c.returncode, 0, c.describe() + "\n" + self.a.log[-3000:])
        lines = c.stdout.splitlines()
        self.assertEqual(sorted(l.split(" ", 1)[1] for l in lines), sorted(text_messages(50)))
        self.assertTrue(all(l.startswith("redelivered ") for l in lines), lines[:5])


if __name__ == "__main__":
    unittest.main()
