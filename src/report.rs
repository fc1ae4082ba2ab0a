//! The stable, serialisable form of a note's findings (the `check --format json` objects and
//! the Python package's dictionaries): one place that decides the fields, so that every
//! front end reports the same thing.

use serde::Serialize;

use crate::analysis::{Analysis, Analyzer, CrestSummary};
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
    /// `present`, `negated`, `possible`, `historical`, `hypothetical` or `family`.
    pub assertion: &'static str,
    /// The text of the cue that decided, if any.
    pub trigger: Option<&'a str>,
    /// Whether the mention is a likely misspelling.
    pub misspelling: bool,
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
    let text = doc.text();
    let mut cursor = doc.cursor(Encoding::Utf16);
    analysis
        .findings
        .iter()
        .map(|f| {
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
                assertion: f.assertion.as_str(),
                trigger: f.trigger.as_ref().and_then(|tr| text.get(tr.range.clone())),
                misspelling: f.misspelling,
            }
        })
        .collect()
}
