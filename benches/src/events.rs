//! Sentinel events as they are published: one `PSUBSCRIBE *` connection per sentinel, read on
//! its own thread, every message stamped with the time it arrived.

use std::io;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use warden_integration::resp::Value;

use crate::conn::{Closer, Conn};

/// One published message.
#[derive(Clone, Debug)]
pub struct Event {
    /// When it arrived.
    pub at: Instant,
    /// Index (in the list given to [`EventLog::subscribe`]) of the sentinel that published it.
    pub source: usize,
    /// The channel, i.e. the event name (`+sdown`, `+switch-master`, ...).
    pub channel: String,
    /// The message.
    pub payload: String,
}

/// Everything the subscribed sentinels published since [`EventLog::subscribe`] returned.
pub struct EventLog {
    rx: Receiver<Event>,
    closers: Vec<Closer>,
    readers: Vec<JoinHandle<()>>,
    events: Vec<Event>,
}

impl EventLog {
    /// Subscribe to every event of the sentinels at `addrs` (`ip:port`); returns once every
    /// subscription is confirmed, so nothing published afterwards is missed.
    pub fn subscribe(addrs: &[String]) -> io::Result<EventLog> {
        let (tx, rx) = mpsc::channel();
        let mut log = EventLog {
            rx,
            closers: Vec::new(),
            readers: Vec::new(),
            events: Vec::new(),
        };
        for (source, addr) in addrs.iter().enumerate() {
            let mut conn = Conn::connect(addr, None)?;
            conn.call(&["PSUBSCRIBE", "*"])?;
            log.closers.push(conn.closer()?);
            let tx = tx.clone();
            log.readers.push(thread::spawn(move || {
                while let Ok(value) = conn.read() {
                    if let Some((channel, payload)) = pmessage(&value) {
                        let event = Event {
                            at: Instant::now(),
                            source,
                            channel,
                            payload,
                        };
                        if tx.send(event).is_err() {
                            break;
                        }
                    }
                }
            }));
        }
        Ok(log)
    }

    /// Collect events until `done` holds for those collected so far, or `timeout` passes;
    /// returns whether `done` held.
    pub fn wait_for(&mut self, timeout: Duration, done: impl Fn(&[Event]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(&self.events) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(event) => self.events.push(event),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    return done(&self.events)
                }
            }
        }
    }

    /// The events collected so far, in arrival order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }
}

/// The first event on `channel` whose payload starts with `prefix`, from `source` if given.
pub fn first<'a>(
    events: &'a [Event],
    source: Option<usize>,
    channel: &str,
    prefix: &str,
) -> Option<&'a Event> {
    events.iter().find(|e| {
        e.channel == channel
            && e.payload.starts_with(prefix)
            && source.map_or(true, |s| s == e.source)
    })
}

/// How many different sources published on `channel`.
pub fn publishers(events: &[Event], channel: &str) -> usize {
    let mut sources: Vec<usize> = events
        .iter()
        .filter(|e| e.channel == channel)
        .map(|e| e.source)
        .collect();
    sources.sort_unstable();
    sources.dedup();
    sources.len()
}

/// `(channel, payload)` of a `pmessage` push.
fn pmessage(value: &Value) -> Option<(String, String)> {
    match value.as_items()? {
        [kind, _pattern, channel, payload] if kind.as_text().as_deref() == Some("pmessage") => {
            Some((channel.as_text()?, payload.as_text()?))
        }
        _ => None,
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        for closer in &self.closers {
            closer.close();
        }
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(source: usize, channel: &str, payload: &str) -> Event {
        Event {
            at: Instant::now(),
            source,
            channel: channel.into(),
            payload: payload.into(),
        }
    }

    #[test]
    fn finds_first_events_and_counts_publishers() {
        let events = vec![
            event(1, "+sdown", "slave 127.0.0.1:2 127.0.0.1 2 @ m 127.0.0.1 1"),
            event(2, "+sdown", "master m 127.0.0.1 1"),
            event(0, "+switch-master", "m 127.0.0.1 1 127.0.0.1 2"),
            event(0, "+switch-master", "m 127.0.0.1 1 127.0.0.1 2"),
            event(2, "+switch-master", "m 127.0.0.1 1 127.0.0.1 2"),
        ];
        assert_eq!(
            first(&events, None, "+sdown", "master ").map(|e| e.source),
            Some(2)
        );
        assert!(first(&events, Some(1), "+switch-master", "").is_none());
        assert_eq!(publishers(&events, "+switch-master"), 2);
    }

    #[test]
    fn reads_pmessages_only() {
        let text = |s: &str| Value::Bulk(s.as_bytes().to_vec());
        let message = Value::Array(vec![text("pmessage"), text("*"), text("+sdown"), text("x")]);
        assert_eq!(pmessage(&message), Some(("+sdown".into(), "x".into())));
        let confirmation = Value::Array(vec![text("psubscribe"), text("*"), Value::Integer(1)]);
        assert_eq!(pmessage(&confirmation), None);
    }
}
