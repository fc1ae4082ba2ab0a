//! Stage 3 — ranking. Candidates come from the index (BM25 over every stem of every concept);
//! each is scored on which concepts it states (in its text, its list's lead-in or its
//! heading), weighted by how rare they are, plus a bonus when its heading or wording gives the
//! kind of answer asked for.
//!
//! **Subject first.** When the question names a subject (a disease, feature, site, antibody
//! or treatment) and some statement stating it also gives the kind of answer asked for, the
//! statements stating the subject rank first, re-ranked within by the answer-type cues: a cue
//! word ("common", "complication", "other") never pulls a statement about something else
//! above them. A statement stating a concept the question leaves out ("besides pain") ranks
//! last. Then abstention ([`super::abstain`]) and, when the answer is a whole list, the list
//! in its own order.

use std::collections::{HashMap, HashSet};

use tantivy::query::{BooleanQuery, Occur, Query};

use crate::corpus::Corpus;
use crate::error::Result;
use crate::index::{boost, KnowledgeIndex};
use crate::matcher::TermMatcher;

use super::abstain::Abstention;
use super::question::{ConceptKind, Question};
use super::vocabulary::{contains_seq, Lexis};

/// Optional clauses of a tantivy boolean query.
type Clauses = Vec<(Occur, Box<dyn Query>)>;

/// Weight of the corpus's subject in a question: every statement is about it.
pub(crate) const TOPIC_WEIGHT: f32 = 0.3;
/// Bonus for a statement under a heading that holds the kind of answer asked for.
pub(crate) const SECTION_BONUS: f32 = 1.6;
/// Bonus for a statement whose wording gives the kind of answer asked for.
const MARK_BONUS: f32 = 0.6;
/// Weight of a word nothing recognises: about that of a concept a few statements state, so
/// that a question whose best statement states little else that was asked is not answered.
pub(crate) const UNKNOWN_WEIGHT: f32 = 2.0;
/// The same in a yes/no question, where every content word is part of the claim to check.
pub(crate) const UNKNOWN_WEIGHT_IN_CLAIM: f32 = 3.0;
/// The weight of a word not understood that reads as an adjective ("a reasonable choice").
pub(crate) const UNKNOWN_MODIFIER_WEIGHT: f32 = 1.0;
/// A disease's weight when the question also asks for a kind of answer.
pub(crate) const DISEASE_WITH_ANSWER_TYPE: f32 = 0.5;
/// Extra for a concept that a statement states and whose heading names it too.
const UNDER_HEADING: f32 = 0.3;

/// A ranked statement with what it matched.
#[derive(Debug, Clone)]
pub(crate) struct Scored {
    pub(crate) idx: usize,
    pub(crate) score: f32,
    /// Per concept of the question: whether the statement states it.
    pub(crate) matched: Vec<bool>,
    /// Per concept: whether its own text states it (not only its heading or list opening),
    /// in words of its own: "cutaneous" in "limited cutaneous systemic sclerosis" says
    /// nothing about the skin.
    pub(crate) in_text: Vec<bool>,
    /// It gives a kind of answer asked for (by heading or wording).
    pub(crate) kind_hit: bool,
    /// It gives it by its heading (or its list's opening), not a word alone.
    pub(crate) kind_by_heading: bool,
    /// It states a subject of the question.
    pub(crate) on_subject: bool,
    /// Its text holds a word the question used to say what it asks ("complication").
    pub(crate) states_cue: bool,
    /// Its text holds the comparison the question asks for, in the question's words ("most
    /// common" for "which site is most commonly affected"): it alone answers.
    pub(crate) states_comparison: bool,
    /// It states something the question leaves out.
    pub(crate) excluded: bool,
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
    /// About how many statements state a concept: for each alternative, its rarest word's
    /// document frequency (text and list openings); the largest over alternatives.
    pub(crate) fn statements_with(&self, alts: &[Vec<String>]) -> usize {
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

    fn concept_query(&self, alts: &[Vec<String>], weight: f32) -> Option<Box<dyn Query>> {
        self.index.concept_query(
            alts,
            |r| self.lexis.stems.get(r).map(|r| r.stems.as_slice()),
            weight,
        )
    }

    fn stems_query(
        &self,
        roots: &HashSet<String>,
        field: tantivy::schema::Field,
    ) -> Vec<(Occur, Box<dyn Query>)> {
        KnowledgeIndex::stems_clauses(
            roots
                .iter()
                .filter_map(|r| self.lexis.stems.get(r))
                .flat_map(|r| &r.stems),
            field,
        )
    }

    /// Scores one statement against a question.
    pub(crate) fn score(&self, q: &Question, idx: usize) -> Scored {
        let f = self.lexis.feats(self.corpus, self.matcher, idx);
        let mut score = 0.0;
        let mut matched = Vec::with_capacity(q.concepts.len());
        let mut stated = Vec::with_capacity(q.concepts.len());
        let (mut on_subject, mut excluded) = (false, false);
        for c in &q.concepts {
            let alts: Vec<&Vec<String>> = c
                .alts
                .iter()
                .filter(|a| a.iter().all(|r| f.all.contains(r)))
                .collect();
            // A plain word or group counts only in the text's own words, not as a word of a
            // disease's name; a term counts wherever it is named.
            let own = if c.kind == ConceptKind::Term {
                &f.text
            } else {
                &f.free
            };
            let in_text_n = alts.iter().filter(|a| contains_seq(own, a)).count();
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
            if c.excluded {
                // What is left out counts against, never for.
                excluded |= in_text;
                matched.push(false);
                stated.push(false);
                continue;
            }
            stated.push(in_text);
            on_subject |= c.subject && m > 0.0;
            score += c.weight * m;
            matched.push(m > 0.0);
        }
        let mut kind_hit = false;
        let mut kind_by_heading = false;
        let mut states_comparison = false;
        for &(k, strength) in &q.kinds {
            let kind = &self.lexis.kinds[k];
            let sec = f.section.iter().any(|r| kind.sections.contains(r))
                || f.lead.iter().any(|r| kind.sections.contains(r));
            let mark = kind
                .marks
                .iter()
                .any(|m| contains_seq(&f.text, m) || contains_seq(&f.lead, m));
            // A mark of two words or more ("most common") is a comparison, not a frequency.
            states_comparison |= kind.marks.iter().any(|m| {
                m.len() >= 2
                    && m.iter().all(|r| q.cue_roots.contains(r))
                    && contains_seq(&f.text, m)
            });
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
            kind_by_heading |= sec && strength >= 1.0;
            score += strength * b;
        }
        // A question stating a figure ("do about half get it?") is about a figure.
        if q.figure.is_some() && f.digit {
            score += 2.0 * MARK_BONUS;
        }
        let s = &self.corpus.statements[idx];
        if s.is_lead_in() {
            score *= 0.8;
        }
        Scored {
            idx,
            score,
            matched,
            in_text: stated,
            states_cue: q.cue_roots.iter().any(|r| f.text.contains(r)),
            states_comparison,
            kind_hit,
            kind_by_heading,
            on_subject,
            excluded,
        }
    }

    /// The index query for a question: its concepts (the corpus's subject only when nothing
    /// else is asked) and the headings and wording of its answer types.
    fn candidates_query(&self, q: &Question) -> (Clauses, bool) {
        let f = self.index.fields();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        // The subject is in a large share of statements: it finds candidates only when
        // nothing else can.
        let others = q
            .concepts
            .iter()
            .any(|c| !c.topic && !c.excluded && c.kind != ConceptKind::Unknown)
            || !q.kinds.is_empty();
        for c in &q.concepts {
            if c.kind == ConceptKind::Unknown || c.excluded || (c.topic && others) {
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
        (clauses, others)
    }

    /// Ranks the statements for a question, decides whether it is answered and whether the
    /// answer is a whole list.
    pub(crate) fn rank(&self, q: Question, limit: usize) -> Result<Ranked> {
        let (clauses, others) = self.candidates_query(&q);
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
        for (id, bm25) in found {
            if let Some(&i) = self.ids.get(&id) {
                let mut s = self.score(&q, i);
                // BM25 (with its length normalisation) only breaks near-ties.
                s.score += 0.01 * bm25;
                if s.score > 0.0 {
                    scored.push(s);
                }
            }
        }
        let subject_first = subject_first(&q, &scored);
        scored.sort_by(|a, b| {
            let tier = |s: &Scored| (!s.excluded, subject_first && s.on_subject);
            tier(b)
                .cmp(&tier(a))
                .then(b.score.total_cmp(&a.score))
                .then(a.idx.cmp(&b.idx))
        });
        let (bare, real): (Vec<Scored>, Vec<Scored>) = scored
            .into_iter()
            .partition(|s| self.lexis.feats(self.corpus, self.matcher, s.idx).bare);
        let abstention = self.abstain(&q, &real, &bare);
        let confidence = match (&abstention, real.first()) {
            (None, Some(top)) => coverage(&q, top),
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

    /// The list that answers the question as a whole: asked for as a list, or most of its
    /// items tie for first place. Items stating what the question leaves out are dropped.
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
        // A lead-in ranked first is the question's own wording of what the list enumerates
        // ("What mechanisms have been proposed…?"); on its own it says nothing, so its items
        // are the answer, all of them.
        let lead_first = list.lead == Some(top.idx);
        if !((q.wants_list && tied >= 1) || tied >= need || lead_first) {
            return None;
        }
        let items: Vec<usize> = list
            .items
            .iter()
            .copied()
            .filter(|&i| !self.score(q, i).excluded)
            .collect();
        Some((list.lead, items))
    }
}

/// Whether the subject decides the candidates: the question names one, and a statement
/// stating it also gives the kind of answer asked for — by its heading, by the very word the
/// question used ("complication"), or, in a yes/no question, where the cues describe the
/// claim to check, by its wording. An instance of the kind ("digital ulcers" for
/// "complications") is not enough: it may be a different fact about the subject.
fn subject_first(q: &Question, scored: &[Scored]) -> bool {
    if q.subjects().next().is_none() {
        return false;
    }
    scored.iter().any(|s| {
        s.on_subject
            && (q.kinds.is_empty() || s.kind_by_heading || s.states_cue || (q.yes_no && s.kind_hit))
    })
}

/// How much of the question the statement states: matched weight over all weight, the
/// answer type counting as one concept. Words not understood count as asked and not
/// stated, so they lower it.
pub(crate) fn coverage(q: &Question, top: &Scored) -> f32 {
    let mut total = 0.0;
    let mut got = 0.0;
    for (c, &m) in q.concepts.iter().zip(&top.matched) {
        // What only sets the scene and no statement states cannot be answered, nor asked.
        if c.topic || c.excluded || (c.scene && c.statements == 0) {
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

#[cfg(test)]
mod tests {
    use super::super::test_kb;

    fn top_ids(q: &str, n: usize) -> Vec<String> {
        test_kb()
            .ask(q, n)
            .unwrap()
            .hits
            .iter()
            .map(|h| h.statement.id.clone())
            .collect()
    }

    #[test]
    fn the_subject_decides_the_candidates() {
        // (question, the statement that must come first)
        let cases = [
            (
                "Is calcinosis a common complication in juvenile dermatomyositis?",
                "dermatomyositis/1",
            ),
            // Its own text as the question.
            (
                "Common complication in juvenile dermatomyositis (JDM)",
                "dermatomyositis/1",
            ),
            // The cue "most common" qualifies the site asked for; it does not pull "most
            // commonly seen in lcSSc" up.
            (
                "Which site is most commonly affected by calcinosis?",
                "anatomical-distribution/2",
            ),
            // No subject statement gives complications: the answer type leads.
            (
                "What complications does calcinosis cause in scleroderma?",
                "clinical-implications/2",
            ),
            // A lead-in clause sets the scene: the spine is asked about, not the pain.
            (
                "My back hurts, can calcium deposits be in the spine?",
                "anatomical-distribution/7",
            ),
            // "cutaneous" in "limited cutaneous systemic sclerosis" is a word of a disease's
            // name: it says nothing about the skin.
            (
                "Does calcinosis affect the skin?",
                "clinical-implications/5",
            ),
            // "shorter" looks for the statement's "longer".
            (
                "Is calcinosis linked to a shorter course of scleroderma?",
                "systemic-sclerosis/4",
            ),
        ];
        for (q, want) in cases {
            let got = top_ids(q, 3);
            assert_eq!(got.first().map(String::as_str), Some(want), "{q}: {got:?}");
        }
    }

    #[test]
    fn what_is_left_out_never_leads() {
        let kb = test_kb();
        let r = kb
            .ask("What complications can calcinosis cause besides pain?", 10)
            .unwrap();
        let (_, items) = r.list.as_ref().expect("the list, less what is left out");
        assert_eq!(items.len(), 6);
        assert!(items.iter().all(|s| !s.text.contains("Pain")));
    }
}
