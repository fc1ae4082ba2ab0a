//! The stdio transport in front of tower-lsp-server: frames messages from stdin and hands
//! the server only what it can decode. What the fork still needs from us, each part with the
//! test that shows it:
//!
//! - **Bodies it cannot decode never reach it.** Its reader stops for good after the first
//!   body it fails to decode, which ends the server; the transport decodes every body the
//!   way tower-lsp-server does and answers the ones that fail itself, with a JSON-RPC parse
//!   error or invalid request (`decodes_exactly_as_tower_lsp_server_does`, and
//!   `bad_input_never_ends_the_server` end to end).
//! - **Framing that recovers.** Any header but `Content-Length` is ignored (the spec allows
//!   `Content-Type`); a frame without a usable length, or one whose length was wrong (counted
//!   in characters, say), is skipped up to the next `Content-Length:` header wherever it
//!   starts, so one bad frame costs that frame only (`recovers_after_each_bad_frame`).
//! - **A length limit.** Bodies larger than the limit (`--max-message-size`, 64 MB by
//!   default) are read and discarded without being buffered and answered with an error
//!   carrying the request's id when it can be found (`oversized_body_is_answered`); the fork
//!   would buffer any length a client announces.
//! - **After `exit`, nothing more is read**, so the process ends even when the client keeps
//!   its end of the pipe open.
//!
//! `merge` writes the server's output, the transport's answers and the diagnostics the
//! server serialises itself (`protocol::publish_diagnostics_body`) as whole messages.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tower_lsp_server::jsonrpc::{Request, Response};

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

/// Copies framed messages from `input` to `output` until EOF or `exit`, then closes
/// `output`. Bodies longer than `max_body` are skipped. Answers to bodies that cannot be
/// decoded, and to oversized ones, go to `replies`. Returns whether the client sent `exit`.
pub async fn pump(
    input: impl AsyncRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
    replies: UnboundedSender<Vec<u8>>,
    max_body: usize,
) -> bool {
    let mut r = BufReader::with_capacity(64 * 1024, input);
    let mut header = HeaderReader::default();
    loop {
        let Some(len) = header.read(&mut r).await else {
            break;
        };
        if len > max_body {
            let Some(reply) = discard_oversized(&mut r, len, max_body).await else {
                break;
            };
            let _ = replies.send(reply);
            continue;
        }
        let mut body = vec![0; len];
        if r.read_exact(&mut body).await.is_err() {
            tracing::error!("input ended inside a message");
            break;
        }
        let message = match validate(&body) {
            Ok(message) => message,
            Err(reply) => {
                let _ = replies.send(reply);
                continue;
            }
        };
        let is_exit = matches!(&message, Message::Request(r) if r.method() == "exit");
        if output.write_all(&framed(&body)).await.is_err() || output.flush().await.is_err() {
            break;
        }
        if is_exit {
            let _ = output.shutdown().await;
            return true;
        }
    }
    let _ = output.shutdown().await;
    false
}

/// Reads and drops an oversized body without buffering it; returns the error to answer
/// with (carrying the request's id if its first bytes name one), `None` at end of input.
async fn discard_oversized(
    r: &mut (impl AsyncBufReadExt + Unpin),
    len: usize,
    max_body: usize,
) -> Option<Vec<u8>> {
    tracing::error!(
        bytes = len,
        limit = max_body,
        "message over the size limit discarded"
    );
    let mut head = Vec::new();
    (&mut *r)
        .take(4096.min(len) as u64)
        .read_to_end(&mut head)
        .await
        .ok()?;
    let rest = (len - head.len()) as u64;
    let mut tail = (&mut *r).take(rest);
    let copied = tokio::io::copy(&mut tail, &mut tokio::io::sink())
        .await
        .ok()?;
    if copied < rest {
        return None;
    }
    let message = format!(
        "Invalid request: the message is {len} bytes, over the server's limit of {max_body} \
         (calcinosis-ls --max-message-size)"
    );
    Some(error_reply(-32600, &message, leading_id(&head)))
}

/// The `"id"` of a JSON-RPC message from its first bytes, if it is there (clients write it
/// before the parameters): a number or a short string.
fn leading_id(head: &[u8]) -> Option<serde_json::Value> {
    let text = String::from_utf8_lossy(head);
    let at = text.find("\"id\"")? + 4;
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    if let Some(quoted) = rest.strip_prefix('"') {
        let end = quoted.find('"')?;
        let id = &quoted[..end];
        return (!id.contains('\\')).then(|| serde_json::Value::from(id));
    }
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse::<i64>().ok().map(serde_json::Value::from)
}

/// Copies whole messages from the server (`from_server`) and the transport's own replies to
/// `out`, never interleaving two messages, until the server's stream ends.
pub async fn merge(
    from_server: impl AsyncRead + Unpin + Send + 'static,
    mut replies: UnboundedReceiver<Vec<u8>>,
    mut out: impl AsyncWrite + Unpin,
) {
    // Reading a message is not cancel-safe, so it runs in its own task and hands whole
    // messages over a channel, which is.
    let (tx, mut messages) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
    tokio::spawn(async move {
        let mut r = BufReader::with_capacity(64 * 1024, from_server);
        while let Some(body) = read_message(&mut r).await {
            if tx.send(body).await.is_err() {
                break;
            }
        }
    });
    loop {
        let body = tokio::select! {
            biased;
            message = messages.recv() => match message {
                Some(body) => body,
                None => break,
            },
            Some(reply) = replies.recv() => reply,
        };
        if out.write_all(&framed(&body)).await.is_err() || out.flush().await.is_err() {
            return;
        }
    }
    while let Ok(body) = replies.try_recv() {
        let _ = out.write_all(&framed(&body)).await;
    }
    let _ = out.flush().await;
}

/// Reads one framed message body; `None` at the end of the stream.
async fn read_message(r: &mut (impl AsyncBufReadExt + Unpin)) -> Option<Vec<u8>> {
    let len = HeaderReader::default().read(r).await?;
    let mut body = vec![0; len];
    r.read_exact(&mut body).await.ok()?;
    Some(body)
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
#[derive(serde::Deserialize)]
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

    async fn run(input: &[u8]) -> (String, bool) {
        let (to_server, mut server_side) = tokio::io::duplex(1 << 20);
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let exited = pump(input, to_server, tx, DEFAULT_MAX_BODY).await;
        let mut out = String::new();
        server_side.read_to_string(&mut out).await.unwrap();
        (out, exited)
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[tokio::test]
    async fn passes_null_params_skips_garbage_and_stops_at_exit() {
        let input = format!(
            "{}garbage line\r\n\r\nContent-Length: x\r\n\r\n{}{}{}",
            frame(r#"{"jsonrpc":"2.0","id":1,"method":"shutdown","params":null}"#),
            frame("not json"),
            frame(r#"{"jsonrpc":"2.0","method":"exit"}"#),
            frame(r#"{"jsonrpc":"2.0","id":2,"method":"never"}"#),
        );
        let (out, exited) = run(input.as_bytes()).await;
        assert!(exited);
        // tower-lsp-server accepts `"params": null` (eglot sends it): passed on as it is.
        assert!(
            out.contains(r#"{"jsonrpc":"2.0","id":1,"method":"shutdown","params":null}"#),
            "{out}"
        );
        assert!(
            !out.contains("not json"),
            "invalid JSON never reaches tower-lsp"
        );
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
        assert!(out.contains(r#""method":"exit""#));
        assert!(!out.contains("never"), "nothing passes after exit");
    }

    /// Found by fuzzing: these bodies are JSON but tower-lsp cannot decode them, and the first
    /// one it fails on ends its input (and the server); `exit` went unnoticed when padded or
    /// sent as an array, and tower-lsp then waited forever.
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
        for exit in [
            padded.as_str(),
            r#"{"jsonrpc":"2.0","id":9,"method":"exit"}"#,
            r#"{"jsonrpc":"2.0","method":"exit","params":null}"#,
        ] {
            let (out, exited) = run(format!("{}{}", frame(exit), frame("{}")).as_bytes()).await;
            assert!(exited, "{exit:.80}");
            assert!(!out.contains("{}"), "nothing passes after exit");
        }
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
            let (out, _) = run(input.as_bytes()).await;
            assert!(
                out.contains(good),
                "lost the next message after {bad:?}: {out}"
            );
        }
    }

    #[tokio::test]
    async fn oversized_body_is_answered_and_the_next_message_gets_through() {
        let big = format!(
            r#"{{"jsonrpc":"2.0","id":42,"method":"x","params":{{"t":"{}"}}}}"#,
            "a".repeat(10_000)
        );
        let good = r#"{"jsonrpc":"2.0","id":7,"method":"ok"}"#;
        let input = format!("{}{}", frame(&big), frame(good));
        let (to_server, mut server_side) = tokio::io::duplex(1 << 20);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        pump(input.as_bytes(), to_server, tx, 1000).await;
        let mut out = String::new();
        server_side.read_to_string(&mut out).await.unwrap();
        assert!(out.contains(good) && !out.contains("aaaa"), "{out}");
        let reply = String::from_utf8(rx.recv().await.unwrap()).unwrap();
        assert!(
            reply.contains(r#""id":42"#) && reply.contains("over the server's limit"),
            "{reply}"
        );
        assert_eq!(
            leading_id(br#"{"id":"abc","jsonrpc":"2.0"}"#),
            Some("abc".into())
        );
        assert_eq!(leading_id(br#"{"jsonrpc":"2.0","method":"x"}"#), None);
    }
}
