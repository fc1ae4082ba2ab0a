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
    assert_eq!(d.len(), line.matches("Raynaud").count());
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
    assert_eq!(d.len(), big.matches("Raynaud").count());
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
        msg.contains("local.md:3: citation list '[x]'") && msg.contains("Keeping the previous one"),
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

    // A corrupt on-disk index is rebuilt, with progress reported.
    let index = dir.path().join("index");
    std::fs::create_dir(&index).unwrap();
    std::fs::write(index.join("meta.json"), "{ corrupt").unwrap();
    std::fs::write(index.join("calcinosis-index.json"), "{ corrupt").unwrap();
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
    assert!(index.join("calcinosis-index.json").is_file());
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
