#!/usr/bin/python3
"""The chaos suite's history checker: reads the history files of actormq-chaos-client producers
and consumers (JSON lines, docs/chaos.md) and prints what the run proves.

    tools/chaos/check_history.py [--ordered queue://q ...] [--outage-threshold 1.0]
                                 [--json out.json] HISTORY_FILE_OR_DIR ...

Counts (docs/chaos.md):
  sent, receipted, refused (an error from the node), unknown (no outcome learned);
  delivered (ids delivered at least once), deliveries (in all);
  lost: receipted sends never delivered; for a topic, receipted sends that some durable
    subscription of it (a "subscribed" event before the send) never got;
  flagged duplicates: deliveries after an id's first that carry the redelivered flag;
  unflagged duplicates: deliveries after an id's first (in time order) without the flag;
  (a topic's message is a separate id per durable subscription: each must get it once)
  phantoms: delivered ids nobody sent;
  order violations (only queues named with --ordered): per consumer and producer, a first
    delivery without the flag whose send came before one delivered earlier;
  outages: the longest gap between consecutive receipts (all producers merged), the longest
    gap between two receipts of one producer, and the number, median and max of those
    per-producer gaps longer than --outage-threshold seconds.

Exit status 1 when lost, unflagged duplicates, phantoms or order violations are not all 0; 2 when
no history could be read. Standard library only.
"""

import argparse
import collections
import json
import os
import statistics
import sys

FAILING = ("lost", "unflagged duplicates", "phantoms", "order violations")


class History:
    """Everything the files said, merged."""

    def __init__(self):
        self.sends = {}  # id -> dict(client, destination, index, outcome, t)
        self.deliveries = []  # dicts of deliver events (t, id, destination, redelivered, client)
        self.acks = collections.Counter()  # outcome -> count
        self.receipt_times = collections.defaultdict(list)  # producer -> receipt times
        # (destination, subscription) -> the first time a durable subscriber was subscribed
        self.subscribed = {}
        self.unreadable = 0  # lines that were not JSON (a write cut by SIGKILL)
        self.files = 0

    def read(self, path):
        self.files += 1
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    e = json.loads(line)
                except ValueError:
                    self.unreadable += 1
                    continue
                if isinstance(e, dict):
                    self.add(e)

    def add(self, e):
        kind = e.get("type")
        if kind == "invoke":
            # n: the producer's counter, its send order
            self.sends[e["id"]] = {"client": e.get("client", ""),
                                   "destination": e.get("destination", ""),
                                   "index": e.get("n", 0), "outcome": None, "t": e["t"]}
        elif kind in ("ok", "error", "unknown"):
            s = self.sends.get(e.get("id"))
            if s is not None:
                s["outcome"] = kind
            if kind == "ok":
                self.receipt_times[e.get("client", "")].append(e["t"])
        elif kind == "deliver":
            self.deliveries.append(e)
        elif kind == "subscribed":
            key = (e.get("destination", ""), e.get("subscription", ""))
            self.subscribed[key] = min(e["t"], self.subscribed.get(key, e["t"]))
        elif kind == "ack":
            self.acks[e.get("outcome", "?")] += 1


def history_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                if name.endswith(".jsonl"):
                    yield os.path.join(p, name)
        else:
            yield p


def gaps(times):
    times = sorted(times)
    return [b - a for a, b in zip(times, times[1:])]


def outages(receipt_times, threshold):
    """Gaps between receipts: with all producers merged (the time nothing at all was receipted)
    and per producer (the time one client waited: a producer of the B/C pair stalls while
    a producer on A carries on), the latter's gaps over the threshold as outages."""
    merged = gaps([t for ts in receipt_times.values() for t in ts])
    own = [g for ts in receipt_times.values() for g in gaps(ts)]
    long_gaps = [g for g in own if g > threshold]
    return {
        "longest gap s": max(merged) if merged else 0.0,
        "longest producer gap s": max(own) if own else 0.0,
        "outages": len(long_gaps),
        "outage median s": statistics.median(long_gaps) if long_gaps else 0.0,
        "outage max s": max(long_gaps) if long_gaps else 0.0,
    }


def check(h, ordered=(), outage_threshold=1.0):
    """The counts (a dict, in table order) and examples of each failing category."""
    by_id = collections.defaultdict(list)
    # A topic's durable subscriptions each get every message: (subscription, id) -> deliveries
    by_copy = collections.defaultdict(list)
    for d in h.deliveries:
        by_id[d["id"]].append(d)
        by_copy[(d.get("subscription", ""), d["id"])].append(d)
    for ds in list(by_id.values()) + list(by_copy.values()):
        ds.sort(key=lambda d: d["t"])

    outcomes = collections.Counter(s["outcome"] for s in h.sends.values())
    receipted = {i for i, s in h.sends.items() if s["outcome"] == "ok"}
    lost = set(receipted - set(by_id))
    for (destination, subscription), since in h.subscribed.items():
        for i in receipted:
            s = h.sends[i]
            if s["destination"] == destination and s["t"] >= since and \
                    (subscription, i) not in by_copy:
                lost.add(i)
    lost = sorted(lost)
    phantoms = sorted(set(by_id) - set(h.sends))
    flagged, unflagged = 0, 0
    unflagged_ids = []
    for (subscription, i), ds in by_copy.items():
        for d in ds[1:]:
            if d.get("redelivered"):
                flagged += 1
            else:
                unflagged += 1
                unflagged_ids.append(i)
    unknown_delivered = sum(1 for i, s in h.sends.items()
                            if s["outcome"] in (None, "unknown") and i in by_id)
    refused_delivered = sum(1 for i, s in h.sends.items()
                            if s["outcome"] == "error" and i in by_id)

    # Order: per consumer and producer, first deliveries (not flagged) in the consumer's time
    # order must follow the producer's send order.
    violations = []
    ordered = set(ordered)
    firsts = {k: ds[0] for k, ds in by_copy.items()}
    last_index = {}
    for d in sorted(h.deliveries, key=lambda d: d["t"]):
        if d.get("destination") not in ordered or d.get("redelivered"):
            continue
        if firsts.get((d.get("subscription", ""), d["id"])) is not d or d["id"] not in h.sends:
            continue
        s = h.sends[d["id"]]
        key = (d.get("client"), s["client"], d.get("destination"))
        if key in last_index and s["index"] < last_index[key]:
            violations.append(d["id"])
        last_index[key] = max(last_index.get(key, 0), s["index"])

    counts = collections.OrderedDict()
    counts["histories"] = h.files
    counts["sent"] = len(h.sends)
    counts["receipted"] = len(receipted)
    counts["refused"] = outcomes.get("error", 0)
    counts["unknown"] = outcomes.get("unknown", 0) + outcomes.get(None, 0)
    counts["unknown delivered"] = unknown_delivered
    counts["refused delivered"] = refused_delivered
    counts["subscriptions"] = len(h.subscribed)
    counts["delivered"] = len(by_id)
    counts["deliveries"] = len(h.deliveries)
    counts["acks ok"] = h.acks.get("ok", 0)
    counts["acks failed"] = sum(n for k, n in h.acks.items() if k != "ok")
    counts["lost"] = len(lost)
    counts["flagged duplicates"] = flagged
    counts["unflagged duplicates"] = unflagged
    counts["phantoms"] = len(phantoms)
    counts["order violations"] = len(violations)
    counts.update(outages(h.receipt_times, outage_threshold))
    counts["unreadable lines"] = h.unreadable
    examples = {"lost": lost[:10], "unflagged duplicates": sorted(set(unflagged_ids))[:10],
                "phantoms": phantoms[:10], "order violations": violations[:10]}
    return counts, examples


def table(counts):
    width = max(len(k) for k in counts)
    lines = []
    for k, v in counts.items():
        text = "%.3f" % v if isinstance(v, float) else str(v)
        mark = "  <-- FAIL" if k in FAILING and v else ""
        lines.append("%-*s %12s%s" % (width, k, text, mark))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", help="history files, or folders of *.jsonl files")
    ap.add_argument("--ordered", action="append", default=[],
                    help="a queue whose order is promised (repeatable), e.g. queue://q")
    ap.add_argument("--outage-threshold", type=float, default=1.0,
                    help="gaps between receipts longer than this many seconds are outages")
    ap.add_argument("--json", help="also write the counts to this file")
    args = ap.parse_args(argv)

    h = History()
    for path in history_files(args.paths):
        try:
            h.read(path)
        except OSError as e:
            print("check_history: %s" % e, file=sys.stderr)
            return 2
    if h.files == 0:
        print("check_history: no history files", file=sys.stderr)
        return 2
    counts, examples = check(h, args.ordered, args.outage_threshold)
    print(table(counts))
    for k in FAILING:
        if examples[k]:
            print("%s (first 10): %s" % (k, " ".join(examples[k])))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(counts, f, indent=1)
    return 1 if any(counts[k] for k in FAILING) else 0


if __name__ == "__main__":
    sys.exit(main())
