//! Incremental re-analysis: a note is cut into pieces at lines that start a sentence
//! whatever came before them, each piece is analysed on its own given the section it starts
//! in, and a piece seen before (same text, same starting section) reuses its old result.
//! A one-character edit then re-analyses one piece, not the note.
//!
//! Why this is exact: sentences never cross a cut (see
//! [`sentences::starts_sentence`](super::sentences::starts_sentence)), every finding depends
//! only on its sentence and its section, and the section state is carried from piece to
//! piece ([`OpenSection`]). Offsets are stored relative to the piece, and a section cause
//! that points at a header before the piece is stored as [`INHERITED_HEADER`] and resolved
//! when the pieces are put together, so that an edit above a piece does not invalidate it.
//! The tests check the result equals a whole-note analysis after random edits.

use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHasher};

use super::sections::OpenSection;
use super::sentences::starts_sentence;
use super::{Analyzer, CauseKind, Finding};

/// The range given to a section cause whose header lies before the piece being analysed.
pub(crate) const INHERITED_HEADER: Range<usize> = usize::MAX..usize::MAX;

/// The analysis of one piece of a note, in offsets relative to the piece.
#[derive(Debug)]
pub(crate) struct Piece {
    /// Findings in piece order.
    pub findings: Vec<Finding>,
    /// The section open at the end of the piece and its header (possibly inherited).
    pub exit: Option<(OpenSection, Range<usize>)>,
}

#[derive(Debug)]
struct Cached {
    entry: Option<OpenSection>,
    text: Box<str>,
    piece: Piece,
}

/// Analyses of the pieces of a document's latest version, for [`Analyzer::reanalyze`].
/// Keep one per open document. It holds a copy of the note's text (to check a hit
/// byte for byte, not trust a hash), so it costs about the note's size in memory; it only
/// keeps the pieces of the last version analysed.
#[derive(Debug, Default)]
pub struct AnalysisCache {
    analyzer: usize,
    pieces: FxHashMap<u64, Arc<Cached>>,
    reused: usize,
    analysed: usize,
}

impl AnalysisCache {
    /// An empty cache.
    pub fn new() -> AnalysisCache {
        AnalysisCache::default()
    }

    /// How many pieces the last analysis reused and how many it analysed afresh.
    pub fn last_run(&self) -> (usize, usize) {
        (self.reused, self.analysed)
    }

    /// Analyses `text` piece by piece with `analyzer`, reusing what it can; findings in
    /// note offsets and note order.
    pub(crate) fn analyze(&mut self, analyzer: &Analyzer, text: &str) -> Vec<Finding> {
        if self.analyzer != analyzer.id() {
            // A different lexicon or rule set: nothing cached is valid.
            self.pieces.clear();
            self.analyzer = analyzer.id();
        }
        let mut old = std::mem::take(&mut self.pieces);
        let mut next: FxHashMap<u64, Arc<Cached>> = FxHashMap::default();
        next.reserve(old.len());
        self.reused = 0;
        self.analysed = 0;
        let mut findings = Vec::new();
        let mut entry: Option<(OpenSection, Range<usize>)> = None;
        for range in pieces(text) {
            let piece_text = &text[range.clone()];
            let state = entry.as_ref().map(|(o, _)| *o);
            let key = key(state, piece_text);
            let same = |c: &Arc<Cached>| c.entry == state && *c.text == *piece_text;
            let cached = match next.get(&key).filter(|c| same(c)) {
                Some(c) => Some(c.clone()),
                None => old.remove(&key).filter(same),
            };
            let cached = match cached {
                Some(c) => {
                    self.reused += 1;
                    c
                }
                None => {
                    self.analysed += 1;
                    Arc::new(Cached {
                        entry: state,
                        text: piece_text.into(),
                        piece: analyzer.analyze_piece(piece_text, state),
                    })
                }
            };
            let base = range.start;
            let inherited = entry.as_ref().map(|(_, h)| h.clone());
            let place = |r: &Range<usize>| {
                if *r == INHERITED_HEADER {
                    // Only a piece that starts inside a section has inherited causes.
                    inherited.clone().unwrap_or(0..0)
                } else {
                    base + r.start..base + r.end
                }
            };
            findings.extend(cached.piece.findings.iter().map(|f| {
                let mut f = f.clone();
                f.range = place(&f.range);
                if let Some(v) = &mut f.value {
                    *v = base + v.start..base + v.end;
                }
                if let Some(t) = &mut f.trigger {
                    t.range = if t.kind == CauseKind::Section {
                        place(&t.range)
                    } else {
                        base + t.range.start..base + t.range.end
                    };
                }
                f
            }));
            entry = cached.piece.exit.as_ref().map(|(o, h)| (*o, place(h)));
            next.insert(key, cached);
        }
        self.pieces = next;
        findings
    }
}

fn key(entry: Option<OpenSection>, text: &str) -> u64 {
    let mut h = FxHasher::default();
    entry.hash(&mut h);
    text.hash(&mut h);
    h.finish()
}

/// Cuts `text` into pieces at every line that starts a sentence whatever came before it.
/// Every byte is in exactly one piece; pieces are in order and never empty.
fn pieces(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut start = 0;
    let mut line_start = 0;
    let mut after_blank = false;
    let mut lines = crate::text::lines_inclusive(text);
    std::iter::from_fn(move || loop {
        let Some(line) = lines.next() else {
            if start < text.len() {
                let r = start..text.len();
                start = text.len();
                return Some(r);
            }
            return None;
        };
        let content = line.trim_end_matches(['\n', '\r']);
        let cut = line_start > start && starts_sentence(content, after_blank);
        after_blank = content.trim().is_empty();
        let here = line_start;
        line_start += line.len();
        if cut {
            let r = start..here;
            start = here;
            return Some(r);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Corpus;

    fn pieces_of(text: &str) -> Vec<&str> {
        pieces(text).map(|r| &text[r]).collect()
    }

    #[test]
    fn cuts_at_lines_that_start_sentences() {
        assert_eq!(
            pieces_of("Denies RP and\ndysphagia.\nSclerodactyly.\n\nlower after blank\n- item\n"),
            [
                "Denies RP and\ndysphagia.\n",
                "Sclerodactyly.\n\n",
                "lower after blank\n",
                "- item\n"
            ]
        );
        assert!(pieces_of("").is_empty());
        assert_eq!(pieces_of("no newline"), ["no newline"]);
    }

    /// A deterministic note generator's worth of variety: sections of every kind, blank
    /// lines before content, wrapped sentences, lists, non-ASCII.
    const NOTE: &str = "HPI: 45F with calcinosis.\nDenies RP and\ndysphagia.\n\nFamily History:\n\nmother with scleroderma\nsister: telangiectasia\n\nPMH: CREST syndrome.\nSclerodactyly noted.\n\n## Family history\nbrother had Raynaud's.\n\nSkin: telangiectasias.\n- no calcinosis\n- ?dysphagia é 😀\nAssessment: Raynaud’s phenomenon, possible esophageal dysmotility.\n";

    #[test]
    fn reanalysis_equals_analysis_after_edits() {
        let corpus = Corpus::embedded().unwrap();
        let a = Analyzer::new(&corpus);
        let mut cache = AnalysisCache::new();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        let inserts = [
            "\n",
            "\n\n",
            "No ",
            "Family History:\n",
            "## Plan\n",
            "x",
            "RP ",
            ". ",
            "- ",
            "é",
            "PMH:",
            "denies ",
        ];
        let mut text = NOTE.to_string();
        for _ in 0..400 {
            let mut at = next(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            if next(3) == 0 && at < text.len() {
                let mut end = (at + 1 + next(12)).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(at..end, "");
            } else {
                text.insert_str(at, inserts[next(inserts.len())]);
            }
            let whole = a.analyze(&text);
            let incremental = a.reanalyze(&text, &mut cache);
            assert_eq!(incremental.findings, whole.findings, "note: {text:?}");
            assert_eq!(incremental.crest, whole.crest);
        }
    }

    #[test]
    fn an_edit_reanalyses_only_its_piece() {
        let corpus = Corpus::embedded().unwrap();
        let a = Analyzer::new(&corpus);
        let mut cache = AnalysisCache::new();
        let text = NOTE.repeat(20);
        a.reanalyze(&text, &mut cache);
        let (reused, analysed) = cache.last_run();
        assert_eq!(reused + analysed, pieces(&text).count());
        // The note repeats itself: the first copy is analysed, then only the pieces whose
        // starting section differs (the first copy starts in none).
        assert!(analysed < 2 * pieces(NOTE).count(), "{analysed}");
        // One character inserted in the middle of a line: one piece changes.
        let mid = text.len() / 2;
        let at = text[mid..].find("calcinosis").unwrap() + mid;
        let mut edited = text.clone();
        edited.insert(at, 'x');
        let r = a.reanalyze(&edited, &mut cache);
        assert_eq!(cache.last_run().1, 1);
        assert_eq!(r.findings, a.analyze(&edited).findings);
        // A header inserted above a section's content changes what follows it, and the
        // pieces it changes are analysed again.
        let family = format!("Family History:\n{text}");
        let r = a.reanalyze(&family, &mut cache);
        assert_eq!(r.findings, a.analyze(&family).findings);
    }
}
