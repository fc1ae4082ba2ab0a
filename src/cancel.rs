//! Cooperative cancellation of long builds (corpus loading, index building and checking).
//!
//! A build runs on a thread of its own; whoever started it keeps a [`Cancel`] and may cancel
//! it (a newer build superseded it) or watch its progress (a build that makes none is given
//! up). The build itself only calls [`checkpoint`] between files, segments and terms: the
//! token is installed for the building thread by [`Cancel::run`], so the loading and
//! indexing functions keep their signatures, and a build started without a token (the
//! command line) is never cancelled.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::{Error, Result};

/// A cancellation flag and a progress counter shared between a build and whoever waits
/// for it. Cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    cancelled: AtomicBool,
    progress: AtomicU64,
    finished: AtomicBool,
}

thread_local! {
    /// The token of the build running on this thread, if any.
    static CURRENT: RefCell<Option<Cancel>> = const { RefCell::new(None) };
}

impl Cancel {
    /// A token that is not cancelled.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks the build to stop at its next checkpoint.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// How many checkpoints the build has passed: unchanged for long means no progress.
    pub fn progress(&self) -> u64 {
        self.0.progress.load(Ordering::Relaxed)
    }

    /// Whether a build run with [`Cancel::run`] has returned (or panicked): what it made on
    /// disk is then complete or cleaned up.
    pub fn is_finished(&self) -> bool {
        self.0.finished.load(Ordering::SeqCst)
    }

    /// Runs `f` on this thread with this token installed, so that every [`checkpoint`]
    /// inside it reports progress here and fails once the token is cancelled.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        /// Puts the previous token back, and marks the run finished, even if `f` panics.
        struct Restore(Option<Cancel>, Cancel);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                CURRENT.with(|c| *c.borrow_mut() = previous);
                self.1 .0.finished.store(true, Ordering::SeqCst);
            }
        }
        let previous = CURRENT.with(|c| c.borrow_mut().replace(self.clone()));
        let _restore = Restore(previous, self.clone());
        f()
    }
}

/// Called by a build between units of work (a file, a segment, a term): counts progress
/// and returns [`Error::Cancelled`] once the build's token was cancelled. Without a token
/// installed (see [`Cancel::run`]) it always succeeds.
pub fn checkpoint() -> Result<()> {
    CURRENT.with(|c| match &*c.borrow() {
        Some(token) => {
            token.0.progress.fetch_add(1, Ordering::Relaxed);
            if token.is_cancelled() {
                Err(Error::Cancelled)
            } else {
                Ok(())
            }
        }
        None => Ok(()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_count_and_fail_once_cancelled_only_inside_run() {
        let token = Cancel::new();
        assert!(checkpoint().is_ok(), "no token: never cancelled");
        let seen = token.run(|| {
            checkpoint().unwrap();
            checkpoint().unwrap();
            token.cancel();
            checkpoint()
        });
        assert!(matches!(seen, Err(Error::Cancelled)));
        assert_eq!(token.progress(), 3);
        assert!(checkpoint().is_ok(), "the token is uninstalled after run");
    }
}
