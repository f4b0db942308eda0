//! The sentinel state machine.

use crate::config::SentinelConfig;
use crate::io::{Action, Input};
use crate::reply::Reply;
use crate::{Millis, Persist};
use bytes::Bytes;
use std::collections::VecDeque;

/// Process-level facts the core needs but does not own.
#[derive(Debug, Clone)]
pub struct Options {
    /// The port this sentinel listens on (announced in hellos unless `announce-port` is set).
    pub port: u16,
    /// `requirepass`, used as the password towards other sentinels when `sentinel-pass` is unset.
    pub requirepass: Option<String>,
    /// Seed for every random choice (run id generation, start delays).
    pub seed: u64,
}

/// One Redis Sentinel, as a plain value.
pub struct Sentinel {
    config: SentinelConfig,
    options: Options,
    persist: Box<dyn Persist>,
    actions: VecDeque<Action>,
}

impl Sentinel {
    /// Build a sentinel from its loaded configuration. Generates and persists `myid` when absent
    /// and queues a `+monitor` event per master.
    pub fn new(
        config: SentinelConfig,
        options: Options,
        persist: Box<dyn Persist>,
        now: Millis,
    ) -> Result<Sentinel, String> {
        let _ = now;
        Ok(Sentinel { config, options, persist, actions: VecDeque::new() })
    }

    /// Feed one input.
    pub fn handle(&mut self, input: Input, now: Millis) {
        let _ = (input, now);
    }

    /// Run periodic work (PING/INFO/hello scheduling, down detection, failover steps).
    pub fn tick(&mut self, now: Millis) {
        let _ = now;
    }

    /// The latest time by which [`Sentinel::tick`] must be called again.
    pub fn next_deadline(&self, now: Millis) -> Millis {
        now + 100
    }

    /// Next action for the driver, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Execute `SENTINEL <args...>` (args exclude the word `SENTINEL`).
    pub fn command(&mut self, args: &[Bytes], now: Millis) -> Reply {
        let _ = (args, now, &self.persist, &self.options);
        Reply::err("ERR unknown subcommand")
    }

    /// A hello payload received via `PUBLISH __sentinel__:hello <payload>` on our own port.
    pub fn receive_hello(&mut self, payload: &[u8], now: Millis) {
        let _ = (payload, now);
    }

    /// The `# Sentinel` section of INFO, lines joined with `\r\n`, without the header.
    pub fn info_section(&self, now: Millis) -> String {
        let _ = now;
        String::new()
    }

    /// Names of monitored masters, for `ROLE`.
    pub fn master_names(&self) -> Vec<String> {
        self.config.masters.iter().map(|m| m.name.clone()).collect()
    }

    /// This sentinel's run id.
    pub fn myid(&self) -> &str {
        self.config.myid.as_deref().unwrap_or("")
    }

    /// Snapshot of the persistent state.
    pub fn config(&self) -> &SentinelConfig {
        &self.config
    }
}
