//! `check` throughput and linearity.
//!
//! 1. The note analyser over ≥ 10 MB of deterministic synthetic notes (dense and typical), on
//!    one thread and on every core (rayon, as `check` does).
//! 2. Note shapes at 1×, 2×, 4× a base size, one note each: one line, lower-case lines without
//!    punctuation (one endless sentence), one line without punctuation, one line full of
//!    misspellings, and dense / typical notes glued into one document. A super-linear cost
//!    shows as a 4×/1× time ratio above 4 (the goal is ≤ 5).
//!
//! Run: `cargo bench --bench check_throughput` (`-- shapes` or `-- throughput` for one part).
//! `CHECK_BENCH_MB=1` shrinks the note set and runs one pass, for profilers that count
//! instructions (callgrind). Profilers need symbols, which the release profile strips: run
//! them on `cargo bench --profile profiling --bench check_throughput` (release code with
//! line tables, in `target/profiling/`). `CHECK_BENCH_WRITE=DIR` instead writes the inputs for the
//! whole-process measurements in BENCHMARKS.md (`notes.jsonl`, `notes.txt`, `notes/`,
//! `one-line-10mb.txt`) and exits.

#[path = "support/notegen.rs"]
mod notegen;

use std::io::Write;
use std::time::Instant;

use rayon::prelude::*;

use calcinosis_ls::analysis::Analyzer;
use calcinosis_ls::corpus::Corpus;

fn main() {
    if let Ok(dir) = std::env::var("CHECK_BENCH_WRITE") {
        write_inputs(std::path::Path::new(&dir)).expect("write the bench inputs");
        return;
    }
    let corpus = Corpus::embedded().expect("corpus");
    let analyzer = Analyzer::new(&corpus);
    let part = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    if part.is_empty() || part == "throughput" {
        throughput(&analyzer);
    }
    if part.is_empty() || part == "json" {
        json_cost(&analyzer);
    }
    if part.is_empty() || part == "shapes" {
        shapes(&analyzer);
    }
}

fn throughput(analyzer: &Analyzer) {
    let mb: usize = std::env::var("CHECK_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("check throughput (in-process, 1 thread and {cores} threads)");
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
        let passes = if mb < 12 { 1 } else { 3 };
        measure(analyzer, kind, &notes, passes, 1);
        if cores > 1 && mb >= 12 {
            measure(analyzer, kind, &notes, passes, cores);
        }
    }
}

/// What `check --format jsonl` adds to the analysis: the report of every note (positions,
/// names, CREST summary) written as compact JSON, timed apart from the analysis itself.
fn json_cost(analyzer: &Analyzer) {
    use calcinosis_ls::document::Document;
    use calcinosis_ls::report::{self, CrestReport};
    println!("JSON output cost (one thread, best of 3)");
    for (kind, mut gen) in [
        ("dense", notegen::NoteGen::new(42)),
        ("typical", notegen::NoteGen::typical(42)),
    ] {
        let notes = gen.notes(12 * 1024 * 1024);
        let mb = notes.iter().map(String::len).sum::<usize>() as f64 / 1e6;
        let (mut analyse, mut write) = (f64::MAX, f64::MAX);
        let mut out = Vec::with_capacity(64 << 20);
        for _ in 0..3 {
            let t = Instant::now();
            let analyses: Vec<_> = notes.iter().map(|n| analyzer.analyze(n)).collect();
            analyse = analyse.min(t.elapsed().as_secs_f64());
            out.clear();
            let t = Instant::now();
            for (note, a) in notes.iter().zip(&analyses) {
                let doc = Document::new(note.clone());
                out.extend_from_slice(b"{\"findings\":");
                report::write_findings_json(&report::findings(analyzer, &doc, a), &mut out);
                out.extend_from_slice(b",\"crest\":");
                serde_json::to_writer(&mut out, &CrestReport::from(&a.crest)).expect("serialise");
                out.extend_from_slice(b"}\n");
            }
            write = write.min(t.elapsed().as_secs_f64());
        }
        println!(
            "  {kind}: {mb:.1} MB, analysis {analyse:.3} s ({:.1} MB/s), JSON {write:.3} s = {:.0} % of the analysis ({:.1} MB written)",
            mb / analyse,
            100.0 * write / analyse,
            out.len() as f64 / 1e6
        );
        // FHIR and OMOP (issue 22's bound: each at most 40 % over JSON Lines, analysis and
        // output together, as a `check` run pays them).
        let analyses: Vec<_> = notes.iter().map(|n| analyzer.analyze(n)).collect();
        let run = calcinosis_ls::output::omop::RunFields::now(Default::default());
        for format in ["fhir", "omop"] {
            let mut best = f64::MAX;
            for _ in 0..3 {
                out.clear();
                let t = Instant::now();
                for (i, (note, a)) in notes.iter().zip(&analyses).enumerate() {
                    let doc = Document::new(note.clone());
                    let found = report::findings(analyzer, &doc, a);
                    if format == "fhir" {
                        let crest = CrestReport::from(&a.crest);
                        calcinosis_ls::output::fhir::write_bundle(
                            doc.text(),
                            &found,
                            &crest,
                            "n1",
                            &mut out,
                        );
                        out.push(b'\n');
                    } else {
                        let mut rows = Vec::new();
                        calcinosis_ls::output::omop::write_rows(
                            doc.text(),
                            &found,
                            i as i32,
                            &run,
                            &mut rows,
                        );
                        let mut numbers = calcinosis_ls::output::omop::RowNumbers::default();
                        numbers.write(&rows, &mut out).expect("numbered");
                    }
                }
                best = best.min(t.elapsed().as_secs_f64());
            }
            println!(
                "  {kind}: {format} {best:.3} s = {:.0} % of the analysis; analysis + {format} \
                 = {:.2} × analysis + JSON ({:.1} MB written)",
                100.0 * best / analyse,
                (analyse + best) / (analyse + write),
                out.len() as f64 / 1e6
            );
        }
    }
}

fn measure(analyzer: &Analyzer, kind: &str, notes: &[String], passes: usize, threads: usize) {
    let bytes: usize = notes.iter().map(String::len).sum();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    // Warm-up pass, then the best of the timed passes.
    let mut findings: usize = notes
        .iter()
        .take(200)
        .map(|n| analyzer.analyze(n).findings.len())
        .sum();
    let mut best = f64::MAX;
    for _ in 0..passes {
        let start = Instant::now();
        findings = if threads == 1 {
            notes
                .iter()
                .map(|n| std::hint::black_box(analyzer.analyze(n)).findings.len())
                .sum()
        } else {
            pool.install(|| {
                notes
                    .par_iter()
                    .map(|n| std::hint::black_box(analyzer.analyze(n)).findings.len())
                    .sum()
            })
        };
        best = best.min(start.elapsed().as_secs_f64());
    }
    let mb = bytes as f64 / 1e6;
    println!(
        "  {kind}, {threads} thread(s): {} notes, {:.1} MB, {} findings",
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

/// A note shape: its name, the unit of its size, the base size, and the generator.
type Shape = (&'static str, &'static str, usize, fn(usize) -> String);

fn shapes(analyzer: &Analyzer) {
    println!("linearity: one note per size, 1×, 2×, 4× (best of 2; ratio = time / time at 1×)");
    // Base sizes: the largest size of each shape in issue 14's table (where it was
    // quadratic), so that 4× here is the "4× its largest size" of the goal.
    let shapes: [Shape; 6] = [
        ("one line with punctuation", "bytes", 2_500_000, |n| {
            notegen::NoteGen::typical(7).one_line(n)
        }),
        (
            "lower-case lines without punctuation",
            "lines",
            20_000,
            |n| notegen::NoteGen::new(7).unpunctuated_lines(n),
        ),
        ("one line without punctuation", "bytes", 2_000_000, |n| {
            notegen::NoteGen::new(7).unpunctuated_line(n)
        }),
        ("one line of misspellings", "misspellings", 40_000, |n| {
            notegen::NoteGen::new(7).misspellings_line(n)
        }),
        ("dense document", "lines", 40_000, |n| {
            notegen::NoteGen::new(7).document(n)
        }),
        ("typical document", "lines", 40_000, |n| {
            notegen::NoteGen::typical(7).document(n)
        }),
    ];
    for (name, unit, base, make) in shapes {
        println!("  {name}");
        let mut first = None;
        for k in [1, 2, 4] {
            let note = make(base * k);
            let mut best = f64::MAX;
            let mut findings = 0;
            for _ in 0..2 {
                let start = Instant::now();
                findings = std::hint::black_box(analyzer.analyze(&note)).findings.len();
                best = best.min(start.elapsed().as_secs_f64());
            }
            let t1 = *first.get_or_insert(best);
            println!(
                "    {k}× {} {unit} ({:.1} MB, {findings} findings): {:.3} s, {:.1} MB/s, ratio {:.2}",
                base * k,
                note.len() as f64 / 1e6,
                best,
                note.len() as f64 / 1e6 / best,
                best / t1
            );
        }
    }
}

/// Writes the inputs of the whole-process measurements: 16 MB of typical notes as JSON
/// Lines, as one text file, as 2,000 files, and a 10 MB one-line note.
fn write_inputs(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("notes"))?;
    let notes = notegen::NoteGen::typical(42).notes(16 * 1024 * 1024);
    let mut jsonl = std::io::BufWriter::new(std::fs::File::create(dir.join("notes.jsonl"))?);
    let mut text = std::io::BufWriter::new(std::fs::File::create(dir.join("notes.txt"))?);
    let per_file = notes.len().div_ceil(2000);
    for (i, n) in notes.iter().enumerate() {
        let record = serde_json::json!({"note_id": format!("n{i}"), "text": n});
        writeln!(jsonl, "{record}")?;
        writeln!(text, "{n}")?;
    }
    for (i, chunk) in notes.chunks(per_file).enumerate() {
        std::fs::write(dir.join(format!("notes/{i:04}.txt")), chunk.join("\n"))?;
    }
    let one = notegen::NoteGen::typical(7).one_line(10 * 1024 * 1024);
    std::fs::write(dir.join("one-line-10mb.txt"), one)?;
    println!(
        "wrote {} notes ({:.1} MB) to {}",
        notes.len(),
        notes.iter().map(String::len).sum::<usize>() as f64 / 1e6,
        dir.display()
    );
    Ok(())
}
