#!/usr/bin/env bash
# A replicated group of three (docs/replication.md): a ZooKeeper server of its own (Debian's
# zookeeperd, run in the foreground with a generated config on 127.0.0.1:2191, data in
# data/replicated/zk; never the system service) and replicas r1, r2, r3 (config/replicated-N.conf,
# clients 61641-61643, cluster 62641-62643, consoles 8171-8173, stores data/replicated/rN).
# ZooKeeper elects the master; the others open no port. The store is not copied between the
# replicas yet (docs/replication.md, "Not done yet").
#
#   tools/replicated.sh start        start ZooKeeper, then the three replicas in the background;
#                                    print who is master and the failover URL for clients
#   tools/replicated.sh status       ZooKeeper and each replica: pid, alive, role
#   tools/replicated.sh stop         SIGTERM to the replicas (master last), then ZooKeeper
#   tools/replicated.sh kill N       SIGKILL replica N (1, 2 or 3), to watch the failover
#   tools/replicated.sh restart N    stop replica N if it runs, start it again
#
# Pids and logs in data/replicated/ (NAME.pid, NAME.log). The script only signals the pids it
# wrote, after checking that they still run what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=data/replicated
NODE_BIN=build/tools/actormq-node
ZK_PORT=2191
START_TIMEOUT=${ACTORMQ_REPLICATED_START_TIMEOUT:-30} # seconds
STOP_TIMEOUT=15                                        # seconds, per process
FAILOVER_URL="failover:(tcp://127.0.0.1:61641,tcp://127.0.0.1:61642,tcp://127.0.0.1:61643)"

die() { echo "replicated.sh: $*" >&2; exit 1; }
usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }

# True when PID runs and its command line holds PATTERN.
runs() {
  local pid=$1 pattern=$2 cmd
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmd" == *"$pattern"* ]]
}
pattern_of() { [[ $1 == zk ]] && echo "$PWD/$RUN/zk/zoo.cfg" || echo "config/replicated-${1#r}.conf"; }
pid_of() {
  local f=$RUN/$1.pid pid
  [[ -f $f ]] || return 0
  pid=$(<"$f")
  if runs "$pid" "$(pattern_of "$1")"; then echo "$pid"; fi
}

zk_answer() { # the server's answer to a four-letter word, or nothing
  { exec 3<>"/dev/tcp/127.0.0.1/$ZK_PORT" && printf '%s' "$1" >&3 && timeout 2 cat <&3; } \
    2>/dev/null || true
  exec 3>&- 2>/dev/null || true
}

start_zk() {
  [[ -n $(pid_of zk) ]] && return 0
  [[ -f /usr/share/java/zookeeper.jar ]] || die "ZooKeeper not found: run tools/install-deps.sh"
  mkdir -p "$RUN/zk/data"
  cat >"$RUN/zk/zoo.cfg" <<CFG
tickTime=1000
dataDir=$PWD/$RUN/zk/data
clientPort=$ZK_PORT
clientPortAddress=127.0.0.1
minSessionTimeout=2000
maxSessionTimeout=20000
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok
CFG
  java -Xmx256m -cp /usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$PWD/$RUN/zk/zoo.cfg" \
    >>"$RUN/zk.log" 2>&1 &
  echo $! >"$RUN/zk.pid"
  local deadline=$((SECONDS + START_TIMEOUT))
  until zk_answer srvr | grep -q "Mode: standalone"; do
    [[ -n $(pid_of zk) ]] || die "ZooKeeper exited; see $RUN/zk.log"
    ((SECONDS < deadline)) || die "ZooKeeper did not serve within ${START_TIMEOUT} s; see $RUN/zk.log"
    sleep 0.2
  done
  echo "ZooKeeper serves on 127.0.0.1:$ZK_PORT (pid $(pid_of zk))"
}

start_replica() {
  local n=$1
  [[ -n $(pid_of "r$n") ]] && return 0
  [[ -x $NODE_BIN ]] || die "$NODE_BIN not found: build it (cmake --build build --target actormq-node)"
  echo "--- replicated.sh: start $(date -u +%FT%TZ)" >>"$RUN/r$n.log"
  "$NODE_BIN" --config "config/replicated-$n.conf" 2>>"$RUN/r$n.log" &
  echo $! >"$RUN/r$n.pid"
}

current_log() { # the lines of the last run of replica $1
  awk '/^--- replicated.sh:/ { n = 0; delete l; next } { l[++n] = $0 }
       END { for (i = 1; i <= n; i++) print l[i] }' "$RUN/$1.log" 2>/dev/null || true
}
role_of() {
  local log
  [[ -n $(pid_of "$1") ]] || { echo "down"; return; }
  log=$(current_log "$1")
  if grep -q "is ready" <<<"$log"; then echo "master"
  elif grep -q "is elected master" <<<"$log"; then echo "master (recovering)"
  else echo "replica"; fi
}
master() { local n; for n in 1 2 3; do [[ $(role_of "r$n") == master ]] && echo "r$n"; done; return 0; }

wait_for_master() {
  local deadline=$((SECONDS + START_TIMEOUT)) m
  while :; do
    m=$(master)
    [[ -n $m ]] && { echo "master: $m ($(grep -o 'epoch [0-9]*' <<<"$(current_log "$m")" | tail -1))"; return 0; }
    ((SECONDS < deadline)) || die "no master within ${START_TIMEOUT} s; see $RUN/r*.log"
    sleep 0.2
  done
}

stop_pid() {
  local name=$1 pid
  pid=$(pid_of "$name")
  [[ -n $pid ]] || return 0
  kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while [[ -n $(pid_of "$name") ]]; do
    ((SECONDS < deadline)) || { echo "$name did not stop in ${STOP_TIMEOUT} s: SIGKILL" >&2; kill -KILL "$pid"; }
    sleep 0.1
  done
  echo "stopped $name (pid $pid)"
}

replica_number() {
  [[ "${1:-}" =~ ^r?([123])$ ]] || die "which replica? 1, 2 or 3"
  echo "${BASH_REMATCH[1]}"
}

case "${1:-}" in
start)
  mkdir -p "$RUN"
  start_zk
  for n in 1 2 3; do start_replica "$n"; done
  wait_for_master
  echo "clients: $FAILOVER_URL"
  ;;
status)
  if [[ -n $(pid_of zk) ]]; then
    echo "zookeeper  pid $(pid_of zk)  $(zk_answer srvr | grep -m1 '^Mode' || echo 'not answering')"
  else
    echo "zookeeper  down"
  fi
  for n in 1 2 3; do
    printf 'r%s         pid %-7s %s\n' "$n" "$(pid_of "r$n" || true)" "$(role_of "r$n")"
  done
  echo "clients: $FAILOVER_URL"
  ;;
stop)
  m=$(master)
  for n in 1 2 3; do [[ "r$n" == "$m" ]] || stop_pid "r$n"; done
  [[ -n $m ]] && stop_pid "$m"
  stop_pid zk
  ;;
kill)
  n=$(replica_number "${2:-}")
  pid=$(pid_of "r$n")
  [[ -n $pid ]] || die "r$n is not running"
  kill -KILL "$pid"
  echo "killed r$n (pid $pid)"
  ;;
restart)
  n=$(replica_number "${2:-}")
  stop_pid "r$n"
  start_zk
  start_replica "$n"
  echo "started r$n (pid $(pid_of "r$n"))"
  ;;
-h | --help | "") usage ;;
*) die "unknown command '$1' (start, status, stop, kill N, restart N)" ;;
esac
