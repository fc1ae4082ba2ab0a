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
    limit_malloc_arenas();
    let forward = logging::init();
    let corpus = args.corpus()?;
    let engine =
        engine::Engine::build(corpus, args.index.as_deref()).context("cannot build the index")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(2)
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
        let (server_output, from_server) = tokio::io::duplex(1 << 20);
        let (replies, replies_rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(transport::pump(tokio::io::stdin(), to_server, replies));
        let writer = tokio::spawn(transport::merge(
            from_server,
            replies_rx,
            tokio::io::stdout(),
        ));
        Server::new(server_input, server_output, socket)
            .serve(service)
            .await;
        let _ = writer.await;
    });
    // Background analyses may still be running; they hold no state worth waiting for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(if shut_down.load(Ordering::SeqCst) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}

/// glibc gives every thread that allocates its own arena and keeps freed memory in it; with
/// multi-megabyte notes analysed on pool threads that multiplies the resident size. Two
/// arenas are plenty for two worker threads.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator tuning; called before any thread is spawned.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
