//! The `calcinosis-ls` binary: a thin layer over the library. `serve` (the default) speaks
//! the Language Server Protocol over stdio; `ask`, `check` and `index` are the command line.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            cli::input::warn(format_args!("{e:#}"));
            ExitCode::from(2)
        }
    }
}
