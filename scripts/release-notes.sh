#!/usr/bin/env bash
# Print the CHANGELOG.md section for a release tag (the GitHub release's notes), after checking that
# the tag is vX.Y.Z for the version in Cargo.toml. Fails, saying why, on any mismatch or when
# CHANGELOG.md has no non-empty "## [X.Y.Z]" section. Used by .github/workflows/release.yml.
#   scripts/release-notes.sh v0.1.0
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tag="${1:?usage: $0 vX.Y.Z}"

[[ "$tag" =~ ^v([0-9]+\.[0-9]+\.[0-9]+)$ ]] \
  || { echo "release-notes: tag '$tag' is not vX.Y.Z" >&2; exit 1; }
version="${BASH_REMATCH[1]}"
crate="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -1)"
[ "$crate" = "$version" ] \
  || { echo "release-notes: tag $tag but Cargo.toml says version \"$crate\"; bump Cargo.toml or retag" >&2; exit 1; }

# The lines after "## [X.Y.Z]" up to the next "## " heading or the link references.
notes="$(awk -v want="## [$version]" '
  index($0, want) == 1 { on = 1; next }
  on && (/^## / || /^\[[^]]+\]: /) { exit }
  on { print }
' "$repo/CHANGELOG.md" | sed -e '/./,$!d')"
[ -n "$(printf '%s' "$notes" | tr -d '[:space:]')" ] \
  || { echo "release-notes: CHANGELOG.md has no notes under \"## [$version]\"; add them before tagging" >&2; exit 1; }
printf '%s\n' "$notes"
