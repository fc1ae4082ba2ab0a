"""The installed wheel is the one a cluster can install: abi3, tagged manylinux2014
(``manylinux_2_17``), and its extension needs no glibc symbol newer than 2.17 (RHEL 7 and 8,
Amazon Linux 2: glibc 2.17 to 2.28). The wheel used to be tagged manylinux_2_34.

Run against the wheel python/ci.sh builds; CALCINOSIS_REQUIRE_MANYLINUX=1 (CI) turns a
missing ``objdump`` or a wheel not installed from a file into a failure, not a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

import calcinosis_ls._calcinosis_ls as extension

REQUIRED = os.environ.get("CALCINOSIS_REQUIRE_MANYLINUX") == "1"
#: The newest glibc a manylinux2014 wheel may use.
MAX_GLIBC = (2, 17)


def need(ok: bool, why: str) -> None:
    if not ok:
        if REQUIRED:
            pytest.fail(f"CALCINOSIS_REQUIRE_MANYLINUX=1 but {why}")
        pytest.skip(why)


def glibc_versions(path: str) -> set[tuple[int, ...]]:
    """The GLIBC_x.y[.z] symbol versions an ELF file asks of the C library (``objdump -T``:
    the dynamic symbol table, where each imported symbol names its version)."""
    out = subprocess.run(
        ["objdump", "-T", path], capture_output=True, text=True, check=True
    ).stdout
    return {
        tuple(int(n) for n in m.group(1).split("."))
        for m in re.finditer(r"\bGLIBC_(\d+(?:\.\d+)+)\b", out)
    }


def wheel_tags() -> list[str]:
    text = metadata.distribution("calcinosis-ls").read_text("WHEEL") or ""
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]


def test_the_wheel_is_tagged_abi3_manylinux2014():
    tags = wheel_tags()
    need(bool(tags), "calcinosis-ls was not installed from a wheel")
    platforms = set()
    for tag in tags:
        python, abi, platform = tag.split("-")
        assert (python, abi) == ("cp39", "abi3"), tags
        platforms.update(platform.split("."))
    # manylinux2014 is the old name of manylinux_2_17; maturin writes both.
    assert platforms <= {"manylinux_2_17_x86_64", "manylinux2014_x86_64"}, tags
    assert "manylinux_2_17_x86_64" in platforms, tags


def test_the_extension_needs_glibc_2_17_at_most():
    need(shutil.which("objdump") is not None, "objdump (binutils) is not installed")
    so = extension.__file__
    assert so and Path(so).suffix == ".so", so
    versions = glibc_versions(so)
    assert versions, f"{so} names no GLIBC symbol version: is it dynamically linked?"
    newer = sorted(v for v in versions if v > MAX_GLIBC)
    assert not newer, "needs " + ", ".join("GLIBC_" + ".".join(map(str, v)) for v in newer)


def test_the_symbol_check_reads_versions_newer_than_2_17_where_there_are():
    """The check itself can fail: a program linked on this machine (glibc 2.18 or newer)
    shows the machine's newer versions."""
    need(shutil.which("objdump") is not None, "objdump (binutils) is not installed")
    libc_version = tuple(int(n) for n in os.confstr("CS_GNU_LIBC_VERSION").split()[1].split("."))
    if libc_version <= MAX_GLIBC:
        pytest.skip(f"this machine's glibc is {libc_version}")
    host = shutil.which("ls")
    assert host
    assert max(glibc_versions(host)) > MAX_GLIBC
