"""What the FHIR, OMOP and spaCy tests share: the CLI (``CALCINOSIS_LS_BIN``, set by
python/ci.sh), a tool being required under CI (``CI=true``: a missing one fails, never
skips), and a generated set of notes that covers every assertion class."""

import json
import os
import random
import subprocess

import pytest

IN_CI = os.environ.get("CI") == "true"


def require(what, hint):
    """Skips the test when ``what`` is missing, but fails under CI."""
    if IN_CI:
        pytest.fail(f"{what} is missing under CI=true ({hint})")
    pytest.skip(f"{what} is missing ({hint})")


def cli():
    binary = os.environ.get("CALCINOSIS_LS_BIN")
    if not binary or not os.access(binary, os.X_OK):
        require("the CLI (CALCINOSIS_LS_BIN)", "python/ci.sh sets it")
    return binary


def check(args, stdin):
    """Runs ``calcinosis-ls check ARGS`` on ``stdin`` (bytes) and returns stdout (bytes)."""
    done = subprocess.run(
        [cli(), "check", *args], input=stdin, capture_output=True, timeout=600
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout


# Sentences by the assertion they should give their mention ({} is a term's words).
TEMPLATES = {
    "present": ["{} noted on exam.", "Examination shows {}.", "She has {}."],
    "negated": ["Denies {}.", "No {}.", "Negative for {}."],
    "possible": ["Possible {}.", "Concern for {}.", "Questionable {}."],
    "historical": ["History of {}.", "Past history of {}."],
    "hypothetical": ["Return if {} develops.", "If {} occurs, call."],
    "family": ["Mother has {}.", "Her sister has {}.", "Family history of {}."],
}

TERMS = [
    "Raynaud's phenomenon", "calcinosis cutis", "dysphagia", "sclerodactyly",
    "telangiectasias", "CREST syndrome", "digital ulcers", "dermatomyositis",
    "esophageal dysmotility", "anticentromere antibody", "RP", "lcSSc",
]

# Text that makes a note harder to carry: quotes, commas, semicolons, non-ASCII, tabs.
NOISE = ['"quoted", text; ', "é😀日 ", "\t", "a=b;c ", "50% ", "\r\n", "\n"]


def notes(n=1200, seed=22):
    """``n`` notes as JSON Lines records ``{"id": i, "text": …}`` (ids 1…n), deterministic."""
    rng = random.Random(seed)
    classes = list(TEMPLATES)
    out = []
    for i in range(1, n + 1):
        parts = []
        for k in range(rng.randint(1, 6)):
            # Every class in the first notes, whatever the draw.
            cls = classes[(i + k) % len(classes)] if i <= 12 else rng.choice(classes)
            parts.append(rng.choice(TEMPLATES[cls]).format(rng.choice(TERMS)))
            if rng.random() < 0.3:
                parts.append(rng.choice(NOISE))
            parts.append(" ")
        out.append({"id": i, "text": "".join(parts)})
    return out


def jsonl(records):
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def findings_by_note(records):
    """``check --format jsonl``'s findings of ``records``, by note id."""
    lines = check(["--format", "jsonl", "--input", "jsonl"], jsonl(records)).splitlines()
    return {r["id"]: r["findings"] for r in map(json.loads, lines)}
