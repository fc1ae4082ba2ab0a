//! Diagnostics: one hint per CREST-feature mention (negated ones faded), a document-level
//! CREST summary, and misspellings.

use serde_json::json;
use tower_lsp_server::ls_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, NumberOrString,
    Position, Range,
};

use crate::analysis::{Analysis, Assertion};
use crate::corpus::Statement;
use crate::document::{Document, Encoding};
use crate::limits;

use super::config::Config;
use super::convert;
use super::engine::Engine;

/// The `source` of every diagnostic.
pub const SOURCE: &str = "calcinosis-ls";

/// Most bytes of a source statement's opening words quoted in a CREST diagnostic's related
/// information. The whole statement (often 300–500 bytes with its citations) made each
/// diagnostic ~760 bytes, repeated for every mention of a term; its opening words and id
/// say which statement it is, and hovering the mention shows all of it.
pub const RELATED_MESSAGE_BYTES: usize = 48;

/// All diagnostics for a document. `related`: whether the client declared
/// `textDocument.publishDiagnostics.relatedInformation`; without it, the statement's
/// location would be bytes the client drops.
pub fn diagnostics(
    engine: &Engine,
    doc: &Document,
    analysis: &Analysis,
    config: &Config,
    enc: Encoding,
    related: bool,
) -> Vec<Diagnostic> {
    if !config.diagnostics {
        return Vec::new();
    }
    let lexicon = engine.analyzer.lexicon();
    let text = doc.text();
    let mut out = Vec::new();
    // The terms whose statement a diagnostic already names: only a term's first mention
    // links it. The link is the same for every mention of a term (its location alone is
    // ~200 bytes, doubling each diagnostic), the client lists it once either way, and every
    // mention's hover shows the statement whole.
    let mut linked = std::collections::HashSet::new();
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
        let related = (related && linked.insert(f.term))
            .then(|| {
                let hits = engine.kb.lookup(f.term, 1).ok()?;
                let h = hits.first()?;
                let location = engine.locate(h.statement)?;
                Some(vec![DiagnosticRelatedInformation {
                    location,
                    message: related_message(h.statement),
                }])
            })
            .flatten();
        out.push(Diagnostic {
            range,
            severity: Some(config.severity),
            code: Some(NumberOrString::String("crest-feature".into())),
            source: Some(SOURCE.into()),
            message: format!("CREST feature {letter} — {} ({state})", t.name),
            related_information: related,
            tags: (f.assertion == Assertion::Negated).then(|| vec![DiagnosticTag::UNNECESSARY]),
            data: Some({
                let mut data = json!({ "crest": letter.as_str(), "term": t.name, "assertion": f.assertion.as_str(), "codes": t.codes });
                // A term pattern's `value` group ("1:640"), only when there is one.
                if let Some(v) = f.value.as_ref().and_then(|v| text.get(v.clone())) {
                    data["value"] = v.into();
                }
                data
            }),
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

/// A source statement named in a few bytes: its opening words and its id
/// (`“Calcinosis cutis is the deposition of…” (calcinosis/1)`). The full text is one hover
/// away, on the mention itself.
fn related_message(s: &Statement) -> String {
    let opening = limits::truncate(&s.text, RELATED_MESSAGE_BYTES);
    let more = if opening.len() < s.text.len() {
        "…"
    } else {
        ""
    };
    format!("“{opening}{more}” ({})", s.id)
}
