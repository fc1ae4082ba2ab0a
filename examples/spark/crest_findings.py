"""CREST findings over a table of notes with Apache Spark: one output row per finding.

Every executor runs the calcinosis-ls Python package (an abi3 wheel: one build serves
CPython 3.9 and later) inside ``mapInPandas``; each Arrow batch of notes is analysed in
one call that releases the GIL and uses the executor's cores.

Run locally (``local[*]``), reading JSON Lines ``{"note_id": ..., "text": ...}``, with the
Python that has the package and its ``spark`` extra (a venv's, activated or not)::

    .venv/bin/python examples/spark/crest_findings.py examples/spark/notes.jsonl findings.parquet

or submit the same file to a cluster (see README.md, "Spark").
"""

from __future__ import annotations

import os
import sys
from typing import Iterable, Iterator, Sequence

import pandas as pd

#: The output rows: the note's id, then the fields of ``check --format json`` findings
#: (``start``/``end`` are code point offsets into the note's text).
FINDINGS_SCHEMA = (
    "note_id string, start long, end long, line long, character long, text string, "
    "term string, category string, crest string, assertion string, trigger string, "
    "misspelling boolean"
)

_COLUMNS = [
    "start", "end", "line", "character", "text", "term", "category", "crest",
    "assertion", "trigger", "misspelling",
]
_INTS = {"start", "end", "line", "character"}


def findings_of(
    batches: Iterable[pd.DataFrame],
    id_col: str = "note_id",
    text_col: str = "text",
    terms: Sequence[str] = (),
) -> Iterator[pd.DataFrame]:
    """The ``mapInPandas`` function: notes in, one row per finding out."""
    import calcinosis_ls  # imported on the executor

    analyzer = calcinosis_ls.Analyzer(terms=list(terms))
    for notes in batches:
        texts = notes[text_col].fillna("").astype(str).tolist()
        # Columns from Arrow buffers: no Python object per finding (pyarrow is there, as
        # Spark needs it for mapInPandas).
        found = analyzer.analyze_arrow(texts).to_pandas()
        ids = notes[id_col].astype(str).to_numpy()
        out = found[_COLUMNS].astype({c: "int64" for c in _INTS})
        out.insert(0, "note_id", pd.Series(ids[found["note"].to_numpy()], dtype=object))
        yield out


def crest_findings(notes, id_col: str = "note_id", text_col: str = "text", terms=()):
    """A DataFrame of findings from a DataFrame of notes (columns ``id_col``, ``text_col``)."""
    return notes.select(id_col, text_col).mapInPandas(
        lambda batches: findings_of(batches, id_col, text_col, terms),
        schema=FINDINGS_SCHEMA,
    )


def workers_run_this_python(environ=os.environ) -> None:
    """Started with ``python crest_findings.py`` (Spark in local mode), make Spark's Python
    workers run this interpreter: by default they run ``python3`` from PATH, which is not a
    venv's unless the venv is activated, and lacks the package. Left alone when the user
    chose (``PYSPARK_PYTHON``) or when ``spark-submit`` started the script
    (``PYSPARK_GATEWAY_PORT``): on a cluster, the executors' Python is the job's choice
    (README.md, "Spark")."""
    if "PYSPARK_PYTHON" not in environ and "PYSPARK_GATEWAY_PORT" not in environ:
        environ["PYSPARK_PYTHON"] = sys.executable


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(f"usage: {argv[0]} NOTES.jsonl|NOTES.parquet OUT.parquet", file=sys.stderr)
        return 2
    workers_run_this_python()
    from pyspark.sql import SparkSession

    source, target = argv[1], argv[2]
    spark = SparkSession.builder.appName("calcinosis-ls CREST findings").getOrCreate()
    reader = spark.read.parquet if source.endswith(".parquet") else spark.read.json
    findings = crest_findings(reader(source))
    findings.write.mode("overwrite").parquet(target)
    # Patients with documented features, per CREST letter: the phenotyping question.
    (
        spark.read.parquet(target)
        .where("crest is not null and assertion in ('present', 'historical')")
        .groupBy("crest")
        .agg({"note_id": "approx_count_distinct"})
        .orderBy("crest")
        .show()
    )
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
