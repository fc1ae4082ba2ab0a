#!/usr/bin/env python3
"""Side-by-side comparison of calcinosis-ls and medspaCy (ConText/NegEx) on the
assertion test sentences (accuracy) and on a generated ~2 MB note corpus (speed).

Run from anywhere:
    python3 -m venv .venv && .venv/bin/pip install -r benches/medspacy/requirements.txt
    cargo build --release
    .venv/bin/python benches/medspacy/compare.py

Writes benches/medspacy/results.json and benches/medspacy/RESULTS.md. See README.md
for what is and is not compared.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = {
    "heldout": REPO / "tests" / "data" / "heldout.tsv",
    "sentences": REPO / "tests" / "data" / "sentences.tsv",
}
LEXICON = REPO / "corpus" / "lexicon.toml"
BIN = Path(os.environ.get("CALCINOSIS_LS", REPO / "target" / "release" / "calcinosis-ls"))
CLASSES = ["present", "negated", "possible", "historical", "hypothetical", "family"]
SEED = 20240517
CORPUS_BYTES = 2_000_000

# medspaCy must run fully offline: tell Hugging Face-aware code so, keep the work
# single-threaded, and refuse (and record) every outgoing connection attempt made from
# this process, so that a hidden download shows up in the results instead of silently
# succeeding or hanging.
for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_var, "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

NETWORK_ATTEMPTS: list[str] = []
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guard_connect(self, address, *a, **k):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        NETWORK_ATTEMPTS.append(repr(address))
        raise OSError(f"compare.py: network access blocked ({address!r})")
    return _real_connect(self, address, *a, **k)


def _guard_connect_ex(self, address, *a, **k):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        NETWORK_ATTEMPTS.append(repr(address))
        return 111  # ECONNREFUSED
    return _real_connect_ex(self, address, *a, **k)


socket.socket.connect = _guard_connect
socket.socket.connect_ex = _guard_connect_ex


def quiet_loguru() -> None:
    """PyRuSH (medspaCy's sentence splitter) logs every token at DEBUG level through
    loguru's default stderr sink; drop that sink so the log does not flood the terminal
    or get timed as output. (The f-strings are still built: that cost stays measured.)"""
    try:
        from loguru import logger

        logger.remove()
        logger.add(sys.stderr, level="WARNING")
    except ImportError:
        pass


# ── data ──────────────────────────────────────────────────────────────────────


def parse_tsv(path: Path) -> list[dict]:
    """Sentences with their expectations, each located in the sentence (char offsets)."""
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        sentence, spec = line.split("\t", 1)
        expected = []
        if spec.strip() != "-":
            cursor = 0
            for item in spec.split(" ; "):
                surface, assertion = item.rsplit("=", 1)
                assertion = assertion.rstrip("!")
                assert assertion in CLASSES, f"{path}:{lineno}: bad assertion {assertion!r}"
                start = sentence.find(surface, cursor)
                if start < 0:  # tolerate out-of-order items
                    start = sentence.find(surface)
                assert start >= 0, f"{path}:{lineno}: {surface!r} not in sentence"
                expected.append({"surface": surface, "assertion": assertion,
                                 "start": start, "end": start + len(surface)})
                cursor = start + len(surface)
        out.append({"origin": f"{path.name}:{lineno}", "text": sentence, "expected": expected})
    return out


# ── scoring ───────────────────────────────────────────────────────────────────


class Score:
    """Per-class tp/fp/fn the same way tests/assertions.rs counts them: a mention with the
    wrong class is a fn of the expected class and a fp of the predicted one; a missed
    mention is a fn; a spurious finding is a fp of its class."""

    def __init__(self) -> None:
        self.tp: Counter = Counter()
        self.fp: Counter = Counter()
        self.fn: Counter = Counter()
        self.expected = self.detected = self.spurious = 0
        self.confusion: Counter = Counter()  # (expected, got) for detected mentions
        self.errors: list[str] = []

    def add(self, origin: str, surface: str, expected: str, got: str | None) -> None:
        self.expected += 1
        if got is None:
            self.fn[expected] += 1
            self.errors.append(f"{origin}: {surface!r} ({expected}) not found")
            return
        self.detected += 1
        self.confusion[(expected, got)] += 1
        if got == expected:
            self.tp[expected] += 1
        else:
            self.fn[expected] += 1
            self.fp[got] += 1
            self.errors.append(f"{origin}: {surface!r} expected {expected} got {got}")

    def add_spurious(self, origin: str, surface: str, got: str) -> None:
        self.spurious += 1
        self.fp[got] += 1
        self.errors.append(f"{origin}: unexpected {surface!r} ({got})")

    def table(self) -> dict:
        rows = {}
        for c in CLASSES:
            tp, fp, fn = self.tp[c], self.fp[c], self.fn[c]
            rows[c] = {"tp": tp, "fp": fp, "fn": fn, "support": tp + fn,
                       "precision": tp / max(tp + fp, 1), "recall": tp / max(tp + fn, 1)}
        tp, fp, fn = (sum(getattr(self, k).values()) for k in ("tp", "fp", "fn"))
        p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        correct = sum(n for (e, g), n in self.confusion.items() if e == g)
        return {
            "classes": rows,
            "micro": {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r,
                      "f1": 2 * p * r / (p + r) if p + r else 0.0},
            "mentions": {"expected": self.expected, "detected": self.detected,
                         "spurious": self.spurious},
            # Assertion accuracy on the mentions the system found (detection factored out).
            "accuracy_on_detected": correct / max(self.detected, 1),
            "confusion": {f"{e}->{g}": n for (e, g), n in sorted(self.confusion.items())},
        }


# ── medspaCy accuracy ─────────────────────────────────────────────────────────


def medspacy_class(span) -> str:
    x = span._
    if x.is_hypothetical:
        return "hypothetical"
    if x.is_family:
        return "family"
    if x.is_negated:
        return "negated"
    if x.is_uncertain:
        return "possible"
    if x.is_historical:
        return "historical"
    return "present"


def medspacy_accuracy(sentences: list[dict], sections: bool) -> tuple[Score, dict]:
    """Default medspaCy pipeline (medspaCy tokenizer, PyRuSH, ConText with default rules;
    plus the default Sectionizer when `sections`), with a per-sentence TargetMatcher whose
    rules are exactly that sentence's expected surfaces."""
    import medspacy
    from medspacy.target_matcher import TargetMatcher, TargetRule
    from spacy.util import filter_spans

    enable = {"medspacy_tokenizer", "medspacy_pyrush", "medspacy_target_matcher", "medspacy_context"}
    if sections:
        enable.add("medspacy_sectionizer")
    nlp = medspacy.load(medspacy_enable=enable)
    score = Score()
    stats = {"pipeline": list(nlp.pipe_names), "targets_matched_by_rules": 0,
             "targets_added_by_offset": 0, "targets_added_detail": [], "targets_lost": 0, "crashes": [],
             "section_effects": []}
    for s in sentences:
        text, expected = s["text"], s["expected"]
        try:
            tm = TargetMatcher(nlp)
            tm.add([TargetRule(surface, "TERM") for surface in dict.fromkeys(e["surface"] for e in expected)])
            doc = nlp.make_doc(text)
            for name, proc in nlp.pipeline:
                if name == "medspacy_target_matcher":
                    doc = tm(doc)
                    # The phrase rule can miss a surface that the tokenizer splits
                    # differently in context; add such targets by offset so that every
                    # expected mention reaches ConText.
                    have = {(e.start_char, e.end_char) for e in doc.ents}
                    extra = []
                    for e in expected:
                        if (e["start"], e["end"]) in have:
                            stats["targets_matched_by_rules"] += 1
                            continue
                        span = doc.char_span(e["start"], e["end"], label="TERM", alignment_mode="expand")
                        if span is not None:
                            extra.append(span)
                            stats["targets_added_by_offset"] += 1
                            stats["targets_added_detail"].append(
                                f"{s['origin']}: {e['surface']!r} (tokens {[t.text for t in span]})")
                    if extra:
                        doc.ents = filter_spans(list(doc.ents) + extra)
                else:
                    doc = proc(doc)
            got = []
            for e in expected:
                hit = [t for t in doc.ents if t.start_char == e["start"] and t.end_char == e["end"]]
                if not hit:  # expanded to token boundaries or merged into a longer target
                    hit = [t for t in doc.ents if t.start_char <= e["start"] and e["end"] <= t.end_char]
                if not hit:
                    stats["targets_lost"] += 1
                got.append(medspacy_class(hit[0]) if hit else None)
            if sections:
                for sec in getattr(doc._, "sections", None) or []:
                    if sec.category:
                        title = doc[sec.title_start:sec.title_end].text
                        stats["section_effects"].append(f"{s['origin']}: section {sec.category!r} from {title!r}")
        except Exception as exc:  # record and go on: one bad sentence must not end the run
            stats["crashes"].append(f"{s['origin']}: {type(exc).__name__}: {exc}")
            got = [None] * len(expected)
        for e, g in zip(expected, got):
            score.add(s["origin"], e["surface"], e["assertion"], g)
    stats["section_effects"] = list(dict.fromkeys(stats["section_effects"]))
    return score, stats


# ── calcinosis-ls accuracy ────────────────────────────────────────────────────


def run_check(files: list[Path]) -> list[dict]:
    proc = subprocess.run([str(BIN), "check", "--format", "json", *map(str, files)],
                          capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"calcinosis-ls exited {proc.returncode}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def score_findings(score: Score, s: dict, findings: list[dict]) -> None:
    """Matches findings to the expected surfaces by text, in order (as tests/assertions.rs)."""
    used = [False] * len(findings)
    for e in s["expected"]:
        i = next((i for i, f in enumerate(findings) if not used[i] and f["text"] == e["surface"]), None)
        if i is None:
            score.add(s["origin"], e["surface"], e["assertion"], None)
        else:
            used[i] = True
            score.add(s["origin"], e["surface"], e["assertion"], findings[i]["assertion"])
    for i, f in enumerate(findings):
        if not used[i]:
            score.add_spurious(s["origin"], f["text"], f["assertion"])


def calcinosis_accuracy(sentences: list[dict], tmp: Path, tag: str) -> tuple[Score, dict]:
    """One file per sentence, all checked by a single process (no interaction possible).
    Cross-check: one file with the sentences separated by blank lines, findings assigned to
    sentences by range.start.line; any sentence whose findings differ is listed."""
    d = tmp / f"acc-{tag}"
    d.mkdir()
    files = []
    for i, s in enumerate(sentences):
        f = d / f"{i:04d}.txt"
        f.write_text(s["text"] + "\n", encoding="utf-8")
        files.append(f)
    reports = run_check(files)
    by_file = {r["file"]: r["findings"] for r in reports}
    per_sentence = [by_file[str(f)] for f in files]
    score = Score()
    for s, findings in zip(sentences, per_sentence):
        score_findings(score, s, findings)

    joined = d / "all.txt"
    joined.write_text("".join(s["text"] + "\n\n" for s in sentences), encoding="utf-8")
    line_to_sentence = {2 * i: i for i in range(len(sentences))}
    grouped: dict[int, list] = defaultdict(list)
    for f in run_check([joined])[0]["findings"]:
        grouped[line_to_sentence.get(f["range"]["start"]["line"], -1)].append(f)
    key = lambda fs: [(f["text"], f["assertion"]) for f in fs]
    differ = [f"{s['origin']}: per-file {key(a)} vs joined {key(grouped.get(i, []))}"
              for i, (s, a) in enumerate(zip(sentences, per_sentence)) if key(a) != key(grouped.get(i, []))]
    if -1 in grouped:
        differ.append(f"findings on separator lines: {key(grouped[-1])}")
    return score, {"joined_file_differences": differ}


# ── speed ─────────────────────────────────────────────────────────────────────


def make_corpus(all_sentences: list[str], out: Path) -> list[Path]:
    """Deterministic notes: the sentences shuffled with a fixed seed, 10–20 per note (one
    sentence per line), until CORPUS_BYTES."""
    rng = random.Random(SEED)
    out.mkdir()
    files, total, pool = [], 0, []
    while total < CORPUS_BYTES:
        n = rng.randint(10, 20)
        while len(pool) < n:
            batch = list(all_sentences)
            rng.shuffle(batch)
            pool.extend(batch)
        note, pool = "\n".join(pool[:n]) + "\n", pool[n:]
        f = out / f"note_{len(files):05d}.txt"
        f.write_text(note, encoding="utf-8")
        total += len(note.encode("utf-8"))
        files.append(f)
    return files


def lexicon_rules():
    """(literal, pattern-or-None) for every lexicon name, synonym (case-insensitive
    phrase rules) and abbreviation (case-sensitive token patterns)."""
    lex = tomllib.loads(LEXICON.read_text(encoding="utf-8"))
    insensitive, sensitive = [], []
    for t in lex["term"]:
        for lit in [t["name"], *t.get("synonyms", [])]:
            insensitive.append((t["name"], lit))
        for lit in t.get("abbreviations", []):
            sensitive.append((t["name"], lit))
    return insensitive, sensitive


def medspacy_speed_worker(file_list: Path, variant: str) -> None:
    """Runs in its own process (timed from outside as a whole): medspacy.load() with the
    lexicon as TargetRules, then nlp.pipe over all notes, single process. Variant
    "sentencizer" swaps medspaCy's PyRuSH sentence splitter for spaCy's rule-based
    `sentencizer` (not medspaCy's default; shows where medspaCy's time goes)."""
    t0 = time.perf_counter()
    quiet_loguru()
    import medspacy
    from medspacy.target_matcher import TargetRule

    t1 = time.perf_counter()
    if variant == "sentencizer":
        nlp = medspacy.load(medspacy_enable={"medspacy_tokenizer", "medspacy_target_matcher", "medspacy_context"})
        nlp.add_pipe("sentencizer", first=True)
    else:
        nlp = medspacy.load()
    insensitive, sensitive = lexicon_rules()
    rules = [TargetRule(lit, name) for name, lit in insensitive]
    rules += [TargetRule(lit, name, pattern=[{"TEXT": tok.text} for tok in nlp.tokenizer(lit)])
              for name, lit in sensitive]
    nlp.get_pipe("medspacy_target_matcher").add(rules)
    t2 = time.perf_counter()
    files = file_list.read_text().split("\n")
    texts = (Path(f).read_text(encoding="utf-8") for f in files)
    ents = Counter()
    n = 0
    for doc in nlp.pipe(texts, n_process=1, batch_size=64):
        n += 1
        for e in doc.ents:
            ents[medspacy_class(e)] += 1
    t3 = time.perf_counter()
    print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "pipe_s": t3 - t2, "notes": n,
                      "rules": len(rules), "pipeline": nlp.pipe_names,
                      "mentions": sum(ents.values()), "by_class": dict(ents),
                      "network_attempts": NETWORK_ATTEMPTS}))


def timed(cmd: list[str], **kw) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall and CPU (user+sys of the child) seconds of one process."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, **kw)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), proc


def speed(all_sentences: list[str], tmp: Path) -> dict:
    files = make_corpus(all_sentences, tmp / "notes")
    nbytes = sum(f.stat().st_size for f in files)
    mb = nbytes / 1e6
    res = {"corpus": {"notes": len(files), "bytes": nbytes, "seed": SEED,
                      "sentences_per_note": "10-20"}}

    cls_runs = []
    for run in (1, 2):
        out = tmp / f"cls-speed-{run}.json"
        with out.open("w") as fh:
            wall, cpu, proc = timed([str(BIN), "check", "--format", "json", *map(str, files)],
                                    stdout=fh, stderr=subprocess.PIPE, text=True)
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"calcinosis-ls exited {proc.returncode}: {proc.stderr[-2000:]}")
        cls_runs.append({"wall_s": wall, "cpu_s": cpu, "MB_per_s": mb / wall,
                         "notes_per_s": len(files) / wall})
        if run == 1:  # count findings once, outside the timing
            reports = json.loads(out.read_text())
            by_class = Counter(f["assertion"] for r in reports for f in r["findings"])
            res["calcinosis_ls_mentions"] = {"total": sum(by_class.values()), "by_class": dict(by_class)}
    res["calcinosis_ls"] = {"run1": cls_runs[0], "run2_warm": cls_runs[1]}

    # Start-up cost of calcinosis-ls (corpus and in-memory index), from a one-line note.
    tiny = tmp / "tiny.txt"
    tiny.write_text("No calcinosis.\n", encoding="utf-8")
    res["calcinosis_ls"]["startup_s"] = min(timed([str(BIN), "check", "--format", "json", str(tiny)],
                                                  capture_output=True)[0] for _ in range(3))

    listing = tmp / "notes.lst"
    listing.write_text("\n".join(map(str, files)))

    def worker(variant):
        wall, cpu, proc = timed([sys.executable, str(Path(__file__).resolve()), "--medspacy-speed-worker",
                                 str(listing), "--variant", variant], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"medspaCy speed worker failed: {proc.stderr[-3000:]}")
        return wall, cpu, json.loads(proc.stdout.strip().splitlines()[-1])

    wall, cpu, inner = worker("default")
    res["medspacy"] = {
        "process_wall_s": wall, "cpu_s": cpu,
        "MB_per_s": mb / wall, "notes_per_s": len(files) / wall,
        "pipe_only_s": inner["pipe_s"], "pipe_only_MB_per_s": mb / inner["pipe_s"],
        "pipe_only_notes_per_s": len(files) / inner["pipe_s"],
        "import_s": inner["import_s"], "load_s": inner["load_s"],
        "target_rules": inner["rules"], "pipeline": inner["pipeline"],
        "network_attempts": inner["network_attempts"],
    }
    res["medspacy_mentions"] = {"total": inner["mentions"], "by_class": inner["by_class"]}
    w2, c2, in2 = worker("sentencizer")
    res["medspacy_spacy_sentencizer"] = {
        "process_wall_s": w2, "cpu_s": c2, "MB_per_s": mb / w2, "notes_per_s": len(files) / w2,
        "pipe_only_s": in2["pipe_s"], "pipe_only_MB_per_s": mb / in2["pipe_s"],
        "pipeline": in2["pipeline"], "mentions": in2["mentions"],
        "network_attempts": in2["network_attempts"]}
    warm = res["calcinosis_ls"]["run2_warm"]["wall_s"]
    res["ratio_process_wall"] = wall / warm
    res["ratio_medspacy_pipe_only_vs_cls_process"] = inner["pipe_s"] / warm
    return res


# ── report ────────────────────────────────────────────────────────────────────


def machine_info() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cls_version = subprocess.run([str(BIN), "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        cls_version = "unknown"
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()

    def ver(p):
        try:
            return metadata.version(p)
        except metadata.PackageNotFoundError:
            return None

    return {"date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": os.cpu_count(), "cpu": cpu, "loadavg_at_start": os.getloadavg(), "platform": platform.platform(),
            "python": platform.python_version(), "medspacy": ver("medspacy"),
            "spacy": ver("spacy"), "PyRuSH": ver("PyRuSH"), "calcinosis_ls": cls_version,
            "repo_commit": commit}


REPRO = ("python3 -m venv .venv && .venv/bin/pip install -r benches/medspacy/requirements.txt"
         " && cargo build --release && .venv/bin/python benches/medspacy/compare.py")


def fmt_table(title: str, cols: dict[str, dict]) -> list[str]:
    """Side-by-side per-class precision/recall for several systems."""
    names = list(cols)
    w = 19
    lines = [title, f"{'class':<13}{'n':>5} " + "".join(f"{n:>{w}}" for n in names),
             f"{'':<13}{'':>5} " + "".join(f"{'P     R':>{w}}" for _ in names)]
    first = cols[names[0]]
    for c in CLASSES:
        cells = "".join(f"{t['classes'][c]['precision']:>{w - 7}.3f} {t['classes'][c]['recall']:.3f}" for t in cols.values())
        lines.append(f"{c:<13}{first['classes'][c]['support']:>5} {cells}")
    lines.append(f"{'micro':<13}{first['mentions']['expected']:>5} " + "".join(
        f"{t['micro']['precision']:>{w - 7}.3f} {t['micro']['recall']:.3f}" for t in cols.values()))
    lines.append(f"{'micro-F1':<19}" + "".join(f"{t['micro']['f1']:>{w}.3f}" for t in cols.values()))
    lines.append(f"{'acc. on found':<19}" + "".join(f"{t['accuracy_on_detected']:>{w}.3f}" for t in cols.values()))
    lines.append(f"{'found/spurious':<19}" + "".join(
        f"{str(t['mentions']['detected']) + '/' + str(t['mentions']['spurious']):>{w}}" for t in cols.values()))
    return lines


def markdown(results: dict) -> str:
    m = results["machine"]
    out = ["# calcinosis-ls vs medspaCy", "",
           f"- Date: {m['date']}",
           f"- Machine: nproc={m['nproc']}, CPU: {m['cpu']}, {m['platform']}; load average at start "
           + " / ".join(f"{x:.2f}" for x in m["loadavg_at_start"]),
           f"- Python {m['python']}, medspaCy {m['medspacy']}, spaCy {m['spacy']}, PyRuSH {m['PyRuSH']}; "
           f"{m['calcinosis_ls']} (commit {m['repo_commit']})",
           f"- Reproduce (from the repo root): `{REPRO}`",
           f"- Network attempts by medspaCy during the run: {results['network_attempts']}",
           "", "medspaCy is given the expected target spans for free (its TargetMatcher holds exactly the "
           "expected surfaces of each sentence), so its columns measure assertion logic only; "
           "calcinosis-ls finds the terms itself, so its misses (fn) and spurious findings (fp) count "
           "too. Default medspaCy rules, not tuned. `acc. on found` is assertion accuracy on the "
           "mentions a system found.", ""]
    for ds, acc in results["accuracy"].items():
        systems = {"calcinosis-ls": acc["calcinosis_ls"], "medspaCy": acc["medspacy"],
                   "medspaCy, no sections": acc["medspacy_no_sections"]}
        out += [f"## Accuracy: {ds}.tsv ({acc['sentences']} sentences, {acc['mentions']} expected mentions)", "",
                "| class | n | " + " | ".join(f"{n} P | {n} R" for n in systems) + " |",
                "|---|---:|" + "---:|---:|" * len(systems)]
        first = acc["calcinosis_ls"]
        for c in CLASSES:
            out.append(f"| {c} | {first['classes'][c]['support']} | " + " | ".join(
                f"{t['classes'][c]['precision']:.3f} | {t['classes'][c]['recall']:.3f}" for t in systems.values()) + " |")
        out.append("| **micro** | " + str(first["mentions"]["expected"]) + " | " + " | ".join(
            f"{t['micro']['precision']:.3f} | {t['micro']['recall']:.3f}" for t in systems.values()) + " |")
        out += ["", "| | " + " | ".join(systems) + " |", "|---|" + "---:|" * len(systems),
                "| micro-F1 | " + " | ".join(f"**{t['micro']['f1']:.3f}**" for t in systems.values()) + " |",
                "| accuracy on found mentions | " + " | ".join(f"{t['accuracy_on_detected']:.3f}" for t in systems.values()) + " |",
                "| mentions found / spurious | " + " | ".join(
                    f"{t['mentions']['detected']} / {t['mentions']['spurious']}" for t in systems.values()) + " |", ""]
    out += ["## Details", ""]
    for ds, acc in results["accuracy"].items():
        st = acc["medspacy_stats"]
        out += [f"### {ds}.tsv", "",
                f"- medspaCy targets: {st['targets_matched_by_rules']} matched by their TargetRule, "
                f"{st['targets_added_by_offset']} added by character offset (tokenisation differed), "
                f"{st['targets_lost']} lost; crashes: {len(st['crashes']) + len(acc['medspacy_no_sections_stats']['crashes'])}",
                *(f"  - offset: {x}" for x in st["targets_added_detail"]),
                *(f"  - crash: {x}" for x in st["crashes"] + acc["medspacy_no_sections_stats"]["crashes"]),
                f"- Sections medspaCy's Sectionizer found in single sentences: {len(st['section_effects'])}",
                *(f"  - {x}" for x in st["section_effects"]),
                f"- calcinosis-ls: sentences whose findings differ between one-file-per-sentence and one "
                f"blank-line-separated file: {len(acc['calcinosis_ls_joined_file_differences'])}",
                *(f"  - {x}" for x in acc["calcinosis_ls_joined_file_differences"]),
                f"- calcinosis-ls errors ({len(results['errors'][ds]['calcinosis_ls'])}):",
                *(f"  - {x}" for x in results["errors"][ds]["calcinosis_ls"]),
                f"- medspaCy errors ({len(results['errors'][ds]['medspacy'])}; all in results.json), confusion expected→got: "
                + ", ".join(f"{k} {v}" for k, v in acc["medspacy"]["confusion"].items() if k.split("->")[0] != k.split("->")[1]),
                ""]
    s = results["speed"]
    c1, c2, ms = s["calcinosis_ls"]["run1"], s["calcinosis_ls"]["run2_warm"], s["medspacy"]
    ss = s["medspacy_spacy_sentencizer"]
    out += [f"## Speed: {s['corpus']['notes']} notes, {s['corpus']['bytes'] / 1e6:.2f} MB (seed {s['corpus']['seed']}, "
            f"{s['corpus']['sentences_per_note']} sentences per note)", "",
            "| system | wall s | CPU s | MB/s | notes/s | mentions |", "|---|---:|---:|---:|---:|---:|",
            f"| calcinosis-ls `check --format json`, run 1 | {c1['wall_s']:.2f} | {c1['cpu_s']:.2f} | {c1['MB_per_s']:.2f} | {c1['notes_per_s']:.0f} | {s['calcinosis_ls_mentions']['total']} |",
            f"| calcinosis-ls, run 2 (warm) | {c2['wall_s']:.2f} | {c2['cpu_s']:.2f} | {c2['MB_per_s']:.2f} | {c2['notes_per_s']:.0f} | |",
            f"| medspaCy process (import + load + `nlp.pipe`) | {ms['process_wall_s']:.2f} | {ms['cpu_s']:.2f} | {ms['MB_per_s']:.3f} | {ms['notes_per_s']:.1f} | {s['medspacy_mentions']['total']} |",
            f"| medspaCy `nlp.pipe` only | {ms['pipe_only_s']:.2f} | | {ms['pipe_only_MB_per_s']:.3f} | {ms['pipe_only_notes_per_s']:.1f} | |",
            f"| medspaCy with spaCy `sentencizer` instead of PyRuSH (not default), process | {ss['process_wall_s']:.2f} | {ss['cpu_s']:.2f} | {ss['MB_per_s']:.3f} | {ss['notes_per_s']:.1f} | {ss['mentions']} |",
            "", f"Speed ratio (process wall time, medspaCy / calcinosis-ls warm): **{s['ratio_process_wall']:.1f}×**; "
            f"medspaCy `nlp.pipe` alone vs the whole calcinosis-ls process: {s['ratio_medspacy_pipe_only_vs_cls_process']:.1f}×.",
            f"calcinosis-ls start-up (a one-line note): {s['calcinosis_ls']['startup_s']:.3f} s. "
            f"medspaCy: import {ms['import_s']:.2f} s, load + {ms['target_rules']} target rules {ms['load_s']:.2f} s; pipeline {ms['pipeline']}.", ""]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--medspacy-speed-worker", metavar="LIST", help=argparse.SUPPRESS)
    ap.add_argument("--variant", default="default", help=argparse.SUPPRESS)
    ap.add_argument("--errors", type=int, default=8, help="errors to print per system and data set")
    ap.add_argument("--no-write", action="store_true", help="do not write results.json / RESULTS.md")
    args = ap.parse_args()
    if args.medspacy_speed_worker:
        medspacy_speed_worker(Path(args.medspacy_speed_worker), args.variant)
        return
    if not BIN.exists():
        sys.exit(f"{BIN} not found: run `cargo build --release` first (or set CALCINOSIS_LS)")
    quiet_loguru()
    t_start = time.perf_counter()
    results = {"machine": machine_info(), "accuracy": {}, "errors": {}}
    report: list[str] = []
    with tempfile.TemporaryDirectory(prefix="medspacy-bench-") as tmpdir:
        tmp = Path(tmpdir)
        all_texts = []
        for ds, path in DATA.items():
            sentences = parse_tsv(path)
            all_texts += [s["text"] for s in sentences]
            cls, cls_info = calcinosis_accuracy(sentences, tmp, ds)
            ms, ms_info = medspacy_accuracy(sentences, sections=True)
            ms0, ms0_info = medspacy_accuracy(sentences, sections=False)
            acc = {"sentences": len(sentences), "mentions": sum(len(s["expected"]) for s in sentences),
                   "calcinosis_ls": cls.table(), "medspacy": ms.table(), "medspacy_no_sections": ms0.table(),
                   "calcinosis_ls_joined_file_differences": cls_info["joined_file_differences"],
                   "medspacy_stats": {k: v for k, v in ms_info.items()},
                   "medspacy_no_sections_stats": ms0_info}
            results["accuracy"][ds] = acc
            results["errors"][ds] = {"calcinosis_ls": cls.errors, "medspacy": ms.errors,
                                     "medspacy_no_sections": ms0.errors}
            report += [""] + fmt_table(
                f"== Accuracy on {path.name}: {acc['sentences']} sentences, {acc['mentions']} expected mentions ==",
                {"calcinosis-ls": acc["calcinosis_ls"], "medspaCy": acc["medspacy"],
                 "medspaCy no-sect": acc["medspacy_no_sections"]})
            report.append(f"medspaCy targets: {ms_info['targets_matched_by_rules']} by rule, "
                          f"{ms_info['targets_added_by_offset']} added by offset, {ms_info['targets_lost']} lost; "
                          f"crashes: {len(ms_info['crashes'])}; sections seen: {len(ms_info['section_effects'])}")
            report += [f"  medspaCy crash: {c}" for c in ms_info["crashes"] + ms0_info["crashes"]]
            report += [f"  medspaCy section: {c}" for c in ms_info["section_effects"]]
            report += [f"  medspaCy target added by offset: {c}" for c in ms_info["targets_added_detail"]]
            if cls_info["joined_file_differences"]:
                report.append(f"calcinosis-ls: {len(cls_info['joined_file_differences'])} sentences differ "
                              "between per-file and blank-line-joined runs")
            for name, sc in (("calcinosis-ls", cls), ("medspaCy", ms)):
                report.append(f"  {name} errors ({len(sc.errors)}), first {args.errors}:")
                report += [f"    {e}" for e in sc.errors[: args.errors]]
        results["speed"] = speed(all_texts, tmp)
    results["network_attempts"] = (len(NETWORK_ATTEMPTS) + len(results["speed"]["medspacy"]["network_attempts"])
                                   + len(results["speed"]["medspacy_spacy_sentencizer"]["network_attempts"]))
    results["runtime_s"] = time.perf_counter() - t_start
    s = results["speed"]
    c1, c2, m = s["calcinosis_ls"]["run1"], s["calcinosis_ls"]["run2_warm"], s["medspacy"]
    report += ["", f"== Speed: {s['corpus']['notes']} notes, {s['corpus']['bytes'] / 1e6:.2f} MB ==",
               f"calcinosis-ls run 1:      {c1['wall_s']:7.2f} s wall {c1['cpu_s']:7.2f} s CPU {c1['MB_per_s']:8.2f} MB/s {c1['notes_per_s']:8.0f} notes/s",
               f"calcinosis-ls run 2 warm: {c2['wall_s']:7.2f} s wall {c2['cpu_s']:7.2f} s CPU {c2['MB_per_s']:8.2f} MB/s {c2['notes_per_s']:8.0f} notes/s",
               f"medspaCy process:         {m['process_wall_s']:7.2f} s wall {m['cpu_s']:7.2f} s CPU {m['MB_per_s']:8.3f} MB/s {m['notes_per_s']:8.1f} notes/s",
               f"medspaCy nlp.pipe only:   {m['pipe_only_s']:7.2f} s                  {m['pipe_only_MB_per_s']:8.3f} MB/s {m['pipe_only_notes_per_s']:8.1f} notes/s",
               f"medspaCy w/ spaCy sentencizer instead of PyRuSH (not default): {s['medspacy_spacy_sentencizer']['process_wall_s']:.2f} s wall, "
               f"{s['medspacy_spacy_sentencizer']['MB_per_s']:.3f} MB/s; nlp.pipe only {s['medspacy_spacy_sentencizer']['pipe_only_MB_per_s']:.3f} MB/s",
               f"calcinosis-ls start-up (one-line note): {s['calcinosis_ls']['startup_s']:.3f} s",
               f"ratio (process wall, medspaCy / calcinosis-ls warm): {s['ratio_process_wall']:.1f}x; "
               f"nlp.pipe only vs calcinosis-ls process: {s['ratio_medspacy_pipe_only_vs_cls_process']:.1f}x",
               f"mentions found: calcinosis-ls {s['calcinosis_ls_mentions']['total']}, medspaCy {s['medspacy_mentions']['total']}",
               "", "== Summary ==",
               *(f"{ds}: micro-F1 calcinosis-ls {a['calcinosis_ls']['micro']['f1']:.3f} | medspaCy {a['medspacy']['micro']['f1']:.3f}"
                 f" | medspaCy without sections {a['medspacy_no_sections']['micro']['f1']:.3f}"
                 for ds, a in results["accuracy"].items()),
               f"speed: calcinosis-ls {c2['MB_per_s']:.2f} MB/s, medspaCy {m['MB_per_s']:.3f} MB/s "
               f"(process wall; {s['ratio_process_wall']:.1f}x)",
               f"network attempts by medspaCy: {results['network_attempts']}; total runtime {results['runtime_s']:.0f} s",
               f"versions: Python {results['machine']['python']}, medspaCy {results['machine']['medspacy']}, "
               f"spaCy {results['machine']['spacy']}, PyRuSH {results['machine']['PyRuSH']}"]
    print("\n".join(report))
    if not args.no_write:
        (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        (HERE / "RESULTS.md").write_text(markdown(results), encoding="utf-8")
        print(f"\nwrote {HERE / 'results.json'} and {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
