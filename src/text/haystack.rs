//! [`Haystack`]: every byte-level fast path of the analysis on one named type, as `memchr`
//! gathers its searches on its own. The eight-bytes-at-a-time tricks (a "SWAR" word per
//! eight bytes: range tests, masks of letter runs, case folding) live here and nowhere
//! else; each is tested against a one-byte-at-a-time version below. Callers ask questions
//! of a text (is this a word boundary, where does the next letter run start), never of a
//! `u64`.

use super::{is_word_byte, is_word_char};

/// One in each byte of a word of eight.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of each byte of a word of eight.
const HIGH: u64 = 0x80 * ONES;

/// A text read by bytes where it is ASCII (nearly always) and by characters where it is
/// not. Cheap to make (one reference): make one wherever a text is asked a byte question.
#[derive(Debug, Clone, Copy)]
pub struct Haystack<'a> {
    text: &'a str,
}

impl<'a> Haystack<'a> {
    /// The haystack over `text`.
    #[inline]
    pub fn new(text: &'a str) -> Haystack<'a> {
        Haystack { text }
    }

    /// The text.
    #[inline]
    pub fn as_str(self) -> &'a str {
        self.text
    }

    /// Whether the character ending at byte `i` belongs to a word.
    #[inline]
    pub fn word_char_before(self, i: usize) -> bool {
        match self.text.as_bytes()[..i].last() {
            Some(&b) if b.is_ascii() => is_word_byte(b),
            Some(_) => self.text[..i].chars().next_back().is_some_and(is_word_char),
            None => false,
        }
    }

    /// Whether the character starting at byte `i` belongs to a word.
    #[inline]
    pub fn word_char_at(self, i: usize) -> bool {
        match self.text.as_bytes().get(i) {
            Some(&b) if b.is_ascii() => is_word_byte(b),
            Some(_) => self.text[i..].chars().next().is_some_and(is_word_char),
            None => false,
        }
    }

    /// Whether `start..end` stands as whole words: no word character on either side of it
    /// fused to a word character at its edge.
    pub fn is_whole_word(self, start: usize, end: usize) -> bool {
        let b = self.text.as_bytes();
        // ASCII on both edges (nearly always): four byte tests, no decoding.
        let edge = |i: usize| b.get(i).copied().unwrap_or(b' ');
        let (before, first) = (start.checked_sub(1).map_or(b' ', edge), edge(start));
        let (last, after) = (end.checked_sub(1).map_or(b' ', edge), edge(end));
        if start < end && (before | first | last | after) < 0x80 {
            let word = is_word_byte;
            return !((word(before) && word(first)) || (word(after) && word(last)));
        }
        is_whole_word_by_char(self.text, start, end)
    }

    /// Bytes of the run of word characters starting at byte `i` (0 when none starts there).
    pub fn word_run(self, i: usize) -> usize {
        let s = &self.text[i..];
        let b = s.as_bytes();
        let ascii = b.iter().take_while(|&&c| is_word_byte(c)).count();
        if b.get(ascii).is_none_or(|c| c.is_ascii()) {
            return ascii;
        }
        s.char_indices()
            .find(|&(_, c)| !is_word_char(c))
            .map_or(s.len(), |(i, _)| i)
    }

    /// The text from its first word character to its last (empty when it has none).
    pub fn trim_to_word(self) -> &'a str {
        let t = self.text.as_bytes();
        if !t.is_ascii() {
            return self.text.trim_matches(|c: char| !is_word_char(c));
        }
        match (
            t.iter().position(|&b| is_word_byte(b)),
            t.iter().rposition(|&b| is_word_byte(b)),
        ) {
            (Some(first), Some(last)) => &self.text[first..=last],
            _ => "",
        }
    }

    /// The start of every word into `out` (cleared first): a word character (letter or
    /// digit) with no word character before it, nor a run of joiners (apostrophes,
    /// hyphens) that follows one ("Raynaud's", "acro-osteolysis" are one word each). For
    /// ASCII text, 64 bytes at a time as bit masks: this ran over every byte of every
    /// sentence with a mention, a tenth of the context engine's time on dense notes.
    pub fn word_starts_into(self, out: &mut Vec<usize>) {
        out.clear();
        let b = self.text.as_bytes();
        if !b.is_ascii() {
            return word_starts_by_char(self.text, out);
        }
        // Whether the byte before the block is in a word (a word byte, or a joiner after one).
        let mut carry = 0u64;
        for (k, block) in b.chunks(64).enumerate() {
            let (mut words, mut joiners) = (0u64, 0u64);
            for (q, eight) in block.chunks(8).enumerate() {
                let x = word_at_padded(eight, 0);
                let w = ascii_letters(x) | ascii_in_range(x, b'0', b'9');
                let j = ascii_in_range(x, b'\'', b'\'') | ascii_in_range(x, b'-', b'-');
                words |= gather_high_bits(w) << (8 * q);
                joiners |= gather_high_bits(j) << (8 * q);
            }
            // In a word at byte p: a word byte, or a joiner with byte p - 1 in a word. A run
            // of n joiners settles in n + 1 rounds (nearly always one or two).
            let mut in_word = words;
            loop {
                let next = words | (joiners & ((in_word << 1) | carry));
                if next == in_word {
                    break;
                }
                in_word = next;
            }
            let mut starts = words & !((in_word << 1) | carry);
            while starts != 0 {
                out.push(64 * k + starts.trailing_zeros() as usize);
                starts &= starts - 1;
            }
            carry = (in_word >> (block.len() - 1)) & 1;
        }
    }

    /// Whether the text is printable ASCII with single spaces, so nothing to normalise.
    #[inline]
    pub fn is_plain(self) -> bool {
        is_plain(self.text.as_bytes())
    }

    /// The first index at or after `i` that is not an ASCII letter; the length if none.
    #[inline]
    pub fn end_of_letters(self, i: usize) -> usize {
        skip(self.text.as_bytes(), i, true)
    }

    /// Whether the byte at `i` is an ASCII letter.
    #[inline]
    pub fn is_letter_at(self, i: usize) -> bool {
        self.text
            .as_bytes()
            .get(i)
            .is_some_and(u8::is_ascii_alphabetic)
    }

    /// The text's ASCII lower case into `dst` (cleared first); other bytes are copied as
    /// they are, so every offset is the same in both. The standard library's safe version:
    /// an eight-bytes-at-a-time copy through `unsafe` was measured no faster, whole process,
    /// on dense and run-on notes (BENCHMARKS.md, "Analysis and batch throughput (#24)").
    pub fn lowercase_into(self, dst: &mut String) {
        dst.clear();
        dst.push_str(self.text);
        dst.make_ascii_lowercase();
    }

    /// The text of up to sixteen bytes as one integer, ASCII-lower-cased, little-endian,
    /// zero-padded (`None` when longer): a hash key read straight off the text, two
    /// eight-byte loads, no copy. Unique among texts without a zero byte.
    #[inline]
    pub fn folded_key(self) -> Option<u128> {
        let word = self.text.as_bytes();
        if word.len() > 16 {
            return None;
        }
        // 0x80 >> 2 is the case bit, 0x20, in each upper-case byte.
        let fold = |x: u64| x | (ascii_in_range(x, b'A', b'Z') >> 2);
        let (lo, hi) = (word_at_padded(word, 0), word_at_padded(word, 8));
        Some(u128::from(fold(lo)) | u128::from(fold(hi)) << 64)
    }

    /// The lines with their line breaks, as LSP counts them: a line ends at `\n`, `\r\n`
    /// or a lone `\r`.
    pub fn lines(self) -> impl Iterator<Item = &'a str> + 'a {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut start = 0;
        std::iter::from_fn(move || {
            if start >= text.len() {
                return None;
            }
            let rest = &bytes[start..];
            let end = match memchr::memchr2(b'\n', b'\r', rest) {
                None => text.len(),
                Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => start + i + 2,
                Some(i) => start + i + 1,
            };
            let line = &text[start..end];
            start = end;
            Some(line)
        })
    }

    /// Where runs of at least `min` (1 to 32) ASCII letters start, a block of 64 bytes at a
    /// time: see [`LetterRuns`].
    pub fn letter_runs(self, min: usize) -> LetterRuns<'a> {
        LetterRuns::new(self.text.as_bytes(), min)
    }
}

/// [`Haystack::is_whole_word`] on characters: the definition, and the path for non-ASCII
/// edges.
fn is_whole_word_by_char(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let first = text[start..end].chars().next();
    let last = text[start..end].chars().next_back();
    let word = |c: Option<char>| c.is_some_and(is_word_char);
    // Only a word character next to a word character fuses two words.
    !((word(before) && word(first)) || (word(after) && word(last)))
}

/// [`Haystack::word_starts_into`] a character at a time: the definition, and the path for
/// text that is not all ASCII.
fn word_starts_by_char(s: &str, out: &mut Vec<usize>) {
    let b = s.as_bytes();
    let mut in_word = false;
    let mut i = 0;
    while i < b.len() {
        let (w, joiner, len) = match b[i] {
            c if c < 0x80 => (is_word_byte(c), c == b'\'' || c == b'-', 1),
            _ => match s[i..].chars().next() {
                Some(c) => (is_word_char(c), false, c.len_utf8()),
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

/// One bit per byte of `x` whose high bit is set (byte `k` → bit `k`): the high bits
/// gathered into the top byte by one multiplication, then moved down.
#[inline]
fn gather_high_bits(x: u64) -> u64 {
    ((x >> 7) & ONES).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// The first eight bytes of `chunk` as a little-endian word (byte `k` in bits
/// `8k..8k + 8`); 0 when it is shorter.
#[inline]
fn word_at(chunk: &[u8]) -> u64 {
    chunk
        .first_chunk::<8>()
        .map_or(0, |w| u64::from_le_bytes(*w))
}

/// Eight bytes of `b` from `at` as a little-endian word, zero past the end: near the end,
/// the text's last eight bytes shifted down (no byte loop, no copy).
#[inline]
fn word_at_padded(b: &[u8], at: usize) -> u64 {
    match b.get(at..at + 8) {
        Some(eight) => word_at(eight),
        None if at >= b.len() => 0,
        None if b.len() >= 8 => word_at(&b[b.len() - 8..]) >> (8 * (at + 8 - b.len())),
        None => b[at..]
            .iter()
            .enumerate()
            .fold(0, |x, (j, &c)| x | u64::from(c) << (8 * j)),
    }
}

/// The high bit of each byte of `x` that is ASCII and lies in `lo..=hi` (`hi` < 0x80),
/// others clear: eight comparisons in a few instructions.
#[inline]
fn ascii_in_range(x: u64, lo: u8, hi: u8) -> u64 {
    let low7 = x & (0x7f * ONES);
    // Adding 0x80 - n to a 7-bit byte sets its high bit exactly when it is at least n, and
    // never carries into the next byte.
    let at_least_lo = low7 + u64::from(0x80 - lo) * ONES;
    let above_hi = low7 + u64::from(0x7f - hi) * ONES;
    (at_least_lo ^ above_hi) & !x & HIGH
}

/// The high bit of each byte of `x` that is an ASCII letter: bytes whose lower case
/// (| 0x20) lies in `a..=z`.
#[inline]
fn ascii_letters(x: u64) -> u64 {
    ascii_in_range(x | (0x20 * ONES), b'a', b'z')
}

/// Whether `b` is printable ASCII with single spaces. Eight bytes at a time: a
/// byte-by-byte check was 4 % of all analysis instructions.
fn is_plain(b: &[u8]) -> bool {
    let mut after_space = false;
    let mut chunks = b.chunks_exact(8);
    for chunk in &mut chunks {
        let x = word_at(chunk);
        if ascii_in_range(x, 0x20, 0x7e) != HIGH {
            return false;
        }
        let spaces = ascii_in_range(x, b' ', b' ');
        if spaces & (spaces << 8) != 0 || (after_space && spaces & 0x80 != 0) {
            return false;
        }
        after_space = spaces >> 63 != 0;
    }
    chunks.remainder().iter().all(|&c| {
        let ok = (0x20..0x7f).contains(&c) && !(after_space && c == b' ');
        after_space = c == b' ';
        ok
    })
}

/// The first index at or after `i` where `b` has (`letters` false) or stops having
/// (`letters` true) an ASCII letter; `b.len()` if none. Eight bytes at a time: this scan
/// over every byte of a note was 6 % of the analysis done one byte at a time.
fn skip(b: &[u8], mut i: usize, letters: bool) -> usize {
    while i + 8 <= b.len() {
        let is_letter = ascii_letters(word_at(&b[i..]));
        let wanted = if letters {
            !is_letter & HIGH
        } else {
            is_letter
        };
        if wanted != 0 {
            return i + (wanted.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && b[i].is_ascii_alphabetic() == letters {
        i += 1;
    }
    i
}

/// Where runs of at least `min` ASCII letters start, sixty-four bytes at a time as a bit
/// mask: most words are shorter than `min`, and stepping over them one run at a time was
/// the misspelling pass's main cost.
#[derive(Debug)]
pub struct LetterRuns<'a> {
    b: &'a [u8],
    min: usize,
    /// Where the current block starts, and bit p: `min` letters start at `base + p`.
    base: usize,
    runs: u64,
    /// Whether a block has been read.
    read: bool,
}

impl<'a> LetterRuns<'a> {
    fn new(b: &'a [u8], min: usize) -> LetterRuns<'a> {
        // A run must fit in a block (they overlap by `min - 1` bytes) to be seen.
        debug_assert!((1..=32).contains(&min), "letter runs of 1 to 32");
        let min = min.clamp(1, 32);
        LetterRuns {
            b,
            min,
            base: 0,
            runs: 0,
            read: false,
        }
    }

    /// The first `p` ≥ `i` where a run of `min` letters starts (`p == i` or a non-letter
    /// before it). `i` must never decrease from one call to the next, and never lie inside
    /// such a run.
    pub fn next_from(&mut self, i: usize) -> Option<usize> {
        let b = self.b;
        let step = 64 - (self.min - 1);
        loop {
            if self.read && i < self.base + step {
                let from = i.saturating_sub(self.base);
                let left = self.runs & (u64::MAX << from);
                if left != 0 {
                    return Some(self.base + left.trailing_zeros() as usize);
                }
                if self.base + 64 >= b.len() {
                    return None; // the block reached the end
                }
            }
            let base = if self.read {
                i.max(self.base + step)
            } else {
                i
            };
            if base >= b.len() {
                return None;
            }
            self.read_block(base);
        }
    }

    fn read_block(&mut self, base: usize) {
        let block = &self.b[base..self.b.len().min(base + 64)];
        let mut mask = 0u64;
        // Whole words without bounds tests, then the rest zero-padded (most sentences are
        // shorter than a block: this runs once per sentence).
        let mut words = block.chunks_exact(8);
        for (k, eight) in (&mut words).enumerate() {
            mask |= gather_high_bits(ascii_letters(word_at(eight))) << (8 * k);
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let k = block.len() / 8;
            mask |= gather_high_bits(ascii_letters(word_at_padded(rest, 0))) << (8 * k);
        }
        let mut have = 1;
        while have < self.min {
            let shift = have.min(self.min - have);
            mask &= mask >> shift;
            have += shift;
        }
        self.base = base;
        self.runs = mask;
        self.read = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_words_equal_byte_by_byte_ones() {
        let b: Vec<u8> = (1..=20).collect();
        for len in 0..=20 {
            for at in 0..=len + 2 {
                let slow = (0..8).fold(0u64, |x, j| {
                    x | u64::from(b[..len].get(at + j).copied().unwrap_or(0)) << (8 * j)
                });
                assert_eq!(word_at_padded(&b[..len], at), slow, "len {len} at {at}");
            }
        }
    }

    #[test]
    fn whole_word_test_on_bytes_equals_on_characters() {
        let slow = is_whole_word_by_char;
        let mut rng = fastrand::Rng::with_seed(43);
        let pieces = ["a", "1", " ", "?", "-", "é", "日", "\u{a0}"];
        for _ in 0..20_000 {
            let text = crate::text::random_text(&mut rng, &pieces, 0..8);
            let (start, end) = crate::text::random_span(&mut rng, &text);
            assert_eq!(
                Haystack::new(&text).is_whole_word(start, end),
                slow(&text, start, end),
                "{text:?} {start}..{end}"
            );
        }
    }

    #[test]
    fn whole_words() {
        let whole = |t, s, e| Haystack::new(t).is_whole_word(s, e);
        assert!(whole("no RP.", 3, 5));
        assert!(!whole("RPR", 0, 2));
        assert!(!whole("xcalcinosis", 1, 11));
        assert!(whole("(calcinosis)", 1, 11));
        assert!(whole("a ? b", 2, 3));
        assert!(whole("x?", 1, 2));
    }

    #[test]
    fn word_runs_and_trims() {
        let run = |t| Haystack::new(t).word_run(0);
        assert_eq!(run("abc def"), 3);
        assert_eq!(run("éa b"), 3);
        assert_eq!(run(" x"), 0);
        let trim = |t| Haystack::new(t).trim_to_word();
        assert_eq!(trim("(and),"), "and");
        assert_eq!(trim("«é»"), "é");
        assert_eq!(trim("--"), "");
    }

    #[test]
    fn plain_text_is_recognised_eight_bytes_at_a_time() {
        let slow = |b: &[u8]| {
            b.iter().all(|&c| (0x20..0x7f).contains(&c)) && !b.windows(2).any(|w| w == b"  ")
        };
        let mut rng = fastrand::Rng::with_seed(11);
        let alphabet = b"ab  .\t\n\x7f\x1f~!\xc3\xa9";
        for len in 0..64 {
            for _ in 0..200 {
                let b: Vec<u8> = (0..len)
                    .map(|_| alphabet[rng.usize(..alphabet.len())])
                    .collect();
                assert_eq!(is_plain(&b), slow(&b), "{b:?}");
            }
        }
        assert!(Haystack::new("Denies Raynaud's phenomenon, reports dysphagia.").is_plain());
        assert!(!Haystack::new("Denies Raynaud's phenomenon,  reports dysphagia.").is_plain());
    }

    #[test]
    fn skipping_eight_bytes_at_a_time_equals_one_at_a_time() {
        let mut rng = fastrand::Rng::with_seed(13);
        let alphabet = b"aZz@[`{ '-\xc3\xa91";
        for len in 0..40 {
            for _ in 0..300 {
                let b: Vec<u8> = (0..len)
                    .map(|_| alphabet[rng.usize(..alphabet.len())])
                    .collect();
                for i in 0..=len {
                    for letters in [false, true] {
                        let mut j = i;
                        while j < b.len() && b[j].is_ascii_alphabetic() == letters {
                            j += 1;
                        }
                        assert_eq!(skip(&b, i, letters), j, "{b:?} from {i} {letters}");
                    }
                }
            }
        }
    }

    #[test]
    fn letter_runs_by_block_mask_equal_byte_by_byte() {
        let mut rng = fastrand::Rng::with_seed(17);
        let alphabet = b"aZ '-1.\xc3\xa9";
        for round in 0..5_000 {
            let b: Vec<u8> = (0..rng.usize(0..200))
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            let min = [7, 1, 2, 3, 8, 12, 32][round % 7];
            let slow: Vec<usize> = (0..b.len())
                .filter(|&p| {
                    (p == 0 || !b[p - 1].is_ascii_alphabetic())
                        && b[p..]
                            .iter()
                            .take_while(|c| c.is_ascii_alphabetic())
                            .count()
                            >= min
                })
                .collect();
            let mut runs = LetterRuns::new(&b, min);
            let mut got = Vec::new();
            let mut i = 0;
            while let Some(p) = runs.next_from(i) {
                got.push(p);
                i = skip(&b, p, true);
            }
            assert_eq!(got, slow, "{b:?} min {min}");
        }
    }

    #[test]
    fn word_starts_by_mask_equal_one_character_at_a_time() {
        let mut rng = fastrand::Rng::with_seed(37);
        let pieces = [
            "a", "Z", "9", " ", "'", "-", "''", "--", ".", ",", "é", "x'y", "-a",
        ];
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        for _ in 0..20_000 {
            // All ASCII (the masks) half of the time.
            let kinds = pieces.len() - usize::from(rng.bool());
            let text: String = (0..rng.usize(0..90))
                .map(|_| pieces[rng.usize(..kinds)])
                .collect();
            Haystack::new(&text).word_starts_into(&mut fast);
            slow.clear();
            word_starts_by_char(&text, &mut slow);
            assert_eq!(fast, slow, "{text:?}");
        }
    }

    #[test]
    fn folded_keys_equal_the_lower_case_ones() {
        let mut rng = fastrand::Rng::with_seed(41);
        let alphabet = b"aAsSzZ'@[`{";
        for _ in 0..20_000 {
            let word: String = (0..rng.usize(1..20))
                .map(|_| char::from(alphabet[rng.usize(..alphabet.len())]))
                .collect();
            let lower = word.to_ascii_lowercase();
            let slow = (lower.len() <= 16).then(|| {
                lower
                    .bytes()
                    .enumerate()
                    .fold(0u128, |k, (j, c)| k | u128::from(c) << (8 * j))
            });
            assert_eq!(Haystack::new(&word).folded_key(), slow, "{word:?}");
        }
    }

    #[test]
    fn ascii_lower_case_equals_the_standard_one() {
        let mut rng = fastrand::Rng::with_seed(3);
        let alphabet: Vec<char> = ('\0'..='\u{7f}').chain("éÉ😀İK\u{212a}ß".chars()).collect();
        let mut out = String::new();
        for len in 0..200 {
            let s: String = (0..len)
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            Haystack::new(&s).lowercase_into(&mut out);
            assert_eq!(out, s.to_ascii_lowercase(), "{s:?}");
        }
    }

    #[test]
    fn lines_break_at_lf_crlf_and_lone_cr() {
        let lines = |t| Haystack::new(t).lines().collect::<Vec<_>>();
        assert_eq!(
            lines("a\rb\r\nc\nd\r\re"),
            ["a\r", "b\r\n", "c\n", "d\r", "\r", "e"]
        );
        assert_eq!(lines(""), Vec::<&str>::new());
        assert_eq!(lines("x\n"), ["x\n"]);
    }
}
