//! `check` at scale, as a user runs it: JSON Lines in and out, directories, many cores,
//! closed pipes and one-line notes.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

use common::cli::run;
use serde_json::Value;

fn lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

const SECRET: &str = "Zebulon";

#[test]
fn jsonl_records_echo_their_ids_and_errors_stay_in_the_stream() {
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"note_id\": \"a\", \"text\": \"Denies RP.\"}\n");
    input.extend_from_slice(b"{\"note_id\": 2, \"body\": \"no text field\"}\n\n");
    input.extend_from_slice(format!("{{\"note_id\": 3, \"text\": \"{SECRET}\n").as_bytes());
    input.extend_from_slice(format!("{{\"note_id\": 4, \"text\": \"{SECRET} ").as_bytes());
    input.extend_from_slice(b"\xff\"}\n");
    input.extend_from_slice(b"{\"note_id\": 5, \"text\": 12}\n");
    input.extend_from_slice(b"{\"text\": \"Possible calcinosis.\", \"note_id\": {\"mrn\": 9}}\n");
    let o = run(
        &[
            "check",
            "--format",
            "jsonl",
            "--input",
            "jsonl",
            "--id-field",
            "note_id",
        ],
        Some(&input),
    );
    assert_eq!(o.status.code(), Some(2));
    let out = lines(&o);
    assert_eq!(out.len(), 6, "one object per record, blank lines skipped");
    assert_eq!(out[0]["note_id"], "a");
    assert_eq!(out[0]["line"], 1);
    assert_eq!(out[0]["findings"][0]["assertion"], "negated");
    assert_eq!(out[0]["crest"]["negated"], serde_json::json!(["R"]));
    assert_eq!(out[1]["note_id"], 2);
    assert_eq!(out[1]["error"], "no \"text\" field");
    assert_eq!(out[2]["line"], 4);
    assert!(out[2]["error"]
        .as_str()
        .unwrap()
        .starts_with("not a JSON object"));
    assert!(out[3]["error"]
        .as_str()
        .unwrap()
        .starts_with("not valid UTF-8"));
    assert_eq!(out[4]["error"], "\"text\" is not a string");
    assert_eq!(out[5]["note_id"], serde_json::json!({"mrn": 9}));
    assert_eq!(out[5]["findings"][0]["assertion"], "possible");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("4 input(s) could not be analysed"), "{err}");
    for e in out.iter().filter_map(|v| v["error"].as_str()) {
        assert!(!e.contains(SECRET), "an error quotes the note: {e}");
    }
    assert!(!err.contains(SECRET));

    // An id field named like one of the report's own keys would be written twice.
    let o = run(
        &["check", "--input", "jsonl", "--id-field", "line", "-"],
        Some(b"{\"line\": 7, \"text\": \"Denies RP.\"}\n"),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("'line' is a key of the report itself"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn directories_are_walked_in_name_order_with_a_glob() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("b");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(dir.path().join("c.txt"), "No RP.").unwrap();
    std::fs::write(dir.path().join("a.txt"), "Sclerodactyly.").unwrap();
    std::fs::write(dir.path().join("skip.md"), "Calcinosis.").unwrap();
    std::fs::write(sub.join("x.txt"), b"Dysphagia \xc3\x28").unwrap();
    let d = dir.path().to_str().unwrap();
    let o = run(&["check", "--format", "jsonl", "--glob", "*.txt", d], None);
    assert_eq!(o.status.code(), Some(2), "b/x.txt is not UTF-8");
    let out = lines(&o);
    let files: Vec<&str> = out.iter().map(|v| v["file"].as_str().unwrap()).collect();
    assert_eq!(files.len(), 3);
    assert!(
        files[0].ends_with("a.txt") && files[2].ends_with("c.txt"),
        "{files:?}"
    );
    assert!(files[1].ends_with("x.txt"));
    assert!(out[1]["error"]
        .as_str()
        .unwrap()
        .starts_with("not valid UTF-8 at byte 10"));

    // --format json: one array, valid JSON, the same reports, the error in its place.
    let o = run(&["check", "--format", "json", "--glob", "*.txt", d], None);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(v[0]["findings"][0]["term"], "sclerodactyly");
    assert!(v[1]["error"]
        .as_str()
        .unwrap()
        .starts_with("not valid UTF-8 at byte 10"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 input(s) could not be analysed"), "{err}");
}

#[test]
fn output_order_is_input_order_on_any_number_of_cores() {
    let mut input = String::new();
    for i in 0..300 {
        // Uneven sizes, so that notes finish out of order.
        let text = "Denies RP. Sclerodactyly present. ".repeat(1 + (i * 37) % 50);
        input.push_str(&serde_json::json!({"id": i, "text": text}).to_string());
        input.push('\n');
    }
    let one = run(
        &[
            "check", "--format", "jsonl", "--input", "jsonl", "--jobs", "1",
        ],
        Some(input.as_bytes()),
    );
    let four = run(
        &[
            "check", "--format", "jsonl", "--input", "jsonl", "--jobs", "4",
        ],
        Some(input.as_bytes()),
    );
    assert!(one.status.success() && four.status.success());
    assert_eq!(one.stdout, four.stdout);
    let ids: Vec<i64> = lines(&four)
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, (0..300).collect::<Vec<_>>());
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    let mut input = String::new();
    for i in 0..20_000 {
        input.push_str(&format!("{{\"id\": {i}, \"text\": \"Denies RP.\"}}\n"));
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_calcinosis-ls"))
        .args(["check", "--format", "jsonl", "--input", "jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("{\"id\":0,"), "{first}");
    // The reader goes away, as `head -1` does.
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn text_output_on_a_one_line_note_shows_snippets_not_the_line() {
    let note = "Denies RP and reports sclerodactyly, ".repeat(20_000);
    let o = run(&["check", "-"], Some(note.as_bytes()));
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    let findings = out.lines().filter(|l| l.starts_with("-:1:")).count();
    assert_eq!(findings, 40_000);
    // The first 200 findings have a snippet (two more lines), the others one line each.
    let snippet_lines = out.lines().filter(|l| l.starts_with("1 | ")).count();
    assert_eq!(snippet_lines, 200);
    assert!(out.contains("-: snippets shown for the first 200 of 40000 findings"));
    // One short line per finding beyond the first 200 (the 10 MB worst case stays small).
    assert!(
        out.len() < 200 * 600 + 100 * findings,
        "{} bytes",
        out.len()
    );
    let second = out.lines().nth(1).unwrap();
    assert!(second.starts_with("1 | Denies RP and") && second.ends_with('…'));
    let caret = out.lines().nth(2).unwrap();
    assert_eq!(caret.trim_start_matches([' ', '|']), "^^");
    let last = out.lines().rfind(|l| l.starts_with("-:1:")).unwrap();
    assert!(last.ends_with("— \"sclerodactyly\""), "{last}");

    // --snippets sets the number (0: summaries only).
    let o = run(&["check", "--snippets", "0", "-"], Some(note.as_bytes()));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().filter(|l| l.starts_with("1 | ")).count(), 0);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("-:1:")).count(),
        40_000
    );
}

/// Regression: a byte-order mark shifted every column by one, and UTF-16 without one was
/// read as text (NUL after every letter); a 100 KB `--term` hung the matcher's build.
#[test]
fn byte_order_marks_utf16_and_long_terms() {
    let dir = tempfile::tempdir().unwrap();
    let bom = dir.path().join("bom.txt");
    std::fs::write(&bom, b"\xEF\xBB\xBFDenies RP.").unwrap();
    let o = run(&["check", "--format", "jsonl", bom.to_str().unwrap()], None);
    let out = lines(&o);
    let f = &out[0]["findings"][0];
    assert_eq!(f["range"]["start"]["character"], 7, "{f}");

    let le: Vec<u8> = "Denies Raynaud's phenomenon."
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    for (name, bytes) in [
        ("le.txt", le.clone()),
        ("bom16.txt", [&[0xFF, 0xFE][..], &le].concat()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let o = run(&["check", path.to_str().unwrap()], None);
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("UTF-16, not UTF-8"),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    let long = "x".repeat(100_000);
    let o = run(&["check", "--term", &long, bom.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("at most 200"));
}

/// Reads one line of the child's output on a thread, giving up after `limit` (a hang fails
/// the test instead of stalling it).
fn line_within(
    out: &std::sync::mpsc::Receiver<String>,
    limit: std::time::Duration,
) -> Option<String> {
    out.recv_timeout(limit).ok()
}

#[test]
fn a_record_typed_into_a_pipe_is_answered_before_the_next_arrives() {
    // Notes are handed to the cores in groups; a group must still go as soon as the reader
    // would wait, or a record typed into a pipe waits for 63 more (or for the end).
    let mut child = Command::new(env!("CARGO_BIN_EXE_calcinosis-ls"))
        .args(["check", "--format", "jsonl", "--input", "jsonl", "-j", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let limit = std::time::Duration::from_secs(10);
    for i in 0..3 {
        // A record in two writes, the second a moment later: the first half must not be
        // taken for a record, and the whole one is answered while stdin stays open.
        stdin
            .write_all(format!("{{\"id\": {i}, \"text\": \"Denies RP").as_bytes())
            .unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        stdin.write_all(b". Has sclerodactyly.\"}\n").unwrap();
        stdin.flush().unwrap();
        let line = line_within(&rx, limit)
            .unwrap_or_else(|| panic!("record {i} was not answered within {limit:?}"));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["id"], i, "{line}");
        assert!(v["findings"].as_array().is_some_and(|f| !f.is_empty()));
    }
    drop(stdin);
    assert!(line_within(&rx, limit).is_none(), "nothing more to say");
    let out = child.wait_with_output().unwrap();
    reader.join().unwrap();
    assert_eq!(out.status.code(), Some(0));
}
