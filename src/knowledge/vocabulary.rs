//! Stage 1 — the query vocabulary, compiled: synonym groups, answer types and their cues, the
//! words that carry no weight, and the words known not to be typos. Built once per corpus
//! from `corpus/vocabulary.toml`, the lexicon and the index's stems; read-only afterwards.
//!
//! A phrase of the vocabulary is a [`Pattern`]: one token per word, matched on its root (so
//! "treated" meets "treatment") or, for a stop word, as written; `*` stands for up to three
//! words ("how * develop").

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::corpus::lexicon::{Term, TermId};
use crate::corpus::Corpus;
use crate::index::KnowledgeIndex;

use super::structure::{empties, lists, Empty, Feats, List};
use super::text::{root, TextAnalysis, Word};

/// One token of a vocabulary phrase: matched on its root, or as written for stop words.
#[derive(Debug, Clone)]
pub(crate) struct PatTok {
    pub(crate) lower: String,
    pub(crate) root: Option<String>,
}

pub(crate) type Pattern = Vec<PatTok>;

pub(crate) fn pattern_memo(
    ta: &TextAnalysis,
    memo: &mut HashMap<String, Option<String>>,
    phrase: &str,
) -> Pattern {
    ta.words_memo(phrase, memo)
        .into_iter()
        .map(|w| PatTok {
            // A function word is matched as written: joined derivations would make "every"
            // (a list cue) match "ever" ("Is the spine ever a location?").
            root: w.root.filter(|_| !Lexis::is_function_word(&w.lower)),
            lower: w.lower,
        })
        .collect()
}

/// The ways of saying a term, as roots: one list per name, synonym, abbreviation and query
/// (empty ones dropped, repeats in a row merged).
pub(crate) fn term_alts(t: &Term, mut roots: impl FnMut(&str) -> Vec<String>) -> Vec<Vec<String>> {
    let mut alts: Vec<Vec<String>> = std::iter::once(&t.name)
        .chain(&t.synonyms)
        .chain(&t.abbreviations)
        .chain(t.query.iter())
        .map(|f| roots(f))
        .filter(|r| !r.is_empty())
        .collect();
    alts.dedup();
    alts
}

pub(crate) fn roots_memo(
    ta: &TextAnalysis,
    memo: &mut HashMap<String, Option<String>>,
    text: &str,
) -> Vec<String> {
    ta.words_memo(text, memo)
        .into_iter()
        .filter_map(|w| w.root)
        .collect()
}

pub(crate) fn tok_matches(w: &Word, p: &PatTok) -> bool {
    match (&p.root, &w.root) {
        (Some(a), Some(b)) => a == b,
        _ => w.lower == p.lower,
    }
}

/// Whether `p` matches the words from `at`; `*` in a pattern stands for up to three words.
pub(crate) fn matches_at(words: &[Word], at: usize, p: &Pattern) -> bool {
    match_len(words, at, p).is_some()
}

/// The number of words `p` matches from `at`.
pub(crate) fn match_len(words: &[Word], at: usize, p: &[PatTok]) -> Option<usize> {
    let Some((first, rest)) = p.split_first() else {
        return Some(0);
    };
    if first.lower == "*" {
        return (0..=3).find_map(|skip| {
            (at + skip <= words.len())
                .then(|| match_len(words, at + skip, rest).map(|n| n + skip))
                .flatten()
        });
    }
    let w = words.get(at)?;
    tok_matches(w, first)
        .then(|| match_len(words, at + 1, rest).map(|n| n + 1))
        .flatten()
}

/// Whether `needle` occurs as a contiguous run in `hay`.
pub(crate) fn contains_seq(hay: &[String], needle: &[String]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) patterns: Vec<Pattern>,
    pub(crate) abbreviations: Vec<String>,
    pub(crate) alts: Vec<Vec<String>>,
    pub(crate) is_a: Option<String>,
    pub(crate) topic: bool,
    pub(crate) term: Option<TermId>,
}

/// A word read as another: only a token that is neither English nor known is corrected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Correction {
    /// As written.
    pub from: String,
    /// As read.
    pub to: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Kind {
    pub(crate) name: String,
    pub(crate) cues: Vec<Pattern>,
    pub(crate) sections: HashSet<String>,
    pub(crate) marks: Vec<Vec<String>>,
    pub(crate) category: Option<String>,
    pub(crate) figure: Vec<Pattern>,
    pub(crate) secondary: bool,
    /// What an abstention calls it, when the statements never give this kind of answer.
    pub(crate) uncovered: Option<String>,
}

/// What the index holds of one root.
#[derive(Debug, Default)]
pub(crate) struct Root {
    /// Documents holding it in text or lead-in (summed over its stems: an upper bound).
    pub(crate) df: u64,
    /// The index stems with this root.
    pub(crate) stems: Vec<String>,
}

/// The compiled vocabulary and corpus structure the ranking runs on.
#[derive(Debug)]
pub(crate) struct Lexis {
    pub(crate) ta: TextAnalysis,
    pub(crate) ignore: HashSet<String>,
    pub(crate) list_cues: Vec<Pattern>,
    pub(crate) follow_cues: Vec<Pattern>,
    pub(crate) groups: Vec<Group>,
    pub(crate) kinds: Vec<Kind>,
    /// Root → the index stems with that root, and its document frequency.
    pub(crate) stems: HashMap<String, Root>,
    /// Lower-case words that are not typos: vocabulary, lexicon, ignore list.
    pub(crate) known: HashSet<String>,
    /// Correction targets, by first letter.
    pub(crate) dict: HashMap<char, Vec<String>>,
    pub(crate) topic_terms: HashSet<TermId>,
    pub(crate) list_of: Vec<Option<usize>>,
    pub(crate) lists: Vec<List>,
    pub(crate) empties: Vec<Empty>,
    pub(crate) feats: Vec<OnceLock<Feats>>,
    /// Phrases that leave out what follows ("besides", "other than").
    pub(crate) exclusion_cues: Vec<Pattern>,
    /// Words that set two things side by side ("or", "vs").
    pub(crate) alternative_cues: Vec<Pattern>,
    /// Words that open a yes/no question.
    pub(crate) yes_no: HashSet<String>,
    /// Phrases for a share of patients ("about half")…
    pub(crate) figure_words: Vec<Pattern>,
    /// …and the percentage each stands for, by the same index.
    pub(crate) figure_percents: Vec<f32>,
    /// How many statements sit under each list opening, as a reader counts them (nested
    /// openings included), by (section path, opening text).
    pub(crate) items_under: HashMap<(Vec<String>, String), usize>,
    /// Words that contradict a statement's word ("rare", "shorter")…
    pub(crate) contrary: Vec<Pattern>,
    /// …and the statement words each contradicts ("common", "longer"), by the same index.
    pub(crate) contrary_instead: Vec<Vec<String>>,
    /// Words that make a claim absolute or negative ("only", "never").
    pub(crate) qualifiers: HashSet<String>,
    /// Words that make a question open rather than yes/no ("what", "how").
    pub(crate) open_question: HashSet<String>,
    /// Words by which a statement hedges ("may", "proposed").
    pub(crate) hedges: Vec<String>,
    /// Endings of English adjectives ("able", "ous").
    pub(crate) modifier_suffixes: Vec<String>,
}

impl Lexis {
    /// Corrects typos: a word with a root that is neither known to the corpus, nor a lexicon
    /// form, nor an English word, is replaced by the nearest known word, if one is close enough.
    /// Returns the corrected text and what was corrected.
    pub(crate) fn correct_question(
        &self,
        known_form: impl Fn(&str) -> bool,
        question: &str,
    ) -> (String, Vec<Correction>) {
        let lx = self;
        let mut text = question.to_string();
        let mut corrections = Vec::new();
        for w in lx.ta.words(question).iter().rev() {
            if w.root.is_none()
                || lx.is_known(w)
                || known_form(&w.lower)
                || Lexis::is_english(&w.lower)
            {
                continue;
            }
            if let Some(c) = lx.correct(w) {
                corrections.push(Correction {
                    from: w.written.clone(),
                    to: c.clone(),
                });
                text.replace_range(w.range.clone(), &c);
            }
        }
        corrections.reverse();
        (text, corrections)
    }

    pub(crate) fn new(corpus: &Corpus, index: &KnowledgeIndex) -> Lexis {
        let ta = TextAnalysis::default();
        let v = &corpus.vocabulary;
        let lex = &corpus.lexicon;
        let mut known: HashSet<String> = HashSet::new();
        // Phrases share most of their words: each word is analysed once.
        let mut memo: HashMap<String, Option<String>> = HashMap::new();
        let note_words = |phrase: &str,
                          known: &mut HashSet<String>,
                          memo: &mut HashMap<String, Option<String>>| {
            for w in ta.words_memo(phrase, memo) {
                known.insert(w.lower);
            }
        };
        // Words without weight are known but never a correction ("fever" is not "ever").
        let mut weightless: HashSet<String> = HashSet::new();
        for w in v.ignore.iter().chain(&v.list_cues).chain(&v.follow_up_cues) {
            note_words(w, &mut weightless, &mut memo);
        }
        for t in lex.terms() {
            for f in std::iter::once(&t.name).chain(&t.synonyms) {
                note_words(f, &mut known, &mut memo);
            }
        }
        let mut groups = Vec::new();
        for g in &v.synonyms {
            for w in &g.words {
                note_words(w, &mut known, &mut memo);
            }
            let alts: Vec<Vec<String>> = g
                .words
                .iter()
                .map(|w| roots_memo(&ta, &mut memo, w))
                .filter(|r| !r.is_empty())
                .collect();
            groups.push(Group {
                name: g.name.clone(),
                patterns: g
                    .words
                    .iter()
                    .map(|w| pattern_memo(&ta, &mut memo, w))
                    .collect(),
                abbreviations: g.abbreviations.clone(),
                alts,
                is_a: g.is_a.clone(),
                topic: g.topic,
                term: lex.find(&g.name),
            });
        }
        let topic_alts: Vec<&Vec<String>> = groups
            .iter()
            .filter(|g| g.topic)
            .flat_map(|g| &g.alts)
            .collect();
        // A term's alternatives are worked out here one term at a time, and again for a term
        // asked about (all of them kept cost 70 MB on a 100,000-term lexicon).
        let topic_terms = lex
            .terms()
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                term_alts(t, |f| roots_memo(&ta, &mut memo, f))
                    .iter()
                    .any(|a| topic_alts.contains(&a))
            })
            .map(|(i, _)| i as TermId)
            .collect();
        let kinds = v
            .answers
            .iter()
            .map(|a| {
                for c in &a.cues {
                    note_words(c, &mut known, &mut memo);
                }
                Kind {
                    name: a.name.clone(),
                    cues: a
                        .cues
                        .iter()
                        .map(|c| pattern_memo(&ta, &mut memo, c))
                        .collect(),
                    sections: a
                        .sections
                        .iter()
                        .flat_map(|s| roots_memo(&ta, &mut memo, s))
                        .collect(),
                    marks: a
                        .marks
                        .iter()
                        .map(|m| roots_memo(&ta, &mut memo, m))
                        .filter(|r| !r.is_empty())
                        .collect(),
                    category: a.category.clone(),
                    figure: a
                        .figure_cues
                        .iter()
                        .map(|c| pattern_memo(&ta, &mut memo, c))
                        .collect(),
                    secondary: a.secondary,
                    uncovered: a.uncovered.clone(),
                }
            })
            .collect();
        let mut stems: HashMap<String, Root> = HashMap::new();
        for (s, df) in index.stems().unwrap_or_default() {
            let r = stems.entry(root(&s)).or_default();
            r.df += df;
            r.stems.push(s);
        }
        for v in stems.values_mut() {
            v.stems.sort();
            v.stems.dedup();
            v.stems.shrink_to_fit();
        }
        let mut dict: HashMap<char, Vec<String>> = HashMap::new();
        // Words without weight ("occur") are correction targets too: only a word that is not
        // English is ever corrected, so "fever" is never read as "ever".
        // Targets are words as written in the statements, never index stems ("surgic").
        let mut written: HashSet<String> = HashSet::new();
        for st in &corpus.statements {
            for w in ta.words_memo(&st.text, &mut memo) {
                written.insert(w.lower);
            }
        }
        for w in known.iter().chain(&weightless).chain(&written) {
            if w.chars().count() >= 4 && w.chars().all(char::is_alphabetic) {
                if let Some(c) = w.chars().next() {
                    dict.entry(c).or_default().push(w.clone());
                }
            }
        }
        for d in dict.values_mut() {
            d.sort();
            d.dedup();
        }
        let (list_of, lists) = lists(&corpus.statements);
        let empties = empties(corpus, &lists, &list_of, &ta);
        let feats = (0..corpus.statements.len())
            .map(|_| OnceLock::new())
            .collect();
        known.extend(weightless);
        let patterns = |v: &[String], memo: &mut HashMap<String, Option<String>>| -> Vec<Pattern> {
            v.iter().map(|c| pattern_memo(&ta, memo, c)).collect()
        };
        let exclusion_cues = patterns(&v.exclusion_cues, &mut memo);
        let alternative_cues = patterns(&v.alternative_cues, &mut memo);
        let (contrary, contrary_instead) = v
            .contraries
            .iter()
            .flat_map(|c| c.words.iter().map(move |w| (w, &c.instead)))
            .map(|(w, instead)| (pattern_memo(&ta, &mut memo, w), instead.clone()))
            .unzip();
        let (figure_words, figure_percents) = v
            .figures
            .iter()
            .flat_map(|f| f.words.iter().map(move |w| (w, f.percent)))
            .map(|(w, p)| (pattern_memo(&ta, &mut memo, w), p))
            .unzip();
        let mut items_under: HashMap<(Vec<String>, String), usize> = HashMap::new();
        for st in &corpus.statements {
            if let Some(lead) = &st.lead_in {
                *items_under
                    .entry((st.section.clone(), lead.clone()))
                    .or_default() += 1;
            }
        }
        Lexis {
            items_under,
            exclusion_cues,
            alternative_cues,
            contrary,
            contrary_instead,
            figure_words,
            figure_percents,
            yes_no: v.yes_no_openers.iter().cloned().collect(),
            qualifiers: v.qualifiers.iter().cloned().collect(),
            open_question: v.open_question.iter().cloned().collect(),
            hedges: v.hedges.clone(),
            modifier_suffixes: v.modifier_suffixes.clone(),
            ignore: v.ignore.iter().cloned().collect(),
            list_cues: v
                .list_cues
                .iter()
                .map(|c| pattern_memo(&ta, &mut memo, c))
                .collect(),
            follow_cues: v
                .follow_up_cues
                .iter()
                .map(|c| pattern_memo(&ta, &mut memo, c))
                .collect(),
            ta,
            groups,
            kinds,
            stems,
            known,
            dict,
            topic_terms,
            list_of,
            lists,
            empties,
            feats,
        }
    }

    pub(crate) fn is_topic_root(&self, r: &str) -> bool {
        self.groups
            .iter()
            .filter(|g| g.topic)
            .any(|g| g.alts.iter().any(|a| a.len() == 1 && a[0] == r))
    }

    /// The nearest known word to an unknown one, if it is close enough to be a typo.
    pub(crate) fn correct(&self, w: &Word) -> Option<String> {
        let n = w.lower.chars().count();
        // Three letters: one edit, to a longer word only ("lfe" → "life", never "lfe" → "la").
        let max = match n {
            0..=2 => return None,
            3..=6 => 1,
            _ => 2,
        };
        let first = w.lower.chars().next()?;
        let mut best: Option<(usize, &String)> = None;
        // Most typos keep the first letter; a swapped first pair is tried as well.
        let second = w.lower.chars().nth(1).unwrap_or(first);
        for c in [first, second] {
            for cand in self.dict.get(&c).into_iter().flatten() {
                let m = cand.chars().count();
                if m.abs_diff(n) > max {
                    continue;
                }
                let d = strsim::damerau_levenshtein(&w.lower, cand);
                let prefix = |c: &str| {
                    c.chars()
                        .zip(w.lower.chars())
                        .take_while(|(a, b)| a == b)
                        .count()
                };
                let key = |d: usize, c: &str| (d, usize::MAX - prefix(c), c.len());
                if d <= max && best.is_none_or(|(bd, bc)| key(d, cand) < key(bd, bc)) {
                    best = Some((d, cand));
                }
            }
        }
        best.map(|(_, c)| c.clone())
    }

    /// Whether a word is an English word: the Wordnik list (lower-case ASCII), with a
    /// British "ae"/"our" spelling tried as its American form. Only a word that is neither
    /// English nor known to the corpus is ever corrected as a typo.
    pub(crate) fn is_english(word: &str) -> bool {
        if !word.bytes().all(|b| b.is_ascii_lowercase()) {
            return false;
        }
        wordnik_list::word_exists(word)
            || (word.contains("ae") && wordnik_list::word_exists(&word.replacen("ae", "e", 1)))
            || (word.contains("our") && wordnik_list::word_exists(&word.replacen("our", "or", 1)))
    }

    /// Whether a word frames a question rather than names what it asks about: its most
    /// frequent English sense is a verb of thinking, talking, feeling or perceiving, or an
    /// adverb (`data/framing-words.txt`, from WordNet, with the verbs' forms unless a form
    /// is a word of its own, "hearing"; see `tools/framing_words.py`).
    pub(crate) fn is_framing(word: &str) -> bool {
        static WORDS: OnceLock<HashSet<&'static str>> = OnceLock::new();
        WORDS
            .get_or_init(|| {
                include_str!("../../data/framing-words.txt")
                    .lines()
                    .filter(|l| !l.starts_with('#') && !l.is_empty())
                    .collect()
            })
            .contains(word)
    }

    /// Whether a word is an English function word (the stopwords-iso list): never what a
    /// question is about ("between", "become", "only").
    pub(crate) fn is_function_word(word: &str) -> bool {
        static WORDS: OnceLock<HashSet<&'static str>> = OnceLock::new();
        WORDS
            .get_or_init(|| {
                stop_words::lookup("en")
                    .unwrap_or_default()
                    .iter()
                    .copied()
                    .collect()
            })
            .contains(word)
    }

    /// Whether a word not understood reads as an English adjective ("reasonable",
    /// "permanent"): it qualifies what is asked rather than naming it.
    pub(crate) fn is_modifier(&self, word: &str) -> bool {
        Lexis::is_english(word)
            && self
                .modifier_suffixes
                .iter()
                .any(|s| word.len() > s.len() + 3 && word.ends_with(s.as_str()))
    }

    pub(crate) fn is_known(&self, w: &Word) -> bool {
        self.known.contains(&w.lower)
            || self.ignore.contains(&w.lower)
            || w.root.as_ref().is_none_or(|r| self.stems.contains_key(r))
            || w.lower.chars().any(|c| c.is_ascii_digit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_thinking_and_talking_frame_a_question_nouns_never_do() {
        for w in [
            "wondering",
            "clarify",
            "mentioned",
            "consult",
            "expect",
            "honestly",
            "told",
            "heard",
            "terrified",
        ] {
            assert!(Lexis::is_framing(w), "{w}");
        }
        // What a question may be about: things, states, people, times, qualities.
        for w in [
            "memory",
            "speech",
            "hearing",
            "feeling",
            "summer",
            "women",
            "growth",
            "diet",
            "exercise",
            "warfarin",
            "contagious",
            "night",
            "pregnancy",
        ] {
            assert!(!Lexis::is_framing(w), "{w}");
        }
    }

    #[test]
    fn english_words_and_function_words() {
        for w in [
            "exercise",
            "plane",
            "child",
            "other",
            "common",
            "anaesthesia",
            "colour",
        ] {
            assert!(Lexis::is_english(w), "{w}");
        }
        for w in ["surgicle", "calcinossis", "ocur", "Exercise", "exercíse"] {
            assert!(!Lexis::is_english(w), "{w}");
        }
        for w in ["between", "become", "only", "over"] {
            assert!(Lexis::is_function_word(w), "{w}");
        }
        assert!(!Lexis::is_function_word("pain"));
    }
}
