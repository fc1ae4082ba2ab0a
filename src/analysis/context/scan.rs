//! The scanning mechanics of the context engine: what every mention asks of its sentence
//! (word starts, the words and commas before each trigger, the next termination, the list
//! items between commas), found once per sentence so that a mention costs what its scope
//! window holds, never its sentence's length. No decision is taken here.

use std::cell::Cell;
use std::ops::Range;

use super::{Hit, LIST_JOINERS};
use crate::text::Haystack;

/// What a phrase's rules can reach, as bit flags ([`REACHES_FORWARD`] and the others):
/// the hits that cannot reach a mention are never visited for it.
pub(super) type Reach = u8;
/// The phrase has a rule with an axis whose scope may run forward (to a mention after it).
pub(super) const REACHES_FORWARD: Reach = 1;
/// The phrase has a rule with an axis whose scope may run backward (to a mention before it).
pub(super) const REACHES_BACKWARD: Reach = 2;
/// The phrase has a family rule, whose reach in words is the longest
/// (`experiencer_max_words`).
pub(super) const REACHES_FAR: Reach = 4;
/// The phrase is a termination (of some scopes).
pub(super) const TERMINATES: Reach = 8;

/// A memo of [`list_items`] not computed yet.
const UNKNOWN: u32 = u32::MAX;
/// A memo of [`list_items`] that is `None`.
const NOT_A_LIST: u32 = u32::MAX - 1;

/// A cell remembering [`list_items`] of one text: a part at a gap's edge is read once per
/// hit (or mention), not once per pair of them.
#[derive(Debug, Clone)]
pub(super) struct Memo(Cell<u32>);

impl Default for Memo {
    fn default() -> Memo {
        Memo(Cell::new(UNKNOWN))
    }
}

impl Memo {
    /// Forgets what it remembered.
    pub(super) fn reset(&self) {
        self.0.set(UNKNOWN);
    }

    /// [`list_items`] of `text`, read the first time only.
    fn items(&self, text: &str, max_item: usize) -> Option<usize> {
        match self.0.get() {
            UNKNOWN => {
                let n = list_items(text, max_item);
                let stored = n.map_or(NOT_A_LIST, |n| u32::try_from(n).unwrap_or(NOT_A_LIST));
                // A count too large to store (never within a scope) is read again each time.
                if n.is_none() || stored != NOT_A_LIST {
                    self.0.set(stored);
                }
                n
            }
            NOT_A_LIST => None,
            n => Some(n as usize),
        }
    }
}

#[cfg(test)]
thread_local! {
    /// The bytes [`list_items`] has read on this thread: what a mention costs, counted.
    pub(super) static LIST_BYTES_READ: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// If `gap` is the inside of a coordinated list (items of at most `max_item` words joined by
/// commas, "or", "and", "nor"), the number of items; otherwise `None`.
pub(super) fn list_items(gap: &str, max_item: usize) -> Option<usize> {
    #[cfg(test)]
    LIST_BYTES_READ.with(|n| n.set(n.get() + gap.len()));
    let b = gap.as_bytes();
    let (mut items, mut words) = (0, 0);
    let mut start = 0;
    // Tokens end at a space or a comma; a comma (or the end) also ends a part. Every byte
    // of a run-on sentence's list is read here once, so no `split` iterators: they were
    // a fifth of a 10 MB run-on sentence's time.
    for end in memchr::memchr2_iter(b' ', b',', b).chain(std::iter::once(b.len())) {
        let token = Haystack::new(&gap[start..end]).trim_to_word();
        if !token.is_empty() {
            if LIST_JOINERS.iter().any(|j| token.eq_ignore_ascii_case(j)) {
                items += usize::from(words > 0);
                words = 0;
            } else {
                words += 1;
                if words > max_item {
                    return None;
                }
            }
        }
        if b.get(end).is_none_or(|&c| c == b',') {
            items += usize::from(words > 0);
            words = 0;
        }
        start = end + 1;
    }
    Some(items)
}

/// The start of every word of `s` (letters and digits, with inner apostrophes and hyphens):
/// [`Haystack::word_starts_into`].
pub(super) fn fill_word_starts(s: &str, out: &mut Vec<usize>) {
    Haystack::new(s).word_starts_into(out);
}

/// The number of leading indices `k < len` for which `before(k)` holds (a sorted
/// predicate: true, then false), found from `cursor`, the answer for the previous mention,
/// and left there. Linear over a sentence when the positions asked about ascend, and
/// correct in any order.
pub(super) fn resume(cursor: &mut usize, len: usize, before: impl Fn(usize) -> bool) -> usize {
    let mut k = (*cursor).min(len);
    while k > 0 && !before(k - 1) {
        k -= 1;
    }
    while k < len && before(k) {
        k += 1;
    }
    *cursor = k;
    k
}

/// The entries of `list` (hit indices, ascending) in `from..to`, each bound found from its
/// cursor ([`resume`]).
pub(super) fn pick<'a>(
    list: &'a [u32],
    cursors: (&mut usize, &mut usize),
    from: usize,
    to: usize,
) -> std::slice::Iter<'a, u32> {
    let i = resume(cursors.0, list.len(), |k| (list[k] as usize) < from);
    let j = resume(cursors.1, list.len(), |k| (list[k] as usize) < to);
    list[i..j.max(i)].iter()
}

/// For each of `at` (ascending), the number of `marks` (ascending) before it, into `out`.
fn count_before(
    out: &mut Vec<u32>,
    len: usize,
    mark: impl Fn(usize) -> usize,
    at: impl Iterator<Item = usize>,
) {
    out.clear();
    let mut w = 0;
    for a in at {
        while w < len && mark(w) < a {
            w += 1;
        }
        out.push(u32::try_from(w).unwrap_or(u32::MAX));
    }
}

/// Buffers [`ContextEngine::assert_into`] reuses from one sentence to the next.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub(super) hits: Vec<Hit>,
    pub(super) word_starts: Vec<usize>,
    pub(super) index: SentenceIndex,
    /// The pattern triggers' matches (empty without pattern triggers).
    pub(super) pattern_hits: Vec<crate::patterns::PatternMatch>,
}

impl Scratch {
    /// Whether a buffer holds more than `max` items' room.
    pub(crate) fn is_big(&self, max: usize) -> bool {
        self.hits.capacity() > max
            || self.word_starts.capacity() > max
            || self.index.is_big(max)
            || self.pattern_hits.capacity() > max
    }
}

/// What every mention of a sentence asks of it, found once per sentence so that a mention
/// costs a few binary searches per trigger in reach, whatever the sentence's length. Only
/// the mechanics of [`ContextEngine::assert_into`] use it: each query answers exactly what
/// the plain scan it replaces answered (tested against it).
#[derive(Debug, Default)]
pub(super) struct SentenceIndex {
    /// Per hit: the number of words that start before it starts / before it ends.
    pub(super) start_word: Vec<u32>,
    pub(super) end_word: Vec<u32>,
    /// Per hit: the number of commas before it starts / before it ends.
    pub(super) start_comma: Vec<u32>,
    pub(super) end_comma: Vec<u32>,
    /// Per hit: the number of hits that start before it ends / that end by its start.
    pub(super) starts_before_end: Vec<u32>,
    pub(super) ends_by_start: Vec<u32>,
    /// Per hit, and one past the last: the first hit at or after it that is a termination.
    pub(super) next_termination: Vec<u32>,
    /// The hits whose rules may reach forward, backward, and farther than `max_words`
    /// (family), in order: a mention visits only those that can reach it.
    pub(super) forward: Vec<u32>,
    pub(super) backward: Vec<u32>,
    pub(super) far: Vec<u32>,
    /// Per hit: the list items from its end to the next comma, and from the comma before
    /// it to its start (the partial items at a gap's edge), read when first asked for.
    after_end: Vec<Memo>,
    before_start: Vec<Memo>,
    /// Whether a distance may be counted in list items: the sentence has triggers and more
    /// words than a scope reaches. Without, the comma counts below are left unfilled.
    pub(super) lists: bool,
    /// Where the sentence's commas are.
    pub(super) commas: Vec<usize>,
    /// Per comma: the list items, and the parts too long to be an item ([`list_items`]
    /// `None`), of the text between the sentence's commas before it, summed.
    pub(super) items_before: Vec<u32>,
    pub(super) unlisted_before: Vec<u32>,
}

impl SentenceIndex {
    pub(super) fn fill(
        &mut self,
        sentence: &str,
        hits: &[Hit],
        word_starts: &[usize],
        reach: &[Reach],
        max_item: usize,
        max_words: usize,
    ) {
        self.commas.clear();
        self.forward.clear();
        self.backward.clear();
        self.far.clear();
        // Most sentences are short: with no trigger, or no more words than a scope
        // reaches, no distance is ever counted in list items, and the index is the few
        // counts below (building all of it made typical notes 8 % slower).
        self.lists = !hits.is_empty() && word_starts.len() > max_words;
        if hits.is_empty() {
            return;
        }
        // Hits and word starts are both sorted: one merge finds every hit's word indices.
        if self.lists {
            self.commas
                .extend(memchr::memchr_iter(b',', sentence.as_bytes()));
        }
        let commas = std::mem::take(&mut self.commas);
        count_before(
            &mut self.start_word,
            word_starts.len(),
            |k| word_starts[k],
            hits.iter().map(|h| h.range.start),
        );
        count_before(
            &mut self.end_word,
            word_starts.len(),
            |k| word_starts[k],
            hits.iter().map(|h| h.range.end),
        );
        if self.lists {
            count_before(
                &mut self.start_comma,
                commas.len(),
                |k| commas[k],
                hits.iter().map(|h| h.range.start),
            );
            count_before(
                &mut self.end_comma,
                commas.len(),
                |k| commas[k],
                hits.iter().map(|h| h.range.end),
            );
        }
        self.commas = commas;
        count_before(
            &mut self.starts_before_end,
            hits.len(),
            |k| hits[k].range.start,
            hits.iter().map(|h| h.range.end),
        );
        // The hits that end by `a` are those whose end is before `a + 1`.
        count_before(
            &mut self.ends_by_start,
            hits.len(),
            |k| hits[k].range.end,
            hits.iter().map(|h| h.range.start + 1),
        );
        self.next_termination.clear();
        self.next_termination.resize(hits.len() + 1, 0);
        let mut next = u32::try_from(hits.len()).unwrap_or(u32::MAX);
        for (i, h) in hits.iter().enumerate().rev() {
            if reach[h.phrase] & TERMINATES != 0 {
                next = u32::try_from(i).unwrap_or(u32::MAX);
            }
            self.next_termination[i] = next;
        }
        if let Some(last) = self.next_termination.last_mut() {
            *last = u32::try_from(hits.len()).unwrap_or(u32::MAX);
        }
        for (i, h) in hits.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            let r = reach[h.phrase];
            for (flag, list) in [
                (REACHES_FORWARD, &mut self.forward),
                (REACHES_BACKWARD, &mut self.backward),
                (REACHES_FAR, &mut self.far),
            ] {
                if r & flag != 0 {
                    list.push(i);
                }
            }
        }
        self.after_end.clear();
        self.before_start.clear();
        if self.lists {
            self.after_end.resize(hits.len(), Memo::default());
            self.before_start.resize(hits.len(), Memo::default());
        }
        self.items_before.clear();
        self.unlisted_before.clear();
        let (mut items, mut unlisted) = (0u32, 0u32);
        for (k, &c) in self.commas.iter().enumerate() {
            if k > 0 {
                match list_items(&sentence[self.commas[k - 1] + 1..c], max_item) {
                    Some(n) => items = items.saturating_add(u32::try_from(n).unwrap_or(u32::MAX)),
                    None => unlisted += 1,
                }
            }
            self.items_before.push(items);
            self.unlisted_before.push(unlisted);
        }
    }

    /// The memos of hit `hi`'s partial list items: after its end, before its start.
    pub(super) fn edges(&self, hi: usize) -> (&Memo, &Memo) {
        (&self.after_end[hi], &self.before_start[hi])
    }

    /// [`list_items`] of `sentence[gap]`: the parts between two commas inside the gap are
    /// summed already; only the two partial parts at its ends are read, each once for the
    /// sentence (`head` and `tail` remember them: one belongs to a hit, the other to the
    /// mention). `commas` are the numbers of commas before the gap's start and end. Above
    /// `cap` items the count is any number above `cap`: the edges are not read.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn list_items(
        &self,
        sentence: &str,
        gap: &Range<usize>,
        commas: (usize, usize),
        max_item: usize,
        cap: usize,
        head: &Memo,
        tail: &Memo,
    ) -> Option<usize> {
        let (a, b) = commas;
        if a == b {
            return list_items(&sentence[gap.clone()], max_item);
        }
        if self.unlisted_before[b - 1] != self.unlisted_before[a] {
            return None;
        }
        let inner = (self.items_before[b - 1] - self.items_before[a]) as usize;
        if inner > cap {
            return Some(inner);
        }
        let head = head.items(&sentence[gap.start..self.commas[a]], max_item)?;
        let tail = tail.items(&sentence[self.commas[b - 1] + 1..gap.end], max_item)?;
        Some(head + inner + tail)
    }

    /// The fewest commas before a trigger's end for its scope to reach, within `cap` list
    /// items, a mention with `c` commas before it: the parts between the commas in the
    /// gap hold at most `cap` items, and none is too long to be one. Found from `cursor`,
    /// the previous mention's answer ([`resume`]): mentions come in order.
    pub(super) fn first_comma_within(&self, c: usize, cap: usize, cursor: &mut usize) -> usize {
        let ok = |a: usize| {
            a + 1 >= c
                || (self.unlisted_before[c - 1] == self.unlisted_before[a]
                    && (self.items_before[c - 1] - self.items_before[a]) as usize <= cap)
        };
        // `ok` is false, then true: the answer is the number of commas it is false for.
        resume(cursor, c, |a| !ok(a))
    }

    /// The most commas before a trigger's start for its scope to reach back, within `cap`
    /// list items, a mention with `a` commas before its end (found from `cursor`, as
    /// [`SentenceIndex::first_comma_within`]).
    pub(super) fn last_comma_within(&self, a: usize, cap: usize, cursor: &mut usize) -> usize {
        let ok = |b: usize| {
            b <= a + 1
                || (self.unlisted_before[b - 1] == self.unlisted_before[a]
                    && (self.items_before[b - 1] - self.items_before[a]) as usize <= cap)
        };
        // `ok` is true, then false, over `0..=commas`: the answer is the last it is true for.
        let n = self.commas.len().max(a);
        resume(cursor, n + 1, ok).saturating_sub(1).max(a)
    }

    /// The terminations among the hits `range`, in order.
    pub(super) fn terminations(&self, range: Range<usize>) -> impl Iterator<Item = usize> + '_ {
        let mut i = range.start;
        std::iter::from_fn(move || {
            let t = *self.next_termination.get(i)? as usize;
            if t >= range.end {
                return None;
            }
            i = t + 1;
            Some(t)
        })
    }

    pub(super) fn is_big(&self, max: usize) -> bool {
        self.start_word.capacity() > max
            || self.commas.capacity() > max
            || self.after_end.capacity() > max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-wise count equals the one written with `split` and `trim_matches` (main's).
    #[test]
    fn list_items_byte_by_byte_equal_split_by_split() {
        let reference = |gap: &str, max_item: usize| -> Option<usize> {
            let mut items = 0;
            for part in gap.split(',') {
                let mut words = 0;
                let tokens = part
                    .split(' ')
                    .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric()))
                    .filter(|w| !w.is_empty());
                for w in tokens {
                    if LIST_JOINERS.iter().any(|j| w.eq_ignore_ascii_case(j)) {
                        items += usize::from(words > 0);
                        words = 0;
                    } else {
                        words += 1;
                        if words > max_item {
                            return None;
                        }
                    }
                }
                items += usize::from(words > 0);
            }
            Some(items)
        };
        let pieces = [
            "a", "Or", "and", "nor", " ", ",", "-", "'", "é", "(", "ß", "\u{a0}", "x1", "AND",
        ];
        let mut rng = fastrand::Rng::with_seed(24);
        for _ in 0..20_000 {
            let s = crate::text::random_text(&mut rng, &pieces, 0..24);
            for max_item in [1, 2, 4] {
                assert_eq!(list_items(&s, max_item), reference(&s, max_item), "{s:?}");
            }
        }
    }
}
