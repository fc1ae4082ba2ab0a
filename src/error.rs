//! One error type for the library: every variant says where the problem is and what to do.

use std::path::PathBuf;

/// Everything that can go wrong while loading knowledge or building its index.
///
/// Note text never appears in an error: analysis of a note cannot fail, and the errors
/// here only concern corpus files, indexes and the file system.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A corpus or lexicon file has a mistake at a known line.
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// The file, as given to the loader (or the embedded name).
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A file or directory could not be read or written.
    // The OS error is part of the message and deliberately not a source (a field named
    // `source` would be one): printed as a chain (`{:#}`), it appeared twice.
    #[error("{}: {error}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The search index could not be built or opened.
    #[error("index {}: {message}", path.as_deref().map(|p| p.display().to_string()).unwrap_or_else(|| "(in memory)".into()))]
    Index {
        /// The on-disk location, if any.
        path: Option<PathBuf>,
        /// What went wrong.
        message: String,
    },
    /// A build was cancelled before it finished (a newer one superseded it, or it made no
    /// progress); nothing it would have produced is used.
    #[error("the build was cancelled")]
    Cancelled,
}

impl Error {
    /// A syntax error at `line` (1-based) of `file`.
    pub fn syntax(file: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        Error::Syntax {
            file: file.into(),
            line,
            message: message.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error: source,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
