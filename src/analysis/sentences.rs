//! Sentence segmentation for clinical notes: sentence punctuation (not after "Dr." or
//! "p.o."), blank lines, bullets and numbered items, headings and header labels each end a
//! sentence; a wrapped line that continues in lower case does not.

use rustc_hash::FxHashSet as HashSet;
use std::ops::Range;

use crate::text::{is_ascii_space, trim_end, trim_start, without_line_break};

/// Splits notes into sentences.
#[derive(Debug, Clone)]
pub struct SentenceSplitter {
    /// As bytes: looked up without checking a lower-cased buffer is UTF-8 again.
    abbreviations: HashSet<Box<[u8]>>,
    /// The longest abbreviation's length: longer words are not looked up.
    longest: usize,
}

/// Whether a line starts a new unit: a bullet, a numbered item, a heading or a table row.
fn starts_item(line: &str) -> bool {
    let t = trim_start(line);
    if t.starts_with(['-', '*', '•', '+', '#', '|', '>', '·', '–']) {
        return true;
    }
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && t[digits..].starts_with(['.', ')'])
}

/// Whether `line` (without its line break) starts a new sentence whatever came before it:
/// such a line is a safe place to cut a note into independently analysable pieces. It
/// mirrors the continuation rule in [`SentenceSplitter::split`] minus the parts that depend
/// on the previous line's last character or on header breaks, which only add sentence ends.
pub fn starts_sentence(line: &str, after_blank: bool) -> bool {
    let t = trim_start(line);
    let Some(first) = t.chars().next() else {
        return false; // blank
    };
    after_blank || !first.is_lowercase() || starts_item(line)
}

impl SentenceSplitter {
    /// `abbreviations`: words (lower case, no final period) after which a period goes on.
    pub fn new(abbreviations: &[String]) -> SentenceSplitter {
        SentenceSplitter {
            abbreviations: abbreviations.iter().map(|a| a.as_bytes().into()).collect(),
            longest: abbreviations.iter().map(String::len).max().unwrap_or(0),
        }
    }

    /// Sentences of `text[range]`, as byte ranges of `text`, trimmed, never empty.
    /// `breaks` are offsets (sorted) where a sentence must end, such as header bodies.
    pub fn split(&self, text: &str, breaks: &[usize], out: &mut Vec<Range<usize>>) {
        self.split_lines(text, crate::text::lines_inclusive(text), breaks, out);
    }

    /// [`SentenceSplitter::split`] over `lines`: `text`'s lines as
    /// [`crate::text::lines_inclusive`] gives them.
    pub fn split_lines<'t>(
        &self,
        text: &'t str,
        lines: impl Iterator<Item = &'t str>,
        breaks: &[usize],
        out: &mut Vec<Range<usize>>,
    ) {
        let mut start = 0;
        let mut next_break = breaks.iter().copied().peekable();
        let mut prev_line_end_char: Option<char> = None;
        let mut line_start = 0;
        for line in lines {
            let content = without_line_break(line);
            let indented = trim_start(content);
            let blank = indented.is_empty();
            let mut forced = false;
            while next_break.peek().is_some_and(|&b| b <= line_start) {
                next_break.next();
                forced = true;
            }
            // Decide whether this line continues the previous sentence.
            let first = indented.chars().next();
            // (A line starting in lower case is never a list item: no item mark is a
            // lower-case letter.)
            let continues = !forced
                && !blank
                && first.is_some_and(char::is_lowercase)
                && !matches!(prev_line_end_char, Some('.' | '!' | '?' | ':'));
            if !continues {
                push(text, start..line_start, out);
                start = line_start;
            }
            // A header break inside this line (after "Family History:").
            while let Some(&b) = next_break.peek() {
                if b > line_start + content.len() {
                    break;
                }
                next_break.next();
                // The text before the break has its own sentence ends: several headers
                // can be joined into one line ("A.,PROCEDURE: , B. C.,PLAN: …").
                self.split_line(text, start.max(line_start), b, &mut start, out);
                push(text, start..b, out);
                start = b;
            }
            self.split_line(
                text,
                start.max(line_start),
                line_start + content.len(),
                &mut start,
                out,
            );
            prev_line_end_char = trim_end(content).chars().next_back();
            line_start += line.len();
        }
        push(text, start..text.len(), out);
    }

    /// Ends sentences at `.`, `!`, `?` inside `text[from..to]`, moving `start` along.
    fn split_line(
        &self,
        text: &str,
        from: usize,
        to: usize,
        start: &mut usize,
        out: &mut Vec<Range<usize>>,
    ) {
        let bytes = text.as_bytes();
        let mut i = from;
        // Whether the sentence begun at `word_for` has a word before `scanned`: each byte is
        // looked at once, however many marks a line holds.
        let (mut word_for, mut scanned, mut has_word) = (*start, *start, false);
        while i < to {
            // Jump to the next candidate with SIMD: most of a line is not punctuation.
            let Some(at) = memchr::memchr3(b'.', b'!', b'?', &bytes[i..to]) else {
                break;
            };
            i += at;
            let b = bytes[i];
            // Runs like "?!" or "..." end together.
            let mut end = i + 1;
            while end < to && matches!(bytes[end], b'.' | b'!' | b'?') {
                end += 1;
            }
            // Exported notes join sentences and sections with ".," ("reflux.,PROCEDURE:").
            let joined = b == b'.' && end < to && bytes[end] == b',';
            let followed_by_space = end >= to || bytes[end].is_ascii_whitespace() || joined;
            // A "?" before any word is shorthand for "possible" written against what follows
            // ("? Sclerodactyly"), not the end of an empty sentence.
            let opens = b == b'?' && {
                if word_for != *start {
                    (word_for, scanned, has_word) = (*start, *start, false);
                }
                if !has_word {
                    has_word = text[scanned.max(*start)..i]
                        .chars()
                        .any(crate::text::is_word_char);
                    scanned = i;
                }
                !has_word
            };
            if followed_by_space && !opens && (b != b'.' || !self.is_abbreviation(text, *start, i))
            {
                // The next word must look like a new sentence: not lower case.
                let rest = trim_start(&text[end..to]);
                let rest = if joined {
                    trim_start(rest.trim_start_matches(','))
                } else {
                    rest
                };
                let next = rest.chars().next();
                if next.is_none_or(|c| !c.is_lowercase()) {
                    push(text, *start..end, out);
                    *start = end;
                }
            }
            i = end;
        }
    }

    /// Whether the word before the period at `dot` is an abbreviation or an initial.
    fn is_abbreviation(&self, text: &str, start: usize, dot: usize) -> bool {
        let before = &text[start..dot];
        let word_start = word_start(before);
        let word = &before[word_start..];
        let mut chars = word.chars();
        if chars.next().is_some_and(char::is_alphabetic) && chars.next().is_none() {
            return true; // "J. Smith", "p. 4"
        }
        // (Digits first: trimming everything before the word is the costly part.)
        let numbered_item =
            word.chars().all(|c| c.is_ascii_digit()) && before[..word_start].trim().is_empty();
        if numbered_item {
            return true; // "1. Plan"
        }
        if word.is_ascii() && word.len() > self.longest {
            return false; // longer than any abbreviation (ASCII lower case keeps lengths)
        }
        if word.is_ascii() && word.len() <= 32 {
            // Most words: lower-cased on the stack, no allocation per period.
            let mut buf = [0u8; 32];
            let lower = &mut buf[..word.len()];
            lower.copy_from_slice(word.as_bytes());
            lower.make_ascii_lowercase();
            return self.abbreviations.contains(&*lower);
        }
        self.abbreviations.contains(word.to_lowercase().as_bytes())
    }
}

/// Where the last word of `before` starts: after its last white space, `(` or `[`. Bytes
/// from the end while they are ASCII (a period's word is short), characters otherwise.
fn word_start(before: &str) -> usize {
    let bytes = before.as_bytes();
    let mut k = bytes.len();
    while k > 0 {
        let b = bytes[k - 1];
        if b >= 0x80 {
            return before[..k]
                .char_indices()
                .rev()
                .find(|&(_, c)| c.is_whitespace() || c == '(' || c == '[')
                .map_or(0, |(p, c)| p + c.len_utf8());
        }
        if is_ascii_space(b) || b == b'(' || b == b'[' {
            return k;
        }
        k -= 1;
    }
    0
}

fn push(text: &str, r: Range<usize>, out: &mut Vec<Range<usize>>) {
    let s = &text[r.clone()];
    let start_trimmed = trim_start(s);
    let lead = s.len() - start_trimmed.len();
    let trimmed = trim_end(start_trimmed);
    if !trimmed.is_empty() {
        out.push(r.start + lead..r.start + lead + trimmed.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        let s = SentenceSplitter::new(&["dr".into(), "p.o".into(), "h/o".into()]);
        let mut out = Vec::new();
        s.split(text, &[], &mut out);
        out.into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn word_starts_by_bytes_equal_by_chars() {
        let mut rng = fastrand::Rng::with_seed(23);
        let pieces = [
            "a", " ", "(", "[", "\u{a0}", "é", "\t", "x.", "\u{2003}", "日",
        ];
        for _ in 0..20_000 {
            let s = crate::text::random_text(&mut rng, &pieces, 0..10);
            let slow = s
                .char_indices()
                .rev()
                .find(|&(_, c)| c.is_whitespace() || c == '(' || c == '[')
                .map_or(0, |(p, c)| p + c.len_utf8());
            assert_eq!(word_start(&s), slow, "{s:?}");
        }
    }

    #[test]
    fn splits_clinical_text() {
        assert_eq!(
            split("Seen by Dr. Smith. Denies RP. Takes nifedipine p.o. daily."),
            [
                "Seen by Dr. Smith.",
                "Denies RP.",
                "Takes nifedipine p.o. daily."
            ]
        );
        assert_eq!(
            split("- no RP\n- sclerodactyly\n\nNext para"),
            ["- no RP", "- sclerodactyly", "Next para"]
        );
        assert_eq!(
            split("Denies Raynaud's and\ndysphagia. OK"),
            ["Denies Raynaud's and\ndysphagia.", "OK"]
        );
        assert_eq!(
            split("PATIENT DENIES RP. SCLERODACTYLY PRESENT."),
            ["PATIENT DENIES RP.", "SCLERODACTYLY PRESENT."]
        );
        assert_eq!(
            split("Raynaud's? Will check.\n1. Plan"),
            ["Raynaud's?", "Will check.", "1. Plan"]
        );
        assert_eq!(split("Calcium 9.8 today"), ["Calcium 9.8 today"]);
        // ".," joins sentences in exported notes; a lower-case word after it continues.
        assert_eq!(
            split("Dysphagia.,Consent from the parents.,and more"),
            ["Dysphagia.", ",Consent from the parents.,and more"]
        );
        // A "?" before any word marks what follows; after one it still ends the sentence.
        assert_eq!(
            split("? Sclerodactyly; RP. ?? Calcinosis. RP? Will check."),
            [
                "? Sclerodactyly; RP.",
                "?? Calcinosis.",
                "RP?",
                "Will check."
            ]
        );
    }
}
