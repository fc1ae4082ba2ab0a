//! The stdio transport in front of tower-lsp: frames messages from stdin, repairs what real
//! clients send that tower-lsp 0.20 refuses, and ends the stream after `exit`.
//!
//! - `"params": null` (sent by eglot for `shutdown`) is dropped: JSON-RPC 2.0 allows params
//!   to be omitted, and tower-lsp rejects an explicit null.
//! - After the `exit` notification the stream to tower-lsp is closed, so the server stops
//!   even while the client keeps its end of the pipe open (tower-lsp 0.20 waits for EOF).
//! - Garbage between messages and headers without a usable `Content-Length` are skipped
//!   (with a log line) until the next header; bodies larger than [`MAX_BODY`] are read and
//!   discarded without being buffered.
//! - Bodies tower-lsp cannot decode never reach it (its 0.20 transport stops reading after
//!   the first decode error, which ends the server): the transport decodes every body the
//!   way tower-lsp does and answers the ones that fail itself, with a JSON-RPC parse error
//!   or invalid request, merged into the output stream between whole messages ([`merge`]).

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tower_lsp::jsonrpc::{Request, Response};

/// Frames a message body.
fn framed(body: &[u8]) -> Vec<u8> {
    [
        format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
        body,
    ]
    .concat()
}

/// The largest message accepted: far above any real note, well below the machine's memory.
pub const MAX_BODY: usize = 512 * 1024 * 1024;

/// Copies framed messages from `input` to `output` until EOF or `exit`, then closes
/// `output`. Answers to bodies that are not JSON go to `replies`. Returns whether the client
/// sent `exit`.
pub async fn pump(
    input: impl AsyncRead + Unpin,
    mut output: impl AsyncWrite + Unpin,
    replies: UnboundedSender<Vec<u8>>,
) -> bool {
    let mut r = BufReader::with_capacity(64 * 1024, input);
    loop {
        let Some(len) = read_header(&mut r).await else {
            break;
        };
        if len > MAX_BODY {
            tracing::error!(
                bytes = len,
                "message larger than {MAX_BODY} bytes discarded"
            );
            let mut rest = (&mut r).take(len as u64);
            if tokio::io::copy(&mut rest, &mut tokio::io::sink())
                .await
                .is_err()
            {
                break;
            }
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
        let (body, is_exit) = repair(body, message);
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
    let len = read_header(r).await?;
    let mut body = vec![0; len];
    r.read_exact(&mut body).await.ok()?;
    Some(body)
}

/// Reads header lines up to the blank line; returns the body length. Skips malformed
/// header blocks. `None` at end of input.
async fn read_header(r: &mut (impl AsyncBufReadExt + Unpin)) -> Option<usize> {
    let mut len: Option<usize> = None;
    let mut bad = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line).await.ok()? == 0 {
            return None;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if let (Some(n), false) = (len, bad) {
                return Some(n);
            }
            if len.is_some() || bad {
                tracing::error!("malformed message header skipped (no usable Content-Length)");
            }
            len = None;
            bad = false;
            continue;
        }
        match text.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("content-length") => {
                match value.trim().parse() {
                    Ok(n) => len = Some(n),
                    Err(_) => bad = true,
                }
            }
            Some((name, _)) if name.eq_ignore_ascii_case("content-type") => {}
            _ => bad = true,
        }
    }
}

/// What tower-lsp 0.20 decodes a body into (its own `Message`, which is private). Only
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

/// Drops `"params": null` and reports whether the message is `exit` (as tower-lsp sees it:
/// any request or notification with that method).
fn repair(body: Vec<u8>, message: Message) -> (Vec<u8>, bool) {
    let Message::Request(request) = message else {
        return (body, false);
    };
    let is_exit = request.method() == "exit";
    if !request.params().is_some_and(serde_json::Value::is_null) {
        return (body, is_exit);
    }
    let Ok(serde_json::Value::Object(mut msg)) = serde_json::from_slice(&body) else {
        return (body, is_exit);
    };
    msg.remove("params");
    (serde_json::to_vec(&msg).unwrap_or(body), is_exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run(input: &[u8]) -> (String, bool) {
        let (to_server, mut server_side) = tokio::io::duplex(1 << 20);
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let exited = pump(input, to_server, tx).await;
        let mut out = String::new();
        server_side.read_to_string(&mut out).await.unwrap();
        (out, exited)
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[tokio::test]
    async fn repairs_null_params_skips_garbage_and_stops_at_exit() {
        let input = format!(
            "{}garbage line\r\n\r\nContent-Length: x\r\n\r\n{}{}{}",
            frame(r#"{"jsonrpc":"2.0","id":1,"method":"shutdown","params":null}"#),
            frame("not json"),
            frame(r#"{"jsonrpc":"2.0","method":"exit"}"#),
            frame(r#"{"jsonrpc":"2.0","id":2,"method":"never"}"#),
        );
        let (out, exited) = run(input.as_bytes()).await;
        assert!(exited);
        assert!(
            out.contains(r#"{"id":1,"jsonrpc":"2.0","method":"shutdown"}"#),
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
    async fn decodes_exactly_as_tower_lsp_does() {
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
}
