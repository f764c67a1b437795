#!/usr/bin/env bash
# Build one release archive from an already-built binary (the release workflow calls this once per
# target and flavour; tests/release_package.rs runs it on a host build):
#
#   scripts/package-release.sh --bin PATH --target TRIPLE [--flavor full|minimal]
#                              [--generator PATH] [--version X.Y.Z] [--out DIR]
#
# Writes DIR/vault-fetch-relay-VERSION-TARGET[-minimal].tar.gz, holding one directory of that name:
#   vault-fetch-relay  LICENSE  README.md  CHANGELOG.md
#   docs/*.md (the guides README.md links to, beside it so its links work)
#   complete/vault-fetch-relay.bash  complete/_vault-fetch-relay (zsh)
#   complete/vault-fetch-relay.fish  complete/_vault-fetch-relay.ps1
#   doc/vault-fetch-relay.1
# and DIR/<archive>.sha256 in `sha256sum` format. Prints the archive's path.
#
# Completions and the man page come from running --generator (default: --bin). For a target this host
# cannot run (aarch64 Linux on an x86_64 runner, x86_64 macOS on an arm64 one), pass a host build made
# with the same features: the minimal flavour has no dev-server/demo, so its completions differ.
# The archive is reproducible for a given input (sorted entries, fixed owner and mtime) where GNU tar
# is available (gtar on macOS).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
name=vault-fetch-relay

die() { echo "package-release: $*" >&2; exit 1; }

bin="" target="" flavor=full generator="" version="" out="dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="${2:?--bin needs a path}"; shift 2 ;;
    --target) target="${2:?--target needs a triple}"; shift 2 ;;
    --flavor) flavor="${2:?--flavor needs full or minimal}"; shift 2 ;;
    --generator) generator="${2:?--generator needs a path}"; shift 2 ;;
    --version) version="${2:?--version needs X.Y.Z}"; shift 2 ;;
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    *) die "unknown argument $1 (see the top of $0)" ;;
  esac
done
[ -n "$bin" ] || die "--bin is required (the built vault-fetch-relay)"
[ -n "$target" ] || die "--target is required (e.g. x86_64-unknown-linux-musl)"
[ -f "$bin" ] && [ -x "$bin" ] || die "--bin $bin is not an executable file"
generator="${generator:-$bin}"
[ -x "$generator" ] || die "--generator $generator is not executable"
case "$flavor" in
  full) suffix="" ;;
  minimal) suffix="-minimal" ;;
  *) die "--flavor must be full or minimal, not $flavor" ;;
esac
if [ -z "$version" ]; then
  version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -1)"
  [ -n "$version" ] || die "no version in Cargo.toml; pass --version"
fi

# The generator must be the version we package, or the docs would describe another build.
gen_version="$("$generator" --version)" || die "$generator --version failed"
[ "$gen_version" = "$name $version" ] \
  || die "$generator --version says '$gen_version', expected '$name $version'"
# dev-server is the feature's marker: a minimal archive must not be documented by a full build.
if "$generator" --help | grep -qE '^  dev-server '; then gen_flavor=full; else gen_flavor=minimal; fi
[ "$gen_flavor" = "$flavor" ] \
  || die "--generator $generator is a $gen_flavor build but --flavor is $flavor"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
dir="$name-$version-$target$suffix"
root="$stage/$dir"
mkdir -p "$root/complete" "$root/doc"
install -m 0755 "$bin" "$root/$name"
install -m 0644 "$repo/LICENSE" "$repo/README.md" "$repo/CHANGELOG.md" "$root/"
mkdir -p "$root/docs"
for guide in "$repo"/docs/*.md; do
  [ -f "$guide" ] || die "no guides in $repo/docs: README.md links them"
  install -m 0644 "$guide" "$root/docs/"
done

generate() { # generate FILE ARGS...: FILE is the generator's stdout, which must not be empty
  local file="$1"; shift
  "$generator" "$@" >"$file" \
    || die "'$name $*' failed: the completions and man subcommands are needed to package a release"
  [ -s "$file" ] || die "'$name $*' printed nothing"
  chmod 0644 "$file"
}
generate "$root/complete/$name.bash" completions bash
generate "$root/complete/_$name" completions zsh
generate "$root/complete/$name.fish" completions fish
generate "$root/complete/_$name.ps1" completions powershell
generate "$root/doc/$name.1" man

mkdir -p "$out"
archive="$(cd "$out" && pwd)/$dir.tar.gz"
tar_bin=tar
command -v gtar >/dev/null 2>&1 && tar_bin=gtar
if "$tar_bin" --version 2>/dev/null | grep -q 'GNU tar'; then
  mtime="${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}"
  "$tar_bin" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" \
    -C "$stage" -cf - "$dir" | gzip -n -9 >"$archive"
else
  "$tar_bin" -C "$stage" -cf - "$dir" | gzip -n -9 >"$archive"
fi

if command -v sha256sum >/dev/null 2>&1; then
  sum="$(sha256sum "$archive" | cut -d' ' -f1)"
else
  sum="$(shasum -a 256 "$archive" | cut -d' ' -f1)"
fi
# `sha256sum -c` / `shasum -a 256 -c` format, naming the file as it is downloaded.
printf '%s  %s\n' "$sum" "$dir.tar.gz" >"$archive.sha256"
echo "$archive"
