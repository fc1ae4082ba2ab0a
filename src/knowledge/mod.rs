//! Knowledge queries over the corpus and its index: answer a question, look a term up,
//! complete a prefix. Everything the hover, completion, definition, diagnostics and `ask`
//! features say comes from here, ranked one way, by stages that each have a module:
//! vocabulary → question (and its shape, concepts) → rank → abstain → compose.

mod abstain;
mod complete;
mod compose;
mod concepts;
mod question;
mod rank;
mod shape;
mod structure;
pub mod text;
mod vocabulary;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub use abstain::Abstention;
pub use complete::{Completion, MatchQuality};
pub use question::{Concept, ConceptKind, ContraryWord, Figure, Question};
pub use vocabulary::Correction;

use crate::corpus::lexicon::{form_key, FormKind, TermId};
use crate::corpus::{Corpus, Statement, Term};
use crate::error::Result;
use crate::index::KnowledgeIndex;
use crate::matcher::TermMatcher;

use rank::{Ranked, Ranker, Scored};
use vocabulary::Lexis;

/// A statement with its relevance score.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hit<'a> {
    /// The statement.
    pub statement: &'a Statement,
    /// Relevance (higher is better; comparable only within one question).
    pub score: f32,
    /// Whether the question it was found for is answered by the sources (false: this is only
    /// the nearest they come).
    pub answered: bool,
    /// How much of the question the best statement covers, 0–1 (0 when not answered).
    pub confidence: f32,
    /// Per concept of the question: whether this statement states it.
    pub(crate) matched: Vec<bool>,
}

/// The stable JSON form of a hit, as `ask --format json` and the server's `calcinosis.ask`
/// command return it. `answered`, `confidence`, `sources` and `lead_in` were added after the
/// first release; the other fields are unchanged.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Answer<'a> {
    /// Statement id.
    pub id: &'a str,
    /// Section path, `A › B`.
    pub section: String,
    /// Statement text.
    pub text: &'a str,
    /// Citation numbers.
    pub citations: &'a [u32],
    /// Source file.
    pub file: &'a str,
    /// 1-based line in the source file.
    pub line: usize,
    /// Relevance score.
    pub score: f32,
    /// Whether the sources answer the question (false: the statement is only the nearest).
    pub answered: bool,
    /// How much of the question is covered, 0–1.
    pub confidence: f32,
    /// What each citation refers to: a reference-list entry, or "source N of the seed document".
    pub sources: Vec<String>,
    /// The line that opens the statement's list, if any.
    pub lead_in: Option<&'a str>,
    /// Words of the question read as others (typo corrections), as `{from, to}`.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub corrections: &'a [Correction],
    /// Words of the question that nothing recognised.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub not_understood: &'a [String],
    /// The composed answer to the whole question (the same text on every row), as `ask`
    /// prints it first: every surface can show it, abstention included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

impl<'a> Hit<'a> {
    /// The hit as an [`Answer`].
    pub fn answer(&self) -> Answer<'a> {
        let s = self.statement;
        Answer {
            id: &s.id,
            section: s.section_path(),
            text: &s.text,
            citations: &s.citations,
            file: &s.file,
            line: s.line,
            score: self.score,
            answered: self.answered,
            confidence: self.confidence,
            sources: s.sources.iter().map(|x| x.label()).collect(),
            lead_in: s.lead_in.as_deref(),
            corrections: &[],
            not_understood: &[],
            answer: None,
        }
    }
}

/// A question's full answer: what was understood, the ranked statements, and whether the
/// sources answer it at all.
#[derive(Debug, Clone)]
pub struct Reply<'a> {
    /// What was understood of the question.
    pub question: Question,
    /// Ranked statements: the answer, or the nearest the sources come when not answered.
    pub hits: Vec<Hit<'a>>,
    /// Whether the sources answer the question.
    pub answered: bool,
    /// How much of the question the best statement covers, 0–1.
    pub confidence: f32,
    /// Why it is not answered.
    pub abstention: Option<Abstention>,
    /// When the answer is a whole list: its opening line and its items, in order.
    pub list: Option<(Option<&'a Statement>, Vec<&'a Statement>)>,
    /// The best statement's ranking details (composition checks what it states).
    pub(crate) top_scored: Option<Scored>,
    /// For each statement shown that is a list item: how many items its list has.
    pub(crate) list_len: HashMap<String, usize>,
    /// For each list opening shown: how many items it opens.
    pub(crate) opens: HashMap<String, usize>,
    /// For "X or Y": each side in the user's words, with the best statement on it alone.
    pub(crate) sides: Vec<(String, Option<&'a Statement>)>,
    /// Words by which a statement hedges ("may", "proposed"): never a bare "Yes".
    pub(crate) hedges: Vec<String>,
    /// The other ask of a two-part question that the sources do not cover, as the user
    /// wrote it, and why.
    pub(crate) other_ask: Option<(String, Abstention)>,
}

impl Reply<'_> {
    /// The chat-bot answer, composed from the statements with fixed templates only (see
    /// `compose`): corrections and words not understood first, then the answer — or the
    /// statement that the sources do not cover the question, with what they say nearest to
    /// it. The numbered sources follow separately ([`Reply::hits`]).
    pub fn short_answer(&self) -> String {
        compose::compose(self)
    }

    /// The rows `ask --format json` and `calcinosis.ask` return: each hit's [`Answer`], with
    /// what was read as another word, what was not understood, and the composed answer.
    pub fn rows(&self) -> Vec<Answer<'_>> {
        let text = self.short_answer();
        let answer = (!text.is_empty()).then_some(text);
        self.hits
            .iter()
            .map(|h| Answer {
                corrections: &self.question.corrections,
                not_understood: &self.question.not_understood,
                answer: answer.clone(),
                ..h.answer()
            })
            .collect()
    }
}

/// The knowledge base: corpus, index and term matcher together. Clones share the index.
#[derive(Clone)]
pub struct Knowledge {
    corpus: Corpus,
    index: KnowledgeIndex,
    matcher: Arc<TermMatcher>,
    by_id: HashMap<String, usize>,
    /// `(lower-case form, term, form, kind)` for completion.
    forms: Vec<(String, TermId, String, FormKind)>,
    /// The compiled query vocabulary and per-statement ranking features.
    lexis: Arc<Lexis>,
}

impl std::fmt::Debug for Knowledge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Knowledge")
            .field("statements", &self.corpus.statements.len())
            .field("terms", &self.corpus.lexicon.terms().len())
            .field("index", &self.index)
            .finish()
    }
}

impl Knowledge {
    /// Builds the knowledge base with an in-memory index.
    pub fn in_memory(corpus: Corpus) -> Result<Knowledge> {
        let index = KnowledgeIndex::in_memory(&corpus)?;
        Ok(Self::with_index(corpus, index))
    }

    /// Builds the knowledge base on the on-disk index in `dir`, rebuilding it if needed.
    pub fn on_disk(corpus: Corpus, dir: &Path) -> Result<Knowledge> {
        let index = KnowledgeIndex::open_or_rebuild(&corpus, dir)?;
        Ok(Self::with_index(corpus, index))
    }

    /// Combines a corpus with an index built from it.
    pub fn with_index(corpus: Corpus, index: KnowledgeIndex) -> Knowledge {
        let matcher = Arc::new(TermMatcher::new(&corpus.lexicon));
        Self::with_shared_matcher(corpus, index, matcher)
    }

    /// Like [`Knowledge::with_index`], with a term matcher already built from exactly
    /// `corpus.lexicon` (the analyser's, in the server: one matcher per engine, not two; on
    /// a large user lexicon each costs seconds and hundreds of megabytes).
    pub(crate) fn with_shared_matcher(
        corpus: Corpus,
        index: KnowledgeIndex,
        matcher: Arc<TermMatcher>,
    ) -> Knowledge {
        let by_id = corpus
            .statements
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let forms = corpus
            .lexicon
            .forms()
            .map(|f| (form_key(f.text), f.term, f.text.to_string(), f.kind))
            .collect();
        let lexis = Arc::new(Lexis::new(&corpus, &index));
        Knowledge {
            corpus,
            index,
            matcher,
            by_id,
            forms,
            lexis,
        }
    }

    /// The corpus.
    pub fn corpus(&self) -> &Corpus {
        &self.corpus
    }

    /// The index (to report how it was obtained).
    pub fn index(&self) -> &KnowledgeIndex {
        &self.index
    }

    /// A term by id.
    pub fn term(&self, id: TermId) -> &Term {
        self.corpus.lexicon.term(id)
    }

    fn ranker(&self) -> Ranker<'_> {
        Ranker {
            lexis: &self.lexis,
            ids: &self.by_id,
            corpus: &self.corpus,
            index: &self.index,
            matcher: &self.matcher,
        }
    }

    fn reply(&self, ranked: Ranked) -> Reply<'_> {
        let answered = ranked.abstention.is_none() && !ranked.hits.is_empty();
        let st = &self.corpus.statements;
        let hits: Vec<Hit<'_>> = ranked
            .hits
            .iter()
            .map(|s| Hit {
                statement: &st[s.idx],
                score: s.score,
                answered,
                confidence: ranked.confidence,
                matched: s.matched.clone(),
            })
            .collect();
        // Items as the reader sees them: every statement under the same opening, nested
        // openings included ("Other approaches:" is an item of the treatment list).
        let items_under = |section: &[String], lead: &str| {
            self.lexis
                .items_under
                .get(&(section.to_vec(), lead.to_string()))
                .copied()
                .unwrap_or(0)
        };
        let list_len = ranked
            .hits
            .iter()
            .filter_map(|s| {
                let x = &st[s.idx];
                let lead = x.lead_in.as_deref()?;
                Some((x.id.clone(), items_under(&x.section, lead)))
            })
            .collect();
        let opens = ranked
            .hits
            .iter()
            .map(|s| &st[s.idx])
            .filter(|x| x.is_lead_in())
            .map(|x| (x.id.clone(), items_under(&x.section, &x.text)))
            .collect();
        Reply {
            top_scored: ranked.hits.first().cloned(),
            list_len,
            opens,
            sides: Vec::new(),
            hedges: self.lexis.hedges.clone(),
            other_ask: None,
            hits,
            answered,
            confidence: if answered { ranked.confidence } else { 0.0 },
            abstention: ranked.abstention,
            list: ranked.list.map(|(lead, items)| {
                (
                    lead.map(|i| &st[i]),
                    items.iter().map(|&i| &st[i]).collect(),
                )
            }),
            question: ranked.question,
        }
    }

    /// Answers a question: understands it, ranks the statements, and says whether the
    /// sources answer it (see [`Reply`]).
    pub fn ask(&self, question: &str, limit: usize) -> Result<Reply<'_>> {
        // Bounded here, for every caller: a 5 MB question once took 23.5 GB.
        let question = crate::limits::question(question);
        let limit = limit.min(crate::limits::MAX_RESULTS);
        let r = self.ranker();
        let reply = self.ask_one(&r, question, limit)?;
        if reply.answered {
            return Ok(reply);
        }
        // Two asks in one ("What causes it, and can diet prevent it?"): when the whole goes
        // unanswered, each ask is answered on its own; the one the sources cover is the
        // answer, and the other is said to be uncovered, in the user's words.
        let Some((end, start)) = r.second_ask(question) else {
            return Ok(reply);
        };
        let (first, second) = (&question[..end], &question[start..]);
        let (a, b) = (
            self.ask_one(&r, first, limit)?,
            self.ask_one(&r, second, limit)?,
        );
        let (mut answered, other, said) = match (a.answered, b.answered) {
            (true, false) => (a, b, second),
            (false, true) => (b, a, first),
            _ => return Ok(reply),
        };
        if let Some(why) = other.abstention {
            answered.other_ask = Some((said.trim().to_string(), why));
        }
        Ok(answered)
    }

    /// One ask, understood, ranked and shaped as a reply.
    fn ask_one(&self, r: &Ranker<'_>, question: &str, limit: usize) -> Result<Reply<'_>> {
        let q = r.understand(question)?;
        let sides = self.sides(r, &q)?;
        let mut reply = self.reply(r.rank(q, limit.max(1))?);
        if reply.answered {
            reply.sides = sides;
        }
        Ok(reply)
    }

    /// For "X or Y": each side's best statement, ranked for that side with the other left
    /// out, so that a statement on both ("overlap syndrome") never stands for either.
    fn sides<'k>(
        &'k self,
        r: &Ranker<'_>,
        q: &Question,
    ) -> Result<Vec<(String, Option<&'k Statement>)>> {
        let mut out = Vec::new();
        for side in &q.sides {
            let mut one = q.clone();
            let mut said = side.clone();
            for c in &mut one.concepts {
                if &c.label == side {
                    said = c.said.clone();
                } else if q.sides.contains(&c.label) {
                    c.excluded = true;
                    c.subject = false;
                }
            }
            one.sides.clear();
            let at = one.concepts.iter().position(|c| &c.label == side);
            // A side is stated by its own name, never by the broader name it is searched
            // under (a term's `query`): "25 % of systemic sclerosis" says nothing of dcSSc.
            let own: Vec<Vec<String>> = at
                .and_then(|i| one.concepts[i].term)
                .map(|t| {
                    let term = self.corpus.lexicon.term(t);
                    std::iter::once(&term.name)
                        .chain(&term.synonyms)
                        .chain(&term.abbreviations)
                        .map(|f| r.lexis.ta.roots(f))
                        .filter(|f| !f.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let ranked = r.rank(one, 5)?;
            let best = ranked
                .hits
                .iter()
                .filter(|h| at.is_some_and(|i| h.matched.get(i).copied().unwrap_or(false)))
                .find(|h| {
                    let text = &r.lexis.feats(&self.corpus, &self.matcher, h.idx).text;
                    own.is_empty() || own.iter().any(|f| vocabulary::contains_seq(text, f))
                })
                .map(|h| &self.corpus.statements[h.idx]);
            out.push((said, best));
        }
        Ok(out)
    }

    /// If `question` follows up on `previous` ("and in dermatomyositis?"), the full question
    /// it stands for; `None` when it stands on its own.
    pub fn follow_up(&self, previous: &str, question: &str) -> Option<String> {
        let (previous, question) = (
            crate::limits::question(previous),
            crate::limits::question(question),
        );
        self.ranker().follow_up(previous, question)
    }

    /// The statements about a term, best first, for the term in the role its category gives
    /// it (a CREST feature → statements about it as a CREST feature first).
    pub fn lookup(&self, term: TermId, limit: usize) -> Result<Vec<Hit<'_>>> {
        self.lookup_in_role(term, None, limit)
    }

    /// The statements about a term in a given role (an answer type of the vocabulary:
    /// `crest`, `site`, `treatment`, …; `None`: the role of the term's category), best first.
    /// Bare list openings are never returned.
    pub fn lookup_in_role(
        &self,
        term: TermId,
        role: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Hit<'_>>> {
        let r = self.ranker();
        let q = r.term_question(term, role)?;
        let ranked = r.rank(q, limit.max(1))?;
        let mut reply = self.reply(ranked);
        // A term found in a note is always "answered": these are its statements.
        for h in &mut reply.hits {
            h.answered = true;
        }
        reply.hits.truncate(limit);
        Ok(reply.hits)
    }

    /// The terms a piece of text mentions, in order, without repeats.
    pub fn terms_in(&self, text: &str) -> Vec<TermId> {
        let mut out: Vec<TermId> = Vec::new();
        for m in self.matcher.find(text) {
            if !out.contains(&m.term) {
                out.push(m.term);
            }
        }
        out
    }

    /// Free-text search with the same ranking as [`Knowledge::ask`]: its statements, each
    /// marked with whether the question is answered.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<Hit<'_>>> {
        Ok(self.ask(text, limit)?.hits)
    }
}

/// One knowledge base over the embedded corpus for every stage's unit tests (built once).
#[cfg(test)]
pub(crate) fn test_kb() -> &'static Knowledge {
    static KB: std::sync::OnceLock<Knowledge> = std::sync::OnceLock::new();
    KB.get_or_init(|| {
        Knowledge::in_memory(Corpus::embedded().expect("embedded corpus")).expect("index")
    })
}

#[cfg(test)]
mod tests;
