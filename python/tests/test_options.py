"""Python takes the command line's options, with the command line's errors: ``corpus``
(``--corpus DIR``: directories extending the built-in corpus), ``limit`` (``ask --limit``,
1 to 100) and ``jobs`` (``check --jobs``, at least 1, at most 256). Bad values raise
ValueError or OSError with the CLI's message, never a bare OverflowError, and never quote
note text.

The CLI comparisons run when CALCINOSIS_LS_BIN names the built CLI (python/ci.sh sets it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import calcinosis_ls
from calcinosis_ls import Analyzer

CLI = os.environ.get("CALCINOSIS_LS_BIN")
NOTE = "Confidential: Zyxwv Qrstu, MRN 0042. No morphea. Calcinosis of the elbows."
HUGE = (2**63, 10**30)


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    if not CLI:
        pytest.skip("CALCINOSIS_LS_BIN is not set")
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, timeout=120)


@pytest.fixture()
def extra(tmp_path: Path) -> Path:
    """A corpus directory with a statement and a lexicon term of its own."""
    d = tmp_path / "extra-corpus"
    d.mkdir()
    (d / "clinic.md").write_text(
        "# Clinic protocols\n\n- Calcinosis of the elbows is imaged with plain radiographs [1]\n",
        encoding="utf-8",
    )
    (d / "lexicon.toml").write_text(
        '[[term]]\nname = "morphea"\ncategory = "disease"\nsynonyms = []\n'
        'abbreviations = []\ndescription = "Localised scleroderma."\n',
        encoding="utf-8",
    )
    return d


def test_ask_with_a_corpus_finds_its_statements(extra: Path):
    question = "how is calcinosis of the elbows imaged?"
    assert all("radiographs" not in r["text"] for r in calcinosis_ls.ask(question))
    for corpus in (extra, str(extra), [extra], (str(extra),)):
        rows = calcinosis_ls.ask(question, corpus=corpus)
        assert rows[0]["text"] == "Calcinosis of the elbows is imaged with plain radiographs"
        assert rows[0]["file"] == str(extra / "clinic.md")
    # The CLI, given the same directory, answers with the same statement first.
    r = cli("--corpus", str(extra), "ask", "--format", "json", question)
    if r.returncode == 0:
        first = json.loads(r.stdout)
        first = first[0] if isinstance(first, list) else first
        assert "radiographs" in json.dumps(first)


def test_the_analyzer_uses_the_corpus_lexicon(extra: Path):
    assert all(f["term"] != "morphea" for f in Analyzer().analyze(NOTE))
    a = Analyzer(corpus=extra)
    found = {f["term"]: f for f in a.analyze(NOTE)}
    assert found["morphea"]["category"] == "disease"
    assert found["morphea"]["assertion"] == "negated"
    assert [Path(p) for p in a.corpus] == [extra]
    assert str(extra) in repr(a)
    by_function = calcinosis_ls.analyze(NOTE, corpus=extra)
    assert by_function == a.analyze(NOTE)
    assert calcinosis_ls.analyze_batch([NOTE], corpus=extra) == [a.analyze(NOTE)]
    assert calcinosis_ls.crest_summary(NOTE, corpus=extra) == a.crest_summary(NOTE)
    # The CLI's check, with the same corpus, finds the same terms at the same places.
    r = cli("--corpus", str(extra), "check", "--format", "json", "-", stdin=NOTE)
    if r.returncode in (0, 1):
        reported = json.loads(r.stdout)
        reported = reported[0] if isinstance(reported, list) else reported
        assert sorted((f["term"], f["assertion"]) for f in reported["findings"]) == sorted(
            (f["term"], f["assertion"]) for f in a.analyze(NOTE)
        )


def cli_corpus_error(path: Path) -> str | None:
    """The CLI's message for ``--corpus PATH`` (without its ``calcinosis-ls: `` prefix)."""
    if not CLI:
        return None
    r = cli("--corpus", str(path), "ask", "calcinosis")
    assert r.returncode != 0
    return r.stderr.strip().removeprefix("calcinosis-ls: ")


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_bad_corpus_raises_the_cli_error(tmp_path: Path, kind: str):
    path = tmp_path / "nowhere"
    expected = FileNotFoundError
    if kind == "file":
        path.write_text("not a directory\n", encoding="utf-8")
        expected = NotADirectoryError
    want = cli_corpus_error(path)
    calls = [
        lambda: calcinosis_ls.ask("calcinosis", corpus=path),
        lambda: Analyzer(corpus=path),
        lambda: calcinosis_ls.analyze(NOTE, corpus=path),
        lambda: calcinosis_ls.analyze_batch([NOTE], corpus=[path]),
        lambda: calcinosis_ls.crest_summary(NOTE, corpus=str(path)),
    ]
    for call in calls:
        with pytest.raises(expected) as e:
            call()
        assert isinstance(e.value, OSError)
        message = str(e.value)
        assert f"cannot load the corpus: {path}: " in message, message
        if want is not None:
            assert want in message, (want, message)
        assert "Zyxwv" not in message and "morphea" not in message


def test_a_mistake_in_a_corpus_file_is_a_value_error_naming_file_and_line(tmp_path: Path):
    d = tmp_path / "broken"
    d.mkdir()
    (d / "lexicon.toml").write_text(
        '[[term]]\nname = "Raynaud"\ncategory = "crest-feature"\nsynonyms = []\n'
        'abbreviations = []\ndescription = "x"\n[[term]]\nname = "Raynaud"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as e:
        Analyzer(corpus=d)
    assert str(e.value).startswith(f"cannot load the corpus: {d / 'lexicon.toml'}:"), e.value
    want = cli_corpus_error(d)
    if want is not None:
        assert str(e.value) == want


def test_corpus_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError):
        calcinosis_ls.ask("calcinosis", corpus=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1, 101, *HUGE, -(10**30)])
def test_ask_limit_out_of_range_is_a_value_error_like_the_cli(bad: int):
    with pytest.raises(ValueError) as e:
        calcinosis_ls.ask("calcinosis", limit=bad)
    assert str(e.value) == f"limit must be between 1 and 100, got {bad}"
    # The CLI refuses the same values (clap: "0 is not in 1..=100", "number too large").
    r = cli("ask", f"--limit={bad}", "calcinosis")
    assert r.returncode == 2 and "--limit" in r.stderr, r.stderr


def test_ask_limit_bounds_are_inclusive():
    assert 1 == len(calcinosis_ls.ask("calcinosis", limit=1))
    assert 5 < len(calcinosis_ls.ask("calcinosis", limit=100)) <= 100


@pytest.mark.parametrize("bad", [0, -1, -(10**30)])
def test_jobs_below_one_is_a_value_error(bad: int):
    with pytest.raises(ValueError) as e:
        calcinosis_ls.analyze_batch([NOTE], jobs=bad)
    assert str(e.value) == f"jobs must be at least 1, got {bad}"
    with pytest.raises(ValueError):
        Analyzer().analyze_table([NOTE], jobs=bad)


#: The peak memory a batch with capped jobs may reach: 256 threads' stacks are touched only
#: as far as they run (measured: 26 MB). Uncapped, jobs=100000 had started 1,637 threads and
#: held 262 MB after 20 s, still starting more (BENCHMARKS.md, "Python and Spark journeys").
MAX_HWM_KB = 150_000
#: Liveness only: the capped batch takes about 0.1 s.
LIVENESS_S = 60

JOBS_CHILD = """
import sys, calcinosis_ls
note = sys.stdin.read()
got = calcinosis_ls.analyze_batch([note] * 3, jobs=int(sys.argv[1]))
assert got == [calcinosis_ls.analyze(note)] * 3
status = dict(l.split(":", 1) for l in open("/proc/self/status"))
print(int(status["VmHWM"].split()[0]))
"""


@pytest.mark.parametrize("many", [256, 257, 100_000, *HUGE])
def test_jobs_above_the_cap_runs_on_the_cap_as_the_cli_does(many: int):
    # check --jobs 100000 runs on MAX_JOBS (256) threads; so does Python, instead of
    # starting 100,000 threads (or 2**63, or overflowing). Run in a child process so that a
    # regression is stopped by the liveness timeout and its peak memory can be read.
    r = subprocess.run(
        [sys.executable, "-c", JOBS_CHILD, str(many)],
        input=NOTE, capture_output=True, text=True, timeout=LIVENESS_S,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert int(r.stdout) < MAX_HWM_KB, f"peak RSS {r.stdout.strip()} kB"


def test_an_int_too_long_to_print_is_still_named_and_refused():
    # Python will not write an int of more than 4,300 digits (sys.int_info); the message
    # must still come, as a ValueError about the option, not about printing the number.
    giant = 10**5000
    with pytest.raises(ValueError) as e:
        calcinosis_ls.ask("calcinosis", limit=giant)
    assert str(e.value).startswith("limit must be between 1 and 100, got "), e.value
    assert len(str(e.value)) < 200
    with pytest.raises(ValueError) as e:
        calcinosis_ls.analyze_batch([NOTE], jobs=-giant)
    assert str(e.value).startswith("jobs must be at least 1, got "), e.value
    assert calcinosis_ls.analyze_batch([NOTE], jobs=giant) == [calcinosis_ls.analyze(NOTE)]


PATTERNS = Path(__file__).resolve().parents[2] / "tests" / "data" / "patterns"


def test_a_pattern_value_is_in_dicts_tables_and_arrow_alike():
    """A lexicon ``pattern``'s ``value`` group (corpus/README.md, "Patterns") is in the
    finding dicts, the dict of lists and the Arrow batch, as in ``check --format json``."""
    note = "Anti-centromere 1:640. No calcinosis."
    a = Analyzer(corpus=PATTERNS)
    found = a.analyze(note)
    titres = [f for f in found if f["term"] == "anti-centromere antibody result"]
    assert [f["value"] for f in titres] == ["1:640"]
    assert all("value" not in f for f in found if f not in titres)
    table = a.analyze_table([note])
    assert table["value"] == [f.get("value") for f in found]
    pa = pytest.importorskip("pyarrow")
    batch = a.analyze_arrow([note])
    assert isinstance(batch, pa.RecordBatch)
    assert batch.column("value").to_pylist() == table["value"]
