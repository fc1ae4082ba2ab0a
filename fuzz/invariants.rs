//! The invariants the fuzz targets assert, shared with `tests/fuzz_regressions.rs` (which
//! includes this file with `#[path]`), so that a replayed crash input is checked exactly as
//! the fuzzer checked it. Plain functions over the library; no fuzzing dependencies.

use std::ops::Range;

use calcinosis_ls::analysis::{Analysis, AnalysisCache, Analyzer};
use calcinosis_ls::Error;

/// The range is a well-formed slice of `text`: in order, in bounds, on char boundaries.
fn check_range(text: &str, r: &Range<usize>, what: &str) {
    assert!(r.start <= r.end, "{what} {r:?} is reversed in {text:?}");
    assert!(
        r.end <= text.len(),
        "{what} {r:?} ends past the text ({} bytes) in {text:?}",
        text.len()
    );
    assert!(
        text.is_char_boundary(r.start) && text.is_char_boundary(r.end),
        "{what} {r:?} is not on char boundaries in {text:?}"
    );
}

/// Every finding and trigger range of `analysis` is a valid slice of `text`; findings are
/// sorted by start and, unless `allow_overlap`, do not overlap.
pub fn check_analysis(text: &str, analysis: &Analysis, allow_overlap: bool) {
    for f in &analysis.findings {
        check_range(text, &f.range, "finding");
        if let Some(t) = &f.trigger {
            check_range(text, &t.range, "trigger");
        }
    }
    for w in analysis.findings.windows(2) {
        assert!(
            w[0].range.start <= w[1].range.start,
            "findings out of order in {text:?}: {:?} before {:?}",
            w[0].range,
            w[1].range
        );
        assert!(
            allow_overlap || w[0].range.end <= w[1].range.start,
            "findings overlap in {text:?}: {:?} and {:?}",
            w[0].range,
            w[1].range
        );
    }
}

/// Incremental re-analysis of `text`, with a cache primed by an earlier version (`text`
/// without `text[cut]`, `cut` snapped to char boundaries), finds exactly `whole`.
pub fn check_reanalysis(analyzer: &Analyzer, text: &str, cut: Range<usize>, whole: &Analysis) {
    let snap = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (a, b) = (snap(cut.start), snap(cut.end));
    let (a, b) = (a.min(b), a.max(b));
    let earlier = format!("{}{}", &text[..a], &text[b..]);
    let mut cache = AnalysisCache::new();
    analyzer.reanalyze(&earlier, &mut cache);
    let again = analyzer.reanalyze(text, &mut cache);
    assert_eq!(
        again.findings, whole.findings,
        "incremental re-analysis differs from a whole analysis of {text:?}"
    );
}

/// The error is a syntax error that displays as `file:line: message`, with `line` within
/// the lines of the file it names (`files`), or 1 for a file not given.
pub fn check_error(e: &Error, files: &[(&str, &str)]) {
    let Error::Syntax {
        file,
        line,
        message,
    } = e
    else {
        panic!("a parser returned a non-syntax error: {e:?}");
    };
    assert_eq!(e.to_string(), format!("{file}:{line}: {message}"));
    let lines = files
        .iter()
        .find(|(name, _)| name == file)
        .map_or(0, |(_, text)| text.lines().count());
    assert!(
        (1..=lines + 1).contains(line),
        "{file}:{line} is outside the file's {lines} lines: {message}"
    );
}
