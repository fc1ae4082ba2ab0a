//! Note analysis never panics, and every range it reports is a well-formed slice of the note:
//! in bounds, on char boundaries, start <= end; findings are sorted by start and do not
//! overlap; and incremental re-analysis (`Analyzer::reanalyze` with a cache primed by an
//! earlier version: the note with a slice cut out, chosen by the input's first two bytes)
//! finds exactly what a whole analysis finds. Input: any bytes, read as UTF-8 (invalid
//! sequences become U+FFFD).
//!
//! Set `FUZZ_ALLOW_OVERLAP=1` to skip the overlap check while a known overlap bug is open,
//! so that a run can get past it to other bugs.
#![no_main]

use std::ops::Range;
use std::sync::LazyLock;

use calcinosis_ls::analysis::{AnalysisCache, Analyzer};
use calcinosis_ls::corpus::Corpus;
use libfuzzer_sys::fuzz_target;

static ALLOW_OVERLAP: LazyLock<bool> =
    LazyLock::new(|| std::env::var_os("FUZZ_ALLOW_OVERLAP").is_some_and(|v| v == "1"));

static ANALYZER: LazyLock<Analyzer> =
    LazyLock::new(|| Analyzer::new(&Corpus::embedded().expect("embedded corpus loads")));

fn check_range(text: &str, r: &Range<usize>, what: &str) {
    assert!(r.start <= r.end, "{what} {r:?} is reversed");
    assert!(
        r.end <= text.len(),
        "{what} {r:?} ends past the text ({} bytes)",
        text.len()
    );
    assert!(
        text.is_char_boundary(r.start) && text.is_char_boundary(r.end),
        "{what} {r:?} is not on char boundaries"
    );
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let analysis = ANALYZER.analyze(&text);
    for f in &analysis.findings {
        check_range(&text, &f.range, "finding");
        if let Some(t) = &f.trigger {
            check_range(&text, &t.range, "trigger");
        }
    }
    for w in analysis.findings.windows(2) {
        assert!(
            w[0].range.start <= w[1].range.start,
            "findings out of order: {:?} before {:?}",
            w[0].range,
            w[1].range
        );
        assert!(
            *ALLOW_OVERLAP || w[0].range.end <= w[1].range.start,
            "findings overlap: {:?} and {:?}",
            w[0].range,
            w[1].range
        );
    }
    let at = |b: Option<&u8>| {
        let mut i = b.map_or(0, |&b| b as usize * text.len() / 255);
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (a, b) = (at(data.first()), at(data.get(1)));
    let (a, b) = (a.min(b), a.max(b));
    let earlier = format!("{}{}", &text[..a], &text[b..]);
    let mut cache = AnalysisCache::new();
    ANALYZER.reanalyze(&earlier, &mut cache);
    let again = ANALYZER.reanalyze(&text, &mut cache);
    assert_eq!(
        again.findings, analysis.findings,
        "incremental re-analysis differs from a whole analysis"
    );
});
