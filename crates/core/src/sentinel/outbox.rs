//! The core's outgoing actions, held back while they could reveal a change that is not durable
//! yet (see `commit`), in lanes that keep their own order.
//!
//! An action that can reveal persisted state — an event (and the script it runs), a command
//! that announces or acts on an epoch or a vote (hellos, `is-master-down-by-addr`, the
//! promotion transaction...) — waits for the save generation that holds the last change it
//! could reveal (see [`super::Reveals`]). An action that reveals nothing (PING and INFO, connects, closes, log lines) only waits for the
//! held actions before it in its lane: the commands of one connection must keep their order
//! (replies are matched to them in order), but a PING to a healthy instance must never wait for
//! a disk, or a slow save would make live instances look down. VIP claims and releases never
//! wait.

use crate::io::{Action, LinkId};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// Actions that must keep their relative order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Lane {
    /// The commands, connect and close of one connection.
    Link(LinkId),
    /// Events, log lines, scripts and the simulated crash, in the order they happened.
    Story,
}

/// Outgoing actions: ready ones in order, held ones with the generation they wait for.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    ready: VecDeque<Action>,
    held: VecDeque<(u64, Lane, Action)>,
    /// Per lane with held actions: how many, and the generation the newest waits for.
    lanes: FxHashMap<Lane, (usize, u64)>,
}

impl Outbox {
    /// Queue `action`, which must wait for save generation `needs` (0: reveals nothing) and
    /// behind the held actions of its lane; `durable` is the newest durable generation.
    pub(super) fn push(&mut self, action: Action, needs: u64, durable: u64) {
        let lane = match &action {
            Action::VipClaim { .. } | Action::VipLease { .. } | Action::VipRelease { .. } => {
                self.ready.push_back(action);
                return;
            }
            Action::Connect { link, .. } | Action::Send { link, .. } | Action::Close { link } => {
                Lane::Link(*link)
            }
            Action::Event(_)
            | Action::Log { .. }
            | Action::RunScript { .. }
            | Action::KillScript { .. }
            | Action::Exit { .. } => Lane::Story,
        };
        let behind = self.lanes.get(&lane).map_or(0, |(_, g)| *g);
        let generation = needs.max(behind);
        if generation <= durable {
            self.ready.push_back(action);
            return;
        }
        let entry = self.lanes.entry(lane).or_insert((0, 0));
        *entry = (entry.0 + 1, generation);
        self.held.push_back((generation, lane, action));
    }

    /// The next ready action.
    pub(super) fn pop(&mut self) -> Option<Action> {
        self.ready.pop_front()
    }

    /// Generation `durable` is durable: every action waiting for it (or less) becomes ready,
    /// in the order it was queued. (Within a lane generations never decrease, so no action
    /// overtakes one of its lane.)
    pub(super) fn release(&mut self, durable: u64) {
        if self.held.is_empty() {
            return;
        }
        let mut still = VecDeque::with_capacity(self.held.len());
        for (generation, lane, action) in self.held.drain(..) {
            if generation > durable {
                still.push_back((generation, lane, action));
                continue;
            }
            self.ready.push_back(action);
            if let Some(entry) = self.lanes.get_mut(&lane) {
                entry.0 -= 1;
                if entry.0 == 0 {
                    self.lanes.remove(&lane);
                }
            }
        }
        self.held = still;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{Event, Level};

    fn send(link: LinkId, word: &str) -> Action {
        Action::Send {
            link,
            commands: vec![vec![bytes::Bytes::copy_from_slice(word.as_bytes())]],
        }
    }

    fn event(kind: &str) -> Action {
        Action::Event(Event {
            level: Level::Warning,
            kind: kind.into(),
            message: String::new(),
        })
    }

    fn drain(o: &mut Outbox) -> Vec<Action> {
        std::iter::from_fn(|| o.pop()).collect()
    }

    #[test]
    fn quiet_commands_pass_unless_their_connection_has_held_ones() {
        let mut o = Outbox::default();
        o.push(send(1, "hello"), 1, 0);
        o.push(event("+vote-for-leader"), 1, 0);
        o.push(send(1, "PING"), 0, 0);
        o.push(send(2, "PING"), 0, 0);
        let vip = Action::VipRelease {
            master: "m".into(),
            epoch: 1,
            fence: true,
        };
        o.push(vip.clone(), 1, 0);
        assert_eq!(drain(&mut o), [send(2, "PING"), vip]);
        o.release(1);
        assert_eq!(
            drain(&mut o),
            [send(1, "hello"), event("+vote-for-leader"), send(1, "PING")]
        );
        // Nothing held any more: a quiet command on link 1 goes at once.
        o.push(send(1, "INFO"), 0, 1);
        assert_eq!(drain(&mut o), [send(1, "INFO")]);
    }

    #[test]
    fn a_lane_releases_in_order_across_generations() {
        let mut o = Outbox::default();
        o.push(send(1, "a"), 1, 0);
        o.push(send(1, "b"), 2, 0);
        o.push(send(1, "c"), 0, 0);
        o.release(1);
        assert_eq!(drain(&mut o), [send(1, "a")]);
        o.release(2);
        assert_eq!(drain(&mut o), [send(1, "b"), send(1, "c")]);
    }
}
