//! A client that keeps writing to one address (e.g. a VIP) from inside a namespace and records
//! every outcome, to measure write availability through a failover.
//!
//! Every `period` it sends `SET w:<n> <n>` (a fresh key per attempt) on a kept connection,
//! reconnecting after any failure; connects, reads and writes time out after `timeout`.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::netns::TestBed;
use crate::nsclient::NsClient;
use crate::resp::Value;

/// What one write attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `+OK`: the write was acknowledged.
    Ok,
    /// `-READONLY ...`: the address led to a replica.
    ReadOnly,
    /// Any other error reply (its text).
    Error(String),
    /// No reply: connect refused or timed out, connection reset, read timeout...
    Failed(io::ErrorKind),
}

/// One write attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// When it started.
    pub at: Instant,
    /// Its key is `w:<n>`.
    pub n: u64,
    /// What it got.
    pub outcome: Outcome,
}

/// A running writer. See the module documentation.
pub struct Writer {
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicU64>,
    /// Taken by [`Writer::stop`].
    handle: Option<JoinHandle<io::Result<Vec<Attempt>>>>,
}

impl Writer {
    /// Starts writing to `target` from inside node `node` of `bed`.
    pub fn start(
        bed: &TestBed,
        node: usize,
        target: SocketAddr,
        period: Duration,
        timeout: Duration,
    ) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicU64::new(0));
        let (flag, count) = (stop.clone(), acked.clone());
        let handle = bed.spawn_in(node, move || {
            write_loop(target, period, timeout, &flag, &count)
        });
        Writer {
            stop,
            acked,
            handle: Some(handle),
        }
    }

    /// How many writes were acknowledged so far.
    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::Relaxed)
    }

    /// Waits up to `timeout` (for `what`) until at least `at_least` writes were acknowledged.
    pub fn wait_acked(
        &self,
        at_least: u64,
        timeout: Duration,
        what: &str,
    ) -> Result<(), crate::wait::Timeout> {
        crate::wait::wait_until(timeout, what, || {
            let n = self.acked();
            (n >= at_least).then_some(()).ok_or_else(|| n.to_string())
        })
    }

    /// Stops the writer and returns every attempt it made.
    pub fn stop(mut self) -> io::Result<WriteLog> {
        self.stop.store(true, Ordering::Relaxed);
        let handle = self
            .handle
            .take()
            .ok_or_else(|| io::Error::other("writer already stopped"))?;
        let attempts = handle
            .join()
            .map_err(|_| io::Error::other("writer thread panicked"))??;
        Ok(WriteLog { attempts })
    }
}

impl Drop for Writer {
    /// A writer dropped without [`Writer::stop`] (a failing test) still ends its thread.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn write_loop(
    target: SocketAddr,
    period: Duration,
    timeout: Duration,
    stop: &AtomicBool,
    acked: &AtomicU64,
) -> Vec<Attempt> {
    let mut attempts = Vec::new();
    let mut conn: Option<NsClient> = None;
    let mut next = Instant::now();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let at = Instant::now();
        n += 1;
        let outcome = match write_once(&mut conn, target, timeout, n) {
            Ok(Value::Simple(s)) if s == "OK" => {
                acked.fetch_add(1, Ordering::Relaxed);
                Outcome::Ok
            }
            Ok(Value::Error(e)) if e.starts_with("READONLY") => Outcome::ReadOnly,
            Ok(other) => Outcome::Error(other.to_string()),
            Err(e) => {
                conn = None;
                Outcome::Failed(e.kind())
            }
        };
        attempts.push(Attempt { at, n, outcome });
        next += period;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            next = now;
        }
    }
    attempts
}

fn write_once(
    conn: &mut Option<NsClient>,
    target: SocketAddr,
    timeout: Duration,
    n: u64,
) -> io::Result<Value> {
    if conn.is_none() {
        let stream = TcpStream::connect_timeout(&target, timeout)?;
        *conn = Some(NsClient::from_stream(stream, timeout)?);
    }
    let client = conn
        .as_mut()
        .ok_or_else(|| io::Error::other("no connection"))?;
    let value = n.to_string();
    client.call(&["SET", &format!("w:{n}"), &value])
}

/// Every attempt of a stopped [`Writer`], with the measures the tests report.
#[derive(Debug, Clone)]
pub struct WriteLog {
    /// In the order they were made.
    pub attempts: Vec<Attempt>,
}

impl WriteLog {
    /// How many attempts match `f`.
    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.attempts.iter().filter(|a| f(&a.outcome)).count()
    }

    /// The first acknowledged write that started at or after `t`.
    pub fn first_ok_after(&self, t: Instant) -> Option<Instant> {
        self.attempts
            .iter()
            .find(|a| a.at >= t && a.outcome == Outcome::Ok)
            .map(|a| a.at)
    }

    /// The first failed attempt (anything but `+OK`) that started at or after `t`.
    pub fn first_failure_after(&self, t: Instant) -> Option<Instant> {
        self.attempts
            .iter()
            .find(|a| a.at >= t && a.outcome != Outcome::Ok)
            .map(|a| a.at)
    }

    /// The longest time between two consecutive acknowledged writes (the write unavailability).
    pub fn longest_gap(&self) -> Duration {
        let oks: Vec<Instant> = self
            .attempts
            .iter()
            .filter(|a| a.outcome == Outcome::Ok)
            .map(|a| a.at)
            .collect();
        oks.windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default()
    }

    /// The keys of the acknowledged writes that started at or after `t`.
    pub fn acked_keys_since(&self, t: Instant) -> Vec<String> {
        self.attempts
            .iter()
            .filter(|a| a.at >= t && a.outcome == Outcome::Ok)
            .map(|a| format!("w:{}", a.n))
            .collect()
    }

    /// `attempts=.. ok=.. readonly=.. error=.. failed=..`.
    pub fn summary(&self) -> String {
        format!(
            "attempts={} ok={} readonly={} error={} failed={}",
            self.attempts.len(),
            self.count(|o| *o == Outcome::Ok),
            self.count(|o| *o == Outcome::ReadOnly),
            self.count(|o| matches!(o, Outcome::Error(_))),
            self.count(|o| matches!(o, Outcome::Failed(_))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_and_counts() {
        let t0 = Instant::now();
        let a = |ms: u64, n: u64, outcome: Outcome| Attempt {
            at: t0 + Duration::from_millis(ms),
            n,
            outcome,
        };
        let log = WriteLog {
            attempts: vec![
                a(0, 1, Outcome::Ok),
                a(10, 2, Outcome::Failed(io::ErrorKind::TimedOut)),
                a(220, 3, Outcome::ReadOnly),
                a(400, 4, Outcome::Ok),
                a(410, 5, Outcome::Ok),
            ],
        };
        assert_eq!(log.longest_gap(), Duration::from_millis(400));
        assert_eq!(log.count(|o| *o == Outcome::Ok), 3);
        assert_eq!(
            log.first_ok_after(t0 + Duration::from_millis(5)),
            Some(t0 + Duration::from_millis(400))
        );
        assert_eq!(
            log.acked_keys_since(t0 + Duration::from_millis(5)),
            ["w:4", "w:5"]
        );
        assert!(log.summary().contains("readonly=1"));
        assert_eq!(
            log.first_failure_after(t0),
            Some(t0 + Duration::from_millis(10))
        );
    }
}
