#!/usr/bin/env bash
# Builds ActorMQ and runs the whole test suite (unit + integration), as CI does.
# Usage: tools/test.sh [--sanitize]   (ASan+UBSan build in build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --browser
build=build
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DACTORMQ_WERROR=ON)
if [[ "${1:-}" == "--sanitize" ]]; then
  build=build-asan
  flags+=(-DACTORMQ_SANITIZE=ON)
fi
cmake -S . -B "$build" "${flags[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j2 --timeout 300
