//! Safety invariants, checked against what the sentinels say (their events) and what they
//! persist, as each event happens. Everything here is black-box: no core internals.

use crate::scenario::Time;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
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

/// What the checker may read of a sentinel's config file: the epochs it persisted.
pub trait DiskView {
    /// The persisted `current-epoch`.
    fn current_epoch(&self) -> u64;
    /// The persisted `leader-epoch` of `master` (0 if the master is not on disk).
    fn leader_epoch(&self, master: &str) -> u64;
    /// The persisted `config-epoch` of `master` (0 if the master is not on disk).
    fn config_epoch(&self, master: &str) -> u64;
}

/// A disk on which every epoch reads the same value (for tests).
#[derive(Debug, Clone, Copy)]
pub struct Epochs(pub u64);

impl DiskView for Epochs {
    fn current_epoch(&self) -> u64 {
        self.0
    }
    fn leader_epoch(&self, _: &str) -> u64 {
        self.0
    }
    fn config_epoch(&self, _: &str) -> u64 {
        self.0
    }
}

/// A hello as published on `__sentinel__:hello`:
/// `ip,port,runid,current_epoch,master_name,master_ip,master_port,master_config_epoch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// The sender's `current_epoch` field.
    pub current_epoch: u64,
    /// The master it describes.
    pub master: String,
    /// That master's address, `ip:port`.
    pub addr: String,
    /// That master's config epoch.
    pub config_epoch: u64,
}

impl Hello {
    /// Parse a hello payload (`None` if it is malformed).
    pub fn parse(payload: &str) -> Option<Hello> {
        let fields: Vec<&str> = payload.split(',').collect();
        let [_, _, _, current, name, ip, port, epoch] = fields.as_slice() else {
            return None;
        };
        Some(Hello {
            current_epoch: current.parse().ok()?,
            master: name.to_string(),
            addr: format!("{ip}:{}", port.parse::<u16>().ok()?),
            config_epoch: epoch.parse().ok()?,
        })
    }
}

/// What the checker remembers about one sentinel (across restarts: identity is the node).
/// Everything about failovers is per master: with many masters, several attempts of one
/// sentinel run at once, each at its own epoch.
#[derive(Debug, Default, Clone)]
struct Observed {
    /// Epoch of its last `+new-epoch`.
    last_new_epoch: u64,
    /// Per master: `(agreeing, quorum)` of its current ODOWN, from `+odown ... #quorum n/q`.
    odown: HashMap<String, (u32, u32)>,
    /// Per master: epoch of its failover attempt in progress (from `+try-failover`).
    failover_epoch: HashMap<String, u64>,
    /// Per master: address adopted by its last `+switch-master`, and whether it has tried to
    /// connect there since.
    switched_to: HashMap<String, (String, bool)>,
    /// Address → master, for the entries of `switched_to`.
    switched_addr: HashMap<String, String>,
}

/// The invariant checker for one run.
#[derive(Debug)]
pub struct Checker {
    group: usize,
    quorum: u32,
    /// Run id of each node, to recognise vote candidates.
    ids: Vec<String>,
    /// The only master's name when the group monitors exactly one (attribution fallback).
    single_master: Option<String>,
    nodes: Vec<Observed>,
    /// (master, epoch, voter) → candidate run id.
    votes: BTreeMap<(String, u64, usize), String>,
    /// Votes granted as seen on the wire, not yet matched with their `+vote-for-leader`:
    /// (voter, candidate, epoch) → masters, in the order granted. The event does not name its
    /// master, and a candidate asks with its global current epoch for every master it is
    /// failing over, so (candidate, epoch) alone does not name one master.
    granted: HashMap<(usize, String, u64), VecDeque<String>>,
    /// The `is-master-down-by-addr` being executed: (voter, lower-case candidate, epoch,
    /// master), and whether a vote event was already attributed to it (with a synchronous
    /// disk the event leaves within the command, before its reply is seen).
    executing: Option<((usize, String, u64), String, bool)>,
    /// (master, epoch) → elected node.
    leaders: BTreeMap<(String, u64), usize>,
    /// (master, config epoch) → (master address, first sentinel that advertised it).
    configs: HashMap<(String, u64), (String, usize)>,
    /// (master, epoch, address) conflicts already reported.
    config_conflicts: BTreeSet<(String, u64, String)>,
    /// (master, epoch) → node that claimed the VIP.
    vip_claims: BTreeMap<(String, u64), usize>,
    /// `-failover-abort-not-elected` events seen (split or lost elections; counted, not failed).
    pub aborts_not_elected: u64,
    /// Everything found so far.
    pub violations: Vec<Violation>,
}

/// Votes needed among `group` sentinels.
pub fn majority(group: usize) -> usize {
    group / 2 + 1
}

impl Checker {
    /// A checker for a group whose sentinels have these run ids, monitoring `masters` (names),
    /// each with `quorum`.
    pub fn new(ids: Vec<String>, quorum: u32, masters: &[String]) -> Checker {
        Checker {
            group: ids.len(),
            quorum,
            nodes: vec![Observed::default(); ids.len()],
            ids,
            single_master: (masters.len() == 1).then(|| masters[0].clone()),
            votes: BTreeMap::new(),
            granted: HashMap::new(),
            executing: None,
            leaders: BTreeMap::new(),
            configs: HashMap::new(),
            config_conflicts: BTreeSet::new(),
            vip_claims: BTreeMap::new(),
            aborts_not_elected: 0,
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

    /// `voter` granted its vote for `master` to `candidate` at `epoch`, in answer to
    /// `is-master-down-by-addr` (its reply names them, where it did not before): its next
    /// `+vote-for-leader <candidate> <epoch>` is about that master.
    pub fn vote_granted(&mut self, voter: usize, master: &str, candidate: &str, epoch: u64) {
        let key = (voter, candidate.to_ascii_lowercase(), epoch);
        if let Some((k, m, true)) = &self.executing {
            if *k == key && m == master {
                return;
            }
        }
        self.granted
            .entry(key)
            .or_default()
            .push_back(master.to_string());
    }

    /// `voter` starts (`Some`) or ends (`None`) executing `is-master-down-by-addr` for
    /// `master` from `candidate` at `epoch`.
    pub fn executing(&mut self, request: Option<(usize, &str, &str, u64)>) {
        self.executing = request.map(|(voter, master, candidate, epoch)| {
            (
                (voter, candidate.to_ascii_lowercase(), epoch),
                master.to_string(),
                false,
            )
        });
    }

    /// Check one event emitted by `node`; `disk` is its config file when the event left it.
    pub fn event(
        &mut self,
        time: Time,
        node: usize,
        kind: &str,
        message: &str,
        disk: &dyn DiskView,
    ) {
        let words: Vec<&str> = message.split_whitespace().collect();
        // "<type> <name> <ip> <port> ..." for instance events.
        let master = match words.as_slice() {
            ["master", name, ..] => Some(name.to_string()),
            _ => None,
        };
        match kind {
            "+new-epoch" => {
                if let Some(epoch) = words.first().and_then(|w| w.parse().ok()) {
                    self.nodes[node].last_new_epoch = epoch;
                }
            }
            "+odown" => {
                if let Some(master) = master {
                    self.odown(time, node, master, &words)
                }
            }
            "-odown" => {
                if let Some(master) = master {
                    self.nodes[node].odown.remove(&master);
                }
            }
            "+try-failover" => {
                let Some(master) = master else { return };
                if !self.nodes[node].odown.contains_key(&master) {
                    self.report(
                        time,
                        Some(node),
                        "failover-without-odown",
                        format!("+try-failover {message}"),
                    );
                }
                let epoch = self.nodes[node].last_new_epoch;
                self.nodes[node].failover_epoch.insert(master, epoch);
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
                let Some(master) = self.attribute_vote(node, candidate, epoch) else {
                    let detail = format!("+vote-for-leader {message}: no vote request or own attempt names its master");
                    self.report(time, Some(node), "unattributed-vote", detail);
                    return;
                };
                let on_disk = disk.leader_epoch(&master);
                if on_disk < epoch {
                    self.report(
                        time,
                        Some(node),
                        "vote-not-persisted",
                        format!("{master}: voted for {candidate} in epoch {epoch}, persisted leader-epoch {on_disk}"),
                    );
                }
                self.record_vote(time, node, &master, candidate, epoch);
            }
            "+elected-leader" => {
                if let Some(master) = master {
                    self.elected(time, node, master, disk)
                }
            }
            "+switch-master" => {
                if let [name, _, _, ip, port, ..] = words.as_slice() {
                    let addr = format!("{ip}:{port}");
                    let o = &mut self.nodes[node];
                    o.switched_addr.insert(addr.clone(), name.to_string());
                    o.switched_to.insert(name.to_string(), (addr, false));
                }
            }
            "+sdown" => {
                if let ["master", name, ip, port, ..] = words.as_slice() {
                    let addr = format!("{ip}:{port}");
                    if self.nodes[node].switched_to.get(*name) == Some(&(addr.clone(), false)) {
                        let detail = format!("{name}: new master {addr} flagged down without a connection attempt since +switch-master");
                        self.report(time, Some(node), "sdown-before-connect", detail);
                    }
                }
            }
            "-failover-abort-not-elected"
            | "-failover-abort-no-good-slave"
            | "-failover-abort-slave-timeout"
            | "+failover-end" => {
                if kind == "-failover-abort-not-elected" {
                    self.aborts_not_elected += 1;
                }
                if let Some(master) = master {
                    self.nodes[node].failover_epoch.remove(&master);
                }
            }
            _ => {}
        }
    }

    /// The master a `+vote-for-leader <candidate> <epoch>` of `node` is about: its own attempt
    /// at that epoch (self-votes), else the oldest unmatched grant seen on the wire, else the
    /// only master.
    fn attribute_vote(&mut self, node: usize, candidate: &str, epoch: u64) -> Option<String> {
        let o = &self.nodes[node];
        if self.ids[node].eq_ignore_ascii_case(candidate) {
            if let Some((m, _)) = o.failover_epoch.iter().find(|(_, e)| **e == epoch) {
                return Some(m.clone());
            }
        }
        let key = (node, candidate.to_ascii_lowercase(), epoch);
        if let Some((k, m, used)) = self.executing.as_mut() {
            if *k == key && !*used {
                *used = true;
                return Some(m.clone());
            }
        }
        let queue = self.granted.get_mut(&key);
        let found = queue.and_then(|q| q.pop_front());
        if self.granted.get(&key).is_some_and(|q| q.is_empty()) {
            self.granted.remove(&key);
        }
        found.or_else(|| self.single_master.clone())
    }

    fn odown(&mut self, time: Time, node: usize, master: String, words: &[&str]) {
        let counts = words
            .iter()
            .position(|w| *w == "#quorum")
            .and_then(|i| words.get(i + 1))
            .and_then(|nq| nq.split_once('/'))
            .and_then(|(n, q)| Some((n.parse::<u32>().ok()?, q.parse::<u32>().ok()?)));
        match counts {
            Some((n, q)) if n >= q && q == self.quorum => {
                self.nodes[node].odown.insert(master, (n, q));
            }
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

    fn record_vote(&mut self, time: Time, node: usize, master: &str, candidate: &str, epoch: u64) {
        let key = (master.to_string(), epoch, node);
        match self.votes.get(&key) {
            Some(previous) if !previous.eq_ignore_ascii_case(candidate) => {
                let detail =
                    format!("{master} epoch {epoch}: voted for {previous}, then for {candidate}");
                self.report(time, Some(node), "double-vote", detail);
            }
            Some(_) => {}
            None => {
                self.votes.insert(key, candidate.to_string());
            }
        }
    }

    /// `voter` wrote a reply to `is-master-down-by-addr` about `master` naming `leader` (not
    /// `*`) as its vote at `epoch`; `disk` is its config file as the reply leaves. The vote must
    /// be durable before anyone learns of it, and it counts as a vote (one per master, epoch).
    pub fn vote_reply(
        &mut self,
        time: Time,
        voter: usize,
        master: &str,
        leader: &str,
        epoch: u64,
        disk: &dyn DiskView,
    ) {
        let on_disk = disk.leader_epoch(master);
        if on_disk < epoch {
            let detail = format!(
                "{master}: replied vote for {leader} in epoch {epoch}, persisted leader-epoch {on_disk}"
            );
            self.report(time, Some(voter), "vote-reply-not-persisted", detail);
        }
        self.record_vote(time, voter, master, leader, epoch);
    }

    /// `node` announced it leads `master`'s failover; `disk` is its config file as the event
    /// leaves. Its vote for itself must be durable by then (its vote requests left before it
    /// was: a candidate that crashes before acting may vote again in that epoch).
    fn elected(&mut self, time: Time, node: usize, master: String, disk: &dyn DiskView) {
        let Some(&epoch) = self.nodes[node].failover_epoch.get(&master) else {
            self.report(
                time,
                Some(node),
                "elected-without-failover",
                format!("{master}: +elected-leader without +try-failover"),
            );
            return;
        };
        let on_disk = disk.leader_epoch(&master);
        if on_disk < epoch {
            let detail =
                format!("{master}: elected in epoch {epoch}, persisted leader-epoch {on_disk}");
            self.report(time, Some(node), "elected-not-persisted", detail);
        }
        let key = (master.clone(), epoch);
        if let Some(&other) = self.leaders.get(&key) {
            if other != node {
                self.report(
                    time,
                    Some(node),
                    "two-leaders",
                    format!("{master} epoch {epoch} already won by s{other}"),
                );
            }
        } else {
            self.leaders.insert(key, node);
        }
        // Like the core: votes for this master at the attempt's epoch count.
        let me = &self.ids[node];
        let voters: BTreeSet<usize> = self
            .votes
            .range((master.clone(), epoch, 0)..=(master.clone(), epoch, usize::MAX))
            .filter(|(_, c)| c.eq_ignore_ascii_case(me))
            .map(|((_, _, voter), _)| *voter)
            .collect();
        let votes = voters.len();
        let needed = majority(self.group).max(self.quorum as usize);
        if votes < needed {
            self.report(
                time,
                Some(node),
                "elected-without-majority",
                format!("{master} epoch {epoch}: {votes} votes cast for it, {needed} needed"),
            );
        }
    }

    /// `node` published `hello`; `disk` is its config file as the hello leaves. Nothing in it
    /// may be ahead of the disk (current epoch, the master's config epoch), and one config
    /// epoch must name one address per master everywhere: that is what makes "the newest
    /// epoch wins" converge.
    pub fn hello(&mut self, time: Time, node: usize, hello: &Hello, disk: &dyn DiskView) {
        let current = disk.current_epoch();
        let config = disk.config_epoch(&hello.master);
        if current < hello.current_epoch || config < hello.config_epoch {
            let detail = format!(
                "hello for {} with current-epoch {} / config-epoch {}, persisted {current} / {config}",
                hello.master, hello.current_epoch, hello.config_epoch
            );
            self.report(time, Some(node), "hello-not-persisted", detail);
        }
        self.advertised(time, node, &hello.master, &hello.addr, hello.config_epoch);
    }

    /// `node` advertised master `master` at `addr` with config epoch `epoch`.
    pub fn advertised(&mut self, time: Time, node: usize, master: &str, addr: &str, epoch: u64) {
        let key = (master.to_string(), epoch);
        match self.configs.get(&key) {
            Some((known, first)) if known != addr => {
                if !self
                    .config_conflicts
                    .insert((master.to_string(), epoch, addr.to_string()))
                {
                    return;
                }
                let detail = format!(
                    "advertises {addr} for {master} config epoch {epoch}, s{first} advertised {known}"
                );
                self.report(time, Some(node), "two-configs-one-epoch", detail);
            }
            Some(_) => {}
            None => {
                self.configs.insert(key, (addr.to_string(), node));
            }
        }
    }

    /// `node` opened a command connection to `host:port`.
    pub fn connect_attempt(&mut self, node: usize, host: &str, port: u16) {
        let o = &mut self.nodes[node];
        if o.switched_addr.is_empty() {
            return;
        }
        let addr = format!("{host}:{port}");
        if let Some(name) = o.switched_addr.get(&addr) {
            if let Some((a, tried)) = o.switched_to.get_mut(name) {
                if *a == addr {
                    *tried = true;
                }
            }
        }
    }

    /// `node` claimed the VIP of `master` for `epoch`.
    pub fn vip_claim(&mut self, time: Time, node: usize, master: &str, epoch: u64) {
        let key = (master.to_string(), epoch);
        match self.vip_claims.get(&key) {
            Some(&other) if other != node => {
                self.report(
                    time,
                    Some(node),
                    "vip-two-claimants",
                    format!("{master} epoch {epoch} already claimed by s{other}"),
                );
            }
            Some(_) => {}
            None => {
                self.vip_claims.insert(key, node);
            }
        }
    }

    /// Number of distinct leaders elected so far (one per master and epoch).
    pub fn elections(&self) -> usize {
        self.leaders.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checker() -> Checker {
        Checker::new(vec!["a".into(), "b".into(), "c".into()], 2, &["m".into()])
    }

    fn rules(c: &Checker) -> Vec<&'static str> {
        c.violations.iter().map(|v| v.rule).collect()
    }

    /// Node 0 ("a") fails `m` over at epoch 1 with its own vote and node 1's, and announces
    /// `+elected-leader` with `disk` as its persisted epochs.
    fn election(c: &mut Checker, disk: &Epochs) {
        c.event(
            1,
            0,
            "+odown",
            "master m 10.0.0.1 6379 #quorum 2/2",
            &Epochs(0),
        );
        c.event(2, 0, "+new-epoch", "1", &Epochs(0));
        c.event(2, 0, "+try-failover", "master m 10.0.0.1 6379", &Epochs(0));
        c.event(2, 0, "+vote-for-leader", "a 1", &Epochs(1));
        c.event(3, 1, "+vote-for-leader", "a 1", &Epochs(1));
        c.event(4, 0, "+elected-leader", "master m 10.0.0.1 6379", disk);
    }

    #[test]
    fn clean_election_passes() {
        let mut c = checker();
        election(&mut c, &Epochs(1));
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        assert_eq!(c.elections(), 1);
    }

    #[test]
    fn a_leader_announced_before_its_own_vote_is_durable_is_caught() {
        let mut c = checker();
        election(&mut c, &Epochs(0));
        assert_eq!(rules(&c), ["elected-not-persisted"]);
    }

    #[test]
    fn double_vote_and_unpersisted_vote_are_caught() {
        let mut c = checker();
        c.event(1, 2, "+vote-for-leader", "a 1", &Epochs(1));
        c.event(2, 2, "+vote-for-leader", "b 1", &Epochs(0));
        assert_eq!(rules(&c), ["vote-not-persisted", "double-vote"]);
    }

    #[test]
    fn vote_replies_and_hellos_must_not_be_ahead_of_the_disk() {
        let mut c = checker();
        c.vote_reply(1, 1, "m", "a", 3, &Epochs(3));
        c.vote_reply(2, 2, "m", "a", 3, &Epochs(2));
        assert_eq!(rules(&c), ["vote-reply-not-persisted"]);
        // A reply is a vote: a later one for another candidate in that epoch is a double vote.
        c.vote_reply(3, 1, "m", "b", 3, &Epochs(3));
        assert_eq!(rules(&c), ["vote-reply-not-persisted", "double-vote"]);
        let mut c = checker();
        let hello = Hello::parse("10.0.0.1,26379,a,4,m,10.0.0.2,6379,3").expect("hello");
        assert_eq!(hello.addr, "10.0.0.2:6379");
        c.hello(4, 0, &hello, &Epochs(4));
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        c.hello(5, 0, &hello, &Epochs(3));
        assert_eq!(rules(&c), ["hello-not-persisted"]);
        assert!(Hello::parse("10.0.0.1,26379,a,4,m,10.0.0.2,6379").is_none());
    }

    #[test]
    fn elections_are_per_master() {
        // Two masters legitimately share epochs (and both start at config epoch 0); the
        // same sentinel runs attempts for both at once.
        let mut c = Checker::new(
            vec!["a".into(), "b".into(), "c".into()],
            2,
            &["m1".into(), "m2".into()],
        );
        c.advertised(1, 0, "m1", "10.0.0.1:7000", 0);
        c.advertised(1, 0, "m2", "10.0.0.2:7001", 0);
        for (master, epoch) in [("m1", 1), ("m2", 2)] {
            c.event(
                2,
                0,
                "+odown",
                &format!("master {master} x 1 #quorum 2/2"),
                &Epochs(0),
            );
            c.event(2, 0, "+new-epoch", &epoch.to_string(), &Epochs(0));
            c.event(
                2,
                0,
                "+try-failover",
                &format!("master {master} x 1"),
                &Epochs(0),
            );
            c.event(
                2,
                0,
                "+vote-for-leader",
                &format!("a {epoch}"),
                &Epochs(epoch),
            );
            c.vote_granted(1, master, "a", epoch);
            c.event(
                3,
                1,
                "+vote-for-leader",
                &format!("a {epoch}"),
                &Epochs(epoch),
            );
        }
        c.event(4, 0, "+elected-leader", "master m1 x 1", &Epochs(2));
        c.event(4, 0, "+elected-leader", "master m2 x 1", &Epochs(2));
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        assert_eq!(c.elections(), 2);
        // s1 votes for b in m2's epoch 2 too: a double vote for m2, not for m1.
        c.vote_granted(1, "m2", "b", 2);
        c.event(5, 1, "+vote-for-leader", "b 2", &Epochs(2));
        assert_eq!(rules(&c), ["double-vote"]);
        assert!(c.violations[0].detail.starts_with("m2 "));
        // A vote nobody asked for, in a group of two masters, cannot be attributed.
        c.event(6, 2, "+vote-for-leader", "b 9", &Epochs(9));
        assert_eq!(rules(&c), ["double-vote", "unattributed-vote"]);
    }

    #[test]
    fn failover_needs_odown_with_quorum() {
        let mut c = checker();
        c.event(
            1,
            0,
            "+odown",
            "master m 10.0.0.1 6379 #quorum 1/2",
            &Epochs(0),
        );
        c.event(2, 0, "+try-failover", "master m 10.0.0.1 6379", &Epochs(0));
        assert_eq!(rules(&c), ["odown-below-quorum", "failover-without-odown"]);
    }

    #[test]
    fn two_leaders_and_minority_win_are_caught() {
        let mut c = checker();
        for node in [0, 1] {
            c.event(
                1,
                node,
                "+odown",
                "master m 10.0.0.1 6379 #quorum 2/2",
                &Epochs(0),
            );
            c.event(1, node, "+new-epoch", "1", &Epochs(0));
            c.event(
                1,
                node,
                "+try-failover",
                "master m 10.0.0.1 6379",
                &Epochs(0),
            );
        }
        c.event(2, 0, "+vote-for-leader", "a 1", &Epochs(1));
        c.event(2, 2, "+vote-for-leader", "a 1", &Epochs(1));
        c.event(
            3,
            0,
            "+elected-leader",
            "master m 10.0.0.1 6379",
            &Epochs(1),
        );
        c.event(3, 1, "+vote-for-leader", "b 1", &Epochs(1));
        c.event(
            4,
            1,
            "+elected-leader",
            "master m 10.0.0.1 6379",
            &Epochs(1),
        );
        assert_eq!(rules(&c), ["two-leaders", "elected-without-majority"]);
    }

    #[test]
    fn new_master_must_be_tried_before_it_is_down() {
        let mut c = checker();
        c.event(
            1,
            0,
            "+switch-master",
            "m 10.0.0.1 6379 10.0.0.2 6379",
            &Epochs(0),
        );
        c.connect_attempt(0, "10.0.0.2", 6379);
        c.event(2, 0, "+sdown", "master m 10.0.0.2 6379", &Epochs(0));
        assert!(c.violations.is_empty());
        c.event(
            3,
            1,
            "+switch-master",
            "m 10.0.0.1 6379 10.0.0.2 6379",
            &Epochs(0),
        );
        c.event(4, 1, "+sdown", "master m 10.0.0.2 6379", &Epochs(0));
        assert_eq!(rules(&c), ["sdown-before-connect"]);
    }

    #[test]
    fn one_epoch_names_one_master() {
        let mut c = checker();
        c.advertised(1, 0, "m", "10.0.0.1:6379", 0);
        c.advertised(2, 1, "m", "10.0.0.1:6379", 0);
        c.advertised(3, 1, "m", "10.0.0.2:6379", 1);
        assert!(c.violations.is_empty());
        c.advertised(4, 2, "m", "10.0.0.3:6379", 1);
        c.advertised(5, 2, "m", "10.0.0.3:6379", 1);
        assert_eq!(rules(&c), ["two-configs-one-epoch"]);
    }

    #[test]
    fn vip_claims_are_unique_per_epoch() {
        let mut c = checker();
        c.vip_claim(1, 0, "m", 1);
        c.vip_claim(2, 0, "m", 1);
        c.vip_claim(3, 1, "m", 2);
        assert!(c.violations.is_empty());
        c.vip_claim(4, 2, "m", 2);
        assert_eq!(rules(&c), ["vip-two-claimants"]);
    }
}
