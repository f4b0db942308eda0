//! Fencing the old master when this node loses its VIP by its lease (issue 13): the clients that
//! came in through the VIP are cut with `CLIENT KILL LADDR <vip>:<port>`, sent over this
//! sentinel's own command link to that instance — so TLS, the AUTH/ACL user and
//! `rename-command` apply and the reply is checked — and never through the VIP (the fenced
//! instance is the master address this host owns, which is never a VIP: see `crate::vip`).
//! Their next connection reaches the new holder.
//!
//! A kill that fails (or cannot be sent: the link is down) is logged, published as
//! `-vip-fence-failed <master> <vip> CLIENT KILL <error>` and tried again every
//! [`FENCE_PERIOD`] until it succeeds, this node holds the VIP again, the instance reports
//! `role:slave`, the VIP is unconfigured, or the master moved: a fence belongs to the address it
//! was raised for and is never sent to a new master (whose VIP clients are the new holder's).
//!
//! Writes of clients that reached the old master by its own address are not held: `CLIENT PAUSE
//! WRITE` would also hold every sentinel's hello (`PUBLISH` may replicate), and with it each
//! sentinel's command connection to that Redis, including the reconfiguration that would end
//! the pause.

use super::instance::{Fence, Role};
use super::links::Expect;
use super::{Sentinel, Which};
use crate::io::{Action, Level, LinkKind};
use crate::reply::Reply;
use crate::Millis;
use std::net::IpAddr;

/// How often a fence that has not succeeded yet is tried again.
pub const FENCE_PERIOD: Millis = 1000;

/// `<ip>:<port>` as Redis prints a connection's local address (IPv6 in brackets).
fn laddr(vip: IpAddr, port: u16) -> String {
    match vip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

impl Sentinel {
    /// This node lost master `mi`'s VIP by its lease: fence the instance.
    pub(super) fn fence_start(&mut self, mi: usize, now: Millis) {
        let m = &mut self.masters[mi];
        if m.fence.is_some() || m.cfg.vip.is_none() {
            return;
        }
        m.fence = Some(Fence {
            ip: m.inst.addr.ip.clone(),
            port: m.inst.addr.port,
            last_sent: None,
        });
        self.fence_retry(mi, now);
    }

    /// Master `mi`'s fence is no longer needed (the VIP is held again or unconfigured).
    pub(super) fn fence_end(&mut self, mi: usize) {
        self.masters[mi].fence = None;
    }

    /// The periodic share of a fence (from the master's timer run): the kill sent, at most
    /// every [`FENCE_PERIOD`], until it succeeded or the instance reports `role:slave`.
    pub(super) fn fence_retry(&mut self, mi: usize, now: Millis) {
        let m = &self.masters[mi];
        let Some(fence) = &m.fence else { return };
        if fence
            .last_sent
            .is_some_and(|t| now.saturating_sub(t) < FENCE_PERIOD)
        {
            return;
        }
        let same_instance = m.inst.addr.matches(&fence.ip, fence.port);
        let Some(vip) = m
            .cfg
            .vip
            .as_ref()
            .filter(|_| same_instance && m.inst.role_reported != Role::Slave)
        else {
            self.masters[mi].fence = None;
            return;
        };
        let first = fence.last_sent.is_none();
        let (name, laddr) = (m.cfg.name.clone(), laddr(vip.addr, m.inst.addr.port));
        if first {
            let message = format!(
                "Fencing master {name} {} {}: killing the clients connected through {laddr}",
                m.inst.addr.ip, m.inst.addr.port
            );
            self.push(Action::Log {
                level: Level::Warning,
                message,
            });
        }
        let cmds = vec![(
            self.words(mi, &["CLIENT", "KILL", "LADDR", &laddr]),
            Expect::Fence {
                master: name.clone(),
            },
        )];
        let sent = self.send(mi, Which::Master, LinkKind::Cmd, cmds);
        if let Some(f) = self.masters[mi].fence.as_mut() {
            f.last_sent = Some(now);
        }
        if !sent {
            self.fence_failed(mi, "the link to the instance is down");
        }
    }

    fn fence_failed(&mut self, mi: usize, error: &str) {
        let m = &self.masters[mi];
        let vip = m
            .cfg
            .vip
            .as_ref()
            .map_or(String::new(), |v| v.addr.to_string());
        let message = format!("{} {vip} CLIENT KILL {error}", m.cfg.name);
        self.emit(Level::Warning, "-vip-fence-failed", Some(mi), message);
    }

    /// The fencing kill of `master` was answered: done, or tried again later.
    pub(super) fn on_fence_reply(&mut self, master: &str, reply: &Reply) {
        let Some(mi) = self.master_index(master) else {
            return;
        };
        if self.masters[mi].fence.is_none() {
            return;
        }
        match reply {
            Reply::Int(n) => {
                self.masters[mi].fence = None;
                self.push(Action::Log {
                    level: Level::Notice,
                    message: format!(
                        "Fenced master {master}: {n} clients connected through the VIP killed"
                    ),
                });
            }
            Reply::Error(e) => self.fence_failed(mi, e),
            other => self.fence_failed(mi, &format!("unexpected reply {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laddr_is_formatted_like_redis() {
        assert_eq!(laddr("10.0.0.5".parse().unwrap(), 6379), "10.0.0.5:6379");
        assert_eq!(laddr("fd00::5".parse().unwrap(), 6380), "[fd00::5]:6380");
    }
}
