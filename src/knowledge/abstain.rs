//! Stage 4 — abstention: whether the sources answer the question at all, and if not, why, in
//! the user's own words, pointing at the empty heading where the answer would be.

use super::question::{Concept, ConceptKind, Question};
use super::rank::{coverage, Ranker, Scored, SECTION_BONUS};
use super::vocabulary::contains_seq;

/// Below this share of the question stated by the best statement, words not understood are
/// taken as what the question is about, and the sources as not covering it.
const UNDERSTOOD_ENOUGH: f32 = 0.5;

/// Why a question is not answered.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum Abstention {
    /// The question names things no statement discusses.
    NotCovered {
        /// What is not covered.
        what: Vec<String>,
        /// Empty headings (or list openings with nothing under them) where it would be.
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
                if what.is_empty() {
                    m = "The sources do not cover this.".to_string();
                }
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

impl Ranker<'_> {
    /// Whether (and why) the question goes unanswered.
    pub(crate) fn abstain(
        &self,
        q: &Question,
        real: &[Scored],
        bare: &[Scored],
    ) -> Option<Abstention> {
        // Named things no statement states.
        let uncovered: Vec<&Concept> = q
            .concepts
            .iter()
            .filter(|c| c.kind != ConceptKind::Word && c.kind != ConceptKind::Unknown)
            .filter(|c| c.statements == 0 && !c.excluded && !c.scene)
            .collect();
        // In "X or Y", one side not covered is part of the answer, not a reason to give none.
        let a_side_covered = q.sides.len() == 2
            && q.concepts
                .iter()
                .any(|c| q.sides.contains(&c.label) && c.statements > 0);
        let uncovered: Vec<&Concept> = uncovered
            .into_iter()
            .filter(|c| !(a_side_covered && q.sides.contains(&c.label)))
            .collect();
        if !uncovered.is_empty() {
            let mut empty_headings = Vec::new();
            for c in &uncovered {
                for place in self.empty_places(c) {
                    if !empty_headings.contains(&place) {
                        empty_headings.push(place);
                    }
                }
            }
            return Some(Abstention::NotCovered {
                what: joined_adjacent(&uncovered),
                empty_headings,
            });
        }
        // The question names an empty heading outright ("other connective tissue diseases").
        // Not by what only sets the scene ("On imaging of the hands, is …").
        let scene: Vec<&String> = q
            .concepts
            .iter()
            .filter(|c| c.scene)
            .flat_map(|c| c.alts.iter().flatten())
            .collect();
        let mut asked = self.lexis.ta.roots(&q.text);
        asked.retain(|r| !scene.contains(&r));
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
            if q.asks_unknown() {
                return Some(not_understood(q));
            }
            return Some(Abstention::NoMatch);
        };
        // An empty heading or bare list opening fits better than any statement.
        if let Some(e) = self.best_empty(q, bare, top.score) {
            return Some(e);
        }
        // A number is asked for: the best statement must give one.
        if q.wants_figure {
            let f = self.lexis.feats(self.corpus, self.matcher, top.idx);
            // The figure must be about what was asked (25 % of SSc says nothing of JDM): its
            // subjects, not the plain words around them ("how many joints can it involve").
            let misses = q
                .concepts
                .iter()
                .zip(&top.matched)
                .any(|(c, &m)| !m && c.subject);
            if !f.digit || misses {
                let about: Vec<String> = q
                    .concepts
                    .iter()
                    .filter(|c| !c.topic && !c.excluded && c.kind != ConceptKind::Unknown)
                    .map(|c| c.said.clone())
                    .collect();
                let about = if about.is_empty() {
                    "it".to_string()
                } else {
                    format!("calcinosis in {}", join_and(&about))
                };
                return Some(Abstention::NoFigure { about });
            }
        }
        // Only kinds of answer the statements never give ("Who first described it?"): a
        // statement on its subject is no answer.
        let primary: Vec<usize> = q
            .kinds
            .iter()
            .filter(|(_, strength)| *strength >= 1.0)
            .map(|(k, _)| *k)
            .collect();
        let never: Vec<String> = primary
            .iter()
            .filter_map(|&k| self.lexis.kinds[k].uncovered.clone())
            .collect();
        if !primary.is_empty() && never.len() == primary.len() {
            return Some(Abstention::NotCovered {
                what: never,
                empty_headings: Vec::new(),
            });
        }
        // Words not understood, and the best statement states little else that was asked:
        // those words are what the question is about. In "X or Y" the sides are what it is
        // about: a side the best statement states is answered, whatever else was not
        // understood ("lcSSc or dcSSc: which carries more risk?").
        let side_stated = q.sides.len() == 2
            && q.concepts
                .iter()
                .zip(&top.matched)
                .any(|(c, &m)| m && q.sides.contains(&c.label));
        if q.asks_unknown() && !side_stated && coverage(q, top) < UNDERSTOOD_ENOUGH {
            return Some(not_understood(q));
        }
        // Plain words the best statement does not state, and nothing specific that it does.
        let unstated: Vec<String> = q
            .concepts
            .iter()
            .zip(&top.matched)
            .filter(|(c, &m)| c.kind == ConceptKind::Word && !m && !c.topic && !c.excluded)
            .map(|(c, _)| c.said.clone())
            .collect();
        let specific = q
            .concepts
            .iter()
            .zip(&top.matched)
            .any(|(c, &m)| m && !c.topic && c.kind != ConceptKind::Unknown);
        if !unstated.is_empty() && !specific && !top.kind_hit {
            return Some(Abstention::NotCovered {
                what: unstated,
                empty_headings: Vec::new(),
            });
        }
        None
    }

    /// Where the sources would hold a concept they do not cover: empty headings and list
    /// openings with nothing under them whose words include every word of what it is (its
    /// `is-a`).
    fn empty_places(&self, c: &Concept) -> Vec<String> {
        let Some(is_a) = &c.is_a else {
            return Vec::new();
        };
        let roots = self.lexis.ta.roots(is_a);
        if roots.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for e in &self.lexis.empties {
            if roots.iter().all(|r| e.roots.contains(r)) {
                out.push(e.path.last().cloned().unwrap_or_default());
            }
        }
        let statements = &self.corpus.statements;
        for (i, s) in statements.iter().enumerate() {
            let lx = self.lexis;
            let opens_nothing =
                s.is_lead_in() && lx.list_of[i].is_none_or(|l| lx.lists[l].items.is_empty());
            if opens_nothing
                && roots
                    .iter()
                    .all(|r| lx.feats(self.corpus, self.matcher, i).text.contains(r))
            {
                out.push(format!(
                    "\u{201c}{}\u{201d} in {}",
                    s.text.trim_end_matches(':'),
                    s.section.last().map(String::as_str).unwrap_or_default()
                ));
            }
        }
        out
    }

    /// The empty heading or bare opening that fits the question better than `beat`, as an
    /// abstention. Only what the question names (terms, synonym groups) and the kinds of
    /// answer it asks for count: a plain word ("other") never matches a heading by itself.
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
                let named = matches!(c.kind, ConceptKind::Term | ConceptKind::Synonyms);
                // What only sets the scene ("On imaging of the hands, is …") names no heading.
                if named
                    && !c.scene
                    && !c.topic
                    && !c.excluded
                    && c.alts.iter().any(|a| contains_seq(&e.roots, a))
                {
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
}

/// A concept in the user's words, with the name it was read as when that adds something
/// ("SLE (systemic lupus erythematosus)"); a catch-all group's name ("other named drugs")
/// is never shown.
fn in_own_words(c: &Concept) -> String {
    let catch_all = c.label.starts_with("other ");
    if c.said.is_empty() {
        c.label.clone()
    } else if catch_all || c.said.eq_ignore_ascii_case(&c.label) || c.said.len() > 3 {
        c.said.clone()
    } else {
        format!("{} ({})", c.said, c.label)
    }
}

/// The uncovered concepts in the user's words, adjacent ones as one phrase ("familial" and
/// "tumoral calcinosis" are "familial tumoral calcinosis").
fn joined_adjacent(uncovered: &[&Concept]) -> Vec<String> {
    let mut sorted: Vec<&Concept> = uncovered.to_vec();
    sorted.sort_by_key(|c| c.span.start);
    let mut out: Vec<(usize, Vec<&Concept>)> = Vec::new();
    for c in sorted {
        match out.last_mut() {
            Some((end, group)) if *end == c.span.start && c.span.start > 0 => {
                group.push(c);
                *end = c.span.end;
            }
            _ => out.push((c.span.end, vec![c])),
        }
    }
    out.into_iter()
        .map(|(_, group)| match group.as_slice() {
            [one] => in_own_words(one),
            many => many
                .iter()
                .map(|c| c.said.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect()
}

fn not_understood(q: &Question) -> Abstention {
    Abstention::NotCovered {
        what: q
            .not_understood
            .iter()
            .map(|w| format!("\u{201c}{w}\u{201d}"))
            .collect(),
        empty_headings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_kb;

    fn answer(q: &str) -> (bool, String) {
        let r = test_kb().ask(q, 5).unwrap();
        (r.answered, r.short_answer())
    }

    #[test]
    fn a_kind_of_answer_no_statement_gives_is_not_answered_by_its_subject() {
        for q in [
            "Who first described calcinosis?",
            "When was calcinosis first described?",
        ] {
            let (answered, text) = answer(q);
            assert!(!answered, "{q}: {text}");
            assert!(
                text.starts_with("The sources do not cover who first"),
                "{q}: {text}"
            );
        }
        // Asked beside a kind the statements give, it does not stop the answer.
        let (answered, text) =
            answer("Who first described calcinosis and how common is it in SSc?");
        assert!(answered, "{text}");
        assert!(text.contains("25%"), "{text}");
    }

    #[test]
    fn a_cue_word_never_abstains_by_matching_a_heading() {
        for q in [
            "What other sites can calcinosis affect?",
            "In scleroderma, which other findings go with calcinosis?",
        ] {
            let (answered, text) = answer(q);
            assert!(answered, "{q}: {text}");
            assert!(!text.contains("Other Connective"), "{q}: {text}");
        }
    }

    #[test]
    fn how_a_request_is_framed_is_not_what_it_asks() {
        // Who it is for, what it is for, and shorthand for "please" are not the question.
        for q in [
            "Walk me through the complications of calcinosis for a patient handout",
            "Which features cluster with calcinosis in SSc? pls",
            "Teaching point: how do digital ulcers relate to calcinosis in SSc?",
        ] {
            let (answered, text) = answer(q);
            assert!(answered, "{q}: {text}");
        }
        // A thing not understood is still what it asks about.
        let (answered, text) = answer("Will calcinosis affect a child's growth?");
        assert!(!answered, "{text}");
    }

    #[test]
    fn abstentions_use_the_users_words_and_the_right_empty_place() {
        // (question, must contain, must not contain)
        let cases = [
            (
                "Does familial tumoral calcinosis occur in JDM?",
                vec!["familial", "tumoral calcinosis"],
                vec!["heredity", "cancer"],
            ),
            (
                "Does warfarin help calcinosis?",
                vec!["warfarin", "Pharmacological options"],
                vec!["other named drugs"],
            ),
            (
                "Is shockwave lithotripsy an option for calcinosis?",
                vec!["lithotripsy", "Other approaches", "Treatment Challenges"],
                vec!["Other Connective"],
            ),
            (
                "Does calcinosis occur in SLE?",
                vec![
                    "SLE (systemic lupus erythematosus)",
                    "Other Connective Tissue Diseases",
                ],
                vec![],
            ),
        ];
        for (q, yes, no) in cases {
            let (answered, text) = answer(q);
            assert!(!answered, "{q}: {text}");
            for y in yes {
                assert!(text.contains(y), "{q}: {y:?} missing from {text}");
            }
            for n in no {
                assert!(!text.contains(n), "{q}: {n:?} in {text}");
            }
        }
    }

    #[test]
    fn a_share_in_words_is_a_figure() {
        // "nearly all joints" answers "how many joints"; the plain verb around it is not
        // what the figure must be about.
        for q in [
            "How many joints can periarticular calcinosis involve?",
            "In how many joints is periarticular calcinosis seen?",
        ] {
            let (answered, text) = answer(q);
            assert!(answered, "{q}: {text}");
            assert!(text.contains("nearly all joints"), "{q}: {text}");
        }
        // A figure about something else still does not answer.
        let (answered, text) = answer("What percentage of JDM patients get calcinosis?");
        assert!(!answered, "{text}");
    }

    #[test]
    fn a_comparison_is_answered_side_by_side_whatever_else_is_not_understood() {
        let (answered, text) = answer("lcSSc or dcSSc: which one carries more calcinosis?");
        assert!(answered, "{text}");
        assert!(
            text.contains("On dcSSc: the sources do not cover it."),
            "{text}"
        );
    }

    #[test]
    fn what_is_not_understood_and_central_is_not_answered() {
        for q in [
            "Is exercise safe for someone with calcinosis?",
            "Is general anaesthesia safe for a child with calcinosis?",
        ] {
            let (answered, text) = answer(q);
            assert!(!answered, "{q}: {text}");
            assert!(text.starts_with("The sources do not cover"), "{q}: {text}");
        }
        // Understood well enough: answered, with the word not understood said.
        let (answered, text) =
            answer("What are the risk factors for calcinosis, roughly speaking?");
        assert!(answered, "{text}");
        assert!(
            text.contains("Not understood: \u{201c}speaking\u{201d}"),
            "{text}"
        );
    }
}
