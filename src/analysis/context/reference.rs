//! The plain scan the indexed engine replaced (main at faffe2c, with issue 25's rules):
//! test-only, the reference that [`ContextEngine::assert_into`] must equal.

use super::scan::list_items;
use super::*;

#[cfg(test)]
impl ContextEngine {
    /// The plain scan [`ContextEngine::assert_into`] replaced (main at faffe2c): every
    /// trigger in reach re-reads the text between it and the mention. The reference that
    /// the indexed version must equal.
    pub(super) fn assert_reference(
        &self,
        sentence: &str,
        mentions: &[Range<usize>],
        section: &SectionDefault,
    ) -> Vec<(Assertion, Option<Cause>)> {
        let mut out = Vec::new();
        let mut scratch = Scratch::default();
        let hits = &mut scratch.hits;
        hits.clear();
        hits.extend(whole_word_matches(&self.automaton, sentence).map(|m| Hit {
            range: m.range(),
            phrase: m.pattern().as_usize(),
        }));
        // Triggers inside a mention are part of a term's name, not cues. Both lists are
        // sorted and non-overlapping, so one binary search per trigger finds its neighbour.
        hits.retain(|h| {
            let i = mentions.partition_point(|m| m.end <= h.range.start);
            mentions.get(i).is_none_or(|m| h.range.end <= m.start)
        });
        fill_word_starts(sentence, &mut scratch.word_starts);
        let hits = &scratch.hits;
        let word_starts = &scratch.word_starts;
        let words_between = |a: usize, b: usize| {
            word_starts.partition_point(|&w| w < b) - word_starts.partition_point(|&w| w < a)
        };
        // Hits are sorted by position: these find the ones inside a byte range without
        // scanning the sentence, which keeps a 10 MB run-on "sentence" linear.
        let hits_within = |r: &Range<usize>| {
            let a = hits.partition_point(|h| h.range.start < r.start);
            let b = hits.partition_point(|h| h.range.end <= r.end).max(a);
            &hits[a..b]
        };
        // Hits that overlap a byte range: a multi-word trigger whose first word is out of
        // the window may still end (forward) or start (backward) within reach.
        let hits_touching = |r: &Range<usize>| {
            let a = hits.partition_point(|h| h.range.end <= r.start);
            let b = hits.partition_point(|h| h.range.start < r.end).max(a);
            &hits[a..b]
        };
        // Where the sentence's last word ends: an item mark after it is a question mark.
        let text_end = sentence
            .trim_end_matches(|c: char| !c.is_alphanumeric())
            .len();
        let first_patient = hits
            .iter()
            .find(|t| {
                self.rules[t.phrase]
                    .iter()
                    .any(|&(k, _)| k == TriggerKind::TerminateExperiencer)
            })
            .map(|t| t.range.end);
        for (mi, m) in mentions.iter().enumerate() {
            // Only triggers within reach can apply: max_words words either side, or as many
            // list items of list_item_words words.
            let reach = self.max_words * self.list_item_words.max(1) + 2;
            let wi = word_starts.partition_point(|&w| w < m.start);
            // Cues before the first word ("?calcinosis") are in reach too.
            let lo = match wi.checked_sub(reach) {
                Some(w) => word_starts[w],
                None => 0,
            };
            let wj = word_starts.partition_point(|&w| w < m.end);
            let hi = word_starts
                .get(wj + reach)
                .copied()
                .unwrap_or(sentence.len());
            let near = hits_touching(&(lo..hi));
            let next_mention = mentions.get(mi + 1).map_or(sentence.len(), |n| n.start);
            let label = self.label(sentence, m.end, next_mention);
            let mut best: [Slot; 3] = [None, None, None];
            // The closest negation before the mention whose scope reaches it.
            let mut negation_before: Option<(usize, Range<usize>)> = None;
            if let Some((kind, range)) = &label {
                best[0] = Some((0, *kind, range.clone(), CauseKind::Label));
            }
            // Where the latest ongoing cue in scope starts ("history of X on and off").
            let mut ongoing_at: Option<usize> = None;
            // "No digital ulcers, Raynaud's improved": a predicate right after the mention
            // opens its own clause at the comma before it, beyond which no negation reaches.
            let own_clause = near
                .iter()
                .any(|h| {
                    h.range.start >= m.end
                        && words_between(m.end, h.range.start) == 0
                        && self.rules[h.phrase]
                            .iter()
                            .any(|&(k, _)| k == TriggerKind::Predicate)
                })
                // Only within reach: a run-on sentence without commas stays linear.
                .then(|| sentence[lo..m.start].rfind([',', ';']).map(|c| lo + c))
                .flatten();
            for h in near {
                if label
                    .as_ref()
                    .is_some_and(|(_, r)| r.start <= h.range.start && h.range.end <= r.end)
                {
                    continue;
                }
                // "?" against a list item ("sclerodactyly, ?telangiectasia") doubts that item
                // alone; at the end of its sentence it is a question mark and its other
                // rules apply ("Raynaud phenomenon and sclerodactyly?").
                let against_item = self.item_marks[h.phrase] && h.range.start < text_end;
                for &(kind, dir) in &self.rules[h.phrase] {
                    if self.item_marks[h.phrase] && (dir == Direction::Item) != against_item {
                        continue;
                    }
                    let Some(ax) = axis(kind) else { continue };
                    if ax == Axis::Existence && label.is_some() {
                        continue;
                    }
                    let (gap, forward) = if h.range.end <= m.start {
                        (h.range.end..m.start, true)
                    } else if h.range.start >= m.end {
                        (m.end..h.range.start, false)
                    } else {
                        continue;
                    };
                    let allowed = match dir {
                        Direction::Forward => forward,
                        Direction::Backward => !forward,
                        Direction::Both => true,
                        Direction::Leading => {
                            forward && word_starts.first() == Some(&h.range.start)
                        }
                        // Written before its item ("?X", "? X") it reaches forward; fused
                        // to the end of a word ("X?, Y") it reaches back.
                        Direction::Item => {
                            let after_word = sentence[..h.range.start]
                                .chars()
                                .next_back()
                                .is_some_and(char::is_alphanumeric);
                            forward != after_word
                        }
                        Direction::None => false,
                    };
                    if !allowed {
                        continue;
                    }
                    let mut distance = words_between(gap.start, gap.end);
                    if distance > self.max_words && self.list_item_words > 0 {
                        // A coordinated list counts one word per item: "denies fevers,
                        // chills, …, or rash" reaches as far as its items do.
                        distance = list_items(&sentence[gap.clone()], self.list_item_words)
                            .unwrap_or(distance);
                    }
                    let limit = if kind == TriggerKind::Family {
                        self.family_max_words
                    } else {
                        self.max_words
                    };
                    if distance > limit {
                        continue;
                    }
                    if dir == Direction::Item && crosses_item(&sentence[gap.clone()]) {
                        continue;
                    }
                    let blocked = hits_within(&gap).iter().any(|t| {
                        self.rules[t.phrase]
                            .iter()
                            .any(|&(k, _)| blocks(k, kind, forward))
                            && !(forward
                                && self.opens_clause(&sentence[h.range.end..t.range.start]))
                    });
                    if blocked {
                        continue;
                    }
                    if kind == TriggerKind::Ongoing {
                        ongoing_at = ongoing_at.max(Some(h.range.start));
                        continue;
                    }
                    if ax == Axis::Existence
                        && forward
                        && own_clause.is_some_and(|c| h.range.end <= c)
                    {
                        continue;
                    }
                    if kind == TriggerKind::Negated
                        && forward
                        && negation_before.as_ref().is_none_or(|(d, _)| distance < *d)
                    {
                        negation_before = Some((distance, h.range.clone()));
                    }
                    let slot = &mut best[ax as usize];
                    if slot.as_ref().is_none_or(|(d, ..)| distance < *d) {
                        *slot = Some((distance, kind, h.range.clone(), CauseKind::Trigger));
                    }
                }
            }
            // An affirmation inside a negation's scope is negated with the mention: "No
            // calcinosis is seen", "no A or B noted", "without evidence of B". A forward
            // affirmation keeps its own ground after another mention: "negative for A,
            // positive for B".
            if let (Some((_, TriggerKind::Present, affirm, CauseKind::Trigger)), Some((d, neg))) =
                (&best[0], &negation_before)
            {
                let inside = affirm.start >= m.end || {
                    let k = mentions.partition_point(|x| x.start < neg.end);
                    mentions.get(k).is_none_or(|x| x.start >= affirm.start)
                };
                if inside {
                    best[0] = Some((*d, TriggerKind::Negated, neg.clone(), CauseKind::Trigger));
                }
            }
            // Section defaults, unless the sentence says otherwise.
            let patient_named = first_patient.is_some_and(|end| end <= m.start);
            if best[2].is_none() && !patient_named {
                if let Some(r) = &section.family {
                    best[2] = Some((
                        usize::MAX,
                        TriggerKind::Family,
                        r.clone(),
                        CauseKind::Section,
                    ));
                }
            }
            // History goes on: a historical cue followed by an ongoing one is present.
            if let Some(at) = ongoing_at {
                if best[1]
                    .as_ref()
                    .is_some_and(|(_, k, r, _)| *k == TriggerKind::Historical && r.start < at)
                {
                    best[1] = None;
                }
            }
            if best[1].is_none() && ongoing_at.is_none() {
                if let Some(r) = &section.historical {
                    best[1] = Some((
                        usize::MAX,
                        TriggerKind::Historical,
                        r.clone(),
                        CauseKind::Section,
                    ));
                }
            }
            out.push(decide(&best));
        }
        out
    }
}
