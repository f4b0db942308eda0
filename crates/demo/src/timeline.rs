//! The events every sentinel publishes, collected from one `PSUBSCRIBE *` connection per
//! sentinel and stamped with the time they arrived.

use super::cluster::Node;
use super::resp::Conn;
use super::show::{rename, Screen};
use std::io;
use std::time::Instant;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One published event.
pub struct Event {
    /// When it arrived.
    pub at: Instant,
    /// Index of the sentinel that published it.
    pub warden: usize,
    /// The channel, i.e. the event's name (`+sdown`, `+switch-master`, ...).
    pub channel: String,
    /// The message.
    pub payload: String,
}

/// Events from all sentinels, in arrival order.
pub struct Timeline {
    rx: mpsc::UnboundedReceiver<Event>,
    readers: Vec<JoinHandle<()>>,
    wardens: Vec<String>,
    sentinel_ids: Vec<(String, String)>,
    zero: Instant,
    seen: Vec<Event>,
}

impl Timeline {
    /// Subscribe to every sentinel's events (returns once all subscriptions are confirmed).
    /// `sentinel_ids` maps run ids to names for display.
    pub async fn subscribe(
        wardens: &[Node],
        sentinel_ids: Vec<(String, String)>,
    ) -> io::Result<Timeline> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut readers = Vec::new();
        for (index, warden) in wardens.iter().enumerate() {
            let mut subscription = Conn::connect(warden.port).await?.psubscribe_all().await?;
            let tx = tx.clone();
            readers.push(tokio::spawn(async move {
                while let Ok((channel, payload)) = subscription.message().await {
                    let event = Event {
                        at: Instant::now(),
                        warden: index,
                        channel,
                        payload,
                    };
                    if tx.send(event).is_err() {
                        break;
                    }
                }
            }));
        }
        Ok(Timeline {
            rx,
            readers,
            wardens: wardens.iter().map(|w| w.name.clone()).collect(),
            sentinel_ids,
            zero: Instant::now(),
            seen: Vec::new(),
        })
    }

    /// Make now the time events are shown relative to.
    pub fn start_clock(&mut self) {
        self.zero = Instant::now();
    }

    /// Seconds since [`Timeline::start_clock`].
    pub fn elapsed_secs(&self) -> f64 {
        self.zero.elapsed().as_secs_f64()
    }

    /// Wait for the next event, print it on `screen` and remember it. Pending forever once all
    /// connections are gone (for use in `select!`).
    pub async fn next(&mut self, screen: &mut Screen) {
        match self.rx.recv().await {
            Some(event) => {
                let ms = event.at.saturating_duration_since(self.zero).as_millis();
                screen.line(&format!(
                    "  {ms:>6} ms  {:<8}  {:<30} {}",
                    self.wardens[event.warden],
                    event.channel,
                    rename(&event.payload, &self.sentinel_ids)
                ));
                self.seen.push(event);
            }
            None => std::future::pending().await,
        }
    }

    /// How many different sentinels published `channel` with a payload containing `needle`.
    pub fn publishers(&self, channel: &str, needle: &str) -> usize {
        let mut who: Vec<usize> = self
            .seen
            .iter()
            .filter(|e| e.channel == channel && e.payload.contains(needle))
            .map(|e| e.warden)
            .collect();
        who.sort_unstable();
        who.dedup();
        who.len()
    }
}

impl Drop for Timeline {
    fn drop(&mut self) {
        for reader in &self.readers {
            reader.abort();
        }
    }
}
