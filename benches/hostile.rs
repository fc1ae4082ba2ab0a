//! Hostile sizes against the release binary, each in a process of its own so that its peak
//! resident memory (`ru_maxrss` from `wait4`) is its own: a 5 MB question, a 10 MB note
//! opened and edited in the server, a 100,000-term lexicon, `check` on a 10 MB note that is
//! one line (and how much it prints), 5,000 changes in one `didChange` on a 5 MB note;
//! hostile index directories (links to devices, named pipes) and corpus files (a sparse
//! 1 GiB `.md`, a lexicon of 200-byte terms), which must be refused or bounded.
//! Run: `cargo bench --bench hostile` (or name scenarios: `-- question lexicon index corpus`).

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_calcinosis-ls");

/// Peak RSS (MB) and wall time of a finished child, and its stdout size.
struct Run {
    peak_mb: f64,
    wall: Duration,
    stdout_bytes: u64,
    ok: bool,
}

/// Waits for `pid` with `wait4`, which reports that child's own peak RSS.
fn wait_rusage(pid: u32) -> (bool, f64) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child; status and usage are valid for writes.
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    let ok = r > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (ok, usage.ru_maxrss as f64 / 1024.0)
}

/// Runs the CLI with `args`, feeding `stdin`, counting (not keeping) what it prints.
fn cli(args: &[&str], stdin: &[u8]) -> Run {
    let start = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start calcinosis-ls");
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let mut out = child.stdout.take().expect("stdout");
    let counter = std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let pid = child.id();
    let (ok, peak_mb) = wait_rusage(pid);
    std::mem::forget(child); // already reaped by wait4
    let _ = feeder.join();
    let stdout_bytes = counter.join().ok().and_then(|r| r.ok()).unwrap_or(0);
    Run {
        peak_mb,
        wall: start.elapsed(),
        stdout_bytes,
        ok,
    }
}

fn report(name: &str, r: &Run) {
    println!(
        "{name}: peak RSS {:.0} MB, {:.2} s, stdout {:.1} MB{}",
        r.peak_mb,
        r.wall.as_secs_f64(),
        r.stdout_bytes as f64 / 1e6,
        if r.ok { "" } else { " (FAILED)" }
    );
}

fn question() {
    let q = "how is calcinosis treated in juvenile dermatomyositis ".repeat(5 * 1024 * 1024 / 56);
    let r = cli(&["ask", "--limit", "5"], format!("{q}\n").as_bytes());
    report("ask, one 5 MB question", &r);
}

fn lexicon() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut toml = String::new();
    for i in 0..100_000 {
        toml.push_str(&format!(
            "[[term]]\nname = \"zterm{i} syndrome\"\ncategory = \"disease\"\nsynonyms = [\"zt{i} disease\"]\ndescription = \"A generated term.\"\n\n"
        ));
    }
    std::fs::write(dir.path().join("lexicon.toml"), toml).expect("write lexicon");
    let corpus = dir.path().to_str().expect("utf-8 path");
    let r = cli(&["--corpus", corpus, "ask", "zterm99999 syndrome"], b"");
    report("ask with a 100,000-term lexicon (load, index, answer)", &r);
}

fn one_line_check() {
    let chunk = "pt seen today denies raynauds but has sclerodactyly and telangiectasias, ";
    let note = chunk.repeat(10 * 1024 * 1024 / chunk.len());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("one-line.txt");
    std::fs::write(&path, &note).expect("write note");
    let p = path.to_str().expect("utf-8 path");
    report(
        "check --format text, 10 MB one-line note",
        &cli(&["check", p], b""),
    );
}

/// The server in its own process, driven over stdio; its peak RSS is read from /proc just
/// before it exits (VmHWM).
fn server_note() {
    let mut c = common::Client::start_with(&["serve"], &[]);
    c.initialize(&[], json!({"diagnostics": {"debounceMs": 0}}));
    let line = "Patient reports Raynaud's phenomenon and sclerodactyly; denies dysphagia. Plan reviewed.\n";
    let note = line.repeat(10 * 1024 * 1024 / line.len());
    let t = Instant::now();
    c.open("file:///hostile/big.txt", "plaintext", &note);
    let _ = c.diagnostics("file:///hostile/big.txt", 1);
    let opened = t.elapsed();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": "file:///hostile/big.txt", "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 10, "character": 0}, "end": {"line": 10, "character": 0}}, "text": "x"}]}),
    );
    let _ = c.diagnostics("file:///hostile/big.txt", 2);
    let peak = c.memory_kb("VmHWM").unwrap_or(0) as f64 / 1024.0;
    println!(
        "server, 10 MB note opened ({:.2} s to diagnostics) and edited: peak RSS {peak:.0} MB",
        opened.as_secs_f64()
    );
    let _ = c.shutdown();
}

fn replace_all() {
    let mut c = common::Client::start_with(&["serve"], &[]);
    c.initialize(&[], json!({"diagnostics": {"debounceMs": 0}}));
    let line = "pt reports Raynaud's and follow up in clinic, é\n";
    let lines = 5 * 1024 * 1024 / line.len();
    let note = line.repeat(lines);
    c.open("file:///hostile/ra.txt", "plaintext", &note);
    let _ = c.diagnostics("file:///hostile/ra.txt", 1);
    let col = line.find("follow up").expect("phrase") as u32;
    let step = lines / 5_000;
    let changes: Vec<_> = (0..5_000)
        .rev()
        .map(|i| {
            let l = (i * step) as u32;
            json!({"range": {"start": {"line": l, "character": col}, "end": {"line": l, "character": col + 9}}, "text": "review"})
        })
        .collect();
    c.open("file:///hostile/other.txt", "plaintext", "Denies RP.");
    let t = Instant::now();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": "file:///hostile/ra.txt", "version": 2}, "contentChanges": changes}),
    );
    let _ = c.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///hostile/other.txt"}, "position": {"line": 0, "character": 8}}),
    );
    println!(
        "server, 5,000 changes in one didChange on a 5 MB note: hover on another note answered after {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let _ = c.shutdown();
}

/// Reports a run whose refusal (a non-zero exit) is the expected outcome.
fn report_refusal(name: &str, r: &Run) {
    println!(
        "{name}: peak RSS {:.0} MB, {:.2} s, {}",
        r.peak_mb,
        r.wall.as_secs_f64(),
        if r.ok {
            "ACCEPTED (expected a refusal)"
        } else {
            "refused"
        }
    );
}

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// An index directory of the default corpus, then `damage` done to it, then `args` run on it.
fn index_dir() {
    type Damage = fn(&std::path::Path, &std::path::Path);
    let cases: [(&str, &str, Damage); 6] = [
        ("marker linked to /dev/zero", "ask", |d, _| {
            let m = d.join(calcinosis_ls::index::MARKER);
            std::fs::remove_file(&m).expect("rm");
            std::os::unix::fs::symlink("/dev/zero", &m).expect("link");
        }),
        ("marker linked to /dev/urandom", "ask", |d, _| {
            let m = d.join(calcinosis_ls::index::MARKER);
            std::fs::remove_file(&m).expect("rm");
            std::os::unix::fs::symlink("/dev/urandom", &m).expect("link");
        }),
        ("meta.json linked to /dev/zero", "ask", |_, g| {
            std::fs::remove_file(g.join("meta.json")).expect("rm");
            std::os::unix::fs::symlink("/dev/zero", g.join("meta.json")).expect("link");
        }),
        ("marker a named pipe", "ask", |d, _| {
            let m = d.join(calcinosis_ls::index::MARKER);
            std::fs::remove_file(&m).expect("rm");
            mkfifo(&m);
        }),
        (".lock a named pipe", "index", |d, _| {
            std::fs::remove_file(d.join(".lock")).expect("rm");
            mkfifo(&d.join(".lock"));
        }),
        ("a segment a named pipe", "ask", |_, g| {
            let store = std::fs::read_dir(g)
                .expect("generation")
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "store"))
                .expect("a .store file");
            std::fs::remove_file(&store).expect("rm");
            mkfifo(&store);
        }),
    ];
    for (name, command, damage) in cases {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("ix");
        let d = dir.to_str().expect("utf-8 path");
        assert!(cli(&["index", "--out", d], b"").ok, "index --out");
        let marker: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(calcinosis_ls::index::MARKER)).expect("marker"),
        )
        .expect("marker json");
        let generation = dir.join(marker["generation"].as_str().expect("generation"));
        damage(&dir, &generation);
        let r = if command == "ask" {
            cli(&["ask", "--index", d, "elbows"], b"")
        } else {
            cli(&["index", "--out", d], b"")
        };
        report_refusal(&format!("index directory, {name} ({command})"), &r);
    }
}

/// Corpus files: a sparse 1 GiB statements file, a named pipe, and lexicons of 200-byte
/// terms under and over the cap on their total.
fn corpus_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sparse = tmp.path().join("sparse");
    std::fs::create_dir(&sparse).expect("dir");
    std::fs::File::create(sparse.join("huge.md"))
        .and_then(|f| f.set_len(1 << 30))
        .expect("sparse file");
    let r = cli(
        &["--corpus", sparse.to_str().expect("utf-8"), "ask", "elbows"],
        b"",
    );
    report_refusal("corpus, a sparse 1 GiB .md", &r);
    let pipe = tmp.path().join("pipe");
    std::fs::create_dir(&pipe).expect("dir");
    mkfifo(&pipe.join("pipe.md"));
    let r = cli(
        &["--corpus", pipe.to_str().expect("utf-8"), "ask", "elbows"],
        b"",
    );
    report_refusal("corpus, a named pipe as a .md", &r);
    let term = |i: usize| {
        let mut name = format!("t{i} ");
        let mut w = i;
        while name.len() < 196 {
            name.push_str(["calx ", "nodule ", "digit ", "elbow ", "finger "][w % 5]);
            w = w / 5 + name.len();
        }
        name.truncate(200);
        format!(
            "[[term]]\nname = \"{}\"\ncategory = \"site\"\n\n",
            name.trim()
        )
    };
    for (n, expect_refusal) in [(15_000, false), (25_000, true)] {
        let dir = tmp.path().join(format!("lex{n}"));
        std::fs::create_dir(&dir).expect("dir");
        let toml: String = (0..n).map(term).collect();
        std::fs::write(dir.join("lexicon.toml"), toml).expect("write lexicon");
        let r = cli(
            &["--corpus", dir.to_str().expect("utf-8"), "ask", "elbows"],
            b"",
        );
        let name = format!("corpus, a lexicon of {n} terms of 200 bytes");
        if expect_refusal {
            report_refusal(&name, &r);
        } else {
            report(&name, &r);
        }
    }
}

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    if run("question") {
        question();
    }
    if run("lexicon") {
        lexicon();
    }
    if run("check") {
        one_line_check();
    }
    if run("server") {
        server_note();
    }
    if run("replace") {
        replace_all();
    }
    if run("index") {
        index_dir();
    }
    if run("corpus") {
        corpus_files();
    }
}
