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

use crate::analysis::{Analysis, Analyzer, Assertion, Finding};
use crate::corpus::Crest;
use crate::limits::{MAX_MARKED_MENTIONS, MAX_NAME_CHARS};

mod note;
mod writer;

pub use note::{render_note, NoteBody};
pub use writer::{content_security_policy, NoteMeta, Options, Report};

/// The report's stylesheet (screen and A4 print), inlined and allowed by its hash.
const STYLE: &str = include_str!("report.css");
/// The report's script (mention navigation, cohort sort and filter), inlined and allowed
/// by its hash.
const SCRIPT: &str = include_str!("report.js");

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

#[cfg(test)]
mod tests;
