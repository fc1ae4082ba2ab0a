//! Knowledge queries over the corpus and its index: look a term up, search free text,
//! complete a prefix. Everything the hover, completion and `ask` features say comes from here.

use std::collections::HashMap;
use std::path::Path;

use tantivy::query::{BooleanQuery, Occur, Query};

use crate::corpus::lexicon::{form_key, Category, FormKind, TermId};
use crate::corpus::{Corpus, Statement, Term};
use crate::error::Result;
use crate::index::{boost, KnowledgeIndex};
use crate::matcher::TermMatcher;

/// A statement with its relevance score.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hit<'a> {
    /// The statement.
    pub statement: &'a Statement,
    /// BM25 score (higher is better; comparable only within one query).
    pub score: f32,
}

/// The stable JSON form of a hit, as `ask --format json` and the server's `calcinosis.ask`
/// command return it.
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
        }
    }
}

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

/// The knowledge base: corpus, index and term matcher together. Clones share the index.
#[derive(Clone)]
pub struct Knowledge {
    corpus: Corpus,
    index: KnowledgeIndex,
    matcher: TermMatcher,
    by_id: HashMap<String, usize>,
    /// `(lower-case form, term, form, kind)` for completion.
    forms: Vec<(String, TermId, String, FormKind)>,
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
        let matcher = TermMatcher::new(&corpus.lexicon);
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
        Knowledge {
            corpus,
            index,
            matcher,
            by_id,
            forms,
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

    /// Resolves index results to statements, halving the score of bare list openings, and
    /// keeps the best `limit`.
    fn hits(&self, found: Vec<(String, f32)>, limit: usize) -> Vec<Hit<'_>> {
        let mut hits: Vec<Hit> = found
            .into_iter()
            .filter_map(|(id, score)| {
                let s = &self.corpus.statements[*self.by_id.get(&id)?];
                let score = if s.is_lead_in() { score * 0.5 } else { score };
                Some(Hit {
                    statement: s,
                    score,
                })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits.truncate(limit);
        hits
    }

    /// Clauses that find statements about `term`: each of its forms as a phrase.
    fn term_clauses(&self, term: TermId, weight: f32) -> Vec<(Occur, Box<dyn Query>)> {
        let t = self.term(term);
        let f = self.index.fields();
        let forms = std::iter::once(&t.name)
            .chain(&t.synonyms)
            .chain(&t.abbreviations)
            .map(String::as_str)
            .chain(t.query.as_deref());
        let mut out = Vec::new();
        for form in forms {
            for (field, w) in [
                (f.text, weight),
                (f.lead_in, weight * 0.5),
                (f.section, weight * 0.7),
            ] {
                if let Some(q) = self.index.phrase(field, form) {
                    out.push((Occur::Should, boost(q, w)));
                }
            }
        }
        out
    }

    /// The statements about a term, best first.
    pub fn lookup(&self, term: TermId, limit: usize) -> Result<Vec<Hit<'_>>> {
        let clauses = self.term_clauses(term, 1.0);
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let query = Box::new(BooleanQuery::new(clauses));
        let found = self.index.search("statement", query, limit * 2)?;
        Ok(self.hits(found, limit))
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

    /// Free-text search: the question's words, plus every form of each term it mentions.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<Hit<'_>>> {
        let f = self.index.fields();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for token in self.index.tokens(text) {
            for (field, w) in [(f.text, 1.0), (f.lead_in, 0.5), (f.section, 0.7)] {
                let term = tantivy::Term::from_field_text(field, &token);
                let q = tantivy::query::TermQuery::new(
                    term,
                    tantivy::schema::IndexRecordOption::WithFreqs,
                );
                clauses.push((Occur::Should, boost(Box::new(q), w)));
            }
        }
        // A mentioned term adds its synonyms and abbreviations, weighted well above the plain
        // words, unless it is the corpus's overall topic (in a quarter of all statements or
        // more): then it would only pull up statements that mention nothing else asked.
        let topic = self.corpus.statements.len() / 4;
        for term in self.terms_in(text) {
            let about = Box::new(BooleanQuery::new(self.term_clauses(term, 1.0)));
            if self.index.count("statement", about)? <= topic {
                clauses.extend(self.term_clauses(term, 3.0));
            }
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let query = Box::new(BooleanQuery::new(clauses));
        let found = self.index.search("statement", query, limit * 2)?;
        Ok(self.hits(found, limit))
    }

    /// Terms completing `prefix`, best first: prefix matches, then word-prefix matches, then
    /// typo-tolerant ones (edit distance 1 from 4 letters, 2 from 7); diseases first within a
    /// tier. One entry per term, with the form that matched best.
    pub fn complete(&self, prefix: &str, limit: usize) -> Vec<Completion> {
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
        for (key, term, form, kind) in &self.forms {
            let candidate = if key.starts_with(&typed) {
                Some((MatchQuality::Prefix, 0))
            } else if key.split(' ').skip(1).any(|w| w.starts_with(&typed)) {
                Some((MatchQuality::WordPrefix, 0))
            } else if max_distance > 0 {
                // Compare with the form's start of the same length (±1 for insertions).
                (n.saturating_sub(1)..=n + 1)
                    .filter_map(|len| {
                        let head: String = key.chars().take(len).collect();
                        (head.chars().count() == len)
                            .then(|| strsim::damerau_levenshtein(&typed, &head))
                    })
                    .min()
                    .filter(|&d| d <= max_distance)
                    .map(|d| (MatchQuality::Fuzzy, d))
            } else {
                None
            };
            let Some((quality, distance)) = candidate else {
                continue;
            };
            let c = Completion {
                term: *term,
                form: form.clone(),
                form_kind: *kind,
                quality,
                distance,
            };
            let better = match best.get(term) {
                None => true,
                Some(old) => {
                    (quality, distance, form.len()) < (old.quality, old.distance, old.form.len())
                }
            };
            if better {
                best.insert(*term, c);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn kb() -> Knowledge {
        Knowledge::in_memory(Corpus::embedded().unwrap()).unwrap()
    }

    fn completes(kb: &Knowledge, prefix: &str) -> Vec<String> {
        kb.complete(prefix, 10)
            .iter()
            .map(|c| kb.term(c.term).name.clone())
            .collect()
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

    #[test]
    fn search_ranks_jdm_statements_first() {
        let kb = kb();
        let hits = kb
            .search(
                "what is calcinosis associated with in juvenile dermatomyositis",
                5,
            )
            .unwrap();
        let top: Vec<&str> = hits
            .iter()
            .take(3)
            .map(|h| h.statement.text.as_str())
            .collect();
        assert!(top.iter().all(|t| t.contains("JDM")), "{top:#?}");
        let hits = kb.search("anticentromere", 3).unwrap();
        assert_eq!(hits[0].statement.text, "Positive anticentromere antibody");
        assert_eq!(
            hits[0].statement.section.last().unwrap(),
            "Systemic Sclerosis"
        );
    }

    #[test]
    fn lookup_finds_term_statements() {
        let kb = kb();
        let rp = kb.corpus().lexicon.find("RP").unwrap();
        let hits = kb.lookup(rp, 3).unwrap();
        assert!(hits[0].statement.text.contains("Raynaud's phenomenon"));
        let jdm = kb.corpus().lexicon.find("JDM").unwrap();
        let hits = kb.lookup(jdm, 5).unwrap();
        assert!(hits.len() >= 3);
        assert!(hits
            .iter()
            .take(3)
            .all(|h| h.statement.text.contains("JDM")));
    }
}
