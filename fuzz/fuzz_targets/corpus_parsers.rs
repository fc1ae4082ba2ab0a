//! The corpus parsers never panic on any UTF-8 text, and every error they return is a
//! `Syntax` error that displays as `file:line: message`, with 1 <= line <= lines + 1 of the
//! file it names.
//!
//! Input: one selector byte, then the text (invalid UTF-8 becomes U+FFFD). The text goes
//! through each parser on its own; the selector says how it also enters
//! `Corpus::from_files`: replacing one embedded file (0-3) or added beside them (4-7); the
//! selector's other bits are unused. (Building an `Analyzer` from each corpus that loads
//! was tried and dropped: it costs about a second per input in the instrumented build.)
#![no_main]

use calcinosis_ls::corpus::lexicon::Lexicon;
use calcinosis_ls::corpus::rules::{ContextRules, NoteStructure};
use calcinosis_ls::corpus::{statements, Corpus, SourceFile, EMBEDDED};
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)] // each target uses some of the checks
#[path = "../invariants.rs"]
mod invariants;
use invariants::check_error;

const NAMES: [&str; 4] = [
    "corpus/statements.md",
    "corpus/lexicon.toml",
    "corpus/context.toml",
    "corpus/note-structure.toml",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let text: &str = &text;
    let mut files: Vec<(&str, &str)> = NAMES.iter().map(|&n| (n, text)).collect();

    if let Err(e) = statements::parse(NAMES[0], text) {
        check_error(&e, &files);
    }
    if let Err(e) = Lexicon::parse(NAMES[1], text) {
        check_error(&e, &files);
    }
    if let Err(e) = ContextRules::default().extend(NAMES[2], text) {
        check_error(&e, &files);
    }
    if let Err(e) = NoteStructure::default().extend(NAMES[3], text) {
        check_error(&e, &files);
    }

    // Into a whole corpus: modes 0-3 replace an embedded file, 4-7 add a user file.
    let mode = usize::from(selector & 0x07);
    files = EMBEDDED.to_vec();
    const USER: [&str; 4] = [
        "user/notes.md",
        "user/lexicon.toml",
        "user/context.toml",
        "user/note-structure.toml",
    ];
    if mode < 4 {
        files[mode].1 = text;
    } else {
        files.push((USER[mode - 4], text));
    }
    let sources: Vec<SourceFile> = files
        .iter()
        .map(|&(name, text)| SourceFile {
            name: name.to_string(),
            text: text.to_string(),
        })
        .collect();
    if let Err(e) = Corpus::from_files(sources, Vec::new()) {
        // A missing kind of file is reported against its bare name at line 1.
        let mut known = files.clone();
        known.extend([
            ("lexicon.toml", ""),
            ("context.toml", ""),
            ("note-structure.toml", ""),
        ]);
        check_error(&e, &known);
    }
});
