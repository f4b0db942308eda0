//! Group commit of the persistent state, and the outputs that wait for it.
//!
//! Redis Sentinel rewrites and fsyncs its config file synchronously at every vote, epoch change,
//! failover start and discovery, so nothing it announces is ever ahead of its disk — and its
//! event loop stops for each of those writes (hundreds of them in a mass failover). Warden keeps
//! the rule and drops the stalls:
//!
//! * a change that Redis would flush only marks the state dirty ([`Commit::mark`]);
//! * at the end of every call into the core one save covers every change of that call
//!   ([`Commit::begin`]; at most two saves are in flight, the second queued behind the first,
//!   and the changes made meanwhile wait for the next one, so a burst of votes costs a few
//!   writes, not one each);
//! * every output produced after a change that could reveal it — events, hellos, votes, the
//!   failover's commands (`outbox`), and the replies the driver writes for `SENTINEL` commands
//!   ([`super::Sentinel::reply_barrier`]) — carries the generation that must be durable first
//!   ([`Commit::barrier`]) and is held until it is ([`super::Sentinel::saved`]).
//!
//! PINGs, INFO and VIP claims and releases reveal nothing persisted and do not wait for a disk
//! (a slow save must not make live instances look down, nor a release outlive its lease).

use crate::Millis;
use std::collections::VecDeque;

/// Save generations: what has changed, what is being written, what is durable.
#[derive(Debug, Default)]
pub(super) struct Commit {
    /// Changes since the last save began.
    dirty: bool,
    /// The newest generation handed to the persister.
    started: u64,
    /// The newest generation known durable (every older one is too).
    durable: u64,
    /// Background saves in flight, with the time each began.
    begun: VecDeque<(u64, Millis)>,
    /// How long a background save takes from its start to its end, smoothed.
    latency: Millis,
}

impl Commit {
    /// The state changed in a way that must be durable before anyone learns of it.
    pub(super) fn mark(&mut self) {
        self.dirty = true;
    }

    /// The generation an output produced now must wait for.
    pub(super) fn barrier(&self) -> u64 {
        self.started + u64::from(self.dirty)
    }

    /// Whether generation `generation` is durable.
    pub(super) fn is_durable(&self, generation: u64) -> bool {
        generation <= self.durable
    }

    /// The generation of a background save to begin now, if there are changes and at most one
    /// save is in flight (the persister writes the next one right after it, without waiting
    /// for the driver to report the first; with two in flight, the changes wait).
    pub(super) fn begin(&mut self, now: Millis) -> Option<u64> {
        if !self.dirty || self.started > self.durable + 1 {
            return None;
        }
        self.dirty = false;
        self.started += 1;
        self.begun.push_back((self.started, now));
        Some(self.started)
    }

    /// The background save of `generation` (and of any older one it covers) ended at `now`:
    /// counted into [`Commit::save_latency`].
    pub(super) fn ended(&mut self, generation: u64, now: Millis) {
        while let Some(&(g, at)) = self.begun.front() {
            if g > generation {
                break;
            }
            self.begun.pop_front();
            self.latency = (self.latency * 3 + now.saturating_sub(at)) / 4;
        }
    }

    /// How long a background save has recently taken, from its start to its end (a smoothed
    /// average, 0 before the first).
    pub(super) fn save_latency(&self) -> Millis {
        self.latency
    }

    /// The generation of a synchronous save of everything, begun now whatever is in flight.
    pub(super) fn begin_now(&mut self) -> u64 {
        self.dirty = false;
        self.started += 1;
        self.started
    }

    /// Generation `generation` ended (written, or failed and reported: Redis announces anyway).
    pub(super) fn done(&mut self, generation: u64) {
        self.durable = self.durable.max(generation.min(self.started));
    }

    /// The newest durable generation.
    pub(super) fn durable(&self) -> u64 {
        self.durable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_during_a_save_wait_for_the_next_one() {
        let mut c = Commit::default();
        assert_eq!(c.barrier(), 0);
        assert!(c.is_durable(c.barrier()));
        assert_eq!(c.begin(0), None, "nothing changed");
        c.mark();
        assert_eq!(c.barrier(), 1);
        assert_eq!(c.begin(0), Some(1));
        assert_eq!(c.barrier(), 1, "in flight");
        c.mark();
        c.mark();
        assert_eq!(c.barrier(), 2);
        assert_eq!(
            c.begin(0),
            Some(2),
            "both changes in the save queued behind the first"
        );
        c.mark();
        assert_eq!(c.barrier(), 3);
        assert_eq!(c.begin(0), None, "two saves in flight at most");
        c.done(1);
        assert!(c.is_durable(1) && !c.is_durable(2));
        assert_eq!(c.begin(0), Some(3));
        c.done(3);
        assert!(c.is_durable(c.barrier()));
    }

    #[test]
    fn the_save_latency_follows_the_background_saves() {
        let mut c = Commit::default();
        c.mark();
        assert_eq!(c.begin(100), Some(1));
        c.mark();
        assert_eq!(c.begin(110), Some(2));
        // The writer wrote only the newest state: both end with it.
        c.ended(2, 150);
        c.done(2);
        assert_eq!(
            c.save_latency(),
            19,
            "(0 * 3 + 50) / 4, then (12 * 3 + 40) / 4"
        );
        c.mark();
        assert_eq!(c.begin(200), Some(3));
        c.ended(3, 200);
        assert_eq!(c.save_latency(), 14);
        c.ended(3, 900);
        assert_eq!(c.save_latency(), 14, "a generation ends once");
    }

    #[test]
    fn a_synchronous_save_covers_everything_and_late_completions_do_not_go_back() {
        let mut c = Commit::default();
        c.mark();
        assert_eq!(c.begin(0), Some(1));
        c.mark();
        let now = c.begin_now();
        assert_eq!(now, 2);
        c.done(2);
        c.done(1);
        assert_eq!(c.durable(), 2);
        assert_eq!(c.begin(0), None);
        c.done(7);
        assert_eq!(c.durable(), 2, "never beyond what was started");
    }
}
