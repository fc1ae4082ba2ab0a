"""Throughput of the Python package and of the Spark example, on the JSON Lines notes that
`CHECK_BENCH_WRITE=DIR cargo bench --bench check_throughput` writes (DIR/notes.jsonl).

    python python/benches/throughput.py DIR/notes.jsonl            # batch calls, 1 and all cores
    python python/benches/throughput.py DIR/notes.jsonl spark N    # the Spark job on N short notes
    python python/benches/throughput.py DIR/notes.jsonl medspacy N # batch call vs medspaCy, N notes

The medspaCy mode needs benches/medspacy/requirements.txt installed beside the wheel; it
gives medspaCy the lexicon's names, synonyms and abbreviations as target rules (as
benches/medspacy/compare.py does) and times `nlp.pipe` on the same notes as the batch call.
"""

import json
import os
import sys
import time


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def batch(notes):
    import calcinosis_ls

    mb = sum(len(n.encode()) for n in notes) / 1e6
    a = calcinosis_ls.Analyzer()
    a.analyze_batch(notes[:100])
    for name, call in [
        ("analyze_batch, jobs=1", lambda: a.analyze_batch(notes, jobs=1)),
        ("analyze_batch, all cores", lambda: a.analyze_batch(notes)),
        ("analyze_table, jobs=1", lambda: a.analyze_table(notes, jobs=1)),
        ("analyze_table, all cores", lambda: a.analyze_table(notes)),
        ("analyze() per note", lambda: [a.analyze(n) for n in notes]),
    ]:
        best = min(timed(call) for _ in range(3))
        print(f"{name}: {len(notes)} notes, {mb:.1f} MB: {best:.3f} s, "
              f"{mb / best:.1f} MB/s, {len(notes) / best:,.0f} notes/s")


def timed(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def spark(notes, count):
    from pyspark.sql import SparkSession

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "spark"))
    from crest_findings import crest_findings

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Short notes: paragraphs of the synthetic notes, about 600 bytes each, written as JSON
    # Lines and read by Spark as a hospital's notes would be (a DataFrame of a million
    # rows built in the driver does not fit its default 1 GB heap).
    paras = [p for n in notes for p in n.split("\n") if len(p) > 80]
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"calcinosis-spark-{count}.jsonl")
    mb = 0.0
    with open(path, "w", encoding="utf-8") as f:
        for i in range(count):
            text = paras[i % len(paras)]
            mb += len(text.encode()) / 1e6
            f.write(json.dumps({"note_id": f"n{i}", "text": text}) + "\n")
    s = (SparkSession.builder.master("local[*]").appName("calcinosis-ls bench")
         .config("spark.ui.enabled", "false")
         .config("spark.sql.execution.arrow.pyspark.enabled", "true")
         .getOrCreate())
    s.sparkContext.setLogLevel("ERROR")
    s.sparkContext.addPyFile(os.path.join(os.path.dirname(__file__), "..", "..", "examples", "spark",
                                          "crest_findings.py"))
    # Not cached: each run reads the notes from the file, as a job over stored notes does.
    df = s.read.schema("note_id string, text string").json(path)
    df.count()
    for _ in range(2):
        start = time.perf_counter()
        n = crest_findings(df).count()
        t = time.perf_counter() - start
        print(f"spark local[*]: {count:,} notes, {mb:.1f} MB, {n:,} findings: {t:.2f} s, "
              f"{count / t:,.0f} notes/s, {mb / t:.1f} MB/s")
    s.stop()
    os.remove(path)


def versus_medspacy(notes, count):
    import resource

    import calcinosis_ls

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "..", "benches", "medspacy"))
    import compare  # the comparison's lexicon rules, offline guard and quiet logging

    notes = notes[:count]
    mb = sum(len(n.encode()) for n in notes) / 1e6
    a = calcinosis_ls.Analyzer()
    a.analyze_batch(notes[:10])
    rows = []
    for name, call in [
        ("calcinosis_ls analyze_batch, all cores", lambda: a.analyze_batch(notes)),
        ("calcinosis_ls analyze_batch, jobs=1", lambda: a.analyze_batch(notes, jobs=1)),
    ]:
        t = min(timed(call) for _ in range(3))
        found = sum(len(r) for r in call())
        rows.append((name, t, found))

    compare.quiet_loguru()
    import medspacy
    from medspacy.target_matcher import TargetRule

    nlp = medspacy.load()
    insensitive, sensitive = compare.lexicon_rules()
    rules = [TargetRule(lit, name) for name, lit in insensitive]
    rules += [TargetRule(lit, name, pattern=[{"TEXT": tok.text} for tok in nlp.tokenizer(lit)])
              for name, lit in sensitive]
    nlp.get_pipe("medspacy_target_matcher").add(rules)
    start = time.perf_counter()
    found = sum(len(doc.ents) for doc in nlp.pipe(notes, n_process=1, batch_size=64))
    rows.append(("medspaCy nlp.pipe (PyRuSH sentences, one process)",
                 time.perf_counter() - start, found))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(notes)} notes, {mb:.2f} MB (peak RSS of this process {peak:.0f} MB)")
    for name, t, found in rows:
        print(f"{name}: {t:.3f} s, {mb / t:.3f} MB/s, {len(notes) / t:,.1f} notes/s, "
              f"{found:,} mentions")
    print(f"network attempts: {len(compare.NETWORK_ATTEMPTS)}")


if __name__ == "__main__":
    notes = load(sys.argv[1])
    if len(sys.argv) > 2 and sys.argv[2] == "medspacy":
        versus_medspacy(notes, int(sys.argv[3]) if len(sys.argv) > 3 else 200)
    elif len(sys.argv) > 2 and sys.argv[2] == "spark":
        spark(notes, int(sys.argv[3]) if len(sys.argv) > 3 else 100_000)
    else:
        batch(notes)
