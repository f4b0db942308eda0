//! Invariants that need the world's view rather than one event: the VIP lease (a holder
//! without majority contact lets go within the lease) and convergence after healing.

use super::{World, BASE_WALL};
use crate::invariants::majority;
use crate::redis::Role;
use crate::scenario::Time;

/// How often VIP holders are checked.
pub(super) const VIP_CHECK_MS: Time = 100;
/// Allowed lateness on top of the lease: one timer period of the holder plus check granularity.
const LEASE_SLACK_MS: i64 = 300;

impl World {
    /// Every live holder must have had contact with a majority of the sentinels it knows
    /// (itself included) within the lease, measured on its own clock. Contact is any evidence that a peer is alive reaching
    /// it (a reply from the peer, a command from the peer, a hello the peer authored), so this
    /// is the most generous reading of "majority contact".
    pub(super) fn check_vip_leases(&mut self) {
        let Some(lease) = self.sc.vip_lease_ms else {
            return;
        };
        for node in 0..self.nodes.len() {
            let n = &self.nodes[node];
            let Some(held_since) = n.vip_held_since else {
                continue;
            };
            let Some(core) = n.core.as_ref() else {
                continue;
            };
            // The majority of the sentinels this one knows (itself included), as the core
            // counts it: a sentinel cannot be blamed for peers it never heard of (those show up
            // as dual holders instead).
            let known = core
                .config()
                .masters
                .first()
                .map_or(0, |m| m.known_sentinels.len());
            let needed = majority(known + 1) - 1;
            if n.core.is_none() || n.lease_reported || n.paused_until.is_some_and(|u| u > self.now)
            {
                continue;
            }
            // A jump forward can expire the lease at once: the holder gets the slack from then.
            if n.clock_jumped_at
                .is_some_and(|t| self.now < t + LEASE_SLACK_MS as Time)
            {
                continue;
            }
            let wall = n.clock(BASE_WALL, self.now) as i64;
            let mut heard: Vec<i64> = n.contact.iter().flatten().copied().collect();
            heard.sort_unstable_by(|a, b| b.cmp(a));
            let majority_at = if needed == 0 {
                wall
            } else {
                heard.get(needed - 1).copied().unwrap_or(i64::MIN)
            };
            let claimed_at = n.clock(BASE_WALL, held_since) as i64;
            let resumed_at = n
                .paused_until
                .map_or(i64::MIN, |u| n.clock(BASE_WALL, u) as i64);
            let since = majority_at.max(claimed_at).max(resumed_at);
            let elapsed = wall - since;
            if elapsed > lease as i64 + LEASE_SLACK_MS {
                self.nodes[node].lease_reported = true;
                let detail = format!("still holds the VIP {elapsed} ms after its last majority contact (lease {lease} ms)");
                self.checker
                    .report(self.now, Some(node), "vip-lease-overrun", detail);
            }
        }
    }

    /// At most one running, unpaused sentinel may have the VIP on its host for longer than the
    /// lease (plus the lease check's slack). A crashed process's leftover address is not counted: it
    /// must be dropped once the process is back, which this check then sees.
    pub(super) fn check_vip_overlap(&mut self) {
        let slack = LEASE_SLACK_MS as Time;
        let holders: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| {
                let n = &self.nodes[i];
                n.core.is_some()
                    && n.vip_present
                    && !matches!(n.paused_until, Some(u) if u + slack > self.now)
            })
            .collect();
        if holders.len() < 2 {
            self.vip_overlap_since = None;
            return;
        }
        let since = *self.vip_overlap_since.get_or_insert(self.now);
        let overlap = self.now - since;
        // Issue 6's bound: no two holders beyond the lease. A takeover that cannot reach the
        // old holder claims at promotion; the old holder stops within its lease.
        let limit = slack + self.sc.vip_lease_ms.unwrap_or(0) as Time;
        if overlap > limit && overlap <= limit + VIP_CHECK_MS {
            let who: Vec<String> = holders.iter().map(|h| format!("s{h}")).collect();
            let detail = format!(
                "{} hold the VIP at once since {:.3}s",
                who.join(" and "),
                since as f64 / 1000.0
            );
            self.checker
                .report(self.now, None, "vip-dual-holders", detail);
        }
    }

    /// After healing every sentinel must agree on one master address and config epoch, that
    /// address must be a running Redis master, and no other running Redis may still be a
    /// master (writes accepted there would be lost).
    pub(super) fn check_convergence(&mut self) {
        let mut views = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let Some(core) = n.core.as_ref() else {
                self.checker.report(
                    self.now,
                    Some(i),
                    "not-running-at-end",
                    "sentinel not running after healing".into(),
                );
                continue;
            };
            if let Some(m) = core.config().masters.first() {
                views.push((i, m.host.clone(), m.port, m.config_epoch));
            }
        }
        let Some((_, host, port, epoch)) = views.first().cloned() else {
            return;
        };
        if views
            .iter()
            .any(|(_, h, p, e)| (h, *p, *e) != (&host, port, epoch))
        {
            let detail = views
                .iter()
                .map(|(i, h, p, e)| format!("s{i}={h}:{p}@{e}"))
                .collect::<Vec<_>>()
                .join(" ");
            let bound = self.sc.convergence_bound();
            self.checker.report(
                self.now,
                None,
                "no-convergence",
                format!("{bound} ms after healing: {detail}"),
            );
            return;
        }
        let master = self.redis.iter().find(|r| r.ip == host && r.port == port);
        if !master.is_some_and(|r| r.up && r.role == Role::Master) {
            let state = master.map_or("no such instance".to_string(), |r| {
                format!("up={} role={:?}", r.up, r.role)
            });
            let detail = format!(
                "all agree on {host}:{port}@{epoch} but it is not a running master ({state})"
            );
            self.checker
                .report(self.now, None, "converged-on-non-master", detail);
        }
        let strays: Vec<String> = self
            .redis
            .iter()
            .filter(|r| r.up && r.role == Role::Master && (r.ip != host || r.port != port))
            .map(|r| format!("{}:{}", r.ip, r.port))
            .collect();
        if !strays.is_empty() {
            let detail = format!(
                "sentinels agree on {host}:{port} but {} also run as master",
                strays.join(", ")
            );
            self.checker.report(self.now, None, "stray-master", detail);
        }
    }
}
