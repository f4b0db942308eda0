//! Server-wide counters shown by `INFO`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Monotonic counters, updated once per read batch where possible.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted (including rejected ones, as Redis counts them).
    pub connections_received: AtomicU64,
    /// Commands executed.
    pub commands_processed: AtomicU64,
    /// Bytes read from clients.
    pub net_input_bytes: AtomicU64,
    /// Bytes written to clients.
    pub net_output_bytes: AtomicU64,
    /// Connections refused because of `maxclients`.
    pub rejected_connections: AtomicU64,
    /// Error replies sent.
    pub error_replies: AtomicU64,
    /// Socket reads.
    pub reads_processed: AtomicU64,
    /// Socket writes.
    pub writes_processed: AtomicU64,
}

impl Stats {
    /// Add `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: u64) {
        if n != 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Current value of `counter`.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
