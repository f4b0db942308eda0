//! # warden-core — the sans-IO heart of Warden
//!
//! This crate holds the complete Redis Sentinel state machine: the instance model
//! (masters, replicas, peer sentinels), link accounting, INFO parsing, the hello protocol,
//! subjective/objective down detection, epochs and leader votes, the failover state machine,
//! replica selection, script queueing and the VIP ownership decision.
//!
//! It performs no I/O: no sockets, no clock, no threads. The driver (the `warden` binary, or the
//! simulator) feeds [`Input`]s and client commands with an explicit time in milliseconds and
//! drains [`Action`]s (connect, send, close, publish an event, run a script, claim a VIP...).
//! Persistence goes through the [`Persist`] trait, synchronously or in the background: Redis
//! Sentinel's rule is "persist before you announce" (votes, epochs), so every output produced
//! after a change waits in the core until the save that covers it is durable.

#![forbid(unsafe_code)]

pub mod config;
pub mod glob;
pub mod io;
pub mod quorum;
pub mod reply;
pub mod sentinel;
pub mod vip;

pub use io::{Action, Input, LinkId, LinkKind};
pub use reply::Reply;
pub use sentinel::{Options, Sentinel};

/// The Redis version Warden speaks as (INFO, `--version`, config errors): Redis Sentinel's.
pub const REDIS_VERSION: &str = "7.0.15";

/// Milliseconds on the driver's clock (Redis Sentinel uses wall-clock milliseconds; TILT
/// mode exists precisely to survive jumps of that clock).
pub type Millis = u64;

/// How a [`Persist::save`] was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Durable on return.
    Durable,
    /// Being written in the background; the driver reports the end with
    /// [`Sentinel::saved`].
    Pending,
}

/// Saves the sentinel's persistent state (the `sentinel ...` lines of its config file).
///
/// Called whenever Redis Sentinel would rewrite its config file, at most once per call into the
/// core (see the group commit in `sentinel/commit.rs`). Each save has a generation, growing by
/// one per save: a persister that writes in the background must never replace a newer
/// generation on disk by an older one. An error is reported to the commanding client as
/// `-ERR Failed to save config file. Check server logs.` (synchronous saves).
pub trait Persist: Send {
    /// Persist `state` (a snapshot the persister keeps) as generation `generation`. With `wait` (an operator command that
    /// reports the outcome; start-up) it must be durable on return; otherwise the persister
    /// may write it in the background and return [`Saved::Pending`].
    fn save(
        &mut self,
        generation: u64,
        state: config::SentinelConfig,
        wait: bool,
    ) -> Result<Saved, String>;
}
