//! Issue 22 on the command line: codes in every JSON finding, `check --format fhir` and
//! `--format omop` as a user runs them (the real binary). The registry, validator and
//! database checks are python/tests (test_codes.py, test_fhir.py, test_omop_postgres.py).

mod common;

use common::cli::{run, stdout};
use serde_json::Value;

/// A phrase no error message may echo (notes are protected health information).
const CANARY: &str = "Zebulon Quartermaine";

fn records(n: usize) -> String {
    (1..=n)
        .map(|i| {
            format!(
                "{{\"id\": {i}, \"text\": \"{CANARY} denies Raynaud's. Mother has calcinosis. \
                 History of sclerodactyly. anti-PM/Scl positive.\"}}\n"
            )
        })
        .collect()
}

#[test]
fn every_json_finding_carries_its_codes() {
    for format in ["json", "jsonl"] {
        let out = run(
            &["check", "--format", format, "--input", "jsonl"],
            Some(records(1).as_bytes()),
        );
        assert_eq!(out.status.code(), Some(0));
        let text = stdout(&out);
        let note: Value = match format {
            "json" => serde_json::from_str::<Value>(&text).unwrap()[0].clone(),
            _ => serde_json::from_str(text.trim()).unwrap(),
        };
        let codes: Vec<(String, Value)> = note["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["term"].as_str().unwrap().to_string(), f["codes"].clone()))
            .collect();
        let of = |t: &str| {
            codes
                .iter()
                .find(|(term, _)| term == t)
                .map(|(_, c)| c.clone())
                .unwrap_or_else(|| panic!("{t} in {codes:?}"))
        };
        assert_eq!(
            of("Raynaud's phenomenon"),
            serde_json::json!({"icd10cm": "I73.00"})
        );
        assert_eq!(of("calcinosis"), serde_json::json!({"icd10cm": "L94.2"}));
        assert_eq!(of("sclerodactyly"), serde_json::json!({"icd10cm": "L94.3"}));
        assert_eq!(of("anti-PM/Scl antibody"), serde_json::json!({}));
        assert!(codes.iter().all(|(_, c)| c.is_object()), "in every finding");
    }
}

#[test]
fn omop_rows_are_numbered_across_notes_in_order() {
    let out = run(
        &[
            "check", "--format", "omop", "--input", "jsonl", "--jobs", "4",
        ],
        Some(records(300).as_bytes()),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "note_nlp_id,note_id,section_concept_id,snippet,offset,lexical_variant,\
             note_nlp_concept_id,note_nlp_source_concept_id,nlp_system,nlp_date,nlp_datetime,\
             term_exists,term_temporal,term_modifiers"
        )
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 300 * 4, "four findings a note");
    let mut last_note = 0;
    for (i, row) in rows.iter().enumerate() {
        let mut fields = row.splitn(3, ',');
        assert_eq!(fields.next(), Some((i + 1).to_string().as_str()), "{row}");
        let note: u32 = fields.next().unwrap().parse().unwrap();
        assert!(note >= last_note, "notes in input order");
        last_note = note;
    }
}

#[test]
fn a_note_without_a_usable_id_is_an_error_that_quotes_no_text() {
    let input = format!(
        "{}{{\"id\": \"n/a\", \"text\": \"{CANARY} has RP.\"}}\n{}",
        records(1),
        records(1).replace("\"id\": 1", "\"id\": 2")
    );
    for (format, what) in [("omop", "not an integer"), ("fhir", "not a FHIR id")] {
        let out = run(
            &["check", "--format", format, "--input", "jsonl"],
            Some(input.as_bytes()),
        );
        assert_eq!(out.status.code(), Some(2), "{format}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("line 2") && err.contains(what) && err.contains("--id-field"),
            "{err}"
        );
        assert!(!err.contains(CANARY), "{err}");
        let text = stdout(&out);
        // The other notes are still written, and nothing but their output.
        match format {
            "omop" => assert_eq!(text.lines().count(), 1 + 2 * 4),
            _ => {
                assert_eq!(text.lines().count(), 2);
                assert!(text
                    .lines()
                    .all(|l| l.starts_with("{\"resourceType\":\"Bundle\"")));
            }
        }
    }
}

#[test]
fn fhir_from_files_is_an_array_named_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let note = dir.path().join("visit-3.txt");
    std::fs::write(
        &note,
        "Possible telangiectasia. If dysphagia develops, return.\n",
    )
    .unwrap();
    let out = run(&["check", "--format", "fhir", note.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    let bundles: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let bundle = &bundles.as_array().unwrap()[0];
    let kinds: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Condition", "Observation"], "hypothetical: nothing");
    assert_eq!(
        bundle["entry"][0]["resource"]["evidence"][0]["detail"][0]["reference"],
        "DocumentReference/visit-3.txt"
    );
}

#[test]
fn omop_concepts_file_errors_name_the_line_not_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("concepts.csv");
    std::fs::write(
        &file,
        format!("vocabulary,code,concept_id\nICD10CM,{CANARY},x\n"),
    )
    .unwrap();
    let out = run(
        &[
            "check",
            "--format",
            "omop",
            "--omop-concepts",
            file.to_str().unwrap(),
        ],
        Some(b"RP"),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2") && err.contains("not an integer"),
        "{err}"
    );
    assert!(!err.contains(CANARY), "{err}");
    let missing = run(
        &[
            "check",
            "--format",
            "omop",
            "--omop-concepts",
            "/nonexistent/c.csv",
        ],
        Some(b"RP"),
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
}
