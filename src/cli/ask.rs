//! `calcinosis-ls ask`: chat-bot-style answers from the source statements — a short answer
//! first (statements grouped under their section, citations merged), or a plain statement
//! that the sources do not cover the question with what they say nearest to it; then the
//! numbered sources.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use calcinosis_ls::knowledge::Knowledge;

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
    /// How many statements to show, 1 to 100 (a whole list asked for is shown whole).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    limit: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Read questions from stdin as a conversation: "and in dermatomyositis?" refers to the
    /// question before it (always on in the interactive prompt).
    #[arg(long)]
    follow_ups: bool,
    /// Also print what was understood of the question (concepts, answer types) as JSON.
    #[arg(long)]
    explain: bool,
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
        writeln!(
            out,
            "Ask about calcinosis; follow-ups like \u{201c}and in dermatomyositis?\u{201d} refer to the question before (an empty line or Ctrl-D ends)."
        )?;
    }
    let mut previous: Option<String> = None;
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
        let full = match (&previous, interactive || args.follow_ups) {
            (Some(p), true) => kb.follow_up(p, q),
            _ => None,
        };
        if let (Some(f), Format::Text) = (&full, args.format) {
            writeln!(out, "(taken as: {f})")?;
        }
        let q = full.unwrap_or_else(|| q.to_string());
        answer(&kb, &q, args, &mut out)?;
        previous = Some(q);
    }
    Ok(ExitCode::SUCCESS)
}

fn answer(
    kb: &Knowledge,
    question: &str,
    args: &AskArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let reply = kb.ask(question, args.limit as usize)?;
    if args.explain {
        writeln!(out, "{}", serde_json::to_string(&reply.question)?)?;
    }
    if let Format::Json = args.format {
        let rows = reply.rows();
        writeln!(out, "{}", serde_json::to_string(&rows)?)?;
        return Ok(());
    }
    let short = reply.short_answer();
    if short.is_empty() {
        writeln!(out, "The sources do not cover this: no statement matches the question. Try other words, such as a disease, a site or a complication.")?;
    } else {
        writeln!(out, "{short}")?;
    }
    if !reply.hits.is_empty() {
        writeln!(
            out,
            "\n{}",
            if reply.answered {
                "Sources:"
            } else {
                "Nearest statements (they do not answer the question):"
            }
        )?;
        for (i, h) in reply.hits.iter().enumerate() {
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
    }
    let terms = kb.terms_in(question);
    if !terms.is_empty() {
        writeln!(out, "\nTerms:")?;
    }
    for term in terms {
        let t = kb.term(term);
        let letter = t.crest.map(|c| format!(", CREST {c}")).unwrap_or_default();
        let description = if t.description.is_empty() {
            String::new()
        } else {
            format!(": {}", t.description)
        };
        writeln!(
            out,
            "  {} — {}{letter}{description}",
            t.name_with_abbreviation(),
            t.category.label()
        )?;
    }
    writeln!(out)?;
    Ok(())
}
