//! The words the misspelling pass looks at: long runs of letters found a block at a time,
//! and the words after a candidate (for a multi-word correction).

use std::ops::Range;

use crate::text::{is_word_char, Haystack};

/// Runs of at least `min` ASCII letters that stand as whole words, with a trailing
/// possessive ("Reynaud's", "patients'") included. The misspelling pass only looks at these,
/// so it skips the short and the non-ASCII words of a note without slicing them out.
pub(super) fn long_words(text: &str, min: usize) -> impl Iterator<Item = Range<usize>> + '_ {
    let b = text.as_bytes();
    let hay = Haystack::new(text);
    let joined = |c: Option<char>| c.is_some_and(|c| is_word_char(c) || c == '-');
    let mut i = 0;
    let mut runs = hay.letter_runs(min);
    std::iter::from_fn(move || {
        while let Some(start) = runs.next_from(i) {
            i = hay.end_of_letters(start);
            let end = with_possessive(b, i);
            i = end;
            // The "s" of a possessive ("X's…") ends the word before it: letters right after
            // it are not a word of their own.
            if possessive_s(b, start) {
                continue;
            }
            let before = text[..start].chars().next_back();
            let after = text[end..].chars().next();
            if !joined(before) && !joined(after) && after != Some('\'') {
                return Some(start..end);
            }
        }
        None
    })
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

/// Whether the `s` at `p` is the possessive ending of the word before it ("X's"), as the
/// run-by-run scan reads it: the word before ends at the apostrophe unless it is itself
/// only such an `s` ("X's's": the second `s` starts a word).
fn possessive_s(b: &[u8], mut p: usize) -> bool {
    let letter = |q: usize| b[q].is_ascii_alphabetic();
    let ending = |q: usize| q >= 2 && b[q] == b's' && b[q - 1] == b'\'' && letter(q - 2);
    let mut flipped = false;
    loop {
        if !ending(p) {
            return flipped;
        }
        // The word before: one letter long (then it counts only if it is not an ending
        // itself), or longer.
        let single = p == 2 || !letter(p - 3);
        if !single {
            return !flipped;
        }
        flipped = !flipped;
        p -= 2;
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

    /// The long-word scan as it was, one run at a time: the definition.
    fn long_words_run_by_run(text: &str, min: usize) -> Vec<Range<usize>> {
        let b = text.as_bytes();
        let hay = Haystack::new(text);
        let joined = |c: Option<char>| c.is_some_and(|c| is_word_char(c) || c == '-');
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_alphabetic() {
                i = hay.next_letter(i);
                continue;
            }
            let start = i;
            i = hay.end_of_letters(i);
            let letters = i - start;
            let end = with_possessive(b, i);
            i = end;
            if letters < min {
                continue;
            }
            let before = text[..start].chars().next_back();
            let after = text[end..].chars().next();
            if !joined(before) && !joined(after) && after != Some('\'') {
                out.push(start..end);
            }
        }
        out
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
            let text: String = (0..rng.usize(0..40))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect();
            let min = [7, 1, 2, 3, 8, 12][round % 6];
            let got: Vec<_> = long_words(&text, min).collect();
            assert_eq!(got, long_words_run_by_run(&text, min), "{text:?} min {min}");
        }
    }
}
