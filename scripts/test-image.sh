#!/usr/bin/env bash
# Test a built image the way a cluster runs it (CI's image job calls this after `docker build`):
#
#   scripts/test-image.sh IMAGE DEV_IMAGE
#
# IMAGE is the image under test (the minimal flavour, as released); DEV_IMAGE is the same Dockerfile
# built with the dev server (--build-arg CARGO_FEATURES=), which plays WorkOS Vault. Checks:
#   - `--version` prints this checkout's version, with a read-only root filesystem;
#   - the image's user is not root, and files it writes belong to that uid;
#   - the image is lean: it has no dev-server subcommand;
#   - `deployment-event` is in the image (an unreachable Sentry: one warning, exit 0);
#   - `check` against the dev server in another container (sharing its network namespace, so the
#     dev server stays on loopback and plain http is allowed) exits 0 and reports the credentials found;
#   - `init` (the image's default command) with a read-only root writes credentials.json and config.yml,
#     0600, into the mounted volume only.
#   - the ECS task-volume paths (/relay, /vfr) are the image's VOLUMEs, owned by its user; a new Docker volume
#     mounted there starts with that owner (Docker's VOLUME copy, the behaviour Fargate's bind mounts rely on),
#     so `init --dir /relay` and `install /vfr` succeed as the image's user, and the copied binary runs.
# DOCKER names the docker CLI (default: docker).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
image="${1:?usage: $0 IMAGE DEV_IMAGE}"
dev_image="${2:?usage: $0 IMAGE DEV_IMAGE}"
docker="${DOCKER:-docker}"
port=8200
server="vfr-image-test-$$"
work="$(mktemp -d)"
cleanup() {
  "$docker" rm -f "$server" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "test-image: FAIL: $*" >&2; exit 1; }
pass() { echo "test-image: ok: $*"; }

# Every run as a hardened pod would: read-only root, no capabilities, no privilege escalation.
run() { "$docker" run --rm --read-only --cap-drop ALL --security-opt no-new-privileges "$@"; }

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -1)"
got="$(run "$image" --version)" || fail "--version exited $?"
[ "$got" = "vault-fetch-relay $version" ] || fail "--version printed '$got', expected 'vault-fetch-relay $version'"
pass "--version: $got"

user="$("$docker" image inspect --format '{{.Config.User}}' "$image")"
case "${user%%:*}" in
  "" | 0 | root) fail "the image runs as '${user:-root}'; it must set a non-root USER" ;;
esac
pass "user $user"

if out="$(run "$image" dev-server --help 2>&1)"; then
  fail "the image has the dev-server subcommand; it must be built with --no-default-features"
fi
pass "no dev-server in the image (${out%%$'\n'*})"

# The dev server on loopback inside its container; it prints the API base and a fresh API key.
"$docker" run -d --name "$server" --read-only "$dev_image" dev-server --seed --port "$port" >/dev/null
key=""
for _ in $(seq 1 60); do
  key="$("$docker" logs "$server" 2>&1 | sed -n 's/^export WORKOS_API_KEY=//p' | head -1)"
  [ -n "$key" ] && "$docker" logs "$server" 2>&1 | grep -q 'listening on' && break
  "$docker" inspect --format '{{.State.Running}}' "$server" | grep -q true \
    || { "$docker" logs "$server" >&2; fail "the dev server exited"; }
  sleep 0.5
done
[ -n "$key" ] || { "$docker" logs "$server" >&2; fail "the dev server printed no API key within 30 s"; }
pass "dev server up in $dev_image"

vault=(--network "container:$server" -e "WORKOS_API_BASE=http://127.0.0.1:$port" -e "WORKOS_API_KEY=$key")
status=0
report="$(run "${vault[@]}" "$image" check 2>&1)" || status=$?
[ "$status" -eq 0 ] || { echo "$report" >&2; fail "check exited $status, expected 0 (found)"; }
grep -q 'found' <<<"$report" || { echo "$report" >&2; fail "check did not report the credentials found"; }
pass "check against the dev server: exit 0"

# deployment-event is production code: in the minimal image. Nothing listens on 127.0.0.1:9 in that
# namespace, so the event cannot be sent: one warning, exit 0 (reporting is optional).
status=0
event="$(run "${vault[@]}" "$image" deployment-event --deployment-type eks --customer-id acme \
  --infra-version 1.0.0 --status success --timeout-seconds 3 \
  --dsn http://0123456789abcdef0123456789abcdef@127.0.0.1:9/1 2>&1)" || status=$?
if [ "$status" -ne 0 ] || ! grep -q 'warning: the deployment event did not reach Sentry' <<<"$event"; then
  echo "$event" >&2
  fail "deployment-event exited $status, expected 0 with one warning"
fi
pass "deployment-event in the image: unreachable Sentry, one warning, exit 0"

# A world-writable host directory as the credentials volume: what lands there shows who wrote it.
mkdir -p "$work/relay" && chmod 0777 "$work/relay"
status=0
run "${vault[@]}" -v "$work/relay:/.relay" "$image" >"$work/init.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || { cat "$work/init.log" >&2; fail "init exited $status"; }
for f in credentials.json config.yml; do
  [ -f "$work/relay/$f" ] || fail "init wrote no $f"
  owner="$(stat -c %u "$work/relay/$f")"
  mode="$(stat -c %a "$work/relay/$f")"
  [ "$owner" != 0 ] || fail "$f is owned by root: the container ran as root"
  [ "$owner" = "${user%%:*}" ] || fail "$f is owned by uid $owner, not the image's user ${user%%:*}"
  [ "$mode" = 600 ] || fail "$f has mode $mode, expected 600"
done
grep -q '"secret_key"' "$work/relay/credentials.json" || fail "credentials.json has no secret_key"
pass "init with a read-only root: credentials.json and config.yml, 0600, uid $owner"
volumes="$("$docker" image inspect --format '{{json .Config.Volumes}}' "$image")"
[ "$volumes" = '{"/relay":{},"/vfr":{}}' ] || fail "the image's VOLUMEs are $volumes, expected /relay and /vfr"
relay_vol="vfr-image-test-relay-$$"
vfr_vol="vfr-image-test-vfr-$$"
cleanup_volumes() {
  cleanup
  "$docker" volume rm -f "$relay_vol" "$vfr_vol" >/dev/null 2>&1 || true
}
trap cleanup_volumes EXIT
status=0
run "${vault[@]}" -v "$relay_vol:/relay" "$image" init --dir /relay >"$work/init-volume.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || { cat "$work/init-volume.log" >&2; fail "init --dir /relay into a new volume exited $status"; }
status=0
run -v "$vfr_vol:/vfr" "$image" install /vfr >"$work/install.log" 2>&1 || status=$?
[ "$status" -eq 0 ] || { cat "$work/install.log" >&2; fail "install /vfr into a new volume exited $status"; }
got="$(run -v "$vfr_vol:/vfr:ro" --entrypoint /vfr/vault-fetch-relay "$image" --version)" \
  || fail "the binary copied to /vfr does not run"
[ "$got" = "vault-fetch-relay $version" ] || fail "/vfr/vault-fetch-relay --version printed '$got'"
pass "VOLUMEs /relay and /vfr: init and install write them as uid ${user%%:*}, the copy runs"
echo "test-image: all checks passed for $image"
