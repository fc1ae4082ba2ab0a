//! The scanning mechanics of the context engine: what every mention asks of its sentence
//! (word starts, the words and commas before each trigger, the next termination, the list
//! items between commas), found once per sentence so that a mention costs what its scope
//! window holds, never its sentence's length. No decision is taken here.

use std::ops::Range;

use super::{is_termination, Hit, LIST_JOINERS};
use crate::corpus::rules::{Direction, TriggerKind};

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
}

/// The start of every word of `s` (letters and digits, with inner apostrophes and hyphens).
/// ASCII a byte at a time, other characters decoded: most sentences are ASCII.
pub(super) fn fill_word_starts(s: &str, out: &mut Vec<usize>) {
    out.clear();
    let b = s.as_bytes();
    let mut in_word = false;
    let mut i = 0;
    while i < b.len() {
        let (w, joiner, len) = match b[i] {
            c if c < 0x80 => (c.is_ascii_alphanumeric(), c == b'\'' || c == b'-', 1),
            _ => match s[i..].chars().next() {
                Some(c) => (c.is_alphanumeric(), false, c.len_utf8()),
                None => break,
            },
        };
        if w && !in_word {
            out.push(i);
        }
        in_word = w || (in_word && joiner);
        i += len;
    }
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
}

impl Scratch {
    /// Whether a buffer holds more than `max` items' room.
    pub(crate) fn is_big(&self, max: usize) -> bool {
        self.hits.capacity() > max || self.word_starts.capacity() > max || self.index.is_big(max)
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
        rules: &[Vec<(TriggerKind, Direction)>],
        max_item: usize,
        max_words: usize,
    ) {
        self.commas.clear();
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
            if rules[h.phrase].iter().any(|&(k, _)| is_termination(k)) {
                next = u32::try_from(i).unwrap_or(u32::MAX);
            }
            self.next_termination[i] = next;
        }
        if let Some(last) = self.next_termination.last_mut() {
            *last = u32::try_from(hits.len()).unwrap_or(u32::MAX);
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

    /// [`list_items`] of `sentence[gap]`: the parts between two commas inside the gap are
    /// summed already; only the two partial parts at its ends are read.
    /// `commas` are the numbers of commas before the gap's start and end. Above `cap` items
    /// the count is any number above `cap`: the edges are not read.
    pub(super) fn list_items(
        &self,
        sentence: &str,
        gap: &Range<usize>,
        commas: (usize, usize),
        max_item: usize,
        cap: usize,
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
        let head = list_items(&sentence[gap.start..self.commas[a]], max_item)?;
        let tail = list_items(&sentence[self.commas[b - 1] + 1..gap.end], max_item)?;
        Some(head + inner + tail)
    }

    /// The fewest commas before a trigger's end for its scope to reach, within `cap` list
    /// items, a mention with `c` commas before it: the parts between the commas in the
    /// gap hold at most `cap` items, and none is too long to be one.
    pub(super) fn first_comma_within(&self, c: usize, cap: usize) -> usize {
        let ok = |a: usize| {
            a + 1 >= c
                || (self.unlisted_before[c - 1] == self.unlisted_before[a]
                    && (self.items_before[c - 1] - self.items_before[a]) as usize <= cap)
        };
        let (mut lo, mut hi) = (0, c);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if ok(mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }

    /// The most commas before a trigger's start for its scope to reach back, within `cap`
    /// list items, a mention with `a` commas before its end.
    pub(super) fn last_comma_within(&self, a: usize, cap: usize) -> usize {
        let ok = |b: usize| {
            b <= a + 1
                || (self.unlisted_before[b - 1] == self.unlisted_before[a]
                    && (self.items_before[b - 1] - self.items_before[a]) as usize <= cap)
        };
        let (mut lo, mut hi) = (a, self.commas.len().max(a));
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if ok(mid) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
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
        self.start_word.capacity() > max || self.commas.capacity() > max
    }
}
