"""``check --format fhir`` validated by a real FHIR validator: the ``fhir.resources`` package
(PyPI), whose R4B models check every element's type, cardinality and required fields.
Every Bundle and every resource emitted for 1,200 generated notes covering each assertion
class must validate; one that does not fails the build. Under CI a missing package fails.
"""

import collections
import json

import pytest

from interop_env import check, findings_by_note, jsonl, notes, require


def _models():
    try:
        from fhir.resources.R4B import get_fhir_model_class
        from fhir.resources.R4B.bundle import Bundle
    except ImportError:
        require("fhir.resources", "pip install fhir.resources")
    return Bundle, get_fhir_model_class


VERIFICATION = {
    "present": "confirmed",
    "historical": "confirmed",
    "possible": "unconfirmed",
    "negated": "refuted",
}


def test_every_resource_of_1200_notes_validates_and_maps_its_assertion():
    Bundle, model = _models()
    records = notes()
    expected = findings_by_note(records)
    classes = collections.Counter(f["assertion"] for fs in expected.values() for f in fs)
    assert set(classes) == {
        "present", "negated", "possible", "historical", "hypothetical", "family"
    }, classes
    lines = check(["--format", "fhir", "--input", "jsonl"], jsonl(records)).splitlines()
    assert len(lines) == len(records) >= 1000
    kinds = collections.Counter()
    for record, line in zip(records, lines):
        bundle = json.loads(line)
        Bundle.model_validate(bundle)
        assert bundle["type"] == "collection"
        resources = [e["resource"] for e in bundle["entry"]]
        for r in resources:
            model(r["resourceType"]).model_validate(r)
            kinds[r["resourceType"]] += 1
            assert r["meta"]["tag"][0]["code"] == "nlp-derived"
        # One resource per finding but hypothetical ones, in note order, then the summary.
        wanted = [f for f in expected[record["id"]] if f["assertion"] != "hypothetical"]
        assert len(resources) == len(wanted) + 1
        assert resources[-1]["resourceType"] == "Observation"
        assert resources[-1]["derivedFrom"] == [
            {"reference": f"DocumentReference/{record['id']}"}
        ]
        for f, r in zip(wanted, resources):
            mention = {e["url"]: e for e in r["extension"][0]["extension"]}
            assert mention["assertion"]["valueCode"] == f["assertion"]
            assert record["text"][mention["start"]["valueInteger"]:][:1] == f["text"][:1]
            code = r["code"] if f["assertion"] != "family" else r["condition"][0]["code"]
            assert code["text"] == f["term"]
            icd = [c["code"] for c in code.get("coding", [])
                   if c["system"] == "http://hl7.org/fhir/sid/icd-10-cm"]
            assert icd == ([f["codes"]["icd10cm"]] if "icd10cm" in f["codes"] else [])
            if f["assertion"] == "family":
                assert r["resourceType"] == "FamilyMemberHistory"
                assert r["relationship"]["coding"][0]["system"].endswith("v3-RoleCode")
            else:
                assert r["resourceType"] == "Condition"
                status = r["verificationStatus"]["coding"][0]["code"]
                assert status == VERIFICATION[f["assertion"]]
                assert r["evidence"][0]["detail"][0]["reference"] == (
                    f"DocumentReference/{record['id']}"
                )
    assert kinds["Condition"] > 1000 and kinds["FamilyMemberHistory"] > 100, kinds


def test_a_resource_that_breaks_the_model_is_rejected():
    # The validator is not a rubber stamp: the same output with a required element taken
    # out, or a code put where a CodeableConcept belongs, fails.
    Bundle, model = _models()
    line = check(["--format", "fhir", "--input", "jsonl"],
                 jsonl([{"id": 1, "text": "Denies Raynaud's."}]))
    condition = json.loads(line)["entry"][0]["resource"]
    model("Condition").model_validate(condition)
    for broken in (
        {k: v for k, v in condition.items() if k != "subject"},
        {**condition, "verificationStatus": "refuted"},
    ):
        with pytest.raises(Exception):
            model("Condition").model_validate(broken)


def test_family_relationship_and_files_as_an_array(tmp_path):
    Bundle, _ = _models()
    note = tmp_path / "n-1.txt"
    note.write_text("Her mother has Raynaud's. Father with calcinosis.\n")
    out = json.loads(check(["--format", "fhir", str(note)], b""))
    assert isinstance(out, list) and len(out) == 1
    Bundle.model_validate(out[0])
    codes = [e["resource"]["relationship"]["coding"][0]["code"]
             for e in out[0]["entry"] if e["resource"]["resourceType"] == "FamilyMemberHistory"]
    assert codes == ["MTH", "FTH"]
