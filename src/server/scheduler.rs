//! Diagnostics off the request path: debounced, computed on the blocking pool, dropped when
//! a newer version arrived meanwhile, and published past tower-lsp's serialiser.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tower_lsp_server::ls_types::{Diagnostic, Uri};

use crate::corpus::Crest;

use super::diagnostics;
use super::protocol::{self, CrestSummary, CrestSummaryParams};
use super::session::Session;
use super::transport::Slot;

impl Session {
    /// Publishes `diagnostics` for `uri` if `version` is still the document's version (or,
    /// with `None`, unconditionally: the document was closed). The check and the hand-over
    /// to the transport happen under the document lock, so a publication for a closed or
    /// changed document can never overtake the one that replaced it.
    pub fn publish(&self, uri: Uri, diagnostics: Vec<Diagnostic>, version: Option<i32>) -> bool {
        let body = match protocol::publish_diagnostics_body(uri.clone(), diagnostics, version) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!("cannot serialise diagnostics: {e}");
                return false;
            }
        };
        self.hand_over(&uri, Slot::Diagnostics, body, version)
    }

    /// Queues a publication for `uri` if `version` is still the document's (or with `None`,
    /// unconditionally), under the document lock: see [`Session::publish`].
    fn hand_over(&self, uri: &Uri, slot: Slot, body: Vec<u8>, version: Option<i32>) -> bool {
        let docs = self.docs();
        if let Some(v) = version {
            if docs.get(uri).map(|s| (s.version, s.in_sync)) != Some((v, true)) {
                return false;
            }
        }
        self.outbox.put(uri.as_str(), slot, body);
        true
    }

    /// Publishes diagnostics for `uri` after the debounce, unless a newer version arrives.
    pub fn schedule(self: &Arc<Self>, uri: Uri, version: i32) {
        let this = self.clone();
        tokio::spawn(async move {
            let config = this.config();
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
                let t = Instant::now();
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
            let n = diags.len();
            let t = Instant::now();
            if !this.publish(uri.clone(), diags, Some(version)) {
                return;
            }
            tracing::debug!(
                version,
                diagnostics = n,
                publish_ms = t.elapsed().as_secs_f64() * 1000.0,
                "published"
            );
            let letters = |s: &BTreeSet<Crest>| s.iter().map(|c| c.as_str().to_string()).collect();
            let c = &analysis.crest;
            let params = CrestSummaryParams {
                present: letters(&c.present),
                possible: letters(&c.possible),
                negated: letters(&c.negated),
                uri,
            };
            match protocol::notification_body::<CrestSummary>(&params) {
                Ok(body) => {
                    this.hand_over(&params.uri, Slot::Summary, body, Some(version));
                }
                Err(e) => tracing::error!("cannot serialise the CREST summary: {e}"),
            }
        });
    }

    /// Schedules every open document (after a configuration or corpus change).
    pub fn schedule_all(self: &Arc<Self>) {
        let open: Vec<(Uri, i32)> = self
            .docs()
            .iter()
            .map(|(u, s)| (u.clone(), s.version))
            .collect();
        for (uri, version) in open {
            self.schedule(uri, version);
        }
    }
}
