//! Every event a set of sentinels publishes, with the time it arrived.
//!
//! [`EventLog::start`] opens one `PSUBSCRIBE *` connection per sentinel, each from inside the
//! sentinel's own namespace to `127.0.0.1` (so events of a node cut off the bridge are seen
//! too), and collects the messages on a thread per connection; [`EventLog::snapshot`] returns
//! what arrived so far, [`EventLog::stop`] ends the subscriptions.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::netns::TestBed;
use crate::nsclient::{is_timeout, NsClient};

/// How long a subscription read blocks before the stop flag is checked again.
const POLL: Duration = Duration::from_millis(100);

/// One published event.
#[derive(Debug, Clone)]
pub struct Event {
    /// When it arrived.
    pub at: Instant,
    /// The node whose sentinel published it.
    pub node: usize,
    /// The channel, e.g. `+vip-claimed`.
    pub channel: String,
    /// The message, e.g. `mymaster 10.1.2.200/32 1`.
    pub message: String,
}

/// Running subscriptions. See the module documentation.
pub struct EventLog {
    stop: Arc<AtomicBool>,
    events: Arc<Mutex<Vec<Event>>>,
    threads: Vec<JoinHandle<()>>,
}

impl EventLog {
    /// Subscribes to every channel of the sentinel on `port` in each of `nodes`.
    pub fn start(bed: &TestBed, nodes: &[usize], port: u16) -> io::Result<EventLog> {
        let stop = Arc::new(AtomicBool::new(false));
        let events = Arc::new(Mutex::new(Vec::new()));
        let mut threads = Vec::new();
        for &node in nodes {
            let to = SocketAddr::from(([127, 0, 0, 1], port));
            let mut conn = NsClient::connect(bed, node, to, Duration::from_secs(2))?;
            conn.call(&["PSUBSCRIBE", "*"])?;
            conn.set_read_timeout(POLL)?;
            let (stop, events) = (stop.clone(), events.clone());
            threads.push(std::thread::spawn(move || {
                collect(node, conn, &stop, &events)
            }));
        }
        Ok(EventLog {
            stop,
            events,
            threads,
        })
    }

    /// The events that arrived so far, in arrival order.
    pub fn snapshot(&self) -> Vec<Event> {
        let mut all = self
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        all.sort_by_key(|e| e.at);
        all
    }

    /// Ends the subscriptions and returns every event, in arrival order.
    pub fn stop(mut self) -> Vec<Event> {
        self.stop.store(true, Ordering::Relaxed);
        for t in std::mem::take(&mut self.threads) {
            // A reader thread only stores events; if it panicked, what it stored is kept.
            let _ = t.join();
        }
        self.snapshot()
    }
}

impl Drop for EventLog {
    /// A log dropped without [`EventLog::stop`] (a failing test) still ends its threads.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn collect(node: usize, mut conn: NsClient, stop: &AtomicBool, events: &Mutex<Vec<Event>>) {
    while !stop.load(Ordering::Relaxed) {
        match conn.read() {
            // pmessage <pattern> <channel> <message>
            Ok(v) => {
                if let Some([kind, _, channel, message]) = v.as_items() {
                    if kind.as_text().as_deref() == Some("pmessage") {
                        let mut events = events.lock().unwrap_or_else(|p| p.into_inner());
                        events.push(Event {
                            at: Instant::now(),
                            node,
                            channel: channel.as_text().unwrap_or_default(),
                            message: message.as_text().unwrap_or_default(),
                        });
                    }
                }
            }
            Err(e) if is_timeout(&e) => {}
            // The sentinel went away (killed by the test): keep what arrived.
            Err(_) => break,
        }
    }
}

/// The first event on `channel` (from any node, or from `node` if given) that arrived at or
/// after `t`.
pub fn first<'a>(
    events: &'a [Event],
    channel: &str,
    node: Option<usize>,
    t: Instant,
) -> Option<&'a Event> {
    events
        .iter()
        .find(|e| e.at >= t && e.channel == channel && node.map_or(true, |n| n == e.node))
}

/// The events at or after `t` as lines `+<ms since t> node <i> <channel> <message>`,
/// leaving out the chatty ones (`__sentinel__:hello`).
pub fn timeline(events: &[Event], t: Instant) -> String {
    events
        .iter()
        .filter(|e| e.at >= t && !e.channel.starts_with("__"))
        .map(|e| {
            format!(
                "  +{:>5} ms  node {}  {} {}",
                (e.at - t).as_millis(),
                e.node,
                e.channel,
                e.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_and_timeline() {
        let t0 = Instant::now();
        let ev = |ms: u64, node: usize, channel: &str| Event {
            at: t0 + Duration::from_millis(ms),
            node,
            channel: channel.into(),
            message: "mymaster".into(),
        };
        let events = [
            ev(5, 0, "+sdown"),
            ev(10, 1, "+vip-claimed"),
            ev(20, 2, "__sentinel__:hello"),
        ];
        assert_eq!(
            first(&events, "+vip-claimed", None, t0).map(|e| e.node),
            Some(1)
        );
        assert!(first(&events, "+vip-claimed", Some(2), t0).is_none());
        let text = timeline(&events, t0);
        assert!(text.contains("node 1  +vip-claimed mymaster"), "{text}");
        assert!(!text.contains("hello"), "{text}");
    }
}
