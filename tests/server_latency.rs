//! The language server's latency work (issue 24), against the real binary over stdio:
//! diagnostics runs coalesce keystrokes instead of waiting a fixed time (counted from the
//! server's debug log, which names versions and never note text), the engine is built
//! after `initialize` is answered and whatever needs it waits for it, and CREST
//! diagnostics stay small, with the source statement's location only for clients that
//! declare `relatedInformation`. No timings are asserted.

mod common;
#[path = "../benches/support/notegen.rs"]
mod notegen;

use common::Client;
use serde_json::{json, Value};

const URI: &str = "file:///tmp/latency-note.txt";

/// Versions the server analysed (a line of its debug log per analysis), in log order.
fn analysed_versions(log: &str) -> Vec<i64> {
    log.lines()
        .filter(|l| l.contains("pieces analysed"))
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("version="))
                .and_then(|v| v.parse().ok())
        })
        .collect()
}

fn debug_server() -> Client {
    Client::start_with(&["serve"], &[("RUST_LOG", "calcinosis_ls=debug")])
}

/// A burst of edits on a small note with default settings: no more analyses than edits,
/// and the last publication is for the last version.
#[test]
fn a_burst_of_edits_costs_at_most_one_analysis_each_and_ends_on_the_last_version() {
    let mut c = debug_server();
    c.initialize(&[], json!({}));
    let text = notegen::NoteGen::typical(3).document(100);
    c.open(URI, "plaintext", &text);
    c.diagnostics(URI, 1);
    let edits = 40;
    for i in 0..edits {
        let change = if i % 2 == 0 {
            json!({"range": {"start": {"line": 50, "character": 0}, "end": {"line": 50, "character": 0}}, "text": "x"})
        } else {
            json!({"range": {"start": {"line": 50, "character": 0}, "end": {"line": 50, "character": 1}}, "text": ""})
        };
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": URI, "version": i + 2}, "contentChanges": [change]}),
        );
    }
    let last = edits + 1;
    let diags = c.diagnostics(URI, last);
    assert!(
        !diags.is_empty(),
        "the last version's findings are published"
    );
    let log_path = c.stderr_path.clone();
    assert_eq!(c.shutdown(), Some(0));
    let log = std::fs::read_to_string(log_path).unwrap_or_default();
    let after_open: Vec<i64> = analysed_versions(&log)
        .into_iter()
        .filter(|&v| v > 1)
        .collect();
    assert!(
        after_open.len() as i64 <= edits,
        "{} analyses for {edits} edits: {after_open:?}",
        after_open.len()
    );
    assert_eq!(after_open.last(), Some(&last), "{after_open:?}");
}

/// A note slow to analyse (one 3 MB line: one piece, re-analysed whole at each edit),
/// edited keystroke by keystroke, each keystroke known to have reached the server (a
/// request after it was answered) before the next is sent. With `debounceMs` 0 every
/// keystroke started an analysis of its own (as many at once as the blocking pool had
/// threads, then the rest queued); now keystrokes that arrive while an analysis runs are
/// gathered into the next one.
#[test]
fn keystrokes_on_a_slow_note_are_not_each_analysed() {
    keystrokes_on_a_slow_note(json!({"diagnostics": {"debounceMs": 0}}));
}

/// The same with default settings: the first keystroke's run waits (the note's last run
/// was slow), so the burst gathers into it.
#[test]
fn keystrokes_on_a_slow_note_with_default_settings_are_not_each_analysed() {
    keystrokes_on_a_slow_note(json!({}));
}

fn keystrokes_on_a_slow_note(options: Value) {
    let mut c = debug_server();
    c.initialize(&[], options);
    let text = notegen::NoteGen::typical(5).one_line(4 << 20);
    c.open(URI, "plaintext", &text);
    c.diagnostics(URI, 1);
    let keystrokes = 20;
    for i in 0..keystrokes {
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": URI, "version": i + 2}, "contentChanges": [
                {"range": {"start": {"line": 0, "character": i}, "end": {"line": 0, "character": i}}, "text": "z"}
            ]}),
        );
        // Answered once the edit before it was applied (handlers start in arrival order);
        // needs the engine only, never the note's analysis.
        let r = c.request("workspace/symbol", json!({"query": "calcinosis"}));
        assert!(r.get("error").is_none(), "{r}");
    }
    let last = keystrokes + 1;
    c.diagnostics(URI, last);
    let log_path = c.stderr_path.clone();
    assert_eq!(c.shutdown(), Some(0));
    let log = std::fs::read_to_string(log_path).unwrap_or_default();
    let after_open: Vec<i64> = analysed_versions(&log)
        .into_iter()
        .filter(|&v| v > 1)
        .collect();
    // The first keystroke's run starts at once (debounce 0); the rest arrive while it
    // analyses and make one more run. It was five: a version per blocking thread (four),
    // one of them twice, and then the last.
    assert!(
        after_open.len() <= 3,
        "{} analyses for {keystrokes} keystrokes on a slow note: {after_open:?}",
        after_open.len()
    );
    let mut distinct = after_open.clone();
    distinct.dedup();
    assert_eq!(distinct, after_open, "a version analysed twice");
    assert_eq!(after_open.last(), Some(&last), "{after_open:?}");
}

/// `initialize` is answered before the knowledge base is built (the log says so, in that
/// order), and a hover and a completion sent at once after it wait for the build rather
/// than answer empty.
#[test]
fn initialize_is_answered_before_the_build_and_early_requests_wait_for_it() {
    let mut c = Client::start_with(&["serve"], &[("RUST_LOG", "calcinosis_ls=info")]);
    let note = "Patient reports Raynaud's phenomenon and sclerodac";
    c.initialize(&[], json!({}));
    c.open(URI, "plaintext", note);
    let hover = c.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": URI}, "position": common::pos_of(note, "Raynaud", false)}),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .is_some_and(|v| v.contains("Raynaud")),
        "hover right after start-up: {hover}"
    );
    let completion = c.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": note.len()}}),
    );
    let items = completion["items"]
        .as_array()
        .or(completion.as_array())
        .cloned()
        .unwrap_or_default();
    assert!(
        items
            .iter()
            .any(|i| i["label"].as_str() == Some("sclerodactyly")),
        "completion right after start-up: {completion}"
    );
    let log_path = c.stderr_path.clone();
    assert_eq!(c.shutdown(), Some(0));
    let log = std::fs::read_to_string(log_path).unwrap_or_default();
    let at = |what: &str| {
        log.find(what)
            .unwrap_or_else(|| panic!("no {what:?} in the log:\n{log}"))
    };
    assert!(
        at("initialize") < at("knowledge base ready (built at start-up)"),
        "{log}"
    );
}

/// Initializes with or without `publishDiagnostics.relatedInformation` and returns the
/// CREST diagnostics of a typical 100-line note.
fn crest_diagnostics(related: bool) -> Vec<Value> {
    let mut c = Client::start();
    let caps = json!({"textDocument": {"publishDiagnostics": {"relatedInformation": related}}});
    c.call(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": caps}),
    );
    c.notify("initialized", json!({}));
    let text = notegen::NoteGen::typical(7).document(100);
    c.open(URI, "plaintext", &text);
    let diags = c.diagnostics(URI, 1);
    assert_eq!(c.shutdown(), Some(0));
    let crest: Vec<Value> = diags
        .into_iter()
        .filter(|d| d["code"] == "crest-feature")
        .collect();
    assert!(crest.len() >= 10, "a typical note has CREST findings");
    crest
}

/// The byte bound on each CREST diagnostic (it was ~760 bytes: the whole statement).
const MAX_DIAGNOSTIC_BYTES: usize = 350;

fn assert_small(crest: &[Value]) {
    for d in crest {
        let bytes = serde_json::to_vec(d).map(|v| v.len()).unwrap_or(usize::MAX);
        assert!(bytes <= MAX_DIAGNOSTIC_BYTES, "{bytes} bytes: {d}");
    }
}

#[test]
fn crest_diagnostics_carry_no_related_information_for_clients_without_it() {
    let crest = crest_diagnostics(false);
    assert!(
        crest.iter().all(|d| d.get("relatedInformation").is_none()),
        "{:?}",
        crest.first()
    );
    assert_small(&crest);
}

#[test]
fn crest_diagnostics_point_at_their_statement_in_a_few_bytes() {
    let mut crest = crest_diagnostics(true);
    // Each term's first mention links its statement; its other mentions do not repeat
    // the link (main repeated it for every mention: ~560 bytes each).
    let mut linked = std::collections::HashSet::new();
    let total: usize = crest
        .iter()
        .map(|d| serde_json::to_vec(d).map(|v| v.len()).unwrap_or(usize::MAX))
        .sum();
    for d in &mut crest {
        let term = d["data"]["term"].as_str().unwrap_or_default().to_string();
        let first = linked.insert(term);
        let Some(related) = d.get("relatedInformation").map(|r| r[0].clone()) else {
            assert!(!first, "a term's first mention links its statement: {d}");
            continue;
        };
        assert!(
            first,
            "only a term's first mention links its statement: {d}"
        );
        let uri = related["location"]["uri"].as_str().unwrap_or_default();
        assert!(uri.ends_with(".md"), "a statement's location: {d}");
        let message = related["message"].as_str().unwrap_or_default();
        // Its opening words and id, e.g. `“Calcinosis cutis is…” (calcinosis/1)`, not
        // the whole statement with its citations (300–500 bytes).
        assert!(
            message.ends_with(')') && message.contains('/') && message.len() <= 120,
            "{message}"
        );
        // The rest is as small as for a client without related information (the
        // location's size is the cache directory's path, the user's).
        d.as_object_mut().map(|o| o.remove("relatedInformation"));
    }
    assert!(linked.len() > 1, "several terms: {linked:?}");
    assert_small(&crest);
    // On a typical note, where terms come back, the links cost little per diagnostic.
    let mean = total / crest.len();
    assert!(
        mean <= MAX_DIAGNOSTIC_BYTES,
        "{mean} bytes per CREST diagnostic on average ({} diagnostics, {} terms)",
        crest.len(),
        linked.len()
    );
}
