//! The stdio transport around tower-lsp-server's service: frames messages from the input,
//! decodes each body once, hands the decoded requests to the service (and the client's
//! responses to its socket), and writes every outgoing message whole. tower-lsp-server's own
//! `Server` is not used: it decodes bytes itself (so every body was decoded twice, through
//! two in-memory pipes) and stops for good at the first body it cannot decode. What this
//! module guarantees, each part with the test that shows it:
//!
//! - **Bodies the service cannot decode never reach it**: they are answered here with a
//!   JSON-RPC parse error or invalid request (`decodes_exactly_as_tower_lsp_server_does`,
//!   and, end to end, `bodies_tower_lsp_cannot_decode_get_errors_and_the_server_goes_on`).
//!   A `didOpen` or `didChange` whose body or parameters cannot be decoded (a lone
//!   surrogate, a version that is not an i32) is reported to the session, which marks the
//!   document out of sync and tells the user ([`Unreadable`]). Its parameters are checked
//!   on the tree already decoded, borrowing its strings, not decoded from bytes again.
//! - **Framing that recovers.** Any header but `Content-Length` is ignored (the spec allows
//!   `Content-Type`); a frame without a usable length, or one whose length was wrong (counted
//!   in characters, say), is skipped up to the next `Content-Length:` header wherever it
//!   starts, so one bad frame costs that frame only (`recovers_after_each_bad_frame`).
//! - **A length limit.** Bodies larger than the limit (`--max-message-size`, 64 MB by
//!   default) are scanned as they are discarded, never buffered (`TopLevel`), and a
//!   request among them is answered with an error under its own top-level id, wherever in
//!   the body that id is (`oversized_body_is_answered_under_its_top_level_id`).
//! - **Only a top-level `"id"` is answered**, and a request whose method starts with `$/` is
//!   answered with MethodNotFound (tower-lsp-server drops the answer), by [`PanicBoundary`].
//! - **One panic boundary**: [`PanicBoundary`] wraps the whole service, so a panic in any
//!   handler, `initialize` and notifications included, answers an internal error (requests)
//!   or is logged (notifications) and never ends the process.
//! - **After `exit`, nothing more is read**, so the process ends even when the client keeps
//!   its end of the pipe open; handlers still running get [`GRACE`] to finish.
//! - **Bounded output queues.** Publications go through [`Outbox`], one per document (the
//!   newest replaces one the client has not read yet); everything else waits in a bounded
//!   queue, so a client that stops reading stops the server reading, never grows its memory.

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tower::Service;
use tower_lsp_server::jsonrpc::{Error as RpcError, Id, Request, Response};
use tower_lsp_server::ClientSocket;

/// Frames a message body.
fn framed(body: &[u8]) -> Vec<u8> {
    [
        format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
        body,
    ]
    .concat()
}

/// The default largest message accepted: far above any real note (a 10 MB note is a
/// 10 MB message), well below the machine's memory.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024 * 1024;

/// Messages handled at once. `$/cancelRequest` reaches only requests being handled, so this
/// is also how many can be cancelled: high, since a handler waiting for an analysis costs
/// nothing but a task.
pub const CONCURRENT_REQUESTS: usize = 64;

/// Decoded messages waiting for a handler slot, and outgoing messages waiting for the
/// writer. Bounded: a client that stops reading makes the server stop reading.
const QUEUE: usize = 100;

/// How long handlers still running at `exit` (or end of input) may take to finish. A
/// handler waiting on a hung build must not keep the process alive.
pub const GRACE: Duration = Duration::from_millis(500);

/// A `didOpen` or `didChange` the server could not use: the session must stop trusting
/// its copy of the document and say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// `true` for `didOpen`, `false` for `didChange`.
    pub open: bool,
    /// The document's URI as the client wrote it.
    pub uri: String,
    /// A `didOpen`'s language, when it could be read: the document is analysed again once
    /// a full-text change brings it back in sync.
    pub language: Option<String>,
    /// Why: never quotes the message.
    pub why: Why,
}

/// Why a document message could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Over the size limit: its length and the limit, in bytes.
    Oversized {
        /// The message's length.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Not decodable as LSP says (a version that is not an i32, a lone surrogate).
    Undecodable,
}

/// What the framer got from the input.
#[derive(Debug)]
enum Incoming {
    /// A message the service can decode.
    Message(Message),
    /// An error to answer with (the body could not be used).
    Reply(Vec<u8>),
    /// A document message the session must be told about.
    Unreadable(Unreadable),
}

/// Reads framed messages from the input and decodes each body once.
struct Framer<R> {
    r: BufReader<R>,
    header: HeaderReader,
    max_body: usize,
}

impl<R: AsyncRead + Unpin> Framer<R> {
    fn new(input: R, max_body: usize) -> Self {
        Framer {
            r: BufReader::with_capacity(64 * 1024, input),
            header: HeaderReader::default(),
            max_body,
        }
    }

    /// The next thing to act on; `None` at end of input.
    async fn next(&mut self) -> Option<Incoming> {
        let len = self.header.read(&mut self.r).await?;
        if len > self.max_body {
            return self.oversized(len).await;
        }
        let mut body = vec![0; len];
        if self.r.read_exact(&mut body).await.is_err() {
            tracing::error!("input ended inside a message");
            return None;
        }
        Some(match validate(&body) {
            Ok(message) => match unusable_document_message(&message) {
                Some(bad) => Incoming::Unreadable(bad),
                None => Incoming::Message(message),
            },
            Err(reply) => {
                // A document notification whose text cannot be decoded (a lone surrogate):
                // the session must hear of it; a notification is never answered.
                let mut top = TopLevel::default();
                top.feed(&body);
                match top.unreadable(Why::Undecodable) {
                    Some(bad) => Incoming::Unreadable(bad),
                    None => Incoming::Reply(reply),
                }
            }
        })
    }

    /// Reads and drops an oversized body without buffering it, scanning it for its
    /// top-level id and method; `None` at end of input.
    async fn oversized(&mut self, len: usize) -> Option<Incoming> {
        let max_body = self.max_body;
        tracing::error!(
            bytes = len,
            limit = max_body,
            "message over the size limit discarded"
        );
        let mut top = TopLevel::default();
        let mut left = len;
        while left > 0 {
            let buf = self.r.fill_buf().await.ok()?;
            if buf.is_empty() {
                return None;
            }
            let take = buf.len().min(left);
            top.feed(&buf[..take]);
            self.r.consume(take);
            left -= take;
        }
        let why = Why::Oversized {
            bytes: len,
            limit: max_body,
        };
        if let Some(bad) = top.unreadable(why) {
            return Some(Incoming::Unreadable(bad));
        }
        let message = format!(
            "Invalid request: the message is {len} bytes, over the server's limit of {max_body} \
             (calcinosis-ls --max-message-size)"
        );
        Some(Incoming::Reply(error_reply(-32600, &message, top.id)))
    }
}

/// A `didOpen` or `didChange` that decodes as JSON-RPC but not as its LSP parameters
/// (tower-lsp-server would drop it without a word, and the document would silently
/// diverge). Checked on the decoded tree, borrowing its strings: nothing is copied.
fn unusable_document_message(message: &Message) -> Option<Unreadable> {
    use serde::Deserialize;
    use tower_lsp_server::ls_types::{Range, Uri, VersionedTextDocumentIdentifier};
    let Message::Request(request) = message else {
        return None;
    };
    let open = match request.method() {
        "textDocument/didOpen" => true,
        "textDocument/didChange" => false,
        _ => return None,
    };
    let params = request.params()?;
    // The same shapes as ls-types' parameters, with the text borrowed.
    #[derive(Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "camelCase")]
    struct Item<'a> {
        uri: Uri,
        language_id: &'a str,
        version: i32,
        text: &'a str,
    }
    #[derive(Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "camelCase")]
    struct Open<'a> {
        #[serde(borrow)]
        text_document: Item<'a>,
    }
    #[derive(Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "camelCase")]
    struct Change<'a> {
        range: Option<Range>,
        range_length: Option<u32>,
        text: &'a str,
    }
    #[derive(Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "camelCase")]
    struct Changes<'a> {
        text_document: VersionedTextDocumentIdentifier,
        #[serde(borrow)]
        content_changes: Vec<Change<'a>>,
    }
    let fine = if open {
        Open::deserialize(params).is_ok()
    } else {
        Changes::deserialize(params).is_ok()
    };
    if fine {
        return None;
    }
    let document = params.get("textDocument")?;
    let uri = document.get("uri")?.as_str()?;
    let language = document.get("languageId").and_then(|l| l.as_str());
    Some(Unreadable {
        open,
        uri: uri.to_string(),
        language: language.filter(|_| open).map(str::to_string),
        why: Why::Undecodable,
    })
}

/// What a streaming scan of a JSON-RPC body found at its top level: its `"id"` (a number
/// or a string without escapes), its `"method"`, and `params.textDocument.uri`. Fed any
/// number of chunks, it keeps a few short strings only, so a body of any size is scanned
/// in bounded memory; a nested `"id"` is never taken for the message's.
#[derive(Debug, Default)]
struct TopLevel {
    /// The top-level id, if it was a usable one.
    id: Option<serde_json::Value>,
    method: Option<String>,
    uri: Option<String>,
    language: Option<String>,
    depth: usize,
    /// For depths 1 to [`TopLevel::PATH`]: whether the container is an object, and the
    /// key being read in it.
    objects: [bool; TopLevel::PATH + 1],
    keys: [Vec<u8>; TopLevel::PATH + 1],
    expect_key: bool,
    in_string: bool,
    escaped: bool,
    /// The string or scalar being read, if it may matter (cut at [`TopLevel::KEEP`]).
    token: Vec<u8>,
    token_escapes: bool,
    in_scalar: bool,
    string_is_key: bool,
}

impl TopLevel {
    /// How deep keys are remembered: `params.textDocument.uri` is three levels down.
    const PATH: usize = 3;
    /// The longest id, method or URI kept.
    const KEEP: usize = 8 * 1024;

    fn feed(&mut self, chunk: &[u8]) {
        for &b in chunk {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                    self.token_escapes = true;
                } else if b == b'"' {
                    self.in_string = false;
                    self.end_string();
                    continue;
                }
                self.push(b);
                continue;
            }
            if self.in_scalar {
                if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                    self.in_scalar = false;
                    self.end_scalar();
                } else {
                    self.push(b);
                    continue;
                }
            }
            match b {
                b'{' | b'[' => {
                    self.depth += 1;
                    if self.depth <= Self::PATH {
                        self.objects[self.depth] = b == b'{';
                        self.keys[self.depth].clear();
                    }
                    self.expect_key = b == b'{';
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    self.expect_key = false;
                }
                b',' => {
                    self.expect_key = self.depth <= Self::PATH && self.objects[self.depth];
                }
                b':' => self.expect_key = false,
                b'"' => {
                    self.in_string = true;
                    self.string_is_key = self.expect_key;
                    self.token.clear();
                    self.token_escapes = false;
                }
                b' ' | b'\t' | b'\r' | b'\n' => {}
                _ => {
                    self.in_scalar = true;
                    self.token.clear();
                    self.push(b);
                }
            }
        }
    }

    fn push(&mut self, b: u8) {
        // Only strings and scalars of the first levels can matter.
        if self.depth <= Self::PATH && self.token.len() <= Self::KEEP {
            self.token.push(b);
        }
    }

    /// The key path of the value just read, if it is one we keep.
    fn at(&self, path: &[&str]) -> bool {
        self.depth == path.len()
            && path
                .iter()
                .enumerate()
                .all(|(i, k)| self.objects[i + 1] && self.keys[i + 1] == k.as_bytes())
    }

    fn end_string(&mut self) {
        if self.depth == 0 || self.depth > Self::PATH {
            return;
        }
        if self.string_is_key {
            self.keys[self.depth] = std::mem::take(&mut self.token);
            self.expect_key = false;
            return;
        }
        let usable = !self.token_escapes && self.token.len() <= Self::KEEP;
        let text = || String::from_utf8(self.token.clone()).ok();
        if self.at(&["id"]) {
            if self.id.is_none() && usable {
                self.id = text().map(serde_json::Value::from);
            }
        } else if self.at(&["method"]) && usable {
            self.method = text();
        } else if self.at(&["params", "textDocument", "uri"]) && usable {
            self.uri = text();
        } else if self.at(&["params", "textDocument", "languageId"]) && usable {
            self.language = text();
        }
    }

    fn end_scalar(&mut self) {
        if self.at(&["id"]) {
            let n = std::str::from_utf8(&self.token)
                .ok()
                .and_then(|t| t.parse::<i64>().ok());
            if self.id.is_none() {
                self.id = n.map(serde_json::Value::from);
            }
        }
    }

    /// The document message this was, if it was one whose document can be named.
    fn unreadable(&self, why: Why) -> Option<Unreadable> {
        let open = match self.method.as_deref()? {
            "textDocument/didOpen" => true,
            "textDocument/didChange" => false,
            _ => return None,
        };
        Some(Unreadable {
            open,
            uri: self.uri.clone()?,
            language: self.language.clone().filter(|_| open),
            why,
        })
    }
}

/// Publications waiting for the writer, one slot per document: a newer publication
/// replaces one the client has not read yet, so a client that stops reading costs one
/// publication per document, not one per edit. Diagnostics and the CREST summary of a
/// document have a slot each and are written in that order.
#[derive(Default)]
pub struct Outbox {
    slots: Mutex<Slots>,
    ready: tokio::sync::Notify,
}

#[derive(Default)]
struct Slots {
    order: VecDeque<(String, usize)>,
    waiting: HashMap<(String, usize), Vec<u8>>,
}

/// The kinds of publication [`Outbox`] keeps one of per document.
#[derive(Debug, Clone, Copy)]
pub enum Slot {
    /// `textDocument/publishDiagnostics`.
    Diagnostics = 0,
    /// `calcinosis/crestSummary`.
    Summary = 1,
}

impl Outbox {
    /// Queues `body`, replacing the `slot` publication for `uri` not written yet.
    pub fn put(&self, uri: &str, slot: Slot, body: Vec<u8>) {
        let key = (uri.to_string(), slot as usize);
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.waiting.insert(key.clone(), body).is_none() {
            slots.order.push_back(key);
        }
        drop(slots);
        self.ready.notify_one();
    }

    /// Every publication waiting, oldest document first.
    fn take(&self) -> Vec<Vec<u8>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let Slots { order, waiting } = &mut *slots;
        let out = order.drain(..).filter_map(|k| waiting.remove(&k)).collect();
        waiting.shrink_to_fit();
        order.shrink_to_fit();
        out
    }

    /// How many publications wait.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.lock().map(|s| s.waiting.len()).unwrap_or(0)
    }
}

/// The one panic boundary: wraps the whole LSP service, so that a panic in any handler
/// (`initialize` and notifications included) answers a request with an internal error,
/// is logged without its message (it could quote the note), and never ends the process.
/// It also answers a request whose method starts with `$/` with MethodNotFound when the
/// service answers nothing (LSP: such requests must get an error).
pub struct PanicBoundary<S>(pub S);

impl<S> Service<Request> for PanicBoundary<S>
where
    S: Service<Request, Response = Option<Response>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Option<Response>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Option<Response>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let id = req.id().cloned();
        let dollar = req.method().starts_with("$/");
        let failed = |id: Option<Id>| {
            tracing::error!("a handler failed with an internal error");
            Ok(id.map(|id| Response::from_error(id, RpcError::internal_error())))
        };
        let inner = &mut self.0;
        let future = match std::panic::catch_unwind(AssertUnwindSafe(|| inner.call(req))) {
            Ok(future) => future,
            Err(_) => return futures::future::ready(failed(id)).boxed(),
        };
        async move {
            match AssertUnwindSafe(future).catch_unwind().await {
                Ok(Ok(None)) if dollar && id.is_some() => {
                    Ok(id.map(|id| Response::from_error(id, RpcError::method_not_found())))
                }
                Ok(answer) => answer.map(|r| r.map(without_quotes)),
                Err(_) => failed(id),
            }
        }
        .boxed()
    }
}

/// An error answer from tower-lsp-server's parameter decoding carries serde's message, and
/// serde's "invalid type" message quotes the value, which may be note text: replaced by a
/// fixed message saying the same without it.
fn without_quotes(response: Response) -> Response {
    use tower_lsp_server::jsonrpc::ErrorCode;
    let Some(error) = response.error() else {
        return response;
    };
    let message = match error.code {
        ErrorCode::InvalidParams => {
            "Invalid params: the parameters do not have the shape LSP specifies for this method"
        }
        ErrorCode::InvalidRequest => "Invalid request: not a request this server can read",
        ErrorCode::ParseError => "Parse error: the message body is not valid JSON",
        _ => return response,
    };
    let code = error.code;
    let (id, _) = response.into_parts();
    Response::from_error(
        id,
        RpcError {
            code,
            message: message.into(),
            data: None,
        },
    )
}

/// Serves `service` over `input` and `output` until `exit` or end of input. Client-bound
/// requests and notifications come from `socket`; publications from `outbox`; document
/// messages that cannot be used go to `unreadable`. Returns whether the client sent `exit`.
pub async fn run<S>(
    input: impl AsyncRead + Unpin + Send + 'static,
    output: impl AsyncWrite + Unpin + Send + 'static,
    mut service: S,
    socket: ClientSocket,
    outbox: Arc<Outbox>,
    unreadable: impl Fn(Unreadable) + Send + Sync + 'static,
    max_body: usize,
) -> bool
where
    S: Service<Request, Response = Option<Response>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send,
{
    let (out_tx, out_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(QUEUE);
    let writer = tokio::spawn(write_all(output, out_rx, outbox));

    // The server's requests and notifications to the client.
    let (mut to_client, mut from_client) = socket.split();
    let forward = {
        let out = out_tx.clone();
        tokio::spawn(async move {
            while let Some(request) = to_client.next().await {
                let Ok(body) = serde_json::to_vec(&request) else {
                    continue;
                };
                if out.send(body).await.is_err() {
                    break;
                }
            }
        })
    };

    // Handlers, started in arrival order (a request sees every earlier edit), at most
    // CONCURRENT_REQUESTS at once, their answers queued for the writer. Documents the
    // transport could not read are handled in the same order, after the handlers of every
    // earlier message (the `didOpen` before a bad `didChange` has opened the document).
    let (mut tasks, pending) =
        futures::channel::mpsc::channel::<BoxFuture<'static, Option<Response>>>(QUEUE);
    let unreadable = Arc::new(unreadable);
    let handlers = {
        let out = out_tx.clone();
        tokio::spawn(async move {
            let mut answers = pending.buffer_unordered(CONCURRENT_REQUESTS);
            while let Some(answer) = answers.next().await {
                let Some(response) = answer else {
                    continue;
                };
                let Ok(body) = serde_json::to_vec(&response) else {
                    continue;
                };
                if out.send(body).await.is_err() {
                    break;
                }
            }
        })
    };

    let mut framer = Framer::new(input, max_body);
    let mut exited = false;
    while let Some(incoming) = framer.next().await {
        match incoming {
            Incoming::Reply(body) => {
                if out_tx.send(body).await.is_err() {
                    break;
                }
            }
            Incoming::Unreadable(bad) => {
                let unreadable = unreadable.clone();
                let task = async move {
                    unreadable(bad);
                    None
                };
                if tasks.send(task.boxed()).await.is_err() {
                    break;
                }
            }
            Incoming::Message(Message::Response(response)) => {
                if from_client.send(response).await.is_err() {
                    break;
                }
            }
            Incoming::Message(Message::Request(request)) => {
                if futures::future::poll_fn(|cx| service.poll_ready(cx))
                    .await
                    .is_err()
                {
                    // The service has exited.
                    break;
                }
                let is_exit = request.method() == "exit";
                let future = service.call(request).map(|answer| answer.ok().flatten());
                if tasks.send(future.boxed()).await.is_err() {
                    break;
                }
                if is_exit {
                    exited = true;
                    break;
                }
            }
        }
    }
    tasks.close_channel();
    drop(service);
    // Handlers still running get a moment; one waiting on a hung build must not keep the
    // process alive.
    let stop = handlers.abort_handle();
    if tokio::time::timeout(GRACE, handlers).await.is_err() {
        stop.abort();
    }
    forward.abort();
    drop(out_tx);
    let stop = writer.abort_handle();
    if tokio::time::timeout(GRACE, writer).await.is_err() {
        // The client stopped reading: nothing more can be written.
        stop.abort();
    }
    exited
}

/// Writes whole messages from `queue` and `outbox` to `out` until every sender of `queue`
/// is gone, then what `outbox` still holds.
async fn write_all(
    mut out: impl AsyncWrite + Unpin,
    mut queue: tokio::sync::mpsc::Receiver<Vec<u8>>,
    outbox: Arc<Outbox>,
) {
    loop {
        let bodies = tokio::select! {
            biased;
            body = queue.recv() => match body {
                Some(body) => vec![body],
                None => break,
            },
            () = outbox.ready.notified() => outbox.take(),
        };
        for body in bodies {
            if out.write_all(&framed(&body)).await.is_err() || out.flush().await.is_err() {
                return;
            }
        }
    }
    for body in outbox.take() {
        if out.write_all(&framed(&body)).await.is_err() {
            return;
        }
    }
    let _ = out.flush().await;
    let _ = out.shutdown().await;
}

const CONTENT_LENGTH: &[u8] = b"content-length:";

/// Reads header blocks. A header block is lines of `Name: value` up to a blank line; any
/// header but `Content-Length` is ignored. When a block has no usable length, or a line is
/// not a header at all (the rest of a body whose length was wrong), the reader resyncs: it
/// skips input up to the next `Content-Length:`, wherever on a line it starts.
#[derive(Default)]
struct HeaderReader {
    line: Vec<u8>,
}

impl HeaderReader {
    /// The next body length; `None` at end of input.
    async fn read(&mut self, r: &mut (impl AsyncBufReadExt + Unpin)) -> Option<usize> {
        let mut len: Option<usize> = None;
        let mut resync = false;
        loop {
            self.line.clear();
            if read_line_bounded(r, &mut self.line).await? == 0 {
                return None;
            }
            let mut line = trim_line_end(&self.line);
            if resync {
                let Some(at) = find_ascii_ci(line, CONTENT_LENGTH) else {
                    continue;
                };
                line = &line[at..];
                resync = false;
                len = None;
            }
            if line.is_empty() {
                if len.is_some() {
                    return len;
                }
                tracing::error!("message header without a usable Content-Length skipped");
                resync = true;
                continue;
            }
            match header(line) {
                Some((name, value)) if name.eq_ignore_ascii_case(b"content-length") => {
                    len = parse_length(value);
                    if len.is_none() {
                        tracing::error!("message header with an unusable Content-Length skipped");
                        resync = true;
                    }
                }
                // Other headers (Content-Type) are allowed and carry nothing we need.
                Some(_) => {}
                None => {
                    // The rest of a body whose length was wrong, perhaps with the next
                    // header glued to its end.
                    tracing::error!("input that is not a message header skipped");
                    len = match find_ascii_ci(line, CONTENT_LENGTH) {
                        Some(at) => header(&line[at..]).and_then(|(_, v)| parse_length(v)),
                        None => None,
                    };
                    resync = len.is_none();
                }
            }
        }
    }
}

/// A header line's name and value, if the line is one (the name is a token).
fn header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = &line[..colon];
    let token = !name.is_empty() && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-');
    token.then(|| (name, &line[colon + 1..]))
}

fn parse_length(value: &[u8]) -> Option<usize> {
    std::str::from_utf8(value).ok()?.trim().parse().ok()
}

/// Reads up to and including `\n`, but never keeps more than 64 KB of one line: a header
/// line is short, and a body read as lines (after a wrong length) may have no newline for
/// megabytes. Of a longer line only the last 64 KB are kept, enough to find a header that
/// starts at its end.
async fn read_line_bounded(
    r: &mut (impl AsyncBufReadExt + Unpin),
    line: &mut Vec<u8>,
) -> Option<usize> {
    const KEEP: usize = 64 * 1024;
    let mut total = 0;
    loop {
        let buf = r.fill_buf().await.ok()?;
        if buf.is_empty() {
            return Some(total);
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        line.extend_from_slice(&buf[..take]);
        r.consume(take);
        total += take;
        if line.len() > 2 * KEEP {
            line.drain(..line.len() - KEEP);
        }
        if done {
            return Some(total);
        }
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    &line[..end]
}

/// Where `needle` (lower-case ASCII) starts in `hay`, ignoring ASCII case.
fn find_ascii_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// What tower-lsp-server decodes a body into (its own `Message`, which is private). Only
/// decoding exactly the same way tells whether it will accept a body: a body it cannot
/// decode ends its input stream, and with it the server.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum Message {
    Response(#[allow(dead_code)] Response),
    Request(Request),
}

fn error_reply(code: i64, message: &str, id: Option<serde_json::Value>) -> Vec<u8> {
    let id = id.unwrap_or(serde_json::Value::Null);
    serde_json::to_vec(&serde_json::json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": id}))
        .unwrap_or_default()
}

/// Decodes `body` as tower-lsp will; otherwise returns the JSON-RPC error to answer with.
/// Logs positions only: the body may be a note.
fn validate(body: &[u8]) -> Result<Message, Vec<u8>> {
    let parse_error = |line: usize, column: usize| {
        tracing::error!(
            line,
            column,
            "message body is not valid JSON; answered with a parse error"
        );
        error_reply(
            -32700,
            "Parse error: the message body is not valid JSON",
            None,
        )
    };
    let invalid = |id: Option<serde_json::Value>| {
        tracing::error!("message is not a JSON-RPC 2.0 request, notification or response");
        error_reply(-32600, "Invalid request: not a JSON-RPC 2.0 message", id)
    };
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(parse_error(0, 0));
    };
    // serde reads a struct from an array too: tower-lsp takes `["2.0", "exit"]` for `exit`.
    if !text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{')
    {
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Err(e) if e.is_syntax() || e.is_eof() => parse_error(e.line(), e.column()),
            _ => invalid(None),
        });
    }
    match serde_json::from_str::<Message>(text) {
        // tower-lsp would ignore it (a notification without a method): say why instead.
        Ok(Message::Request(r)) if r.method().is_empty() && r.id().is_none() => Err(invalid(None)),
        Ok(message) => Ok(message),
        Err(e) if e.is_syntax() || e.is_eof() => Err(parse_error(e.line(), e.column())),
        Err(_) => {
            // Echo the id only if it is one tower-lsp could have used.
            let id = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("id").cloned())
                .filter(|id| id.is_string() || id.is_i64());
            Err(invalid(id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything the framer makes of `input`: the methods it decoded (responses as
    /// "response"), and the replies and unreadable documents it reported.
    async fn run(input: &[u8], max_body: usize) -> (Vec<String>, Vec<String>, Vec<Unreadable>) {
        let mut framer = Framer::new(input, max_body);
        let (mut methods, mut replies, mut unreadable) = (Vec::new(), Vec::new(), Vec::new());
        while let Some(incoming) = framer.next().await {
            match incoming {
                Incoming::Message(Message::Request(r)) => methods.push(r.method().to_string()),
                Incoming::Message(Message::Response(_)) => methods.push("response".into()),
                Incoming::Reply(body) => replies.push(String::from_utf8(body).unwrap()),
                Incoming::Unreadable(bad) => unreadable.push(bad),
            }
        }
        (methods, replies, unreadable)
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[tokio::test]
    async fn passes_null_params_and_answers_garbage() {
        let input = format!(
            "{}garbage line\r\n\r\nContent-Length: x\r\n\r\n{}{}",
            frame(r#"{"jsonrpc":"2.0","id":1,"method":"shutdown","params":null}"#),
            frame("not json"),
            frame(r#"{"jsonrpc":"2.0","method":"exit"}"#),
        );
        let (methods, replies, _) = run(input.as_bytes(), DEFAULT_MAX_BODY).await;
        // tower-lsp-server accepts `"params": null` (eglot sends it): passed on as it is.
        assert_eq!(methods, ["shutdown", "exit"]);
        assert_eq!(replies.len(), 1, "{replies:?}");
        assert!(replies[0].contains("-32700") && !replies[0].contains("not json"));
        for bad in [
            &b"[1,2]"[..],
            b"42",
            br#"{"jsonrpc":"1.0","id":1,"method":"x"}"#,
            br#"{"jsonrpc":"2.0"}"#,
            br#"{"jsonrpc":"2.0","id":1,"method":"x","params":"\ud800"}"#,
            b"\xff\xfe",
        ] {
            assert!(validate(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(
            validate(br#"{"jsonrpc":"2.0","id":"a","method":"x","params":{"t":"\u00e9"}}"#).is_ok()
        );
        assert!(validate(br#"{"jsonrpc":"2.0","id":3,"result":null}"#).is_ok());
    }

    /// Found by fuzzing: these bodies are JSON but tower-lsp cannot decode them; they are
    /// answered here and never reach the service.
    #[tokio::test]
    async fn decodes_exactly_as_tower_lsp_server_does() {
        for bad in [
            &br#"{"jsonrpc":"2.0","id":1,"method":null}"#[..],
            br#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"x"}"#,
            br#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#,
            br#"{"jsonrpc":"2.0","id":1,"method":"x","params":[1e400]}"#,
            format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"x","params":{}{}}}"#,
                "[".repeat(200),
                "]".repeat(200)
            )
            .as_bytes(),
            br#"{"jsonrpc":"2.0","id":1,"id":2,"method":"x"}"#,
            br#"["2.0","exit"]"#,
        ] {
            assert!(validate(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let reply = |body: &[u8]| String::from_utf8(validate(body).err().unwrap()).unwrap();
        assert!(reply(br#"{"jsonrpc":"2.0","id":"q","method":7}"#).contains(r#""id":"q""#));
        assert!(
            reply(br#"{"jsonrpc":"2.0","id":18446744073709551615,"method":7}"#)
                .contains(r#""id":null"#)
        );
        let padded = format!(
            r#"{{"jsonrpc":"2.0","method":"exit","params":{{"pad":"{}"}}}}"#,
            "x".repeat(5000)
        );
        let (methods, replies, _) = run(frame(&padded).as_bytes(), DEFAULT_MAX_BODY).await;
        assert_eq!((methods, replies.len()), (vec!["exit".to_string()], 0));
    }

    /// Each bad frame costs that frame only: the message after it gets through.
    #[tokio::test]
    async fn recovers_after_each_bad_frame() {
        let good = r#"{"jsonrpc":"2.0","id":7,"method":"ok"}"#;
        let note = r#"{"jsonrpc":"2.0","method":"x","params":{"t":"é 😀 中"}}"#;
        let chars = note.chars().count();
        for bad in [
            // An extra header the spec allows, and one it does not mention.
            format!(
                "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n{}",
                frame(note)
            ),
            format!("X-Whatever: 1\r\n{}", frame(note)),
            // No Content-Length at all.
            format!("Content-Type: x\r\n\r\n{note}"),
            // A length counted in characters, not bytes.
            format!("Content-Length: {chars}\r\n\r\n{note}"),
            // Negative and absurd lengths.
            format!("Content-Length: -5\r\n\r\n{note}"),
            format!("Content-Length: 99999999999999999999999\r\n\r\n{note}"),
            // Garbage with no newline at all before the next header.
            "garbage without a newline".to_string(),
        ] {
            let input = format!("{bad}{}", frame(good));
            let (methods, ..) = run(input.as_bytes(), DEFAULT_MAX_BODY).await;
            assert_eq!(
                methods.last().map(String::as_str),
                Some("ok"),
                "after {bad:?}"
            );
        }
    }

    /// An oversized request is answered under its top-level id wherever that id is; a
    /// nested "id" is never taken for it; an oversized didOpen names its document.
    #[tokio::test]
    async fn oversized_body_is_answered_under_its_top_level_id() {
        let pad = "a".repeat(10_000);
        let good = r#"{"jsonrpc":"2.0","id":7,"method":"ok"}"#;
        let cases = [
            (
                format!(r#"{{"jsonrpc":"2.0","id":42,"method":"x","params":{{"t":"{pad}"}}}}"#),
                "42",
            ),
            // The id after the parameters, past any head a scan of the start would see.
            (
                format!(r#"{{"jsonrpc":"2.0","method":"x","params":{{"t":"{pad}"}},"id":"late"}}"#),
                r#""late""#,
            ),
            // A nested id only: not this message's.
            (
                format!(r#"{{"jsonrpc":"2.0","method":"x","params":{{"id":99,"t":"{pad}"}}}}"#),
                "null",
            ),
            // An "id" inside a string, and an escaped quote before it.
            (
                format!(
                    r#"{{"jsonrpc":"2.0","method":"x","params":{{"t":"\" \"id\":5 {pad}"}},"id":6}}"#
                ),
                "6",
            ),
        ];
        for (big, id) in cases {
            let input = format!("{}{}", frame(&big), frame(good));
            let (methods, replies, _) = run(input.as_bytes(), 1000).await;
            assert_eq!(methods, ["ok"]);
            assert_eq!(replies.len(), 1);
            assert!(
                replies[0].contains(&format!(r#""id":{id}"#))
                    && replies[0].contains("over the server's limit"),
                "{}",
                replies[0]
            );
            assert!(!replies[0].contains("aaaa"));
        }
        let open = format!(
            r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{{"uri":"file:///n.md","languageId":"markdown","version":1,"text":"{pad}"}}}}}}"#
        );
        let (methods, replies, unreadable) = run(frame(&open).as_bytes(), 1000).await;
        assert!(methods.is_empty() && replies.is_empty(), "{replies:?}");
        assert_eq!(
            unreadable,
            [Unreadable {
                open: true,
                uri: "file:///n.md".into(),
                language: Some("markdown".into()),
                why: Why::Oversized {
                    bytes: open.len(),
                    limit: 1000
                }
            }]
        );
    }

    /// A didChange the service could not decode is reported, never passed on silently.
    #[tokio::test]
    async fn undecodable_document_changes_are_reported() {
        let change = |version: &str, text: &str| {
            frame(&format!(
                r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"file:///n.md","version":{version}}},"contentChanges":[{{"text":"{text}"}}]}}}}"#
            ))
        };
        for (version, text) in [
            ("null", "ok"),
            ("2147483648", "ok"),
            (r#""3""#, "ok"),
            ("4", r"lone \ud800 surrogate"),
        ] {
            let (methods, replies, unreadable) =
                run(change(version, text).as_bytes(), DEFAULT_MAX_BODY).await;
            assert!(
                methods.is_empty() && replies.is_empty(),
                "{version} {text}: {replies:?}"
            );
            assert_eq!(unreadable.len(), 1, "{version} {text}");
            assert_eq!(
                (unreadable[0].open, unreadable[0].uri.as_str()),
                (false, "file:///n.md")
            );
        }
        let (methods, _, unreadable) = run(change("5", "fine").as_bytes(), DEFAULT_MAX_BODY).await;
        assert_eq!((methods.len(), unreadable.len()), (1, 0));
    }

    #[test]
    fn the_outbox_keeps_the_newest_publication_per_document() {
        let outbox = Outbox::default();
        for i in 0..1000 {
            outbox.put("file:///a", Slot::Diagnostics, format!("a{i}").into_bytes());
            outbox.put("file:///b", Slot::Diagnostics, format!("b{i}").into_bytes());
        }
        outbox.put("file:///a", Slot::Summary, b"s".to_vec());
        assert_eq!(outbox.len(), 3);
        assert_eq!(
            outbox.take(),
            [b"a999".to_vec(), b"b999".to_vec(), b"s".to_vec()]
        );
        assert!(outbox.take().is_empty());
    }

    /// The one panic boundary: a panic in a handler's call or future answers a request
    /// with an internal error and a notification with nothing; `$/` requests the service
    /// leaves unanswered get MethodNotFound; decoding errors never quote the input.
    #[tokio::test]
    async fn the_panic_boundary_answers_for_every_handler() {
        use tower_lsp_server::jsonrpc::ErrorCode;
        struct Mock;
        impl Service<Request> for Mock {
            type Response = Option<Response>;
            type Error = ();
            type Future = BoxFuture<'static, Result<Option<Response>, ()>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, req: Request) -> Self::Future {
                let id = req.id().cloned();
                match req.method() {
                    "panic-later" => async move { panic!("a panic quoting the note") }.boxed(),
                    "panic-now" => panic!("a panic quoting the note"),
                    "bad-params" => {
                        let error = RpcError {
                            code: ErrorCode::InvalidParams,
                            message: "invalid type: string \"the note\"".into(),
                            data: None,
                        };
                        futures::future::ready(Ok(id.map(|id| Response::from_error(id, error))))
                            .boxed()
                    }
                    _ => futures::future::ready(Ok(None)).boxed(),
                }
            }
        }
        let mut service = PanicBoundary(Mock);
        let mut ask = async |method: &str, id: Option<i64>| {
            let mut b = Request::build(method.to_string());
            if let Some(id) = id {
                b = b.id(id);
            }
            service.call(b.finish()).await.unwrap()
        };
        for method in ["panic-later", "panic-now"] {
            let r = ask(method, Some(1)).await.unwrap();
            assert_eq!(r.error().unwrap().code, ErrorCode::InternalError);
            assert!(
                ask(method, None).await.is_none(),
                "a notification is never answered"
            );
        }
        let r = ask("$/anything", Some(2)).await.unwrap();
        assert_eq!(r.error().unwrap().code, ErrorCode::MethodNotFound);
        assert!(ask("$/anything", None).await.is_none());
        let r = ask("bad-params", Some(3)).await.unwrap();
        assert!(
            !r.error().unwrap().message.contains("note"),
            "{:?}",
            r.error()
        );
    }
}
