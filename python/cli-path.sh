#!/usr/bin/env bash
# Prints where `cargo build --bin calcinosis-ls` puts the debug CLI: in Cargo's target
# directory, which CARGO_TARGET_DIR or a Cargo config file may move away from ./target
# (python/ci.sh used to assume ./target and then failed its Spark pipe test).
# Usage: bash python/cli-path.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"] + "/debug/calcinosis-ls")'
