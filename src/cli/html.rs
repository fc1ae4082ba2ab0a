//! `check --format html`: `check`'s batch input (files, folders, JSON Lines records, read
//! and analysed on the pool in input order) handed to the HTML writer,
//! [`calcinosis_ls::output::html`]. Each note's section is rendered on the pool and written
//! as it comes; only its chart row is kept. Exit status as `check`'s.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use calcinosis_ls::analysis::Analyzer;
use calcinosis_ls::limits::MAX_NAME_CHARS;
use calcinosis_ls::output::html::{self, NoteBody, NoteMeta, Options, Report};

use super::batch::{self, Item, Origin, Source};
use super::check::{record_name, report_skipped, write_or_closed, CheckArgs};
use super::input::warn;

/// A note rendered on the pool, with the names the writer puts around it.
struct Done {
    label: String,
    patient: Option<String>,
    date: Option<String>,
    body: Result<NoteBody, String>,
}

/// A JSON value as shown: a string's text, anything else (a number) as written.
fn json_text(raw: &serde_json::value::RawValue) -> String {
    serde_json::from_str::<String>(raw.get()).unwrap_or_else(|_| raw.get().to_string())
}

/// Runs `check --format html` over `source`.
pub fn run(
    analyzer: Arc<Analyzer>,
    source: Source,
    jobs: usize,
    args: &CheckArgs,
) -> anyhow::Result<ExitCode> {
    let with_text = !args.no_text;
    let by_patient = args.patient_field.is_some();
    let render = move |item: Item| render(&analyzer, with_text, by_patient, item);
    let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut report = match Report::start(out, Options { with_text }) {
        Ok(r) => r,
        Err(e) => {
            write_or_closed(Err(e))?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    let mut errors = 0u64;
    let mut closed = false;
    let window = jobs.saturating_mul(4).saturating_add(4);
    let skipped = batch::run_ordered(source, jobs, window, render, |done: Option<Done>| {
        // The report is read whole, at the end: nothing to flush early.
        let Some(done) = done else {
            return Ok(true);
        };
        match &done.body {
            Ok(body) => {
                let meta = NoteMeta {
                    patient: done.patient.as_deref(),
                    label: &done.label,
                    date: done.date.as_deref(),
                };
                let ok = write_or_closed(report.note(&meta, body))?;
                closed = !ok;
                Ok(ok)
            }
            Err(reason) => {
                errors += 1;
                report.error(&done.label, reason);
                Ok(true)
            }
        }
    })?;
    if closed || !write_or_closed(report.finish().map(drop))? {
        return Ok(ExitCode::SUCCESS);
    }
    report_skipped(&skipped);
    Ok(if errors > 0 {
        warn(format_args!(
            "{errors} input(s) could not be analysed (listed in the report's cohort view)"
        ));
        ExitCode::from(2)
    } else if skipped.total() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Analyses one note and renders its section body (runs on the pool).
fn render(analyzer: &Analyzer, with_text: bool, by_patient: bool, item: Item) -> Done {
    let (label, patient, date) = match &item.origin {
        Origin::File(name) => {
            // A folder per patient is how a cohort of note files is usually kept.
            let folder = (name != "-").then(|| {
                Path::new(name)
                    .parent()
                    .map(|p| p.to_string_lossy().into_owned())
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| ".".into())
            });
            let file = Path::new(name).file_name().map(|f| f.to_string_lossy());
            let date = file
                .as_deref()
                .and_then(html::date_key)
                .map(|k| format!("{}-{:02}-{:02}", k / 10_000, k / 100 % 100, k % 100));
            (name.clone(), folder, date)
        }
        Origin::Record { line, id, meta } => (
            record_name(*line, id.as_deref()),
            meta.patient.as_deref().map(json_text),
            meta.date.as_deref().map(json_text),
        ),
    };
    let patient = match (&item.origin, by_patient) {
        (Origin::Record { .. }, false) => None,
        _ => patient,
    };
    let body = match item.text {
        Err(reason) => Err(reason),
        // Two patients whose long ids share a prefix must not share a chart: refuse rather
        // than cut.
        Ok(_)
            if patient
                .as_ref()
                .is_some_and(|p| p.chars().count() > MAX_NAME_CHARS) =>
        {
            Err(format!(
                "the patient field is longer than {MAX_NAME_CHARS} characters; use a shorter \
                 patient id"
            ))
        }
        Ok(text) => {
            let analysis = analyzer.analyze(&text);
            Ok(html::render_note(analyzer, &text, &analysis, with_text))
        }
    };
    Done {
        label,
        patient,
        date,
        body,
    }
}
