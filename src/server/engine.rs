//! What the server knows: the knowledge base and the note analyser built from one corpus,
//! and where that corpus's files are on disk (for go-to-definition).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tower_lsp_server::ls_types::{Location, Position, Range, Uri};

use crate::analysis::Analyzer;
use crate::corpus::{Corpus, Statement, EMBEDDED};
use crate::fsread;
use crate::index::KnowledgeIndex;
use crate::knowledge::Knowledge;

/// Knowledge and analyser for one corpus. Swapped whole when the corpus changes. Cloning
/// is much cheaper than building (the fuzzer starts a server per input).
#[derive(Clone)]
pub struct Engine {
    /// The knowledge base.
    pub kb: Knowledge,
    /// The note analyser.
    pub analyzer: Analyzer,
    embedded_dir: OnceLock<Option<PathBuf>>,
}

impl Engine {
    /// Builds an engine over `corpus`, with an on-disk index when `index_dir` is given.
    pub fn build(corpus: Corpus, index_dir: Option<&Path>) -> crate::Result<Engine> {
        let analyzer = Analyzer::new(&corpus);
        let index = match index_dir {
            Some(dir) => KnowledgeIndex::open_or_rebuild(&corpus, dir)?,
            None => KnowledgeIndex::in_memory(&corpus)?,
        };
        // One term matcher for both: `Analyzer::new` builds it from this corpus's lexicon.
        let kb = Knowledge::with_shared_matcher(corpus, index, analyzer.matcher());
        Ok(Engine {
            kb,
            analyzer,
            embedded_dir: OnceLock::new(),
        })
    }

    /// The location of a statement's line in its corpus file on disk. Statements of the
    /// embedded corpus point at a copy written once to the user's cache directory (named by
    /// the corpus fingerprint), never at a path relative to wherever the editor started.
    pub fn locate(&self, s: &Statement) -> Option<Location> {
        let path = if EMBEDDED.iter().any(|(name, _)| *name == s.file) {
            let dir = self
                .embedded_dir
                .get_or_init(|| self.write_embedded())
                .as_ref()?;
            dir.join(Path::new(&s.file).file_name()?)
        } else {
            Path::new(&s.file).canonicalize().ok()?
        };
        let uri = Uri::from_file_path(path)?;
        let line = s.line.saturating_sub(1) as u32;
        Some(Location::new(
            uri,
            Range::new(Position::new(line, 0), Position::new(line, 0)),
        ))
    }

    /// Writes the embedded corpus to `<cache>/calcinosis-ls/corpus-<fingerprint>/` once.
    /// Each file is written beside its final name and renamed over it, so a symbolic link
    /// planted at that name is replaced, never followed; the file beside it is created new
    /// ([`fsread::create_new`]), so a link planted at that temporary name is not written
    /// through either (it was: the name is predictable), and another name is tried.
    fn write_embedded(&self) -> Option<PathBuf> {
        let base = dirs::cache_dir().unwrap_or_else(std::env::temp_dir);
        let fp = &self.kb.corpus().fingerprint()[..12];
        let dir = base.join("calcinosis-ls").join(format!("corpus-{fp}"));
        std::fs::create_dir_all(&dir).ok()?;
        for (name, text) in EMBEDDED {
            let path = dir.join(Path::new(name).file_name()?);
            let current = std::fs::symlink_metadata(&path)
                .is_ok_and(|m| m.is_file() && m.len() == text.len() as u64);
            if !current {
                let tmp = (0..4u32).find_map(|attempt| {
                    let nanos = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.subsec_nanos())
                        .unwrap_or_default();
                    let tmp = dir.join(format!(
                        ".{fp}.{}.{nanos}.{attempt}.tmp",
                        std::process::id()
                    ));
                    fsread::create_new(&tmp, text.as_bytes()).ok().map(|()| tmp)
                })?;
                if std::fs::rename(&tmp, &path).is_err() {
                    let _ = std::fs::remove_file(&tmp);
                    return None;
                }
            }
        }
        Some(dir)
    }
}
