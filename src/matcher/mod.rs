//! The term matcher: one Aho-Corasick automaton over every surface form of every lexicon
//! term (with generated hyphen variants), plus a bounded fuzzy pass that reports likely
//! misspellings of long words. Plural and possessive endings ("Raynauds", "Raynaud's",
//! "telangiectasias") are recognised after a match rather than listed as patterns: five
//! patterns per form made a 100,000-term lexicon's automaton a million patterns.
//!
//! Invariants: matches are whole words; overlapping matches resolve to the longest;
//! abbreviations match only in their written case (or all upper case when 4+ letters);
//! a misspelling is only ever reported for a word that is not itself a listed form.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::ops::Range;

use crate::corpus::lexicon::{form_key, FormKind, Lexicon, TermId};
use crate::text::{whole_word_matches_by, Haystack, Normalized, WordSearcher};

mod fuzzy;
mod words;

pub use fuzzy::MIN_FUZZY_LEN;
use fuzzy::{collect_ignored, fuzzy_eligible, strip_possessive, FuzzyCandidate};
pub use words::word_spans;

/// A term found in a piece of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// Byte range in the text given to the matcher.
    pub range: Range<usize>,
    /// The term.
    pub term: TermId,
    /// Whether it matched a name, synonym or abbreviation.
    pub form: FormKind,
    /// Whether it is a likely misspelling of the term rather than a listed form.
    pub misspelling: bool,
    /// For a misspelling: the listed form it most likely meant ("Raynaud's").
    pub suggestion: Option<String>,
}

#[derive(Debug, Clone)]
struct Pattern {
    term: TermId,
    kind: FormKind,
    /// For case-sensitive forms: the bytes that must match exactly (the abbreviation as
    /// written; a plural or possessive ending after it is not part of the pattern).
    exact_prefix: Option<String>,
    /// Which endings may follow the form.
    endings: Endings,
}

/// The plural and possessive endings a form takes after a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endings {
    /// None: the form ends in a digit or a sign, or is already possessive.
    None,
    /// `'s`, `s'`, `s` (abbreviations: "DUs", "RP's").
    NoEs,
    /// `'s`, `s'`, `es`, `s`.
    All,
}

impl Endings {
    fn of(form: &str, abbreviation: bool) -> Endings {
        let ends_in_letter = form.chars().next_back().is_some_and(|c| c.is_alphabetic());
        match (ends_in_letter && !form.ends_with("'s"), abbreviation) {
            (false, _) => Endings::None,
            (true, true) => Endings::NoEs,
            (true, false) => Endings::All,
        }
    }

    /// The endings to try, longest first (a longer ending is the longer match).
    fn suffixes(self) -> &'static [&'static str] {
        match self {
            Endings::None => &[],
            Endings::NoEs => &["'s", "s'", "s"],
            Endings::All => &["'s", "s'", "es", "s"],
        }
    }
}

/// Finds lexicon terms in text. Build once per lexicon; matching is read-only and `Sync`.
#[derive(Debug, Clone)]
pub struct TermMatcher {
    /// Distinguishes matchers in the per-thread memo.
    id: usize,
    automaton: WordSearcher,
    patterns: Vec<Pattern>,
    fuzzy: HashMap<char, Vec<FuzzyCandidate>>,
    /// Per ASCII first letter: the shortest and longest first word of its fuzzy candidates,
    /// so that most words are ruled out before any lookup.
    fuzzy_lengths: [Option<(usize, usize)>; 26],
    /// Every word of every form (lower case, possessive stripped): never a misspelling.
    exact_words: HashSet<String>,
    /// The last words of forms that take endings, with whether `es` is one of them: their
    /// plurals are exact words too.
    plural_stems: HashMap<String, bool>,
    fuzzy_ignore: HashSet<String>,
}

thread_local! {
    /// The searched text in ASCII lower case (reused: one sentence at a time).
    static LOWER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Spelling variants of one listed form: hyphens as spaces or joined.
fn variants(form: &str) -> Vec<String> {
    let mut out = vec![form.to_string()];
    if form.contains('-') {
        out.push(form.replace('-', " "));
        out.push(form.replace('-', ""));
    }
    out
}

/// Patterns up to which the automaton is a DFA. A DFA is the fastest to search (the
/// built-in lexicon's few hundred patterns make a small one), but its size grows with
/// the patterns times the alphabet: a 100,000-term user lexicon (then about a million
/// patterns with their variants) took 3.8 GB and 11 s to build. Past this, a contiguous
/// NFA: a little slower per byte, linear in the patterns.
const MAX_DFA_PATTERNS: usize = 20_000;

/// Pattern bytes up to which the automaton is a DFA. A DFA has about one state per pattern
/// byte, each a row of transitions (one per byte class), and is built twice (see
/// [`WordSearcher`]): 15,000 patterns of 200 bytes, well under [`MAX_DFA_PATTERNS`], took
/// 1.64 GB. The built-in lexicon's patterns come to a few KB.
const MAX_DFA_PATTERN_BYTES: usize = 256 * 1024;

fn automaton_kind(patterns: usize, bytes: usize) -> aho_corasick::AhoCorasickKind {
    if patterns <= MAX_DFA_PATTERNS && bytes <= MAX_DFA_PATTERN_BYTES {
        aho_corasick::AhoCorasickKind::DFA
    } else {
        aho_corasick::AhoCorasickKind::ContiguousNFA
    }
}

impl TermMatcher {
    /// Builds the automaton and fuzzy tables for `lexicon`.
    pub fn new(lexicon: &Lexicon) -> TermMatcher {
        let mut texts: Vec<String> = Vec::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::default();
        let mut exact_words = HashSet::default();
        let mut plural_stems = HashMap::default();
        let mut fuzzy: HashMap<char, Vec<FuzzyCandidate>> = HashMap::default();
        for form in lexicon.forms() {
            let abbreviation = form.kind == FormKind::Abbreviation;
            // Normalised as note text is (white-space runs, curly apostrophes).
            let text = Normalized::new(form.text.trim()).text;
            for variant in variants(&text) {
                let key = variant.to_ascii_lowercase();
                let endings = Endings::of(&variant, abbreviation);
                let mut words = key
                    .split(|c: char| !crate::text::is_word_char(c) && c != '\'')
                    .peekable();
                while let Some(w) = words.next() {
                    if words.peek().is_none() && endings != Endings::None {
                        let es = endings == Endings::All;
                        let known = plural_stems.entry(w.to_string()).or_insert(es);
                        *known |= es;
                    }
                    if !exact_words.contains(strip_possessive(w)) {
                        exact_words.insert(strip_possessive(w).to_string());
                    }
                }
                if seen.contains_key(&key) {
                    continue;
                }
                seen.insert(key.clone(), patterns.len());
                patterns.push(Pattern {
                    term: form.term,
                    kind: form.kind,
                    exact_prefix: abbreviation.then_some(variant),
                    endings,
                });
                texts.push(key);
            }
            let term = lexicon.term(form.term);
            // A lay description is common words: a near miss of it is not a misspelling.
            if !abbreviation && form.kind != FormKind::Lay && fuzzy_eligible(term.category) {
                let key = form_key(&text);
                let mut words = key.split(' ').map(|w| strip_possessive(w).to_string());
                if let Some(first) = words.next() {
                    if first.chars().count() >= MIN_FUZZY_LEN
                        && first.chars().all(char::is_alphabetic)
                    {
                        let c = first.chars().next().unwrap_or(' ');
                        fuzzy.entry(c).or_default().push(FuzzyCandidate {
                            form: text.clone(),
                            first,
                            rest: words.collect(),
                            term: form.term,
                            kind: form.kind,
                        });
                    }
                }
            }
        }
        // Patterns and searched text are ASCII lower case: an ASCII-case-insensitive
        // automaton doubles every letter's transitions (on a 100,000-term lexicon, 3x the
        // build time and 40 MB more at its peak).
        let automaton = WordSearcher::new(
            &texts,
            automaton_kind(texts.len(), texts.iter().map(String::len).sum()),
            false,
        )
        .expect("lexicon patterns are plain strings and always build");
        static NEXT_ID: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        let mut fuzzy_lengths = [None; 26];
        for (c, cands) in &fuzzy {
            if c.is_ascii_lowercase() {
                let lens = cands.iter().map(|c| c.first.len());
                fuzzy_lengths[(*c as u8 - b'a') as usize] = lens.clone().min().zip(lens.max());
            }
        }
        TermMatcher {
            fuzzy_lengths,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            automaton,
            patterns,
            fuzzy,
            exact_words,
            plural_stems,
            fuzzy_ignore: collect_ignored(lexicon),
        }
    }

    /// Identifies this matcher (and so the lexicon it was built from) for caches.
    pub(crate) fn id(&self) -> usize {
        self.id
    }

    /// Finds every term in `text` (any text: a note sentence, a question).
    pub fn find(&self, text: &str) -> Vec<Mention> {
        let norm = Normalized::new(text);
        let mut out = Vec::new();
        self.find_normalized(&norm.text, &mut out);
        for m in &mut out {
            m.range = norm.to_original(m.range.start)..norm.to_original(m.range.end);
        }
        out
    }

    /// Finds every term in already-normalised text, appending to `out` in text order.
    pub fn find_normalized(&self, text: &str, out: &mut Vec<Mention>) {
        LOWER.with(|lower| {
            let mut buffer = lower.borrow_mut();
            Haystack::new(text).lowercase_into(&mut buffer);
            self.find_lowered(text, &buffer, out);
            // A note that is one endless sentence must not keep its copy for good.
            if buffer.capacity() > 1 << 20 {
                *buffer = String::new();
            }
        });
    }

    /// [`TermMatcher::find_normalized`] given `lower`, `text` in ASCII lower case (which
    /// keeps every byte offset, so matches in it are matches in `text`): the analysis
    /// lower-cases a whole piece of a note once rather than each sentence.
    pub(crate) fn find_lowered(&self, text: &str, lower: &str, out: &mut Vec<Mention>) {
        debug_assert_eq!(text.len(), lower.len());
        let first = out.len();
        let accept = |m: aho_corasick::Match| self.with_ending(lower, m);
        for m in whole_word_matches_by(&self.automaton, lower, accept) {
            let (s, e) = (m.start(), m.end());
            let p = &self.patterns[m.pattern().as_usize()];
            if let Some(exact) = &p.exact_prefix {
                let got = &text[s..s + exact.len()];
                // (Upper case is only worked out for a form not written as listed.)
                if got != exact && !(exact.len() >= 4 && got == exact.to_uppercase()) {
                    continue;
                }
            }
            out.push(Mention {
                range: s..e,
                term: p.term,
                form: p.kind,
                misspelling: false,
                suggestion: None,
            });
        }
        if !self.fuzzy.is_empty() {
            self.find_misspellings(text, first, out);
        }
    }

    /// The match as a whole word, with the longest plural or possessive ending its form
    /// takes that follows it ("Raynaud" + "'s"), or `None` when it is part of a longer word.
    fn with_ending(&self, text: &str, m: aho_corasick::Match) -> Option<aho_corasick::Match> {
        let endings = self.patterns[m.pattern().as_usize()].endings;
        let rest = &text.as_bytes()[m.end()..];
        for suffix in endings.suffixes() {
            let end = m.end() + suffix.len();
            if rest.len() >= suffix.len()
                && rest[..suffix.len()].eq_ignore_ascii_case(suffix.as_bytes())
                && Haystack::new(text).is_whole_word(m.start(), end)
            {
                return Some(aho_corasick::Match::new(m.pattern(), m.start()..end));
            }
        }
        Haystack::new(text)
            .is_whole_word(m.start(), m.end())
            .then_some(m)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::corpus::Corpus;

    pub(crate) fn matcher() -> (TermMatcher, Lexicon) {
        let c = Corpus::embedded().unwrap();
        (TermMatcher::new(&c.lexicon), c.lexicon)
    }

    pub(crate) fn names(text: &str) -> Vec<(String, String, bool)> {
        let (m, lex) = matcher();
        m.find(text)
            .into_iter()
            .map(|x| {
                (
                    text[x.range].to_string(),
                    lex.term(x.term).name.clone(),
                    x.misspelling,
                )
            })
            .collect()
    }

    #[test]
    fn variants_possessives_plurals_and_longest_match() {
        let got = names("Raynauds, Raynaud’s\nphenomenon and telangiectases; limited cutaneous systemic sclerosis.");
        assert_eq!(got[0].1, "Raynaud's phenomenon");
        assert_eq!(got[1].0, "Raynaud’s\nphenomenon");
        assert_eq!(got[2].1, "telangiectasia");
        assert_eq!(got[3].1, "limited cutaneous systemic sclerosis");
        assert_eq!(got.len(), 4);
        assert_eq!(
            names("acro osteolysis and acroosteolysis")[1].1,
            "acro-osteolysis"
        );
    }

    #[test]
    fn false_friends_and_case_sensitive_abbreviations() {
        assert!(names("tender over the crest of the ilium; calcium 9.8; RPR negative").is_empty());
        assert!(names("rp and jdm and ssc in lower case").is_empty());
        let got = names("RP, JDM, lcSSc, LCSSC, CREST");
        let terms: Vec<&str> = got.iter().map(|g| g.1.as_str()).collect();
        assert_eq!(
            terms,
            [
                "Raynaud's phenomenon",
                "juvenile dermatomyositis",
                "limited cutaneous systemic sclerosis",
                "limited cutaneous systemic sclerosis",
                "CREST syndrome"
            ]
        );
    }
}
