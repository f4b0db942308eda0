//! Failover history (issue 14): the last failovers of each master as this sentinel saw them,
//! for `SENTINEL HISTORY <master>` and the HTTP side's `GET /history`.
//!
//! A record opens when the master goes SDOWN (or a failover starts without it, e.g.
//! `SENTINEL FAILOVER`, or a peer tells of a switch before this sentinel saw the failure),
//! collects every event about the master with its time from the start
//! (ODOWN, votes, the election, the promotion, the switch, the VIP), and closes with its
//! result: `switched` at `+switch-master`, `recovered` when the master comes back first. VIP
//! events that follow a switch (the new holder's claim, the old one's release) join the record
//! that switched. Memory is bounded: [`RECORDS`] records per master, [`EVENTS`] events each
//! (a flapping master cannot grow a record without end). Kept in memory only: a restart
//! starts an empty history.

use super::Sentinel;
use crate::reply::Reply;
use crate::Millis;
use std::collections::VecDeque;

/// Records kept per master.
pub const RECORDS: usize = 16;
/// Events kept per record (the first ones: the later ones are counted only).
pub const EVENTS: usize = 64;
/// How long after a switch the VIP's events still join its record.
const VIP_AFTER_SWITCH: Millis = 60_000;

/// How a failover record ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Still open.
    InProgress,
    /// The master was switched (`+switch-master`).
    Switched,
    /// The master came back before any switch.
    Recovered,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::InProgress => "in-progress",
            Outcome::Switched => "switched",
            Outcome::Recovered => "recovered",
        }
    }
}

/// One failover as this sentinel saw it.
#[derive(Debug, Clone)]
pub struct Record {
    /// When it began (the master's `+sdown`, or the failover's start), ms since the epoch.
    pub started: Millis,
    /// The master's address when it began.
    pub from: String,
    /// The new master's address, once switched.
    pub to: Option<String>,
    /// The failover epoch (the newest seen in its events).
    pub epoch: u64,
    /// Who led it, when known: this sentinel's run id once elected, else the one it voted for.
    pub leader: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// Events: kind, message, ms since `started`.
    pub events: Vec<(String, String, Millis)>,
    /// Events beyond [`EVENTS`], not kept.
    pub dropped: usize,
    /// When it closed.
    ended: Option<Millis>,
}

/// Every master's records, newest last.
#[derive(Debug, Default)]
pub(super) struct History {
    per_master: Vec<VecDeque<Record>>,
}

impl History {
    fn records(&mut self, mi: usize) -> &mut VecDeque<Record> {
        if self.per_master.len() <= mi {
            self.per_master.resize_with(mi + 1, VecDeque::new);
        }
        &mut self.per_master[mi]
    }

    /// Forget master `mi` (removed); later masters move down one index.
    pub(super) fn remove(&mut self, mi: usize) {
        if mi < self.per_master.len() {
            self.per_master.remove(mi);
        }
    }
}

/// Whether `kind` begins a failover record: the master's failure, a failover's start, or a
/// switch learnt from a peer by a sentinel that had not seen the master fail yet.
fn opens(kind: &str) -> bool {
    matches!(
        kind,
        "+sdown" | "+try-failover" | "+odown" | "+config-update-from" | "+switch-master"
    )
}

impl Sentinel {
    /// Account for event `kind` (`message` as published) about master `mi`'s failover story.
    pub(super) fn history_observe(&mut self, mi: usize, kind: &str, message: &str, now: Millis) {
        let is_vip = kind.starts_with("+vip-") || kind.starts_with("-vip-");
        let relevant = is_vip
            || opens(kind)
            || matches!(
                kind,
                "-sdown"
                    | "-odown"
                    | "+new-epoch"
                    | "+vote-for-leader"
                    | "+elected-leader"
                    | "+promoted-slave"
            )
            || kind.starts_with("+failover-")
            || kind.starts_with("-failover-");
        // A replica's or a peer's SDOWN is not the master's.
        let about_master = !message.starts_with("slave ") && !message.starts_with("sentinel ");
        if !relevant || ((kind == "+sdown" || kind == "-sdown") && !about_master) {
            return;
        }
        let from = {
            let a = &self.masters[mi].inst.addr;
            format!("{}:{}", a.ip, a.port)
        };
        let myid = self.config.myid.as_deref().unwrap_or("");
        let records = self.history.records(mi);
        let open = records
            .back()
            .is_some_and(|r| r.outcome == Outcome::InProgress);
        let recent_switch = records.back().is_some_and(|r| {
            r.outcome == Outcome::Switched
                && r.ended
                    .is_some_and(|t| now.saturating_sub(t) < VIP_AFTER_SWITCH)
        });
        let joins_last = open || (is_vip && recent_switch);
        if !joins_last {
            if !opens(kind) {
                return;
            }
            if records.len() == RECORDS {
                records.pop_front();
            }
            records.push_back(Record {
                started: now,
                from,
                to: None,
                epoch: 0,
                leader: None,
                outcome: Outcome::InProgress,
                events: Vec::new(),
                dropped: 0,
                ended: None,
            });
        }
        let Some(record) = records.back_mut() else {
            return;
        };
        if record.events.len() < EVENTS {
            let at = now.saturating_sub(record.started);
            record
                .events
                .push((kind.to_string(), message.to_string(), at));
        } else {
            record.dropped += 1;
        }
        let words: Vec<&str> = message.split(' ').collect();
        match kind {
            "+new-epoch" => record.epoch = words[0].parse().unwrap_or(record.epoch),
            "+vote-for-leader" => {
                if record.leader.is_none() {
                    record.leader = words.first().map(|w| w.to_string());
                }
                if let Some(epoch) = words.get(1).and_then(|e| e.parse().ok()) {
                    record.epoch = record.epoch.max(epoch);
                }
            }
            "+elected-leader" => record.leader = Some(myid.to_string()),
            "+switch-master" if record.outcome == Outcome::InProgress => {
                // `<name> <old ip> <old port> <new ip> <new port>`
                record.to = words.get(3..5).map(|w| w.join(":"));
                record.outcome = Outcome::Switched;
                record.ended = Some(now);
            }
            "-sdown" if record.outcome == Outcome::InProgress => {
                record.outcome = Outcome::Recovered;
                record.ended = Some(now);
            }
            _ => {}
        }
    }

    /// `SENTINEL HISTORY <master>`: its failover records, newest first, each a map.
    pub(super) fn history_reply(&self, mi: usize) -> Reply {
        let Some(records) = self.history.per_master.get(mi) else {
            return Reply::Array(Vec::new());
        };
        let num = |n: u64| Reply::Int(i64::try_from(n).unwrap_or(i64::MAX));
        let text = |s: &str| Reply::bulk(s);
        Reply::Array(
            records
                .iter()
                .rev()
                .map(|r| {
                    let events = r
                        .events
                        .iter()
                        .map(|(kind, message, at)| {
                            Reply::map([
                                ("event", text(kind)),
                                ("message", text(message)),
                                ("ms", num(*at)),
                            ])
                        })
                        .collect();
                    Reply::map([
                        ("started-ms", num(r.started)),
                        ("result", text(r.outcome.as_str())),
                        ("epoch", num(r.epoch)),
                        ("leader", text(r.leader.as_deref().unwrap_or("?"))),
                        ("from", text(&r.from)),
                        ("to", text(r.to.as_deref().unwrap_or("?"))),
                        (
                            "duration-ms",
                            num(r.ended.map_or(0, |t| t.saturating_sub(r.started))),
                        ),
                        ("events", Reply::Array(events)),
                        ("events-dropped", num(r.dropped as u64)),
                    ])
                })
                .collect(),
        )
    }
}
