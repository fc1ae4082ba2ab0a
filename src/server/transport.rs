//! The stdio transport in front of tower-lsp: frames messages from stdin, repairs what real
//! clients send that tower-lsp 0.20 refuses, and ends the stream after `exit`.
//!
//! - `"params": null` (sent by eglot for `shutdown`) is dropped: JSON-RPC 2.0 allows params
//!   to be omitted, and tower-lsp rejects an explicit null.
//! - After the `exit` notification the stream to tower-lsp is closed, so the server stops
//!   even while the client keeps its end of the pipe open (tower-lsp 0.20 waits for EOF).
//! - Garbage between messages and headers without a usable `Content-Length` are skipped
//!   (with a log line) until the next header; bodies larger than [`MAX_BODY`] are read and
//!   discarded without being buffered. Bodies that are not JSON pass through, so tower-lsp
//!   answers them with a JSON-RPC parse error.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// The largest message accepted: far above any real note, well below the machine's memory.
pub const MAX_BODY: usize = 512 * 1024 * 1024;

/// Copies framed messages from `input` to `output` until EOF or `exit`, then closes
/// `output`. Returns whether the client sent `exit`.
pub async fn pump(input: impl AsyncRead + Unpin, mut output: impl AsyncWrite + Unpin) -> bool {
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
        let (body, is_exit) = repair(body);
        let framed = [
            format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes(),
            body,
        ]
        .concat();
        if output.write_all(&framed).await.is_err() || output.flush().await.is_err() {
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

/// Drops `"params": null` and reports whether the message is `exit`.
fn repair(body: Vec<u8>) -> (Vec<u8>, bool) {
    let Ok(serde_json::Value::Object(mut msg)) = serde_json::from_slice::<serde_json::Value>(&body)
    else {
        return (body, false);
    };
    let is_exit = msg.get("method").and_then(|m| m.as_str()) == Some("exit");
    if msg.get("params").is_some_and(|p| p.is_null()) {
        msg.remove("params");
        return (serde_json::to_vec(&msg).unwrap_or(body), is_exit);
    }
    (body, is_exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run(input: &[u8]) -> (String, bool) {
        let (to_server, mut server_side) = tokio::io::duplex(1 << 20);
        let exited = pump(input, to_server).await;
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
        assert!(out.contains("not json"));
        assert!(out.contains(r#""method":"exit""#));
        assert!(!out.contains("never"), "nothing passes after exit");
    }
}
