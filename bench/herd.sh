#!/usr/bin/env bash
# Benchmark: a fleet on one API key (BENCHMARKS.md section 5). The dev server plays WorkOS with
# `--rate-limit` scaled so N/limit matches 10,000 pods on 6,000 requests per 60 s.
#
#   bash bench/herd.sh                   # init herds of 50, 200, 1000; exec fleets of 50, 200, 500
#   bash bench/herd.sh --client OLD_BIN  # the same with another build as the client (before/after)
#   bash bench/herd.sh --smoke           # one herd of 20 init runs, correctness only (seconds)
#
# Prints one JSON object per fleet size (bench/herd.py documents the fields). Uses the debug build:
# the figures are request counts and times set by the limit and the retry policy, not CPU speed.
# Spawning 1000 processes takes about a minute on a loaded 2-core VM: the spawn time is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
smoke=0; client=""; ns="50 200 1000"; ms="50 200 500"; stretch=150; scale=10
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) smoke=1 ;;
    --client) client=$2; shift ;;
    --n) ns=$2; shift ;;
    --m) ms=$2; shift ;;
    --stretch) stretch=$2; shift ;;
    --scale) scale=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench/herd.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
cargo build --locked --quiet
target_dir=$(bench_target_dir)
bin="$target_dir/debug/vault-fetch-relay"
client=${client:-$bin}
if [ $smoke = 1 ]; then
  exec python3 bench/herd.py --server-bin "$bin" --client-bin "$client" --mode init --n 20 --label smoke --smoke
fi
# shellcheck disable=SC2086
python3 bench/herd.py --server-bin "$bin" --client-bin "$client" --mode init --n $ns --label default-deadline
# shellcheck disable=SC2086
python3 bench/herd.py --server-bin "$bin" --client-bin "$client" --mode init --n $ns --timeout-seconds 90 --label deadline-90s
# shellcheck disable=SC2086
python3 bench/herd.py --server-bin "$bin" --client-bin "$client" --mode exec --n $ms --scale "$scale" --stretch "$stretch" --label exec
