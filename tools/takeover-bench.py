#!/usr/bin/env python3
"""Takeover time of a shared-store master/slave pair.

Two actormq-node processes with `standby: true` share one data folder. Each run: SIGKILL the
master, then connect to the standby's client port every millisecond; the takeover time is from
the kill to the first accepted TCP connection. The killed node is then started again and waits as
the new standby (the pair swaps roles every run). Scenarios: an empty store, and a store holding
N pending persistent messages (filled once, before the runs, with
`actormq producer --asyncWindow 64 --messageSize 100`; nothing consumes them).

Prints a table (median, max, min per scenario, with the issue's targets), the figures each new
master logs (lock wait, recovery, master-to-ready), the machine's load, and this command.

    tools/takeover-bench.py                      # 20 runs, 0 and 100000 pending
    tools/takeover-bench.py --runs 5 --pending 0 --bin-dir build/tools

Uses tests/integration/harness.py (free loopback ports, never the reference cluster's; every
process it starts is killed by PID when the script ends). Python 3, standard library only.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import harness  # noqa: E402

# The targets (ms): (median, max) per scenario; None = no target.
TARGETS = {0: (100.0, 250.0), 100000: (500.0, None)}


def wait_accepting(port, timeout):
    """monotonic() of the first accepted connection to 127.0.0.1:port, polled every ~1 ms."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return time.monotonic()
        except OSError:
            pass
        if time.monotonic() > deadline:
            return None
        time.sleep(0.001)


def waiting_line(holder):
    return r"is standby: waiting for the lock of \S+ held by node %s \(pid %d\)" % (
        re.escape(holder.name), holder.pid)


def log_figures(log):
    """(lock wait ms, recovery ms, master-to-ready ms) from a new master's log."""
    def grab(rx):
        m = re.search(rx, log)
        return int(m.group(1)) if m else None
    return (grab(r"acquired the lock of \S+ after (\d+) ms"),
            grab(r"recovered \d+ destinations with \d+ pending messages in (\d+) ms"),
            grab(r"is ready: .*master for (\d+) ms\)"))


class Pair:
    def __init__(self, root, label):
        self.data_dir = os.path.join(root, "data-" + label)
        os.makedirs(self.data_dir)
        ports = [{k: harness.free_port() for k in ("client", "cluster", "console")}
                 for _ in range(2)]
        uris = "".join('shared_store_uris: "tcp://127.0.0.1:%d"\n' % p["client"] for p in ports)
        self.nodes = []
        for name, p in zip(("bench-b-" + label, "bench-c-" + label), ports):
            workdir = tempfile.mkdtemp(prefix="node-", dir=root)
            self.nodes.append(harness.Node(name=name, data_dir=self.data_dir, ports=p,
                                           extra_config="standby: true\n" + uris,
                                           workdir=workdir))
        self.master, self.standby = self.nodes

    def start(self):
        self.master.start()
        self.standby.start(wait_ready=False)
        self.standby.wait_for_log(waiting_line(self.master), 20)

    def takeover(self, browse_dir=None):
        """Kills the master; returns (ms until the standby accepted, ms until a browse of one
        message returned it (None without browse_dir), the new master's log figures); the
        killed node comes back as standby."""
        old, new = self.master, self.standby
        t0 = time.monotonic()
        os.kill(old.pid, signal.SIGKILL)
        t1 = wait_accepting(new.client_port, 30)
        old.kill()  # reap
        if t1 is None:
            raise RuntimeError("the standby did not accept within 30 s\n" + new.describe())
        browsed_ms = None
        if browse_dir is not None:
            p = cli(["browse", "--brokerUrl", new.client_url, "--destination", "queue://bench",
                     "--maxMessages", 1], browse_dir, "browse", timeout=60)
            if p.returncode != 0 or len(p.lines) != 1:
                raise RuntimeError("browse after the takeover failed\n" + p.describe())
            browsed_ms = (time.monotonic() - t0) * 1000.0
        new.wait_ready(10)
        figures = log_figures(new.log)
        old.restart(wait_ready=False)
        old.wait_for_log(waiting_line(new), 20)
        self.master, self.standby = new, old
        return (t1 - t0) * 1000.0, browsed_ms, figures

    def cleanup(self):
        for n in self.nodes:
            n.cleanup()


def cli(args, workdir, label, timeout):
    p = harness.Proc([harness.cli_binary()] + [str(a) for a in args], workdir, label)
    try:
        p.wait(timeout)
    except TimeoutError:
        p.kill()
        raise
    return p


def fill(pair, count, size, workdir):
    t0 = time.monotonic()
    p = cli(["producer", "--brokerUrl", pair.master.client_url, "--destination",
             "queue://bench", "--messageCount", count, "--messageSize", size,
             "--asyncWindow", 64], workdir, "fill", timeout=600)
    if p.returncode != 0 or harness.produced_count(p.stderr) != count:
        raise RuntimeError("filling the store failed\n" + p.describe())
    return time.monotonic() - t0


def pending(pair, workdir):
    p = cli(["dstat", "--brokerUrl", pair.master.client_url], workdir, "dstat", timeout=60)
    row = harness.parse_dstat(p.stdout).get("queue://bench")
    return row["pending"] if row else 0


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def fmt(v):
    return "-" if v is None else "%.1f" % v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="takeovers per scenario (20)")
    ap.add_argument("--pending", default="0,100000",
                    help="comma-separated pending message counts, one scenario each")
    ap.add_argument("--message-size", type=int, default=100, help="body bytes (100)")
    ap.add_argument("--bin-dir", help="folder of actormq-node and actormq (else "
                    "$ACTORMQ_BIN_DIR, else build/tools)")
    ap.add_argument("--settle", type=float, default=0.2,
                    help="seconds between a standby being in place and the next kill (0.2)")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    if args.bin_dir:
        os.environ["ACTORMQ_BIN_DIR"] = os.path.abspath(args.bin_dir)
    missing = harness.missing_binaries()
    if missing:
        sys.exit(missing)
    counts = [int(x) for x in args.pending.split(",") if x.strip()]
    command = " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:])
    root = tempfile.mkdtemp(prefix="actormq-takeover-")
    load_before = load_average()
    results = []
    pairs = []
    try:
        for count in counts:
            pair = Pair(root, "p%d" % count)
            pairs.append(pair)
            pair.start()
            fill_s = fill(pair, count, args.message_size, root) if count else 0.0
            times, browses, recoveries, readies = [], [], [], []
            for i in range(args.runs):
                time.sleep(args.settle)
                ms, browsed_ms, (wait_ms, recovery_ms, ready_ms) = pair.takeover(
                    root if count else None)
                times.append(ms)
                for lst, v in ((browses, browsed_ms), (recoveries, recovery_ms),
                               (readies, ready_ms)):
                    if v is not None:
                        lst.append(v)
                print("pending %-7d run %2d: accepts after %7.1f ms, first message browsed "
                      "after %s ms (log: standby waited %s ms, recovery %s ms, master-to-ready "
                      "%s ms)" % (count, i + 1, ms, fmt(browsed_ms), wait_ms, recovery_ms,
                                  ready_ms), file=sys.stderr, flush=True)
            still = pending(pair, root)
            if still != count:
                raise RuntimeError("the store holds %d pending messages after the runs, "
                                   "not %d" % (still, count))
            results.append({
                "pending": count, "runs": len(times), "fill_s": round(fill_s, 1),
                "median_ms": statistics.median(times), "max_ms": max(times),
                "min_ms": min(times), "times_ms": [round(t, 1) for t in times],
                "browse_median_ms": statistics.median(browses) if browses else None,
                "browse_max_ms": max(browses) if browses else None,
                "recovery_median_ms": statistics.median(recoveries) if recoveries else None,
                "master_to_ready_median_ms": statistics.median(readies) if readies else None,
            })
            pair.cleanup()
    finally:
        for p in pairs:
            p.cleanup()
        if args.keep:
            print("kept %s" % root, file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)

    print()
    print("Takeover: SIGKILL of the master -> standby accepts a TCP connection on its client port")
    print()
    print("| pending messages | runs | median ms | max ms | min ms | first message browsed: "
          "median / max ms | target |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        med_t, max_t = TARGETS.get(r["pending"], (None, None))
        target = []
        if med_t is not None:
            target.append("median < %d ms: %s" % (med_t, "met" if r["median_ms"] < med_t
                                                   else "MISSED"))
        if max_t is not None:
            target.append("max < %d ms: %s" % (max_t, "met" if r["max_ms"] < max_t
                                                else "MISSED"))
        print("| {:,} | {} | {} | {} | {} | {} | {} |".format(
            r["pending"], r["runs"], fmt(r["median_ms"]), fmt(r["max_ms"]), fmt(r["min_ms"]),
            "%s / %s" % (fmt(r["browse_median_ms"]), fmt(r["browse_max_ms"]))
            if r["browse_median_ms"] is not None else "-", "; ".join(target) or "-"))
    print()
    print("First message browsed: from the kill until `actormq browse --maxMessages 1`, started "
          "once the port accepts, printed a stored message (includes the CLI's own start).")
    print("load average before: %s, after: %s; %d CPUs" % (load_before, load_average(),
                                                          os.cpu_count() or 0))
    print("command: %s" % command)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": command, "load_before": load_before,
                       "load_after": load_average(), "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
