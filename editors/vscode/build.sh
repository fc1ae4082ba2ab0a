#!/usr/bin/env bash
# Builds the Calcinosis LS VS Code extension into editors/vscode/calcinosis-ls.vsix.
#
#   bash editors/vscode/build.sh        (from anywhere)
#
# Then smoke-tests the packaged bundle (test/smoke.test.js).
#
# Needs node >= 20, npm, and unzip or python3; downloads only from the npm registry (npm ci from
# the committed package-lock.json). Install scripts are skipped: esbuild finds
# its platform binary through its @esbuild/* optional dependency, and vsce's
# signing tool (whose install script may download) is not needed to package.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

VSIX=calcinosis-ls.vsix
start=$(date +%s)

echo "==> node $(node --version), npm $(npm --version)"

echo "==> npm ci"
npm ci --ignore-scripts --no-audit --no-fund

echo "==> npm run compile (type check)"
npm run compile

echo "==> npm run package"
rm -f "$VSIX"
npm run package

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
for entry in extension/package.json extension/out/extension.js extension/language-configuration.json \
             extension/readme.md extension/LICENSE.txt; do
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
trap 'rm -rf "$bundle_dir"' EXIT
if command -v unzip >/dev/null 2>&1; then
  unzip -q "$VSIX" extension/out/extension.js -d "$bundle_dir"
else
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("extension/out/extension.js", sys.argv[2])' \
    "$VSIX" "$bundle_dir"
fi
EXTENSION_JS="$bundle_dir/extension/out/extension.js" npm test

echo "==> OK: $(pwd)/$VSIX ($(wc -c <"$VSIX") bytes) in $(( $(date +%s) - start ))s"
