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

#[allow(dead_code)] // each target uses some of the checks
#[path = "../invariants.rs"]
mod invariants;

use std::sync::LazyLock;

use calcinosis_ls::analysis::Analyzer;
use calcinosis_ls::corpus::Corpus;
use libfuzzer_sys::fuzz_target;

static ALLOW_OVERLAP: LazyLock<bool> =
    LazyLock::new(|| std::env::var_os("FUZZ_ALLOW_OVERLAP").is_some_and(|v| v == "1"));

static ANALYZER: LazyLock<Analyzer> =
    LazyLock::new(|| Analyzer::new(&Corpus::embedded().expect("embedded corpus loads")));

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let analysis = ANALYZER.analyze(&text);
    invariants::check_analysis(&text, &analysis, *ALLOW_OVERLAP);
    // The earlier version the cache saw: the note without a slice the first bytes choose.
    let at = |b: Option<&u8>| b.map_or(0, |&b| b as usize * text.len() / 255);
    invariants::check_reanalysis(
        &ANALYZER,
        &text,
        at(data.first())..at(data.get(1)),
        &analysis,
    );
});
