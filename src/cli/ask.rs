//! `calcinosis-ls ask`: chat-bot-style answers from the source statements — a short answer
//! first (statements grouped under their section, citations merged), or a plain statement
//! that the sources do not cover the question with what they say nearest to it; then the
//! numbered sources.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use calcinosis_ls::knowledge::Knowledge;
use calcinosis_ls::limits::{MAX_PROMPT_HISTORY, MAX_QUESTION_BYTES};
use rustyline::error::ReadlineError;
use rustyline::history::MemHistory;

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
    // The line editor draws on stdout: with answers going to a file or a pipe it would
    // write its escape sequences there, so questions typed on a terminal are then read a
    // line at a time, as from a pipe (follow-ups still on, as at the prompt).
    let typed = stdin.is_terminal();
    if typed && std::io::stdout().is_terminal() {
        return prompt(&kb, args, &mut out);
    }
    let json = matches!(args.format, Format::Json);
    let mut previous: Option<String> = None;
    let mut input = stdin.lock();
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut unread = 0u64;
    loop {
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
            // One JSON value per input line, so that answers line up with questions.
            if json {
                writeln!(out, "[]")?;
            }
            continue;
        }
        let full = match (&previous, args.follow_ups || typed) {
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

/// Words that end the interactive prompt, as Ctrl-D does.
const LEAVE_WORDS: [&str; 2] = ["quit", "exit"];

/// The interactive prompt, on a terminal: line editing (arrows, backspace, Ctrl-A/E/W…) and
/// ↑/↓ through earlier questions, kept in memory only and never written to a file, since a
/// question may name a patient. An empty line asks nothing and the prompt goes on; Ctrl-D,
/// Ctrl-C, "quit" or "exit" ends it. Follow-ups always refer to the question before.
fn prompt(kb: &Knowledge, args: &AskArgs, out: &mut impl Write) -> anyhow::Result<ExitCode> {
    writeln!(
        out,
        "Ask about calcinosis; follow-ups like \u{201c}and in dermatomyositis?\u{201d} refer to \
         the question before. \u{2191} and \u{2193} recall earlier questions (kept in memory \
         only). Ctrl-D, \u{201c}quit\u{201d} or \u{201c}exit\u{201d} ends."
    )?;
    out.flush()?;
    let config = rustyline::Config::builder()
        .max_history_size(MAX_PROMPT_HISTORY)
        .map_err(|e| anyhow::anyhow!("cannot start the prompt: {}", readline_reason(&e)))?
        .history_ignore_dups(true)
        .map_err(|e| anyhow::anyhow!("cannot start the prompt: {}", readline_reason(&e)))?
        .auto_add_history(false)
        .build();
    let history = MemHistory::with_config(&config);
    let mut editor: rustyline::Editor<(), MemHistory> =
        rustyline::Editor::with_history(config, history)
            .map_err(|e| anyhow::anyhow!("cannot start the prompt: {}", readline_reason(&e)))?;
    let mut previous: Option<String> = None;
    loop {
        let line = match editor.readline("> ") {
            Ok(line) => line,
            Err(ReadlineError::Eof | ReadlineError::Interrupted) => break,
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "cannot read the questions: {}",
                    readline_reason(&e)
                ))
            }
        };
        // As long as a question may be: a paste of megabytes is not kept in the history.
        let q = calcinosis_ls::limits::question(line.trim()).trim();
        if q.is_empty() {
            continue;
        }
        if LEAVE_WORDS.iter().any(|w| q.eq_ignore_ascii_case(w)) {
            break;
        }
        // The history holds what was typed (to edit and ask again), not the follow-up's
        // expansion.
        editor
            .add_history_entry(q)
            .map_err(|e| anyhow::anyhow!("cannot keep the question: {}", readline_reason(&e)))?;
        let full = previous.as_deref().and_then(|p| kb.follow_up(p, q));
        if let (Some(f), Format::Text) = (&full, args.format) {
            writeln!(out, "(taken as: {f})")?;
        }
        let q = full.unwrap_or_else(|| q.to_string());
        answer(kb, &q, args, out)?;
        // The editor writes the next prompt itself: what was answered must be out first.
        out.flush()?;
        previous = Some(q);
    }
    Ok(ExitCode::SUCCESS)
}

/// Why the line editor failed, in the user's words; never the line.
fn readline_reason(e: &ReadlineError) -> String {
    match e {
        ReadlineError::Io(io) => io_reason(io),
        _ => "the terminal could not be used for editing".to_string(),
    }
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
