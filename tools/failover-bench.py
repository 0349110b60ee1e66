#!/usr/bin/env python3
"""Failover pause seen by a producer across the SIGKILL of a shared-store master.

A B/C pair (two `standby: true` nodes on one temp data folder, own free loopback ports, both
client URIs as shared_store_uris). Each run: a producer with the default failover options over
both nodes (`failover:(B,C)`) sends persistent messages one at a time (each send waits for its
receipt) to a queue of its own, with `--reportPause`; once it has sent a few hundred, the master
gets SIGKILL; the producer's longest blocked send is the pause (it covers the kill, the standby's
takeover, the reconnect, the replay and the resent message's receipt). The killed node is started
again as the new standby. At the end every queue is consumed and compared with what was sent:
lost and duplicated messages are counted.

Then the throughput of a failover:(one URI) connection against a plain tcp:// one, with
actormq-bench (alternating runs, median of each).

    tools/failover-bench.py                        # 20 kills
    tools/failover-bench.py --runs 5 --bin-dir build/tools

Uses tests/integration/harness.py; every process it starts is killed by PID when it ends.
Python 3, standard library only.
"""

import argparse
import collections
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import harness  # noqa: E402


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(0.01)


def sent_so_far(proc):
    sent = [int(x) for x in re.findall(r"Sent (\d+) of", proc.stderr)]
    return max(sent) if sent else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--messages", type=int, default=1500, help="per run")
    ap.add_argument("--kill-after", type=int, default=300, help="sends before the kill")
    ap.add_argument("--bench-messages", type=int, default=20000)
    ap.add_argument("--bench-runs", type=int, default=8)
    ap.add_argument("--bin-dir", default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if args.bin_dir:
        os.environ["ACTORMQ_BIN_DIR"] = os.path.abspath(args.bin_dir)
    missing = harness.missing_binaries()
    if missing:
        sys.exit(missing)
    cli = harness.cli_binary()
    bench = os.path.join(harness.bin_dir(), "actormq-bench")

    root = tempfile.mkdtemp(prefix="actormq-failover-bench-")
    data_dir = os.path.join(root, "data")
    os.makedirs(data_dir)
    ports = [{k: harness.free_port() for k in ("client", "cluster", "console")} for _ in range(2)]
    uris = ["tcp://127.0.0.1:%d" % p["client"] for p in ports]
    config = "standby: true\n" + "".join('shared_store_uris: "%s"\n' % u for u in uris)
    nodes = [harness.Node(name, data_dir=data_dir, ports=p, extra_config=config,
                          workdir=tempfile.mkdtemp(prefix=name + "-", dir=root))
             for name, p in zip(("bench-b", "bench-c"), ports)]
    procs = []
    url = "failover:(%s,%s)" % tuple(uris)
    pauses = []
    resumed_at = []
    lost = 0
    doubled = 0
    rates = collections.defaultdict(list)
    failures = []
    duplicates = 0
    try:
        master, standby = nodes
        master.start(timeout=60)
        standby.start(wait_ready=False)
        standby.wait_for_log(r"is standby: waiting for the lock", 20)
        for run in range(args.runs):
            dest = "queue://failover-bench-%d" % run
            p = harness.Proc([cli, "producer", "--brokerUrl", url, "--destination", dest,
                              "--messageCount", str(args.messages), "--reportPause"],
                             root, "producer-%d" % run)
            procs.append(p)
            wait_for(lambda: sent_so_far(p) >= args.kill_after or not p.running(), 60,
                     "the producer's first sends")
            os.kill(master.pid, signal.SIGKILL)
            master.proc.kill()
            rc = p.wait(120)
            if rc != 0:
                raise RuntimeError("producer failed:\n" + p.describe())
            m = re.search(r"Longest send: ([\d.]+) ms", p.stderr)
            d = re.search(r"recognised (\d+) as resends", p.stderr)
            duplicates += int(d.group(1)) if d else 0
            r = re.search(r"reconnected to (\S+)", p.stderr)
            pauses.append(float(m.group(1)))
            resumed_at.append(r.group(1) if r else "-")
            print("run %2d: longest send %7.1f ms%s" % (
                run + 1, pauses[-1], "" if r else " (no reconnection seen)"), flush=True)
            standby.wait_ready(20)
            master.restart(wait_ready=False)
            master.wait_for_log(r"is standby: waiting for the lock", 20)
            master, standby = standby, master

        # Every queue, consumed through the failover URL: lost and duplicated messages.
        for run in range(args.runs):
            dest = "queue://failover-bench-%d" % run
            c = harness.Proc([cli, "consumer", "--brokerUrl", url, "--destination", dest,
                              "--messageCount", str(args.messages + 1), "--receiveTimeout",
                              "1500"], root, "consumer-%d" % run)
            procs.append(c)
            c.wait(120)
            got = collections.Counter(c.lines)
            expected = set(harness.text_messages(args.messages))
            lost += len(expected - set(got))
            doubled += sum(n - 1 for n in got.values() if n > 1)

        # Throughput: failover:(one URI) against tcp://, same node, alternating (which goes
        # first changes every round: this disk's commit times drift), persistent and not.
        single = master.client_url
        for persistent, count in (("true", args.bench_messages), ("false", 5 * args.bench_messages)):
            for i in range(args.bench_runs):
                order = [("tcp", single), ("failover", "failover:(%s)" % single)]
                if i % 2:
                    order.reverse()
                for slot, (kind, u) in enumerate(order):
                    # Names of one length, not naming the kind (the node's work must not differ).
                    out = subprocess.run(
                        [bench, "--brokerUrl", u, "--destination",
                         "queue://fbtp-%s-%d-%d" % (persistent[0], i, slot),
                         "--messages", str(count), "--asyncWindow", "100", "--persistent",
                         persistent, "--consumers", "1", "--json", "--quiet"],
                        capture_output=True, text=True, timeout=300)
                    if out.returncode != 0:
                        failures.append("%s %s persistent=%s: %s" % (
                            kind, u, persistent, out.stderr.strip().splitlines()[-1]))
                        print("throughput run failed: " + failures[-1], flush=True)
                        continue
                    rate = json.loads(out.stdout)["sent_per_s"]
                    rates[(persistent, kind)].append(rate)
                    print("throughput %s persistent=%s: %.0f msg/s" % (kind, persistent, rate),
                          flush=True)
    finally:
        for p in procs:
            p.kill()
        for n in nodes:
            n.cleanup()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    print()
    if pauses:
        report_pauses(pauses, lost, doubled, duplicates, args)
    report_rates(rates, failures, args)
    print("Command: " + " ".join(shlex.quote(a) for a in sys.argv))


def report_pauses(pauses, lost, doubled, duplicates, args):
    print("Failover pause (longest blocked persistent send across a master SIGKILL), "
          "default options, %d runs:" % len(pauses))
    print("  median %.1f ms, max %.1f ms, min %.1f ms  (target: median < 300 ms, max < 1000 ms)"
          % (statistics.median(pauses), max(pauses), min(pauses)))
    print("  lost %d, duplicated %d (of %d x %d sent); resends recognised by the audit: %d"
          % (lost, doubled, args.runs, args.messages, duplicates))


def report_rates(rates, failures, args):
    print("Throughput (actormq-bench, 1 KiB, async window 100, 1 consumer; median of %d "
          "alternating runs):" % args.bench_runs)
    for persistent, count in (("true", args.bench_messages), ("false", 5 * args.bench_messages)):
        if not rates[(persistent, "tcp")] or not rates[(persistent, "failover")]:
            continue
        tcp = statistics.median(rates[(persistent, "tcp")])
        fo = statistics.median(rates[(persistent, "failover")])
        print("  %s, %d messages: tcp:// %.0f msg/s, failover:(one URI) %.0f msg/s: %+.1f %%  "
              "(runs tcp %s / failover %s)"
              % ("persistent" if persistent == "true" else "non-persistent", count, tcp, fo,
                 (fo - tcp) / tcp * 100.0 if tcp else 0.0,
                 ", ".join("%.0f" % r for r in rates[(persistent, "tcp")]),
                 ", ".join("%.0f" % r for r in rates[(persistent, "failover")])))
    for f in failures:
        print("  failed run: " + f)


if __name__ == "__main__":
    main()
