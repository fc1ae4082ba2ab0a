//! Code actions: fix a misspelling, expand an abbreviation, show a term's source statements.

use std::collections::HashMap;

use serde_json::json;
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Command, TextEdit, Uri, WorkspaceEdit,
};

use crate::analysis::Analysis;
use crate::corpus::lexicon::FormKind;
use crate::document::{Document, Encoding};
use crate::limits;

use super::convert;
use super::engine::Engine;
use super::protocol::SHOW_STATEMENTS;

fn edit(uri: &Uri, range: tower_lsp_server::ls_types::Range, text: String) -> WorkspaceEdit {
    WorkspaceEdit {
        changes: Some(HashMap::from([(
            uri.clone(),
            vec![TextEdit::new(range, text)],
        )])),
        ..WorkspaceEdit::default()
    }
}

/// Actions for the findings overlapping `range` (byte offsets), only near its start
/// ([`limits::CODE_ACTION_SPAN_BYTES`]) and at most [`limits::MAX_CODE_ACTIONS`].
pub fn actions(
    engine: &Engine,
    uri: &Uri,
    doc: &Document,
    analysis: &Analysis,
    range: std::ops::Range<usize>,
    enc: Encoding,
) -> Vec<CodeActionOrCommand> {
    let lexicon = engine.analyzer.lexicon();
    let end = range
        .end
        .min(range.start.saturating_add(limits::CODE_ACTION_SPAN_BYTES));
    let mut out = Vec::new();
    for f in analysis
        .findings
        .iter()
        .filter(|f| f.range.start <= end && range.start <= f.range.end)
    {
        // Each finding adds up to three actions; stop before the cap, never past it.
        if out.len() + 3 > limits::MAX_CODE_ACTIONS {
            break;
        }
        let t = lexicon.term(f.term);
        let written = &doc.text()[f.range.clone()];
        let lsp_range = convert::range(doc, &f.range, enc);
        if f.misspelling {
            let fix = f.suggestion.clone().unwrap_or_else(|| t.name.clone());
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Replace “{written}” with “{fix}”"),
                kind: Some(CodeActionKind::QUICKFIX),
                is_preferred: Some(true),
                edit: Some(edit(uri, lsp_range, fix)),
                ..CodeAction::default()
            }));
        }
        if f.form == FormKind::Abbreviation && !written.contains(' ') {
            let expanded = format!("{} ({written})", t.name);
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Expand “{written}” to “{expanded}”"),
                kind: Some(CodeActionKind::REFACTOR_REWRITE),
                edit: Some(edit(uri, lsp_range, expanded)),
                ..CodeAction::default()
            }));
        }
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("Show source statements for {}", t.name),
            kind: Some(CodeActionKind::EMPTY),
            command: Some(Command {
                title: format!("Show source statements for {}", t.name),
                command: SHOW_STATEMENTS.into(),
                arguments: Some(vec![json!(t.name)]),
            }),
            ..CodeAction::default()
        }));
    }
    out
}
