#!/usr/bin/python3
"""Memory of idle client connections: starts a node, opens N connections that send Connect and
then stay idle, and prints the node's RssAnon before, with them open, and after they closed.

Usage: tools/idle-connections-bench.py [--bin-dir build/tools] [--connections 10000] [--rounds 3]
"""

import argparse
import os
import shutil
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import harness  # noqa: E402


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(harness.connect_frame())
    got = b""
    while not harness.has_command(got, harness.F_CONNECTED):
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("closed before Connected: %r" % got[:200])
        got += chunk
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin-dir", default=os.path.join(harness.REPO, "build", "tools"))
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.environ["ACTORMQ_BIN_DIR"] = os.path.abspath(args.bin_dir)
    node = harness.Node("idlebench", limits="max_connections: %d" % (args.connections + 100))
    try:
        node.start()
        time.sleep(0.5)
        print("idle node: RssAnon %d KiB" % node.rss_anon_kib())
        for r in range(args.rounds):
            before = node.rss_anon_kib()
            held = [connect(node.client_port) for _ in range(args.connections)]
            time.sleep(1.0)
            open_kib = node.rss_anon_kib()
            for s in held:
                s.close()
            time.sleep(2.0)
            after = node.rss_anon_kib()
            print("round %d: %d connections: RssAnon %d -> %d KiB (%.1f KiB each); closed: %d KiB"
                  % (r + 1, args.connections, before, open_kib,
                     (open_kib - before) / args.connections, after))
    finally:
        node.stop()
        node.cleanup()
        shutil.rmtree(node.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
