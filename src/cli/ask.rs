//! `calcinosis-ls ask`: chat-bot-style answers from the source statements — a short answer
//! first (statements grouped under their section, citations merged), or a plain statement
//! that the sources do not cover the question with what they say nearest to it; then the
//! numbered sources.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use calcinosis_ls::knowledge::Knowledge;
use calcinosis_ls::limits::MAX_QUESTION_BYTES;

use super::input::{io_reason, read_line_bounded, warn};
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
    let json = matches!(args.format, Format::Json);
    let mut previous: Option<String> = None;
    let mut input = stdin.lock();
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut unread = 0u64;
    loop {
        if interactive {
            write!(out, "> ")?;
            out.flush()?;
        }
        // A question is cut to MAX_QUESTION_BYTES anyway: the rest of a longer line is read
        // past, not kept (a line of 100 MB, or /dev/zero, would otherwise be held whole).
        // Three more bytes keep a character cut at the limit whole.
        let Some(read) = read_line_bounded(&mut input, &mut line, MAX_QUESTION_BYTES + 3)
            .map_err(|e| anyhow::anyhow!("cannot read the questions: {}", io_reason(&e)))?
        else {
            break;
        };
        number += 1;
        if read.binary {
            unread += 1;
            let why = format!(
                "line {number} holds NUL bytes: the input is binary, not questions; the rest of \
                 it is not read"
            );
            skipped_line(&mut out, json, &why)?;
            break;
        }
        let text = match std::str::from_utf8(&line) {
            Ok(s) => s,
            // The cap cut a character in two: keep the whole ones.
            Err(e) if read.truncated && e.error_len().is_none() => {
                std::str::from_utf8(&line[..e.valid_up_to()]).unwrap_or_default()
            }
            // One bad line is reported and skipped; the questions after it are answered.
            Err(e) => {
                unread += 1;
                let why = format!(
                    "line {number} is not valid UTF-8 (at byte {}): skipped; save the questions \
                     as UTF-8",
                    e.valid_up_to()
                );
                skipped_line(&mut out, json, &why)?;
                continue;
            }
        };
        let q = text.trim();
        if q.is_empty() {
            if interactive {
                break;
            }
            // One JSON value per input line, so that answers line up with questions.
            if json {
                writeln!(out, "[]")?;
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
    Ok(if unread > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reports a question line that could not be read: on stderr, and with `--format json` as
/// the line's one JSON value, `{"error": …}`, so that answers still line up with questions.
/// `why` never quotes the line.
fn skipped_line(out: &mut impl Write, json: bool, why: &str) -> anyhow::Result<()> {
    warn(format_args!("{why}"));
    if json {
        writeln!(out, "{}", serde_json::json!({ "error": why }))?;
    }
    Ok(())
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
