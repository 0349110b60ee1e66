#!/usr/bin/env bash
# Many consumers on one queue: a node on an empty data folder, actormq-bench with 4 sync
# persistent producers and N auto-acknowledging consumers, and the store's LMDB commits counted
# (mdb_stat's "Last transaction ID" before and after) with the queue's counters of deletes that
# shared a commit (actormq-debug). docs/performance.md has the figures.
# Usage: tools/many-consumers-bench.sh BIN_DIR CONSUMERS [MESSAGES] [--set KEY=VALUE ...]
set -euo pipefail
bin=${1:?usage: BIN_DIR CONSUMERS [MESSAGES] [--set K=V ...]}
consumers=${2:?usage: BIN_DIR CONSUMERS [MESSAGES] [--set K=V ...]}
shift 2
messages=20000
if [[ $# -gt 0 && $1 != --* ]]; then
  messages=$1
  shift
fi
work=$(mktemp -d /tmp/actormq-mcbench.XXXXXX)
node_pid=
cleanup() {
  [[ -n $node_pid ]] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
client=$(free_port)
cluster=$(free_port)
console=$(free_port)
cat >"$work/node.conf" <<CONF
name: "mcbench"
data_dir: "$work/data"
client { port: $client }
cluster { port: $cluster }
console { port: $console }
limits { max_connections: $((consumers + 100)) }
CONF
"$bin/actormq-node" -c "$work/node.conf" "$@" >"$work/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 200); do
  grep -q "is ready" "$work/node.log" 2>/dev/null && break
  sleep 0.05
done
grep -q "is ready" "$work/node.log" || { cat "$work/node.log"; exit 1; }
last_txn() { mdb_stat -e "$work/data/store" | awk '/Last transaction ID/ {print $4}'; }
before=$(last_txn)
"$bin/actormq-bench" --brokerUrl "tcp://127.0.0.1:$client" --destination queue://mc \
  --producers 4 --consumers "$consumers" --messages "$messages" --persistent true --json \
  --quiet >"$work/bench.json"
after=$(last_txn)
"$bin/actormq-debug" --node "127.0.0.1:$cluster" show queue://mc >"$work/queue.txt"
shared=$(awk '/acknowledged-deletes-shared:/ {print $2}' "$work/queue.txt")
python3 - "$work/bench.json" "$consumers" "$messages" "$((after - before))" "$shared" <<'PY'
import json, sys
bench = json.load(open(sys.argv[1]))
consumers, messages, commits, shared = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
print("consumers %s  received/s %.1f  commits %d  commits/message %.3f  deletes shared %s of %d"
      % (consumers, bench["received_per_s"], commits, commits / messages, shared, messages))
PY
