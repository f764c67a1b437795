#!/usr/bin/env bash
# Property tests with many more cases, then (where cargo-fuzz and a nightly toolchain
# exist) each libFuzzer target for a few seconds. Quick by design: the whole script
# stays under SMOKE_BUDGET seconds (default 55) and exits 0 unless a property or a
# fuzz target fails. Skipped parts say why.
set -euo pipefail
cd "$(dirname "$0")/.."

budget=${SMOKE_BUDGET:-55}
cases=${PROPTEST_CASES:-2000}
per_target=${FUZZ_SECONDS:-10}
targets=(query vault_value yaml_quote shell_quote)
start=$SECONDS
left() { echo $((budget - (SECONDS - start))); }

echo "== property tests: PROPTEST_CASES=$cases"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! PROPTEST_CASES=$cases cargo test --locked --test tests -- properties:: --nocapture >"$log" 2>&1; then
  cat "$log"
  echo "property tests failed" >&2
  exit 1
fi
grep -E "round-tripped|^test result" "$log" | sed 's/^/   /'
passed=$(grep -Eo '^test result: ok\. [0-9]+ passed' "$log" | grep -Eo '[0-9]+' | head -1)
echo "   $passed property tests, up to $cases generated cases each, in $((SECONDS - start)) s"

echo "== fuzz targets (${targets[*]})"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "   skipped: cargo-fuzz is not installed (cargo install cargo-fuzz); the property tests above stand in"
  exit 0
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "   skipped: no nightly toolchain (libFuzzer needs -Zsanitizer); the property tests above stand in"
  exit 0
fi
fuzz_target_dir=()
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  fuzz_target_dir=(--target-dir "$CARGO_TARGET_DIR/fuzz")
fi
# Building from a cold cache takes minutes; give it what the fuzz runs don't need.
# A build cut short keeps its progress for the next run.
build_budget=$(( $(left) - ${#targets[@]} * per_target - 5 ))
if [ "$build_budget" -lt 5 ]; then build_budget=5; fi
cd fuzz
status=0
timeout "$build_budget" cargo +nightly fuzz build -O "${fuzz_target_dir[@]}" >"$log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  if [ "$status" -ne 124 ]; then
    tail -40 "$log"
    echo "fuzz targets do not build" >&2
    exit 1
  fi
  echo "   skipped: building the fuzz targets takes longer than ${build_budget} s from a cold cache;"
  echo "   run once: (cd fuzz && cargo +nightly fuzz build -O)"
  exit 0
fi
total=0
for t in "${targets[@]}"; do
  secs=$per_target
  remaining=$(( $(left) - 2 ))
  if [ "$remaining" -lt "$secs" ]; then secs=$remaining; fi
  if [ "$secs" -lt 1 ]; then
    echo "   $t: skipped (time budget used up)"
    continue
  fi
  mkdir -p "corpus/$t"
  if ! cargo +nightly fuzz run -O "${fuzz_target_dir[@]}" "$t" "corpus/$t" -- \
      -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz target $t failed; the crashing input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)
  echo "   $t: $runs executions in $secs s, no crash"
  total=$((total + runs))
done
echo "   $total fuzz executions; smoke done in $((SECONDS - start)) s"
