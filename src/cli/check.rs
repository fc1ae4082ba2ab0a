//! `calcinosis-ls check`: the note analyser on files, as a linter-like report or JSON.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use calcinosis_ls::analysis::{Analysis, Analyzer, Finding};
use calcinosis_ls::document::{Document, Encoding, Position, PositionCursor};

use super::ask::Format;
use super::KnowledgeArgs;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Note files to check; `-` reads stdin.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// An extra target phrase, matched and asserted like a lexicon term (repeatable).
    #[arg(long = "term", value_name = "TEXT")]
    terms: Vec<String>,
}

/// Reads a file (or stdin for `-`) as UTF-8, with an error that names the bad byte.
fn read_note(path: &PathBuf) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes)?;
    } else {
        bytes = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not valid UTF-8 at byte {}: save the note as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

pub fn run(ka: &KnowledgeArgs, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let corpus = ka.corpus()?;
    let analyzer = Analyzer::with_ad_hoc_terms(&corpus, &args.terms);
    let mut out = std::io::stdout().lock();
    let mut reports = Vec::new();
    let mut failed = false;
    for path in &args.files {
        let text = match read_note(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("calcinosis-ls: {e}");
                failed = true;
                continue;
            }
        };
        let analysis = analyzer.analyze(&text);
        let doc = Document::new(text);
        let name = path.display().to_string();
        match args.format {
            Format::Json => reports.push(json_report(&analyzer, &doc, &analysis, &name)),
            Format::Text => text_report(&analyzer, &doc, &analysis, &name, &mut out)?,
        }
    }
    if let Format::Json = args.format {
        writeln!(out, "{}", serde_json::to_string_pretty(&reports)?)?;
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn range_json(cursor: &mut PositionCursor<'_>, r: &std::ops::Range<usize>) -> serde_json::Value {
    let p = |p: Position| json!({"line": p.line, "character": p.character});
    let start = cursor.position(r.start);
    let end = cursor.position(r.end);
    json!({ "start": p(start), "end": p(end) })
}

/// The stable JSON form documented in the README.
pub fn json_report(
    analyzer: &Analyzer,
    doc: &Document,
    a: &Analysis,
    name: &str,
) -> serde_json::Value {
    let mut cursor = doc.cursor(Encoding::Utf16);
    let findings: Vec<serde_json::Value> = a
        .findings
        .iter()
        .map(|f| {
            let t = analyzer.lexicon().term(f.term);
            json!({
                "range": range_json(&mut cursor, &f.range),
                "text": &doc.text()[f.range.clone()],
                "term": t.name,
                "category": t.category.as_str(),
                "crest": t.crest.map(|c| c.as_str()),
                "assertion": f.assertion.as_str(),
                "trigger": f.trigger.as_ref().map(|tr| &doc.text()[tr.range.clone()]),
                "misspelling": f.misspelling,
            })
        })
        .collect();
    json!({
        "file": name,
        "findings": findings,
        "crest": {
            "present": a.crest.present.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "possible": a.crest.possible.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "negated": a.crest.negated.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        }
    })
}

/// One line describing a finding: `R (Raynaud's phenomenon) negated by "denies"`.
pub fn describe(analyzer: &Analyzer, text: &str, f: &Finding) -> String {
    let t = analyzer.lexicon().term(f.term);
    let tag = t
        .crest
        .map(|c| c.to_string())
        .unwrap_or_else(|| t.category.as_str().to_string());
    let why = match &f.trigger {
        Some(tr) => format!(" by \"{}\"", &text[tr.range.clone()]),
        None => String::new(),
    };
    let spelled = if f.misspelling {
        format!(", misspelling of \"{}\"", t.name)
    } else {
        String::new()
    };
    format!("{tag} ({}) {}{why}{spelled}", t.name, f.assertion)
}

fn text_report(
    analyzer: &Analyzer,
    doc: &Document,
    a: &Analysis,
    name: &str,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let text = doc.text();
    for f in &a.findings {
        let p = doc.position(f.range.start, Encoding::Utf32);
        let line_range = doc.line_range(p.line as usize).unwrap_or(0..0);
        let line = &text[line_range.clone()];
        writeln!(
            out,
            "{name}:{}:{}: {} — \"{}\"",
            p.line + 1,
            p.character + 1,
            describe(analyzer, text, f),
            &text[f.range.clone()]
        )?;
        let gutter = format!("{}", p.line + 1);
        let end_in_line = f.range.end.min(line_range.end);
        let width = text[f.range.start..end_in_line].chars().count().max(1);
        writeln!(out, "{gutter} | {line}")?;
        writeln!(
            out,
            "{} | {}{}",
            " ".repeat(gutter.len()),
            " ".repeat(p.character as usize),
            "^".repeat(width)
        )?;
    }
    let c = &a.crest;
    let letters = |s: &std::collections::BTreeSet<calcinosis_ls::corpus::Crest>| {
        if s.is_empty() {
            "none".to_string()
        } else {
            s.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" ")
        }
    };
    writeln!(
        out,
        "{name}: CREST {}/5 documented: {}; possible: {}; negated: {}",
        c.present.len(),
        letters(&c.present),
        letters(&c.possible),
        letters(&c.negated)
    )?;
    Ok(())
}
