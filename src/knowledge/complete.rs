//! Completion of terms while typing: prefix, word-prefix and typo-tolerant matches against
//! every lexicon form, bounded so that a 100,000-term lexicon answers each keystroke quickly.

use std::collections::{HashMap, HashSet};

use crate::corpus::lexicon::{form_key, Category, FormKind, TermId};
use crate::corpus::Term;

use super::Knowledge;

/// How well a completion matched what was typed; lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchQuality {
    /// The form starts with the typed text.
    Prefix,
    /// A later word of the form starts with it ("derm" in "juvenile dermatomyositis").
    WordPrefix,
    /// The typed text is within a small edit distance of the form's start.
    Fuzzy,
}

/// One completion candidate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Completion {
    /// The term.
    pub term: TermId,
    /// The form that matched (a name, synonym or abbreviation).
    pub form: String,
    /// Which kind of form matched.
    pub form_kind: FormKind,
    /// How it matched.
    pub quality: MatchQuality,
    /// Edit distance for fuzzy matches, 0 otherwise.
    pub distance: usize,
}

impl Knowledge {
    /// Terms completing `prefix`, best first: prefix matches, then word-prefix matches, then
    /// typo-tolerant ones (edit distance 1 from 4 letters, 2 from 7); diseases first within a
    /// tier. One entry per term, with the form that matched best.
    pub fn complete(&self, prefix: &str, limit: usize) -> Vec<Completion> {
        // No term is longer than a lexicon form may be; a longer "prefix" (a note typed
        // without spaces) completes nothing, and is not compared with every form.
        if prefix.len() > crate::corpus::lexicon::MAX_FORM_BYTES {
            return Vec::new();
        }
        let typed = form_key(prefix);
        let n = typed.chars().count();
        if n == 0 {
            return Vec::new();
        }
        let max_distance = match n {
            0..=3 => 0,
            4..=6 => 1,
            _ => 2,
        };
        let mut best: HashMap<TermId, Completion> = HashMap::new();
        let offer = |best: &mut HashMap<TermId, Completion>,
                     term: TermId,
                     form: &String,
                     kind: FormKind,
                     quality,
                     distance| {
            let better = match best.get(&term) {
                None => true,
                Some(old) => {
                    (quality, distance, form.len()) < (old.quality, old.distance, old.form.len())
                }
            };
            if better {
                best.insert(
                    term,
                    Completion {
                        term,
                        form: form.clone(),
                        form_kind: kind,
                        quality,
                        distance,
                    },
                );
            }
        };
        // Prefixes first: a typo-tolerant match ranks below them, so it can only matter
        // for a term they did not find, and only while they found fewer than `limit`.
        for (key, term, form, kind) in &self.forms {
            if key.starts_with(&typed) {
                offer(&mut best, *term, form, *kind, MatchQuality::Prefix, 0);
            } else if key.split(' ').skip(1).any(|w| w.starts_with(&typed)) {
                offer(&mut best, *term, form, *kind, MatchQuality::WordPrefix, 0);
            }
        }
        if max_distance > 0 && best.len() < limit {
            let found: HashSet<TermId> = best.keys().copied().collect();
            let typed_counts = CharCounts::of(typed.chars());
            for (key, term, form, kind) in &self.forms {
                if found.contains(term) {
                    continue;
                }
                if let Some(d) = fuzzy_head_distance(&typed, n, &typed_counts, key, max_distance) {
                    offer(&mut best, *term, form, *kind, MatchQuality::Fuzzy, d);
                }
            }
        }
        let mut out: Vec<Completion> = best.into_values().collect();
        out.sort_by(|a, b| {
            let ta = self.term(a.term);
            let tb = self.term(b.term);
            let rank = |t: &Term| {
                if t.category == Category::Disease {
                    0
                } else {
                    1
                }
            };
            (a.quality, a.distance, rank(ta), ta.name.len(), &ta.name).cmp(&(
                b.quality,
                b.distance,
                rank(tb),
                tb.name.len(),
                &tb.name,
            ))
        });
        out.truncate(limit);
        out
    }
}

/// The smallest Damerau-Levenshtein distance, at most `max`, between `typed` (`n`
/// characters) and the start of `key` of `n - 1`, `n` or `n + 1` characters (insertions
/// and deletions), or `None`. Most keys are ruled out by their letter counts before any
/// distance is computed: every 100,000-term lexicon's keystroke compares them all.
fn fuzzy_head_distance(
    typed: &str,
    n: usize,
    typed_counts: &CharCounts,
    key: &str,
    max: usize,
) -> Option<usize> {
    let mut ends = key.char_indices().map(|(i, _)| i).chain([key.len()]);
    let first = n.saturating_sub(1);
    let mut end = ends.nth(first)?;
    let mut counts = CharCounts::of(key[..end].chars());
    let mut best: Option<usize> = None;
    for len in first..=n + 1 {
        if len > first {
            let Some(next) = ends.next() else { break };
            counts.add(key[end..next].chars());
            end = next;
        }
        // An edit changes the counts by at most two: a cheap lower bound.
        if typed_counts.difference(&counts) > 2 * max {
            continue;
        }
        let d = strsim::damerau_levenshtein(typed, &key[..end]);
        if d <= max && best.is_none_or(|b| d < b) {
            best = Some(d);
        }
    }
    best
}

/// How often each character occurs, in 38 buckets (letters, digits, space, the rest):
/// merged buckets only lower the difference, so it stays a lower bound.
struct CharCounts([u16; 38]);

impl CharCounts {
    fn of(chars: impl Iterator<Item = char>) -> CharCounts {
        let mut c = CharCounts([0; 38]);
        c.add(chars);
        c
    }

    fn add(&mut self, chars: impl Iterator<Item = char>) {
        for ch in chars {
            let bucket = match ch {
                'a'..='z' => ch as usize - 'a' as usize,
                '0'..='9' => 26 + (ch as usize - '0' as usize),
                ' ' => 36,
                _ => 37,
            };
            self.0[bucket] = self.0[bucket].saturating_add(1);
        }
    }

    /// The sum of the per-bucket differences.
    fn difference(&self, other: &CharCounts) -> usize {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| usize::from(a.abs_diff(*b)))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Corpus;

    fn kb() -> Knowledge {
        Knowledge::in_memory(Corpus::embedded().unwrap()).unwrap()
    }

    fn completes(kb: &Knowledge, prefix: &str) -> Vec<String> {
        kb.complete(prefix, 10)
            .iter()
            .map(|c| kb.term(c.term).name.clone())
            .collect()
    }

    /// Completion as it was before its two passes and letter-count bound: every form
    /// compared, typo tolerance included.
    fn complete_by_brute_force(
        kb: &Knowledge,
        prefix: &str,
        limit: usize,
    ) -> Vec<(TermId, String)> {
        let typed = form_key(prefix);
        let n = typed.chars().count();
        let max = match n {
            0..=3 => 0,
            4..=6 => 1,
            _ => 2,
        };
        let mut best: HashMap<TermId, (MatchQuality, usize, String)> = HashMap::new();
        for (key, term, form, _) in &kb.forms {
            let candidate = if key.starts_with(&typed) {
                Some((MatchQuality::Prefix, 0))
            } else if key.split(' ').skip(1).any(|w| w.starts_with(&typed)) {
                Some((MatchQuality::WordPrefix, 0))
            } else if max > 0 {
                (n.saturating_sub(1)..=n + 1)
                    .filter_map(|len| {
                        let head: String = key.chars().take(len).collect();
                        (head.chars().count() == len)
                            .then(|| strsim::damerau_levenshtein(&typed, &head))
                    })
                    .min()
                    .filter(|&d| d <= max)
                    .map(|d| (MatchQuality::Fuzzy, d))
            } else {
                None
            };
            let Some((q, d)) = candidate else { continue };
            if best
                .get(term)
                .is_none_or(|o| (q, d, form.len()) < (o.0, o.1, o.2.len()))
            {
                best.insert(*term, (q, d, form.clone()));
            }
        }
        let mut out: Vec<_> = best.into_iter().collect();
        out.sort_by(|(ta, a), (tb, b)| {
            let (x, y) = (kb.term(*ta), kb.term(*tb));
            let rank = |t: &Term| u8::from(t.category != Category::Disease);
            (a.0, a.1, rank(x), x.name.len(), &x.name).cmp(&(
                b.0,
                b.1,
                rank(y),
                y.name.len(),
                &y.name,
            ))
        });
        out.truncate(limit);
        out.into_iter().map(|(t, (_, _, f))| (t, f)).collect()
    }

    #[test]
    fn completion_equals_comparing_every_form() {
        let kb = kb();
        let mut rng = fastrand::Rng::with_seed(7);
        let forms: Vec<String> = kb.forms.iter().map(|f| f.2.clone()).collect();
        for _ in 0..3_000 {
            let form = &forms[rng.usize(..forms.len())];
            let chars: Vec<char> = form.chars().collect();
            let mut typed: Vec<char> = chars[..rng.usize(1..=chars.len())].to_vec();
            // Up to two typos: replace, drop, insert or swap a letter.
            for _ in 0..rng.usize(0..3) {
                let i = rng.usize(..typed.len());
                match rng.u8(0..4) {
                    0 => typed[i] = rng.lowercase(),
                    1 if typed.len() > 1 => {
                        typed.remove(i);
                    }
                    2 => typed.insert(i, rng.lowercase()),
                    _ if i + 1 < typed.len() => typed.swap(i, i + 1),
                    _ => {}
                }
            }
            let typed: String = typed.into_iter().collect();
            let limit = rng.usize(1..30);
            let got: Vec<(TermId, String)> = kb
                .complete(&typed, limit)
                .into_iter()
                .map(|c| (c.term, c.form))
                .collect();
            assert_eq!(
                got,
                complete_by_brute_force(&kb, &typed, limit),
                "{typed:?} limit {limit}"
            );
        }
    }

    #[test]
    fn complete_prefix_word_prefix_typo_and_abbreviation() {
        let kb = kb();
        let derm = completes(&kb, "derm");
        assert_eq!(derm[0], "dermatomyositis");
        assert!(
            derm.contains(&"juvenile dermatomyositis".to_string()),
            "{derm:?}"
        );
        assert_eq!(completes(&kb, "raynau")[0], "Raynaud's phenomenon");
        assert_eq!(completes(&kb, "reynaud")[0], "Raynaud's phenomenon");
        assert_eq!(
            completes(&kb, "lcs")[0],
            "limited cutaneous systemic sclerosis"
        );
        assert_eq!(completes(&kb, "telangectas")[0], "telangiectasia");
        assert!(completes(&kb, "zzzz").is_empty());
        let c = &kb.complete("lcs", 1)[0];
        assert_eq!(
            (c.form.as_str(), c.form_kind),
            ("lcSSc", FormKind::Abbreviation)
        );
    }
}
