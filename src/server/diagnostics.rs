//! Diagnostics: one hint per CREST-feature mention (negated ones faded), a document-level
//! CREST summary, and misspellings.

use serde_json::json;
use tower_lsp_server::ls_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, NumberOrString,
    Position, Range,
};

use crate::analysis::{Analysis, Assertion};
use crate::document::{Document, Encoding};

use super::config::Config;
use super::convert;
use super::engine::Engine;

/// The `source` of every diagnostic.
pub const SOURCE: &str = "calcinosis-ls";

/// All diagnostics for a document.
pub fn diagnostics(
    engine: &Engine,
    doc: &Document,
    analysis: &Analysis,
    config: &Config,
    enc: Encoding,
) -> Vec<Diagnostic> {
    if !config.diagnostics {
        return Vec::new();
    }
    let lexicon = engine.analyzer.lexicon();
    let text = doc.text();
    let mut out = Vec::new();
    // One index query per term, not per mention: a long note repeats its terms.
    let mut related_of: std::collections::HashMap<_, Option<Vec<DiagnosticRelatedInformation>>> =
        std::collections::HashMap::new();
    let mut cursor = doc.cursor(enc);
    // Past the cap, findings are only counted: a message's size (and the client's work)
    // stays bounded whatever the note's size.
    let mut omitted = 0usize;
    let mut first_omitted = None;
    for f in &analysis.findings {
        let t = lexicon.term(f.term);
        if out.len() >= config.max_diagnostics {
            let n =
                usize::from(f.misspelling && config.misspellings) + usize::from(t.crest.is_some());
            if n > 0 && first_omitted.is_none() {
                first_omitted = Some(convert::range_at(&mut cursor, &f.range));
            }
            omitted += n;
            continue;
        }
        let range = convert::range_at(&mut cursor, &f.range);
        if f.misspelling && config.misspellings {
            let fix = f.suggestion.clone().unwrap_or_else(|| t.name.clone());
            out.push(Diagnostic {
                range,
                severity: Some(DiagnosticSeverity::HINT),
                code: Some(NumberOrString::String("misspelling".into())),
                source: Some(SOURCE.into()),
                message: format!("Did you mean “{fix}”? ({})", t.name),
                data: Some(json!({ "term": t.name, "replacement": fix })),
                ..Diagnostic::default()
            });
        }
        let Some(letter) = t.crest else { continue };
        let why = f.trigger.as_ref().map(|tr| text[tr.range.clone()].trim());
        let state = match (f.assertion, why) {
            (Assertion::Negated, Some(w)) => format!("negated by “{w}”"),
            (Assertion::Possible, Some(w)) => format!("possible: “{w}”"),
            (Assertion::Family, Some(w)) => format!("family history: “{w}”"),
            (Assertion::Hypothetical, Some(w)) => format!("hypothetical: “{w}”"),
            (Assertion::Historical, Some(w)) => format!("historical: “{w}”"),
            (a, _) => a.to_string(),
        };
        let related = related_of
            .entry(f.term)
            .or_insert_with(|| {
                let hits = engine.kb.lookup(f.term, 1).ok()?;
                let h = hits.first()?;
                let location = engine.locate(h.statement)?;
                Some(vec![DiagnosticRelatedInformation {
                    location,
                    message: h.statement.cited_text(),
                }])
            })
            .clone();
        out.push(Diagnostic {
            range,
            severity: Some(config.severity),
            code: Some(NumberOrString::String("crest-feature".into())),
            source: Some(SOURCE.into()),
            message: format!("CREST feature {letter} — {} ({state})", t.name),
            related_information: related,
            tags: (f.assertion == Assertion::Negated).then(|| vec![DiagnosticTag::UNNECESSARY]),
            data: Some(json!({ "crest": letter.as_str(), "term": t.name, "assertion": f.assertion.as_str() })),
            ..Diagnostic::default()
        });
    }
    if let Some(range) = first_omitted {
        out.push(Diagnostic {
            range,
            severity: Some(DiagnosticSeverity::HINT),
            code: Some(NumberOrString::String("more".into())),
            source: Some(SOURCE.into()),
            message: format!(
                "{omitted} more calcinosis-ls diagnostics in this note are not shown \
                 (setting diagnostics.maxPerDocument = {})",
                config.max_diagnostics
            ),
            data: Some(json!({ "omitted": omitted })),
            ..Diagnostic::default()
        });
    }
    let present = &analysis.crest.present;
    if present.len() >= config.summary_threshold {
        let letters: Vec<&str> = present.iter().map(|c| c.as_str()).collect();
        out.push(Diagnostic {
            range: Range::new(Position::new(0, 0), Position::new(0, 0)),
            severity: Some(config.severity),
            code: Some(NumberOrString::String("crest-summary".into())),
            source: Some(SOURCE.into()),
            message: format!(
                "{}/5 CREST features documented: {}",
                present.len(),
                letters.join(", ")
            ),
            data: Some(json!({ "present": letters })),
            ..Diagnostic::default()
        });
    }
    out
}
