//! A minimal LSP client for end-to-end tests: starts the real binary and speaks JSON-RPC
//! over its stdin/stdout with Content-Length framing, exactly as an editor does.

#![allow(dead_code)]

pub mod cli;
pub mod editor;
pub mod nvim;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tower_lsp_server::ls_types::PublishDiagnosticsParams;

/// How long any single wait may take before the test fails (generous for slow CI).
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
    /// Diagnostics decoded into lsp-types structs, when started with [`Client::start_typed`].
    typed: Option<Receiver<Typed>>,
    /// Every message from the server not yet consumed by `request`.
    pub inbox: Vec<Value>,
    next_id: i64,
    pub stderr_path: std::path::PathBuf,
}

/// Reads one framed message body; `None` at end of stream.
pub fn read_body(r: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut buf = vec![0; len?];
    r.read_exact(&mut buf).ok()?;
    Some(buf)
}

/// `publishDiagnostics` decoded by a client started with [`Client::start_typed`].
pub struct Typed {
    /// When the last byte of the message was read, before decoding.
    pub received: Instant,
    /// The notification's parameters.
    pub params: PublishDiagnosticsParams,
}

/// Whether a message body is a `publishDiagnostics` notification (the method comes first).
fn is_publication(body: &[u8]) -> bool {
    let head = &body[..body.len().min(160)];
    let method = b"\"textDocument/publishDiagnostics\"";
    head.windows(method.len()).any(|w| w == method)
}

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

impl Client {
    /// Starts the server with extra arguments and environment.
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Client {
        Client::spawn(env!("CARGO_BIN_EXE_calcinosis-ls"), args, env, false)
    }

    /// Like [`Client::start_with`], but `publishDiagnostics` notifications are decoded into
    /// lsp-types structs on the reader thread, as a typed Rust client (Helix, say) does,
    /// rather than into `serde_json::Value` trees, and are read with
    /// [`Client::typed_diagnostics`] only. For benchmarks: the generic tree of a
    /// multi-megabyte notification costs the client more than the server's work.
    pub fn start_typed(args: &[&str], env: &[(&str, &str)]) -> Client {
        Client::spawn(env!("CARGO_BIN_EXE_calcinosis-ls"), args, env, true)
    }

    /// [`Client::start_typed`] for another program that runs the server (another build).
    pub fn start_typed_program(program: &str, args: &[&str]) -> Client {
        Client::spawn(program, args, &[], true)
    }

    /// Starts another program that runs the server (a tracer, say).
    pub fn start_with_program(program: &str, args: &[&str]) -> Client {
        Client::spawn(program, args, &[], false)
    }

    fn spawn(program: &str, args: &[&str], env: &[(&str, &str)], typed: bool) -> Client {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let stderr_path = dir.join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        // A private cache dir: go-to-definition may write the embedded corpus there.
        cmd.env("XDG_CACHE_HOME", dir.join("cache"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start calcinosis-ls");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        let (typed_tx, typed_rx) = channel();
        std::thread::spawn(move || {
            #[derive(serde::Deserialize)]
            struct Publication {
                params: PublishDiagnosticsParams,
            }
            let mut r = BufReader::new(stdout);
            while let Some(body) = read_body(&mut r) {
                if typed && is_publication(&body) {
                    let received = Instant::now();
                    if let Ok(p) = serde_json::from_slice::<Publication>(&body) {
                        let _ = typed_tx.send(Typed {
                            received,
                            params: p.params,
                        });
                        continue;
                    }
                }
                let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
                    continue;
                };
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Client {
            child,
            stdin,
            rx,
            typed: typed.then_some(typed_rx),
            inbox: Vec::new(),
            next_id: 1,
            stderr_path,
        }
    }

    pub fn start() -> Client {
        Client::start_with(&["serve"], &[])
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write to server");
        stdin.flush().expect("flush");
    }

    pub fn send(&mut self, msg: &Value) {
        let body = serde_json::to_vec(msg).expect("json");
        self.send_raw(&frame(&body));
    }

    /// Sends a notification; `Value::Null` params are omitted, as JSON-RPC 2.0 asks.
    pub fn notify(&mut self, method: &str, params: Value) {
        let mut msg = json!({"jsonrpc": "2.0", "method": method});
        if !params.is_null() {
            msg["params"] = params;
        }
        self.send(&msg);
    }

    /// Sends a request without waiting; returns its id.
    pub fn request_async(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if !params.is_null() {
            msg["params"] = params;
        }
        self.send(&msg);
        id
    }

    /// Waits for the response with `id`, answering server requests meanwhile.
    pub fn response(&mut self, id: i64) -> Value {
        if let Some(i) = self
            .inbox
            .iter()
            .position(|m| m.get("id") == Some(&json!(id)) && m.get("method").is_none())
        {
            return self.inbox.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let msg = self
                .recv(deadline)
                .unwrap_or_else(|| panic!("no response to request {id}"));
            if msg.get("id") == Some(&json!(id)) && msg.get("method").is_none() {
                return msg;
            }
            self.inbox.push(msg);
        }
    }

    /// Sends a request and returns the whole response message.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.request_async(method, params);
        self.response(id)
    }

    /// Sends a request and returns its result, failing on an error response.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params);
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r["result"].clone()
    }

    fn recv(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.checked_duration_since(Instant::now())?;
        match self.rx.recv_timeout(left) {
            Ok(msg) => {
                // Answer server-to-client requests like an editor would.
                if msg.get("method").is_some() && msg.get("id").is_some() {
                    let id = msg["id"].clone();
                    self.send(&json!({"jsonrpc": "2.0", "id": id, "result": null}));
                }
                Some(msg)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    /// The next message (the inbox first, in arrival order), or `None` when none comes
    /// within `wait`.
    #[allow(dead_code)] // Not every test binary uses it.
    pub fn try_next(&mut self, wait: Duration) -> Option<Value> {
        if !self.inbox.is_empty() {
            return Some(self.inbox.remove(0));
        }
        self.recv(Instant::now() + wait)
    }

    /// Waits for a notification matching `pred` (checking the inbox first) and removes it.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.inbox.iter().position(&pred) {
            return self.inbox.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let msg = self
                .recv(deadline)
                .unwrap_or_else(|| panic!("timed out waiting for {what}"));
            if pred(&msg) {
                return msg;
            }
            self.inbox.push(msg);
        }
    }

    /// Waits for `publishDiagnostics` for `uri` at `version`.
    pub fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let mut msg = self.wait_for(&format!("diagnostics for {uri} v{version}"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        match msg["params"]["diagnostics"].take() {
            Value::Array(diagnostics) => diagnostics,
            _ => Vec::new(),
        }
    }

    /// Waits for typed `publishDiagnostics` for `uri` at `version` (see
    /// [`Client::start_typed`]), dropping earlier ones.
    pub fn typed_diagnostics(&mut self, uri: &str, version: i32) -> Typed {
        let rx = self.typed.as_ref().expect("started with start_typed");
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_default();
            let p = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("timed out waiting for diagnostics v{version}"));
            if p.params.uri.as_str() == uri && p.params.version == Some(version) {
                return p;
            }
        }
    }

    /// Initializes with the given position encodings offered (none: UTF-16 default), as a
    /// client that shows related information (VS Code and Neovim do).
    pub fn initialize(&mut self, encodings: &[&str], options: Value) -> Value {
        let mut caps = json!({"textDocument": {
            "hover": {"contentFormat": ["markdown"]},
            "publishDiagnostics": {"relatedInformation": true}
        }});
        if !encodings.is_empty() {
            caps["general"] = json!({"positionEncodings": encodings});
        }
        let r = self.call("initialize", json!({"processId": null, "rootUri": null, "capabilities": caps, "initializationOptions": options}));
        self.notify("initialized", json!({}));
        r
    }

    pub fn open(&mut self, uri: &str, language: &str, text: &str) {
        self.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}));
    }

    /// Shuts down cleanly and returns the exit status code.
    pub fn shutdown(mut self) -> Option<i32> {
        let r = self.request("shutdown", Value::Null);
        assert!(r.get("error").is_none(), "shutdown failed: {r}");
        // Like Neovim, keep our end of stdin open: `exit` alone must end the server.
        self.notify("exit", Value::Null);
        self.wait_for_exit("shutdown/exit")
    }

    /// Waits for the server process to end (failing after [`TIMEOUT`], naming `after`) and
    /// returns its exit status code.
    pub fn wait_for_exit(&mut self, after: &str) -> Option<i32> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit after {after}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A line of `/proc/<pid>/status` in kB (`VmRSS`, `VmHWM`).
    pub fn memory_kb(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Position of the first occurrence of `needle` in `text`, in UTF-16 units (or UTF-8 bytes).
pub fn pos_of(text: &str, needle: &str, utf8: bool) -> Value {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in text"));
    let line = text[..at].matches('\n').count();
    let line_start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    let col = if utf8 {
        at - line_start
    } else {
        text[line_start..at].encode_utf16().count()
    };
    json!({"line": line, "character": col})
}
