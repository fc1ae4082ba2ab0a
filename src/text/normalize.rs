//! Text normalisation shared by every matcher: one space for any run of white space,
//! straight apostrophes for curly ones, with a map back to the original byte offsets.

use super::Haystack;

/// A normalised copy of a piece of text.
#[derive(Debug, Default)]
pub struct Normalized {
    /// The normalised text.
    pub text: String,
    /// `(normalised offset, original offset)` at every point where the two drift apart.
    breaks: Vec<(usize, usize)>,
}

impl Normalized {
    /// Normalises `src` into this buffer, reusing its allocations.
    pub fn fill(&mut self, src: &str) {
        self.text.clear();
        self.breaks.clear();
        // Fast path: most sentences are printable ASCII with single spaces, copied as they
        // are. (Sentences are short, ~30–100 bytes: setting up four SIMD searches for the
        // special bytes cost more than this check; memmem alone was 5 % of the analysis.)
        if Haystack::new(src).is_plain() {
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
        if Haystack::new(src).is_plain() {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn normalising_in_runs_equals_one_character_at_a_time() {
        let mut rng = fastrand::Rng::with_seed(9);
        let pieces = [
            "a", "Bc", " ", "  ", "\n", "\r\n", "\t", "’", "‘", "\u{a0}", "é", "😀", ".", "-",
            "\u{2003}", "x y",
        ];
        let mut n = Normalized::default();
        for _ in 0..5_000 {
            let src = crate::text::random_text(&mut rng, &pieces, 0..16);
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
}
