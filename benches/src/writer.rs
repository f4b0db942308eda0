//! A client that finds the master through a sentinel and writes to it on a fixed period, as an
//! application using a Sentinel-aware client does, recording every attempt.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use warden_integration::resp::Value;

use crate::conn::Conn;

/// Connect, read and write timeout of every request (loopback answers in microseconds; a dead
/// or stopped server must not stall the loop).
pub const IO_TIMEOUT: Duration = Duration::from_millis(100);

/// One write attempt.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// When the attempt started (the sentinel was asked).
    pub start: Instant,
    /// When it ended (the write's reply or failure).
    pub end: Instant,
    /// The master address the sentinel gave (`ip:port`), if it answered.
    pub target: Option<String>,
    /// Whether the write was acknowledged (`+OK`).
    pub ok: bool,
}

/// A running writer thread.
pub struct Writer {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicU64>,
    thread: JoinHandle<Vec<Attempt>>,
}

impl Writer {
    /// Every `period`, ask the sentinel at `sentinel` (`ip:port`) for `master`'s address
    /// (`SENTINEL GET-MASTER-ADDR-BY-NAME`) and `SET` a key there; stops after `limit` at the
    /// latest.
    pub fn start(sentinel: String, master: String, period: Duration, limit: Duration) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
            thread::spawn(move || {
                let mut client = Client {
                    sentinel,
                    master,
                    sentinel_conn: None,
                    master_conn: None,
                    seq: 0,
                };
                let deadline = Instant::now() + limit;
                let mut attempts = Vec::new();
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let attempt = client.attempt();
                    if attempt.ok {
                        acknowledged.fetch_add(1, Ordering::Relaxed);
                    }
                    let next = attempt.start + period;
                    attempts.push(attempt);
                    thread::sleep(next.saturating_duration_since(Instant::now()));
                }
                attempts
            })
        };
        Writer {
            stop,
            acknowledged,
            thread,
        }
    }

    /// Writes acknowledged so far.
    pub fn acknowledged(&self) -> u64 {
        self.acknowledged.load(Ordering::Relaxed)
    }

    /// Stop and return every attempt, in order.
    pub fn finish(self) -> Vec<Attempt> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// The writer's connections (kept open between attempts, dropped on any error).
struct Client {
    sentinel: String,
    master: String,
    sentinel_conn: Option<Conn>,
    master_conn: Option<(String, Conn)>,
    seq: u64,
}

impl Client {
    fn attempt(&mut self) -> Attempt {
        let start = Instant::now();
        let target = self.ask_sentinel();
        let ok = target.as_deref().is_some_and(|addr| self.write(addr));
        Attempt {
            start,
            end: Instant::now(),
            target,
            ok,
        }
    }

    /// The master address the sentinel reports.
    fn ask_sentinel(&mut self) -> Option<String> {
        if self.sentinel_conn.is_none() {
            self.sentinel_conn = Conn::connect(&self.sentinel, Some(IO_TIMEOUT)).ok();
        }
        let conn = self.sentinel_conn.as_mut()?;
        match conn.call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", &self.master]) {
            Ok(reply) => match reply.as_items() {
                Some([ip, port]) => Some(format!("{}:{}", ip.as_text()?, port.as_text()?)),
                _ => None,
            },
            Err(_) => {
                self.sentinel_conn = None;
                None
            }
        }
    }

    /// `SET` a fresh key on `addr`; whether it was acknowledged.
    fn write(&mut self, addr: &str) -> bool {
        if self
            .master_conn
            .as_ref()
            .map_or(true, |(open, _)| open != addr)
        {
            self.master_conn = Conn::connect(addr, Some(IO_TIMEOUT))
                .ok()
                .map(|conn| (addr.to_string(), conn));
        }
        let Some((_, conn)) = self.master_conn.as_mut() else {
            return false;
        };
        self.seq += 1;
        match conn.call(&["SET", &format!("failover-bench:{}", self.seq), "x"]) {
            Ok(Value::Simple(s)) if s == "OK" => true,
            _ => {
                self.master_conn = None;
                false
            }
        }
    }
}
