//! The one text analysis `ask` uses for statements and questions alike: the index's analyzer
//! (lower case, English stop words dropped, English stemming), then a derivational step that
//! joins words the stemmer keeps apart ("treatment"/"treat", "surgical"/"surgery",
//! "spinal"/"spine", "autoantibodies"/"antibody"). Its output, a word's *root*, is what
//! question and statement are compared on; the index keeps the stems, and a root stands for
//! every stem of the index that has it.

use tantivy::tokenizer::{TextAnalyzer, TokenStream};

use crate::index::analyzer;

/// Derivational suffixes removed from a stem, longest first, when at least four letters remain.
const SUFFIXES: &[&str] = &[
    "ation", "atori", "ment", "ical", "eri", "ia", "ic", "al", "li", "i", "e", "y",
];

/// The root of one stem (see the module documentation).
pub fn root(stem: &str) -> String {
    let mut s = stem;
    if let Some(rest) = s.strip_prefix("auto") {
        if rest.len() >= 5 {
            s = rest;
        }
    }
    for suf in SUFFIXES {
        if let Some(base) = s.strip_suffix(suf) {
            if base.chars().count() >= 4 {
                s = base;
                break;
            }
        }
    }
    s.to_string()
}

/// One word of a question: as typed (lower case), its byte range, and its root (`None` for a
/// stop word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Lower-case surface form.
    pub lower: String,
    /// The word as written (abbreviations compare on it).
    pub written: String,
    /// Byte range in the text analysed.
    pub range: std::ops::Range<usize>,
    /// Root, or `None` when the analyzer drops the word.
    pub root: Option<String>,
}

/// The analysis, ready to use. Cheap to clone.
#[derive(Clone)]
pub struct TextAnalysis {
    analyzer: TextAnalyzer,
}

impl Default for TextAnalysis {
    fn default() -> Self {
        TextAnalysis {
            analyzer: analyzer(),
        }
    }
}

impl std::fmt::Debug for TextAnalysis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TextAnalysis")
    }
}

impl TextAnalysis {
    /// The stems of `text`, as the index has them.
    pub fn stems(&self, text: &str) -> Vec<String> {
        let mut a = self.analyzer.clone();
        let mut stream = a.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    /// The roots of `text`, in order, stop words left out.
    pub fn roots(&self, text: &str) -> Vec<String> {
        self.stems(text).iter().map(|s| root(s)).collect()
    }

    /// The words of `text` with their roots: words are runs of letters and digits, as the
    /// index tokenizer splits them.
    pub fn words(&self, text: &str) -> Vec<Word> {
        self.words_memo(text, &mut std::collections::HashMap::new())
    }

    /// [`TextAnalysis::words`], remembering each word's root in `memo` (for analysing many
    /// phrases that share words, as when the vocabulary is compiled).
    pub fn words_memo(
        &self,
        text: &str,
        memo: &mut std::collections::HashMap<String, Option<String>>,
    ) -> Vec<Word> {
        let mut a = self.analyzer.clone();
        let mut out = Vec::new();
        let mut start = None;
        let mut push = |s: usize, e: usize, out: &mut Vec<Word>| {
            let written = &text[s..e];
            let lower = written.to_lowercase();
            let root = match memo.get(&lower) {
                Some(r) => r.clone(),
                None => {
                    let mut stream = a.token_stream(written);
                    let r = if stream.advance() {
                        Some(root(&stream.token().text))
                    } else {
                        None
                    };
                    memo.insert(lower.clone(), r.clone());
                    r
                }
            };
            out.push(Word {
                lower,
                written: written.to_string(),
                range: s..e,
                root,
            });
        };
        for (i, c) in text.char_indices() {
            if c.is_alphanumeric() {
                start.get_or_insert(i);
                continue;
            }
            if let Some(s) = start.take() {
                push(s, i, &mut out);
            }
            // "%" asks for a figure, "*" is a vocabulary wildcard: words of their own.
            if c == '%' || c == '*' {
                push(i, i + 1, &mut out);
            }
        }
        if let Some(s) = start {
            push(s, text.len(), &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflections_and_derivations_meet() {
        let t = TextAnalysis::default();
        let same = |a: &str, b: &str| assert_eq!(t.roots(a), t.roots(b), "{a} / {b}");
        same("treat", "treatment");
        same("treated", "treatments");
        same("surgery", "surgical");
        same("spine", "spinal");
        same("antibody", "autoantibodies");
        same("calcinosis", "calcinoses");
        same("commonly", "common");
        assert_ne!(t.roots("anticentromere"), t.roots("centromere"));
        let w = t.words("How is it Tx'd?");
        assert_eq!(w[1].root, None, "stop word");
        assert!(w[0].root.is_some());
        assert_eq!(w[3].written, "Tx");
        assert_eq!(w.len(), 5);
    }
}
