//! Text normalisation shared by every matcher: one space for any run of white space, straight
//! apostrophes for curly ones, with a map back to the original byte offsets.
//!
//! Matching runs on the normalised text so that "Raynaud’s\n  phenomenon" is found like
//! "Raynaud's phenomenon"; results are mapped back so that ranges always point into the
//! note as the user wrote it.

/// A normalised copy of a piece of text.
#[derive(Debug, Default)]
pub struct Normalized {
    /// The normalised text.
    pub text: String,
    /// `(normalised offset, original offset)` at every point where the two drift apart.
    breaks: Vec<(usize, usize)>,
}

/// One in each byte of a word of eight.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of each byte of a word of eight.
pub(crate) const HIGH: u64 = 0x80 * ONES;

/// The first eight bytes of `chunk` as a little-endian word (byte `k` in bits
/// `8k..8k + 8`); 0 when it is shorter.
#[inline]
pub(crate) fn word_at(chunk: &[u8]) -> u64 {
    chunk
        .first_chunk::<8>()
        .map_or(0, |w| u64::from_le_bytes(*w))
}

/// Eight bytes of `b` from `at` as a little-endian word, zero past the end: near the end,
/// the text's last eight bytes shifted down (no byte loop, no copy).
#[inline]
pub(crate) fn word_at_padded(b: &[u8], at: usize) -> u64 {
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
pub(crate) fn ascii_in_range(x: u64, lo: u8, hi: u8) -> u64 {
    let low7 = x & (0x7f * ONES);
    // Adding 0x80 - n to a 7-bit byte sets its high bit exactly when it is at least n, and
    // never carries into the next byte.
    let at_least_lo = low7 + u64::from(0x80 - lo) * ONES;
    let above_hi = low7 + u64::from(0x7f - hi) * ONES;
    (at_least_lo ^ above_hi) & !x & HIGH
}

/// Whether `b` is printable ASCII with single spaces, so nothing to normalise (text with
/// other bytes takes the exact path). Eight bytes at a time: a byte-by-byte check was 4 %
/// of all analysis instructions.
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

impl Normalized {
    /// Normalises `src` into this buffer, reusing its allocations.
    pub fn fill(&mut self, src: &str) {
        self.text.clear();
        self.breaks.clear();
        // Fast path: most sentences are printable ASCII with single spaces, copied as they
        // are. (Sentences are short, ~30–100 bytes: setting up four SIMD searches for the
        // special bytes cost more than this check; memmem alone was 5 % of the analysis.)
        if is_plain(src.as_bytes()) {
            self.text.push_str(src);
            return;
        }
        self.fill_exact(src);
    }

    /// Normalises `src` (not plain) onto the cleared buffer, a character run at a time.
    fn fill_exact(&mut self, src: &str) {
        let b = src.as_bytes();
        let mut in_space = false;
        let mut i = 0;
        while i < b.len() {
            // Runs of ASCII letters, digits and signs are copied whole: a map break can only
            // fall at their start (one `sync`), not inside them.
            let run = b[i..].iter().take_while(|c| c.is_ascii_graphic()).count();
            if run > 0 {
                in_space = false;
                self.sync(i);
                self.text.push_str(&src[i..i + run]);
                i += run;
                continue;
            }
            let Some(c) = src[i..].chars().next() else {
                break;
            };
            let at = i;
            i += c.len_utf8();
            if c.is_whitespace() {
                if !in_space {
                    self.sync(at);
                    self.text.push(' ');
                    in_space = true;
                }
                continue;
            }
            in_space = false;
            self.sync(at);
            if c == '\u{2019}' || c == '\u{2018}' {
                self.text.push('\'');
            } else {
                self.text.push(c);
            }
        }
        self.sync(src.len());
    }

    /// Records a break if the normalised end no longer maps to `original`.
    fn sync(&mut self, original: usize) {
        let here = self.text.len();
        // `to_original(here)`, from the last break alone (it is at or before `here`): this
        // runs for every character of a sentence that needs normalising.
        let (n, o) = self.breaks.last().copied().unwrap_or((0, 0));
        if o + (here - n) != original {
            self.breaks.push((here, original));
        }
    }

    /// `src` normalised: `src` itself when there is nothing to normalise (most sentences:
    /// no copy), else this buffer filled. Either way [`Normalized::to_original`] maps the
    /// result's offsets back to `src`'s.
    /// The flag says which: `true` for `src` itself.
    pub fn fill_or_borrow<'a>(&'a mut self, src: &'a str) -> (&'a str, bool) {
        self.text.clear();
        self.breaks.clear();
        if is_plain(src.as_bytes()) {
            (src, true)
        } else {
            // (Not `fill`: the plain check is done.)
            self.fill_exact(src);
            (&self.text, false)
        }
    }

    /// Whether the buffers hold room for more than `max` bytes of text (or as many map
    /// entries): a caller that keeps one from note to note drops it then.
    pub(crate) fn is_big(&self, max: usize) -> bool {
        self.text.capacity() > max || self.breaks.capacity() > max / 16
    }

    /// Normalises `src` into a new buffer.
    pub fn new(src: &str) -> Normalized {
        let mut n = Normalized::default();
        n.fill(src);
        n
    }

    /// Maps an offset in the normalised text back to the original. A collapsed space run
    /// maps to its first character.
    pub fn to_original(&self, offset: usize) -> usize {
        let i = self.breaks.partition_point(|b| b.0 <= offset);
        match i {
            0 => offset,
            _ => {
                let (n, o) = self.breaks[i - 1];
                o + (offset - n)
            }
        }
    }
}

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

/// Whether the character ending at byte `i` of `text` belongs to a word.
#[inline]
pub fn word_char_before(text: &str, i: usize) -> bool {
    match text.as_bytes()[..i].last() {
        Some(&b) if b.is_ascii() => is_word_byte(b),
        Some(_) => text[..i].chars().next_back().is_some_and(is_word_char),
        None => false,
    }
}

/// Whether the character starting at byte `i` of `text` belongs to a word.
#[inline]
pub fn word_char_at(text: &str, i: usize) -> bool {
    match text.as_bytes().get(i) {
        Some(&b) if b.is_ascii() => is_word_byte(b),
        Some(_) => text[i..].chars().next().is_some_and(is_word_char),
        None => false,
    }
}

/// Whether a match at `start..end` of `text` stands as whole words.
pub fn is_whole_word(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    // ASCII on both edges (nearly always): four byte tests, no decoding.
    let edge = |i: usize| b.get(i).copied().unwrap_or(b' ');
    let (before, first) = (start.checked_sub(1).map_or(b' ', edge), edge(start));
    let (last, after) = (end.checked_sub(1).map_or(b' ', edge), edge(end));
    if start < end && (before | first | last | after) < 0x80 {
        let word = is_word_byte;
        return !((word(before) && word(first)) || (word(after) && word(last)));
    }
    is_whole_word_by_char(text, start, end)
}

/// [`is_whole_word`] on characters: the definition, and the path for non-ASCII edges.
fn is_whole_word_by_char(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let first = text[start..end].chars().next();
    let last = text[start..end].chars().next_back();
    let word = |c: Option<char>| c.is_some_and(is_word_char);
    // Only a word character next to a word character fuses two words.
    !((word(before) && word(first)) || (word(after) && word(last)))
}

/// An Aho-Corasick automaton for whole-word search, leftmost-longest: the unanchored
/// automaton a search walks, and the anchored one that tries the shorter patterns at a
/// failed start. A DFA built for both kinds of start has two transition tables in one (1 MB
/// for the built-in lexicon), and the walk over it was 6 % slower than over the unanchored
/// half alone, so a DFA is built twice, once for each; an NFA serves both.
#[derive(Debug, Clone)]
pub struct WordSearcher {
    walk: aho_corasick::AhoCorasick,
    /// `None`: `walk` does anchored searches too.
    anchored: Option<aho_corasick::AhoCorasick>,
}

impl WordSearcher {
    /// Builds the searcher of `kind` over `patterns`, ignoring ASCII case if asked.
    pub fn new<P: AsRef<[u8]>>(
        patterns: &[P],
        kind: aho_corasick::AhoCorasickKind,
        ascii_case_insensitive: bool,
    ) -> Result<WordSearcher, aho_corasick::BuildError> {
        let build = |start| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(ascii_case_insensitive)
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .start_kind(start)
                .kind(Some(kind))
                .build(patterns)
        };
        if kind == aho_corasick::AhoCorasickKind::DFA {
            Ok(WordSearcher {
                walk: build(aho_corasick::StartKind::Unanchored)?,
                anchored: Some(build(aho_corasick::StartKind::Anchored)?),
            })
        } else {
            Ok(WordSearcher {
                walk: build(aho_corasick::StartKind::Both)?,
                anchored: None,
            })
        }
    }

    fn anchored(&self) -> &aho_corasick::AhoCorasick {
        self.anchored.as_ref().unwrap_or(&self.walk)
    }
}

/// Leftmost-longest matches of `automaton` in `text` that stand as whole words.
///
/// A match that fails the word test does not hide the shorter patterns that start at the
/// same byte ("if he|moglobin" must still find "if"), nor the matches starting inside it:
/// the search then resumes one character later ("calcinos|is absent|" must still find
/// "absent"). The shorter patterns are found with the anchored automaton.
pub fn whole_word_matches<'a>(
    automaton: &'a WordSearcher,
    text: &'a str,
) -> impl Iterator<Item = aho_corasick::Match> + 'a {
    whole_word_matches_by(automaton, text, move |m| {
        is_whole_word(text, m.start(), m.end()).then_some(m)
    })
}

/// Like [`whole_word_matches`], with the word test given: `accept` returns the match to
/// report for a candidate (possibly extended past the pattern's end, as the term matcher
/// does with plural and possessive endings), or `None` to try the shorter patterns.
pub fn whole_word_matches_by<'a>(
    automaton: &'a WordSearcher,
    text: &'a str,
    accept: impl Fn(aho_corasick::Match) -> Option<aho_corasick::Match> + 'a,
) -> impl Iterator<Item = aho_corasick::Match> + 'a {
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos <= text.len() {
            let input = aho_corasick::Input::new(text).range(pos..);
            let m = automaton.walk.find(input)?;
            // A match starting inside a word is never a whole word, nor is any shorter one
            // from the same start: no need to look for them (most candidates are
            // abbreviations inside longer words, "du" in "during").
            let inside_word = word_char_before(text, m.start()) && word_char_at(text, m.start());
            let found = if inside_word {
                None
            } else {
                accept(m).or_else(|| shorter_whole_word(automaton.anchored(), text, m, &accept))
            };
            if let Some(m) = found {
                pos = m.end().max(m.start() + 1);
                return Some(m);
            }
            // No whole word starts inside a run of letters and digits (the character before
            // it would be one too): resume after the run that starts at the failed match,
            // not one character later ("rash" holds "ra", "as", "sh"…).
            pos = m.start() + word_run(&text[m.start()..]).max(1);
            while !text.is_char_boundary(pos) {
                pos += 1;
            }
        }
        None
    })
}

/// Bytes of the run of letters and digits at the start of `s` (0 when it starts with
/// anything else).
fn word_run(s: &str) -> usize {
    let b = s.as_bytes();
    let ascii = b.iter().take_while(|&&c| is_word_byte(c)).count();
    if b.get(ascii).is_none_or(|c| c.is_ascii()) {
        return ascii;
    }
    s.char_indices()
        .find(|&(_, c)| !is_word_char(c))
        .map_or(s.len(), |(i, _)| i)
}

/// ASCII lower case of `src` into `dst` (cleared first); other bytes are copied as they
/// are, so every offset is the same in both. The standard library's safe version: an
/// eight-bytes-at-a-time copy through `unsafe` was measured no faster, whole process, on
/// dense and run-on notes (BENCHMARKS.md, "Analysis and batch throughput (#24)").
pub fn ascii_lowercase_into(src: &str, dst: &mut String) {
    dst.clear();
    dst.push_str(src);
    dst.make_ascii_lowercase();
}

/// The longest accepted match that starts where `m` starts and ends before it (the rare
/// path: only after a failed word test).
fn shorter_whole_word(
    automaton: &aho_corasick::AhoCorasick,
    text: &str,
    m: aho_corasick::Match,
    accept: &impl Fn(aho_corasick::Match) -> Option<aho_corasick::Match>,
) -> Option<aho_corasick::Match> {
    let mut end = m.end();
    loop {
        // The next shorter pattern must end before `end`, at a char boundary.
        end = text[..end].char_indices().next_back().map(|(i, _)| i)?;
        if end <= m.start() {
            return None;
        }
        let input = aho_corasick::Input::new(text)
            .range(m.start()..end)
            .anchored(aho_corasick::Anchored::Yes);
        let shorter = automaton.try_find(input).ok().flatten()?;
        if let Some(found) = accept(shorter) {
            return Some(found);
        }
        end = shorter.end();
    }
}

/// The lines of `text` with their line breaks, as LSP counts them: a line ends at `\n`,
/// `\r\n` or a lone `\r`. Every part of the note that works line by line (sections,
/// sentences, incremental pieces) uses this one line model, so a CR-only note has the same
/// lines to all of them as to the document store.
pub fn lines_inclusive(text: &str) -> impl Iterator<Item = &str> + '_ {
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
    fn ascii_trims_equal_the_standard_ones() {
        let mut rng = fastrand::Rng::with_seed(19);
        let pieces = [
            " ", "\t", "\n", "\r", "\x0b", "\x0c", "\u{a0}", "\u{2003}", "\u{3000}", "a", "é", ".",
            "\u{85}",
        ];
        for _ in 0..20_000 {
            let s: String = (0..rng.usize(0..10))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect();
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

    #[test]
    fn collapses_space_and_maps_back() {
        let src = "Raynaud’s\r\n   phenomenon é x";
        let n = Normalized::new(src);
        assert_eq!(n.text, "Raynaud's phenomenon é x");
        let p = n.text.find("phenomenon").unwrap();
        assert_eq!(&src[n.to_original(p)..n.to_original(p + 10)], "phenomenon");
        let e = n.text.find('x').unwrap();
        assert_eq!(&src[n.to_original(e)..], "x");
        assert_eq!(n.to_original(0), 0);
        assert_eq!(n.to_original(n.text.find('\'').unwrap()), 7);
    }

    #[test]
    fn whole_word_test_on_bytes_equals_on_characters() {
        let slow = is_whole_word_by_char;
        let mut rng = fastrand::Rng::with_seed(43);
        let pieces = ["a", "1", " ", "?", "-", "é", "日", "\u{a0}"];
        for _ in 0..20_000 {
            let text: String = (0..rng.usize(0..8))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect();
            let cuts: Vec<usize> = (0..=text.len())
                .filter(|&i| text.is_char_boundary(i))
                .collect();
            let (a, b) = (cuts[rng.usize(..cuts.len())], cuts[rng.usize(..cuts.len())]);
            let (start, end) = (a.min(b), a.max(b));
            assert_eq!(
                is_whole_word(&text, start, end),
                slow(&text, start, end),
                "{text:?} {start}..{end}"
            );
        }
    }

    #[test]
    fn whole_words() {
        assert!(is_whole_word("no RP.", 3, 5));
        assert!(!is_whole_word("RPR", 0, 2));
        assert!(!is_whole_word("xcalcinosis", 1, 11));
        assert!(is_whole_word("(calcinosis)", 1, 11));
        assert!(is_whole_word("a ? b", 2, 3));
        assert!(is_whole_word("x?", 1, 2));
    }

    /// The normalisation one character at a time, with a break wherever offsets diverge.
    fn normalise_by_char(src: &str) -> (String, Vec<usize>) {
        let (mut text, mut map) = (String::new(), Vec::new());
        let mut in_space = false;
        for (i, c) in src.char_indices() {
            let out = if c.is_whitespace() {
                if in_space {
                    continue;
                }
                in_space = true;
                ' '
            } else {
                in_space = false;
                if c == '\u{2019}' || c == '\u{2018}' {
                    '\''
                } else {
                    c
                }
            };
            for _ in 0..out.len_utf8() {
                map.push(i);
            }
            text.push(out);
        }
        (text, map)
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
        assert!(is_plain(b"Denies Raynaud's phenomenon, reports dysphagia."));
        assert!(!is_plain(
            b"Denies Raynaud's phenomenon,  reports dysphagia."
        ));
    }

    #[test]
    fn normalising_in_runs_equals_one_character_at_a_time() {
        let mut rng = fastrand::Rng::with_seed(9);
        let pieces = [
            "a", "Bc", " ", "  ", "\n", "\r\n", "\t", "’", "‘", "\u{a0}", "é", "😀", ".", "-",
            "\u{2003}", "x y",
        ];
        let mut n = Normalized::default();
        for _ in 0..5_000 {
            let src: String = (0..rng.usize(0..16))
                .map(|_| pieces[rng.usize(..pieces.len())])
                .collect();
            n.fill(&src);
            let (text, map) = normalise_by_char(&src);
            assert_eq!(n.text, text, "{src:?}");
            for (k, &o) in map.iter().enumerate() {
                if text.is_char_boundary(k) {
                    assert_eq!(n.to_original(k), o, "{src:?} at {k}");
                }
            }
            assert_eq!(n.to_original(text.len()), src.len(), "{src:?} at the end");
        }
    }

    #[test]
    fn ascii_lower_case_eight_bytes_at_a_time_equals_the_standard_one() {
        let mut rng = fastrand::Rng::with_seed(3);
        let alphabet: Vec<char> = ('\0'..='\u{7f}').chain("éÉ😀İK\u{212a}ß".chars()).collect();
        let mut out = String::new();
        for len in 0..200 {
            let s: String = (0..len)
                .map(|_| alphabet[rng.usize(..alphabet.len())])
                .collect();
            ascii_lowercase_into(&s, &mut out);
            assert_eq!(out, s.to_ascii_lowercase(), "{s:?}");
        }
    }

    /// Resuming after a failed match skips the rest of its word, and finds exactly what
    /// resuming one character later finds.
    #[test]
    fn resuming_after_a_word_finds_the_same_matches() {
        let a = automaton(&["ra", "as", "sh", "rash", "é", "ab", "b c", "c"]);
        for text in [
            "rashes ra sh",
            "érash é",
            "abé ab",
            "xab c",
            "rashra-sh ra",
            "ab c, c",
        ] {
            let slow: Vec<&str> = {
                let mut out = Vec::new();
                let mut pos = 0;
                while let Some(m) = a.walk.find(aho_corasick::Input::new(text).range(pos..)) {
                    let ok = is_whole_word(text, m.start(), m.end());
                    if ok {
                        out.push(&text[m.range()]);
                    }
                    pos = if ok {
                        m.end()
                    } else {
                        m.start() + text[m.start()..].chars().next().unwrap().len_utf8()
                    };
                    if pos > text.len() {
                        break;
                    }
                }
                out
            };
            assert_eq!(matched(&a, text), slow, "{text}");
        }
        assert_eq!(word_run("abc def"), 3);
        assert_eq!(word_run("éa b"), 3);
        assert_eq!(word_run(" x"), 0);
    }

    fn automaton(patterns: &[&str]) -> WordSearcher {
        WordSearcher::new(patterns, aho_corasick::AhoCorasickKind::DFA, true).unwrap()
    }

    fn matched<'a>(a: &WordSearcher, text: &'a str) -> Vec<&'a str> {
        whole_word_matches(a, text)
            .map(|m| &text[m.range()])
            .collect()
    }

    #[test]
    fn shorter_trigger_at_same_byte_is_tried_when_the_longest_is_not_a_whole_word() {
        let a = automaton(&["if", "if he", "if he develops"]);
        assert_eq!(matched(&a, "If hemoglobin stable"), ["If"]);
        assert_eq!(matched(&a, "if he developsx or if he"), ["if he", "if he"]);
        assert_eq!(matched(&a, "ifhe"), Vec::<&str>::new());
        // Non-ASCII next to the failed match: the shorter search ends on char boundaries.
        let a = automaton(&["no", "no é"]);
        assert_eq!(matched(&a, "no éa"), ["no"]);
    }

    #[test]
    fn lines_break_at_lf_crlf_and_lone_cr() {
        let lines: Vec<&str> = lines_inclusive("a\rb\r\nc\nd\r\re").collect();
        assert_eq!(lines, ["a\r", "b\r\n", "c\n", "d\r", "\r", "e"]);
        assert_eq!(lines_inclusive("").count(), 0);
        assert_eq!(lines_inclusive("x\n").collect::<Vec<_>>(), ["x\n"]);
    }
}
