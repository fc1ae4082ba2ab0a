//! The misspelling pass of the term matcher: the words it looks at are long runs of letters
//! (`words.rs`); a word is first put through cheap filters (its length against the
//! candidates' for its first letter, letters only, a per-thread memo of words known to be
//! near nothing) and only then through the decision (listed or ignored words, candidates
//! within an edit distance, the words that must follow a multi-word form).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::words::{long_words, Following};
use super::{Mention, TermMatcher};
use crate::corpus::lexicon::{Category, FormKind, Lexicon, TermId};
use crate::text::Haystack;

/// A lexicon form a misspelling may stand for, bucketed by its first letter.
#[derive(Debug, Clone)]
pub(super) struct FuzzyCandidate {
    /// The form as listed, the correction offered.
    pub(super) form: String,
    /// Its first word, lower case, possessive stripped.
    pub(super) first: String,
    /// Its further words.
    pub(super) rest: Vec<String>,
    pub(super) term: TermId,
    pub(super) kind: FormKind,
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
        Haystack::new(word).folded_key()
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

pub(super) fn fuzzy_eligible(c: Category) -> bool {
    c != Category::AdHoc
}

/// The word without a trailing possessive or plural apostrophe: `raynaud's` → `raynaud`.
pub(super) fn strip_possessive(word: &str) -> &str {
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

impl TermMatcher {
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
    pub(super) fn find_misspellings(&self, text: &str, first: usize, out: &mut Vec<Mention>) {
        self.find_misspellings_filtered(text, first, out, |raw| self.may_be_misspelled(raw));
    }

    /// The cost filter of the misspelling pass, kept apart from the decision: whether
    /// `raw` (a long word as written, with any possessive ending) may be near a fuzzy
    /// candidate, worked out cheaply. It says no only to words the decision would not flag
    /// anyway, so the pass finds the same misspellings without it (tested); it spares the
    /// lower-casing, the memo lookup by string and the edit distances of most words.
    fn may_be_misspelled(&self, raw: &str) -> bool {
        // By length: possessive and plural stripping shorten a word by at most three
        // letters, and a candidate is at most two edits away, so a word whose first
        // letter's candidates are all out of that reach has none near it.
        let first = raw.as_bytes().first().map_or(0, u8::to_ascii_lowercase);
        let window = first
            .checked_sub(b'a')
            .and_then(|i| self.fuzzy_lengths.get(usize::from(i)))
            .copied()
            .flatten();
        if !window.is_some_and(|(min, max)| min <= raw.len() + 2 && raw.len() <= max + 5) {
            return false;
        }
        // By the memo: most words are known to be near nothing, found by a key read off
        // the text, before any copy.
        let body = &raw[..without_possessive(raw.as_bytes())];
        !Haystack::new(body)
            .folded_key()
            .is_some_and(|k| MEMO.with(|m| m.borrow().near_nothing(k)))
    }

    /// [`TermMatcher::find_misspellings`] with the cost filter given: `worth_deciding`
    /// skips a word before the decision is worked out for it.
    fn find_misspellings_filtered(
        &self,
        text: &str,
        first: usize,
        out: &mut Vec<Mention>,
        worth_deciding: impl Fn(&str) -> bool,
    ) {
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
            if !worth_deciding(raw) {
                continue;
            }
            // The decision: a word of at least MIN_FUZZY_LEN letters (without its
            // possessive ending), not listed, within reach of a candidate whose further
            // words follow it.
            let body = &raw[..without_possessive(raw.as_bytes())];
            if body.len() < MIN_FUZZY_LEN || !body.bytes().all(|c| c.is_ascii_alphabetic()) {
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

/// The words never flagged as misspellings, lower case.
pub(super) fn collect_ignored(lexicon: &Lexicon) -> HashSet<String> {
    // The lexicon answers one word at a time; collect the list once for O(1) lookups.
    lexicon
        .fuzzy_ignored()
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::tests::{matcher, names};
    use crate::matcher::words::{word_spans, word_spans_limited};

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
                    Haystack::new(body).folded_key(),
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

    /// The cost filter only spares work: without it, the same misspellings (the memo
    /// warm or cold, in either order).
    #[test]
    fn the_cost_filter_changes_no_finding() {
        let (m, _) = matcher();
        let mut rng = fastrand::Rng::with_seed(29);
        let pieces = [
            "Reynaud's",
            "Reynauds",
            "Raynaud",
            "telangectasias",
            "Telangectasia",
            "sclerodactily",
            "SCLERODACTILY",
            "dermatomyosits",
            "calcinossis",
            "phenomenon",
            "djffuse",
            "scleroderma",
            "sclerodermal",
            "abcdefgh",
            "calcinosis",
            "esophageal",
            "dysmotility",
            "'s",
            "s'",
            " ",
            ", ",
            ". ",
            "-",
            "RP'",
            "x",
            "é",
        ];
        for _ in 0..3_000 {
            let text = crate::text::random_text(&mut rng, &pieces, 0..24);
            let mut exact = Vec::new();
            m.find_normalized(&text, &mut exact);
            exact.retain(|x| !x.misspelling);
            let (mut filtered, mut unfiltered) = (exact.clone(), exact.clone());
            let n = exact.len();
            m.find_misspellings_filtered(&text, 0, &mut unfiltered, |_| true);
            m.find_misspellings_filtered(&text, 0, &mut filtered, |raw| m.may_be_misspelled(raw));
            assert_eq!(filtered, unfiltered, "{text:?}");
            assert!(filtered.len() >= n);
        }
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
