//! calcinosis-ls: a local knowledge assistant for clinical notes about calcinosis.
//!
//! The crate is the engine; the `calcinosis-ls` binary adapts it to a command line and to
//! the Language Server Protocol, and nothing here knows about either. Data flows one way:
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
//!
//! Privacy: nothing in this crate logs, stores or sends note text. Analysis cannot fail,
//! so note text never ends up in an error either.

pub mod analysis;
pub mod corpus;
pub mod document;
pub mod error;
pub mod index;
pub mod knowledge;
pub mod matcher;
pub mod report;
pub mod text;

pub use error::{Error, Result};
