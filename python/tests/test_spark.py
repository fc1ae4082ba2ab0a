"""The package inside PySpark (local mode): the example job, and the CLI as an RDD.pipe
filter. Skipped when PySpark or Java is missing, unless CALCINOSIS_REQUIRE_SPARK=1 (CI)."""

import json
import os
import sys
from pathlib import Path

import pytest

import calcinosis_ls

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spark"

from spark_env import MISSING, REQUIRED  # noqa: E402

if MISSING is None:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")

NOTES = [
    "HPI: 52F with limited cutaneous systemic sclerosis.\nDenies Raynaud's. Sclerodactyly noted.",
    "No calcinosis. Mother with scleroderma.",
    "",
    "Reports dysphagia \U0001F600 and telangectasia.",
    "Vital signs stable.",
] * 8


@pytest.fixture(scope="module")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    s = (
        SparkSession.builder.master("local[2]")
        .appName("calcinosis-ls test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def expected_rows():
    rows = []
    for i, text in enumerate(NOTES):
        for f in calcinosis_ls.analyze(text):
            rows.append((f"n{i}", f["start"], f["term"], f["assertion"], f["crest"]))
    return sorted(rows, key=lambda r: (r[0], r[1]))


def test_map_in_pandas_gives_one_row_per_finding(spark):
    sys.path.insert(0, str(EXAMPLE))
    try:
        from crest_findings import crest_findings
    finally:
        sys.path.remove(str(EXAMPLE))
    # Executors import the module by name, as with `--py-files` on a cluster.
    spark.sparkContext.addPyFile(str(EXAMPLE / "crest_findings.py"))
    notes = spark.createDataFrame(
        [(f"n{i}", t) for i, t in enumerate(NOTES)], "note_id string, text string"
    ).repartition(3)
    got = crest_findings(notes).collect()
    rows = sorted(
        ((r.note_id, r.start, r.term, r.assertion, r.crest) for r in got),
        key=lambda r: (r[0], r[1]),
    )
    assert rows == expected_rows()
    assert len(rows) > 40
    by_note = {r.note_id: r for r in got if r.text == "Raynaud's"}
    assert by_note["n0"].assertion == "negated" and by_note["n0"].trigger == "Denies"


def test_check_jsonl_as_an_rdd_pipe_filter(spark):
    # The CLI's findings through RDD.pipe equal the package's, note for note. The binary is
    # named by its absolute path here; the README's recipe, which a user runs with the binary
    # on PATH only, is run as written by test_readme.py.
    binary = os.environ.get("CALCINOSIS_LS_BIN")
    if not binary:
        if REQUIRED:
            pytest.fail("CALCINOSIS_REQUIRE_SPARK=1 needs CALCINOSIS_LS_BIN (the built CLI)")
        pytest.skip("CALCINOSIS_LS_BIN is not set")
    records = [json.dumps({"note_id": f"n{i}", "text": t}) for i, t in enumerate(NOTES)]
    out = (
        spark.sparkContext.parallelize(records, 3)
        .pipe(f"{binary} check --format jsonl --input jsonl --id-field note_id --jobs 1")
        .map(json.loads)
        .collect()
    )
    assert [o["note_id"] for o in out] == [f"n{i}" for i in range(len(NOTES))]
    rows = sorted(
        (
            (o["note_id"], f["term"], f["assertion"], f["crest"])
            for o in out
            for f in o["findings"]
        ),
    )
    want = sorted((r[0], r[2], r[3], r[4]) for r in expected_rows())
    assert rows == want
