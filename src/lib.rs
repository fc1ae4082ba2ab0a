//! calcinosis-ls: a local knowledge assistant for clinical notes about calcinosis.
//!
//! The crate is the engine and, in [`server`], its adapter to the Language Server Protocol;
//! the `calcinosis-ls` binary adds the command line. The engine knows about neither. Data
//! flows one way:
//!
//! ```text
//! corpus files ─► corpus (statements, lexicon, rules) ─► index (tantivy) ─► knowledge
//!                                   │                                         (lookup, search, complete)
//! note text ─► analysis: sections & sentences ─► mentions (matcher) ─► context ─► findings
//! ```
//!
//! - [`corpus`] loads and validates the source files (embedded by default).
//! - [`index`] builds or opens the full-text index over statements and terms.
//! - [`knowledge`] answers questions, looks terms up and completes prefixes.
//! - [`matcher`] finds lexicon terms in any text, misspellings included.
//! - [`analysis`] turns a note into findings with assertions (negated, possible, family…)
//!   and a CREST summary.
//! - [`document`] keeps an editable document and converts positions between UTF-8,
//!   UTF-16 and byte offsets.
//! - [`report`] decides a finding's reported fields; [`output`] writes them as FHIR R4
//!   resources and OMOP CDM `NOTE_NLP` rows.
//! - [`limits`] bounds every input a user controls.
//! - [`fsread`] opens files it did not write (index and corpus directories) without
//!   following links, blocking on pipes or reading past a size cap.
//! - [`cancel`] lets a long build be cancelled between files, segments and terms.
//! - [`server`] (feature `server`, on by default) adapts the engine to the Language Server
//!   Protocol. It is the only module that knows LSP; nothing else depends on it. The
//!   `calcinosis-ls` binary adds the command line (clap) on top.
//!
//! Privacy: nothing in this crate logs, stores or sends note text. Analysis cannot fail,
//! so note text never ends up in an error either.

pub mod analysis;
pub mod cancel;
pub mod corpus;
pub mod document;
pub mod error;
pub mod fsread;
pub mod index;
pub mod knowledge;
pub mod limits;
pub mod matcher;
pub mod output;
pub mod patterns;
pub mod report;
#[cfg(feature = "server")]
pub mod server;
pub mod text;

pub use error::{Error, Result};
