"""``check --format omop`` loaded into a real PostgreSQL, with ``NOTE_NLP`` created by the
OMOP CDM v5.4 DDL (its PostgreSQL types, NOT NULLs and primary key), by ``COPY … CSV
HEADER``; then count queries per CREST letter and per ``term_exists`` must agree with
``check --format jsonl`` on the same 1,200 generated notes.

The cluster is a throwaway one: ``initdb`` in a temporary directory, the server listening
on a Unix socket in it only (no TCP port), stopped at the end. ``initdb`` refuses to run as
root, so as root (CI) every PostgreSQL program runs as the ``postgres`` user (Debian's
package creates it) or ``nobody`` through ``runuser``. Under CI a missing PostgreSQL fails
(python/ci.sh installs it from Debian's packages when missing).
"""

import collections
import glob
import os
import pwd
import shutil
import subprocess
import tempfile

import pytest

from interop_env import check, findings_by_note, jsonl, notes, require

# OMOP CDM v5.4, PostgreSQL DDL (OMOPCDM_postgresql_5.4_ddl.sql) and its primary key
# (OMOPCDM_postgresql_5.4_primary_keys.sql), for NOTE_NLP.
DDL = """
CREATE TABLE note_nlp (
    note_nlp_id integer NOT NULL,
    note_id integer NOT NULL,
    section_concept_id integer NULL,
    snippet varchar(250) NULL,
    "offset" varchar(50) NULL,
    lexical_variant varchar(250) NOT NULL,
    note_nlp_concept_id integer NULL,
    note_nlp_source_concept_id integer NULL,
    nlp_system varchar(250) NULL,
    nlp_date date NOT NULL,
    nlp_datetime TIMESTAMP NULL,
    term_exists varchar(1) NULL,
    term_temporal varchar(50) NULL,
    term_modifiers varchar(2000) NULL );
ALTER TABLE note_nlp ADD CONSTRAINT xpk_note_nlp PRIMARY KEY (note_nlp_id);
"""

COLUMNS = [
    "note_nlp_id", "note_id", "section_concept_id", "snippet", "offset", "lexical_variant",
    "note_nlp_concept_id", "note_nlp_source_concept_id", "nlp_system", "nlp_date",
    "nlp_datetime", "term_exists", "term_temporal", "term_modifiers",
]


def _bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        require("PostgreSQL", "apt-get install postgresql")
    return os.path.dirname(found[-1])


class Cluster:
    """A throwaway PostgreSQL cluster on a Unix socket in a temporary directory."""

    def __init__(self):
        self.bin = _bin()
        self.dir = tempfile.mkdtemp(prefix="calcinosis-pg-")
        self.user = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self.user = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
            if self.user is None:
                require("a non-root user for PostgreSQL", "useradd postgres")
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self.run("initdb", "-D", self.data, "-A", "trust", "-U", "calcinosis",
                 "--no-sync", "-E", "UTF8", "--locale", "C")
        self.run("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w",
                 "-o", f"-k {self.dir} -c listen_addresses='' -c fsync=off", "start")

    def run(self, program, *args, stdin=None):
        cmd = [os.path.join(self.bin, program), *args]
        if self.user is not None:
            cmd = ["runuser", "-u", self.user.pw_name, "--", *cmd]
        done = subprocess.run(cmd, input=stdin, capture_output=True, timeout=300)
        assert done.returncode == 0, (program, done.stderr.decode(errors="replace")[-2000:])
        return done.stdout.decode()

    def sql(self, statement, stdin=None):
        return self.run("psql", "-h", self.dir, "-U", "calcinosis", "-d", "postgres",
                        "-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", "-F", "|",
                        "-c", statement, stdin=stdin)

    def stop(self):
        try:
            self.run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def db():
    cluster = Cluster()
    try:
        cluster.sql(DDL)
        yield cluster
    finally:
        cluster.stop()


def test_rows_load_with_the_v54_ddl_and_counts_agree_with_jsonl(db):
    records = notes()
    csv = check(["--format", "omop", "--input", "jsonl"], jsonl(records))
    assert csv.splitlines()[0].decode() == ",".join(COLUMNS)
    db.sql("TRUNCATE note_nlp")
    db.sql("COPY note_nlp FROM STDIN WITH (FORMAT csv, HEADER true)", stdin=csv)

    expected = findings_by_note(records)
    findings = [(note, f) for note, fs in expected.items() for f in fs]
    rows = int(db.sql("SELECT count(*) FROM note_nlp"))
    assert rows == len(findings) > 1000
    # note_nlp_id: 1…n, unique (the primary key held), in output order.
    assert db.sql("SELECT min(note_nlp_id), max(note_nlp_id) FROM note_nlp").strip() == f"1|{rows}"

    def grouped(query):
        out = {}
        for line in db.sql(query).splitlines():
            *key, n = line.split("|")
            out[tuple(key)] = int(n)
        return out

    by_letter = grouped(
        "SELECT substring(term_modifiers from 'crest=([CREST])'), term_exists, count(*) "
        "FROM note_nlp WHERE term_modifiers LIKE '%crest=%' GROUP BY 1, 2"
    )
    want = collections.Counter(
        (f["crest"], "N" if f["assertion"] in ("negated", "hypothetical", "family") else "Y")
        for _, f in findings if f["crest"]
    )
    assert by_letter == dict(want)
    by_exists = grouped("SELECT term_exists, count(*) FROM note_nlp GROUP BY 1")
    assert by_exists == dict(collections.Counter(
        ("N" if f["assertion"] in ("negated", "hypothetical", "family") else "Y",)
        for _, f in findings
    ))
    by_assertion = grouped(
        "SELECT substring(term_modifiers from '^assertion=([a-z]+)'), count(*) "
        "FROM note_nlp GROUP BY 1"
    )
    assert by_assertion == dict(collections.Counter((f["assertion"],) for _, f in findings))
    assert len(by_assertion) == 6, "every assertion class is in the table"
    by_note = grouped("SELECT note_id, count(*) FROM note_nlp GROUP BY 1")
    assert by_note == {(str(n),): len(fs) for n, fs in expected.items() if fs}
    temporal = grouped("SELECT term_temporal, count(*) FROM note_nlp GROUP BY 1")
    assert temporal[("past",)] == sum(f["assertion"] == "historical" for _, f in findings)
    # Offsets are characters: the mention starts there in the note as Python counts it.
    text = {r["id"]: r["text"] for r in records}
    for line in db.sql(
        'SELECT note_id, "offset", lexical_variant FROM note_nlp ORDER BY note_nlp_id LIMIT 300'
    ).splitlines():
        note, offset, variant = line.split("|", 2)
        start = int(offset)
        assert text[int(note)][start:start + len(variant)] == variant


def test_concept_ids_come_from_the_users_file_and_are_0_otherwise(db, tmp_path):
    concepts = tmp_path / "concepts.csv"
    concepts.write_text("vocabulary,code,concept_id\nICD10CM,I73.00,35207784\n")
    csv = check(["--format", "omop", "--input", "jsonl", "--omop-concepts", str(concepts)],
                jsonl([{"id": 7, "text": "Raynaud's and calcinosis."}]))
    db.sql("TRUNCATE note_nlp")
    db.sql("COPY note_nlp FROM STDIN WITH (FORMAT csv, HEADER true)", stdin=csv)
    got = db.sql(
        "SELECT lexical_variant, note_nlp_concept_id, note_nlp_source_concept_id "
        "FROM note_nlp ORDER BY note_nlp_id"
    ).split()
    assert got == ["Raynaud's|35207784|35207784", "calcinosis|0|0"]


def test_the_python_package_writes_the_cli_rows(db):
    import csv
    import io

    import calcinosis_ls

    records = notes(200)
    cli_csv = check(["--format", "omop", "--input", "jsonl"], jsonl(records)).decode()
    py_csv = calcinosis_ls.Analyzer().omop_csv(
        [r["text"] for r in records], [r["id"] for r in records]
    )
    # The same rows but for when the run happened (nlp_date, nlp_datetime).
    def rows(text):
        return [r[:9] + r[11:] for r in csv.reader(io.StringIO(text))]

    assert rows(py_csv) == rows(cli_csv)
    db.sql("TRUNCATE note_nlp")
    db.sql("COPY note_nlp FROM STDIN WITH (FORMAT csv, HEADER true)", stdin=py_csv.encode())
    assert int(db.sql("SELECT count(*) FROM note_nlp")) == len(rows(py_csv)) - 1
    with pytest.raises(ValueError):
        calcinosis_ls.Analyzer().omop_csv(["x"], [])
