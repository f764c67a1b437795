#!/usr/bin/env bash
# Benchmark of `exec` (the supervisor): start-up next to a plain fetch, idle RSS and CPU between
# polls, one request per poll on the steady path. Only loopback traffic (the dev server over HTTP).
#
#   bash bench/exec.sh           # ~35 s after the release build; rewrites the exec section of BENCHMARKS.md
#   bash bench/exec.sh --print   # print the section, leave BENCHMARKS.md alone
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
unset HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy
cargo build --release --locked --quiet
target_dir=$(bench_target_dir)
section=$(python3 bench/exec.py --bin "$target_dir/release/vault-fetch-relay")
if [ "${1:-}" = --print ]; then
  printf '%s\n' "$section"
  exit 0
fi
SECTION="$section" python3 - <<'PY'
import os, re
path = "BENCHMARKS.md"
text = open(path).read()
begin, end = "<!-- exec-results:begin (bench/exec.sh rewrites this section) -->", "<!-- exec-results:end -->"
block = f"{begin}\n{os.environ['SECTION']}\n{end}"
if begin in text:
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(path, "w").write(text)
PY
echo "bench: BENCHMARKS.md updated" >&2
