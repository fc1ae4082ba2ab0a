//! `calcinosis-ls check`: the note analyser on files, directories or JSON Lines records, as a
//! linter-like report, a JSON array or a JSON Lines stream. Notes are analysed on every core
//! and reported in input order, each as soon as it and the notes before it are done.
//!
//! Exit status: 0 when every input was analysed (also when the reader of the output went
//! away early, as `check … | head` does); 1 when something found in a directory was skipped
//! (a symbolic link loop, a dangling link, a FIFO or device, a `--glob` matching nothing: a
//! summary on stderr says which and why); 2 when some input could not be read or parsed (the
//! others are still analysed; the errors are in the report with `json` and `jsonl`, on stderr
//! with `text`), or on a fatal error such as an unreadable stdin or a bad option. 2 wins
//! over 1.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use unicode_width::UnicodeWidthStr;

use calcinosis_ls::analysis::{Analysis, Analyzer, Finding};
use calcinosis_ls::document::{Document, Encoding};
use calcinosis_ls::limits::{MAX_JOBS, MAX_NAME_CHARS, STREAMED_NOTE_BYTES};
use calcinosis_ls::output::{fhir, omop};
use calcinosis_ls::report::{self, CrestReport};

use super::batch::{self, Item, Origin, RecordFields, Skipped, Source};
use super::input::{warn, write_error};
use super::KnowledgeArgs;

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum CheckFormat {
    /// Linter-like lines with a snippet of the note under each finding.
    #[default]
    Text,
    /// One JSON array, one object per note (streamed, one object per line).
    Json,
    /// JSON Lines: one compact object per note, written as soon as it is analysed.
    Jsonl,
    /// One self-contained HTML file: a chart per patient (notes × C R E S T), the notes with
    /// their mentions highlighted, and a cohort table.
    Html,
    /// FHIR R4: one Bundle (type collection) per note: JSON Lines with `--input jsonl`, a
    /// JSON array with `--input files`.
    Fhir,
    /// OMOP CDM v5.4 NOTE_NLP rows as CSV with a header, one row per finding.
    Omop,
}

impl CheckFormat {
    /// Whether a note that cannot be read is reported inside the output (an `{"error": …}`
    /// object) rather than on stderr: FHIR and OMOP consumers load every line they get.
    fn errors_inline(self) -> bool {
        matches!(self, CheckFormat::Json | CheckFormat::Jsonl)
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum InputFormat {
    /// Each file (or stdin) is one note.
    #[default]
    Files,
    /// Each line of each file (or of stdin) is a JSON record holding a note.
    Jsonl,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when every input was analysed (also when the output \
pipe closes early); 1 when something in a directory was skipped (a symbolic link loop, a \
dangling link, a FIFO or device, a --glob matching nothing; stderr says what and why); 2 \
when some input could not be read or parsed (the others are still analysed; with --format \
json or jsonl each becomes an {\"error\": …} object in the report), or on a fatal error."
)]
pub struct CheckArgs {
    /// Note files or directories (searched recursively); `-` (the default) reads stdin.
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: CheckFormat,
    /// An extra target phrase, matched and asserted like a lexicon term (repeatable).
    #[arg(long = "term", value_name = "TEXT", value_parser = term_phrase)]
    terms: Vec<String>,
    /// What the inputs hold: whole notes, or JSON Lines records.
    #[arg(long, value_enum, default_value_t)]
    input: InputFormat,
    /// With `--input jsonl`: the field echoed in each report to identify the note.
    #[arg(long, value_name = "NAME", default_value = "id", value_parser = id_field_name)]
    id_field: String,
    /// With `--input jsonl`: the field holding the note's text.
    #[arg(long, value_name = "NAME", default_value = "text")]
    text_field: String,
    /// In directories, only files whose path (below the directory) or name matches this
    /// glob, e.g. `*.txt` or `2024/**/*.note`.
    #[arg(long, value_name = "GLOB")]
    glob: Option<String>,
    /// Notes analysed in parallel (default: one per core; at most 256).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Text output: findings per note shown with a snippet of the note; the rest get their
    /// one-line summary only (a dense note of megabytes would otherwise print ~300 bytes per
    /// finding).
    #[arg(long, value_name = "N", default_value_t = 200)]
    snippets: usize,
    /// HTML output with `--input jsonl`: the field naming the patient, whose notes make one
    /// chart (without it, note files are grouped by their folder, records in one chart).
    #[arg(long, value_name = "NAME")]
    pub(super) patient_field: Option<String>,
    /// HTML output with `--input jsonl`: the field holding the note's date, which orders a
    /// chart's rows (note files: a date in the file name, e.g. `2024-03-05.txt`).
    #[arg(long, value_name = "NAME")]
    pub(super) date_field: Option<String>,
    /// HTML output: leave the note text out, keeping each finding with a snippet of its line.
    #[arg(long)]
    pub(super) no_text: bool,
    /// With `--format omop`: a CSV of `vocabulary,code,concept_id` lines (Athena's
    /// vocabulary ids: ICD10CM, SNOMED) giving the OMOP concept of each code; codes it does
    /// not map get concept 0.
    #[arg(long, value_name = "FILE")]
    omop_concepts: Option<PathBuf>,
}

/// Characters of context shown either side of a finding in text output.
const SNIPPET_CONTEXT: usize = 60;

/// One note's rendered report, or its error.
struct Rendered {
    /// The bytes to write to stdout (empty for an error in text output).
    out: Vec<u8>,
    /// A large note's analysis, which the writer renders straight to the output.
    streamed: Option<Box<Streamed>>,
    /// An error to print on stderr: `NAME: reason`.
    error: Option<String>,
    /// The note's size, for the progress bar.
    bytes: u64,
}

/// A note of at least [`STREAMED_NOTE_BYTES`], analysed but not yet rendered.
struct Streamed {
    doc: Document,
    analysis: Analysis,
    origin: Origin,
    /// The id `--format fhir`/`omop` write it under.
    note_id: NoteId,
}

pub fn run(ka: &KnowledgeArgs, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let corpus = ka.corpus()?;
    let analyzer = Arc::new(Analyzer::with_ad_hoc_terms(&corpus, &args.terms));
    drop(corpus);
    let glob = match &args.glob {
        Some(g) => Some(
            globset::GlobBuilder::new(g)
                .literal_separator(false)
                .build()
                .map_err(|e| anyhow::anyhow!("--glob: {e}"))?
                .compile_matcher(),
        ),
        None => None,
    };
    let source = Source {
        paths: if args.files.is_empty() {
            vec![PathBuf::from("-")]
        } else {
            args.files.clone()
        },
        glob,
        jsonl: (args.input == InputFormat::Jsonl).then(|| RecordFields {
            id: args.id_field.clone(),
            text: args.text_field.clone(),
            patient: args.patient_field.clone(),
            date: args.date_field.clone(),
        }),
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, MAX_JOBS);
    if args.format == CheckFormat::Html {
        return super::html::run(analyzer, source, jobs, args);
    }
    if args.patient_field.is_some() || args.date_field.is_some() || args.no_text {
        anyhow::bail!("--patient-field, --date-field and --no-text go with --format html");
    }
    let format = args.format;
    let id_key = args.id_field.clone();
    let render_analyzer = analyzer.clone();
    let writer_analyzer = analyzer.clone();
    let snippets = args.snippets;
    let omop = Arc::new(omop::RunFields::now(match &args.omop_concepts {
        Some(path) => omop_concepts(path)?,
        None => omop::ConceptMap::default(),
    }));
    let writer_omop = omop.clone();
    let mut rows = omop::RowNumbers::default();
    // `--format fhir` with whole files writes an array, as `json` does.
    let array = format == CheckFormat::Json
        || (format == CheckFormat::Fhir && args.input == InputFormat::Files);
    let render = move |item: Item| render(&render_analyzer, format, &id_key, snippets, &omop, item);
    // The writer renders large notes itself (`write_streamed`).
    let writer_id_key = args.id_field.clone();

    if source.paths.iter().any(|p| p.as_os_str() == "-") {
        super::input::terminal_hint(if source.jsonl.is_some() {
            super::input::CHECK_JSONL_TERMINAL_HINT
        } else {
            super::input::CHECK_TERMINAL_HINT
        });
    }
    let mut progress = std::io::stderr()
        .is_terminal()
        .then(|| Progress::start(known_total(&source)));

    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut errors = 0u64;
    let mut first = true;
    let opening: &[u8] = match format {
        _ if array => b"[",
        CheckFormat::Omop => omop::HEADER.as_bytes(),
        _ => b"",
    };
    if !write_or_closed(out.write_all(opening))? {
        return Ok(ExitCode::SUCCESS);
    }
    let mut closed = false;
    let window = jobs.saturating_mul(4).saturating_add(4);
    let skipped = batch::run_ordered(source, jobs, window, render, |r: Option<Rendered>| {
        let Some(r) = r else {
            // Nothing finished yet: let the reader see what is done so far.
            return write_or_closed(out.flush());
        };
        if let Some(p) = &mut progress {
            p.note_done(r.bytes);
        }
        if let Some(e) = &r.error {
            errors += 1;
            // JSON carries its errors in the report; a count comes at the end.
            if !format.errors_inline() {
                match &progress {
                    Some(p) => p.bar.suspend(|| warn(format_args!("{e}"))),
                    None => warn(format_args!("{e}")),
                }
            }
        }
        if r.out.is_empty() && r.streamed.is_none() {
            return Ok(true);
        }
        if array {
            let sep: &[u8] = if first { b"\n" } else { b",\n" };
            first = false;
            if !write_or_closed(out.write_all(sep))? {
                closed = true;
                return Ok(false);
            }
        }
        let written = match &r.streamed {
            Some(big) => write_streamed(
                &writer_analyzer,
                format,
                &writer_id_key,
                snippets,
                big,
                &mut Interop {
                    omop: &writer_omop,
                    rows: &mut rows,
                    array,
                },
                &mut out,
            ),
            // Rows get their note_nlp_id here, in output order.
            None if format == CheckFormat::Omop => rows.write(&r.out, &mut out),
            None => out.write_all(match array {
                // The array's separators go between objects: drop the object's line break.
                true => r.out.strip_suffix(b"\n").unwrap_or(&r.out),
                false => &r.out,
            }),
        };
        let ok = write_or_closed(written)?;
        closed = !ok;
        Ok(ok)
    })?;
    if let Some(p) = progress {
        p.finish(errors, skipped.total());
    }
    if closed {
        return Ok(ExitCode::SUCCESS);
    }
    if array && !write_or_closed(out.write_all(b"\n]\n"))? {
        return Ok(ExitCode::SUCCESS);
    }
    if !write_or_closed(out.flush())? {
        return Ok(ExitCode::SUCCESS);
    }
    report_skipped(&skipped);
    Ok(if errors > 0 {
        if format.errors_inline() {
            warn(format_args!(
                "{errors} input(s) could not be analysed (see the \"error\" objects)"
            ));
        }
        ExitCode::from(2)
    } else if skipped.total() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The number of notes when it is known before reading them: every input a named regular
/// file, one note each. A directory, stdin or JSON Lines records are counted as they come.
fn known_total(source: &Source) -> Option<u64> {
    if source.jsonl.is_some() {
        return None;
    }
    source
        .paths
        .iter()
        .all(|p| p.as_os_str() != "-" && std::fs::metadata(p).is_ok_and(|m| m.is_file()))
        .then_some(source.paths.len() as u64)
}

/// The progress line on a terminal's stderr: notes done (of how many, when known), bytes and
/// throughput with their units, and a one-line summary at the end.
struct Progress {
    bar: indicatif::ProgressBar,
    bytes: u64,
    /// When the message (bytes, MB/s, notes/s) was last rewritten: once per tick is enough,
    /// and formatting it per note would cost a busy `check` of small notes.
    shown: std::time::Instant,
}

/// How often the progress message is recomputed (the bar's own tick is the same).
const PROGRESS_TICK: std::time::Duration = std::time::Duration::from_millis(200);

impl Progress {
    fn start(total: Option<u64>) -> Progress {
        let (bar, template) = match total {
            Some(n) => (
                indicatif::ProgressBar::new(n),
                "{spinner} {human_pos}/{human_len} notes {wide_bar} {msg} [{elapsed_precise}, ~{eta} left]",
            ),
            None => (
                indicatif::ProgressBar::new_spinner(),
                "{spinner} {human_pos} notes, {msg} [{elapsed_precise}]",
            ),
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        let progress = Progress {
            bar,
            bytes: 0,
            shown: std::time::Instant::now(),
        };
        // The units show from the first draw, before any note is done.
        progress.bar.set_message(progress.rates());
        progress.bar.enable_steady_tick(PROGRESS_TICK);
        progress
    }

    /// Counts one note of `bytes` done.
    fn note_done(&mut self, bytes: u64) {
        self.bytes += bytes;
        self.bar.inc(1);
        if self.shown.elapsed() >= PROGRESS_TICK {
            self.shown = std::time::Instant::now();
            self.bar.set_message(self.rates());
        }
    }

    /// Bytes read and the throughput so far, with units: "12.3 MB, 4.1 MB/s, 305 notes/s"
    /// (decimal megabytes throughout, so that the two figures compare).
    fn rates(&self) -> String {
        let secs = self.bar.elapsed().as_secs_f64().max(1e-3);
        format!(
            "{}, {:.1} MB/s, {:.0} notes/s",
            indicatif::DecimalBytes(self.bytes),
            self.bytes as f64 / 1e6 / secs,
            self.bar.position() as f64 / secs
        )
    }

    /// Clears the line and says in one line what was done: notes analysed, those that could
    /// not be, those skipped, and the time taken.
    fn finish(self, errors: u64, skipped: u64) {
        self.bar.finish_and_clear();
        let done = self.bar.position();
        warn(format_args!(
            "analysed {} of {done} notes ({}) in {:.1} s; {errors} could not be analysed, \
             {skipped} skipped",
            done.saturating_sub(errors),
            indicatif::DecimalBytes(self.bytes),
            self.bar.elapsed().as_secs_f64(),
        ));
    }
}

/// Says on stderr what the directory walk skipped and why: a count per reason, then the
/// first paths by name.
pub(super) fn report_skipped(skipped: &Skipped) {
    let total = skipped.total();
    if total == 0 {
        return;
    }
    let summary: Vec<String> = skipped
        .counts
        .iter()
        .map(|(why, n)| format!("{n} × {why}"))
        .collect();
    warn(format_args!(
        "skipped {total} path(s), not analysed: {}",
        summary.join("; ")
    ));
    for (name, why) in &skipped.first {
        warn(format_args!("skipped {name}: {why}"));
    }
    let unnamed = total - skipped.first.len() as u64;
    if unnamed > 0 {
        warn(format_args!("… and {unnamed} more skipped"));
    }
}

/// `Ok(false)` when the reader of stdout has gone away (a closed pipe ends the run
/// quietly, as in `check … | head`); other write errors are errors.
pub(super) fn write_or_closed(r: std::io::Result<()>) -> anyhow::Result<bool> {
    match r {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(write_error("the report", &e)),
    }
}

/// Writes a large note's report straight to `out`, a piece at a time, so that only the
/// analysis, not its rendered report (~16 times the note in JSON when dense), is held.
/// What the writer keeps for `--format fhir` and `omop` across notes.
struct Interop<'a> {
    omop: &'a omop::RunFields,
    /// OMOP's `note_nlp_id` so far.
    rows: &'a mut omop::RowNumbers,
    /// FHIR bundles go in a JSON array (no line break after each).
    array: bool,
}

fn write_streamed(
    analyzer: &Analyzer,
    format: CheckFormat,
    id_key: &str,
    snippets: usize,
    big: &Streamed,
    interop: &mut Interop<'_>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    match format {
        CheckFormat::Text => text_report(
            analyzer,
            &big.doc,
            &big.analysis,
            &note_name(&big.origin),
            snippets,
            out,
        ),
        CheckFormat::Fhir => {
            let mut buf = Vec::with_capacity(1 << 20);
            let text = big.doc.text();
            let mut bundle = fhir::Bundle::start(&big.note_id.fhir, &mut buf);
            report::for_each_piece(analyzer, &big.doc, &big.analysis, |_, piece| {
                bundle.entries(text, piece, &mut buf);
                out.write_all(&buf)?;
                buf.clear();
                Ok::<(), std::io::Error>(())
            })?;
            bundle.finish(&CrestReport::from(&big.analysis.crest), &mut buf);
            if !interop.array {
                buf.push(b'\n');
            }
            out.write_all(&buf)
        }
        CheckFormat::Omop => {
            let mut buf = Vec::with_capacity(1 << 20);
            let mut counter = calcinosis_ls::output::CharCounter::default();
            report::for_each_piece(analyzer, &big.doc, &big.analysis, |_, piece| {
                omop::write_rows_counted(
                    big.doc.text(),
                    piece,
                    big.note_id.omop,
                    interop.omop,
                    &mut counter,
                    &mut buf,
                );
                interop.rows.write(&buf, out)?;
                buf.clear();
                Ok(())
            })
        }
        // HTML has its own writer (`super::html`) and never comes here.
        CheckFormat::Json | CheckFormat::Jsonl | CheckFormat::Html => {
            let mut head = Vec::new();
            origin_fields(&mut head, id_key, &big.origin);
            head.extend_from_slice(b",\"findings\":");
            out.write_all(&head)?;
            report::write_findings_json_to(analyzer, &big.doc, &big.analysis, out)?;
            out.write_all(b",\"crest\":")?;
            serde_json::to_writer(&mut *out, &CrestReport::from(&big.analysis.crest))?;
            // The array's separators go between objects.
            out.write_all(if format == CheckFormat::Json {
                b"}"
            } else {
                b"}\n"
            })
        }
    }
}

/// How a note is named in text output.
fn note_name(origin: &Origin) -> String {
    match origin {
        Origin::File(n) => n.clone(),
        Origin::Record { line, id, .. } => record_name(*line, id.as_deref()),
    }
}

/// Analyses one note and renders its report (runs on the pool).
fn render(
    analyzer: &Analyzer,
    format: CheckFormat,
    id_key: &str,
    snippets: usize,
    omop_run: &omop::RunFields,
    item: Item,
) -> Rendered {
    let text = match item.text {
        Ok(t) => t,
        Err(reason) => return render_error(format, id_key, &item.origin, &reason),
    };
    // FHIR and OMOP need the note's id before anything is analysed.
    let note_id = match note_id(format, &item.origin) {
        Ok(id) => id,
        Err(reason) => return render_error(format, id_key, &item.origin, reason),
    };
    let bytes = text.len() as u64;
    let analysis = analyzer.analyze(&text);
    let doc = Document::new(text);
    if doc.text().len() >= STREAMED_NOTE_BYTES {
        return Rendered {
            out: Vec::new(),
            streamed: Some(Box::new(Streamed {
                doc,
                analysis,
                origin: item.origin,
                note_id,
            })),
            error: None,
            bytes,
        };
    }
    let mut out = Vec::with_capacity(256 + 256 * analysis.findings.len());
    match format {
        CheckFormat::Text => {
            let name = note_name(&item.origin);
            // Writing to a Vec cannot fail.
            let _ = text_report(analyzer, &doc, &analysis, &name, snippets, &mut out);
        }
        CheckFormat::Json | CheckFormat::Jsonl | CheckFormat::Html => {
            json_report(analyzer, &doc, &analysis, id_key, &item.origin, &mut out);
        }
        CheckFormat::Fhir => {
            let found = report::findings(analyzer, &doc, &analysis);
            let crest = CrestReport::from(&analysis.crest);
            fhir::write_bundle(doc.text(), &found, &crest, &note_id.fhir, &mut out);
            out.push(b'\n');
        }
        CheckFormat::Omop => {
            let found = report::findings(analyzer, &doc, &analysis);
            omop::write_rows(doc.text(), &found, note_id.omop, omop_run, &mut out);
        }
    }
    Rendered {
        out,
        streamed: None,
        error: None,
        bytes,
    }
}

/// A note's id as FHIR and OMOP need it (only the one `format` needs is filled in).
#[derive(Default)]
struct NoteId {
    fhir: String,
    omop: i32,
}

/// The id `format` needs from `origin`, or why it has none.
fn note_id(format: CheckFormat, origin: &Origin) -> Result<NoteId, &'static str> {
    let raw = match origin {
        Origin::File(name) => Err(name.as_str()),
        Origin::Record { id, .. } => Ok(id.as_ref().map_or("null", |v| v.get())),
    };
    match format {
        CheckFormat::Fhir => match raw {
            Ok(json) => fhir::id_from_json(json),
            Err(name) => fhir::id_from_file(name),
        }
        .map(|fhir| NoteId { fhir, omop: 0 })
        .ok_or(fhir::NOT_AN_ID),
        CheckFormat::Omop => match raw {
            Ok(json) => omop::note_id_from_json(json),
            Err(name) => omop::note_id_from_file(name),
        }
        .map(|omop| NoteId {
            fhir: String::new(),
            omop,
        })
        .ok_or(omop::NOT_AN_INTEGER),
        _ => Ok(NoteId::default()),
    }
}

/// Reads `--omop-concepts`, bounded like every file this program reads.
fn omop_concepts(path: &std::path::Path) -> anyhow::Result<omop::ConceptMap> {
    use calcinosis_ls::fsread::{read, Links};
    let shown = super::input::path_name(path);
    let bytes = read(path, omop::MAX_CONCEPTS_FILE_BYTES, Links::Follow)
        .map_err(|e| anyhow::anyhow!("--omop-concepts {shown} {e}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("--omop-concepts: the file is not UTF-8 text"))?;
    omop::ConceptMap::parse(&text).map_err(|e| anyhow::anyhow!("--omop-concepts {e}"))
}

/// How a record is named in text output and on stderr: its id, else its line. An id is
/// cut to [`MAX_NAME_CHARS`] characters, as it is repeated on every line of the report.
pub(super) fn record_name(line: u64, id: Option<&serde_json::value::RawValue>) -> String {
    let Some(id) = id else {
        return format!("line {line}");
    };
    let name = match serde_json::from_str::<String>(id.get()) {
        Ok(s) => std::borrow::Cow::Owned(s),
        Err(_) => std::borrow::Cow::Borrowed(id.get()),
    };
    match name.char_indices().nth(MAX_NAME_CHARS) {
        Some((cut, _)) => format!("{}…", &name[..cut]),
        None => name.into_owned(),
    }
}

/// Writes the opening fields that say which note a report is about.
fn origin_fields(out: &mut Vec<u8>, id_key: &str, origin: &Origin) {
    out.push(b'{');
    match origin {
        Origin::File(name) => {
            out.extend_from_slice(b"\"file\":");
            let _ = serde_json::to_writer(&mut *out, name);
        }
        Origin::Record { line, id, .. } => {
            let _ = serde_json::to_writer(&mut *out, id_key);
            out.push(b':');
            out.extend_from_slice(id.as_ref().map_or("null", |v| v.get()).as_bytes());
            let _ = write!(out, ",\"line\":{line}");
        }
    }
}

fn render_error(format: CheckFormat, id_key: &str, origin: &Origin, reason: &str) -> Rendered {
    let name = match origin {
        Origin::File(n) => n.clone(),
        Origin::Record {
            line, id: Some(id), ..
        } => {
            format!("{}: line {line}", record_name(*line, Some(id)))
        }
        Origin::Record { line, id: None, .. } => record_name(*line, None),
    };
    let mut out = Vec::new();
    if format.errors_inline() {
        origin_fields(&mut out, id_key, origin);
        out.extend_from_slice(b",\"error\":");
        let _ = serde_json::to_writer(&mut out, reason);
        out.extend_from_slice(b"}\n");
    }
    Rendered {
        out,
        streamed: None,
        error: Some(format!("{name}: {reason}")),
        bytes: 0,
    }
}

/// The stable JSON object documented in the README, compact, on one line.
fn json_report(
    analyzer: &Analyzer,
    doc: &Document,
    a: &Analysis,
    id_key: &str,
    origin: &Origin,
    out: &mut Vec<u8>,
) {
    origin_fields(out, id_key, origin);
    out.extend_from_slice(b",\"findings\":");
    report::write_findings_json(&report::findings(analyzer, doc, a), out);
    out.extend_from_slice(b",\"crest\":");
    let _ = serde_json::to_writer(&mut *out, &CrestReport::from(&a.crest));
    out.extend_from_slice(b"}\n");
}

/// One line describing a finding: `R (Raynaud's phenomenon) negated by "denies"`.
pub fn describe(analyzer: &Analyzer, text: &str, f: &Finding) -> String {
    let t = analyzer.lexicon().term(f.term);
    let tag = t
        .crest
        .map(|c| c.to_string())
        .unwrap_or_else(|| t.category.as_str().to_string());
    let why = match &f.trigger {
        Some(tr) => format!(" by \"{}\"", &text[tr.range.clone()]),
        None => String::new(),
    };
    let spelled = if f.misspelling {
        format!(", misspelling of \"{}\"", t.name)
    } else if f.form == calcinosis_ls::corpus::lexicon::FormKind::Lay {
        ", lay wording".to_string()
    } else {
        String::new()
    };
    let value = match f.value.as_ref().and_then(|v| text.get(v.clone())) {
        Some(v) => format!(", value \"{v}\""),
        None => String::new(),
    };
    format!("{tag} ({}) {}{why}{spelled}{value}", t.name, f.assertion)
}

/// The part of `line` shown under a finding at `start..end` (byte offsets in the line): the
/// whole line when short, else `SNIPPET_CONTEXT` characters either side, marked with `…`.
/// Returns the snippet, the white space that puts the caret under the mention and the
/// caret's width, both in terminal columns (an emoji or a CJK character takes two, a
/// combining mark none; a tab is kept as a tab). O(context), not O(line): a one-line note
/// of megabytes prints a few hundred bytes per finding.
fn snippet(line: &str, start: usize, end: usize) -> (String, String, usize) {
    let end = end.clamp(start, line.len());
    let from = line[..start]
        .char_indices()
        .rev()
        .nth(SNIPPET_CONTEXT - 1)
        .map_or(0, |(i, _)| i);
    let to = line[end..]
        .char_indices()
        .nth(SNIPPET_CONTEXT)
        .map_or(line.len(), |(i, _)| end + i);
    // A long mention keeps its start and end in view.
    let shown_end = if end - start > 4 * SNIPPET_CONTEXT {
        line[start..]
            .char_indices()
            .nth(2 * SNIPPET_CONTEXT)
            .map_or(end, |(i, _)| start + i)
    } else {
        end
    };
    let mut s = String::new();
    let lead = from > 0;
    if lead {
        s.push('…');
    }
    s.push_str(&line[from..shown_end]);
    let pad = caret_pad(&s[..s.len() - (shown_end - start)]);
    let width = line[start..shown_end].width().max(1);
    if shown_end < end {
        s.push('…');
        s.push_str(&line[end..to]);
    } else {
        s.push_str(&line[end..to]);
    }
    if to < line.len() {
        s.push('…');
    }
    (s, pad, width)
}

/// White space as wide on a terminal as `before`: spaces for its display columns, and its
/// tabs kept, so that a terminal moves the caret to the same tab stop as the text.
fn caret_pad(before: &str) -> String {
    let mut pad = String::new();
    for (i, piece) in before.split('\t').enumerate() {
        if i > 0 {
            pad.push('\t');
        }
        pad.extend(std::iter::repeat_n(' ', piece.width()));
    }
    pad
}

/// A mention as quoted in text output: at most `2 * SNIPPET_CONTEXT` characters.
fn bounded_mention(mention: &str) -> std::borrow::Cow<'_, str> {
    match mention.char_indices().nth(2 * SNIPPET_CONTEXT) {
        Some((i, _)) => format!("{}…", &mention[..i]).into(),
        None => mention.into(),
    }
}

fn text_report(
    analyzer: &Analyzer,
    doc: &Document,
    a: &Analysis,
    name: &str,
    snippets: usize,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let text = doc.text();
    let mut cursor = doc.cursor(Encoding::Utf32);
    for (i, f) in a.findings.iter().enumerate() {
        let p = cursor.position(f.range.start);
        writeln!(
            out,
            "{name}:{}:{}: {} — \"{}\"",
            p.line + 1,
            p.character + 1,
            describe(analyzer, text, f),
            bounded_mention(&text[f.range.clone()]),
        )?;
        if i >= snippets {
            continue;
        }
        let line_range = doc.line_range(p.line as usize).unwrap_or(0..0);
        let line = text[line_range.clone()].trim_end_matches(['\n', '\r']);
        let start = f
            .range
            .start
            .saturating_sub(line_range.start)
            .min(line.len());
        let end = f.range.end.saturating_sub(line_range.start).min(line.len());
        let (shown, pad, width) = snippet(line, start, end);
        let gutter = format!("{}", p.line + 1);
        writeln!(out, "{gutter} | {shown}")?;
        writeln!(
            out,
            "{} | {pad}{}",
            " ".repeat(gutter.len()),
            "^".repeat(width)
        )?;
    }
    if a.findings.len() > snippets {
        writeln!(
            out,
            "{name}: snippets shown for the first {snippets} of {} findings (--snippets N shows more)",
            a.findings.len()
        )?;
    }
    let c = CrestReport::from(&a.crest);
    let letters = |s: &[&str]| {
        if s.is_empty() {
            "none".to_string()
        } else {
            s.join(" ")
        }
    };
    writeln!(
        out,
        "{name}: CREST {}/5 documented: {}; possible: {}; negated: {}",
        c.present.len(),
        letters(&c.present),
        letters(&c.possible),
        letters(&c.negated)
    )?;
    Ok(())
}

/// A `--term` phrase: as long as a lexicon form may be (a 100 KB one made the matcher's
/// build hang).
fn term_phrase(text: &str) -> Result<String, String> {
    let max = calcinosis_ls::corpus::lexicon::MAX_FORM_BYTES;
    if text.trim().is_empty() {
        return Err("the phrase is empty".into());
    }
    if text.len() > max {
        return Err(format!(
            "the phrase is {} bytes long; a term may have at most {max}",
            text.len()
        ));
    }
    Ok(text.to_string())
}

/// The keys a JSON report writes itself; an echoed id under one of them would make a
/// duplicate key (which JSON readers resolve differently).
const REPORT_KEYS: [&str; 5] = ["file", "line", "findings", "crest", "error"];

fn id_field_name(name: &str) -> Result<String, String> {
    if REPORT_KEYS.contains(&name) {
        return Err(format!(
            "'{name}' is a key of the report itself ({}); name the id field differently \
             in the input",
            REPORT_KEYS.join(", ")
        ));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_bounded_and_carets_line_up() {
        let short = "She denies Raynaud’s today";
        let s = short.find("Raynaud").unwrap();
        let e = s + "Raynaud’s".len();
        assert_eq!(snippet(short, s, e), (short.to_string(), " ".repeat(11), 9));

        let long = format!("{}denies RP{}", "é ".repeat(5000), " x".repeat(5000));
        let s = long.find("RP").unwrap();
        let (shown, pad, width) = snippet(&long, s, s + 2);
        assert!(shown.chars().count() <= 2 * SNIPPET_CONTEXT + 4, "{shown}");
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        let caret: String = shown.chars().skip(pad.len()).take(width).collect();
        assert_eq!(caret, "RP");
    }

    #[test]
    fn carets_count_terminal_columns() {
        // A combining accent takes no column, an emoji and a CJK character two each, the
        // long mention's wide characters two each too; a tab stays a tab.
        let line = "e\u{301}\t😀 日本 calcinosis 日本";
        let s = line.find("calcinosis").unwrap();
        let (_, pad, width) = snippet(line, s, s + "calcinosis".len());
        assert_eq!(pad, format!(" \t{}", " ".repeat(8)));
        assert_eq!(width, 10);
        let s = line.rfind("日本").unwrap();
        assert_eq!(snippet(line, s, line.len()).2, 4);
    }
}
