#!/usr/bin/env bash
# Benchmark: what the Sentry upstream preflight adds to `check`. Interleaved rounds of
#   (a) check                       (the WorkOS read alone)
#   (b) check --upstream URL --dsn  (the read, then register challenge, register response, project config)
# against the product's own dev server over loopback HTTPS (its WorkOS side and its Sentry upstream
# side on one address), each a fresh process as a readiness probe runs it.
#
#   bash bench/upstream.sh              # 200 rounds, release build; prints the results table
#   bash bench/upstream.sh --n 500      # more rounds
#   bash bench/upstream.sh --smoke      # 3 rounds with the debug build: behaviour only, no timing claims
#
# Needs cargo and python3. Only loopback traffic. Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

smoke=0
n=200
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) smoke=1; n=3 ;;
    --n) n=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
say() { echo "bench: $*" >&2; }
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy

if [ $smoke = 1 ]; then profile=(); profile_dir=debug; else profile=(--release); profile_dir=release; fi
say "building the $profile_dir binary and the certificate example"
cargo build "${profile[@]}" --locked --quiet
cargo build "${profile[@]}" --locked --quiet --example gen-test-cert
target_dir=$(bench_target_dir)
bin="$target_dir/$profile_dir/vault-fetch-relay"

bench_work_dir vfr-bench-upstream

"$target_dir/$profile_dir/examples/gen-test-cert" "$work/certs" >/dev/null
dsn_key=9f8e7d6c5b4a39281706f5e4d3c2b1a0
# --seed trusts the seeded relay on the upstream side; --dsn-key makes its project served.
"$bin" dev-server --seed --dsn-key "$dsn_key" --tls-cert "$work/certs/server.pem" \
  --tls-key "$work/certs/server.key" >"$work/exports" 2>"$work/dev-server.log" &
server_pid=$!
for _ in $(seq 100); do
  [ "$(grep -c '^export WORKOS_' "$work/exports" 2>/dev/null)" = 2 ] && break
  kill -0 "$server_pid" 2>/dev/null || { say "the dev server exited:"; cat "$work/dev-server.log" >&2; exit 1; }
  sleep 0.1
done
WORKOS_API_BASE=$(sed -n 's/^export WORKOS_API_BASE=//p' "$work/exports")
WORKOS_API_KEY=$(sed -n 's/^export WORKOS_API_KEY=//p' "$work/exports")
export WORKOS_API_BASE WORKOS_API_KEY SSL_CERT_FILE="$work/certs/ca.pem"
say "dev server at $WORKOS_API_BASE (pid $server_pid); $n rounds"

python3 - "$bin" "$WORKOS_API_BASE" "https://$dsn_key@127.0.0.1/1" "$n" "$smoke" <<'PY'
import json, os, platform, statistics, subprocess, sys, time

bin, base, dsn, n, smoke = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
runs = {
    "check": ["check", "--format", "json"],
    "check --upstream": ["check", "--format", "json", "--upstream", base, "--dsn", dsn],
}
times = {k: [] for k in runs}
for i in range(n):
    for name, args in runs.items():
        t0 = time.perf_counter()
        p = subprocess.run([bin] + args, capture_output=True, check=False)
        wall = time.perf_counter() - t0
        doc = json.loads(p.stdout)
        if p.returncode != 0 or doc["status"] != "found":
            sys.exit(f"bench: {name} exited {p.returncode}: {p.stdout!r} {p.stderr!r}")
        if "--upstream" in args and (doc["upstream"]["result"] != "accepted" or doc["upstream"]["project"] != "served"):
            sys.exit(f"bench: the preflight was not accepted: {doc['upstream']}")
        times[name].append(wall * 1000)
if smoke:
    print("bench: upstream smoke run passed (no timing claims)", file=sys.stderr)
    sys.exit(0)
def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
print(f"{n} interleaved rounds, loopback HTTPS, {platform.machine()}, {os.cpu_count()} CPUs\n")
print("| run | median ms | p90 ms | min ms |")
print("|---|---|---|---|")
for name, xs in times.items():
    print(f"| `{name}` | {statistics.median(xs):.1f} | {q(xs, 0.9):.1f} | {min(xs):.1f} |")
extra = statistics.median(times["check --upstream"]) - statistics.median(times["check"])
print(f"\nThe preflight (three signed requests; the dev server closes each connection, so each pays its own TLS handshake) adds {extra:.1f} ms at the median.")
PY
