//! The action executor and the timer: the two loops that turn the sans-IO core into a process.
//!
//! [`Driver::run`] consumes the core's actions in order: link actions go to [`Links`], scripts to
//! [`Scripts`], events are logged (`<kind> <message>` at the event's level) and published to
//! subscribers, VIP actions go to a [`VipExecutor`]. [`run_timer`] calls the core's tick whenever
//! the core asks to be called (at least every 100 ms, at most every 1 ms).

use crate::app::{now_ms, App};
use crate::links::{Links, Outgoing};
use crate::ports::{EventPublisher, InputSink, VipExecutor};
use crate::scripts::Scripts;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use warden_core::io::{Event, Level};
use warden_core::Action;

/// Longest pause between two ticks.
const MAX_TICK_WAIT_MS: u64 = 100;
/// Shortest pause between two ticks (a deadline already past must not spin the CPU).
const MIN_TICK_WAIT_MS: u64 = 1;

/// Executes the core's actions.
pub struct Driver {
    links: Links,
    scripts: Scripts,
    publisher: Arc<dyn EventPublisher>,
    vip: Box<dyn VipExecutor>,
    metrics: Option<Arc<crate::metrics::Metrics>>,
}

impl Driver {
    /// A driver whose links (made as `outgoing` says) and scripts report to `sink`.
    pub fn new(
        sink: Arc<dyn InputSink>,
        publisher: Arc<dyn EventPublisher>,
        vip: Box<dyn VipExecutor>,
        outgoing: Outgoing,
    ) -> Driver {
        Driver {
            links: Links::new(sink.clone(), outgoing),
            scripts: Scripts::new(sink),
            publisher,
            vip,
            metrics: None,
        }
    }

    /// Count script runs in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> Driver {
        self.metrics = Some(metrics);
        self
    }

    /// Execute actions until one asks the process to exit (returns its code) or the channel
    /// closes (returns `None`).
    pub async fn run(mut self, mut actions: mpsc::UnboundedReceiver<Action>) -> Option<i32> {
        while let Some(action) = actions.recv().await {
            if let Some(code) = self.execute(action) {
                return Some(code);
            }
        }
        None
    }

    /// Execute one action; `Some(code)` if the process must exit with `code`.
    pub fn execute(&mut self, action: Action) -> Option<i32> {
        match action {
            Action::Connect {
                link,
                kind,
                host,
                port,
            } => self.links.connect(link, kind, host, port),
            Action::Send { link, commands } => self.links.send(link, commands),
            Action::Close { link } => self.links.close(link),
            Action::Event(event) => self.event(&event),
            Action::Log { level, message } => log(level, &message),
            Action::RunScript { id, argv } => {
                if let Some(metrics) = &self.metrics {
                    metrics.observe_script_run();
                }
                self.scripts.run(id, &argv)
            }
            Action::KillScript { id } => self.scripts.kill(id),
            Action::VipClaim {
                master,
                epoch,
                until,
            } => self.vip.claim(&master, epoch, until),
            Action::VipLease { master, until } => self.vip.lease(&master, until),
            Action::VipRelease {
                master,
                epoch,
                fence,
            } => self.vip.release(&master, epoch, fence),
            Action::Exit { code } => return Some(code),
        }
        None
    }

    /// Log an event as `<kind> <message>` and publish it unless it is debug-level.
    fn event(&self, event: &Event) {
        let Event {
            level,
            kind,
            message,
        } = event;
        log(*level, &format!("{kind} {message}"));
        if *level != Level::Debug {
            self.publisher.publish(kind, message);
        }
    }
}

/// Log `message` at the Redis level `level`.
fn log(level: Level, message: &str) {
    match level {
        Level::Warning => tracing::warn!("{message}"),
        Level::Notice => tracing::info!("{message}"),
        Level::Verbose => tracing::debug!("{message}"),
        Level::Debug => tracing::trace!("{message}"),
    }
}

/// Tick the core forever, sleeping until the deadline it returns (clamped to 1..=100 ms), or
/// until an input moves that deadline earlier.
pub async fn run_timer(app: Arc<App>) {
    loop {
        // First let the I/O driver deliver what has already arrived (a yielded task waits for
        // the next poll of the driver), as Redis's event loop handles file events before time
        // events: on a loop that is behind, a PONG sitting in a socket must be seen before
        // the timer judges SDOWN, or live instances are marked down.
        tokio::task::yield_now().await;
        app.tick();
        loop {
            let wait = app
                .timer_due()
                .saturating_sub(now_ms())
                .clamp(MIN_TICK_WAIT_MS, MAX_TICK_WAIT_MS);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(wait)) => break,
                _ = app.timer_moved() => {}
            }
        }
    }
}

/// Test doubles shared by the driver, link and script tests.
#[cfg(test)]
pub mod testing {
    use super::*;
    use std::sync::Mutex;
    use warden_core::Input;

    /// Records inputs and lets a test wait for them.
    pub struct Recorder {
        tx: mpsc::UnboundedSender<Input>,
        rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Input>>,
    }

    struct Forward(mpsc::UnboundedSender<Input>);

    impl InputSink for Forward {
        fn input(&self, input: Input) {
            let _ = self.0.send(input);
        }
    }

    impl Recorder {
        /// An empty recorder.
        pub fn new() -> Recorder {
            let (tx, rx) = mpsc::unbounded_channel();
            Recorder {
                tx,
                rx: tokio::sync::Mutex::new(rx),
            }
        }

        /// A sink feeding this recorder.
        pub fn sink(&self) -> Arc<dyn InputSink> {
            Arc::new(Forward(self.tx.clone()))
        }

        /// The next input, failing the test if none arrives within `limit`.
        pub async fn next(&self, limit: Duration) -> Input {
            let mut rx = self.rx.lock().await;
            match tokio::time::timeout(limit, rx.recv()).await {
                Ok(Some(input)) => input,
                Ok(None) => panic!("input channel closed"),
                Err(_) => panic!("no input within {limit:?}"),
            }
        }
    }

    /// Records published events.
    #[derive(Default)]
    pub struct Published(pub Mutex<Vec<(String, String)>>);

    impl EventPublisher for Published {
        fn publish(&self, channel: &str, payload: &str) {
            self.0
                .lock()
                .unwrap()
                .push((channel.to_string(), payload.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {

    /// A VIP executor for tests that only logs.
    struct VipUnsupported;

    impl VipExecutor for VipUnsupported {
        fn claim(&mut self, master: &str, epoch: u64, _: Option<Millis>) {
            tracing::warn!("test: claim VIP of {master} (epoch {epoch})");
        }

        fn lease(&mut self, _: &str, _: Option<Millis>) {}

        fn release(&mut self, master: &str, epoch: u64, fence: bool) {
            tracing::warn!("test: release VIP of {master} (epoch {epoch}, fence {fence})");
        }
    }
    use super::testing::{Published, Recorder};
    use super::*;
    use warden_core::io::ScriptOutcome;
    use warden_core::{Input, Millis};

    fn event(level: Level, kind: &str) -> Action {
        Action::Event(Event {
            level,
            kind: kind.into(),
            message: "master m 127.0.0.1 1".into(),
        })
    }

    #[tokio::test]
    async fn events_are_published_unless_debug_and_exit_stops_the_loop() {
        let recorder = Recorder::new();
        let published = Arc::new(Published::default());
        let driver = Driver::new(
            recorder.sink(),
            published.clone(),
            Box::new(VipUnsupported),
            Outgoing::default(),
        );
        let (tx, rx) = mpsc::unbounded_channel();
        for action in [
            event(Level::Warning, "+sdown"),
            event(Level::Notice, "+slave"),
            event(Level::Verbose, "+role-change"),
            event(Level::Debug, "+script-child"),
            Action::Log {
                level: Level::Notice,
                message: "not an event".into(),
            },
            Action::VipClaim {
                master: "m".into(),
                epoch: 3,
                until: None,
            },
            Action::RunScript {
                id: 9,
                argv: vec!["/bin/true".into()],
            },
            Action::Exit { code: 99 },
            event(Level::Warning, "+never"),
        ] {
            tx.send(action).unwrap();
        }
        assert_eq!(driver.run(rx).await, Some(99));
        let published = published.0.lock().unwrap().clone();
        let channels: Vec<&str> = published.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(channels, ["+sdown", "+slave", "+role-change"]);
        assert_eq!(published[0].1, "master m 127.0.0.1 1");
        assert!(matches!(
            recorder.next(Duration::from_secs(10)).await,
            Input::ScriptStarted { id: 9, .. }
        ));
        let exited = recorder.next(Duration::from_secs(10)).await;
        assert_eq!(
            exited,
            Input::ScriptExited {
                id: 9,
                outcome: ScriptOutcome::Exited(0)
            }
        );
    }

    #[tokio::test]
    async fn closed_channel_ends_the_loop_without_exit_code() {
        let recorder = Recorder::new();
        let driver = Driver::new(
            recorder.sink(),
            Arc::new(Published::default()),
            Box::new(VipUnsupported),
            Outgoing::default(),
        );
        let (tx, rx) = mpsc::unbounded_channel::<Action>();
        drop(tx);
        assert_eq!(driver.run(rx).await, None);
    }
}
