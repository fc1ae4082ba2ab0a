//! FHIR R4 resources for one note (`check --format fhir`): a `Bundle` of type `collection`
//! holding a resource per finding and an `Observation` with the note's CREST summary.
//!
//! How a finding becomes a resource (README "Batch" documents it for users):
//!
//! | assertion | resource | status |
//! | --- | --- | --- |
//! | present | `Condition` | `verificationStatus` confirmed, `clinicalStatus` active |
//! | possible | `Condition` | `verificationStatus` unconfirmed, no `clinicalStatus` |
//! | negated | `Condition` | `verificationStatus` refuted, no `clinicalStatus` |
//! | historical | `Condition` | `verificationStatus` confirmed, no `clinicalStatus`: "history of X" says the patient had it, not whether it is active, inactive or resolved, so no status is claimed and no date is invented; the mention extension says `historical` |
//! | family | `FamilyMemberHistory` | `status` partial; `relationship` from the trigger's word (v3 RoleCode: MTH, FTH, SIS, BRO…; FAMMEMB when the trigger names no relative) |
//! | hypothetical | nothing | |
//!
//! Every resource: `code` with the term's ICD-10-CM (`http://hl7.org/fhir/sid/icd-10-cm`)
//! and SNOMED CT (`http://snomed.info/sct`) codings where the lexicon has them and the
//! term's name as `text`; `meta.tag` [`NLP_TAG_SYSTEM`]|`nlp-derived` naming calcinosis-ls
//! and its version; the note as `DocumentReference/<id>` (`evidence.detail` of a
//! `Condition`, `derivedFrom` of the `Observation`); and the [`MENTION_URL`] extension with
//! the mention's character offsets (`start`, `end`), its words (`text`), the `assertion` and
//! the `trigger`. The patient is not known from a note's text: `subject`/`patient` is a
//! reference by description to the subject of that document.

use super::CharCounter;
use crate::report::{CrestReport, FindingReport};

/// The extension holding a finding's place in the note and the cue that decided it.
pub const MENTION_URL: &str = "urn:calcinosis-ls:fhir:StructureDefinition:mention";

/// The tag system marking every resource as derived by this program from note text.
pub const NLP_TAG_SYSTEM: &str = "urn:calcinosis-ls:fhir:tag";

/// The ICD-10-CM code system.
pub const ICD10CM_SYSTEM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
/// The SNOMED CT code system.
pub const SNOMED_SYSTEM: &str = "http://snomed.info/sct";
/// `Condition.verificationStatus`'s code system.
pub const VERIFICATION_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
/// `Condition.clinicalStatus`'s code system.
pub const CLINICAL_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
/// `FamilyMemberHistory.relationship`'s code system (HL7 v3 RoleCode, FamilyMember value set).
pub const ROLE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";

/// A word of a family trigger and the v3 RoleCode it names, longest words first where one
/// contains another ("grandmother" before "mother"). The codes are those of HL7's
/// FamilyMember value set; a trigger naming none of these ("family history") is FAMMEMB.
pub const RELATIONSHIPS: [(&str, &str, &str); 20] = [
    ("grandmother", "GRMTH", "grandmother"),
    ("grandma", "GRMTH", "grandmother"),
    ("grandfather", "GRFTH", "grandfather"),
    ("grandpa", "GRFTH", "grandfather"),
    ("grandparent", "GRPRN", "grandparent"),
    ("mother", "MTH", "mother"),
    ("mom", "MTH", "mother"),
    ("father", "FTH", "father"),
    ("dad", "FTH", "father"),
    ("sister", "SIS", "sister"),
    ("brother", "BRO", "brother"),
    ("sibling", "SIB", "sibling"),
    ("daughter", "DAUC", "daughter"),
    ("son", "SONC", "son"),
    ("aunt", "AUNT", "aunt"),
    ("uncle", "UNCLE", "uncle"),
    ("cousin", "COUSN", "cousin"),
    ("niece", "NIECE", "niece"),
    ("nephew", "NEPHEW", "nephew"),
    ("parent", "PRN", "parent"),
];

/// The relationship when the trigger names no relative.
pub const FAMILY_MEMBER: (&str, &str) = ("FAMMEMB", "family member");

/// The v3 RoleCode and display of the relative a family trigger names (by whole word,
/// plurals and possessives included: "sister's", "parents").
pub fn relationship(trigger: Option<&str>) -> (&'static str, &'static str) {
    let Some(trigger) = trigger else {
        return FAMILY_MEMBER;
    };
    let lower = trigger.to_ascii_lowercase();
    for word in lower.split(|c: char| !c.is_ascii_alphabetic() && c != '\'') {
        let word = word.trim_end_matches("'s").trim_end_matches('\'');
        for (w, code, display) in RELATIONSHIPS {
            if word == w || word.strip_suffix('s') == Some(w) {
                return (code, display);
            }
        }
    }
    FAMILY_MEMBER
}

/// Whether `id` is a FHIR `id`: 1 to 64 ASCII letters, digits, `-` or `.`; a
/// `DocumentReference/<id>` reference needs one.
pub fn is_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// A note's `DocumentReference` id from a JSON Lines record's id field (its JSON text): a
/// string's content or a number's digits, when that is a FHIR id.
pub fn id_from_json(raw: &str) -> Option<String> {
    let id = match serde_json::from_str::<serde_json::Value>(raw).ok()? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    is_id(&id).then_some(id)
}

/// A note's `DocumentReference` id from its file name (the base name), when that is a FHIR id.
pub fn id_from_file(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    is_id(base).then(|| base.to_string())
}

/// What to tell the user when a note has no usable id (the note is named by the caller).
pub const NOT_AN_ID: &str = "its id is not a FHIR id (1 to 64 letters, digits, '-' or '.'), \
which DocumentReference/<id> needs: name a field of such ids with --id-field, or name the \
note file so";

/// Writes one note's `Bundle` as compact JSON (no line break).
pub fn write_bundle(
    text: &str,
    findings: &[FindingReport<'_>],
    crest: &CrestReport,
    note_id: &str,
    out: &mut Vec<u8>,
) {
    let mut bundle = Bundle::start(note_id, out);
    bundle.entries(text, findings, out);
    bundle.finish(crest, out);
}

/// A `Bundle` being written a piece of findings at a time (a large note's is streamed):
/// [`Bundle::start`], [`Bundle::entries`] for each piece in note order, [`Bundle::finish`].
pub struct Bundle {
    /// `DocumentReference/<id>`.
    doc: String,
    /// How the patient is described.
    subject: String,
    /// Character offsets across pieces.
    counter: CharCounter,
}

impl Bundle {
    /// Writes the bundle's opening for the note `note_id` (a FHIR id).
    pub fn start(note_id: &str, out: &mut Vec<u8>) -> Bundle {
        let doc = format!("DocumentReference/{note_id}");
        let subject = format!("the subject of {doc}");
        out.extend_from_slice(b"{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"meta\":");
        meta(out);
        out.extend_from_slice(b",\"entry\":[");
        Bundle {
            doc,
            subject,
            counter: CharCounter::default(),
        }
    }

    /// Writes the entries of the next findings of the note (`text`), each followed by a
    /// comma: the summary always comes last.
    pub fn entries(&mut self, text: &str, findings: &[FindingReport<'_>], out: &mut Vec<u8>) {
        let (doc, subject) = (self.doc.as_str(), self.subject.as_str());
        for f in findings {
            let start = self.counter.to(text, f.bytes.start);
            let end = self.counter.to(text, f.bytes.end);
            write_entry(f, start, end, doc, subject, out);
        }
    }

    /// Writes the CREST summary and closes the bundle.
    pub fn finish(self, crest: &CrestReport, out: &mut Vec<u8>) {
        let (doc, subject) = (self.doc.as_str(), self.subject.as_str());
        // The CREST summary, one component per letter named, in CREST order.
        out.extend_from_slice(b"{\"resource\":{\"resourceType\":\"Observation\",\"meta\":");
        meta(out);
        out.extend_from_slice(
            b",\"status\":\"final\",\"code\":{\"text\":\"CREST features documented in the note\"},\
\"subject\":{\"display\":",
        );
        str(out, subject);
        out.extend_from_slice(b"},\"derivedFrom\":[{\"reference\":");
        str(out, doc);
        out.push(b'}');
        out.push(b']');
        let mut letters: Vec<(&str, &str)> = [
            ("present", &crest.present),
            ("possible", &crest.possible),
            ("negated", &crest.negated),
        ]
        .into_iter()
        .flat_map(|(state, ls)| ls.iter().map(move |l| (*l, state)))
        .collect();
        letters.sort_by_key(|(l, _)| "CREST".find(l));
        if !letters.is_empty() {
            out.extend_from_slice(b",\"component\":[");
            for (i, (letter, state)) in letters.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"code\":{\"text\":\"CREST ");
                out.extend_from_slice(letter.as_bytes());
                out.extend_from_slice(b"\"},\"valueCodeableConcept\":{\"text\":\"");
                out.extend_from_slice(state.as_bytes());
                out.extend_from_slice(b"\"}}");
            }
            out.push(b']');
        }
        out.extend_from_slice(b"}}]}");
    }
}

/// One finding's resource as a bundle entry, followed by a comma (nothing for a
/// hypothetical mention).
fn write_entry(
    f: &FindingReport<'_>,
    start: usize,
    end: usize,
    doc: &str,
    subject: &str,
    out: &mut Vec<u8>,
) {
    match f.assertion {
        "hypothetical" => {}
        "family" => {
            out.extend_from_slice(b"{\"resource\":{\"resourceType\":\"FamilyMemberHistory\"");
            common(out, f, start, end);
            out.extend_from_slice(b",\"status\":\"partial\",\"patient\":{\"display\":");
            str(out, subject);
            let (code, display) = relationship(f.trigger);
            out.extend_from_slice(b"},\"relationship\":{\"coding\":[{\"system\":");
            str(out, ROLE_SYSTEM);
            out.extend_from_slice(b",\"code\":");
            str(out, code);
            out.extend_from_slice(b",\"display\":");
            str(out, display);
            out.extend_from_slice(b"}],\"text\":");
            str(out, display);
            out.extend_from_slice(b"},\"condition\":[{\"code\":");
            code_of(out, f);
            out.extend_from_slice(b"}]}},");
        }
        assertion => {
            out.extend_from_slice(b"{\"resource\":{\"resourceType\":\"Condition\"");
            common(out, f, start, end);
            if assertion == "present" {
                out.extend_from_slice(b",\"clinicalStatus\":");
                status(out, CLINICAL_SYSTEM, "active");
            }
            let verification = match assertion {
                "possible" => "unconfirmed",
                "negated" => "refuted",
                _ => "confirmed",
            };
            out.extend_from_slice(b",\"verificationStatus\":");
            status(out, VERIFICATION_SYSTEM, verification);
            out.extend_from_slice(b",\"code\":");
            code_of(out, f);
            out.extend_from_slice(b",\"subject\":{\"display\":");
            str(out, subject);
            out.extend_from_slice(b"},\"evidence\":[{\"detail\":[{\"reference\":");
            str(out, doc);
            out.extend_from_slice(b"}]}]}},");
        }
    }
}

/// `meta` with the NLP tag.
fn meta(out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"tag\":[{\"system\":");
    str(out, NLP_TAG_SYSTEM);
    out.extend_from_slice(b",\"code\":\"nlp-derived\",\"display\":");
    str(
        out,
        concat!(
            "Derived from note text by calcinosis-ls ",
            env!("CARGO_PKG_VERSION")
        ),
    );
    out.extend_from_slice(b"}]}");
}

/// `meta` and the mention extension, after `resourceType`.
fn common(out: &mut Vec<u8>, f: &FindingReport<'_>, start: usize, end: usize) {
    let mut n = itoa::Buffer::new();
    out.extend_from_slice(b",\"meta\":");
    meta(out);
    out.extend_from_slice(b",\"extension\":[{\"url\":");
    str(out, MENTION_URL);
    out.extend_from_slice(b",\"extension\":[{\"url\":\"start\",\"valueInteger\":");
    out.extend_from_slice(n.format(start).as_bytes());
    out.extend_from_slice(b"},{\"url\":\"end\",\"valueInteger\":");
    out.extend_from_slice(n.format(end).as_bytes());
    out.extend_from_slice(b"},{\"url\":\"text\",\"valueString\":");
    fhir_string(out, f.text);
    out.extend_from_slice(b"},{\"url\":\"assertion\",\"valueCode\":");
    str(out, f.assertion);
    if let Some(t) = f.trigger.map(str::trim).filter(|t| !t.is_empty()) {
        out.extend_from_slice(b"},{\"url\":\"trigger\",\"valueString\":");
        fhir_string(out, t);
    }
    // A lexicon pattern's `value` group ("1:640").
    if let Some(v) = f.value.filter(|v| !v.trim().is_empty()) {
        out.extend_from_slice(b"},{\"url\":\"value\",\"valueString\":");
        fhir_string(out, v);
    }
    out.extend_from_slice(b"}]}]");
}

/// A `CodeableConcept` with the term's codes and its name.
fn code_of(out: &mut Vec<u8>, f: &FindingReport<'_>) {
    out.push(b'{');
    let codings: Vec<(&str, &str)> = [
        (ICD10CM_SYSTEM, f.codes.icd10cm.as_deref()),
        (SNOMED_SYSTEM, f.codes.snomedct.as_deref()),
    ]
    .into_iter()
    .filter_map(|(s, c)| c.map(|c| (s, c)))
    .collect();
    if !codings.is_empty() {
        out.extend_from_slice(b"\"coding\":[");
        for (i, (system, code)) in codings.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"system\":");
            str(out, system);
            out.extend_from_slice(b",\"code\":");
            str(out, code);
            out.push(b'}');
        }
        out.extend_from_slice(b"],");
    }
    out.extend_from_slice(b"\"text\":");
    fhir_string(out, f.term);
    out.push(b'}');
}

/// A status `CodeableConcept` with one coding.
fn status(out: &mut Vec<u8>, system: &str, code: &str) {
    out.extend_from_slice(b"{\"coding\":[{\"system\":");
    str(out, system);
    out.extend_from_slice(b",\"code\":");
    str(out, code);
    out.extend_from_slice(b"}]}");
}

/// A JSON string, as serde_json escapes it.
fn str(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// A FHIR `string`: no control characters but tab, CR and LF (FHIR forbids the others,
/// and XML cannot carry them), no white space at either end, never empty.
fn fhir_string(out: &mut Vec<u8>, s: &str) {
    let s = s.trim();
    if s.is_empty() {
        return str(out, "-");
    }
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
    {
        let clean: String = s
            .chars()
            .map(|c| {
                if c.is_control() && !matches!(c, '\t' | '\r' | '\n') {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        str(out, &clean);
    } else {
        str(out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Analyzer;
    use crate::corpus::Corpus;
    use crate::document::Document;
    use serde_json::Value;

    fn bundle(text: &str) -> Value {
        let corpus = Corpus::embedded().unwrap();
        let analyzer = Analyzer::new(&corpus);
        let analysis = analyzer.analyze(text);
        let doc = Document::new(text.to_string());
        let found = crate::report::findings(&analyzer, &doc, &analysis);
        let mut out = Vec::new();
        write_bundle(
            doc.text(),
            &found,
            &CrestReport::from(&analysis.crest),
            "note-7",
            &mut out,
        );
        serde_json::from_slice(&out).expect("valid JSON")
    }

    fn ext<'a>(r: &'a Value, url: &str) -> &'a Value {
        r["extension"][0]["extension"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["url"] == url)
            .unwrap_or_else(|| panic!("{url} in {r}"))
    }

    #[test]
    fn every_assertion_maps_as_documented() {
        let text = "Denies Raynaud's. Possible calcinosis. History of sclerodactyly.\n\
                    Telangiectasia on the lips. Her sister has dysphagia.\n\
                    If CREST develops, return.";
        let b = bundle(text);
        assert_eq!(b["resourceType"], "Bundle");
        assert_eq!(b["type"], "collection");
        let entries: Vec<&Value> = b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["resource"])
            .collect();
        let of = |term: &str| {
            entries
                .iter()
                .find(|r| r["code"]["text"] == term || r["condition"][0]["code"]["text"] == term)
                .unwrap_or_else(|| panic!("{term} in {b}"))
        };
        let rp = of("Raynaud's phenomenon");
        assert_eq!(rp["resourceType"], "Condition");
        assert_eq!(rp["verificationStatus"]["coding"][0]["code"], "refuted");
        assert!(rp.get("clinicalStatus").is_none());
        assert_eq!(
            rp["code"]["coding"][0],
            serde_json::json!({"system": ICD10CM_SYSTEM, "code": "I73.00"})
        );
        assert_eq!(
            rp["evidence"][0]["detail"][0]["reference"],
            "DocumentReference/note-7"
        );
        assert_eq!(ext(rp, "start")["valueInteger"], 7);
        assert_eq!(ext(rp, "end")["valueInteger"], 16);
        assert_eq!(ext(rp, "trigger")["valueString"], "Denies");
        assert_eq!(rp["meta"]["tag"][0]["code"], "nlp-derived");
        let c = of("calcinosis");
        assert_eq!(c["verificationStatus"]["coding"][0]["code"], "unconfirmed");
        let s = of("sclerodactyly");
        assert_eq!(s["verificationStatus"]["coding"][0]["code"], "confirmed");
        assert!(
            s.get("clinicalStatus").is_none(),
            "historical: no status claimed"
        );
        assert!(s.get("onsetDateTime").is_none() && s.get("abatementDateTime").is_none());
        let t = of("telangiectasia");
        assert_eq!(t["clinicalStatus"]["coding"][0]["code"], "active");
        assert_eq!(t["verificationStatus"]["coding"][0]["code"], "confirmed");
        let e = of("esophageal dysfunction");
        assert_eq!(e["resourceType"], "FamilyMemberHistory");
        assert_eq!(e["relationship"]["coding"][0]["code"], "SIS");
        assert_eq!(e["condition"][0]["code"]["coding"][0]["code"], "K22.4");
        assert!(
            !entries
                .iter()
                .any(|r| r["code"]["text"] == "CREST syndrome"),
            "hypothetical: nothing"
        );
        let obs = entries.last().unwrap();
        assert_eq!(obs["resourceType"], "Observation");
        assert_eq!(
            obs["derivedFrom"][0]["reference"],
            "DocumentReference/note-7"
        );
        let comps: Vec<(String, String)> = obs["component"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["code"]["text"].as_str().unwrap().to_string(),
                    c["valueCodeableConcept"]["text"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect();
        assert_eq!(comps[0], ("CREST C".to_string(), "possible".to_string()));
        assert!(comps.contains(&("CREST R".to_string(), "negated".to_string())));
    }

    #[test]
    fn relationships_from_triggers() {
        assert_eq!(relationship(Some("Mother")), ("MTH", "mother"));
        assert_eq!(relationship(Some("maternal grandmother")).0, "GRMTH");
        assert_eq!(relationship(Some("sister's")).0, "SIS");
        assert_eq!(relationship(Some("parents")).0, "PRN");
        assert_eq!(relationship(Some("family history of")).0, "FAMMEMB");
        assert_eq!(relationship(Some("Sonography")).0, "FAMMEMB");
        assert_eq!(relationship(None).0, "FAMMEMB");
    }

    #[test]
    fn ids() {
        assert!(is_id("note-1.txt"));
        assert!(!is_id("a b") && !is_id("") && !is_id(&"a".repeat(65)) && !is_id("é"));
        assert_eq!(id_from_json("12").as_deref(), Some("12"));
        assert_eq!(id_from_json("\"n-12\"").as_deref(), Some("n-12"));
        assert_eq!(id_from_json("\"n 12\""), None);
        assert_eq!(id_from_json("null"), None);
        assert_eq!(id_from_file("dir/x/n-1.txt").as_deref(), Some("n-1.txt"));
        assert_eq!(id_from_file("dir/a b.txt"), None);
    }

    #[test]
    fn strings_are_fhir_strings() {
        let mut out = Vec::new();
        fhir_string(&mut out, " a\u{1}b\n ");
        assert_eq!(out, b"\"a b\"");
    }
}
