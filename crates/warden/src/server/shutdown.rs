//! The process-wide stop signal: `SHUTDOWN` (and the signal handlers in `main`) trigger it; the
//! listeners stop accepting and every connection closes.

use std::sync::Arc;
use tokio::sync::watch;

/// A cloneable, level-triggered stop signal.
#[derive(Debug, Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
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
        }
    }

    /// Ask everything to stop (idempotent).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
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

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`: a sentinel never saves, so every valid form
/// stops the process (no reply; the connection closes). `ABORT` has nothing to abort.
pub fn command(shutdown: &Shutdown, args: &[bytes::Bytes]) -> Option<warden_core::Reply> {
    use warden_core::Reply;
    let (mut save, mut nosave, mut abort, mut other) = (false, false, false, false);
    for arg in &args[1..] {
        match arg.to_ascii_lowercase().as_slice() {
            b"save" => save = true,
            b"nosave" => nosave = true,
            b"abort" => abort = true,
            b"now" | b"force" => other = true,
            _ => return Some(Reply::err("ERR syntax error")),
        }
    }
    if (save && nosave) || (abort && (save || nosave || other)) {
        return Some(Reply::err("ERR syntax error"));
    }
    if abort {
        return Some(Reply::err("ERR No shutdown in progress."));
    }
    tracing::warn!("User requested shutdown...");
    shutdown.trigger();
    None
}
