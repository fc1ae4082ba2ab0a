//! Assertion context (ConText): decides, for each mention in a sentence, whether the note
//! asserts it for the patient, and which trigger decided.
//!
//! Three independent axes, each settled by the closest trigger in scope: existence
//! (negated / possible / explicitly present), time (historical / hypothetical) and
//! experiencer (family). Scopes run forward or backward from a trigger within the sentence,
//! for at most `max_scope_words` words, and stop at terminations. The axes combine with the
//! priority hypothetical > family > negated > possible > historical > present.

use std::ops::Range;

use crate::corpus::rules::{ContextRules, Direction, LabelValue, TriggerKind};
use crate::text::{is_word_char, whole_word_matches, Haystack, WordSearcher};

#[cfg(test)]
mod reference;
mod scan;

pub(crate) use scan::Scratch;
use scan::{
    fill_word_starts, pick, resume, Memo, Reach, REACHES_BACKWARD, REACHES_FAR, REACHES_FORWARD,
    TERMINATES,
};

/// What a note asserts about one mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Assertion {
    /// Asserted for the patient.
    Present,
    /// Denied.
    Negated,
    /// Uncertain.
    Possible,
    /// In the patient's past.
    Historical,
    /// Conditional or future.
    Hypothetical,
    /// A relative's.
    Family,
}

impl Assertion {
    /// All classes, in report order.
    pub const ALL: [Assertion; 6] = [
        Assertion::Present,
        Assertion::Negated,
        Assertion::Possible,
        Assertion::Historical,
        Assertion::Hypothetical,
        Assertion::Family,
    ];

    /// The lower-case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Assertion::Present => "present",
            Assertion::Negated => "negated",
            Assertion::Possible => "possible",
            Assertion::Historical => "historical",
            Assertion::Hypothetical => "hypothetical",
            Assertion::Family => "family",
        }
    }

    /// Parses a lower-case name.
    pub fn parse(s: &str) -> Option<Assertion> {
        Assertion::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether it documents the finding for the patient (present now or in the past).
    pub fn is_documented(self) -> bool {
        matches!(self, Assertion::Present | Assertion::Historical)
    }
}

impl std::fmt::Display for Assertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A trigger occurrence in a sentence (normalised offsets).
#[derive(Debug, Clone)]
pub struct Hit {
    /// Where it is.
    pub range: Range<usize>,
    /// Index into the engine's phrase table.
    phrase: usize,
}

/// What decided an assertion: a trigger phrase, a label value or a section header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// Range in the analysed text (normalised sentence offsets until mapped back).
    pub range: Range<usize>,
    /// What kind of cue it was.
    pub kind: CauseKind,
}

/// Kinds of [`Cause`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseKind {
    /// A trigger phrase in the sentence.
    Trigger,
    /// A value after "Term:".
    Label,
    /// The section the mention is in.
    Section,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Existence,
    Time,
    Experiencer,
}

fn axis(kind: TriggerKind) -> Option<Axis> {
    match kind {
        TriggerKind::Negated | TriggerKind::Possible | TriggerKind::Present => {
            Some(Axis::Existence)
        }
        TriggerKind::Historical | TriggerKind::Hypothetical | TriggerKind::Ongoing => {
            Some(Axis::Time)
        }
        TriggerKind::Family => Some(Axis::Experiencer),
        _ => None,
    }
}

/// Whether a termination of `kind` ends the scope of a trigger of kind `target`, as
/// `context.toml` defines the three lists. An affirmative verb ends only forward negation,
/// possibility, affirmation and history scopes ("Denies dysphagia, has RP" but
/// "Scleroderma has been ruled out"); it does not end a hypothetical scope ("Return if she
/// has worsening calcinosis") nor a family one.
fn blocks(kind: TriggerKind, target: TriggerKind, forward: bool) -> bool {
    match kind {
        TriggerKind::Terminate => true,
        TriggerKind::TerminateExistence => {
            forward
                && matches!(
                    target,
                    TriggerKind::Negated
                        | TriggerKind::Possible
                        | TriggerKind::Present
                        | TriggerKind::Historical
                )
        }
        TriggerKind::TerminateExperiencer => target == TriggerKind::Family,
        // History runs on: "s/p surgery for calcinosis".
        TriggerKind::TerminateIndication => {
            !matches!(target, TriggerKind::Family | TriggerKind::Historical)
        }
        _ => false,
    }
}

/// Whether `kind` is a termination (it has no scope of its own).
fn is_termination(kind: TriggerKind) -> bool {
    !ends(kind).is_empty()
}

/// The axes whose scopes a termination of `kind` ends (none for a trigger).
fn ends(kind: TriggerKind) -> &'static [Axis] {
    match kind {
        TriggerKind::Terminate => &[Axis::Existence, Axis::Time, Axis::Experiencer],
        TriggerKind::TerminateExistence | TriggerKind::TerminateIndication => {
            &[Axis::Existence, Axis::Time]
        }
        TriggerKind::TerminateExperiencer => &[Axis::Experiencer],
        _ => &[],
    }
}

/// Which mentions a phrase with these rules can reach: a rule without an axis (a
/// termination, a pseudo phrase) reaches none; `Item` may run either way. And whether it
/// is a termination.
fn reach_of(rules: &[(TriggerKind, Direction)]) -> Reach {
    let mut r = 0;
    for &(kind, dir) in rules {
        if is_termination(kind) {
            r |= TERMINATES;
        }
        if axis(kind).is_none() {
            continue;
        }
        r |= match dir {
            Direction::Forward | Direction::Leading => REACHES_FORWARD,
            Direction::Backward => REACHES_BACKWARD,
            Direction::Both | Direction::Item => REACHES_FORWARD | REACHES_BACKWARD,
            Direction::None => 0,
        };
        if kind == TriggerKind::Family {
            r |= REACHES_FAR;
        }
    }
    r
}

/// The axes a phrase with these rules works on: those of its triggers and those its
/// terminations end.
fn own_axes(rules: &[(TriggerKind, Direction)]) -> Vec<Axis> {
    let mut out = Vec::new();
    for &(k, _) in rules {
        for a in axis(k).into_iter().chain(ends(k).iter().copied()) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

/// Whether `inner` occurs in `outer` as whole words ("she" in "she has", not "he").
fn contains_words(outer: &str, inner: &str) -> bool {
    outer != inner
        && outer
            .match_indices(inner)
            .any(|(i, _)| Haystack::new(outer).is_whole_word(i, i + inner.len()))
}

/// The compiled trigger rules.
#[derive(Debug, Clone)]
pub struct ContextEngine {
    automaton: WordSearcher,
    /// The triggers written as patterns (empty, and never searched, without any). Pattern
    /// `i` is row `literal_rows + i` of the tables below.
    patterns: std::sync::Arc<crate::patterns::PatternSet>,
    /// How many rows the literal phrases take.
    literal_rows: usize,
    /// Per automaton pattern (then per regular-expression pattern): every (kind, direction)
    /// the phrase has.
    rules: Vec<Vec<(TriggerKind, Direction)>>,
    /// Per automaton pattern: whether the phrase has an item rule ("?"), which then decides
    /// for each occurrence whether it is written against a list item or ends the sentence.
    item_marks: Vec<bool>,
    /// Per automaton pattern: which mentions its rules can reach (scan's `REACHES_*`).
    reach: Vec<Reach>,
    labels: Vec<LabelValue>,
    max_words: usize,
    /// A family trigger's reach in words (at least `max_words`, within the hit window).
    family_max_words: usize,
    list_item_words: usize,
    clause_openers: Vec<String>,
}

/// Section defaults handed in by the caller for one sentence.
#[derive(Debug, Clone, Default)]
pub struct SectionDefault {
    /// The sentence is in a Family History section (cause: the header).
    pub family: Option<Range<usize>>,
    /// The sentence is in a past-history section.
    pub historical: Option<Range<usize>>,
}

impl ContextEngine {
    /// Compiles the rules.
    pub fn new(rules: &ContextRules) -> ContextEngine {
        let mut phrases: Vec<String> = Vec::new();
        let mut table: Vec<Vec<(TriggerKind, Direction)>> = Vec::new();
        for t in &rules.triggers {
            match phrases.iter().position(|p| *p == t.phrase) {
                Some(i) => table[i].push((t.kind, t.direction)),
                None => {
                    phrases.push(t.phrase.clone());
                    table.push(vec![(t.kind, t.direction)]);
                }
            }
        }
        // The longest phrase wins a position, so a longer phrase keeps the terminations of
        // the phrases it contains that end another axis than its own: "she has" still ends
        // a family scope as "she" does, but "evaluate for" does not end scopes as "for"
        // does (the phrase is there to absorb it). A pseudo phrase keeps nothing: hiding
        // the triggers inside it is its job.
        let terminations: Vec<usize> = (0..phrases.len())
            .filter(|&j| table[j].iter().any(|&(k, _)| is_termination(k)))
            .collect();
        let inherited: Vec<Vec<(TriggerKind, Direction)>> = phrases
            .iter()
            .enumerate()
            .map(|(i, outer)| {
                if table[i].iter().any(|&(k, _)| k == TriggerKind::Pseudo) {
                    return Vec::new();
                }
                let mine = own_axes(&table[i]);
                let mut extra = Vec::new();
                for &j in &terminations {
                    if !contains_words(outer, &phrases[j]) {
                        continue;
                    }
                    for &rule in &table[j] {
                        if is_termination(rule.0)
                            && ends(rule.0).iter().all(|a| !mine.contains(a))
                            && !table[i].contains(&rule)
                            && !extra.contains(&rule)
                        {
                            extra.push(rule);
                        }
                    }
                }
                extra
            })
            .collect();
        for (row, extra) in table.iter_mut().zip(inherited) {
            row.extend(extra);
        }
        // Pattern triggers follow, one row each, with their own rules only (what text they
        // match is not known here, so they neither give nor keep inner terminations).
        let literal_rows = table.len();
        table.extend(
            rules
                .pattern_triggers
                .iter()
                .map(|t| vec![(t.kind, t.direction)]),
        );
        // A few hundred phrases: the DFA is small and searches fastest.
        let automaton = WordSearcher::new(&phrases, aho_corasick::AhoCorasickKind::DFA, true)
            .expect("trigger phrases are plain strings and always build");
        let item_marks = table
            .iter()
            .map(|row| row.iter().any(|&(_, d)| d == Direction::Item))
            .collect();
        let reach = table.iter().map(|row| reach_of(row)).collect();
        ContextEngine {
            automaton,
            patterns: rules.patterns.clone(),
            literal_rows,
            item_marks,
            reach,
            rules: table,
            labels: rules.labels.clone(),
            max_words: rules.max_scope_words.max(1),
            // Family triggers are looked for among the hits within reach of the mention
            // (`max_words` words or list items either side): never farther.
            family_max_words: rules.experiencer_max_words.clamp(
                rules.max_scope_words.max(1),
                rules
                    .max_scope_words
                    .max(1)
                    .saturating_mul(rules.list_item_words.max(1)),
            ),
            list_item_words: rules.list_item_words,
            clause_openers: rules.clause_openers.clone(),
        }
    }

    /// Decides the assertion of each mention (`mentions`: normalised sentence ranges) and
    /// returns `(assertion, cause)` for each, in order.
    pub fn assert(
        &self,
        sentence: &str,
        mentions: &[Range<usize>],
        section: &SectionDefault,
    ) -> Vec<(Assertion, Option<Cause>)> {
        let mut out = Vec::new();
        let mut scratch = Scratch::default();
        self.assert_into(sentence, mentions, section, &mut scratch, &mut out);
        out
    }

    /// [`ContextEngine::assert`] into `out` (cleared first), with buffers reused from one
    /// sentence to the next (three allocations per sentence were 5 % of the analysis).
    pub(crate) fn assert_into(
        &self,
        sentence: &str,
        mentions: &[Range<usize>],
        section: &SectionDefault,
        scratch: &mut Scratch,
        out: &mut Vec<(Assertion, Option<Cause>)>,
    ) {
        out.clear();
        let hits = &mut scratch.hits;
        hits.clear();
        hits.extend(whole_word_matches(&self.automaton, sentence).map(|m| Hit {
            range: m.range(),
            phrase: m.pattern().as_usize(),
        }));
        // Pattern triggers, only when the rules have any (none: no regex runs), merged in
        // before anything reads the hits: the longest wins across both kinds, a literal
        // phrase a tie (it comes first).
        if !self.patterns.is_empty() {
            let found = &mut scratch.pattern_hits;
            found.clear();
            self.patterns.find_into(sentence, found);
            if !found.is_empty() {
                hits.extend(found.iter().map(|h| Hit {
                    range: h.range.clone(),
                    phrase: self.literal_rows + h.pattern,
                }));
                crate::patterns::longest_first(hits, |h| h.range.clone());
            }
        }
        // Triggers inside a mention are part of a term's name, not cues. Both lists are
        // sorted and non-overlapping, so one binary search per trigger finds its neighbour.
        hits.retain(|h| {
            let i = mentions.partition_point(|m| m.end <= h.range.start);
            mentions.get(i).is_none_or(|m| h.range.end <= m.start)
        });
        fill_word_starts(sentence, &mut scratch.word_starts);
        // What a mention asks of its sentence is found here once, so that a mention costs
        // what its scope window holds, never its sentence's length (a 10 MB run-on
        // "sentence" had each mention re-count up to 50 words of list per trigger in reach).
        scratch.index.fill(
            sentence,
            &scratch.hits,
            &scratch.word_starts,
            &self.reach,
            self.list_item_words,
            self.max_words,
        );
        let hits = &scratch.hits;
        let word_starts = &scratch.word_starts;
        let index = &scratch.index;
        // Hits are sorted by position: these find the ones inside a byte range without
        // scanning the sentence, which keeps a 10 MB run-on "sentence" linear.
        // The hits inside a gap: those that start at or after its start (`a`: the number
        // that start before) and end by its end (`b`: the number that end by it).
        let hits_within = |a: usize, b: usize| a..b.max(a);
        // Mentions come in order, so each of these counts resumes where the last mention's
        // stopped: linear over the sentence, where a binary search per mention was a third
        // of a run-on sentence's time.
        let mut cursors = [0usize; 8];
        let mut visit_cursors = [0usize; 8];
        let mut comma_cursors = [0usize; 2];
        let (mention_before, mention_after) = (Memo::default(), Memo::default());
        // Where the sentence's last word ends: an item mark after it is a question mark.
        let text_end = sentence.trim_end_matches(|c: char| !is_word_char(c)).len();
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
            let [c_wi, c_wj, c_lo, c_hi, c_ends, c_starts, c_cs, c_ce] = &mut cursors;
            let wi = resume(c_wi, word_starts.len(), |k| word_starts[k] < m.start);
            // Cues before the first word ("?calcinosis") are in reach too.
            let lo = match wi.checked_sub(reach) {
                Some(w) => word_starts[w],
                None => 0,
            };
            let wj = resume(c_wj, word_starts.len(), |k| word_starts[k] < m.end);
            let hi = word_starts
                .get(wj + reach)
                .copied()
                .unwrap_or(sentence.len());
            // Hits that overlap the window: a multi-word trigger whose first word is out of
            // it may still end (forward) or start (backward) within reach.
            let near = {
                let a = resume(c_lo, hits.len(), |k| hits[k].range.end <= lo);
                let b = resume(c_hi, hits.len(), |k| hits[k].range.start < hi).max(a);
                a..b
            };
            let ends_by_start = resume(c_ends, hits.len(), |k| hits[k].range.end <= m.start);
            let starts_before_end = resume(c_starts, hits.len(), |k| hits[k].range.start < m.end);
            // The mention's word indices: a trigger's distance in words is a subtraction.
            let (m_first, m_past) = (wi, wj);
            let m_commas = (
                resume(c_cs, index.commas.len(), |k| index.commas[k] < m.start),
                resume(c_ce, index.commas.len(), |k| index.commas[k] < m.end),
            );
            // Narrower still: a trigger applies only within max_words words or max_words
            // list items, and the items between commas are counted already, so the triggers
            // beyond both are never looked at (they would fail the distance test below).
            // A family trigger reaches farther in words (`family_max_words`): the window
            // for those alone (`far`) is wider than the one for the others (`close`).
            let [c_first, c_last] = &mut comma_cursors;
            let (first_comma, last_comma) = if index.lists {
                (
                    index.first_comma_within(m_commas.0, self.max_words, c_first),
                    index.last_comma_within(m_commas.1, self.max_words, c_last),
                )
            } else {
                (0, 0)
            };
            let window = |word_cap: usize| {
                let (a, b) = (near.start, near.end);
                if !index.lists {
                    return a..b;
                }
                let from = index.end_word[a..b]
                    .partition_point(|&w| (w as usize) < m_first.saturating_sub(word_cap))
                    .min(index.end_comma[a..b].partition_point(|&c| (c as usize) < first_comma));
                let to = index.start_word[a..b]
                    .partition_point(|&w| w as usize <= m_past + word_cap)
                    .max(index.start_comma[a..b].partition_point(|&c| c as usize <= last_comma));
                a + from..a + to.max(from)
            };
            let far = window(self.family_max_words.max(self.max_words));
            let close = window(self.max_words);
            // The hits visited, in order: in the wide window's edges only those with a
            // family rule; in the close one, before the mention only those that reach
            // forward and after it those that reach back. Any other hit would fail every
            // test below, and the order (by position) decides ties as before.
            let [c_far0, c_far1, c_fwd0, c_fwd1, c_bwd0, c_bwd1, c_far2, c_far3] =
                &mut visit_cursors;
            let visit = pick(&index.far, (c_far0, c_far1), far.start, close.start)
                .chain(pick(
                    &index.forward,
                    (c_fwd0, c_fwd1),
                    close.start,
                    close.end.min(ends_by_start),
                ))
                .chain(pick(
                    &index.backward,
                    (c_bwd0, c_bwd1),
                    close.start.max(starts_before_end),
                    close.end,
                ))
                .chain(pick(&index.far, (c_far2, c_far3), close.end, far.end))
                .map(|&i| i as usize);
            // The mention's own partial list items at a gap's edge, read once for it.
            mention_before.reset();
            mention_after.reset();
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
            // (The hits starting after the mention at its last word's end follow one another
            // from `starts_before_end`.)
            let own_clause = hits[starts_before_end.min(hits.len())..]
                .iter()
                .zip(&index.start_word[starts_before_end.min(hits.len())..])
                .take_while(|&(_, &w)| w as usize == m_past)
                .any(|(h, _)| {
                    self.rules[h.phrase]
                        .iter()
                        .any(|&(k, _)| k == TriggerKind::Predicate)
                })
                // Only within reach: a run-on sentence without commas stays linear.
                .then(|| sentence[lo..m.start].rfind([',', ';']).map(|c| lo + c))
                .flatten();
            for hi in visit {
                let h = &hits[hi];
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
                    let (gap, forward, mut distance, within) = if h.range.end <= m.start {
                        (
                            h.range.end..m.start,
                            true,
                            m_first - index.end_word[hi] as usize,
                            hits_within(index.starts_before_end[hi] as usize, ends_by_start),
                        )
                    } else if h.range.start >= m.end {
                        (
                            m.end..h.range.start,
                            false,
                            index.start_word[hi] as usize - m_past,
                            hits_within(starts_before_end, index.ends_by_start[hi] as usize),
                        )
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
                            let after_word =
                                Haystack::new(sentence).word_char_before(h.range.start);
                            forward != after_word
                        }
                        Direction::None => false,
                    };
                    if !allowed {
                        continue;
                    }
                    if distance > self.max_words && self.list_item_words > 0 {
                        // A coordinated list counts one word per item: "denies fevers,
                        // chills, …, or rash" reaches as far as its items do.
                        let (after_hit, before_hit) = index.edges(hi);
                        let (commas, head, tail) = if forward {
                            (
                                (index.end_comma[hi] as usize, m_commas.0),
                                after_hit,
                                &mention_before,
                            )
                        } else {
                            (
                                (m_commas.1, index.start_comma[hi] as usize),
                                &mention_after,
                                before_hit,
                            )
                        };
                        distance = index
                            .list_items(
                                sentence,
                                &gap,
                                commas,
                                self.list_item_words,
                                self.max_words,
                                head,
                                tail,
                            )
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
                    // Only the terminations in the gap are looked at, found from one to the
                    // next through the index rather than by walking every trigger between.
                    let blocked = index.terminations(within.clone()).any(|ti| {
                        let t = &hits[ti];
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
    }

    /// Whether `between` (the text from a trigger to a termination after it) is empty or
    /// one clause opener: then the termination is in the trigger's own clause.
    fn opens_clause(&self, between: &str) -> bool {
        let w = between.trim();
        w.is_empty()
            || self
                .clause_openers
                .iter()
                .any(|o| o.eq_ignore_ascii_case(w))
    }

    /// A label value right after a mention: "Sclerodactyly: none", "Raynaud's - yes".
    fn label(
        &self,
        sentence: &str,
        end: usize,
        limit: usize,
    ) -> Option<(TriggerKind, Range<usize>)> {
        let rest = &sentence[end..limit.max(end)];
        let trimmed = rest.trim_start();
        let sep = trimmed.chars().next()?;
        if !matches!(sep, ':' | '-' | '–' | '=') {
            return None;
        }
        let after_sep = &trimmed[sep.len_utf8()..];
        let value_text = after_sep.trim_start();
        let value_start = end + (rest.len() - value_text.len());
        let value_end = value_text
            .find([',', ';', '.', '(', '\n'])
            .unwrap_or(value_text.len());
        let value = value_text[..value_end].trim_end();
        if value.is_empty() {
            return None;
        }
        // Compared case-insensitively, but measured on the value as written: a lower-cased
        // copy can have another length ("\u{212a}" is three bytes, "k" one).
        let first_word_len = value.find(' ').unwrap_or(value.len());
        for candidate in [value, &value[..first_word_len]] {
            let lower = candidate.to_lowercase();
            if let Some(l) = self.labels.iter().find(|l| l.value == lower) {
                return Some((l.kind, value_start..value_start + candidate.len()));
            }
        }
        None
    }
}

type Slot = Option<(usize, TriggerKind, Range<usize>, CauseKind)>;

fn decide(best: &[Slot; 3]) -> (Assertion, Option<Cause>) {
    let cause = |s: &Slot| {
        s.as_ref().map(|(_, _, r, k)| Cause {
            range: r.clone(),
            kind: *k,
        })
    };
    let kind = |s: &Slot| s.as_ref().map(|(_, k, ..)| *k);
    let [existence, time, experiencer] = best;
    if kind(time) == Some(TriggerKind::Hypothetical) {
        return (Assertion::Hypothetical, cause(time));
    }
    if kind(experiencer) == Some(TriggerKind::Family) {
        return (Assertion::Family, cause(experiencer));
    }
    match kind(existence) {
        Some(TriggerKind::Negated) => return (Assertion::Negated, cause(existence)),
        Some(TriggerKind::Possible) => return (Assertion::Possible, cause(existence)),
        _ => {}
    }
    if kind(time) == Some(TriggerKind::Historical) {
        return (Assertion::Historical, cause(time));
    }
    (Assertion::Present, cause(existence))
}

/// Words that join the items of a coordinated list.
const LIST_JOINERS: [&str; 3] = ["or", "and", "nor"];

/// Characters that end a list item (besides the sentence's end).
const ITEM_SEPARATORS: [char; 5] = [',', ';', ':', '(', ')'];

/// Whether `gap` (text between a trigger and a mention) runs from one list item into
/// another: a separator or a joining word.
fn crosses_item(gap: &str) -> bool {
    gap.contains(ITEM_SEPARATORS)
        || gap
            .split(|c: char| !is_word_char(c))
            .any(|w| LIST_JOINERS.iter().any(|j| w.eq_ignore_ascii_case(j)))
}

#[cfg(test)]
mod tests {
    use super::scan::LIST_BYTES_READ;
    use super::*;

    /// The text of list a mention reads is bounded by its scope window, not by the
    /// sentence: on one run-on line of "?RP, " items (a trigger at every item), the plain
    /// scan re-read every gap to each trigger in reach; the index reads each byte once
    /// for the sentence and then only the partial items at a gap's two ends.
    #[test]
    fn a_mention_reads_a_bounded_amount_of_list_text() {
        let corpus = crate::corpus::Corpus::embedded().expect("the embedded corpus loads");
        let engine = ContextEngine::new(&corpus.context);
        let section = SectionDefault::default();
        let read_per_mention = |n: usize, plain: bool| {
            let s = "?RP, ".repeat(n);
            let mentions: Vec<Range<usize>> = (0..n).map(|i| i * 5 + 1..i * 5 + 3).collect();
            LIST_BYTES_READ.with(|c| c.set(0));
            let found = if plain {
                engine.assert_reference(&s, &mentions, &section)
            } else {
                engine.assert(&s, &mentions, &section)
            };
            assert!(found.iter().all(|(a, _)| *a == Assertion::Possible));
            LIST_BYTES_READ.with(|c| c.get()) / n
        };
        for n in [1_000, 8_000] {
            let indexed = read_per_mention(n, false);
            assert!(indexed <= 100, "{indexed} bytes per mention for {n} items");
            // What main read: the check above fails on it.
            let plain = read_per_mention(n, true);
            assert!(
                plain > 1_000,
                "{plain} bytes per mention for {n} items (plain scan)"
            );
        }
    }

    /// Random run-on sentences of cues, terms, list separators and joiners, with and
    /// without commas: the per-sentence index answers exactly what the plain scan did.
    #[test]
    fn indexed_scopes_equal_the_plain_scan() {
        let corpus = crate::corpus::Corpus::embedded().expect("the embedded corpus loads");
        let engine = ContextEngine::new(&corpus.context);
        let pieces = [
            "denies ",
            "no ",
            "has ",
            "?",
            "? ",
            "possible ",
            "mother ",
            "she ",
            "if ",
            "history of ",
            "X",
            "X ",
            "X, ",
            "X? ",
            "and ",
            "or ",
            ", ",
            "; ",
            "(",
            ") ",
            "word ",
            "two words ",
            "a/b ",
            "that ",
            ": none ",
            "- yes ",
            "nor ",
            "not ",
            "ruled out ",
            "but ",
            "é ",
        ];
        // Long coordinated lists, where scopes are counted in items, at the edge of reach.
        let lists = [
            "X, ",
            "X, ",
            "word, ",
            "two words, ",
            "X and ",
            "or ",
            "denies ",
            "?",
            "has ",
            "X ",
        ];
        let mut rng = fastrand::Rng::with_seed(24);
        let mut checked = 0;
        for round in 0..4_000 {
            let len = if round % 10 == 0 { 400 } else { 40 };
            let set: &[&str] = if round % 2 == 0 { &pieces } else { &lists };
            let mut s = String::new();
            let mut mentions = Vec::new();
            for _ in 0..rng.usize(1..len) {
                let p = set[rng.usize(..set.len())];
                if let Some(rest) = p.strip_prefix('X') {
                    // A mention is a whole word not glued to the last one.
                    if s.ends_with(|c: char| c.is_alphanumeric()) {
                        s.push(' ');
                    }
                    mentions.push(s.len()..s.len() + 2);
                    s.push_str("RP");
                    s.push_str(rest);
                } else {
                    s.push_str(p);
                }
            }
            let section = SectionDefault::default();
            let got = engine.assert(&s, &mentions, &section);
            let want = engine.assert_reference(&s, &mentions, &section);
            assert_eq!(got, want, "{s:?}");
            checked += mentions.len();
        }
        assert!(checked > 10_000, "{checked} mentions");
    }

    #[test]
    fn word_starts_byte_by_byte_equal_char_by_char() {
        let reference = |s: &str| {
            let mut out = Vec::new();
            let mut in_word = false;
            for (i, c) in s.char_indices() {
                let w = c.is_alphanumeric();
                if w && !in_word {
                    out.push(i);
                }
                in_word = w || (in_word && (c == '\'' || c == '-'));
            }
            out
        };
        let mut rng = fastrand::Rng::with_seed(21);
        let pieces = [
            "a", "Z", "7", " ", "'", "-", ".", "é", "’", "😀", "日", "\u{a0}", "ß-",
        ];
        let mut out = Vec::new();
        for _ in 0..20_000 {
            let s = crate::text::random_text(&mut rng, &pieces, 0..20);
            fill_word_starts(&s, &mut out);
            assert_eq!(out, reference(&s), "{s:?}");
        }
    }
}
