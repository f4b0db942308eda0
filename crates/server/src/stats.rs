//! Server-wide counters shown by `INFO`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the instantaneous rates are sampled (Redis: every 100 ms)...
pub const SAMPLE_PERIOD: Duration = Duration::from_millis(100);
/// ...and how many samples are averaged (Redis: 16).
const SAMPLES: usize = 16;

/// Monotonic counters, updated once per read batch where possible.
#[derive(Debug, Default)]
pub struct Stats {
    /// Rate samples for `instantaneous_*`.
    rates: Mutex<Rates>,
    /// Clients currently held by `CLIENT PAUSE` (INFO `blocked_clients`).
    pub blocked_clients: AtomicU64,
    /// Connections accepted (those refused for `maxclients` count as rejected instead).
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

/// Per-second rates averaged over the last [`SAMPLES`] periods, like Redis'
/// `instantaneous_ops_per_sec`, `instantaneous_input_kbps` and `instantaneous_output_kbps`.
#[derive(Debug, Default)]
struct Rates {
    /// Time and (commands, input bytes, output bytes) at the previous sample.
    last: Option<(Instant, [u64; 3])>,
    /// Ring of per-second rates for the three counters.
    samples: Vec<[f64; 3]>,
    next: usize,
}

/// Counts a client as blocked while alive.
pub struct Blocked<'a>(&'a AtomicU64);

impl Drop for Blocked<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Stats {
    /// Count the caller as a blocked client until the guard is dropped.
    pub fn blocked(&self) -> Blocked<'_> {
        self.blocked_clients.fetch_add(1, Ordering::Relaxed);
        Blocked(&self.blocked_clients)
    }

    fn counters(&self) -> [u64; 3] {
        [
            Stats::get(&self.commands_processed),
            Stats::get(&self.net_input_bytes),
            Stats::get(&self.net_output_bytes),
        ]
    }

    /// Take one rate sample (called every [`SAMPLE_PERIOD`]).
    pub fn sample(&self, now: Instant) {
        let current = self.counters();
        let mut rates = self.rates.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, previous)) = rates.last {
            let secs = now.saturating_duration_since(at).as_secs_f64();
            if secs > 0.0 {
                let rate = |i: usize| current[i].saturating_sub(previous[i]) as f64 / secs;
                let sample = [rate(0), rate(1), rate(2)];
                let next = rates.next;
                if rates.samples.len() < SAMPLES {
                    rates.samples.push(sample);
                } else {
                    rates.samples[next] = sample;
                }
                rates.next = (next + 1) % SAMPLES;
            }
        }
        rates.last = Some((now, current));
    }

    /// Averaged (ops/s, input kB/s, output kB/s).
    pub fn instantaneous(&self) -> (u64, f64, f64) {
        let rates = self.rates.lock().unwrap_or_else(|p| p.into_inner());
        if rates.samples.is_empty() {
            return (0, 0.0, 0.0);
        }
        let n = rates.samples.len() as f64;
        let mean = |i: usize| rates.samples.iter().map(|s| s[i]).sum::<f64>() / n;
        (mean(0) as u64, mean(1) / 1024.0, mean(2) / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_guard_counts_while_alive() {
        let stats = Stats::default();
        let first = stats.blocked();
        let second = stats.blocked();
        assert_eq!(Stats::get(&stats.blocked_clients), 2);
        drop(first);
        drop(second);
        assert_eq!(Stats::get(&stats.blocked_clients), 0);
    }

    #[test]
    fn rates_average_recent_samples() {
        let stats = Stats::default();
        let start = Instant::now();
        stats.sample(start);
        Stats::add(&stats.commands_processed, 100);
        Stats::add(&stats.net_input_bytes, 2048);
        stats.sample(start + Duration::from_millis(100));
        assert_eq!(stats.instantaneous(), (1000, 20.0, 0.0));
        stats.sample(start + Duration::from_millis(200));
        assert_eq!(stats.instantaneous(), (500, 10.0, 0.0));
    }
}
