//! Stage 2b — the shape of a question: what it leaves out ("besides pain"), the two sides of
//! "X or Y", the figure it states ("about half", "10%"), a word a statement contradicts
//! ("shorter" for "longer"), a lead-in clause that only sets the scene ("My back hurts,
//! can …"), and the words nothing recognised.

use super::question::{find_all, said, Concept, ConceptKind, ContraryWord, Figure};
use super::rank::Ranker;
use super::text::Word;

/// The weight left to what a lead-in clause says ("My back hurts, can deposits be in the
/// spine?"): it sets the scene; the clause holding the question says what is asked.
const CONTEXT_WEIGHT: f32 = 0.5;

/// Words a lead-in clause needs to be one: "In scleroderma, which …" only narrows the
/// question, while "My neck is stiff, could …" tells a story around it.
const CONTEXT_MIN_WORDS: usize = 3;

impl Ranker<'_> {
    /// Where the question proper may start, latest first: the first word of each clause
    /// after a lead-in of its own. A clause opening with a question word ("can", "which")
    /// after a comma, semicolon or dash and at least [`CONTEXT_MIN_WORDS`] words ("In
    /// scleroderma, which …" only narrows the question); any clause after words that name
    /// nothing understood ("Just wondering, IM calcinosis …"); any clause after a colon or a
    /// sentence's end ("Quick one from clinic: sites?", "58F, lcSSc x12y. How …").
    pub(super) fn question_clauses(
        &self,
        text: &str,
        words: &[Word],
        concepts: &[Concept],
    ) -> Vec<usize> {
        let lx = self.lexis;
        (1..words.len())
            .rev()
            .filter(|&i| {
                let gap = &text[words[i - 1].range.end..words[i].range.start];
                let opener =
                    |w: &Word| lx.yes_no.contains(&w.lower) || lx.open_question.contains(&w.lower);
                // Or a preposition before one ("…, in which site …", "…, at what age …").
                let opens = opener(&words[i])
                    || (PREPOSITIONS.contains(&words[i].lower.as_str())
                        && words
                            .get(i + 1)
                            .is_some_and(|w| WH.contains(&w.lower.as_str())));
                let clause_break = gap.contains([',', ';', '\u{2014}']);
                clause_break && ((opens && i >= CONTEXT_MIN_WORDS) || names_nothing(concepts, i))
                    || ends_sentence(gap, &words[i - 1].lower)
            })
            .collect()
    }

    /// Where what follows the question starts, when something does ("Is it common? I have
    /// DM."): the first word after a question mark that does not open another question.
    pub(super) fn after_question(&self, text: &str, words: &[Word], from: usize) -> Option<usize> {
        let lx = self.lexis;
        (from.max(1)..words.len()).find(|&i| {
            let gap = &text[words[i - 1].range.end..words[i].range.start];
            let opens =
                lx.yes_no.contains(&words[i].lower) || lx.open_question.contains(&words[i].lower);
            gap.trim_end().ends_with('?') && !opens
        })
    }

    /// What a lead-in, or a remark after the question, says sets the scene, when the
    /// question names something of its own: it weighs [`CONTEXT_WEIGHT`] of what it would,
    /// and what it names that nothing states ("on nifedipine", "Quick one from clinic") is
    /// left out of the answer, said so, and never a reason to give none. When the question
    /// names nothing of its own ("IM calcinosis: is it described?"), the lead-in is what is
    /// asked.
    pub(super) fn mark_scene(&self, text: &str, words: &[Word], concepts: &mut [Concept]) {
        // Something understood of its own: a word nothing recognises is no sign that the
        // clause stands alone ("Elbows: why are they a favoured spot?").
        let own = |c: &Concept, span: &std::ops::Range<usize>| {
            span.contains(&c.last_at()) && !c.topic && c.kind != ConceptKind::Unknown
        };
        let end = |start: usize| {
            self.after_question(text, words, start)
                .unwrap_or(words.len())
        };
        let Some(start) = self
            .question_clauses(text, words, concepts)
            .into_iter()
            .chain(std::iter::once(0))
            .find(|&i| concepts.iter().any(|c| own(c, &(i..end(i)))))
        else {
            return;
        };
        let span = start..end(start);
        if span == (0..words.len()) {
            return;
        }
        // A word referring back ("Lithotripsy: does it help?", "On warfarin: can it …") may
        // name what the lead-in names: a named thing there that no statement states, or a
        // lead-in naming nothing else, is then what is asked.
        let refers = words[span.clone()].iter().any(|w| refers_back(&w.lower));
        let bare_lead_in = names_nothing(concepts, start);
        for c in concepts.iter_mut().filter(|c| !span.contains(&c.last_at())) {
            c.weight *= CONTEXT_WEIGHT;
            let named = matches!(c.kind, ConceptKind::Term | ConceptKind::Synonyms);
            let asked = refers && (bare_lead_in || (named && c.statements == 0));
            c.scene = !asked;
        }
    }

    /// Where a second ask starts, in bytes, when the question holds two ("What causes it,
    /// and can diet prevent it?", "Is it common? How is it treated?"): after a question
    /// mark, or after "and", a clause opening with a question word.
    /// Returns where the first ask ends and where the second starts.
    pub(crate) fn second_ask(&self, question: &str) -> Option<(usize, usize)> {
        let lx = self.lexis;
        let words = lx.ta.words(question);
        let opens = |w: &Word| lx.yes_no.contains(&w.lower) || WH.contains(&w.lower.as_str());
        (1..words.len()).rev().find_map(|i| {
            let gap = &question[words[i - 1].range.end..words[i].range.start];
            if gap.trim_end().ends_with('?') && gap.ends_with(' ') && opens(&words[i]) {
                return Some((words[i - 1].range.end, words[i].range.start));
            }
            if !opens(&words[i]) {
                return None;
            }
            // "and how long …", or with one word between ("and roughly what …").
            let joiner = |j: usize| JOINERS.contains(&words[j].lower.as_str());
            let at = [i - 1, i.saturating_sub(2)]
                .into_iter()
                .find(|&j| j >= 1 && joiner(j))?;
            Some((words[at - 1].range.end, words[at + 1].range.start))
        })
    }
    /// A word a statement's word contradicts ("shorter" for "longer"): the question looks for
    /// the statement's word, so that the statement is the answer and its word corrects the
    /// question's ("The sources say longer, not shorter.").
    pub(super) fn contrary(
        &self,
        text: &str,
        words: &[Word],
        concepts: &mut Vec<Concept>,
    ) -> Option<ContraryWord> {
        let lx = self.lexis;
        let (span, instead) = lx.contrary.iter().enumerate().find_map(|(i, p)| {
            let (at, n) = find_all(words, std::slice::from_ref(p)).next()?;
            Some((at..at + n, &lx.contrary_instead[i]))
        })?;
        let said = said(text, words, &span);
        let stated = instead.iter().find_map(|w| {
            let root = lx.ta.words(w).into_iter().next()?.root?;
            lx.stems.contains_key(&root).then_some((w, root))
        });
        if let Some((w, root)) = stated.filter(|(w, _)| !concepts.iter().any(|c| &c.label == *w)) {
            concepts.push(Concept {
                label: w.clone(),
                said: said.clone(),
                kind: ConceptKind::Word,
                statements: 0,
                weight: 0.0,
                topic: false,
                subject: false,
                excluded: false,
                alts: vec![vec![root]],
                is_a: None,
                term: None,
                span: span.clone(),
                again_at: None,
                scene: false,
            });
        }
        Some(ContraryWord {
            said,
            instead: instead.clone(),
        })
    }

    /// Concepts right after an exclusion cue ("besides pain", "other than surgery") are left
    /// out: the first concept after the cue, and those joined to it by "and"/"or"/",".
    pub(super) fn mark_exclusions(&self, words: &[Word], concepts: &mut [Concept]) {
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
    pub(super) fn sides(&self, words: &[Word], concepts: &[Concept]) -> Vec<String> {
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
}

/// Words by which a question clause refers back to its lead-in ("On warfarin: can it …").
const REFERRING: &[&str] = &[
    "it", "its", "that", "this", "these", "those", "they", "them",
];

/// Whether a word refers back to what was said before it ([`REFERRING`]).
fn refers_back(word: &str) -> bool {
    REFERRING.contains(&word)
}

/// Whether the words before `i` name nothing: no lexicon term or synonym group, only plain
/// words ("Following up on yesterday's consult, …").
fn names_nothing(concepts: &[Concept], i: usize) -> bool {
    !concepts
        .iter()
        .any(|c| c.span.start < i && matches!(c.kind, ConceptKind::Term | ConceptKind::Synonyms))
}

/// Words that join a second ask to the first ("…, and can diet prevent it?").
const JOINERS: &[&str] = &["and"];

/// Prepositions that may lead a question word ("…, in which site …", "…, at what age …").
const PREPOSITIONS: &[&str] = &[
    "in", "at", "on", "for", "by", "from", "to", "with", "of", "under", "after", "before", "during",
];

/// Words opening a second ask after "and": a question word or a yes/no opener, never an
/// imperative ("… disease also give calcinosis?").
const WH: &[&str] = &[
    "what", "what's", "whats", "which", "who", "whom", "whose", "where", "when", "why", "how",
];

/// Words whose full stop does not end a sentence ("SSc vs. DM").
const ABBREVIATIONS: &[&str] = &[
    "vs", "v", "eg", "e.g", "ie", "i.e", "etc", "approx", "cf", "dr", "no", "st",
];

/// Whether the text between two words ends what comes before as a lead-in of its own: a
/// colon, or a sentence's end (not a question: that is an ask of its own, [`Ranker::second_ask`]),
/// followed by a space ("Quick one from clinic: sites?",
/// "58F, lcSSc x12y. How …"), but not the stop of an abbreviation ("vs. DM") or a time
/// ("10:30").
fn ends_sentence(gap: &str, before: &str) -> bool {
    let stop = gap.trim_end();
    if stop.len() == gap.len() {
        return false;
    }
    stop.ends_with([':', '!']) || (stop.ends_with('.') && !ABBREVIATIONS.contains(&before))
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
/// The words not understood, as the user wrote them, in order.
pub(super) fn unknown_phrases(concepts: &[Concept]) -> Vec<String> {
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
    use super::super::question::Question;
    use super::super::test_kb;

    fn understand(q: &str) -> Question {
        test_kb().ranker().understand(q).unwrap()
    }

    fn clause(q: &str) -> Option<String> {
        let kb = test_kb();
        let ranker = kb.ranker();
        let question = understand(q);
        let words = ranker.lexis.ta.words(&question.text);
        ranker
            .question_clauses(&question.text, &words, &question.concepts)
            .first()
            .map(|&i| question.text[words[i].range.start..].to_string())
    }

    #[test]
    fn the_question_clause_after_a_lead_in() {
        for (q, clause_is) in [
            (
                "My back hurts, can calcium deposits be in the spine?",
                Some("can calcium deposits be in the spine?"),
            ),
            // A short opening before a comma only narrows the question.
            ("In scleroderma, which findings go with calcinosis?", None),
            ("Is calcinosis seen in the spine?", None),
            // A colon or a sentence's end: any opening, any length.
            (
                "IM calcinosis in SSc pts: is it described?",
                Some("is it described?"),
            ),
            (
                "Quick one from clinic: calcinosis sites in SSc?",
                Some("calcinosis sites in SSc?"),
            ),
            (
                "58F, lcSSc x12y, on nifedipine. How is it treated?",
                Some("How is it treated?"),
            ),
            // Words naming nothing before a comma only frame the question.
            (
                "Just wondering, IM calcinosis in SSc?",
                Some("IM calcinosis in SSc?"),
            ),
            // Not an abbreviation's stop, a time, or a question before another.
            ("Is calcinosis commoner in SSc vs. DM?", None),
            ("Is calcinosis common? In which disease?", None),
        ] {
            assert_eq!(clause(q).as_deref(), clause_is, "{q}");
        }
    }

    fn scene(q: &str) -> Vec<String> {
        understand(q)
            .concepts
            .into_iter()
            .filter(|c| c.scene)
            .map(|c| c.said)
            .collect()
    }

    #[test]
    fn a_lead_in_sets_the_scene_only_when_the_question_names_something_of_its_own() {
        // The question clause names treatment: the vignette only sets the scene.
        assert_eq!(
            scene("58F, lcSSc, on nifedipine. How is calcinosis treated?"),
            vec!["lcSSc", "nifedipine"]
        );
        // A remark after the question sets the scene too.
        assert_eq!(
            scene("Why do calcium deposits form under the skin? Asking for a teaching session."),
            vec!["session"]
        );
        // It names nothing understood of its own: the lead-in is what is asked.
        assert!(scene("IM calcinosis in SSc pts: is it described?").is_empty());
        assert!(scene("Elbows: why are they a favoured spot?").is_empty());
        // "it" may be what the lead-in names: a named thing no statement states is asked.
        assert_eq!(
            scene("My mum is on warfarin. Can it treat her calcinosis?"),
            vec!["mum"]
        );
    }

    #[test]
    fn what_a_scene_names_that_nothing_states_is_left_out_and_said() {
        let r = test_kb().ask("58F, lcSSc, on nifedipine. How is calcinosis treated?", 5);
        let r = r.unwrap();
        assert!(r.answered);
        assert!(
            r.short_answer().starts_with(
                "The sources do not cover nifedipine; the answer below leaves it out."
            ),
            "{}",
            r.short_answer()
        );
        let r = test_kb().ask("My mum is on warfarin. Can it treat her calcinosis?", 5);
        assert!(!r.unwrap().answered);
    }

    #[test]
    fn a_second_ask_is_found_after_and_or_a_question_mark() {
        let kb = test_kb();
        let ranker = kb.ranker();
        for (q, second) in [
            (
                "What causes calcinosis, and can diet prevent it?",
                Some("can diet prevent it?"),
            ),
            (
                "Is excision standard, and roughly what does it cost?",
                Some("roughly what does it cost?"),
            ),
            (
                "Is calcinosis common? How is it treated?",
                Some("How is it treated?"),
            ),
            ("Is calcinosis common in SSc and DM?", None),
            (
                "Which sites and which tissues are affected?",
                Some("which tissues are affected?"),
            ),
            ("What is calcinosis?", None),
        ] {
            let at = ranker.second_ask(q);
            assert_eq!(at.map(|(_, i)| &q[i..]), second, "{q}");
            if let Some((end, _)) = at {
                assert!(!q[..end].ends_with("and"), "{q}");
            }
        }
    }

    #[test]
    fn of_two_asks_the_covered_one_is_answered_and_the_other_said_to_be_uncovered() {
        let r = test_kb()
            .ask("What causes calcinosis, and can diet prevent it?", 5)
            .unwrap();
        assert!(r.answered);
        let text = r.short_answer();
        assert!(
            text.starts_with(
                "On \u{201c}can diet prevent it?\u{201d}: The sources do not cover diet."
            ),
            "{text}"
        );
        assert!(text.contains("mechanisms"), "{text}");
        // Neither covered: one abstention for the whole.
        let r = test_kb()
            .ask("Does diet matter, and is warfarin useful?", 5)
            .unwrap();
        assert!(!r.answered);
    }

    #[test]
    fn a_lead_in_clause_weighs_less_than_the_question() {
        let weight = |q: &Question, label: &str| {
            q.concepts
                .iter()
                .find(|c| c.label == label)
                .map(|c| c.weight)
                .unwrap_or_else(|| panic!("{label} in {:?}", q.concepts))
        };
        // "My back hurts," sets the scene; "spine" is asked about (named again after it).
        let q = understand("My back hurts, can calcium deposits be in the spine?");
        assert!(weight(&q, "spine") > weight(&q, "pain"), "{q:?}");
        // A colon names what is asked ("IM calcinosis: is it described?"): no lead-in.
        let with = understand("Intramuscular calcinosis: is it described?");
        let without = understand("Is intramuscular calcinosis described?");
        assert_eq!(
            weight(&with, "intramuscular"),
            weight(&without, "intramuscular")
        );
    }

    #[test]
    fn a_contrary_word_looks_for_the_statement_word() {
        let q = understand("Is calcinosis linked to a shorter course of scleroderma?");
        let c = q.contrary.as_ref().expect("a contrary word");
        assert_eq!(
            (c.said.as_str(), c.instead[0].as_str()),
            ("shorter", "longer")
        );
        assert!(q.concepts.iter().any(|c| c.label == "longer"), "{q:?}");
        // A body part asks where; no statement names it, so it is part of the claim.
        let q = understand("Can calcium lumps grow in the arm?");
        assert!(q.answer_types.contains(&"site".to_string()), "{q:?}");
        assert_eq!(q.unstated, vec!["arm"]);
        assert!(q.not_understood.is_empty(), "{q:?}");
    }

    #[test]
    fn numeric_figures() {
        assert_eq!(
            super::numeric_figure("approximately 25% of patients").map(|f| f.percent),
            Some(25.0)
        );
        assert_eq!(
            super::numeric_figure("12.5 percent").map(|f| f.said),
            Some("12.5 percent".into())
        );
        assert_eq!(super::numeric_figure("in 2020 and 300%"), None);
        assert_eq!(super::numeric_figure("no figure"), None);
    }
}
