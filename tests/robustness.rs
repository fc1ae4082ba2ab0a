//! Bad input: malformed JSON-RPC, bad headers, unknown methods, requests before
//! initialize, out-of-range positions, edits for documents that are not open, huge
//! documents, NUL bytes, lone surrogates, invalid settings, broken corpora and indexes.
//! Each gets a clear error or a graceful null, and the server keeps serving.

mod common;

use common::Client;
use serde_json::{json, Value};

const URI: &str = "file:///n.txt";

/// The server still answers a hover correctly.
fn still_serving(c: &mut Client) {
    c.open("file:///alive.txt", "plaintext", "Denies RP.");
    let r = c.call("textDocument/hover", json!({"textDocument": {"uri": "file:///alive.txt"}, "position": {"line": 0, "character": 8}}));
    assert!(
        r["contents"]["value"].as_str().unwrap().contains("Raynaud"),
        "{r}"
    );
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": "file:///alive.txt"}}),
    );
}

#[test]
fn malformed_messages_get_errors_and_the_server_goes_on() {
    let mut c = Client::start();
    // Before initialize: the protocol's "server not initialized".
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(r["error"]["code"], -32002, "{r}");
    c.initialize(&[], json!({}));

    // Not JSON: a parse error with a null id.
    c.send_raw(&common::frame(b"{this is not json"));
    let e = c.wait_for("parse error", |m| m["error"]["code"] == -32700);
    assert_eq!(e["id"], Value::Null);
    // A header without a usable Content-Length, and stray bytes: skipped.
    c.send_raw(b"Content-Length: lots\r\n\r\n");
    c.send_raw(b"garbage between messages\r\n\r\n");
    // Lone surrogate in a JSON string: invalid JSON text for a Rust string.
    c.send_raw(&common::frame(br#"{"jsonrpc":"2.0","id":77,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///\ud800"},"position":{"line":0,"character":0}}}"#));
    let r = c.wait_for("an answer to the lone surrogate", |m| {
        m["id"] == 77 || m["error"]["code"] == -32700
    });
    assert!(r.get("error").is_some() || r["result"].is_null(), "{r}");
    // Unknown request and notification.
    let r = c.request("calcinosis/noSuchThing", json!({}));
    assert_eq!(r["error"]["code"], -32601);
    c.notify("calcinosis/noSuchNotification", json!({}));
    // Wrong parameter types: invalid params.
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": URI}, "position": {"line": -1, "character": "x"}}),
    );
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let r = c.request(
        "workspace/executeCommand",
        json!({"command": "calcinosis.ask", "arguments": [42]}),
    );
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let r = c.request(
        "workspace/executeCommand",
        json!({"command": "rm -rf", "arguments": []}),
    );
    assert_eq!(r["error"]["code"], -32602, "{r}");
    still_serving(&mut c);
    assert!(c.is_running());
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn positions_and_documents_out_of_range() {
    let mut c = Client::start();
    c.initialize(&[], json!({}));
    let text = "Denies RP 😀.\nNo sclerodactyly.";
    c.open(URI, "plaintext", text);
    let hover = |c: &mut Client, uri: &str, line: u64, character: u64| {
        c.call("textDocument/hover", json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}))
    };
    assert_eq!(hover(&mut c, URI, 99, 0), Value::Null, "line past the end");
    assert_eq!(
        hover(&mut c, URI, 0, 4_000_000_000),
        Value::Null,
        "character past the line end clamps to its end"
    );
    assert_eq!(
        hover(&mut c, URI, 0, 11),
        Value::Null,
        "inside the emoji's surrogate pair"
    );
    assert_eq!(hover(&mut c, "file:///never-opened.txt", 0, 0), Value::Null);
    let r = c.call("textDocument/completion", json!({"textDocument": {"uri": "file:///never-opened.txt"}, "position": {"line": 0, "character": 0}}));
    assert_eq!(r, Value::Null);
    let r = c.call("textDocument/codeAction", json!({"textDocument": {"uri": URI}, "range": {"start": {"line": 50, "character": 0}, "end": {"line": 60, "character": 0}}, "context": {"diagnostics": []}}));
    assert_eq!(r, Value::Null);
    // Edits for unknown or closed documents, and a reversed range: ignored, logged.
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": "file:///ghost.txt", "version": 2}, "contentChanges": [{"text": "x"}]}));
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"range": {"start": {"line": 1, "character": 5}, "end": {"line": 0, "character": 0}}, "text": "x"}]}));
    // An edit far past the end appends at the end.
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": URI, "version": 3}, "contentChanges": [{"range": {"start": {"line": 40, "character": 9}, "end": {"line": 41, "character": 0}}, "text": " Denies telangiectasia."}]}));
    let d = c.diagnostics(URI, 3);
    assert_eq!(d.len(), 3, "R, S and the appended T: {d:#?}");
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": URI}}),
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 4}, "contentChanges": [{"text": "x"}]}),
    );
    still_serving(&mut c);
    assert_eq!(c.shutdown(), Some(0));
}

/// Diagnostics for `found` findings under the default cap of 1,000 per document: the first
/// 1,000 and one that counts the rest.
fn assert_capped(d: &[Value], found: usize) {
    assert!(found > 1000, "the note must go past the cap");
    assert_eq!(d.len(), 1001);
    let more = &d[1000];
    assert_eq!(more["code"], "more");
    let omitted = (found - 1000).to_string();
    assert!(
        more["message"].as_str().unwrap().starts_with(&omitted),
        "{more}"
    );
}

#[test]
fn huge_documents_nul_bytes_and_one_long_line() {
    let mut c = Client::start();
    c.initialize(&[], json!({}));
    // NUL bytes and control characters are just text.
    c.open(
        "file:///nul.txt",
        "plaintext",
        "Denies\u{0}RP.\u{1b}[31m sclerodactyly\u{0}",
    );
    let d = c.diagnostics("file:///nul.txt", 1);
    assert_eq!(d.len(), 2, "{d:#?}");
    // One 10 MB line: prose with a finding every ten kilobytes or so.
    let chunk = "vital signs stable and labs reviewed with the patient today, ".repeat(160)
        + "she reports Raynaud's; ";
    let line = chunk.repeat(10 * 1024 * 1024 / chunk.len() + 1);
    c.open("file:///long.txt", "plaintext", &line);
    let d = c.diagnostics("file:///long.txt", 1);
    assert_capped(&d, line.matches("Raynaud").count());
    let r = c.call("textDocument/hover", json!({"textDocument": {"uri": "file:///long.txt"}, "position": {"line": 0, "character": 5_000_000}}));
    assert!(r.is_null() || r["contents"]["value"].is_string());
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": "file:///long.txt"}}),
    );
    // A 50 MB note of ordinary prose and a few findings.
    let para = "Patient seen in clinic today for routine follow-up; vital signs stable and labs reviewed.\n".repeat(200)
        + "Denies Raynaud's phenomenon.\n\n";
    let big = para.repeat(50 * 1024 * 1024 / para.len() + 1);
    c.open("file:///big.txt", "plaintext", &big);
    let d = c.diagnostics("file:///big.txt", 1);
    assert_capped(&d, big.matches("Raynaud").count());
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": "file:///big.txt"}}),
    );
    still_serving(&mut c);
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn invalid_settings_are_reported_and_defaults_kept() {
    let mut c = Client::start();
    c.initialize(&[], json!({"diagnostics": {"severity": "loud"}}));
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"calcinosis": {"diagnostics": {"summaryThreshold": 0, "enable": "maybe"}, "languageIds": "text"}}}));
    let m = c.wait_for("settings warning", |m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("summaryThreshold = 0")
    });
    assert_eq!(m["params"]["type"], 2, "a warning");
    c.wait_for("languageIds warning", |m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("languageIds")
    });
    // Defaults kept: information severity, diagnostics on.
    c.open(URI, "plaintext", "Denies RP.");
    let d = c.diagnostics(URI, 1);
    assert_eq!(d[0]["severity"], 3);
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn broken_corpus_and_corrupt_index_from_settings() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    std::fs::write(
        corpus.join("local.md"),
        "# Local\n- fine [1]\n- broken [x]\n",
    )
    .unwrap();
    let mut c = Client::start();
    c.initialize(&[], json!({"corpusDir": corpus}));
    let m = c.wait_for("corpus error", |m| {
        m["method"] == "window/showMessage" && m["params"]["type"] == 1
    });
    let msg = m["params"]["message"].as_str().unwrap();
    assert!(
        msg.contains("local.md:3: citation list '[x]'") && msg.contains("Keeping the previous"),
        "{msg}"
    );
    still_serving(&mut c);

    // A duplicate form in a user lexicon names both places.
    std::fs::write(corpus.join("local.md"), "# Local\n- fine [1]\n").unwrap();
    let dup = dir.path().join("dup");
    std::fs::create_dir(&dup).unwrap();
    std::fs::write(
        dup.join("lexicon.toml"),
        "[[term]]\nname = \"RP\"\ncategory = \"disease\"\n",
    )
    .unwrap();
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"calcinosis": {"corpusDir": dup}}}),
    );
    let m = c.wait_for("lexicon error", |m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("already names")
    });
    assert!(m["params"]["message"]
        .as_str()
        .unwrap()
        .contains("lexicon.toml:2"));

    // A directory that is not an index of ours is refused, and left byte for byte as it
    // was, though it holds a tantivy meta.json (regression: it used to be emptied).
    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(foreign.join("src")).unwrap();
    std::fs::write(foreign.join("meta.json"), "{}").unwrap();
    std::fs::write(foreign.join("notes.txt"), "precious").unwrap();
    std::fs::write(foreign.join("src/main.rs"), "fn main() {}").unwrap();
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"calcinosis": {"corpusDir": corpus, "indexDir": foreign}}}),
    );
    let m = c.wait_for("index refused", |m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("holds no calcinosis-ls index")
    });
    assert_eq!(m["params"]["type"], 1);
    assert_eq!(
        std::fs::read_to_string(foreign.join("notes.txt")).unwrap(),
        "precious"
    );
    assert_eq!(
        std::fs::read_to_string(foreign.join("meta.json")).unwrap(),
        "{}"
    );
    assert!(foreign.join("src/main.rs").is_file());
    assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 3);

    // A corrupt on-disk index of ours is rebuilt, with progress reported.
    let index = dir.path().join("index");
    let local = calcinosis_ls::corpus::Corpus::load(std::slice::from_ref(&corpus), false).unwrap();
    calcinosis_ls::index::KnowledgeIndex::build_in_dir(&local, &index).unwrap();
    let marker = std::fs::read_to_string(index.join(calcinosis_ls::index::MARKER)).unwrap();
    let generation: Value = serde_json::from_str(&marker).unwrap();
    for f in std::fs::read_dir(index.join(generation["generation"].as_str().unwrap())).unwrap() {
        std::fs::write(f.unwrap().path(), "{ corrupt").unwrap();
    }
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"calcinosis": {"corpusDir": corpus, "indexDir": index}}}),
    );
    c.wait_for("progress end", |m| {
        m["method"] == "$/progress"
            && m["params"]["value"]["kind"] == "end"
            && m["params"]["value"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("46 statements")
    });
    let r = c.call(
        "workspace/executeCommand",
        json!({"command": "calcinosis.ask", "arguments": ["fine", 1]}),
    );
    assert_eq!(r[0]["text"], "fine");
    assert!(index.join(calcinosis_ls::index::MARKER).is_file());
    still_serving(&mut c);
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn exit_without_shutdown_is_an_error_status() {
    let mut c = Client::start();
    c.initialize(&[], json!({}));
    c.notify("exit", Value::Null);
    assert_eq!(c.wait_for_exit("exit"), Some(1));
}

/// Found by the `jsonrpc` fuzz target: bodies that are JSON but that tower-lsp 0.20 cannot
/// decode (a null method, an id above i64::MAX, a number out of f64's range) passed the
/// transport, and the first one ended tower-lsp's input: the server exited with status 1
/// and answered nothing more. An array body was read as a request: `["2.0","exit"]` made
/// tower-lsp exit while the transport kept the stream open, and the server hung.
#[test]
fn bodies_tower_lsp_cannot_decode_get_errors_and_the_server_goes_on() {
    let mut c = Client::start();
    c.initialize(&[], json!({}));
    for (body, code, id) in [
        (
            r#"{"jsonrpc":"2.0","id":41,"method":null}"#,
            -32600,
            json!(41),
        ),
        (
            r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"textDocument/hover","params":{}}"#,
            -32600,
            Value::Null,
        ),
        (
            r#"{"jsonrpc":"2.0","id":42,"method":"workspace/symbol","params":{"query":"RP","n":1e400}}"#,
            -32700,
            Value::Null,
        ),
        (r#"["2.0","exit"]"#, -32600, Value::Null),
    ] {
        c.send_raw(&common::frame(body.as_bytes()));
        let e = c.wait_for(&format!("an error for {body}"), |m| {
            m.get("method").is_none() && m["error"]["code"] == code
        });
        assert_eq!(e["id"], id, "{body}: {e}");
        assert!(c.is_running(), "{body} stopped the server");
    }
    still_serving(&mut c);
    assert_eq!(c.shutdown(), Some(0));
}

/// Found by the `jsonrpc` fuzz target: the transport looked for `exit` only in bodies under
/// 4 KiB, so a padded `exit` reached tower-lsp unnoticed; tower-lsp stopped, the stream
/// stayed open, and the process never ended, not even when its input was closed.
#[test]
fn a_long_exit_notification_still_ends_the_server() {
    let mut c = Client::start();
    c.initialize(&[], json!({}));
    let r = c.request("shutdown", Value::Null);
    assert!(r.get("error").is_none(), "{r}");
    c.notify("exit", json!({ "padding": " ".repeat(8192) }));
    assert_eq!(c.wait_for_exit("a long exit"), Some(0));
}

/// Regression: after one bad frame no later message was answered, `shutdown` and `exit`
/// included, while the process stayed alive.
#[test]
fn after_each_bad_frame_the_next_hover_is_answered_and_exit_is_clean() {
    let note = r#"{"jsonrpc":"2.0","method":"calcinosis/none","params":{"t":"é 😀 中 Raynaud’s"}}"#;
    let bad_frames: Vec<Vec<u8>> = vec![
        format!("Content-Length: {}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{note}", note.len()).into_bytes(),
        format!("Content-Type: application/vscode-jsonrpc\r\n\r\n{note}").into_bytes(),
        format!("Content-Length: {}\r\n\r\n{note}", note.chars().count()).into_bytes(),
        format!("Content-Length: -12\r\n\r\n{note}").into_bytes(),
        format!("X-Unknown-Header: 1\r\nContent-Length: {}\r\n\r\n{note}", note.len()).into_bytes(),
    ];
    for bad in bad_frames {
        let mut c = Client::start();
        c.initialize(&[], json!({}));
        c.send_raw(&bad);
        still_serving(&mut c);
        assert_eq!(c.shutdown(), Some(0), "{}", String::from_utf8_lossy(&bad));
    }
}

/// Bodies over `--max-message-size` are answered with an error carrying their id, never
/// buffered, and the session goes on.
#[test]
fn a_message_over_the_size_limit_is_answered_and_skipped() {
    let mut c = Client::start_with(&["serve", "--max-message-size", "1"], &[]);
    c.initialize(&[], json!({}));
    let text = "Denies Raynaud's. ".repeat(100_000);
    let id = c.request_async(
        "workspace/executeCommand",
        json!({"command": "calcinosis.ask", "arguments": [text]}),
    );
    let r = c.response(id);
    assert_eq!(r["error"]["code"], -32600, "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("limit"));
    still_serving(&mut c);
    assert_eq!(c.shutdown(), Some(0));
}

/// Questions of any size are answered from their first words: a 5 MB question used to
/// take 23.5 GB, a 400 KB workspace-symbol query 1.9 GB.
#[test]
fn hostile_questions_and_limits_are_bounded() {
    let mut c = Client::start();
    c.initialize(&[], json!({}));
    let question = "calcinosis treatment ".repeat(250_000);
    let r = c.call(
        "workspace/executeCommand",
        json!({"command": "calcinosis.ask", "arguments": [question, u64::MAX]}),
    );
    assert!(r.as_array().is_some_and(|a| a.len() <= 100), "{r}");
    let r = c.call(
        "workspace/symbol",
        json!({"query": "elbow ".repeat(70_000)}),
    );
    assert!(r.as_array().is_some_and(|a| a.len() <= 50));
    let peak = c.memory_kb("VmHWM").unwrap_or(0);
    assert!(peak < 1_000_000, "peak RSS {peak} kB");
    still_serving(&mut c);
    assert_eq!(c.shutdown(), Some(0));
}

/// "Replace all" sends thousands of changes in one `didChange`; they are applied in one
/// pass, and the result is exactly the text the client has.
#[test]
fn a_didchange_with_thousands_of_changes_is_applied_exactly() {
    let mut c = Client::start();
    c.initialize(&[], json!({}));
    let line = "pt reports Raynaud's, é 😀; plan: follow up\n";
    let text = line.repeat(5_000);
    c.open(URI, "plaintext", &text);
    // Replace "follow up" on every line with "review", last line first, as VS Code does.
    let col = line[..line.find("follow up").unwrap()]
        .encode_utf16()
        .count() as u32;
    let changes: Vec<Value> = (0..5_000u32)
        .rev()
        .map(|l| json!({"range": {"start": {"line": l, "character": col}, "end": {"line": l, "character": col + 9}}, "text": "review"}))
        .collect();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": changes}),
    );
    let expected = text.replace("follow up", "review");
    let digest = c.call(
        "workspace/executeCommand",
        json!({"command": "calcinosis.documentDigest", "arguments": [URI]}),
    );
    assert_eq!(digest["bytes"], expected.len());
    assert_eq!(digest["version"], 2);
    let sha = sha256_hex(expected.as_bytes());
    assert_eq!(digest["sha256"], sha);
    assert_eq!(c.shutdown(), Some(0));
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// Regression: closing a document right after an edit could leave the edit's diagnostics
/// published after the close's empty ones (13 of 400 runs).
#[test]
fn a_closed_document_ends_with_empty_diagnostics() {
    let mut c = Client::start_with(&["serve"], &[]);
    c.initialize(&[], json!({"diagnostics": {"debounceMs": 0}}));
    for i in 0..40 {
        let uri = format!("file:///close-{i}.txt");
        c.open(
            &uri,
            "plaintext",
            &"Denies Raynaud's. Sclerodactyly noted.\n".repeat(2_000),
        );
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "Telangiectasia.\n".repeat(3_000)}]}),
        );
        c.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
    }
    // Whatever was published for each document, the last publication is empty.
    let r = c.call("workspace/symbol", json!({"query": ""}));
    assert!(r.is_array());
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut last: std::collections::HashMap<String, usize> = Default::default();
    while let Some(m) = c.try_next(std::time::Duration::from_millis(300)) {
        if m["method"] == "textDocument/publishDiagnostics" {
            let n = m["params"]["diagnostics"].as_array().map_or(0, Vec::len);
            last.insert(m["params"]["uri"].as_str().unwrap().to_string(), n);
        }
    }
    for (uri, n) in &last {
        assert_eq!(*n, 0, "{uri} was left with {n} diagnostics after its close");
    }
    assert_eq!(c.shutdown(), Some(0));
}

/// Regression: switching `corpusDir` to a slow corpus and straight back left the slow one in
/// use (the last build to finish won, not the last one asked for).
#[test]
fn the_last_requested_corpus_wins_over_the_last_finished() {
    let dir = tempfile::tempdir().unwrap();
    let slow = dir.path().join("slow");
    std::fs::create_dir(&slow).unwrap();
    let mut md = String::from("# Slow corpus\n\n");
    for i in 0..40_000 {
        md.push_str(&format!(
            "- Zanzibarite statement number {i} about elbows [1]\n"
        ));
    }
    std::fs::write(slow.join("slow.md"), md).unwrap();
    let mut c = Client::start();
    c.initialize(&[], json!({}));
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"calcinosis": {"corpusDir": slow}}}),
    );
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"calcinosis": {"corpusDir": null}}}),
    );
    let ends: Vec<String> = (0..2)
        .map(|_| {
            let m = c.wait_for("progress end", |m| {
                m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
            });
            m["params"]["value"]["message"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let r = c.call(
        "workspace/executeCommand",
        json!({"command": "calcinosis.ask", "arguments": ["zanzibarite", 3]}),
    );
    assert!(
        !r.to_string().contains("Zanzibarite"),
        "the slow corpus is in use after it was switched off: {ends:?}"
    );
    still_serving(&mut c);
    assert_eq!(c.shutdown(), Some(0));
}

/// Eglot sends `shutdown` with `"params": null` and keeps stdin open after `exit`.
#[test]
fn eglot_style_shutdown_with_null_params() {
    let mut c = Client::start();
    c.initialize(&[], json!({}));
    c.send(&json!({"jsonrpc": "2.0", "id": 990, "method": "shutdown", "params": null}));
    let r = c.response(990);
    assert!(r.get("error").is_none() && r["result"].is_null(), "{r}");
    c.send(&json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    assert_eq!(c.wait_for_exit("exit with null params"), Some(0));
}

/// Cancellation reaches every in-flight request, not only the first few: `$/cancelRequest`
/// is read while 32 requests wait for one analysis (the server handles up to 64 at once; a
/// lower limit queues the cancellations behind the requests they cancel).
#[test]
fn cancellation_reaches_every_in_flight_request() {
    let mut c = Client::start_with(&["serve"], &[]);
    c.initialize(&[], json!({"diagnostics": {"debounceMs": 0}}));
    let line = "Patient reports Raynaud's phenomenon and sclerodactyly; denies dysphagia.\n";
    c.open(URI, "plaintext", &line.repeat(20));
    // A new version of several megabytes: every request below waits for its analysis.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": line.repeat(60_000)}]}),
    );
    let ids: Vec<i64> = (0..32)
        .map(|_| {
            c.request_async(
                "textDocument/documentSymbol",
                json!({"textDocument": {"uri": URI}}),
            )
        })
        .collect();
    for id in &ids {
        c.notify("$/cancelRequest", json!({"id": id}));
    }
    let cancelled = ids
        .iter()
        .filter(|&&id| c.response(id)["error"]["code"] == json!(-32800))
        .count();
    assert_eq!(cancelled, ids.len(), "requests cancelled");
    // The analysis they waited for still completes, and the server goes on.
    let symbols = c.call(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    assert!(symbols.as_array().is_some_and(|s| !s.is_empty()));
    assert_eq!(c.shutdown(), Some(0));
}
