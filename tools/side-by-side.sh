#!/usr/bin/env bash
# ActorMQ beside ActiveMQ 5.17 (Debian's `activemq` package, measured through its own OpenWire JMS
# client) on this machine, alternating run by run so that the ratios hold while the machine's speed
# drifts. A benchmark, not a test: it refuses to run under CI=true.
#
#   tools/side-by-side.sh [--build DIR] [--rounds N] [--scale F] [--only LIST] [--topics] [--keep]
#
#   --build DIR   build folder with tools/actormq-node and tools/actormq-bench (default: build)
#   --rounds N    rounds; each runs every figure once on each broker (default 3)
#   --scale F     multiply every run's message count by F (default 1)
#   --only LIST   comma-separated figures: sync1,sync4,sync16,np1,topic10,durable10
#                 (default: sync1,sync4,sync16,np1)
#   --topics      the topic case: --only topic10,durable10
#   --keep        keep the work folder (configs, logs)
#
# Installs Debian's activemq package with apt-get when it is missing. Both brokers run for the
# whole script on free loopback ports, in one temporary folder, and are stopped by PID at the end.
# Prints a line per run and a table of medians and per-round ratios (ActorMQ / ActiveMQ).
# The figures are those of docs/performance.md: 1 KiB messages, consumers running, persistent
# sends synchronous on both (each waits for the broker's receipt), auto acknowledgement.
# The topic figures (docs/performance.md "Topics"): topic10 is 1 publisher to 10 non-persistent
# subscribers, durable10 1 publisher to 10 durable subscriptions with persistent messages; their
# figure is deliveries per second summed over the subscribers (sends per second in the run lines).
set -euo pipefail
HERE=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
BUILD=$REPO/build ROUNDS=3 SCALE=1 ONLY=sync1,sync4,sync16,np1 KEEP=0
while (($#)); do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --topics) ONLY=topic10,durable10; shift ;;
    --keep) KEEP=1; shift ;;
    *) echo "side-by-side.sh: unknown option $1 (see the comment at its top)" >&2; exit 2 ;;
  esac
done
[[ "${CI:-}" == "true" ]] && { echo "side-by-side.sh is a benchmark: not run under CI" >&2; exit 2; }
NODE=$BUILD/tools/actormq-node BENCH=$BUILD/tools/actormq-bench
[[ -x $NODE && -x $BENCH ]] || { echo "no actormq-node/actormq-bench under $BUILD" >&2; exit 2; }

if [[ ! -f /usr/share/activemq/bin/activemq.jar ]]; then
  echo "installing Debian's activemq package" >&2
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq activemq >/dev/null
fi
J=/usr/share/java
CP=$J/activemq-client.jar:$J/geronimo-jms_1.1_spec.jar:$J/hawtbuf.jar:$J/slf4j-api.jar
CP=$CP:$J/slf4j-nop.jar:$J/geronimo-j2ee-management-1.1-spec.jar

# shellcheck source=tools/activemq/broker.sh
. "$HERE/activemq/broker.sh"

WORK=$(mktemp -d /tmp/actormq-side-by-side.XXXXXX)
AMQ_PID="" NODE_PID=""
cleanup() {
  for pid in $NODE_PID $AMQ_PID; do stop_pid "$pid"; done
  ((KEEP)) && echo "work folder kept: $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

mkdir -p "$WORK/classes" "$WORK/amq/conf" "$WORK/amq/data" "$WORK/node"
javac -d "$WORK/classes" -cp "$CP" "$HERE/activemq/ActiveMqBench.java" \
  "$HERE/activemq/ActiveMqTopicBench.java"

AMQ_PORT=$(free_port)
start_activemq "$WORK/amq" side-by-side "      <transportConnector name=\"openwire\" uri=\"tcp://127.0.0.1:$AMQ_PORT\"/>"

NODE_PORT=$(free_port)
cat >"$WORK/node/node.conf" <<EOF
name: "side-by-side"
data_dir: "$WORK/node/data"
client { host: "127.0.0.1" port: $NODE_PORT }
cluster { host: "127.0.0.1" port: $(free_port) }
console { host: "127.0.0.1" port: $(free_port) }
store { max_size_mb: 8192 }
EOF
"$NODE" --config "$WORK/node/node.conf" >"$WORK/node/log" 2>&1 &
NODE_PID=$!
wait_port "$NODE_PORT" actormq-node
wait_port "$AMQ_PORT" ActiveMQ || { tail -20 "$WORK/amq/out.log" >&2; exit 1; }

amq() { # QUEUE N PERSISTENT P C -> msg/s
  timeout 900 java -cp "$CP:$WORK/classes" ActiveMqBench "tcp://127.0.0.1:$AMQ_PORT" "$1" "$2" 1024 \
    "$3" "$4" "$5" 2>>"$WORK/amq/bench.err" |
    grep -oE 'rate=[0-9.]+' | cut -d= -f2
}
actormq() { # QUEUE N PERSISTENT P C -> msg/s
  "$BENCH" --brokerUrl "tcp://127.0.0.1:$NODE_PORT" --destination "queue://$1" --size 1024 \
    --messages "$2" --persistent "$3" --producers "$4" --consumers "$5" --json --quiet \
    2>>"$WORK/node/bench.err" | grep -oE '"received_per_s":[0-9.]+' | cut -d: -f2
}
# The topic figures: TOPIC N PERSISTENT SUBSCRIBERS DURABLE -> "deliveries/s sends/s"
amq_topic() {
  timeout 900 java -cp "$CP:$WORK/classes" ActiveMqTopicBench "tcp://127.0.0.1:$AMQ_PORT" "$1" "$2" \
    1024 "$3" "$4" "$5" 2>>"$WORK/amq/bench.err" |
    sed -nE 's/^rate=([0-9.]+) sent_rate=([0-9.]+).*/\1 \2/p'
}
actormq_topic() {
  local durable=()
  [[ $5 == true ]] && durable=(--durable --clientIdPrefix "$1-")
  "$BENCH" --brokerUrl "tcp://127.0.0.1:$NODE_PORT" --destination "topic://$1" --size 1024 \
    --messages "$2" --persistent "$3" --producers 1 --subscribers "$4" "${durable[@]}" --json \
    --quiet 2>>"$WORK/node/bench.err" |
    python3 -c 'import json, sys
r = json.loads(sys.stdin.read())
if r["ok"]: print(r["received_per_s"], r["sent_per_s"])'
}
scaled() { python3 -c "print(max(1, int($1 * $SCALE)))"; }

echo "side-by-side: $(date -u '+%F %T') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
amq warm "$(scaled 3000)" true 1 1 >/dev/null || true # the JIT's warm-up, not counted
amq warm "$(scaled 30000)" false 1 1 >/dev/null || true

declare -A FIG=([sync1]="20000 true 1 1" [sync4]="20000 true 4 4" [sync16]="48000 true 16 16"
                [np1]="100000 false 1 1")
# Topic figures: messages, persistent, subscribers, durable.
declare -A TOPIC_FIG=([topic10]="20000 false 10 false" [durable10]="10000 true 10 true")
IFS=, read -r -a figures <<<"$ONLY"
for f in "${figures[@]}"; do
  [[ -n ${FIG[$f]:-}${TOPIC_FIG[$f]:-} ]] || { echo "unknown figure $f" >&2; exit 2; }
done
for r in $(seq "$ROUNDS"); do
  for f in "${figures[@]}"; do
    if [[ -n ${TOPIC_FIG[$f]:-} ]]; then
      read -r n persistent s durable <<<"${TOPIC_FIG[$f]}"
      n=$(scaled "$n")
      a="" a_sent="" b="" b_sent=""
      read -r a a_sent < <(amq_topic "$f$r$RANDOM" "$n" "$persistent" "$s" "$durable") || true
      read -r b b_sent < <(actormq_topic "$f$r$RANDOM" "$n" "$persistent" "$s" "$durable") || true
      echo "round $r $f: ActiveMQ ${a:-failed} deliveries/s (${a_sent:-?} sent/s), ActorMQ" \
        "${b:-failed} deliveries/s (${b_sent:-?} sent/s)" >&2
      echo "$f ${a:-nan} ${b:-nan}" >>"$WORK/pairs"
      continue
    fi
    read -r n persistent p c <<<"${FIG[$f]}"
    n=$(scaled "$n")
    a=$(amq "$f$r$RANDOM" "$n" "$persistent" "$p" "$c" || true)
    b=$(actormq "$f$r$RANDOM" "$n" "$persistent" "$p" "$c" || true)
    echo "round $r $f: ActiveMQ ${a:-failed} msg/s, ActorMQ ${b:-failed} msg/s" >&2
    echo "$f ${a:-nan} ${b:-nan}" >>"$WORK/pairs"
  done
done

echo "| figure | ActiveMQ median msg/s (topics: deliveries/s) | ActorMQ median msg/s | ratio per round (ActorMQ / ActiveMQ) | median ratio |"
echo "| --- | --- | --- | --- | --- |"
for f in "${figures[@]}"; do
  python3 - "$f" "$WORK/pairs" <<'EOF'
import statistics, sys
name, path = sys.argv[1], sys.argv[2]
rows = [l.split() for l in open(path) if l.split()[0] == name]
a = [float(x[1]) for x in rows]
b = [float(x[2]) for x in rows]
ratios = [y / x if x > 0 else float("nan") for x, y in zip(a, b)]
print("| %s | %.0f | %.0f | %s | %.2f |" % (name, statistics.median(a), statistics.median(b),
      " ".join("%.2f" % r for r in ratios), statistics.median(ratios)))
EOF
done
