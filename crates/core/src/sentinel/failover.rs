//! The failover state machine run by the elected leader, replica selection, and the switch of
//! the configuration to the promoted replica.

use super::instance::{Addr, FailoverState, Instance};
use super::timers::{FAST_INFO_PERIOD, FRESH_INFO_WAIT, SPLIT_RETRY_BACKOFF};
use super::{Change, Sentinel, Which, SIMFAILURE_CRASH_AFTER_ELECTION};
use crate::io::{Action, Level};
use crate::quorum::Outcome;
use crate::Millis;
use std::cmp::Ordering;

impl Sentinel {
    /// Advance the failover of master `mi` by one step.
    ///
    /// Nothing moves during TILT (the timer that measures every step cannot be trusted): a
    /// failover started then, by `SENTINEL FAILOVER`, waits in its current state until TILT
    /// ends, as in Redis Sentinel, whose timer skips the acting half in TILT.
    pub(super) fn failover_step(&mut self, mi: usize, now: Millis) {
        if self.tilt || !self.masters[mi].inst.flags.failover_in_progress {
            return;
        }
        match self.masters[mi].failover.state {
            FailoverState::WaitStart => self.failover_wait_start(mi, now),
            FailoverState::SelectSlave => self.failover_select_slave(mi, now),
            FailoverState::SendSlaveofNoone => self.failover_send_slaveof_noone(mi, now),
            FailoverState::WaitPromotion => self.failover_wait_promotion(mi, now),
            FailoverState::ReconfSlaves => self.failover_reconf_next_slave(mi, now),
            FailoverState::None | FailoverState::UpdateConfig => {}
        }
    }

    fn set_state(&mut self, mi: usize, state: FailoverState, now: Millis) {
        let m = &mut self.masters[mi];
        m.failover.state = state;
        m.failover.state_change_time = now;
        if state == FailoverState::UpdateConfig {
            self.switch_due.push(mi);
        }
    }

    /// Switch the masters whose failover ended to their promoted replica: at the end of the
    /// call into the core that ended it, when no caller holds an index into their replicas
    /// (Redis switches at its next timer run, up to 100 ms later).
    pub(super) fn switch_due_masters(&mut self, now: Millis) {
        while let Some(mi) = self.switch_due.pop() {
            if self.masters[mi].failover.state == FailoverState::UpdateConfig {
                self.switch_to_promoted(mi, now);
            }
        }
    }

    fn failover_wait_start(&mut self, mi: usize, now: Millis) {
        let epoch = self.masters[mi].failover.epoch;
        let outcome = self.election(mi, epoch, now);
        let is_leader =
            matches!(&outcome, Outcome::Won(leader) if leader.eq_ignore_ascii_case(self.myid()));
        let m = &self.masters[mi];
        if !is_leader && !m.inst.flags.force_failover {
            let election_timeout = self.timers.election_timeout.min(m.cfg.failover_timeout_ms);
            // Won by another: wait for its switch (or the election timeout), as Redis does.
            let lost = outcome == Outcome::Lost;
            if lost || now.saturating_sub(m.failover.start_time) > election_timeout {
                self.event(
                    Level::Warning,
                    "-failover-abort-not-elected",
                    Some((mi, Which::Master)),
                    "",
                );
                self.abort_failover(mi, now);
                if lost {
                    // Warden: a split vote is retried after a short back-off in a new epoch
                    // (like Raft), not after 2 × failover-timeout, the candidates staggered as
                    // at the first start. The first to retry gets the others' votes.
                    let backoff = SPLIT_RETRY_BACKOFF + self.start_delay(mi, now);
                    let gap = self.masters[mi].cfg.failover_timeout_ms * 2;
                    self.masters[mi].failover.start_time = (now + backoff).saturating_sub(gap);
                    self.wake_master_at(now + backoff, mi);
                }
            }
            return;
        }
        self.event(
            Level::Warning,
            "+elected-leader",
            Some((mi, Which::Master)),
            "",
        );
        if self.simfailure & SIMFAILURE_CRASH_AFTER_ELECTION != 0 {
            self.push(Action::Exit { code: 99 });
        }
        self.set_state(mi, FailoverState::SelectSlave, now);
        self.event(
            Level::Warning,
            "+failover-state-select-slave",
            Some((mi, Which::Master)),
            "",
        );
        // Warden: go on at once instead of waiting for the next timer run.
        self.failover_select_slave(mi, now);
    }

    fn failover_select_slave(&mut self, mi: usize, now: Millis) {
        let Some(ri) = self.select_replica(mi, now) else {
            // Warden elects faster than replicas' INFO is refreshed: when the only thing missing
            // is a fresh INFO, ask for it and try again shortly instead of aborting (and waiting
            // 2 × failover-timeout for the next attempt).
            let stale = self.replica_candidates(mi, now, true);
            let waited = now.saturating_sub(self.masters[mi].failover.state_change_time);
            if !stale.is_empty() && waited < FRESH_INFO_WAIT {
                for ri in stale {
                    if now.saturating_sub(self.masters[mi].replicas[ri].info_refresh)
                        > FAST_INFO_PERIOD / 2
                    {
                        self.send_info(mi, Which::Replica(ri));
                    }
                }
                return;
            }
            self.event(
                Level::Warning,
                "-failover-abort-no-good-slave",
                Some((mi, Which::Master)),
                "",
            );
            self.abort_failover(mi, now);
            return;
        };
        self.event(
            Level::Warning,
            "+selected-slave",
            Some((mi, Which::Replica(ri))),
            "",
        );
        self.masters[mi].replicas[ri].flags.promoted = true;
        self.masters[mi].failover.promoted = Some(ri);
        self.set_state(mi, FailoverState::SendSlaveofNoone, now);
        self.event(
            Level::Notice,
            "+failover-state-send-slaveof-noone",
            Some((mi, Which::Replica(ri))),
            "",
        );
        self.failover_send_slaveof_noone(mi, now);
    }

    fn failover_send_slaveof_noone(&mut self, mi: usize, now: Millis) {
        let Some(ri) = self.masters[mi].failover.promoted else {
            return;
        };
        let m = &self.masters[mi];
        let disconnected = self
            .links
            .get(m.replicas[ri].link)
            .is_none_or(|l| l.disconnected());
        if disconnected {
            if now.saturating_sub(m.failover.state_change_time) > m.cfg.failover_timeout_ms {
                self.event(
                    Level::Warning,
                    "-failover-abort-slave-timeout",
                    Some((mi, Which::Master)),
                    "",
                );
                self.abort_failover(mi, now);
            }
            return;
        }
        let sent = if self.masters[mi].failover.coordinated {
            self.send_handover(mi, ri)
        } else {
            self.send_slaveof(mi, Which::Replica(ri), None)
        };
        if !sent {
            return;
        }
        self.event(
            Level::Notice,
            "+failover-state-wait-promotion",
            Some((mi, Which::Replica(ri))),
            "",
        );
        self.set_state(mi, FailoverState::WaitPromotion, now);
    }

    fn failover_wait_promotion(&mut self, mi: usize, now: Millis) {
        let m = &self.masters[mi];
        if now.saturating_sub(m.failover.state_change_time) > m.cfg.failover_timeout_ms {
            self.event(
                Level::Warning,
                "-failover-abort-slave-timeout",
                Some((mi, Which::Master)),
                "",
            );
            self.abort_failover(mi, now);
        }
    }

    /// Coordinated switchover: ask the (healthy) master to hand over to replica `ri` with
    /// Redis's `FAILOVER TO <host> <port> TIMEOUT <ms>`: it pauses writes, waits until the
    /// replica has every acknowledged write, then swaps roles with it.
    fn send_handover(&mut self, mi: usize, ri: usize) -> bool {
        let m = &self.masters[mi];
        let to = &m.replicas[ri].addr;
        let (host, port) = (to.ip.clone(), to.port.to_string());
        let timeout = m
            .cfg
            .failover_timeout_ms
            .min(self.timers.election_timeout)
            .to_string();
        let words = self.words(mi, &["FAILOVER", "TO", &host, &port, "TIMEOUT", &timeout]);
        let expect = super::links::Expect::Handover(m.cfg.name.clone());
        let sent = self.send(
            mi,
            Which::Master,
            crate::io::LinkKind::Cmd,
            vec![(words, expect)],
        );
        if sent {
            self.send_info(mi, Which::Replica(ri));
        }
        sent
    }

    /// The old master answered `FAILOVER TO`: an error aborts the switchover (nothing was
    /// changed on the Redis side, so no write is lost).
    pub(super) fn on_handover_reply(
        &mut self,
        master: &str,
        reply: &crate::reply::Reply,
        now: Millis,
    ) {
        let Some(mi) = self.master_index(master) else {
            return;
        };
        if let crate::reply::Reply::Error(e) = reply {
            if self.masters[mi].failover.coordinated
                && self.masters[mi].failover.state == FailoverState::WaitPromotion
            {
                let e = e.clone();
                self.event(
                    Level::Warning,
                    "-failover-abort-handover",
                    Some((mi, Which::Master)),
                    &e,
                );
                self.abort_failover(mi, now);
            }
        }
    }

    /// Warden: whether a `SENTINEL FAILOVER` of `mi` now joins the failover this sentinel
    /// followed within the last two hello periods (it switched to a peer's promoted replica)
    /// instead of starting another. A Redis Sentinel asked at that moment has not heard of the
    /// peer's failover yet (it learns of it from the peer's next hello, after the peer's
    /// slower failover ended): it starts its own at the same epoch, promotes the same replica
    /// and answers `+OK` — what `redis-py`'s `sentinel_failover()`, asking every sentinel in
    /// turn, expects. A Warden follows within milliseconds, so asked the same way it would
    /// answer `-NOGOODSLAVE` (the new master's replicas have no INFO yet) or, once they have,
    /// move the master a second time.
    ///
    /// The same holds a little earlier: when a peer's `SENTINEL FAILOVER` of this master asked
    /// for our vote within that window (at an epoch not older than ours) and its switch has not
    /// reached us yet.
    pub(super) fn joins_followed_failover(&mut self, mi: usize, now: Millis) -> bool {
        let m = &self.masters[mi];
        let window = self.timers.publish_period * 2;
        let since = now.saturating_sub(m.failover.followed_switch_time);
        let message = if m.failover.followed_switch_time != 0 && since <= window {
            format!(
                "User requested FAILOVER of '{}': joining the failover to {}:{} (epoch {}) followed {since} ms ago",
                m.cfg.name, m.inst.addr.hostname, m.inst.addr.port, m.cfg.config_epoch
            )
        } else {
            match &m.failover.peer_request {
                Some((runid, epoch, at))
                    if now.saturating_sub(*at) <= window && *epoch >= self.config.current_epoch =>
                {
                    format!(
                        "User requested FAILOVER of '{}': joining the failover sentinel {runid} started at epoch {epoch}, {} ms ago",
                        m.cfg.name,
                        now.saturating_sub(*at)
                    )
                }
                _ => return false,
            }
        };
        self.push(Action::Log {
            level: Level::Warning,
            message,
        });
        true
    }

    /// Whether the failover of `mi` already promoted its replica (past the point of no return).
    pub(super) fn failover_promoted(&self, mi: usize) -> bool {
        matches!(
            self.masters[mi].failover.state,
            FailoverState::ReconfSlaves | FailoverState::UpdateConfig
        )
    }

    /// Abort a failover that has not yet promoted anything.
    pub(super) fn abort_failover(&mut self, mi: usize, now: Millis) {
        let m = &mut self.masters[mi];
        m.inst.flags.failover_in_progress = false;
        m.inst.flags.force_failover = false;
        m.failover.coordinated = false;
        m.failover.state = FailoverState::None;
        m.failover.state_change_time = now;
        if let Some(ri) = m.failover.promoted.take() {
            if let Some(r) = m.replicas.get_mut(ri) {
                r.flags.promoted = false;
            }
        }
    }

    /// Choose the replica to promote, or `None` (Redis's `sentinelSelectSlave`).
    pub(super) fn select_replica(&self, mi: usize, now: Millis) -> Option<usize> {
        self.replica_candidates(mi, now, false).first().copied()
    }

    /// Replicas eligible for promotion, best first; `ignore_info_age` drops the INFO freshness
    /// rule (to tell "no good replica" from "no fresh INFO yet").
    fn replica_candidates(&self, mi: usize, now: Millis, ignore_info_age: bool) -> Vec<usize> {
        let m = &self.masters[mi];
        let mut max_master_down = m.cfg.down_after_ms.saturating_mul(10);
        if m.inst.flags.s_down {
            max_master_down += now.saturating_sub(m.inst.s_down_since);
        }
        let info_validity = if m.inst.flags.s_down {
            self.timers.ping_period * 5
        } else {
            self.timers.info_period * 3
        };
        let mut candidates: Vec<usize> = (0..m.replicas.len())
            .filter(|&i| {
                let r = &m.replicas[i];
                let Some(link) = self.links.get(r.link) else {
                    return false;
                };
                !r.flags.s_down
                    && !r.flags.o_down
                    && !link.disconnected()
                    && now.saturating_sub(link.last_avail_time) <= self.timers.ping_period * 5
                    && r.slave_priority != 0
                    && (ignore_info_age || now.saturating_sub(r.info_refresh) <= info_validity)
                    && r.master_link_down_time <= max_master_down
            })
            .collect();
        candidates.sort_by(|&a, &b| compare_for_promotion(&m.replicas[a], &m.replicas[b]));
        candidates
    }

    /// Re-point the remaining replicas, `parallel-syncs` at a time.
    fn failover_reconf_next_slave(&mut self, mi: usize, now: Millis) {
        let parallel = self.masters[mi].cfg.parallel_syncs.max(0) as usize;
        let mut in_progress = self.masters[mi]
            .replicas
            .iter()
            .filter(|r| r.flags.reconf_sent || r.flags.reconf_inprog)
            .count();
        let Some(promoted_addr) = self.masters[mi].promoted_replica().map(|p| p.addr.clone())
        else {
            return;
        };
        for ri in 0..self.masters[mi].replicas.len() {
            if in_progress >= parallel {
                break;
            }
            let r = &self.masters[mi].replicas[ri];
            if r.flags.promoted || r.flags.reconf_done {
                continue;
            }
            if r.flags.reconf_sent
                && now.saturating_sub(r.slave_reconf_sent_time) > self.timers.slave_reconf_timeout
            {
                self.event(
                    Level::Notice,
                    "-slave-reconf-sent-timeout",
                    Some((mi, Which::Replica(ri))),
                    "",
                );
                let flags = &mut self.masters[mi].replicas[ri].flags;
                flags.reconf_sent = false;
                flags.reconf_done = true;
            }
            let r = &self.masters[mi].replicas[ri];
            if r.flags.reconf_sent || r.flags.reconf_inprog || r.flags.reconf_done {
                continue;
            }
            if self.links.get(r.link).is_none_or(|l| l.disconnected()) {
                continue;
            }
            if self.send_slaveof(mi, Which::Replica(ri), Some(&promoted_addr)) {
                let r = &mut self.masters[mi].replicas[ri];
                r.flags.reconf_sent = true;
                r.slave_reconf_sent_time = now;
                self.event(
                    Level::Notice,
                    "+slave-reconf-sent",
                    Some((mi, Which::Replica(ri))),
                    "",
                );
                // Warden: look at the replica's progress right away.
                self.send_info(mi, Which::Replica(ri));
                in_progress += 1;
            }
        }
        self.failover_detect_end(mi, now);
    }

    fn failover_detect_end(&mut self, mi: usize, now: Millis) {
        let m = &self.masters[mi];
        let Some(promoted) = m.promoted_replica() else {
            return;
        };
        if promoted.flags.s_down {
            return;
        }
        let mut not_reconfigured = m
            .replicas
            .iter()
            .filter(|r| !(r.flags.promoted || r.flags.reconf_done || r.flags.s_down))
            .count();
        let timeout = now.saturating_sub(m.failover.state_change_time) > m.cfg.failover_timeout_ms;
        if timeout {
            not_reconfigured = 0;
            self.event(
                Level::Warning,
                "+failover-end-for-timeout",
                Some((mi, Which::Master)),
                "",
            );
        }
        if not_reconfigured == 0 {
            if self.masters[mi].inst.flags.o_down {
                // The peers that switched answer "not down" for the old address, so Redis
                // Sentinel sees the quorum lapse during the reconfiguration and publishes
                // `-odown` before `+failover-end`; Warden gets here before their answers do.
                let inst = &mut self.masters[mi].inst;
                inst.flags.o_down = false;
                inst.o_down_since = 0;
                self.event(Level::Warning, "-odown", Some((mi, Which::Master)), "");
            }
            self.event(
                Level::Warning,
                "+failover-end",
                Some((mi, Which::Master)),
                "",
            );
            self.set_state(mi, FailoverState::UpdateConfig, now);
        }
        if timeout {
            let promoted_addr = self.masters[mi]
                .promoted_replica()
                .map(|p| p.addr.clone())
                .expect("checked");
            for ri in 0..self.masters[mi].replicas.len() {
                let r = &self.masters[mi].replicas[ri];
                if r.flags.promoted || r.flags.reconf_done || r.flags.reconf_sent {
                    continue;
                }
                if self.send_slaveof(mi, Which::Replica(ri), Some(&promoted_addr)) {
                    self.event(
                        Level::Notice,
                        "+slave-reconf-sent-be",
                        Some((mi, Which::Replica(ri))),
                        "",
                    );
                    self.masters[mi].replicas[ri].flags.reconf_sent = true;
                }
            }
        }
    }

    /// End of a failover at the leader: announce and adopt the promoted replica's address.
    pub(super) fn switch_to_promoted(&mut self, mi: usize, now: Millis) {
        let m = &self.masters[mi];
        let new = m
            .promoted_replica()
            .map_or_else(|| m.inst.addr.clone(), |p| p.addr.clone());
        let old = m.inst.addr.clone();
        self.announce_switch(mi, &old, &new);
        self.reset_master_and_change_address(mi, new, now);
    }

    /// `+switch-master <name> <old ip> <old port> <new ip> <new port>`.
    pub(super) fn announce_switch(&mut self, mi: usize, old: &Addr, new: &Addr) {
        let h = self.config.announce_hostnames;
        let message = format!(
            "{} {} {} {} {}",
            self.masters[mi].cfg.name,
            old.announced(h),
            old.port,
            new.announced(h),
            new.port
        );
        self.emit(Level::Warning, "+switch-master", Some(mi), message);
    }

    /// Point master `mi` at `new`: replicas become the old replicas (minus `new`) plus the old
    /// master; sentinels are kept; failover state is cleared; the config is flushed.
    pub(super) fn reset_master_and_change_address(&mut self, mi: usize, new: Addr, now: Millis) {
        let m = &self.masters[mi];
        let mut replica_addrs: Vec<Addr> = m
            .replicas
            .iter()
            .filter(|r| !r.addr.same_as(&new))
            .map(|r| r.addr.clone())
            .collect();
        if !new.same_as(&m.inst.addr) {
            replica_addrs.push(m.inst.addr.clone());
        }
        self.reset_master(mi, false, now);
        self.unindex_addr(mi);
        let m = &mut self.masters[mi];
        m.inst.addr = new;
        self.index_addr(mi);
        let m = &mut self.masters[mi];
        m.inst.o_down_since = 0;
        m.inst.s_down_since = 0;
        for addr in replica_addrs {
            if let Some(ri) = self.add_replica(mi, &addr.hostname, addr.port, now) {
                self.event(Level::Notice, "+slave", Some((mi, Which::Replica(ri))), "");
            }
        }
        self.vip_sync_master(mi, now);
        self.flush(Change::Master(mi));
    }

    /// Forget replicas (and sentinels unless `keep_sentinels`... see callers), close the master's
    /// connections and clear all failover state (Redis's `sentinelResetMaster`).
    pub(super) fn reset_master(&mut self, mi: usize, drop_sentinels: bool, now: Millis) {
        let replicas = std::mem::take(&mut self.masters[mi].replicas);
        for r in replicas {
            self.release_link(r.link);
        }
        if drop_sentinels {
            let sentinels = std::mem::take(&mut self.masters[mi].sentinels);
            for s in sentinels {
                if let Some(runid) = &s.runid {
                    self.vip.forget_peer(&self.masters[mi].cfg.name, runid);
                }
                self.release_link(s.link);
            }
            self.vip_peers_changed(mi);
        } else {
            // Warden: the peers' answers (down, and their votes) were about the old address;
            // Redis keeps them up to 5 s, so a sentinel that sees the new master SDOWN a
            // moment after the switch (a stall, a slow reconnection) finds it ODOWN at once.
            for s in &mut self.masters[mi].sentinels {
                s.forget_master_down_answer();
            }
        }
        let key = self.masters[mi].inst.link;
        self.close_links(vec![key]);
        if let Some(link) = self.links.get_mut(key) {
            // Warden: connect to the (new) address on the next timer run, not up to one
            // reconnect period later (the old address may just have been retried).
            link.last_reconn_time = 0;
            link.act_ping_time = now;
            link.last_ping_time = 0;
            link.last_avail_time = now;
            link.last_pong_time = now;
        }
        let down_after = self.masters[mi].inst.down_after;
        self.wake_master_at(now + down_after + 1, mi);
        let m = &mut self.masters[mi];
        m.inst.flags = Default::default();
        m.cfg.leader = None;
        m.failover.state = FailoverState::None;
        m.failover.state_change_time = 0;
        m.failover.start_time = 0;
        m.failover.promoted = None;
        m.failover.coordinated = false;
        m.inst.runid = None;
        m.inst.slave_master_host = None;
        m.inst.role_reported_time = now;
        m.inst.role_reported = super::instance::Role::Master;
        m.inst.info_refresh = 0;
    }

    /// Queue the client-reconfig script: `<master> <leader|observer> start <from> <to>`.
    pub(super) fn client_reconfig_script(&mut self, mi: usize, role: &str, from: &Addr, to: &Addr) {
        let m = &self.masters[mi];
        let Some(script) = m.cfg.client_reconfig_script.clone() else {
            return;
        };
        let h = self.config.announce_hostnames;
        let argv = vec![
            script,
            m.cfg.name.clone(),
            role.to_string(),
            "start".to_string(),
            from.announced(h).to_string(),
            from.port.to_string(),
            to.announced(h).to_string(),
            to.port.to_string(),
        ];
        self.scripts.schedule(argv);
    }
}

/// Promotion order: lower priority, then larger offset, then smaller run id (unknown last).
fn compare_for_promotion(a: &Instance, b: &Instance) -> Ordering {
    a.slave_priority
        .cmp(&b.slave_priority)
        .then(b.slave_repl_offset.cmp(&a.slave_repl_offset))
        .then_with(|| match (&a.runid, &b.runid) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()),
        })
}
