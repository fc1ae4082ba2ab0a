//! Diagnostics off the request path: one run at a time per document, started at once when
//! its analyses are fast and coalescing keystrokes when they are not, computed on the
//! blocking pool, dropped when a newer version arrived meanwhile, and published past
//! tower-lsp's serialiser.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tower_lsp_server::ls_types::{Diagnostic, Uri};

use crate::corpus::Crest;
use crate::limits;

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

    /// Publishes diagnostics for `uri`'s newest version. At most one run per document at a
    /// time: a change while one waits or analyses is left to it, and it runs again for the
    /// newest version when it is done, so a burst of keystrokes costs at most one
    /// analysis each and usually far fewer. A run starts at once when the document's last
    /// one was fast (under [`limits::FAST_ANALYSIS`]); otherwise it first waits as long as
    /// that run took, at most `diagnostics.debounceMs`, so that the keystrokes of a burst
    /// on a slow note are coalesced rather than each analysed in vain.
    pub fn schedule(self: &Arc<Self>, uri: Uri) {
        let debounce = self.config().debounce_ms;
        let (id, wait) = {
            let mut docs = self.docs();
            let Some(s) = docs.get_mut(&uri) else { return };
            s.run.wanted += 1;
            if s.run.running {
                return;
            }
            s.run.running = true;
            (s.id, wait_before(s.run.last, debounce))
        };
        let this = self.clone();
        tokio::spawn(async move {
            // Clears `running` if this task ends early (a panic): the document would
            // otherwise never be analysed again.
            let mut guard = Running {
                session: this.clone(),
                uri: uri.clone(),
                id,
                armed: true,
            };
            let mut wait = wait;
            loop {
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                let wanted = {
                    let docs = this.docs();
                    match docs.get(&uri).filter(|s| s.id == id) {
                        Some(s) => s.run.wanted,
                        // Closed (or closed and reopened: the new one has its own run).
                        None => return guard.disarm(),
                    }
                };
                let took = this.diagnose(&uri).await;
                let debounce = this.config().debounce_ms;
                let mut docs = this.docs();
                let Some(s) = docs.get_mut(&uri).filter(|s| s.id == id) else {
                    return guard.disarm();
                };
                if took.is_some() {
                    s.run.last = took;
                }
                if s.run.wanted == wanted {
                    s.run.running = false;
                    return guard.disarm();
                }
                wait = wait_before(s.run.last, debounce);
            }
        });
    }

    /// Analyses `uri` as it is now, publishes its diagnostics and CREST summary (if it is
    /// still at that version), and returns how long the analysis and the diagnostics took
    /// (`None` when nothing was analysed: not a note, out of sync, no engine).
    async fn diagnose(self: &Arc<Self>, uri: &Uri) -> Option<Duration> {
        let current = self.current(uri)?;
        let version = current.version;
        let engine = self.engine().await?;
        let config = self.config();
        let enc = self.encoding();
        let related = self.related_information.load(Ordering::Relaxed);
        let worker = self.clone();
        let key = uri.clone();
        let (diags, analysis, took) = tokio::task::spawn_blocking(move || {
            let t = Instant::now();
            let (engine, doc, analysis) = worker.complete(&key, current, engine);
            let analysed = t.elapsed();
            let diags = diagnostics::diagnostics(&engine, &doc, &analysis, &config, enc, related);
            tracing::debug!(
                version,
                analysis_ms = analysed.as_secs_f64() * 1000.0,
                diagnostics_ms = (t.elapsed() - analysed).as_secs_f64() * 1000.0,
                "analysed"
            );
            (diags, analysis, t.elapsed())
        })
        .await
        .ok()?;
        let n = diags.len();
        let t = Instant::now();
        if !self.publish(uri.clone(), diags, Some(version)) {
            return Some(took);
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
            uri: uri.clone(),
        };
        match protocol::notification_body::<CrestSummary>(&params) {
            Ok(body) => {
                self.hand_over(&params.uri, Slot::Summary, body, Some(version));
            }
            Err(e) => tracing::error!("cannot serialise the CREST summary: {e}"),
        }
        Some(took)
    }

    /// Schedules every open document (after a configuration or corpus change).
    pub fn schedule_all(self: &Arc<Self>) {
        let open: Vec<Uri> = self.docs().keys().cloned().collect();
        for uri in open {
            self.schedule(uri);
        }
    }
}

/// How long a run waits before it starts, given how long the document's last one took
/// (see [`Session::schedule`]).
fn wait_before(last: Option<Duration>, debounce_ms: u64) -> Duration {
    match last {
        Some(took) if took >= limits::FAST_ANALYSIS => took.min(Duration::from_millis(debounce_ms)),
        // Fast, or never analysed (a note just opened is analysed at once).
        _ => Duration::ZERO,
    }
}

/// A document's run in progress: dropped without [`Running::disarm`] (the task panicked),
/// it marks the document as having none, so that its next change starts one.
struct Running {
    session: Arc<Session>,
    uri: Uri,
    id: u64,
    armed: bool,
}

impl Running {
    /// The run ended normally (its state already settled under the document lock).
    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(s) = self.session.docs().get_mut(&self.uri) {
            if s.id == self.id {
                s.run.running = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_wait_only_after_a_slow_one_and_never_past_the_setting() {
        let ms = Duration::from_millis;
        assert_eq!(wait_before(None, 30), Duration::ZERO, "a note just opened");
        let fast = limits::FAST_ANALYSIS - Duration::from_micros(1);
        assert_eq!(wait_before(Some(fast), 30), Duration::ZERO);
        assert_eq!(
            wait_before(Some(ms(12)), 30),
            ms(12),
            "as long as the last run"
        );
        assert_eq!(wait_before(Some(ms(400)), 30), ms(30), "at most debounceMs");
        assert_eq!(
            wait_before(Some(ms(400)), 0),
            Duration::ZERO,
            "debounceMs 0"
        );
    }
}
