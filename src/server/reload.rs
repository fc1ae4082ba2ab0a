//! Settings and the knowledge base they name: applying `initializationOptions` and
//! `workspace/didChangeConfiguration`, and rebuilding the engine with `$/progress`.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::Value;
use tower_lsp_server::ls_types::notification::Progress;
use tower_lsp_server::ls_types::request::WorkDoneProgressCreate;
use tower_lsp_server::ls_types::{
    MessageType, NumberOrString, ProgressParams, ProgressParamsValue, WorkDoneProgress,
    WorkDoneProgressBegin, WorkDoneProgressCreateParams, WorkDoneProgressEnd,
};

use crate::corpus::CorpusSource;

use super::engine::Engine;
use super::session::Session;

impl Session {
    /// Applies settings; shows the problems found. Returns whether the corpus or index
    /// changed (the engine must then be rebuilt).
    pub async fn apply_settings(&self, value: &Value) -> bool {
        let (problems, reload) = {
            let mut config = self.config.write().unwrap_or_else(|p| p.into_inner());
            let before = (config.corpus_dir.clone(), config.index_dir.clone());
            let problems = config.update(value);
            let after = (config.corpus_dir.clone(), config.index_dir.clone());
            (problems, before != after)
        };
        for p in problems {
            tracing::warn!("{p}");
            self.client
                .show_message(MessageType::WARNING, format!("calcinosis-ls: {p}"))
                .await;
        }
        reload
    }

    /// A path from the settings: relative paths are taken from the workspace root (a
    /// workspace's settings file must not reach wherever the editor happened to start).
    fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            return path.to_path_buf();
        }
        let root = self.root.read().unwrap_or_else(|p| p.into_inner()).clone();
        match root {
            Some(root) => root.join(path),
            None => path.to_path_buf(),
        }
    }

    /// Rebuilds the engine for the configured corpus and index, reporting progress; keeps
    /// the current engine (and says why) when the new corpus is broken. When settings
    /// change again while a build runs, the older build's result is dropped: the last
    /// requested state wins, not the last finished one.
    pub async fn rebuild_engine(self: &Arc<Self>) {
        let ticket = self.rebuilds.fetch_add(1, Ordering::SeqCst) + 1;
        let config = self.config();
        let mut source: CorpusSource = self.options.corpus.clone();
        source
            .dirs
            .extend(config.corpus_dir.as_deref().map(|d| self.resolve(d)));
        let index = config
            .index_dir
            .as_deref()
            .map(|d| self.resolve(d))
            .or_else(|| self.options.index_dir.clone());
        let token = NumberOrString::String(format!("calcinosis-ls/build/{}", self.next_id()));
        let progress = self
            .client
            .send_request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
                token: token.clone(),
            })
            .await
            .is_ok();
        let report = |value: WorkDoneProgress| ProgressParams {
            token: token.clone(),
            value: ProgressParamsValue::WorkDone(value),
        };
        if progress {
            let begin = WorkDoneProgressBegin {
                title: "calcinosis-ls: building the knowledge base".into(),
                ..Default::default()
            };
            self.client
                .send_notification::<Progress>(report(WorkDoneProgress::Begin(begin)))
                .await;
        }
        let built = tokio::task::spawn_blocking(move || {
            let corpus = source.load()?;
            Engine::build(corpus, index.as_deref())
        })
        .await;
        let superseded = self.rebuilds.load(Ordering::SeqCst) != ticket;
        let message = match built {
            Ok(Ok(_)) if superseded => "superseded by newer settings".to_string(),
            Ok(Ok(engine)) => {
                let n = engine.kb.corpus().statements.len();
                *self.engine.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(engine);
                self.forget_analyses();
                tracing::info!(statements = n, "knowledge base ready");
                format!("{n} statements ready")
            }
            Ok(Err(e)) => {
                let msg = format!(
                    "calcinosis-ls: cannot use the configured corpus or index: {e}. \
                     Keeping the previous knowledge base."
                );
                if !superseded {
                    self.client.show_message(MessageType::ERROR, &msg).await;
                }
                tracing::error!("{msg}");
                format!("failed: {e}")
            }
            Err(_) => "failed: internal error while building".to_string(),
        };
        if progress {
            let end = WorkDoneProgressEnd {
                message: Some(message),
            };
            self.client
                .send_notification::<Progress>(report(WorkDoneProgress::End(end)))
                .await;
        }
        if !superseded {
            self.schedule_all();
        }
    }
}
