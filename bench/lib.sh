# shellcheck shell=bash
# Sourced by the bench scripts (bash): what each of them needs the same way.

# The cargo target directory (CARGO_TARGET_DIR or the workspace's).
bench_target_dir() {
  cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}

# A work directory in $work, removed on exit together with the dev server whose pid the
# script puts in $server_pid.
bench_work_dir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  server_pid=""
  trap bench_cleanup EXIT
}

bench_cleanup() {
  if [ -n "${server_pid:-}" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
