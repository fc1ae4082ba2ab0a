//! Go to definition (a term's best statement in the corpus), document symbols (the note's
//! CREST findings) and workspace symbols (a question box over the statements).

use tower_lsp_server::ls_types::{DocumentSymbol, Location, SymbolInformation, SymbolKind, Uri};

use crate::analysis::Analysis;
use crate::document::{Document, Encoding};

use super::convert;
use super::engine::Engine;
use super::hover::finding_at;

/// The corpus location of the best statement about the term at `offset`.
pub fn definition(engine: &Engine, analysis: &Analysis, offset: usize) -> Option<Location> {
    let f = finding_at(analysis, offset)?;
    let hit = engine.kb.lookup(f.term, 1).ok()?.into_iter().next()?;
    engine.locate(hit.statement)
}

/// Findings looked at for the outline: an outline of a whole book helps no one, and the
/// answer's size must not grow with the note's.
pub const MAX_DOCUMENT_SYMBOLS: usize = 2000;

/// The note's CREST findings as an outline (of the first [`MAX_DOCUMENT_SYMBOLS`] findings).
#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be set.
pub fn document_symbols(
    engine: &Engine,
    doc: &Document,
    analysis: &Analysis,
    enc: Encoding,
) -> Vec<DocumentSymbol> {
    let lexicon = engine.analyzer.lexicon();
    analysis
        .findings
        .iter()
        .take(MAX_DOCUMENT_SYMBOLS)
        .filter_map(|f| {
            let t = lexicon.term(f.term);
            let letter = t.crest?;
            let range = convert::range(doc, &f.range, enc);
            Some(DocumentSymbol {
                name: format!("{letter} — {}", t.name),
                detail: Some(f.assertion.to_string()),
                kind: SymbolKind::KEY,
                tags: None,
                deprecated: None,
                range,
                selection_range: range,
                children: None,
            })
        })
        .collect()
}

/// Statements matching `query` (all of them, in order, for an empty query).
#[allow(deprecated)] // `SymbolInformation::deprecated` must still be set.
pub fn workspace_symbols(engine: &Engine, query: &str, limit: usize) -> Vec<SymbolInformation> {
    let query = crate::limits::question(query);
    let statements: Vec<_> = if query.trim().is_empty() {
        engine.kb.corpus().statements.iter().take(limit).collect()
    } else {
        engine
            .kb
            .search(query, limit)
            .unwrap_or_default()
            .into_iter()
            .map(|h| h.statement)
            .collect()
    };
    statements
        .into_iter()
        .filter_map(|s| {
            let location = engine.locate(s).or_else(|| {
                "untitled:corpus"
                    .parse::<Uri>()
                    .ok()
                    .map(|u| Location::new(u, Default::default()))
            })?;
            let cites = s.source_label();
            Some(SymbolInformation {
                name: format!("{} {cites}", s.text).trim_end().to_string(),
                kind: SymbolKind::STRING,
                tags: None,
                deprecated: None,
                location,
                container_name: Some(s.section_path()),
            })
        })
        .collect()
}
