//! The hostile suite for the language server (issue 21): one test per class of attack,
//! each driving the real binary over stdio and asserting a bound (a count of messages or
//! actions, the child's peak memory from `/proc/<pid>/status`, an answer within a liveness
//! timeout), not just survival. Each failed on main at 555a89b.

mod common;

use std::io::{BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{frame, read_body, Client};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const URI: &str = "file:///hostile/note.md";

/// A note with findings on every line (a term, a negation, an abbreviation).
fn note(lines: usize) -> String {
    "Pt denies Raynaud's. Calcinosis of the fingers. ILD on CT.\n".repeat(lines)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Starts a server with no debounce, initialized.
fn started(args: &[&str]) -> Client {
    let mut all = vec!["serve"];
    all.extend_from_slice(args);
    let mut c = Client::start_with(&all, &[]);
    c.initialize(&[], json!({"diagnostics": {"debounceMs": 0}}));
    c
}

fn change(c: &mut Client, version: Value, changes: Value) {
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": version}, "contentChanges": changes}),
    );
}

/// Every message that arrives within `wait`.
fn drain(c: &mut Client, wait: Duration) -> Vec<Value> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + wait;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match c.try_next(left) {
            Some(m) => seen.push(m),
            None => break,
        }
    }
    seen
}

fn show_messages(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .filter(|m| m["method"] == "window/showMessage")
        .map(|m| m["params"]["message"].as_str().unwrap_or("").to_string())
        .collect()
}

/// D6 and item 5: a didChange the server cannot decode (version null, above i32, a string,
/// a lone surrogate in the text) was dropped without a word, and every later edit landed
/// in the wrong place. Now the document is marked out of sync: one showMessage, its
/// findings withdrawn, nothing published or answered for it until a full-text change.
#[test]
fn an_undecodable_change_marks_the_document_out_of_sync_until_a_full_text_change() {
    let text = note(20);
    for bad in [
        r#"{"textDocument":{"uri":"URI","version":null},"contentChanges":[{"text":"x"}]}"#,
        r#"{"textDocument":{"uri":"URI","version":2147483648},"contentChanges":[{"text":"x"}]}"#,
        r#"{"textDocument":{"uri":"URI","version":"2"},"contentChanges":[{"text":"x"}]}"#,
        r#"{"textDocument":{"uri":"URI","version":2},"contentChanges":[{"text":"lone \ud800 surrogate"}]}"#,
    ] {
        let mut c = started(&[]);
        let body = format!(
            r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{}}}"#,
            bad.replace("URI", URI)
        );
        // Right behind the didOpen: handled after it, in arrival order.
        c.open(URI, "markdown", &text);
        c.send_raw(&frame(body.as_bytes()));
        // An incremental edit after it cannot be placed: ignored, and a second bad change
        // does not repeat the message.
        change(
            &mut c,
            json!(3),
            json!([{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 2}}, "text": "XX"}]),
        );
        c.send_raw(&frame(body.as_bytes()));
        let hover = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 12}}),
        );
        assert_eq!(hover["result"], Value::Null, "{bad}: {hover}");
        let seen = drain(&mut c, Duration::from_millis(1500));
        let shown = show_messages(&seen);
        assert_eq!(shown.len(), 1, "{bad}: one message, not {shown:?}");
        assert!(shown[0].contains("reopen"), "{}", shown[0]);
        let published: Vec<&Value> = seen
            .iter()
            .filter(|m| m["method"] == "textDocument/publishDiagnostics")
            .collect();
        // The version-1 findings may have gone out before the bad change was read; what
        // comes last is their withdrawal, and nothing is published for the edit after it.
        let last = published.last().expect("the findings are withdrawn");
        assert!(
            last["params"]["diagnostics"]
                .as_array()
                .is_some_and(Vec::is_empty),
            "{bad}: {last}"
        );
        assert!(
            published.iter().all(|m| m["params"]["version"] != 3),
            "{bad}: published while out of sync: {published:?}"
        );
        assert!(
            seen.iter().all(|m| m.get("error").is_none()),
            "a notification is never answered: {seen:?}"
        );
        // A full-text change brings it back.
        let fresh = note(3);
        change(&mut c, json!(5), json!([{"text": fresh}]));
        assert!(!c.diagnostics(URI, 5).is_empty(), "{bad}");
        let digest = c.call(
            "workspace/executeCommand",
            json!({"command": "calcinosis.documentDigest", "arguments": [URI]}),
        );
        assert_eq!(digest["sha256"], sha256_hex(fresh.as_bytes()), "{bad}");
        assert_eq!(c.shutdown(), Some(0));
    }
}

/// D6: an oversized didOpen left the document dead with no message to the user (and was
/// answered as if it were a request, under id null). Now the user is told, nothing is
/// answered, and reopening it smaller works.
#[test]
fn an_oversized_did_open_says_so_and_reopening_works() {
    let mut c = started(&["--max-message-size", "1"]);
    c.open(URI, "markdown", &note(40_000)); // 2.4 MB, over 1 MB
    let seen = drain(&mut c, Duration::from_millis(1500));
    let shown = show_messages(&seen);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].contains("limit") && shown[0].contains("max-message-size"));
    eprintln!(
        "oversized didOpen (2.4 MB): VmHWM {:?} kB",
        c.memory_kb("VmHWM")
    );
    assert!(seen.iter().all(|m| m.get("error").is_none()), "{seen:?}");
    // The editor sends the whole text again: analysed as the markdown it was opened as.
    change(&mut c, json!(2), json!([{"text": note(5)}]));
    assert!(!c.diagnostics(URI, 2).is_empty());
    // Or it reopens the note.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": URI}}),
    );
    c.open(URI, "markdown", &note(5));
    assert!(!c.diagnostics(URI, 1).is_empty());
    assert_eq!(c.shutdown(), Some(0));
}

/// H3: 10,000 edits in ascending order on a 10 MB note took the per-edit path and blocked
/// every request for 25 s (release). Now they are applied in one pass like descending
/// ones: the result is exact and the next request is answered promptly.
#[test]
fn ten_thousand_ascending_edits_on_a_ten_megabyte_note_are_one_pass() {
    let mut c = started(&[]);
    let line = "word ".repeat(1000) + "\n"; // 5,001 bytes
    let text = line.repeat(2000); // 10 MB
    c.open(URI, "plaintext", &text);
    let changes: Vec<Value> = (0..10_000u32)
        .map(|i| {
            let (l, ch) = (i / 5, (i % 5) * 10);
            json!({"range": {"start": {"line": l, "character": ch}, "end": {"line": l, "character": ch + 4}}, "text": "WORD"})
        })
        .collect();
    change(&mut c, json!(2), json!(changes));
    let started = Instant::now();
    let digest = c.call(
        "workspace/executeCommand",
        json!({"command": "calcinosis.documentDigest", "arguments": [URI]}),
    );
    let took = started.elapsed();
    let mut words = vec!["word"; 1000];
    for k in 0..5 {
        words[k * 2] = "WORD";
    }
    let expected = (words.join(" ") + " \n").repeat(2000);
    assert_eq!(digest["sha256"], sha256_hex(expected.as_bytes()));
    assert!(
        took < Duration::from_secs(10),
        "the request after the batch waited {took:?}"
    );
    eprintln!(
        "10,000 ascending edits on 10 MB: next request after {took:?}, VmHWM {:?} kB",
        c.memory_kb("VmHWM")
    );
    assert_eq!(c.shutdown(), Some(0));
}

/// H6: a `$/` request with an id got no answer (LSP: MethodNotFound); an oversized request
/// whose id came after its params was answered under id null; an oversized notification
/// with a nested "id" was answered under that id.
#[test]
fn only_top_level_ids_are_answered_and_dollar_requests_get_method_not_found() {
    let mut c = started(&["--max-message-size", "1"]);
    let r = c.request("$/calcinosis.unknown", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    let pad = "p".repeat(1_200_000);
    let late = format!(
        r#"{{"jsonrpc":"2.0","method":"workspace/symbol","params":{{"query":"{pad}"}},"id":777}}"#
    );
    c.send_raw(&frame(late.as_bytes()));
    let r = c.response(777);
    assert_eq!(r["error"]["code"], -32600, "{r}");
    let nested = format!(
        r#"{{"jsonrpc":"2.0","method":"calcinosis/whatever","params":{{"id":888,"pad":"{pad}"}}}}"#
    );
    c.send_raw(&frame(nested.as_bytes()));
    let seen = drain(&mut c, Duration::from_millis(1500));
    assert!(
        seen.iter().all(|m| m["id"] != 888),
        "a nested id is not the message's: {seen:?}"
    );
    eprintln!(
        "two 1.2 MB oversized messages scanned: VmHWM {:?} kB",
        c.memory_kb("VmHWM")
    );
    assert_eq!(c.shutdown(), Some(0));
}

/// R1: "Select All" over a big note gave 219,510 code actions (648 MB); a 100 KB note a
/// 4,050-entry menu. Now at most `limits::MAX_CODE_ACTIONS`, near the range's start.
#[test]
fn code_actions_are_capped_near_the_start_of_the_range() {
    let mut c = started(&[]);
    let text = note(2000); // 116 KB, thousands of findings
    c.open(URI, "markdown", &text);
    let lines = text.lines().count();
    let actions = c.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": URI}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": lines, "character": 0}}, "context": {"diagnostics": []}}),
    );
    let n = actions.as_array().map_or(0, Vec::len);
    eprintln!(
        "codeAction over a 116 KB note: {n} actions, VmHWM {:?} kB",
        c.memory_kb("VmHWM")
    );
    assert!(
        n > 0 && n <= calcinosis_ls::limits::MAX_CODE_ACTIONS,
        "{n} actions"
    );
    // Near the start only: nothing from the note's last line.
    let last = json!({"line": lines - 1, "character": 0});
    assert!(
        !actions.to_string().contains(&last.to_string()),
        "an action far from the range's start"
    );
    assert_eq!(c.shutdown(), Some(0));
}

/// A server the test talks to without a reader thread, so that it can stop reading.
struct Raw {
    child: std::process::Child,
}

impl Raw {
    fn start(
        args: &[&str],
    ) -> (
        Raw,
        std::process::ChildStdin,
        BufReader<std::process::ChildStdout>,
    ) {
        let dir = tempfile::tempdir().unwrap().keep();
        let mut child = Command::new(env!("CARGO_BIN_EXE_calcinosis-ls"))
            .args(args)
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        (Raw { child }, stdin, stdout)
    }

    fn memory_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with(field)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn send(stdin: &mut impl Write, msg: &Value) {
    stdin
        .write_all(&frame(&serde_json::to_vec(msg).unwrap()))
        .unwrap();
}

/// R4: publications the client has not read queued without bound (731 MB after 1,000
/// unread edits of a 1 MB note; here 241 MB after 300 of a 100 KB note). Now one per
/// document waits, the newest: the peak stays bounded (31 MB), and when the client reads
/// again the last version is what it gets.
#[test]
fn a_client_that_stops_reading_costs_one_publication_per_document() {
    let (raw, mut stdin, mut stdout) = Raw::start(&["serve"]);
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}, "initializationOptions": {"diagnostics": {"debounceMs": 0}}}}),
    );
    read_body(&mut stdout).unwrap();
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
    );
    let text = note(1700); // 100 KB, ~5,000 findings
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": URI, "languageId": "markdown", "version": 1, "text": text}}}),
    );
    // Stop reading; edit 300 times, each a full-text change (a different note each time),
    // slowly enough that each is analysed and published.
    for v in 2..302 {
        let t = format!("{v}{text}");
        send(
            &mut stdin,
            &json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": URI, "version": v}, "contentChanges": [{"text": t}]}}),
        );
        std::thread::sleep(Duration::from_millis(30));
    }
    std::thread::sleep(Duration::from_secs(3));
    let peak = raw.memory_kb("VmHWM");
    eprintln!("300 unread publications of a 100 KB note: VmHWM {peak} kB");
    assert!(peak < 100_000, "peak {peak} kB with the client not reading");
    // Read again: the newest version arrives, and far fewer than 300 publications.
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}),
    );
    let mut publications = 0;
    let mut last_version = None;
    while let Some(body) = read_body(&mut stdout) {
        let m: Value = serde_json::from_slice(&body).unwrap();
        if m["method"] == "textDocument/publishDiagnostics" {
            publications += 1;
            last_version = m["params"]["version"].as_i64();
        }
        if m["id"] == 2 {
            break;
        }
    }
    assert!(
        publications < 100,
        "{publications} publications were queued"
    );
    // The newest version's publication may still follow the shutdown answer.
    if last_version != Some(301) {
        send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "exit"}));
        while let Some(body) = read_body(&mut stdout) {
            let m: Value = serde_json::from_slice(&body).unwrap();
            if m["method"] == "textDocument/publishDiagnostics" {
                last_version = m["params"]["version"].as_i64();
            }
        }
    }
    assert_eq!(last_version, Some(301));
}

/// R5: memory per open document was ~20× its text, and closing documents gave back little
/// (2.06 GB, then 1.97 GB after closing all): glibc keeps freed memory that is not at the
/// top of its heaps. Now closing returns it: with seven of eight notes closed (the last
/// one opened still open, on top of the heap), the resident size falls by more than half.
#[test]
fn memory_is_returned_when_documents_close() {
    let mut c = started(&[]);
    let text = note(35_000); // 2 MB each
    let uris: Vec<String> = (0..8).map(|i| format!("file:///hostile/{i}.md")).collect();
    for u in &uris {
        c.open(u, "markdown", &text);
        c.diagnostics(u, 1);
        // A request that needs the analysis: every structure a document can hold is there.
        c.call(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": u}}),
        );
    }
    let open_rss = c.memory_kb("VmRSS").unwrap();
    for u in &uris[..7] {
        c.notify("textDocument/didClose", json!({"textDocument": {"uri": u}}));
    }
    for u in &uris[..7] {
        c.wait_for("empty publication", |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == u.as_str()
                && m["params"]["diagnostics"]
                    .as_array()
                    .is_some_and(Vec::is_empty)
        });
    }
    // A request after the closes: they have all been handled.
    c.call("workspace/symbol", json!({"query": "calcinosis"}));
    let closed_rss = c.memory_kb("VmRSS").unwrap();
    let peak = c.memory_kb("VmHWM").unwrap();
    eprintln!(
        "8 × 2 MB notes: VmRSS open {open_rss} kB, 7 closed {closed_rss} kB, VmHWM {peak} kB"
    );
    assert!(
        closed_rss * 2 < open_rss,
        "closing seven of eight notes returned little: {open_rss} → {closed_rss} kB"
    );
    assert_eq!(c.shutdown(), Some(0));
}

/// H2: builds ran on the blocking pool tokio's stdin and stdout use; a few stuck builds
/// froze the server, which then did not even answer `shutdown`. Now builds run
/// on threads of their own, a superseded build is cancelled, and `shutdown` is answered
/// within a second while four builds hang.
#[test]
fn shutdown_is_answered_within_a_second_while_builds_hang() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = started(&[]);
    // Each build waits on a builders' lock held for the whole test (a named pipe, the hang
    // of old, is now refused at once).
    let mut held = Vec::new();
    for i in 0..4 {
        let sub = dir.path().join(format!("d{i}"));
        std::fs::create_dir(&sub).unwrap();
        let (index, lock) = index_with_a_held_lock(&sub);
        held.push(lock);
        c.notify(
            "workspace/didChangeConfiguration",
            json!({"settings": {"calcinosis": {"indexDir": index}}}),
        );
    }
    std::thread::sleep(Duration::from_millis(500));
    // Requests are still served (an analysis, a command)…
    c.open(URI, "markdown", &note(50));
    assert!(!c.diagnostics(URI, 1).is_empty());
    let hover = c.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 12}}),
    );
    assert!(hover.to_string().contains("Raynaud"), "{hover}");
    // …and shutdown within a second.
    let asked = Instant::now();
    let id = c.request_async("shutdown", Value::Null);
    let r = c.response(id);
    let took = asked.elapsed();
    assert!(r.get("error").is_none(), "{r}");
    assert!(took < Duration::from_secs(1), "shutdown took {took:?}");
    eprintln!(
        "four hung builds: shutdown answered in {took:?}, VmHWM {:?} kB",
        c.memory_kb("VmHWM")
    );
    c.notify("exit", Value::Null);
    let asked = Instant::now();
    assert_eq!(c.wait_for_exit("exit"), Some(0));
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "exit took {:?}",
        asked.elapsed()
    );
}

/// An index directory whose builders' lock another process holds: a stale index of another
/// corpus (so the server must rebuild) and the lock taken by this test until the returned
/// file is dropped. A named pipe no longer hangs a build (it is refused at once), but a lock
/// held by a builder that stopped answering still makes no progress.
fn index_with_a_held_lock(dir: &std::path::Path) -> (std::path::PathBuf, std::fs::File) {
    let index = dir.join("index");
    let extra = dir.join("extra");
    std::fs::create_dir(&extra).unwrap();
    std::fs::write(
        extra.join("more.md"),
        "# More\n- Tendon sheaths can hold deposits [9]\n",
    )
    .unwrap();
    let built = Command::new(env!("CARGO_BIN_EXE_calcinosis-ls"))
        .args([
            "--corpus",
            extra.to_str().unwrap(),
            "index",
            "--out",
            index.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(index.join(".lock"))
        .unwrap();
    lock.lock().unwrap();
    (index, lock)
}

/// H2: a build that makes no progress is given up with a message, and the previous
/// knowledge base stays in use.
#[test]
fn a_build_that_makes_no_progress_gives_up_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let (index, _held) = index_with_a_held_lock(dir.path());
    let mut c = started(&[]);
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"calcinosis": {"indexDir": index}}}),
    );
    let deadline = Instant::now() + calcinosis_ls::limits::BUILD_STALL * 2;
    let said = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(m) = c.try_next(left) else {
            break false;
        };
        let message = m["params"]["message"].as_str().unwrap_or("");
        if m["method"] == "window/showMessage" && message.contains("no progress") {
            break true;
        }
    };
    assert!(said, "no message about the stalled build");
    c.open(URI, "markdown", &note(5));
    assert!(
        !c.diagnostics(URI, 1).is_empty(),
        "the previous knowledge base serves"
    );
    assert_eq!(c.shutdown(), Some(0));
}

/// H2: a superseded build was not cancelled; one hung (on a named pipe then, on a lock a
/// stuck builder holds now) never ended, and its `$/progress` never closed. Now newer settings cancel it at once: both builds' progress
/// ends, the hung one's as superseded, and the newer knowledge base serves.
#[test]
fn a_superseded_build_is_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let (index, _held) = index_with_a_held_lock(dir.path());
    let mut c = started(&[]);
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"calcinosis": {"indexDir": index}}}),
    );
    std::thread::sleep(Duration::from_millis(300));
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"calcinosis": {"indexDir": null}}}),
    );
    let mut ends = Vec::new();
    for _ in 0..2 {
        let end = c.wait_for("a build's end", |m| {
            m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
        });
        ends.push(
            end["params"]["value"]["message"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        );
    }
    assert!(ends.iter().any(|m| m.contains("superseded")), "{ends:?}");
    assert!(
        ends.iter().any(|m| m.contains("statements ready")),
        "{ends:?}"
    );
    c.open(URI, "markdown", &note(5));
    assert!(!c.diagnostics(URI, 1).is_empty());
    assert_eq!(c.shutdown(), Some(0));
}

/// H2, at startup: an index directory given on the command line whose build could not
/// proceed (its marker a named pipe, then; a lock held by a stuck builder, now) hung the
/// server before it read a single message, for ever. Now the build is
/// given up after `limits::BUILD_STALL` and the server ends with a message saying why.
#[test]
fn a_hung_index_at_startup_ends_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let (index, _held) = index_with_a_held_lock(dir.path());
    let mut c = Client::start_with(&["serve", "--index", index.to_str().unwrap()], &[]);
    let deadline = Instant::now() + calcinosis_ls::limits::BUILD_STALL * 2;
    while c.is_running() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !c.is_running(),
        "still hanging after {:?}",
        calcinosis_ls::limits::BUILD_STALL * 2
    );
    let stderr = c.stderr();
    assert!(stderr.contains("no progress"), "{stderr}");
}

/// U2: a relative `indexDir` without a workspace root landed in the editor's working
/// directory, and a leading `~` was taken literally. Now the first is refused with a
/// message, the second is the home directory.
#[test]
fn relative_index_dir_without_a_root_is_refused_and_tilde_is_home() {
    let home = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let mut c = Client::start_with(&["serve"], &[("HOME", home.path().to_str().unwrap())]);
    // The test's working directory is the server's: it must stay clean.
    let relative = format!("hostile-relative-index-{}", std::process::id());
    c.initialize(&[], json!({"indexDir": relative}));
    let shown = c.wait_for("the refusal", |m| m["method"] == "window/showMessage");
    let text = shown["params"]["message"].as_str().unwrap();
    assert!(
        text.contains("relative") && text.contains("absolute"),
        "{text}"
    );
    assert!(
        !std::path::Path::new(&relative).exists(),
        "created {relative} in the working directory"
    );
    let _ = std::fs::remove_dir_all(&relative);
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"calcinosis": {"indexDir": "~/kb-index"}}}),
    );
    c.wait_for("the build's end", |m| {
        m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
    });
    assert!(
        home.path()
            .join("kb-index/calcinosis-ls-index.json")
            .exists(),
        "~ is the home directory"
    );
    assert!(!std::path::Path::new("~").exists());
    drop(cwd);
    assert_eq!(c.shutdown(), Some(0));
}

/// Item 7: no error, message or log line quotes note text, whatever goes wrong with it.
#[test]
fn no_error_message_or_log_quotes_note_text() {
    const CANARY: &str = "CANARY-7f3a-SECRET";
    let mut c = Client::start_with(
        &["serve", "--max-message-size", "1"],
        &[("RUST_LOG", "debug")],
    );
    c.initialize(&[], json!({"diagnostics": {"debounceMs": 0}}));
    let text = format!("{CANARY} denies Raynaud's.\n");
    c.open(URI, "markdown", &text);
    c.diagnostics(URI, 1);
    let bodies = [
        // Undecodable changes, an oversized open, invalid JSON, bad params.
        format!(
            r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{URI}","version":null}},"contentChanges":[{{"text":"{CANARY}"}}]}}}}"#
        ),
        format!(
            r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{URI}","version":3}},"contentChanges":[{{"text":"{CANARY} \ud800"}}]}}}}"#
        ),
        format!(
            r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{{"uri":"file:///big.md","languageId":"markdown","version":1,"text":"{CANARY}{}"}}}}}}"#,
            "x".repeat(1_100_000)
        ),
        format!(
            r#"{{"jsonrpc":"2.0","id":50,"method":"textDocument/hover","params":{{"textDocument":{{"uri":"{URI}"}},"position":"{CANARY}"}}}}"#
        ),
        format!(
            r#"{{"jsonrpc":"2.0","id":51,"method":"workspace/executeCommand","params":{{"command":"calcinosis.documentDigest","arguments":["{CANARY}"]}}}}"#
        ),
        format!(r#"{{"jsonrpc":"2.0","id":53,"method":"x","params":"{CANARY}"#),
        format!(r#"{{"jsonrpc":"2.0","id":54,"method":"x","params":["{CANARY}", 1e400]}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":55,"method":"$/x","params":["{CANARY}"]}}"#),
        format!(
            r#"{{"jsonrpc":"2.0","id":56,"method":"textDocument/codeAction","params":{{"textDocument":{{"uri":"{URI}"}},"range":"{CANARY}"}}}}"#
        ),
    ];
    for body in &bodies {
        c.send_raw(&frame(body.as_bytes()));
    }
    let seen = drain(&mut c, Duration::from_secs(2));
    let stderr_path = c.stderr_path.clone();
    assert_eq!(c.shutdown(), Some(0));
    for m in &seen {
        let quoted = m.to_string().contains(CANARY);
        let kind = m["method"].as_str().unwrap_or("response");
        assert!(
            !(quoted && (m.get("error").is_some() || kind.starts_with("window/"))),
            "quotes the note: {m}"
        );
    }
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(!stderr.contains(CANARY), "stderr quotes the note");
    assert!(stderr.contains("out of sync"), "the logs say what happened");
}
