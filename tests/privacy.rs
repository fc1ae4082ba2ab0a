//! Privacy: note text and document names never appear in stderr, `window/logMessage`, panic
//! output or any file the server writes, at the most verbose log level; and the server opens
//! no network sockets.

mod common;

use std::path::Path;

use common::Client;
use serde_json::json;

const CANARY: &str = "ZEBRA-CANARY-7731";
const NAME: &str = "SMITH-JOHN-CANARY";

fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return hits;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            hits.extend(files_containing(&p, needle));
        } else if std::fs::read(&p).is_ok_and(|b| String::from_utf8_lossy(&b).contains(needle)) {
            hits.push(p.display().to_string());
        }
    }
    hits
}

#[test]
fn note_text_never_reaches_logs_or_disk() {
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("cache");
    let index = home.path().join("index");
    let cache_s = cache.to_str().unwrap().to_string();
    let mut c = Client::start_with(
        &["serve"],
        &[
            ("RUST_LOG", "trace"),
            ("XDG_CACHE_HOME", &cache_s),
            ("HOME", home.path().to_str().unwrap()),
        ],
    );
    c.initialize(
        &["utf-8"],
        json!({"indexDir": index, "diagnostics": {"severity": "bogus"}}),
    );
    let uri = format!("file:///patients/{NAME}.txt");
    let note = format!("{CANARY} denies Raynaud's phenomenon. {CANARY} has sclerodactily.\nFamily History: mother {CANARY} has RP.\n");
    c.open(&uri, "plaintext", &note);
    c.diagnostics(&uri, 1);
    for (line, ch) in [(0, 30), (0, 60), (1, 38), (0, 2)] {
        c.call(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": ch}}),
        );
        c.call(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": ch}}),
        );
        c.call("textDocument/codeAction", json!({"textDocument": {"uri": uri}, "range": {"start": {"line": line, "character": ch}, "end": {"line": line, "character": ch}}, "context": {"diagnostics": []}}));
        c.call(
            "textDocument/definition",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": ch}}),
        );
    }
    c.call(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    c.call("workspace/symbol", json!({"query": CANARY}));
    c.call(
        "workspace/executeCommand",
        json!({"command": "calcinosis.ask", "arguments": [format!("{CANARY} calcinosis")]}),
    );
    // Edits with the canary, a bad edit and an edit for an unknown document, which log.
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": CANARY}]}));
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"range": {"start": {"line": 1, "character": 0}, "end": {"line": 0, "character": 0}}, "text": CANARY}]}));
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": format!("file:///{NAME}-other.txt"), "version": 2}, "contentChanges": [{"text": CANARY}]}));
    c.diagnostics(&uri, 3);
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let inbox = c.inbox.clone();
    let stderr_path = c.stderr_path.clone();
    assert_eq!(c.shutdown(), Some(0));

    let stderr = std::fs::read_to_string(stderr_path).unwrap();
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "the most verbose level was on:\n{stderr}"
    );
    for secret in [CANARY, NAME] {
        assert!(
            !stderr.contains(secret),
            "{secret} leaked to stderr:\n{stderr}"
        );
        for m in inbox.iter().filter(|m| m["method"] == "window/logMessage") {
            assert!(
                !m.to_string().contains(secret),
                "{secret} leaked to logMessage: {m}"
            );
        }
        let files = files_containing(home.path(), secret);
        assert!(files.is_empty(), "{secret} written to {files:?}");
    }
    let logs = inbox
        .iter()
        .filter(|m| m["method"] == "window/logMessage")
        .count();
    assert!(logs > 0, "logMessage is used");
}

/// Checked with strace when it is installed (CI installs it): no socket other than local
/// (AF_UNIX) ones, no connect, no DNS.
#[test]
fn the_server_opens_no_network_sockets() {
    let strace = ["/usr/bin/strace", "/bin/strace"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(strace) = strace else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install strace for this test"
        );
        eprintln!("skipped: strace not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.txt");
    let bin = env!("CARGO_BIN_EXE_calcinosis-ls");
    let trace_s = trace.to_str().unwrap().to_string();
    let mut c = Client::start_with_program(
        strace,
        &["-f", "-e", "trace=network", "-o", &trace_s, bin, "serve"],
    );
    c.initialize(&[], json!({}));
    c.open(
        "file:///n.txt",
        "plaintext",
        "Denies RP; reports calcinosis cutis.",
    );
    c.diagnostics("file:///n.txt", 1);
    c.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///n.txt"}, "position": {"line": 0, "character": 8}}),
    );
    c.call(
        "workspace/executeCommand",
        json!({"command": "calcinosis.ask", "arguments": ["elbows"]}),
    );
    assert_eq!(c.shutdown(), Some(0));
    let calls = std::fs::read_to_string(&trace).unwrap();
    for line in calls.lines() {
        let network = line.contains("AF_INET")
            || line.contains("AF_INET6")
            || line.contains("connect(")
            || line.contains("sendto(");
        assert!(!network, "network system call: {line}\n{calls}");
    }
}
