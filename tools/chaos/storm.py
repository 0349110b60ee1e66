#!/usr/bin/python3
"""Kill storm on the reference topology: A (standalone hub) bridged to the shared-store
master/slave pair B and C, under load from history-recording clients (on a queue, and on a topic
with durable subscribers on B/C), while a seeded driver SIGKILLs the current B/C master or the
hub A at random moments and restarts each killed node. Then every queue and durable subscription
is drained, everything started is stopped by PID, and the history checker
prints its table (docs/chaos.md).

    tools/chaos/storm.py --kills 100 --seed 7 [--timeout 1500] [--bin-dir build/tools]

Everything runs on free loopback ports in one temporary folder (kept and printed when the
checker fails, or with --keep). Exit status: the checker's (0 = nothing lost, no unflagged
duplicate, no phantom), 3 when the storm itself could not run (a node did not come back).
Standard library only; nodes are started with tests/integration/harness.py.
"""

import argparse
import collections
import json
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, HERE)

import check_history  # noqa: E402
import harness  # noqa: E402

QUEUE = "queue://chaos"
TOPIC = "topic://chaos-t"
SUBSCRIPTION = "sub"
TAKEOVER_TIMEOUT = 30.0  # s for the standby to become master, or A to be ready again
LINK_TIMEOUT = 30.0
CLIENT_STOP_TIMEOUT = 60.0
DRAIN_IDLE_MS = 4000
FAILOVER_OPTIONS = "randomize=true&maxReconnectDelay=1000"
_LINK = re.compile(r"bridge \S+ (connected to|lost) node (\w+)")


class StormError(Exception):
    pass


def log(msg):
    print("[storm %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def connector(*cluster_ports):
    uris = ",".join("tcp://127.0.0.1:%d" % p for p in cluster_ports)
    return 'network_connectors { uri: "static:(%s)" }' % uris


class Topology:
    """A bridged to B and C (one store; whichever holds its lock is master), as
    tests/integration/test_cluster.py's Cluster and config/a.conf, b.conf, c.conf."""

    def __init__(self, workdir, overrides=()):
        ports = {n: {k: harness.free_port() for k in ("client", "cluster", "console")}
                 for n in "abc"}
        shared = "\n".join('shared_store_uris: "tcp://127.0.0.1:%d"' % ports[n]["client"]
                           for n in "bc")
        bc_data = os.path.join(workdir, "bc-data")

        def node(name, extra, data_dir=None):
            d = os.path.join(workdir, name)
            os.makedirs(d)
            return harness.Node(name, workdir=d, ports=ports[name], extra_config=extra,
                                data_dir=data_dir, overrides=overrides)

        # Messages come back to their queues at every kill (consumers and bridges lose their
        # connections); the default redelivery limit would move a message that comes back a
        # seventh time to ActiveMQ.DLQ by design (docs/redelivery.md), which the checker would
        # count as lost. The storm keeps the default delays and lifts the limit.
        no_limit = 'destination_policies { queue: ">" maximum_redeliveries: -1 }'
        self.a = node("a", "%s\n%s" % (connector(ports["b"]["cluster"], ports["c"]["cluster"]),
                                        no_limit))
        pair = "standby: true\n%s\n%s\n%s" % (shared, connector(ports["a"]["cluster"]),
                                                no_limit)
        self.b = node("b", pair, bc_data)
        self.c = node("c", pair, bc_data)
        self.nodes = (self.a, self.b, self.c)

    @property
    def failover_url(self):
        return "failover:(%s,%s)?%s" % (self.b.client_url, self.c.client_url, FAILOVER_OPTIONS)

    def start(self):
        self.a.start()
        self.b.start()
        self.c.start(wait_ready=False)
        self.c.wait_for_log(r"is standby", 20)
        self.wait_links()

    def master(self):
        """The running node of B/C whose current run is ready (not standby). Both ready would
        be two masters on one store: the storm stops there."""
        ready = [n for n in (self.b, self.c) if n.running() and re.search(r"is ready", n.log)]
        if len(ready) > 1:
            raise StormError("B and C both say they are ready: two masters on one store")
        return ready[0] if ready else None

    def standby_of(self, master):
        return self.c if master is self.b else self.b

    def wait_links(self, timeout=LINK_TIMEOUT):
        """Waits until A's bridge and the master's bridge are both connected (per the last
        connected/lost line of each node's current log)."""
        deadline = time.monotonic() + timeout
        while True:
            m = self.master()
            if m is not None and link_up(self.a, (m.name,)) and link_up(m, ("a",)):
                return m
            if time.monotonic() > deadline:
                raise StormError("bridges A<->master not up within %.0f s (master %s)"
                                 % (timeout, m.name if m else "none"))
            time.sleep(0.05)

    def stop(self):
        """SIGTERM each node; a stop that fails or hangs is told (and the node SIGKILLed)."""
        for n in self.nodes:
            if n.running():
                try:
                    rc = n.stop(timeout=15)
                    if rc != 0:
                        log("node %s exited %d on SIGTERM (see its log)" % (n.name, rc))
                except TimeoutError:
                    log("node %s did not stop within 15 s: SIGKILL" % n.name)
                    n.kill()
            n.cleanup()


def link_up(node, peers):
    state = None
    for m in _LINK.finditer(node.log):
        if m.group(2) in peers:
            state = m.group(1) == "connected to"
    return bool(state)


class Clients:
    """The chaos clients, each with its history file in <workdir>/histories."""

    def __init__(self, workdir, bin_dir):
        self.workdir = workdir
        self.hist = os.path.join(workdir, "histories")
        os.makedirs(self.hist, exist_ok=True)
        self.binary = os.path.join(bin_dir, "actormq-chaos-client")
        if not os.access(self.binary, os.X_OK):
            raise StormError("%s not found: build the target actormq-chaos-client" % self.binary)
        self.procs = []

    def start(self, role, name, url, *opts, destination=QUEUE):
        argv = [self.binary, role, "--brokerUrl", url, "--destination", destination, "--name", name,
                "--history", os.path.join(self.hist, name + ".jsonl")] + [str(o) for o in opts]
        p = harness.Proc(argv, self.workdir, name)
        p.name = name
        self.procs.append(p)
        return p

    def kill_and_restart(self, p):
        """SIGKILLs a client and starts it again with the same arguments: its history file is
        appended to, its name stays (what it had delivered and not acknowledged comes again,
        flagged)."""
        p.kill()
        restarts = sum(1 for q in self.procs if q.name == p.name)
        q = harness.Proc(p.argv, self.workdir, "%s.%d" % (p.name, restarts + 1))
        q.name = p.name
        self.procs.append(q)
        return q

    def stop(self, procs, timeout=CLIENT_STOP_TIMEOUT):
        """SIGTERM (each ends after the message in hand), then SIGKILL after `timeout`."""
        for p in procs:
            p.signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                log("client %s did not stop within %.0f s: SIGKILL" % (p.name, timeout))
                p.kill()

    def kill_all(self):
        for p in self.procs:
            p.kill()


def subscriber_client_id(i):
    return "chaos-s%d" % i


def start_subscribers(top, clients, n):
    """Durable subscribers of TOPIC on failover(B,C), each with its own client id; returns once
    each has recorded that it is subscribed (so the checker expects every later message)."""
    subs = [clients.start("consumer", "s%d" % i, top.failover_url, "--clientId",
                          subscriber_client_id(i), "--subscriptionName", SUBSCRIPTION,
                          "--ackMode", "individual" if i % 2 else "auto", "--prefetch", 20,
                          destination=TOPIC)
            for i in range(1, n + 1)]
    deadline = time.monotonic() + 30
    for p in subs:
        path = os.path.join(clients.hist, p.name + ".jsonl")
        while not (os.path.exists(path) and '"subscribed"' in open(path).read()):
            if time.monotonic() > deadline:
                raise StormError("durable subscriber %s did not subscribe within 30 s" % p.name)
            time.sleep(0.05)
    return subs


def start_load(top, clients, producers_on_bc, producer_on_a, topic_producers=0):
    """Issue 20's case and more: failover producers to B/C, a consumer on tcp://A, a slow consumer
    on failover(B,C) with prefetch 10 and 10 ms per message, and the other ack modes; and
    failover producers to the topic whose durable subscribers start_subscribers started."""
    load = []
    for i in range(topic_producers):
        load.append(clients.start("producer", "p-topic%d" % (i + 1), top.failover_url,
                                  "--sleep", 15, "--asyncWindow", 10 if i % 2 else 0,
                                  destination=TOPIC))
    for i in range(producers_on_bc):
        # Every second one keeps 20 sends in flight: resends of several after a failover.
        window = 20 if i % 2 else 0
        load.append(clients.start("producer", "p-bc%d" % (i + 1), top.failover_url,
                                  "--sleep", 10, "--asyncWindow", window))
    if producer_on_a:
        load.append(clients.start("producer", "p-a1", "failover:(%s)?maxReconnectDelay=1000"
                                  % top.a.client_url, "--sleep", 20))
    consumers = [
        clients.start("consumer", "c-a-auto", top.a.client_url),
        clients.start("consumer", "c-bc-auto", top.failover_url, "--prefetch", 10, "--sleep", 10),
        clients.start("consumer", "c-bc-individual", top.failover_url, "--ackMode", "individual",
                      "--prefetch", 10, "--sleep", 5),
        clients.start("consumer", "c-a-client", top.a.client_url, "--ackMode", "client",
                      "--prefetch", 50, "--sleep", 2),
    ]
    return load, consumers


def kill_and_recover(top, target):
    """SIGKILLs `target` ("master", "a" or "both": the master and A one right after the other),
    waits for service to come back and restarts what was killed. Returns (what was killed,
    seconds until a master / A was ready again)."""
    if target == "a":
        top.a.kill()
        t0 = time.monotonic()
        top.a.restart(timeout=TAKEOVER_TIMEOUT)
        return "a", time.monotonic() - t0
    master = top.master()
    if master is None:
        raise StormError("no B/C master to kill")
    standby = top.standby_of(master)
    if not standby.running():
        raise StormError("standby %s is not running" % standby.name)
    master.kill()
    if target == "both":
        top.a.kill()
    t0 = time.monotonic()
    try:
        standby.wait_for_log(r"is ready", TAKEOVER_TIMEOUT)
    except (AssertionError, harness.NodeExited) as e:
        raise StormError("standby %s did not take over: %s" % (standby.name, e)) from None
    took = time.monotonic() - t0
    if target == "both":
        top.a.restart(timeout=TAKEOVER_TIMEOUT)
        took = time.monotonic() - t0
    master.restart(wait_ready=False)
    try:
        master.wait_for_log(r"is standby", TAKEOVER_TIMEOUT)
    except (AssertionError, harness.NodeExited) as e:
        raise StormError("restarted %s did not wait as standby: %s" % (master.name, e)) from None
    return (master.name + "+a" if target == "both" else master.name), took


def pending(bin_dir, node, workdir):
    p = harness.Proc([os.path.join(bin_dir, "actormq"), "dstat", "--brokerUrl", node.client_url],
                     workdir, "dstat-%s" % node.name)
    try:
        p.wait(30)
    except TimeoutError:
        p.kill()
        return None
    row = harness.parse_dstat(p.stdout).get(QUEUE)
    return row["pending"] if row else 0


def drain(top, clients, bin_dir, subscribers=0, rounds=3):
    """Consumers on A and on failover(B,C), and each durable subscription on failover(B,C),
    until idle; again while a queue still holds messages. Returns what was left pending on A
    and on the master."""
    left = {}
    for r in range(1, rounds + 1):
        top.wait_links()
        procs = [clients.start("consumer", "drain%d-a" % r, top.a.client_url, "--prefetch", 100,
                               "--idleTimeout", DRAIN_IDLE_MS),
                 clients.start("consumer", "drain%d-bc" % r, top.failover_url, "--prefetch", 100,
                               "--idleTimeout", DRAIN_IDLE_MS)]
        procs += [clients.start("consumer", "drain%d-s%d" % (r, i), top.failover_url,
                                "--clientId", subscriber_client_id(i), "--subscriptionName",
                                SUBSCRIPTION, "--prefetch", 100, "--idleTimeout", DRAIN_IDLE_MS,
                                destination=TOPIC)
                  for i in range(1, subscribers + 1)]
        for p in procs:
            try:
                p.wait(300)
            except TimeoutError:
                p.kill()
        master = top.master()
        left = {"a": pending(bin_dir, top.a, clients.workdir),
                master.name: pending(bin_dir, master, clients.workdir)}
        if not any(left.values()):
            break
        log("drain round %d left %s pending: another round" % (r, left))
    return left


def run(args):
    rng = random.Random(args.seed)
    workdir = tempfile.mkdtemp(prefix="actormq-storm-")
    deadline = time.monotonic() + args.timeout
    log("seed %d, %d kills, folder %s" % (args.seed, args.kills, workdir))
    top = Topology(workdir, args.node_set)
    clients = Clients(workdir, args.bin_dir)
    kills = []
    status = 3
    try:
        top.start()
        subscribers = start_subscribers(top, clients, args.topic_subscribers)
        load, consumers = start_load(top, clients, args.producers, args.producer_on_a,
                                     args.topic_producers if args.topic_subscribers else 0)
        consumers += subscribers
        time.sleep(rng.uniform(args.min_interval, args.max_interval))
        # Time kept back for stopping the load, draining and checking.
        reserve = min(120.0, args.timeout / 3)
        for k in range(args.kills):
            if time.monotonic() > deadline - reserve:
                log("time is up after %d of %d kills" % (k, args.kills))
                break
            x = rng.random()
            if x < args.consumer_share:
                i = rng.randrange(len(consumers))
                consumers[i] = clients.kill_and_restart(consumers[i])
                name, took = consumers[i].name, 0.0
            else:
                x -= args.consumer_share
                target = ("both" if x < args.both_share else
                          "master" if x < args.both_share + args.master_share else "a")
                name, took = kill_and_recover(top, target)
            kills.append({"kill": k + 1, "node": name, "recovered_s": round(took, 3)})
            if (k + 1) % 10 == 0 or args.kills <= 20:
                log("kill %d: %s, back in %.2f s" % (k + 1, name, took))
            time.sleep(rng.uniform(args.min_interval, args.max_interval))
        top.wait_links()
        log("stopping producers, then the consumers")
        clients.stop(load)
        clients.stop(consumers)
        left = drain(top, clients, args.bin_dir, args.topic_subscribers)
        clients.kill_all()
        top.stop()
        with open(os.path.join(workdir, "kills.jsonl"), "w") as f:
            for k in kills:
                f.write(json.dumps(k) + "\n")
        counts_path = os.path.join(workdir, "counts.json")
        print()
        status = check_history.main(["--outage-threshold", str(args.outage_threshold),
                                     "--json", counts_path, clients.hist])
        summarize(kills, left, args)
        if args.json:
            with open(counts_path) as f:
                counts = json.load(f)
            counts.update({"kills": len(kills), "seed": args.seed, "left pending": left,
                           "folder": workdir})
            with open(args.json, "w") as f:
                json.dump(counts, f, indent=1)
        if any(left.values()):
            log("messages left pending after the drain: %s" % left)
    except (StormError, AssertionError, harness.NodeExited, TimeoutError) as e:
        log("storm failed: %s" % e)
        status = 3
    finally:
        clients.kill_all()
        for n in top.nodes:
            n.cleanup()
    if status != 0 or args.keep:
        log("kept %s (histories/, node logs in a/ b/ c/)" % workdir)
        if status != 0 and args.save_failures:
            dest = save(workdir, args)
            log("saved histories and logs to %s" % dest)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return status


def summarize(kills, left, args):
    took = collections.defaultdict(list)
    for k in kills:
        node = k["node"]
        kind = ("a" if node == "a" else "both" if node.endswith("+a") else
                "master" if node in ("b", "c") else "consumer")
        took[kind].append(k["recovered_s"])
    print("kills %d (B/C master %d, A %d, both %d, a consumer %d), seed %d"
          % (len(kills), len(took["master"]), len(took["a"]), len(took["both"]),
             len(took["consumer"]), args.seed))
    for what, xs in (("takeover by the standby", took["master"]), ("restart of A", took["a"]),
                     ("takeover and restart of A", took["both"])):
        if xs:
            print("%s: median %.2f s, max %.2f s" % (what, statistics.median(xs), max(xs)))
    print("left pending after the drain: %s" % ", ".join("%s %s" % kv for kv in left.items()))


def save(workdir, args):
    """Copies histories, node logs and configs (not the stores) to --save-failures."""
    dest = os.path.join(args.save_failures, "storm-seed%d-%s" % (args.seed,
                                                                 time.strftime("%Y%m%dT%H%M%S")))
    shutil.copytree(workdir, dest, ignore=shutil.ignore_patterns("data", "bc-data"))
    return dest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--seed", type=int, default=None, help="default: from the clock (printed)")
    ap.add_argument("--timeout", type=float, default=1800, help="bound of the whole run in s")
    ap.add_argument("--bin-dir", default=harness.bin_dir(),
                    help="folder of actormq-node, actormq and actormq-chaos-client")
    ap.add_argument("--min-interval", type=float, default=0.2, help="s between recovery and kill")
    ap.add_argument("--max-interval", type=float, default=2.0)
    ap.add_argument("--master-share", type=float, default=0.4,
                    help="share of kills that hit the B/C master alone")
    ap.add_argument("--consumer-share", type=float, default=0.1,
                    help="share of kills that hit a consumer (restarted at once)")
    ap.add_argument("--both-share", type=float, default=0.1,
                    help="share of kills that hit the B/C master and A at once (the rest: A)")
    ap.add_argument("--producers", type=int, default=2, help="failover producers to B/C")
    ap.add_argument("--producer-on-a", type=int, default=1, choices=(0, 1),
                    help="also a producer through failover:(A)")
    ap.add_argument("--topic-subscribers", type=int, default=2,
                    help="durable subscribers of %s on failover(B,C) (0: no topic load)" % TOPIC)
    ap.add_argument("--topic-producers", type=int, default=1,
                    help="failover producers to %s" % TOPIC)
    ap.add_argument("--outage-threshold", type=float, default=0.1,
                    help="s; the producers send every 10-20 ms, so a longer gap is an outage")
    ap.add_argument("--node-set", action="append", default=[], metavar="KEY=VALUE",
                    help="a config override for every node (actormq-node --set), e.g. "
                         "store.persist_redelivered=false to see the checker catch duplicates")
    ap.add_argument("--json", help="write the counts, kills and seed to this file")
    ap.add_argument("--keep", action="store_true", help="keep the folder even on success")
    ap.add_argument("--save-failures", help="copy histories and logs here when the check fails")
    args = ap.parse_args(argv)
    if args.seed is None:
        args.seed = int(time.time() * 1000) % 1000000
    os.environ["ACTORMQ_BIN_DIR"] = os.path.abspath(args.bin_dir)
    args.bin_dir = os.environ["ACTORMQ_BIN_DIR"]
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
