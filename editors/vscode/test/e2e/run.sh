#!/usr/bin/env bash
# End-to-end test of the VS Code extension in a real VS Code: code-server (VS Code built for the
# browser, from the npm registry) on 127.0.0.1, driven through Debian's Chromium by Playwright.
#
#   bash editors/vscode/test/e2e/run.sh [--vsix FILE] [--server PATH] [--install-only]
#
#   --vsix FILE     the extension to install (default: editors/vscode/calcinosis-ls-linux-x64.vsix,
#                   the platform package that carries the server; build it with
#                   `bash editors/vscode/build.sh --target linux-x64`)
#   --server PATH   set `calcinosis.server.path` to PATH; without it the user settings are empty
#                   and the server bundled in the .vsix is used
#   --install-only  install what the test needs, then stop
#
# Installs what is missing, from the package registries only, and keeps it between runs in
# $CALCINOSIS_E2E_CACHE (default ~/.cache/calcinosis-ls/vscode-e2e):
#   - Debian: chromium, ripgrep, libkrb5-dev (code-server's kerberos module builds from source),
#     python3-venv (as root, with apt-get)
#   - npm: code-server 4.100.3, the newest release that runs on Node 20
#   - PyPI: playwright, in a venv (its browsers are never downloaded: it drives /usr/bin/chromium)
# Screenshots of failed checks go to $CALCINOSIS_E2E_ARTIFACTS (default
# editors/vscode/test/e2e/artifacts). Exits 0 only when every check passed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ext_dir="$(cd "$here/../.." && pwd)"

CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.2
# @vscode/ripgrep as pinned by code-server 4.100.3's npm-shrinkwrap.json, and the ripgrep
# release its postinstall asks for; both name the cache file it reads instead of downloading.
VSCODE_RIPGREP_VERSION=1.15.11
RIPGREP_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

vsix="$ext_dir/calcinosis-ls-linux-x64.vsix"
server=""
install_only=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --vsix) vsix="$2"; shift 2 ;;
    --server) server="$2"; shift 2 ;;
    --install-only) install_only=1; shift ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

cache="${CALCINOSIS_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/calcinosis-ls/vscode-e2e}"
mkdir -p "$cache"
started=$(date +%s)
say() { echo "e2e: $* ($(( $(date +%s) - started )) s)"; }

# Debian packages ------------------------------------------------------------------------------
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v rg >/dev/null 2>&1 || need_apt+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [[ ${#need_apt[@]} -gt 0 ]]; then
  say "installing Debian packages: ${need_apt[*]}"
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "e2e: missing ${need_apt[*]}; install them (Debian/Ubuntu: apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# code-server ----------------------------------------------------------------------------------
cs_prefix="$cache/code-server-$CODE_SERVER_VERSION"
cs_bin="$cs_prefix/node_modules/code-server/out/node/entry.js"
if [[ ! -f "$cs_prefix/.installed" ]]; then
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  if [[ "$node_major" != 20 ]]; then
    echo "e2e: code-server $CODE_SERVER_VERSION needs Node 20, this is $(node --version)" >&2
    exit 1
  fi
  say "installing code-server $CODE_SERVER_VERSION into $cs_prefix (a few minutes, once)"
  rm -rf "$cs_prefix"
  mkdir -p "$cs_prefix"
  install_tmp=$(mktemp -d)
  # @vscode/ripgrep's postinstall would download ripgrep from outside the npm registry; it uses
  # a tarball already in its cache folder instead. Make that tarball from Debian's rg.
  rg_cache="$install_tmp/vscode-ripgrep-cache-$VSCODE_RIPGREP_VERSION"
  mkdir -p "$rg_cache/stage"
  cp "$(command -v rg)" "$rg_cache/stage/rg"
  tar -czf "$rg_cache/$RIPGREP_ASSET" -C "$rg_cache/stage" rg
  rm -rf "$rg_cache/stage"
  # npm_config_yes: node-pty runs `npx node-gyp` and must not stop to ask. unsafe_perm: as root,
  # code-server's postinstall refuses to run without it. node-gyp takes Node's headers from
  # /usr/include/node, so nothing else is fetched.
  if ! (cd "$cs_prefix" && TMPDIR="$install_tmp" npm_config_yes=true npm_config_unsafe_perm=true \
        npm install --no-audit --no-fund --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION" \
        >"$install_tmp/npm.log" 2>&1); then
    tail -40 "$install_tmp/npm.log" >&2
    rm -rf "$install_tmp"
    echo "e2e: installing code-server failed" >&2
    exit 1
  fi
  rm -rf "$install_tmp"
  [[ -x "$cs_prefix/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ]] \
    || { echo "e2e: code-server installed without ripgrep" >&2; exit 1; }
  touch "$cs_prefix/.installed"
fi

# Playwright -----------------------------------------------------------------------------------
venv="$cache/venv-playwright-$PLAYWRIGHT_VERSION"
if [[ ! -f "$venv/.installed" ]]; then
  say "installing playwright $PLAYWRIGHT_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "playwright==$PLAYWRIGHT_VERSION"
  touch "$venv/.installed"
fi

say "installed: code-server $CODE_SERVER_VERSION, playwright $PLAYWRIGHT_VERSION, $(chromium --version 2>/dev/null)"
[[ $install_only -eq 1 ]] && exit 0

if [[ ! -s "$vsix" ]]; then
  echo "e2e: no extension at $vsix (bash editors/vscode/build.sh --target linux-x64)" >&2
  exit 1
fi

args=(--code-server "$cs_bin" --vsix "$vsix" --chromium "$(command -v chromium)")
[[ -n "$server" ]] && args+=(--server "$server")
status=0
"$venv/bin/python" "$here/test_vscode.py" "${args[@]}" || status=$?
say "done (exit $status)"
exit "$status"
