//! Inputs found by the fuzz targets in `fuzz/` (see `fuzz/README.md`), replayed through the
//! same library calls with the same invariants, so the suite keeps covering them without a
//! fuzzer.
//!
//! The `analyze_*` tests marked "crash" below are minimised crash inputs: they fail until
//! the bug they name is fixed. Everything else passed when it was added.

#[path = "../fuzz/invariants.rs"]
mod invariants;

use std::sync::OnceLock;

use calcinosis_ls::analysis::{Analysis, Analyzer};
use calcinosis_ls::corpus::lexicon::Lexicon;
use calcinosis_ls::corpus::rules::{ContextRules, NoteStructure};
use calcinosis_ls::corpus::{statements, Corpus, SourceFile, EMBEDDED};
use calcinosis_ls::document::{Document, Encoding, Position};
use invariants::check_error;

// ---------------------------------------------------------------------------------------
// Note analysis (fuzz target `analyze`)
// ---------------------------------------------------------------------------------------

fn analyzer() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(|| Analyzer::new(&Corpus::embedded().expect("embedded corpus loads")))
}

/// Analyses `bytes` (read as UTF-8, lossily, like the fuzz target) and checks it as the
/// fuzz target does: every range a valid slice of the note, findings sorted and not
/// overlapping, and incremental re-analysis (primed with the note minus its first half)
/// finding the same.
fn check_note(bytes: &[u8]) -> Analysis {
    let text = String::from_utf8_lossy(bytes);
    let analysis = analyzer().analyze(&text);
    invariants::check_analysis(&text, &analysis, false);
    invariants::check_reanalysis(analyzer(), &text, 0..text.len() / 2, &analysis);
    analysis
}

/// Crash: findings overlap, 0..19 (a misspelling of the two-word form "diffuse
/// scleroderma") and 8..19 (the exact term "scleroderma"). The misspelling pass checks
/// only the misspelt first word against exact matches, then extends the range over the
/// following words (src/matcher/fuzzy.rs, `find_misspellings`).
#[test]
fn analyze_multiword_misspelling_does_not_overlap_exact_match() {
    check_note(b"djffuse scleroderma");
}

/// Crash: panic at src/analysis/sections.rs:70 "start byte index 2 is not a char boundary;
/// it is inside '\u{3000}' (bytes 0..3)": `header.start.saturating_sub(1)` assumes the byte
/// before a header is a one-byte character, but a header line may be indented with any
/// Unicode white space.
#[test]
fn analyze_label_header_after_multibyte_space() {
    check_note("\u{3000}Family:".as_bytes());
    for space in ['\u{a0}', '\u{2003}', '\u{3000}'] {
        check_note(format!("Denies RP.\n{space}Family History: mother with SSc\n").as_bytes());
        check_note(format!("{space}FAMILY HISTORY\nscleroderma\n").as_bytes());
    }
}

/// Crash: same panic (src/analysis/sections.rs:70, "start byte index 4 is not a char
/// boundary; it is inside '\u{2003}' (bytes 2..5)"), through a Markdown heading whose title
/// follows a multi-byte space.
#[test]
fn analyze_markdown_heading_after_multibyte_space() {
    check_note("# \u{2003}P".as_bytes());
    check_note("## \u{a0}Family History\nRaynaud's\n".as_bytes());
}

/// Crash: panic at src/analysis/sentences.rs:122 "start byte index 1 is not a char
/// boundary; it is inside '\u{2028}' (bytes 0..3)": `is_abbreviation` takes the word after
/// the last white space as `rfind(..) + 1`, which is inside a multi-byte space.
#[test]
fn analyze_period_after_multibyte_space() {
    check_note("\u{2028}.".as_bytes());
    for space in ['\u{a0}', '\u{2003}', '\u{3000}'] {
        check_note(format!("Seen by{space}Dr. Smith. Denies{space}RP. No dysphagia.").as_bytes());
    }
}

/// Fuzzer-generated notes that pass: runs of lone CRs, NULs and invalid UTF-8 (read as
/// U+FFFD) inside and between terms, plus hand-written line-ending and Unicode variants.
#[test]
fn analyze_odd_line_endings_and_unicode() {
    check_note(b"Brother with dhimselfscleroderma, deceas\r\x00 fngiectasias.\nHistory of digital ulcers, calcinosis, and ac\x9eT\x00\x00\x00\x00\x00\x00ro-osteolysis.\n\x96\x99ication on the ftis and RayWEATHERimprose.\n");
    check_note(b"Rheumatology Clinic Rheumatol\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\rstory\x9eof physical exa?m!!!di\x01\x05\x9f\xb6sm. MatMonit\x91\x8d\xdf\x98or\xeask\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\rM\r\r\x8d\r\r\xf3\xf2\xf2\xf2\xf2\x99\x96\x9cadion o\xeask\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\rstory\x9eof physical exa?m!!!di\x01\x05\x9f\xb6sm. MatMonit\x91\x8d\xdf\x98or\xeask\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\rM\r\r\x8d\r\r\xf3\xf2\xf2\xf2\xf2\x99\x96\x9cadion on the film.\nMon\x90tor for gidital ulcers, skin ulceration and secondary infection.\nFamily hoistf");
    // CR-only line endings: the findings are still found, and point into the note.
    let cr = "HPI: Denies Raynaud\u{2019}s phenomenon.\rFamily History: mother with SSc\r\rPlan: rule out calcinosis cutis?\r";
    let a = check_note(cr.as_bytes());
    assert!(!a.findings.is_empty(), "no findings in {cr:?}");
    check_note(b"HPI: Denies Raynaud's phenomenon.\r\nFamily History: mother with SSc\r\n\r\n## Plan\r\nRule out calcinosis cutis?\r\nFAMILY HISTORY\r\nnone\r\n");
    check_note("sclerodactyly\u{1f600}telangiectasia \u{1f600}calcinosis\u{301}. Reynaud\u{2019}s \u{fffd}".as_bytes());
    check_note(b"");
    check_note(b"\r\n\r\r\n\n");
}

// ---------------------------------------------------------------------------------------
// User labels and case folding (issue 13): analysis and `check` output
// ---------------------------------------------------------------------------------------

/// Label values whose lower case has another length than the value as written: KELVIN SIGN
/// (3 bytes → "k", 1), ANGSTROM SIGN (3 → "å", 2), OHM SIGN (3 → "ω", 2), capital dotted I
/// (2 → "i̇", 3), capital sharp S (3 → "ß", 2), and a ligature that has no lower case.
const FOLDING_LABELS: &str = "[label]\nnegated = [\"k\", \"\u{e5}\", \"\u{3c9}\", \"i\u{307}\", \"\u{df}\"]\npresent = [\"\u{fb01}\", \"\u{212a}\u{212a}\"]\n";

/// The values as written in notes, the assertion their label gives, and the cue expected
/// (the value as written, or its first word).
const FOLDING_VALUES: [(&str, &str, &str); 8] = [
    ("\u{212a}", "negated", "\u{212a}"),
    ("\u{212b}", "negated", "\u{212b}"),
    ("\u{2126}", "negated", "\u{2126}"),
    ("\u{130}", "negated", "\u{130}"),
    ("\u{1e9e}", "negated", "\u{1e9e}"),
    ("\u{fb01}", "present", "\u{fb01}"),
    ("K", "negated", "K"),
    ("\u{212a}\u{212a} and more", "present", "\u{212a}\u{212a}"),
];

/// Notes with each value after a label, in a few surroundings: (note, assertion, cue).
fn folding_notes() -> Vec<(String, &'static str, &'static str)> {
    let mut notes = Vec::new();
    for (value, want, cue) in FOLDING_VALUES {
        notes.push((format!("Sclerodactyly: {value}"), want, cue));
        notes.push((
            format!("Sclerodactyly: {value}, Raynaud's: none"),
            want,
            cue,
        ));
        notes.push((
            format!("\u{130}\u{212a} Sclerodactyly:\t{value}\r\u{1e9e}"),
            want,
            cue,
        ));
    }
    notes
}

fn user_label_corpus() -> Corpus {
    let mut files: Vec<SourceFile> = Corpus::embedded_files();
    files.push(SourceFile {
        name: "user/context.toml".into(),
        text: FOLDING_LABELS.into(),
    });
    Corpus::from_files(files, Vec::new()).expect("user labels load")
}

/// Every label shape, through the analysis: valid ranges, and the label value found as
/// written (its whole extent, in the note's own bytes).
#[test]
fn analyze_user_labels_with_case_folding_shapes() {
    let analyzer = Analyzer::new(&user_label_corpus());
    for (note, want, cue) in folding_notes() {
        let analysis = analyzer.analyze(&note);
        invariants::check_analysis(&note, &analysis, false);
        invariants::check_reanalysis(&analyzer, &note, 0..note.len() / 2, &analysis);
        let f = analysis
            .findings
            .first()
            .unwrap_or_else(|| panic!("no finding in {note:?}"));
        assert_eq!(f.assertion.as_str(), want, "{note:?}");
        let range = f.trigger.as_ref().expect("a label cause").range.clone();
        assert_eq!(&note[range], cue, "{note:?}");
    }
}

/// The same shapes through `check` (text and JSON output) with the labels in a user corpus:
/// it must not panic, and every range it prints is the note's own text.
#[test]
fn check_output_with_user_labels_and_case_folding_shapes() {
    let dir = std::env::temp_dir().join(format!("calcinosis-ls-folding-{}", std::process::id()));
    let corpus = dir.join("corpus");
    std::fs::create_dir_all(&corpus).expect("temp dir");
    std::fs::write(corpus.join("context.toml"), FOLDING_LABELS).expect("user labels");
    let notes = folding_notes();
    let mut paths = Vec::new();
    for (i, (note, _, _)) in notes.iter().enumerate() {
        let p = dir.join(format!("note{i}.txt"));
        std::fs::write(&p, note).expect("note");
        paths.push(p);
    }
    for format in ["text", "json"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_calcinosis-ls"))
            .arg("check")
            .arg("--corpus")
            .arg(&corpus)
            .args(["--format", format])
            .args(&paths)
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "check --format {format}: {stderr}");
        assert!(!stderr.contains("panick"), "{stderr}");
        if format == "json" {
            let reports: serde_json::Value =
                serde_json::from_slice(&out.stdout).expect("JSON output");
            let reports = reports.as_array().expect("one report per note");
            assert_eq!(reports.len(), notes.len());
            for (report, (note, want, cue)) in reports.iter().zip(&notes) {
                let finding = &report["findings"][0];
                assert_eq!(finding["assertion"], *want, "{note:?}: {report}");
                assert_eq!(finding["trigger"], *cue, "{note:?}: {report}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

// ---------------------------------------------------------------------------------------
// Documents (fuzz target `document_edits`)
// ---------------------------------------------------------------------------------------

const ENCODINGS: [Encoding; 3] = [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32];

/// `offset(position(o)) == o` for every char boundary `o` that is not between "\r" and "\n"
/// (no position can address that point).
fn assert_round_trips(doc: &Document) {
    let text = doc.text();
    let b = text.as_bytes();
    for o in 0..=text.len() {
        if !text.is_char_boundary(o) || (o > 0 && b[o - 1] == b'\r' && b.get(o) == Some(&b'\n')) {
            continue;
        }
        for enc in ENCODINGS {
            let p = doc.position(o, enc);
            assert_eq!(
                doc.offset(p, enc),
                Some(o),
                "offset(position({o}) = {p:?}, {enc:?}) in {text:?}"
            );
        }
    }
}

fn pos(line: u32, character: u32) -> Position {
    Position::new(line, character)
}

#[test]
fn document_positions_inside_surrogate_pairs() {
    let mut doc = Document::new("a\u{1f600}b\u{e9}\u{4e2d}".into());
    assert_round_trips(&doc);
    // UTF-16: the emoji is units 1..3; unit 2 is inside it and moves to its start.
    assert_eq!(doc.offset(pos(0, 2), Encoding::Utf16), Some(1));
    assert_eq!(doc.offset(pos(0, 3), Encoding::Utf16), Some(5));
    // UTF-8: bytes 2, 3, 4 are inside the emoji, 7 is inside the e-acute.
    for c in 2..5 {
        assert_eq!(doc.offset(pos(0, c), Encoding::Utf8), Some(1));
    }
    assert_eq!(doc.offset(pos(0, 7), Encoding::Utf8), Some(6));
    assert_eq!(doc.offset(pos(0, 2), Encoding::Utf32), Some(5));
    // Positions inside non-ASCII characters, as a fuzzer produced: both ends move back.
    let replaced = doc
        .apply(Some((pos(0, 2), pos(0, 5))), "X", Encoding::Utf16)
        .unwrap();
    assert_eq!(replaced, 1..8);
    assert_eq!(doc.text(), "aX\u{4e2d}");
    assert_round_trips(&doc);
}

#[test]
fn document_cr_only_lines() {
    let doc = Document::new("one\rtwo\r\rthree".into());
    assert_eq!(doc.line_count(), 4);
    assert_eq!(doc.offset(pos(1, 0), Encoding::Utf16), Some(4));
    assert_eq!(doc.offset(pos(1, 99), Encoding::Utf16), Some(7));
    assert_eq!(doc.offset(pos(2, 5), Encoding::Utf16), Some(8));
    assert_eq!(doc.offset(pos(3, 5), Encoding::Utf16), Some(14));
    assert_eq!(doc.offset(pos(4, 0), Encoding::Utf16), None);
    assert_eq!(doc.offset_clamped(pos(4, 0), Encoding::Utf16), 14);
    assert_eq!(doc.position(9, Encoding::Utf16), pos(3, 0));
    assert_round_trips(&doc);
}

#[test]
fn document_edits_that_join_or_split_crlf() {
    // A "\n" typed after a lone "\r" joins them into one line ending.
    let mut doc = Document::new("a\rb".into());
    doc.apply(Some((pos(1, 0), pos(1, 0))), "\n", Encoding::Utf16)
        .unwrap();
    assert_eq!((doc.text(), doc.line_count()), ("a\r\nb", 2));
    assert_round_trips(&doc);
    // A "\r" inserted at the start of line 1 (after the "\n") starts a new line.
    doc.apply(Some((pos(1, 0), pos(1, 0))), "\r", Encoding::Utf8)
        .unwrap();
    assert_eq!((doc.text(), doc.line_count()), ("a\r\n\rb", 3));
    assert_round_trips(&doc);
    // Deleting what separates a "\r" from a "\n" joins two line endings into one.
    let mut doc = Document::new("a\rb\nc".into());
    doc.apply(Some((pos(1, 0), pos(1, 1))), "", Encoding::Utf32)
        .unwrap();
    assert_eq!((doc.text(), doc.line_count()), ("a\r\nc", 2));
    assert_round_trips(&doc);
    // A fuzzer's sequence: delete from inside the emoji (UTF-8 column 1) to line 1,
    // which is empty, so the end clamps to its start.
    let mut doc = Document::new("\u{1f600}\r\r\r\nv\u{4e2d}\n".into());
    let replaced = doc
        .apply(Some((pos(0, 1), pos(1, 1))), "", Encoding::Utf8)
        .unwrap();
    assert_eq!(replaced, 0..5);
    assert_eq!(doc.text(), "\r\r\nv\u{4e2d}\n");
    assert_round_trips(&doc);
}

#[test]
fn document_ranges_past_the_end() {
    // Reversed positions are rejected even when both lines are past the end.
    let mut doc = Document::new("\0\0\0".into());
    assert!(doc
        .apply(
            Some((pos(3, 3_183_328_701), pos(3, 1))),
            "\r\r",
            Encoding::Utf8
        )
        .is_err());
    assert!(doc
        .apply(Some((pos(48_454, 0), pos(0, 0))), "", Encoding::Utf8)
        .is_err());
    assert_eq!(doc.text(), "\0\0\0");
    // Ordered ranges past the end clamp to the end of the document.
    let replaced = doc
        .apply(
            Some((pos(7, u32::MAX), pos(u32::MAX, 0))),
            "\u{1f600}",
            Encoding::Utf16,
        )
        .unwrap();
    assert_eq!(replaced, 3..3);
    assert_eq!(doc.text(), "\0\0\0\u{1f600}");
    assert_round_trips(&doc);
}

// ---------------------------------------------------------------------------------------
// Corpus parsers (fuzz target `corpus_parsers`)
// ---------------------------------------------------------------------------------------

/// Runs every parser on `text`; returns how many of them refused it.
fn check_parsers(text: &str) -> usize {
    let files = [
        ("s.md", text),
        ("lexicon.toml", text),
        ("context.toml", text),
        ("note-structure.toml", text),
    ];
    let results = [
        statements::parse("s.md", text).map(|_| ()),
        Lexicon::parse("lexicon.toml", text).map(|_| ()),
        ContextRules::default().extend("context.toml", text),
        NoteStructure::default().extend("note-structure.toml", text),
    ];
    let mut refused = 0;
    for r in results {
        if let Err(e) = r {
            check_error(&e, &files);
            refused += 1;
        }
    }
    refused
}

#[test]
fn parser_errors_name_a_line_in_the_file() {
    // Accepted by every parser: nothing to report.
    assert_eq!(check_parsers(""), 0);
    let inputs = [
        "# A\n- fine [1]\n- bad [1, x]",
        "# A\r- x [1, 4]\r- y\r",
        "text first\r\n",
        "# A\n\n  - deeper than its list\n",
        "# A\n-",
        "#\u{3000}A\n- x\n",
        "# A\n### C\n",
        "<!-- never closed\n# A\n",
        "# A\n- [2]\n\n\n",
        "[[term]]\nname = \"x",
        "[[term]]\nname = \"x\"\n",
        "[[term]]\r\nname = \"\"\r\ncategory = \"disease\"\r\n",
        "[[term]]\nname = 'a'\ncategory = 'site'\ncrest = 'C'\n",
        "\u{feff}[[term]]",
        "[fuzzy]\nignore = [\"a\",\n",
        "[scope]\nmax_words = 0\n",
        "[negated]\nforward = [1]\n",
        "x = \"\r\"",
        "a = 1\r\rb = \u{1f600}",
        "[[section]]\nname = \"x\"\neffect = \"kin\"\nheaders = []\n",
        "[[section]]\nname = 'x'\neffect = 'kin'\nheaders = []\n",
        "[sentences]\nabbreviations = \"dr\"\n\n",
    ];
    for text in inputs {
        let refused = check_parsers(text);
        assert!(refused >= 1, "every parser accepted {text:?}");
    }
}

#[test]
fn corpus_errors_name_a_line_in_the_file() {
    let cases: [(Option<usize>, &str, &str); 7] = [
        // Replacing an embedded file with a broken one.
        (Some(0), "", "# A\n- bad [x]\n"),
        (
            Some(1),
            "",
            "[[term]]\nname = \"morphea\"\ncategory = \"nope\"\n",
        ),
        (Some(2), "", "[scope]\nmax_words = 0"),
        (
            Some(3),
            "",
            "[[section]]\nname = \"x\"\neffect = \"kin\"\nheaders = []\n",
        ),
        // A user file beside the embedded ones.
        (
            None,
            "user/lexicon.toml",
            "\n\n[[term]]\nname = \"calcinosis\"\ncategory = \"disease\"\n",
        ),
        (None, "user/notes.md", "# A\r\n\r\n  - x\r\n"),
        (None, "user/context.toml", "[negated]\nforward = \"no\"\n"),
    ];
    for (replace, name, text) in cases {
        let mut files: Vec<(&str, &str)> = EMBEDDED.to_vec();
        match replace {
            Some(i) => files[i].1 = text,
            None => files.push((name, text)),
        }
        let sources = files
            .iter()
            .map(|&(name, text)| SourceFile {
                name: name.to_string(),
                text: text.to_string(),
            })
            .collect();
        match Corpus::from_files(sources, Vec::new()) {
            Ok(_) => panic!("{text:?} as {replace:?}/{name} was accepted"),
            Err(e) => check_error(&e, &files),
        }
    }
    // Missing kinds of file are reported at line 1 of their bare name.
    let only_statements = vec![SourceFile {
        name: "x.md".into(),
        text: "# A\n- x\n".into(),
    }];
    let e = Corpus::from_files(only_statements, Vec::new()).unwrap_err();
    check_error(&e, &[("lexicon.toml", "")]);
    let e = Corpus::from_files(Vec::new(), Vec::new()).unwrap_err();
    check_error(&e, &[]);
}
