//! The language server: a thin adapter from LSP to the engine. It converts positions and
//! protocol types, keeps open documents, schedules analyses off the request path, and
//! forwards logs (never note text) to stderr and `window/logMessage`.

mod actions;
mod backend;
mod completion;
mod config;
mod convert;
mod diagnostics;
pub mod engine;
mod hover;
mod logging;
mod navigation;
mod transport;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use tokio::io::{AsyncRead, AsyncWrite};
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
        // Blocking threads: one sits in the stdin read for the whole session, one writes to
        // stdout, and analyses need the rest. With two, a multi-megabyte publication waited
        // behind an analysis (time to diagnostics on 5,000 lines: 46 → 29 ms with four).
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let shut_down = Arc::new(AtomicBool::new(false));
    runtime.block_on(serve(
        tokio::io::stdin(),
        tokio::io::stdout(),
        engine,
        args,
        Some(forward),
        shut_down.clone(),
    ));
    // Background analyses may still be running; they hold no state worth waiting for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(if shut_down.load(Ordering::SeqCst) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}

/// Serves one client over any byte streams (stdio for [`run`]; in-memory pipes for the
/// fuzzer) until it sends `exit` or closes `input`. `logs` is the queue from
/// [`logging::init`], which can be installed once per process: `None` forwards no logs.
/// `shut_down` is set when the client sends `shutdown`. Returns whether the client sent
/// `exit`.
pub async fn serve(
    input: impl AsyncRead + Unpin + Send + 'static,
    output: impl AsyncWrite + Unpin + Send + 'static,
    engine: engine::Engine,
    args: KnowledgeArgs,
    logs: Option<logging::Pending>,
    shut_down: Arc<AtomicBool>,
) -> bool {
    // Messages the transport writes itself: its answers to unparseable input, and the
    // server's diagnostics (see `Backend::publish`).
    let (replies, replies_rx) = tokio::sync::mpsc::unbounded_channel();
    let outbox = replies.clone();
    let (service, socket) = LspService::build(|client| {
        if let Some(logs) = logs {
            logging::forward_to(client.clone(), logs);
        }
        backend::Backend::new(client, engine, args, shut_down, outbox)
    })
    .finish();
    let (to_server, server_input) = tokio::io::duplex(1 << 20);
    let (server_output, from_server) = tokio::io::duplex(1 << 20);
    let pump = tokio::spawn(transport::pump(input, to_server, replies));
    let writer = tokio::spawn(transport::merge(from_server, replies_rx, output));
    Server::new(server_input, server_output, socket)
        .serve(service)
        .await;
    let _ = writer.await;
    // tower-lsp normally stops because the pump, returning, closed its input; if it stopped
    // on its own, the pump may wait forever for input.
    let stop = pump.abort_handle();
    match tokio::time::timeout(std::time::Duration::from_secs(1), pump).await {
        Ok(exited) => exited.unwrap_or(false),
        Err(_) => {
            stop.abort();
            false
        }
    }
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
