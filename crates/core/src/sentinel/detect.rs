//! Failure detection: subjective down for every instance, objective down for masters (asking
//! the other sentinels), and TILT mode when the timer itself cannot be trusted.

use super::instance::{Kind, Role};
use super::links::Expect;
use super::timers::{ASK_AGAIN_GAP, MAX_PENDING_COMMANDS};
use super::{Sentinel, Which};
use crate::io::{Level, LinkKind};
use crate::quorum;
use crate::reply::Reply;
use crate::Millis;

/// When [`Sentinel::ask_peers`] asks a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ask {
    /// When its ask period has passed since our last question and its last answer.
    WhenDue,
    /// Now: the master just became SDOWN, or a failover attempt needs votes.
    Now,
    /// Now unless asked within [`ASK_AGAIN_GAP`]: a peer's question told us it sees the
    /// master down, so its answer can complete our ODOWN (Warden).
    Again,
    /// Now, even though the master is up: a `SENTINEL FAILOVER` started our failover, and the
    /// vote request tells the peers so (Warden).
    Forced,
}

impl Sentinel {
    /// Enter TILT when two timer runs are too far apart or the clock went backwards.
    pub(super) fn check_tilt(&mut self, now: Millis) {
        let backwards = now < self.previous_time;
        let delta = now.saturating_sub(self.previous_time);
        if backwards || delta > self.timers.tilt_trigger {
            self.tilt = true;
            self.tilt_start_time = now;
            self.emit(Level::Warning, "+tilt", None, "#tilt mode entered".into());
            // The clock (or the process) cannot be trusted: a lease measured with it neither.
            let releases = self.vip.release_all();
            self.push_all(releases);
        }
        self.previous_time = now;
    }

    /// SDOWN evaluation plus link recycling (Redis's `sentinelCheckSubjectivelyDown`).
    pub(super) fn check_sdown(&mut self, mi: usize, which: Which, now: Millis) {
        let inst = self.inst(mi, which);
        let Some(link) = self.links.get(inst.link) else {
            return;
        };
        let elapsed = if link.act_ping_time != 0 {
            now.saturating_sub(link.act_ping_time)
        } else if link.disconnected() {
            now.saturating_sub(link.last_avail_time)
        } else {
            0
        };
        let half = inst.down_after / 2;
        let recycle_cmd = link.cmd.as_ref().map(|c| c.id).filter(|_| {
            now.saturating_sub(link.cc_conn_time) > self.timers.min_link_reconnect_period
                && link.act_ping_time != 0
                && now.saturating_sub(link.act_ping_time) > half
                && now.saturating_sub(link.last_pong_time) > half
        });
        let recycle_pubsub = link.pubsub.as_ref().map(|c| c.id).filter(|_| {
            now.saturating_sub(link.pc_conn_time) > self.timers.min_link_reconnect_period
                && now.saturating_sub(link.pc_last_activity) > self.timers.publish_period * 3
        });
        for id in recycle_cmd.into_iter().chain(recycle_pubsub) {
            self.close_conn(id);
        }
        let inst = self.inst(mi, which);
        let reboot_period = self.masters[mi].cfg.master_reboot_down_after_period_ms;
        let down = elapsed > inst.down_after
            || (inst.kind == Kind::Master
                && inst.role_reported == Role::Slave
                && now.saturating_sub(inst.role_reported_time)
                    > inst.down_after + self.timers.info_period * 2)
            || (inst.flags.master_reboot
                && now.saturating_sub(inst.master_reboot_since) > reboot_period);
        if down && !inst.flags.s_down {
            let inst = self.inst_mut(mi, which);
            inst.flags.s_down = true;
            inst.s_down_since = now;
            self.event(Level::Warning, "+sdown", Some((mi, which)), "");
            if which == Which::Master {
                // Warden: ask the peers now rather than at the next ask period, and refresh
                // the replicas' INFO so a failover can select one without waiting.
                self.ask_peers(mi, Ask::Now, now);
                for ri in 0..self.masters[mi].replicas.len() {
                    self.send_info(mi, Which::Replica(ri));
                }
            }
        } else if !down && inst.flags.s_down {
            let inst = self.inst_mut(mi, which);
            inst.flags.s_down = false;
            inst.flags.script_kill_sent = false;
            inst.s_down_since = 0;
            self.event(Level::Warning, "-sdown", Some((mi, which)), "");
        }
    }

    /// Warden: whether master `mi` answers us: not SDOWN, its command connection up, and its
    /// last valid PING reply and its oldest unanswered PING both within half of down-after
    /// (Redis's threshold for a suspect link). Right after a switch it counts as answering
    /// for that half, the time a reconnection and its first PING take.
    pub(super) fn master_answers(&self, mi: usize, now: Millis) -> bool {
        let m = &self.masters[mi];
        let Some(link) = self.links.get(m.inst.link) else {
            return false;
        };
        let half = m.inst.down_after / 2;
        !m.inst.flags.s_down
            && !link.disconnected()
            && now.saturating_sub(link.last_avail_time) <= half
            && (link.act_ping_time == 0 || now.saturating_sub(link.act_ping_time) <= half)
    }

    /// ODOWN: self plus peers that recently said "down" reach the quorum.
    pub(super) fn check_odown(&mut self, mi: usize, now: Millis) {
        let m = &self.masters[mi];
        let mut agreeing = 0;
        let mut odown = false;
        if m.inst.flags.s_down {
            agreeing = 1 + m.sentinels.iter().filter(|s| s.flags.master_down).count();
            odown = quorum::reaches_odown(agreeing, m.cfg.quorum);
        }
        if odown && !m.inst.flags.o_down {
            let q = m.cfg.quorum;
            let start = now + self.start_delay(mi, now);
            self.masters[mi].failover.start_after = start;
            self.wake_master_at(start, mi);
            let inst = &mut self.masters[mi].inst;
            inst.flags.o_down = true;
            inst.o_down_since = now;
            self.event(
                Level::Warning,
                "+odown",
                Some((mi, Which::Master)),
                &format!("#quorum {agreeing}/{q}"),
            );
        } else if !odown && m.inst.flags.o_down {
            let inst = &mut self.masters[mi].inst;
            inst.flags.o_down = false;
            inst.o_down_since = 0;
            self.event(Level::Warning, "-odown", Some((mi, Which::Master)), "");
        }
    }

    /// Ask the other sentinels whether they see the master down (and, during our failover,
    /// for their vote). Also expires stale answers.
    pub(super) fn ask_peers(&mut self, mi: usize, when: Ask, now: Millis) {
        let stale_after = self.timers.ask_period * 5;
        for si in 0..self.masters[mi].sentinels.len() {
            let s = &mut self.masters[mi].sentinels[si];
            let elapsed = now.saturating_sub(s.last_master_down_reply_time);
            if elapsed > stale_after {
                s.forget_master_down_answer();
            }
            let m = &self.masters[mi];
            if !m.inst.flags.s_down && when != Ask::Forced {
                continue;
            }
            let s = &m.sentinels[si];
            // Not to a broken link, and not beyond the pending-command cap (a peer that
            // stopped answering must not make us queue without bound).
            if self.links.get(s.link).is_none_or(|l| {
                l.disconnected() || l.pending_commands >= MAX_PENDING_COMMANDS * l.refcount
            }) {
                continue;
            }
            // Warden: until the master is ODOWN, ask every 100 ms rather than every ask period,
            // so agreement is reached as soon as the peers see the failure too.
            let period = if m.inst.flags.o_down {
                self.timers.ask_period
            } else {
                self.timers.ask_period.min(100)
            };
            let since_asked = now.saturating_sub(s.last_ask_time);
            let wait = match when {
                Ask::WhenDue => elapsed < period || since_asked < period,
                Ask::Now | Ask::Forced => false,
                Ask::Again => since_asked < ASK_AGAIN_GAP,
            };
            if wait {
                continue;
            }
            let addr = m
                .inst
                .addr
                .announced(self.config.announce_hostnames)
                .to_string();
            let port = m.inst.addr.port.to_string();
            // Warden: a vote request carries the attempt's own epoch, the one its votes are
            // counted at (Redis sends its current epoch, which the attempts it starts for other
            // masters raise; counting those votes could elect two leaders at one epoch).
            let (epoch, runid) = if m.failover.state != super::instance::FailoverState::None {
                (m.failover.epoch.to_string(), self.myid().to_string())
            } else {
                (self.config.current_epoch.to_string(), "*".to_string())
            };
            let words = self.words(
                mi,
                &[
                    "SENTINEL",
                    "is-master-down-by-addr",
                    &addr,
                    &port,
                    &epoch,
                    &runid,
                ],
            );
            let expect = Expect::MasterDown {
                master: m.cfg.name.clone(),
                runid: s.runid.clone().unwrap_or_default(),
                vote: runid != "*",
            };
            if self.send(
                mi,
                Which::Sentinel(si),
                LinkKind::Cmd,
                vec![(words, expect)],
            ) {
                self.masters[mi].sentinels[si].last_ask_time = now;
            }
        }
    }

    /// A peer answered `is-master-down-by-addr`.
    pub(super) fn on_master_down_reply(
        &mut self,
        master: &str,
        runid: &str,
        reply: &Reply,
        now: Millis,
    ) {
        let Some(mi) = self.master_index(master) else {
            return;
        };
        let Some(si) = self.masters[mi].sentinel_index(runid) else {
            return;
        };
        let Reply::Array(items) = reply else { return };
        let [Reply::Int(down), leader, Reply::Int(epoch)] = items.as_slice() else {
            return;
        };
        let Some(leader) = leader.as_str().map(str::to_string) else {
            return;
        };
        let s = &mut self.masters[mi].sentinels[si];
        s.last_master_down_reply_time = now;
        s.flags.master_down = *down == 1;
        if leader != "*" {
            s.leader = Some(leader);
            s.leader_epoch = (*epoch).max(0) as u64;
        }
        // Warden: re-evaluate ODOWN as soon as an answer arrives instead of on the next tick.
        if !self.tilt {
            self.check_odown(mi, now);
            if self.start_failover_if_needed(mi, now) {
                self.ask_peers(mi, Ask::Now, now);
            }
            self.failover_step(mi, now);
        }
    }
}
