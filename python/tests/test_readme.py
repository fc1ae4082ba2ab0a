"""The README's Python and Spark sections, run as a user runs them.

Every ``python`` code block of README.md's "Python" and "Spark" sections is taken from the
README itself (never a copy) and run by the venv's Python named by its absolute path, with
a PATH that holds no venv (the venv is not activated) and no PYSPARK_PYTHON, from a folder
laid out like the clone. The one thing the test provides is what step 1 of the README has
the user do: ``calcinosis-ls`` on PATH (the directory of the built CLI, as ~/.cargo/bin is).

A block preceded by ``<!-- continues the block above -->`` runs after the block before it,
in the same process; one preceded by ``<!-- needs a cluster … -->`` is skipped (the only
kind of block that may be). A line ``EXPR  # LITERAL`` whose comment is a Python literal is
an output example: the test asserts that EXPR equals it.

Skipped when PySpark or Java is missing, unless CALCINOSIS_REQUIRE_SPARK=1 (CI).
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
from spark_env import MISSING, REQUIRED  # noqa: E402

# Spark's start-up is slow on a loaded 2-core machine; this only stops a hung run.
TIMEOUT_S = 900

CONTINUES = "<!-- continues the block above -->"
NEEDS_CLUSTER = "<!-- needs a cluster"


@dataclass
class Block:
    section: str
    line: int
    lang: str
    code: str
    continues: bool
    needs_cluster: bool


def section(text: str, heading: str) -> tuple[int, str]:
    """The body of the ``## heading`` section and its first line number (1-based)."""
    m = re.search(rf"^## {re.escape(heading)}\n", text, re.M)
    assert m, f"README.md has no '## {heading}' section"
    end = re.search(r"^## ", text[m.end():], re.M)
    body = text[m.end(): m.end() + end.start()] if end else text[m.end():]
    return text[: m.end()].count("\n") + 1, body


def blocks(text: str, heading: str) -> list[Block]:
    """The fenced code blocks of a section, each with the markers just before it."""
    first, body = section(text, heading)
    found = []
    lines = body.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start = i
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        before = [ln for ln in lines[:start] if ln.strip()]
        marker = before[-1].strip() if before else ""
        found.append(
            Block(
                section=heading,
                line=first + start + 1,
                lang=m.group(1),
                code="\n".join(lines[start + 1: j]) + "\n",
                continues=marker == CONTINUES,
                needs_cluster=marker.startswith(NEEDS_CLUSTER),
            )
        )
        i = j + 1
    return found


def python_programs(text: str) -> list[tuple[str, str]]:
    """Each runnable program of the Python and Spark sections, as (name, source): a block,
    joined to the blocks it continues."""
    programs: list[tuple[str, str]] = []
    for heading in ("Python", "Spark"):
        for b in blocks(text, heading):
            if b.lang != "python":
                continue
            assert not b.needs_cluster, f"README.md:{b.line}: a Python block marked as needing a cluster"
            name = f"README.md:{b.line} ({heading})"
            if b.continues:
                assert programs, f"{name} continues no block"
                prev_name, prev = programs.pop()
                programs.append((f"{prev_name} + {b.line}", prev + b.code))
            else:
                programs.append((name, b.code))
    return programs


OUTPUT = re.compile(r"^(?P<expr>[^#\s][^#]*?)\s+#\s*(?P<out>.+)$")


def with_output_checks(code: str) -> str:
    """``EXPR  # LITERAL`` lines become assertions that EXPR == LITERAL; a string literal
    ending in "…" is the start of the value. A literal with ``...`` in it is an outline,
    not checked."""
    out = []
    for line in code.split("\n"):
        m = OUTPUT.match(line)
        check = None
        if m:
            try:
                ast.parse(m["expr"], mode="eval")
                want = ast.literal_eval(m["out"])
            except (SyntaxError, ValueError):
                want = None
            else:
                expr = m["expr"]
                shown = f"{expr!r} + ' is ' + repr({expr})"
                if isinstance(want, str) and want.endswith("…"):
                    check = f"assert ({expr}).startswith({want[:-1]!r}), {shown}"
                elif "..." not in m["out"]:
                    check = f"assert ({expr}) == ({m['out']}), {shown}"
        out.append(check or line)
    return "\n".join(out)


def cli_dir() -> str:
    binary = os.environ.get("CALCINOSIS_LS_BIN")
    if not binary:
        if REQUIRED:
            pytest.fail("CALCINOSIS_REQUIRE_SPARK=1 needs CALCINOSIS_LS_BIN (the built CLI)")
        pytest.skip("CALCINOSIS_LS_BIN is not set")
    path = Path(binary)
    assert path.name == "calcinosis-ls" and path.is_file(), binary
    return str(path.parent)


def user_env() -> dict[str, str]:
    """A user's environment: the CLI on PATH (README step 1), the system's directories, and
    neither the venv's bin directory nor PYSPARK_PYTHON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYSPARK_", "VIRTUAL_ENV"))}
    venv_bin = str(Path(sys.executable).parent)
    system = [p for p in ("/usr/local/bin", "/usr/bin", "/bin") if p != venv_bin]
    env["PATH"] = os.pathsep.join([cli_dir(), *system])
    assert shutil.which("python3", path=env["PATH"]) != sys.executable
    return env


def clone_like(tmp_path: Path) -> Path:
    """A working folder laid out like the clone (``examples/`` as in the repository), so
    that files the blocks write (``my-corpus/``) stay out of the repository."""
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    return tmp_path


def run(code: str, cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *(["-c", code] if code else []), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def test_the_readme_has_the_blocks_this_test_runs():
    text = README.read_text(encoding="utf-8")
    programs = python_programs(text)
    names = " ".join(code for _, code in programs)
    # The package, the Spark job and the RDD.pipe filter are all among them.
    assert "calcinosis_ls.ask(" in names and "corpus=" in names
    assert "crest_findings" in names and ".pipe(" in names
    # Output examples are checked, not only run.
    assert sum(with_output_checks(c).count("assert (") for _, c in programs) >= 5
    # Only blocks that need a cluster are left out, and they say so.
    skipped = [b for h in ("Python", "Spark") for b in blocks(text, h) if b.needs_cluster]
    assert all("spark-submit" in b.code for b in skipped), skipped


PROGRAMS = python_programs(README.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name,code", PROGRAMS, ids=[n for n, _ in PROGRAMS])
def test_readme_python_block_runs_as_written(name, code, tmp_path):
    if MISSING and ("pyspark" in code):
        pytest.skip(MISSING)
    cwd = clone_like(tmp_path)
    r = run(with_output_checks(code), cwd, user_env())
    assert r.returncode == 0, f"{name} failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    if ".pipe(" in code:
        # The CLI really ran on the executors: its JSON Lines came back.
        assert "'note_id': 'n1'" in r.stdout and "'findings': [" in r.stdout, r.stdout


def example_job_command() -> list[str]:
    """The README's command that runs the example job, as a user types it."""
    text = README.read_text(encoding="utf-8")
    for b in blocks(text, "Spark"):
        for line in b.code.splitlines():
            if line.startswith(".venv/bin/python examples/spark/crest_findings.py "):
                return shlex.split(line)
    raise AssertionError("the README's Spark section does not run examples/spark/crest_findings.py")


@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_the_example_job_runs_with_the_venv_python_not_activated(tmp_path):
    """The README's ``.venv/bin/python examples/spark/crest_findings.py …`` with the venv
    not activated (this venv's Python stands for ``.venv/bin/python``): local Spark's
    workers must run the same interpreter, not ``python3`` from PATH."""
    import json

    import pandas

    import calcinosis_ls

    command = example_job_command()
    cwd = clone_like(tmp_path)
    r = subprocess.run(
        [sys.executable, *command[1:]], cwd=cwd, env=user_env(),
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    assert r.returncode == 0, f"{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    rows = pandas.read_parquet(cwd / command[-1])
    want = []
    for line in (ROOT / command[-2]).read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        want += [(rec["note_id"], f["start"], f["term"], f["assertion"])
                 for f in calcinosis_ls.analyze(rec["text"])]
    got = sorted(zip(rows.note_id, rows.start, rows.term, rows.assertion))
    assert got == sorted(want) and len(got) >= 8
    # The per-letter summary it prints: calcinosis documented in one note (n1).
    assert re.search(r"\|\s*C\s*\|\s*1\s*\|", r.stdout), r.stdout
