//! The shared application state: the sans-IO core behind a mutex, and the channel through
//! which every action it produces reaches the driver.
//!
//! Every entry point (client command, link input, timer tick) goes through [`App::with_core`],
//! which hands the core the current time and then drains its actions into the driver's queue,
//! so no action is ever left behind in the core.

use bytes::Bytes;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, watch, Notify};
use warden_core::{Action, Input, Millis, Reply, Sentinel};
use warden_server::{SentinelPort, Wait};

/// Wall-clock milliseconds, the clock Redis Sentinel runs on (TILT guards its jumps).
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// Handle shared by the server, the links, the timer and the action executor.
pub struct App {
    core: Mutex<Sentinel>,
    actions: mpsc::UnboundedSender<Action>,
    /// When the timer task next ticks the core (ms clock).
    timer_due: AtomicU64,
    /// Wakes the timer task when an input makes the core want a tick before `timer_due`
    /// (e.g. ODOWN reached on a peer's reply: the failover starts after its short random
    /// delay, not at the next regular tick).
    timer_wake: Notify,
    /// The core's newest durable save generation, for replies waiting on it.
    durable: watch::Sender<u64>,
}

impl App {
    /// Wrap `core`; its actions are sent to the returned receiver.
    pub fn new(core: Sentinel) -> (Arc<App>, mpsc::UnboundedReceiver<Action>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let app = Arc::new(App {
            core: Mutex::new(core),
            actions: tx,
            timer_due: AtomicU64::new(0),
            timer_wake: Notify::new(),
            durable: watch::Sender::new(0),
        });
        app.with_core(|_, _| ());
        (app, rx)
    }

    /// Run `f` on the core at the current time, then forward the actions it produced.
    pub fn with_core<R>(&self, f: impl FnOnce(&mut Sentinel, Millis) -> R) -> R {
        let mut core = self
            .core
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let result = f(&mut core, now_ms());
        while let Some(action) = core.poll_action() {
            // The receiver only goes away at shutdown, when dropping actions is right.
            let _ = self.actions.send(action);
        }
        let durable = core.durable_generation();
        if durable > *self.durable.borrow() {
            self.durable.send_replace(durable);
        }
        result
    }

    /// Like [`App::with_core`] for an input that may move the core's next deadline: wakes
    /// the timer task if the core now wants a tick before the one it sleeps towards.
    fn with_core_then_reschedule<R>(&self, f: impl FnOnce(&mut Sentinel, Millis) -> R) -> R {
        self.with_core(|core, now| {
            let result = f(core, now);
            let due = core.next_deadline(now);
            if due < self.timer_due.load(Ordering::Relaxed) {
                self.timer_due.store(due, Ordering::Relaxed);
                self.timer_wake.notify_one();
            }
            result
        })
    }

    /// Feed one input to the core.
    pub fn input(&self, input: Input) {
        self.with_core_then_reschedule(|core, now| core.handle(input, now));
    }

    /// Run the core's periodic work and record when it wants to be called next
    /// ([`App::timer_due`]).
    pub fn tick(&self) {
        self.with_core(|core, now| {
            core.timer(now);
            self.timer_due
                .store(core.next_deadline(now), Ordering::Relaxed);
        })
    }

    /// When the timer task should tick next (ms clock); may move earlier while it sleeps.
    pub fn timer_due(&self) -> Millis {
        self.timer_due.load(Ordering::Relaxed)
    }

    /// Resolves when [`App::timer_due`] has been moved earlier.
    pub async fn timer_moved(&self) {
        self.timer_wake.notified().await;
    }

    /// The sentinel's current `loglevel` (`SENTINEL CONFIG SET` changes it).
    fn loglevel(&self) -> String {
        self.with_core(|core, _| core.loglevel().to_string())
    }

    /// A background save of generation `generation` ended: the outputs that waited for it go.
    pub fn saved(&self, generation: u64) {
        self.with_core_then_reschedule(|core, now| core.saved(generation, now));
    }

    /// This sentinel's run id.
    pub fn myid(&self) -> String {
        self.with_core(|core, _| core.myid().to_string())
    }
}

/// The RESP server's way into the core.
impl SentinelPort for App {
    fn sentinel_command(&self, args: &[Bytes]) -> (Reply, Option<u64>) {
        let run = |core: &mut Sentinel, now| (core.command(args, now), core.reply_barrier());
        let answer = if Sentinel::command_is_read_only(args) {
            // The hot path of clients asking for the master: no deadline can move.
            self.with_core(run)
        } else {
            self.with_core_then_reschedule(run)
        };
        if args[0].eq_ignore_ascii_case(b"config") && answer.0 == Reply::ok() {
            // `SENTINEL CONFIG SET` may have changed `loglevel` (Redis 7.2, Valkey).
            crate::logging::set_level(&self.loglevel());
        }
        answer
    }

    fn receive_hello(&self, payload: &[u8]) {
        self.with_core_then_reschedule(|core, now| core.receive_hello(payload, now));
    }

    fn info_sentinel(&self) -> String {
        self.with_core(|core, now| core.info_section(now))
    }

    fn master_names(&self) -> Vec<String> {
        self.with_core(|core, _| core.master_names())
    }

    fn durable(&self, generation: u64) -> Wait<'_> {
        let mut seen = self.durable.subscribe();
        Box::pin(async move {
            // The sender lives as long as the App, which the caller borrows.
            let _ = seen.wait_for(|durable| *durable >= generation).await;
        })
    }
}
