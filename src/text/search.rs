//! Whole-word search over an Aho-Corasick automaton: the walk every matcher (terms,
//! context triggers) runs over a sentence.

use super::Haystack;

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
        Haystack::new(text)
            .is_whole_word(m.start(), m.end())
            .then_some(m)
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
            let hay = Haystack::new(text);
            let inside_word = hay.word_char_before(m.start()) && hay.word_char_at(m.start());
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
            pos = m.start() + hay.word_run(m.start()).max(1);
            while !text.is_char_boundary(pos) {
                pos += 1;
            }
        }
        None
    })
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

#[cfg(test)]
mod tests {
    use super::*;

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
                    let ok = Haystack::new(text).is_whole_word(m.start(), m.end());
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
}
