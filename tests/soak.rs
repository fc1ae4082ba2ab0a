//! Soak: many random incremental edits (multi-byte text included) on an open document, with
//! analyses requested between them. At the end the server's copy equals the text replayed
//! here, its diagnostics (from incremental re-analysis) equal a fresh server's for the same
//! text, nothing panicked, and memory stayed flat.
//!
//! CI runs the reduced form (3,000 edits); the full form is
//! `SOAK_EDITS=100000 cargo test --release --test soak -- --nocapture`.

mod common;

use common::Client;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const PIECES: &[&str] = &[
    "Denies RP. ",
    "Raynaud’s ",
    "sclerodactyly",
    "é",
    "😀",
    "中文",
    "\n",
    "\r\n",
    " ",
    "no ",
    "calcinosis cutis",
    "Family History: mother has SSc.\n",
    "?",
    "telangectasia ",
    "x",
];

/// UTF-16 length of a line, and the line's text, in the replayed document.
fn lines(text: &str) -> Vec<&str> {
    text.split('\n').collect()
}

fn utf16_to_byte(line: &str, units: usize) -> usize {
    let mut seen = 0;
    for (i, c) in line.char_indices() {
        if seen >= units {
            return i;
        }
        seen += c.len_utf16();
    }
    line.len()
}

#[test]
fn random_edits_replay_exactly() {
    let edits: usize = std::env::var("SOAK_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let mut rng = fastrand::Rng::with_seed(2026);
    let mut c = Client::start();
    c.initialize(&[], json!({"diagnostics": {"debounceMs": 5}}));
    let uri = "file:///soak.txt";
    let mut text = String::from("Start of note.\n");
    c.open(uri, "plaintext", &text);
    let mut rss_quarter = 0;
    let mut skipped = 0;
    let mut last_version = 1;
    for v in 2..edits as i64 + 2 {
        // A random range in UTF-16 positions, snapped to character starts (as an editor
        // sends), on lines without '\r' confusion: positions count within '\n' lines.
        let ls = lines(&text);
        let l1 = rng.usize(..ls.len());
        // Mostly short deletions within a line, sometimes across a line break, so the
        // text grows.
        let l2 = if rng.u8(..10) == 0 {
            (l1 + 1).min(ls.len() - 1)
        } else {
            l1
        };
        let u = |l: &str| l.encode_utf16().count();
        let c1 = if l2 == l1 {
            rng.usize(..=u(ls[l1]))
        } else {
            u(ls[l1]).saturating_sub(rng.usize(..3))
        };
        let reach = if text.len() > 20_000 { 40 } else { 4 };
        let c2 = if l2 == l1 {
            (c1 + rng.usize(..reach)).min(u(ls[l1]))
        } else {
            rng.usize(..=u(ls[l2]).min(3))
        };
        let start = ls[..l1].iter().map(|l| l.len() + 1).sum::<usize>() + utf16_to_byte(ls[l1], c1);
        let end = ls[..l2].iter().map(|l| l.len() + 1).sum::<usize>() + utf16_to_byte(ls[l2], c2);
        // Keep CRLF pairs whole: the server (like LSP) treats \r\n as one line break.
        let bad = |i: usize| {
            i > 0
                && i < text.len()
                && text.as_bytes()[i - 1] == b'\r'
                && text.as_bytes()[i] == b'\n'
        };
        if bad(start) || bad(end) || end < start {
            skipped += 1;
            continue;
        }
        // Past 20 KB, only delete: the document's size hovers, so memory must too.
        let pieces = if text.len() > 20_000 {
            0
        } else {
            rng.usize(0..3)
        };
        let insert: String = (0..pieces)
            .map(|_| PIECES[rng.usize(..PIECES.len())])
            .collect();
        let pos = |text: &str, at: usize| {
            let line = text[..at].matches('\n').count();
            let ls = text[..at].rfind('\n').map_or(0, |p| p + 1);
            let line_text = &text[ls..at];
            // The server counts '\r' before '\n' as part of the break, never inside a line.
            json!({"line": line, "character": line_text.encode_utf16().count()})
        };
        let range = json!({"start": pos(&text, start), "end": pos(&text, end)});
        text.replace_range(start..end, &insert);
        last_version = v;
        c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": v}, "contentChanges": [{"range": range, "text": insert}]}));
        if v % 50 == 0 {
            // An analysis in between: the outline needs the current version analysed.
            let r = c.call(
                "textDocument/documentSymbol",
                json!({"textDocument": {"uri": uri}}),
            );
            assert!(r.is_array(), "{r}");
            c.inbox.clear();
        }
        if v as usize == edits / 4 {
            rss_quarter = c.memory_kb("VmRSS").unwrap_or(0);
        }
    }
    let digest = c.call(
        "workspace/executeCommand",
        json!({"command": "calcinosis.documentDigest", "arguments": [uri]}),
    );
    let want = format!("{:x}", Sha256::digest(text.as_bytes()));
    assert_eq!(
        digest["bytes"],
        json!(text.len()),
        "server and replay differ in length"
    );
    assert_eq!(
        digest["sha256"],
        Value::String(want),
        "server and replay differ"
    );
    let rss_end = c.memory_kb("VmRSS").unwrap_or(0);
    assert!(skipped * 3 < edits, "{skipped} of {edits} edits skipped");
    println!("{edits} edits ({skipped} skipped); final text {} bytes; RSS after a quarter {rss_quarter} kB, at the end {rss_end} kB", text.len());
    assert!(
        rss_end < rss_quarter + 40 * 1024,
        "memory grew from {rss_quarter} kB to {rss_end} kB"
    );
    assert!(c.is_running());
    // What an editor shows: the diagnostics of the last version, re-analysed piece by piece
    // thousands of times, must be those of a whole analysis.
    let shown = outline(c.diagnostics(uri, last_version));
    assert_eq!(c.shutdown(), Some(0));
    let mut fresh = Client::start();
    fresh.initialize(&[], json!({"diagnostics": {"debounceMs": 0}}));
    fresh.open(uri, "plaintext", &text);
    assert_eq!(shown, outline(fresh.diagnostics(uri, 1)));
    println!(
        "{} diagnostics at the end, same as a fresh analysis",
        shown.len()
    );
    assert_eq!(fresh.shutdown(), Some(0));
}

/// What matters of each diagnostic (related information names a per-server cache file).
fn outline(diagnostics: Vec<Value>) -> Vec<Value> {
    diagnostics
        .into_iter()
        .map(|d| json!([d["range"], d["code"], d["message"], d["tags"]]))
        .collect()
}
