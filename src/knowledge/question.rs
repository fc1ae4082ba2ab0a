//! Stage 2 — question analysis: a question becomes a plain [`Question`] value — what was read
//! (after typo correction, each correction recorded), its concepts and which of them are its
//! *subject*, the kinds of answer asked for, what is left out ("besides pain"), the two sides
//! of "X or Y", the figure or frequency word it states, and the words nothing recognised.
//! `--explain` prints this value as it is. Nothing here looks at the index's scores.
//!
//! Steps, in order, each its own function: [`correct`] (only a token that is neither an
//! English word nor known to the corpus is corrected), concepts (lexicon terms, then synonym
//! groups, longest phrase first), answer types (cues), the plain words left over (a word of the
//! statements, or not understood), then the question's shape (yes/no, exclusions, sides,
//! figures), then weights.

use std::ops::Range;

use crate::corpus::lexicon::{Category, TermId};
use crate::error::Result;

use super::rank::{
    Ranker, DISEASE_WITH_ANSWER_TYPE, TOPIC_WEIGHT, UNKNOWN_WEIGHT, UNKNOWN_WEIGHT_IN_CLAIM,
};
use super::text::Word;
use super::vocabulary::{match_len, matches_at, term_alts, Lexis, Pattern};

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
    /// The words of the question it was read from, as the user wrote them.
    pub said: String,
    /// What it is.
    pub kind: ConceptKind,
    /// Statements that state it.
    pub statements: usize,
    /// Its weight (rarer is heavier; the corpus's subject weighs little).
    pub weight: f32,
    /// Whether it is the corpus's subject.
    pub topic: bool,
    /// Whether it is what the question is about (a disease, feature, site, antibody or
    /// treatment named in it), rather than the corpus's subject or a plain word.
    pub subject: bool,
    /// Left out by the question ("complications besides pain").
    pub excluded: bool,
    #[serde(skip)]
    pub(crate) alts: Vec<Vec<String>>,
    #[serde(skip)]
    pub(crate) is_a: Option<String>,
    #[serde(skip)]
    pub(crate) term: Option<TermId>,
    /// The question's words it covers (indices into the corrected question's words).
    #[serde(skip)]
    pub(crate) span: Range<usize>,
}

/// A word read as another: only a token that is neither English nor known is corrected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Correction {
    /// As written.
    pub from: String,
    /// As read.
    pub to: String,
}

/// A share of patients stated in a question ("about half", "10%").
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Figure {
    /// The words of the question.
    pub said: String,
    /// The percentage they mean.
    pub percent: f32,
}

/// What `ask` understood of a question.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Question {
    /// The question as asked.
    pub asked: String,
    /// The question after typo correction.
    pub text: String,
    /// What it is about, in the user's words (the subject concepts).
    pub subject: Vec<String>,
    /// Its concepts.
    pub concepts: Vec<Concept>,
    /// The kinds of answer asked for, strongest first.
    pub answer_types: Vec<String>,
    /// It asks for a whole list.
    pub wants_list: bool,
    /// It asks for a number.
    pub wants_figure: bool,
    /// It is a yes/no question ("is", "does", "can" … first).
    pub yes_no: bool,
    /// The figure it states, to be checked against the statements.
    pub figure: Option<Figure>,
    /// The word calling something rare ("rare", "uncommon"), to be checked likewise.
    pub rare: Option<String>,
    /// A word that makes a claim absolute or negative ("only", "never", "not"): a yes/no
    /// question holding one never gets a bare "Yes".
    pub qualified: bool,
    /// The two sides of "X or Y" / "X vs Y", as concept labels.
    pub sides: Vec<String>,
    /// Words read as others.
    pub corrections: Vec<Correction>,
    /// Content words nothing recognised, in the user's words.
    pub not_understood: Vec<String>,
    #[serde(skip)]
    pub(crate) kinds: Vec<(usize, f32)>,
    /// The roots of the words that cue the answer types ("complication").
    #[serde(skip)]
    pub(crate) cue_roots: Vec<String>,
    /// Words the vocabulary knows but no statement uses ("abnormal"): a claim holding one
    /// is stated by no statement.
    pub unstated: Vec<String>,
}

impl Question {
    /// The concepts that decide which statements are candidates.
    pub(crate) fn subjects(&self) -> impl Iterator<Item = (usize, &Concept)> {
        self.concepts.iter().enumerate().filter(|(_, c)| c.subject)
    }
}

/// Corrects typos: a word with a root that is neither known to the corpus, nor a lexicon
/// form, nor an English word, is replaced by the nearest known word, if one is close enough.
/// Returns the corrected text and what was corrected.
pub(crate) fn correct(
    lx: &Lexis,
    known_form: impl Fn(&str) -> bool,
    question: &str,
) -> (String, Vec<Correction>) {
    let mut text = question.to_string();
    let mut corrections = Vec::new();
    for w in lx.ta.words(question).iter().rev() {
        if w.root.is_none() || lx.is_known(w) || known_form(&w.lower) || Lexis::is_english(&w.lower)
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

/// The text a run of words covers, as written.
fn said(text: &str, words: &[Word], span: &Range<usize>) -> String {
    match (
        words.get(span.start),
        span.end.checked_sub(1).and_then(|e| words.get(e)),
    ) {
        (Some(a), Some(b)) if a.range.start <= b.range.end => {
            text[a.range.start..b.range.end].to_string()
        }
        _ => String::new(),
    }
}

/// Every place a pattern matches: (start, length).
fn find_all<'p>(
    words: &'p [Word],
    patterns: &'p [Pattern],
) -> impl Iterator<Item = (usize, usize)> + 'p {
    patterns.iter().flat_map(move |p| {
        (0..words.len()).filter_map(move |at| match_len(words, at, p).map(|n| (at, n)))
    })
}

/// A number followed by `%` or "percent" in the text ("10%", "10 percent").
pub(crate) fn numeric_figure(text: &str) -> Option<Figure> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        let number = &text[start..i];
        let rest = &text[i..];
        let after = rest.trim_start();
        let unit = if after.starts_with('%') {
            Some(rest.len() - after.len() + 1)
        } else if after.to_ascii_lowercase().starts_with("percent") {
            Some(rest.len() - after.len() + "percent".len())
        } else {
            None
        };
        if let (Some(u), Ok(p)) = (unit, number.parse::<f32>()) {
            if (0.0..=100.0).contains(&p) {
                return Some(Figure {
                    said: text[start..i + u].to_string(),
                    percent: p,
                });
            }
        }
    }
    None
}

impl Ranker<'_> {
    /// Understands a question (see the module documentation).
    pub(crate) fn understand(&self, question: &str) -> Result<Question> {
        let lx = self.lexis;
        let lexicon = &self.corpus.lexicon;
        let (text, corrections) = correct(lx, |w| lexicon.find(w).is_some(), question);
        let words = lx.ta.words(&text);
        let mut used = vec![false; words.len()];
        let mut concepts: Vec<Concept> = Vec::new();
        let topic_spans = self.find_terms(&text, &words, &mut used, &mut concepts);
        self.find_groups(&text, &words, &mut used, &topic_spans, &mut concepts);
        let (kinds, mut cue, wants_figure) = self.answer_types(&words);
        let kind_cue = cue.clone();
        // Words stating a figure or calling something rare are checked as such (by the
        // composition), not looked for as concepts.
        let figure_patterns: Vec<Pattern> = lx.figures.iter().map(|(p, _)| p.clone()).collect();
        for (at, n) in find_all(&words, &figure_patterns).chain(find_all(&words, &lx.rare)) {
            for c in &mut cue[at..at + n] {
                *c = true;
            }
        }
        // So are the words making a claim absolute or negative ("only", "absent").
        for (i, w) in words.iter().enumerate() {
            cue[i] |= lx.qualifiers.contains(&w.lower);
        }
        let wants_list = lx
            .list_cues
            .iter()
            .any(|p| (0..words.len()).any(|at| matches_at(&words, at, p)));
        let unstated = self.plain_words(&text, &words, &used, &cue, &topic_spans, &mut concepts);
        self.mark_exclusions(&words, &mut concepts);
        let sides = self.sides(&words, &concepts);
        // "Is it …?", or a claim with no question word ("Calcinosis is rare in JDM?"); a bare
        // noun phrase ("Calcinosis sites in SSc?") asks for an answer, not a verdict.
        let yes_no = words.first().is_some_and(|w| lx.yes_no.contains(&w.lower))
            || (!words.iter().any(|w| lx.open_question.contains(&w.lower))
                && words.iter().any(|w| lx.yes_no.contains(&w.lower)));
        self.weigh(&mut concepts, &kinds, yes_no);
        let figure = numeric_figure(&text).or_else(|| {
            find_all(
                &words,
                &lx.figures
                    .iter()
                    .map(|(p, _)| p.clone())
                    .collect::<Vec<_>>(),
            )
            .max_by_key(|&(_, n)| n)
            .and_then(|(at, n)| {
                let pct = lx
                    .figures
                    .iter()
                    .find(|(p, _)| match_len(&words, at, p) == Some(n))
                    .map(|(_, pct)| *pct)?;
                Some(Figure {
                    said: said(&text, &words, &(at..at + n)),
                    percent: pct,
                })
            })
        });
        let rare = find_all(&words, &lx.rare)
            .next()
            .map(|(at, n)| said(&text, &words, &(at..at + n)));
        let not_understood = unknown_phrases(&concepts);
        let cue_roots = words
            .iter()
            .zip(&kind_cue)
            .filter(|(_, &c)| c)
            .filter_map(|(w, _)| w.root.clone())
            .collect();
        let qualified = words.iter().any(|w| lx.qualifiers.contains(&w.lower));
        Ok(Question {
            asked: question.to_string(),
            text,
            subject: concepts
                .iter()
                .filter(|c| c.subject)
                .map(|c| c.said.clone())
                .collect(),
            answer_types: kinds
                .iter()
                .map(|(k, _)| lx.kinds[*k].name.clone())
                .collect(),
            concepts,
            wants_list,
            wants_figure,
            yes_no,
            figure,
            rare,
            qualified,
            sides,
            corrections,
            not_understood,
            kinds,
            cue_roots,
            unstated,
        })
    }

    /// Lexicon terms in the question; returns the byte spans of the corpus's subject.
    fn find_terms(
        &self,
        text: &str,
        words: &[Word],
        used: &mut [bool],
        concepts: &mut Vec<Concept>,
    ) -> Vec<Range<usize>> {
        let lx = self.lexis;
        let within = |r: &Range<usize>, w: &Word| w.range.start >= r.start && w.range.end <= r.end;
        let mut topic_spans = Vec::new();
        for m in self.matcher.find(text) {
            // A form of the subject ("spinal calcinosis") leaves its other words to count
            // when they mean something of their own (a synonym group).
            let topic = lx.topic_terms.contains(&m.term);
            if topic {
                topic_spans.push(m.range.clone());
            }
            let mut span: Option<Range<usize>> = None;
            for (i, w) in words.iter().enumerate() {
                if within(&m.range, w) {
                    span = Some(span.map_or(i..i + 1, |s| s.start..i + 1));
                    if !topic || w.root.as_deref().is_none_or(|r| lx.is_topic_root(r)) {
                        used[i] = true;
                    }
                }
            }
            let span = span.unwrap_or(0..0);
            self.push_term(concepts, m.term, said(text, words, &span), span);
        }
        topic_spans
    }

    /// Synonym groups, longest phrase first at each position. A group may take words a form
    /// of the corpus's subject took ("tumoral calcinosis" is not calcinosis).
    fn find_groups(
        &self,
        text: &str,
        words: &[Word],
        used: &mut [bool],
        topic_spans: &[Range<usize>],
        concepts: &mut Vec<Concept>,
    ) {
        let lx = self.lexis;
        let in_topic = |w: &Word| {
            topic_spans
                .iter()
                .any(|r| w.range.start >= r.start && w.range.end <= r.end)
        };
        let free = |i: usize, used: &[bool]| !used[i] || in_topic(&words[i]);
        let mut i = 0;
        while i < words.len() {
            if used[i] && !in_topic(&words[i]) {
                i += 1;
                continue;
            }
            let mut best: Option<(usize, usize)> = None;
            for (g, group) in lx.groups.iter().enumerate() {
                for p in &group.patterns {
                    if matches_at(words, i, p)
                        && (i..i + p.len()).all(|j| free(j, used))
                        // Over subject words, only a longer phrase than the subject's own.
                        && (!used[i] || p.len() > 1)
                        && best.is_none_or(|(len, _)| p.len() > len)
                    {
                        best = Some((p.len(), g));
                    }
                }
                if !used[i]
                    && group.abbreviations.iter().any(|a| *a == words[i].written)
                    && best.is_none()
                {
                    best = Some((1, g));
                }
            }
            let Some((len, g)) = best else {
                i += 1;
                continue;
            };
            let group = &lx.groups[g];
            // Over subject words, a group that is itself the subject adds nothing.
            if used[i] && group.topic {
                i += 1;
                continue;
            }
            for u in &mut used[i..i + len] {
                *u = true;
            }
            let span = i..i + len;
            let words_said = said(text, words, &span);
            match group.term {
                Some(t) => self.push_term(concepts, t, words_said, span),
                None => {
                    // The same group again right after ("shockwave lithotripsy"): one
                    // concept, said in all its words.
                    if let Some(c) = concepts
                        .iter_mut()
                        .find(|c| c.label == group.name && c.span.end == span.start)
                    {
                        c.span = c.span.start..span.end;
                        c.said = said(text, words, &c.span);
                    } else if !concepts.iter().any(|c| c.label == group.name) {
                        concepts.push(Concept {
                            label: group.name.clone(),
                            said: words_said,
                            kind: ConceptKind::Synonyms,
                            statements: 0,
                            weight: 0.0,
                            topic: group.topic,
                            subject: false,
                            excluded: false,
                            alts: group.alts.clone(),
                            is_a: group.is_a.clone(),
                            term: None,
                            span,
                        });
                    }
                }
            }
            i += len;
        }
    }

    /// Answer types: every cue anywhere in the question. Returns the kinds with their
    /// strengths, which words are cues, and whether a number is asked for.
    fn answer_types(&self, words: &[Word]) -> (Vec<(usize, f32)>, Vec<bool>, bool) {
        let lx = self.lexis;
        let mut cue = vec![false; words.len()];
        let mut kinds: Vec<(usize, f32)> = Vec::new();
        let mut wants_figure = false;
        // (kind, span, has a wildcard) of every cue found.
        let mut found: Vec<(usize, Range<usize>, bool)> = Vec::new();
        for (k, kind) in lx.kinds.iter().enumerate() {
            for p in &kind.cues {
                for at in 0..words.len() {
                    if let Some(len) = match_len(words, at, p) {
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
                    .any(|p| (0..words.len()).any(|at| matches_at(words, at, p)));
            }
        }
        // A secondary kind (a frequency, an association) qualifies the thing asked for: it
        // never outranks it, however many words its cue has ("which site is most common").
        let primary = kinds.iter().any(|(k, _)| !lx.kinds[*k].secondary);
        kinds.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top = kinds
            .iter()
            .filter(|(k, _)| !primary || !lx.kinds[*k].secondary)
            .map(|k| k.1)
            .fold(0.0, f32::max);
        for k in &mut kinds {
            let secondary = primary && lx.kinds[k.0].secondary;
            k.1 = if k.1 >= top && !secondary { 1.0 } else { 0.6 };
        }
        kinds.sort_by(|a, b| b.1.total_cmp(&a.1));
        (kinds, cue, wants_figure)
    }

    /// Whatever is left is a plain word of the statements, or not understood.
    fn plain_words(
        &self,
        text: &str,
        words: &[Word],
        used: &[bool],
        cue: &[bool],
        topic_spans: &[Range<usize>],
        concepts: &mut Vec<Concept>,
    ) -> Vec<String> {
        let lx = self.lexis;
        let mut unstated = Vec::new();
        for (i, w) in words.iter().enumerate() {
            if used[i]
                || cue[i]
                || lx.ignore.contains(&w.lower)
                || topic_spans
                    .iter()
                    .any(|r| w.range.start >= r.start && w.range.end <= r.end)
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
            let adverb =
                w.lower.len() > 4 && w.lower.ends_with("ly") && Lexis::is_english(&w.lower);
            if Lexis::is_function_word(&w.lower) || adverb {
                // A function word ("between", "over") or an adverb ("exactly") qualifies; it
                // is not what is asked about.
                continue;
            }
            let kind = if lx.stems.contains_key(r) {
                ConceptKind::Word
            } else if lx.known.contains(&w.lower) {
                // A word of the vocabulary or lexicon ("cutis", "abnormal") that no statement
                // uses: it does not rank, but a claim holding it is not stated by any
                // statement, so it never gets a bare "Yes".
                unstated.push(w.lower.clone());
                continue;
            } else if w.lower.chars().any(|c| c.is_ascii_digit()) {
                // A figure is checked as a figure, not as a word.
                continue;
            } else {
                ConceptKind::Unknown
            };
            concepts.push(Concept {
                label,
                said: said(text, words, &(i..i + 1)),
                kind,
                statements: 0,
                weight: 0.0,
                topic: lx.is_topic_root(r),
                subject: false,
                excluded: false,
                alts: vec![vec![r.clone()]],
                is_a: None,
                term: None,
                span: i..i + 1,
            });
        }
        unstated
    }

    /// Concepts right after an exclusion cue ("besides pain", "other than surgery") are left
    /// out: the first concept after the cue, and those joined to it by "and"/"or"/",".
    fn mark_exclusions(&self, words: &[Word], concepts: &mut [Concept]) {
        for (at, n) in find_all(words, &self.lexis.exclusion_cues) {
            let from = at + n;
            let mut after: Vec<usize> = (0..concepts.len())
                .filter(|&i| concepts[i].span.start >= from && !concepts[i].topic)
                .collect();
            after.sort_by_key(|&i| concepts[i].span.start);
            let mut end = from;
            for i in after {
                // Joined: nothing but stop words between the previous one and this one.
                let gap = (end..concepts[i].span.start).all(|j| words[j].root.is_none());
                if !gap && end > from {
                    break;
                }
                if !gap {
                    break;
                }
                concepts[i].excluded = true;
                end = concepts[i].span.end;
            }
        }
    }

    /// The two sides of "X or Y" / "X vs Y": the nearest named concepts either side of the cue.
    fn sides(&self, words: &[Word], concepts: &[Concept]) -> Vec<String> {
        let named = |c: &&Concept| {
            matches!(c.kind, ConceptKind::Term | ConceptKind::Synonyms) && !c.topic && !c.excluded
        };
        for (at, n) in find_all(words, &self.lexis.alternative_cues) {
            let before = concepts
                .iter()
                .filter(named)
                .filter(|c| c.span.end <= at)
                .max_by_key(|c| c.span.end);
            let after = concepts
                .iter()
                .filter(named)
                .filter(|c| c.span.start >= at + n)
                .min_by_key(|c| c.span.start);
            if let (Some(a), Some(b)) = (before, after) {
                if a.label != b.label {
                    return vec![a.label.clone(), b.label.clone()];
                }
            }
        }
        Vec::new()
    }

    /// Weights (rarer is heavier), and which concepts are the subject.
    fn weigh(&self, concepts: &mut [Concept], kinds: &[(usize, f32)], yes_no: bool) {
        let lx = self.lexis;
        let n = self.corpus.statements.len().max(1) as f32;
        // (Unless the answer asked for is about diseases: then the disease is its focus.)
        let sectioned = kinds.iter().any(|(k, _)| {
            !lx.kinds[*k].sections.is_empty()
                && lx.kinds[*k].category.as_deref() != Some(Category::Disease.as_str())
        });
        for c in concepts.iter_mut() {
            c.statements = match c.kind {
                ConceptKind::Unknown => 0,
                _ => self.statements_with(&c.alts),
            };
            let df = c.statements as f32;
            c.weight = if c.topic {
                TOPIC_WEIGHT
            } else if c.kind == ConceptKind::Unknown {
                // In a yes/no question every content word is part of the claim to check.
                if yes_no {
                    UNKNOWN_WEIGHT_IN_CLAIM
                } else {
                    UNKNOWN_WEIGHT
                }
            } else {
                (1.0 + (n - df + 0.5) / (df + 0.5)).ln().max(0.2)
            };
            // A disease narrows the answer asked for; it does not outweigh it.
            let disease = c
                .term
                .is_some_and(|t| self.corpus.lexicon.term(t).category == Category::Disease);
            if disease && sectioned {
                c.weight *= DISEASE_WITH_ANSWER_TYPE;
            }
            c.subject = matches!(c.kind, ConceptKind::Term | ConceptKind::Synonyms)
                && !c.topic
                && !c.excluded
                && c.statements > 0;
        }
    }

    pub(crate) fn push_term(
        &self,
        concepts: &mut Vec<Concept>,
        t: TermId,
        said: String,
        span: Range<usize>,
    ) {
        if concepts.iter().any(|c| c.term == Some(t)) {
            return;
        }
        let term = self.corpus.lexicon.term(t);
        concepts.push(Concept {
            label: term.name.clone(),
            said,
            kind: ConceptKind::Term,
            statements: 0,
            weight: 0.0,
            topic: self.lexis.topic_terms.contains(&t),
            subject: false,
            excluded: false,
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
            span,
        });
    }

    /// A question for a lexicon term, as `lookup` ranks with it: the term is the subject.
    pub(crate) fn term_question(&self, t: TermId, role: Option<&str>) -> Result<Question> {
        let mut concepts = Vec::new();
        let name = self.corpus.lexicon.term(t).name.clone();
        self.push_term(&mut concepts, t, name.clone(), 0..0);
        let n = self.corpus.statements.len().max(1) as f32;
        for c in &mut concepts {
            c.topic = false;
            c.statements = self.statements_with(&c.alts);
            let df = c.statements as f32;
            c.weight = (1.0 + (n - df + 0.5) / (df + 0.5)).ln().max(0.2);
            c.subject = c.statements > 0;
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
            asked: name.clone(),
            text: name.clone(),
            subject: vec![name],
            answer_types: kinds
                .iter()
                .map(|(k, _)| self.lexis.kinds[*k].name.clone())
                .collect(),
            concepts,
            wants_list: false,
            wants_figure: false,
            yes_no: false,
            figure: None,
            rare: None,
            qualified: false,
            sides: Vec::new(),
            corrections: Vec::new(),
            not_understood: Vec::new(),
            kinds,
            cue_roots: Vec::new(),
            unstated: Vec::new(),
        })
    }

    /// If `question` follows up on `previous` ("and in dermatomyositis?"), the question it
    /// stands for: the previous one with its diseases replaced by the new ones.
    pub(crate) fn follow_up(&self, previous: &str, question: &str) -> Option<String> {
        let lx = self.lexis;
        let words = lx.ta.words(question);
        let cue = lx.follow_cues.iter().find(|p| matches_at(&words, 0, p))?;
        // The cue's last word ("in" of "and in") is kept when the previous question has it
        // before the disease it replaces, so it is not said twice.
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
        let rest = rest.trim();
        // "how common is it in" + "in dermatomyositis": one "in", not two.
        let joined = match (prev.rsplit(' ').next(), rest.split(' ').next()) {
            (Some(a), Some(b)) if !a.is_empty() && a.eq_ignore_ascii_case(b) => {
                format!("{prev}{}", &rest[b.len()..])
            }
            _ => format!("{prev} {rest}"),
        };
        Some(joined)
    }
}

/// The words not understood, as the user wrote them, in order.
fn unknown_phrases(concepts: &[Concept]) -> Vec<String> {
    // Each word on its own: adjacent words need not belong together ("exercise safe").
    let mut unknown: Vec<&Concept> = concepts
        .iter()
        .filter(|c| c.kind == ConceptKind::Unknown)
        .collect();
    unknown.sort_by_key(|c| c.span.start);
    unknown.into_iter().map(|c| c.said.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_kb;
    use super::*;

    fn understand(q: &str) -> Question {
        test_kb().ranker().understand(q).unwrap()
    }

    #[test]
    fn the_subject_is_what_is_asked_about() {
        // (question, subject in the user's words)
        let cases: &[(&str, &[&str])] = &[
            (
                "Is calcinosis a common complication in juvenile dermatomyositis?",
                &["juvenile dermatomyositis"],
            ),
            (
                "Which antibodies go with calcinosis in SSc?",
                &["SSc", "antibodies"],
            ),
            ("Where does calcinosis occur?", &[]),
            // The corpus's own subject is never the question's subject.
            ("Tell me about calcinosis cutis", &[]),
        ];
        for (q, subject) in cases {
            assert_eq!(understand(q).subject, *subject, "{q}");
        }
    }

    #[test]
    fn only_what_is_not_a_word_is_corrected() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "What are the surgicle options?",
                &[("surgicle", "surgical")],
            ),
            (
                "whre does calcinosis ocur",
                &[("whre", "where"), ("ocur", "occur")],
            ),
            // English words are never rewritten, however close to a corpus word.
            ("Is exercise safe for someone with calcinosis?", &[]),
            ("Why does calcinosis form in the first place?", &[]),
            ("Is calcinosis common in a child?", &[]),
        ];
        for (q, want) in cases {
            let got: Vec<(String, String)> = understand(q)
                .corrections
                .into_iter()
                .map(|c| (c.from, c.to))
                .collect();
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            assert_eq!(got, want, "{q}");
        }
    }

    #[test]
    fn words_not_understood_are_reported_and_shorthand_is_understood() {
        let q = understand("Is exercise safe for someone with calcinosis?");
        assert_eq!(q.not_understood, vec!["exercise", "safe"]);
        // Function words and adverbs are not content ("between", "exactly").
        let q = understand("What exactly happens between the muscles?");
        assert!(q.not_understood.is_empty(), "{:?}", q.not_understood);
        let q = understand("Ca deposits in SSc pts: which Abs are assoc?");
        assert!(q.not_understood.is_empty(), "{:?}", q.not_understood);
        assert!(
            q.answer_types.contains(&"antibody".to_string()),
            "{:?}",
            q.answer_types
        );
    }

    #[test]
    fn shape_yes_no_exclusions_sides_figures() {
        let q = understand("Is calcinosis common in JDM?");
        assert!(q.yes_no && !q.qualified);
        let q = understand("Calcinosis is a rare complication of JDM?");
        assert!(q.yes_no);
        assert_eq!(q.rare.as_deref(), Some("rare"));
        assert!(!understand("Calcinosis sites in SSc?").yes_no);
        assert!(understand("Does calcinosis only occur in the fingers?").qualified);
        let q = understand("What complications can calcinosis cause besides pain?");
        let excluded: Vec<&str> = q
            .concepts
            .iter()
            .filter(|c| c.excluded)
            .map(|c| c.said.as_str())
            .collect();
        assert_eq!(excluded, vec!["pain"]);
        let q = understand("Is calcinosis more frequent in SSc or in dermatomyositis?");
        assert_eq!(q.sides, vec!["systemic sclerosis", "dermatomyositis"]);
        let q = understand("Do about half of patients with SSc get calcinosis?");
        let f = q.figure.expect("figure");
        assert_eq!((f.said.as_str(), f.percent), ("about half", 50.0));
        assert_eq!(
            understand("Is it 10 % of patients?")
                .figure
                .map(|f| f.percent),
            Some(10.0)
        );
    }

    #[test]
    fn a_qualifier_kind_never_leads_the_thing_asked_for() {
        let q = understand("Which site is most commonly affected by calcinosis?");
        assert_eq!(q.answer_types[0], "site", "{:?}", q.answer_types);
    }

    #[test]
    fn follow_ups_do_not_repeat_a_word() {
        let kb = test_kb();
        let q = kb
            .follow_up(
                "how common is calcinosis in systemic sclerosis?",
                "and in dermatomyositis?",
            )
            .unwrap();
        assert_eq!(q, "how common is calcinosis in dermatomyositis?");
    }

    #[test]
    fn numeric_figures() {
        assert_eq!(
            numeric_figure("approximately 25% of patients").map(|f| f.percent),
            Some(25.0)
        );
        assert_eq!(
            numeric_figure("12.5 percent").map(|f| f.said),
            Some("12.5 percent".into())
        );
        assert_eq!(numeric_figure("in 2020 and 300%"), None);
        assert_eq!(numeric_figure("no figure"), None);
    }
}
