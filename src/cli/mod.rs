//! Command-line interface: argument parsing and the `ask`, `check` and `index` commands.

pub mod ask;
mod batch;
mod check;
mod html;
pub(crate) mod input;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use calcinosis_ls::corpus::{Corpus, CorpusSource};
use calcinosis_ls::index::{KnowledgeIndex, Provenance, BUILT_ON_REQUEST};
use calcinosis_ls::knowledge::Knowledge;
use calcinosis_ls::server::{self, ServerOptions};

/// calcinosis-ls: calcinosis knowledge in your editor and on the command line.
///
/// With no command (or `serve`, or `--stdio`) it runs the language server over stdio.
#[derive(Debug, Parser)]
#[command(name = "calcinosis-ls", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Run the language server over stdio (same as `serve`).
    #[arg(long, global = true)]
    stdio: bool,
    /// Largest LSP message the server accepts, in MB; larger ones are answered with an
    /// error.
    #[arg(long, global = true, value_name = "MB", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    max_message_size: u64,
    #[command(flatten)]
    knowledge: KnowledgeArgs,
}

/// Where the knowledge comes from; shared by every command.
#[derive(Debug, Args, Clone, Default)]
pub struct KnowledgeArgs {
    /// A corpus directory extending the built-in corpus (repeatable).
    #[arg(long, global = true, value_name = "DIR")]
    pub corpus: Vec<PathBuf>,
    /// Use only the --corpus directories, not the built-in corpus.
    #[arg(long, global = true)]
    pub replace_corpus: bool,
    /// Use (and keep up to date) the on-disk index in DIR instead of an in-memory one.
    #[arg(long, global = true, value_name = "DIR")]
    pub index: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the language server over stdio (the default).
    Serve,
    /// Answer a question from the source statements (reads questions from stdin if none).
    Ask(ask::AskArgs),
    /// Find terms in notes and say what each note asserts about them.
    Check(check::CheckArgs),
    /// Build the on-disk index.
    Index {
        /// Where to write the index.
        #[arg(long, value_name = "DIR", default_value = "index")]
        out: PathBuf,
    },
}

impl KnowledgeArgs {
    /// The corpus these arguments name, as the library takes it.
    pub fn source(&self) -> CorpusSource {
        CorpusSource {
            dirs: self.corpus.clone(),
            replace: self.replace_corpus,
        }
    }

    /// Loads the corpus these arguments name.
    pub fn corpus(&self) -> anyhow::Result<Corpus> {
        self.source().load().context("cannot load the corpus")
    }

    /// Loads the corpus and its index; says on stderr when an on-disk index was rebuilt.
    pub fn knowledge(&self) -> anyhow::Result<Knowledge> {
        let corpus = self.corpus()?;
        let kb = match &self.index {
            None => Knowledge::in_memory(corpus).context("cannot build the index")?,
            Some(dir) => {
                Knowledge::on_disk(corpus, dir).context("cannot open or build the index")?
            }
        };
        if let Provenance::Rebuilt(why) = kb.index().provenance() {
            input::warn(format_args!("rebuilt the index: {why}"));
        }
        Ok(kb)
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None | Some(Command::Serve) => {
            input::terminal_hint(input::SERVE_TERMINAL_HINT);
            server::run(ServerOptions {
                corpus: cli.knowledge.source(),
                index_dir: cli.knowledge.index.clone(),
                max_message_bytes: (cli.max_message_size as usize).saturating_mul(1024 * 1024),
            })
        }
        Some(_) if cli.stdio => {
            anyhow::bail!("--stdio runs the language server and takes no other command")
        }
        // A reader that went away (`calcinosis-ls ask … | head`) is not an error.
        Some(Command::Ask(args)) => match ask::run(&cli.knowledge, &args) {
            Err(e) if closed_pipe(&e) => Ok(ExitCode::SUCCESS),
            // Loading fails with its own context; a bare "no space left" is the answer's
            // write to stdout (`ask … > /dev/full`).
            Err(e) => Err(match e.downcast_ref::<std::io::Error>() {
                Some(io) if disk_full(io) => input::write_error("the answer", io),
                _ => e,
            }),
            done => done,
        },
        Some(Command::Check(args)) => check::run(&cli.knowledge, &args),
        Some(Command::Index { out }) => {
            let start = Instant::now();
            let corpus = cli.knowledge.corpus()?;
            let ix = KnowledgeIndex::build_in_dir(&corpus, &out)
                .with_context(|| format!("cannot build the index in {}", input::path_name(&out)))?;
            // What the build left alone in the directory (folders it did not make).
            if let Provenance::Rebuilt(why) = ix.provenance() {
                if why != BUILT_ON_REQUEST {
                    input::warn(format_args!("index {}: {why}", input::path_name(&out)));
                }
            }
            // `println!` panics when stdout is closed or full; the index is built by then,
            // so a reader that went away is not an error, and a full disk is said plainly.
            let said = writeln!(
                std::io::stdout().lock(),
                "indexed {} statements and {} terms into {} in {:.1} ms",
                corpus.statements.len(),
                corpus.lexicon.terms().len(),
                input::path_name(&out),
                start.elapsed().as_secs_f64() * 1000.0
            );
            match said {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(input::write_error("the summary (the index is built)", &e))
                }
                _ => Ok(ExitCode::SUCCESS),
            }
        }
    }
}

/// Whether a write failed for want of space.
fn disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// Whether `e` is, at bottom, a write to a pipe whose reader has gone.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
