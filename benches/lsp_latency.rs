//! LSP round trips over stdio against the release binary, as an editor sees them: hover,
//! completion, time from an edit to its diagnostics (whole-document replacement and a
//! one-character edit), and memory, on notes of 500, 5,000 and 50,000 lines.
//! The client decodes diagnostics into lsp-types structs, as a typed Rust client does.
//! Then `shapes`: time from opening a note to its diagnostics for the note shapes that
//! were once quadratic (one long line, unpunctuated lower-case lines, a line of
//! misspellings) and for dense and typical notes, each at 1×, 2× and 4× its size, so that a
//! super-linear curve shows.
//! Then `startup`: spawn → `initialize` response, and `edits`: one-character edit →
//! diagnostics with default settings and with `debounceMs` 0, on typical notes of 100,
//! 1,000 and 10,000 lines, the runs of each pair interleaved. With `CALCINOSIS_LS_OLD` naming
//! another build of the binary, both also time it, interleaved with this one.
//! Run: `cargo bench --bench lsp_latency` (all), or name sizes and kinds to run only
//! those: `cargo bench --bench lsp_latency -- 5000 dense`, `… -- shapes`, `… -- startup`,
//! `… -- edits`.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/notegen.rs"]
mod notegen;

use std::time::{Duration, Instant};

use common::Client;
use serde_json::json;

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

fn summary(name: &str, v: &mut [Duration]) -> String {
    format!(
        "{name}: n={} p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        v.len(),
        pct(v, 0.5),
        pct(v, 0.99),
        pct(v, 1.0)
    )
}

/// UTF-16 position of byte `at` (the generated notes are ASCII, so bytes = units).
fn pos(text: &str, at: usize) -> serde_json::Value {
    let line = text[..at].matches('\n').count();
    let start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    json!({"line": line, "character": at - start})
}

fn run(
    dense: bool,
    lines: usize,
    hovers: usize,
    completions: usize,
    full_changes: usize,
    small_edits: usize,
) {
    let uri = "file:///bench/note.txt";
    // The server's debug log says how long each version's analysis took and how many
    // pieces of the note it re-analysed (it never carries note text).
    let mut c = Client::start_typed(&["serve"], &[("RUST_LOG", "calcinosis_ls=debug")]);
    let started = Instant::now();
    // No cap on diagnostics per note (default 1,000): the tables measure publishing every
    // finding of these dense synthetic notes, as before the cap existed.
    c.initialize(
        &["utf-16"],
        json!({"diagnostics": {"debounceMs": 0, "maxPerDocument": 100_000}}),
    );
    let init_ms = started.elapsed().as_secs_f64() * 1000.0;
    std::thread::sleep(Duration::from_millis(200));
    let idle_rss = c.memory_kb("VmRSS").unwrap_or(0);

    let mut gen = if dense {
        notegen::NoteGen::new(7)
    } else {
        notegen::NoteGen::typical(7)
    };
    let text = gen.document(lines);
    let t = Instant::now();
    c.open(uri, "plaintext", &text);
    let first = c.typed_diagnostics(uri, 1).params.diagnostics;
    let open_ms = t.elapsed().as_secs_f64() * 1000.0;

    // Hover targets: every diagnostic's start; completion targets: ends of long words.
    let targets: Vec<serde_json::Value> = first
        .iter()
        .map(|d| json!({"line": d.range.start.line, "character": d.range.start.character}))
        .collect();
    let word_ends: Vec<usize> = text
        .match_indices(|c: char| !c.is_alphanumeric())
        .map(|(i, _)| i)
        .filter(|&i| i >= 4 && text[i - 4..i].chars().all(char::is_alphabetic))
        .collect();
    let mut rng = fastrand::Rng::with_seed(1);

    let mut hover = Vec::new();
    for _ in 0..hovers {
        let p = targets[rng.usize(..targets.len())].clone();
        let t = Instant::now();
        let r = c.call(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": p}),
        );
        hover.push(t.elapsed());
        assert!(!r.is_null(), "hover on a finding");
    }
    let mut completion = Vec::new();
    for _ in 0..completions {
        let p = pos(&text, word_ends[rng.usize(..word_ends.len())]);
        let t = Instant::now();
        c.call(
            "textDocument/completion",
            json!({"textDocument": {"uri": uri}, "position": p}),
        );
        completion.push(t.elapsed());
    }
    let mut full = Vec::new();
    let mut full_received = Vec::new();
    let mut version: i32 = 1;
    for i in 0..full_changes {
        version += 1;
        let new_text = if i % 2 == 0 {
            text.replacen("Denies", "Reports", 1)
        } else {
            text.clone()
        };
        let t = Instant::now();
        c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": new_text}]}));
        let got = c.typed_diagnostics(uri, version);
        full.push(t.elapsed());
        full_received.push(got.received - t);
    }
    let mut small = Vec::new();
    let mut small_received = Vec::new();
    let mid = lines as u64 / 2;
    let first_small = version + 1;
    for i in 0..small_edits {
        version += 1;
        let change = if i % 2 == 0 {
            json!({"range": {"start": {"line": mid, "character": 0}, "end": {"line": mid, "character": 0}}, "text": "x"})
        } else {
            json!({"range": {"start": {"line": mid, "character": 0}, "end": {"line": mid, "character": 1}}, "text": ""})
        };
        let t = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
        );
        let got = c.typed_diagnostics(uri, version);
        small.push(t.elapsed());
        small_received.push(got.received - t);
    }
    let rss = c.memory_kb("VmRSS").unwrap_or(0);
    let peak = c.memory_kb("VmHWM").unwrap_or(0);
    let log = c.stderr();
    c.shutdown();

    let kind = if dense { "dense" } else { "typical" };
    println!(
        "\n{lines} lines, {kind} ({:.2} MB, {} diagnostics)",
        text.len() as f64 / 1e6,
        first.len()
    );
    println!("  initialize round trip: {init_ms:.1} ms; open → first diagnostics: {open_ms:.1} ms");
    println!("  {}", summary("hover", &mut hover));
    println!("  {}", summary("completion", &mut completion));
    println!(
        "  {}",
        summary("full-document change → diagnostics", &mut full)
    );
    println!(
        "  {}",
        summary("one-character edit → diagnostics", &mut small)
    );
    println!(
        "  of which the server (until the last byte is read, before decoding): full {}; one-character {}",
        summary("", &mut full_received).trim_start_matches(": "),
        summary("", &mut small_received).trim_start_matches(": ")
    );
    let (mut full_analysis, mut small_analysis) = (Vec::new(), Vec::new());
    let mut pieces = (0, 0);
    for line in log.lines().filter(|l| l.contains("pieces analysed")) {
        let field = |k: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(k))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let (v, ms) = (field("version=") as i32, field("ms="));
        let took = Duration::from_secs_f64(ms / 1000.0);
        if v >= first_small {
            small_analysis.push(took);
            pieces = (field("analysed=") as usize, field("reused=") as usize);
        } else if v > 1 {
            full_analysis.push(took);
        }
    }
    println!(
        "  of which analysis on the server: full {}; one-character {} (last: {} of {} pieces re-analysed)",
        summary("", &mut full_analysis).trim_start_matches(": "),
        summary("", &mut small_analysis).trim_start_matches(": "),
        pieces.0,
        pieces.0 + pieces.1
    );
    neovim(&text, if lines >= 50_000 { 4 } else { 20 });
    println!(
        "  RSS: idle {:.1} MB, after {:.1} MB, peak {:.1} MB",
        idle_rss as f64 / 1024.0,
        rss as f64 / 1024.0,
        peak as f64 / 1024.0
    );
}

/// Time to diagnostics in a real editor: `editors/neovim/test/latency.lua` in headless
/// Neovim (when one >= 0.11 is found), typing and deleting one character mid-note.
fn neovim(text: &str, edits: usize) {
    let Ok((nvim, version)) = common::nvim::find_nvim() else {
        println!("  Neovim: not found, skipped");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let note = dir.path().join("note.txt");
    std::fs::write(&note, text).expect("write note");
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = std::process::Command::new(nvim);
    cmd.args(["--headless", "--clean", "-l"])
        .arg(repo.join("editors/neovim/test/latency.lua"))
        .env("CALCINOSIS_LS", env!("CARGO_BIN_EXE_calcinosis-ls"))
        .env("NOTE", &note)
        .env("EDITS", edits.to_string())
        .stdin(std::process::Stdio::null());
    common::nvim::isolate(&mut cmd, dir.path());
    let out = match cmd.output() {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(e) => return println!("  Neovim: cannot run ({e})"),
    };
    let mut times: Vec<Duration> = out
        .lines()
        .filter_map(|l| l.strip_prefix("latency: "))
        .filter_map(|v| v.parse::<f64>().ok())
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .collect();
    if times.is_empty() {
        return println!("  Neovim: no measurement; output:\n{out}");
    }
    println!(
        "  {} (one character typed → diagnostics handled by Neovim)",
        summary(&version, &mut times)
    );
}

/// Open → diagnostics and full change → diagnostics (median of 3) for one note, in a
/// server of its own (so its peak RSS is the note's).
fn shape(name: &str, text: &str) {
    let uri = "file:///bench/shape.txt";
    let mut c = Client::start_typed(&["serve"], &[]);
    c.initialize(
        &["utf-16"],
        json!({"diagnostics": {"debounceMs": 0, "maxPerDocument": 100_000}}),
    );
    let t = Instant::now();
    c.open(uri, "plaintext", text);
    let n = c.typed_diagnostics(uri, 1).params.diagnostics.len();
    let open = t.elapsed();
    let mut changes = Vec::new();
    for version in 2..5 {
        let t = Instant::now();
        c.notify("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}));
        c.typed_diagnostics(uri, version);
        changes.push(t.elapsed());
    }
    let peak = c.memory_kb("VmHWM").unwrap_or(0) as f64 / 1024.0;
    c.shutdown();
    println!(
        "  {name:<44} {:>6.2} MB {n:>7} diagnostics: open {:>8.1} ms, full change p50 {:>8.1} ms, peak RSS {peak:.0} MB",
        text.len() as f64 / 1e6,
        open.as_secs_f64() * 1000.0,
        pct(&mut changes, 0.5),
    );
}

fn shapes() {
    println!("\nshapes: open → diagnostics at 1×, 2×, 4× (a linear cost doubles per row)");
    for k in [1, 2, 4] {
        let mut g = notegen::NoteGen::typical(11);
        shape(&format!("one line, {k} MB"), &g.one_line(k << 20));
    }
    for k in [1, 2, 4] {
        let mut g = notegen::NoteGen::new(11);
        let lines = 5_000 * k;
        shape(
            &format!("unpunctuated lower-case, {lines} lines"),
            &g.unpunctuated_lines(lines),
        );
    }
    for k in [1, 2, 4] {
        let mut g = notegen::NoteGen::new(11);
        let n = 10_000 * k;
        shape(
            &format!("one line, {n} misspellings"),
            &g.misspellings_line(n),
        );
    }
    for (kind, dense) in [("typical", false), ("dense", true)] {
        for k in [1, 2, 4] {
            let mut g = if dense {
                notegen::NoteGen::new(11)
            } else {
                notegen::NoteGen::typical(11)
            };
            let lines = 5_000 * k;
            shape(&format!("{kind}, {lines} lines"), &g.document(lines));
        }
    }
}

/// The binaries compared: this build, and the one `CALCINOSIS_LS_OLD` names.
fn binaries() -> Vec<(String, String)> {
    let mut out = vec![(
        "this build".to_string(),
        env!("CARGO_BIN_EXE_calcinosis-ls").to_string(),
    )];
    if let Ok(old) = std::env::var("CALCINOSIS_LS_OLD") {
        out.push(("CALCINOSIS_LS_OLD".to_string(), old));
    }
    out
}

/// Spawn → `initialize` response, each binary in turn, 40 rounds.
fn startup() {
    println!("\nstart-up: spawn → initialize response (rounds interleaved)");
    let bins = binaries();
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); bins.len()];
    for _ in 0..40 {
        for (i, (_, program)) in bins.iter().enumerate() {
            let t = Instant::now();
            let mut c = Client::start_with_program(program, &["serve"]);
            c.initialize(&["utf-16"], json!({}));
            times[i].push(t.elapsed());
            c.shutdown();
        }
    }
    for ((name, _), v) in bins.iter().zip(&mut times) {
        println!("  {}", summary(name, v));
    }
}

/// One-character edits → diagnostics on typical notes, default settings against
/// `debounceMs` 0 (and each binary), the runs interleaved edit by edit. Diagnostics are
/// decoded into lsp-types structs, as a typed client does (see `Client::start_typed`).
fn edits() {
    println!("\nedits: one-character edit → diagnostics, default settings vs debounceMs 0");
    let bins = binaries();
    for lines in [100, 1_000, 10_000] {
        let text = notegen::NoteGen::typical(7).document(lines);
        let uri = "file:///bench/edits.txt";
        let mut runs = Vec::new();
        for (name, program) in &bins {
            for (setting, options) in [
                ("default", json!({})),
                ("debounceMs 0", json!({"diagnostics": {"debounceMs": 0}})),
            ] {
                let mut c = Client::start_typed_program(program, &["serve"]);
                c.initialize(&["utf-16"], options);
                c.open(uri, "plaintext", &text);
                c.typed_diagnostics(uri, 1);
                runs.push((format!("{name}, {setting}"), c, Vec::new()));
            }
        }
        let mid = lines as u64 / 2;
        for i in 0..60i64 {
            let change = if i % 2 == 0 {
                json!({"range": {"start": {"line": mid, "character": 0}, "end": {"line": mid, "character": 0}}, "text": "x"})
            } else {
                json!({"range": {"start": {"line": mid, "character": 0}, "end": {"line": mid, "character": 1}}, "text": ""})
            };
            for (_, c, times) in &mut runs {
                let t = Instant::now();
                c.notify(
                    "textDocument/didChange",
                    json!({"textDocument": {"uri": uri, "version": i + 2}, "contentChanges": [change]}),
                );
                c.typed_diagnostics(uri, i as i32 + 2);
                times.push(t.elapsed());
            }
        }
        println!("  {lines} lines ({:.2} MB)", text.len() as f64 / 1e6);
        for (name, c, mut times) in runs {
            println!("    {}", summary(&name, &mut times));
            c.shutdown();
        }
    }
}

fn main() {
    println!("LSP latency over stdio (release binary, debounce 0 ms unless said)");
    // Filters from the command line (cargo passes `--bench` too): sizes and kinds.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |what: &str, all: &[&str]| {
        args.iter().any(|a| a == what) || !args.iter().any(|a| all.contains(&a.as_str()))
    };
    if args.iter().any(|a| a == "shapes") {
        return shapes();
    }
    let startup_or_edits = args.iter().any(|a| a == "startup" || a == "edits");
    if args.iter().any(|a| a == "startup") {
        startup();
    }
    if args.iter().any(|a| a == "edits") {
        edits();
    }
    if startup_or_edits {
        return;
    }
    for (dense, kind) in [(false, "typical"), (true, "dense")] {
        if !wanted(kind, &["typical", "dense"]) {
            continue;
        }
        for (lines, requests, edits) in [(500, 1000, 100), (5_000, 1000, 100), (50_000, 300, 20)] {
            if wanted(&lines.to_string(), &["500", "5000", "50000"]) {
                run(dense, lines, requests, requests, edits, edits);
            }
        }
    }
}
