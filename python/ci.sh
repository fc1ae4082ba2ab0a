#!/usr/bin/env bash
# The Python package in CI, as README.md's "Python" section has a user do it: a fresh venv,
# maturin and ziglang from PyPI, the abi3 manylinux2014 wheel (glibc 2.17+, linked by Zig)
# built and pip-installed with its `spark` extra (PySpark, pandas<3, pyarrow), then pytest:
# the package tests, the wheel's tag and glibc symbols, the README's Python and Spark blocks
# and the Spark tests, which must run (CALCINOSIS_REQUIRE_SPARK=1 turns a missing Java or
# PySpark into a failure, not a skip). Java comes from Debian's packages when missing.
# Issue 22's interop tests run here too, required (CI=true makes a missing tool a failure):
# the ICD-10-CM codes against simple-icd-10-cm's table, every FHIR resource of 1,200
# generated notes through fhir.resources' R4B models, `check --format omop` loaded into a
# throwaway PostgreSQL (Debian's package, installed when missing) with the CDM v5.4 DDL,
# and the spaCy component (the wheel's `spacy` extra) in real pipelines. Added time here:
# ~25 s of pip installs with a warm pip cache, ~30 s of tests (test_fhir ~10 s,
# test_codes ~7 s, test_omop_postgres ~8 s, test_spacy ~5 s), plus PostgreSQL's apt install
# on a machine without it.
# Usage: bash python/ci.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root="$(cd .. && pwd)"
venv="${CALCINOSIS_VENV:-$root/target/python-ci-venv}"

if ! command -v java >/dev/null 2>&1; then
  echo "installing a Java runtime for PySpark (Debian package)"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends default-jre-headless >/dev/null
fi
java -version 2>&1 | head -1
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing PostgreSQL for the OMOP test (Debian package)"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "maturin>=1.5,<2" ziglang pytest
# The registry's ICD-10-CM table and the FHIR validator (test-only: not the wheel's).
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "simple-icd-10-cm>=1.5,<2" "fhir.resources>=8,<9"

# The CLI for the RDD.pipe test (the same debug build `cargo test` uses), wherever Cargo's
# target directory is (CARGO_TARGET_DIR may move it).
(cd "$root" && cargo build --quiet --bin calcinosis-ls)
CALCINOSIS_LS_BIN="$(bash "$root/python/cli-path.sh")"
export CALCINOSIS_LS_BIN
[ -x "$CALCINOSIS_LS_BIN" ] || { echo "error: no CLI at $CALCINOSIS_LS_BIN" >&2; exit 1; }

rm -rf "$root/target/wheels"
# CALCINOSIS_WHEEL_PROFILE=dev builds an unoptimised wheel, faster on a cold machine.
# --zig links against glibc 2.17 whatever the build machine's glibc (manylinux2014);
# without it the wheel was manylinux_2_34 and would not install on RHEL 8 or Amazon Linux 2.
# maturin runs Zig as `python3 -m ziglang`; CARGO_ZIGBUILD_PYTHON_PATH names the venv's
# Python, which has ziglang (`python3` from PATH is not the venv's: it is not activated).
CARGO_ZIGBUILD_PYTHON_PATH="$venv/bin/python" "$venv/bin/maturin" build --profile "${CALCINOSIS_WHEEL_PROFILE:-release}" --quiet \
  --zig --compatibility manylinux2014 --out "$root/target/wheels"
wheel="$(ls "$root"/target/wheels/calcinosis_ls-*-abi3-*.whl)"
echo "built $(basename "$wheel")"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
# The extras' packages, as the README's `pip install "…whl[spark]"` and `[spacy]` install them.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel[spark,spacy]"

export CALCINOSIS_REQUIRE_SPARK=1 CALCINOSIS_REQUIRE_MANYLINUX=1
set +e
# Run from outside the source tree so that the installed wheel, not ./calcinosis_ls, is tested.
(cd "$root/target" && "$venv/bin/python" -m pytest -q -p no:cacheprovider "$root/python/tests")
status=$?
set -e
case $status in
  0) echo "python tests passed" ;;
  5) echo "error: pytest collected no tests" >&2; exit 1 ;;
  *) exit "$status" ;;
esac
