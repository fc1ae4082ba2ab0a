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

use crate::corpus::lexicon::{form_key, Category, FormKind, Lexicon, TermId};
use crate::text::{
    ascii_in_range, ascii_lowercase_into, is_whole_word, whole_word_matches_by, word_at,
    word_at_padded, Normalized, WordSearcher, HIGH, ONES,
};

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

#[derive(Debug, Clone)]
struct FuzzyCandidate {
    /// The form as listed, the correction offered.
    form: String,
    first: String,
    rest: Vec<String>,
    term: TermId,
    kind: FormKind,
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

/// How many words the per-thread correction memo holds before it starts over.
const MEMO_CAPACITY: usize = 65_536;

/// The per-thread memo of [`TermMatcher::candidates`] by word. Words of up to sixteen
/// bytes (nearly all) are keyed by their bytes packed into one integer: hashing and
/// comparing a key is then a few instructions, with no string compare or copy.
#[derive(Default)]
struct Memo {
    short: HashMap<u128, Candidates>,
    long: HashMap<String, Candidates>,
}

impl Memo {
    /// Up to sixteen bytes, little-endian, zero-padded: unique for words without a zero byte.
    /// (Memo words are lower case already: the folding changes nothing in them.)
    fn key(word: &str) -> Option<u128> {
        debug_assert!(!word.as_bytes().contains(&0), "memo words are letters");
        Memo::key_folded(word.as_bytes())
    }

    /// [`Memo::key`] of the ASCII-lower-cased `word`, read straight off the text: two
    /// eight-byte loads, no copy.
    fn key_folded(word: &[u8]) -> Option<u128> {
        if word.len() > 16 {
            return None;
        }
        // 0x80 >> 2 is the case bit, 0x20, in each upper-case byte.
        let fold = |x: u64| x | (ascii_in_range(x, b'A', b'Z') >> 2);
        let (lo, hi) = (word_at_padded(word, 0), word_at_padded(word, 8));
        Some(u128::from(fold(lo)) | u128::from(fold(hi)) << 64)
    }

    /// Whether the word with this key is known to be near nothing (most words).
    fn near_nothing(&self, key: u128) -> bool {
        self.short
            .get(&key)
            .is_some_and(|c| c.word.is_empty() && c.stem.is_empty())
    }

    fn get(&self, word: &str) -> Option<&Candidates> {
        match Memo::key(word) {
            Some(k) => self.short.get(&k),
            None => self.long.get(word),
        }
    }

    fn insert(&mut self, word: &str, c: Candidates) {
        if self.short.len() + self.long.len() >= MEMO_CAPACITY {
            self.clear();
        }
        match Memo::key(word) {
            Some(k) => self.short.insert(k, c),
            None => self.long.insert(word.to_string(), c),
        };
    }

    fn clear(&mut self) {
        self.short.clear();
        self.long.clear();
    }
}

/// A fuzzy candidate near a word: `(distance, bucket index, further words of the form)`.
type Near = (usize, usize, usize);

/// The fuzzy candidates of one word, as written and as a plural stem (both empty for a
/// listed or ignored word, and for most words).
#[derive(Debug, Clone, Default)]
struct Candidates {
    word: Vec<Near>,
    stem: Vec<Near>,
}

thread_local! {
    /// The searched text in ASCII lower case (reused: one sentence at a time).
    static LOWER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };

    /// The fuzzy candidates near each word already looked at (notes repeat their words;
    /// most words are near nothing). Whether a multi-word candidate applies depends on the
    /// words that follow, so that is checked per occurrence, cheaply, on this short list.
    /// Per thread, so matching stays lock-free; keyed by word only, so it is cleared when a
    /// thread switches to another matcher.
    static MEMO: std::cell::RefCell<Memo> = Default::default();
    static MEMO_OWNER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Shortest word (in letters) checked for misspellings: shorter words have too many
/// legitimate neighbours.
pub const MIN_FUZZY_LEN: usize = 7;

fn fuzzy_eligible(c: Category) -> bool {
    c != Category::AdHoc
}

/// The word without a trailing possessive or plural apostrophe: `raynaud's` → `raynaud`.
fn strip_possessive(word: &str) -> &str {
    word.strip_suffix("'s")
        .or_else(|| word.strip_suffix("s'"))
        .or_else(|| word.strip_suffix('\''))
        .unwrap_or(word)
}

/// The length of `word` without a trailing possessive or plural apostrophe, in any case:
/// `strip_possessive` of its lower case, measured on the word as written.
fn without_possessive(word: &[u8]) -> usize {
    let s = |c: u8| c.eq_ignore_ascii_case(&b's');
    match word {
        [.., b'\'', c] if s(*c) => word.len() - 2,
        [.., c, b'\''] if s(*c) => word.len() - 2,
        [.., b'\''] => word.len() - 1,
        _ => word.len(),
    }
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
            ascii_lowercase_into(text, &mut buffer);
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
                && is_whole_word(text, m.start(), end)
            {
                return Some(aho_corasick::Match::new(m.pattern(), m.start()..end));
            }
        }
        is_whole_word(text, m.start(), m.end()).then_some(m)
    }

    /// Whether `word` (lower case, possessive stripped) is a word of a listed form, or the
    /// plural of the last word of one that takes endings.
    fn is_exact_word(&self, word: &str) -> bool {
        self.exact_words.contains(word)
            || word
                .strip_suffix('s')
                .is_some_and(|stem| self.plural_stems.contains_key(stem))
            || word
                .strip_suffix("es")
                .is_some_and(|stem| self.plural_stems.get(stem) == Some(&true))
    }

    /// The fuzzy candidates within reach of `word` (same first letter, distance 1, or 2 from
    /// ten letters), in bucket order.
    fn near(&self, word: &str) -> Vec<Near> {
        let Some(cands) = word.chars().next().and_then(|c| self.fuzzy.get(&c)) else {
            return Vec::new();
        };
        let max = if word.len() >= 10 { 2 } else { 1 };
        let mut out = Vec::new();
        for (idx, c) in cands.iter().enumerate() {
            if c.first.len().abs_diff(word.len()) > max {
                continue;
            }
            // Optimal string alignment: edits and adjacent transpositions, without the
            // allocation-heavy unrestricted Damerau distance.
            let d = strsim::osa_distance(word, &c.first);
            if d > 0 && d <= max {
                out.push((d, idx, c.rest.len()));
            }
        }
        out
    }

    /// The best of the `near` candidates whose further words follow, as `(extra words,
    /// bucket index)`: more words matched first, then the smaller distance, then the
    /// earlier candidate.
    fn pick(&self, word: &str, near: &[Near], following: &Following<'_>) -> Option<(usize, usize)> {
        let bucket = word.chars().next().and_then(|c| self.fuzzy.get(&c))?;
        let mut best: Option<(usize, usize, usize)> = None;
        for &(d, idx, extra) in near {
            let follows = extra == 0
                || bucket[idx].rest.iter().enumerate().all(|(k, rw)| {
                    following.words().get(k).is_some_and(|r| {
                        strip_possessive(&following.text[r.clone()].to_ascii_lowercase()) == rw
                    })
                });
            if !follows {
                continue;
            }
            let better = match best {
                None => true,
                Some((bd, bw, _)) => extra > bw || (extra == bw && d < bd),
            };
            if better {
                best = Some((d, extra, idx));
            }
        }
        best.map(|(_, extra, idx)| (extra, idx))
    }

    /// [`TermMatcher::candidates`], memoised: one lookup per word decides everything that
    /// does not depend on the words around it. `None` for a word near nothing (most
    /// words), without copying anything.
    fn near_memo(&self, word: &str) -> Option<Candidates> {
        let known = MEMO.with(|m| {
            m.borrow()
                .get(word)
                .map(|c| (!c.word.is_empty() || !c.stem.is_empty()).then(|| c.clone()))
        });
        if let Some(known) = known {
            return known;
        }
        let candidates = self.candidates(word);
        let near = (!candidates.word.is_empty() || !candidates.stem.is_empty())
            .then(|| candidates.clone());
        MEMO.with(|m| m.borrow_mut().insert(word, candidates));
        near
    }

    /// The fuzzy candidates of `word` (lower case, possessive stripped) as written and as
    /// a plural stem ("Reynauds" → "Reynaud" + "s").
    fn candidates(&self, word: &str) -> Candidates {
        // Candidates share the word's first letter: most words have none to look up.
        let listed = self.is_exact_word(word) || self.fuzzy_ignore.contains(word);
        if listed
            || !word
                .chars()
                .next()
                .is_some_and(|c| self.fuzzy.contains_key(&c))
        {
            return Candidates::default();
        }
        let stem = word
            .strip_suffix('s')
            .filter(|w| w.len() >= MIN_FUZZY_LEN)
            .map(|stem| self.near(stem))
            .unwrap_or_default();
        Candidates {
            word: self.near(word),
            stem,
        }
    }

    /// The best correction for `word` (tried as written, then as a plural stem):
    /// `(extra words, bucket index, stem length)`.
    fn correction(&self, word: &str, following: &Following<'_>) -> Option<(usize, usize, usize)> {
        let near = self.near_memo(word)?;
        if let Some((extra, idx)) = self.pick(word, &near.word, following) {
            return Some((extra, idx, word.len()));
        }
        let stem = &word[..word.len() - 1];
        let (extra, idx) = self.pick(stem, &near.stem, following)?;
        Some((extra, idx, stem.len()))
    }

    /// Adds misspelled mentions for words not covered by exact matches.
    fn find_misspellings(&self, text: &str, first: usize, out: &mut Vec<Mention>) {
        if MEMO_OWNER.with(|o| o.replace(self.id)) != self.id {
            MEMO.with(|m| m.borrow_mut().clear());
        }
        let exact = &out[first..];
        let mut found = Vec::new();
        // Lower-cased words: on the stack (a heap buffer per sentence was 40,000 allocations
        // per 2 MB of notes), in a string for the rare word longer than that.
        let mut short = [0u8; 64];
        let mut long = String::new();
        let mut consumed = 0;
        let mut next_exact = 0;
        for w in long_words(text, MIN_FUZZY_LEN) {
            // Exact matches are sorted and words come in order: skip the ones behind.
            while next_exact < exact.len() && exact[next_exact].range.end <= w.start {
                next_exact += 1;
            }
            let overlaps = exact.get(next_exact).is_some_and(|m| m.range.start < w.end);
            if w.start < consumed || overlaps {
                continue;
            }
            let raw = &text[w.clone()];
            // Possessive and plural stripping shorten a word by at most three letters, and
            // a candidate is at most two edits away: rule the rest out by length.
            let window =
                self.fuzzy_lengths[(raw.as_bytes()[0].to_ascii_lowercase() - b'a') as usize];
            if !window.is_some_and(|(min, max)| min <= raw.len() + 2 && raw.len() <= max + 5) {
                continue;
            }
            // Most words are known to be near nothing: decided by a memo key read off the
            // text, before any copy.
            let body = &raw.as_bytes()[..without_possessive(raw.as_bytes())];
            if body.len() < MIN_FUZZY_LEN || !body.iter().all(u8::is_ascii_alphabetic) {
                continue;
            }
            if Memo::key_folded(body).is_some_and(|k| MEMO.with(|m| m.borrow().near_nothing(k))) {
                continue;
            }
            // Long words are ASCII letters (and an apostrophe): lower-case them bytewise.
            let lower = match short.get_mut(..raw.len()) {
                Some(buffer) => {
                    buffer.copy_from_slice(raw.as_bytes());
                    buffer.make_ascii_lowercase();
                    std::str::from_utf8(buffer).unwrap_or_default()
                }
                None => {
                    long.clear();
                    long.push_str(raw);
                    long.make_ascii_lowercase();
                    long.as_str()
                }
            };
            // (The lower case of `body`: long enough, letters only.)
            let word = strip_possessive(lower);
            let following = Following {
                text,
                after: w.end,
                words: std::cell::OnceCell::new(),
            };
            let Some((extra, idx, stem_len)) = self.correction(word, &following) else {
                continue;
            };
            let Some(c) = word
                .chars()
                .next()
                .and_then(|f| self.fuzzy.get(&f))
                .and_then(|b| b.get(idx))
            else {
                continue;
            };
            {
                let end = if extra > 0 {
                    following.words()[extra - 1].end
                } else {
                    w.end
                };
                // A multi-word correction must not swallow an exact match further on
                // ("djffuse scleroderma": "scleroderma" is already a finding).
                // (Sorted by start: only the ones starting before `end` can overlap.)
                if exact[next_exact..]
                    .iter()
                    .take_while(|m| m.range.start < end)
                    .any(|m| w.start < m.range.end)
                {
                    continue;
                }
                consumed = end;
                // Keep the writer's ending on a one-word correction ("Reynaud's" →
                // "Raynaud's") and their capitals ("Telangectasia" → "Telangiectasia").
                let suggestion = if extra > 0 {
                    c.form.clone()
                } else {
                    format!("{}{}", strip_possessive(&c.form), &raw[stem_len..])
                };
                let suggestion = match_case(raw, suggestion);
                found.push(Mention {
                    range: w.start..end,
                    term: c.term,
                    form: c.kind,
                    misspelling: true,
                    suggestion: Some(suggestion),
                });
            }
        }
        if !found.is_empty() {
            out.extend(found);
            out[first..].sort_by_key(|m| m.range.start);
        }
    }
}

/// Writes `suggestion` in the case the writer used: all capitals, or a capital first letter.
fn match_case(written: &str, suggestion: String) -> String {
    let letters = || written.chars().filter(|c| c.is_alphabetic());
    if letters().count() > 1 && letters().all(char::is_uppercase) {
        return suggestion.to_uppercase();
    }
    let mut chars = suggestion.chars();
    match (written.chars().next(), chars.next()) {
        (Some(w), Some(first)) if w.is_uppercase() && first.is_lowercase() => {
            first.to_uppercase().chain(chars).collect()
        }
        _ => suggestion,
    }
}

fn collect_ignored(lexicon: &Lexicon) -> HashSet<String> {
    // The lexicon answers one word at a time; collect the list once for O(1) lookups.
    lexicon
        .fuzzy_ignored()
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

/// The words after a candidate misspelling, worked out only when a multi-word form needs them.
struct Following<'a> {
    text: &'a str,
    after: usize,
    words: std::cell::OnceCell<Vec<Range<usize>>>,
}

impl Following<'_> {
    /// Up to the next eight words, as ranges of the whole text.
    fn words(&self) -> &[Range<usize>] {
        self.words.get_or_init(|| {
            // Only the next few words: scanning the rest of a long sentence for every
            // candidate would make a run-on note with many misspellings quadratic.
            word_spans_limited(&self.text[self.after..], 8)
                .into_iter()
                .map(|r| r.start + self.after..r.end + self.after)
                .collect()
        })
    }
}

/// Runs of at least `min` ASCII letters that stand as whole words, with a trailing
/// possessive ("Reynaud's", "patients'") included. The misspelling pass only looks at these,
/// so it skips the short and the non-ASCII words of a note without slicing them out.
fn long_words(text: &str, min: usize) -> impl Iterator<Item = Range<usize>> + '_ {
    let b = text.as_bytes();
    let joined = |c: Option<char>| c.is_some_and(|c| crate::text::is_word_char(c) || c == '-');
    let mut i = 0;
    let mut runs = LongRuns::new(min);
    std::iter::from_fn(move || {
        while let Some(start) = runs.next(b, i) {
            i = skip(b, start, true);
            let end = with_possessive(b, i);
            i = end;
            // The "s" of a possessive ("X's…") ends the word before it: letters right after
            // it are not a word of their own.
            if possessive_s(b, start) {
                continue;
            }
            let before = text[..start].chars().next_back();
            let after = text[end..].chars().next();
            if !joined(before) && !joined(after) && after != Some('\'') {
                return Some(start..end);
            }
        }
        None
    })
}

/// The end of the word ending at `end` with its possessive ending, if any ("X's", "Xs'").
fn with_possessive(b: &[u8], end: usize) -> usize {
    if b[end..].starts_with(b"'s") {
        end + 2
    } else if b.get(end) == Some(&b'\'') && b[end - 1] == b's' {
        end + 1
    } else {
        end
    }
}

/// Whether the `s` at `p` is the possessive ending of the word before it ("X's"), as the
/// run-by-run scan reads it: the word before ends at the apostrophe unless it is itself
/// only such an `s` ("X's's": the second `s` starts a word).
fn possessive_s(b: &[u8], mut p: usize) -> bool {
    let letter = |q: usize| b[q].is_ascii_alphabetic();
    let ending = |q: usize| q >= 2 && b[q] == b's' && b[q - 1] == b'\'' && letter(q - 2);
    let mut flipped = false;
    loop {
        if !ending(p) {
            return flipped;
        }
        // The word before: one letter long (then it counts only if it is not an ending
        // itself), or longer.
        let single = p == 2 || !letter(p - 3);
        if !single {
            return !flipped;
        }
        flipped = !flipped;
        p -= 2;
    }
}

/// Where runs of at least `min` ASCII letters start, sixty-four bytes at a time as a bit
/// mask: most words are shorter than `min`, and stepping over them one run at a time was
/// the misspelling pass's main cost.
struct LongRuns {
    min: usize,
    /// Where the current block starts, and bit p: `min` letters start at `base + p`.
    base: usize,
    runs: u64,
    /// Whether a block has been read.
    read: bool,
}

impl LongRuns {
    fn new(min: usize) -> LongRuns {
        assert!((1..=32).contains(&min));
        LongRuns {
            min,
            base: 0,
            runs: 0,
            read: false,
        }
    }

    /// The first `p` ≥ `i` where a run of `min` letters starts (`p == i` or a non-letter
    /// before it). `i` never decreases and is never inside such a run.
    fn next(&mut self, b: &[u8], i: usize) -> Option<usize> {
        // A run must fit in a block to be seen: blocks overlap by `min - 1` bytes.
        let step = 64 - (self.min - 1);
        loop {
            if self.read && i < self.base + step {
                let from = i.saturating_sub(self.base);
                let left = self.runs & (u64::MAX << from);
                if left != 0 {
                    return Some(self.base + left.trailing_zeros() as usize);
                }
                if self.base + 64 >= b.len() {
                    return None; // the block reached the end
                }
            }
            let base = if self.read {
                i.max(self.base + step)
            } else {
                i
            };
            if base >= b.len() {
                return None;
            }
            self.read_block(b, base);
        }
    }

    fn read_block(&mut self, b: &[u8], base: usize) {
        let mut mask = 0u64;
        for k in 0..8 {
            let at = base + 8 * k;
            if at >= b.len() {
                break;
            }
            let x = word_at_padded(b, at);
            let letters = ascii_in_range(x | (0x20 * ONES), b'a', b'z');
            // One bit per byte: the high bits gathered into the top byte, then moved down.
            mask |= ((letters >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
        }
        let mut have = 1;
        while have < self.min {
            let shift = have.min(self.min - have);
            mask &= mask >> shift;
            have += shift;
        }
        self.base = base;
        self.runs = mask;
        self.read = true;
    }
}

/// The first index at or after `i` where `b` has (`letters` false) or stops having
/// (`letters` true) an ASCII letter; `b.len()` if none. Eight bytes at a time: this scan
/// over every byte of a note was 6 % of the analysis done one byte at a time.
fn skip(b: &[u8], mut i: usize, letters: bool) -> usize {
    while i + 8 <= b.len() {
        // ASCII letters: bytes whose lower case (| 0x20) lies in 'a'..='z'.
        let x = word_at(&b[i..]);
        let is_letter = ascii_in_range(x | (0x20 * ONES), b'a', b'z');
        let wanted = if letters {
            !is_letter & HIGH
        } else {
            is_letter
        };
        if wanted != 0 {
            return i + (wanted.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && b[i].is_ascii_alphabetic() == letters {
        i += 1;
    }
    i
}

/// Byte ranges of the words of `text`: letters and digits, with inner apostrophes and
/// hyphens kept ("Raynaud's", "acro-osteolysis").
pub fn word_spans(text: &str) -> Vec<Range<usize>> {
    word_spans_limited(text, usize::MAX)
}

/// The first `limit` of [`word_spans`], without looking further into `text`.
fn word_spans_limited(text: &str, limit: usize) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    // Whether the character starting at byte `i` belongs to a word (ASCII fast path).
    let alnum_at = |i: usize| crate::text::word_char_at(text, i);
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let width = if b.is_ascii() {
            1
        } else {
            text[i..].chars().next().map_or(1, char::len_utf8)
        };
        let joins = (b == b'\'' || b == b'-') && start.is_some() && alnum_at(i + 1);
        if joins || alnum_at(i) {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            out.push(s..i);
            if out.len() >= limit {
                return out;
            }
        }
        i += width;
    }
    if let Some(s) = start {
        out.push(s..text.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Corpus;

    fn matcher() -> (TermMatcher, Lexicon) {
        let c = Corpus::embedded().unwrap();
        (TermMatcher::new(&c.lexicon), c.lexicon)
    }

    fn names(text: &str) -> Vec<(String, String, bool)> {
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

    #[test]
    fn skipping_eight_bytes_at_a_time_equals_one_at_a_time() {
        let mut rng = fastrand::Rng::with_seed(13);
        let alphabet = b"aZz@[`{ '-\xc3\xa91";
        for len in 0..40 {
            for _ in 0..300 {
                let b: Vec<u8> = (0..len)
                    .map(|_| alphabet[rng.usize(..alphabet.len())])
                    .collect();
                for i in 0..=len {
                    for letters in [false, true] {
                        let mut j = i;
                        while j < b.len() && b[j].is_ascii_alphabetic() == letters {
                            j += 1;
                        }
                        assert_eq!(skip(&b, i, letters), j, "{b:?} from {i} {letters}");
                    }
                }
            }
        }
    }

    /// The long-word scan as it was, one run at a time: the definition.
    fn long_words_run_by_run(text: &str, min: usize) -> Vec<Range<usize>> {
        let b = text.as_bytes();
        let joined = |c: Option<char>| c.is_some_and(|c| crate::text::is_word_char(c) || c == '-');
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_alphabetic() {
                i = skip(b, i, false);
                continue;
            }
            let start = i;
            i = skip(b, i, true);
            let letters = i - start;
            let end = with_possessive(b, i);
            i = end;
            if letters < min {
                continue;
            }
            let before = text[..start].chars().next_back();
            let after = text[end..].chars().next();
            if !joined(before) && !joined(after) && after != Some('\'') {
                out.push(start..end);
            }
        }
        out
    }

    #[test]
    fn long_words_by_block_mask_equal_run_by_run() {
        let mut rng = fastrand::Rng::with_seed(17);
        let pieces = [
            "a",
            "s",
            "S",
            "abcdefg",
            "Raynaud",
            "'",
            "'s",
            "s'",
            " ",
            "-",
            "é",
            "1",
            ".",
            "xyz",
            "abcdefghijklmnopqrstuvwxyz",
        ];
        for round in 0..20_000 {
            let text: String = (0..rng.usize(0..40))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect();
            let min = [7, 1, 2, 3, 8, 12][round % 6];
            let got: Vec<_> = long_words(&text, min).collect();
            assert_eq!(got, long_words_run_by_run(&text, min), "{text:?} min {min}");
        }
    }

    /// The memo key and the possessive read off a word as written equal those of its lower
    /// case.
    #[test]
    fn memo_keys_read_off_the_text_equal_the_lower_case_ones() {
        let mut rng = fastrand::Rng::with_seed(41);
        let alphabet = b"aAsSzZ'";
        for _ in 0..50_000 {
            let word: String = (0..rng.usize(1..20))
                .map(|_| char::from(alphabet[rng.usize(..alphabet.len())]))
                .collect();
            let lower = word.to_ascii_lowercase();
            let stripped = strip_possessive(&lower);
            assert_eq!(
                without_possessive(word.as_bytes()),
                stripped.len(),
                "{word:?}"
            );
            let body = &word[..stripped.len()];
            if !body.contains('\'') {
                assert_eq!(
                    Memo::key_folded(body.as_bytes()),
                    Memo::key(stripped),
                    "{word:?}"
                );
            }
        }
    }

    #[test]
    fn the_look_ahead_after_a_misspelling_stops_after_its_words() {
        let text = "phenomenon of the hands, acro-osteolysis and Raynaud's phenomenon";
        let all = word_spans(text);
        assert_eq!(word_spans_limited(text, 3), all[..3]);
        assert_eq!(word_spans_limited(text, 100), all);
        // A multi-word correction still sees the words that follow it on a long line.
        let long = format!(
            "Reynaud's phenomenon {}",
            "and then some more ".repeat(50_000)
        );
        let got = names(&long);
        assert_eq!(got[0].0, "Reynaud's phenomenon");
        assert!(got[0].2);
    }

    #[test]
    fn misspellings_are_flagged() {
        let got = names("Reynaud's phenomenon, telangectasia, sclerodactily, dermatomyosits");
        assert_eq!(
            got[0],
            (
                "Reynaud's phenomenon".into(),
                "Raynaud's phenomenon".into(),
                true
            )
        );
        let (m, _) = matcher();
        let s = |t: &str| m.find(t)[0].suggestion.clone().unwrap();
        assert_eq!(s("Reynaud's phenomenon"), "Raynaud's phenomenon");
        assert_eq!(s("Reynaud's"), "Raynaud's");
        assert_eq!(s("Reynauds"), "Raynauds");
        assert_eq!(s("telangectasias"), "telangiectasias");
        assert_eq!(s("Telangectasias"), "Telangiectasias");
        assert_eq!(s("SCLERODACTILY"), "SCLERODACTYLY");
        assert_eq!(got[1].1, "telangiectasia");
        assert_eq!(got[2].1, "sclerodactyly");
        assert_eq!(got[3].1, "dermatomyositis");
        assert!(got.iter().all(|g| g.2));
        assert!(names("sclerodermal changes").is_empty());
    }
}
