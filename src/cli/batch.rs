//! Batch input for `check`: notes from files, directories (recursive, following symbolic
//! links with loop detection, filtered by a glob) or JSON Lines records, analysed on a rayon
//! pool and written in input order.
//!
//! Memory stays bounded whatever the input: a note or a record line is read up to
//! [`MAX_NOTE_BYTES`] (past it the note becomes an error and the run goes on), and the reader
//! hands notes to the pool only while fewer than `window` notes and at most
//! [`IN_FLIGHT_NOTE_BYTES`] of them are between reading and writing (room comes back as each
//! note is written; a larger note waits until nothing else is in flight).
//!
//! Records are decoded leniently: keys may be escaped, a UTF-8 byte-order mark opening the
//! input is dropped, a lone surrogate in the text becomes U+FFFD. Nothing in an error message
//! is taken from the input.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use calcinosis_ls::limits::{
    CHECK_GROUP_BYTES, CHECK_GROUP_NOTES, IN_FLIGHT_NOTE_BYTES, MAX_NOTE_BYTES,
};

use super::input::{io_reason, path_name, read_line_bounded};

/// Where a note came from, echoed in its report.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A file (`-` for stdin).
    File(String),
    /// A JSON Lines record: its 1-based line number and the id field's value (JSON text),
    /// if the record had one.
    Record {
        line: u64,
        id: Option<Box<RawValue>>,
        /// The patient and date fields, when asked for (`check --format html`).
        meta: RecordMeta,
    },
}

/// A record's patient and date fields (raw JSON), read only when `--patient-field` or
/// `--date-field` names them.
#[derive(Debug, Clone, Default)]
pub struct RecordMeta {
    pub patient: Option<Box<RawValue>>,
    pub date: Option<Box<RawValue>>,
}

/// One note to analyse, or why it could not be read.
#[derive(Debug)]
pub struct Item {
    pub origin: Origin,
    pub text: Result<String, String>,
}

/// What to read notes from.
#[derive(Debug, Clone)]
pub struct Source {
    /// Files, directories, or `-`.
    pub paths: Vec<PathBuf>,
    /// Files in directories must match this glob (matched against the path below the
    /// directory, and against the file name).
    pub glob: Option<globset::GlobMatcher>,
    /// Read JSON Lines records instead of whole files.
    pub jsonl: Option<RecordFields>,
}

/// The fields of a JSON Lines record.
#[derive(Debug, Clone)]
pub struct RecordFields {
    pub id: String,
    pub text: String,
    /// The patient's field, if read.
    pub patient: Option<String>,
    /// The note's date field, if read.
    pub date: Option<String>,
}

/// Why something found while walking a directory was not analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    /// A symbolic link to a folder that contains it.
    LinkLoop,
    /// A symbolic link whose target does not exist.
    DanglingLink,
    /// A FIFO, socket or device: reading it could block for ever or never end.
    SpecialFile,
    /// `--glob` matched no file in the directories given.
    GlobMatchedNothing,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::LinkLoop => "a symbolic link to a folder that contains it (a loop)",
            SkipReason::DanglingLink => "a symbolic link whose target does not exist",
            SkipReason::SpecialFile => "not a regular file (a FIFO, socket or device)",
            SkipReason::GlobMatchedNothing => "--glob matched none of its files",
        })
    }
}

/// Most skipped paths kept by name for the summary; the rest are only counted, so that a
/// folder of a million FIFOs costs no more memory than one of twenty.
pub const SKIPPED_NAMED: usize = 20;

/// What the walk left out, for the summary `check` prints at the end.
#[derive(Debug, Default)]
pub struct Skipped {
    /// How many paths were skipped, per reason.
    pub counts: BTreeMap<SkipReason, u64>,
    /// The first [`SKIPPED_NAMED`] paths skipped, with why, in walk order.
    pub first: Vec<(String, SkipReason)>,
}

impl Skipped {
    fn push(&mut self, name: String, why: SkipReason) {
        *self.counts.entry(why).or_insert(0) += 1;
        if self.first.len() < SKIPPED_NAMED {
            self.first.push((name, why));
        }
    }

    /// How many paths were skipped in all.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// Capacity the record-line buffer may keep from one line to the next: a buffer grown for a
/// record of megabytes is dropped after it, not held (beside that note's analysis) for the
/// rest of the input.
const LINE_BUFFER_KEPT: usize = 1 << 20;

/// How many bytes of a record line are kept: the note's cap, plus room for the record's
/// punctuation and other fields, so that a note just under the cap still fits.
const MAX_RECORD_LINE_BYTES: usize = MAX_NOTE_BYTES + (64 << 10);

/// Read buffer for stdin and JSON Lines files: a group of records is cut where the buffer
/// runs out (the next read may wait), so the buffer holds at least a group's worth.
const STREAM_BUFFER_BYTES: usize = CHECK_GROUP_BYTES;

impl Source {
    /// Calls `each` with every note in input order until it returns false, and with `None`
    /// whenever the next read may wait for input (stdin, a pipe, a JSON Lines record not
    /// yet wholly read), so that the caller can hand on the notes it holds. Unreadable
    /// inputs become items with an error; what a directory walk skips is returned. Only a
    /// failure to read stdin or a JSON Lines file part-way is returned as an error, after
    /// the items read before it.
    pub fn for_each(&self, mut each: impl FnMut(Option<Item>) -> bool) -> anyhow::Result<Skipped> {
        let mut skipped = Skipped::default();
        let mut glob_seen = 0u64;
        let mut glob_kept = 0u64;
        let mut walked = Vec::new();
        for path in &self.paths {
            if path.as_os_str() == "-" {
                // The stdin lock's own buffer is 8 KB; a larger one makes fewer, larger
                // groups of records (and a large read bypasses the inner buffer).
                let mut stdin = BufReader::with_capacity(STREAM_BUFFER_BYTES, std::io::stdin());
                if !self.read_stream(&mut stdin, true, &mut each)? {
                    return Ok(skipped);
                }
                continue;
            }
            if !path.is_dir() {
                if !self.read_path(path, &mut each)? {
                    return Ok(skipped);
                }
                continue;
            }
            walked.push(path_name(path));
            // Links are followed (a cohort is often a folder of links); walkdir stops at a
            // link back to an ancestor and reports it.
            for entry in walkdir::WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name()
            {
                let entry = match entry {
                    Ok(e) => e,
                    Err(e) => {
                        let name = path_name(e.path().unwrap_or(path));
                        if e.loop_ancestor().is_some() {
                            skipped.push(name, SkipReason::LinkLoop);
                            continue;
                        }
                        if e.path().is_some_and(is_dangling_link) {
                            skipped.push(name, SkipReason::DanglingLink);
                            continue;
                        }
                        let reason = match e.io_error() {
                            Some(io) => io_reason(io),
                            None => e.to_string(),
                        };
                        let item = Item {
                            origin: Origin::File(name),
                            text: Err(format!("cannot read: {reason}")),
                        };
                        if !each(Some(item)) {
                            return Ok(skipped);
                        }
                        continue;
                    }
                };
                let kind = entry.file_type();
                if kind.is_dir() {
                    continue;
                }
                let file = entry.into_path();
                if !kind.is_file() {
                    skipped.push(path_name(&file), SkipReason::SpecialFile);
                    continue;
                }
                glob_seen += 1;
                if !self.wanted(path, &file) {
                    continue;
                }
                glob_kept += 1;
                if !self.read_path(&file, &mut each)? {
                    return Ok(skipped);
                }
            }
        }
        if self.glob.is_some() && !walked.is_empty() && glob_kept == 0 {
            skipped.push(
                format!("{} ({glob_seen} file(s))", walked.join(", ")),
                SkipReason::GlobMatchedNothing,
            );
        }
        Ok(skipped)
    }

    fn wanted(&self, root: &Path, file: &Path) -> bool {
        let Some(glob) = &self.glob else {
            return true;
        };
        let below = file.strip_prefix(root).unwrap_or(file);
        glob.is_match(below) || file.file_name().is_some_and(|n| glob.is_match(n))
    }

    fn read_path(
        &self,
        path: &Path,
        each: &mut impl FnMut(Option<Item>) -> bool,
    ) -> anyhow::Result<bool> {
        let name = path_name(path);
        // Opening a FIFO waits for its writer, and reading it for its data: hand on what
        // is held first.
        let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
        if !regular && !each(None) {
            return Ok(false);
        }
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                return Ok(each(Some(Item {
                    origin: Origin::File(name),
                    text: Err(open_reason(path, &e)),
                })))
            }
        };
        if self.jsonl.is_some() {
            let mut input = BufReader::with_capacity(STREAM_BUFFER_BYTES, file);
            return self.read_stream(&mut input, !regular, each);
        }
        // A regular file's size is known before reading it.
        let size = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        if let Some(n) = size.filter(|&n| n > MAX_NOTE_BYTES as u64) {
            return Ok(each(Some(Item {
                origin: Origin::File(name),
                text: Err(too_large(Some(n))),
            })));
        }
        Ok(each(Some(Item {
            origin: Origin::File(name),
            text: read_note(file, size),
        })))
    }

    /// Reads stdin (or a JSON Lines file): one note, or one record per line. `may_wait`:
    /// the input is a pipe or terminal, whose reads wait for the writer.
    fn read_stream<R: Read>(
        &self,
        input: &mut BufReader<R>,
        may_wait: bool,
        each: &mut impl FnMut(Option<Item>) -> bool,
    ) -> anyhow::Result<bool> {
        let Some(fields) = &self.jsonl else {
            // One note, read to the end of the input: it may wait for a long time.
            if may_wait && !each(None) {
                return Ok(false);
            }
            return Ok(each(Some(Item {
                origin: Origin::File("-".into()),
                text: read_note(input, None),
            })));
        };
        let mut line = Vec::new();
        let mut number = 0u64;
        loop {
            // The next record is not wholly in the buffer, so reading it may wait (on a pipe):
            // hand on the notes read so far first, so that each is answered as it is typed.
            if may_wait && memchr::memchr(b'\n', input.buffer()).is_none() && !each(None) {
                return Ok(false);
            }
            let Some(read) = read_line_bounded(input, &mut line, MAX_RECORD_LINE_BYTES)
                .map_err(|e| anyhow::anyhow!("cannot read the input: {}", io_reason(&e)))?
            else {
                return Ok(true);
            };
            number += 1;
            let mut body = line.as_slice();
            if number == 1 {
                // Windows tools open UTF-8 with a byte-order mark.
                body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
                if body.starts_with(&[0xFF, 0xFE])
                    || body.starts_with(&[0xFE, 0xFF])
                    || looks_utf16(body)
                {
                    // Every later "line" would be garbage too: one error for the input.
                    return Ok(each(Some(Item {
                        origin: Origin::Record {
                            line: 1,
                            id: None,
                            meta: RecordMeta::default(),
                        },
                        text: Err("the input is UTF-16, not UTF-8: save it as UTF-8".into()),
                    })));
                }
            }
            if memchr::memchr(0, body).is_some() {
                return Ok(each(Some(Item {
                    origin: Origin::Record {
                        line: number,
                        id: None,
                        meta: RecordMeta::default(),
                    },
                    text: Err(
                        "the input holds NUL bytes: it is binary (or UTF-16), not JSON \
                               Lines text; the rest of it is not read"
                            .into(),
                    ),
                })));
            }
            let body = body.trim_ascii();
            let item = if read.truncated {
                Item {
                    origin: Origin::Record {
                        line: number,
                        id: None,
                        meta: RecordMeta::default(),
                    },
                    text: Err(format!(
                        "the record is {} bytes long; a note may have at most {}{}",
                        read.len,
                        human_bytes(MAX_NOTE_BYTES as u64),
                        cr_hint(body)
                    )),
                }
            } else if body.is_empty() {
                continue;
            } else {
                record(body, number, fields)
            };
            if line.capacity() > LINE_BUFFER_KEPT {
                line = Vec::new();
            }
            if !each(Some(item)) {
                return Ok(false);
            }
        }
    }
}

/// Whether `path` is a symbolic link whose target does not exist.
fn is_dangling_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::metadata(path).is_err()
}

/// Why a note file could not be opened.
fn open_reason(path: &Path, e: &std::io::Error) -> String {
    if is_dangling_link(path) {
        return "cannot read: it is a symbolic link whose target does not exist".into();
    }
    format!("cannot read: {}", io_reason(e))
}

/// A note's size in words: `24 MiB`.
fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

fn too_large(size: Option<u64>) -> String {
    let max = human_bytes(MAX_NOTE_BYTES as u64);
    match size {
        Some(n) => format!(
            "the note is {n} bytes long; a note may have at most {max} (split it into notes)"
        ),
        None => format!("the note is longer than {max}, the most a note may have (split it)"),
    }
}

/// What to say about a record line that holds a carriage return before its end: its lines
/// end in CR alone (classic Mac), so the whole input reads as one line.
fn cr_hint(body: &[u8]) -> &'static str {
    if memchr::memchr(b'\r', body).is_some() {
        "; its lines seem to end in CR alone: convert them to LF (tr '\\r' '\\n')"
    } else {
        ""
    }
}

/// Reads a whole note, at most [`MAX_NOTE_BYTES`] of it; `size` is its size if known (a
/// regular file's), so that the buffer is allocated once, as `fs::read` does.
fn read_note(input: impl Read, size: Option<u64>) -> Result<String, String> {
    let reserve = size.map_or(0, |n| n.min(MAX_NOTE_BYTES as u64) as usize + 1);
    let mut bytes = Vec::with_capacity(reserve);
    if let Err(e) = input
        .take(MAX_NOTE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
    {
        return Err(format!("cannot read: {}", io_reason(&e)));
    }
    if bytes.len() > MAX_NOTE_BYTES {
        return Err(too_large(None));
    }
    utf8(bytes)
}

/// A note file's text. A UTF-8 byte-order mark is dropped (editors do not count it, so
/// columns would be off by one); UTF-16, with a byte-order mark or without one (whose ASCII
/// reads as valid UTF-8 with a NUL after every letter), is refused with what to do, and so
/// is a file of NUL bytes (what a crash leaves of a file being written).
fn utf8(mut bytes: Vec<u8>) -> Result<String, String> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    if bytes.first() == Some(&0) && bytes.iter().all(|&b| b == 0) {
        return Err(
            "the file holds only NUL bytes (zeroed by a crash, or not a note): nothing to analyse"
                .into(),
        );
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) || looks_utf16(&bytes) {
        return Err("the note is UTF-16, not UTF-8: save it as UTF-8".into());
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not valid UTF-8 at byte {}: save the note as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Whether `bytes` look like UTF-16 without a byte-order mark: in the first 4 KB, NUL in
/// most odd (little-endian) or most even (big-endian) positions, and few in the others
/// (a run of NULs is not text of any kind). Real notes have no NULs.
fn looks_utf16(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    if head.len() < 8 {
        return false;
    }
    let pairs = head.len() / 2;
    let even = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    even.max(odd) * 2 > pairs && even.min(odd) * 4 < pairs
}

/// A record's key: borrowed from the line, or owned when it had an escape (`"\u00e9"`,
/// `"a\/b"`: Python's `json.dumps` escapes every non-ASCII key, PHP escapes `/`).
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// The two fields of a record that are read; every other value is skipped, not decoded.
struct Wanted<'f> {
    fields: &'f RecordFields,
}

/// The id and text fields found (and the patient and date when asked for), as raw JSON
/// (a later duplicate key wins).
#[derive(Default)]
struct Found<'de> {
    id: Option<&'de RawValue>,
    text: Option<&'de RawValue>,
    patient: Option<&'de RawValue>,
    date: Option<&'de RawValue>,
}

impl<'de> DeserializeSeed<'de> for Wanted<'_> {
    type Value = Found<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Found<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Wanted<'_> {
    type Value = Found<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found<'de>, A::Error> {
        let mut found = Found::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let id = key == self.fields.id.as_str();
            let text = key == self.fields.text.as_str();
            let patient = self.fields.patient.as_deref() == Some(&*key);
            let date = self.fields.date.as_deref() == Some(&*key);
            if id || text || patient || date {
                let v: &'de RawValue = map.next_value()?;
                if id {
                    found.id = Some(v);
                }
                if text {
                    found.text = Some(v);
                }
                if patient {
                    found.patient = Some(v);
                }
                if date {
                    found.date = Some(v);
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Why a line is not a record, in fixed words: serde's messages for a value of the wrong
/// type quote the value (a bare JSON string is the note itself), so only its syntax errors,
/// which are fixed texts and a position, are passed on.
fn not_a_record(body: &[u8], e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof => format!("not a JSON object: {e}{}", cr_hint(body)),
        Category::Data | Category::Io => {
            let what = match body.first() {
                Some(b'"') => "a JSON string",
                Some(b'[') => {
                    return "not a JSON object but a JSON array: JSON Lines has one object per \
                            line (jq -c '.[]' turns an array into that)"
                        .into()
                }
                Some(b't' | b'f') => "true or false",
                Some(b'n') => "null",
                Some(b'{') => "an object whose keys or values could not be read",
                _ => "a JSON number",
            };
            format!("not a JSON object: the line holds {what}; a record is {{\"text\": …}}")
        }
    }
}

/// Parses one JSON Lines record. Error messages name the problem and a position, never
/// the record's content (it is note text).
fn record(body: &[u8], line: u64, fields: &RecordFields) -> Item {
    let fail = |id: Option<Box<RawValue>>, msg: String| Item {
        origin: Origin::Record {
            line,
            id,
            meta: RecordMeta::default(),
        },
        text: Err(msg),
    };
    let s = match std::str::from_utf8(body) {
        Ok(s) => s,
        Err(e) => {
            return fail(
                None,
                format!("not valid UTF-8 at byte {} of the record", e.valid_up_to()),
            )
        }
    };
    let mut de = serde_json::Deserializer::from_str(s);
    let wanted = Wanted { fields };
    let found = match wanted
        .deserialize(&mut de)
        .and_then(|f| de.end().map(|()| f))
    {
        Ok(f) => f,
        Err(e) => return fail(None, not_a_record(body, &e)),
    };
    let id = found.id.map(|v| v.to_owned()).filter(|v| v.get() != "null");
    let non_null = |v: Option<&RawValue>| v.map(|v| v.to_owned()).filter(|v| v.get() != "null");
    let meta = RecordMeta {
        patient: non_null(found.patient),
        date: non_null(found.date),
    };
    let Some(raw) = found.text else {
        return fail(id, format!("no \"{}\" field", fields.text));
    };
    match serde_json::from_str::<String>(raw.get()) {
        Ok(text) => Item {
            origin: Origin::Record { line, id, meta },
            text: Ok(text),
        },
        Err(_) if raw.get() == "null" => fail(id, format!("\"{}\" is null", fields.text)),
        // A lone surrogate (`"\ud800"`, from JavaScript or a cut UTF-16 string) is valid
        // JSON to most writers; serde refuses it. The note is kept, the surrogate replaced.
        Err(_) => match lossy_json_string(raw.get()) {
            Some(text) => Item {
                origin: Origin::Record { line, id, meta },
                text: Ok(text),
            },
            None => fail(id, format!("\"{}\" is not a string", fields.text)),
        },
    }
}

/// Decodes a JSON string literal (quotes included) whose `\u` escapes may hold lone
/// surrogates, each becoming U+FFFD. `None` when `raw` is not a string literal.
fn lossy_json_string(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    let hex4 = |chars: &mut std::str::Chars<'_>| -> Option<u32> {
        let mut v = 0;
        for _ in 0..4 {
            v = v * 16 + chars.next()?.to_digit(16)?;
        }
        Some(v)
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let u = hex4(&mut chars)?;
                if (0xD800..0xDC00).contains(&u) {
                    // A high surrogate: a pair only if a low one follows at once.
                    let mut ahead = chars.clone();
                    let low = (ahead.next() == Some('\\') && ahead.next() == Some('u'))
                        .then(|| hex4(&mut ahead))
                        .flatten()
                        .filter(|l| (0xDC00..0xE000).contains(l));
                    match low {
                        Some(l) => {
                            chars = ahead;
                            let c = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
                            out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
                        }
                        None => out.push('\u{FFFD}'),
                    }
                } else {
                    out.push(char::from_u32(u).unwrap_or('\u{FFFD}'));
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

/// How many groups of notes, and how many bytes of them, are between the reader and the
/// writer.
struct Gate {
    state: Mutex<GateState>,
    room: Condvar,
    window: usize,
}

#[derive(Default)]
struct GateState {
    groups: usize,
    bytes: usize,
    /// The writer stopped early (a closed pipe): the reader stops too.
    closed: bool,
}

impl Gate {
    /// Waits for room for a group of `bytes`; false when the writer has stopped.
    fn enter(&self, bytes: usize) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return false;
        };
        while !s.closed
            && s.groups > 0
            && (s.groups >= self.window || s.bytes.saturating_add(bytes) > IN_FLIGHT_NOTE_BYTES)
        {
            s = match self.room.wait(s) {
                Ok(s) => s,
                Err(_) => return false,
            };
        }
        if s.closed {
            return false;
        }
        s.groups += 1;
        s.bytes = s.bytes.saturating_add(bytes);
        true
    }

    fn leave(&self, bytes: usize) {
        if let Ok(mut s) = self.state.lock() {
            s.groups = s.groups.saturating_sub(1);
            s.bytes = s.bytes.saturating_sub(bytes);
        }
        self.room.notify_one();
    }

    fn close(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.closed = true;
        }
        self.room.notify_one();
    }
}

/// Notes read but not yet handed to the pool: at most [`CHECK_GROUP_NOTES`] of them and
/// [`CHECK_GROUP_BYTES`] of text, or one larger note alone.
struct Group {
    items: Vec<Item>,
    bytes: usize,
}

impl Group {
    fn new() -> Group {
        Group {
            items: Vec::new(),
            bytes: 0,
        }
    }

    /// Whether a note of `bytes` must wait for the next group.
    fn no_room_for(&self, bytes: usize) -> bool {
        !self.items.is_empty() && self.bytes.saturating_add(bytes) > CHECK_GROUP_BYTES
    }

    fn full(&self) -> bool {
        self.items.len() >= CHECK_GROUP_NOTES || self.bytes >= CHECK_GROUP_BYTES
    }
}

/// Runs `render` over every item of `source` on `jobs` threads and hands the results to
/// `write` in input order, and `None` whenever it is about to wait for more (time to flush).
/// `write` returns false to stop early (a closed pipe); the reader then stops too.
///
/// The reader hands the pool groups of notes ([`CHECK_GROUP_NOTES`], [`CHECK_GROUP_BYTES`]),
/// each group as soon as it is full or the reader would wait for input, so that a note
/// typed into a pipe is answered without waiting for the next. At most `window` groups, and
/// [`IN_FLIGHT_NOTE_BYTES`] of note text, are in flight. Returns what the directory walk
/// skipped.
pub fn run_ordered<R: Send + 'static>(
    source: Source,
    jobs: usize,
    window: usize,
    render: impl Fn(Item) -> R + Send + Sync + 'static,
    mut write: impl FnMut(Option<R>) -> anyhow::Result<bool>,
) -> anyhow::Result<Skipped> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("check-{i}"))
        .build()?;
    let render = Arc::new(render);
    let gate = Arc::new(Gate {
        state: Mutex::new(GateState::default()),
        room: Condvar::new(),
        window: window.max(1),
    });
    let (done_tx, done_rx) = mpsc::channel::<(u64, usize, Vec<R>)>();
    let reader_gate = gate.clone();
    let reader = std::thread::Builder::new()
        .name("check-reader".into())
        .spawn(move || {
            let mut seq = 0u64;
            let mut group = Group::new();
            // Hands the group held to the pool; false when the writer has stopped.
            let mut hand_on = |group: &mut Group| {
                if group.items.is_empty() {
                    return true;
                }
                let bytes = group.bytes;
                // Wait for the writer to make room; it is gone if it stopped early.
                if !reader_gate.enter(bytes) {
                    return false;
                }
                let items = std::mem::take(&mut group.items);
                group.bytes = 0;
                let tx = done_tx.clone();
                let render = render.clone();
                let n = seq;
                seq += 1;
                pool.spawn(move || {
                    let out = items.into_iter().map(|item| render(item)).collect();
                    let _ = tx.send((n, bytes, out));
                });
                true
            };
            let skipped = source.for_each(|next| {
                let Some(item) = next else {
                    // The reader is about to wait for input.
                    return hand_on(&mut group);
                };
                let bytes = item.text.as_ref().map_or(0, String::len);
                if group.no_room_for(bytes) && !hand_on(&mut group) {
                    return false;
                }
                group.items.push(item);
                group.bytes = group.bytes.saturating_add(bytes);
                !group.full() || hand_on(&mut group)
            });
            hand_on(&mut group);
            skipped
        })?;
    let mut pending: BTreeMap<u64, (usize, Vec<R>)> = BTreeMap::new();
    let mut next = 0u64;
    let mut stopped = false;
    'recv: loop {
        let (n, bytes, rs) = match done_rx.try_recv() {
            Ok(done) => done,
            Err(mpsc::TryRecvError::Disconnected) => break,
            Err(mpsc::TryRecvError::Empty) => {
                if !write(None)? {
                    stopped = true;
                    break;
                }
                match done_rx.recv() {
                    Ok(done) => done,
                    Err(_) => break,
                }
            }
        };
        pending.insert(n, (bytes, rs));
        while let Some((bytes, rs)) = pending.remove(&next) {
            next += 1;
            for r in rs {
                let more = write(Some(r));
                if !matches!(more, Ok(true)) {
                    gate.leave(bytes);
                    gate.close();
                    more?;
                    stopped = true;
                    break 'recv;
                }
            }
            gate.leave(bytes);
        }
    }
    gate.close();
    if stopped {
        // Leave the reader blocked on stdin or the pool busy: the process is about to exit.
        return Ok(Skipped::default());
    }
    drop(done_rx);
    match reader.join() {
        Ok(r) => r,
        Err(_) => anyhow::bail!("the input reader panicked"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> RecordFields {
        RecordFields {
            id: "note_id".into(),
            text: "text".into(),
            patient: Some("mrn".into()),
            date: Some("when".into()),
        }
    }

    #[test]
    fn records_decode_only_their_fields_and_report_errors_without_content() {
        let ok = record(
            br#"{"note_id": 7, "mrn": "P\"1", "when": null, "text": "No RP\n", "x": [1]}"#,
            3,
            &fields(),
        );
        assert_eq!(ok.text.as_deref(), Ok("No RP\n"));
        match &ok.origin {
            Origin::Record { line, id, meta } => {
                assert_eq!(*line, 3);
                assert_eq!(id.as_ref().map(|v| v.get()), Some("7"));
                assert_eq!(meta.patient.as_ref().map(|v| v.get()), Some(r#""P\"1""#));
                assert!(meta.date.is_none());
            }
            other => panic!("{other:?}"),
        }
        let missing = record(br#"{"note_id": "a"}"#, 1, &fields());
        assert_eq!(missing.text, Err("no \"text\" field".to_string()));
        let bad = record(b"{\"note_id\": 1, \"text\": \"secret \xff\"}", 1, &fields());
        assert!(bad
            .text
            .unwrap_err()
            .starts_with("not valid UTF-8 at byte 31"));
        let broken = record(br#"{"note_id": 1, "text": "secret"#, 1, &fields());
        let e = broken.text.unwrap_err();
        assert!(e.starts_with("not a JSON object"), "{e}");
        assert!(!e.contains("secret"), "{e}");
        let number = record(br#"{"text": 5}"#, 1, &fields());
        assert_eq!(number.text, Err("\"text\" is not a string".to_string()));
    }

    #[test]
    fn lone_surrogates_become_replacement_characters_and_pairs_stay_whole() {
        let cases = [
            (r#""a\ud800b""#, "a\u{FFFD}b"),
            (r#""\udc00\ud83d\ude00\ud83d""#, "\u{FFFD}😀\u{FFFD}"),
            (r#""\ud83d\u0041 \"q\" \/ \t""#, "\u{FFFD}A \"q\" / \t"),
        ];
        for (raw, want) in cases {
            assert_eq!(lossy_json_string(raw).as_deref(), Some(want), "{raw}");
        }
        // It agrees with serde wherever serde decodes.
        let plain = r#""é \u00e9 \ud83d\ude00 \n""#;
        assert_eq!(
            lossy_json_string(plain),
            serde_json::from_str::<String>(plain).ok()
        );
        assert_eq!(lossy_json_string("12"), None);
        assert_eq!(lossy_json_string(r#""\x""#), None);
        assert_eq!(lossy_json_string(r#""\u12""#), None);
    }

    #[test]
    fn escaped_keys_are_matched_and_other_values_skipped() {
        let r = record(
            br#"{"x": {"deep": ["\ud800"]}, "not\u0065_id": 5, "t\u0065xt": "No RP"}"#,
            1,
            &fields(),
        );
        assert_eq!(r.text.as_deref(), Ok("No RP"));
        match &r.origin {
            Origin::Record { id, .. } => assert_eq!(id.as_ref().map(|v| v.get()), Some("5")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_gate_bounds_the_bytes_of_notes_in_flight() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.jsonl");
        let note = "x".repeat(10 << 20);
        let record = format!("{{\"note_id\": 1, \"text\": \"{note}\"}}\n");
        std::fs::write(&path, record.repeat(6)).unwrap();
        let source = Source {
            paths: vec![path],
            glob: None,
            jsonl: Some(fields()),
        };
        let busy = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (b, m) = (busy.clone(), most.clone());
        run_ordered(
            source,
            4,
            20,
            move |item| {
                let n = item.text.map_or(0, |t| t.len());
                let now = b.fetch_add(n, Ordering::SeqCst) + n;
                m.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(30));
                b.fetch_sub(n, Ordering::SeqCst);
            },
            |_| Ok(true),
        )
        .unwrap();
        // Four threads would take four 10 MiB notes at once; the gate lets two in.
        let most = most.load(Ordering::SeqCst);
        assert!(
            most > 0 && most <= IN_FLIGHT_NOTE_BYTES,
            "{most} bytes at once"
        );
    }

    #[test]
    fn short_notes_go_to_the_pool_in_groups_and_a_large_one_alone() {
        use calcinosis_ls::limits::{CHECK_GROUP_BYTES, CHECK_GROUP_NOTES};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.jsonl");
        // The test's shape needs groups of 64 notes or fewer.
        const { assert!(CHECK_GROUP_NOTES <= 64) };
        const NOTES: usize = 256;
        let big = "x".repeat(CHECK_GROUP_BYTES + 1);
        let mut lines = String::new();
        for i in 0..NOTES {
            let text = if i == 133 { &big } else { "No RP." };
            lines.push_str(&format!("{{\"note_id\": {i}, \"text\": \"{text}\"}}\n"));
        }
        std::fs::write(&path, lines).unwrap();
        let source = Source {
            paths: vec![path],
            glob: None,
            jsonl: Some(fields()),
        };
        // Which thread rendered each note, in input order. Rendering is slow enough that
        // both threads are busy: notes handed over one at a time alternate between them.
        let mut seen = Vec::new();
        run_ordered(
            source,
            2,
            8,
            |_item| {
                std::thread::sleep(std::time::Duration::from_micros(200));
                std::thread::current().name().map(str::to_owned)
            },
            |r| {
                if let Some(r) = r {
                    seen.push(r.unwrap_or_default());
                }
                Ok(true)
            },
        )
        .unwrap();
        assert_eq!(seen.len(), NOTES);
        // A run of notes on one thread, in input order, is one hand-off (or more).
        let runs = 1 + seen.windows(2).filter(|w| w[0] != w[1]).count();
        // Groups of 64: 64 notes, 64 notes, 5 notes (the large note does not fit), the
        // large note alone, then 58 and 64 notes. Handed over one at a time, the notes
        // alternate between the two busy threads (~200 runs).
        assert!(
            runs <= NOTES.div_ceil(CHECK_GROUP_NOTES) + 2,
            "{runs} hand-offs for {NOTES} notes"
        );
        // The first group is whole on one thread.
        assert!(seen[..CHECK_GROUP_NOTES].iter().all(|t| *t == seen[0]));
    }

    #[test]
    fn output_keeps_input_order_whatever_finishes_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.jsonl");
        let lines: String = (0..200)
            .map(|i| {
                format!(
                    "{{\"note_id\": {i}, \"text\": \"{}\"}}\n",
                    "x".repeat(i % 7)
                )
            })
            .collect();
        std::fs::write(&path, lines).unwrap();
        let source = Source {
            paths: vec![path],
            glob: None,
            jsonl: Some(fields()),
        };
        let mut seen = Vec::new();
        run_ordered(
            source,
            2,
            8,
            |item| {
                // Uneven work, so that later items often finish first.
                let n = item.text.map_or(0, |t| t.len());
                std::thread::sleep(std::time::Duration::from_micros(50 * (7 - n as u64)));
                match item.origin {
                    Origin::Record { id, .. } => id.map(|v| v.get().to_string()),
                    Origin::File(_) => None,
                }
            },
            |id| {
                if let Some(id) = id {
                    seen.push(id.unwrap_or_default());
                }
                Ok(true)
            },
        )
        .unwrap();
        let want: Vec<String> = (0..200).map(|i| i.to_string()).collect();
        assert_eq!(seen, want);
    }
}
