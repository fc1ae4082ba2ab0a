//! Note analysis: note text → sections and sentences → term mentions → assertion context →
//! findings and a CREST summary. Pure library code: no I/O, no logging, no LSP types, and it
//! never fails — any UTF-8 text is a valid note.

pub mod context;
mod incremental;
pub mod sections;
pub mod sentences;

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::Arc;

pub use context::{Assertion, CauseKind};
pub use incremental::AnalysisCache;

use crate::corpus::lexicon::{Crest, FormKind, Lexicon, TermId};
use crate::corpus::rules::SectionEffect;
use crate::corpus::Corpus;
use crate::matcher::{Mention, TermMatcher};
use crate::text::Normalized;
use context::{ContextEngine, SectionDefault};
use incremental::{Piece, INHERITED_HEADER};
use sections::{InlineHeader, OpenSection, Sectioner};
use sentences::SentenceSplitter;

/// What decided a finding's assertion, located in the note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// Byte range in the note.
    pub range: Range<usize>,
    /// A trigger phrase, a label value or a section header.
    pub kind: CauseKind,
}

/// One term mention with its assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Byte range in the note.
    pub range: Range<usize>,
    /// The term.
    pub term: TermId,
    /// Which kind of form matched.
    pub form: FormKind,
    /// What the note asserts about it.
    pub assertion: Assertion,
    /// The cue that decided the assertion, if any.
    pub trigger: Option<Trigger>,
    /// Whether the mention is a likely misspelling of the term.
    pub misspelling: bool,
    /// For a misspelling: the spelling to offer instead.
    pub suggestion: Option<String>,
    /// For a match of a term's `pattern` with a `value` group: the value's byte range in
    /// the note ("1:640" in "anti-centromere 1:640").
    pub value: Option<Range<usize>>,
}

/// Which CREST features a note documents.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CrestSummary {
    /// Documented for the patient (present or historical).
    pub present: BTreeSet<Crest>,
    /// Only possible.
    pub possible: BTreeSet<Crest>,
    /// Only negated.
    pub negated: BTreeSet<Crest>,
}

impl CrestSummary {
    /// Builds the summary from findings: present beats possible beats negated, except that
    /// an explicit label value ("Telangiectasia: none") beats a doubt elsewhere ("not sure
    /// about telangiectasia").
    pub fn of(findings: &[Finding], lexicon: &Lexicon) -> CrestSummary {
        // Letters as bits while counting (a set insertion per finding was 1 % of a dense
        // note's analysis), as sets at the end.
        let bit = |c: Crest| 1u8 << (c as u8);
        let (mut present, mut possible, mut negated, mut labelled_negated) = (0u8, 0u8, 0u8, 0u8);
        for f in findings {
            let Some(c) = lexicon.term(f.term).crest else {
                continue;
            };
            match f.assertion {
                a if a.is_documented() => present |= bit(c),
                Assertion::Possible => possible |= bit(c),
                Assertion::Negated => {
                    negated |= bit(c);
                    if f.trigger
                        .as_ref()
                        .is_some_and(|t| t.kind == CauseKind::Label)
                    {
                        labelled_negated |= bit(c);
                    }
                }
                _ => {}
            }
        }
        let possible = possible & !present & !labelled_negated;
        let negated = negated & !present & !possible;
        let set = |bits: u8| -> BTreeSet<Crest> {
            Crest::ALL
                .into_iter()
                .filter(|&c| bits & bit(c) != 0)
                .collect()
        };
        CrestSummary {
            present: set(present),
            possible: set(possible),
            negated: set(negated),
        }
    }
}

/// A note's findings and CREST summary.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Findings in note order.
    pub findings: Vec<Finding>,
    /// The CREST summary.
    pub crest: CrestSummary,
}

/// The note analyser. Build once per corpus; `analyze` is read-only and thread-safe.
#[derive(Debug, Clone)]
pub struct Analyzer {
    lexicon: Lexicon,
    matcher: Arc<TermMatcher>,
    context: ContextEngine,
    sectioner: Sectioner,
    splitter: SentenceSplitter,
}

impl Analyzer {
    /// An analyser for the corpus's lexicon and rules.
    pub fn new(corpus: &Corpus) -> Analyzer {
        Self::with_ad_hoc_terms(corpus, &[])
    }

    /// An analyser that also finds `phrases` (ad-hoc targets, matched case-insensitively).
    pub fn with_ad_hoc_terms(corpus: &Corpus, phrases: &[String]) -> Analyzer {
        let mut lexicon = corpus.lexicon.clone();
        for p in phrases {
            // Normalised as note text is ("pericardial   effusion" is found where the note
            // says "pericardial effusion"); the matcher does the same for lexicon forms.
            let p = Normalized::new(p.trim()).text;
            if !p.is_empty() && lexicon.find(&p).is_none() {
                lexicon.add_ad_hoc(&p);
            }
        }
        Analyzer {
            matcher: Arc::new(TermMatcher::new(&lexicon)),
            context: ContextEngine::new(&corpus.context),
            sectioner: Sectioner::new(&corpus.structure),
            splitter: SentenceSplitter::new(&corpus.structure.abbreviations),
            lexicon,
        }
    }

    /// The term matcher, for a knowledge base over the same corpus to share. Built from
    /// exactly the corpus lexicon only by [`Analyzer::new`] (ad-hoc terms add to it).
    #[cfg(feature = "server")]
    pub(crate) fn matcher(&self) -> Arc<TermMatcher> {
        self.matcher.clone()
    }

    /// The lexicon used (including ad-hoc terms).
    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// Identifies the lexicon and rules behind this analyser, for [`AnalysisCache`].
    pub(crate) fn id(&self) -> usize {
        self.matcher.id()
    }

    /// Analyses a whole note.
    pub fn analyze(&self, text: &str) -> Analysis {
        let piece = self.analyze_piece(text, None);
        let crest = CrestSummary::of(&piece.findings, &self.lexicon);
        Analysis {
            findings: piece.findings,
            crest,
        }
    }

    /// Analyses a note that `cache` has seen before (an earlier version of the same
    /// document), re-analysing only the pieces of it that changed. The result is the same
    /// as [`Analyzer::analyze`]'s.
    pub fn reanalyze(&self, text: &str, cache: &mut AnalysisCache) -> Analysis {
        let findings = cache.analyze(self, text);
        let crest = CrestSummary::of(&findings, &self.lexicon);
        Analysis { findings, crest }
    }

    /// Analyses `text`, a piece of a note that starts a sentence and starts inside the
    /// section `entry` (if any). Offsets in the result are relative to the piece; a cause
    /// that is the header of the entry section, which lies before the piece, has the range
    /// [`INHERITED_HEADER`].
    pub(crate) fn analyze_piece(&self, text: &str, entry: Option<OpenSection>) -> Piece {
        BUFFERS.with(|buffers| {
            let mut buffers = buffers.borrow_mut();
            let piece = self.analyze_piece_with(text, entry, &mut buffers);
            buffers.trim();
            piece
        })
    }

    fn analyze_piece_with(
        &self,
        text: &str,
        entry: Option<OpenSection>,
        buffers: &mut Buffers,
    ) -> Piece {
        let Buffers {
            findings_hint,
            lower,
            lines,
            sections,
            breaks,
            sentences,
            norm,
            mentions,
            ranges,
            scratch,
            decided,
            inline,
            pattern_hits,
        } = buffers;
        // The lines, found once for the three passes over them.
        lines.clear();
        let mut at = 0;
        lines.extend(crate::text::lines_inclusive(text).map(|l| {
            at += l.len();
            at - l.len()..at
        }));
        let line_strs = || lines.iter().map(|r| &text[r.clone()]);
        let open = self.sectioner.sections_into(
            text,
            line_strs(),
            entry.map(|o| (o, INHERITED_HEADER)),
            sections,
        );
        breaks.clear();
        breaks.extend(
            sections
                .iter()
                .filter(|s| s.header != INHERITED_HEADER)
                .map(|s| s.body_start),
        );
        // A line in capitals is a heading of its own ("CT HAND WITHOUT CONTRAST"): the
        // lower-case line under it does not continue it as a wrapped sentence would.
        let mut after_caps = false;
        for line in lines.iter() {
            if after_caps {
                breaks.push(line.start);
            }
            after_caps = is_caps_line(&text[line.clone()]);
        }
        // Headers joined into a line (".,PROCEDURE: ,", "; FAMILY HISTORY:") end the sentence
        // and every scope before them, and give what follows them, to the next one or the end
        // of the line, their own section's effect.
        inline.clear();
        for line in lines.iter() {
            let content = crate::text::without_line_break(&text[line.clone()]);
            let first = inline.len();
            self.sectioner.inline_headers(content, |h| {
                let at = line.start + h.header.start;
                breaks.push(at);
                let in_line = inline.len() > first;
                if let Some(last) = inline.last_mut().filter(|_| in_line) {
                    last.0.end = at;
                    // Runs of headers without an effect are one span: nothing refers to
                    // their text, and a line of ",AB:" repeated holds millions of them.
                    if last.1.effect == SectionEffect::None && h.effect == SectionEffect::None {
                        last.0.end = line.start + content.len();
                        return;
                    }
                }
                inline.push((
                    at..line.start + content.len(),
                    InlineHeader {
                        header: at..line.start + h.header.end,
                        effect: h.effect,
                    },
                ));
            });
        }
        breaks.sort_unstable();
        crate::text::Haystack::new(text).lowercase_into(lower);
        sentences.clear();
        self.splitter
            .split_lines(text, line_strs(), breaks, sentences);
        // Header labels are not part of any sentence: "History of Present Illness:" must
        // not make what follows historical.
        // Sized like the last note's: growing it was one allocation in eight.
        let mut findings = Vec::with_capacity(*findings_hint);
        let mut si = 0;
        let mut ii = 0;
        for sentence in sentences.iter() {
            while si + 1 < sections.len() && sections[si + 1].range.start <= sentence.start {
                si += 1;
            }
            let section = sections
                .get(si)
                .filter(|s| s.range.contains(&sentence.start));
            let mut start = sentence.start;
            if let Some(s) = section {
                if sentence.start < s.body_start && s.body_start <= sentence.end {
                    start = s.body_start;
                } else if sentence.start < s.body_start {
                    continue; // the header line itself
                }
            }
            let normal =
                self.find_mentions(&text[start..sentence.end], lower, start, norm, mentions);
            // "the RP-45 stapler" names a device, not Raynaud's phenomenon.
            mentions
                .retain(|m| m.form != FormKind::Abbreviation || !is_product_code(normal, &m.range));
            // The terms' patterns, only when the lexicon has any (none: no regex runs).
            pattern_hits.clear();
            let (patterns, term_of) = self.lexicon.patterns();
            if !patterns.is_empty() {
                patterns.find_into(normal, pattern_hits);
                if !pattern_hits.is_empty() {
                    mentions.extend(pattern_hits.iter().map(|h| Mention {
                        range: h.range.clone(),
                        term: term_of(h.pattern),
                        form: FormKind::Pattern,
                        misspelling: false,
                        suggestion: None,
                    }));
                    // Longest first across literal forms and patterns (a literal form
                    // keeps a tie: it was listed first).
                    crate::patterns::longest_first(mentions, |m| m.range.clone());
                }
            }
            if mentions.is_empty() {
                continue; // nothing to assert
            }
            while ii < inline.len() && inline[ii].0.end <= sentence.start {
                ii += 1;
            }
            // The section a header inside the line opened, if the sentence is in one.
            let (effect, header) = match inline.get(ii).filter(|h| h.0.start <= sentence.start) {
                Some((_, h)) => (Some(h.effect), Some(h.header.clone())),
                None => (section.map(|s| s.effect), section.map(|s| s.header.clone())),
            };
            let defaults = SectionDefault {
                family: header
                    .clone()
                    .filter(|_| effect == Some(SectionEffect::Family)),
                historical: header.filter(|_| effect == Some(SectionEffect::Historical)),
            };
            ranges.clear();
            ranges.extend(mentions.iter().map(|m| m.range.clone()));
            self.context
                .assert_into(normal, ranges, &defaults, scratch, decided);
            let to_note = |r: &Range<usize>| {
                start + norm.to_original(r.start)..start + norm.to_original(r.end)
            };
            for (m, (assertion, cause)) in mentions.iter_mut().zip(decided.drain(..)) {
                let value = if m.form == FormKind::Pattern {
                    // The first pattern hit at the mention's range is the one kept.
                    let i = pattern_hits.partition_point(|h| h.range.start < m.range.start);
                    pattern_hits[i..]
                        .iter()
                        .take_while(|h| h.range.start == m.range.start)
                        .find(|h| h.range == m.range)
                        .and_then(|h| h.value.as_ref())
                        .map(to_note)
                } else {
                    None
                };
                findings.push(Finding {
                    value,
                    range: to_note(&m.range),
                    term: m.term,
                    form: m.form,
                    assertion,
                    trigger: cause.map(|c| Trigger {
                        // Section causes are already offsets in the piece (or inherited).
                        range: if c.kind == CauseKind::Section {
                            c.range
                        } else {
                            to_note(&c.range)
                        },
                        kind: c.kind,
                    }),
                    misspelling: m.misspelling,
                    suggestion: m.suggestion.take(),
                });
            }
        }
        *findings_hint = findings.len().min(1 << 10);
        // An open section is the last one.
        let exit = open.zip(sections.last().map(|s| s.header.clone()));
        Piece { findings, exit }
    }
}

impl Analyzer {
    /// The terms of `sentence` (which starts at byte `start` of the piece whose ASCII lower
    /// case is `lower`) into `mentions`, with ranges in the normalised sentence, which is
    /// returned (`sentence` itself, or `norm` filled). The cost step apart from the
    /// decisions: a plain sentence (nothing to normalise: most) is matched in place against
    /// its cut of the piece's lower case, made once per piece; any other is normalised and
    /// lower-cased on its own. Both give the same mentions.
    fn find_mentions<'s>(
        &self,
        sentence: &'s str,
        lower: &str,
        start: usize,
        norm: &'s mut Normalized,
        mentions: &mut Vec<Mention>,
    ) -> &'s str {
        let (normal, borrowed) = norm.fill_or_borrow(sentence);
        mentions.clear();
        if borrowed {
            self.matcher
                .find_lowered(normal, &lower[start..start + sentence.len()], mentions);
        } else {
            self.matcher.find_normalized(normal, mentions);
        }
        normal
    }
}

/// The working buffers of one analysis, kept per thread from one note to the next: a batch
/// of short notes spent 8 % of its time growing fresh ones.
#[derive(Default)]
struct Buffers {
    /// How many findings the last piece had.
    findings_hint: usize,
    /// The piece in ASCII lower case.
    lower: String,
    lines: Vec<Range<usize>>,
    sections: Vec<sections::Section>,
    breaks: Vec<usize>,
    sentences: Vec<Range<usize>>,
    norm: Normalized,
    mentions: Vec<Mention>,
    ranges: Vec<Range<usize>>,
    scratch: context::Scratch,
    decided: Vec<(Assertion, Option<context::Cause>)>,
    /// Headers inside lines: where each one's section runs, and the header.
    inline: Vec<(Range<usize>, InlineHeader)>,
    /// The lexicon patterns' matches in the sentence (empty without patterns).
    pattern_hits: Vec<crate::patterns::PatternMatch>,
}

impl Buffers {
    /// Drops the buffers after a huge note, so that one never keeps its memory for good.
    fn trim(&mut self) {
        const KEEP: usize = 1 << 16;
        let big = self.lower.capacity() > 1 << 20
            || self.lines.capacity() > KEEP
            || self.sections.capacity() > KEEP
            || self.breaks.capacity() > KEEP
            || self.sentences.capacity() > KEEP
            || self.norm.is_big(1 << 20)
            || self.mentions.capacity() > KEEP
            || self.ranges.capacity() > KEEP
            || self.decided.capacity() > KEEP
            || self.inline.capacity() > KEEP
            || self.pattern_hits.capacity() > KEEP
            || self.scratch.is_big(KEEP);
        if big {
            *self = Buffers::default();
        }
    }
}

thread_local! {
    static BUFFERS: std::cell::RefCell<Buffers> = Default::default();
}

/// Letters after digits that make a count, a dose, an ordinal or a duration rather than a
/// model number: "RP 2x", "DU 3rd", "RP 10yrs". Compared case-sensitively: a model number's
/// letters are capitals ("DU 300X").
const NOT_MODEL_SUFFIXES: [&[u8]; 20] = [
    b"x", b"st", b"nd", b"rd", b"th", b"y", b"yr", b"yrs", b"d", b"h", b"hr", b"hrs", b"wk",
    b"wks", b"mo", b"mos", b"m", b"mg", b"ml", b"mm",
];

/// Whether the abbreviation at `range` of `s` is part of a product or device code: joined by
/// a hyphen or slash to digits ("RP-45", "ACA/2", "45-RP"), or followed by a model number,
/// digits with letters or a hyphen ("RP 45B", "DU 300X", "RP 60-4"). A count, an ordinal
/// or a duration after it ("RP 2 years", "RP 2x", "DU 3rd") is not a model number.
fn is_product_code(s: &str, range: &Range<usize>) -> bool {
    let bytes = s.as_bytes();
    let joiner = |c: Option<&u8>| c.is_some_and(|&c| c == b'-' || c == b'/');
    let digit = |c: Option<&u8>| c.is_some_and(u8::is_ascii_digit);
    let after = &bytes[range.end..];
    if joiner(after.first()) && digit(after.get(1)) {
        return true;
    }
    let before = &bytes[..range.start];
    if joiner(before.last()) && digit(before.iter().rev().nth(1)) {
        return true;
    }
    let Some(rest) = after.strip_prefix(b" ") else {
        return false;
    };
    let token = rest
        .split(|c| c.is_ascii_whitespace() || matches!(c, b',' | b';' | b')' | b'.'))
        .next()
        .unwrap_or_default();
    let digits = token.iter().take_while(|c| c.is_ascii_digit()).count();
    let suffix = &token[digits..];
    digits > 0
        && !suffix.is_empty()
        && suffix
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && !NOT_MODEL_SUFFIXES.contains(&suffix)
}

/// Whether `line` has at least two letters and no lower-case one.
fn is_caps_line(line: &str) -> bool {
    if line.bytes().any(|b| b.is_ascii_lowercase()) {
        return false; // the common case, decided at the first lower-case letter
    }
    let mut letters = 0;
    for c in line.chars() {
        if c.is_lowercase() {
            return false;
        }
        letters += usize::from(c.is_alphabetic());
    }
    letters >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assertions(text: &str) -> Vec<(String, Assertion)> {
        let a = Analyzer::new(&Corpus::embedded().unwrap());
        a.analyze(text)
            .findings
            .into_iter()
            .map(|f| (text[f.range].to_string(), f.assertion))
            .collect()
    }

    /// Zero cost when unused: without `pattern` entries (the built-in corpus) no regular
    /// expression is searched; with one term pattern and one trigger pattern, each sentence
    /// with a mention searches both sets.
    #[test]
    fn no_pattern_search_without_patterns() {
        let searches = || crate::patterns::SEARCHES.with(|n| n.get());
        let corpus = Corpus::embedded().unwrap();
        let note = "Denies RP. Calcinosis of the elbow. h/o telangiectasia.";
        let before = searches();
        Analyzer::new(&corpus).analyze(note);
        assert_eq!(searches(), before);
        let mut files = Corpus::embedded_files();
        files.push(crate::corpus::SourceFile {
            name: "user/lexicon.toml".into(),
            text: "[[term]]\nname = \"qqzx\"\ncategory = \"site\"\npattern = 'qq\\d'\n".into(),
        });
        files.push(crate::corpus::SourceFile {
            name: "user/context.toml".into(),
            text: "[negated.pattern]\nforward = ['zz\\d']\n".into(),
        });
        let corpus = Corpus::from_files(files, Vec::new()).unwrap();
        Analyzer::new(&corpus).analyze(note);
        // The same note now searches the sets (the term set on each sentence, the
        // trigger set on each one with a mention).
        assert!(searches() > before);
    }

    #[test]
    fn cues_at_the_edges_of_a_sentence_reach_their_terms() {
        assert_eq!(
            assertions("?calcinosis at L elbow")[0].1,
            Assertion::Possible
        );
        assert_eq!(assertions("Raynaud's?")[0].1, Assertion::Possible);
        assert_eq!(assertions("No RP")[0].1, Assertion::Negated);
        assert_eq!(assertions("Sclerodactyly: none")[0].1, Assertion::Negated);
        // Far beyond the scope limit, a cue no longer applies.
        let far = format!("No {} RP", "word ".repeat(30));
        assert_eq!(assertions(&far)[0].1, Assertion::Present);
    }

    #[test]
    fn a_huge_note_does_not_keep_its_buffers() {
        let a = Analyzer::new(&Corpus::embedded().unwrap());
        let big = "Denies Raynaud's. ".repeat(100_000);
        assert_eq!(a.analyze(&big).findings.len(), 100_000);
        BUFFERS.with(|b| {
            let b = b.borrow();
            assert!(
                b.sentences.capacity() <= 1 << 16,
                "{}",
                b.sentences.capacity()
            );
            assert!(!b.scratch.is_big(1 << 16));
        });
        // The next note starts with fresh buffers and the same results.
        assert_eq!(a.analyze("Denies Raynaud's.").findings.len(), 1);
    }

    #[test]
    fn a_run_on_sentence_stays_linear_and_correct() {
        let chunk = "vital signs stable, denies dysphagia, reports Raynaud's; ";
        let text = chunk.repeat(2000);
        let found = assertions(&text);
        assert_eq!(found.len(), 4000);
        assert!(found.iter().step_by(2).all(|f| f.1 == Assertion::Negated));
        assert!(found
            .iter()
            .skip(1)
            .step_by(2)
            .all(|f| f.1 == Assertion::Present));
    }

    fn first(text: &str) -> Assertion {
        assertions(text)[0].1
    }

    // Regression tests for the rule bugs of issue 13, one per bug, named after it.

    #[test]
    fn verbs_do_not_end_a_hypothetical_scope() {
        assert_eq!(
            first("Return if she has worsening calcinosis"),
            Assertion::Hypothetical
        );
        assert_eq!(
            first("Call if the patient shows new digital ulcers"),
            Assertion::Hypothetical
        );
        // They still end negation.
        assert_eq!(
            assertions("Denies dysphagia, has Raynaud's")[1].1,
            Assertion::Present
        );
    }

    #[test]
    fn shorter_trigger_at_same_byte_is_tried_when_the_longest_fails_the_word_test() {
        // "if he" is a trigger and matches the start of "hemoglobin".
        assert_eq!(
            first("If hemoglobin stable, start treatment of calcinosis"),
            Assertion::Hypothetical
        );
        assert_eq!(
            first("If potassium stable, start treatment of calcinosis"),
            Assertion::Hypothetical
        );
    }

    #[test]
    fn a_longer_phrase_keeps_the_terminations_of_the_phrases_inside_it() {
        // "she has" is a verb termination and must still end the family scope as "she".
        assert_eq!(
            assertions("Mother with scleroderma, she has not had calcinosis")[1].1,
            Assertion::Negated
        );
        assert_eq!(
            assertions("Mother with scleroderma and she has not had calcinosis")[1].1,
            Assertion::Negated
        );
    }

    #[test]
    fn multi_word_triggers_at_the_edge_of_the_scope_window_apply() {
        let twelve = "word ".repeat(12);
        assert_eq!(
            first(&format!("No evidence of {twelve}calcinosis")),
            Assertion::Negated
        );
        assert_eq!(
            first(&format!("Without {twelve}calcinosis")),
            Assertion::Negated
        );
        let eleven = "word ".repeat(11);
        assert_eq!(
            first(&format!("Calcinosis {eleven}has been ruled out")),
            Assertion::Negated
        );
        // One word past the limit, neither applies.
        let thirteen = "word ".repeat(13);
        assert_eq!(
            first(&format!("No evidence of {thirteen}calcinosis")),
            Assertion::Present
        );
    }

    #[test]
    fn label_ranges_are_measured_on_the_text_as_written() {
        // U+212A KELVIN SIGN lower-cases to the one-byte "k"; U+0130 to three bytes.
        for value in ["NONE", "\u{212a}", "\u{130}", "Nİ", "none\u{212a}"] {
            let text = format!("Sclerodactyly: {value}, Raynaud's: none");
            let a = Analyzer::new(&Corpus::embedded().unwrap()).analyze(&text);
            for f in &a.findings {
                assert!(text.get(f.range.clone()).is_some());
                if let Some(t) = &f.trigger {
                    assert!(text.get(t.range.clone()).is_some(), "{value:?}: {t:?}");
                }
            }
            let raynaud = a.findings.last().unwrap();
            let cue = raynaud.trigger.as_ref().unwrap();
            assert_eq!(&text[cue.range.clone()], "none");
        }
        let text = "Sclerodactyly: NONE";
        let a = Analyzer::new(&Corpus::embedded().unwrap()).analyze(text);
        let cue = a.findings[0].trigger.as_ref().unwrap();
        assert_eq!(&text[cue.range.clone()], "NONE");
        // A user label "k": the Kelvin sign lower-cases to it, and its range is the sign's
        // three bytes, not one.
        let mut files: Vec<crate::corpus::SourceFile> = crate::corpus::EMBEDDED
            .iter()
            .map(|(n, t)| crate::corpus::SourceFile {
                name: n.to_string(),
                text: t.to_string(),
            })
            .collect();
        files.push(crate::corpus::SourceFile {
            name: "user/context.toml".into(),
            text: "[label]\nnegated = [\"k\"]\n".into(),
        });
        let corpus = Corpus::from_files(files, Vec::new()).unwrap();
        let text = "Sclerodactyly: \u{212a}, Raynaud's: yes";
        let a = Analyzer::new(&corpus).analyze(text);
        assert_eq!(a.findings[0].assertion, Assertion::Negated);
        let cue = a.findings[0].trigger.as_ref().unwrap();
        assert_eq!(&text[cue.range.clone()], "\u{212a}");
    }

    #[test]
    fn a_lone_cr_breaks_lines_for_sections_sentences_and_pieces() {
        let lf = "HPI: follow up\nFamily History:\nscleroderma\n\nExam: sclerodactyly\nDenies RP\nCalcinosis noted\n";
        let cr = lf.replace('\n', "\r");
        let crlf = lf.replace('\n', "\r\n");
        let want = assertions(lf);
        assert_eq!(
            want.iter().map(|f| f.1).collect::<Vec<_>>(),
            [
                Assertion::Family,
                Assertion::Present,
                Assertion::Negated,
                Assertion::Present
            ]
        );
        assert_eq!(assertions(&cr), want);
        assert_eq!(assertions(&crlf), want);
        let analyzer = Analyzer::new(&Corpus::embedded().unwrap());
        let mut cache = AnalysisCache::new();
        analyzer.reanalyze(&cr[..cr.len() / 2], &mut cache);
        assert_eq!(
            analyzer.reanalyze(&cr, &mut cache).findings,
            analyzer.analyze(&cr).findings
        );
    }

    #[test]
    fn ad_hoc_terms_are_normalised_like_note_text() {
        let corpus = Corpus::embedded().unwrap();
        let a = Analyzer::with_ad_hoc_terms(
            &corpus,
            &[
                "pericardial   effusion".into(),
                " pleural\teffusion ".into(),
            ],
        );
        let text = "No pericardial effusion. Small pleural\n  effusion.";
        let found: Vec<_> = a
            .analyze(text)
            .findings
            .into_iter()
            .map(|f| (&text[f.range], f.assertion))
            .collect();
        assert_eq!(
            found,
            [
                ("pericardial effusion", Assertion::Negated),
                ("pleural\n  effusion", Assertion::Present)
            ]
        );
    }

    #[test]
    fn product_codes_are_not_abbreviations() {
        let code = |s: &str, word: &str| {
            let at = s.find(word).unwrap();
            is_product_code(s, &(at..at + word.len()))
        };
        for s in [
            "an RP-45 stapler",
            "an RP/60 cartridge",
            "the 45-RP load",
            "an RP 45B stapler",
            "a DU 300X device",
            "an RP 60-4 reload",
        ] {
            assert!(code(s, if s.contains("DU") { "DU" } else { "RP" }), "{s}");
        }
        for s in [
            "RP 2 years",
            "RP 2x a week",
            "RP 3rd episode",
            "RP-like",
            "RP/DU",
            "RP 10yrs",
            "RP.",
            "RP",
        ] {
            assert!(!code(s, "RP"), "{s}");
        }
        // The analyser drops the code and keeps the term next to it.
        let found = assertions("History of RP, closed with the RP-45 reload. ACA-12 cassette.");
        assert_eq!(found, [("RP".to_string(), Assertion::Historical)]);
    }

    #[test]
    fn a_header_joined_into_a_line_ends_the_sentence_and_brings_its_section() {
        let got = assertions("Dysphagia.,PROCEDURE: , Consent from the parents.,FAMILY HISTORY: , Sister with SSc; PAST MEDICAL HISTORY: RP - SOCIAL HISTORY: telangiectasia");
        assert_eq!(
            got.iter().map(|f| f.1).collect::<Vec<_>>(),
            [
                Assertion::Present,
                Assertion::Family,
                Assertion::Historical,
                Assertion::Present
            ],
            "{got:?}"
        );
        // A label that is a term stays a label: "RP: none" after a comma.
        assert_eq!(
            assertions("Sclerodactyly, RP: none")[1].1,
            Assertion::Negated
        );
    }

    #[test]
    fn a_doubt_does_not_override_an_explicit_label_in_the_crest_summary() {
        let corpus = Corpus::embedded().unwrap();
        let a = Analyzer::new(&corpus);
        let text = "Telangiectasia: none.\nNot sure about telangiectasia on the lips.";
        let analysis = a.analyze(text);
        let got: Vec<_> = analysis.findings.iter().map(|f| f.assertion).collect();
        assert_eq!(got, [Assertion::Negated, Assertion::Possible]);
        assert!(analysis.crest.negated.contains(&Crest::T));
        assert!(analysis.crest.possible.is_empty());
        // Without the label, the doubt stands.
        let doubt = a.analyze("Not sure about telangiectasia on the lips.");
        assert!(doubt.crest.possible.contains(&Crest::T));
    }
}
