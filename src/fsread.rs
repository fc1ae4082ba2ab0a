//! Opening files this program did not necessarily write (an index directory, a corpus
//! directory) without trusting what is at the name.
//!
//! Reading a path with `std::fs::read` follows a symbolic link to `/dev/zero` and reads
//! for ever, blocks for ever on a named pipe with no writer, and reads a 1 GiB file whole.
//! [`BoundedFile`] opens non-blocking (and, where asked, without following a final
//! symbolic link), checks on the opened handle (`fstat`, so nothing can be swapped in
//! between the check and the read) that it is a regular file no larger than a cap, and
//! reads at most that cap even if the file grows meanwhile. [`create_new`] writes a file
//! that did not exist, never through a link planted at its name.
//!
//! The index store and the corpus loader both read through here; errors name the path and
//! say what it is, never what it holds.

use std::fmt;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::Path;

/// Whether a symbolic link at the final component of a path is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Followed (a corpus file may be a link to a shared copy); a loop is an error.
    Follow,
    /// Refused: every file in an index directory is one this program wrote, never a link.
    Refuse,
}

/// Why a path was not read. The message names what the path is, never its contents.
#[derive(Debug)]
pub enum Refusal {
    /// Nothing at the path.
    Missing,
    /// Something that is not a regular file: a named pipe, a device, a directory, a
    /// socket, or (with [`Links::Refuse`]) a symbolic link.
    NotAFile(&'static str),
    /// A regular file larger than the cap.
    TooLarge {
        /// Its size in bytes (at least `max + 1` when it grew while being read).
        len: u64,
        /// The cap.
        max: u64,
    },
    /// The operating system's error (permissions, I/O).
    Io(std::io::Error),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Missing => f.write_str("does not exist"),
            Refusal::NotAFile(what) => write!(f, "is {what}, not a regular file"),
            Refusal::TooLarge { len, max } => {
                write!(f, "is {len} bytes, more than the limit of {max} bytes")
            }
            Refusal::Io(e) => write!(f, "cannot be read ({e})"),
        }
    }
}

impl Refusal {
    /// Whether the path was simply not there.
    pub fn is_missing(&self) -> bool {
        matches!(self, Refusal::Missing)
    }

    /// Whether the operating system refused access (another user's file, a read-only mount).
    pub fn is_permission(&self) -> bool {
        matches!(self, Refusal::Io(e) if e.kind() == ErrorKind::PermissionDenied)
    }

    fn from_open(path: &Path, e: std::io::Error, links: Links) -> Refusal {
        if e.kind() == ErrorKind::NotFound {
            return Refusal::Missing;
        }
        // O_NOFOLLOW on a link fails with ELOOP (EMLINK on some BSDs); following, ELOOP
        // is a loop of links. A FIFO opened for writing with no reader fails with ENXIO.
        #[cfg(unix)]
        match e.raw_os_error() {
            Some(libc::ELOOP) | Some(libc::EMLINK) => {
                return Refusal::NotAFile(match links {
                    Links::Refuse => "a symbolic link",
                    Links::Follow => "a loop of symbolic links",
                });
            }
            Some(libc::ENXIO) => {
                if let Some(what) = describe_path(path, links) {
                    return Refusal::NotAFile(what);
                }
            }
            _ => {}
        }
        let _ = (path, links);
        Refusal::Io(e)
    }
}

/// What kind of thing `metadata` describes, for a message, when it is not a regular file
/// (`None` for a regular file).
pub fn kind_of(metadata: &Metadata) -> Option<&'static str> {
    let t = metadata.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    if t.is_symlink() {
        return Some("a symbolic link");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("a special file")
}

/// What is at `path` when it is not a regular file (looked at without opening it).
fn describe_path(path: &Path, links: Links) -> Option<&'static str> {
    let metadata = match links {
        Links::Refuse => std::fs::symlink_metadata(path),
        Links::Follow => std::fs::metadata(path),
    };
    metadata.ok().as_ref().and_then(kind_of)
}

/// The flags every open here adds: never block (a FIFO with no writer would block an open
/// for reading for ever), and with [`Links::Refuse`] never follow a final symbolic link.
#[cfg(unix)]
fn flags(links: Links) -> i32 {
    libc::O_NONBLOCK
        | match links {
            Links::Refuse => libc::O_NOFOLLOW,
            Links::Follow => 0,
        }
}

fn with_flags(options: &mut OpenOptions, links: Links) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(flags(links));
    }
    #[cfg(not(unix))]
    let _ = links;
    options
}

/// Opens `path` with `options` and the safe flags, then checks on the handle that it is a
/// regular file. Devices are refused before they are opened (opening one can have effects).
fn open_regular(path: &Path, options: &OpenOptions, links: Links) -> Result<File, Refusal> {
    if let Some(what) = describe_path(path, links) {
        return Err(Refusal::NotAFile(what));
    }
    let file = options
        .open(path)
        .map_err(|e| Refusal::from_open(path, e, links))?;
    let metadata = file.metadata().map_err(Refusal::Io)?;
    match kind_of(&metadata) {
        None => Ok(file),
        Some(what) => Err(Refusal::NotAFile(what)),
    }
}

/// A regular file opened for reading, no larger than a cap. See the module documentation.
#[derive(Debug)]
pub struct BoundedFile {
    file: File,
    len: u64,
    max: u64,
}

impl BoundedFile {
    /// Opens `path` for reading if it is a regular file of at most `max` bytes.
    pub fn open(path: &Path, max: u64, links: Links) -> Result<BoundedFile, Refusal> {
        let file = open_regular(
            path,
            with_flags(OpenOptions::new().read(true), links),
            links,
        )?;
        let len = file.metadata().map_err(Refusal::Io)?.len();
        if len > max {
            return Err(Refusal::TooLarge { len, max });
        }
        Ok(BoundedFile { file, len, max })
    }

    /// The size the file had when opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file was empty when opened.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads the file, at most the cap: a file that grew past it since it was opened is
    /// refused, not read on.
    pub fn read(self) -> Result<Vec<u8>, Refusal> {
        let mut bytes = Vec::with_capacity(usize::try_from(self.len).unwrap_or(0));
        let max = self.max;
        self.file
            .take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(Refusal::Io)?;
        if bytes.len() as u64 > max {
            return Err(Refusal::TooLarge {
                len: bytes.len() as u64,
                max,
            });
        }
        Ok(bytes)
    }
}

/// Reads `path` whole if it is a regular file of at most `max` bytes.
pub fn read(path: &Path, max: u64, links: Links) -> Result<Vec<u8>, Refusal> {
    BoundedFile::open(path, max, links)?.read()
}

/// Checks, without reading, that `path` is a regular file of at most `max` bytes (a file
/// another library will open: a named pipe there would block it, a device feed it for ever).
pub fn check(path: &Path, max: u64, links: Links) -> Result<u64, Refusal> {
    BoundedFile::open(path, max, links).map(|f| f.len())
}

/// Opens (creating it if missing) a regular file for reading and writing, never through a
/// symbolic link and never blocking: for a lock file, which may then be locked.
pub fn open_or_create(path: &Path) -> Result<File, Refusal> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    open_regular(path, with_flags(&mut options, Links::Refuse), Links::Refuse)
}

/// Writes `bytes` to `path`, which must not exist: a file (or a link planted at the name)
/// already there is an `AlreadyExists` error, never written through.
pub fn create_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    let mut file = with_flags(&mut options, Links::Refuse).open(path)?;
    file.write_all(bytes)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().expect("temporary directory")
    }

    #[test]
    fn reads_a_regular_file_up_to_the_cap() {
        let dir = tmp();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello").unwrap();
        assert_eq!(read(&p, 5, Links::Refuse).unwrap(), b"hello");
        let e = read(&p, 4, Links::Refuse).unwrap_err();
        assert!(matches!(e, Refusal::TooLarge { len: 5, max: 4 }), "{e}");
        assert!(read(&dir.path().join("none"), 5, Links::Refuse)
            .unwrap_err()
            .is_missing());
    }

    #[test]
    fn refuses_dev_zero_through_a_link_or_not() {
        let dir = tmp();
        let link = dir.path().join("marker");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let e = read(&link, 1 << 20, Links::Refuse).unwrap_err();
        assert_eq!(e.to_string(), "is a symbolic link, not a regular file");
        let e = read(&link, 1 << 20, Links::Follow).unwrap_err();
        assert_eq!(e.to_string(), "is a device, not a regular file");
        let e = read(Path::new("/dev/zero"), 1 << 20, Links::Follow).unwrap_err();
        assert!(matches!(e, Refusal::NotAFile("a device")));
    }

    #[test]
    fn refuses_a_fifo_without_blocking() {
        let dir = tmp();
        let fifo = dir.path().join("pipe");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // No writer: a blocking open would never return.
        let e = read(&fifo, 10, Links::Refuse).unwrap_err();
        assert_eq!(e.to_string(), "is a named pipe (FIFO), not a regular file");
        let e = open_or_create(&fifo).unwrap_err();
        assert_eq!(e.to_string(), "is a named pipe (FIFO), not a regular file");
    }

    #[test]
    fn refuses_a_directory_a_link_loop_and_a_link_to_a_file() {
        let dir = tmp();
        let e = read(dir.path(), 10, Links::Follow).unwrap_err();
        assert_eq!(e.to_string(), "is a directory, not a regular file");
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let e = read(&a, 10, Links::Follow).unwrap_err();
        assert_eq!(
            e.to_string(),
            "is a loop of symbolic links, not a regular file"
        );
        let real = dir.path().join("real");
        std::fs::write(&real, "x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(read(&link, 10, Links::Follow).unwrap(), b"x");
        assert!(read(&link, 10, Links::Refuse).is_err());
        assert!(open_or_create(&link).is_err(), "a lock is never a link");
    }

    #[test]
    fn create_new_never_writes_through_a_planted_link() {
        let dir = tmp();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let planted = dir.path().join("tmp");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let e = create_new(&planted, b"corpus").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let fresh = dir.path().join("fresh");
        create_new(&fresh, b"corpus").unwrap();
        assert_eq!(std::fs::read(&fresh).unwrap(), b"corpus");
    }

    #[test]
    fn a_sparse_file_past_the_cap_is_refused_before_reading() {
        let dir = tmp();
        let p = dir.path().join("big");
        let f = File::create(&p).unwrap();
        f.set_len(1 << 30).unwrap();
        let e = BoundedFile::open(&p, 1 << 20, Links::Follow).unwrap_err();
        assert!(matches!(e, Refusal::TooLarge { len, .. } if len == 1 << 30));
    }
}
