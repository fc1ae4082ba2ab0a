//! The knowledge base's source files: statements, lexicon, assertion triggers and note
//! structure. The default corpus is compiled into the binary (zero set-up); user directories
//! extend it or replace it.
//!
//! Invariant: a loaded [`Corpus`] is valid — every statement has an id unique across files,
//! every surface form names exactly one term — and its [`Corpus::fingerprint`] changes
//! whenever any source byte, the file set or the index schema changes.

mod chunks;
pub mod lexicon;
pub mod rules;
pub mod statements;
pub mod vocabulary;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use lexicon::{Category, Crest, Lexicon, Term, TermId};
pub use rules::{ContextRules, NoteStructure};
pub use statements::{Heading, Source, Statement};
pub use vocabulary::{Contrary, Vocabulary};

use crate::error::{Error, Result};
use crate::fsread::{self, Links, Refusal};
use crate::limits::MAX_CORPUS_FILE_BYTES;

/// The corpus compiled into the binary: `(name, contents)`, names relative to the repo.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "corpus/statements.md",
        include_str!("../../corpus/statements.md"),
    ),
    (
        "corpus/lexicon.toml",
        include_str!("../../corpus/lexicon.toml"),
    ),
    (
        "corpus/context.toml",
        include_str!("../../corpus/context.toml"),
    ),
    (
        "corpus/note-structure.toml",
        include_str!("../../corpus/note-structure.toml"),
    ),
    (
        "corpus/vocabulary.toml",
        include_str!("../../corpus/vocabulary.toml"),
    ),
];

/// The display name of the embedded statements file, whose citations are "of the seed document".
const SEED_STATEMENTS: &str = "corpus/statements.md";

/// Bumped whenever the index schema or the way statements are indexed changes, so that
/// on-disk indexes built by an older binary are seen as stale.
pub const SCHEMA_VERSION: u32 = 2;

/// Which kind of corpus file a name is, by its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Statements,
    Lexicon,
    Context,
    Structure,
    Vocabulary,
}

fn kind_of(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    match name {
        "lexicon.toml" => Some(FileKind::Lexicon),
        "context.toml" => Some(FileKind::Context),
        "note-structure.toml" => Some(FileKind::Structure),
        "vocabulary.toml" => Some(FileKind::Vocabulary),
        "README.md" => None,
        n if n.ends_with(".md") => Some(FileKind::Statements),
        _ => None,
    }
}

/// Everything the knowledge base and the note analyser are built from.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// All statements, ids assigned.
    pub statements: Vec<Statement>,
    /// All headings, including those with no statements.
    pub headings: Vec<Heading>,
    /// The validated lexicon.
    pub lexicon: Lexicon,
    /// Assertion trigger rules.
    pub context: ContextRules,
    /// Section headers and sentence rules for notes.
    pub structure: NoteStructure,
    /// The query vocabulary `ask` understands questions with (optional: empty without one).
    pub vocabulary: Vocabulary,
    /// Directories the files came from, for go-to-definition; empty for the embedded corpus.
    pub dirs: Vec<PathBuf>,
    fingerprint: String,
}

/// Where a corpus comes from: the embedded one, extended by directories, or replaced by
/// them. The command line and the server settings both turn into this.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorpusSource {
    /// Directories whose files extend (or replace) the embedded corpus, in order.
    pub dirs: Vec<PathBuf>,
    /// Use only `dirs`, not the embedded corpus.
    pub replace: bool,
}

impl CorpusSource {
    /// Loads the corpus this source names.
    pub fn load(&self) -> Result<Corpus> {
        if self.dirs.is_empty() && !self.replace {
            Corpus::embedded()
        } else {
            Corpus::load(&self.dirs, self.replace)
        }
    }
}

/// A source file handed to [`Corpus::from_files`].
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Display name used in errors and statements.
    pub name: String,
    /// Its text.
    pub text: String,
}

impl Corpus {
    /// The corpus compiled into the binary.
    pub fn embedded() -> Result<Corpus> {
        Corpus::from_files(Self::embedded_files(), Vec::new())
    }

    /// The files of the embedded corpus, to extend with files of one's own and pass to
    /// [`Corpus::from_files`].
    pub fn embedded_files() -> Vec<SourceFile> {
        EMBEDDED
            .iter()
            .map(|(n, t)| SourceFile {
                name: n.to_string(),
                text: t.to_string(),
            })
            .collect()
    }

    /// Loads `dirs` on top of the embedded corpus, or instead of it when `replace` is set.
    pub fn load(dirs: &[PathBuf], replace: bool) -> Result<Corpus> {
        let mut files = if replace {
            Vec::new()
        } else {
            Self::embedded_files()
        };
        for dir in dirs {
            crate::cancel::checkpoint()?;
            files.extend(read_dir(dir)?);
        }
        Corpus::from_files(files, dirs.to_vec())
    }

    /// Builds a corpus from files already read. Statement files are read in the given order.
    pub fn from_files(files: Vec<SourceFile>, dirs: Vec<PathBuf>) -> Result<Corpus> {
        let mut hasher = Sha256::new();
        hasher.update(format!("calcinosis-ls schema {SCHEMA_VERSION}\n"));
        let mut statements = Vec::new();
        let mut headings = Vec::new();
        let mut lexicon = Lexicon::default();
        let mut context = ContextRules::default();
        let mut structure = NoteStructure::default();
        let mut vocabulary = Vocabulary::default();
        let mut have = (false, false, false);
        for f in &files {
            crate::cancel::checkpoint()?;
            hasher.update(format!("{}\n{}\n", f.name, f.text.len()));
            hasher.update(&f.text);
            match kind_of(Path::new(&f.name)) {
                Some(FileKind::Statements) => {
                    let mut parsed = statements::parse(&f.name, &f.text)?;
                    attach_sources(&f.name, &mut parsed);
                    statements.extend(parsed.statements);
                    headings.extend(parsed.headings);
                }
                Some(FileKind::Lexicon) => {
                    lexicon.extend(&f.name, &f.text)?;
                    have.0 = true;
                }
                Some(FileKind::Context) => {
                    context.extend(&f.name, &f.text)?;
                    have.1 = true;
                }
                Some(FileKind::Structure) => {
                    structure.extend(&f.name, &f.text)?;
                    have.2 = true;
                }
                Some(FileKind::Vocabulary) => vocabulary.extend(&f.name, &f.text)?,
                None => {}
            }
        }
        if statements.is_empty() {
            return Err(Error::syntax(
                files.first().map(|f| f.name.as_str()).unwrap_or("corpus"),
                1,
                "the corpus has no statements: add a Markdown statement file (see corpus/README.md)",
            ));
        }
        for (missing, what) in [
            (!have.0, "lexicon.toml"),
            (!have.1, "context.toml"),
            (!have.2, "note-structure.toml"),
        ] {
            if missing {
                return Err(Error::syntax(
                    what,
                    1,
                    format!("the corpus has no {what}: copy it from the default corpus/ directory"),
                ));
            }
        }
        assign_ids(&mut statements);
        Ok(Corpus {
            statements,
            headings,
            lexicon,
            context,
            structure,
            vocabulary,
            dirs,
            fingerprint: format!("{:x}", hasher.finalize()),
        })
    }

    /// A hex digest of every source file and the schema version.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// Resolves each statement's citation numbers against its file's reference list.
fn attach_sources(file: &str, parsed: &mut statements::ParsedFile) {
    let document = if file == SEED_STATEMENTS {
        "the seed document".to_string()
    } else {
        Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.to_string())
    };
    for s in &mut parsed.statements {
        s.sources = s
            .citations
            .iter()
            .map(|&n| Source {
                number: n,
                reference: parsed
                    .references
                    .iter()
                    .find(|(m, _)| *m == n)
                    .map(|(_, r)| r.clone()),
                document: document.clone(),
            })
            .collect();
    }
}

/// Ids are `slug/n`, n counting statements under the same innermost heading from 1, so
/// adding a statement at the end of a section leaves every other id alone.
fn assign_ids(statements: &mut [Statement]) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for s in statements {
        let slug = statements::slug(s.section.last().map(String::as_str).unwrap_or(""));
        let n = counts.entry(slug.clone()).or_insert(0);
        *n += 1;
        s.id = format!("{slug}/{n}");
    }
}

/// Reads the corpus files of one directory, sorted by name for a stable order. Each file is
/// read through [`fsread`]: links are followed (a corpus may link a shared file), but a
/// loop of links, a named pipe, a device or a directory with a corpus file's name is
/// refused, and so is a file over [`MAX_CORPUS_FILE_BYTES`], before a byte of it is read.
fn read_dir(dir: &Path) -> Result<Vec<SourceFile>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| kind_of(p).is_some())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            if let Err(e) = crate::cancel::checkpoint() {
                return Some(Err(e));
            }
            let name = p.display().to_string();
            let bytes = match fsread::read(&p, MAX_CORPUS_FILE_BYTES, Links::Follow) {
                Ok(bytes) => bytes,
                // A sub-directory named like a corpus file (`notes.md/`) was never read.
                Err(Refusal::NotAFile("a directory")) => return None,
                Err(Refusal::TooLarge { len, max }) => {
                    return Some(Err(Error::syntax(
                        &name,
                        1,
                        format!(
                            "the file is {len} bytes, more than the {max} bytes a corpus file \
                             may have: split it into several files"
                        ),
                    )))
                }
                Err(Refusal::Io(e)) => return Some(Err(Error::io(&p, e))),
                Err(why) => {
                    return Some(Err(Error::syntax(
                        &name,
                        1,
                        format!("{why}: a corpus file must be a plain file (or a link to one)"),
                    )))
                }
            };
            let text = String::from_utf8(bytes).map_err(|e| {
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
                Error::syntax(&name, line, "not valid UTF-8: save the file as UTF-8")
            });
            Some(text.map(|text| SourceFile { name, text }))
        })
        .collect()
}
