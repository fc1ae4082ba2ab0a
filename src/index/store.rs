//! The on-disk index directory: ours, or left untouched.
//!
//! Layout of an index directory `DIR`:
//!
//! ```text
//! DIR/calcinosis-ls-index.json   the marker: format, schema, corpus fingerprint, current generation
//! DIR/gen-<id>/                  one complete tantivy index per build; the marker names the current one
//! DIR/.lock                      serialises builders (an advisory file lock)
//! DIR/.build-<id>/               a build in progress, renamed to gen-<id> once complete
//! ```
//!
//! Invariants:
//! - `DIR` is written to only when it is missing, empty (but for a README.md or .gitignore)
//!   or holds our marker. A directory with anything else in it is refused, whatever it
//!   contains (a stray tantivy `meta.json` proves nothing: deleting "everything but the
//!   marker" on that evidence once deleted a user's notes).
//! - Only paths this module creates are deleted, and only inside a directory that carries
//!   our marker, under the lock: index generations (`gen-*`) other than the current one and
//!   leftover `.build-*` directories.
//! - Readers never see a half-built index: a generation is complete before the marker that
//!   names it replaces the previous one by an atomic rename.
//! - Two processes may share `DIR`: builders take the lock and re-check the marker under it,
//!   so the second one opens what the first built instead of failing or building again. The
//!   first builder of a new directory writes a provisional marker (naming no generation) at
//!   once, so that no other process takes the directory for someone else's meanwhile.

use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tantivy::directory::RamDirectory;
use tantivy::Index;

use super::{schema, KnowledgeIndex, Provenance};
use crate::corpus::{Corpus, SCHEMA_VERSION};
use crate::error::{Error, Result};

/// The marker file that makes a directory ours.
pub const MARKER: &str = "calcinosis-ls-index.json";
/// The version of this directory layout; a marker of another format is rebuilt.
const FORMAT: u32 = 2;
const LOCK: &str = ".lock";
const GENERATION_PREFIX: &str = "gen-";
const BUILD_PREFIX: &str = ".build-";
/// A file made and removed at once to learn whether a directory is writable.
const PROBE_PREFIX: &str = ".write-probe-";
/// Files a user may keep in an otherwise empty index directory (the repository's own
/// `index/` has both).
const TOLERATED: [&str; 2] = ["README.md", ".gitignore"];

#[derive(serde::Serialize, serde::Deserialize)]
struct Marker {
    format: u32,
    schema_version: u32,
    fingerprint: String,
    /// The directory (a name inside `DIR`) holding the current index.
    generation: String,
    documents: u64,
    built_by: String,
}

fn index_error(dir: &Path, message: impl Into<String>) -> Error {
    Error::Index {
        path: Some(dir.to_path_buf()),
        message: message.into(),
    }
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
    if !dir.join(MARKER).exists() {
        write_marker(
            dir,
            &Marker {
                format: FORMAT,
                schema_version: SCHEMA_VERSION,
                fingerprint: String::new(),
                generation: String::new(),
                documents: 0,
                built_by: format!("calcinosis-ls {} (building)", env!("CARGO_PKG_VERSION")),
            },
        )?;
    }
    let previous = read_marker(dir).ok();
    // Another process may have built it while we waited for the lock.
    if rebuild_because.is_some() {
        if let Ok(Ok(ix)) = open_current(corpus, dir) {
            return Ok(ix);
        }
    }
    remove_leftover_builds(dir);
    let id = unique_id(corpus);
    let building = dir.join(format!("{BUILD_PREFIX}{id}"));
    let generation = format!("{GENERATION_PREFIX}{id}");
    let provenance =
        Provenance::Rebuilt(rebuild_because.unwrap_or_else(|| "built on request".to_string()));
    let built = (|| {
        fs::create_dir(&building).map_err(|e| Error::io(&building, e))?;
        let index = Index::create_in_dir(&building, schema().0)
            .map_err(|e| index_error(&building, e.to_string()))?;
        let documents = {
            let ix = KnowledgeIndex::fill(index, corpus, Some(&building), Provenance::InMemory)?;
            ix.reader.searcher().num_docs()
        };
        let target = dir.join(&generation);
        fs::rename(&building, &target).map_err(|e| Error::io(&building, e))?;
        write_marker(
            dir,
            &Marker {
                format: FORMAT,
                schema_version: SCHEMA_VERSION,
                fingerprint: corpus.fingerprint().to_string(),
                generation: generation.clone(),
                documents,
                built_by: format!("calcinosis-ls {}", env!("CARGO_PKG_VERSION")),
            },
        )?;
        Ok(documents)
    })();
    let documents = match built {
        Ok(n) => n,
        Err(e) => {
            let _ = fs::remove_dir_all(&building);
            return Err(e);
        }
    };
    if let Some(old) = previous.filter(|m| m.generation != generation) {
        remove_generation(dir, &old.generation);
    }
    remove_other_generations(dir, &generation);
    let index = open_generation(&dir.join(&generation))?;
    KnowledgeIndex::verified(index, documents, provenance)
        .map_err(|why| index_error(dir, format!("the index just built cannot be read: {why}")))
}

/// The current index if it is usable: `Ok(Ok(index))`; `Ok(Err(reason))` when it must be
/// (re)built; `Err` when `dir` must not be touched at all.
fn open_current(
    corpus: &Corpus,
    dir: &Path,
) -> Result<std::result::Result<KnowledgeIndex, String>> {
    claim(dir)?;
    let marker = match read_marker(dir) {
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
    let index = match open_generation(&dir.join(&marker.generation)) {
        Ok(index) => index,
        Err(e) => return Ok(Err(format!("index is corrupt ({e})"))),
    };
    Ok(KnowledgeIndex::verified(
        index,
        marker.documents,
        Provenance::Opened,
    ))
}

/// Opens a generation; a directory we cannot write to (another user's index, a read-only
/// mount) is read into memory, since tantivy's reader wants to create its lock file.
fn open_generation(path: &Path) -> Result<Index> {
    if !path.is_dir() {
        return Err(index_error(path, "the index generation is missing"));
    }
    if !writable(path) {
        return read_into_memory(path);
    }
    Index::open_in_dir(path).map_err(|e| index_error(path, e.to_string()))
}

fn read_into_memory(path: &Path) -> Result<Index> {
    let ram = RamDirectory::create();
    for entry in fs::read_dir(path).map_err(|e| Error::io(path, e))? {
        let entry = entry.map_err(|e| Error::io(path, e))?;
        let name = entry.file_name();
        // tantivy's lock files: copied, they would read as held.
        let is_lock = name.to_string_lossy().ends_with(".lock");
        if is_lock || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let bytes = fs::read(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        let name = PathBuf::from(name);
        tantivy::directory::Directory::atomic_write(&ram, &name, &bytes)
            .map_err(|e| Error::io(entry.path(), std::io::Error::other(e.to_string())))?;
    }
    Index::open(ram).map_err(|e| index_error(path, e.to_string()))
}

fn writable(dir: &Path) -> bool {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let probe = dir.join(format!("{PROBE_PREFIX}{}-{nanos}", std::process::id()));
    match File::create(&probe) {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
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
    if dir.join(MARKER).is_file() {
        return Ok(());
    }
    // Besides the user's README and .gitignore: what a first build of ours in progress
    // (in this or another process) has made before writing the marker.
    let foreign = fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .find(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            // Our marker may appear between the check above and this listing: another
            // process's first build claimed the directory meanwhile.
            !(TOLERATED.contains(&name.as_ref())
                || name == MARKER
                || name == LOCK
                || name.starts_with(PROBE_PREFIX)
                || is_our_name(&name, BUILD_PREFIX)
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

/// Takes the builders' lock; `None` when the directory is not writable.
fn lock(dir: &Path) -> Result<Option<File>> {
    let path = dir.join(LOCK);
    let file = match fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    file.lock().map_err(|e| Error::io(&path, e))?;
    Ok(Some(file))
}

fn read_marker(dir: &Path) -> std::result::Result<Marker, String> {
    let path = dir.join(MARKER);
    let raw = match fs::read_to_string(&path) {
        Ok(raw) => raw,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(format!("no index at {} yet", dir.display()))
        }
        Err(e) => return Err(format!("marker {} is unreadable ({e})", path.display())),
    };
    serde_json::from_str(&raw).map_err(|e| format!("marker {} is unreadable ({e})", path.display()))
}

/// Replaces the marker atomically: written beside it, then renamed over it.
fn write_marker(dir: &Path, marker: &Marker) -> Result<()> {
    let json = serde_json::to_string_pretty(marker).map_err(|e| index_error(dir, e.to_string()))?;
    let tmp = dir.join(format!(".{MARKER}.{}.tmp", std::process::id()));
    fs::write(&tmp, json).map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, dir.join(MARKER)).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(dir.join(MARKER), e)
    })
}

/// Whether `name` is a plain name this module makes (no path separators, no `..`).
fn is_our_name(name: &str, prefix: &str) -> bool {
    name.starts_with(prefix)
        && name.len() > prefix.len()
        && name[prefix.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn remove_generation(dir: &Path, generation: &str) {
    if is_our_name(generation, GENERATION_PREFIX) {
        let _ = fs::remove_dir_all(dir.join(generation));
    }
}

/// Removes generations other than `current`: ones a marker we could no longer read named,
/// or ones built by a process that lost the race to write the marker. Called under the
/// lock, in a directory that carries our marker. A process still reading one keeps its
/// open files (they are unlinked, not truncated).
fn remove_other_generations(dir: &Path, current: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        if let Some(name) = name.to_str() {
            if name != current && e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_generation(dir, name);
            }
        }
    }
}

/// Removes `.build-*` directories left by a builder that died; called under the lock, so
/// no live builder owns one.
fn remove_leftover_builds(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        if name.to_str().is_some_and(|n| is_our_name(n, BUILD_PREFIX))
            && e.file_type().is_ok_and(|t| t.is_dir())
        {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// A name no other build (in this or another process) uses.
fn unique_id(corpus: &Corpus) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let fp: String = corpus.fingerprint().chars().take(12).collect();
    format!("{fp}-{}-{nanos}", std::process::id())
}
