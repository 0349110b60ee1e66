#!/usr/bin/env bash
# ActorMQ's STOMP listener beside ActiveMQ 5.17's (Debian's `activemq` package), both measured
# with the python3-stomp client that measured ActiveMQ (tools/activemq/stomp_bench.py), the rows
# of issue 14 alternating run by run, with the CPU each broker used. A benchmark, not a test: it
# refuses to run under CI=true.
#
#   tools/stomp-side-by-side.sh [--build DIR] [--rounds N] [--scale F] [--seconds S]
#                               [--only LIST] [--keep]
#
#   --build DIR   build folder with tools/actormq-node (default: build)
#   --rounds N    rounds; each runs every row once on each broker (default 3)
#   --scale F     multiply every throughput run's message count by F (default 1)
#   --seconds S   measured seconds of each latency run, after 3 s of warm-up (default 10)
#   --only LIST   comma-separated rows: pers1,pers4,np1,lat200,lat1000np,lat1000 (default: all)
#   --keep        keep the work folder (configs, logs, every client's output)
#
# Rows (1 KiB messages, STOMP 1.2, ack:auto, one process and connection per client):
#   pers1, pers4  persistent throughput, 1+1 and 4+4, each send waiting for its RECEIPT
#   np1           non-persistent throughput, 1+1, sends without receipts
#   lat200        persistent latency at 200 msg/s (receipt per send)
#   lat1000np     non-persistent latency at 1,000 msg/s
#   lat1000       persistent latency at 1,000 msg/s
# ActiveMQ's STOMP connector does not set TCP_NODELAY by default, which alone costs it 15-40 ms
# at the median (anchors' NOTES.md): its latency rows run against both its default connector
# and one with transport.tcpNoDelay=true; throughput rows against the default one, as the
# anchors measured. The node's STOMP listener always sets TCP_NODELAY.
#
# CPU: for each run, the broker process's user+system time (from /proc) over the run's wall
# time, as a percentage of one core. The clients run on the same machine and are not counted.
#
# Installs Debian's activemq and python3-stomp packages with apt-get when missing. Both brokers
# run for the whole script on free loopback ports, in one temporary folder, and are stopped by PID
# at the end.
set -euo pipefail
HERE=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
BUILD=$REPO/build ROUNDS=3 SCALE=1 SECONDS_PER_LATENCY=10 KEEP=0
ONLY=pers1,pers4,np1,lat200,lat1000np,lat1000
while (($#)); do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --seconds) SECONDS_PER_LATENCY=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "stomp-side-by-side.sh: unknown option $1 (see the comment at its top)" >&2; exit 2 ;;
  esac
done
[[ "${CI:-}" == "true" ]] && { echo "stomp-side-by-side.sh is a benchmark: not run under CI" >&2; exit 2; }
NODE=$BUILD/tools/actormq-node
[[ -x $NODE ]] || { echo "no actormq-node under $BUILD" >&2; exit 2; }

missing=()
[[ -f /usr/share/activemq/bin/activemq.jar ]] || missing+=(activemq)
/usr/bin/python3 -c 'import stomp' 2>/dev/null || missing+=(python3-stomp)
if ((${#missing[@]})); then
  echo "installing Debian's ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
CLIENT=(/usr/bin/python3 "$HERE/activemq/stomp_bench.py")

# shellcheck source=tools/activemq/broker.sh
. "$HERE/activemq/broker.sh"

WORK=$(mktemp -d /tmp/actormq-stomp-side-by-side.XXXXXX)
AMQ_PID="" NODE_PID=""
cleanup() {
  for pid in $NODE_PID $AMQ_PID; do stop_pid "$pid"; done
  ((KEEP)) && echo "work folder kept: $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

mkdir -p "$WORK/amq/conf" "$WORK/amq/data" "$WORK/node" "$WORK/runs"
AMQ_PORT=$(free_port) AMQ_STOMP=$(free_port) AMQ_STOMP_NODELAY=$(free_port)
start_activemq "$WORK/amq" stomp-side-by-side "      <transportConnector name=\"openwire\" uri=\"tcp://127.0.0.1:$AMQ_PORT\"/>
      <transportConnector name=\"stomp\" uri=\"stomp://127.0.0.1:$AMQ_STOMP\"/>
      <transportConnector name=\"stomp-nodelay\" uri=\"stomp://127.0.0.1:$AMQ_STOMP_NODELAY?transport.tcpNoDelay=true\"/>"

NODE_STOMP=$(free_port)
cat >"$WORK/node/node.conf" <<EOF
name: "stomp-side-by-side"
data_dir: "$WORK/node/data"
client { host: "127.0.0.1" port: $(free_port) }
cluster { host: "127.0.0.1" port: $(free_port) }
console { host: "127.0.0.1" port: $(free_port) }
stomp { host: "127.0.0.1" port: $NODE_STOMP }
store { max_size_mb: 8192 }
EOF
"$NODE" --config "$WORK/node/node.conf" >"$WORK/node/log" 2>&1 &
NODE_PID=$!
wait_port "$NODE_STOMP" actormq-node || { tail -20 "$WORK/node/log" >&2; exit 1; }
for port in "$AMQ_STOMP" "$AMQ_STOMP_NODELAY"; do
  wait_port "$port" ActiveMQ || { tail -20 "$WORK/amq/out.log" >&2; exit 1; }
done

# The CPU time (user + system, in clock ticks) a process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
now() { date +%s.%N; }

# run LABEL PID PORT ARGS... : the client's result line, with "cpu=<% of one core>" appended.
run() {
  local label=$1 pid=$2 port=$3 mode=$4; shift 4
  local out=$WORK/runs/$label.out t0 c0 t1 c1
  t0=$(now) c0=$(cpu_ticks "$pid")
  timeout 900 "${CLIENT[@]}" "$mode" "$port" "$@" >"$out" 2>&1 || true
  t1=$(now) c1=$(cpu_ticks "$pid")
  local line
  line=$(grep -E '^STOMP_(TPUT|LAT) ' "$out" | tail -1 || true)
  [[ -n $line ]] || { echo "FAILED see $out"; return; }
  echo "$line cpu=$(python3 -c "print('%.0f' % (100.0 * ($c1 - $c0) / $(getconf CLK_TCK) / ($t1 - $t0)))")"
}
field() { grep -oE "(^| )$1=[^ ]+" <<<"$2" | head -1 | cut -d= -f2 || true; }
scaled() { python3 -c "print(max(1, int($1 * $SCALE)))"; }

echo "stomp side-by-side: $(date -u '+%F %T') UTC, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# The JIT's warm-up, not counted (the anchors warm up the same way).
run warm-p "$AMQ_PID" "$AMQ_STOMP" tput warmp "$(scaled 3000)" 1024 true 1 1 >/dev/null
run warm-n "$AMQ_PID" "$AMQ_STOMP" tput warmn "$(scaled 30000)" 1024 false 1 1 >/dev/null

# Row -> "tput N PERSISTENT P C" or "latency RATE PERSISTENT".
declare -A ROW=([pers1]="tput 20000 true 1 1" [pers4]="tput 20000 true 4 4"
                [np1]="tput 100000 false 1 1" [lat200]="latency 200 true"
                [lat1000np]="latency 1000 false" [lat1000]="latency 1000 true")
IFS=, read -r -a rows <<<"$ONLY"
for f in "${rows[@]}"; do [[ -n ${ROW[$f]:-} ]] || { echo "unknown row $f" >&2; exit 2; }; done
: >"$WORK/results"
for r in $(seq "$ROUNDS"); do
  for f in "${rows[@]}"; do
    read -r mode a1 a2 a3 a4 <<<"${ROW[$f]}"
    q="$f$r$RANDOM"
    if [[ $mode == tput ]]; then
      n=$(scaled "$a1")
      targets=("ActiveMQ $AMQ_PID $AMQ_STOMP" "ActorMQ $NODE_PID $NODE_STOMP")
      args=("$n" 1024 "$a2" "$a3" "$a4")
    else
      targets=("ActiveMQ $AMQ_PID $AMQ_STOMP" "ActiveMQ-nodelay $AMQ_PID $AMQ_STOMP_NODELAY"
               "ActorMQ $NODE_PID $NODE_STOMP")
      args=("$a1" "$SECONDS_PER_LATENCY" 1024 "$a2" 3)
    fi
    for t in "${targets[@]}"; do
      read -r broker pid port <<<"$t"
      line=$(run "$f-$r-$broker" "$pid" "$port" "$mode" "$q-$broker" "${args[@]}")
      if [[ $mode == tput ]]; then
        value="$(field rate "$line") msg/s"
      else
        value="p50 $(field p50_us "$line") us, p99 $(field p99_us "$line") us"
      fi
      echo "round $r $f $broker: $value, broker cpu $(field cpu "$line") % of a core (ok=$(field ok "$line"))" >&2
      echo "$f $broker $line" >>"$WORK/results"
    done
  done
done

python3 - "$WORK/results" "${rows[@]}" <<'EOF'
import re, statistics, sys
path, rows = sys.argv[1], sys.argv[2:]
runs = {}
for line in open(path):
    row, broker, rest = line.split(" ", 2)
    fields = dict(re.findall(r"(\w+)=([^ ]+)", rest))
    runs.setdefault((row, broker), []).append(fields)

def med(row, broker, key):
    values = [float(f[key]) for f in runs.get((row, broker), []) if key in f]
    return statistics.median(values) if values else float("nan")

print("| row | broker | median | median broker CPU (% of a core) | runs |")
print("| --- | --- | --- | --- | --- |")
for row in rows:
    for broker in ("ActiveMQ", "ActiveMQ-nodelay", "ActorMQ"):
        if (row, broker) not in runs:
            continue
        if row.startswith("lat"):
            figure = "p50 %.0f us, p99 %.0f us" % (med(row, broker, "p50_us"), med(row, broker, "p99_us"))
        else:
            figure = "%.0f msg/s" % med(row, broker, "rate")
        print("| %s | %s | %s | %.0f | %d |" % (row, broker, figure, med(row, broker, "cpu"),
                                               len(runs[(row, broker)])))
EOF
