#!/usr/bin/env bash
# Runs the performance table of docs/performance.md (issue 2, "Performance") with actormq-bench
# against a node of its own: free ports, a temporary data folder, stopped by PID at the end.
#
#   tools/bench-suite.sh [--build DIR] [--runs N] [--pending N] [--scale F] [--only LIST] [--keep]
#
#   --build DIR   build folder holding tools/actormq-bench and tools/actormq-node
#                 (default: build-bench, else build)
#   --runs N      runs per figure; the figure is their median (default 3)
#   --pending N   messages for the "pending persistent messages" figure (default 1000000; 0 skips)
#   --scale F     multiply every run's message count by F (e.g. 0.2 for a quick check)
#   --only LIST   comma-separated figures to run: disk,sync1,sync4,sync16,async1,async4,np1,
#                 latp,latnp,startup,rss,pending (default: all)
#   --keep        keep the temporary folder (logs, JSON of every run)
#   --node-set K=V  start every node with --set K=V (repeatable), e.g. store.persist_redelivered=false
#   --retries N   re-run a run during which other processes used > 30 % of a core (default 2)
#   --other-max P count a run as disturbed above P % of a core used by others (default 30)
#   --quiet-wait S  before each run wait up to S s for the machine to be quiet (default 90)
#   --nice N      run the node, actormq-bench and the disk probe with nice -n N (e.g. -10 as root):
#                 shields the figures from other work on a shared machine; say so with the figures
#
# Each run prints one JSON line (kept in WORK/results.jsonl); at the end a table of medians.
# Every figure comes with the disk's synced-commit time measured just before it and the load.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=""
RUNS=3
PENDING=1000000
SCALE=1
ONLY="disk,sync1,sync4,sync16,async1,async4,np1,latp,latnp,startup,rss,pending"
KEEP=0
RETRIES=2     # re-runs of a disturbed run
OTHER_MAX=30  # % of a core used by other processes during a run that counts as disturbed
QUIET_PCT=20  # % of a core busy that counts as quiet before a run
QUIET_WAIT=90 # seconds to wait for quiet before running anyway
NICE=0        # run the node, actormq-bench and the disk probe at this nice value (root for < 0)
NODE_SETS=()  # --set arguments for every node
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --pending) PENDING=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --node-set) NODE_SETS+=(--set "$2"); shift 2 ;;
    --retries) RETRIES=$2; shift 2 ;;
    --quiet-wait) QUIET_WAIT=$2; shift 2 ;;
    --nice) NICE=$2; shift 2 ;;
    --other-max) OTHER_MAX=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "bench-suite: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -z "$BUILD" ]]; then
  if [[ -x "$ROOT/build-bench/tools/actormq-bench" ]]; then BUILD=$ROOT/build-bench; else BUILD=$ROOT/build; fi
fi
BENCH_BIN=$BUILD/tools/actormq-bench
NODE_BIN=$BUILD/tools/actormq-node
for b in "$BENCH_BIN" "$NODE_BIN"; do
  [[ -x "$b" ]] || { echo "bench-suite: $b is missing; build the targets actormq-bench and actormq-node" >&2; exit 2; }
done
BENCH() { nice -n "$NICE" "$BENCH_BIN" "$@"; }

WORK=$(mktemp -d /tmp/actormq-bench-suite.XXXXXX)
RESULTS=$WORK/results.jsonl
NODE_PID=""
NODE_SEQ=0

cleanup() {
  stop_node || true
  if [[ $KEEP -eq 1 ]]; then echo "bench-suite: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

want() { [[ ",$ONLY," == *",$1,"* ]]; }
scaled() { awk -v n="$1" -v f="$SCALE" 'BEGIN { v = int(n * f); if (v < 1) v = 1; print v }'; }
# A field of a flat JSON object (the first occurrence of the key).
jget() { grep -o "\"$1\":[^,}]*" <<<"$2" | head -1 | cut -d: -f2- | tr -d '"'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else print v[int((NR + 1) / 2)] }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

port_taken() { ss -Htln "sport = :$1" 2>/dev/null | grep -q . ; }
# Three distinct free ports (never ActorMQ's or the reference cluster's defaults).
pick_ports() {
  local p tries=0
  PORTS=()
  while [[ ${#PORTS[@]} -lt 3 ]]; do
    p=$((20000 + RANDOM % 30000))
    tries=$((tries + 1))
    [[ $tries -gt 1000 ]] && { echo "bench-suite: no free port found" >&2; exit 1; }
    port_taken "$p" && continue
    [[ " ${PORTS[*]:-} " == *" $p "* ]] && continue
    PORTS+=("$p")
  done
}

write_config() { # file data_dir
  cat >"$1" <<EOF
name: "bench"
data_dir: "$2"
client { host: "127.0.0.1" port: ${PORTS[0]} }
cluster { host: "127.0.0.1" port: ${PORTS[1]} }
console { host: "127.0.0.1" port: ${PORTS[2]} }
store { max_size_mb: 8192 }
EOF
}

# Starts a node on an empty data folder; sets NODE_PID, URL, NODE_LOG.
start_node() {
  NODE_SEQ=$((NODE_SEQ + 1))
  local attempt
  for attempt in 1 2 3; do
    pick_ports
    local dir=$WORK/node$NODE_SEQ
    rm -rf "$dir"; mkdir -p "$dir"
    write_config "$dir/node.conf" "$dir/data"
    NODE_LOG=$dir/node.log
    STORE_DIR=$dir/data/store
    nice -n "$NICE" "$NODE_BIN" --config "$dir/node.conf" "${NODE_SETS[@]}" >"$NODE_LOG" 2>&1 &
    NODE_PID=$!
    local i
    for i in $(seq 1 200); do
      if grep -q "is ready" "$NODE_LOG"; then
        URL=tcp://127.0.0.1:${PORTS[0]}
        echo "bench-suite: node $NODE_PID ready on ${PORTS[*]} ($(grep -o 'started in [0-9]* ms' "$NODE_LOG"))" >&2
        return 0
      fi
      kill -0 "$NODE_PID" 2>/dev/null || break
      sleep 0.05
    done
    echo "bench-suite: the node did not start (attempt $attempt):" >&2
    cat "$NODE_LOG" >&2
    stop_node || true
  done
  exit 1
}

stop_node() {
  [[ -n "$NODE_PID" ]] || return 0
  if kill -0 "$NODE_PID" 2>/dev/null; then
    kill -TERM "$NODE_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 200); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$NODE_PID" 2>/dev/null && kill -KILL "$NODE_PID" 2>/dev/null || true
  fi
  wait "$NODE_PID" 2>/dev/null || true
  NODE_PID=""
}

# The store's last LMDB transaction id (one per commit): commits during a run, counted from
# outside without slowing the node (mdb_stat opens the store as a reader). Empty without mdb_stat.
txnid() {
  command -v mdb_stat >/dev/null || return 0
  mdb_stat -e "$STORE_DIR" 2>/dev/null | awk '/Last transaction ID/ { print $4 }'
}

rss_anon_mib() { awk '/^RssAnon:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

DISK_LAST=""
measure_disk() { # label
  local j
  j=$(BENCH disk --dir "$WORK" --count 300 --json)
  echo "{\"figure\":\"$1\",$(cut -c2- <<<"$j")" >>"$RESULTS"
  DISK_LAST="$(jget median_ms "$j") ms median, $(jget p99_ms "$j") ms p99, $(jget commits_per_s "$j")/s; LMDB-like $(jget lmdb_median_ms "$j") ms, $(jget lmdb_commits_per_s "$j")/s"
  echo "disk before $1: $DISK_LAST (load $(load))" >&2
}

SUMMARY=()
add_summary() { SUMMARY+=("$1"); }

# Busy time of the whole machine over one second, in percent of one core (USER_HZ = 100).
busy_pct() {
  local a b
  a=$(awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 }' /proc/stat)
  echo $((b - a))
}
# Other work on this shared machine disturbs every figure (the synced commit of a process that
# waits for a CPU slows from ~0.2 ms to 4 ms): wait until the machine is quiet, at most QUIET_WAIT s.
wait_quiet() {
  local waited=0 p
  while :; do
    p=$(busy_pct)
    [[ $p -le $QUIET_PCT ]] && return 0
    waited=$((waited + 1))
    if [[ $waited -ge $QUIET_WAIT ]]; then
      echo "bench-suite: the machine is still busy ($p % of a core) after ${QUIET_WAIT} s; running anyway" >&2
      return 0
    fi
  done
}

# figure name metric(received_per_s|p99) args...
# A run during which other processes used more than OTHER_MAX % of a core is re-run (up to
# RETRIES times); the last attempt is kept either way, and the summary shows each run's share.
figure() {
  local name=$1 metric=$2; shift 2
  wait_quiet
  measure_disk "$name"
  local values=() others=() loads=() batches=() r j v attempt other t0 t1
  for r in $(seq 1 "$RUNS"); do
    for attempt in $(seq 0 "$RETRIES"); do
      wait_quiet
      t0=$(txnid)
      j=$(BENCH --brokerUrl "$URL" --destination "queue://bench-$name-$r-$attempt" --size 1024 \
            --nodePid "$NODE_PID" --label "$name" --json --quiet "$@") || {
        echo "bench-suite: run $r of $name failed: $j" >&2
        echo "{\"figure\":\"$name\",\"run\":$r,\"failed\":true}" >>"$RESULTS"
        j=""
        break
      }
      t1=$(txnid)
      commits=""
      [[ -n "$t0" && -n "$t1" ]] && commits=$((t1 - t0))
      echo "{\"figure\":\"$name\",\"run\":$r,\"attempt\":$attempt,\"commits\":${commits:-null},$(cut -c2- <<<"$j")" >>"$RESULTS"
      other=$(jget cpu_pct_other "$j")
      echo "$name run $r.$attempt: $metric $(jget "$metric" "$j") (sent/s $(jget sent_per_s "$j"), received/s $(jget received_per_s "$j"), p50 $(jget p50 "$j") ms, p99 $(jget p99 "$j") ms, max $(jget max "$j") ms; CPU % node $(jget cpu_pct_node "$j"), bench $(jget cpu_pct_bench "$j"), others $other; LMDB commits ${commits:-?}; load $(jget load_before "$j"))" >&2
      [[ "${other%.*}" -le $OTHER_MAX ]] && break
      [[ $attempt -lt $RETRIES ]] && echo "bench-suite: disturbed (others used $other % of a core): re-running" >&2
    done
    [[ -n "$j" ]] || continue
    values+=("$(jget "$metric" "$j")")
    others+=("$(jget cpu_pct_other "$j")")
    if [[ -n "$commits" && "$commits" -gt 1 ]]; then
      batches+=("$(awk -v n="$(jget received "$j")" -v c="$commits" 'BEGIN { printf "%.1f", n / c }')")
    elif [[ -n "$commits" ]]; then
      batches+=("($commits commits)")
    fi
    loads+=("$(jget load_before "$j")")
  done
  local med
  med=$(printf '%s\n' "${values[@]:-}" | grep . | median)
  add_summary "| $name | $* | $metric | $med | ${values[*]:-} | ${others[*]:-} | ${batches[*]:-} | $DISK_LAST | ${loads[0]:-} |"
}

echo "bench-suite: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) cores, load $(load), nice $NICE, work folder $WORK" >&2

if want startup; then
  measure_disk startup
  values=(); logged=(); idle=()
  for r in $(seq 1 "$RUNS"); do
    wait_quiet
    pick_ports
    dir=$WORK/startup$r; mkdir -p "$dir"
    write_config "$dir/node.conf" "$dir/data"
    j=$(BENCH startup --port "${PORTS[0]}" --log "$dir/node.log" --json -- "$NODE_BIN" --config "$dir/node.conf")
    echo "{\"figure\":\"startup\",\"run\":$r,$(cut -c2- <<<"$j")" >>"$RESULTS"
    values+=("$(jget listening_ms "$j")")
    idle+=("$(jget rss_anon_mib_idle "$j")")
    logged+=("$(grep -o 'started in [0-9]* ms' "$dir/node.log" | grep -o '[0-9]*')")
    echo "startup run $r: exec to listening $(jget listening_ms "$j") ms, node says started in ${logged[-1]} ms, RssAnon $(jget rss_anon_mib_idle "$j") MiB" >&2
  done
  add_summary "| start-to-listening (exec to port accepting) | empty store | ms | $(printf '%s\n' "${values[@]}" | median) | ${values[*]} | | | $DISK_LAST | $(load) |"
  add_summary "| start-to-listening (node's \"started in\") | empty store | ms | $(printf '%s\n' "${logged[@]}" | median) | ${logged[*]} | | | $DISK_LAST | $(load) |"
  add_summary "| RssAnon 0.5 s after start | empty store | MiB | $(printf '%s\n' "${idle[@]}" | median) | ${idle[*]} | | | | $(load) |"
fi

if want disk; then measure_disk "session-start"; add_summary "| disk synced commit (1 KiB + fdatasync, 300) | | | $DISK_LAST | | | | | $(load) |"; fi

start_node
sleep 2
RSS_IDLE=$(rss_anon_mib "$NODE_PID")
echo "RssAnon idle: $RSS_IDLE MiB" >&2

want sync1 && figure sync1 received_per_s --producers 1 --consumers 1 --messages "$(scaled 5000)"
want sync4 && figure sync4 received_per_s --producers 4 --consumers 4 --messages "$(scaled 20000)"
want sync16 && figure sync16 received_per_s --producers 16 --consumers 16 --messages "$(scaled 48000)"
want async1 && figure async1 received_per_s --producers 1 --consumers 1 --asyncWindow 64 --messages "$(scaled 200000)"
want async4 && figure async4 received_per_s --producers 4 --consumers 4 --asyncWindow 64 --messages "$(scaled 400000)"
want np1 && figure np1 received_per_s --producers 1 --consumers 1 --persistent false --messages "$(scaled 1000000)"
want latp && figure latp p99 --producers 1 --consumers 1 --rate 200 --messages "$(scaled 6000)"
want latnp && figure latnp p99 --producers 1 --consumers 1 --rate 1000 --persistent false --messages "$(scaled 30000)"

sleep 2
RSS_AFTER=$(rss_anon_mib "$NODE_PID")
echo "RssAnon after the load runs: $RSS_AFTER MiB" >&2
if want rss; then
  add_summary "| RssAnon idle (2 s after ready) | | MiB | $RSS_IDLE | | | | | $(load) |"
  add_summary "| RssAnon after the load runs (2 s after the last) | | MiB | $RSS_AFTER | | | | | $(load) |"
fi
stop_node

if want pending && [[ "$PENDING" -gt 0 ]]; then
  start_node
  measure_disk pending
  before=$(rss_anon_mib "$NODE_PID")
  j=$(BENCH --brokerUrl "$URL" --destination queue://bench-pending --size 1024 --producers 4 \
        --consumers 0 --asyncWindow 64 --messages "$PENDING" --nodePid "$NODE_PID" --label pending \
        --json --quiet --timeout 120) || echo "bench-suite: the pending run failed: $j" >&2
  echo "{\"figure\":\"pending\",$(cut -c2- <<<"$j")" >>"$RESULTS"
  sleep 5
  held=$(rss_anon_mib "$NODE_PID")
  echo "pending: $(jget sent "$j") sent at $(jget sent_per_s "$j") msg/s; pending after $(jget pending_after "$j"); RssAnon before $before, 0.3 s after $(jget rss_anon_mib_after "$j"), 5 s after $held MiB" >&2
  add_summary "| RssAnon holding pending persistent messages | $(jget pending_after "$j") pending (4 producers, window 64, $(jget sent_per_s "$j") msg/s) | MiB | $held | before $before | | | $DISK_LAST | $(load) |"
  # Restart on the full store: recovery time (the node's "started in") and RssAnon after recovery.
  dir=$WORK/node$NODE_SEQ
  stop_node
  j=$(BENCH startup --port "${PORTS[0]}" --log "$dir/restart.log" --timeout 300 --json -- "$NODE_BIN" --config "$dir/node.conf") || true
  echo "{\"figure\":\"restart-pending\",$(cut -c2- <<<"$j")" >>"$RESULTS"
  rlog=$(grep -o 'started in [0-9]* ms' "$dir/restart.log" || true)
  echo "restart with the pending messages: exec to listening $(jget listening_ms "$j") ms, node: $rlog, RssAnon $(jget rss_anon_mib_idle "$j") MiB" >&2
  add_summary "| restart holding them: exec to listening / RssAnon | | ms / MiB | $(jget listening_ms "$j") / $(jget rss_anon_mib_idle "$j") | $rlog | | | | $(load) |"
fi

echo
echo "ActorMQ bench suite, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), median of $RUNS runs, 1 KiB bodies, nice $NICE"
echo "| figure | options | metric | median | runs | others' CPU % per run | messages per LMDB commit per run | disk synced commit before it | load |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${SUMMARY[@]}"
