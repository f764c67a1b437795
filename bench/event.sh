#!/usr/bin/env bash
# Benchmark: the deployment hook's work, side by side in one run, against loopback stand-ins: (a) our binary
# (`deployment-event`, the DSN read from the vault by name, one envelope) and (b) bench/event-curl-jq.sh, the
# script's path in bash (DSN by list + get, the event by jq, uuidgen, openssl, curl). The WorkOS Vault is the
# product's dev server over HTTPS; Sentry is bench/event.py's capturing ingest over plain HTTP on 127.0.0.1.
#
#   bash bench/event.sh            # 50 interleaved rounds; rewrites BENCHMARKS.md section 6's results
#   bash bench/event.sh --smoke    # 3 rounds, correctness only
#   bash bench/event.sh --n 200
#
# Needs: cargo, python3, curl, jq, uuidgen (uuid-runtime), openssl. Only loopback traffic.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
smoke=0
n=50
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) smoke=1 ;;
    --n) n=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
say() { echo "bench: $*" >&2; }
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy SENTRY_DSN
for tool in curl jq uuidgen openssl python3; do
  command -v "$tool" >/dev/null || { say "$tool is required for the baseline (apt-get install curl jq uuid-runtime openssl)"; exit 1; }
done
if [ $smoke = 1 ]; then profile=(); profile_dir=debug; else profile=(--release); profile_dir=release; fi
say "building the $profile_dir binary"
cargo build "${profile[@]}" --locked --quiet
cargo build "${profile[@]}" --locked --quiet --example gen-test-cert
target_dir=$(bench_target_dir)
bin="$target_dir/$profile_dir/vault-fetch-relay"
bench_work_dir vfr-event-bench
"$target_dir/$profile_dir/examples/gen-test-cert" "$work/certs" >/dev/null
"$bin" dev-server --seed --tls-cert "$work/certs/server.pem" --tls-key "$work/certs/server.key" \
  >"$work/exports" 2>"$work/dev-server.log" &
server_pid=$!
for _ in $(seq 100); do
  [ "$(grep -c '^export WORKOS_' "$work/exports" 2>/dev/null)" = 2 ] && break
  sleep 0.1
done
WORKOS_API_BASE=$(sed -n 's/^export WORKOS_API_BASE=//p' "$work/exports")
WORKOS_API_KEY=$(sed -n 's/^export WORKOS_API_KEY=//p' "$work/exports")
export WORKOS_API_BASE WORKOS_API_KEY SSL_CERT_FILE="$work/certs/ca.pem"
[ -n "$WORKOS_API_BASE" ] || { say "the dev server did not start"; cat "$work/dev-server.log" >&2; exit 1; }

# The ingest starts first (its DSN goes into the secret), then waits for GO.
args=(--bin "$bin" --script "$PWD/bench/event-curl-jq.sh" --n "$n" --dsn-out "$work/dsn")
[ $smoke = 1 ] && args+=(--smoke) || args+=(--update-md "$PWD/BENCHMARKS.md")
python3 bench/event.py "${args[@]}" &
measure_pid=$!
for _ in $(seq 100); do [ -s "$work/dsn" ] && break; sleep 0.05; done
dsn=$(cat "$work/dsn")
# Point the seeded secret's sentry_dsn at the ingest (the dev server's update API).
auth="header = \"Authorization: Bearer $WORKOS_API_KEY\""
object=$(curl -sS --fail --cacert "$SSL_CERT_FILE" --config - \
  "$WORKOS_API_BASE/vault/v1/kv/name/runlayer-sentry-credentials" <<<"$auth")
id=$(jq -r .id <<<"$object")
body=$(jq -c --arg dsn "$dsn" '{value: (.value | fromjson | .sentry_dsn = $dsn | tojson)}' <<<"$object")
curl -sS --fail --cacert "$SSL_CERT_FILE" --config - -X PUT -H 'Content-Type: application/json' \
  --data "$body" "$WORKOS_API_BASE/vault/v1/kv/$id" <<<"$auth" >/dev/null
touch "$work/GO"
wait "$measure_pid"
