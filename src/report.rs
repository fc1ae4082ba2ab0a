//! The stable, serialisable form of a note's findings (the `check --format json` objects and
//! the Python package's dictionaries): one place that decides the fields, so that every
//! front end reports the same thing.

use serde::Serialize;

use crate::analysis::{Analysis, Analyzer, CrestSummary};
use crate::corpus::lexicon::{Codes, FormKind};
use crate::document::{Document, Encoding, Position};

/// A position in LSP form: 0-based line and UTF-16 column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LinePos {
    pub line: u32,
    pub character: u32,
}

impl From<Position> for LinePos {
    fn from(p: Position) -> LinePos {
        LinePos {
            line: p.line,
            character: p.character,
        }
    }
}

/// A range in LSP form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LineRange {
    pub start: LinePos,
    pub end: LinePos,
}

/// One finding as reported: borrowed from the note and the lexicon.
#[derive(Debug, Clone, Serialize)]
pub struct FindingReport<'a> {
    /// Where, in LSP positions.
    pub range: LineRange,
    /// Byte range in the note (not serialised: front ends convert it to their own units).
    #[serde(skip)]
    pub bytes: std::ops::Range<usize>,
    /// The words as written.
    pub text: &'a str,
    /// The term's name.
    pub term: &'a str,
    /// The term's category (`disease`, `crest-feature`, …).
    pub category: &'static str,
    /// The CREST letter, if any.
    pub crest: Option<&'static str>,
    /// The term's standard codes: `{"icd10cm": "I73.00"}`, a system left out when the
    /// lexicon gives no code in it (`{}` for a term without codes).
    pub codes: &'a Codes,
    /// `present`, `negated`, `possible`, `historical`, `hypothetical` or `family`.
    pub assertion: &'static str,
    /// The text of the cue that decided, if any.
    pub trigger: Option<&'a str>,
    /// Whether the mention is a likely misspelling.
    pub misspelling: bool,
    /// Whether the mention is a lay description of the term ("difficulty swallowing"):
    /// written only when true, so that output without lay wording is unchanged.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lay: bool,
    /// The text of a term pattern's `value` group ("1:640"): written only when there is
    /// one, so that output without patterns is unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<&'a str>,
}

/// The CREST summary as reported: letters in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CrestReport {
    pub present: Vec<&'static str>,
    pub possible: Vec<&'static str>,
    pub negated: Vec<&'static str>,
}

impl From<&CrestSummary> for CrestReport {
    fn from(c: &CrestSummary) -> CrestReport {
        let letters = |s: &std::collections::BTreeSet<crate::corpus::Crest>| {
            s.iter().map(|c| c.as_str()).collect()
        };
        CrestReport {
            present: letters(&c.present),
            possible: letters(&c.possible),
            negated: letters(&c.negated),
        }
    }
}

/// The findings of `analysis` (of `doc`'s text) in report form, in note order. Positions
/// are computed in one walk, so a long line costs O(n) in total, not per finding.
pub fn findings<'a>(
    analyzer: &'a Analyzer,
    doc: &'a Document,
    analysis: &Analysis,
) -> Vec<FindingReport<'a>> {
    let mut cursor = doc.cursor(Encoding::Utf16);
    analysis
        .findings
        .iter()
        .map(|f| report_of(analyzer, doc.text(), &mut cursor, f))
        .collect()
}

/// One finding in report form; `cursor` walks the note in finding order.
fn report_of<'a>(
    analyzer: &'a Analyzer,
    text: &'a str,
    cursor: &mut crate::document::PositionCursor<'_>,
    f: &crate::analysis::Finding,
) -> FindingReport<'a> {
    let t = analyzer.lexicon().term(f.term);
    FindingReport {
        range: LineRange {
            start: cursor.position(f.range.start).into(),
            end: cursor.position(f.range.end).into(),
        },
        bytes: f.range.clone(),
        text: &text[f.range.clone()],
        term: &t.name,
        category: t.category.as_str(),
        crest: t.crest.map(|c| c.as_str()),
        codes: &t.codes,
        assertion: f.assertion.as_str(),
        trigger: f.trigger.as_ref().and_then(|tr| text.get(tr.range.clone())),
        misspelling: f.misspelling,
        lay: f.form == FormKind::Lay,
        value: f.value.as_ref().and_then(|v| text.get(v.clone())),
    }
}

/// Findings converted and written per piece by [`write_findings_json_to`] (and the
/// streamed FHIR and OMOP writers): enough to make each write worth it, few enough that the
/// piece's reports and bytes stay small (~250 KB of JSON).
pub const FINDINGS_PER_PIECE: usize = 1024;

/// Calls `each` with the findings of `analysis` in report form, [`FINDINGS_PER_PIECE`] at a
/// time, in note order (the piece's index first): a large note's writers hold one piece's
/// reports, never the whole note's.
pub fn for_each_piece<E>(
    analyzer: &Analyzer,
    doc: &Document,
    analysis: &Analysis,
    mut each: impl FnMut(usize, &[FindingReport<'_>]) -> Result<(), E>,
) -> Result<(), E> {
    let mut cursor = doc.cursor(Encoding::Utf16);
    let mut reports = Vec::with_capacity(FINDINGS_PER_PIECE.min(analysis.findings.len()));
    for (i, piece) in analysis.findings.chunks(FINDINGS_PER_PIECE).enumerate() {
        reports.clear();
        reports.extend(
            piece
                .iter()
                .map(|f| report_of(analyzer, doc.text(), &mut cursor, f)),
        );
        each(i, &reports)?;
    }
    Ok(())
}

/// Writes the findings of `analysis` as the JSON array [`write_findings_json`] writes, to
/// `out` a piece at a time: memory follows a piece, not the note's whole report (for a
/// note of megabytes dense with findings, ~16 times the note).
pub fn write_findings_json_to(
    analyzer: &Analyzer,
    doc: &Document,
    analysis: &Analysis,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(FINDINGS_PER_PIECE * 256);
    buf.push(b'[');
    for_each_piece(analyzer, doc, analysis, |i, reports| {
        if i > 0 {
            buf.push(b',');
        }
        write_finding_objects(reports, &mut buf);
        out.write_all(&buf)?;
        buf.clear();
        Ok::<(), std::io::Error>(())
    })?;
    buf.push(b']');
    out.write_all(&buf)
}

/// Writes `findings` as compact JSON, byte for byte what `serde_json::to_writer` writes for
/// them (a test holds the two together), about twice as fast: the keys and punctuation are
/// constant bytes, and only the strings taken from the note and the lexicon are escaped.
/// On notes dense with findings, serde's key-by-key writing made the JSON a third of the
/// cost of the analysis itself.
pub fn write_findings_json(findings: &[FindingReport<'_>], out: &mut Vec<u8>) {
    out.push(b'[');
    write_finding_objects(findings, out);
    out.push(b']');
}

/// The objects of [`write_findings_json`]'s array, comma-separated, without the brackets.
#[inline]
fn write_finding_objects(findings: &[FindingReport<'_>], out: &mut Vec<u8>) {
    let mut numbers = itoa::Buffer::new();
    let mut number =
        |out: &mut Vec<u8>, n: u32| out.extend_from_slice(numbers.format(n).as_bytes());
    for (i, f) in findings.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"range\":{\"start\":{\"line\":");
        number(out, f.range.start.line);
        out.extend_from_slice(b",\"character\":");
        number(out, f.range.start.character);
        out.extend_from_slice(b"},\"end\":{\"line\":");
        number(out, f.range.end.line);
        out.extend_from_slice(b",\"character\":");
        number(out, f.range.end.character);
        out.extend_from_slice(b"}},\"text\":");
        json_str(out, f.text);
        out.extend_from_slice(b",\"term\":");
        json_str(out, f.term);
        out.extend_from_slice(b",\"category\":");
        json_str(out, f.category);
        out.extend_from_slice(b",\"crest\":");
        json_opt_str(out, f.crest);
        out.extend_from_slice(b",\"codes\":");
        write_codes(out, f.codes);
        out.extend_from_slice(b",\"assertion\":");
        json_str(out, f.assertion);
        out.extend_from_slice(b",\"trigger\":");
        json_opt_str(out, f.trigger);
        out.extend_from_slice(if f.misspelling {
            b",\"misspelling\":true"
        } else {
            b",\"misspelling\":false"
        });
        // Only when true, as the serde form writes it.
        if f.lay {
            out.extend_from_slice(b",\"lay\":true");
        }
        if let Some(v) = f.value {
            out.extend_from_slice(b",\"value\":");
            json_str(out, v);
        }
        out.push(b'}');
    }
}

/// `codes` as serde writes [`Codes`]: an object with the systems that have a code.
pub fn write_codes(out: &mut Vec<u8>, codes: &Codes) {
    out.push(b'{');
    if let Some(c) = &codes.icd10cm {
        out.extend_from_slice(b"\"icd10cm\":");
        json_str(out, c);
    }
    if let Some(c) = &codes.snomedct {
        if codes.icd10cm.is_some() {
            out.push(b',');
        }
        out.extend_from_slice(b"\"snomedct\":");
        json_str(out, c);
    }
    out.push(b'}');
}

/// A JSON string, escaped as serde_json escapes it.
fn json_str(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn json_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => json_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Corpus;

    /// The hand-written JSON is serde's, byte for byte, on notes with every kind of
    /// finding, cue, misspelling, non-ASCII text and characters JSON must escape.
    #[test]
    fn hand_written_json_equals_serde_json() {
        // The built-in corpus and a term pattern with a `value` (issue 27).
        let mut files = Corpus::embedded_files();
        files.push(crate::corpus::SourceFile {
            name: "user/lexicon.toml".into(),
            text: "[[term]]\nname = \"titre\"\ncategory = \"antibody\"\n\
                   pattern = 'titre\\s+(?P<value>\\S+)'\n"
                .into(),
        });
        let corpus = Corpus::from_files(files, Vec::new()).unwrap();
        let analyzer = Analyzer::new(&corpus);
        let mut rng = fastrand::Rng::with_seed(37);
        let pieces = [
            "Denies Raynaud's. ",
            "Sclerodactyly: none\n",
            "Possible calcinosis cutis \"left\" elbow\\ ",
            "Mother with scleroderma.\n",
            "Reynaud's phenomenon, telangectasia\t",
            "History of CREST; RP, DUs, é😀日 ",
            "No esophageal dysmotility.\r\n",
            "\u{1}\u{1f}\u{7f} ",
            "titre 1:\"640\"\\é ",
        ];
        let mut checked = 0;
        for _ in 0..300 {
            let text = crate::text::random_text(&mut rng, &pieces, 1..12);
            let analysis = analyzer.analyze(&text);
            let doc = Document::new(text);
            let found = findings(&analyzer, &doc, &analysis);
            checked += found.len();
            let mut ours = Vec::new();
            write_findings_json(&found, &mut ours);
            let serde = serde_json::to_vec(&found).unwrap();
            let mut streamed = Vec::new();
            write_findings_json_to(&analyzer, &doc, &analysis, &mut streamed).unwrap();
            assert_eq!(streamed, ours);
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&serde),
                "{:?}",
                doc.text()
            );
        }
        assert!(checked > 1000, "{checked} findings compared");
        let doc = Document::new(pieces[8].into());
        let valued = findings(&analyzer, &doc, &analyzer.analyze(pieces[8]));
        assert_eq!(valued[0].value, Some("1:\"640\"\\é"));

        // Streamed a piece at a time across many pieces: the same bytes.
        let text = pieces.concat().repeat(500);
        let analysis = analyzer.analyze(&text);
        assert!(analysis.findings.len() > 3 * FINDINGS_PER_PIECE);
        let doc = Document::new(text);
        let mut ours = Vec::new();
        write_findings_json(&findings(&analyzer, &doc, &analysis), &mut ours);
        let mut streamed = Vec::new();
        write_findings_json_to(&analyzer, &doc, &analysis, &mut streamed).unwrap();
        assert!(streamed == ours);
    }

    /// Codes in every combination of systems: the same bytes as serde's.
    #[test]
    fn codes_written_as_serde_writes_them() {
        let some = |s: &str| Some(s.to_string());
        for codes in [
            Codes::default(),
            Codes {
                icd10cm: some("I73.00"),
                snomedct: None,
            },
            Codes {
                icd10cm: None,
                snomedct: some("138875005"),
            },
            Codes {
                icd10cm: some("L94.2"),
                snomedct: some("404684003"),
            },
        ] {
            let mut ours = Vec::new();
            write_codes(&mut ours, &codes);
            assert_eq!(ours, serde_json::to_vec(&codes).unwrap());
        }
    }
}
