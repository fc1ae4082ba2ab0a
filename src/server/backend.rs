//! The `LanguageServer` implementation: routing only. Each request is turned into a call to
//! the feature module that answers it ([`super::hover`], [`super::completion`], …) on a
//! consistent snapshot from the [`Session`]; notifications update the session.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::LanguageServer;

use super::session::{DocState, Session};
use super::{actions, capabilities, completion, convert, hover, navigation};

/// The language server: a handle on the session's shared state.
#[derive(Clone)]
pub struct Backend {
    session: Arc<Session>,
}

impl Backend {
    pub(super) fn new(session: Session) -> Backend {
        Backend {
            session: Arc::new(session),
        }
    }

    /// The session, for the transport (documents it could not read).
    pub(super) fn session(&self) -> Arc<Session> {
        self.session.clone()
    }
}

// Panics: the transport's `PanicBoundary` wraps the whole service, so no handler here
// guards itself (a panic answers an internal error and is logged without its message).

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let s = &self.session;
        let offered = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_deref());
        let enc = convert::negotiate(offered);
        *s.encoding.write().unwrap_or_else(|p| p.into_inner()) = enc;
        *s.root.write().unwrap_or_else(|p| p.into_inner()) = convert::workspace_root(&params);
        let related = params
            .capabilities
            .text_document
            .as_ref()
            .and_then(|t| t.publish_diagnostics.as_ref())
            .and_then(|p| p.related_information)
            == Some(true);
        s.related_information.store(related, Ordering::Relaxed);
        if let Some(opts) = &params.initialization_options {
            // Problems are logged now; the client may not show messages before `initialized`.
            let mut config = s.config.write().unwrap_or_else(|p| p.into_inner());
            for p in config.update(opts) {
                tracing::warn!("{p}");
            }
        }
        tracing::info!(encoding = ?enc, "initialize");
        Ok(InitializeResult {
            capabilities: capabilities::capabilities(enc),
            server_info: Some(ServerInfo {
                name: "calcinosis-ls".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            ..Default::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let config = self.session.config();
        if config.corpus_dir.is_some() || config.index_dir.is_some() {
            self.session.rebuild_engine().await;
        }
    }

    async fn shutdown(&self) -> Result<()> {
        tracing::info!("shutdown");
        self.session.shut_down.store(true, Ordering::SeqCst);
        self.session.stop_build().await;
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let d = params.text_document;
        let id = self.session.next_id();
        tracing::debug!(doc = id, version = d.version, bytes = d.text.len(), language = %d.language_id, "open");
        let state = DocState::new(d.text, d.version, d.language_id, id);
        self.session.docs().insert(d.uri.clone(), state);
        self.session.schedule(d.uri);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let version = params.text_document.version;
        // Applied here, before the first `.await`: see the ordering invariant in `session`.
        if !self
            .session
            .apply_changes(&uri, version, params.content_changes)
        {
            return;
        }
        self.session.schedule(uri);
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        // A saved corpus file (a lexicon or rule file the user is editing) is reloaded;
        // a broken one is reported and the previous knowledge base kept.
        let path = params.text_document.uri.to_file_path();
        if path.is_some_and(|p| self.session.is_corpus_file(&p)) {
            self.session.rebuild_engine().await;
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let closed = self.session.docs().remove(&uri);
        if let Some(s) = closed {
            tracing::debug!(doc = s.id, "close");
            drop(s);
            super::session::return_memory();
        }
        self.session.publish(uri, Vec::new(), None);
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        if self.session.apply_settings(&params.settings).await {
            self.session.rebuild_engine().await;
        } else {
            self.session.schedule_all();
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        let Some((engine, doc, analysis)) = self.session.snapshot(&p.text_document.uri).await
        else {
            return Ok(None);
        };
        let Some(offset) = self.session.offset(&doc, p.position) else {
            return Ok(None);
        };
        let enc = self.session.encoding();
        Ok(hover::hover(&engine, &doc, &analysis, offset, enc))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        // Completion needs the text, not its analysis: no wait for one.
        let Some(doc) = self.session.text_of(&p.text_document.uri) else {
            return Ok(None);
        };
        let Some(offset) = self.session.offset(&doc, p.position) else {
            return Ok(None);
        };
        let Some(engine) = self.session.engine().await else {
            return Ok(None);
        };
        let enc = self.session.encoding();
        Ok(completion::complete(&engine, &doc, offset, enc))
    }

    async fn completion_resolve(&self, item: CompletionItem) -> Result<CompletionItem> {
        let Some(engine) = self.session.engine().await else {
            return Ok(item);
        };
        Ok(completion::resolve(&engine, item))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri;
        let Some((engine, doc, analysis)) = self.session.snapshot(&uri).await else {
            return Ok(None);
        };
        let enc = self.session.encoding();
        let Some(range) = convert::byte_range(&doc, params.range, enc) else {
            return Ok(None);
        };
        let found = actions::actions(&engine, &uri, &doc, &analysis, range, enc);
        Ok((!found.is_empty()).then_some(found))
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        let Some((engine, doc, analysis)) = self.session.snapshot(&p.text_document.uri).await
        else {
            return Ok(None);
        };
        let Some(offset) = self.session.offset(&doc, p.position) else {
            return Ok(None);
        };
        let found = navigation::definition(&engine, &analysis, offset);
        Ok(found.map(GotoDefinitionResponse::Scalar))
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let uri = params.text_document.uri;
        let Some((engine, doc, analysis)) = self.session.snapshot(&uri).await else {
            return Ok(None);
        };
        let enc = self.session.encoding();
        let symbols = navigation::document_symbols(&engine, &doc, &analysis, enc);
        Ok(Some(DocumentSymbolResponse::Nested(symbols)))
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let Some(engine) = self.session.engine().await else {
            return Ok(None);
        };
        let found = navigation::workspace_symbols(&engine, &params.query, 50);
        Ok(Some(WorkspaceSymbolResponse::Flat(found)))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        self.session.execute(params).await
    }
}
