//! Issue 25, "Reading real notes, round 2", end to end: the real binary's `check` output
//! (JSON and JSONL) and its hover over stdio JSON-RPC, for lay wording, device codes and
//! headers joined into a line. The assertion figures per class are in tests/assertions.rs.

mod common;

use common::cli::{run, stdout};
use common::{pos_of, Client};
use serde_json::{json, Value};

/// An exported note: sections joined on one line, a stapler's code, lay wording.
const NOTE: &str = "HPI: She has difficulty swallowing solids and her fingers turn white in the cold.,PROCEDURE: , Informed consent was obtained from the parents and patient.,The gastrotomy was closed with an RP-45 stapler.\n";

fn findings(v: &Value) -> Vec<(String, String, String, bool)> {
    v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["text"].as_str().unwrap_or("").to_string(),
                        f["term"].as_str().unwrap_or("").to_string(),
                        f["assertion"].as_str().unwrap_or("").to_string(),
                        f["lay"] == true,
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn check_json_marks_lay_wording_and_ignores_device_codes_and_joined_headers() {
    let o = run(&["check", "--format", "json", "-"], Some(NOTE.as_bytes()));
    assert!(o.status.success());
    let v: Value = serde_json::from_slice(&o.stdout).expect("json report");
    let got = findings(&v[0]);
    // Exactly two findings: no Raynaud's from "RP-45", and neither is the parents'.
    assert_eq!(
        got,
        [
            (
                "difficulty swallowing".to_string(),
                "esophageal dysfunction".to_string(),
                "present".to_string(),
                true
            ),
            (
                "fingers turn white".to_string(),
                "Raynaud's phenomenon".to_string(),
                "present".to_string(),
                true
            ),
        ],
        "{}",
        stdout(&o)
    );
    assert_eq!(v[0]["crest"]["present"], json!(["R", "E"]));
    // A listed form is not lay wording, and says nothing about it.
    let o = run(
        &["check", "--format", "json", "-"],
        Some(b"Dysphagia to solids. RP since 2019.\n"),
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("json report");
    let f = v[0]["findings"].as_array().expect("findings");
    assert_eq!(f.len(), 2, "{v}");
    assert!(f.iter().all(|f| f.get("lay").is_none()), "{v}");
}

#[test]
fn check_jsonl_and_text_say_lay_wording() {
    let o = run(&["check", "--format", "jsonl", "-"], Some(NOTE.as_bytes()));
    assert!(o.status.success());
    let out = stdout(&o);
    let line = out.lines().next().expect("one report line");
    let v: Value = serde_json::from_str(line).expect("jsonl line");
    let got = findings(&v);
    assert_eq!(got.len(), 2, "{out}");
    assert!(got.iter().all(|f| f.3), "{out}");
    let o = run(&["check", "-"], Some(NOTE.as_bytes()));
    let out = stdout(&o);
    assert!(
        out.contains("E (esophageal dysfunction) present, lay wording"),
        "{out}"
    );
    assert!(!out.contains("RP-45\""), "{out}");
}

#[test]
fn hover_names_lay_wording() {
    let uri = "file:///notes/lay.txt";
    let mut c = Client::start();
    c.initialize(&[], json!({}));
    c.open(uri, "plaintext", NOTE);
    let r = c.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos_of(NOTE, "swallowing", false)}),
    );
    let text = r["contents"]["value"].as_str().unwrap_or("").to_string();
    assert!(text.contains("**In this note:** present"), "{text}");
    assert!(
        text.contains("“difficulty swallowing” = esophageal dysfunction (lay wording)"),
        "{text}"
    );
    // The stapler's code has no hover: it is not Raynaud's phenomenon.
    let r = c.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos_of(NOTE, "RP-45", false)}),
    );
    assert_eq!(r, Value::Null);
    c.shutdown();
}
