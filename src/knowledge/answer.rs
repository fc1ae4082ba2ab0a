//! Question understanding, ranking and abstention: one ranking for `ask`, the server's
//! `calcinosis.ask`, workspace symbols, hover, definition and the diagnostics' related
//! statement.
//!
//! A question becomes *concepts* (lexicon terms, vocabulary synonym groups, plain words, and
//! words nobody knows) and *answer types* (where, why, treatment, …). Candidates come from the
//! index (BM25 over every stem of every concept); each is then scored on which concepts it
//! states (in its text, its list's lead-in or its heading) weighted by how rare they are, plus
//! a bonus when its heading or wording gives the kind of answer asked for. The corpus's
//! subject (calcinosis) weighs little, and a disease narrows rather than dominates because
//! answer types outweigh one concept. Bare list openings and empty headings are never answers:
//! when one of them is what fits the question best, the answer is that the sources list no
//! content for it.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

use crate::corpus::lexicon::{Category, Term, TermId};
use crate::corpus::statements::render_sources;
use crate::corpus::{Corpus, Statement};
use crate::error::Result;
use crate::index::{boost, KnowledgeIndex};
use crate::matcher::TermMatcher;

use super::text::{root, TextAnalysis, Word};

/// Weight of the corpus's subject in a question: every statement is about it.
const TOPIC_WEIGHT: f32 = 0.3;
/// Bonus for a statement under a heading that holds the kind of answer asked for.
const SECTION_BONUS: f32 = 1.6;
/// Bonus for a statement whose wording gives the kind of answer asked for.
const MARK_BONUS: f32 = 0.6;
/// A disease's weight when the question also asks for a kind of answer.
const DISEASE_WITH_ANSWER_TYPE: f32 = 0.5;
/// Extra for a concept that a statement states and whose heading names it too.
const UNDER_HEADING: f32 = 0.3;

/// One token of a vocabulary phrase: matched on its root, or as written for stop words.
#[derive(Debug, Clone)]
struct PatTok {
    lower: String,
    root: Option<String>,
}

type Pattern = Vec<PatTok>;

fn pattern_memo(
    ta: &TextAnalysis,
    memo: &mut HashMap<String, Option<String>>,
    phrase: &str,
) -> Pattern {
    ta.words_memo(phrase, memo)
        .into_iter()
        .map(|w| PatTok {
            lower: w.lower,
            root: w.root,
        })
        .collect()
}

/// The ways of saying a term, as roots: one list per name, synonym, abbreviation and query
/// (empty ones dropped, repeats in a row merged).
fn term_alts(t: &Term, mut roots: impl FnMut(&str) -> Vec<String>) -> Vec<Vec<String>> {
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

fn roots_memo(
    ta: &TextAnalysis,
    memo: &mut HashMap<String, Option<String>>,
    text: &str,
) -> Vec<String> {
    ta.words_memo(text, memo)
        .into_iter()
        .filter_map(|w| w.root)
        .collect()
}

fn tok_matches(w: &Word, p: &PatTok) -> bool {
    match (&p.root, &w.root) {
        (Some(a), Some(b)) => a == b,
        _ => w.lower == p.lower,
    }
}

/// Whether `p` matches the words from `at`; `*` in a pattern stands for up to three words.
fn matches_at(words: &[Word], at: usize, p: &Pattern) -> bool {
    match_len(words, at, p).is_some()
}

/// The number of words `p` matches from `at`.
fn match_len(words: &[Word], at: usize, p: &[PatTok]) -> Option<usize> {
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
fn contains_seq(hay: &[String], needle: &[String]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[derive(Debug, Clone)]
struct Group {
    name: String,
    patterns: Vec<Pattern>,
    abbreviations: Vec<String>,
    alts: Vec<Vec<String>>,
    is_a: Option<String>,
    topic: bool,
    term: Option<TermId>,
}

#[derive(Debug, Clone)]
struct Kind {
    name: String,
    cues: Vec<Pattern>,
    sections: HashSet<String>,
    marks: Vec<Vec<String>>,
    category: Option<String>,
    figure: Vec<Pattern>,
    secondary: bool,
}

/// A list of the corpus: its opening line (if it is a statement) and its items, in order.
#[derive(Debug, Clone, Default)]
struct List {
    lead: Option<usize>,
    items: Vec<usize>,
}

/// A heading under which the sources list nothing (or only a list opening with no items).
#[derive(Debug, Clone)]
struct Empty {
    path: Vec<String>,
    roots: Vec<String>,
    opening: Option<usize>,
}

/// What is known about one statement for ranking, computed on first use.
#[derive(Debug, Clone)]
struct Feats {
    /// Every root of text, lead-in and section: most alternatives fail on their first root.
    all: HashSet<String>,
    text: Vec<String>,
    lead: Vec<String>,
    section: Vec<String>,
    digit: bool,
    /// A list opening with no items and nothing to say on its own ("Other approaches:").
    bare: bool,
}

/// What the index holds of one root.
#[derive(Debug, Default)]
struct Root {
    /// Documents holding it in text or lead-in (summed over its stems: an upper bound).
    df: u64,
    /// The index stems with this root.
    stems: Vec<String>,
}

/// The compiled vocabulary and corpus structure the ranking runs on.
#[derive(Debug)]
pub(crate) struct Lexis {
    ta: TextAnalysis,
    ignore: HashSet<String>,
    list_cues: Vec<Pattern>,
    follow_cues: Vec<Pattern>,
    groups: Vec<Group>,
    kinds: Vec<Kind>,
    /// Root → the index stems with that root, and its document frequency.
    stems: HashMap<String, Root>,
    /// Lower-case words that are not typos: vocabulary, lexicon, ignore list.
    known: HashSet<String>,
    /// Correction targets, by first letter.
    dict: HashMap<char, Vec<String>>,
    topic_terms: HashSet<TermId>,
    list_of: Vec<Option<usize>>,
    lists: Vec<List>,
    empties: Vec<Empty>,
    feats: Vec<OnceLock<Feats>>,
}

impl Lexis {
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
        for w in known.iter().chain(stems.values().flat_map(|r| &r.stems)) {
            if weightless.contains(w) && !known.contains(w) {
                continue;
            }
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
        Lexis {
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

    fn feats(&self, statements: &[Statement], i: usize) -> &Feats {
        self.feats[i].get_or_init(|| {
            let s = &statements[i];
            let text = self.ta.roots(&s.text);
            let items = self.list_of[i]
                .map(|l| self.lists[l].lead == Some(i) && !self.lists[l].items.is_empty())
                .unwrap_or(false);
            let content = self
                .ta
                .words(&s.text)
                .iter()
                .filter(|w| !self.ignore.contains(&w.lower))
                .filter_map(|w| w.root.as_ref())
                .filter(|r| !self.is_topic_root(r))
                .count();
            let lead: Vec<String> = s
                .lead_in
                .as_deref()
                .map(|l| self.ta.roots(l))
                .unwrap_or_default();
            let section: Vec<String> = s.section.iter().flat_map(|h| self.ta.roots(h)).collect();
            Feats {
                all: text.iter().chain(&lead).chain(&section).cloned().collect(),
                lead,
                section,
                digit: s.text.chars().any(|c| c.is_ascii_digit() || c == '%'),
                bare: s.is_lead_in() && !items && content <= 2,
                text,
            }
        })
    }

    fn is_topic_root(&self, r: &str) -> bool {
        self.groups
            .iter()
            .filter(|g| g.topic)
            .any(|g| g.alts.iter().any(|a| a.len() == 1 && a[0] == r))
    }

    /// The nearest known word to an unknown one, if it is close enough to be a typo.
    fn correct(&self, w: &Word) -> Option<String> {
        let n = w.lower.chars().count();
        let max = match n {
            0..=3 => return None,
            4..=6 => 1,
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

    fn is_known(&self, w: &Word) -> bool {
        self.known.contains(&w.lower)
            || self.ignore.contains(&w.lower)
            || w.root.as_ref().is_none_or(|r| self.stems.contains_key(r))
            || w.lower.chars().any(|c| c.is_ascii_digit())
    }
}

/// Builds the corpus's lists: items share their section and lead-in.
fn lists(statements: &[Statement]) -> (Vec<Option<usize>>, Vec<List>) {
    let mut by_key: HashMap<(String, String), usize> = HashMap::new();
    let mut lists: Vec<List> = Vec::new();
    let mut list_of = vec![None; statements.len()];
    for (i, s) in statements.iter().enumerate() {
        let key = match (&s.lead_in, s.is_lead_in()) {
            (_, true) => (s.section_path(), s.text.clone()),
            (Some(l), false) => (s.section_path(), l.clone()),
            (None, false) => continue,
        };
        let id = *by_key.entry(key).or_insert_with(|| {
            lists.push(List::default());
            lists.len() - 1
        });
        if s.is_lead_in() && lists[id].lead.is_none() {
            lists[id].lead = Some(i);
        } else {
            lists[id].items.push(i);
        }
        list_of[i] = Some(id);
    }
    (list_of, lists)
}

/// Headings with nothing under them but, at most, one list opening without items.
fn empties(
    corpus: &Corpus,
    lists: &[List],
    list_of: &[Option<usize>],
    ta: &TextAnalysis,
) -> Vec<Empty> {
    // Per heading path: how many statements sit under it, and the first of them.
    let mut under: HashMap<&[String], (usize, usize, bool)> = HashMap::new();
    for (i, s) in corpus.statements.iter().enumerate() {
        let empty_opening = s.is_lead_in() && list_of[i].is_none_or(|l| lists[l].items.is_empty());
        for depth in 1..=s.section.len() {
            let e = under.entry(&s.section[..depth]).or_insert((0, i, true));
            e.0 += 1;
            e.2 &= empty_opening;
        }
    }
    corpus
        .headings
        .iter()
        .filter_map(|h| {
            let opening = match under.get(h.path.as_slice()) {
                None => None,
                Some(&(1, i, true)) => Some(i),
                Some(_) => return None,
            };
            Some(Empty {
                roots: h.path.last().map(|t| ta.roots(t)).unwrap_or_default(),
                path: h.path.clone(),
                opening,
            })
        })
        .collect()
}

/// What a concept of a question is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConceptKind {
    /// A lexicon term.
    Term,
    /// A vocabulary synonym group.
    Synonyms,
    /// A word of the statements.
    Word,
    /// A word neither the statements nor the vocabulary know.
    Unknown,
}

/// One thing a question is about.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Concept {
    /// Its name.
    pub label: String,
    /// What it is.
    pub kind: ConceptKind,
    /// Statements that state it.
    pub statements: usize,
    /// Its weight (rarer is heavier; the corpus's subject weighs little).
    pub weight: f32,
    /// Whether it is the corpus's subject.
    pub topic: bool,
    #[serde(skip)]
    alts: Vec<Vec<String>>,
    #[serde(skip)]
    is_a: Option<String>,
    #[serde(skip)]
    term: Option<TermId>,
}

/// What `ask` understood of a question.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Question {
    /// The question after typo correction.
    pub text: String,
    /// Its concepts.
    pub concepts: Vec<Concept>,
    /// The kinds of answer asked for, strongest first.
    pub answer_types: Vec<String>,
    /// It asks for a whole list.
    pub wants_list: bool,
    /// It asks for a number.
    pub wants_figure: bool,
    #[serde(skip)]
    kinds: Vec<(usize, f32)>,
}

/// Why a question is not answered.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum Abstention {
    /// The question names things no statement discusses.
    NotCovered {
        /// What is not covered.
        what: Vec<String>,
        /// Empty headings nearest to it.
        empty_headings: Vec<String>,
    },
    /// What fits best is a heading or list opening with no content.
    NoContent {
        /// The heading path.
        heading: String,
        /// The list opening, if there is one ("Calcinosis can be diagnosed through:").
        opening: Option<String>,
    },
    /// A number is asked for and the statements give none.
    NoFigure {
        /// What the nearest statements say instead.
        about: String,
    },
    /// Nothing in the question is found in the statements.
    NoMatch,
}

impl Abstention {
    /// The sentence shown to a user.
    pub fn message(&self) -> String {
        match self {
            Abstention::NotCovered {
                what,
                empty_headings,
            } => {
                let mut m = format!("The sources do not cover {}.", join_and(what));
                if !empty_headings.is_empty() {
                    m.push_str(&format!(
                        " They list no content under {}.",
                        join_and(empty_headings)
                    ));
                }
                m
            }
            Abstention::NoContent { heading, opening } => match opening {
                Some(o) => format!(
                    "The sources do not cover this: under {heading} they list no content (\u{201c}{o}\u{201d} is followed by nothing)."
                ),
                None => format!(
                    "The sources do not cover this: they list no content under {heading}."
                ),
            },
            Abstention::NoFigure { about } => format!(
                "The sources do not cover this: they give no figure for {about}."
            ),
            Abstention::NoMatch => {
                "The sources do not cover this: no statement matches the question.".to_string()
            }
        }
    }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [a] => a.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A ranked statement with what it matched.
#[derive(Debug, Clone)]
pub(crate) struct Scored {
    pub(crate) idx: usize,
    pub(crate) score: f32,
    matched: Vec<bool>,
    kind_hit: bool,
}

/// The outcome of ranking a question.
#[derive(Debug, Clone)]
pub(crate) struct Ranked {
    pub(crate) question: Question,
    pub(crate) hits: Vec<Scored>,
    pub(crate) abstention: Option<Abstention>,
    pub(crate) confidence: f32,
    /// The list answering the question as a whole: (lead-in statement, items).
    pub(crate) list: Option<(Option<usize>, Vec<usize>)>,
}

/// Ranking and question understanding over one corpus and index.
pub(crate) struct Ranker<'a> {
    pub(crate) lexis: &'a Lexis,
    pub(crate) ids: &'a HashMap<String, usize>,
    pub(crate) corpus: &'a Corpus,
    pub(crate) index: &'a KnowledgeIndex,
    pub(crate) matcher: &'a TermMatcher,
}

impl Ranker<'_> {
    /// Understands a question (see the module documentation).
    pub(crate) fn understand(&self, question: &str) -> Result<Question> {
        let lx = self.lexis;
        // Typos first: a corrected word then goes through everything else.
        let mut text = question.to_string();
        for w in lx.ta.words(question).iter().rev() {
            if w.root.is_some() && !lx.is_known(w) && self.corpus.lexicon.find(&w.lower).is_none() {
                if let Some(c) = lx.correct(w) {
                    text.replace_range(w.range.clone(), &c);
                }
            }
        }
        let words = lx.ta.words(&text);
        let mut used = vec![false; words.len()];
        let mut concepts: Vec<Concept> = Vec::new();
        let within =
            |r: &std::ops::Range<usize>, w: &Word| w.range.start >= r.start && w.range.end <= r.end;
        let mut topic_spans: Vec<std::ops::Range<usize>> = Vec::new();
        for m in self.matcher.find(&text) {
            // A form of the subject ("spinal calcinosis") leaves its other words to count
            // when they mean something of their own (a synonym group).
            let topic = lx.topic_terms.contains(&m.term);
            if topic {
                topic_spans.push(m.range.clone());
            }
            for (i, w) in words.iter().enumerate() {
                if within(&m.range, w)
                    && (!topic || w.root.as_deref().is_none_or(|r| lx.is_topic_root(r)))
                {
                    used[i] = true;
                }
            }
            self.push_term(&mut concepts, m.term);
        }
        // Synonym groups, longest phrase first at each position.
        let mut i = 0;
        while i < words.len() {
            if used[i] {
                i += 1;
                continue;
            }
            let mut best: Option<(usize, usize)> = None;
            for (g, group) in lx.groups.iter().enumerate() {
                for p in &group.patterns {
                    if matches_at(&words, i, p)
                        && !used[i..i + p.len()].iter().any(|&u| u)
                        && best.is_none_or(|(len, _)| p.len() > len)
                    {
                        best = Some((p.len(), g));
                    }
                }
                if group.abbreviations.iter().any(|a| *a == words[i].written) && best.is_none() {
                    best = Some((1, g));
                }
            }
            match best {
                Some((len, g)) => {
                    // Function words alone ("help", "in") do not make a concept.
                    for u in &mut used[i..i + len] {
                        *u = true;
                    }
                    let group = &lx.groups[g];
                    match group.term {
                        Some(t) => self.push_term(&mut concepts, t),
                        None => {
                            if !concepts.iter().any(|c| c.label == group.name) {
                                concepts.push(Concept {
                                    label: group.name.clone(),
                                    kind: ConceptKind::Synonyms,
                                    statements: 0,
                                    weight: 0.0,
                                    topic: group.topic,
                                    alts: group.alts.clone(),
                                    is_a: group.is_a.clone(),
                                    term: None,
                                });
                            }
                        }
                    }
                    i += len;
                }
                None => i += 1,
            }
        }
        // Answer types: every cue anywhere in the question.
        let mut cue = vec![false; words.len()];
        let mut kinds: Vec<(usize, f32)> = Vec::new();
        let mut wants_figure = false;
        // (kind, span, has a wildcard) of every cue found.
        let mut found: Vec<(usize, std::ops::Range<usize>, bool)> = Vec::new();
        for (k, kind) in lx.kinds.iter().enumerate() {
            for p in &kind.cues {
                for at in 0..words.len() {
                    if let Some(len) = match_len(&words, at, p) {
                        found.push((k, at..at + len, p.iter().any(|t| t.lower == "*")));
                    }
                }
            }
        }
        // Over the same words, a loose cue ("how … develop") gives way to an exact one of
        // another kind ("how many patients develop"), and a shorter one to a longer one
        // ("common" to "most common").
        let all = found.clone();
        found.retain(|(k, span, loose)| {
            !all.iter().any(|(k2, s2, loose2)| {
                k2 != k
                    && s2.start < span.end
                    && span.start < s2.end
                    && ((*loose && !loose2) || (loose == loose2 && s2.len() > span.len()))
            })
        });
        for (k, kind) in lx.kinds.iter().enumerate() {
            let mut n = 0.0;
            for (_, span, loose) in found.iter().filter(|f| f.0 == k) {
                n += if *loose { 2.0 } else { span.len() as f32 };
                for c in &mut cue[span.clone()] {
                    *c = true;
                }
            }
            if n > 0.0 {
                kinds.push((k, n));
                wants_figure |= kind
                    .figure
                    .iter()
                    .any(|p| (0..words.len()).any(|at| matches_at(&words, at, p)));
            }
        }
        // A secondary kind counts fully only when nothing else is asked.
        let primary = kinds.iter().any(|(k, _)| !lx.kinds[*k].secondary);
        if primary {
            for k in &mut kinds {
                if lx.kinds[k.0].secondary {
                    k.1 *= 0.5;
                }
            }
        }
        kinds.sort_by(|a, b| b.1.total_cmp(&a.1));
        if let Some(&(_, top)) = kinds.first() {
            for k in &mut kinds {
                k.1 = if k.1 >= top { 1.0 } else { 0.6 };
            }
        }
        let wants_list = lx
            .list_cues
            .iter()
            .any(|p| (0..words.len()).any(|at| matches_at(&words, at, p)));
        // Whatever is left is a plain word of the statements, or unknown.
        for (i, w) in words.iter().enumerate() {
            if used[i]
                || cue[i]
                || lx.ignore.contains(&w.lower)
                || topic_spans.iter().any(|r| within(r, w))
            {
                continue;
            }
            let Some(r) = &w.root else { continue };
            // A lone letter ("what's", "Raynaud's") says nothing.
            if w.lower.chars().count() < 2 && !w.lower.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let label = w.lower.clone();
            if concepts.iter().any(|c| c.label == label) {
                continue;
            }
            let kind = if lx.stems.contains_key(r) {
                ConceptKind::Word
            } else if lx.known.contains(&w.lower) {
                // A word of the vocabulary or lexicon ("cutis") that no statement uses.
                continue;
            } else {
                ConceptKind::Unknown
            };
            concepts.push(Concept {
                label,
                kind,
                statements: 0,
                weight: 0.0,
                topic: lx.is_topic_root(r),
                alts: vec![vec![r.clone()]],
                is_a: None,
                term: None,
            });
        }
        let n = self.corpus.statements.len().max(1) as f32;
        for c in &mut concepts {
            c.statements = match c.kind {
                ConceptKind::Unknown => 0,
                _ => self.statements_with(&c.alts),
            };
            let df = c.statements as f32;
            c.weight = if c.topic {
                TOPIC_WEIGHT
            } else {
                (1.0 + (n - df + 0.5) / (df + 0.5)).ln().max(0.2)
            };
            // A disease narrows the answer asked for; it does not outweigh it.
            let disease = c
                .term
                .is_some_and(|t| self.corpus.lexicon.term(t).category == Category::Disease);
            // (Unless the answer asked for is about diseases: then the disease is its focus.)
            let sectioned = kinds.iter().any(|(k, _)| {
                !lx.kinds[*k].sections.is_empty()
                    && lx.kinds[*k].category.as_deref() != Some(Category::Disease.as_str())
            });
            if disease && sectioned {
                c.weight *= DISEASE_WITH_ANSWER_TYPE;
            }
        }
        Ok(Question {
            text,
            answer_types: kinds
                .iter()
                .map(|(k, _)| lx.kinds[*k].name.clone())
                .collect(),
            concepts,
            wants_list,
            wants_figure,
            kinds,
        })
    }

    fn push_term(&self, concepts: &mut Vec<Concept>, t: TermId) {
        if concepts.iter().any(|c| c.term == Some(t)) {
            return;
        }
        let term = self.corpus.lexicon.term(t);
        concepts.push(Concept {
            label: term.name.clone(),
            kind: ConceptKind::Term,
            statements: 0,
            weight: 0.0,
            topic: self.lexis.topic_terms.contains(&t),
            alts: term_alts(term, |f| {
                self.lexis
                    .ta
                    .words(f)
                    .into_iter()
                    .filter_map(|w| w.root)
                    .collect()
            }),
            is_a: None,
            term: Some(t),
        });
    }

    /// A concept for a lexicon term, as `lookup` ranks with it.
    pub(crate) fn term_question(&self, t: TermId, role: Option<&str>) -> Result<Question> {
        let mut concepts = Vec::new();
        self.push_term(&mut concepts, t);
        let n = self.corpus.statements.len().max(1) as f32;
        for c in &mut concepts {
            c.topic = false;
            c.statements = self.statements_with(&c.alts);
            let df = c.statements as f32;
            c.weight = (1.0 + (n - df + 0.5) / (df + 0.5)).ln().max(0.2);
        }
        let category = self.corpus.lexicon.term(t).category;
        let kinds: Vec<(usize, f32)> = self
            .lexis
            .kinds
            .iter()
            .enumerate()
            .filter(|(_, k)| match role {
                Some(r) => k.name == r,
                None => k.category.as_deref() == Some(category.as_str()),
            })
            .map(|(i, _)| (i, 1.0))
            .collect();
        Ok(Question {
            text: self.corpus.lexicon.term(t).name.clone(),
            answer_types: kinds
                .iter()
                .map(|(k, _)| self.lexis.kinds[*k].name.clone())
                .collect(),
            concepts,
            wants_list: false,
            wants_figure: false,
            kinds,
        })
    }

    /// About how many statements state a concept: for each alternative, its rarest word's
    /// document frequency (text and list openings); the largest over alternatives.
    fn statements_with(&self, alts: &[Vec<String>]) -> usize {
        let n = self.corpus.statements.len() as u64;
        alts.iter()
            .map(|alt| {
                alt.iter()
                    .map(|r| self.lexis.stems.get(r).map_or(0, |r| r.df))
                    .min()
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
            .min(n) as usize
    }

    /// The index query for a concept's alternatives: every stem of every root.
    fn concept_query(&self, alts: &[Vec<String>], weight: f32) -> Option<Box<dyn Query>> {
        let f = self.index.fields();
        let mut alt_qs: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for alt in alts {
            let mut musts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for r in alt {
                let Some(Root { stems, .. }) = self.lexis.stems.get(r) else {
                    break;
                };
                let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for s in stems {
                    for (field, w) in [(f.text, 1.0), (f.lead_in, 0.5), (f.section, 0.7)] {
                        let q = TermQuery::new(
                            tantivy::Term::from_field_text(field, s),
                            IndexRecordOption::WithFreqs,
                        );
                        any.push((Occur::Should, boost(Box::new(q), w * weight)));
                    }
                }
                musts.push((Occur::Must, Box::new(BooleanQuery::new(any))));
            }
            if musts.len() == alt.len() && !musts.is_empty() {
                alt_qs.push((Occur::Should, Box::new(BooleanQuery::new(musts))));
            }
        }
        (!alt_qs.is_empty()).then(|| Box::new(BooleanQuery::new(alt_qs)) as Box<dyn Query>)
    }

    fn stems_query(
        &self,
        roots: &HashSet<String>,
        field: tantivy::schema::Field,
    ) -> Vec<(Occur, Box<dyn Query>)> {
        roots
            .iter()
            .filter_map(|r| self.lexis.stems.get(r))
            .flat_map(|r| &r.stems)
            .map(|s| {
                let q = TermQuery::new(
                    tantivy::Term::from_field_text(field, s),
                    IndexRecordOption::WithFreqs,
                );
                (Occur::Should, Box::new(q) as Box<dyn Query>)
            })
            .collect()
    }

    /// Scores one statement against a question.
    fn score(&self, q: &Question, idx: usize) -> Scored {
        let f = self.lexis.feats(&self.corpus.statements, idx);
        let mut score = 0.0;
        let mut matched = Vec::with_capacity(q.concepts.len());
        for c in &q.concepts {
            let alts: Vec<&Vec<String>> = c
                .alts
                .iter()
                .filter(|a| a.iter().all(|r| f.all.contains(r)))
                .collect();
            let in_text_n = alts.iter().filter(|a| contains_seq(&f.text, a)).count();
            let in_text = in_text_n > 0;
            let in_lead = alts.iter().any(|a| contains_seq(&f.lead, a));
            let in_section = alts.iter().any(|a| contains_seq(&f.section, a));
            // Naming it several ways ("limited cutaneous systemic sclerosis (lcSSc)") marks
            // a statement about it, rather than one that mentions it.
            let m: f32 = if in_text {
                1.0 + 0.1 * (in_text_n.min(4) - 1) as f32
                    + if in_section { UNDER_HEADING } else { 0.0 }
            } else if in_section {
                0.6
            } else if in_lead {
                0.4
            } else {
                0.0
            };
            score += c.weight * m;
            matched.push(m > 0.0);
        }
        let mut kind_hit = false;
        for &(k, strength) in &q.kinds {
            let kind = &self.lexis.kinds[k];
            let sec = f.section.iter().any(|r| kind.sections.contains(r))
                || f.lead.iter().any(|r| kind.sections.contains(r));
            let mark = kind
                .marks
                .iter()
                .any(|m| contains_seq(&f.text, m) || contains_seq(&f.lead, m));
            let mut b = 0.0;
            if sec {
                b += SECTION_BONUS;
            }
            if mark {
                b += MARK_BONUS;
            }
            if !kind.figure.is_empty() && f.digit {
                b += if q.wants_figure { 2.0 } else { 1.0 } * MARK_BONUS;
            }
            kind_hit |= b > 0.0;
            score += strength * b;
        }
        let s = &self.corpus.statements[idx];
        if s.is_lead_in() {
            score *= 0.8;
        }
        Scored {
            idx,
            score,
            matched,
            kind_hit,
        }
    }

    /// Ranks the statements for a question, decides whether it is answered and whether the
    /// answer is a whole list.
    pub(crate) fn rank(&self, q: Question, limit: usize) -> Result<Ranked> {
        let f = self.index.fields();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        // The subject is in a large share of statements: it finds candidates only when
        // nothing else can.
        let others = q
            .concepts
            .iter()
            .any(|c| !c.topic && c.kind != ConceptKind::Unknown)
            || !q.kinds.is_empty();
        for c in &q.concepts {
            if c.kind == ConceptKind::Unknown || (c.topic && others) {
                continue;
            }
            if let Some(cq) = self.concept_query(&c.alts, c.weight) {
                clauses.push((Occur::Should, cq));
            }
        }
        for &(k, _) in &q.kinds {
            let kind = &self.lexis.kinds[k];
            clauses.extend(self.stems_query(&kind.sections, f.section));
            let marks: HashSet<String> = kind.marks.iter().flatten().cloned().collect();
            clauses.extend(
                self.stems_query(&marks, f.text)
                    .into_iter()
                    .map(|(o, q)| (o, boost(q, 0.3))),
            );
        }
        let wanted = (limit * 4).max(24);
        let mut found = Vec::new();
        if !clauses.is_empty() {
            let query = Box::new(BooleanQuery::new(clauses));
            found = self.index.search("statement", query, wanted)?;
        }
        if found.is_empty() && others {
            // The other concepts found nothing: the subject still does.
            let topic: Vec<(Occur, Box<dyn Query>)> = q
                .concepts
                .iter()
                .filter(|c| c.topic)
                .filter_map(|c| self.concept_query(&c.alts, c.weight))
                .map(|cq| (Occur::Should, cq))
                .collect();
            if !topic.is_empty() {
                found =
                    self.index
                        .search("statement", Box::new(BooleanQuery::new(topic)), wanted)?;
            }
        }
        let mut scored: Vec<Scored> = Vec::new();
        {
            for (id, bm25) in found {
                if let Some(&i) = self.by_id(&id) {
                    let mut s = self.score(&q, i);
                    // BM25 (with its length normalisation) only breaks near-ties.
                    s.score += 0.01 * bm25;
                    if s.score > 0.0 {
                        scored.push(s);
                    }
                }
            }
        }
        scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.idx.cmp(&b.idx)));
        let statements = &self.corpus.statements;
        let (bare, real): (Vec<Scored>, Vec<Scored>) = scored
            .into_iter()
            .partition(|s| self.lexis.feats(statements, s.idx).bare);
        let abstention = self.abstain(&q, &real, &bare);
        let confidence = match (&abstention, real.first()) {
            (None, Some(top)) => self.coverage(&q, top),
            _ => 0.0,
        };
        let list = if abstention.is_none() {
            self.whole_list(&q, &real)
        } else {
            None
        };
        let mut hits = real;
        if let Some((_, items)) = &list {
            // The list in its own order first, then the rest.
            let mut ordered: Vec<Scored> = items
                .iter()
                .filter_map(|i| hits.iter().find(|h| h.idx == *i).cloned())
                .collect();
            hits.retain(|h| !items.contains(&h.idx));
            ordered.append(&mut hits);
            hits = ordered;
            hits.truncate(limit.max(items.len()));
        } else {
            hits.truncate(limit);
        }
        Ok(Ranked {
            question: q,
            hits,
            abstention,
            confidence,
            list,
        })
    }

    fn by_id(&self, id: &str) -> Option<&usize> {
        self.ids.get(id)
    }

    /// How much of the question the statement states: matched weight over all weight, the
    /// answer type counting as one concept.
    fn coverage(&self, q: &Question, top: &Scored) -> f32 {
        let mut total = 0.0;
        let mut got = 0.0;
        for (c, &m) in q.concepts.iter().zip(&top.matched) {
            if c.topic {
                continue;
            }
            total += c.weight;
            if m {
                got += c.weight;
            }
        }
        if !q.kinds.is_empty() {
            total += SECTION_BONUS;
            if top.kind_hit {
                got += SECTION_BONUS;
            }
        }
        if total == 0.0 {
            // Only the subject was asked about: any statement about it answers, weakly.
            return 0.5;
        }
        (got / total).clamp(0.0, 1.0)
    }

    /// Whether (and why) the question goes unanswered.
    fn abstain(&self, q: &Question, real: &[Scored], bare: &[Scored]) -> Option<Abstention> {
        // Named things no statement states.
        let uncovered: Vec<&Concept> = q
            .concepts
            .iter()
            .filter(|c| c.kind != ConceptKind::Word && c.kind != ConceptKind::Unknown)
            .filter(|c| c.statements == 0)
            .collect();
        if !uncovered.is_empty() {
            let mut empty_headings = Vec::new();
            for c in &uncovered {
                let Some(is_a) = &c.is_a else { continue };
                let roots = self.lexis.ta.roots(is_a);
                for e in &self.lexis.empties {
                    let hits = roots.iter().filter(|r| e.roots.contains(r)).count();
                    let title = e.path.last().cloned().unwrap_or_default();
                    if hits * 2 >= roots.len().max(1) && !empty_headings.contains(&title) {
                        empty_headings.push(title);
                    }
                }
            }
            return Some(Abstention::NotCovered {
                what: uncovered.iter().map(|c| c.label.clone()).collect(),
                empty_headings,
            });
        }
        // The question names an empty heading outright ("other connective tissue diseases").
        let asked = self.lexis.ta.roots(&q.text);
        if let Some(e) = self
            .lexis
            .empties
            .iter()
            .filter(|e| e.roots.len() >= 2 && contains_seq(&asked, &e.roots))
            .max_by_key(|e| e.roots.len())
        {
            return Some(Abstention::NoContent {
                heading: e.path.last().cloned().unwrap_or_default(),
                opening: e.opening.map(|i| self.corpus.statements[i].text.clone()),
            });
        }
        let Some(top) = real.first() else {
            if let Some(e) = self.best_empty(q, bare, 0.0) {
                return Some(e);
            }
            return Some(Abstention::NoMatch);
        };
        // An empty heading or bare list opening fits better than any statement.
        if let Some(e) = self.best_empty(q, bare, top.score) {
            return Some(e);
        }
        // A number is asked for: the best statement must give one.
        if q.wants_figure {
            let f = self.lexis.feats(&self.corpus.statements, top.idx);
            // The figure must be about what was asked (25 % of SSc says nothing of JDM).
            let misses = q
                .concepts
                .iter()
                .zip(&top.matched)
                .any(|(c, &m)| !m && !c.topic && c.kind != ConceptKind::Unknown);
            if !f.digit || misses {
                let about: Vec<String> = q
                    .concepts
                    .iter()
                    .filter(|c| !c.topic && c.kind != ConceptKind::Unknown)
                    .map(|c| c.label.clone())
                    .collect();
                let about = if about.is_empty() {
                    "it".to_string()
                } else {
                    format!("calcinosis in {}", join_and(&about))
                };
                return Some(Abstention::NoFigure { about });
            }
        }
        // Words nobody knows, and the best statement states nothing else that was asked.
        let unknown: Vec<String> = q
            .concepts
            .iter()
            .zip(&top.matched)
            .filter(|(c, &m)| {
                c.kind == ConceptKind::Unknown || (c.kind == ConceptKind::Word && !m && !c.topic)
            })
            .map(|(c, _)| c.label.clone())
            .collect();
        let specific = q
            .concepts
            .iter()
            .zip(&top.matched)
            .any(|(c, &m)| m && !c.topic && c.kind != ConceptKind::Unknown);
        if !unknown.is_empty() && !specific && !top.kind_hit {
            return Some(Abstention::NotCovered {
                what: unknown,
                empty_headings: Vec::new(),
            });
        }
        None
    }

    /// The empty heading or bare opening that fits the question better than `beat`, as an
    /// abstention.
    fn best_empty(&self, q: &Question, bare: &[Scored], beat: f32) -> Option<Abstention> {
        let statements = &self.corpus.statements;
        let mut best: Option<(f32, Abstention)> = None;
        for b in bare {
            if b.score > beat && best.as_ref().is_none_or(|(s, _)| b.score > *s) {
                let s = &statements[b.idx];
                best = Some((
                    b.score,
                    Abstention::NoContent {
                        heading: s.section.last().cloned().unwrap_or_default(),
                        opening: Some(s.text.clone()),
                    },
                ));
            }
        }
        for e in &self.lexis.empties {
            if e.opening.is_some() {
                continue;
            }
            let mut score = 0.0;
            for c in &q.concepts {
                if !c.topic && c.alts.iter().any(|a| contains_seq(&e.roots, a)) {
                    score += c.weight;
                }
            }
            for &(k, strength) in &q.kinds {
                if e.roots
                    .iter()
                    .any(|r| self.lexis.kinds[k].sections.contains(r))
                {
                    score += strength * SECTION_BONUS;
                }
            }
            if score > beat && best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((
                    score,
                    Abstention::NoContent {
                        heading: e.path.last().cloned().unwrap_or_default(),
                        opening: None,
                    },
                ));
            }
        }
        best.map(|(_, a)| a)
    }

    /// The list that answers the question as a whole: asked for as a list, or most of its
    /// items tie for first place.
    fn whole_list(&self, q: &Question, real: &[Scored]) -> Option<(Option<usize>, Vec<usize>)> {
        let top = real.first()?;
        let l = self.lexis.list_of[top.idx]?;
        let list = &self.lexis.lists[l];
        if list.items.len() < 2 {
            return None;
        }
        let tied = real
            .iter()
            .filter(|s| list.items.contains(&s.idx) && s.score >= top.score * 0.97)
            .count();
        let need = 3.max((list.items.len() * 3).div_ceil(5));
        if (q.wants_list && tied >= 1) || tied >= need {
            Some((list.lead, list.items.clone()))
        } else {
            None
        }
    }

    /// If `question` follows up on `previous` ("and in dermatomyositis?"), the question it
    /// stands for: the previous one with its diseases replaced by the new ones.
    pub(crate) fn follow_up(&self, previous: &str, question: &str) -> Option<String> {
        let lx = self.lexis;
        let words = lx.ta.words(question);
        let cue = lx.follow_cues.iter().find(|p| matches_at(&words, 0, p))?;
        let rest_start = words
            .get(cue.len())
            .map(|w| w.range.start)
            .unwrap_or(question.len());
        let rest = &question[rest_start..];
        let q = self.understand(rest).ok()?;
        if !q.kinds.is_empty() || q.concepts.iter().any(|c| c.topic) || q.concepts.is_empty() {
            return None;
        }
        let new_is_disease = q.concepts.iter().any(|c| {
            c.term
                .is_some_and(|t| self.corpus.lexicon.term(t).category == Category::Disease)
        });
        let mut prev = previous.to_string();
        if new_is_disease {
            let mut ms = self.matcher.find(previous);
            ms.sort_by_key(|m| std::cmp::Reverse(m.range.start));
            for m in ms {
                if self.corpus.lexicon.term(m.term).category == Category::Disease {
                    prev.replace_range(m.range.clone(), "");
                }
            }
        }
        let prev = prev.trim_end_matches(['?', '.', ' ']).to_string();
        Some(format!("{prev} {}", rest.trim()))
    }
}

/// Joins citations of several statements, without repeats.
pub(crate) fn merged_sources(statements: &[&Statement]) -> String {
    render_sources(statements.iter().flat_map(|s| &s.sources))
}

/// Lower-cases the first letter of a list item shown inline, unless it starts an acronym.
pub(crate) fn inline(text: &str) -> String {
    let mut cs = text.chars();
    match (cs.next(), cs.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && b.is_lowercase() => {
            let mut out = a.to_lowercase().to_string();
            out.push_str(&text[a.len_utf8()..]);
            out
        }
        _ => text.to_string(),
    }
}
