//! Stage 2b — the shape of a question: what it leaves out ("besides pain"), the two sides of
//! "X or Y", the figure it states ("about half", "10%"), and the words nothing recognised.

use super::question::{find_all, Concept, ConceptKind, Figure};
use super::rank::Ranker;
use super::text::Word;

/// The weight left to what a lead-in clause says ("My back hurts, can deposits be in the
/// spine?"): it sets the scene; the clause holding the question says what is asked.
pub(crate) const CONTEXT_WEIGHT: f32 = 0.5;

/// Words a lead-in clause needs to be one: "In scleroderma, which …" only narrows the
/// question, while "My neck is stiff, could …" tells a story around it.
const CONTEXT_MIN_WORDS: usize = 3;

impl Ranker<'_> {
    /// Where the question proper starts, when a lead-in clause of its own comes first: the
    /// first word of the last clause that opens with a question word ("can", "which"),
    /// after a comma, semicolon or dash and at least [`CONTEXT_MIN_WORDS`] words. A colon
    /// does not count: "IM calcinosis: is it described?" names what is asked before it.
    pub(super) fn question_clause(&self, text: &str, words: &[Word]) -> Option<usize> {
        let lx = self.lexis;
        (CONTEXT_MIN_WORDS..words.len()).rev().find(|&i| {
            let gap = &text[words[i - 1].range.end..words[i].range.start];
            gap.contains([',', ';', '\u{2014}'])
                && (lx.yes_no.contains(&words[i].lower)
                    || lx.open_question.contains(&words[i].lower))
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
    use super::super::test_kb;

    fn clause(q: &str) -> Option<String> {
        let kb = test_kb();
        let ranker = kb.ranker();
        let words = ranker.lexis.ta.words(q);
        ranker
            .question_clause(q, &words)
            .map(|i| q[words[i].range.start..].to_string())
    }

    #[test]
    fn the_question_clause_after_a_lead_in() {
        assert_eq!(
            clause("My back hurts, can calcium deposits be in the spine?").as_deref(),
            Some("can calcium deposits be in the spine?")
        );
        // A colon names what is asked; a short opening only narrows it.
        assert_eq!(clause("IM calcinosis in SSc pts: is it described?"), None);
        assert_eq!(
            clause("In scleroderma, which findings go with calcinosis?"),
            None
        );
        assert_eq!(clause("Is calcinosis seen in the spine?"), None);
    }
}
