//! User `pattern` entries (issue 27): regular expressions beside the literal forms of
//! `lexicon.toml` and the literal triggers of `context.toml`, for what a list of phrases
//! cannot say ("anti-centromere 1:640", "x3 years", "R/O", "L 2nd digit").
//!
//! Every pattern is checked alone when its file loads (its file and line in every error),
//! then all patterns of one kind are compiled into one [`regex::RegexSet`] that finds
//! which of them occur in a sentence; only those are searched for their positions. The
//! `regex` crate matches in linear time, has no look-around or back-references (refused
//! with the reason), and every compiled program and lazy DFA cache is bounded by the
//! constants of [`crate::limits`].
//!
//! Invariants: a match is a whole word in [`Haystack::is_whole_word`]'s sense (the
//! pattern is wrapped in ASCII half word boundaries, and each match is checked against the
//! one definition); matching is case-insensitive unless the pattern says `(?-i)`; a pattern
//! that can match empty text is refused; an empty [`PatternSet`] is never searched.

use std::ops::Range;

use std::sync::{Arc, OnceLock};

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::error::{Error, Result};
use crate::limits::{
    MAX_PATTERNS, MAX_PATTERN_BYTES, PATTERN_DFA_SIZE_LIMIT, PATTERN_SET_DFA_SIZE_LIMIT,
    PATTERN_SET_SIZE_LIMIT, PATTERN_SIZE_LIMIT,
};
use crate::text::Haystack;

/// The name of the optional capture group whose text is a finding's `value`.
pub const VALUE_GROUP: &str = "value";

/// The boundary on each side of a pattern: "not a word character on both sides", i.e.
/// a word does not continue past the match (the ASCII half boundaries keep the lazy DFA
/// working on any text; a non-ASCII neighbour is caught by [`Haystack::is_whole_word`] after).
const EDGE: &str = r"(?:(?-u:\b{start-half})|(?-u:\b{end-half}))";

/// One pattern, checked and compiled.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern as the user wrote it.
    pub source: String,
    /// The file it was written in.
    pub file: String,
    /// Its 1-based line there.
    pub line: usize,
    /// What is searched: the source, case-insensitive, between word boundaries.
    wrapped: String,
    /// Its program, compiled the first time the set reports a match of it: compiling a
    /// thousand patterns each at load took 0.63 s and ~57 KB apiece, for patterns most
    /// notes never match. Shared by clones (an analyser's lexicon is a clone).
    regex: Arc<OnceLock<Option<Regex>>>,
    has_value: bool,
    /// The size of its NFA, counted towards [`PATTERN_SET_SIZE_LIMIT`] as it loads.
    nfa_bytes: usize,
}

impl Pattern {
    /// Checks and compiles `source`, written at `file:line`. Errors name the file, the line
    /// and why, and what to do; they quote the pattern (corpus text, never note text) only
    /// in part.
    pub fn new(file: &str, line: usize, source: &str) -> Result<Pattern> {
        let fail = |why: String| Error::syntax(file, line, why);
        let shown: String = source.chars().take(40).collect();
        let shown = if shown.len() < source.len() {
            format!("{shown}…")
        } else {
            shown
        };
        if source.trim().is_empty() {
            return Err(fail("empty pattern: write a regular expression".into()));
        }
        if source.len() > MAX_PATTERN_BYTES {
            return Err(fail(format!(
                "pattern '{shown}' is {} bytes long: a pattern may have at most \
                 {MAX_PATTERN_BYTES}; list long alternations as literal forms instead",
                source.len()
            )));
        }
        // Parsed alone first: its own syntax errors (not the wrapper's), and what it can match.
        let hir = regex_syntax::ParserBuilder::new()
            .case_insensitive(true)
            .build()
            .parse(source)
            .map_err(|e| {
                fail(format!(
                    "pattern '{shown}': {}",
                    syntax_reason(&e.to_string())
                ))
            })?;
        if hir.properties().minimum_len() == Some(0) {
            return Err(fail(format!(
                "pattern '{shown}' can match empty text: every match must hold at least one \
                 character (use `+` rather than `*`, or drop an optional whole pattern)"
            )));
        }
        let has_value = hir_has_group(&hir, VALUE_GROUP);
        // Its size is bounded now (an NFA compiled and dropped: a quarter of the whole
        // program's cost), so that compiling it later cannot fail.
        let nfa = regex_automata::nfa::thompson::Compiler::new()
            .configure(
                regex_automata::nfa::thompson::Config::new()
                    .nfa_size_limit(Some(PATTERN_SIZE_LIMIT))
                    .shrink(false),
            )
            .build_from_hir(&hir)
            .map_err(|_| {
                fail(format!(
                    "pattern '{shown}' compiles to more than {PATTERN_SIZE_LIMIT} bytes: make \
                     it less general (fewer repetitions, narrower classes) or split it"
                ))
            })?;
        let nfa_bytes = nfa.memory_usage();
        Ok(Pattern {
            source: source.to_string(),
            file: file.to_string(),
            line,
            wrapped: wrap(source),
            regex: Arc::default(),
            has_value,
            nfa_bytes,
        })
    }

    /// Refuses this pattern when it takes the patterns of its kind loaded before it
    /// (`before`: the sum of their sizes) past [`PATTERN_SET_SIZE_LIMIT`]; returns the new
    /// sum. Counted as they load, so that the set is never compiled only to be refused
    /// (2,000 patterns of `\p{L}` took 5.8 s and 174 MB to be refused by the set's own
    /// limit).
    pub fn add_to(&self, before: usize) -> Result<usize> {
        let total = before.saturating_add(self.nfa_bytes);
        if total > PATTERN_SET_SIZE_LIMIT {
            return Err(Error::syntax(
                &self.file,
                self.line,
                format!(
                    "the patterns of this kind come to more than {PATTERN_SET_SIZE_LIMIT} \
                     bytes compiled here: make them less general (narrower classes than \
                     \\p{{L}} or \\w, fewer repetitions) or fewer"
                ),
            ));
        }
        Ok(total)
    }

    /// The compiled program (compiled on first use). `None` only if the `regex` crate
    /// refuses what its own parser and NFA compiler accepted at load: the pattern then
    /// finds nothing rather than failing the analysis.
    fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| {
                // The whole program (forward and reverse NFAs, the word-boundary wrapper)
                // is larger than the NFA checked at load: `\w{50}`, within the bound when
                // checked, needed over 2 MiB here. The margin keeps every checked pattern
                // compiling (tested on the largest accepted of each kind of class); the
                // load-time sum (`PATTERN_SET_SIZE_LIMIT`) bounds what they come to.
                RegexBuilder::new(&self.wrapped)
                    .size_limit(PATTERN_SIZE_LIMIT.saturating_mul(8))
                    .dfa_size_limit(PATTERN_DFA_SIZE_LIMIT)
                    .build()
                    .ok()
            })
            .as_ref()
    }
}

/// The pattern as searched: case-insensitive, whole words.
fn wrap(source: &str) -> String {
    format!("(?i){EDGE}(?:{source}){EDGE}")
}

/// Whether `hir` has a capture group named `name`.
fn hir_has_group(hir: &regex_syntax::hir::Hir, name: &str) -> bool {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(c) => c.name.as_deref() == Some(name) || hir_has_group(&c.sub, name),
        HirKind::Repetition(r) => hir_has_group(&r.sub, name),
        HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().any(|h| hir_has_group(h, name)),
        _ => false,
    }
}

/// The reason in a `regex-syntax` error (its last `error:` line, without the quoted
/// pattern and carets), with what to do for what this crate never supports.
fn syntax_reason(message: &str) -> String {
    let reason = message
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or("not a valid regular expression")
        .to_string();
    if reason.contains("look-around") {
        format!(
            "{reason}: patterns are matched in linear time and cannot look ahead or behind; \
             match the context as part of the pattern, or use a context.toml trigger"
        )
    } else if reason.contains("backreference") {
        format!(
            "{reason}: patterns are matched in linear time and cannot refer back to a group; \
             write the repeated text out"
        )
    } else if reason.contains("invalid UTF-8") {
        format!("{reason}: patterns match text; use \\x{{..}} for a character, not a byte")
    } else {
        reason
    }
}

/// The error for a pattern past [`MAX_PATTERNS`] of its kind, at `file:line`.
pub fn too_many(file: &str, line: usize) -> Error {
    Error::syntax(
        file,
        line,
        format!(
            "more than {MAX_PATTERNS} patterns of one kind: merge patterns into \
             alternations, or list fixed phrases as literal forms"
        ),
    )
}

/// One match of a pattern in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternMatch {
    /// Byte range in the text searched.
    pub range: Range<usize>,
    /// Index of the pattern in its [`PatternSet`].
    pub pattern: usize,
    /// The `value` group's range, for a pattern that has one and where it took part.
    pub value: Option<Range<usize>>,
}

/// All patterns of one kind, compiled into one set. Empty (and never searched) when a
/// corpus has none.
#[derive(Debug, Clone, Default)]
pub struct PatternSet {
    patterns: Vec<Pattern>,
    set: Option<RegexSet>,
}

impl PatternSet {
    /// Compiles `patterns` into one set. An error names the last pattern's file and line
    /// (the one that took the set past its bounds).
    pub fn new(patterns: Vec<Pattern>) -> Result<PatternSet> {
        let Some(last) = patterns.last() else {
            return Ok(PatternSet::default());
        };
        if patterns.len() > MAX_PATTERNS {
            return Err(too_many(&last.file, last.line));
        }
        // The set only says which patterns may occur: without the word boundaries, which
        // took two thirds of its compile time (a thousand patterns: 0.29 s, 0.10 s
        // without); each pattern it reports is then searched with them.
        let set = RegexSetBuilder::new(patterns.iter().map(|p| format!("(?i:{})", p.source)))
            .size_limit(PATTERN_SET_SIZE_LIMIT.saturating_mul(2))
            .dfa_size_limit(PATTERN_SET_DFA_SIZE_LIMIT)
            .build()
            .map_err(|e| {
                Error::syntax(
                    &last.file,
                    last.line,
                    match e {
                        regex::Error::CompiledTooBig(_) => format!(
                            "the {} patterns of this kind compile to more than \
                             {PATTERN_SET_SIZE_LIMIT} bytes together: make them less general \
                             or fewer",
                            patterns.len()
                        ),
                        _ => "the patterns cannot be compiled together".to_string(),
                    },
                )
            })?;
        Ok(PatternSet {
            patterns,
            set: Some(set),
        })
    }

    /// Whether there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns, in the order given.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Appends to `out` every whole-word match of every pattern in `text`, sorted by start,
    /// the longest first at each start. Matches of different patterns may overlap (the
    /// caller resolves them with the literal ones, longest first: [`longest_first`]); one
    /// pattern's matches do not overlap each other.
    pub fn find_into(&self, text: &str, out: &mut Vec<PatternMatch>) {
        let Some(set) = &self.set else {
            return;
        };
        #[cfg(test)]
        SEARCHES.with(|n| n.set(n.get() + 1));
        // Most sentences match no pattern: a yes-or-no pass over the set (no allocation)
        // decides that before asking which ones do.
        if !set.is_match(text) {
            return;
        }
        let first = out.len();
        for i in set.matches(text).iter() {
            let p = &self.patterns[i];
            let Some(regex) = p.regex() else {
                continue;
            };
            let mut pos = 0;
            while pos <= text.len() {
                let Some(m) = regex.find_at(text, pos) else {
                    break;
                };
                if m.is_empty() || !Haystack::new(text).is_whole_word(m.start(), m.end()) {
                    // Try again one character further on (a non-ASCII word character
                    // next to the match: rare).
                    pos = next_char(text, m.start());
                    continue;
                }
                let value = if p.has_value {
                    regex
                        .captures_at(text, m.start())
                        .and_then(|c| c.name(VALUE_GROUP))
                        .map(|v| v.range())
                        .filter(|v| !v.is_empty())
                } else {
                    None
                };
                out.push(PatternMatch {
                    range: m.range(),
                    pattern: i,
                    value,
                });
                pos = m.end();
            }
        }
        out[first..].sort_by_key(|m| (m.range.start, std::cmp::Reverse(m.range.end), m.pattern));
    }
}

#[cfg(test)]
thread_local! {
    /// Searches of a non-empty set on this thread: the analysis's tests check that none
    /// runs for a corpus without patterns.
    pub(crate) static SEARCHES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The byte offset of the character after the one at `i` (or past the end).
fn next_char(text: &str, i: usize) -> usize {
    text[i..].chars().next().map_or(i + 1, |c| i + c.len_utf8())
}

/// Keeps, of `items` (sorted by start), a leftmost-longest run of non-overlapping ones:
/// at each position the longest, then nothing that overlaps it. Literal and pattern
/// matches of one kind go through this together, so the longest wins across both.
pub fn longest_first<T>(items: &mut Vec<T>, range: impl Fn(&T) -> Range<usize>) {
    items.sort_by_key(|t| {
        let r = range(t);
        (r.start, std::cmp::Reverse(r.end))
    });
    let mut end = 0;
    let mut first = true;
    items.retain(|t| {
        let r = range(t);
        let keep = first || r.start >= end;
        if keep {
            first = false;
            end = r.end;
        }
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(sources: &[&str]) -> PatternSet {
        PatternSet::new(
            sources
                .iter()
                .map(|s| Pattern::new("p.toml", 1, s).unwrap())
                .collect(),
        )
        .unwrap()
    }

    fn found(set: &PatternSet, text: &str) -> Vec<(String, Option<String>)> {
        let mut out = Vec::new();
        set.find_into(text, &mut out);
        out.into_iter()
            .map(|m| {
                (
                    text[m.range].to_string(),
                    m.value.map(|v| text[v].to_string()),
                )
            })
            .collect()
    }

    fn err(source: &str) -> String {
        Pattern::new("lex.toml", 7, source).unwrap_err().to_string()
    }

    #[test]
    fn whole_words_case_insensitive_with_a_value() {
        let s = set(&[r"(?:anti-?centromere|ACA)\s+(?P<value>1:\d+|positive|negative)"]);
        assert_eq!(
            found(&s, "Anti-centromere 1:640; aca POSITIVE, xaca positive"),
            [
                ("Anti-centromere 1:640".into(), Some("1:640".into())),
                ("aca POSITIVE".into(), Some("POSITIVE".into())),
            ]
        );
        // Not inside a word, on either side, ASCII or not.
        let s = set(&["ro"]);
        assert!(found(&s, "rope pro éro roé").is_empty());
        assert_eq!(found(&s, "(ro) RO").len(), 2);
        // A pattern ending in a sign needs no boundary after it.
        let s = set(&[r"r/o"]);
        assert_eq!(found(&s, "R/O calcinosis")[0].0, "R/O");
        // Case-sensitive when it says so.
        let s = set(&["(?-i)RP"]);
        assert_eq!(found(&s, "rp RP").len(), 1);
    }

    #[test]
    fn refused_with_file_line_and_why() {
        assert!(err("(?=a)b").starts_with("lex.toml:7: pattern '(?=a)b': look-around"));
        assert!(
            err(r"(a)\1").contains("backreferences are not supported"),
            "{}",
            err(r"(a)\1")
        );
        assert!(
            err(r"(?-u:\xFF)").contains("invalid UTF-8"),
            "{}",
            err(r"(?-u:\xFF)")
        );
        assert!(err("a*").contains("can match empty text"));
        assert!(err("(a*)*").contains("can match empty text"));
        assert!(err("a)(b").starts_with("lex.toml:7: pattern 'a)(b': "));
        assert!(err(&"a|".repeat(5000)).contains("at most 4096"));
        assert!(
            err("x{1000}{1000}").contains("compiles to more than"),
            "{}",
            err("x{1000}{1000}")
        );
        assert!(
            err(r"\w{500}").contains("compiles to more than"),
            "{}",
            err(r"\w{500}")
        );
    }

    /// A pattern just within its bound when checked still compiles when first used (a
    /// pattern that loads but never matches would be a silent failure).
    #[test]
    fn the_largest_accepted_pattern_compiles_on_use() {
        for class in [
            r"\w",
            r"\p{L}",
            r"\d",
            r"\s",
            "[a-z]",
            r"\p{Greek}",
            ".",
            "(?:ab|cd)",
        ] {
            // The largest accepted repetition count, by bisection (acceptance is monotonic).
            let ok = |n: usize| Pattern::new("p", 1, &format!("{class}{{{n}}}")).is_ok();
            let (mut lo, mut hi) = (1, 50_000);
            assert!(ok(lo) && !ok(hi), "{class}");
            while hi - lo > 1 {
                let mid = (lo + hi) / 2;
                if ok(mid) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let accepted = format!("{class}{{{lo}}}");
            let p = Pattern::new("p", 1, &accepted).unwrap();
            assert!(p.regex().is_some(), "{accepted} does not compile");
        }
    }

    #[test]
    fn longest_first_across_kinds() {
        let mut v = vec![0..3, 0..5, 4..9, 6..8, 10..12];
        longest_first(&mut v, |r| r.clone());
        assert_eq!(v, [0..5, 6..8, 10..12]);
    }
}
