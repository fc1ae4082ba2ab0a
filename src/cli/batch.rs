//! Batch input for `check`: notes from files, directories (recursive, filtered by a glob) or
//! JSON Lines records, analysed on a rayon pool and written in input order.
//!
//! Memory stays bounded whatever the input size: the reader hands at most `window` notes to
//! the pool before the writer has written the oldest of them (a permit comes back for every
//! note written), so at most `window` notes and their rendered reports are alive at once.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;

use serde_json::value::RawValue;

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
    },
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
}

impl Source {
    /// Calls `each` with every note in input order until it returns false. Unreadable
    /// inputs become items with an error; only a failure to read stdin or a JSON Lines
    /// file part-way is returned as an error, after the items read before it.
    pub fn for_each(&self, mut each: impl FnMut(Item) -> bool) -> anyhow::Result<()> {
        for path in &self.paths {
            if path.as_os_str() == "-" {
                if !self.read_stream(std::io::stdin().lock(), &mut each)? {
                    return Ok(());
                }
                continue;
            }
            if path.is_dir() {
                for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                    let file = match entry {
                        Ok(e) if e.file_type().is_file() => e.into_path(),
                        Ok(_) => continue,
                        Err(e) => {
                            let name = e.path().unwrap_or(path).display().to_string();
                            let item = Item {
                                origin: Origin::File(name),
                                text: Err(format!("cannot read: {}", io_reason(e))),
                            };
                            if !each(item) {
                                return Ok(());
                            }
                            continue;
                        }
                    };
                    if !self.wanted(path, &file) {
                        continue;
                    }
                    if !self.read_path(&file, &mut each)? {
                        return Ok(());
                    }
                }
            } else if !self.read_path(path, &mut each)? {
                return Ok(());
            }
        }
        Ok(())
    }

    fn wanted(&self, root: &Path, file: &Path) -> bool {
        let Some(glob) = &self.glob else {
            return true;
        };
        let below = file.strip_prefix(root).unwrap_or(file);
        glob.is_match(below) || file.file_name().is_some_and(|n| glob.is_match(n))
    }

    fn read_path(&self, path: &Path, each: &mut impl FnMut(Item) -> bool) -> anyhow::Result<bool> {
        let name = path.display().to_string();
        if self.jsonl.is_some() {
            return match std::fs::File::open(path) {
                Ok(f) => self.read_stream(BufReader::with_capacity(1 << 16, f), each),
                Err(e) => Ok(each(Item {
                    origin: Origin::File(name),
                    text: Err(format!("cannot read: {e}")),
                })),
            };
        }
        let text = match std::fs::read(path) {
            Ok(bytes) => utf8(bytes),
            Err(e) => Err(format!("cannot read: {e}")),
        };
        Ok(each(Item {
            origin: Origin::File(name),
            text,
        }))
    }

    /// Reads stdin (or a JSON Lines file): one note, or one record per line.
    fn read_stream(
        &self,
        mut input: impl BufRead,
        each: &mut impl FnMut(Item) -> bool,
    ) -> anyhow::Result<bool> {
        let Some(fields) = &self.jsonl else {
            let mut bytes = Vec::new();
            input.read_to_end(&mut bytes)?;
            return Ok(each(Item {
                origin: Origin::File("-".into()),
                text: utf8(bytes),
            }));
        };
        let mut line = Vec::new();
        let mut number = 0u64;
        loop {
            line.clear();
            if input.read_until(b'\n', &mut line)? == 0 {
                return Ok(true);
            }
            number += 1;
            let body = line.trim_ascii();
            if body.is_empty() {
                continue;
            }
            if !each(record(body, number, fields)) {
                return Ok(false);
            }
        }
    }
}

fn io_reason(e: walkdir::Error) -> String {
    match e.io_error() {
        Some(io) => io.to_string(),
        None => e.to_string(),
    }
}

/// A note file's text. A UTF-8 byte-order mark is dropped (editors do not count it, so
/// columns would be off by one); UTF-16, with a byte-order mark or without one (whose ASCII
/// reads as valid UTF-8 with a NUL after every letter), is refused with what to do.
fn utf8(mut bytes: Vec<u8>) -> Result<String, String> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
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
/// most odd (little-endian) or most even (big-endian) positions. Real notes have no NULs.
fn looks_utf16(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    if head.len() < 8 {
        return false;
    }
    let pairs = head.len() / 2;
    let even = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    even.max(odd) * 2 > pairs
}

/// Parses one JSON Lines record. Error messages name the problem and a position, never
/// the record's content (it is note text).
fn record(body: &[u8], line: u64, fields: &RecordFields) -> Item {
    let fail = |id: Option<Box<RawValue>>, msg: String| Item {
        origin: Origin::Record { line, id },
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
    // Borrowed raw values: only the two fields asked for are decoded.
    let map: std::collections::HashMap<&str, &RawValue> = match serde_json::from_str(s) {
        Ok(m) => m,
        Err(e) => return fail(None, format!("not a JSON object: {e}")),
    };
    let id = map
        .get(fields.id.as_str())
        .map(|v| (*v).to_owned())
        .filter(|v| v.get() != "null");
    let Some(raw) = map.get(fields.text.as_str()) else {
        return fail(id, format!("no \"{}\" field", fields.text));
    };
    match serde_json::from_str::<String>(raw.get()) {
        Ok(text) => Item {
            origin: Origin::Record { line, id },
            text: Ok(text),
        },
        Err(_) if raw.get() == "null" => fail(id, format!("\"{}\" is null", fields.text)),
        Err(_) => fail(id, format!("\"{}\" is not a string", fields.text)),
    }
}

/// Runs `render` over every item of `source` on `jobs` threads and hands the results to
/// `write` in input order, and `None` whenever it is about to wait for more (time to flush).
/// `write` returns false to stop early (a closed pipe); the reader then stops too. At most
/// `window` items are in flight.
pub fn run_ordered<R: Send + 'static>(
    source: Source,
    jobs: usize,
    window: usize,
    render: impl Fn(Item) -> R + Send + Sync + 'static,
    mut write: impl FnMut(Option<R>) -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("check-{i}"))
        .build()?;
    let render = Arc::new(render);
    let window = window.max(1);
    let (permit_tx, permit_rx) = mpsc::sync_channel::<()>(window);
    for _ in 0..window {
        permit_tx.send(())?;
    }
    let (done_tx, done_rx) = mpsc::channel::<(u64, R)>();
    let reader = std::thread::Builder::new()
        .name("check-reader".into())
        .spawn(move || {
            let mut seq = 0u64;
            source.for_each(|item| {
                // Wait for the writer to make room; it is gone if it stopped early.
                if permit_rx.recv().is_err() {
                    return false;
                }
                let tx = done_tx.clone();
                let render = render.clone();
                let n = seq;
                seq += 1;
                pool.spawn(move || {
                    let _ = tx.send((n, render(item)));
                });
                true
            })
        })?;
    let mut pending: BTreeMap<u64, R> = BTreeMap::new();
    let mut next = 0u64;
    let mut stopped = false;
    'recv: loop {
        let (n, r) = match done_rx.try_recv() {
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
        pending.insert(n, r);
        while let Some(r) = pending.remove(&next) {
            next += 1;
            if !write(Some(r))? {
                stopped = true;
                break 'recv;
            }
            // The reader may already be finished; a lost permit is fine then.
            let _ = permit_tx.send(());
        }
    }
    drop(permit_tx);
    if stopped {
        // Leave the reader blocked on stdin or the pool busy: the process is about to exit.
        return Ok(());
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
        }
    }

    #[test]
    fn records_decode_only_their_fields_and_report_errors_without_content() {
        let ok = record(
            br#"{"note_id": 7, "text": "No RP\n", "x": [1]}"#,
            3,
            &fields(),
        );
        assert_eq!(ok.text.as_deref(), Ok("No RP\n"));
        match &ok.origin {
            Origin::Record { line, id } => {
                assert_eq!(*line, 3);
                assert_eq!(id.as_ref().map(|v| v.get()), Some("7"));
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
