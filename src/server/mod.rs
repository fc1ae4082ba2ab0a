//! The language server: a thin adapter from LSP to the engine. It converts positions and
//! protocol types, keeps open documents, schedules analyses off the request path, and
//! forwards logs (never note text) to stderr and `window/logMessage`.
//!
//! Layout: [`transport`] frames stdin and stdout and drives tower-lsp-server's service; `backend` routes
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
use tower_lsp_server::LspService;

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

/// The engine a session starts with.
pub enum Startup {
    /// Built already (boxed: an engine is over a kilobyte, the other variant a pointer).
    Ready(Box<engine::Engine>),
    /// Built on a thread of its own once the session starts, while `initialize` is
    /// answered; whatever needs the engine waits for it.
    Build(Box<dyn FnOnce() -> crate::Result<engine::Engine> + Send>),
}

impl From<engine::Engine> for Startup {
    fn from(engine: engine::Engine) -> Startup {
        Startup::Ready(Box::new(engine))
    }
}

/// Runs the server on stdin/stdout until the client exits. Returns the exit status the
/// protocol asks for: success after `shutdown` then `exit`, failure otherwise.
pub fn run(options: ServerOptions) -> anyhow::Result<std::process::ExitCode> {
    limit_malloc_arenas();
    let forward = logging::init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // The blocking pool runs analyses only: stdin and stdout have threads of their own
        // (`stdio`) and builds run on theirs (`reload`), so nothing here can starve I/O.
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let embedded = options.corpus.dirs.is_empty() && !options.corpus.replace;
    let startup = if embedded && options.index_dir.is_none() {
        // The embedded corpus always loads (its tests see to it): build it and its
        // in-memory index after answering `initialize`, not before.
        let source = options.corpus.clone();
        Startup::Build(Box::new(move || {
            engine::Engine::build(source.load()?, None)
        }))
    } else {
        // Directories named on the command line may be wrong: say so and stop before
        // serving, as before. Their index is opened like one from the settings: on a
        // thread of its own, given up when it makes no progress (a named pipe in the index
        // directory would otherwise hang the server before it reads a single message).
        let corpus = options.corpus.load().context("cannot load the corpus")?;
        let index_dir = options.index_dir.clone();
        let job = move || engine::Engine::build(corpus, index_dir.as_deref());
        match runtime.block_on(reload::build(job, crate::cancel::Cancel::new())) {
            Ok(built) => built.context("cannot open or build the index")?.into(),
            Err(reload::Failure::Stalled) => anyhow::bail!(
                "opening or building the index made no progress for {} s: is a file in the \
                 index directory a named pipe, or on a drive that stopped answering?",
                crate::limits::BUILD_STALL.as_secs()
            ),
            Err(_) => anyhow::bail!("internal error while opening or building the index"),
        }
    };
    let shut_down = Arc::new(AtomicBool::new(false));
    let (input, output, written) = stdio(runtime.handle());
    runtime.block_on(serve(
        input,
        output,
        startup,
        options,
        Some(forward),
        shut_down.clone(),
    ));
    // Whatever the transport wrote reaches stdout, unless the client stopped reading.
    let _ = written.recv_timeout(transport::GRACE);
    // Background analyses may still be running; they hold no state worth waiting for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    logging::stop_forwarding();
    Ok(if shut_down.load(Ordering::SeqCst) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}

/// Stdin and stdout, each copied by a thread of its own into and out of in-memory pipes:
/// tokio's own stdin and stdout use its blocking pool, which long work (an analysis, once
/// a build) could fill, and then the server could not even read `shutdown`. The third
/// value reports when everything written has reached stdout.
fn stdio(
    runtime: &tokio::runtime::Handle,
) -> (
    tokio::io::DuplexStream,
    tokio::io::DuplexStream,
    std::sync::mpsc::Receiver<()>,
) {
    use std::io::{Read, Write};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const CHUNK: usize = 64 * 1024;
    let (mut to_server, input) = tokio::io::duplex(CHUNK);
    let (output, mut from_server) = tokio::io::duplex(CHUNK);
    let handle = runtime.clone();
    // Never joined: at exit it may be blocked in a read of a stdin the client keeps open.
    let _ = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = vec![0; CHUNK];
            loop {
                let n = match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if handle.block_on(to_server.write_all(&buf[..n])).is_err() {
                    break;
                }
            }
            let _ = handle.block_on(to_server.shutdown());
        });
    let (done, written) = std::sync::mpsc::channel();
    let handle = runtime.clone();
    let _ = std::thread::Builder::new()
        .name("stdout".into())
        .spawn(move || {
            let mut stdout = std::io::stdout().lock();
            let mut buf = vec![0; CHUNK];
            loop {
                let n = match handle.block_on(from_server.read(&mut buf)) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if stdout.write_all(&buf[..n]).is_err() || stdout.flush().is_err() {
                    break;
                }
            }
            let _ = done.send(());
        });
    (input, output, written)
}

/// Serves one client over any byte streams (stdio for [`run`]; in-memory pipes for the
/// fuzzer) until it sends `exit` or closes `input`. `logs` is the queue from
/// [`logging::init`], which can be installed once per process: `None` forwards no logs.
/// `engine`: an engine, or a [`Startup::Build`] to build it in the background.
/// `shut_down` is set when the client sends `shutdown`. Returns whether the client sent
/// `exit`.
pub async fn serve(
    input: impl AsyncRead + Unpin + Send + 'static,
    output: impl AsyncWrite + Unpin + Send + 'static,
    engine: impl Into<Startup>,
    options: ServerOptions,
    logs: Option<logging::Pending>,
    shut_down: Arc<AtomicBool>,
) -> bool {
    // Publications the server serialises itself (see `protocol::notification_body`).
    let outbox = Arc::new(transport::Outbox::default());
    let (slot, job) = match engine.into() {
        Startup::Ready(engine) => (session::EngineSlot::ready(*engine), None),
        Startup::Build(job) => (session::EngineSlot::building(), Some(job)),
    };
    let max_body = options.max_message_bytes;
    let publications = outbox.clone();
    let (service, socket) = LspService::build(|client| {
        if let Some(logs) = logs {
            logging::forward_to(client.clone(), logs);
        }
        backend::Backend::new(session::Session::new(
            client,
            slot,
            options,
            shut_down,
            publications,
        ))
    })
    .finish();
    let session = service.inner().session();
    if let Some(job) = job {
        tokio::spawn(session.clone().build_at_start(job));
    }
    let unreadable = move |bad| session.unreadable(bad);
    transport::run(
        input,
        output,
        transport::PanicBoundary(service),
        socket,
        outbox,
        unreadable,
        max_body,
    )
    .await
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
