#!/usr/bin/env bash
# Benchmark: vault-fetch-relay (Terraform mode and init mode) against a curl + jq script
# doing the same read-by-name and against one bare curl GET, over loopback HTTPS against
# the product's own dev server.
#
#   bash bench/run.sh            # 200 interleaved rounds; rewrites BENCHMARKS.md's results
#   bash bench/run.sh --smoke    # 3 rounds, correctness only (CI), no timing claims
#   bash bench/run.sh --n 500    # more rounds
#   bash bench/run.sh --baseline-bin OLD [--json FILE]   # OLD build as (a0) in the same
#                                # rounds; report on stdout, BENCHMARKS.md left alone
#
# Needs: cargo, python3 (3.8+). curl and jq for the baselines: installed with apt-get when
# missing and running as root; otherwise the full run stops, the smoke run skips them.
# Only loopback traffic. Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

smoke=0
n=200
baseline_bin=""
json_out=""
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) smoke=1 ;;
    --n) n=$2; shift ;;
    --baseline-bin) baseline_bin=$2; shift ;;
    --json) json_out=$2; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
started=$(date +%s)
say() { echo "bench: $*" >&2; }
if [ -n "$baseline_bin" ]; then
  [ -f "$baseline_bin" ] && [ -x "$baseline_bin" ] ||
    { say "--baseline-bin $baseline_bin is not an executable file (give a vault-fetch-relay binary)"; exit 2; }
  baseline_bin=$(cd "$(dirname "$baseline_bin")" && pwd)/$(basename "$baseline_bin")
fi
if [ -n "$json_out" ]; then
  json_dir=$(dirname "$json_out")
  [ -d "$json_dir" ] || { say "--json $json_out: the directory $json_dir does not exist"; exit 2; }
  json_out=$(cd "$json_dir" && pwd)/$(basename "$json_out")
fi

# A proxy setting on the machine must not catch loopback traffic (curl honours it).
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy

command -v python3 >/dev/null || { say "python3 is required for bench/measure.py"; exit 1; }

# --- curl and jq for (b)
skip_b=""
if ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "curl or jq missing: installing them with apt-get"
    apt-get install -y -q curl jq >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q curl jq >/dev/null 2>&1; } ||
      say "apt-get could not install curl and jq"
  fi
  if ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
    skip_b="curl and/or jq are not installed (install them: apt-get install -y curl jq)"
    if [ $smoke = 0 ]; then
      say "$skip_b; the comparison needs them"
      exit 1
    fi
    say "skipping (b), the curl+jq baseline: $skip_b"
  fi
fi

# --- build
# Timings need the release build; the smoke run checks behaviour only, so it uses the debug build the
# test suite already made instead of spending minutes on an LTO build in CI.
if [ $smoke = 1 ]; then
  profile=(); profile_dir=debug
else
  profile=(--release); profile_dir=release
fi
say "building the $profile_dir binary and the bench examples"
cargo build "${profile[@]}" --locked --quiet
target_dir=$(bench_target_dir)
bin="$target_dir/$profile_dir/vault-fetch-relay"
examples_ok=1
cargo build "${profile[@]}" --locked --quiet --example gen-test-cert --example bench-spawn \
  --example bench-faults || examples_ok=0
ex="$target_dir/$profile_dir/examples"

bench_work_dir vfr-bench

# --- throwaway CA and a server certificate for localhost / 127.0.0.1
certs="$work/certs"
if [ $examples_ok = 1 ]; then
  "$ex/gen-test-cert" "$certs" >/dev/null
elif command -v openssl >/dev/null; then
  say "examples did not build; making the certificates with openssl"
  mkdir -p "$certs"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=vault-fetch-relay bench CA" -keyout "$certs/ca.key" -out "$certs/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$certs/server.key" -out "$certs/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$certs/ext"
  openssl x509 -req -in "$certs/server.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" \
    -CAcreateserial -days 2 -extfile "$certs/ext" -out "$certs/server.pem" 2>/dev/null
else
  say "the bench examples did not build and openssl is missing: no way to make certificates"
  exit 1
fi

# --- the dev server (HTTPS, loopback), in the background
"$bin" dev-server --seed --tls-cert "$certs/server.pem" --tls-key "$certs/server.key" \
  >"$work/exports" 2>"$work/dev-server.log" &
server_pid=$!
for _ in $(seq 100); do
  [ "$(grep -c '^export WORKOS_' "$work/exports" 2>/dev/null)" = 2 ] && break
  kill -0 "$server_pid" 2>/dev/null || { say "the dev server exited:"; cat "$work/dev-server.log" >&2; exit 1; }
  sleep 0.1
done
WORKOS_API_BASE=$(sed -n 's/^export WORKOS_API_BASE=//p' "$work/exports")
WORKOS_API_KEY=$(sed -n 's/^export WORKOS_API_KEY=//p' "$work/exports")
[ -n "$WORKOS_API_BASE" ] && [ -n "$WORKOS_API_KEY" ] ||
  { say "the dev server printed no exports"; cat "$work/dev-server.log" >&2; exit 1; }
export WORKOS_API_BASE WORKOS_API_KEY
relay_id=$(sed -n 's/.*(relay id \([0-9a-f-]*\)).*/\1/p' "$work/dev-server.log" | head -n1)
say "dev server at $WORKOS_API_BASE (pid $server_pid), seeded relay id $relay_id"

# --- measure
args=(--bin "$bin" --ca "$certs/ca.pem" --work "$work" --n "$n" --relay-id "$relay_id"
  --cert "$certs/server.pem" --key "$certs/server.key" --json "${json_out:-$work/results.json}")
if [ -z "$skip_b" ]; then
  args+=(--script "$PWD/bench/curl-jq.sh")
else
  args+=(--skip-b-reason "$skip_b")
fi
# (d), bare curl: needs curl alone.
if command -v curl >/dev/null; then
  args+=(--curl "$(command -v curl)")
else
  say "skipping (d), the bare-curl baseline: curl is not installed"
fi
[ -z "$baseline_bin" ] || args+=(--baseline-bin "$baseline_bin")
if [ $examples_ok = 1 ]; then
  args+=(--spawn "$ex/bench-spawn" --faults "$ex/bench-faults")
else
  say "warning: no bench-spawn launcher: peak RSS will include the Python interpreter; no 503 storm"
fi
if [ $smoke = 1 ]; then
  args+=(--smoke)
elif [ -z "$baseline_bin" ]; then
  args+=(--update-md "$PWD/BENCHMARKS.md")
else
  say "comparing with --baseline-bin: BENCHMARKS.md is left alone; the report goes to stdout"
fi
python3 bench/measure.py "${args[@]}"
if [ $smoke = 1 ]; then
  # The fleet benchmark's smoke (bench/herd.sh): 20 init runs on a rate-limited key, each must end
  # found or in proxy mode. A second or two.
  python3 bench/herd.py --server-bin "$bin" --client-bin "$bin" --mode init --n 20 --label smoke --smoke >/dev/null
fi
say "done in $(($(date +%s) - started)) s"
