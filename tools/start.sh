#!/usr/bin/env bash
# Builds ActorMQ and starts a standalone node in the background from config/standalone.conf
# (client 61616, cluster 62616, console 8161, data in data/standalone).
# Stop it with: kill $(cat data/standalone.pid)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target actormq-node actormq actormq-bench actormq-debug
mkdir -p data
if [[ -f data/standalone.pid ]] && kill -0 "$(cat data/standalone.pid)" 2>/dev/null; then
  echo "a standalone node already runs (pid $(cat data/standalone.pid))"
  exit 0
fi
nohup build/tools/actormq-node --config config/standalone.conf >data/standalone.log 2>&1 &
echo $! >data/standalone.pid
for _ in $(seq 50); do
  grep -q "is ready" data/standalone.log && break
  kill -0 "$(cat data/standalone.pid)" 2>/dev/null || { cat data/standalone.log; exit 1; }
  sleep 0.1
done
grep "is ready" data/standalone.log
cat <<MSG
Standalone node running (pid $(cat data/standalone.pid)), log in data/standalone.log.
  client 127.0.0.1:61616   cluster 127.0.0.1:62616
Try:
  build/tools/actormq producer --brokerUrl tcp://127.0.0.1:61616 --destination queue://myQueue --messageCount 100
  build/tools/actormq consumer --brokerUrl tcp://127.0.0.1:61616 --destination queue://myQueue --messageCount 100
  build/tools/actormq dstat --brokerUrl tcp://127.0.0.1:61616
Stop it:
  kill \$(cat data/standalone.pid)
MSG
