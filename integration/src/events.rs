//! Sentinel events as they are published: one `PSUBSCRIBE *` connection per sentinel, read on its own
//! thread, every message stamped with its arrival time and the index of the sentinel that sent it.
//! The connections go to sentinels on loopback ([`EventLog::subscribe`]), at any address
//! ([`EventLog::subscribe_to`]), or to `127.0.0.1` from inside each node's network namespace of a
//! test bed ([`EventLog::subscribe_in`]: the events of a node cut off its bridge still arrive).

use std::fmt::{Display, Write as _};
use std::io::{self, BufReader};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::netns::TestBed;
use crate::resp::{encode_command, read_value, Value};
use crate::wait::Timeout;

/// One published message.
#[derive(Clone, Debug)]
pub struct Event {
    /// When it arrived.
    pub at: Instant,
    /// Index (in the list given to [`EventLog::subscribe`] or [`EventLog::subscribe_to`]) of the
    /// sentinel that published it.
    pub source: usize,
    /// The channel, i.e. the event name (`+sdown`, `+switch-master`, ...).
    pub channel: String,
    /// The message.
    pub payload: String,
}

impl Event {
    /// Whether this is `channel` with a payload starting with `prefix`.
    pub fn is(&self, channel: &str, prefix: &str) -> bool {
        self.channel == channel && self.payload.starts_with(prefix)
    }
}

/// Everything the subscribed sentinels published since [`EventLog::subscribe`] (or
/// [`EventLog::subscribe_to`]) returned.
pub struct EventLog {
    rx: Receiver<Event>,
    streams: Vec<TcpStream>,
    readers: Vec<JoinHandle<()>>,
    events: Vec<Event>,
}

impl EventLog {
    /// Subscribes to every event of the sentinels on 127.0.0.1 at `ports`; see
    /// [`EventLog::subscribe_to`].
    pub fn subscribe(ports: &[u16]) -> io::Result<EventLog> {
        let addrs: Vec<SocketAddr> = ports
            .iter()
            .map(|&port| SocketAddr::from(([127, 0, 0, 1], port)))
            .collect();
        EventLog::subscribe_to(&addrs)
    }

    /// Subscribes to every event of the sentinels at `addrs` (e.g. `"ip:port"`); returns once
    /// every subscription is confirmed, so nothing published afterwards is missed.
    pub fn subscribe_to<A: ToSocketAddrs + Display>(addrs: &[A]) -> io::Result<EventLog> {
        let mut streams = Vec::new();
        for (source, addr) in addrs.iter().enumerate() {
            streams.push((source, addr.to_string(), TcpStream::connect(addr)?));
        }
        EventLog::over(streams)
    }

    /// Subscribes to every event of the sentinel on `port` of each of `nodes` of `bed`, each
    /// from inside the node's namespace to `127.0.0.1`; an event's source is its node index.
    pub fn subscribe_in(bed: &TestBed, nodes: &[usize], port: u16) -> io::Result<EventLog> {
        let to = SocketAddr::from(([127, 0, 0, 1], port));
        let mut streams = Vec::new();
        for &node in nodes {
            let stream = bed
                .spawn_in(node, move || {
                    TcpStream::connect_timeout(&to, Duration::from_secs(2))
                })
                .join()
                .map_err(|_| io::Error::other("connect thread panicked"))???;
            streams.push((node, format!("node {node}'s {to}"), stream));
        }
        EventLog::over(streams)
    }

    /// Subscribes on each connected `(source, name, stream)`.
    fn over(streams: Vec<(usize, String, TcpStream)>) -> io::Result<EventLog> {
        let (tx, rx) = mpsc::channel();
        let mut log = EventLog {
            rx,
            streams: Vec::new(),
            readers: Vec::new(),
            events: Vec::new(),
        };
        for (source, addr, stream) in streams {
            let mut writer = stream.try_clone()?;
            io::Write::write_all(&mut writer, &encode_command(&["PSUBSCRIBE", "*"]))?;
            let mut reader = BufReader::new(stream.try_clone()?);
            stream.set_read_timeout(Some(Duration::from_secs(10)))?;
            let confirmation = read_value(&mut reader)?;
            stream.set_read_timeout(None)?;
            if confirmation
                .as_items()
                .and_then(|i| i.first()?.as_text())
                .as_deref()
                != Some("psubscribe")
            {
                return Err(io::Error::other(format!(
                    "PSUBSCRIBE * on {addr} answered {confirmation}"
                )));
            }
            log.streams.push(stream);
            let tx = tx.clone();
            log.readers.push(thread::spawn(move || {
                while let Ok(value) = read_value(&mut reader) {
                    let Some((channel, payload)) = pmessage(&value) else {
                        continue;
                    };
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
            }));
        }
        Ok(log)
    }

    /// Collects events until `done` holds for those collected so far; fails after `timeout` with
    /// every event collected in the message.
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[Event]) -> bool,
    ) -> Result<(), Timeout> {
        let start = Instant::now();
        let deadline = start + timeout;
        loop {
            self.collect();
            if done(&self.events) {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(event) => self.events.push(event),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    if done(&self.events) {
                        return Ok(());
                    }
                    return Err(Timeout {
                        what: what.to_owned(),
                        waited: start.elapsed(),
                        last: Some(format!("events so far:\n{}", dump(&self.events))),
                    });
                }
            }
        }
    }

    /// Waits until every sentinel in `sources` has published `channel` with a payload starting with
    /// `prefix`.
    pub fn wait_all(
        &mut self,
        timeout: Duration,
        sources: &[usize],
        channel: &str,
        prefix: &str,
    ) -> Result<(), Timeout> {
        let what = format!("sentinels {sources:?} to publish {channel} {prefix}");
        self.wait_for(timeout, &what, |events| {
            sources
                .iter()
                .all(|&s| from(events, s).any(|e| e.is(channel, prefix)))
        })
    }

    /// Takes in what has arrived so far without waiting.
    pub fn collect(&mut self) {
        while let Ok(event) = self.rx.try_recv() {
            self.events.push(event);
        }
    }

    /// The events collected so far, in arrival order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Everything that arrived so far, in arrival order.
    pub fn snapshot(&mut self) -> Vec<Event> {
        self.collect();
        self.events.clone()
    }

    /// Ends the subscriptions and returns every event, in arrival order.
    pub fn stop(mut self) -> Vec<Event> {
        self.collect();
        std::mem::take(&mut self.events)
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        for stream in &self.streams {
            let _ = stream.shutdown(Shutdown::Both);
        }
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }
}

/// The events of one sentinel, in the order it published them.
pub fn from(events: &[Event], source: usize) -> impl Iterator<Item = &Event> {
    events.iter().filter(move |e| e.source == source)
}

/// The first event on `channel` whose payload starts with `prefix`, from `source` if given.
pub fn first<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    source: Option<usize>,
    channel: &str,
    prefix: &str,
) -> Option<&'a Event> {
    events
        .into_iter()
        .find(|e| e.is(channel, prefix) && source.map_or(true, |s| s == e.source))
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

/// The one sentinel that promoted a replica (published `+promoted-slave`). Panics, with the
/// events, unless exactly one did.
pub fn sole_promoter(events: &[Event]) -> usize {
    let promoters: Vec<usize> = events
        .iter()
        .filter(|e| e.channel == "+promoted-slave")
        .map(|e| e.source)
        .collect();
    assert_eq!(
        promoters.len(),
        1,
        "promotions by {promoters:?}\n{}",
        dump(events)
    );
    promoters[0]
}

/// Checks that `expected` (`(channel, payload prefix)` pairs) occur in this order in `events` (other
/// events may come in between); on failure names the first step not found after the previous ones.
pub fn in_order<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    expected: &[(&str, &str)],
) -> Result<(), String> {
    let mut events = events.into_iter();
    for (i, (channel, prefix)) in expected.iter().enumerate() {
        if !events.any(|e| e.is(channel, prefix)) {
            return Err(format!(
                "step {i} `{channel} {prefix}` not found after the steps before it"
            ));
        }
    }
    Ok(())
}

/// The events in a sentinel's log (`<pid>:X <day> <month> <year> <time> <level mark> <event>
/// <payload>`, Redis's format), in order, as if published by `source` (all stamped now: a log has
/// no [`Instant`]s). Lines that are not events are skipped.
pub fn logged(log: &str, source: usize) -> Vec<Event> {
    let at = Instant::now();
    log.lines()
        .filter_map(|line| {
            let mut fields = line.splitn(7, ' ');
            let pid = fields.next()?;
            if !pid.ends_with(":X") {
                return None;
            }
            let message = fields.nth(5)?;
            let (channel, payload) = message.split_once(' ').unwrap_or((message, ""));
            let is_event = channel.len() > 1
                && channel.starts_with(['+', '-'])
                && channel[1..]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-');
            is_event.then(|| Event {
                at,
                source,
                channel: channel.to_owned(),
                payload: payload.to_owned(),
            })
        })
        .collect()
}

/// The events at or after `t`.
pub fn since(events: &[Event], t: Instant) -> impl Iterator<Item = &Event> {
    events.iter().filter(move |e| e.at >= t)
}

/// The events at or after `t` as lines `+<ms since t> node <i> <channel> <payload>`, leaving
/// out the chatty ones (`__sentinel__:hello`).
pub fn timeline(events: &[Event], t: Instant) -> String {
    since(events, t)
        .filter(|e| !e.channel.starts_with("__"))
        .map(|e| {
            format!(
                "  +{:>5} ms  node {}  {} {}",
                (e.at - t).as_millis(),
                e.source,
                e.channel,
                e.payload
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line per event: `+<ms since the first> [source] channel payload`.
pub fn dump(events: &[Event]) -> String {
    let zero = events.first().map(|e| e.at);
    let mut out = String::new();
    for e in events {
        let ms = zero.map_or(0, |z| e.at.duration_since(z).as_millis());
        let _ = writeln!(
            out,
            "  +{ms:>6}ms [{}] {} {}",
            e.source, e.channel, e.payload
        );
    }
    out
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
    fn finds_steps_in_order_first_events_and_publishers() {
        let events = [
            event(1, "+sdown", "slave 127.0.0.1:2 127.0.0.1 2 @ m 127.0.0.1 1"),
            event(2, "+sdown", "master m 127.0.0.1 1"),
            event(2, "+new-epoch", "1"),
            event(2, "+odown", "master m 127.0.0.1 1 #quorum 2/2"),
            event(0, "+switch-master", "m 127.0.0.1 1 127.0.0.1 2"),
            event(0, "+switch-master", "m 127.0.0.1 1 127.0.0.1 2"),
            event(2, "+switch-master", "m 127.0.0.1 1 127.0.0.1 2"),
        ];
        assert!(in_order(&events, &[("+sdown", "master "), ("+odown", "")]).is_ok());
        let err = in_order(&events, &[("+odown", ""), ("+sdown", "")]).unwrap_err();
        assert!(err.contains("step 1"), "{err}");
        assert_eq!(from(&events, 3).count(), 0);
        assert_eq!(
            first(&events, None, "+sdown", "master ").map(|e| e.source),
            Some(2)
        );
        assert!(first(&events, Some(1), "+switch-master", "").is_none());
        assert_eq!(publishers(&events, "+switch-master"), 2);
    }

    #[test]
    fn reads_events_from_a_log() {
        let log = "7:X 26 Nov 2026 23:29:59.137 # +sdown master m 127.0.0.1 1\n\
                   7:X 26 Nov 2026 23:29:59.140 * Sentinel new configuration saved on disk\n\
                   7:X 26 Nov 2026 23:29:59.141 # -odown master m 127.0.0.1 1\n";
        let events = logged(log, 2);
        let got: Vec<(&str, &str, usize)> = events
            .iter()
            .map(|e| (e.channel.as_str(), e.payload.as_str(), e.source))
            .collect();
        assert_eq!(
            got,
            [
                ("+sdown", "master m 127.0.0.1 1", 2),
                ("-odown", "master m 127.0.0.1 1", 2)
            ]
        );
    }

    #[test]
    fn reads_pmessages_only() {
        let text = |s: &str| Value::Bulk(s.as_bytes().to_vec());
        let message = Value::Array(vec![text("pmessage"), text("*"), text("+sdown"), text("x")]);
        assert_eq!(pmessage(&message), Some(("+sdown".into(), "x".into())));
        let confirmation = Value::Array(vec![text("psubscribe"), text("*"), Value::Integer(1)]);
        assert_eq!(pmessage(&confirmation), None);
    }

    #[test]
    fn first_since_and_timeline() {
        let t0 = Instant::now();
        let ev = |ms: u64, source: usize, channel: &str| Event {
            at: t0 + Duration::from_millis(ms),
            source,
            channel: channel.into(),
            payload: "mymaster".into(),
        };
        let events = [
            ev(5, 0, "+sdown"),
            ev(10, 1, "+vip-claimed"),
            ev(20, 2, "__sentinel__:hello"),
        ];
        assert_eq!(
            first(&events, None, "+vip-claimed", "").map(|e| e.source),
            Some(1)
        );
        assert!(first(&events, Some(2), "+vip-claimed", "").is_none());
        assert_eq!(since(&events, t0 + Duration::from_millis(10)).count(), 2);
        let text = timeline(&events, t0);
        assert!(text.contains("node 1  +vip-claimed mymaster"), "{text}");
        assert!(!text.contains("hello"), "{text}");
    }
}
