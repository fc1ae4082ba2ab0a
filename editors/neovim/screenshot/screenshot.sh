#!/usr/bin/env bash
# Renders editors/neovim-screenshot.png: Neovim (>= 0.11) in tmux with calcinosis-ls
# attached to a sample note, diagnostics as virtual text and a hover on "RP".
# Needs tmux, python3 with Pillow (pip install pillow) and DejaVu Sans Mono (fonts-dejavu-core).
#   CALCINOSIS_LS=target/debug/calcinosis-ls editors/neovim/screenshot/screenshot.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
export CALCINOSIS_LS_REPO=$repo
export CALCINOSIS_LS=$(realpath "${CALCINOSIS_LS:-$(command -v calcinosis-ls)}")
nvim=${NVIM_BIN:-nvim}
tmp=$(mktemp -d)
trap 'tmux -L calcinosis-shot kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT
export SCREENSHOT_READY=$tmp/ready
cat > "$tmp/visit.txt" <<'NOTE'
Rheumatology follow-up

HPI: 54-year-old woman with lcSSc, seen for skin and GI review.
She denies Raynaud's phenomenon but reports sclerodactyly.
Telangectasias on the lips.
Esophageal dysmotility: present.
Calcinosis cutis over the fingertips, no ulceration.

Family History: mother has RP.
NOTE
cd "$repo"
tmux -L calcinosis-shot -f /dev/null new-session -d -x 120 -y 34 \
  "cd $tmp && env COLORTERM=truecolor XDG_STATE_HOME=$tmp/state $nvim --clean -u $here/init.lua visit.txt"
for _ in $(seq 1 100); do
  [ -e "$SCREENSHOT_READY" ] && break
  sleep 0.2
done
[ -e "$SCREENSHOT_READY" ] || { echo "Neovim did not show the hover within 20 s" >&2; exit 1; }
tmux -L calcinosis-shot capture-pane -e -p > "$tmp/screen.ansi"
cp "$tmp/screen.ansi" "${SCREENSHOT_ANSI:-/dev/null}"
python3 "$here/ansi2png.py" "$tmp/screen.ansi" "$repo/editors/neovim-screenshot.png"
