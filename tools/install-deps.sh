#!/usr/bin/env bash
# Installs the Debian 12 packages ActorMQ builds and tests with, when any is missing.
# Usage: tools/install-deps.sh [--browser]   (--browser adds chromium for the browser tests, and
# npm, which fetches @stomp/stompjs for test_stomp_stompjs.py)
set -euo pipefail
packages=(build-essential cmake pkg-config ccache python3 python3-stomp
          libcaf-dev liblmdb-dev lmdb-utils libprotobuf-dev protobuf-compiler
          catch2 libcli11-dev libspdlog-dev libfmt-dev libcpp-httplib-dev
          nlohmann-json3-dev zlib1g-dev libwebsocketpp-dev tao-pegtl-dev)
packages+=(iproute2) # ip, ss, tc: the network namespaces of test_partitions.py
if [[ "${1:-}" == "--browser" ]]; then
  packages+=(chromium chromium-driver python3-selenium)
  # Debian's npm, unless an npm is there already (Node.js packages of other origins bring their own
  # and conflict with Debian's).
  command -v npm >/dev/null || packages+=(npm)
fi
packages+=(clang-14 libfuzzer-14-dev) # the fuzz targets (tools/fuzz.sh)
# Replication (docs/replication.md): ZooKeeper's server, run by tests/integration/zookeeper.py
# in the foreground with a generated config (never the system service), and its C client.
packages+=(zookeeperd libzookeeper-mt-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
