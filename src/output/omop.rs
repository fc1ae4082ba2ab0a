//! OMOP CDM v5.4 `NOTE_NLP` rows as CSV (`check --format omop`): a header, then one row per
//! finding, with exactly the table's columns in the table's order, ready for PostgreSQL's
//! `COPY note_nlp FROM … (FORMAT csv, HEADER true)`.
//!
//! The columns, as this module fills them (README "Batch" documents them for users):
//!
//! | column | value |
//! | --- | --- |
//! | `note_nlp_id` | 1, 2, 3… across one run's output ([`RowNumbers`]; the v5.4 DDL makes it a 32-bit key) |
//! | `note_id` | the note's id ([`note_id_from_json`], [`note_id_from_file`]): an integer |
//! | `section_concept_id` | empty (NULL): sections have no OMOP concept here |
//! | `snippet` | the mention with up to [`SNIPPET_CONTEXT_CHARS`] characters either side, line breaks and control characters as spaces, at most 250 characters |
//! | `offset` | the mention's start, in characters from the note's start |
//! | `lexical_variant` | the mention as written (control characters as spaces), at most 250 characters |
//! | `note_nlp_concept_id` | from `--omop-concepts`: the SNOMED CT code's concept, else the ICD-10-CM code's; 0 ("no matching concept") otherwise |
//! | `note_nlp_source_concept_id` | the ICD-10-CM code's concept from `--omop-concepts`, else 0 |
//! | `nlp_system` | `calcinosis-ls <version>` |
//! | `nlp_date`, `nlp_datetime` | when the run started (UTC) |
//! | `term_exists` | `N` for negated, hypothetical and family mentions (OHDSI: the patient does not have it, or it is someone else's); `Y` for present, possible and historical |
//! | `term_temporal` | `past` for historical mentions, `present` otherwise |
//! | `term_modifiers` | `key=value` pairs joined by `;` (see [`write_modifiers`]) |
//!
//! Concept ids come only from the user's file: Athena's vocabularies cannot be shipped, and
//! an id is never made up.

use std::io::Write;

use rustc_hash::FxHashMap;

use super::{at_most_chars, CharCounter};
use crate::report::FindingReport;

/// The header line: `NOTE_NLP`'s columns in CDM v5.4 order.
pub const HEADER: &str = "note_nlp_id,note_id,section_concept_id,snippet,offset,\
lexical_variant,note_nlp_concept_id,note_nlp_source_concept_id,nlp_system,nlp_date,\
nlp_datetime,term_exists,term_temporal,term_modifiers\n";

/// Characters of note text kept either side of a mention in `snippet`.
pub const SNIPPET_CONTEXT_CHARS: usize = 60;

/// `snippet`'s and `lexical_variant`'s width in the v5.4 DDL (`varchar(250)`).
pub const TEXT_COLUMN_CHARS: usize = 250;

/// `term_modifiers`' width in the v5.4 DDL (`varchar(2000)`).
pub const MODIFIERS_CHARS: usize = 2000;

/// Characters of a trigger or term name kept in `term_modifiers`: with every character
/// escaped (three each), the pairs stay well inside [`MODIFIERS_CHARS`].
pub const MODIFIER_VALUE_CHARS: usize = 200;

/// The OMOP vocabulary ids (Athena's `vocabulary_id`) of the two code systems.
pub const ICD10CM_VOCABULARY: &str = "ICD10CM";
/// See [`ICD10CM_VOCABULARY`].
pub const SNOMED_VOCABULARY: &str = "SNOMED";

/// The most bytes `--omop-concepts` may hold: a mapping for every code the lexicon has
/// fits in kilobytes; a whole Athena CONCEPT file is not what it is for.
pub const MAX_CONCEPTS_FILE_BYTES: u64 = 64 << 20;

/// Codes mapped to OMOP concept ids, from the user's CSV (`vocabulary,code,concept_id`).
#[derive(Debug, Clone, Default)]
pub struct ConceptMap {
    /// Concept ids by vocabulary, then code: looked up without building a key (this is
    /// done twice per row).
    ids: FxHashMap<String, FxHashMap<String, i32>>,
}

impl ConceptMap {
    /// Parses `vocabulary,code,concept_id` lines (a header line is allowed first, blank
    /// lines are skipped). Vocabulary names are Athena's (`ICD10CM`, `SNOMED`), in any case.
    /// Errors name the line and what to fix, never quoting it.
    pub fn parse(csv: &str) -> Result<ConceptMap, String> {
        let mut ids: FxHashMap<String, FxHashMap<String, i32>> = FxHashMap::default();
        for (i, line) in csv.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line
                .split(',')
                .map(|f| f.trim().trim_matches('"'))
                .collect();
            let n = i + 1;
            if fields.len() != 3 {
                return Err(format!(
                    "line {n}: expected 3 comma-separated fields (vocabulary,code,concept_id), \
                     found {}",
                    fields.len()
                ));
            }
            let Ok(id) = fields[2].parse::<i32>() else {
                if n == 1 {
                    continue; // the header
                }
                return Err(format!(
                    "line {n}: concept_id is not an integer (OMOP concept ids are 32-bit integers)"
                ));
            };
            ids.entry(fields[0].to_ascii_uppercase())
                .or_default()
                .insert(fields[1].to_string(), id);
        }
        Ok(ConceptMap { ids })
    }

    /// The concept id of `code` in `vocabulary`, if the file maps it.
    pub fn get(&self, vocabulary: &str, code: &str) -> Option<i32> {
        self.ids.get(vocabulary)?.get(code).copied()
    }

    /// How many codes are mapped.
    pub fn len(&self) -> usize {
        self.ids.values().map(FxHashMap::len).sum()
    }

    /// Whether no code is mapped.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// What is the same for every row of a run.
#[derive(Debug, Clone)]
pub struct RunFields {
    /// `nlp_system`: `calcinosis-ls <version>`.
    pub nlp_system: String,
    /// `nlp_date`: `YYYY-MM-DD`.
    pub nlp_date: String,
    /// `nlp_datetime`: `YYYY-MM-DD HH:MM:SS` (UTC).
    pub nlp_datetime: String,
    /// Codes to concept ids.
    pub concepts: ConceptMap,
}

impl RunFields {
    /// The fields for a run starting now.
    pub fn now(concepts: ConceptMap) -> RunFields {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let (y, mo, d, h, mi, s) = super::utc_civil(secs);
        RunFields {
            nlp_system: format!("calcinosis-ls {}", env!("CARGO_PKG_VERSION")),
            nlp_date: format!("{y:04}-{mo:02}-{d:02}"),
            nlp_datetime: format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"),
            concepts,
        }
    }
}

/// A note id for `note_id` from a JSON Lines record's id field (its JSON text): an integer,
/// or a string holding one, within `note_id`'s 32 bits. `None` otherwise.
pub fn note_id_from_json(raw: &str) -> Option<i32> {
    let raw = raw.trim();
    let digits = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(raw);
    digits.parse::<i32>().ok()
}

/// A note id for `note_id` from a file name: its stem, when that is an integer
/// (`notes/1234.txt` → 1234). `None` otherwise.
pub fn note_id_from_file(name: &str) -> Option<i32> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = base.split('.').next().unwrap_or(base);
    stem.parse::<i32>().ok()
}

/// What to tell the user when a note's id is not an integer (the note is named by the
/// caller; the id's value is not repeated here).
pub const NOT_AN_INTEGER: &str = "its id is not an integer, which OMOP's note_id must be \
(32-bit): name a field of integers with --id-field, or name note files by number (1234.txt)";

/// Writes the rows of one note's findings, each on a line of its own and without its
/// `note_nlp_id`, which [`RowNumbers`] puts in front as the rows are written out in run
/// order (notes are rendered in parallel; only the writer knows the count so far).
pub fn write_rows(
    text: &str,
    findings: &[FindingReport<'_>],
    note_id: i32,
    run: &RunFields,
    out: &mut Vec<u8>,
) {
    write_rows_counted(
        text,
        findings,
        note_id,
        run,
        &mut CharCounter::default(),
        out,
    );
}

/// [`write_rows`] for the next piece of a note's findings (a large note's rows are streamed
/// a piece at a time), `counter` carrying the character offsets across pieces.
pub fn write_rows_counted(
    text: &str,
    findings: &[FindingReport<'_>],
    note_id: i32,
    run: &RunFields,
    counter: &mut CharCounter,
    out: &mut Vec<u8>,
) {
    let mut numbers = itoa::Buffer::new();
    for f in findings {
        let start = counter.to(text, f.bytes.start);
        out.extend_from_slice(numbers.format(note_id).as_bytes());
        // section_concept_id: NULL.
        out.extend_from_slice(b",,");
        quoted(out, snippet(text, f.bytes.clone()));
        out.push(b',');
        out.extend_from_slice(numbers.format(start).as_bytes());
        out.push(b',');
        quoted(out, at_most_chars(f.text, TEXT_COLUMN_CHARS));
        out.push(b',');
        let icd = f
            .codes
            .icd10cm
            .as_deref()
            .and_then(|c| run.concepts.get(ICD10CM_VOCABULARY, c));
        let snomed = f
            .codes
            .snomedct
            .as_deref()
            .and_then(|c| run.concepts.get(SNOMED_VOCABULARY, c));
        out.extend_from_slice(numbers.format(snomed.or(icd).unwrap_or(0)).as_bytes());
        out.push(b',');
        out.extend_from_slice(numbers.format(icd.unwrap_or(0)).as_bytes());
        out.push(b',');
        quoted(out, &run.nlp_system);
        out.push(b',');
        out.extend_from_slice(run.nlp_date.as_bytes());
        out.push(b',');
        out.extend_from_slice(run.nlp_datetime.as_bytes());
        out.extend_from_slice(if exists(f.assertion) { b",Y," } else { b",N," });
        out.extend_from_slice(if f.assertion == "historical" {
            b"past,"
        } else {
            b"present,"
        });
        out.push(b'"');
        write_modifiers(out, f);
        out.extend_from_slice(b"\"\n");
    }
}

/// OHDSI's `term_exists`: whether the patient has or had the condition. A negated or
/// hypothetical mention, or one about a relative, does not say so.
pub fn exists(assertion: &str) -> bool {
    !matches!(assertion, "negated" | "hypothetical" | "family")
}

/// `term_modifiers`: `assertion=…;experiencer=patient|family;term=…;category=…`, then
/// `crest=…`, `trigger=…`, `icd10cm=…`, `snomedct=…`, `value=…` (a lexicon pattern's
/// `value` group) when there is one. Values are
/// percent-encoded where they hold `%`, `;`, `=`, `"`, `,` or a control character, so that
/// splitting on `;` and then on the first `=` always recovers them; a trigger or term is cut
/// to [`MODIFIER_VALUE_CHARS`] characters first. Written inside a CSV quote (no `"` is
/// written unescaped).
pub fn write_modifiers(out: &mut Vec<u8>, f: &FindingReport<'_>) {
    out.extend_from_slice(b"assertion=");
    out.extend_from_slice(f.assertion.as_bytes());
    out.extend_from_slice(if f.assertion == "family" {
        b";experiencer=family"
    } else {
        b";experiencer=patient"
    });
    out.extend_from_slice(b";term=");
    escaped(out, at_most_chars(f.term, MODIFIER_VALUE_CHARS));
    out.extend_from_slice(b";category=");
    out.extend_from_slice(f.category.as_bytes());
    if let Some(c) = f.crest {
        out.extend_from_slice(b";crest=");
        out.extend_from_slice(c.as_bytes());
    }
    if let Some(t) = f.trigger {
        out.extend_from_slice(b";trigger=");
        escaped(out, at_most_chars(t.trim(), MODIFIER_VALUE_CHARS));
    }
    if let Some(c) = &f.codes.icd10cm {
        out.extend_from_slice(b";icd10cm=");
        escaped(out, c);
    }
    if let Some(c) = &f.codes.snomedct {
        out.extend_from_slice(b";snomedct=");
        escaped(out, c);
    }
    if let Some(v) = f.value {
        out.extend_from_slice(b";value=");
        escaped(out, at_most_chars(v, MODIFIER_VALUE_CHARS));
    }
}

/// Whether byte `b` must be percent-encoded in a `term_modifiers` value.
fn needs_escape(b: u8) -> bool {
    matches!(b, b'%' | b';' | b'=' | b'"' | b',') || b.is_ascii_control()
}

/// `s` percent-encoded where a character would break a `key=value;…` list or a CSV field.
fn escaped(out: &mut Vec<u8>, s: &str) {
    if !s.bytes().any(needs_escape) {
        return out.extend_from_slice(s.as_bytes());
    }
    for &b in s.as_bytes() {
        if needs_escape(b) {
            let _ = write!(out, "%{b:02X}");
        } else {
            out.push(b);
        }
    }
}

/// A CSV field in quotes, `"` doubled (RFC 4180; what PostgreSQL's `COPY … CSV` reads), on
/// one line: control characters (C0, DEL, C1: line breaks, tabs, NEL) become spaces, so
/// that the writer can number rows by line. Copied in runs between the bytes that change:
/// a byte at a time, with a copy made one line first, this was most of `--format omop`'s
/// cost.
fn quoted(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let b = s.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        let c = b[i];
        let (replacement, width): (&[u8], usize) = if c == b'"' {
            (b"\"\"", 1)
        } else if c < 0x20 || c == 0x7f {
            (b" ", 1)
        } else if c == 0xc2 && matches!(b.get(i + 1), Some(0x80..=0x9f)) {
            (b" ", 2)
        } else {
            i += 1;
            continue;
        };
        out.extend_from_slice(&b[start..i]);
        out.extend_from_slice(replacement);
        i += width;
        start = i;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

/// The mention at `range` with up to [`SNIPPET_CONTEXT_CHARS`] characters either side, at
/// most [`TEXT_COLUMN_CHARS`] characters (made one line by [`quoted`]).
fn snippet(text: &str, range: std::ops::Range<usize>) -> &str {
    let start = text[..range.start]
        .char_indices()
        .rev()
        .nth(SNIPPET_CONTEXT_CHARS - 1)
        .map_or(0, |(i, _)| i);
    let end = text[range.end..]
        .char_indices()
        .nth(SNIPPET_CONTEXT_CHARS)
        .map_or(text.len(), |(i, _)| range.end + i);
    at_most_chars(&text[start..end], TEXT_COLUMN_CHARS)
}

/// Numbers the rows of a run: `note_nlp_id` 1, 2, 3… in output order.
#[derive(Debug, Default)]
pub struct RowNumbers {
    next: u32,
}

/// The run has more rows than `note_nlp_id`'s 32 bits can number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyRows;

impl std::fmt::Display for TooManyRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "more than {} NOTE_NLP rows in one run: note_nlp_id is a 32-bit integer in OMOP \
             CDM v5.4; split the input into smaller runs",
            i32::MAX
        )
    }
}

impl std::error::Error for TooManyRows {}

impl RowNumbers {
    /// Numbering that starts after `last` rows already written (0 for a new run).
    pub fn after(last: u32) -> RowNumbers {
        RowNumbers { next: last }
    }

    /// Writes `rows` (lines from [`write_rows`]) to `out`, each with its `note_nlp_id` in
    /// front.
    pub fn write(&mut self, rows: &[u8], out: &mut impl Write) -> std::io::Result<()> {
        let mut numbers = itoa::Buffer::new();
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', rows) {
            let row = &rows[start..=end];
            start = end + 1;
            if self.next >= i32::MAX as u32 {
                return Err(std::io::Error::other(TooManyRows));
            }
            self.next += 1;
            out.write_all(numbers.format(self.next).as_bytes())?;
            out.write_all(b",")?;
            out.write_all(row)?;
        }
        Ok(())
    }

    /// Rows numbered so far.
    pub fn count(&self) -> u32 {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Analyzer;
    use crate::corpus::Corpus;
    use crate::document::Document;

    fn rows(text: &str, run: &RunFields) -> Vec<Vec<String>> {
        let corpus = Corpus::embedded().unwrap();
        let analyzer = Analyzer::new(&corpus);
        let analysis = analyzer.analyze(text);
        let doc = Document::new(text.to_string());
        let found = crate::report::findings(&analyzer, &doc, &analysis);
        let mut body = Vec::new();
        write_rows(doc.text(), &found, 42, run, &mut body);
        let mut out = HEADER.as_bytes().to_vec();
        RowNumbers::default().write(&body, &mut out).unwrap();
        csv(&String::from_utf8(out).unwrap())
    }

    /// A small RFC 4180 reader (quoted fields, doubled quotes), enough to read back rows.
    fn csv(s: &str) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        for line in s.lines() {
            let (mut fields, mut field, mut quoted, mut chars) =
                (Vec::new(), String::new(), false, line.chars().peekable());
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        field.push('"');
                        chars.next();
                    }
                    ('"', q) => quoted = !q,
                    (',', false) => fields.push(std::mem::take(&mut field)),
                    (c, _) => field.push(c),
                }
            }
            fields.push(field);
            rows.push(fields);
        }
        rows
    }

    fn run() -> RunFields {
        RunFields {
            nlp_system: "calcinosis-ls test".into(),
            nlp_date: "2026-01-02".into(),
            nlp_datetime: "2026-01-02 03:04:05".into(),
            concepts: ConceptMap::parse("vocabulary,code,concept_id\nICD10CM,I73.00,35207784\n")
                .unwrap(),
        }
    }

    #[test]
    fn rows_have_the_columns_in_order_and_the_assertions_mapped() {
        let text = "Denies Raynaud's. Mother has \"calcinosis\", é.\nHistory of sclerodactyly.\n\
                    If dysphagia develops, call.";
        let rows = rows(text, &run());
        assert_eq!(rows[0].join(","), HEADER.trim_end());
        assert!(rows.iter().all(|r| r.len() == 14), "{rows:?}");
        let body = &rows[1..];
        let by_term = |t: &str| {
            body.iter()
                .find(|r| r[13].contains(&format!("term={t}")))
                .unwrap_or_else(|| panic!("{t} in {body:?}"))
        };
        let rp = by_term("Raynaud's phenomenon");
        assert_eq!(rp[0], "1");
        assert_eq!(rp[1], "42");
        assert_eq!(rp[2], "", "section_concept_id is NULL");
        assert_eq!(rp[4], "7");
        assert_eq!(rp[5], "Raynaud's");
        assert_eq!((rp[6].as_str(), rp[7].as_str()), ("35207784", "35207784"));
        assert_eq!(
            (rp[9].as_str(), rp[10].as_str()),
            ("2026-01-02", "2026-01-02 03:04:05")
        );
        assert_eq!((rp[11].as_str(), rp[12].as_str()), ("N", "present"));
        assert_eq!(
            rp[13],
            "assertion=negated;experiencer=patient;term=Raynaud's phenomenon;\
             category=crest-feature;crest=R;trigger=Denies;icd10cm=I73.00"
        );
        let c = by_term("calcinosis");
        assert_eq!((c[6].as_str(), c[7].as_str()), ("0", "0"), "unmapped: 0");
        assert_eq!(c[11], "N");
        assert!(c[13].contains("experiencer=family"), "{c:?}");
        assert!(c[3].contains("\"calcinosis\""), "quotes survive CSV: {c:?}");
        let s = by_term("sclerodactyly");
        assert_eq!((s[11].as_str(), s[12].as_str()), ("Y", "past"));
        // Offsets count characters: "é" is one.
        assert_eq!(
            s[4],
            text[..text.find("sclerodactyly").unwrap()]
                .chars()
                .count()
                .to_string()
        );
        assert!(!s[3].contains('\n'));
        let d = by_term("esophageal dysfunction");
        assert_eq!(d[11], "N", "hypothetical");
        // Ids run on across the rows.
        let ids: Vec<&str> = body.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            ids,
            (1..=body.len()).map(|i| i.to_string()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn widths_hold_on_long_and_hostile_text() {
        let long = format!("{} calcinosis {}", "x;=%\"".repeat(400), "é".repeat(400));
        for r in &rows(&long, &run())[1..] {
            assert!(r[3].chars().count() <= TEXT_COLUMN_CHARS);
            assert!(r[5].chars().count() <= TEXT_COLUMN_CHARS);
            assert!(r[13].chars().count() <= MODIFIERS_CHARS);
        }
    }

    #[test]
    fn csv_fields_are_one_quoted_line() {
        let mut out = Vec::new();
        quoted(&mut out, "a\"b\r\nc\u{85}d\u{7f}é\t");
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\"\"b  c d é \"");
    }

    #[test]
    fn modifiers_split_back_into_their_values() {
        let mut out = Vec::new();
        escaped(&mut out, "a;b=c%d\"e,f\ng");
        assert_eq!(out, b"a%3Bb%3Dc%25d%22e%2Cf%0Ag");
    }

    #[test]
    fn note_ids_and_concept_files() {
        assert_eq!(note_id_from_json("12"), Some(12));
        assert_eq!(note_id_from_json("\"12\""), Some(12));
        assert_eq!(note_id_from_json("\"n12\""), None);
        assert_eq!(note_id_from_json("3000000000"), None);
        assert_eq!(note_id_from_json("1.5"), None);
        assert_eq!(note_id_from_file("dir/2024/77.txt"), Some(77));
        assert_eq!(note_id_from_file("visit.txt"), None);
        let m = ConceptMap::parse("ICD10CM,L94.2,1\nsnomed,1234,2\n\n").unwrap();
        assert_eq!(m.get("ICD10CM", "L94.2"), Some(1));
        assert_eq!(m.get("SNOMED", "1234"), Some(2));
        assert_eq!(m.len(), 2);
        let e = ConceptMap::parse("a,b,c\nICD10CM,L94.2,x\n").unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        assert!(ConceptMap::parse("ICD10CM,L94.2\n")
            .unwrap_err()
            .contains("3 comma"));
    }

    #[test]
    fn row_numbers_stop_at_32_bits() {
        let mut n = RowNumbers::after(i32::MAX as u32 - 1);
        let mut out = Vec::new();
        n.write(b"a\n", &mut out).unwrap();
        assert_eq!(out, format!("{},a\n", i32::MAX).into_bytes());
        assert!(n.write(b"b\n", &mut out).is_err());
    }
}
