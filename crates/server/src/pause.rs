//! `CLIENT PAUSE` state shared by all connections.

use super::table::Spec;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::Notify;

/// `CLIENT PAUSE` state shared by all connections.
#[derive(Debug, Default)]
pub struct Pause {
    /// Deadline and whether all commands (not only writes) are paused.
    state: Mutex<Option<(Instant, bool)>>,
    /// Set while an `ALL` pause may be in effect: the per-command check is one atomic load.
    all_active: AtomicBool,
    changed: Notify,
}

impl Pause {
    fn current(&self) -> Option<(Instant, bool)> {
        let state = *self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.filter(|(deadline, _)| *deadline > Instant::now())
    }

    /// Whether `spec` must wait. A `WRITE` pause delays write and may-replicate commands, and
    /// no sentinel-mode command is either, so only `ALL` pauses anything.
    pub fn blocks(&self, _spec: &Spec) -> bool {
        self.all_active.load(Ordering::Acquire) && matches!(self.current(), Some((_, true)))
    }

    /// Wait until the pause ends (timeout or `CLIENT UNPAUSE`).
    pub async fn wait(&self) {
        loop {
            let changed = self.changed.notified();
            let Some((deadline, true)) = self.current() else {
                return;
            };
            tokio::select! {
                _ = tokio::time::sleep_until(deadline.into()) => {}
                _ = changed => {}
            }
        }
    }

    /// Pause until `until` (all commands with `all`, else writes), merged with a running pause.
    pub fn pause(&self, until: Instant, all: bool) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let merged = match *state {
            Some((deadline, was_all)) if deadline > Instant::now() => {
                (deadline.max(until), all || was_all)
            }
            _ => (until, all),
        };
        *state = Some(merged);
        if merged.1 {
            self.all_active.store(true, Ordering::Release);
        }
    }

    /// End the pause (`CLIENT UNPAUSE`).
    pub fn unpause(&self) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.all_active.store(false, Ordering::Release);
        self.changed.notify_waiters();
    }
}
