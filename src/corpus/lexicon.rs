//! The lexicon: terms with their category, CREST letter, synonyms and abbreviations,
//! loaded from `lexicon.toml` and validated so that every surface form names one term.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::limits::{MAX_LEXICON_FORM_BYTES, MAX_PATTERNS};
use crate::patterns::{Pattern, PatternSet};

/// Index of a term in its [`Lexicon`].
pub type TermId = usize;

/// What kind of thing a term names; drives ranking and display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// A disease (ranked first in completion).
    Disease,
    /// One of the five CREST features.
    CrestFeature,
    /// A clinical feature associated with calcinosis.
    ClinicalFeature,
    /// An autoantibody.
    Antibody,
    /// An anatomical site.
    Site,
    /// A complication.
    Complication,
    /// A pathophysiological mechanism.
    Mechanism,
    /// A treatment.
    Treatment,
    /// A target phrase given for one run (`check --term`), not from a lexicon file.
    AdHoc,
}

impl Category {
    /// Categories a lexicon file may use, with their names.
    pub const IN_FILES: [(&'static str, Category); 8] = [
        ("disease", Category::Disease),
        ("crest-feature", Category::CrestFeature),
        ("clinical-feature", Category::ClinicalFeature),
        ("antibody", Category::Antibody),
        ("site", Category::Site),
        ("complication", Category::Complication),
        ("mechanism", Category::Mechanism),
        ("treatment", Category::Treatment),
    ];

    /// The name used in files and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Disease => "disease",
            Category::CrestFeature => "crest-feature",
            Category::ClinicalFeature => "clinical-feature",
            Category::Antibody => "antibody",
            Category::Site => "site",
            Category::Complication => "complication",
            Category::Mechanism => "mechanism",
            Category::Treatment => "treatment",
            Category::AdHoc => "ad-hoc",
        }
    }

    /// A human label: `CREST feature`, `antibody`.
    pub fn label(self) -> &'static str {
        match self {
            Category::CrestFeature => "CREST feature",
            Category::ClinicalFeature => "associated clinical feature",
            Category::AdHoc => "ad-hoc term",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A CREST feature letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Crest {
    /// Calcinosis.
    C,
    /// Raynaud's phenomenon.
    R,
    /// Esophageal dysfunction.
    E,
    /// Sclerodactyly.
    S,
    /// Telangiectasia.
    T,
}

impl Crest {
    /// All five, in CREST order.
    pub const ALL: [Crest; 5] = [Crest::C, Crest::R, Crest::E, Crest::S, Crest::T];

    /// The letter as a one-character string.
    pub fn as_str(self) -> &'static str {
        match self {
            Crest::C => "C",
            Crest::R => "R",
            Crest::E => "E",
            Crest::S => "S",
            Crest::T => "T",
        }
    }

    /// The feature the letter stands for, as the README and the editors name it.
    pub fn name(self) -> &'static str {
        match self {
            Crest::C => "Calcinosis",
            Crest::R => "Raynaud's phenomenon",
            Crest::E => "Esophageal dysfunction",
            Crest::S => "Sclerodactyly",
            Crest::T => "Telangiectasia",
        }
    }

    fn parse(s: &str) -> Option<Crest> {
        Crest::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Crest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One lexicon term.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Term {
    /// Canonical name, as it should be written in a note.
    pub name: String,
    /// What kind of thing it is.
    pub category: Category,
    /// Its CREST letter, for the five CREST features.
    pub crest: Option<Crest>,
    /// Other names, matched case-insensitively.
    pub synonyms: Vec<String>,
    /// Abbreviations, matched case-sensitively.
    pub abbreviations: Vec<String>,
    /// Lay descriptions of the term ("difficulty swallowing"), matched case-insensitively
    /// and reported as lay wording.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lay: Vec<String>,
    /// A regular expression that also finds the term (`corpus/README.md`, "Patterns").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// One line saying what the term is.
    pub description: String,
    /// Words that find this term's statements when its names alone would not.
    pub query: Option<String>,
    /// Its standard codes, where the lexicon gives them (written only when it does).
    #[serde(skip_serializing_if = "Codes::is_empty")]
    pub codes: Codes,
    /// Where the term is defined (file, 1-based line).
    pub file: String,
    /// 1-based line of the term's `name`.
    pub line: usize,
}

/// A term's codes in standard terminologies, as `lexicon.toml` gives them: a system is
/// `None` where the lexicon has no verified code for it (`corpus/README.md` names the source
/// of every code). Serialised as `{"icd10cm": "I73.00", "snomedct": "…"}`, a system left out
/// when not known.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Codes {
    /// The ICD-10-CM code, with its dot (`I73.00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icd10cm: Option<String>,
    /// The SNOMED CT concept id (digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snomedct: Option<String>,
}

impl Codes {
    /// No code in any system.
    pub fn is_empty(&self) -> bool {
        self.icd10cm.is_none() && self.snomedct.is_none()
    }
}

/// Whether `code` is written as an ICD-10-CM code: a letter, two digits (or a digit and a
/// letter) for the category, then optionally a dot and one to four digits or letters
/// (`L94.2`, `I73.00`, `M34.1`). Whether the code exists is checked against the registry
/// table by the Python tests (`python/tests/test_codes.py`), not here.
pub fn is_icd10cm_form(code: &str) -> bool {
    let b = code.as_bytes();
    let category = b.len() >= 3
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && (b[2].is_ascii_digit() || b[2].is_ascii_uppercase());
    let rest = &b[b.len().min(3)..];
    category
        && match rest.split_first() {
            None => true,
            Some((b'.', tail)) => {
                (1..=4).contains(&tail.len())
                    && tail
                        .iter()
                        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
            }
            Some(_) => false,
        }
}

/// Whether `id` is written as a SNOMED CT identifier: 6 to 18 digits, no leading zero,
/// whose last digit is the Verhoeff check digit of the others (as every SCTID's is), so
/// that a mistyped digit is caught when the lexicon loads.
pub fn is_sctid_form(id: &str) -> bool {
    // The Verhoeff dihedral-group multiplication and permutation tables.
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let b = id.as_bytes();
    if !(6..=18).contains(&b.len()) || b[0] == b'0' || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut c = 0u8;
    for (i, d) in b.iter().rev().enumerate() {
        c = D[usize::from(c)][usize::from(P[i % 8][usize::from(d - b'0')])];
    }
    c == 0
}

/// How a surface form relates to its term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FormKind {
    /// The canonical name.
    Name,
    /// A synonym or spelling variant.
    Synonym,
    /// An abbreviation (case-sensitive).
    Abbreviation,
    /// A lay description of the term ("difficulty swallowing" for dysphagia).
    Lay,
    /// A match of the term's `pattern` (a regular expression).
    Pattern,
}

/// A way of writing a term, as listed in the lexicon (generated variants are the matcher's job).
#[derive(Debug, Clone)]
pub struct Form<'a> {
    /// The text as written in the lexicon.
    pub text: &'a str,
    /// The term it names.
    pub term: TermId,
    /// Name, synonym or abbreviation.
    pub kind: FormKind,
}

impl Term {
    /// The canonical name with its first abbreviation: `limited cutaneous systemic sclerosis (lcSSc)`.
    pub fn name_with_abbreviation(&self) -> String {
        match self.abbreviations.first() {
            Some(a) if !self.name.contains(a.as_str()) => format!("{} ({a})", self.name),
            _ => self.name.clone(),
        }
    }
}

/// The validated set of terms.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    terms: Vec<Term>,
    /// Words never reported as misspellings (lower case).
    fuzzy_ignore: Vec<String>,
    /// Every form by its [`form_key`] (keys are unique: a form names one term), so that
    /// [`Lexicon::find`] is a lookup, not a scan of every form.
    keys: HashMap<String, TermId>,
    /// Bytes of all forms listed so far, bounded by [`MAX_LEXICON_FORM_BYTES`].
    form_bytes: usize,
    /// Every term's `pattern`, checked, with its term, in file order.
    pattern_terms: Vec<(TermId, Pattern)>,
    /// The sum of their compiled sizes, bounded by `PATTERN_SET_SIZE_LIMIT`.
    pattern_bytes: usize,
    /// Those patterns compiled into one set (pattern `i` is `pattern_terms[i]`'s); empty,
    /// and never searched, when no term has one.
    patterns: Arc<PatternSet>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDef {
    #[serde(default)]
    fuzzy: FuzzyDef,
    #[serde(default)]
    term: Vec<TermDef>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FuzzyDef {
    #[serde(default)]
    ignore: Vec<String>,
    /// Whether the file has a `[fuzzy]` table (set by deserialising one: absent, the
    /// default is used).
    #[serde(skip, default = "yes")]
    defined: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TermDef {
    name: Spanned<String>,
    category: Spanned<String>,
    crest: Option<Spanned<String>>,
    #[serde(default)]
    synonyms: Vec<Spanned<String>>,
    #[serde(default)]
    abbreviations: Vec<Spanned<String>>,
    #[serde(default)]
    lay: Vec<Spanned<String>>,
    pattern: Option<Spanned<String>>,
    #[serde(default)]
    description: String,
    query: Option<String>,
    icd10cm: Option<Spanned<String>>,
    snomedct: Option<Spanned<String>>,
}

/// The key two forms collide on: lower case, hyphens as spaces, curly apostrophes straight.
pub fn form_key(form: &str) -> String {
    form.chars()
        .map(|c| match c {
            '-' => ' ',
            '\u{2019}' => '\'',
            c => c.to_ascii_lowercase(),
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Line numbers for byte offsets of one file, by binary search over its line starts:
/// counting newlines from the start of the file for every term made loading quadratic
/// (8,000 terms 2.6 s, 100,000 more than 300 s).
pub(super) struct Lines(Vec<usize>);

impl Lines {
    pub(super) fn new(source: &str) -> Lines {
        Lines(memchr::memchr_iter(b'\n', source.as_bytes()).collect())
    }

    /// The 1-based line of `byte`.
    pub(super) fn of(&self, byte: usize) -> usize {
        self.0.partition_point(|&nl| nl < byte) + 1
    }
}

/// The longest name, synonym or abbreviation a term may have, in bytes. Terms are words or
/// short phrases; a 40 KB "name" took the matcher's build 93 s, a 100 MB one crashed it.
pub const MAX_FORM_BYTES: usize = 200;

impl Lexicon {
    /// Parses and validates one lexicon file.
    pub fn parse(file: &str, source: &str) -> Result<Lexicon> {
        let mut lex = Lexicon::default();
        lex.extend(file, source)?;
        Ok(lex)
    }

    /// Adds the terms of another lexicon file, validating them against those already loaded.
    pub fn extend(&mut self, file: &str, source: &str) -> Result<()> {
        self.extend_forms(file, source)?;
        if self.patterns.patterns().len() != self.pattern_terms.len() {
            self.patterns = Arc::new(PatternSet::new(
                self.pattern_terms.iter().map(|(_, p)| p.clone()).collect(),
            )?);
        }
        Ok(())
    }

    /// [`Lexicon::extend`] but for compiling the patterns into their set.
    fn extend_forms(&mut self, file: &str, source: &str) -> Result<()> {
        let lines = Lines::new(source);
        // Table by table (bounded memory on a large file); the whole file at once when
        // that cannot be done, which also gives TOML's own error message.
        let (terms, ignored, form_bytes) =
            (self.terms.len(), self.fuzzy_ignore.len(), self.form_bytes);
        let mut fuzzy_seen = false;
        let chunked = super::chunks::parse_in_chunks(source, |offset, def: FileDef| {
            if def.fuzzy.defined {
                if fuzzy_seen {
                    return Ok(false);
                }
                fuzzy_seen = true;
            }
            self.add(file, &lines, offset, def).map(|()| true)
        })?;
        if chunked {
            return Ok(());
        }
        self.terms.truncate(terms);
        self.fuzzy_ignore.truncate(ignored);
        self.keys.retain(|_, id| *id < terms);
        self.pattern_terms.retain(|(id, _)| *id < terms);
        self.pattern_bytes = self
            .pattern_terms
            .iter()
            .try_fold(0, |bytes, (_, p)| p.add_to(bytes))?;
        self.form_bytes = form_bytes;
        let def: FileDef = toml::from_str(source).map_err(|e| {
            let line = e.span().map(|s| lines.of(s.start)).unwrap_or(1);
            Error::syntax(file, line, e.message().trim().to_string())
        })?;
        self.add(file, &lines, 0, def)
    }

    /// Validates and adds the terms of `def`, parsed from `file` at byte `offset`.
    fn add(&mut self, file: &str, lines: &Lines, offset: usize, def: FileDef) -> Result<()> {
        for t in def.term {
            let line = lines.of(offset + t.name.span().start);
            let at = |span: std::ops::Range<usize>, msg: String| {
                Error::syntax(file, lines.of(offset + span.start), msg)
            };
            let name = t.name.get_ref().trim().to_string();
            if name.is_empty() {
                return Err(at(t.name.span(), "term with an empty name".into()));
            }
            let category = Category::IN_FILES
                .iter()
                .find(|(n, _)| *n == t.category.get_ref().as_str())
                .map(|(_, c)| *c)
                .ok_or_else(|| {
                    let names: Vec<&str> = Category::IN_FILES.iter().map(|(n, _)| *n).collect();
                    at(
                        t.category.span(),
                        format!(
                            "unknown category '{}' for '{name}': use one of {}",
                            t.category.get_ref(),
                            names.join(", ")
                        ),
                    )
                })?;
            let crest = match &t.crest {
                None => None,
                Some(c) => Some(Crest::parse(c.get_ref()).ok_or_else(|| {
                    at(
                        c.span(),
                        format!(
                            "crest letter '{}' must be one of C, R, E, S, T",
                            c.get_ref()
                        ),
                    )
                })?),
            };
            if crest.is_some() != (category == Category::CrestFeature) {
                return Err(at(
                    t.category.span(),
                    format!("'{name}': a term has a crest letter exactly when its category is crest-feature"),
                ));
            }
            let codes = Codes {
                icd10cm: match &t.icd10cm {
                    None => None,
                    Some(c) if is_icd10cm_form(c.get_ref()) => Some(c.get_ref().clone()),
                    Some(c) => {
                        return Err(at(
                            c.span(),
                            format!(
                                "'{name}': icd10cm '{}' is not written as an ICD-10-CM code \
                                 (a letter, two characters, then optionally a dot and one to \
                                 four: L94.2, I73.00)",
                                c.get_ref()
                            ),
                        ))
                    }
                },
                snomedct: match &t.snomedct {
                    None => None,
                    Some(c) if is_sctid_form(c.get_ref()) => Some(c.get_ref().clone()),
                    Some(c) => {
                        return Err(at(
                            c.span(),
                            format!(
                                "'{name}': snomedct '{}' is not a SNOMED CT identifier (6 to \
                                 18 digits ending in their Verhoeff check digit): copy the \
                                 concept id from the source named in corpus/README.md",
                                c.get_ref()
                            ),
                        ))
                    }
                },
            };
            let id = self.terms.len();
            if let Some(p) = &t.pattern {
                let line = lines.of(offset + p.span().start);
                // Counted before compiling: 5,000 patterns took 3 s to refuse after.
                if self.pattern_terms.len() >= MAX_PATTERNS {
                    return Err(crate::patterns::too_many(file, line));
                }
                let pattern = Pattern::new(file, line, p.get_ref())?;
                self.pattern_bytes = pattern.add_to(self.pattern_bytes)?;
                self.pattern_terms.push((id, pattern));
            }
            let all = std::iter::once(&t.name)
                .chain(&t.synonyms)
                .chain(&t.abbreviations)
                .chain(&t.lay);
            for form in all {
                let text = form.get_ref().trim();
                if text.is_empty() {
                    return Err(at(
                        form.span(),
                        format!("'{name}' has an empty synonym or abbreviation"),
                    ));
                }
                if text.len() > MAX_FORM_BYTES {
                    let start: String = text.chars().take(40).collect();
                    return Err(at(
                        form.span(),
                        format!(
                            "'{start}…' is {} bytes long: a term's name, synonym or \
                             abbreviation may have at most {MAX_FORM_BYTES}",
                            text.len()
                        ),
                    ));
                }
                self.form_bytes += text.len();
                if self.form_bytes > MAX_LEXICON_FORM_BYTES {
                    return Err(at(
                        form.span(),
                        format!(
                            "the lexicon's names, synonyms and abbreviations come to more than \
                             {MAX_LEXICON_FORM_BYTES} bytes here: the term matcher's memory \
                             grows with them. Shorten or remove terms"
                        ),
                    ));
                }
                let key = form_key(text);
                if let Some(&other) = self.keys.get(&key) {
                    if other != id {
                        return Err(at(
                            form.span(),
                            format!(
                                "'{text}' already names '{}' ({}:{}): a form may name only one term",
                                self.terms[other].name, self.terms[other].file, self.terms[other].line
                            ),
                        ));
                    }
                }
                self.keys.insert(key, id);
            }
            self.terms.push(Term {
                name,
                category,
                crest,
                synonyms: t
                    .synonyms
                    .iter()
                    .map(|s| s.get_ref().trim().to_string())
                    .collect(),
                abbreviations: t
                    .abbreviations
                    .iter()
                    .map(|s| s.get_ref().trim().to_string())
                    .collect(),
                lay: t
                    .lay
                    .iter()
                    .map(|s| s.get_ref().trim().to_string())
                    .collect(),
                pattern: t.pattern.map(Spanned::into_inner),
                description: t.description.trim().to_string(),
                query: t.query,
                codes,
                file: file.to_string(),
                line,
            });
        }
        self.fuzzy_ignore
            .extend(def.fuzzy.ignore.iter().map(|w| w.to_lowercase()));
        Ok(())
    }

    /// Adds an ad-hoc target phrase (not from a file); returns its id.
    pub fn add_ad_hoc(&mut self, phrase: &str) -> TermId {
        self.keys
            .entry(form_key(phrase))
            .or_insert(self.terms.len());
        self.terms.push(Term {
            name: phrase.trim().to_string(),
            category: Category::AdHoc,
            crest: None,
            synonyms: Vec::new(),
            abbreviations: Vec::new(),
            lay: Vec::new(),
            pattern: None,
            description: "Target phrase given on the command line.".into(),
            query: None,
            codes: Codes::default(),
            file: "<command line>".into(),
            line: 0,
        });
        self.terms.len() - 1
    }

    /// All terms, indexable by [`TermId`].
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// The term with this id.
    pub fn term(&self, id: TermId) -> &Term {
        &self.terms[id]
    }

    /// Finds a term by any of its forms (case-insensitive, hyphens and spaces alike).
    pub fn find(&self, text: &str) -> Option<TermId> {
        self.keys.get(&form_key(text)).copied()
    }

    /// Every listed form of every term.
    pub fn forms(&self) -> impl Iterator<Item = Form<'_>> {
        self.terms.iter().enumerate().flat_map(|(id, t)| {
            std::iter::once(Form {
                text: t.name.as_str(),
                term: id,
                kind: FormKind::Name,
            })
            .chain(t.synonyms.iter().map(move |s| Form {
                text: s,
                term: id,
                kind: FormKind::Synonym,
            }))
            .chain(t.abbreviations.iter().map(move |s| Form {
                text: s,
                term: id,
                kind: FormKind::Abbreviation,
            }))
            .chain(t.lay.iter().map(move |s| Form {
                text: s,
                term: id,
                kind: FormKind::Lay,
            }))
        })
    }

    /// The terms' patterns compiled into one set, and the term of each (by index).
    pub fn patterns(&self) -> (&Arc<PatternSet>, impl Fn(usize) -> TermId + '_) {
        (&self.patterns, |i| self.pattern_terms[i].0)
    }

    /// Words (lower case) listed as never being misspellings.
    pub fn fuzzy_ignored(&self) -> &[String] {
        &self.fuzzy_ignore
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> String {
        Lexicon::parse("lex.toml", src).unwrap_err().to_string()
    }

    #[test]
    fn validation_errors_name_file_and_line() {
        let dup = "[[term]]\nname = \"a b\"\ncategory = \"disease\"\n\n[[term]]\nname = \"c\"\ncategory = \"site\"\nsynonyms = [\"A-b\"]\n";
        assert_eq!(
            err(dup),
            "lex.toml:8: 'A-b' already names 'a b' (lex.toml:2): a form may name only one term"
        );
        let empty = "[[term]]\nname = \" \"\ncategory = \"disease\"\n";
        assert_eq!(err(empty), "lex.toml:2: term with an empty name");
        let cat = "[[term]]\nname = \"x\"\ncategory = \"organ\"\n";
        assert!(err(cat)
            .starts_with("lex.toml:3: unknown category 'organ' for 'x': use one of disease,"));
        let crest = "[[term]]\nname = \"x\"\ncategory = \"crest-feature\"\ncrest = \"Q\"\n";
        assert!(err(crest).starts_with("lex.toml:4: crest letter 'Q'"));
        let missing = "[[term]]\nname = \"x\"\ncategory = \"crest-feature\"\n";
        assert!(err(missing).contains("crest letter exactly when"));
        let syntax = "[[term]]\nname = \"x\"\ncategory = \n";
        assert!(err(syntax).starts_with("lex.toml:3: "), "{}", err(syntax));
        let unknown = "[[term]]\nname = \"x\"\ncategory = \"site\"\nsynonym = []\n";
        assert!(err(unknown).contains("unknown field"), "{}", err(unknown));
        let long = format!(
            "[[term]]\nname = \"x\"\ncategory = \"site\"\n\n[[term]]\nname = \"y\"\ncategory = \"site\"\nsynonyms = [\"{}\"]\n",
            "w".repeat(40_000)
        );
        assert!(
            err(&long).starts_with("lex.toml:8: 'wwww")
                && err(&long).contains("is 40000 bytes long: a term's name, synonym or abbreviation may have at most 200"),
            "{}",
            err(&long)
        );
    }

    /// Regression: line numbers were counted from the file start for every term.
    #[test]
    fn line_numbers_of_a_large_lexicon() {
        let mut source = String::new();
        for i in 0..20_000 {
            source.push_str(&format!(
                "[[term]]\nname = \"term {i}\"\ncategory = \"site\"\n\n"
            ));
        }
        let lex = Lexicon::parse("big.toml", &source).unwrap();
        assert_eq!(lex.terms().len(), 20_000);
        assert_eq!(lex.term(0).line, 2);
        assert_eq!(lex.term(19_999).line, 4 * 19_999 + 2);
    }

    /// The file is parsed one table at a time; where that cannot be done faithfully, as a
    /// whole, with the same result and TOML's own errors.
    #[test]
    fn parsed_table_by_table_with_the_whole_file_as_fallback() {
        let term = |n: &str| format!("[[term]]\nname = \"{n}\"\ncategory = \"site\"\n");
        // A description holding a header line is one string, not a new term.
        let src = format!(
            "{}description = \"\"\"\n[[term]]\nname = 'x'\n\"\"\"\n{}",
            term("a"),
            term("b")
        );
        let lex = Lexicon::parse("l", &src).unwrap();
        assert_eq!(lex.terms().len(), 2);
        assert!(lex.term(0).description.contains("[[term]]"));
        assert_eq!(lex.term(1).line, 9);
        // A syntax error in a late table: the whole file's error, with its line.
        let bad = format!(
            "{}{}[[term]]\nname = \"c\"\ncategory = \n",
            term("a"),
            term("b")
        );
        assert!(err(&bad).starts_with("lex.toml:9: "), "{}", err(&bad));
        // [fuzzy] twice is an error, as in the whole file, not two tables merged.
        let twice = format!(
            "[fuzzy]\nignore = [\"a\"]\n{}[fuzzy]\nignore = [\"b\"]\n",
            term("a")
        );
        assert!(err(&twice).starts_with("lex.toml:"), "{}", err(&twice));
        let once = format!("[fuzzy]\nignore = [\"Abc\"]\n{}", term("a"));
        assert_eq!(Lexicon::parse("l", &once).unwrap().fuzzy_ignored(), ["abc"]);
        // Extending keeps what was loaded before a fallback, and only that.
        let mut lex = Lexicon::parse("l", &term("a")).unwrap();
        lex.extend("m", &format!("{}{}", term("b"), "x = [\n[1]\n]\n"))
            .unwrap_err();
        assert_eq!(lex.terms().len(), 1);
        assert_eq!(lex.find("b"), None);
        assert_eq!(lex.find("a"), Some(0));
    }

    #[test]
    fn find_by_any_form() {
        let lex = Lexicon::parse(
            "l",
            "[[term]]\nname = \"acro-osteolysis\"\ncategory = \"clinical-feature\"\nabbreviations = [\"AO\"]\n",
        )
        .unwrap();
        assert_eq!(lex.find("Acro osteolysis"), Some(0));
        assert_eq!(lex.find("ao"), Some(0));
        assert_eq!(lex.find("zzz"), None);
    }

    /// Codes are read, checked for their form, and a term without them has none; a code
    /// not written as its system writes it names the file, line and what to fix.
    #[test]
    fn codes_are_read_and_checked() {
        let term = |extra: &str| {
            format!("[[term]]\nname = \"calcinosis\"\ncategory = \"crest-feature\"\ncrest = \"C\"\n{extra}")
        };
        let lex = Lexicon::parse("l", &term("icd10cm = \"L94.2\"\n")).unwrap();
        assert_eq!(lex.term(0).codes.icd10cm.as_deref(), Some("L94.2"));
        assert_eq!(lex.term(0).codes.snomedct, None);
        assert!(Lexicon::parse("l", &term(""))
            .unwrap()
            .term(0)
            .codes
            .is_empty());
        for bad in ["l94.2", "L94.", "L9", "L94.23456", "L94-2", "942"] {
            let e = Lexicon::parse("l", &term(&format!("icd10cm = \"{bad}\"\n")))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("l:5: ") && e.contains("ICD-10-CM"), "{e}");
        }
        for good in ["M34.1", "I73.00", "M35", "S52.521A", "M1A.0"] {
            assert!(is_icd10cm_form(good), "{good}");
        }
        // The SNOMED CT root concept and "Clinical finding"; a changed digit or a swap of
        // neighbours breaks the Verhoeff check.
        for good in ["138875005", "404684003"] {
            assert!(is_sctid_form(good), "{good}");
        }
        for bad in ["138875006", "138857005", "12345", "0138875005", "13887500x"] {
            assert!(!is_sctid_form(bad), "{bad}");
        }
        let e = Lexicon::parse("l", &term("snomedct = \"138875006\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("Verhoeff"), "{e}");
    }
}
