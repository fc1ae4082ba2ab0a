//! The report's writer: the head, each note's section as it comes, and at the end the
//! patients' charts and the cohort, which need every note.

use std::collections::HashMap;
use std::io::{self, Write};

use sha2::{Digest, Sha256};

use super::*;
/// Which note a section is about, as the input named it.
#[derive(Debug, Clone, Default)]
pub struct NoteMeta<'a> {
    /// The patient: the `--patient-field` value, or the folder of a note file; `None` puts
    /// the note in an "All notes" chart.
    pub patient: Option<&'a str>,
    /// The note's name: its id, or file name (cut to [`MAX_NAME_CHARS`] characters).
    pub label: &'a str,
    /// The `--date-field` value, or the file name when it holds a date.
    pub date: Option<&'a str>,
}

/// What the report keeps of a note until the end: a few hundred bytes.
struct NoteRow {
    label: Box<str>,
    date: Option<Box<str>>,
    date_key: Option<u32>,
    cells: Cells,
}

/// A patient's notes, by number.
struct Patient {
    name: Box<str>,
    notes: Vec<u32>,
}

/// How the report is written.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Whether each note's whole text is embedded (`false`: `--no-text`, findings and
    /// snippets only).
    pub with_text: bool,
}

/// The name of the chart of notes that name no patient.
const NO_PATIENT: &str = "All notes";

/// The HTML report being written: its head at [`Report::start`], a section per note as it
/// comes, the charts and the cohort at [`Report::finish`].
///
/// Within a note's section or a table's rows no line break is written between elements: each
/// would be a text node in the page, and 72,000 of them took 7 % of the renderer's CPU
/// opening 10,000 notes (1.72 s against 1.60 s). A line break ends each section.
pub struct Report<W: Write> {
    out: W,
    options: Options,
    by_name: HashMap<Box<str>, u32>,
    patients: Vec<Patient>,
    notes: Vec<NoteRow>,
    errors: Vec<(Box<str>, Box<str>)>,
    error_count: u64,
}

/// The Content-Security-Policy: nothing may be loaded, fetched, framed or submitted; the
/// inline style and script are allowed by their SHA-256 alone.
pub fn content_security_policy() -> String {
    let hash = |s: &str| base64(&Sha256::digest(s.as_bytes()));
    format!(
        "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; img-src 'none'; \
         connect-src 'none'; base-uri 'none'; form-action 'none'",
        hash(SCRIPT),
        hash(STYLE)
    )
}

/// Standard base64 with padding (the CSP's hash sources); the crate has no other use for it.
pub(super) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

impl<W: Write> Report<W> {
    /// Writes the document's head (policy, style, legend) and opens its body.
    pub fn start(mut out: W, options: Options) -> io::Result<Report<W>> {
        let mut h = Vec::with_capacity(STYLE.len() + 2048);
        h.extend_from_slice(
            b"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
              <meta http-equiv=\"Content-Security-Policy\" content=\"",
        );
        escape(&mut h, &content_security_policy());
        h.extend_from_slice(
            b"\">\n<meta name=\"referrer\" content=\"no-referrer\">\n\
              <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
              <title>CREST chart report</title>\n<style>",
        );
        h.extend_from_slice(STYLE.as_bytes());
        h.extend_from_slice(
            b"</style>\n</head>\n<body>\n<header class=\"banner\">\n<h1>CREST chart report</h1>\n\
              <ul class=\"legend\" aria-label=\"Legend\">",
        );
        for a in Assertion::ALL {
            let _ = write!(
                h,
                "<li><span class=\"sym a-{0}\" aria-hidden=\"true\">{1}</span> {0}</li>",
                a.as_str(),
                symbol(a)
            );
        }
        h.extend_from_slice(
            "</ul>\n<p class=\"hint\">n/5 counts the features documented as present. In a \
             note, <kbd>n</kbd> and <kbd>p</kbd> move between mentions.</p>\n</header>\n\
             <div id=\"mentionbar\" class=\"mentionbar\" role=\"toolbar\" aria-label=\"Mentions\" \
             hidden><button type=\"button\" id=\"prev\">◀ Previous mention</button> \
             <span id=\"mcount\"></span> <button type=\"button\" id=\"next\">Next mention ▶\
             </button> <span id=\"detail\" role=\"status\" aria-live=\"polite\"></span></div>\n\
             <main>\n"
                .as_bytes(),
        );
        out.write_all(&h)?;
        Ok(Report {
            out,
            options,
            by_name: HashMap::new(),
            patients: Vec::new(),
            notes: Vec::new(),
            errors: Vec::new(),
            error_count: 0,
        })
    }

    fn patient(&mut self, name: Option<&str>) -> u32 {
        let name = name.unwrap_or(NO_PATIENT);
        if let Some(&p) = self.by_name.get(name) {
            return p;
        }
        let p = self.patients.len() as u32;
        self.by_name.insert(name.into(), p);
        self.patients.push(Patient {
            name: name.into(),
            notes: Vec::new(),
        });
        p
    }

    /// Writes a note's section and keeps its row for the charts.
    pub fn note(&mut self, meta: &NoteMeta<'_>, body: &NoteBody) -> io::Result<()> {
        let p = self.patient(meta.patient);
        let n = self.notes.len();
        let row = NoteRow {
            label: bounded(meta.label),
            date: meta.date.map(bounded),
            date_key: meta.date.and_then(date_key),
            cells: body.cells,
        };
        let mut h = Vec::with_capacity(512);
        let _ = write!(
            h,
            "<section class=\"view note\" id=\"n{n}\" aria-labelledby=\"n{n}h\" data-patient=\""
        );
        escape(&mut h, &self.patients[p as usize].name);
        h.extend_from_slice(b"\" data-note=\"");
        escape(&mut h, &row.label);
        let _ = write!(h, "\"><h2 id=\"n{n}h\">Note ");
        escape(&mut h, &row.label);
        let _ = write!(h, "</h2><p class=\"meta\">Patient <a href=\"#p{p}\">");
        escape(&mut h, &self.patients[p as usize].name);
        h.extend_from_slice(b"</a>");
        if let Some(d) = &row.date {
            h.extend_from_slice(" · ".as_bytes());
            escape(&mut h, d);
        }
        if body.unmarked > 0 {
            let _ = write!(
                h,
                " · {} more finding(s) not marked (at most {MAX_MARKED_MENTIONS} are)",
                body.unmarked
            );
        }
        let _ = write!(
            h,
            " · {} mention(s){}</p>",
            body.mentions,
            if self.options.with_text {
                ""
            } else {
                " · text left out (--no-text)"
            }
        );
        self.out.write_all(&h)?;
        body.write_to(n, &mut self.out)?;
        self.out.write_all(b"</section>\n")?;
        self.patients[p as usize].notes.push(n as u32);
        self.notes.push(row);
        Ok(())
    }

    /// Counts an input that could not be analysed; the first [`ERRORS_NAMED`] are listed by
    /// name and reason (reasons never quote the input).
    pub fn error(&mut self, name: &str, reason: &str) {
        self.error_count += 1;
        if self.errors.len() < ERRORS_NAMED {
            self.errors.push((bounded(name), reason.into()));
        }
    }

    /// Writes the charts, the cohort and the script, closes the document and returns the
    /// output.
    pub fn finish(mut self) -> io::Result<W> {
        let mut h = Vec::with_capacity(1 << 16);
        // With no notes at all the cohort (empty, with any errors) is the default view.
        let many = self.patients.len() != 1;
        // The default view comes last (the stylesheet hides it when a view before it is
        // the target): the cohort, or the chart when there is one patient.
        if !many {
            self.cohort(false, &mut h);
        }
        for (p, patient) in self.patients.iter().enumerate() {
            self.chart(p, patient, !many, &mut h);
            if h.len() >= 1 << 16 {
                self.out.write_all(&h)?;
                h.clear();
            }
        }
        if many {
            self.cohort(true, &mut h);
        }
        h.extend_from_slice(b"</main>\n<script>");
        h.extend_from_slice(SCRIPT.as_bytes());
        h.extend_from_slice(b"</script>\n</body>\n</html>\n");
        self.out.write_all(&h)?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// The union of a patient's cells per letter.
    fn summary(&self, patient: &Patient) -> [Assertions; 5] {
        let mut sum = [Assertions::default(); 5];
        for &n in &patient.notes {
            for (s, a) in sum.iter_mut().zip(self.notes[n as usize].cells.assertions) {
                *s = s.union(a);
            }
        }
        sum
    }

    /// A patient's chart: notes in date order (undated ones after, in input order), then
    /// the summary row.
    fn chart(&self, p: usize, patient: &Patient, default: bool, h: &mut Vec<u8>) {
        let mut order = patient.notes.clone();
        order.sort_by_key(|&n| {
            let k = self.notes[n as usize].date_key;
            (k.is_none(), k, n)
        });
        let _ = write!(
            h,
            "<section class=\"view chart{}\" id=\"p{p}\" aria-labelledby=\"p{p}h\">\
             <h2 id=\"p{p}h\">Patient ",
            if default { " default" } else { "" }
        );
        escape(h, &patient.name);
        h.extend_from_slice(b"</h2>");
        if !default {
            h.extend_from_slice(
                b"<p class=\"back\"><a href=\"#cohort\">Back to the cohort</a></p>",
            );
        }
        h.extend_from_slice(
            b"<table class=\"matrix\"><caption>CREST features documented in the notes of ",
        );
        escape(h, &patient.name);
        h.extend_from_slice(
            b", one row per note</caption><thead><tr><th scope=\"col\">Note</th>\
              <th scope=\"col\">Date</th>",
        );
        for c in Crest::ALL {
            let _ = write!(
                h,
                "<th scope=\"col\"><abbr title=\"{}\">{}</abbr></th>",
                c.name(),
                c.as_str()
            );
        }
        h.extend_from_slice(b"</tr></thead><tbody>");
        for &n in &order {
            let row = &self.notes[n as usize];
            let _ = write!(h, "<tr><th scope=\"row\"><a href=\"#n{n}\">");
            escape(h, &row.label);
            h.extend_from_slice(b"</a></th><td class=\"date\">");
            if let Some(d) = &row.date {
                escape(h, d);
            }
            h.extend_from_slice(b"</td>");
            for (i, c) in Crest::ALL.into_iter().enumerate() {
                // A letter whose first mention is past the marked ones links to the note.
                let target =
                    (!row.cells.assertions[i].is_empty()).then(|| (n as usize, row.cells.first[i]));
                cell(
                    h,
                    &patient.name,
                    Some(&row.label),
                    c,
                    row.cells.assertions[i],
                    target,
                );
            }
            h.extend_from_slice(b"</tr>");
        }
        let sum = self.summary(patient);
        let present = sum
            .iter()
            .filter(|a| a.contains(Assertion::Present))
            .count();
        let _ = write!(
            h,
            "</tbody><tfoot><tr class=\"summary\"><th scope=\"row\">Summary</th>\
             <td class=\"n5\" aria-label=\"{present} of 5 features documented present\">{present}/5</td>"
        );
        for (i, c) in Crest::ALL.into_iter().enumerate() {
            cell(h, &patient.name, None, c, sum[i], None);
        }
        h.extend_from_slice(b"</tr></tfoot></table></section>\n");
    }

    /// The cohort view: one row per patient, sortable and filterable by the script.
    fn cohort(&self, default: bool, h: &mut Vec<u8>) {
        let _ = write!(
            h,
            "<section class=\"view cohort{}\" id=\"cohort\" aria-labelledby=\"cohorth\">\n\
             <h2 id=\"cohorth\">Cohort: {} patient(s), {} note(s)</h2>\n",
            if default { " default" } else { "" },
            self.patients.len(),
            self.notes.len()
        );
        h.extend_from_slice(
            "<div class=\"controls\"><label for=\"filter\">Show</label> <select id=\"filter\">\
             <option value=\"all\">all patients</option>\
             <option value=\"crest3\">≥ 3 of 5 (the CREST criterion)</option>"
                .as_bytes(),
        );
        for c in Crest::ALL {
            let _ = write!(
                h,
                "<option value=\"{0}\">{0} present: {1}</option>",
                c.as_str(),
                c.name()
            );
        }
        h.extend_from_slice(
            b"</select> <span id=\"shown\" role=\"status\" aria-live=\"polite\"></span></div>\n\
              <table class=\"cohort-table\" id=\"cohort-table\">\n<caption>Patients and the CREST \
              features their notes document; a column's button sorts by it</caption>\n<thead><tr>",
        );
        let sortable = |h: &mut Vec<u8>, key: &str, label: &str| {
            let _ = write!(
                h,
                "<th scope=\"col\" aria-sort=\"none\"><button type=\"button\" data-sort=\"{key}\">\
                 {label}</button></th>"
            );
        };
        sortable(h, "patient", "Patient");
        sortable(h, "notes", "Notes");
        sortable(h, "n", "n/5");
        for c in Crest::ALL {
            sortable(h, c.as_str(), c.as_str());
        }
        h.extend_from_slice(b"</tr></thead><tbody>");
        for (p, patient) in self.patients.iter().enumerate() {
            let sum = self.summary(patient);
            let present: String = Crest::ALL
                .into_iter()
                .zip(sum)
                .filter(|(_, a)| a.contains(Assertion::Present))
                .map(|(c, _)| c.as_str())
                .collect();
            let _ = write!(
                h,
                "<tr data-n=\"{}\" data-notes=\"{}\" data-present=\"{present}\">\
                 <th scope=\"row\"><a href=\"#p{p}\">",
                present.len(),
                patient.notes.len()
            );
            escape(h, &patient.name);
            let _ = write!(
                h,
                "</a></th><td>{}</td><td class=\"n5\">{}/5</td>",
                patient.notes.len(),
                present.len()
            );
            for (i, c) in Crest::ALL.into_iter().enumerate() {
                cell(h, &patient.name, None, c, sum[i], None);
            }
            h.extend_from_slice(b"</tr>");
        }
        h.extend_from_slice(b"</tbody></table>");
        if self.error_count > 0 {
            let _ = write!(
                h,
                "<h3>{} input(s) could not be analysed</h3>\n<ul class=\"errors\">",
                self.error_count
            );
            for (name, reason) in &self.errors {
                h.extend_from_slice(b"<li>");
                escape(h, name);
                h.extend_from_slice(b": ");
                escape(h, reason);
                h.extend_from_slice(b"</li>");
            }
            let unnamed = self.error_count - self.errors.len() as u64;
            if unnamed > 0 {
                let _ = write!(h, "<li>… and {unnamed} more</li>");
            }
            h.extend_from_slice(b"</ul>\n");
        }
        h.extend_from_slice(b"</section>\n");
    }
}

/// One matrix, summary or cohort cell: the machine-readable attributes the issue fixes
/// (`data-patient`, `data-note` on note cells only, `data-crest`, `data-assertion`, which the
/// stylesheet also colours by), a symbol per assertion and a label that says them in words
/// (the column header names the feature); `target` (note, finding) makes it a link to that
/// mention, or to the note when the mention is not marked. Kept terse: a 10,000-note cohort has 50,000 of them.
fn cell(
    h: &mut Vec<u8>,
    patient: &str,
    note: Option<&str>,
    letter: Crest,
    set: Assertions,
    target: Option<(usize, Option<u32>)>,
) {
    let names: Vec<&str> = set.iter().map(Assertion::as_str).collect();
    h.extend_from_slice(b"<td data-patient=\"");
    escape(h, patient);
    if let Some(note) = note {
        h.extend_from_slice(b"\" data-note=\"");
        escape(h, note);
    }
    let _ = write!(
        h,
        "\" data-crest=\"{}\" data-assertion=\"{}\">",
        letter.as_str(),
        names.join(" ")
    );
    if set.is_empty() {
        h.extend_from_slice(b"</td>");
        return;
    }
    let label = names.join(", ");
    match target {
        Some((n, Some(m))) => {
            let _ = write!(h, "<a href=\"#n{n}-{m}\" aria-label=\"{label}\">");
        }
        Some((n, None)) => {
            let _ = write!(h, "<a href=\"#n{n}\" aria-label=\"{label}\">");
        }
        None => {
            let _ = write!(h, "<span role=\"img\" aria-label=\"{label}\">");
        }
    }
    for a in set.iter() {
        h.extend_from_slice(symbol(a).as_bytes());
    }
    h.extend_from_slice(if target.is_some() {
        b"</a></td>"
    } else {
        b"</span></td>"
    });
}
