//! Conversions between protocol types and the engine's: positions in the negotiated
//! encoding, ranges, file URIs.

use std::ops::Range;

use tower_lsp_server::ls_types::{self as lsp, PositionEncodingKind};

use crate::document::{Document, Encoding, Position, PositionCursor};

/// Picks the position encoding: UTF-8 when the client offers it (no conversion cost),
/// else UTF-16, the protocol default.
pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
    match offered {
        Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
        _ => Encoding::Utf16,
    }
}

/// The protocol name of an encoding.
pub fn encoding_kind(enc: Encoding) -> PositionEncodingKind {
    match enc {
        Encoding::Utf8 => PositionEncodingKind::UTF8,
        Encoding::Utf16 => PositionEncodingKind::UTF16,
        Encoding::Utf32 => PositionEncodingKind::UTF32,
    }
}

/// A protocol position as an engine position.
pub fn position(p: lsp::Position) -> Position {
    Position::new(p.line, p.character)
}

/// A byte range as a protocol range.
pub fn range(doc: &Document, r: &Range<usize>, enc: Encoding) -> lsp::Range {
    let s = doc.position(r.start, enc);
    let e = doc.position(r.end, enc);
    lsp::Range::new(
        lsp::Position::new(s.line, s.character),
        lsp::Position::new(e.line, e.character),
    )
}

/// A byte range as a protocol range, through a cursor (for many ranges in order).
pub fn range_at(cursor: &mut PositionCursor<'_>, r: &Range<usize>) -> lsp::Range {
    let s = cursor.position(r.start);
    let e = cursor.position(r.end);
    lsp::Range::new(
        lsp::Position::new(s.line, s.character),
        lsp::Position::new(e.line, e.character),
    )
}

/// A protocol range as a byte range, `None` if it starts past the end of the document.
pub fn byte_range(doc: &Document, r: lsp::Range, enc: Encoding) -> Option<Range<usize>> {
    let s = doc.offset(position(r.start), enc)?;
    let e = doc.offset_clamped(position(r.end), enc).max(s);
    Some(s..e)
}

/// The workspace's root directory, for relative paths in settings: the first workspace
/// folder, else the (deprecated) root URI.
#[allow(deprecated)] // `root_uri` is what older clients send.
pub fn workspace_root(params: &lsp::InitializeParams) -> Option<std::path::PathBuf> {
    params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| &f.uri)
        .or(params.root_uri.as_ref())
        .and_then(|u| u.to_file_path())
        .map(|p| p.into_owned())
}
