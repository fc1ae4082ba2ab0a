//! What this server adds to the Language Server Protocol: its commands and its
//! `calcinosis/crestSummary` notification (documented in README.md), and the messages it
//! serialises itself, `textDocument/publishDiagnostics` and the CREST summary.

use tower_lsp_server::ls_types::notification::{Notification, PublishDiagnostics};
use tower_lsp_server::ls_types::{Diagnostic, PublishDiagnosticsParams, Uri};

/// Command that answers a question: `[question, limit?]`.
pub const ASK: &str = "calcinosis.ask";
/// Command that shows a term's source statements: `[term]`.
pub const SHOW_STATEMENTS: &str = "calcinosis.showStatements";
/// Command that returns the length and SHA-256 of the server's copy of a document:
/// `[uri]` → `{version, bytes, sha256}`. Lets a client check that its copy is in sync
/// without the server ever sending note text back.
pub const DOCUMENT_DIGEST: &str = "calcinosis.documentDigest";
/// Every command, as announced in the server capabilities.
pub const COMMANDS: [&str; 3] = [ASK, SHOW_STATEMENTS, DOCUMENT_DIGEST];

/// `calcinosis/crestSummary`: the note's CREST summary after each analysis, for status bars.
pub enum CrestSummary {}

/// Parameters of [`CrestSummary`]: CREST letters by assertion.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct CrestSummaryParams {
    /// The document.
    pub uri: Uri,
    /// Documented letters.
    pub present: Vec<String>,
    /// Possible letters.
    pub possible: Vec<String>,
    /// Negated letters.
    pub negated: Vec<String>,
}

impl Notification for CrestSummary {
    type Params = CrestSummaryParams;
    const METHOD: &'static str = "calcinosis/crestSummary";
}

/// The body of a `publishDiagnostics` notification, serialised straight from the typed
/// structs. tower-lsp builds a `serde_json::Value` tree of every notification first, which
/// for a long note's thousands of diagnostics cost several times the analysis.
pub fn publish_diagnostics_body(
    uri: Uri,
    diagnostics: Vec<Diagnostic>,
    version: Option<i32>,
) -> serde_json::Result<Vec<u8>> {
    notification_body::<PublishDiagnostics>(&PublishDiagnosticsParams {
        uri,
        diagnostics,
        version,
    })
}

/// The body of notification `N` with `params`, serialised straight from the typed structs
/// (for the transport's publication queue, which keeps the newest per document).
pub fn notification_body<N: Notification>(params: &N::Params) -> serde_json::Result<Vec<u8>> {
    #[derive(serde::Serialize)]
    struct Message<'a, P> {
        jsonrpc: &'static str,
        method: &'static str,
        params: &'a P,
    }
    serde_json::to_vec(&Message {
        jsonrpc: "2.0",
        method: N::METHOD,
        params,
    })
}
