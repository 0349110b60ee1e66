#!/usr/bin/env python3
"""What a selector consumer costs the other consumers of its queue (docs/selectors.md).

A node on an empty data folder; a queue filled with PENDING persistent messages (100-byte
bodies), one in 1,000 with the property color='red', the others color='blue'. Then, alternating:

  with:    a consumer with the selector "color = 'red'" is open (it took the red messages and
           waits for more) while a plain consumer receives CHUNK messages;
  without: no selector consumer; a plain consumer receives CHUNK messages.

Prints the plain consumer's rate in each round, the time the selector consumer took from its
start until the queue counted it and it had every red message still pending (its open evaluates
the selector on every pending message once),
and the queue's selector-evaluations counter (actormq-debug): once per message per selector
consumer, however many dispatches. Were dispatch to walk the pending messages for the selector
consumer, the "with" rounds would fall by orders of magnitude.

    tools/selector-bench.py [--bin-dir build/tools] [--pending 100000] [--chunk 10000] [--rounds 2]

Uses tests/integration/harness.py (free loopback ports; every process it starts is stopped by
PID). Python 3, standard library only.
"""

import argparse
import os
import re
import shlex
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import harness  # noqa: E402

QUEUE = "queue://selbench"


def run(args, workdir, label, timeout=600):
    p = harness.Proc([harness.cli_binary()] + [str(a) for a in args], workdir, label)
    p.wait(timeout)
    if p.returncode != 0:
        raise SystemExit("%s failed:\n%s" % (label, p.describe()))
    return p


def counters(node, workdir):
    p = harness.Proc([os.path.join(harness.bin_dir(), "actormq-debug"), "--node",
                      "127.0.0.1:%d" % node.ports["cluster"], "show", QUEUE], workdir, "debug")
    p.wait(60)
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^\s*([a-z-]+): (\d+)$", p.stdout, re.M)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(REPO, "build", "tools"))
    ap.add_argument("--pending", type=int, default=100000)
    ap.add_argument("--chunk", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    os.environ["ACTORMQ_BIN_DIR"] = os.path.abspath(a.bin_dir)
    node = harness.Node("selbench")
    workdir = node.workdir
    procs = []
    try:
        node.start()
        url = node.client_url
        fill_start = time.monotonic()
        for i in range(a.pending // 1000):
            for color, count in (("blue", 999), ("red", 1)):
                run(["producer", "--brokerUrl", url, "--destination", QUEUE, "--messageCount",
                     count, "--messageSize", 100, "--asyncWindow", 64, "--property",
                     "color=" + color], workdir, "fill")
        print("filled %d messages in %.1f s" % (a.pending, time.monotonic() - fill_start))
        reds = a.pending // 1000
        rows = []
        for r in range(a.rounds):
            for mode in ("with", "without"):
                selector = None
                if mode == "with":
                    start = time.monotonic()
                    selector = harness.Proc(
                        [harness.cli_binary(), "consumer", "--brokerUrl", url, "--destination",
                         QUEUE, "--messageCount", str(a.pending), "--selector", "color = 'red'"],
                        workdir, "selector")
                    procs.append(selector)
                    # Subscribing evaluates the selector on every pending message, in the queue
                    # actor, before the queue counts the consumer.
                    deadline = time.monotonic() + 600
                    while (counters(node, workdir).get("consumers") != 1 or
                           len(selector.lines) < reds) and time.monotonic() < deadline:
                        time.sleep(0.01)
                    opened = time.monotonic() - start
                    if len(selector.lines) < reds:
                        raise SystemExit("the selector consumer got %d of %d red messages"
                                         % (len(selector.lines), reds))
                before = counters(node, workdir)
                t = time.monotonic()
                run(["consumer", "--brokerUrl", url, "--destination", QUEUE, "--messageCount",
                     a.chunk], workdir, "plain")
                took = time.monotonic() - t
                after = counters(node, workdir)
                evals = after.get("selector-evaluations", 0) - before.get("selector-evaluations", 0)
                rows.append((r + 1, mode, a.chunk / took, after.get("pending"),
                             "%.2f s" % opened if selector else "-", evals))
                if selector:
                    selector.kill()
                    reds = 0  # the next selector consumer finds no red left behind the consumed
        print("| round | selector consumer | plain consumer msg/s | pending after | selector "
              "consumer open | evaluations during the plain run |")
        print("| --- | --- | --- | --- | --- | --- |")
        for row in rows:
            print("| %d | %s | %.0f | %s | %s | %d |" % row)
        print("selector-evaluations in all: %d" % counters(node, workdir).get(
            "selector-evaluations", 0))
        print("load average: %s" % open("/proc/loadavg").read().split()[:3])
        print("command: %s" % " ".join(shlex.quote(x) for x in sys.argv))
    finally:
        for p in procs:
            p.kill()
        node.kill()
        node.cleanup()


if __name__ == "__main__":
    main()
