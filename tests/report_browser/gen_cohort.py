#!/usr/bin/env python3
"""A synthetic cohort of clinic notes as JSON Lines, deterministic for a seed.

    python3 tests/report_browser/gen_cohort.py --patients 200 --notes 2000 > cohort.jsonl

Each record is {"id", "patient", "date", "text"}; the notes mention the CREST features with
every assertion the analyser knows (present, negated, possible, historical, hypothetical,
family) among ordinary clinic sentences, about 1.2 KB each. A few notes hold pasted markup
(a <script> element, a javascript: link, quotes) that the report must show as text. Nothing
is downloaded and no real patient is involved: `check --format html` and its browser test
(tests/report_browser/) and tests/report_html.rs read it.
"""
import argparse
import datetime
import json
import random
import sys

CREST = [
    # (sentence, what it asserts) -- the analyser decides; these only make the mix varied.
    "Raynaud's phenomenon in cold weather, fingers turn white then blue.",
    "Denies Raynaud's.",
    "No calcinosis on examination of the hands.",
    "Calcinosis cutis over both elbows, firm and nontender.",
    "History of dysphagia, resolved after dilation.",
    "Possible sclerodactyly, skin over the fingers looks tight.",
    "Mother had telangiectasia and scleroderma.",
    "If dysphagia returns, refer to gastroenterology.",
    "Telangiectasias on the face and palms.",
    "Sclerodactyly with flexion contractures.",
    "Esophageal dysmotility on manometry.",
    "No evidence of telangiectasia.",
    "Heartburn and reflux most nights.",
    "Questionable calcinosis on the radiograph of the left hand.",
    "Sister has Raynaud phenomenon.",
    "No sclerodactyly.",
]
FILLER = [
    "BP 128/76, HR 72, afebrile.",
    "Lungs clear to auscultation bilaterally.",
    "Continue nifedipine 30 mg daily and omeprazole 20 mg before breakfast.",
    "Follow up in three months with labs: CBC, CMP, ESR and CRP.",
    "Patient is a retired teacher who lives with her husband.",
    "Reviewed the medication list and allergies with the patient today.",
    "Pulmonary function tests ordered to screen for interstitial lung disease.",
    "She walks thirty minutes most days and sleeps well.",
    "Hand function limits buttoning and opening jars.",
    "Discussed the plan and answered her questions; she agrees with it.",
    "Renal function stable, creatinine 0.8.",
    "Echocardiogram last year without pulmonary hypertension.",
]
HOSTILE = [
    'Pasted from the portal: <script>alert("x")</script> </script> <b>bold</b> & done.',
    "Link from the referral: <a href=\"javascript:alert(1)\">records</a> \" onmouseover=\"alert(1)",
]
SECTIONS = ["HPI:", "Exam:", "Assessment:", "Plan:"]


def note(rng):
    parts = []
    for header in SECTIONS:
        parts.append(header)
        sentences = rng.sample(FILLER, rng.randint(2, 3))
        for _ in range(rng.randint(0, 2)):
            sentences.insert(rng.randint(0, len(sentences)), rng.choice(CREST))
        if rng.random() < 0.01:
            sentences.append(rng.choice(HOSTILE))
        parts.append(" ".join(sentences))
    return "\n".join(parts) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--notes", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=23)
    args = ap.parse_args()
    if args.patients < 1 or args.notes < args.patients:
        ap.error("need at least one patient and at least one note per patient")
    rng = random.Random(args.seed)
    start = datetime.date(2020, 1, 1)
    out = sys.stdout
    for i in range(args.notes):
        # Every patient gets a note before any gets a second; the rest go at random.
        patient = i if i < args.patients else rng.randrange(args.patients)
        date = start + datetime.timedelta(days=rng.randrange(1800))
        record = {
            "id": f"N{i:05d}",
            "patient": f"P{patient:04d}",
            "date": date.isoformat(),
            "text": note(rng),
        }
        out.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
