//! Safety invariants, checked against what the sentinels say (their events) and what they
//! persist, as each event happens. Everything here is black-box: no core internals.

use crate::scenario::Time;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Simulated time, ms.
    pub time: Time,
    /// Sentinel index, when one is to blame.
    pub node: Option<usize>,
    /// Short stable name of the invariant.
    pub rule: &'static str,
    /// What exactly happened.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = self
            .node
            .map_or_else(|| "-".to_string(), |n| format!("s{n}"));
        write!(
            f,
            "{:>9.3}s {who} {}: {}",
            self.time as f64 / 1000.0,
            self.rule,
            self.detail
        )
    }
}

/// What the checker remembers about one sentinel (across restarts: identity is the node).
#[derive(Debug, Default, Clone)]
struct Observed {
    /// Epoch of its last `+new-epoch`.
    last_new_epoch: u64,
    /// `(agreeing, quorum)` of its current ODOWN, from `+odown ... #quorum n/q`.
    odown: Option<(u32, u32)>,
    /// Epoch of its failover attempt in progress (from `+try-failover`).
    failover_epoch: Option<u64>,
    /// Master address adopted by its last `+switch-master`, and whether it has tried to
    /// connect there since.
    switched_to: Option<(String, bool)>,
}

/// The invariant checker for one run.
#[derive(Debug)]
pub struct Checker {
    group: usize,
    quorum: u32,
    /// Run id of each node, to recognise vote candidates.
    ids: Vec<String>,
    nodes: Vec<Observed>,
    /// (epoch, voter) → candidate run id.
    votes: BTreeMap<(u64, usize), String>,
    /// epoch → elected node.
    leaders: BTreeMap<u64, usize>,
    /// config epoch → (master address, first sentinel that advertised it).
    configs: BTreeMap<u64, (String, usize)>,
    /// (epoch, address) conflicts already reported.
    config_conflicts: BTreeSet<(u64, String)>,
    /// epoch → node that claimed the VIP.
    vip_claims: BTreeMap<u64, usize>,
    /// Everything found so far.
    pub violations: Vec<Violation>,
}

/// Votes needed among `group` sentinels.
pub fn majority(group: usize) -> usize {
    group / 2 + 1
}

impl Checker {
    /// A checker for a group whose sentinels have these run ids, monitoring a master with `quorum`.
    pub fn new(ids: Vec<String>, quorum: u32) -> Checker {
        Checker {
            group: ids.len(),
            quorum,
            nodes: vec![Observed::default(); ids.len()],
            ids,
            votes: BTreeMap::new(),
            leaders: BTreeMap::new(),
            configs: BTreeMap::new(),
            config_conflicts: BTreeSet::new(),
            vip_claims: BTreeMap::new(),
            violations: Vec::new(),
        }
    }

    /// Record a violation.
    pub fn report(&mut self, time: Time, node: Option<usize>, rule: &'static str, detail: String) {
        self.violations.push(Violation {
            time,
            node,
            rule,
            detail,
        });
    }

    /// A sentinel process (re)started: its volatile state is gone.
    pub fn restarted(&mut self, node: usize) {
        self.nodes[node] = Observed::default();
    }

    /// Check one event emitted by `node`. `leader_epoch_on_disk` is the persisted leader-epoch
    /// of the monitored master right after the step that emitted it.
    pub fn event(
        &mut self,
        time: Time,
        node: usize,
        kind: &str,
        message: &str,
        leader_epoch_on_disk: u64,
    ) {
        let words: Vec<&str> = message.split_whitespace().collect();
        match kind {
            "+new-epoch" => {
                if let Some(epoch) = words.first().and_then(|w| w.parse().ok()) {
                    self.nodes[node].last_new_epoch = epoch;
                }
            }
            "+odown" => self.odown(time, node, &words),
            "-odown" => self.nodes[node].odown = None,
            "+try-failover" => {
                if self.nodes[node].odown.is_none() {
                    self.report(
                        time,
                        Some(node),
                        "failover-without-odown",
                        format!("+try-failover {message}"),
                    );
                }
                self.nodes[node].failover_epoch = Some(self.nodes[node].last_new_epoch);
            }
            "+vote-for-leader" => {
                let (Some(candidate), Some(epoch)) = (
                    words.first(),
                    words.get(1).and_then(|w| w.parse::<u64>().ok()),
                ) else {
                    self.report(
                        time,
                        Some(node),
                        "malformed-event",
                        format!("+vote-for-leader {message}"),
                    );
                    return;
                };
                self.vote(time, node, candidate, epoch, leader_epoch_on_disk);
            }
            "+elected-leader" => self.elected(time, node),
            "+switch-master" => {
                if let [_, _, _, ip, port, ..] = words.as_slice() {
                    self.nodes[node].switched_to = Some((format!("{ip}:{port}"), false));
                }
            }
            "+sdown" => {
                if let ["master", _, ip, port, ..] = words.as_slice() {
                    let addr = format!("{ip}:{port}");
                    if self.nodes[node].switched_to == Some((addr.clone(), false)) {
                        let detail = format!("new master {addr} flagged down without a connection attempt since +switch-master");
                        self.report(time, Some(node), "sdown-before-connect", detail);
                    }
                }
            }
            "-failover-abort-not-elected"
            | "-failover-abort-no-good-slave"
            | "-failover-abort-slave-timeout"
            | "+failover-end" => self.nodes[node].failover_epoch = None,
            _ => {}
        }
    }

    fn odown(&mut self, time: Time, node: usize, words: &[&str]) {
        let counts = words
            .iter()
            .position(|w| *w == "#quorum")
            .and_then(|i| words.get(i + 1))
            .and_then(|nq| nq.split_once('/'))
            .and_then(|(n, q)| Some((n.parse::<u32>().ok()?, q.parse::<u32>().ok()?)));
        match counts {
            Some((n, q)) if n >= q && q == self.quorum => self.nodes[node].odown = Some((n, q)),
            _ => self.report(
                time,
                Some(node),
                "odown-below-quorum",
                format!(
                    "+odown {} (configured quorum {})",
                    words.join(" "),
                    self.quorum
                ),
            ),
        }
    }

    fn vote(
        &mut self,
        time: Time,
        node: usize,
        candidate: &str,
        epoch: u64,
        leader_epoch_on_disk: u64,
    ) {
        if leader_epoch_on_disk < epoch {
            self.report(
                time,
                Some(node),
                "vote-not-persisted",
                format!("voted for {candidate} in epoch {epoch}, persisted leader-epoch {leader_epoch_on_disk}"),
            );
        }
        match self.votes.get(&(epoch, node)) {
            Some(previous) if previous != candidate => {
                let detail = format!("epoch {epoch}: voted for {previous}, then for {candidate}");
                self.report(time, Some(node), "double-vote", detail);
            }
            Some(_) => {}
            None => {
                self.votes.insert((epoch, node), candidate.to_string());
            }
        }
    }

    fn elected(&mut self, time: Time, node: usize) {
        let Some(epoch) = self.nodes[node].failover_epoch else {
            self.report(
                time,
                Some(node),
                "elected-without-failover",
                "+elected-leader without +try-failover".into(),
            );
            return;
        };
        if let Some(&other) = self.leaders.get(&epoch) {
            if other != node {
                self.report(
                    time,
                    Some(node),
                    "two-leaders",
                    format!("epoch {epoch} already won by s{other}"),
                );
            }
        } else {
            self.leaders.insert(epoch, node);
        }
        let me = &self.ids[node];
        let votes = self
            .votes
            .range((epoch, 0)..=(epoch, usize::MAX))
            .filter(|(_, c)| *c == me)
            .count();
        let needed = majority(self.group).max(self.quorum as usize);
        if votes < needed {
            self.report(
                time,
                Some(node),
                "elected-without-majority",
                format!("epoch {epoch}: {votes} votes cast for it, {needed} needed"),
            );
        }
    }

    /// `node` sent a hello advertising master `addr` with config epoch `epoch`. One epoch must
    /// name one master everywhere: that is what makes "the newest epoch wins" converge.
    pub fn advertised(&mut self, time: Time, node: usize, addr: &str, epoch: u64) {
        match self.configs.get(&epoch) {
            Some((known, first)) if known != addr => {
                if !self.config_conflicts.insert((epoch, addr.to_string())) {
                    return;
                }
                let detail = format!(
                    "advertises {addr} for config epoch {epoch}, s{first} advertised {known}"
                );
                self.report(time, Some(node), "two-configs-one-epoch", detail);
            }
            Some(_) => {}
            None => {
                self.configs.insert(epoch, (addr.to_string(), node));
            }
        }
    }

    /// `node` opened a command connection to `host:port`.
    pub fn connect_attempt(&mut self, node: usize, host: &str, port: u16) {
        if let Some((addr, tried)) = self.nodes[node].switched_to.as_mut() {
            if *addr == format!("{host}:{port}") {
                *tried = true;
            }
        }
    }

    /// `node` claimed the VIP for `epoch`.
    pub fn vip_claim(&mut self, time: Time, node: usize, epoch: u64) {
        match self.vip_claims.get(&epoch) {
            Some(&other) if other != node => {
                self.report(
                    time,
                    Some(node),
                    "vip-two-claimants",
                    format!("epoch {epoch} already claimed by s{other}"),
                );
            }
            Some(_) => {}
            None => {
                self.vip_claims.insert(epoch, node);
            }
        }
    }

    /// Number of distinct leaders elected so far.
    pub fn elections(&self) -> usize {
        self.leaders.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checker() -> Checker {
        Checker::new(vec!["a".into(), "b".into(), "c".into()], 2)
    }

    fn rules(c: &Checker) -> Vec<&'static str> {
        c.violations.iter().map(|v| v.rule).collect()
    }

    #[test]
    fn clean_election_passes() {
        let mut c = checker();
        c.event(1, 0, "+odown", "master m 10.0.0.1 6379 #quorum 2/2", 0);
        c.event(2, 0, "+new-epoch", "1", 0);
        c.event(2, 0, "+try-failover", "master m 10.0.0.1 6379", 0);
        c.event(2, 0, "+vote-for-leader", "a 1", 1);
        c.event(3, 1, "+vote-for-leader", "a 1", 1);
        c.event(4, 0, "+elected-leader", "master m 10.0.0.1 6379", 1);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        assert_eq!(c.elections(), 1);
    }

    #[test]
    fn double_vote_and_unpersisted_vote_are_caught() {
        let mut c = checker();
        c.event(1, 2, "+vote-for-leader", "a 1", 1);
        c.event(2, 2, "+vote-for-leader", "b 1", 0);
        assert_eq!(rules(&c), ["vote-not-persisted", "double-vote"]);
    }

    #[test]
    fn failover_needs_odown_with_quorum() {
        let mut c = checker();
        c.event(1, 0, "+odown", "master m 10.0.0.1 6379 #quorum 1/2", 0);
        c.event(2, 0, "+try-failover", "master m 10.0.0.1 6379", 0);
        assert_eq!(rules(&c), ["odown-below-quorum", "failover-without-odown"]);
    }

    #[test]
    fn two_leaders_and_minority_win_are_caught() {
        let mut c = checker();
        for node in [0, 1] {
            c.event(1, node, "+odown", "master m 10.0.0.1 6379 #quorum 2/2", 0);
            c.event(1, node, "+new-epoch", "1", 0);
            c.event(1, node, "+try-failover", "master m 10.0.0.1 6379", 0);
        }
        c.event(2, 0, "+vote-for-leader", "a 1", 1);
        c.event(2, 2, "+vote-for-leader", "a 1", 1);
        c.event(3, 0, "+elected-leader", "master m 10.0.0.1 6379", 1);
        c.event(3, 1, "+vote-for-leader", "b 1", 1);
        c.event(4, 1, "+elected-leader", "master m 10.0.0.1 6379", 1);
        assert_eq!(rules(&c), ["two-leaders", "elected-without-majority"]);
    }

    #[test]
    fn new_master_must_be_tried_before_it_is_down() {
        let mut c = checker();
        c.event(1, 0, "+switch-master", "m 10.0.0.1 6379 10.0.0.2 6379", 0);
        c.connect_attempt(0, "10.0.0.2", 6379);
        c.event(2, 0, "+sdown", "master m 10.0.0.2 6379", 0);
        assert!(c.violations.is_empty());
        c.event(3, 1, "+switch-master", "m 10.0.0.1 6379 10.0.0.2 6379", 0);
        c.event(4, 1, "+sdown", "master m 10.0.0.2 6379", 0);
        assert_eq!(rules(&c), ["sdown-before-connect"]);
    }

    #[test]
    fn one_epoch_names_one_master() {
        let mut c = checker();
        c.advertised(1, 0, "10.0.0.1:6379", 0);
        c.advertised(2, 1, "10.0.0.1:6379", 0);
        c.advertised(3, 1, "10.0.0.2:6379", 1);
        assert!(c.violations.is_empty());
        c.advertised(4, 2, "10.0.0.3:6379", 1);
        c.advertised(5, 2, "10.0.0.3:6379", 1);
        assert_eq!(rules(&c), ["two-configs-one-epoch"]);
    }

    #[test]
    fn vip_claims_are_unique_per_epoch() {
        let mut c = checker();
        c.vip_claim(1, 0, 1);
        c.vip_claim(2, 0, 1);
        c.vip_claim(3, 1, 2);
        assert!(c.violations.is_empty());
        c.vip_claim(4, 2, 2);
        assert_eq!(rules(&c), ["vip-two-claimants"]);
    }
}
