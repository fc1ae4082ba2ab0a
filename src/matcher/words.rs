//! The words the misspelling pass looks at: long runs of letters found a block at a time,
//! and the words after a candidate (for a multi-word correction).

use std::ops::Range;

use crate::text::{is_word_byte, is_word_char, Haystack};

/// Runs of at least `min` ASCII letters that stand as whole words, with a trailing
/// possessive ("Reynaud's", "patients'") included. The misspelling pass only looks at these,
/// so it skips the short and the non-ASCII words of a note without slicing them out.
///
/// A run's edges are read as the exact matcher reads them: an apostrophe before a run is a
/// boundary, so "RP'sclerodactily" is looked at just as "RP'sclerodactyly" is found; an "'s"
/// is a possessive ending only when the run stands as a word with it ("Reynaud's").
pub(super) fn long_words(text: &str, min: usize) -> impl Iterator<Item = Range<usize>> + '_ {
    let b = text.as_bytes();
    let hay = Haystack::new(text);
    let mut i = 0;
    let mut runs = hay.letter_runs(min);
    std::iter::from_fn(move || {
        while let Some(start) = runs.next_from(i) {
            i = hay.end_of_letters(start);
            let end = with_possessive(b, i);
            if stands_alone(text, start, end) {
                // (The possessive's "s" is not the start of a run of its own.)
                i = end;
                return Some(start..end);
            }
        }
        None
    })
}

/// Whether `start..end` is not joined to a word: no word character or hyphen on either
/// side, and no apostrophe after it ("Reynaud'x" is one word).
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let (before, after) = (start.checked_sub(1).map(|i| b[i]), b.get(end).copied());
    // ASCII on both sides (nearly always): two byte tests, no decoding.
    if before.is_none_or(|c| c.is_ascii()) && after.is_none_or(|c| c.is_ascii()) {
        let joins = |c: u8| is_word_byte(c) || c == b'-';
        return !before.is_some_and(joins) && !after.is_some_and(|c| joins(c) || c == b'\'');
    }
    stands_alone_by_char(text, start, end)
}

/// [`stands_alone`] on characters: the definition, and the path for non-ASCII edges.
fn stands_alone_by_char(text: &str, start: usize, end: usize) -> bool {
    let joined = |c: Option<char>| c.is_some_and(|c| is_word_char(c) || c == '-');
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !joined(before) && !joined(after) && after != Some('\'')
}

/// The end of the word ending at `end` with its possessive ending, if any ("X's", "Xs'").
fn with_possessive(b: &[u8], end: usize) -> usize {
    if b[end..].starts_with(b"'s") {
        end + 2
    } else if b.get(end) == Some(&b'\'') && b[end - 1] == b's' {
        end + 1
    } else {
        end
    }
}

/// Byte ranges of the words of `text`: letters and digits, with inner apostrophes and
/// hyphens kept ("Raynaud's", "acro-osteolysis").
pub fn word_spans(text: &str) -> Vec<Range<usize>> {
    word_spans_limited(text, usize::MAX)
}

/// The first `limit` of [`word_spans`], without looking further into `text`.
pub(super) fn word_spans_limited(text: &str, limit: usize) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    // Whether the character starting at byte `i` belongs to a word (ASCII fast path).
    let alnum_at = |i: usize| Haystack::new(text).word_char_at(i);
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let width = if b.is_ascii() {
            1
        } else {
            text[i..].chars().next().map_or(1, char::len_utf8)
        };
        let joins = (b == b'\'' || b == b'-') && start.is_some() && alnum_at(i + 1);
        if joins || alnum_at(i) {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            out.push(s..i);
            if out.len() >= limit {
                return out;
            }
        }
        i += width;
    }
    if let Some(s) = start {
        out.push(s..text.len());
    }
    out
}

/// The words after a candidate misspelling, worked out only when a multi-word form needs them.
pub(super) struct Following<'a> {
    pub(super) text: &'a str,
    pub(super) after: usize,
    pub(super) words: std::cell::OnceCell<Vec<Range<usize>>>,
}

impl Following<'_> {
    /// Up to the next eight words, as ranges of the whole text.
    pub(super) fn words(&self) -> &[Range<usize>] {
        self.words.get_or_init(|| {
            // Only the next few words: scanning the rest of a long sentence for every
            // candidate would make a run-on note with many misspellings quadratic.
            word_spans_limited(&self.text[self.after..], 8)
                .into_iter()
                .map(|r| r.start + self.after..r.end + self.after)
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The long-word scan one maximal run of letters at a time: the definition. Every run
    /// of `min` letters or more, with its possessive ending, that stands alone; a run
    /// starting inside the possessive ending of the word before it is not looked at.
    fn long_words_run_by_run(text: &str, min: usize) -> Vec<Range<usize>> {
        let b = text.as_bytes();
        let mut out: Vec<Range<usize>> = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_alphabetic() {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let end = with_possessive(b, i);
            let inside_last = out.last().is_some_and(|w| start < w.end);
            if i - start >= min && !inside_last && stands_alone_by_char(text, start, end) {
                out.push(start..end);
            }
        }
        out
    }

    #[test]
    fn standing_alone_on_bytes_equals_on_characters() {
        let mut rng = fastrand::Rng::with_seed(23);
        let pieces = ["a", "1", " ", "'", "-", ".", "é", "日", "\u{a0}", "s"];
        for _ in 0..20_000 {
            let text = crate::text::random_text(&mut rng, &pieces, 0..8);
            let (start, end) = crate::text::random_span(&mut rng, &text);
            assert_eq!(
                stands_alone(&text, start, end),
                stands_alone_by_char(&text, start, end),
                "{text:?} {start}..{end}"
            );
        }
    }

    #[test]
    fn long_words_by_block_mask_equal_run_by_run() {
        let mut rng = fastrand::Rng::with_seed(17);
        let pieces = [
            "a",
            "s",
            "S",
            "abcdefg",
            "Raynaud",
            "'",
            "'s",
            "s'",
            " ",
            "-",
            "é",
            "1",
            ".",
            "xyz",
            "abcdefghijklmnopqrstuvwxyz",
        ];
        for round in 0..20_000 {
            let text = crate::text::random_text(&mut rng, &pieces, 0..40);
            let min = [7, 1, 2, 3, 8, 12][round % 6];
            let got: Vec<_> = long_words(&text, min).collect();
            assert_eq!(got, long_words_run_by_run(&text, min), "{text:?} min {min}");
        }
    }
}
