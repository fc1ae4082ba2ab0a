//! Completion of lexicon terms while typing: prefix, word-prefix and typo-tolerant matches
//! from the knowledge base, inserted as the canonical spelling.

use serde_json::json;
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, CompletionList, CompletionResponse, CompletionTextEdit,
    Documentation, MarkupContent, MarkupKind, TextEdit,
};

use crate::corpus::lexicon::{Category, FormKind};
use crate::document::{Document, Encoding};

use super::convert;
use super::engine::Engine;
use super::hover::term_markdown;

/// The fewest characters typed before terms are offered.
pub const MIN_PREFIX: usize = 2;
const LIMIT: usize = 25;

/// Start of the word being typed before byte `offset`: letters, digits and the joiners of
/// term names ("anti-PM/Scl", "Raynaud's").
pub fn word_start(text: &str, offset: usize) -> usize {
    let mut start = offset;
    for (i, c) in text[..offset].char_indices().rev() {
        if c.is_alphanumeric() || matches!(c, '-' | '\'' | '’' | '/') {
            start = i;
        } else {
            break;
        }
    }
    // A joiner cannot start a word.
    while let Some(c) = text[start..offset].chars().next() {
        if c.is_alphanumeric() {
            break;
        }
        start += c.len_utf8();
    }
    start
}

fn kind(c: Category) -> CompletionItemKind {
    match c {
        Category::Disease => CompletionItemKind::CLASS,
        Category::CrestFeature => CompletionItemKind::ENUM_MEMBER,
        Category::Antibody => CompletionItemKind::PROPERTY,
        Category::Site => CompletionItemKind::FIELD,
        Category::Treatment => CompletionItemKind::METHOD,
        _ => CompletionItemKind::VALUE,
    }
}

/// Completions at byte `offset`, or `None` when fewer than [`MIN_PREFIX`] characters are typed.
pub fn complete(
    engine: &Engine,
    doc: &Document,
    offset: usize,
    enc: Encoding,
) -> Option<CompletionResponse> {
    let text = doc.text();
    let start = word_start(text, offset);
    let typed = &text[start..offset];
    if typed.chars().count() < MIN_PREFIX {
        return None;
    }
    let range = convert::range(doc, &(start..offset), enc);
    let items = engine
        .kb
        .complete(typed, LIMIT)
        .into_iter()
        .enumerate()
        .map(|(rank, c)| {
            let t = engine.kb.term(c.term);
            let (label, insert) = if c.form_kind == FormKind::Abbreviation {
                (
                    format!("{} → {}", c.form, t.name),
                    t.name_with_abbreviation(),
                )
            } else {
                (t.name.clone(), t.name.clone())
            };
            let mut detail = t.category.label().to_string();
            if let Some(l) = t.crest {
                detail.push_str(&format!(" {l}"));
            }
            if !t.abbreviations.is_empty() {
                detail.push_str(&format!(" · {}", t.abbreviations.join(", ")));
            }
            CompletionItem {
                label,
                kind: Some(kind(t.category)),
                detail: Some(detail),
                // Keep every item through the client's own filtering: the server already
                // matched typos and abbreviations the client's filter would drop.
                filter_text: Some(typed.to_string()),
                sort_text: Some(format!("{rank:04}")),
                text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(range, insert))),
                data: Some(json!({ "term": t.name })),
                ..CompletionItem::default()
            }
        })
        .collect();
    // Incomplete: the next keystroke may bring other terms (the client asks again).
    Some(CompletionResponse::List(CompletionList {
        is_incomplete: true,
        items,
    }))
}

/// Adds the documentation (description and best statement) to a chosen item.
pub fn resolve(engine: &Engine, mut item: CompletionItem) -> CompletionItem {
    let term = item
        .data
        .as_ref()
        .and_then(|d| d.get("term"))
        .and_then(|t| t.as_str())
        .and_then(|name| engine.analyzer.lexicon().find(name));
    if let Some(term) = term {
        item.documentation = Some(Documentation::MarkupContent(MarkupContent {
            kind: MarkupKind::Markdown,
            value: term_markdown(engine, term, 1),
        }));
    }
    item
}

#[cfg(test)]
mod tests {
    use super::word_start;

    #[test]
    fn word_start_spans_joiners() {
        let t = "x anti-PM/Sc";
        assert_eq!(&t[word_start(t, t.len())..], "anti-PM/Sc");
        let t = "(-raynau";
        assert_eq!(&t[word_start(t, t.len())..], "raynau");
        assert_eq!(word_start("é", 2), 0);
    }
}
