//! The on-disk index directory: ours, or left untouched.
//!
//! Layout of an index directory `DIR`:
//!
//! ```text
//! DIR/calcinosis-ls-index.json   the marker: format, schema, corpus fingerprint, current
//!                                generation, and the record of the folders this program made
//! DIR/gen-<id>/                  one complete tantivy index per build; the marker names the current one
//! DIR/.lock                      serialises builders (an advisory file lock)
//! DIR/.build-<id>/               a build in progress, renamed to gen-<id> once complete
//! DIR/*/.calcinosis-ls-stamp     in every folder above, written first: "calcinosis-ls <id>"
//! ```
//!
//! Invariants:
//! - `DIR` is written to only when it is missing, empty (but for a README.md or .gitignore)
//!   or holds our marker. A directory with anything else in it is refused, naming what was
//!   found, whatever it contains (a stray tantivy `meta.json` proves nothing: deleting
//!   "everything but the marker" on that evidence once deleted a user's notes; a user's
//!   `.build-cache/` looked like a build of ours).
//! - What is ours is decided by a record, never by a name: a folder is deleted only when the
//!   marker's record names it AND its stamp, read without following links, names the same
//!   build. Folders without both (a user's `gen-photos/`, generations of a version that
//!   kept no record) are left alone, and a rebuild says so. Deletions happen under the lock.
//! - Every file read here (marker, stamps) is opened without following links and without
//!   blocking, checked to be a regular file on the opened handle and read up to a cap
//!   ([`crate::fsread`]); every file of a generation is checked so before tantivy opens it.
//!   A link, named pipe, device or directory at one of our names is refused with a message
//!   naming it, never read (a marker linked to `/dev/zero` used to be read until memory ran
//!   out; a named pipe hung the process).
//! - Files written here are created new, never through a link planted at their name.
//! - Readers never see a half-built index: a generation is complete before the marker that
//!   names it replaces the previous one by an atomic rename.
//! - Two processes may share `DIR`: builders take the lock and re-check the marker under it,
//!   so the second one opens what the first built instead of failing or building again. The
//!   first builder of a new directory writes a provisional marker (naming no generation) at
//!   once, so that no other process takes the directory for someone else's meanwhile.

use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use tantivy::directory::RamDirectory;
use tantivy::Index;

use super::{schema, KnowledgeIndex, Provenance};
use crate::corpus::{Corpus, SCHEMA_VERSION};
use crate::error::{Error, Result};
use crate::fsread::{self, Links, Refusal};
use crate::limits::{
    MAX_INDEX_FILE_BYTES, MAX_INDEX_META_BYTES, MAX_MARKER_BYTES, MAX_STAMP_BYTES,
};

/// The marker file that makes a directory ours.
pub const MARKER: &str = "calcinosis-ls-index.json";
/// The version of this directory layout; a marker of another format is rebuilt. The record
/// of folders (format 2 markers written before it have none) did not change it: such an
/// index opens as it is, and its folders, unrecorded, are never deleted.
const FORMAT: u32 = 2;
const LOCK: &str = ".lock";
const GENERATION_PREFIX: &str = "gen-";
const BUILD_PREFIX: &str = ".build-";
/// The file, in every folder this program makes in an index directory, that says so.
const STAMP: &str = ".calcinosis-ls-stamp";
/// A file made and removed at once to learn whether a directory is writable.
const PROBE_PREFIX: &str = ".write-probe-";
/// Files a user may keep in an otherwise empty index directory (the repository's own
/// `index/` has both).
const TOLERATED: [&str; 2] = ["README.md", ".gitignore"];
/// tantivy's file listing the segments; it reads it whole, so it has its own cap.
const TANTIVY_META: &str = "meta.json";
/// The provenance of an index built because the user asked for one (`index --out`).
pub const BUILT_ON_REQUEST: &str = "built on request";

#[derive(serde::Serialize, serde::Deserialize)]
struct Marker {
    format: u32,
    schema_version: u32,
    fingerprint: String,
    /// The directory (a name inside `DIR`) holding the current index.
    generation: String,
    documents: u64,
    built_by: String,
    /// Every folder (`gen-*`, `.build-*`) this program made in `DIR` and has not removed:
    /// the record without which nothing is deleted. Absent in markers of older versions.
    #[serde(default)]
    made: Vec<String>,
}

impl Marker {
    /// A marker naming no generation yet: the directory is claimed while its first index
    /// is built.
    fn provisional() -> Marker {
        Marker {
            format: FORMAT,
            schema_version: SCHEMA_VERSION,
            fingerprint: String::new(),
            generation: String::new(),
            documents: 0,
            built_by: format!("calcinosis-ls {} (building)", env!("CARGO_PKG_VERSION")),
            made: Vec::new(),
        }
    }
}

fn index_error(dir: &Path, message: impl Into<String>) -> Error {
    Error::Index {
        path: Some(dir.to_path_buf()),
        message: message.into(),
    }
}

/// The error for a path in an index directory that is not what this program writes there
/// (a link, a named pipe, a device, a directory, an oversized file). It names the entry,
/// never its contents.
fn refused(dir: &Path, name: &str, why: impl std::fmt::Display) -> Error {
    index_error(
        dir,
        format!(
            "{name} {why}; it is not what calcinosis-ls writes there, so it was not read and \
             nothing was changed. Remove it, or choose another directory for the index"
        ),
    )
}

/// Opens the index in `dir` if it matches `corpus`, else builds it there (taking the
/// builders' lock). The provenance says which happened and why.
pub(super) fn open_or_build(corpus: &Corpus, dir: &Path) -> Result<KnowledgeIndex> {
    let why = match open_current(corpus, dir)? {
        Ok(ix) => return Ok(ix),
        Err(why) => why,
    };
    build(corpus, dir, Some(why))
}

/// Builds the index in `dir` even if an up-to-date one is there (`rebuild_because` is
/// `None`), or because the current one cannot be used (`Some(reason)`).
pub(super) fn build(
    corpus: &Corpus,
    dir: &Path,
    rebuild_because: Option<String>,
) -> Result<KnowledgeIndex> {
    claim(dir)?;
    let lock = if writable(dir) { lock(dir)? } else { None };
    let _lock =
        match lock {
            Some(lock) => lock,
            // Not writable (a read-only copy, another user's index): nothing can be built here.
            None => {
                return Err(index_error(
                    dir,
                    format!(
                    "{}, and the directory is not writable; choose a directory you can write to",
                    rebuild_because.as_deref().unwrap_or("cannot build the index")
                ),
                ))
            }
        };
    // Claim the directory at once, so that other processes see it as ours while this
    // build runs (a provisional marker names no generation yet).
    let mut marker = match read_marker(dir)? {
        Ok(m) => m,
        Err(_) => {
            let m = Marker::provisional();
            write_marker(dir, &m)?;
            m
        }
    };
    // Another process may have built it while we waited for the lock.
    if rebuild_because.is_some() {
        if let Ok(Ok(ix)) = open_current(corpus, dir) {
            return Ok(ix);
        }
    }
    let mut left_alone = Vec::new();
    // Builds a builder that died left behind (we hold the lock: no live builder owns one).
    marker.made.retain(|name| {
        !is_our_name(name, BUILD_PREFIX) || !remove_ours(dir, name, &mut left_alone)
    });
    let id = unique_id(corpus);
    let build_name = format!("{BUILD_PREFIX}{id}");
    let building = dir.join(&build_name);
    let generation = format!("{GENERATION_PREFIX}{id}");
    // Recorded before it exists: a crash after this leaves a record of a folder that may
    // be missing (dropped at the next build), never a folder of ours without its record.
    marker.made.push(build_name.clone());
    write_marker(dir, &marker)?;
    let mut provenance = rebuild_because.unwrap_or_else(|| BUILT_ON_REQUEST.to_string());
    let built = (|| {
        fs::create_dir(&building).map_err(|e| Error::io(&building, e))?;
        let stamp = building.join(STAMP);
        fsread::create_new(&stamp, stamp_text(&id).as_bytes()).map_err(|e| Error::io(&stamp, e))?;
        let index = Index::create_in_dir(&building, schema().0)
            .map_err(|e| index_error(&building, e.to_string()))?;
        let documents = {
            let ix = KnowledgeIndex::fill(index, corpus, Some(&building), Provenance::InMemory)?;
            ix.reader.searcher().num_docs()
        };
        share_like_stamp(&building);
        let target = dir.join(&generation);
        fs::rename(&building, &target).map_err(|e| Error::io(&building, e))?;
        Ok(documents)
    })();
    let documents = match built {
        Ok(n) => n,
        Err(e) => {
            // Ours (recorded, and stamped if it got that far). Removed, it leaves the record
            // too; otherwise the record keeps it for the next build to remove.
            remove_ours(dir, &build_name, &mut Vec::new());
            // Made by this call but failed before its stamp: removed only if empty.
            let _ = fs::remove_dir(&building);
            if fs::symlink_metadata(&building).is_err() {
                marker.made.retain(|name| *name != build_name);
                // Failing to prune the record only delays it to the next build.
                let _ = write_marker(dir, &marker);
            }
            return Err(e);
        }
    };
    marker.generation = generation.clone();
    marker.made.retain(|name| *name != build_name);
    marker.made.push(generation.clone());
    marker.format = FORMAT;
    marker.schema_version = SCHEMA_VERSION;
    marker.fingerprint = corpus.fingerprint().to_string();
    marker.documents = documents;
    marker.built_by = format!("calcinosis-ls {}", env!("CARGO_PKG_VERSION"));
    write_marker(dir, &marker)?;
    // Generations other than the new one: the previous one, and ones built by a process
    // that lost the race to write the marker. A process still reading one keeps its open
    // files (they are unlinked, not truncated).
    let before = marker.made.len();
    marker
        .made
        .retain(|name| *name == generation || !remove_ours(dir, name, &mut left_alone));
    if marker.made.len() != before {
        // Failing to prune the record only delays it to the next build.
        let _ = write_marker(dir, &marker);
    }
    note_unrecorded(dir, &marker, &mut left_alone);
    if !left_alone.is_empty() {
        left_alone.sort();
        left_alone.dedup();
        provenance = format!(
            "{provenance}; left alone, as not recorded and stamped as made by this program: \
             {} (delete them yourself if they are not needed)",
            left_alone.join(", ")
        );
    }
    let index = open_generation(dir, &generation)?;
    KnowledgeIndex::verified(index, documents, Provenance::Rebuilt(provenance))
        .map_err(|why| index_error(dir, format!("the index just built cannot be read: {why}")))
}

/// The current index if it is usable: `Ok(Ok(index))`; `Ok(Err(reason))` when it must be
/// (re)built; `Err` when `dir` must not be touched at all.
fn open_current(
    corpus: &Corpus,
    dir: &Path,
) -> Result<std::result::Result<KnowledgeIndex, String>> {
    claim(dir)?;
    let marker = match read_marker(dir)? {
        Ok(m) => m,
        Err(why) => return Ok(Err(why)),
    };
    if marker.generation.is_empty() {
        return Ok(Err(format!("no index at {} yet", dir.display())));
    }
    if marker.format != FORMAT || marker.schema_version != SCHEMA_VERSION {
        return Ok(Err(format!(
            "the index was built by another version ({})",
            marker.built_by
        )));
    }
    if marker.fingerprint != corpus.fingerprint() {
        return Ok(Err(
            "the corpus changed since the index was built (stale fingerprint)".into(),
        ));
    }
    if !is_our_name(&marker.generation, GENERATION_PREFIX) {
        return Ok(Err(format!(
            "the marker names {:?}, which is not an index generation",
            marker.generation
        )));
    }
    let index = match open_generation(dir, &marker.generation) {
        Ok(index) => index,
        Err(Unusable::Refused(e)) => return Err(e),
        Err(Unusable::NotPermitted(why)) => return Ok(Err(why)),
        Err(Unusable::Corrupt(why)) => return Ok(Err(format!("index is corrupt ({why})"))),
    };
    Ok(KnowledgeIndex::verified(
        index,
        marker.documents,
        Provenance::Opened,
    ))
}

/// Why a generation could not be opened.
enum Unusable {
    /// Something at one of its names that this program does not write: never touched.
    Refused(Error),
    /// Made by another user and not readable by this one: not corrupt, not ours to fix.
    NotPermitted(String),
    /// Missing or damaged: rebuilt.
    Corrupt(String),
}

impl From<Unusable> for Error {
    fn from(u: Unusable) -> Error {
        match u {
            Unusable::Refused(e) => e,
            Unusable::NotPermitted(why) | Unusable::Corrupt(why) => Error::Index {
                path: None,
                message: why,
            },
        }
    }
}

/// Opens generation `name` of `dir`. Every file in it is first checked to be a regular
/// file within its cap, never a link (tantivy would follow it) or a named pipe (tantivy
/// would block opening it). A directory we cannot write to (another user's index, a
/// read-only mount) is read into memory, since tantivy's reader wants to create its lock
/// file.
fn open_generation(dir: &Path, name: &str) -> std::result::Result<Index, Unusable> {
    let path = dir.join(name);
    match fs::symlink_metadata(&path) {
        Ok(m) if m.is_dir() => {}
        Ok(m) => {
            let what = fsread::kind_of(&m).unwrap_or("a file");
            return Err(Unusable::Refused(refused(
                dir,
                name,
                format!("is {what}, not a directory"),
            )));
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(Unusable::Corrupt("the index generation is missing".into()))
        }
        Err(e) => return Err(Unusable::Corrupt(e.to_string())),
    }
    let files = checked_files(dir, name)?;
    if !writable(&path) {
        return read_into_memory(dir, name, &files);
    }
    Index::open_in_dir(&path).map_err(|e| Unusable::Corrupt(e.to_string()))
}

/// The files of generation `name`, each checked (without following links or blocking) to
/// be a regular file within its cap. Sub-directories are refused too: tantivy makes none.
fn checked_files(dir: &Path, name: &str) -> std::result::Result<Vec<String>, Unusable> {
    let path = dir.join(name);
    let entries = fs::read_dir(&path).map_err(|e| permission_or_corrupt(dir, name, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| permission_or_corrupt(dir, name, e))?;
        let file = entry.file_name();
        let shown = format!("{name}/{}", file.to_string_lossy());
        let Some(file) = file.to_str() else {
            return Err(Unusable::Refused(refused(
                dir,
                &shown,
                "has a name that is not UTF-8",
            )));
        };
        let cap = if file == TANTIVY_META {
            MAX_INDEX_META_BYTES
        } else {
            MAX_INDEX_FILE_BYTES
        };
        match fsread::check(&entry.path(), cap, Links::Refuse) {
            Ok(_) => files.push(file.to_string()),
            // Gone since listed (tantivy's own lock files come and go).
            Err(Refusal::Missing) => {}
            Err(Refusal::Io(e)) => return Err(permission_or_corrupt(dir, &shown, e)),
            Err(why) => return Err(Unusable::Refused(refused(dir, &shown, &why))),
        }
    }
    Ok(files)
}

fn permission_or_corrupt(dir: &Path, name: &str, e: std::io::Error) -> Unusable {
    if e.kind() == ErrorKind::PermissionDenied {
        Unusable::NotPermitted(not_permitted(dir, name))
    } else {
        Unusable::Corrupt(format!("{name}: {e}"))
    }
}

fn not_permitted(dir: &Path, name: &str) -> String {
    format!(
        "{name} in the index at {} cannot be read by this user (permission denied): it was \
         made by another user. Ask them to make it readable (chmod -R a+rX on the directory), \
         or choose a directory of your own",
        dir.display()
    )
}

/// Reads generation `name` (its checked `files`) into memory, each through
/// [`fsread::BoundedFile`].
fn read_into_memory(
    dir: &Path,
    name: &str,
    files: &[String],
) -> std::result::Result<Index, Unusable> {
    let path = dir.join(name);
    let ram = RamDirectory::create();
    for file in files {
        // tantivy's lock files: copied, they would read as held. The stamp is ours, and
        // tantivy's list of its own files only serves its garbage collection.
        if file.ends_with(".lock") || file == STAMP || file == ".managed.json" {
            continue;
        }
        let shown = format!("{name}/{file}");
        let bytes = match fsread::read(&path.join(file), MAX_INDEX_FILE_BYTES, Links::Refuse) {
            Ok(bytes) => bytes,
            Err(Refusal::Io(e)) => return Err(permission_or_corrupt(dir, &shown, e)),
            Err(why) => return Err(Unusable::Refused(refused(dir, &shown, &why))),
        };
        tantivy::directory::Directory::atomic_write(&ram, Path::new(file), &bytes)
            .map_err(|e| Unusable::Corrupt(e.to_string()))?;
    }
    Index::open(ram).map_err(|e| Unusable::Corrupt(e.to_string()))
}

/// tantivy writes `meta.json` and `.managed.json` readable by their owner alone (its
/// temporary files are made so), which made an index shared with other users unreadable
/// to them, and called corrupt. They get the permissions of the stamp, made as any file
/// of the user's (their umask).
fn share_like_stamp(building: &Path) {
    let Ok(stamp) = fs::metadata(building.join(STAMP)) else {
        return;
    };
    for file in [TANTIVY_META, ".managed.json"] {
        let _ = fs::set_permissions(building.join(file), stamp.permissions());
    }
}

/// Whether this process can create files in `dir` (a probe file, created new and removed).
fn writable(dir: &Path) -> bool {
    for attempt in 0..4u32 {
        let probe = dir.join(format!("{PROBE_PREFIX}{}", unique_suffix(attempt)));
        match fsread::create_new(&probe, b"") {
            Ok(()) => {
                let _ = fs::remove_file(&probe);
                return true;
            }
            // Someone else's file (or link) at the name: try another.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(_) => return false,
        }
    }
    false
}

/// Checks that `dir` may be used: missing (then created), a directory with our marker, or
/// an empty one. Anything else is refused with a message saying what to do.
fn claim(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return fs::create_dir_all(dir).map_err(|e| Error::io(dir, e));
        }
        Err(e) => return Err(Error::io(dir, e)),
        Ok(m) if !m.is_dir() => {
            return Err(index_error(
                dir,
                "this is a file, not a directory; give --index (or indexDir) a directory",
            ))
        }
        Ok(_) => {}
    }
    match fs::symlink_metadata(dir.join(MARKER)) {
        Ok(m) if m.is_file() => return Ok(()),
        // A link, pipe or directory at our marker's name: not ours, and never read.
        Ok(m) => {
            let what = Refusal::NotAFile(fsread::kind_of(&m).unwrap_or("a special file"));
            return Err(refused(dir, MARKER, &what));
        }
        Err(_) => {}
    }
    // Besides the user's README and .gitignore: what a first build of ours in progress
    // (in this or another process) makes before its marker: the lock, probes, the
    // marker's temporary file. Not a `.build-*` folder: a build records itself in a
    // marker before it makes one, so without a marker such a folder is someone else's.
    let entries: Vec<fs::DirEntry> = fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .collect();
    // Our marker may appear between the check above and this listing: another process's
    // first build claimed the directory meanwhile, and may already have made its `.build-*`
    // folder. The marker decides then (the caller reads it), not what the build made.
    if entries.iter().any(|e| e.file_name() == MARKER) {
        return Ok(());
    }
    let foreign = entries.into_iter().find(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        !(TOLERATED.contains(&name.as_ref())
            || name == LOCK
            || name.starts_with(PROBE_PREFIX)
            || (name.starts_with(&format!(".{MARKER}.")) && name.ends_with(".tmp")))
    });
    match foreign {
        None => Ok(()),
        Some(e) => Err(index_error(
            dir,
            format!(
                "the directory is not empty and holds no calcinosis-ls index (no {MARKER}; \
                 found {:?}); nothing was changed. Choose an empty or new directory for the index",
                e.file_name()
            ),
        )),
    }
}

/// Takes the builders' lock; `None` when the directory is not writable. The lock file is
/// opened without blocking and without following a link: a named pipe there is refused,
/// not waited on for ever.
fn lock(dir: &Path) -> Result<Option<File>> {
    let path = dir.join(LOCK);
    let file = match fsread::open_or_create(&path) {
        Ok(f) => f,
        Err(Refusal::Io(e))
            if matches!(
                e.kind(),
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            return Ok(None)
        }
        Err(Refusal::Io(e)) => return Err(Error::io(path, e)),
        Err(why) => return Err(refused(dir, LOCK, &why)),
    };
    file.lock().map_err(|e| Error::io(&path, e))?;
    Ok(Some(file))
}

/// The marker: `Ok(Ok(marker))`; `Ok(Err(reason))` when there is none or it does not
/// parse (then the index is rebuilt); `Err` when something other than a plain file of a
/// sane size is at its name (then nothing is touched).
fn read_marker(dir: &Path) -> Result<std::result::Result<Marker, String>> {
    let path = dir.join(MARKER);
    let raw = match fsread::read(&path, MAX_MARKER_BYTES, Links::Refuse) {
        Ok(raw) => raw,
        Err(Refusal::Missing) => return Ok(Err(format!("no index at {} yet", dir.display()))),
        Err(why) if why.is_permission() => return Ok(Err(not_permitted(dir, MARKER))),
        Err(Refusal::Io(e)) => {
            return Ok(Err(format!(
                "marker {} is unreadable ({e})",
                path.display()
            )))
        }
        Err(why) => return Err(refused(dir, MARKER, &why)),
    };
    Ok(serde_json::from_slice(&raw)
        .map_err(|e| format!("marker {} is unreadable ({e})", path.display())))
}

/// Replaces the marker atomically: written beside it (created new, so never through a
/// planted link), then renamed over it.
fn write_marker(dir: &Path, marker: &Marker) -> Result<()> {
    let json = serde_json::to_string_pretty(marker).map_err(|e| index_error(dir, e.to_string()))?;
    let mut last = None;
    for attempt in 0..4u32 {
        let tmp = dir.join(format!(".{MARKER}.{}.tmp", unique_suffix(attempt)));
        match fsread::create_new(&tmp, json.as_bytes()) {
            Ok(()) => {
                return fs::rename(&tmp, dir.join(MARKER)).map_err(|e| {
                    let _ = fs::remove_file(&tmp);
                    Error::io(dir.join(MARKER), e)
                })
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => last = Some((tmp, e)),
            Err(e) => return Err(Error::io(&tmp, e)),
        }
    }
    match last {
        Some((tmp, e)) => Err(Error::io(tmp, e)),
        None => Err(index_error(dir, "cannot write the marker")),
    }
}

/// Whether `name` is a plain name this module makes (no path separators, no `..`).
fn is_our_name(name: &str, prefix: &str) -> bool {
    name.starts_with(prefix)
        && name.len() > prefix.len()
        && name[prefix.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The build id in a folder name of ours.
fn id_of(name: &str) -> Option<&str> {
    [GENERATION_PREFIX, BUILD_PREFIX]
        .into_iter()
        .find(|p| is_our_name(name, p))
        .map(|p| &name[p.len()..])
}

/// What the stamp of build `id` says.
fn stamp_text(id: &str) -> String {
    format!("calcinosis-ls {id}\n")
}

/// Removes folder `name` of `dir`, which the marker's record names, if its stamp (read
/// without following links) names the same build; otherwise leaves it, adding it to
/// `left_alone` if it is there. Returns whether the record may forget it (removed, or
/// gone).
fn remove_ours(dir: &Path, name: &str, left_alone: &mut Vec<String>) -> bool {
    let Some(id) = id_of(name) else {
        return true;
    };
    let path = dir.join(name);
    match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return true,
        Ok(m) if m.is_dir() => {}
        _ => {
            left_alone.push(name.to_string());
            return true;
        }
    }
    let stamped = fsread::read(&path.join(STAMP), MAX_STAMP_BYTES, Links::Refuse)
        .is_ok_and(|s| s == stamp_text(id).as_bytes());
    if !stamped {
        left_alone.push(name.to_string());
        return true;
    }
    // remove_dir_all does not follow links inside. On failure the record keeps the name,
    // and the next build tries again.
    fs::remove_dir_all(&path).is_ok()
}

/// Adds to `left_alone` the folders of `dir` named like ours that the record does not
/// name: a user's `gen-photos/`, or a generation of a version that kept no record. They
/// are never deleted; the user is told they are there.
fn note_unrecorded(dir: &Path, marker: &Marker, left_alone: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let ours_by_name = name.starts_with(GENERATION_PREFIX) || name.starts_with(BUILD_PREFIX);
        if ours_by_name && !marker.made.contains(&name) {
            left_alone.push(name);
        }
    }
}

/// A suffix no other process (nor this one, an instant later) uses.
fn unique_suffix(attempt: u32) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{nanos}-{attempt}", std::process::id())
}

/// A name no other build (in this or another process) uses.
fn unique_id(corpus: &Corpus) -> String {
    let fp: String = corpus.fingerprint().chars().take(12).collect();
    format!("{fp}-{}", unique_suffix(0))
}
