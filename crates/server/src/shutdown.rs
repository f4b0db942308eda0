//! The process-wide stop signal: `SHUTDOWN` (and the signal handlers in `main`) trigger it; the
//! listeners stop accepting and every connection closes.
//!
//! What a stop does to a held VIP: it is left on the interface with its kernel lifetime, for a
//! restarted Warden to adopt without a gap (or for the kernel to remove when the lease runs
//! out), unless the stop was asked with `SHUTDOWN ... RELEASE` (decommissioning), which
//! removes it first.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

/// A cloneable, level-triggered stop signal.
#[derive(Debug, Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
    release_vips: Arc<AtomicBool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    /// A signal not yet triggered.
    pub fn new() -> Shutdown {
        Shutdown {
            tx: Arc::new(watch::channel(false).0),
            release_vips: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Ask everything to stop (idempotent), leaving held VIPs to a restarted process.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Ask everything to stop and the held VIPs to be released first.
    pub fn trigger_releasing_vips(&self) {
        self.release_vips.store(true, Ordering::SeqCst);
        self.trigger();
    }

    /// Whether the stop was asked to release the held VIPs.
    pub fn releases_vips(&self) -> bool {
        self.release_vips.load(Ordering::SeqCst)
    }

    /// Whether [`Shutdown::trigger`] was called.
    #[cfg(test)]
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolve once the signal is triggered.
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        // `wait_for` only fails when the sender is dropped, and we hold it.
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}
