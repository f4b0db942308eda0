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
//! Persistence is the one synchronous side effect, through the [`Persist`] trait, because Redis
//! Sentinel's rule is "persist before you announce" (votes, epochs).

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

/// Milliseconds on the driver's clock (Redis Sentinel uses wall-clock milliseconds; TILT
/// mode exists precisely to survive jumps of that clock).
pub type Millis = u64;

/// Saves the sentinel's persistent state (the `sentinel ...` lines of its config file).
///
/// Called synchronously whenever Redis Sentinel would rewrite its config file; an error is
/// reported to the commanding client as `-ERR Failed to save config file. Check server logs.`
pub trait Persist: Send {
    /// Persist `state`; return a human-readable reason on failure.
    fn save(&mut self, state: &config::SentinelConfig) -> Result<(), String>;
}
