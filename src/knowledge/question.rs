//! Stage 2 — question analysis: a question becomes a plain [`Question`] value — what was read
//! (after typo correction, each correction recorded), its concepts and which of them are its
//! *subject*, the kinds of answer asked for, what is left out ("besides pain"), the two sides
//! of "X or Y", the figure or frequency word it states, and the words nothing recognised.
//! `--explain` prints this value as it is. Nothing here looks at the index's scores.
//!
//! Steps, in order, each its own function: [`Lexis::correct_question`] (only a token that is neither an
//! English word nor known to the corpus is corrected), concepts (lexicon terms, then synonym
//! groups, longest phrase first), answer types (cues), the plain words left over (a word of the
//! statements, or not understood), then the question's shape (yes/no, exclusions, sides,
//! figures), then weights.

use std::ops::Range;

use crate::corpus::lexicon::{Category, TermId};
use crate::error::Result;

use super::rank::Ranker;
use super::shape::{numeric_figure, unknown_phrases};
use super::text::Word;
use super::vocabulary::{match_len, matches_at, Correction, Lexis, Pattern};

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
    /// Where the question names it again, last ("My back hurts, is it in the spine?").
    #[serde(skip)]
    pub(crate) again_at: Option<usize>,
    /// Named only in a lead-in that sets the scene ("58F on nifedipine. How is …"): it
    /// narrows the question but is not what it asks.
    pub scene: bool,
}

impl Concept {
    /// The last word index where the question names it.
    pub(crate) fn last_at(&self) -> usize {
        self.again_at.unwrap_or(self.span.start)
    }
}

/// A share of patients stated in a question ("about half", "10%").
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Figure {
    /// The words of the question.
    pub said: String,
    /// The percentage they mean.
    pub percent: f32,
}

/// A word of the question that a statement's own word may contradict.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ContraryWord {
    /// As the question says it ("uncommon", "shorter").
    pub said: String,
    /// The statement words that contradict it ("common", "longer").
    pub instead: Vec<String>,
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
    /// A word a statement's word may contradict ("rare" for "common", "shorter" for
    /// "longer"), to be checked likewise.
    pub contrary: Option<ContraryWord>,
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
    /// Whether a word nothing recognised is part of what is asked, not of a lead-in that
    /// only sets the scene.
    pub(crate) fn asks_unknown(&self) -> bool {
        self.concepts
            .iter()
            .any(|c| c.kind == ConceptKind::Unknown && !c.scene)
    }

    /// What a lead-in names that no statement states ("on nifedipine"): the answer leaves
    /// it out, and says so.
    pub(crate) fn set_aside(&self) -> Vec<&Concept> {
        self.concepts
            .iter()
            .filter(|c| c.scene && c.statements == 0)
            .filter(|c| matches!(c.kind, ConceptKind::Term | ConceptKind::Synonyms))
            .collect()
    }
    /// The concepts that decide which statements are candidates.
    pub(crate) fn subjects(&self) -> impl Iterator<Item = (usize, &Concept)> {
        self.concepts.iter().enumerate().filter(|(_, c)| c.subject)
    }
}

/// The text a run of words covers, as written.
pub(super) fn said(text: &str, words: &[Word], span: &Range<usize>) -> String {
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
pub(super) fn find_all<'p>(
    words: &'p [Word],
    patterns: &'p [Pattern],
) -> impl Iterator<Item = (usize, usize)> + 'p {
    patterns.iter().flat_map(move |p| {
        (0..words.len()).filter_map(move |at| match_len(words, at, p).map(|n| (at, n)))
    })
}

impl Ranker<'_> {
    /// Understands a question (see the module documentation).
    pub(crate) fn understand(&self, question: &str) -> Result<Question> {
        let lx = self.lexis;
        let lexicon = &self.corpus.lexicon;
        let (text, corrections) = lx.correct_question(|w| lexicon.find(w).is_some(), question);
        let words = lx.ta.words(&text);
        let mut used = vec![false; words.len()];
        let mut concepts: Vec<Concept> = Vec::new();
        let topic_spans = self.find_terms(&text, &words, &mut used, &mut concepts);
        self.find_groups(&text, &words, &mut used, &topic_spans, &mut concepts);
        let (kinds, mut cue, wants_figure) = self.answer_types(&words);
        let kind_cue = cue.clone();
        // Words stating a figure or calling something rare are checked as such (by the
        // composition), not looked for as concepts.
        for (at, n) in find_all(&words, &lx.figure_words).chain(find_all(&words, &lx.contrary)) {
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
        let mut unstated =
            self.plain_words(&text, &words, &used, &cue, &topic_spans, &mut concepts);
        // An answer-type cue no statement uses ("arm" asks where; no statement names the arm)
        // is part of the claim, and no statement states it.
        for (w, _) in words.iter().zip(&kind_cue).filter(|(_, &c)| c) {
            let stated = w.root.as_ref().is_none_or(|r| lx.stems.contains_key(r));
            if !stated && !Lexis::is_function_word(&w.lower) && !unstated.contains(&w.lower) {
                unstated.push(w.lower.clone());
            }
        }
        let contrary = self.contrary(&text, &words, &mut concepts);
        self.mark_exclusions(&words, &mut concepts);
        let sides = self.sides(&words, &concepts);
        // "Is it …?", or a claim with no question word ("Calcinosis is rare in JDM?"); a bare
        // noun phrase ("Calcinosis sites in SSc?") asks for an answer, not a verdict.
        let yes_no = words.first().is_some_and(|w| lx.yes_no.contains(&w.lower))
            || (!words.iter().any(|w| lx.open_question.contains(&w.lower))
                && words.iter().any(|w| lx.yes_no.contains(&w.lower)));
        self.weigh(&mut concepts, &kinds, yes_no);
        self.mark_scene(&text, &words, &mut concepts);
        // A number with "%" first, else the longest figure phrase ("about half", not "half").
        let figure = numeric_figure(&text).or_else(|| {
            let w = &words;
            let (i, at, n) = lx
                .figure_words
                .iter()
                .enumerate()
                .flat_map(|(i, p)| {
                    (0..w.len()).filter_map(move |at| match_len(w, at, p).map(|n| (i, at, n)))
                })
                .max_by_key(|&(_, _, n)| n)?;
            Some(Figure {
                said: said(&text, &words, &(at..at + n)),
                percent: lx.figure_percents[i],
            })
        });
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
            contrary,
            qualified,
            sides,
            corrections,
            not_understood,
            kinds,
            cue_roots,
            unstated,
        })
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
            contrary: None,
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
        let q = understand("Is gardening safe for someone with calcinosis?");
        assert_eq!(q.not_understood, vec!["gardening", "safe"]);
        // Named in the vocabulary as a topic the statements do not discuss: understood.
        let q = understand("Is exercise safe for someone with calcinosis?");
        assert_eq!(q.not_understood, vec!["safe"]);
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
        let c = q.contrary.expect("a contrary word");
        assert_eq!((c.said.as_str(), c.instead[0].as_str()), ("rare", "common"));
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
    fn a_function_word_cue_matches_as_written() {
        // "every" asks for a list; "ever" (the same root once derivations are joined) does not.
        assert!(understand("List every complication of calcinosis").wants_list);
        assert!(!understand("Is the spine ever a location for deposits?").wants_list);
    }

    #[test]
    fn what_a_name_stands_for_is_its_own_answer_type() {
        let lx = test_kb().ranker().lexis;
        for q in ["What does CREST stand for?", "Spell out the acronym CREST"] {
            let k = understand(q);
            assert!(
                k.kinds
                    .iter()
                    .any(|(i, _)| lx.kinds[*i].name == "definition"),
                "{q}: {k:?}"
            );
        }
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
}
