//! The hostile pass on the command line (issue 21): `check`, `ask` and `index` driven as a
//! user (or an attacker) drives them, one test per class of defect. Each test asserts the
//! bound — exit status, bytes written, peak memory of the child (VmHWM, watched while it
//! runs and killed past the bound) — not just that the process survived.
//!
//! `HOSTILE_CLI_BIN=/path/to/calcinosis-ls` runs the suite against another build (how each
//! test was seen to fail on the code before the fix).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Peak memory any hostile input may cost the CLI (the issue's bound).
const MAX_RSS_KB: u64 = 300 * 1024;
/// A liveness bound, not a performance one: a run past it is hung.
const LIVENESS: Duration = Duration::from_secs(60);
/// Text planted in every note: it must never come back in an error.
const CANARY: &str = "Xylophonist-Quagga-7731";

fn bin() -> PathBuf {
    std::env::var_os("HOSTILE_CLI_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_calcinosis-ls")))
}

/// What feeds the child's stdin.
enum Input {
    Bytes(Vec<u8>),
    File(PathBuf),
    None,
}

/// A finished run: its status, output (the first `keep` bytes, and how many there were),
/// stderr, and peak memory.
struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stdout_len: u64,
    stderr: String,
    peak_kb: u64,
    secs: f64,
    /// Killed by the watchdog: past the memory bound, the output bound or the liveness one.
    killed: Option<String>,
}

impl Run {
    fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    fn lines(&self) -> Vec<Value> {
        self.out()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
            .collect()
    }
    /// Within the bounds every hostile input must keep, and no panic.
    fn assert_bounded(&self, what: &str) {
        assert!(self.killed.is_none(), "{what}: {:?}", self.killed);
        assert!(
            self.peak_kb < MAX_RSS_KB,
            "{what}: {} kB peak",
            self.peak_kb
        );
        assert_ne!(self.code, Some(101), "{what}: panicked: {}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "{what}: {}", self.stderr);
    }
    fn assert_no_canary(&self, what: &str) {
        assert!(
            !self.stderr.contains(CANARY),
            "{what}: the note is quoted on stderr: {}",
            self.stderr
        );
        assert!(
            !self.out().contains(CANARY),
            "{what}: the note is quoted on stdout"
        );
    }
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the binary with `args` and `input` on stdin, keeping at most `keep` bytes of its
/// output; kills it past [`MAX_RSS_KB`], `max_out` bytes of output, or [`LIVENESS`].
fn run_full(args: &[&str], input: Input, keep: usize, max_out: u64) -> Run {
    run_to(args, input, keep, max_out, None)
}

/// [`run_full`] with stdout sent to `to` instead of a pipe read by the test.
fn run_to(args: &[&str], input: Input, keep: usize, max_out: u64, to: Option<Stdio>) -> Run {
    let piped_out = to.is_none();
    let stdout = to.unwrap_or_else(Stdio::piped);
    let stdin = match &input {
        Input::Bytes(_) => Stdio::piped(),
        Input::File(p) => Stdio::from(std::fs::File::open(p).expect("open the input")),
        Input::None => Stdio::null(),
    };
    let start = Instant::now();
    let mut child = Command::new(bin())
        .args(args)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start calcinosis-ls");
    let pid = child.id();
    if let Input::Bytes(data) = input {
        let mut w = child.stdin.take().expect("stdin");
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        });
    }
    let out_len = Arc::new(AtomicU64::new(0));
    let reader = child.stdout.take().filter(|_| piped_out).map(|mut r| {
        let out_len = out_len.clone();
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut buf = vec![0; 1 << 16];
            while let Ok(n) = r.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let room = keep.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                out_len.fetch_add(n as u64, Ordering::Relaxed);
            }
            kept
        })
    });
    let mut err = child.stderr.take().expect("stderr");
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let peak = Arc::new(AtomicU64::new(0));
    let mut killed = None;
    let status = loop {
        if let Some(kb) = vm_hwm_kb(pid) {
            peak.fetch_max(kb, Ordering::Relaxed);
        }
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        let why = if peak.load(Ordering::Relaxed) >= MAX_RSS_KB {
            Some(format!("past {MAX_RSS_KB} kB"))
        } else if out_len.load(Ordering::Relaxed) > max_out {
            Some(format!("past {max_out} bytes of output"))
        } else if start.elapsed() > LIVENESS {
            Some(format!("still running after {LIVENESS:?}"))
        } else {
            None
        };
        if let Some(why) = why {
            let _ = child.kill();
            killed = Some(why);
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let secs = start.elapsed().as_secs_f64();
    let stdout = reader
        .map(|r| r.join().expect("reader"))
        .unwrap_or_default();
    Run {
        code: status.code(),
        stdout,
        stdout_len: out_len.load(Ordering::Relaxed),
        stderr: err_reader.join().expect("stderr reader"),
        peak_kb: peak.load(Ordering::Relaxed),
        secs,
        killed,
    }
}

/// Runs with everything kept (for small outputs).
fn run(args: &[&str], input: Input) -> Run {
    run_full(args, input, 64 << 20, 64 << 20)
}

fn bytes(s: &str) -> Input {
    Input::Bytes(s.as_bytes().to_vec())
}

fn report(what: &str, r: &Run) {
    eprintln!(
        "{what}: exit {:?}, {:.2} s, peak {} kB, {} bytes out",
        r.code, r.secs, r.peak_kb, r.stdout_len
    );
}

fn file_names(out: &[Value]) -> Vec<String> {
    out.iter()
        .map(|v| v["file"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// D3: a cohort kept as a folder of links is analysed; loops, dangling links and FIFOs are
/// skipped with a summary of what and why, and exit status 1 says something was skipped.
#[test]
fn symlinked_notes_and_folders_are_followed_and_skips_are_summarised() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(elsewhere.join("deep")).unwrap();
    std::fs::write(elsewhere.join("one.txt"), "Denies RP.").unwrap();
    std::fs::write(elsewhere.join("deep/two.txt"), "Sclerodactyly.").unwrap();
    let cohort = dir.path().join("cohort");
    std::fs::create_dir(&cohort).unwrap();
    let link = |to: &Path, at: &str| std::os::unix::fs::symlink(to, cohort.join(at)).unwrap();
    link(&elsewhere.join("one.txt"), "a-note.txt");
    link(&elsewhere.join("deep"), "b-folder");

    // Only links: every note is analysed, nothing is skipped.
    let c = cohort.to_str().unwrap();
    let r = run(&["check", "--format", "jsonl", c], Input::None);
    r.assert_bounded("links");
    let files = file_names(&r.lines());
    assert_eq!(files.len(), 2, "{files:?} {}", r.stderr);
    assert!(files[0].ends_with("a-note.txt") && files[1].ends_with("b-folder/two.txt"));
    assert_eq!(r.code, Some(0), "{}", r.stderr);

    // A loop, a dangling link and a FIFO: skipped, named, counted; exit 1.
    std::os::unix::fs::symlink(&cohort, cohort.join("b-folder-loop")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("gone.txt"), cohort.join("c-gone.txt")).unwrap();
    let fifo = cohort.join("d-fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let r = run(&["check", "--format", "jsonl", c], Input::None);
    r.assert_bounded("loops");
    assert_eq!(file_names(&r.lines()).len(), 2, "{}", r.stderr);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("skipped 3 path(s)"), "{}", r.stderr);
    for (name, why) in [
        ("b-folder-loop", "(a loop)"),
        ("c-gone.txt", "whose target does not exist"),
        ("d-fifo", "not a regular file"),
    ] {
        assert!(
            r.stderr
                .lines()
                .any(|l| l.contains(name) && l.contains(why)),
            "{name}: {}",
            r.stderr
        );
    }

    // Many skips: counted, and only the first 20 named (stderr stays bounded).
    for i in 0..40 {
        std::os::unix::fs::symlink(&cohort, cohort.join(format!("e-loop-{i:02}"))).unwrap();
    }
    let r = run(&["check", "--format", "jsonl", c], Input::None);
    r.assert_bounded("many loops");
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("skipped 43 path(s)"), "{}", r.stderr);
    assert!(r
        .stderr
        .contains("41 × a symbolic link to a folder that contains it"));
    let named = r
        .stderr
        .lines()
        .filter(|l| l.contains(": skipped ") && !l.contains("path(s)"));
    assert_eq!(named.count(), 20, "{}", r.stderr);
    assert!(r.stderr.contains("… and 23 more skipped"), "{}", r.stderr);
}

/// D4, D5, D8: escaped keys, a byte-order mark and a lone surrogate are valid records:
/// every one is analysed.
#[test]
fn jsonl_records_are_decoded_leniently() {
    let mut input = b"\xEF\xBB\xBF{\"id\": 1, \"text\": \"Denies RP.\"}\n".to_vec();
    // Python's json.dumps escapes non-ASCII keys; PHP escapes `/`.
    input
        .extend_from_slice(b"{\"\\u0069d\": 2, \"t\\u0065xt\": \"Denies RP.\", \"n\\u00e9\": 1}\n");
    input.extend_from_slice(b"{\"id\": 3, \"a\\/b\": 0, \"text\": \"Denies RP.\"}\n");
    input.extend_from_slice(
        b"{\"id\": 4, \"text\": \"\\ud83d Denies RP. \\udc00\\ud83d\\ude00\"}\n",
    );
    let r = run(
        &["check", "--format", "jsonl", "--input", "jsonl"],
        Input::Bytes(input),
    );
    r.assert_bounded("lenient");
    let out = r.lines();
    assert_eq!(out.len(), 4, "{}", r.stderr);
    for (i, v) in out.iter().enumerate() {
        assert_eq!(v["id"], i + 1, "{v}");
        assert!(v.get("error").is_none(), "{v}");
        assert_eq!(v["findings"][0]["text"], "RP", "{v}");
    }
    // The BOM is not counted; the surrogate became one U+FFFD (one UTF-16 unit) plus space.
    assert_eq!(out[0]["findings"][0]["range"]["start"]["character"], 7);
    assert_eq!(out[3]["findings"][0]["range"]["start"]["character"], 9);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

/// D8: `--format json` keeps a failed record in the array, in its place, as an error object.
#[test]
fn json_format_keeps_failed_records_as_error_objects() {
    let input =
        "{\"id\": 1, \"text\": \"Denies RP.\"}\n{\"id\": 2}\n{\"id\": 3, \"text\": \"No RP.\"}\n";
    let r = run(
        &["check", "--format", "json", "--input", "jsonl"],
        bytes(input),
    );
    r.assert_bounded("json");
    let v: Value = serde_json::from_slice(&r.stdout).expect("one JSON array");
    let a = v.as_array().unwrap();
    assert_eq!(a.len(), 3, "{v}");
    assert_eq!(a[1]["id"], 2);
    assert_eq!(a[1]["error"], "no \"text\" field");
    assert_eq!(a[2]["id"], 3);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains("1 input(s) could not be analysed"),
        "{}",
        r.stderr
    );
}

/// P1, item 7: no error path of `check` or `ask` quotes the note, in any format.
#[test]
fn errors_never_quote_the_note() {
    let dir = tempfile::tempdir().unwrap();
    let c = CANARY;
    let utf16: Vec<u8> = format!("{{\"text\": \"{c}\"}}\n")
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let mut records: Vec<(&str, Vec<u8>)> = vec![
        ("a bare string", format!("\"{c}\"\n").into_bytes()),
        (
            "an array",
            format!("[\"{c}\", {{\"text\": \"{c}\"}}]\n").into_bytes(),
        ),
        ("a number", b"12345\n".to_vec()),
        ("true", b"true\n".to_vec()),
        ("cut short", format!("{{\"text\": \"{c}\n").into_bytes()),
        (
            "trailing",
            format!("{{\"text\": \"a\"}} {c}\n").into_bytes(),
        ),
        (
            "text not a string",
            format!("{{\"text\": [\"{c}\"]}}\n").into_bytes(),
        ),
        (
            "text an object",
            format!("{{\"text\": {{\"{c}\": 1}}}}\n").into_bytes(),
        ),
        (
            "bad escape",
            format!("{{\"text\": \"{c}\\q\"}}\n").into_bytes(),
        ),
        (
            "bad key escape",
            format!("{{\"{c}\\q\": 1}}\n").into_bytes(),
        ),
        ("no text", format!("{{\"{c}\": \"{c}\"}}\n").into_bytes()),
        (
            "invalid UTF-8",
            format!("{{\"text\": \"{c} \u{1}").into_bytes(),
        ),
        (
            "CR-only",
            format!("{{\"text\": \"{c}\"}}\r{{\"text\": \"{c}\"}}\r").into_bytes(),
        ),
        ("NUL", format!("{{\"text\": \"{c}\0\"}}\n").into_bytes()),
        ("UTF-16", utf16.clone()),
    ];
    records[11].1.extend_from_slice(b"\xff\"}\n");
    let mut long = format!("{{\"text\": \"{c} ").into_bytes();
    long.resize(25 << 20, b'a');
    long.extend_from_slice(b"\"}\n");
    records.push(("too long", long));
    for (what, data) in &records {
        for format in ["text", "json", "jsonl"] {
            let r = run(
                &["check", "--format", format, "--input", "jsonl"],
                Input::Bytes(data.clone()),
            );
            let what = format!("{what} ({format})");
            r.assert_bounded(&what);
            r.assert_no_canary(&what);
            assert_eq!(r.code, Some(2), "{what}: {}", r.stderr);
        }
    }

    // Whole notes: not UTF-8, UTF-16, NULs, too large — by file and on stdin.
    let mut big = format!("{c} ").into_bytes();
    big.resize(25 << 20, b'a');
    let notes: Vec<(&str, Vec<u8>)> = vec![
        ("invalid UTF-8", [c.as_bytes(), b" \xff\xfe"].concat()),
        ("UTF-16", utf16),
        ("NULs", vec![0; 4096]),
        ("too large", big),
    ];
    for (what, data) in &notes {
        let path = dir.path().join("note.txt");
        std::fs::write(&path, data).unwrap();
        for format in ["text", "json", "jsonl"] {
            for from_file in [true, false] {
                let r = if from_file {
                    run(
                        &["check", "--format", format, path.to_str().unwrap()],
                        Input::None,
                    )
                } else {
                    run(&["check", "--format", format], Input::Bytes(data.clone()))
                };
                let what = format!("{what} ({format}, file {from_file})");
                r.assert_bounded(&what);
                r.assert_no_canary(&what);
                assert_eq!(r.code, Some(2), "{what}: {}", r.stderr);
            }
        }
    }

    // ask: a line that is not UTF-8, an endless binary line.
    for format in ["text", "json"] {
        let input = [c.as_bytes(), b" \xff calcinosis\n"].concat();
        let r = run(&["ask", "--format", format], Input::Bytes(input));
        r.assert_bounded("ask, invalid UTF-8");
        r.assert_no_canary("ask, invalid UTF-8");
        assert_eq!(r.code, Some(2), "{}", r.stderr);
        let mut binary = c.as_bytes().to_vec();
        binary.resize(1 << 20, 0);
        let r = run(&["ask", "--format", format], Input::Bytes(binary));
        r.assert_bounded("ask, binary");
        r.assert_no_canary("ask, binary");
        assert_eq!(r.code, Some(2), "{}", r.stderr);
    }
}

/// H4: a reader that goes away or a full disk ends `index`, `check` and `ask` with a
/// message (or quietly, for the closed pipe), never a panic.
#[test]
fn closed_and_full_outputs_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let full = || Stdio::from(std::fs::File::create("/dev/full").expect("/dev/full"));
    let idx = dir.path().join("idx");
    let idx = idx.to_str().unwrap();
    let runs: [(&str, Vec<&str>, Input); 3] = [
        ("index", vec!["index", "--out", idx], Input::None),
        ("check", vec!["check"], bytes("Denies RP.")),
        ("ask", vec!["ask", "calcinosis treatment"], Input::None),
    ];
    for (what, args, input) in runs {
        let r = run_to(&args, input, 0, 0, Some(full()));
        r.assert_bounded(what);
        assert_eq!(r.code, Some(2), "{what}: {}", r.stderr);
        assert!(
            r.stderr.contains("the disk is full"),
            "{what}: {}",
            r.stderr
        );
    }

    // `index | true`: the pipe is closed before the summary is written.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let r = run_to(
        &["index", "--out", idx],
        Input::None,
        0,
        0,
        Some(Stdio::from(writer)),
    );
    r.assert_bounded("index | true");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

/// H5: `--jobs` past the cap is clamped: no overflow, no ten thousand threads.
#[test]
fn jobs_are_clamped() {
    let notes: String = (0..50)
        .map(|i| format!("{{\"id\": {i}, \"text\": \"Denies RP.\"}}\n"))
        .collect();
    for jobs in ["18446744073709551615", "100000"] {
        let r = run(
            &[
                "check", "--format", "jsonl", "--input", "jsonl", "--jobs", jobs,
            ],
            bytes(&notes),
        );
        report(&format!("--jobs {jobs}"), &r);
        r.assert_bounded(jobs);
        assert_eq!(r.code, Some(0), "{jobs}: {}", r.stderr);
        assert_eq!(r.lines().len(), 50);
    }
}

/// A note dense with findings: one every ~24 bytes.
fn dense_note(bytes: usize) -> String {
    let mut s = "Denies RP, has sclerodactyly. ".repeat(bytes / 30 + 1);
    s.truncate(bytes);
    s
}

/// R2: a note past the cap becomes an error and the run goes on; a note just under it is
/// analysed in bounded memory in every format; /dev/zero and a huge one-line input are
/// bounded; a JSON array given as JSON Lines gets a hint.
#[test]
fn huge_notes_are_bounded_per_note() {
    // /dev/zero as a note, and as JSON Lines.
    for args in [
        vec!["check", "/dev/zero"],
        vec!["check", "--input", "jsonl", "/dev/zero"],
    ] {
        let r = run(&args, Input::None);
        report(&args.join(" "), &r);
        r.assert_bounded(&args.join(" "));
        assert_eq!(r.code, Some(2), "{}", r.stderr);
    }
    let r = run(&["check"], Input::File("/dev/zero".into()));
    r.assert_bounded("stdin /dev/zero");
    assert!(
        r.stderr.contains("the most a note may have"),
        "{}",
        r.stderr
    );

    // A record past the cap, between two small ones: an error in its place, the run goes on.
    let mut input = b"{\"id\": 1, \"text\": \"Denies RP.\"}\n{\"id\": 2, \"text\": \"".to_vec();
    input.extend(dense_note(30 << 20).bytes());
    input.extend_from_slice(b"\"}\n{\"id\": 3, \"text\": \"No RP.\"}\n");
    let r = run(
        &["check", "--format", "jsonl", "--input", "jsonl"],
        Input::Bytes(input),
    );
    report("a 30 MB record between two small ones", &r);
    r.assert_bounded("30 MB record");
    let out = r.lines();
    assert_eq!(out.len(), 3, "{}", r.stderr);
    assert!(
        out[1]["error"].as_str().unwrap().contains("at most 24 MiB"),
        "{}",
        out[1]
    );
    assert_eq!(out[2]["id"], 3);
    assert_eq!(r.code, Some(2));

    // A one-line input of 100 MB without a newline: read past, bounded.
    let mut line = b"{\"text\": \"".to_vec();
    line.resize(100 << 20, b'a');
    let r = run_full(
        &["check", "--input", "jsonl"],
        Input::Bytes(line),
        1 << 16,
        1 << 16,
    );
    report("a 100 MB line", &r);
    r.assert_bounded("100 MB line");
    assert!(r.stderr.contains("104857600 bytes long"), "{}", r.stderr);

    // A dense note just under the cap, in each format: its report is streamed.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dense.txt");
    std::fs::write(&path, dense_note(20 << 20)).unwrap();
    for format in ["json", "jsonl", "text"] {
        let r = run_full(
            &["check", "--format", format, path.to_str().unwrap()],
            Input::None,
            1 << 10,
            u64::MAX,
        );
        report(&format!("a dense 20 MB note, {format}"), &r);
        r.assert_bounded(format);
        assert_eq!(r.code, Some(0), "{format}: {}", r.stderr);
        assert!(r.stdout_len > 20 << 20, "{format}: {} bytes", r.stdout_len);
    }

    // A JSON array given as JSON Lines: one error with a hint.
    let r = run(
        &["check", "--input", "jsonl"],
        bytes("[{\"text\": \"Denies RP.\"}, {\"text\": \"No RP.\"}]\n"),
    );
    assert!(r.stderr.contains("jq -c '.[]'"), "{}", r.stderr);
}

/// R2: the stream of a large note's JSON report is the same bytes as a small note's would
/// be (streamed, not rendered whole, and still one object per line).
#[test]
fn streamed_reports_keep_their_shape() {
    let note = dense_note(2 << 20);
    let r = run(&["check", "--format", "json"], bytes(&note));
    r.assert_bounded("streamed json");
    let v: Value = serde_json::from_slice(&r.stdout).expect("one JSON array");
    let findings = v[0]["findings"].as_array().unwrap();
    assert!(findings.len() > 100_000, "{}", findings.len());
    assert_eq!(v[0]["crest"]["present"], serde_json::json!(["S"]));
    assert_eq!(r.out().lines().count(), 3, "[, the object, ]");
}

/// Issue 22: a dense note's FHIR bundle and OMOP rows are streamed a piece at a time, as
/// JSON is: bounded memory (rendered whole, a 20 MB note's bundle peaked at 991 MB), one
/// bundle that parses, rows numbered on into the next note.
#[test]
fn fhir_and_omop_stream_a_dense_note() {
    let dir = tempfile::tempdir().unwrap();
    // Named by a number: a FHIR id and an OMOP note_id both.
    let path = dir.path().join("7.txt");
    std::fs::write(&path, dense_note(20 << 20)).unwrap();
    for format in ["fhir", "omop"] {
        let r = run_full(
            &["check", "--format", format, path.to_str().unwrap()],
            Input::None,
            1 << 10,
            u64::MAX,
        );
        report(&format!("a dense 20 MB note, {format}"), &r);
        r.assert_bounded(format);
        assert_eq!(r.code, Some(0), "{format}: {}", r.stderr);
        assert!(r.stdout_len > 20 << 20, "{format}: {} bytes", r.stdout_len);
    }

    // Past the size at which reports are streamed (256 KiB), within the output bound.
    let note = dense_note(512 << 10);
    let records = format!(
        "{}\n{{\"id\": 2, \"text\": \"Denies RP.\"}}\n",
        serde_json::json!({"id": 1, "text": note})
    );
    let r = run(
        &["check", "--format", "fhir", "--input", "jsonl"],
        bytes(&records),
    );
    r.assert_bounded("streamed fhir");
    let bundles = r.lines();
    assert_eq!(bundles.len(), 2);
    let entries = bundles[0]["entry"].as_array().unwrap();
    assert!(entries.len() > 10_000, "{}", entries.len());
    assert_eq!(
        entries.last().unwrap()["resource"]["resourceType"],
        "Observation"
    );
    let r = run(
        &["check", "--format", "omop", "--input", "jsonl"],
        bytes(&records),
    );
    r.assert_bounded("streamed omop");
    let out = r.out();
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert!(rows.len() > 10_000, "{}", rows.len());
    for (i, row) in rows.iter().enumerate() {
        assert!(row.starts_with(&format!("{},", i + 1)), "row {i}: {row}");
    }
    assert!(
        rows.last().unwrap().split(',').nth(1) == Some("2"),
        "the small note last"
    );
}

/// R3: a record's name repeated on every finding line is cut short.
#[test]
fn record_names_are_truncated_in_text_output() {
    let note = dense_note(220_000);
    let record = serde_json::json!({ "text": note }).to_string();
    let r = run_full(
        &["check", "--input", "jsonl", "--id-field", "text"],
        Input::Bytes(format!("{record}\n").into_bytes()),
        1 << 20,
        256 << 20,
    );
    report("--id-field text, a 220 KB note", &r);
    r.assert_bounded("--id-field text");
    let findings = note.matches("RP").count() + note.matches("sclerodactyly").count();
    // Each summary line: a name of at most 80 characters plus ~120 bytes.
    assert!(
        r.stdout_len < (findings as u64) * 400 + 200 * 800,
        "{} bytes for {findings} findings",
        r.stdout_len
    );
    let first = r.out().lines().next().unwrap_or_default().to_string();
    assert!(first.starts_with("Denies RP, has"), "{first}");
    assert!(first.len() < 400, "{} bytes", first.len());
}

/// R6, D7: question lines are read with a limit; a bad line is reported and skipped, and
/// `--format json` prints exactly one value per input line.
#[test]
fn ask_reads_bounded_lines_and_skips_bad_ones() {
    let r = run(&["ask"], Input::File("/dev/zero".into()));
    report("ask < /dev/zero", &r);
    r.assert_bounded("ask < /dev/zero");
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("NUL bytes"), "{}", r.stderr);

    let mut input = b"calcinosis treatment ".repeat(5_000_000);
    input.extend_from_slice(b"\nwhere does calcinosis occur\n");
    let r = run(&["ask", "--format", "json"], Input::Bytes(input));
    report("ask, a 100 MB line", &r);
    r.assert_bounded("ask, 100 MB line");
    assert_eq!(r.lines().len(), 2, "{}", r.stderr);

    let input = b"how is calcinosis treated\n\xff\xfe\n\nwhere does calcinosis occur\n".to_vec();
    let r = run(&["ask", "--format", "json"], Input::Bytes(input.clone()));
    r.assert_bounded("ask json");
    let out = r.lines();
    assert_eq!(out.len(), 4, "one value per input line: {}", r.out());
    assert!(out[0].as_array().is_some_and(|a| !a.is_empty()));
    assert!(out[1]["error"]
        .as_str()
        .unwrap()
        .contains("line 2 is not valid UTF-8"));
    assert_eq!(out[2], serde_json::json!([]));
    assert!(
        out[3].as_array().is_some_and(|a| !a.is_empty()),
        "{}",
        out[3]
    );
    assert_eq!(r.code, Some(2));

    // Text: the question after the bad line is answered.
    let r = run(&["ask"], Input::Bytes(input));
    assert_eq!(r.out().matches("Sources:").count(), 2, "{}", r.out());
    assert!(r.stderr.contains("line 2"), "{}", r.stderr);
}

/// U3: a dangling link, a file of NULs, UTF-16 and CR-only JSON Lines say what they are.
#[test]
fn odd_inputs_get_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("gone.txt");
    std::os::unix::fs::symlink(dir.path().join("nowhere.txt"), &link).unwrap();
    let zeros = dir.path().join("zeros.txt");
    std::fs::write(&zeros, vec![0u8; 10_000]).unwrap();
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "{\"text\": \"Denies RP.\"}\n"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        )
        .collect();
    let cases: Vec<(Vec<&str>, Input, &str)> = vec![
        (
            vec!["check", link.to_str().unwrap()],
            Input::None,
            "symbolic link whose target does not exist",
        ),
        (
            vec!["check", zeros.to_str().unwrap()],
            Input::None,
            "only NUL bytes",
        ),
        (
            vec!["check", "--input", "jsonl"],
            Input::Bytes(utf16),
            "UTF-16, not UTF-8",
        ),
        (
            vec!["check", "--input", "jsonl"],
            bytes("{\"text\": \"Denies RP.\"}\r{\"text\": \"No RP.\"}\r"),
            "end in CR alone",
        ),
    ];
    for (args, input, want) in cases {
        let r = run(&args, input);
        r.assert_bounded(want);
        assert_eq!(r.code, Some(2), "{want}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{want}: {}", r.stderr);
    }
}

/// U4: a `--glob` matching nothing says so and fails; names that are not UTF-8 are shown
/// apart.
#[test]
fn an_empty_glob_fails_and_odd_names_stay_distinct() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "Denies RP.").unwrap();
    let d = dir.path().to_str().unwrap();
    let r = run(&["check", "--glob", "*.note", d], Input::None);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("--glob matched none"), "{}", r.stderr);

    for name in [&b"n\xff.txt"[..], b"n\xfe.txt"] {
        let path = dir.path().join(std::ffi::OsStr::from_bytes(name));
        std::fs::write(path, "Denies RP.").unwrap();
    }
    let r = run(
        &["check", "--format", "jsonl", "--glob", "n*", d],
        Input::None,
    );
    let files = file_names(&r.lines());
    assert_eq!(files.len(), 2, "{}", r.stderr);
    assert_ne!(files[0], files[1], "two files, two names");
    assert!(files.iter().all(|f| !f.contains('\u{FFFD}')), "{files:?}");
}

/// U6: `python/ci.sh` finds the CLI where Cargo put it, also with CARGO_TARGET_DIR set.
#[test]
fn python_ci_finds_the_cli_in_cargos_target_directory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let elsewhere = tempfile::tempdir().unwrap();
    let o = Command::new("bash")
        .arg(root.join("python/cli-path.sh"))
        .env("CARGO_TARGET_DIR", elsewhere.path())
        .output()
        .expect("run python/cli-path.sh");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want = elsewhere.path().join("debug/calcinosis-ls");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        want.to_str().unwrap()
    );
    let ci = std::fs::read_to_string(root.join("python/ci.sh")).unwrap();
    assert!(ci.contains("python/cli-path.sh") && !ci.contains("target/debug/calcinosis-ls"));
}

/// Issue 25: a note that is one long line of joined headers, device codes, risk lists or lay
/// wording (what an exported note does at its worst) is analysed within the memory bound,
/// and every repetition is judged as a short note would be: the scan for headers inside a
/// line looks at a bounded window after each separator, never back over the line.
#[test]
fn joined_headers_codes_and_lay_wording_in_one_line_are_bounded() {
    const BYTES: usize = 8 << 20;
    let cases: [(&str, &str, &str, usize); 4] = [
        // (what, repeated unit, the finding's JSON assertion, findings per unit)
        (
            "joined headers",
            "Dysphagia.,PROCEDURE: , Consent from the parents.,",
            "\"assertion\":\"present\"",
            1,
        ),
        ("bare upper-case labels", ",AB:", "\"assertion\"", 0),
        (
            "device codes",
            "closed with an RP-45 stapler, ",
            "\"assertion\"",
            0,
        ),
        (
            "lay wording in a risk list",
            "risks including bleeding and trouble swallowing; ",
            "\"assertion\":\"hypothetical\"",
            1,
        ),
    ];
    for (what, unit, needle, per_unit) in cases {
        let n = BYTES / unit.len();
        let note = unit.repeat(n);
        let r = run(&["check", "--format", "jsonl", "-"], bytes(&note));
        report(&format!("an 8 MB line of {what}"), &r);
        r.assert_bounded(what);
        assert_eq!(r.code, Some(0), "{what}: {}", r.stderr);
        let out = r.out();
        assert_eq!(
            out.matches(needle).count(),
            n * per_unit,
            "{what}: findings per repetition"
        );
        assert_eq!(
            out.matches("\"assertion\"").count(),
            n * per_unit,
            "{what}: no other finding"
        );
    }
}

/// A run-on sentence of mentions each followed by a predicate ("RP improved") and no comma:
/// the search for the comma that opens a mention's own clause stays within its reach, so the
/// note is analysed in time linear in its length, every mention present.
#[test]
fn a_run_on_sentence_of_predicates_is_bounded() {
    let unit = "no RP improved ";
    // 3 MB: each of its ~210,000 findings is ~240 bytes of JSON (with its codes), so the
    // output stays under the 64 MB this suite lets a child write.
    let n = (3 << 20) / unit.len();
    let r = run(&["check", "--format", "jsonl", "-"], bytes(&unit.repeat(n)));
    report("3 MB of 'no RP improved' without a comma", &r);
    r.assert_bounded("predicates");
    assert!(r.secs < LIVENESS.as_secs_f64(), "{} s", r.secs);
    let out = r.out();
    assert_eq!(out.matches("\"assertion\"").count(), n);
}
