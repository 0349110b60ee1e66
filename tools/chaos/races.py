#!/usr/bin/python3
"""Racing starts on one store: two or three nodes with `standby: true` on one data folder, started
at the same instant, round after round. In every round exactly one of them may accept client
connections, checked by probing their client ports (not by reading logs), and after the master
is killed (SIGKILL), stopped (SIGTERM), or stopped while a standby is restarted, exactly one of the
others takes over. Issue 15 item 3; docs/chaos.md.

    tools/chaos/races.py --rounds 1000 [--nodes 2|3|mixed] [--seed N] [--bin-dir build/tools]

Prints one line per failed check and a summary: rounds, two masters seen (must be 0), rounds
without a master or without a takeover (must be 0), takeover times. Exit status 0 when every
check held, 1 when one failed, 3 when the run itself could not go on. Free loopback ports, one
temporary folder (kept when a check fails, or with --keep); stops only the nodes it started.
Standard library only; nodes are started with tests/integration/harness.py.
"""

import argparse
import os
import random
import shutil
import socket
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import harness  # noqa: E402

MASTER_TIMEOUT = 20.0  # s for one of the nodes to accept connections
SETTLE = 0.3           # s of probing after a master appeared: nobody else may accept
POLL = 0.005           # s between probes
EVENTS = ("kill", "stop", "stop_while_standby_restarts")


def log(msg):
    print("[races %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def accepting(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Race:
    def __init__(self, workdir, count, bin_dir, separate_stores=False):
        os.environ["ACTORMQ_BIN_DIR"] = bin_dir
        self.nodes = []
        for i in range(count):
            folder = os.path.join(workdir, "race%d" % i)
            os.makedirs(folder, exist_ok=True)
            data_dir = os.path.join(folder if separate_stores else workdir, "data")
            self.nodes.append(harness.Node(name="race%d" % i, data_dir=data_dir,
                                           workdir=folder, extra_config="standby: true\n"))

    def accepting(self, nodes):
        return [n for n in nodes if n.running() and accepting(n.ports["client"])]

    def one_master(self, nodes, timeout):
        """Probes until exactly one of `nodes` accepts and none other does for SETTLE s. Returns
        (master or None, seconds until it appeared, the largest set seen accepting at once)."""
        t0 = time.monotonic()
        most = []
        master = None
        settled_at = None
        while time.monotonic() - t0 < timeout:
            up = self.accepting(nodes)
            if len(up) > len(most):
                most = up
            if len(up) > 1:
                return None, time.monotonic() - t0, most
            if len(up) == 1:
                if master is None:
                    master, settled_at = up[0], time.monotonic()
                elif up[0] is not master:
                    return None, time.monotonic() - t0, [master, up[0]]
                if time.monotonic() - settled_at >= SETTLE:
                    return master, settled_at - t0, most
            time.sleep(POLL)
        return master, time.monotonic() - t0, most

    def stop_all(self):
        for n in self.nodes:
            if n.running():
                n.kill()


def run(args):
    rng = random.Random(args.seed)
    workdir = tempfile.mkdtemp(prefix="actormq-races-")
    log("seed %d, %d rounds, nodes %s, folder %s" % (args.seed, args.rounds, args.nodes, workdir))
    failures = []
    takeovers = []
    starts = []
    counts = {2: 0, 3: 0}
    races = {c: Race(os.path.join(workdir, "n%d" % c), c, args.bin_dir, args.separate_stores)
             for c in (2, 3)}
    deadline = time.monotonic() + args.timeout
    done = 0
    try:
        for r in range(1, args.rounds + 1):
            if time.monotonic() > deadline:
                log("the time bound of %.0f s is up after %d rounds" % (args.timeout, done))
                break
            count = rng.choice((2, 3)) if args.nodes == "mixed" else int(args.nodes)
            race = races[count]
            counts[count] += 1
            for n in race.nodes:  # at the same instant, as far as one process can
                n.start(wait_ready=False) if n.proc is None else n.restart(wait_ready=False)
            master, took, most = race.one_master(race.nodes, MASTER_TIMEOUT)
            if len(most) > 1:
                failures.append("round %d: %d nodes accepted at once after a racing start: %s"
                                % (r, len(most), ", ".join(n.name for n in most)))
            elif master is None:
                failures.append("round %d: no master within %.0f s of a racing start"
                                % (r, MASTER_TIMEOUT))
            else:
                starts.append(took)
                event = rng.choice(EVENTS)
                others = [n for n in race.nodes if n is not master]
                t0 = time.monotonic()
                if event == "kill":
                    master.kill()
                else:
                    master.proc.signal(15)
                    if event == "stop_while_standby_restarts":
                        victim = rng.choice(others)
                        victim.kill()
                        victim.restart(wait_ready=False)
                    try:
                        master.wait_exit(20)
                    except TimeoutError:
                        failures.append("round %d: the master did not stop within 20 s" % r)
                        master.kill()
                nxt, took, most = race.one_master(others, MASTER_TIMEOUT)
                if len(most) > 1:
                    failures.append("round %d (%s): %d nodes accepted at once after the master "
                                    "went: %s" % (r, event, len(most),
                                                  ", ".join(n.name for n in most)))
                elif nxt is None:
                    failures.append("round %d (%s): no node took over within %.0f s"
                                    % (r, event, MASTER_TIMEOUT))
                else:
                    takeovers.append(time.monotonic() - t0 - SETTLE)
            race.stop_all()
            for f in failures[-2:]:
                if f.startswith("round %d" % r):
                    log(f)
            done = r
            if r % 50 == 0:
                log("%d rounds, %d failed checks" % (r, len(failures)))
    except harness.NodeExited as e:
        log("a node could not run: %s" % e)
        return 3, workdir
    finally:
        for race in races.values():
            race.stop_all()
    print()
    print("| rounds | with 2 nodes | with 3 nodes | failed checks | master after a racing start, "
          "median / max ms | takeover, median / max ms |")
    print("| --- | --- | --- | --- | --- | --- |")

    def ms(xs):
        return "%.0f / %.0f" % (statistics.median(xs) * 1000, max(xs) * 1000) if xs else "-"
    print("| %d | %d | %d | %d | %s | %s |" % (done, counts[2], counts[3], len(failures),
                                               ms(starts), ms(takeovers)))
    for f in failures:
        print(f)
    return (1 if failures else 0), workdir


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--nodes", choices=("2", "3", "mixed"), default="mixed")
    ap.add_argument("--seed", type=int, default=None, help="default: from the clock (printed)")
    ap.add_argument("--timeout", type=float, default=3600, help="bound of the whole run in s")
    ap.add_argument("--bin-dir", default=harness.bin_dir(),
                    help="folder with actormq-node (default: $ACTORMQ_BIN_DIR or build/tools)")
    ap.add_argument("--keep", action="store_true", help="keep the folder even on success")
    ap.add_argument("--separate-stores", action="store_true",
                    help="give each node a store of its own, so every one is a master: shows "
                         "that the checks catch two masters (they must fail)")
    args = ap.parse_args(argv)
    if args.seed is None:
        args.seed = int(time.time() * 1000) % 1000000
    rc, workdir = run(args)
    if rc == 0 and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        log("folder kept: %s" % workdir)
    return rc


if __name__ == "__main__":
    sys.exit(main())
