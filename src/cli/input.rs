//! What the command line reads and writes, bounded and without quoting it: lines read with a
//! length cap, file names shown unambiguously, I/O failures worded as what to do, and
//! messages to stderr that never panic (a full or closed stderr is not a reason to crash).

use std::io::{BufRead, Write};
use std::path::Path;

/// One line read by [`read_line_bounded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The line's length in bytes, without its `\n`, including any part not kept.
    pub len: u64,
    /// Part of the line was not kept (it was longer than the cap).
    pub truncated: bool,
    /// The kept part holds a NUL byte and the rest was not read: the input is binary (or
    /// UTF-16), and a line of it may never end (`/dev/zero`).
    pub binary: bool,
}

/// Reads one line (through `\n`, which is not kept) into `buf`, keeping at most `max` bytes
/// of it and reading past the rest, so that memory follows `max`, not the line. Returns
/// `None` at the end of the input. A line whose kept part holds a NUL byte is not read past
/// its cap ([`Line::binary`]): the caller stops reading such an input.
pub fn read_line_bounded(
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<Line>> {
    buf.clear();
    let mut len = 0u64;
    let mut any = false;
    // Looked for in each piece as it is kept, not in the whole buffer again per read.
    let mut nul = false;
    loop {
        let avail = match input.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok(any.then_some(Line {
                len,
                truncated: len > buf.len() as u64,
                binary: false,
            }));
        }
        any = true;
        let (part, used, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (&avail[..i], i + 1, true),
            None => (avail, avail.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        let kept = &part[..part.len().min(room)];
        nul = nul || memchr::memchr(0, kept).is_some();
        buf.extend_from_slice(kept);
        len += part.len() as u64;
        input.consume(used);
        if done {
            return Ok(Some(Line {
                len,
                truncated: len > buf.len() as u64,
                binary: false,
            }));
        }
        if nul && buf.len() >= max {
            return Ok(Some(Line {
                len,
                truncated: true,
                binary: true,
            }));
        }
    }
}

/// A path as shown to the user: as it is when it is UTF-8; otherwise quoted, with the bytes
/// that are not UTF-8 as `\xNN` (and `\` and `"` escaped), so that two different names never
/// print alike (`display()` would turn every such byte into the same `�`).
pub fn path_name(path: &Path) -> String {
    match path.to_str() {
        Some(s) => s.to_string(),
        None => format!("{:?}", path.as_os_str()),
    }
}

/// Why an I/O operation failed, worded for the user: what happened and, where there is
/// one, what to do. Never holds the data being read or written.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::StorageFull => "the disk is full (no space left on the device): free some space or \
                           write elsewhere"
            .into(),
        K::QuotaExceeded => "the disk quota is exceeded: free some space or write elsewhere".into(),
        K::PermissionDenied => "permission denied".into(),
        K::NotFound => "no such file or directory".into(),
        K::IsADirectory => "it is a directory".into(),
        _ => e.to_string(),
    }
}

/// A failure to write standard output, worded for the user.
pub fn write_error(what: &str, e: &std::io::Error) -> anyhow::Error {
    anyhow::anyhow!("cannot write {what}: {}", io_reason(e))
}

/// What plain `calcinosis-ls` (the language server) says when stdin is a terminal: someone
/// typed the command by hand, and a server silently waiting for LSP messages looks hung.
pub const SERVE_TERMINAL_HINT: &str = "this is a language server: it waits for an editor to \
speak LSP on stdin. Press Ctrl-D (or Ctrl-C) to leave; `calcinosis-ls --help` lists the \
commands (ask, check, index)";

/// What `calcinosis-ls check` says when it reads a note from a terminal.
pub const CHECK_TERMINAL_HINT: &str = "reading a note from stdin: type or paste it, then \
press Ctrl-D on a line of its own to check it (or name files: `calcinosis-ls check --help`)";

/// What `calcinosis-ls check --input jsonl` says when it reads records from a terminal.
pub const CHECK_JSONL_TERMINAL_HINT: &str = "reading JSON Lines records from stdin, one note \
per line: press Ctrl-D on a line of its own to end them (or name files: \
`calcinosis-ls check --help`)";

/// Says `hint` on stderr when stdin is a terminal (a person, not an editor or a pipe, is on
/// the other end); says nothing otherwise, so scripts and editors see no change.
pub fn terminal_hint(hint: &str) {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        warn(format_args!("{hint}"));
    }
}

/// Prints `calcinosis-ls: {message}` on stderr. Never panics (`eprintln!` does when stderr
/// is full); a message that cannot be written is lost, not fatal.
pub fn warn(message: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "calcinosis-ls: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_up_to_the_cap_and_read_past_it() {
        let data = b"short\nmuch longer line\n\nlast";
        let mut r = std::io::BufReader::with_capacity(4, &data[..]);
        let mut buf = Vec::new();
        let l = read_line_bounded(&mut r, &mut buf, 8).unwrap().unwrap();
        assert_eq!(
            (buf.as_slice(), l.len, l.truncated),
            (&b"short"[..], 5, false)
        );
        let l = read_line_bounded(&mut r, &mut buf, 8).unwrap().unwrap();
        assert_eq!(
            (buf.as_slice(), l.len, l.truncated),
            (&b"much lon"[..], 16, true)
        );
        let l = read_line_bounded(&mut r, &mut buf, 8).unwrap().unwrap();
        assert_eq!((buf.len(), l.len), (0, 0));
        let l = read_line_bounded(&mut r, &mut buf, 8).unwrap().unwrap();
        assert_eq!((buf.as_slice(), l.truncated), (&b"last"[..], false));
        assert_eq!(read_line_bounded(&mut r, &mut buf, 8).unwrap(), None);
    }

    #[test]
    fn an_endless_binary_line_stops_at_the_cap() {
        let mut zeros = std::io::BufReader::new(std::io::repeat(0));
        let mut buf = Vec::new();
        let l = read_line_bounded(&mut zeros, &mut buf, 1000)
            .unwrap()
            .unwrap();
        assert!(l.binary && buf.len() == 1000);
    }

    #[test]
    fn non_utf8_names_are_shown_apart() {
        use std::os::unix::ffi::OsStrExt;
        let a = Path::new(std::ffi::OsStr::from_bytes(b"n\xff.txt"));
        let b = Path::new(std::ffi::OsStr::from_bytes(b"n\xfe.txt"));
        assert_ne!(path_name(a), path_name(b));
        assert_eq!(path_name(a), "\"n\\xFF.txt\"");
        assert_eq!(path_name(Path::new("a/é.txt")), "a/é.txt");
    }
}
