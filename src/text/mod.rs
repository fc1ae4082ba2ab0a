//! Text as the analysis reads it, one file per stage: [`Haystack`] (`haystack.rs`), every
//! byte-level fast path on one named type; [`Normalized`] (`normalize.rs`), the normalised
//! copy a sentence is matched on, with a map back to the note; the whole-word automaton
//! search (`search.rs`); and here the definitions they share (what a word character is,
//! the line model, white-space trims).
//!
//! Matching runs on the normalised text so that "Raynaud’s\n  phenomenon" is found like
//! "Raynaud's phenomenon"; results are mapped back so that ranges always point into the
//! note as the user wrote it.

mod haystack;
mod normalize;
mod search;

pub use haystack::{Haystack, LetterRuns};
pub use normalize::Normalized;
pub use search::{whole_word_matches, whole_word_matches_by, WordSearcher};

/// Whether `b` is a byte of ASCII white space as `char::is_whitespace` sees it (which,
/// unlike `u8::is_ascii_whitespace`, includes the vertical tab).
#[inline]
pub(crate) fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `s.trim_start()`, ASCII white space a byte at a time (the common case) before any
/// decoding.
#[inline]
pub fn trim_start(s: &str) -> &str {
    let n = s.bytes().take_while(|&b| is_ascii_space(b)).count();
    match s.as_bytes().get(n) {
        Some(&b) if b >= 0x80 => s[n..].trim_start(),
        _ => &s[n..],
    }
}

/// `s.trim_end()`, ASCII white space a byte at a time (the common case) before any
/// decoding.
#[inline]
pub fn trim_end(s: &str) -> &str {
    let n = s.bytes().rev().take_while(|&b| is_ascii_space(b)).count();
    let kept = &s[..s.len() - n];
    match kept.as_bytes().last() {
        Some(&b) if b >= 0x80 => kept.trim_end(),
        _ => kept,
    }
}

/// `s.trim()`, ASCII white space a byte at a time.
#[inline]
pub fn trim(s: &str) -> &str {
    trim_end(trim_start(s))
}

/// `line` without its line break (`\n`, `\r\n` or `\r`, or any run of them).
#[inline]
pub fn without_line_break(line: &str) -> &str {
    let ending = line
        .bytes()
        .rev()
        .take_while(|&b| b == b'\n' || b == b'\r')
        .count();
    &line[..line.len() - ending]
}

/// Whether `c` belongs to a word: a letter or a digit, in any script. The one definition of
/// what a word is made of, for every matcher and scan (term and trigger boundaries, word
/// counts, list items, sentence openings); the variants that also join words (an inner
/// apostrophe or hyphen) are written as this plus the joiner, where they are used.
#[inline]
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// [`is_word_char`] for an ASCII byte (the fast path every caller takes first).
#[inline]
pub fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// The lines of `text` with their line breaks, as LSP counts them: a line ends at `\n`,
/// `\r\n` or a lone `\r`. Every part of the note that works line by line (sections,
/// sentences, incremental pieces) uses this one line model, so a CR-only note has the same
/// lines to all of them as to the document store.
pub fn lines_inclusive(text: &str) -> impl Iterator<Item = &str> + '_ {
    Haystack::new(text).lines()
}

/// A test text: a random number (in `count`) of random `pieces` joined, the generator of the
/// equivalence tests that hold each fast path to its plain version.
#[cfg(test)]
pub(crate) fn random_text(
    rng: &mut fastrand::Rng,
    pieces: &[&str],
    count: std::ops::Range<usize>,
) -> String {
    (0..rng.usize(count))
        .map(|_| pieces[rng.usize(..pieces.len())])
        .collect()
}

/// A random span of `text` on character boundaries, start before end.
#[cfg(test)]
pub(crate) fn random_span(rng: &mut fastrand::Rng, text: &str) -> (usize, usize) {
    let cuts: Vec<usize> = (0..=text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    let (a, b) = (cuts[rng.usize(..cuts.len())], cuts[rng.usize(..cuts.len())]);
    (a.min(b), a.max(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_trims_equal_the_standard_ones() {
        let mut rng = fastrand::Rng::with_seed(19);
        let pieces = [
            " ", "\t", "\n", "\r", "\x0b", "\x0c", "\u{a0}", "\u{2003}", "\u{3000}", "a", "é", ".",
            "\u{85}",
        ];
        for _ in 0..20_000 {
            let s = crate::text::random_text(&mut rng, &pieces, 0..10);
            assert_eq!(trim_start(&s), s.trim_start(), "{s:?}");
            assert_eq!(trim_end(&s), s.trim_end(), "{s:?}");
            assert_eq!(trim(&s), s.trim(), "{s:?}");
            assert_eq!(
                without_line_break(&s),
                s.trim_end_matches(['\n', '\r']),
                "{s:?}"
            );
        }
    }
}
