//! `calcinosis-ls ask`: chat-bot-style answers from the source statements.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use calcinosis_ls::knowledge::{Hit, Knowledge};

use super::KnowledgeArgs;

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// The question; without one, questions are read from stdin, one per line.
    question: Vec<String>,
    /// How many statements to show.
    #[arg(long, default_value_t = 5)]
    limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub fn run(ka: &KnowledgeArgs, args: &AskArgs) -> anyhow::Result<ExitCode> {
    let kb = ka.knowledge()?;
    let mut out = std::io::stdout().lock();
    if !args.question.is_empty() {
        answer(&kb, &args.question.join(" "), args, &mut out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    if interactive {
        writeln!(out, "Ask about calcinosis (an empty line or Ctrl-D ends).")?;
    }
    loop {
        if interactive {
            write!(out, "> ")?;
            out.flush()?;
        }
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        let q = line.trim();
        if q.is_empty() {
            if interactive {
                break;
            }
            continue;
        }
        answer(&kb, q, args, &mut out)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn answer(
    kb: &Knowledge,
    question: &str,
    args: &AskArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let hits = kb.search(question, args.limit)?;
    if let Format::Json = args.format {
        let rows: Vec<_> = hits.iter().map(Hit::answer).collect();
        writeln!(out, "{}", serde_json::to_string(&rows)?)?;
        return Ok(());
    }
    for term in kb.terms_in(question) {
        let t = kb.term(term);
        let letter = t.crest.map(|c| format!(", CREST {c}")).unwrap_or_default();
        writeln!(
            out,
            "{} — {}{letter}",
            t.name_with_abbreviation(),
            t.category.label()
        )?;
        if !t.description.is_empty() {
            writeln!(out, "  {}", t.description)?;
        }
    }
    if hits.is_empty() {
        writeln!(out, "No source statement matches that question. Try other words, such as a disease, a site or a complication.")?;
        return Ok(());
    }
    writeln!(out)?;
    for (i, h) in hits.iter().enumerate() {
        let s = h.statement;
        writeln!(out, "{}. {}", i + 1, s.cited_text())?;
        writeln!(
            out,
            "   {} — {}:{} · score {:.2}",
            s.section_path(),
            s.file,
            s.line,
            h.score
        )?;
    }
    writeln!(out)?;
    Ok(())
}
