#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, in build-fuzz/ with clang, ASan and UBSan) and runs each
# for a bounded time over a copy of its seed corpus (fuzz/corpus/<target>/). Prints, per target,
# the inputs run, the coverage reached and the crashes found; a crash's input is kept (the path is
# printed) and the script exits non-zero. docs/fuzzing.md says more.
# Usage: tools/fuzz.sh [--seconds N] [--target NAME]... [--build-only]
#   --seconds N   run each target N seconds (default 60)
#   --target NAME only this target (repeatable): protobuf_codec stomp_parser stomp_codec
#                 stomp_ws_codec uri destination config envelope store_records journal_records
#                 selector cron replication_stream durable_name
#   --build-only  build the targets, run nothing
# Runs go to build-fuzz/runs/<time>-<pid>/<target>/ (FUZZ_OUT=DIR to choose): the grown corpus,
# the log, crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."

all=(protobuf_codec stomp_parser stomp_codec stomp_ws_codec uri destination config envelope
     store_records journal_records selector cron replication_stream durable_name)
seconds=60
targets=()
build_only=0
while (($#)); do
  case "$1" in
  --seconds) seconds=$2; shift 2 ;;
  --target) targets+=("$2"); shift 2 ;;
  --build-only) build_only=1; shift ;;
  -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
  *) echo "fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
((${#targets[@]})) || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ -d fuzz/corpus/$t ]] || { echo "fuzz.sh: no target $t (known: ${all[*]})" >&2; exit 2; }
done

build=build-fuzz
if [[ ! -f $build/CMakeCache.txt ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++-14 -DACTORMQ_FUZZ=ON >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"
((build_only)) && exit 0

out=${FUZZ_OUT:-$build/runs/$(date +%Y%m%d-%H%M%S)-$$}
failed=0
printf '%-16s %10s %8s %8s %8s  %s\n' target runs cov ft crashes result
for t in "${targets[@]}"; do
  work=$out/$t
  mkdir -p "$work/corpus" "$work/crashes"
  cp fuzz/corpus/"$t"/* "$work/corpus/"
  rc=0
  TMPDIR=$work "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/crashes/" "$work/corpus" >"$work/log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$work/log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$work/log" | tail -1 | cut -d' ' -f2)
  crashes=$(find "$work/crashes" -type f | wc -l)
  result=ok
  if ((rc != 0 || crashes != 0)); then
    failed=1
    result="FAILED (exit $rc): $(find "$work/crashes" -type f | head -1) log $work/log"
  fi
  printf '%-16s %10s %8s %8s %8s  %s\n' "$t" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$crashes" "$result"
done
if ((failed)); then
  echo "fuzz.sh: a target failed; reproduce with $build/fuzz/fuzz_<target> <crash file>" >&2
  exit 1
fi
