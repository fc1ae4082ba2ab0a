//! Logging: `tracing` events go to stderr and, once the client is connected, to
//! `window/logMessage`; the level comes from `RUST_LOG` (default `info`, with tantivy's own
//! chatter at `warn`).
//!
//! Privacy rule for every log call in the server: log sizes, versions, counts and internal
//! document numbers — never note text, never document URIs (a file name may name the
//! patient). Panic messages are withheld for the same reason: a failed string slice quotes
//! the string.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tower_lsp_server::ls_types::MessageType;
use tower_lsp_server::Client;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

static SENDER: OnceLock<UnboundedSender<(Level, String)>> = OnceLock::new();
/// Cleared when the session ends: nothing is forwarded to a client that is gone.
static FORWARDING: AtomicBool = AtomicBool::new(true);

/// Log lines waiting for the client.
pub struct Pending(UnboundedReceiver<(Level, String)>);

struct ForwardLayer;

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for ForwardLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        // tower-lsp-server's own events stay on stderr: one of them is "failed to send
        // notification", and forwarding it once the client was gone sent another, which
        // failed in turn (about 1,000 error lines after `exit`).
        if !FORWARDING.load(Ordering::Relaxed) || event.metadata().target().starts_with("tower_lsp")
        {
            return;
        }
        let mut m = Message(String::new());
        event.record(&mut m);
        if let Some(tx) = SENDER.get() {
            let _ = tx.send((*event.metadata().level(), m.0));
        }
    }
}

/// Installs the subscriber and the panic hook; returns the queue for the client.
pub fn init() -> Pending {
    let (tx, rx) = unbounded_channel();
    let _ = SENDER.set(tx);
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tantivy=warn"));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false);
    // tower-lsp-server traces every message it reads and writes, note text included:
    // whatever RUST_LOG asks for, nothing below INFO from it is ever recorded.
    let no_message_dumps = tracing_subscriber::filter::filter_fn(|meta| {
        !(meta.target().starts_with("tower_lsp") && *meta.level() > Level::INFO)
    });
    let _ = tracing_subscriber::registry()
        .with(no_message_dumps)
        .with(filter)
        .with(stderr)
        .with(ForwardLayer)
        .try_init();
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "unknown location".into());
        eprintln!(
            "calcinosis-ls: internal error at {at} (message withheld: it may quote the note)"
        );
    }));
    Pending(rx)
}

/// Stops forwarding log lines to the client (it has exited); stderr still gets them.
pub fn stop_forwarding() {
    FORWARDING.store(false, Ordering::Relaxed);
}

/// Sends queued and future log lines to the client as `window/logMessage`.
pub fn forward_to(client: Client, pending: Pending) {
    let mut rx = pending.0;
    tokio::spawn(async move {
        while let Some((level, text)) = rx.recv().await {
            let typ = match level {
                Level::ERROR => MessageType::ERROR,
                Level::WARN => MessageType::WARNING,
                Level::INFO => MessageType::INFO,
                _ => MessageType::LOG,
            };
            client.log_message(typ, text).await;
        }
    });
}
