//! Knowledge queries over the corpus and its index: answer a question, look a term up,
//! complete a prefix. Everything the hover, completion, definition, diagnostics and `ask`
//! features say comes from here, ranked one way (see [`answer`]).

mod answer;
pub mod text;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

pub use answer::{Abstention, Concept, ConceptKind, Question};

use crate::corpus::lexicon::{form_key, Category, FormKind, TermId};
use crate::corpus::{Corpus, Statement, Term};
use crate::error::Result;
use crate::index::KnowledgeIndex;
use crate::matcher::TermMatcher;

use answer::{inline, merged_sources, Lexis, Ranked, Ranker};

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
}

impl Reply<'_> {
    /// The chat-bot answer: a short answer first (statements grouped under their section,
    /// citations merged), or the statement that the sources do not cover the question with
    /// what they say nearest to it. The numbered sources follow separately ([`Reply::hits`]).
    pub fn short_answer(&self) -> String {
        let mut out = String::new();
        if let Some(a) = &self.abstention {
            out.push_str(&a.message());
            if let Some(h) = self.hits.first() {
                out.push_str(&format!(
                    "\nNearest in the sources ({}): {} {}",
                    h.statement.section_path(),
                    h.statement
                        .lead_in
                        .as_deref()
                        .map(|l| format!("{l} "))
                        .unwrap_or_default()
                        + &h.statement.text,
                    h.statement.source_label()
                ));
            }
            return out;
        }
        if let Some((lead, items)) = &self.list {
            let section = items.first().map(|s| s.section_path()).unwrap_or_default();
            let opening = lead
                .map(|l| l.text.clone())
                .or_else(|| items.first().and_then(|s| s.lead_in.clone()))
                .unwrap_or_default();
            let listed: Vec<String> = items.iter().map(|s| inline(&s.text)).collect();
            out.push_str(&format!(
                "{section}: {} {}. ({})",
                opening,
                listed.join("; "),
                merged_sources(items)
            ));
            return out;
        }
        let Some(top) = self.hits.first() else {
            return out;
        };
        // The statements close to the best one, grouped by section in order of rank.
        let chosen: Vec<&Statement> = self
            .hits
            .iter()
            .take(3)
            .filter(|h| h.score >= top.score * 0.75)
            .map(|h| h.statement)
            .collect();
        let mut sections: Vec<(String, Vec<&Statement>)> = Vec::new();
        for s in chosen {
            let p = s.section_path();
            match sections.iter_mut().find(|(q, _)| *q == p) {
                Some((_, v)) => v.push(s),
                None => sections.push((p, vec![s])),
            }
        }
        let lines: Vec<String> = sections
            .iter()
            .map(|(p, v)| {
                // An opening line whose items are shown is their header, not a part.
                let shown_leads: Vec<&str> =
                    v.iter().filter_map(|s| s.lead_in.as_deref()).collect();
                let mut parts: Vec<String> = Vec::new();
                let mut last_lead: Option<&str> = None;
                for s in v {
                    if s.is_lead_in() && shown_leads.contains(&s.text.as_str()) {
                        continue;
                    }
                    let body = if s.is_lead_in() {
                        format!(
                            "{} (the source lists nothing under it)",
                            s.text.trim_end_matches(':')
                        )
                    } else {
                        s.text.clone()
                    };
                    let t = match (s.lead_in.as_deref(), last_lead) {
                        (Some(l), Some(prev)) if l == prev => inline(&body),
                        (Some(l), _) => format!("{l} {}", inline(&body)),
                        (None, _) => body,
                    };
                    last_lead = s.lead_in.as_deref();
                    parts.push(t);
                }
                let cites = merged_sources(v);
                let cites = if cites.is_empty() {
                    "no citation in source".to_string()
                } else {
                    cites
                };
                format!("{p}: {}. ({cites})", parts.join("; ").trim_end_matches('.'))
            })
            .collect();
        out.push_str(&lines.join("\n"));
        out
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
        let hits = ranked
            .hits
            .iter()
            .map(|s| Hit {
                statement: &st[s.idx],
                score: s.score,
                answered,
                confidence: ranked.confidence,
            })
            .collect();
        Reply {
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
        let q = r.understand(question)?;
        Ok(self.reply(r.rank(q, limit.max(1))?))
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
    fn lookup_ranks_by_role() {
        let kb = kb();
        let calcinosis = kb.corpus().lexicon.find("calcinosis").unwrap();
        // Found in a note, calcinosis is a CREST feature: the CREST statement comes first.
        let hits = kb.lookup(calcinosis, 3).unwrap();
        assert!(
            hits[0].statement.text.contains("CREST syndrome"),
            "{:?}",
            hits[0].statement.text
        );
        let sites = kb.lookup_in_role(calcinosis, Some("site"), 3).unwrap();
        assert_eq!(sites[0].statement.section, vec!["Anatomical Distribution"]);
        let treat = kb.lookup_in_role(calcinosis, Some("treatment"), 3).unwrap();
        assert!(treat[0].statement.text.to_lowercase().contains("treatment"));
        assert!(hits
            .iter()
            .chain(&sites)
            .chain(&treat)
            .all(|h| !h.statement.text.ends_with("through:")));
    }

    #[test]
    fn every_terms_first_statement_states_it() {
        let kb = kb();
        let key = |s: &str| form_key(s).replace('\'', "");
        for (id, t) in kb.corpus().lexicon.terms().iter().enumerate() {
            let hits = kb.lookup(id, 1).unwrap();
            let Some(h) = hits.first() else { continue };
            let s = h.statement;
            let hay = key(&format!("{} {}", s.text, s.section_path()));
            let forms: Vec<String> = std::iter::once(&t.name)
                .chain(&t.synonyms)
                .chain(&t.abbreviations)
                .chain(t.query.iter())
                .map(|f| key(f))
                .collect();
            let stated = forms.iter().any(|f| {
                hay.contains(f.as_str())
                    || f.split(' ')
                        .filter(|w| w.len() > 3)
                        .any(|w| hay.contains(w))
            });
            assert!(stated, "{}: {:?}", t.name, s.text);
            assert!(!s.text.ends_with("through:"), "{}", t.name);
        }
    }

    #[test]
    fn ask_understands_answers_and_abstains() {
        let kb = kb();
        let r = kb.ask("how is calcinosis treated", 5).unwrap();
        assert!(r.answered);
        assert!(
            r.hits[0].statement.text.starts_with("Surgical excision"),
            "{:?}",
            r.hits[0].statement.text
        );
        let r = kb.ask("Tx of calcinosis?", 5).unwrap();
        assert!(r.hits[0].statement.text.starts_with("Surgical excision"));
        // A disease narrows the answer type; it does not take over.
        let r = kb
            .ask(
                "what complications does calcinosis cause in scleroderma?",
                5,
            )
            .unwrap();
        assert_eq!(r.hits[0].statement.section, vec!["Clinical Implications"]);
        // The whole list when the question asks for it.
        let r = kb.ask("where does calcinosis occur", 5).unwrap();
        let (_, items) = r.list.as_ref().expect("whole list");
        assert_eq!(items.len(), 6);
        assert!(r
            .short_answer()
            .starts_with("Anatomical Distribution: Calcinosis can present"));
        // Not covered: said so, with JSON-visible flags.
        let r = kb.ask("does calcinosis occur in lupus?", 5).unwrap();
        assert!(!r.answered);
        assert_eq!(r.confidence, 0.0);
        assert!(r
            .short_answer()
            .starts_with("The sources do not cover systemic lupus erythematosus."));
        assert!(r
            .short_answer()
            .contains("Other Connective Tissue Diseases"));
        assert!(r.hits.iter().all(|h| !h.answered));
        // An empty heading is never an answer.
        let r = kb.ask("how is calcinosis diagnosed", 5).unwrap();
        assert!(!r.answered);
        assert!(r.short_answer().contains("Diagnostic Approaches"));
        assert!(r
            .hits
            .iter()
            .all(|h| !h.statement.text.ends_with("through:")));
        // Typos in ordinary words.
        let r = kb.ask("whre does calcinosis ocur", 5).unwrap();
        assert_eq!(r.hits[0].statement.section, vec!["Anatomical Distribution"]);
    }

    #[test]
    fn follow_ups_refer_to_the_previous_question() {
        let kb = kb();
        let q = kb
            .follow_up(
                "how common is calcinosis in systemic sclerosis?",
                "and in dermatomyositis?",
            )
            .unwrap();
        assert!(
            q.contains("dermatomyositis") && !q.contains("systemic sclerosis"),
            "{q}"
        );
        assert!(q.contains("how common"), "{q}");
        assert_eq!(
            kb.follow_up(
                "how common is calcinosis in SSc?",
                "where does calcinosis occur?"
            ),
            None
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
