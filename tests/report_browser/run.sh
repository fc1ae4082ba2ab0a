#!/usr/bin/env bash
# The HTML report (`check --format html`) in a real browser: Debian's Chromium driven by
# Playwright, reusing the VS Code end-to-end test's venv and cache
# (editors/vscode/test/e2e/run.sh --install-only installs them).
#
#   bash tests/report_browser/run.sh [--bin PATH]
#
#   --bin PATH   the calcinosis-ls binary (default: the debug build, via python/cli-path.sh)
#
# Screenshots go to $CALCINOSIS_REPORT_ARTIFACTS (default tests/report_browser/artifacts);
# their paths are printed. Without Chromium or Playwright it fails under CI=true and skips
# (exit 0, saying so) otherwise.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$bin" ]] || bin="$(bash "$root/python/cli-path.sh")"
[[ -x "$bin" ]] || { echo "report browser test: no binary at $bin (cargo build)" >&2; exit 1; }

# The same pins and cache as editors/vscode/test/e2e/run.sh, so the venv is shared.
PLAYWRIGHT_VERSION=1.65.2
cache="${CALCINOSIS_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/calcinosis-ls/vscode-e2e}"
venv="$cache/venv-playwright-$PLAYWRIGHT_VERSION"
missing=""
command -v chromium >/dev/null 2>&1 || missing="Debian's chromium (apt-get install chromium)"
[[ -f "$venv/.installed" ]] || missing="${missing:+$missing and }playwright $PLAYWRIGHT_VERSION in $venv (bash editors/vscode/test/e2e/run.sh --install-only)"
if [[ -n "$missing" ]]; then
  if [[ "${CI:-}" == "true" ]]; then
    echo "report browser test: missing $missing" >&2
    exit 1
  fi
  echo "report browser test: SKIPPED, missing $missing"
  exit 0
fi
artifacts="${CALCINOSIS_REPORT_ARTIFACTS:-$here/artifacts}"
exec "$venv/bin/python" "$here/test_report.py" --bin "$bin" --chromium "$(command -v chromium)" \
  --artifacts "$artifacts"
