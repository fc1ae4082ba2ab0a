//! `workspace/executeCommand`: the commands of [`super::protocol`].

use serde_json::{json, Value};
use sha2::Digest;
use tower_lsp_server::jsonrpc::{Error as RpcError, Result};
use tower_lsp_server::ls_types::{ExecuteCommandParams, MessageType, Uri};

use crate::limits;

use super::protocol::{ASK, DOCUMENT_DIGEST, SHOW_STATEMENTS};
use super::session::Session;

impl Session {
    /// Runs a command; unknown commands and bad arguments are `invalid_params` errors.
    pub async fn execute(&self, params: ExecuteCommandParams) -> Result<Option<Value>> {
        let Some(engine) = self.engine().await else {
            let mut e = RpcError::internal_error();
            e.message = "calcinosis-ls could not build its knowledge base (see the server \
                         log); restart the server"
                .into();
            return Err(e);
        };
        let arg = |i: usize| params.arguments.get(i);
        match params.command.as_str() {
            ASK => {
                let question = arg(0).and_then(Value::as_str).ok_or_else(|| {
                    RpcError::invalid_params("calcinosis.ask takes a question string")
                })?;
                let limit = arg(1)
                    .and_then(Value::as_u64)
                    .unwrap_or(10)
                    .clamp(1, limits::MAX_RESULTS as u64) as usize;
                // The same ranking and abstention as the command line's `ask`; each row
                // says whether the sources answer the question.
                let reply = engine
                    .kb
                    .ask(question, limit)
                    .map_err(|e| RpcError::invalid_params(e.to_string()))?;
                // Each row points at the statement where the user can open it: for the
                // embedded corpus, the copy in the cache directory (as go-to-definition
                // does), never a path inside this program's source tree.
                let mut answers = json!(reply.rows());
                if let Some(rows) = answers.as_array_mut() {
                    for (row, hit) in rows.iter_mut().zip(&reply.hits) {
                        if let Some(loc) = engine.locate(hit.statement) {
                            if let Some(path) = loc.uri.to_file_path() {
                                row["file"] = json!(path.display().to_string());
                            }
                            row["uri"] = json!(loc.uri.as_str());
                        }
                    }
                }
                Ok(Some(answers))
            }
            DOCUMENT_DIGEST => {
                let uri = arg(0)
                    .and_then(Value::as_str)
                    .and_then(|u| u.parse::<Uri>().ok())
                    .ok_or_else(|| {
                        RpcError::invalid_params("calcinosis.documentDigest takes a document URI")
                    })?;
                let docs = self.docs();
                let s = docs
                    .get(&uri)
                    .ok_or_else(|| RpcError::invalid_params("that document is not open"))?;
                let text = s.doc.text();
                let sha = sha2::Sha256::digest(text.as_bytes());
                Ok(Some(
                    json!({"version": s.version, "bytes": text.len(), "sha256": format!("{sha:x}")}),
                ))
            }
            SHOW_STATEMENTS => {
                let name = arg(0).and_then(Value::as_str).ok_or_else(|| {
                    RpcError::invalid_params("calcinosis.showStatements takes a term name")
                })?;
                let name = limits::question(name);
                let term =
                    engine.analyzer.lexicon().find(name).ok_or_else(|| {
                        RpcError::invalid_params(format!("unknown term {name:?}"))
                    })?;
                let hits = engine
                    .kb
                    .lookup(term, 5)
                    .map_err(|e| RpcError::invalid_params(e.to_string()))?;
                let lines: Vec<String> = hits
                    .iter()
                    .map(|h| {
                        format!(
                            "• {} {} — {}",
                            h.statement.text,
                            h.statement.source_label(),
                            h.statement.section_path()
                        )
                    })
                    .collect();
                let t = engine.kb.term(term);
                self.client
                    .show_message(
                        MessageType::INFO,
                        format!("{}:\n{}", t.name, lines.join("\n")),
                    )
                    .await;
                let answers: Vec<_> = hits.iter().map(|h| h.answer()).collect();
                Ok(Some(json!(answers)))
            }
            other => Err(RpcError::invalid_params(format!(
                "unknown command {:?}",
                limits::truncate(other, 100)
            ))),
        }
    }
}
