"""The Python package against the engine's documented behaviour."""

import threading
import time

import pytest

import calcinosis_ls
from calcinosis_ls import Analyzer

NOTE = (
    "Family History: mother with SSc.\n\n"
    "She denies Raynaud\u2019s \U0001F600 but reports sclerodactyly.\n"
    "Telangectasia noted. Possible calcinosis cutis.\n"
)


def test_findings_have_the_json_fields_and_python_offsets():
    found = calcinosis_ls.analyze(NOTE)
    by_text = {f["text"]: f for f in found}
    rp = by_text["Raynaud\u2019s"]
    assert rp["term"] == "Raynaud's phenomenon"
    assert rp["crest"] == "R"
    assert rp["category"] == "crest-feature"
    assert rp["assertion"] == "negated"
    assert rp["trigger"] == "denies"
    assert rp["misspelling"] is False
    assert rp["range"] == {
        "start": {"line": 2, "character": 11},
        "end": {"line": 2, "character": 20},
    }
    # Code point offsets: slicing the Python string gives the mention, even after an emoji.
    for f in found:
        assert NOTE[f["start"] : f["end"]] == f["text"]
    s = by_text["sclerodactyly"]
    assert NOTE[s["start"] : s["end"]] == "sclerodactyly"
    assert by_text["SSc"]["assertion"] == "family"
    assert by_text["Telangectasia"]["misspelling"] is True
    assert by_text["calcinosis cutis"]["assertion"] == "possible"


def test_crest_summary_and_ad_hoc_terms():
    assert calcinosis_ls.crest_summary(NOTE) == {
        "present": ["S", "T"],
        "possible": ["C"],
        "negated": ["R"],
    }
    found = calcinosis_ls.analyze("No morphea. Raynaud's present.", terms=["morphea"])
    assert [(f["term"], f["category"], f["assertion"]) for f in found] == [
        ("morphea", "ad-hoc", "negated"),
        ("Raynaud's phenomenon", "crest-feature", "present"),
    ]
    assert calcinosis_ls.analyze("No morphea.") == []


def test_batch_matches_single_calls_in_order():
    notes = [NOTE, "", "Denies dysphagia.", "?calcinosis at the elbow"] * 25
    a = Analyzer()
    batch = a.analyze_batch(notes)
    assert batch == [a.analyze(n) for n in notes]
    assert calcinosis_ls.analyze_batch(notes, jobs=1) == batch
    assert a.crest_summary_batch(notes) == [a.crest_summary(n) for n in notes]
    table = a.analyze_table(notes)
    assert len(table["note"]) == sum(len(f) for f in batch)
    first = [i for i, n in enumerate(table["note"]) if n == 2]
    assert [table["text"][i] for i in first] == ["dysphagia"]
    assert [table["assertion"][i] for i in first] == ["negated"]
    assert table["note"] == sorted(table["note"])


def test_batch_releases_the_gil():
    notes = [NOTE * 40] * 400
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    t.start()
    time.sleep(0.05)
    start = time.monotonic()
    calcinosis_ls.analyze_batch(notes)
    end = time.monotonic()
    stop.set()
    t.join()
    # Holding the GIL, the other thread would get at most a tick or two in per switch
    # interval at the call's edges; released, it ticks all along.
    during = [x for x in ticks if start < x < end]
    assert end - start > 0.05, "make the batch bigger: it ended too soon to tell"
    assert len(during) > 20, (len(during), end - start)


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        calcinosis_ls.analyze_batch(["x"], jobs=0)
    with pytest.raises(TypeError):
        calcinosis_ls.analyze_batch(["x", 3])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        calcinosis_ls.analyze(None)  # type: ignore[arg-type]


def test_ask_cites_source_statements():
    rows = calcinosis_ls.ask("anticentromere", limit=3)
    assert 1 <= len(rows) <= 3
    assert rows[0]["text"] == "Positive anticentromere antibody"
    assert rows[0]["section"].endswith("Systemic Sclerosis")
    assert set(rows[0]) == {
        "id", "section", "text", "citations", "file", "line", "score", "answered",
        "confidence", "sources", "lead_in", "answer", "corrections", "not_understood",
    }
    assert rows[0]["answered"] is True
    assert rows[0]["sources"] == ["source 2 of the seed document"]
    assert "anticentromere" in rows[0]["answer"]
    assert calcinosis_ls.ask("zzzz qqqq") == []


def test_ask_says_when_the_sources_do_not_cover_it():
    rows = calcinosis_ls.ask("does calcinosis occur in lupus?")
    assert rows, "the nearest statements are returned"
    assert all(r["answered"] is False for r in rows)
    assert rows[0]["answer"].startswith("The sources do not cover lupus.")
    assert rows[0]["confidence"] == 0.0


def test_ask_limit_is_checked_like_the_command_line():
    for bad in (0, -1, 101):
        with pytest.raises(ValueError):
            calcinosis_ls.ask("calcinosis", limit=bad)


def test_analyzer_is_reusable_and_typed():
    a = Analyzer(terms=["morphea"])
    assert a.terms == ["morphea"]
    assert "morphea" in repr(a)
    assert a.analyze("morphea")[0]["term"] == "morphea"
    assert isinstance(calcinosis_ls.__version__, str)


def test_arrow_batch_has_the_table_columns_built_without_python_rows():
    pa = pytest.importorskip("pyarrow")
    notes = [NOTE, "", "Denies dysphagia.", "?calcinosis at the elbow", "No findings."] * 20
    a = Analyzer()
    batch = a.analyze_arrow(notes, jobs=2)
    assert isinstance(batch, pa.RecordBatch)
    batch.validate(full=True)
    # The same columns and values as the dict of lists, in the same order.
    assert batch.to_pydict() == a.analyze_table(notes)
    assert batch.schema.field("start").type == pa.int64()
    assert batch.schema.field("trigger").nullable
    assert batch.column("trigger").null_count > 0
    assert batch.column("misspelling").type == pa.bool_()
    # Offsets are code points: the mention is the note's text there.
    for i in range(batch.num_rows):
        n, s, e = (batch.column(c)[i].as_py() for c in ("note", "start", "end"))
        assert notes[n][s:e] == batch.column("text")[i].as_py()
    empty = a.analyze_arrow([])
    assert empty.num_rows == 0 and empty.schema == batch.schema


def test_arrow_batch_without_pyarrow_says_what_to_do(monkeypatch):
    import sys

    # pyarrow is optional: as if it were not installed.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match="pip install pyarrow"):
        Analyzer().analyze_arrow(["Denies Raynaud's."])
    # The dict of lists needs nothing.
    assert Analyzer().analyze_table(["Denies Raynaud's."])["text"] == ["Raynaud's"]


def test_the_spark_helper_turns_arrow_columns_into_its_rows():
    # The mapInPandas function alone (no Spark needed): one row per finding, the schema's
    # columns and types, each row's note id from its input row.
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "spark" / "crest_findings.py"
    spec = importlib.util.spec_from_file_location("crest_findings_helper", path)
    helper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helper)
    texts = [NOTE, None, "Denies dysphagia.", "No findings."]
    notes = pd.DataFrame({"note_id": ["a", "b", "c", "d"], "text": texts})
    (out,) = list(helper.findings_of([notes]))
    table = Analyzer().analyze_table([t or "" for t in texts])
    names = [f.split()[0] for f in helper.FINDINGS_SCHEMA.split(", ")]
    assert list(out.columns) == names
    assert len(out) == len(table["note"])
    assert list(out["note_id"]) == ["abcd"[n] for n in table["note"]]
    for c in names[1:]:
        assert list(out[c]) == table[c], c
    assert all(str(out[c].dtype) == "int64" for c in ("start", "end", "line", "character"))


def test_arrow_batch_of_many_runs_keeps_input_order():
    # More notes than one run handed to the pool (512): the runs finish in any order and
    # are put back in input order, their text offsets moved past the earlier runs'.
    pytest.importorskip("pyarrow")
    notes = [f"Note {i}: " + ("Denies RP. " * (i % 5)) + "Possible calcinosis." for i in range(1500)]
    notes[700] = NOTE
    a = Analyzer()
    for jobs in (1, 2, 3):
        assert a.analyze_arrow(notes, jobs=jobs).to_pydict() == a.analyze_table(notes)
    # Any iterable of str; one str, or an item that is not one, is refused.
    assert a.analyze_arrow(iter(notes[:3])).to_pydict() == a.analyze_table(notes[:3])
    with pytest.raises(TypeError, match="not one str"):
        a.analyze_arrow("Denies RP.")
    with pytest.raises(TypeError):
        a.analyze_arrow(["Denies RP.", 5])
