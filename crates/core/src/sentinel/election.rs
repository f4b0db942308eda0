//! Epochs and leader election: starting a failover attempt, granting votes (one per epoch per
//! master), and counting them.

use super::instance::{FailoverState, Kind};
use super::timers::{
    ping_period, MAX_RANK_STEP, RANK_STEP_SAVES, RECENTLY_HEARD_PINGS, START_JITTER,
    START_RANK_STEP,
};
use super::{Change, Sentinel, Which};
use crate::io::Level;
use crate::quorum::{Outcome, Tally};
use crate::Millis;
use rand::Rng;

impl Sentinel {
    /// Start a failover attempt when the master is ODOWN, none is running, and the retry gap
    /// (2 × failover-timeout) since the last attempt has passed.
    pub(super) fn start_failover_if_needed(&mut self, mi: usize, now: Millis) -> bool {
        let m = &self.masters[mi];
        if !m.inst.flags.o_down || m.inst.flags.failover_in_progress || now < m.failover.start_after
        {
            return false;
        }
        if now.saturating_sub(m.failover.start_time) < m.cfg.failover_timeout_ms * 2 {
            if m.failover.delay_logged != m.failover.start_time {
                let at = m.failover.start_time + m.cfg.failover_timeout_ms * 2;
                self.masters[mi].failover.delay_logged = self.masters[mi].failover.start_time;
                let message = format!(
                    "Next failover delay: I will not start a failover before {at} (ms clock)"
                );
                self.push(crate::io::Action::Log {
                    level: Level::Warning,
                    message,
                });
            }
            return false;
        }
        self.start_failover(mi, now);
        true
    }

    /// Begin a failover: new epoch, `+new-epoch`, `+try-failover`.
    pub(super) fn start_failover(&mut self, mi: usize, now: Millis) {
        self.config.current_epoch += 1;
        let epoch = self.config.current_epoch;
        let desync = self.random_desync();
        let m = &mut self.masters[mi];
        m.failover.state = FailoverState::WaitStart;
        m.inst.flags.failover_in_progress = true;
        m.failover.epoch = epoch;
        m.failover.start_time = now + desync;
        m.failover.state_change_time = now;
        // Persist the epoch before announcing it.
        self.flush(Change::Epoch);
        self.flush(Change::Master(mi));
        self.emit(Level::Warning, "+new-epoch", Some(mi), epoch.to_string());
        self.event(
            Level::Warning,
            "+try-failover",
            Some((mi, Which::Master)),
            "",
        );
        // Warden: the candidate votes for itself at once, at the attempt's epoch (Redis does
        // so at its first vote count, which comes too late when this sentinel starts other
        // failovers in between: each start raises the current epoch).
        let me = self.myid().to_string();
        self.vote_leader(mi, epoch, &me, now);
    }

    /// Warden: how long to wait before starting a failover attempt this sentinel is eligible
    /// for. The sentinels it currently hears from are ranked by [`rank_key`] of their run id
    /// and the master's name: the first waits only a few ms of jitter and each next one
    /// [`START_RANK_STEP`] more, so the first candidate's vote requests arrive before the
    /// others start and the vote is not split. The order differs from master to master, so in
    /// a mass failover each sentinel leads its share rather than one leading them all (and
    /// falling behind with the work). In a fleet large enough to slow the master PINGs down, a
    /// predecessor that has not said the master is down yet costs the extra period
    /// ([`fleet_ping_lag`]). A candidate whose predecessors stay silent (they do not see the
    /// failure) still starts, that much later.
    pub(super) fn start_delay(&mut self, mi: usize, now: Millis) -> Millis {
        let name = &self.masters[mi].cfg.name;
        let mine = rank_key(name, self.myid());
        let down_after = self.masters[mi].inst.down_after;
        let recently = RECENTLY_HEARD_PINGS
            * ping_period(
                Kind::Sentinel,
                down_after,
                self.timers.ping_period,
                self.masters.len(),
            );
        let (mut ahead, mut not_down_yet) = (0, 0);
        for s in self.masters[mi]
            .sentinels
            .iter()
            .filter(|s| !s.flags.s_down)
        {
            let ranked_first = s
                .runid
                .as_deref()
                .is_some_and(|id| rank_key(name, id) < mine);
            let heard = self.links.get(s.link).is_some_and(|l| {
                !l.disconnected() && now.saturating_sub(l.last_avail_time) <= recently
            });
            if ranked_first && heard {
                ahead += 1;
                not_down_yet += Millis::from(!s.flags.master_down);
            }
        }
        // The first candidate's vote requests leave at once; the step grows with the saves as
        // they take now, a measure of how busy the host is (a large fleet, a busy disk), so the
        // next candidate waits longer where the first one's requests are slower to arrive.
        let step =
            (self.commit.save_latency() * RANK_STEP_SAVES).clamp(START_RANK_STEP, MAX_RANK_STEP);
        // A candidate ranked first that has not said the master is down yet may see the failure
        // later than we did by the phase difference of our PINGs; the step covers the usual
        // period (a tenth of down-after), not the slower one a large fleet pings at: wait the
        // difference longer for it, or both would start and split the vote.
        let lag = fleet_ping_lag(down_after, self.timers.ping_period, self.masters.len());
        ahead * step + not_down_yet * lag + self.rng.gen_range(0..START_JITTER)
    }

    /// Raise the current epoch to `epoch` if it is newer (persisting first).
    pub(super) fn adopt_epoch(&mut self, epoch: u64, master: Option<usize>) {
        if epoch > self.config.current_epoch {
            self.config.current_epoch = epoch;
            self.flush(Change::Epoch);
            self.emit(Level::Warning, "+new-epoch", master, epoch.to_string());
        }
    }

    /// Grant (or not) our vote for `req_epoch` to `req_runid`; returns our vote and its epoch.
    ///
    /// One vote per master and epoch: granted when the master's last vote and its
    /// configuration are older than `req_epoch`. Warden deviates from Redis Sentinel, which
    /// also refuses any `req_epoch` below its global current epoch: elections of different
    /// masters are independent (each has its own vote and config epoch), and with the global
    /// rule every failover this sentinel starts or votes for would void the elections of all
    /// other masters still in flight — the collapse of a mass failover.
    pub(super) fn vote_leader(
        &mut self,
        mi: usize,
        req_epoch: u64,
        req_runid: &str,
        now: Millis,
    ) -> (Option<String>, u64) {
        self.adopt_epoch(req_epoch, Some(mi));
        let cfg = &self.masters[mi].cfg;
        if cfg.leader_epoch < req_epoch && cfg.config_epoch < req_epoch {
            let cfg = &mut self.masters[mi].cfg;
            cfg.leader = Some(req_runid.to_string());
            cfg.leader_epoch = req_epoch;
            // Persist the vote before anyone can learn of it.
            self.flush(Change::Master(mi));
            self.emit(
                Level::Warning,
                "+vote-for-leader",
                Some(mi),
                format!("{req_runid} {req_epoch}"),
            );
            if !req_runid.eq_ignore_ascii_case(self.myid()) {
                let desync = self.random_desync();
                self.masters[mi].failover.start_time = now + desync;
            }
        }
        let cfg = &self.masters[mi].cfg;
        (cfg.leader.clone(), cfg.leader_epoch)
    }

    /// A peer's vote request for master `mi` (`is-master-down-by-addr` with its run id).
    /// Warden deviates from Redis Sentinel, which grants it whatever it sees of the master: it
    /// adopts the epoch but refuses the vote while the master answers it
    /// ([`Sentinel::master_answers`]). A peer that counted "down" answers from before a
    /// switch (Redis keeps them 5 s) can otherwise fail a freshly promoted, healthy master over
    /// again with our help, and lose what it acknowledged meanwhile.
    pub(super) fn vote_for_peer(
        &mut self,
        mi: usize,
        req_epoch: u64,
        req_runid: &str,
        now: Millis,
    ) -> (Option<String>, u64) {
        if !self.master_answers(mi, now) {
            return self.vote_leader(mi, req_epoch, req_runid, now);
        }
        self.adopt_epoch(req_epoch, Some(mi));
        let cfg = &self.masters[mi].cfg;
        if cfg.leader_epoch < req_epoch {
            let message = format!(
                "No vote for {req_runid} at epoch {req_epoch}: master {} answers",
                cfg.name
            );
            self.push(crate::io::Action::Log {
                level: Level::Notice,
                message,
            });
        }
        let cfg = &self.masters[mi].cfg;
        (cfg.leader.clone(), cfg.leader_epoch)
    }

    /// Where the election of the attempt at `epoch` stands (Redis's `sentinelGetLeader`, plus
    /// Warden's early verdict on a split vote). Our own vote goes first: to the candidate with
    /// the most votes reported for `epoch`, else to ourselves. Warden counts the votes given
    /// at `epoch` itself — its vote requests carry it — where Redis counts those at its
    /// current epoch: a sentinel leading several failovers at once raises its current epoch
    /// with each start, and its earlier elections would otherwise wait for the next round of
    /// questions. One vote per master and epoch, counted at one epoch: at most one leader per
    /// master and epoch. The undecided voters are the peers that reported no vote at `epoch`
    /// and are reachable (connected, not SDOWN).
    pub(super) fn election(&mut self, mi: usize, epoch: u64, now: Millis) -> Outcome<String> {
        let m = &self.masters[mi];
        let mut tally = Tally::default();
        let mut undecided = 0;
        for s in &m.sentinels {
            match s.leader.as_deref().filter(|_| s.leader_epoch == epoch) {
                Some(leader) => {
                    tally.add(leader);
                }
                None => {
                    let reachable = !s.flags.s_down
                        && self.links.get(s.link).is_some_and(|l| !l.disconnected());
                    undecided += usize::from(reachable);
                }
            }
        }
        let candidate = tally
            .leader()
            .map(|(c, _)| c.to_string())
            .unwrap_or_else(|| self.myid().to_string());
        let (my_vote, my_epoch) = self.vote_leader(mi, epoch, &candidate, now);
        if let Some(vote) = my_vote.filter(|_| my_epoch == epoch) {
            tally.add(&vote);
        }
        let voters = self.masters[mi].sentinels.len() + 1;
        tally
            .outcome(undecided, voters, self.masters[mi].cfg.quorum)
            .to_owned()
    }
}

/// Where the sentinel with `runid` ranks among the candidates to fail `master` over (lower
/// first; see [`Sentinel::start_delay`]): the SHA-256 of the master's name and the run id
/// (case-folded, as run ids compare), the same in every Warden.
pub(super) fn rank_key(master: &str, runid: &str) -> String {
    let mut text = Vec::with_capacity(master.len() + runid.len() + 1);
    text.extend_from_slice(master.as_bytes());
    text.push(0);
    text.extend_from_slice(runid.to_ascii_lowercase().as_bytes());
    crate::config::sha256_hex(&text)
}

/// How much later than usual a fleet's master PINGs may let a peer see a failure: the master
/// PING period at `masters` masters beyond the one of a single master (0 below the fleet size
/// where the PING budget slows them down; 200 ms at 300 masters and down-after 1 s).
pub(super) fn fleet_ping_lag(down_after: Millis, tunable: Millis, masters: usize) -> Millis {
    ping_period(Kind::Master, down_after, tunable, masters).saturating_sub(ping_period(
        Kind::Master,
        down_after,
        tunable,
        1,
    ))
}
