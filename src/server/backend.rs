//! The `LanguageServer` implementation: document store, scheduling and protocol plumbing.
//! Features live in their own modules; this file only routes.
//!
//! Ordering invariant: document edits are applied synchronously inside the notification
//! handler, before its first `.await`, and tower-lsp starts handlers in arrival order, so
//! every later request and diagnostic run sees every earlier edit. Analyses are cached per
//! document version and discarded when a newer version exists.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;
use tower_lsp::jsonrpc::{Error as RpcError, Result};
use tower_lsp::lsp_types::notification::Notification;
use tower_lsp::lsp_types::*;
use tower_lsp::{Client, LanguageServer};

use calcinosis_ls::analysis::{Analysis, AnalysisCache};
use calcinosis_ls::document::{Document, Encoding};

use sha2::Digest;

use super::actions::{self, ASK, DOCUMENT_DIGEST, SHOW_STATEMENTS};
use super::config::Config;
use super::engine::{load_corpus, Engine};
use super::{completion, convert, diagnostics, hover, navigation};
use crate::cli::KnowledgeArgs;

/// `calcinosis/crestSummary`: the note's CREST summary, for status bars.
pub enum CrestSummaryNotification {}

/// Parameters of [`CrestSummaryNotification`].
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct CrestSummaryParams {
    /// The document.
    pub uri: Url,
    /// Documented letters.
    pub present: Vec<String>,
    /// Possible letters.
    pub possible: Vec<String>,
    /// Negated letters.
    pub negated: Vec<String>,
}

impl Notification for CrestSummaryNotification {
    type Params = CrestSummaryParams;
    const METHOD: &'static str = "calcinosis/crestSummary";
}

/// An engine, a document version and its analysis, consistent with each other.
type Snapshot = (Arc<Engine>, Arc<Document>, Arc<Analysis>);

/// A document as it is at one moment, with what analysing it needs.
struct Current {
    doc: Arc<Document>,
    version: i32,
    /// The analysis of this version, if done, and the engine that made it.
    analysis: Option<(Arc<Engine>, Arc<Analysis>)>,
    cache: Arc<Mutex<AnalysisCache>>,
}

struct DocState {
    doc: Arc<Document>,
    version: i32,
    language: String,
    /// A number for logs: URIs may name the patient, so they are never logged.
    id: u64,
    /// The analysis of `version` and the engine that made it (term ids are the engine's).
    analysis: Option<(i32, Arc<Engine>, Arc<Analysis>)>,
    /// Pieces of the last analysed version, so that an edit re-analyses only what changed.
    /// Locked for the whole analysis: two requests for the same new version wait for one
    /// analysis instead of running two.
    cache: Arc<Mutex<AnalysisCache>>,
}

struct Inner {
    client: Client,
    engine: RwLock<Arc<Engine>>,
    docs: Mutex<HashMap<Url, DocState>>,
    config: RwLock<Config>,
    encoding: RwLock<Encoding>,
    cli: KnowledgeArgs,
    next_id: AtomicU64,
    /// Set by `shutdown`: the process exit status depends on it.
    shut_down: Arc<AtomicBool>,
    /// Message bodies written straight to the client by the transport, past tower-lsp.
    outbox: UnboundedSender<Vec<u8>>,
}

/// The language server.
#[derive(Clone)]
pub struct Backend {
    inner: Arc<Inner>,
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Runs the analyser, turning an internal panic into an empty analysis (and a log line
/// without the panic's message, which could quote the note).
fn analyze_safely(engine: &Engine, text: &str, cache: &mut AnalysisCache) -> Analysis {
    let run = AssertUnwindSafe(|| engine.analyzer.reanalyze(text, cache));
    match std::panic::catch_unwind(run) {
        Ok(a) => a,
        Err(_) => {
            // The cache may hold half an update; start afresh.
            *cache = AnalysisCache::new();
            tracing::error!(
                "note analysis failed with an internal error; no findings for this version"
            );
            Analysis::default()
        }
    }
}

impl Backend {
    /// A server over `engine`, with `cli` the corpus options it was started with and
    /// `outbox` a way to the client that bypasses tower-lsp (see [`Self::publish`]).
    pub fn new(
        client: Client,
        engine: Engine,
        cli: KnowledgeArgs,
        shut_down: Arc<AtomicBool>,
        outbox: UnboundedSender<Vec<u8>>,
    ) -> Backend {
        Backend {
            inner: Arc::new(Inner {
                client,
                engine: RwLock::new(Arc::new(engine)),
                docs: Mutex::new(HashMap::new()),
                config: RwLock::new(Config::default()),
                encoding: RwLock::new(Encoding::Utf16),
                cli,
                next_id: AtomicU64::new(1),
                shut_down,
                outbox,
            }),
        }
    }

    fn engine(&self) -> Arc<Engine> {
        read(&self.inner.engine)
    }

    fn encoding(&self) -> Encoding {
        read(&self.inner.encoding)
    }

    fn docs(&self) -> std::sync::MutexGuard<'_, HashMap<Url, DocState>> {
        self.inner.docs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The document as it is now; `None` for unknown or non-note documents.
    fn current(&self, uri: &Url) -> Option<Current> {
        let config = read(&self.inner.config);
        let docs = self.docs();
        let s = docs.get(uri)?;
        if !config.analyses(&s.language) {
            return None;
        }
        let analysis = s
            .analysis
            .as_ref()
            .filter(|(v, ..)| *v == s.version)
            .map(|(_, e, a)| (e.clone(), a.clone()));
        Some(Current {
            doc: s.doc.clone(),
            version: s.version,
            analysis,
            cache: s.cache.clone(),
        })
    }

    /// `current` with its analysis, analysing (incrementally) if it is not done yet: may
    /// take a while on a big edit, so call it off the async workers.
    fn complete(&self, uri: &Url, current: Current) -> Snapshot {
        let (engine, analysis) = match current.analysis {
            Some(done) => done,
            None => self.analyse(uri, &current.doc, current.version, &current.cache),
        };
        (engine, current.doc, analysis)
    }

    /// For request handlers: the document as it is when the request arrives (taken before
    /// the first `.await`, so later edits are not seen) and its analysis, computed on the
    /// blocking pool if it is not cached, so that the async workers keep serving.
    async fn snapshot(&self, uri: &Url) -> Option<Snapshot> {
        let current = self.current(uri)?;
        if current.analysis.is_some() {
            return Some(self.complete(uri, current));
        }
        let this = self.clone();
        let uri = uri.clone();
        tokio::task::spawn_blocking(move || this.complete(&uri, current))
            .await
            .ok()
    }

    /// Analyses `doc` (version `version` of `uri`) with the current engine, reusing the
    /// document's cache, and remembers the result if that version is still the latest.
    fn analyse(
        &self,
        uri: &Url,
        doc: &Document,
        version: i32,
        cache: &Mutex<AnalysisCache>,
    ) -> (Arc<Engine>, Arc<Analysis>) {
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        // Another request may have analysed this version while we waited for the lock.
        if let Some(Current {
            version: v,
            analysis: Some(done),
            ..
        }) = self.current(uri)
        {
            if v == version {
                return done;
            }
        }
        let t = std::time::Instant::now();
        let engine = self.engine();
        let a = Arc::new(analyze_safely(&engine, doc.text(), &mut cache));
        let (reused, analysed) = cache.last_run();
        tracing::debug!(
            version,
            reused,
            analysed,
            ms = t.elapsed().as_secs_f64() * 1000.0,
            "pieces analysed"
        );
        if let Some(s) = self.docs().get_mut(uri) {
            if s.version == version {
                s.analysis = Some((version, engine.clone(), a.clone()));
            }
        }
        (engine, a)
    }

    /// Publishes diagnostics. They are serialised here, straight from the typed structs,
    /// and handed to the transport: tower-lsp 0.20 first turns every notification's
    /// parameters into a `serde_json::Value` tree, which for a long note's thousands of
    /// diagnostics cost several times the analysis. Every publication goes this way, so
    /// they reach the client in the order they are made.
    fn publish(&self, uri: Url, diagnostics: Vec<Diagnostic>, version: Option<i32>) {
        #[derive(serde::Serialize)]
        struct Message {
            jsonrpc: &'static str,
            method: &'static str,
            params: PublishDiagnosticsParams,
        }
        let message = Message {
            jsonrpc: "2.0",
            method: <notification::PublishDiagnostics as Notification>::METHOD,
            params: PublishDiagnosticsParams {
                uri,
                diagnostics,
                version,
            },
        };
        match serde_json::to_vec(&message) {
            Ok(body) => {
                let _ = self.inner.outbox.send(body);
            }
            Err(e) => tracing::error!("cannot serialise diagnostics: {e}"),
        }
    }

    fn version(&self, uri: &Url) -> Option<i32> {
        self.docs().get(uri).map(|s| s.version)
    }

    /// Publishes diagnostics for `uri` after the debounce, unless a newer version arrives.
    fn schedule(&self, uri: Url, version: i32) {
        let this = self.clone();
        tokio::spawn(async move {
            let config = read(&this.inner.config);
            if config.debounce_ms > 0 {
                tokio::time::sleep(Duration::from_millis(config.debounce_ms)).await;
            }
            if this.version(&uri) != Some(version) {
                return;
            }
            let enc = this.encoding();
            let worker = this.clone();
            let key = uri.clone();
            let computed = tokio::task::spawn_blocking(move || {
                let t = std::time::Instant::now();
                let current = worker.current(&key)?;
                let (engine, doc, analysis) = worker.complete(&key, current);
                let analysed = t.elapsed();
                let diags = diagnostics::diagnostics(&engine, &doc, &analysis, &config, enc);
                tracing::debug!(
                    version,
                    analysis_ms = analysed.as_secs_f64() * 1000.0,
                    diagnostics_ms = (t.elapsed() - analysed).as_secs_f64() * 1000.0,
                    "analysed"
                );
                Some((diags, analysis))
            })
            .await
            .ok()
            .flatten();
            let Some((diags, analysis)) = computed else {
                return;
            };
            if this.version(&uri) != Some(version) {
                return;
            }
            let n = diags.len();
            let t = std::time::Instant::now();
            this.publish(uri.clone(), diags, Some(version));
            tracing::debug!(
                version,
                publish_ms = t.elapsed().as_secs_f64() * 1000.0,
                "published"
            );
            let letters = |s: &std::collections::BTreeSet<calcinosis_ls::corpus::Crest>| {
                s.iter().map(|c| c.as_str().to_string()).collect()
            };
            let c = &analysis.crest;
            let params = CrestSummaryParams {
                uri,
                present: letters(&c.present),
                possible: letters(&c.possible),
                negated: letters(&c.negated),
            };
            this.inner
                .client
                .send_notification::<CrestSummaryNotification>(params)
                .await;
            tracing::debug!(version, diagnostics = n, "published diagnostics");
        });
    }

    fn schedule_all(&self) {
        let open: Vec<(Url, i32)> = self
            .docs()
            .iter()
            .map(|(u, s)| (u.clone(), s.version))
            .collect();
        for (uri, version) in open {
            self.schedule(uri, version);
        }
    }

    /// Rebuilds the engine for the configured corpus and index, reporting progress; keeps
    /// the current engine (and says why) when the new corpus is broken.
    async fn rebuild_engine(&self) {
        let config = read(&self.inner.config);
        let mut dirs = self.inner.cli.corpus.clone();
        dirs.extend(config.corpus_dir.clone());
        let index = config
            .index_dir
            .clone()
            .or_else(|| self.inner.cli.index.clone());
        let replace = self.inner.cli.replace_corpus;
        let token = NumberOrString::String(format!(
            "calcinosis-ls/build/{}",
            self.inner.next_id.fetch_add(1, Ordering::Relaxed)
        ));
        let progress = self
            .inner
            .client
            .send_request::<request::WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
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
            self.inner
                .client
                .send_notification::<notification::Progress>(report(WorkDoneProgress::Begin(begin)))
                .await;
        }
        let built = tokio::task::spawn_blocking(move || {
            let corpus = load_corpus(&dirs, replace)?;
            Engine::build(corpus, index.as_deref())
        })
        .await;
        let message = match built {
            Ok(Ok(engine)) => {
                let n = engine.kb.corpus().statements.len();
                *self.inner.engine.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(engine);
                for s in self.docs().values_mut() {
                    s.analysis = None;
                }
                tracing::info!(statements = n, "knowledge base ready");
                format!("{n} statements ready")
            }
            Ok(Err(e)) => {
                let msg = format!("calcinosis-ls: cannot use the configured corpus: {e}. Keeping the previous one.");
                self.inner
                    .client
                    .show_message(MessageType::ERROR, &msg)
                    .await;
                tracing::error!("{msg}");
                "failed".into()
            }
            Err(_) => "failed".into(),
        };
        if progress {
            let end = WorkDoneProgressEnd {
                message: Some(message),
            };
            self.inner
                .client
                .send_notification::<notification::Progress>(report(WorkDoneProgress::End(end)))
                .await;
        }
        self.schedule_all();
    }

    async fn apply_settings(&self, value: &Value) -> bool {
        let (problems, reload) = {
            let mut config = self.inner.config.write().unwrap_or_else(|p| p.into_inner());
            let before = (config.corpus_dir.clone(), config.index_dir.clone());
            let problems = config.update(value);
            (
                problems,
                before != (config.corpus_dir.clone(), config.index_dir.clone()),
            )
        };
        for p in problems {
            tracing::warn!("{p}");
            self.inner
                .client
                .show_message(MessageType::WARNING, format!("calcinosis-ls: {p}"))
                .await;
        }
        reload
    }

    fn offset(&self, doc: &Document, pos: Position) -> Option<usize> {
        doc.offset(convert::position(pos), self.encoding())
    }
}

#[tower_lsp::async_trait]
impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let offered = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_deref());
        let enc = convert::negotiate(offered);
        *self
            .inner
            .encoding
            .write()
            .unwrap_or_else(|p| p.into_inner()) = enc;
        if let Some(opts) = &params.initialization_options {
            // Problems are shown once the client is ready (in `initialized`).
            let mut config = self.inner.config.write().unwrap_or_else(|p| p.into_inner());
            let problems = config.update(opts);
            for p in problems {
                tracing::warn!("{p}");
            }
        }
        tracing::info!(encoding = ?enc, "initialize");
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(convert::encoding_kind(enc)),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..Default::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                completion_provider: Some(CompletionOptions {
                    resolve_provider: Some(true),
                    ..Default::default()
                }),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![
                            CodeActionKind::QUICKFIX,
                            CodeActionKind::REFACTOR_REWRITE,
                            CodeActionKind::EMPTY,
                        ]),
                        ..Default::default()
                    },
                )),
                definition_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![ASK.into(), SHOW_STATEMENTS.into(), DOCUMENT_DIGEST.into()],
                    ..Default::default()
                }),
                ..Default::default()
            },
            server_info: Some(ServerInfo {
                name: "calcinosis-ls".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let config = read(&self.inner.config);
        if config.corpus_dir.is_some() || config.index_dir.is_some() {
            self.rebuild_engine().await;
        }
    }

    async fn shutdown(&self) -> Result<()> {
        tracing::info!("shutdown");
        self.inner.shut_down.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let d = params.text_document;
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(doc = id, version = d.version, bytes = d.text.len(), language = %d.language_id, "open");
        let state = DocState {
            doc: Arc::new(Document::new(d.text)),
            version: d.version,
            language: d.language_id,
            id,
            analysis: None,
            cache: Arc::default(),
        };
        self.docs().insert(d.uri.clone(), state);
        self.schedule(d.uri, d.version);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let version = params.text_document.version;
        let enc = self.encoding();
        {
            let mut docs = self.docs();
            let Some(state) = docs.get_mut(&uri) else {
                tracing::warn!("change for a document that is not open; ignored");
                return;
            };
            let doc = Arc::make_mut(&mut state.doc);
            for change in params.content_changes {
                let range = change
                    .range
                    .map(|r| (convert::position(r.start), convert::position(r.end)));
                if let Err(e) = doc.apply(range, &change.text, enc) {
                    tracing::error!(doc = state.id, "edit refused: {e}");
                }
            }
            state.version = version;
            state.analysis = None;
        }
        self.schedule(uri, version);
    }

    async fn did_save(&self, _: DidSaveTextDocumentParams) {}

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        if let Some(s) = self.docs().remove(&uri) {
            tracing::debug!(doc = s.id, "close");
        }
        self.publish(uri, Vec::new(), None);
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        if self.apply_settings(&params.settings).await {
            self.rebuild_engine().await;
        } else {
            self.schedule_all();
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        let Some((engine, doc, analysis)) = self.snapshot(&p.text_document.uri).await else {
            return Ok(None);
        };
        let Some(offset) = self.offset(&doc, p.position) else {
            return Ok(None);
        };
        Ok(hover::hover(
            &engine,
            &doc,
            &analysis,
            offset,
            self.encoding(),
        ))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        let doc = {
            let docs = self.docs();
            let Some(s) = docs.get(&p.text_document.uri) else {
                return Ok(None);
            };
            if !read(&self.inner.config).analyses(&s.language) {
                return Ok(None);
            }
            s.doc.clone()
        };
        let Some(offset) = self.offset(&doc, p.position) else {
            return Ok(None);
        };
        Ok(completion::complete(
            &self.engine(),
            &doc,
            offset,
            self.encoding(),
        ))
    }

    async fn completion_resolve(&self, item: CompletionItem) -> Result<CompletionItem> {
        Ok(completion::resolve(&self.engine(), item))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri;
        let Some((engine, doc, analysis)) = self.snapshot(&uri).await else {
            return Ok(None);
        };
        let Some(range) = convert::byte_range(&doc, params.range, self.encoding()) else {
            return Ok(None);
        };
        let found = actions::actions(&engine, &uri, &doc, &analysis, range, self.encoding());
        Ok((!found.is_empty()).then_some(found))
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        let Some((engine, doc, analysis)) = self.snapshot(&p.text_document.uri).await else {
            return Ok(None);
        };
        let Some(offset) = self.offset(&doc, p.position) else {
            return Ok(None);
        };
        Ok(navigation::definition(&engine, &analysis, offset).map(GotoDefinitionResponse::Scalar))
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let Some((engine, doc, analysis)) = self.snapshot(&params.text_document.uri).await else {
            return Ok(None);
        };
        let symbols = navigation::document_symbols(&engine, &doc, &analysis, self.encoding());
        Ok(Some(DocumentSymbolResponse::Nested(symbols)))
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<Vec<SymbolInformation>>> {
        Ok(Some(navigation::workspace_symbols(
            &self.engine(),
            &params.query,
            50,
        )))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<Value>> {
        let engine = self.engine();
        let arg = |i: usize| params.arguments.get(i);
        match params.command.as_str() {
            ASK => {
                let question = arg(0).and_then(Value::as_str).ok_or_else(|| {
                    RpcError::invalid_params("calcinosis.ask takes a question string")
                })?;
                let limit = arg(1).and_then(Value::as_u64).unwrap_or(10).clamp(1, 100) as usize;
                let hits = engine
                    .kb
                    .search(question, limit)
                    .map_err(|e| RpcError::invalid_params(e.to_string()))?;
                let answers: Vec<_> = hits.iter().map(|h| h.answer()).collect();
                Ok(Some(json!(answers)))
            }
            DOCUMENT_DIGEST => {
                // Lets a client (and the soak test) check its copy is in sync without the
                // server ever sending note text back.
                let uri = arg(0)
                    .and_then(Value::as_str)
                    .and_then(|u| Url::parse(u).ok())
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
                            h.statement.citation_label(),
                            h.statement.section_path()
                        )
                    })
                    .collect();
                let t = engine.kb.term(term);
                self.inner
                    .client
                    .show_message(
                        MessageType::INFO,
                        format!("{}:\n{}", t.name, lines.join("\n")),
                    )
                    .await;
                let answers: Vec<_> = hits.iter().map(|h| h.answer()).collect();
                Ok(Some(json!(answers)))
            }
            other => Err(RpcError::invalid_params(format!(
                "unknown command {other:?}"
            ))),
        }
    }
}
