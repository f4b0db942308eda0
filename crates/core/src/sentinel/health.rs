//! What this node serves, for load balancers' health checks (Patroni's verbs: `/health`,
//! `/primary/<master>`, `/replica/<master>?lag=`): whether the Redis on this host is the master
//! clients should write to, or a replica fit to read from. The rules live here, next to the
//! state they read; the HTTP shell only maps a [`Verdict`] to a status code.

use super::instance::{Kind, Role};
use super::Sentinel;
use crate::vip::VipState;
use crate::Millis;

/// The answer to one health question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Yes (HTTP 200), with what was found.
    Pass(String),
    /// No (HTTP 503), and why.
    Fail(String),
    /// The question names no monitored master (HTTP 404).
    UnknownMaster,
}

impl Sentinel {
    /// `/health`: this sentinel runs and trusts its clock (not in TILT).
    pub fn health(&self, now: Millis) -> Verdict {
        if self.tilt {
            let secs = now.saturating_sub(self.tilt_start_time) / 1000;
            return Verdict::Fail(format!("in TILT mode for {secs} s"));
        }
        Verdict::Pass(format!("ok, {} masters", self.masters.len()))
    }

    /// `/primary/<master>`: the Redis on this host is `master`'s master in the newest
    /// configuration this sentinel knows, it is neither down nor reporting another role, no
    /// failover of it is running, and — when the master has a VIP — this node holds the VIP
    /// with a lease still running. Exactly the node a client's writes belong on.
    pub fn primary_health(&self, master: &str, now: Millis) -> Verdict {
        let Some(mi) = self.master_index(master) else {
            return Verdict::UnknownMaster;
        };
        if let Verdict::Fail(why) = self.health(now) {
            return Verdict::Fail(why);
        }
        let m = &self.masters[mi];
        let addr = format!("{}:{}", m.inst.addr.ip, m.inst.addr.port);
        if !self.vip.is_local_host(&m.inst.addr.ip) {
            return Verdict::Fail(format!("the master is {addr}, not on this host"));
        }
        let flags = &m.inst.flags;
        if flags.s_down || flags.o_down {
            return Verdict::Fail(format!("the master {addr} is down"));
        }
        if flags.failover_in_progress {
            return Verdict::Fail(format!("a failover of {addr} is in progress"));
        }
        if m.inst.role_reported != Role::Master {
            return Verdict::Fail(format!("{addr} reports the role of a replica"));
        }
        if let Some(vip) = self.vip.status(master, now) {
            let lease_left = vip.lease_remaining_ms.is_none_or(|ms| ms > 0);
            if vip.state != VipState::Held || !lease_left {
                return Verdict::Fail(format!(
                    "the VIP {} is {} here",
                    vip.config.addr,
                    vip.state.as_str()
                ));
            }
        }
        Verdict::Pass(format!(
            "master {addr}, config epoch {}",
            m.cfg.config_epoch
        ))
    }

    /// `/replica/<master>`: a Redis on this host is a replica of `master`'s current master, not
    /// down, reporting the replica role with its link to the master up, and — with `max_lag`
    /// — at most that many bytes of replication offset behind the master's last reported one.
    pub fn replica_health(&self, master: &str, max_lag: Option<u64>, now: Millis) -> Verdict {
        let Some(mi) = self.master_index(master) else {
            return Verdict::UnknownMaster;
        };
        if let Verdict::Fail(why) = self.health(now) {
            return Verdict::Fail(why);
        }
        let m = &self.masters[mi];
        let master_offset = m
            .inst
            .info
            .as_deref()
            .map(super::info::parse)
            .and_then(|info| info.master_repl_offset);
        let mut why = String::from("no replica of this master on this host");
        for r in m
            .replicas
            .iter()
            .filter(|r| r.kind == Kind::Replica && self.vip.is_local_host(&r.addr.ip))
        {
            let addr = format!("{}:{}", r.addr.ip, r.addr.port);
            let lag = master_offset.map(|o| o.saturating_sub(r.slave_repl_offset));
            why = if r.flags.s_down || r.flags.o_down {
                format!("the replica {addr} is down")
            } else if r.role_reported != Role::Slave {
                format!("{addr} reports the role of a master")
            } else if !r.slave_master_link_up {
                format!("the replica {addr} has its link to the master down")
            } else {
                match (max_lag, lag) {
                    (Some(_), None) => format!("the lag of {addr} is not known yet"),
                    (Some(max), Some(lag)) if lag > max => {
                        format!("the replica {addr} lags {lag} bytes behind (at most {max})")
                    }
                    (_, lag) => {
                        let lag = lag.map_or("unknown".into(), |l| format!("{l} bytes"));
                        return Verdict::Pass(format!("replica {addr}, lag {lag}"));
                    }
                }
            };
        }
        Verdict::Fail(why)
    }
}
