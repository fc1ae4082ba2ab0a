//! `check --format html`: one self-contained HTML file showing which CREST features each
//! patient's notes document, and how (issue 23).
//!
//! The file has three kinds of view, each a `<section class="view">` shown by CSS when the
//! address's fragment names it (`:target`), or by the script when it names a mention in it:
//! a note (its text with every mention highlighted and its trigger underlined, or with
//! `--no-text` only the findings and their snippets), a patient's chart (notes × C R E S T,
//! and a summary row), and the cohort (one row per patient). The inline script opens a note at a mention, and
//! adds keyboard navigation between mentions, the mention's details, and the cohort's
//! sorting and filtering.
//!
//! **Streaming.** Notes come in input order, not grouped by patient, and their text is not
//! held: each note's section is written as it arrives ([`Report::note`]), and only what the
//! charts need is kept — per note its label, date and five cells ([`Cells`]), a few hundred
//! bytes. The charts and the cohort, which need every note, are written at the end
//! ([`Report::finish`]); the fragment routing makes the order in the file irrelevant.
//!
//! **Safety.** The file holds clinical text, so it loads nothing: the Content-Security-Policy
//! allows no source but the inline style and script, named by their SHA-256. Everything taken
//! from a note or an input record is escaped for HTML text and quoted attributes alike
//! ([`escape`]); links are only ever `#` fragments this module makes from numbers.

use std::collections::HashMap;
use std::io::{self, Write};

use sha2::{Digest, Sha256};

use crate::analysis::{Analysis, Analyzer, Assertion, Finding};
use crate::corpus::Crest;
use crate::limits::{MAX_MARKED_MENTIONS, MAX_NAME_CHARS};

/// The report's stylesheet (screen and A4 print), inlined and allowed by its hash.
const STYLE: &str = include_str!("html/report.css");
/// The report's script (mention navigation, cohort sort and filter), inlined and allowed
/// by its hash.
const SCRIPT: &str = include_str!("html/report.js");

/// Characters of note text shown either side of a mention when the text is left out
/// (`--no-text`): a clause's worth, which holds the trigger nearly always (a trigger's scope
/// is a few words). At 60, as `check`'s terminal snippets, a generated cohort's snippets
/// came to more bytes than its notes: mentions a sentence apart repeat each other's context.
pub const SNIPPET_CHARS: usize = 40;

/// Most inputs that could not be analysed named in the report; the rest are counted, so a
/// run of bad records costs no more memory than a few.
pub const ERRORS_NAMED: usize = 100;

/// The assertions of a set of mentions: one bit per [`Assertion`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Assertions(u8);

impl Assertions {
    fn bit(a: Assertion) -> u8 {
        1 << match a {
            Assertion::Present => 0,
            Assertion::Negated => 1,
            Assertion::Possible => 2,
            Assertion::Historical => 3,
            Assertion::Hypothetical => 4,
            Assertion::Family => 5,
        }
    }

    /// Adds `a`.
    pub fn insert(&mut self, a: Assertion) {
        self.0 |= Self::bit(a);
    }

    /// Whether `a` is in the set.
    pub fn contains(self, a: Assertion) -> bool {
        self.0 & Self::bit(a) != 0
    }

    /// Whether the set is empty (no mention of the letter).
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Both sets together.
    pub fn union(self, other: Assertions) -> Assertions {
        Assertions(self.0 | other.0)
    }

    /// The assertions in the set, in JSONL's report order.
    pub fn iter(self) -> impl Iterator<Item = Assertion> {
        Assertion::ALL
            .into_iter()
            .filter(move |&a| self.contains(a))
    }
}

/// The symbol a cell shows for an assertion, so that the chart reads without colour too.
/// Hypothetical mentions get their own (the issue asks it).
pub fn symbol(a: Assertion) -> &'static str {
    match a {
        Assertion::Present => "●",
        Assertion::Negated => "⊘",
        Assertion::Possible => "?",
        Assertion::Historical => "↺",
        Assertion::Hypothetical => "◇",
        Assertion::Family => "F",
    }
}

/// What one note contributes to its patient's chart: per CREST letter (in CREST order), the
/// assertions of its mentions and the first of those mentions (a finding's index), which the
/// cell links to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cells {
    /// Assertions per letter.
    pub assertions: [Assertions; 5],
    /// The first mention of each letter, by finding index.
    pub first: [Option<u32>; 5],
}

impl Cells {
    /// Counts a mention of `letter`; `marked` is its finding index when it is marked up
    /// (only a marked mention can be linked to).
    fn add(&mut self, letter: Crest, a: Assertion, marked: Option<usize>) {
        let i = letter_index(letter);
        self.assertions[i].insert(a);
        if self.first[i].is_none() {
            self.first[i] = marked.and_then(|m| u32::try_from(m).ok());
        }
    }

    /// The CREST letters documented as present (only `present` counts, not `historical`:
    /// the "n/5").
    pub fn present(&self) -> usize {
        self.assertions
            .iter()
            .filter(|a| a.contains(Assertion::Present))
            .count()
    }
}

fn letter_index(c: Crest) -> usize {
    match c {
        Crest::C => 0,
        Crest::R => 1,
        Crest::E => 2,
        Crest::S => 3,
        Crest::T => 4,
    }
}

/// A note's section body, rendered on a worker without knowing the note's place in the
/// report: `holes` are the offsets in `html` where the writer puts the note's number (the
/// mentions' element ids hold it).
#[derive(Debug, Default)]
pub struct NoteBody {
    html: Vec<u8>,
    holes: Vec<usize>,
    /// The note's cells for the chart.
    pub cells: Cells,
    /// How many mentions are highlighted.
    pub mentions: usize,
    /// Findings left unmarked ([`MAX_MARKED_MENTIONS`], or overlapping another).
    pub unmarked: usize,
}

impl NoteBody {
    fn hole(&mut self) {
        self.holes.push(self.html.len());
    }

    /// Writes the body with `note` in its holes.
    fn write_to(&self, note: usize, out: &mut impl Write) -> io::Result<()> {
        let mut at = 0;
        let mut num = itoa::Buffer::new();
        let num = num.format(note).as_bytes();
        for &h in &self.holes {
            out.write_all(&self.html[at..h])?;
            out.write_all(num)?;
            at = h;
        }
        out.write_all(&self.html[at..])
    }
}

/// Appends `s` escaped for HTML text and for a quoted attribute value alike: `&`, `<`, `>`,
/// `"` and `'` become references, so nothing from a note or a record can open an element,
/// close an attribute or start a script.
pub fn escape(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    let mut from = 0;
    for (i, &c) in b.iter().enumerate() {
        let r: &[u8] = match c {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\'' => b"&#39;",
            _ => continue,
        };
        out.extend_from_slice(&b[from..i]);
        out.extend_from_slice(r);
        from = i + 1;
    }
    out.extend_from_slice(&b[from..]);
}

/// `s` cut to [`MAX_NAME_CHARS`] characters with `…`: labels and dates are repeated in the
/// charts and held for every note until the end.
fn bounded(s: &str) -> Box<str> {
    match s.char_indices().nth(MAX_NAME_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]).into(),
        None => s.into(),
    }
}

/// Renders a note's body on a worker: its text with mentions highlighted and triggers
/// underlined, or (`with_text` false) the list of its findings with their snippets.
pub fn render_note(analyzer: &Analyzer, text: &str, a: &Analysis, with_text: bool) -> NoteBody {
    let mut body = NoteBody {
        html: Vec::with_capacity(
            if with_text {
                text.len() + text.len() / 4
            } else {
                0
            } + 64,
        ),
        ..NoteBody::default()
    };
    // Mentions do not overlap (the longest match wins), but a range that would nest badly
    // is left unmarked rather than trusted: the markup must stay well formed.
    // At most MAX_MARKED_MENTIONS are marked (a note made of mentions would otherwise
    // grow ~15-fold); every finding still counts in the cells.
    let mut marked: Vec<usize> = Vec::with_capacity(a.findings.len().min(MAX_MARKED_MENTIONS));
    let mut end = 0;
    for (i, f) in a.findings.iter().enumerate() {
        if marked.len() < MAX_MARKED_MENTIONS
            && f.range.start >= end
            && text.get(f.range.clone()).is_some()
        {
            marked.push(i);
            end = f.range.end;
        }
        if let Some(letter) = analyzer.lexicon().term(f.term).crest {
            let first = marked.last() == Some(&i);
            body.cells.add(letter, f.assertion, first.then_some(i));
        }
    }
    body.mentions = marked.len();
    body.unmarked = a.findings.len() - marked.len();
    if with_text {
        text_body(analyzer, text, a, &marked, &mut body);
    } else {
        findings_body(analyzer, text, a, &marked, &mut body);
    }
    body
}

/// Opens a mention's `<mark>`: its id (`n<note>-<finding>`), class and the details the
/// script shows (assertion, letter, term, the deciding words).
fn open_mark(analyzer: &Analyzer, text: &str, i: usize, f: &Finding, body: &mut NoteBody) {
    let t = analyzer.lexicon().term(f.term);
    body.html.extend_from_slice(b"<mark id=\"n");
    body.hole();
    let _ = write!(
        body.html,
        "-{i}\" data-assertion=\"{}\"",
        f.assertion.as_str()
    );
    if let Some(c) = t.crest {
        let _ = write!(body.html, " data-crest=\"{}\"", c.as_str());
    }
    body.html.extend_from_slice(b" data-term=\"");
    escape(&mut body.html, &t.name);
    body.html.push(b'"');
    if let Some(tr) = f.trigger.as_ref().and_then(|tr| text.get(tr.range.clone())) {
        body.html.extend_from_slice(b" data-trigger=\"");
        escape(&mut body.html, &bounded(tr));
        body.html.push(b'"');
    }
    body.html.push(b'>');
}

/// The whole text, mentions in `<mark>`, triggers that do not overlap a mention in `<u>`.
fn text_body(analyzer: &Analyzer, text: &str, a: &Analysis, marked: &[usize], body: &mut NoteBody) {
    // Only the marked mentions' triggers: past MAX_MARKED_MENTIONS a dense note's triggers
    // would be as many as its mentions.
    let mut triggers: Vec<std::ops::Range<usize>> = marked
        .iter()
        .filter_map(|&i| a.findings[i].trigger.as_ref().map(|t| t.range.clone()))
        .filter(|r| text.get(r.clone()).is_some() && !r.is_empty())
        .collect();
    triggers.sort_by_key(|r| (r.start, r.end));
    triggers.dedup();
    // Spans in text order: (start, end, Some(finding) for a mention, None for a trigger).
    let mut spans: Vec<(usize, usize, Option<usize>)> = marked
        .iter()
        .map(|&i| (a.findings[i].range.start, a.findings[i].range.end, Some(i)))
        .collect();
    let mut m = 0;
    let mut last_end = 0;
    for r in triggers {
        // Skip the mentions that end before this trigger; it must not cross the next one.
        while m < marked.len() && a.findings[marked[m]].range.end <= r.start {
            m += 1;
        }
        let crosses = m < marked.len() && a.findings[marked[m]].range.start < r.end;
        if !crosses && r.start >= last_end {
            last_end = r.end;
            spans.push((r.start, r.end, None));
        }
    }
    spans.sort_by_key(|s| s.0);
    body.html.extend_from_slice(b"<div class=\"text\">");
    let mut at = 0;
    for (start, end, finding) in spans {
        escape(&mut body.html, &text[at..start]);
        match finding {
            Some(i) => {
                open_mark(analyzer, text, i, &a.findings[i], body);
                escape(&mut body.html, &text[start..end]);
                body.html.extend_from_slice(b"</mark>");
            }
            None => {
                body.html.extend_from_slice(b"<u class=\"trigger\">");
                escape(&mut body.html, &text[start..end]);
                body.html.extend_from_slice(b"</u>");
            }
        }
        at = end;
    }
    escape(&mut body.html, &text[at..]);
    body.html.extend_from_slice(b"</div>");
}

/// `--no-text`: each finding with [`SNIPPET_CHARS`] characters of its line either side.
fn findings_body(
    analyzer: &Analyzer,
    text: &str,
    a: &Analysis,
    marked: &[usize],
    body: &mut NoteBody,
) {
    if marked.is_empty() {
        body.html
            .extend_from_slice(b"<p class=\"empty\">No mention of a lexicon term.</p>");
        return;
    }
    body.html.extend_from_slice(b"<ol class=\"findings\">");
    for &i in marked {
        let f = &a.findings[i];
        // The window first, then the line within it: looking for the line's ends over the
        // whole note made a one-line note of megabytes quadratic (54 s for 24 MB).
        let back = text[..f.range.start]
            .char_indices()
            .rev()
            .nth(SNIPPET_CHARS - 1)
            .map_or(0, |(p, _)| p);
        let from = text[back..f.range.start]
            .rfind('\n')
            .map_or(back, |p| back + p + 1);
        let ahead = text[f.range.end..]
            .char_indices()
            .nth(SNIPPET_CHARS)
            .map_or(text.len(), |(p, _)| f.range.end + p);
        let to = text[f.range.end..ahead]
            .find('\n')
            .map_or(ahead, |p| f.range.end + p);
        let cut_before = from > 0 && text.as_bytes()[from - 1] != b'\n';
        let cut_after = to < text.len() && text.as_bytes()[to] != b'\n';
        let trigger = f
            .trigger
            .as_ref()
            .map(|t| t.range.clone())
            .filter(|t| text.get(t.clone()).is_some());
        body.html.extend_from_slice(b"<li>");
        if cut_before {
            body.html.extend_from_slice("…".as_bytes());
        }
        underlined(&mut body.html, text, from..f.range.start, trigger.clone());
        open_mark(analyzer, text, i, f, body);
        escape(&mut body.html, &text[f.range.clone()]);
        body.html.extend_from_slice(b"</mark>");
        underlined(&mut body.html, text, f.range.end..to, trigger.clone());
        if cut_after {
            body.html.extend_from_slice("…".as_bytes());
        }
        // A trigger outside the snippet is quoted after it (the details bar names it too).
        let outside = trigger
            .as_ref()
            .filter(|t| t.start < from || t.end > to)
            .and_then(|t| text.get(t.clone()));
        if let Some(tr) = outside {
            body.html
                .extend_from_slice(" <span class=\"why\">— by “<u class=\"trigger\">".as_bytes());
            escape(&mut body.html, &bounded(tr));
            body.html.extend_from_slice("</u>”</span>".as_bytes());
        }
        body.html.extend_from_slice(b"</li>");
    }
    body.html.extend_from_slice(b"</ol>");
}

/// `text[range]` escaped, with `trigger` underlined when it lies wholly inside.
fn underlined(
    out: &mut Vec<u8>,
    text: &str,
    range: std::ops::Range<usize>,
    trigger: Option<std::ops::Range<usize>>,
) {
    match trigger.filter(|t| range.start <= t.start && t.end <= range.end) {
        Some(t) => {
            escape(out, &text[range.start..t.start]);
            out.extend_from_slice(b"<u class=\"trigger\">");
            escape(out, &text[t.clone()]);
            out.extend_from_slice(b"</u>");
            escape(out, &text[t.end..range.end]);
        }
        None => escape(out, &text[range]),
    }
}

/// A date as a sortable number (`YYYYMMDD`): the first `YYYY-MM-DD` (or `YYYYMMDD`, or with
/// `_`, `.` or `/` between) in `s`, month and day checked. A file name such as
/// `2024-03-05_clinic.txt` or a field value such as `2024-03-05T10:00` has one.
pub fn date_key(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    let digits = |at: usize, n: usize| -> Option<u32> {
        let d = b.get(at..at + n)?;
        d.iter().try_fold(0u32, |v, &c| {
            c.is_ascii_digit().then(|| v * 10 + u32::from(c - b'0'))
        })
    };
    for start in 0..b.len() {
        // A date starts a run of digits.
        if start > 0 && b[start - 1].is_ascii_digit() {
            continue;
        }
        let Some(year) = digits(start, 4) else {
            continue;
        };
        for sep in [0usize, 1] {
            let m_at = start + 4 + sep;
            let d_at = m_at + 2 + sep;
            if sep == 1 {
                let (Some(&s1), Some(&s2)) = (b.get(start + 4), b.get(m_at + 2)) else {
                    continue;
                };
                if s1 != s2 || !matches!(s1, b'-' | b'_' | b'.' | b'/') {
                    continue;
                }
            }
            let (Some(month), Some(day)) = (digits(m_at, 2), digits(d_at, 2)) else {
                continue;
            };
            let ends = !b.get(d_at + 2).is_some_and(u8::is_ascii_digit);
            if ends && (1..=12).contains(&month) && (1..=31).contains(&day) {
                return Some(year * 10_000 + month * 100 + day);
            }
        }
    }
    None
}

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
fn base64(bytes: &[u8]) -> String {
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

#[cfg(test)]
mod tests;
