//! The command line: `ask`, `check` and `index` run as a user runs them.

mod common;

use std::process::{Command, Stdio};

use common::cli::{run, stdout};
use serde_json::Value;

#[test]
fn ask_prints_jdm_statements_first_with_citations() {
    let o = run(
        &[
            "ask",
            "what is calcinosis associated with in juvenile dermatomyositis",
        ],
        None,
    );
    assert!(o.status.success());
    let out = stdout(&o);
    let numbered: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert!(
        numbered[..3]
            .iter()
            .all(|l| l.contains("JDM") && l.ends_with("(source 1 of the seed document)")),
        "{out}"
    );
    assert!(out.contains("Primary Connective Tissue Disease Associations › Dermatomyositis"));

    let o = run(
        &["ask", "anticentromere", "--format", "json", "--limit", "3"],
        None,
    );
    let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows[0]["text"], "Positive anticentromere antibody");
    assert_eq!(
        rows[0]["section"],
        "Primary Connective Tissue Disease Associations › Systemic Sclerosis"
    );
    for key in ["id", "section", "text", "citations", "line", "score"] {
        assert!(rows[0].get(key).is_some(), "missing {key}");
    }
}

#[test]
fn ask_reads_questions_from_stdin() {
    let o = run(
        &["ask", "--format", "json", "--limit", "1"],
        Some(b"spinal calcinosis surgery\n\nelbows\n"),
    );
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // One JSON value per input line: the blank line gets `[]` (issue 21, D7).
    assert_eq!(lines.len(), 3);
    assert!(lines[0][0]["text"]
        .as_str()
        .unwrap()
        .contains("spinal calcinosis"));
    assert_eq!(lines[1], serde_json::json!([]));
    assert!(lines[2][0]["text"].as_str().unwrap().contains("elbows"));
}

#[test]
fn check_text_and_json() {
    let note = "Family History: mother with SSc.\n\nShe denies Raynaud’s 😀 but reports sclerodactyly.\nTelangectasia noted. Possible calcinosis cutis.\n";
    let o = run(&["check", "-"], Some(note.as_bytes()));
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.contains("-:3:12: R (Raynaud's phenomenon) negated by \"denies\" — \"Raynaud’s\""),
        "{out}"
    );
    assert!(
        out.contains("-:1:29: disease (systemic sclerosis) family by \"mother\""),
        "{out}"
    );
    assert!(out.contains("misspelling of \"telangiectasia\""), "{out}");
    assert!(
        out.contains("-: CREST 2/5 documented: S T; possible: C; negated: R"),
        "{out}"
    );

    let o = run(
        &["check", "--format", "json", "--term", "morphea", "-"],
        Some("No morphea. Raynaud's 😀 present.\n".as_bytes()),
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = &v[0]["findings"];
    assert_eq!(f[0]["term"], "morphea");
    assert_eq!(f[0]["category"], "ad-hoc");
    assert_eq!(f[0]["assertion"], "negated");
    assert_eq!(f[0]["trigger"], "No");
    assert_eq!(f[1]["crest"], "R");
    assert_eq!(f[1]["assertion"], "present");
    assert_eq!(f[1]["trigger"], "present");
    // UTF-16 columns, like LSP: the emoji counts two.
    assert_eq!(f[1]["range"]["start"]["character"], 12);
    assert_eq!(f[1]["misspelling"], false);
    assert_eq!(v[0]["crest"]["present"], serde_json::json!(["R"]));
}

/// A misspelled term is flagged wherever the term written right would be found: after an
/// apostrophe ("RP'sclerodactyly" finds sclerodactyly, so "RP'sclerodactily" is flagged as
/// "RP'telangectasia" always was), and with a possessive, a plural or a stray "s"
/// ("Reynaud's", "Reynauds", "Reynaud s").
/// Before, an "s" after "X'" was read as the possessive ending of "X" (a copy of an old
/// scan's quirk), so "RP'sclerodactily" and "Raynaud'sclerodactily" were not flagged.
#[test]
fn misspellings_are_flagged_where_the_right_spelling_is_found() {
    let note = "Reynaud's. Reynauds. Reynaud s.\n\
                RP'sclerodactyly. RP'sclerodactily. RP'telangectasia.\n\
                Raynaud'sclerodactyly. Raynaud'sclerodactily.\n";
    let o = run(&["check", "--format", "json", "-"], Some(note.as_bytes()));
    assert!(o.status.success());
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let got: Vec<(String, String, bool)> = v[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["text"].as_str().unwrap().to_string(),
                f["term"].as_str().unwrap().to_string(),
                f["misspelling"].as_bool().unwrap(),
            )
        })
        .collect();
    let row = |text: &str, term: &str, misspelling: bool| (text.into(), term.into(), misspelling);
    let rp = "Raynaud's phenomenon";
    assert_eq!(
        got,
        [
            row("Reynaud's", rp, true),
            row("Reynauds", rp, true),
            row("Reynaud", rp, true),
            row("RP", rp, false),
            row("sclerodactyly", "sclerodactyly", false),
            row("RP", rp, false),
            row("sclerodactily", "sclerodactyly", true),
            row("RP", rp, false),
            row("telangectasia", "telangiectasia", true),
            row("Raynaud", rp, false),
            row("sclerodactyly", "sclerodactyly", false),
            row("Raynaud", rp, false),
            row("sclerodactily", "sclerodactyly", true),
        ]
    );
}

#[test]
fn check_reports_unreadable_and_non_utf8_files() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, b"Denies RP.\n\xc3\x28 oops").unwrap();
    let o = run(&["check", bad.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.txt: not valid UTF-8 at byte 11"), "{err}");
    let o = run(&["check", "/nonexistent/note.txt"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/note.txt: cannot read"));
}

#[test]
fn index_command_builds_and_ask_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let ix = dir.path().join("ix");
    let o = run(&["index", "--out", ix.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout(&o).starts_with("indexed 45 statements"),
        "{}",
        stdout(&o)
    );
    let o = run(&["ask", "--index", ix.to_str().unwrap(), "elbows"], None);
    assert!(o.status.success());
    assert!(
        o.stderr.is_empty(),
        "an up-to-date index is opened silently"
    );
    // Damage the current generation: the index is rebuilt, not crashed on.
    let marker: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ix.join(calcinosis_ls::index::MARKER)).unwrap(),
    )
    .unwrap();
    let generation = ix.join(marker["generation"].as_str().unwrap());
    std::fs::write(generation.join("meta.json"), "garbage").unwrap();
    let o = run(&["ask", "--index", ix.to_str().unwrap(), "elbows"], None);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("rebuilt the index"));
    assert!(stdout(&o).contains("elbows"));
}

#[test]
fn version_and_help() {
    let o = run(&["--version"], None);
    assert!(stdout(&o).starts_with("calcinosis-ls "));
    let o = run(&["--help"], None);
    let out = stdout(&o);
    for cmd in ["serve", "ask", "check", "index"] {
        assert!(out.contains(cmd), "{out}");
    }
}

/// Regression: processes sharing one index directory failed (28 of 36), some told that our
/// own index, mid-build, "holds no calcinosis-ls index".
#[test]
fn processes_sharing_one_index_directory_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let ix = dir.path().join("shared");
    let ix = ix.to_str().unwrap();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let args: &[&str] = if i % 2 == 0 {
                &["index", "--out", ix]
            } else {
                &["ask", "--index", ix, "elbows"]
            };
            Command::new(env!("CARGO_BIN_EXE_calcinosis-ls"))
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = run(&["ask", "--index", ix, "elbows"], None);
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let generations = std::fs::read_dir(ix)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("gen-"))
        .count();
    assert_eq!(generations, 1, "old generations are removed");
}

/// Regression: `--limit 18446744073709551615` panicked and `--limit 4294967296` tried to
/// allocate 137 GB; a question of any length is answered from its first 2 KB.
#[test]
fn ask_limit_is_a_range_and_long_questions_are_bounded() {
    for limit in ["0", "101", "4294967296", "18446744073709551615"] {
        let o = run(&["ask", "--limit", limit, "elbows"], None);
        assert_eq!(o.status.code(), Some(2), "--limit {limit}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("--limit") && !err.contains("panicked"),
            "{err}"
        );
    }
    let long = format!("{}\n", "calcinosis treatment ".repeat(100_000));
    let o = run(&["ask", "--limit", "3"], Some(long.as_bytes()));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Regression: `ask … | head` printed "Broken pipe (os error 32)" and exited 2 when the
/// reader went away; a closed pipe ends the answer quietly, as it ends `check`.
#[test]
fn ask_into_a_closed_pipe_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_calcinosis-ls"))
        .args(["ask", "--limit", "5", "how is calcinosis treated"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader is gone before anything is written (building the index comes first).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn a_question_mark_on_one_list_item_doubts_that_item_alone() {
    // "?telangiectasia" doubts T; R and S stay documented (all three were "possible", CREST
    // 0/5, before issue 26). A question mark ending the sentence still doubts all of it.
    let o = run(
        &["check"],
        Some(b"Raynaud phenomenon, sclerodactyly, ?telangiectasia.\n"),
    );
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.contains("CREST 2/5 documented: R S; possible: T; negated: none"),
        "{out}"
    );
    let o = run(&["check"], Some(b"Raynaud phenomenon and sclerodactyly?\n"));
    let out = stdout(&o);
    assert!(
        out.contains("CREST 0/5 documented: none; possible: R S;"),
        "{out}"
    );
}

#[test]
fn check_puts_the_caret_under_the_mention_after_wide_and_combining_characters() {
    // Display columns before "calcinosis": "Café " 5 (a precomposed é), "e\u{301}" 1 (a
    // combining accent takes none), " 😀 " 4 (the emoji takes two), "日本語 " 7 (two each):
    // 17. Counting characters put the caret 3 columns right of the word.
    let o = run(
        &["check"],
        Some("Café e\u{301} 😀 日本語 calcinosis.\n".as_bytes()),
    );
    assert!(o.status.success());
    let out = stdout(&o);
    let caret = out
        .lines()
        .find(|l| l.contains('^'))
        .unwrap_or_else(|| panic!("no caret line: {out}"));
    assert_eq!(
        caret,
        format!("  | {}{}", " ".repeat(17), "^".repeat(10)),
        "{out}"
    );
}
