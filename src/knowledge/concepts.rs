//! Stage 2a — the concepts of a question: lexicon terms, then synonym groups (longest phrase
//! first), then the plain words left over (a word of the statements, or not understood), and
//! their weights; which of them are the question's subject. Called by
//! [`Ranker::understand`](super::rank::Ranker) in `question.rs`.

use std::ops::Range;

use crate::corpus::lexicon::{Category, TermId};

use super::question::{said, Concept, ConceptKind};
use super::rank::{
    Ranker, DISEASE_WITH_ANSWER_TYPE, TOPIC_WEIGHT, UNKNOWN_MODIFIER_WEIGHT, UNKNOWN_WEIGHT,
    UNKNOWN_WEIGHT_IN_CLAIM,
};
use super::text::Word;
use super::vocabulary::{matches_at, term_alts, Lexis};

impl Ranker<'_> {
    /// Lexicon terms in the question; returns the byte spans of the corpus's subject.
    pub(super) fn find_terms(
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
    pub(super) fn find_groups(
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
                    } else if let Some(c) = concepts.iter_mut().find(|c| c.label == group.name) {
                        c.again_at = Some(span.start);
                    } else {
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
                            again_at: None,
                            scene: false,
                        });
                    }
                }
            }
            i += len;
        }
    }

    /// Whatever is left is a plain word of the statements, or not understood.
    pub(super) fn plain_words(
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
            } else if is_figure(&w.lower) {
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
                again_at: None,
                // A word of thought, talk or time ("wondering", "clarify", "yesterday")
                // frames how the question is put: reported, never what it asks.
                scene: kind == ConceptKind::Unknown && Lexis::is_framing(&w.lower),
            });
        }
        unstated
    }

    /// Weights (rarer is heavier), and which concepts are the subject.
    pub(super) fn weigh(&self, concepts: &mut [Concept], kinds: &[(usize, f32)], yes_no: bool) {
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
                if self.lexis.is_modifier(&c.label) {
                    // An adjective qualifies the thing asked about; it is not that thing.
                    UNKNOWN_MODIFIER_WEIGHT
                } else if yes_no {
                    // In a yes/no question every content word is part of the claim to check.
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
        if let Some(c) = concepts.iter_mut().find(|c| c.term == Some(t)) {
            c.again_at = Some(span.start);
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
            again_at: None,
            scene: false,
        });
    }
}

/// Whether a word is a figure, not a name: a number, with its unit or a letter or two ("25%",
/// "3rd", "x12y", "58F", "10yo"). A name with digits ("NXP2", "Scl70") is a word.
fn is_figure(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit())
        || (word.chars().any(|c| c.is_ascii_digit())
            && word.chars().filter(|c| c.is_alphabetic()).count() <= 2)
}
