#!/usr/bin/env bash
# The reference cluster (docs/cluster.md): node A (client 61616, cluster 62616, console 8161,
# stomp 61613, ws 61614, store data/a) bridged to the master/slave pair B
# (61617/62617/8162/61623/61624) and C (61618/62618/8163/61633/61634), which share the store
# data/bc. Configs: config/a.conf, b.conf, c.conf.
#
#   tools/cluster.sh start          install what is missing, build, start A, then B, then C in
#                                   the background; print who is master and what to try
#   tools/cluster.sh status         each node: pid, alive, role, ports, bridges and their state
#   tools/cluster.sh stop           SIGTERM to every node it started (standby first), and wait
#   tools/cluster.sh kill NODE      SIGKILL one node (a, b or c), to watch failover
#   tools/cluster.sh restart NODE   stop NODE if it runs, start it again
#   tools/cluster.sh logs [NODE]    the last lines of one node's log, or of all three
#
# Pids are in data/cluster/NODE.pid, logs in data/cluster/NODE.log (each start appends a
# "--- cluster.sh:" line, then the node's own lines). The script only ever signals the pids it
# wrote, after checking that they still belong to an actormq-node running that node's config.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUN=data/cluster
NODE_BIN=build/tools/actormq-node
CLI_BIN=build/tools/actormq
NODES=(a b c)
START_TIMEOUT=${ACTORMQ_CLUSTER_START_TIMEOUT:-30}   # seconds, per node
STOP_TIMEOUT=${ACTORMQ_CLUSTER_STOP_TIMEOUT:-15}     # seconds, per node
MARK="--- cluster.sh:"

declare -A CLIENT=([a]=61616 [b]=61617 [c]=61618)
declare -A CLUSTER=([a]=62616 [b]=62617 [c]=62618)
declare -A CONSOLE=([a]=8161 [b]=8162 [c]=8163)
declare -A STOMP=([a]=61613 [b]=61623 [c]=61633)
declare -A WS=([a]=61614 [b]=61624 [c]=61634)

die() { echo "cluster.sh: $*" >&2; exit 1; }
upper() { tr '[:lower:]' '[:upper:]' <<<"$1"; }

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
}

check_node_name() {
  case "${1:-}" in
    a|b|c) ;;
    A|B|C) ;;
    "") die "which node? a, b or c" ;;
    *) die "no node '$1' in the reference cluster: a, b or c" ;;
  esac
}

pid_file() { echo "$RUN/$1.pid"; }
log_file() { echo "$RUN/$1.log"; }

# True when PID is a live actormq-node started with config/NODE.conf (so a pid file left by a
# node that died long ago, whose pid the kernel gave to another process, is never signalled).
is_our_node() {
  local pid=$1 node=$2 cmd
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmd" == *actormq-node* && "$cmd" == *"config/$node.conf"* ]]
}

# The pid of NODE if it runs (from its pid file), else empty.
node_pid() {
  local f pid
  f=$(pid_file "$1")
  [[ -f "$f" ]] || return 0
  pid=$(<"$f")
  if is_our_node "$pid" "$1"; then echo "$pid"; fi
}

# The lines of NODE's log written by its current (last) run.
current_log() {
  local f
  f=$(log_file "$1")
  [[ -f "$f" ]] || return 0
  awk -v mark="$MARK" 'index($0, mark) == 1 { n = 0; delete l; next } { l[++n] = $0 }
                       END { for (i = 1; i <= n; i++) print l[i] }' "$f"
}

# master | standby | starting | stopping | down
node_role() {
  local node=$1 pid log
  pid=$(node_pid "$node")
  [[ -n "$pid" ]] || { echo down; return; }
  log=$(current_log "$node")
  if grep -q " stops: \| stopped$" <<<"$log"; then echo stopping
  elif grep -q " is ready: " <<<"$log"; then echo master
  elif grep -q " is standby: " <<<"$log"; then echo standby
  else echo starting
  fi
}

# One line per bridge of NODE's current run (a connector has a bridge per URI, named
# connectorN/M): the last thing the log said about it. A bridge logs a failure once per
# distinct reason and keeps retrying quietly, so "not connected" lines show since when.
bridge_states() {
  current_log "$1" | awk '
    function remember(name, text) {
      if (!(name in state)) order[++n] = name
      state[name] = text
    }
    {
      ts = $1 " " $2
      if (match($0, /bridge [^ ]+ connected to node [^ ]+ \(store [^)]*\) at [^ ]+/)) {
        split(substr($0, RSTART, RLENGTH), w, " ")
        # w: bridge NAME connected to node PEER (store UUID) at ADDR
        remember(w[2], "connected to node " w[6] " at " w[10] " since " ts)
      } else if (match($0, /bridge [^ ]+ lost node [^ :]+: .*/)) {
        line = substr($0, RSTART, RLENGTH)
        split(line, w, " ")
        peer = w[5]; sub(/:$/, "", peer)
        reason = line; sub(/^[^:]*: /, "", reason)
        remember(w[2], "lost node " peer " at " ts " (" reason "), reconnecting")
      } else if (match($0, /bridge [^ ]+ cannot use [^ ]+: .*/)) {
        line = substr($0, RSTART, RLENGTH)
        split(line, w, " ")
        addr = w[5]; sub(/:$/, "", addr)
        reason = line; sub(/^bridge [^ ]+ cannot use [^ ]+: /, "", reason)
        remember(w[2], "NOT connected to " addr " since " ts ": " reason " (retrying)")
      }
    }
    END { for (i = 1; i <= n; i++) printf "%s: %s\n", order[i], state[order[i]] }'
}

# The connector URIs of NODE's config file (what its bridges dial).
connector_uris() {
  grep -o 'uri: *"static:[^"]*"' "config/$1.conf" | sed 's/^uri: *"//; s/"$//' | paste -sd ' ' -
}

port_in_use() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    ss -Htln "sport = :$port" 2>/dev/null | grep -q .
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

refuse_if_standalone_runs() {
  local pid cmd
  [[ -f data/standalone.pid ]] || return 0
  pid=$(<data/standalone.pid)
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 0
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
  [[ "$cmd" == *actormq-node* ]] || return 0
  cat >&2 <<MSG
cluster.sh: a standalone node from tools/start.sh runs (pid $pid, config/standalone.conf) on
node A's ports 61616/62616/8161/61613/61614, so the reference cluster cannot start. Stop it first:
  kill $pid
then run tools/cluster.sh start again.
MSG
  exit 1
}

# Refuses when another process listens on a port NODE needs.
refuse_if_ports_taken() {
  local node=$1 port taken=()
  for port in "${CLIENT[$node]}" "${CLUSTER[$node]}" "${CONSOLE[$node]}" "${STOMP[$node]}" "${WS[$node]}"; do
    port_in_use "$port" && taken+=("$port")
  done
  if ((${#taken[@]})); then
    die "node $(upper "$node") cannot start: port(s) ${taken[*]} already in use by another process (see: ss -ltnp | grep -E '$(IFS='|'; echo "${taken[*]}")')"
  fi
}

build() {
  tools/install-deps.sh
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$(nproc)" --target actormq-node actormq
}

# Starts NODE in the background (appending to its log); prints nothing.
spawn() {
  local node=$1 log
  log=$(log_file "$node")
  mkdir -p "$RUN"
  echo "$MARK start $(date -u '+%Y-%m-%d %H:%M:%S') UTC" >>"$log"
  nohup "$NODE_BIN" --config "config/$node.conf" >>"$log" 2>&1 </dev/null &
  echo $! >"$(pid_file "$node")"
}

# Waits until NODE's current log matches PATTERN (extended regex); fails when the node exits
# or TIMEOUT seconds pass.
wait_log() {
  local node=$1 pattern=$2 timeout=$3 i pid
  pid=$(<"$(pid_file "$node")")
  for ((i = 0; i < timeout * 10; i++)); do
    current_log "$node" | grep -Eq "$pattern" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      current_log "$node" | grep -Eq "$pattern" && return 0
      echo "cluster.sh: node $(upper "$node") (pid $pid) exited; the end of $(log_file "$node"):" >&2
      current_log "$node" | tail -n 20 >&2
      return 1
    fi
    sleep 0.1
  done
  echo "cluster.sh: node $(upper "$node") (pid $pid): no /$pattern/ in its log after ${timeout} s; the end of $(log_file "$node"):" >&2
  current_log "$node" | tail -n 20 >&2
  return 1
}

# SIGTERM to NODE and wait for it to exit; SIGKILL after STOP_TIMEOUT (said so).
stop_node() {
  local node=$1 pid i
  pid=$(node_pid "$node")
  if [[ -z "$pid" ]]; then
    rm -f "$(pid_file "$node")"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "node $(upper "$node") (pid $pid) did not stop within ${STOP_TIMEOUT} s: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$(pid_file "$node")"
  echo "node $(upper "$node") (pid $pid) stopped"
}

# Starts NODE (must not be running) and waits until it is ready (A) or has settled as master
# or standby (B, C). Returns 1 (having said why) when it cannot.
start_node() {
  local node=$1
  spawn "$node"
  if [[ "$node" == a ]]; then
    wait_log a " is ready: " "$START_TIMEOUT" || return 1
  else
    # Settled: master (took the lock) or standby (waits for it).
    wait_log "$node" " acquired the lock | is standby: | is ready: " "$START_TIMEOUT" || return 1
    if current_log "$node" | grep -q " acquired the lock "; then
      wait_log "$node" " is ready: " "$START_TIMEOUT" || return 1
    fi
  fi
  return 0
}

master_of_bc() {
  local n
  for n in b c; do
    [[ "$(node_role "$n")" == master ]] && { echo "$n"; return; }
  done
}

print_status() {
  local node pid role alive states uris
  for node in "${NODES[@]}"; do
    pid=$(node_pid "$node")
    role=$(node_role "$node")
    if [[ -n "$pid" ]]; then alive="alive"; else alive="not running"; pid="-"; fi
    printf 'node %s  pid %-7s %-11s role %-8s client %s  cluster %s  console %s  stomp %s  ws %s\n' \
      "$(upper "$node")" "$pid" "$alive" "$role" \
      "${CLIENT[$node]}" "${CLUSTER[$node]}" "${CONSOLE[$node]}" "${STOMP[$node]}" "${WS[$node]}"
    if [[ "$role" == standby ]]; then
      current_log "$node" | grep " is standby: " | tail -n 1 | sed 's/^[^ ]* [^ ]* *[a-z]* */    /'
    elif [[ "$role" == down && -s "$(log_file "$node")" ]]; then
      echo "    last log line: $(current_log "$node" | tail -n 1)"
    fi
    uris=$(connector_uris "$node")
    if [[ "$role" == master ]]; then
      states=$(bridge_states "$node")
      echo "    connectors: $uris"
      if [[ -n "$states" ]]; then
        sed 's/^/    bridge /' <<<"$states"
      else
        echo "    bridges: none connected yet (the log has no bridge line; peers may be down or standby)"
      fi
    else
      echo "    connectors: $uris (bridges run only on a master)"
    fi
  done
  echo "logs: $RUN/{a,b,c}.log   pending messages per node: $CLI_BIN dstat --brokerUrl tcp://127.0.0.1:PORT"
}

cmd_start() {
  refuse_if_standalone_runs
  build
  mkdir -p "$RUN"
  local node started=() running=()
  for node in "${NODES[@]}"; do
    [[ -n "$(node_pid "$node")" ]] && running+=("$(upper "$node")")
  done
  if ((${#running[@]} == 3)); then
    echo "the reference cluster already runs:"
    print_status
    return 0
  fi
  ((${#running[@]})) && echo "already running: ${running[*]}; starting the others"
  for node in "${NODES[@]}"; do
    [[ -n "$(node_pid "$node")" ]] || refuse_if_ports_taken "$node"
  done
  for node in "${NODES[@]}"; do
    [[ -n "$(node_pid "$node")" ]] && continue
    echo "starting node $(upper "$node") (config/$node.conf, log $(log_file "$node"))"
    if ! start_node "$node"; then
      # Stop what this invocation started: half a cluster is not what was asked for.
      stop_node "$node" >&2
      local n
      for n in "${started[@]}"; do stop_node "$n" >&2; done
      die "the reference cluster did not start (see above)"
    fi
    started+=("$node")
  done

  local master
  master=$(master_of_bc)
  if [[ -z "$master" ]]; then
    # Both B and C run; one of them must become master (the other one waits as standby).
    local i
    for ((i = 0; i < START_TIMEOUT * 10; i++)); do
      master=$(master_of_bc)
      [[ -n "$master" ]] && break
      sleep 0.1
    done
  fi
  [[ -n "$master" ]] || die "neither B nor C is master after ${START_TIMEOUT} s: see tools/cluster.sh status and $RUN/b.log, $RUN/c.log"
  local standby=b
  [[ "$master" == b ]] && standby=c

  # Give A's bridge to the master a moment to come up (back-off is capped at 1 s), so the
  # status below shows it.
  local i
  for ((i = 0; i < 30; i++)); do
    current_log a | grep -q "bridge [^ ]* connected to node $master " && break
    sleep 0.1
  done

  echo
  grep -h " is ready: " <(current_log a) <(current_log "$master") | sed 's/^/  /'
  echo
  echo "Reference cluster running. Master of B/C: $(upper "$master") (client ${CLIENT[$master]});" \
       "$(upper "$standby") is $(node_role "$standby") (it takes over when $(upper "$master") dies)."
  echo
  print_status
  cat <<MSG

Try (the reference check: produce on the B/C master, consume on A through the bridge):
  $CLI_BIN producer --brokerUrl 'failover:(tcp://127.0.0.1:61617,tcp://127.0.0.1:61618)?randomize=true' \\
      --destination queue://myQueue --messageCount 100 --persistent true
  $CLI_BIN consumer --brokerUrl tcp://127.0.0.1:61616 --destination queue://myQueue --messageCount 100
  $CLI_BIN dstat --brokerUrl tcp://127.0.0.1:61616        # A
  $CLI_BIN dstat --brokerUrl tcp://127.0.0.1:${CLIENT[$master]}        # the master ($(upper "$master"))
STOMP (docs/stomp.md): A on 61613, B on 61623, C on 61633 (over WebSocket: ws://127.0.0.1:61614/,
61624, 61634, sub-protocol v12.stomp), e.g. with python3-stomp:
  /usr/bin/python3 -c 'import stomp; c = stomp.Connection12([("127.0.0.1", 61613)]); c.connect(wait=True); c.send("/queue/myQueue", "hi", headers={"persistent": "true", "receipt": "r"}); c.disconnect()'
Watch failover:
  tools/cluster.sh kill $master        # SIGKILL $(upper "$master"): $(upper "$standby") takes the lock, A's bridge connects to it
  tools/cluster.sh status
  tools/cluster.sh restart $master     # $(upper "$master") comes back as standby
Stop:
  tools/cluster.sh stop
More: docs/cluster.md
MSG
}

cmd_status() {
  print_status
}

cmd_stop() {
  local node any=0
  # Standbys first (a standby told to stop exits at once; stopped last it would take over).
  for node in b c; do
    if [[ "$(node_role "$node")" != master && -n "$(node_pid "$node")" ]]; then
      stop_node "$node"; any=1
    fi
  done
  for node in b c a; do
    if [[ -n "$(node_pid "$node")" ]]; then
      stop_node "$node"; any=1
    fi
    rm -f "$(pid_file "$node")"
  done
  ((any)) || echo "no node of the reference cluster runs"
}

cmd_kill() {
  check_node_name "${1:-}"
  local node pid role
  node=$(tr '[:upper:]' '[:lower:]' <<<"$1")
  pid=$(node_pid "$node")
  [[ -n "$pid" ]] || die "node $(upper "$node") does not run (no live pid in $(pid_file "$node"))"
  role=$(node_role "$node")
  kill -KILL "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$(pid_file "$node")"
  echo "node $(upper "$node") (pid $pid, $role) killed with SIGKILL"
  if [[ "$node" != a && "$role" == master ]]; then
    local other=b i
    [[ "$node" == b ]] && other=c
    if [[ -n "$(node_pid "$other")" ]]; then
      for ((i = 0; i < 100; i++)); do
        [[ "$(node_role "$other")" == master ]] && break
        sleep 0.1
      done
      if [[ "$(node_role "$other")" == master ]]; then
        echo "node $(upper "$other") took over:"
        current_log "$other" | grep -E " acquired the lock | is ready: " | sed 's/^/  /'
        for ((i = 0; i < 30; i++)); do
          current_log a | grep -q "bridge [^ ]* connected to node $other " && break
          sleep 0.1
        done
        current_log a | grep "bridge [^ ]* connected to node $other " | tail -n 1 | sed 's/^/  /' || true
      else
        echo "node $(upper "$other") has not taken over within 10 s: tools/cluster.sh status"
      fi
    else
      echo "no standby runs: B/C serve nothing until one starts (tools/cluster.sh restart $node)"
    fi
  fi
}

cmd_restart() {
  check_node_name "${1:-}"
  local node
  node=$(tr '[:upper:]' '[:lower:]' <<<"$1")
  [[ "$node" == a ]] && refuse_if_standalone_runs
  [[ -x "$NODE_BIN" ]] || die "$NODE_BIN is not built: run tools/cluster.sh start"
  stop_node "$node"
  refuse_if_ports_taken "$node"
  echo "starting node $(upper "$node") (config/$node.conf, log $(log_file "$node"))"
  start_node "$node" || die "node $(upper "$node") did not start (see above)"
  echo "node $(upper "$node") (pid $(node_pid "$node")) is $(node_role "$node")"
}

cmd_logs() {
  local node
  if [[ -n "${1:-}" ]]; then
    check_node_name "$1"
    node=$(tr '[:upper:]' '[:lower:]' <<<"$1")
    tail -n 40 "$(log_file "$node")" 2>/dev/null || die "no log for node $(upper "$node") yet"
  else
    for node in "${NODES[@]}"; do
      echo "==> $(log_file "$node") <=="
      tail -n 15 "$(log_file "$node")" 2>/dev/null || true
    done
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  status) cmd_status ;;
  stop) cmd_stop ;;
  kill) shift; cmd_kill "$@" ;;
  restart) shift; cmd_restart "$@" ;;
  logs) shift; cmd_logs "$@" ;;
  -h|--help|help) usage ;;
  "") usage; exit 1 ;;
  *) echo "cluster.sh: unknown command '$1'" >&2; usage >&2; exit 1 ;;
esac
