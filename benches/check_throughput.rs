//! `check` throughput: the note analyser over ≥ 10 MB of deterministic synthetic notes on one
//! core. Run: `cargo bench --bench check_throughput`. `CHECK_BENCH_MB=1` shrinks the note set
//! and runs one pass, for profilers that count instructions (callgrind).

#[path = "support/notegen.rs"]
mod notegen;

use std::time::Instant;

use calcinosis_ls::analysis::Analyzer;
use calcinosis_ls::corpus::Corpus;

fn main() {
    let corpus = Corpus::embedded().expect("corpus");
    let analyzer = Analyzer::new(&corpus);
    let mb: usize = std::env::var("CHECK_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    println!("check throughput (1 thread)");
    let kinds = [
        (
            "dense: a CREST cue in every second sentence",
            notegen::NoteGen::new(42),
        ),
        (
            "typical: a cue in one sentence in six",
            notegen::NoteGen::typical(42),
        ),
    ];
    for (kind, mut gen) in kinds {
        let notes = gen.notes(mb * 1024 * 1024);
        measure(&analyzer, kind, &notes, if mb < 12 { 1 } else { 3 });
    }
}

fn measure(analyzer: &Analyzer, kind: &str, notes: &[String], passes: usize) {
    let bytes: usize = notes.iter().map(String::len).sum();
    // Warm-up pass, then the best of the timed passes.
    let mut findings = 0;
    for n in notes.iter().take(200) {
        findings += analyzer.analyze(n).findings.len();
    }
    let mut best = f64::MAX;
    for _ in 0..passes {
        let start = Instant::now();
        findings = 0;
        for n in notes {
            findings += std::hint::black_box(analyzer.analyze(n)).findings.len();
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let mb = bytes as f64 / 1e6;
    println!(
        "  {kind}: {} notes, {:.1} MB, {} findings",
        notes.len(),
        mb,
        findings
    );
    println!(
        "    best of {passes}: {:.3} s  →  {:.1} MB/s, {:.0} notes/s",
        best,
        mb / best,
        notes.len() as f64 / best
    );
}
