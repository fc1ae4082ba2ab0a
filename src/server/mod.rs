//! The language server: a thin adapter from LSP to the engine. It converts positions and
//! protocol types, keeps open documents, schedules analyses off the request path, and
//! forwards logs (never note text) to stderr and `window/logMessage`.

mod actions;
mod backend;
mod completion;
mod config;
mod convert;
mod diagnostics;
mod engine;
mod hover;
mod logging;
mod navigation;
mod transport;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use tower_lsp::{LspService, Server};

use crate::cli::KnowledgeArgs;

/// Runs the server on stdin/stdout until the client exits. Returns the exit status the
/// protocol asks for: success after `shutdown` then `exit`, failure otherwise.
pub fn run(args: KnowledgeArgs) -> anyhow::Result<std::process::ExitCode> {
    let forward = logging::init();
    let corpus = args.corpus()?;
    let engine =
        engine::Engine::build(corpus, args.index.as_deref()).context("cannot build the index")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let shut_down = Arc::new(AtomicBool::new(false));
    let flag = shut_down.clone();
    runtime.block_on(async move {
        let (service, socket) = LspService::build(|client| {
            logging::forward_to(client.clone(), forward);
            backend::Backend::new(client, engine, args, flag)
        })
        .finish();
        let (to_server, server_input) = tokio::io::duplex(1 << 20);
        tokio::spawn(transport::pump(tokio::io::stdin(), to_server));
        Server::new(server_input, tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    // Background analyses may still be running; they hold no state worth waiting for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(if shut_down.load(Ordering::SeqCst) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}
