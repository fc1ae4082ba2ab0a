#!/usr/bin/env bash
# Builds the Calcinosis LS VS Code extension.
#
#   bash editors/vscode/build.sh                      -> calcinosis-ls.vsix (universal, no server:
#                                                        uses calcinosis-ls from PATH)
#   bash editors/vscode/build.sh --target linux-x64   -> calcinosis-ls-linux-x64.vsix, carrying
#                                                        the release server in server/
#   bash editors/vscode/build.sh --target linux-x64 --server PATH   (bundle PATH instead)
#
# TARGET is a VS Code platform (`vsce package --target`): linux-x64, linux-arm64, alpine-x64,
# alpine-arm64, darwin-x64, darwin-arm64, win32-x64, win32-arm64. Without --server the server is
# built with `cargo build --release` (with `--target <rust triple>` when TARGET is not this
# machine, which needs that Rust target and its linker installed). The binary goes to
# server/calcinosis-ls (.exe on Windows) inside the extension, with server/target naming TARGET;
# the extension starts it when `calcinosis.server.path` is empty.
#
# Then smoke-tests the packaged bundle (test/smoke.test.js).
#
# Needs node >= 20, npm, and unzip or python3; downloads only from the npm registry (npm ci from
# the committed package-lock.json). Install scripts are skipped: esbuild finds
# its platform binary through its @esbuild/* optional dependency, and vsce's
# signing tool (whose install script may download) is not needed to package.
set -euo pipefail

caller="$(pwd)"
cd "$(dirname "${BASH_SOURCE[0]}")"
repo="$(cd ../.. && pwd)"

target=""
server=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --target) target="${2:?--target needs a platform, e.g. linux-x64}"; shift 2 ;;
    --server) server="${2:?--server needs a path}"; [[ "$server" == /* ]] || server="$caller/$server"; shift 2 ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ -n "$server" && -z "$target" ]]; then
  echo "build.sh: --server needs --target (the platform the binary runs on)" >&2
  exit 2
fi

# The Rust target triple of a VS Code platform.
rust_triple() {
  case "$1" in
    linux-x64) echo x86_64-unknown-linux-gnu ;;
    linux-arm64) echo aarch64-unknown-linux-gnu ;;
    alpine-x64) echo x86_64-unknown-linux-musl ;;
    alpine-arm64) echo aarch64-unknown-linux-musl ;;
    darwin-x64) echo x86_64-apple-darwin ;;
    darwin-arm64) echo aarch64-apple-darwin ;;
    win32-x64) echo x86_64-pc-windows-msvc ;;
    win32-arm64) echo aarch64-pc-windows-msvc ;;
    *) return 1 ;;
  esac
}

# The VS Code platform of this machine, as the extension computes it (src/serverPath.ts).
host_platform() {
  node -e '
    const glibc = process.platform !== "linux" || process.report.getReport().header.glibcVersionRuntime !== undefined;
    console.log(`${process.platform === "linux" && !glibc ? "alpine" : process.platform}-${process.arch}`);'
}

VSIX=calcinosis-ls.vsix
exe=calcinosis-ls
if [[ -n "$target" ]]; then
  triple=$(rust_triple "$target") || { echo "build.sh: unknown target $target" >&2; exit 2; }
  VSIX="calcinosis-ls-$target.vsix"
  [[ "$target" == win32-* ]] && exe=calcinosis-ls.exe
fi
start=$(date +%s)

echo "==> node $(node --version), npm $(npm --version)"

echo "==> npm ci"
npm ci --ignore-scripts --no-audit --no-fund

echo "==> npm run compile (type check)"
npm run compile

rm -rf server
trap 'rm -rf server' EXIT
package_args=(--no-dependencies --out "$VSIX")
if [[ -n "$target" ]]; then
  host=$(host_platform)
  if [[ -z "$server" ]]; then
    # Cargo's target directory, wherever CARGO_TARGET_DIR or a Cargo config puts it.
    target_dir=$(cd "$repo" && cargo metadata --format-version 1 --no-deps |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    if [[ "$target" == "$host" ]]; then
      echo "==> cargo build --release (the server for $target)"
      (cd "$repo" && cargo build --release --locked)
      server="$target_dir/release/$exe"
    else
      echo "==> cargo build --release --target $triple (the server for $target)"
      (cd "$repo" && cargo build --release --locked --target "$triple")
      server="$target_dir/$triple/release/$exe"
    fi
  fi
  if [[ ! -f "$server" ]]; then
    echo "error: no server binary at $server" >&2
    exit 1
  fi
  if [[ "$target" == "$host" ]] && ! "$server" --version >/dev/null 2>&1; then
    echo "error: $server does not run here, yet $target is this machine's platform" >&2
    exit 1
  fi
  mkdir server
  cp "$server" "server/$exe"
  chmod 755 "server/$exe"
  # The release profile keeps line tables for backtraces (debug = 1): ~100 MB, ~11 MB stripped.
  if [[ "$target" == linux-* || "$target" == alpine-* ]] && command -v strip >/dev/null 2>&1; then
    strip "server/$exe" 2>/dev/null || echo "warning: could not strip server/$exe (another architecture?)"
  fi
  echo "$target" >server/target
  echo "==> bundling $server ($(wc -c <"server/$exe") bytes, $("server/$exe" --version 2>/dev/null || echo "built for $target"))"
  package_args+=(--target "$target")
fi


echo "==> vsce package ${package_args[*]}"
rm -f "$VSIX"
# vscode:prepublish (type check + production bundle) runs first.
npx vsce package "${package_args[@]}"

echo "==> checking $VSIX"
if [[ ! -s "$VSIX" ]]; then
  echo "error: $VSIX was not produced" >&2
  exit 1
fi

if command -v unzip >/dev/null 2>&1; then
  listing=$(unzip -l "$VSIX")
else
  listing=$(python3 -m zipfile -l "$VSIX")
fi
echo "$listing"

missing=0
entries=(extension/package.json extension/out/extension.js extension/language-configuration.json
         extension/readme.md extension/changelog.md extension/LICENSE.txt)
[[ -n "$target" ]] && entries+=("extension/server/$exe" extension/server/target)
for entry in "${entries[@]}"; do
  # Match the entry as a whole path (unzip prints it as the last column,
  # python's zipfile as the first). vsce lower-cases readme.md, hence -i.
  if ! grep -Eiq "(^|[[:space:]])${entry//./\\.}([[:space:]]|$)" <<<"$listing"; then
    echo "error: $VSIX lacks $entry" >&2
    missing=1
  fi
done
if grep -Eq '(^|[[:space:]])extension/node_modules/' <<<"$listing"; then
  echo "error: $VSIX contains node_modules; the client should be bundled into out/extension.js" >&2
  missing=1
fi
if [[ -z "$target" ]] && grep -Eq '(^|[[:space:]])extension/server/' <<<"$listing"; then
  echo "error: the universal $VSIX carries a server binary" >&2
  missing=1
fi
if grep -Eq '(^|[[:space:]])extension/src/' <<<"$listing"; then
  echo "error: $VSIX contains TypeScript sources" >&2
  missing=1
fi
[[ $missing -eq 0 ]] || exit 1

echo "==> smoke test of the packaged bundle (mocked vscode API, fake LSP server)"
# Runs extension/out/extension.js from the .vsix itself: it must load with only
# the `vscode` module supplied (so vscode-languageclient is bundled) and drive
# a stand-in server the way calcinosis-ls will be driven.
bundle_dir=$(mktemp -d)
trap 'rm -rf "$bundle_dir" server' EXIT
if command -v unzip >/dev/null 2>&1; then
  unzip -q "$VSIX" extension/out/extension.js -d "$bundle_dir"
else
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("extension/out/extension.js", sys.argv[2])' \
    "$VSIX" "$bundle_dir"
fi
EXTENSION_JS="$bundle_dir/extension/out/extension.js" npm test

echo "==> OK: $(pwd)/$VSIX ($(wc -c <"$VSIX") bytes) in $(( $(date +%s) - start ))s"
