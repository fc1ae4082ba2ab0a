//! Hover: what a term is, the note's assertion about it, and its best source statements.

use tower_lsp_server::ls_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use crate::analysis::{Analysis, Finding};
use crate::corpus::lexicon::FormKind;
use crate::corpus::TermId;
use crate::document::{Document, Encoding};

use super::convert;
use super::engine::Engine;

/// How many statements a hover shows.
const STATEMENTS: usize = 3;

/// The finding under byte `offset`, if any (the end of a word counts, for cursors there).
pub fn finding_at(analysis: &Analysis, offset: usize) -> Option<&Finding> {
    let i = analysis.findings.partition_point(|f| f.range.end < offset);
    analysis.findings[i..]
        .iter()
        .take_while(|f| f.range.start <= offset)
        .find(|f| f.range.start <= offset && offset <= f.range.end)
}

/// Markdown describing a term: name, category, CREST letter, abbreviations, description
/// and its best `limit` statements with citations.
pub fn term_markdown(engine: &Engine, term: TermId, limit: usize) -> String {
    let t = engine.analyzer.lexicon().term(term);
    let mut md = format!("**{}**", t.name);
    if !t.abbreviations.is_empty() {
        md.push_str(&format!(" ({})", t.abbreviations.join(", ")));
    }
    md.push_str(&format!(" — {}", t.category.label()));
    if let Some(c) = t.crest {
        md.push_str(&format!(", CREST **{c}**"));
    }
    md.push_str("\n\n");
    // The codes a coder or a query needs, on a line of their own ("ICD-10-CM L94.2").
    let codes: Vec<String> = [
        ("ICD-10-CM", &t.codes.icd10cm),
        ("SNOMED CT", &t.codes.snomedct),
    ]
    .into_iter()
    .filter_map(|(system, code)| code.as_ref().map(|c| format!("{system} {c}")))
    .collect();
    if !codes.is_empty() {
        md.push_str(&codes.join(" · "));
        md.push_str("\n\n");
    }
    if !t.description.is_empty() {
        md.push_str(&t.description);
        md.push_str("\n\n");
    }
    let hits = engine.kb.lookup(term, limit).unwrap_or_default();
    if !hits.is_empty() {
        md.push_str("**Source statements**\n\n");
        for (i, h) in hits.iter().enumerate() {
            let s = h.statement;
            // Escaped brackets: "[1]" would render as a link reference in Markdown.
            let shown = s.cited_text().replace('[', "\\[").replace(']', "\\]");
            md.push_str(&format!(
                "{}. {shown}  \n   _{}_\n",
                i + 1,
                s.section_path()
            ));
        }
    }
    md
}

/// The hover for byte `offset` of `doc`, or `None` on a plain word.
pub fn hover(
    engine: &Engine,
    doc: &Document,
    analysis: &Analysis,
    offset: usize,
    enc: Encoding,
) -> Option<Hover> {
    let f = finding_at(analysis, offset)?;
    let t = engine.analyzer.lexicon().term(f.term);
    let written = &doc.text()[f.range.clone()];
    let mut md = term_markdown(engine, f.term, STATEMENTS);
    let mut note = format!("**In this note:** {}", f.assertion);
    if let Some(tr) = &f.trigger {
        note.push_str(&format!(
            " — decided by “{}”",
            doc.text()[tr.range.clone()].trim()
        ));
    }
    if f.form == FormKind::Abbreviation {
        note.push_str(&format!(" · “{written}” = {}", t.name));
    }
    if f.form == FormKind::Lay {
        note.push_str(&format!(" · “{written}” = {} (lay wording)", t.name));
    }
    if f.form == FormKind::Pattern {
        note.push_str(&format!(" · “{written}” = {} (pattern)", t.name));
    }
    if let Some(v) = f.value.as_ref().and_then(|v| doc.text().get(v.clone())) {
        note.push_str(&format!(" · value: {v}"));
    }
    if f.misspelling {
        let fix = f.suggestion.as_deref().unwrap_or(&t.name);
        note.push_str(&format!(
            " · “{written}” looks like a misspelling of “{fix}”"
        ));
    }
    md = format!("{note}\n\n---\n\n{md}");
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: md,
        }),
        range: Some(convert::range(doc, &f.range, enc)),
    })
}
