//! Settings and the knowledge base they name: applying `initializationOptions` and
//! `workspace/didChangeConfiguration`, and rebuilding the engine with `$/progress`.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tower_lsp_server::ls_types::notification::Progress;
use tower_lsp_server::ls_types::request::WorkDoneProgressCreate;
use tower_lsp_server::ls_types::{
    MessageType, NumberOrString, ProgressParams, ProgressParamsValue, WorkDoneProgress,
    WorkDoneProgressBegin, WorkDoneProgressCreateParams, WorkDoneProgressEnd,
};

use crate::cancel::Cancel;
use crate::corpus::CorpusSource;
use crate::limits;

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

    /// A path from the settings, `name` being the setting's. A leading `~` is the home
    /// directory; other relative paths are taken from the workspace root (a workspace's
    /// settings file must not reach wherever the editor happened to start), and without a
    /// root they are refused with a message saying what to write instead.
    fn resolve(&self, name: &str, path: &Path) -> Result<PathBuf, String> {
        let mut parts = path.components();
        if parts.next() == Some(std::path::Component::Normal("~".as_ref())) {
            return match dirs::home_dir() {
                Some(home) => Ok(home.join(parts.as_path())),
                None => Err(format!(
                    "{name} starts with ~ but the home directory is unknown; give an absolute path"
                )),
            };
        }
        if path.is_absolute() {
            return Ok(path.to_path_buf());
        }
        let root = self.root.read().unwrap_or_else(|p| p.into_inner()).clone();
        match root {
            Some(root) => Ok(root.join(path)),
            None => Err(format!(
                "{name} {} is a relative path, and the editor opened no workspace folder to \
                 take it from; give an absolute path (or one starting with ~)",
                path.display()
            )),
        }
    }

    /// Whether `path` is a file of a corpus directory in use (the command line's or the
    /// `corpusDir` setting's) that the corpus reads (`*.toml`, `*.md`): saving one rebuilds
    /// the engine, so an edited lexicon or rule file takes effect at once (and a broken one
    /// is reported, the previous rules kept, as for any rebuild).
    pub fn is_corpus_file(&self, path: &Path) -> bool {
        let readable = path.extension().is_some_and(|e| e == "toml" || e == "md");
        let Some(parent) = path.parent().filter(|_| readable) else {
            return false;
        };
        let same = |dir: &Path| {
            dir == parent
                || std::fs::canonicalize(dir)
                    .ok()
                    .zip(std::fs::canonicalize(parent).ok())
                    .is_some_and(|(a, b)| a == b)
        };
        let configured = self
            .config()
            .corpus_dir
            .as_deref()
            .and_then(|d| self.resolve("corpusDir", d).ok());
        self.options.corpus.dirs.iter().any(|d| same(d)) || configured.is_some_and(|d| same(&d))
    }

    /// Rebuilds the engine for the configured corpus and index, reporting progress; keeps
    /// the current engine (and says why) when the new corpus is broken. When settings
    /// change again while a build runs, the older build's result is dropped: the last
    /// requested state wins, not the last finished one.
    pub async fn rebuild_engine(self: &Arc<Self>) {
        let ticket = self.rebuilds.fetch_add(1, Ordering::SeqCst) + 1;
        let config = self.config();
        let mut source: CorpusSource = self.options.corpus.clone();
        let resolved = (
            config
                .corpus_dir
                .as_deref()
                .map(|d| self.resolve("corpusDir", d))
                .transpose(),
            config
                .index_dir
                .as_deref()
                .map(|d| self.resolve("indexDir", d))
                .transpose(),
        );
        let (corpus_dir, index) = match resolved {
            (Ok(corpus_dir), Ok(index)) => (corpus_dir, index),
            (Err(e), _) | (_, Err(e)) => {
                let msg = format!("calcinosis-ls: {e}. Keeping the previous knowledge base.");
                tracing::error!("{msg}");
                self.client.show_message(MessageType::ERROR, msg).await;
                return;
            }
        };
        source.dirs.extend(corpus_dir);
        let index = index.or_else(|| self.options.index_dir.clone());
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
        let cancel = Cancel::new();
        let older = self
            .build
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(cancel.clone());
        if let Some(older) = older {
            older.cancel();
        }
        let job = move || {
            let corpus = source.load()?;
            Engine::build(corpus, index.as_deref())
        };
        let built = build(job, cancel.clone()).await;
        let superseded = self.rebuilds.load(Ordering::SeqCst) != ticket || cancel.is_cancelled();
        let message = match built {
            Ok(Ok(_)) | Ok(Err(crate::Error::Cancelled)) if superseded => {
                "superseded by newer settings".to_string()
            }
            Ok(Ok(engine)) => {
                let n = engine.kb.corpus().statements.len();
                self.engine.replace(engine);
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
            Err(Failure::Stalled) => {
                let msg = format!(
                    "calcinosis-ls: building the knowledge base made no progress for {} s \
                     (is a file in the corpus or index directory a pipe, or on a drive that \
                     stopped answering?); gave up. Keeping the previous knowledge base.",
                    limits::BUILD_STALL.as_secs()
                );
                self.client.show_message(MessageType::ERROR, &msg).await;
                tracing::error!("{msg}");
                "failed: no progress".to_string()
            }
            Err(Failure::Superseded) => "superseded by newer settings".to_string(),
            Err(Failure::Internal) => "failed: internal error while building".to_string(),
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

impl Session {
    /// At shutdown: cancels a settings build still running and waits, at most
    /// [`limits::SHUTDOWN_BUILD_WAIT`], for it to stop at its next checkpoint, so that a
    /// half-built index folder is removed (and dropped from the directory's record) by the
    /// build itself rather than left for the next one.
    pub(super) async fn stop_build(&self) {
        let token = self.build.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(token) = token else { return };
        token.cancel();
        let start = Instant::now();
        while !token.is_finished() && start.elapsed() < limits::SHUTDOWN_BUILD_WAIT {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Builds the start-up engine (see [`super::Startup::Build`]) on a thread of its own
    /// and installs it. Should it fail, the user is told, and what needs the engine answers
    /// nothing until a settings change rebuilds it.
    pub(super) async fn build_at_start(
        self: Arc<Self>,
        job: Box<dyn FnOnce() -> crate::Result<Engine> + Send>,
    ) {
        let t = Instant::now();
        let failed = match build(job, Cancel::new()).await {
            Ok(Ok(engine)) => {
                let n = engine.kb.corpus().statements.len();
                self.engine.built(Some(engine));
                tracing::info!(
                    statements = n,
                    ms = t.elapsed().as_secs_f64() * 1000.0,
                    "knowledge base ready (built at start-up)"
                );
                return;
            }
            Ok(Err(e)) => e.to_string(),
            Err(Failure::Stalled) => "it made no progress".to_string(),
            Err(_) => "internal error".to_string(),
        };
        self.engine.built(None);
        let msg = format!(
            "calcinosis-ls: cannot build the knowledge base ({failed}). Nothing will be \
             analysed; restart the server, and report this if it happens again."
        );
        tracing::error!("{msg}");
        self.client.show_message(MessageType::ERROR, msg).await;
    }
}

/// Why a build gave no result.
pub(super) enum Failure {
    /// It passed no checkpoint for [`limits::BUILD_STALL`], and was cancelled.
    Stalled,
    /// A newer build cancelled it.
    Superseded,
    /// It panicked, or its thread could not start.
    Internal,
}

/// How often a build's progress is looked at.
const WATCH: Duration = Duration::from_millis(100);

/// Runs `job` (loading a corpus, building its engine and index) on a thread of its own,
/// never on the runtime's blocking pool: a build may block for ever on a pipe or a hung
/// drive, and that pool once also carried stdin and stdout. Waits for the result while the
/// build makes progress; gives up (cancelling it) after [`limits::BUILD_STALL`] without
/// any, or as soon as a newer build cancels it. A thread blocked in the kernel cannot be
/// stopped: it is left behind, and its result is dropped.
pub(super) async fn build(
    job: impl FnOnce() -> crate::Result<Engine> + Send + 'static,
    cancel: Cancel,
) -> Result<crate::Result<Engine>, Failure> {
    let (done, mut result) = tokio::sync::oneshot::channel();
    let token = cancel.clone();
    std::thread::Builder::new()
        .name("build".into())
        .spawn(move || {
            let built = token.run(|| std::panic::catch_unwind(AssertUnwindSafe(job)));
            let _ = done.send(built);
        })
        .map_err(|_| Failure::Internal)?;
    let (mut seen, mut since) = (cancel.progress(), Instant::now());
    loop {
        tokio::select! {
            built = &mut result => {
                return built.map_err(|_| Failure::Internal)?.map_err(|_| Failure::Internal);
            }
            () = tokio::time::sleep(WATCH) => {
                if cancel.is_cancelled() {
                    return Err(Failure::Superseded);
                }
                let now = cancel.progress();
                if now != seen {
                    (seen, since) = (now, Instant::now());
                } else if since.elapsed() >= limits::BUILD_STALL {
                    cancel.cancel();
                    return Err(Failure::Stalled);
                }
            }
        }
    }
}
