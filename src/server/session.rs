//! The state one client session shares across handlers, and the documents it keeps.
//!
//! Ordering invariant: document edits are applied synchronously inside the notification
//! handler, before its first `.await`, and handlers are started in arrival order, so every
//! later request and diagnostic run sees every earlier edit. Analyses are cached per
//! document version and discarded when a newer version exists.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use tower_lsp_server::ls_types::{MessageType, Position, TextDocumentContentChangeEvent, Uri};
use tower_lsp_server::Client;

use crate::analysis::{Analysis, AnalysisCache};
use crate::document::{Document, Edit, Encoding};

use super::config::Config;
use super::convert;
use super::engine::Engine;
use super::transport::{Outbox, Unreadable, Why};
use super::ServerOptions;

/// An engine, a document version and its analysis, consistent with each other.
pub(super) type Snapshot = (Arc<Engine>, Arc<Document>, Arc<Analysis>);

/// A document as it is at one moment, with what analysing it needs.
pub(super) struct Current {
    pub doc: Arc<Document>,
    pub version: i32,
    /// The analysis of this version, if done, and the engine that made it.
    analysis: Option<(Arc<Engine>, Arc<Analysis>)>,
    cache: Arc<Mutex<AnalysisCache>>,
}

/// An open document.
pub(super) struct DocState {
    pub doc: Arc<Document>,
    pub version: i32,
    pub language: String,
    /// A number for logs: URIs may name the patient, so they are never logged.
    pub id: u64,
    /// The analysis of `version` and the engine that made it (term ids are the engine's).
    analysis: Option<(i32, Arc<Engine>, Arc<Analysis>)>,
    /// Pieces of the last analysed version, so that an edit re-analyses only what changed.
    /// Locked for the whole analysis: two requests for the same new version wait for one
    /// analysis instead of running two.
    cache: Arc<Mutex<AnalysisCache>>,
    /// Whether the server's copy can be trusted. An edit it could not read (undecodable,
    /// oversized) makes every later incremental edit land in the wrong place, so until a
    /// full-text change (or a reopen) the document is neither analysed nor published.
    pub in_sync: bool,
    /// Its diagnostics runs: see `scheduler`.
    pub run: Run,
}

/// The diagnostics runs of one document: at most one at a time, each taking the newest
/// version when it starts.
#[derive(Debug, Default)]
pub(super) struct Run {
    /// Whether a run is waiting or analysing; changes meanwhile are left to it.
    pub running: bool,
    /// Counts requests for a run (edits, settings): a run that finds the count moved on
    /// while it worked runs again for the newest version.
    pub wanted: u64,
    /// How long the last run's analysis and diagnostics took; `None` before the first.
    pub last: Option<std::time::Duration>,
}

impl DocState {
    /// A newly opened document.
    pub fn new(text: String, version: i32, language: String, id: u64) -> DocState {
        DocState {
            doc: Arc::new(Document::new(text)),
            version,
            language,
            id,
            analysis: None,
            cache: Arc::default(),
            in_sync: true,
            run: Run::default(),
        }
    }

    /// Stops trusting the server's copy: its text, analysis and cache are dropped (they
    /// are wrong, and a note may be megabytes).
    fn lose_sync(&mut self) {
        self.in_sync = false;
        self.doc = Arc::default();
        self.analysis = None;
        self.cache = Arc::default();
    }

    /// Marks the document as changed to `version`: its analysis is out of date.
    pub fn changed(&mut self, version: i32) {
        self.version = version;
        self.analysis = None;
    }
}

/// Where a session's engine stands.
#[derive(Clone)]
enum EngineState {
    /// Being built in the background (at start-up, while `initialize` is answered).
    Building,
    /// Ready; a rebuild replaces it whole.
    Ready(Arc<Engine>),
    /// The start-up build failed (the error was shown); only a rebuild from the settings
    /// can bring one.
    Failed,
}

/// The session's engine. At start-up it is built on a thread of its own while `initialize`
/// is answered (building it took ~20 ms of the ~20 ms the editor waited for that answer);
/// whatever needs it waits for it here, so nothing is answered from a half-built engine,
/// nor answered empty because it was not built yet.
pub(super) struct EngineSlot(tokio::sync::watch::Sender<EngineState>);

impl EngineSlot {
    /// A slot holding `engine` from the start.
    pub fn ready(engine: Engine) -> EngineSlot {
        EngineSlot(tokio::sync::watch::Sender::new(EngineState::Ready(
            Arc::new(engine),
        )))
    }

    /// A slot whose engine is being built: see [`EngineSlot::built`].
    pub fn building() -> EngineSlot {
        EngineSlot(tokio::sync::watch::Sender::new(EngineState::Building))
    }

    /// The start-up build's result. Ignored when a rebuild from the settings already
    /// installed an engine: the last requested corpus wins, not the last finished.
    pub fn built(&self, engine: Option<Engine>) {
        self.0.send_if_modified(|state| {
            if !matches!(state, EngineState::Building) {
                return false;
            }
            *state = match engine {
                Some(e) => EngineState::Ready(Arc::new(e)),
                None => EngineState::Failed,
            };
            true
        });
    }

    /// Installs a rebuilt engine.
    pub fn replace(&self, engine: Engine) {
        self.0.send_replace(EngineState::Ready(Arc::new(engine)));
    }

    /// The engine if it is ready now (without waiting).
    pub fn now(&self) -> Option<Arc<Engine>> {
        match &*self.0.borrow() {
            EngineState::Ready(e) => Some(e.clone()),
            _ => None,
        }
    }

    /// The engine, once built; `None` when the start-up build failed.
    pub async fn get(&self) -> Option<Arc<Engine>> {
        let mut rx = self.0.subscribe();
        let state = rx
            .wait_for(|s| !matches!(s, EngineState::Building))
            .await
            .ok()?;
        match &*state {
            EngineState::Ready(e) => Some(e.clone()),
            _ => None,
        }
    }
}

/// Shared state of one client session.
pub(super) struct Session {
    pub client: Client,
    /// The knowledge base and analyser; see [`EngineSlot`].
    pub engine: EngineSlot,
    pub docs: Mutex<HashMap<Uri, DocState>>,
    pub config: RwLock<Config>,
    pub encoding: RwLock<Encoding>,
    /// What the command line asked for; settings extend it.
    pub options: ServerOptions,
    pub next_id: AtomicU64,
    /// Set by `shutdown`: the process exit status depends on it.
    pub shut_down: Arc<AtomicBool>,
    /// Publications written straight to the client by the transport, past tower-lsp: one
    /// per document waits, the newest.
    pub outbox: Arc<Outbox>,
    /// Counts engine rebuild requests: a rebuild that finishes after a newer one was asked
    /// for is dropped (the last requested corpus wins, not the last finished).
    pub rebuilds: AtomicU64,
    /// The running build's cancellation token: a newer build cancels it.
    pub build: Mutex<Option<crate::cancel::Cancel>>,
    /// The workspace root from `initialize`, for relative paths in settings.
    pub root: RwLock<Option<std::path::PathBuf>>,
    /// Whether the client declared `textDocument.publishDiagnostics.relatedInformation`:
    /// only then do CREST diagnostics carry their source statement's location.
    pub related_information: AtomicBool,
}

/// A read lock's value, cloned; a poisoned lock still holds a usable value.
pub(super) fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Gives the memory a closed document freed back to the system. glibc keeps freed memory
/// in its arenas for reuse, so closing every note returned little (2.06 GB resident, then
/// 1.97 GB after closing all); trimming costs a walk of the heap, once per close.
pub(super) fn return_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory at the allocator's discretion.
    unsafe {
        libc::malloc_trim(0);
    }
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

impl Session {
    /// A session over `engine`.
    pub fn new(
        client: Client,
        engine: EngineSlot,
        options: ServerOptions,
        shut_down: Arc<AtomicBool>,
        outbox: Arc<Outbox>,
    ) -> Session {
        Session {
            client,
            engine,
            docs: Mutex::new(HashMap::new()),
            config: RwLock::new(Config::default()),
            encoding: RwLock::new(Encoding::Utf16),
            options,
            next_id: AtomicU64::new(1),
            shut_down,
            outbox,
            rebuilds: AtomicU64::new(0),
            build: Mutex::new(None),
            root: RwLock::new(None),
            related_information: AtomicBool::new(false),
        }
    }

    /// The engine, waiting for it while it is built; `None` when it could not be.
    pub async fn engine(&self) -> Option<Arc<Engine>> {
        self.engine.get().await
    }

    pub fn encoding(&self) -> Encoding {
        read(&self.encoding)
    }

    pub fn config(&self) -> Config {
        read(&self.config)
    }

    pub fn docs(&self) -> MutexGuard<'_, HashMap<Uri, DocState>> {
        self.docs.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// A byte offset for a protocol position in `doc`; `None` past the end.
    pub fn offset(&self, doc: &Document, pos: Position) -> Option<usize> {
        doc.offset(convert::position(pos), self.encoding())
    }

    /// Forgets every analysis (the engine changed: term ids are the engine's).
    pub fn forget_analyses(&self) {
        for s in self.docs().values_mut() {
            s.analysis = None;
        }
    }

    /// Applies a `didChange` batch to `uri` and moves it to `version`; `false` when the
    /// document is not open or not in sync (then it is not to be analysed). Edits the
    /// client got wrong (a reversed range) are refused one by one and logged without their
    /// text. A document out of sync ignores incremental edits until a full-text change,
    /// which brings it back.
    pub fn apply_changes(
        &self,
        uri: &Uri,
        version: i32,
        mut changes: Vec<TextDocumentContentChangeEvent>,
    ) -> bool {
        let enc = self.encoding();
        let mut docs = self.docs();
        let Some(state) = docs.get_mut(uri) else {
            tracing::warn!("change for a document that is not open; ignored");
            return false;
        };
        if !state.in_sync {
            match changes.iter().rposition(|c| c.range.is_none()) {
                Some(full) => {
                    changes.drain(..full);
                    state.in_sync = true;
                    tracing::info!(doc = state.id, "document back in sync (full-text change)");
                }
                None => {
                    state.version = version;
                    return false;
                }
            }
        }
        let edits = changes.iter().map(|c| Edit {
            range: c
                .range
                .map(|r| (convert::position(r.start), convert::position(r.end))),
            text: &c.text,
        });
        let refused = Arc::make_mut(&mut state.doc).apply_all(edits, enc);
        if refused > 0 {
            tracing::error!(
                doc = state.id,
                refused,
                "edits with a reversed range refused"
            );
        }
        state.changed(version);
        true
    }

    /// A `didOpen` or `didChange` the transport could not use: the document is marked out
    /// of sync (a `didOpen` opens it so), its diagnostics are withdrawn, and the user is
    /// told once, without the document's name or text, what happened and how to recover.
    pub fn unreadable(self: &Arc<Self>, bad: Unreadable) {
        use std::str::FromStr;
        let Ok(uri) = Uri::from_str(&bad.uri) else {
            tracing::error!("a document message with an unusable URI was dropped");
            return;
        };
        let first = {
            let mut docs = self.docs();
            if bad.open {
                let id = self.next_id();
                let language = bad.language.clone().unwrap_or_default();
                docs.insert(uri.clone(), DocState::new(String::new(), 0, language, id));
            }
            let Some(state) = docs.get_mut(&uri) else {
                tracing::warn!("unreadable change for a document that is not open; ignored");
                return;
            };
            let first = state.in_sync;
            state.lose_sync();
            tracing::error!(doc = state.id, open = bad.open, why = ?bad.why, "document out of sync");
            first
        };
        // Stale findings would point at the wrong places: withdraw them.
        self.publish(uri, Vec::new(), None);
        if !first {
            return;
        }
        let what = if bad.open { "opened" } else { "edited" };
        let why = match bad.why {
            Why::Oversized { bytes, limit } => format!(
                "the note just {what} is {} MB, over the server's limit of {} MB \
                 (calcinosis-ls --max-message-size)",
                bytes.div_ceil(1 << 20),
                limit >> 20
            ),
            Why::Undecodable => format!(
                "the editor sent a change to the note just {what} that the server cannot \
                 read (a version that is not a number, or text that is not valid Unicode)"
            ),
        };
        let message = format!(
            "calcinosis-ls: {why}. Its findings are paused; close and reopen the note to \
             analyse it again."
        );
        let this = self.clone();
        tokio::spawn(async move {
            this.client
                .show_message(MessageType::WARNING, message)
                .await;
        });
    }

    /// The text of `uri` as it is now, if it is an open note.
    pub fn text_of(&self, uri: &Uri) -> Option<Arc<Document>> {
        let config = read(&self.config);
        let docs = self.docs();
        let s = docs.get(uri)?;
        (s.in_sync && config.analyses(&s.language)).then(|| s.doc.clone())
    }

    /// The document as it is now; `None` for unknown or non-note documents.
    pub fn current(&self, uri: &Uri) -> Option<Current> {
        let config = read(&self.config);
        let docs = self.docs();
        let s = docs.get(uri)?;
        if !s.in_sync || !config.analyses(&s.language) {
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

    /// `current` with its analysis, analysing (incrementally) with `engine` if it is not
    /// done yet: may take a while on a big edit, so call it off the async workers.
    pub fn complete(&self, uri: &Uri, current: Current, engine: Arc<Engine>) -> Snapshot {
        let (engine, analysis) = match current.analysis {
            Some(done) => done,
            None => self.analyse(uri, &current.doc, current.version, &current.cache, engine),
        };
        (engine, current.doc, analysis)
    }

    /// For request handlers: the document as it is when the request arrives (taken before
    /// the first `.await`, so later edits are not seen) and its analysis, computed on the
    /// blocking pool if it is not cached, so that the async workers keep serving.
    pub async fn snapshot(self: &Arc<Self>, uri: &Uri) -> Option<Snapshot> {
        let current = self.current(uri)?;
        if let Some((engine, analysis)) = current.analysis {
            return Some((engine, current.doc, analysis));
        }
        // Taken after the document: waiting for a start-up build must not let later edits in.
        let engine = self.engine().await?;
        let this = self.clone();
        let uri = uri.clone();
        tokio::task::spawn_blocking(move || this.complete(&uri, current, engine))
            .await
            .ok()
    }

    /// Analyses `doc` (version `version` of `uri`) with the current engine, reusing the
    /// document's cache, and remembers the result if that version is still the latest.
    fn analyse(
        &self,
        uri: &Uri,
        doc: &Document,
        version: i32,
        cache: &Mutex<AnalysisCache>,
        engine: Arc<Engine>,
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
        // The newest engine: a rebuild may have finished since the caller took `engine`.
        let engine = self.engine.now().unwrap_or(engine);
        let t = std::time::Instant::now();
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
}
