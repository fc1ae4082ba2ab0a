//! The language server: a thin adapter from LSP to the engine. It converts positions and
//! protocol types, keeps open documents, schedules analyses off the request path, and
//! forwards logs (never note text) to stderr and `window/logMessage`.
//!
//! Layout: [`transport`] frames stdin and stdout around tower-lsp-server; `backend` routes
//! each LSP method to one feature module (`hover`, `completion`, `diagnostics`, `actions`,
//! `navigation`, `commands`), each of which turns engine results into protocol types;
//! `session` holds the documents and their analyses, `scheduler` publishes diagnostics,
//! `reload` applies settings and rebuilds the engine; `protocol` names what this server adds
//! to LSP. Nothing below this module knows about LSP.

mod actions;
mod backend;
mod capabilities;
mod commands;
mod completion;
mod config;
mod convert;
mod diagnostics;
pub mod engine;
mod hover;
pub mod logging;
mod navigation;
pub mod protocol;
mod reload;
mod scheduler;
mod session;
pub mod transport;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::{LspService, Server};

use crate::corpus::CorpusSource;

/// How the server was started: what the command line asked for. Settings the client sends
/// (`corpusDir`, `indexDir`) extend these.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The corpus.
    pub corpus: CorpusSource,
    /// An on-disk index directory (in memory when `None`).
    pub index_dir: Option<PathBuf>,
    /// The largest message accepted, in bytes; larger ones are answered with an error.
    pub max_message_bytes: usize,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            corpus: CorpusSource::default(),
            index_dir: None,
            max_message_bytes: transport::DEFAULT_MAX_BODY,
        }
    }
}

/// Requests handled at once. `$/cancelRequest` reaches only requests being handled, so this
/// is also how many can be cancelled: high, since a handler waiting for an analysis costs
/// nothing but a task.
const CONCURRENT_REQUESTS: usize = 64;

/// Runs the server on stdin/stdout until the client exits. Returns the exit status the
/// protocol asks for: success after `shutdown` then `exit`, failure otherwise.
pub fn run(options: ServerOptions) -> anyhow::Result<std::process::ExitCode> {
    limit_malloc_arenas();
    let forward = logging::init();
    let corpus = options.corpus.load().context("cannot load the corpus")?;
    let engine = engine::Engine::build(corpus, options.index_dir.as_deref())
        .context("cannot open or build the index")?;
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
        options,
        Some(forward),
        shut_down.clone(),
    ));
    // Background analyses may still be running; they hold no state worth waiting for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    logging::stop_forwarding();
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
    options: ServerOptions,
    logs: Option<logging::Pending>,
    shut_down: Arc<AtomicBool>,
) -> bool {
    // Messages the transport writes itself: its answers to undecodable input, and the
    // server's diagnostics (see `protocol::publish_diagnostics_body`).
    let (replies, replies_rx) = tokio::sync::mpsc::unbounded_channel();
    let outbox = replies.clone();
    let max_body = options.max_message_bytes;
    let (service, socket) = LspService::build(|client| {
        if let Some(logs) = logs {
            logging::forward_to(client.clone(), logs);
        }
        backend::Backend::new(session::Session::new(
            client, engine, options, shut_down, outbox,
        ))
    })
    .finish();
    let (to_server, server_input) = tokio::io::duplex(1 << 20);
    let (server_output, from_server) = tokio::io::duplex(1 << 20);
    let pump = tokio::spawn(transport::pump(input, to_server, replies, max_body));
    let writer = tokio::spawn(transport::merge(from_server, replies_rx, output));
    Server::new(server_input, server_output, socket)
        .concurrency_level(CONCURRENT_REQUESTS)
        .serve(service)
        .await;
    let _ = writer.await;
    // The server normally stops because the pump, returning, closed its input; if it
    // stopped on its own, the pump may wait forever for input.
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
