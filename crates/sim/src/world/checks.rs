//! Invariants that need the world's view rather than one event: the VIP lease (a holder
//! without majority contact lets go within the lease), convergence after healing (per
//! master), and the fleet's liveness after its mass fault.

use super::{World, BASE_WALL};
use crate::invariants::majority;
use crate::redis::Role;
use crate::scenario::{FaultKind, Time};
use crate::trace::Detail;
use std::collections::HashMap;
use warden_core::vip::KERNEL_EXPIRY_DELAY;

/// Details listed per rule when many masters break it at once.
const SHOWN: usize = 5;

/// What the fleet's liveness check follows from the mass fault to its deadline.
#[derive(Debug)]
pub(super) struct FleetWatch {
    /// When the mass fault struck.
    at: Time,
    /// Sentinels running at the fault and not crashed by it.
    live: Vec<usize>,
    /// `+switch-master` needed per shard: a majority of `live`.
    needed: usize,
    /// Shards whose master died in it (with a live replica): which live sentinels switched
    /// (bit per node) and when the majority was reached.
    shards: HashMap<String, (u64, Option<Time>)>,
    /// Disk writes of each sentinel when it struck.
    saves_at: Vec<u64>,
    /// `+vote-for-leader` per sentinel since.
    votes: Vec<u64>,
    /// Whether the deadline passed.
    over: bool,
}

impl FleetWatch {
    /// `node` announced a vote.
    pub(super) fn vote(&mut self, node: usize) {
        if !self.over {
            self.votes[node] += 1;
        }
    }
}

/// How often VIP holders are checked.
pub(super) const VIP_CHECK_MS: Time = 100;
/// Allowed lateness on top of the lease: one timer period of the holder plus check granularity.
const LEASE_SLACK_MS: i64 = 300;

impl World {
    /// The kernel lifetime the shell gives the VIP of `node` now for a lease ending at `until`
    /// (the node's clock), as the simulated time the kernel drops the address at the latest:
    /// `Some(None)` for no lifetime, `None` when the lease is already over (nothing is renewed).
    pub(super) fn kernel_lifetime(&self, node: usize, until: Option<u64>) -> Option<Option<Time>> {
        let Some(until) = until else {
            return Some(None);
        };
        let wall = self.nodes[node].clock(BASE_WALL, self.now);
        let left = until.checked_sub(wall).filter(|l| *l > 0)?;
        let seconds = (left / 1000).max(1);
        Some(Some(self.now + seconds * 1000 + KERNEL_EXPIRY_DELAY))
    }

    /// The kernels drop VIPs whose lifetime ran out, whether or not their process runs (a
    /// running one is told, like the shell's address watch tells it).
    pub(super) fn expire_vip_lifetimes(&mut self) {
        for node in 0..self.nodes.len() {
            let n = &mut self.nodes[node];
            if !n.vip_present || n.vip_kernel_until.is_none_or(|t| t > self.now) {
                continue;
            }
            n.vip_present = false;
            n.vip_kernel_until = None;
            self.trace
                .log(Detail::Events, self.now, &format!("s{node}"), || {
                    "kernel: VIP lifetime over".to_string()
                });
            self.report_vip(node, false);
        }
    }

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

    /// A claim never lands while a host whose process is crashed or paused still has the VIP on
    /// its interface: the takeover waits until that host's kernel has surely dropped it.
    pub(super) fn check_claim_over_silent_holder(&mut self, node: usize) {
        for other in (0..self.nodes.len()).filter(|&o| o != node) {
            let n = &self.nodes[other];
            let silent = n.core.is_none() || n.paused_until.is_some_and(|u| u > self.now);
            let present = n.vip_present && n.vip_kernel_until.is_none_or(|t| t > self.now);
            if silent && present {
                let detail = format!(
                    "claimed while s{other} (not running) still has the VIP until {}",
                    n.vip_kernel_until
                        .map_or("forever".to_string(), |t| format!(
                            "{:.3}s",
                            t as f64 / 1000.0
                        ))
                );
                self.checker
                    .report(self.now, Some(node), "vip-claim-over-silent-holder", detail);
            }
        }
    }

    /// The newest epoch of the master that a majority of the sentinels have persisted (their
    /// config files: a lower bound of what they know).
    pub(super) fn majority_epoch(&self) -> u64 {
        let mut epochs: Vec<u64> = self
            .nodes
            .iter()
            .map(|n| {
                let disk = n.disk.lock();
                disk.saved.masters.first().map_or(0, |m| m.config_epoch)
            })
            .collect();
        epochs.sort_unstable_by(|a, b| b.cmp(a));
        epochs[majority(epochs.len()) - 1]
    }

    /// The restart rule: a restarted process that claims the VIP its predecessor left never
    /// does so for an epoch older than one a majority had persisted before it started (its
    /// confirmations, all asked after the start, cannot all name the old master then).
    pub(super) fn check_adopted_claim(&mut self, node: usize, epoch: u64) {
        let n = &self.nodes[node];
        if n.boot_majority_epoch > epoch {
            let detail = format!(
                "kept the VIP its predecessor left for epoch {epoch}, though a majority had \
                 epoch {} before it started",
                n.boot_majority_epoch
            );
            self.checker
                .report(self.now, Some(node), "vip-restart-against-newer", detail);
        }
    }

    /// At most one host may have the VIP on its interface for longer than the lease (plus the
    /// lease check's slack), counted as the kernels see it: a crashed or paused process's
    /// address counts until it released it or its kernel lifetime ran out.
    pub(super) fn check_vip_overlap(&mut self) {
        let slack = LEASE_SLACK_MS as Time;
        let holders: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| {
                let n = &self.nodes[i];
                n.vip_present && n.vip_kernel_until.is_none_or(|t| t > self.now)
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

    /// After healing, for every master: every sentinel must agree on one address and config
    /// epoch, that address must be a running Redis master, and no other running Redis of the
    /// shard may still be a master (writes accepted there would be lost). With many masters,
    /// one violation per rule lists the first few.
    pub(super) fn check_convergence(&mut self) {
        let mut configs = Vec::new();
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
            configs.push((i, core.config()));
        }
        let mut found: Vec<(&'static str, Vec<String>)> = vec![
            ("no-convergence", Vec::new()),
            ("converged-on-non-master", Vec::new()),
            ("stray-master", Vec::new()),
        ];
        let bound = self.sc.convergence_bound();
        for (si, shard) in self.sc.layout.shards.iter().enumerate() {
            let views: Vec<(usize, String, u16, u64)> = configs
                .iter()
                .filter_map(|(i, cfg)| {
                    let m = match cfg.masters.get(si) {
                        Some(m) if m.name == shard.name => m,
                        _ => cfg.masters.iter().find(|m| m.name == shard.name)?,
                    };
                    Some((*i, m.host.clone(), m.port, m.config_epoch))
                })
                .collect();
            let Some((_, host, port, epoch)) = views.first().cloned() else {
                continue;
            };
            let name = if self.sc.layout.shards.len() > 1 {
                format!("{}: ", shard.name)
            } else {
                String::new()
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
                found[0]
                    .1
                    .push(format!("{name}{bound} ms after healing: {detail}"));
                continue;
            }
            let instances = &self.redis[shard.first..shard.first + shard.len];
            let master = instances.iter().find(|r| r.ip == host && r.port == port);
            if !master.is_some_and(|r| r.up && r.role == Role::Master) {
                let state = master.map_or("no such instance".to_string(), |r| {
                    format!("up={} role={:?}", r.up, r.role)
                });
                found[1].1.push(format!(
                    "{name}all agree on {host}:{port}@{epoch} but it is not a running master ({state})"
                ));
            }
            let strays: Vec<String> = instances
                .iter()
                .filter(|r| r.up && r.role == Role::Master && (r.ip != host || r.port != port))
                .map(|r| format!("{}:{}", r.ip, r.port))
                .collect();
            if !strays.is_empty() {
                found[2].1.push(format!(
                    "{name}sentinels agree on {host}:{port} but {} also run as master",
                    strays.join(", ")
                ));
            }
        }
        for (rule, details) in found {
            if details.is_empty() {
                continue;
            }
            let total = details.len();
            let mut detail = details
                .into_iter()
                .take(SHOWN)
                .collect::<Vec<_>>()
                .join("; ");
            if total > SHOWN {
                detail = format!("{total} masters: {detail}; ...");
            }
            self.checker.report(self.now, None, rule, detail);
        }
    }

    /// The mass fault strikes `host` now (before its crashes are applied): watch every shard
    /// whose master runs there and whose replica runs elsewhere.
    pub(super) fn start_fleet_watch(&mut self, host: usize) {
        let crashed: Vec<usize> = self
            .sc
            .faults
            .iter()
            .filter(|f| f.at == self.now)
            .filter_map(|f| match f.kind {
                FaultKind::CrashSentinel(n) => Some(n),
                _ => None,
            })
            .collect();
        let live: Vec<usize> = (0..self.nodes.len())
            .filter(|n| self.nodes[*n].core.is_some() && !crashed.contains(n))
            .collect();
        let mut shards = HashMap::new();
        if live.len() >= self.sc.quorum as usize {
            for shard in &self.sc.layout.shards {
                let instances = &self.redis[shard.first..shard.first + shard.len];
                let master_dies = instances
                    .iter()
                    .any(|r| r.host == host && r.up && r.role == Role::Master);
                let replica_lives = instances
                    .iter()
                    .any(|r| r.host != host && r.up && r.role != Role::Master);
                if master_dies && replica_lives {
                    shards.insert(shard.name.clone(), (0, None));
                }
            }
        }
        self.stats.watched_shards += shards.len() as u64;
        self.fleet = Some(FleetWatch {
            at: self.now,
            needed: majority(live.len()),
            live,
            shards,
            saves_at: self.nodes.iter().map(|n| n.disk.lock().saves).collect(),
            votes: vec![0; self.nodes.len()],
            over: false,
        });
    }

    /// `node` emitted `+switch-master <name> ...`.
    pub(super) fn fleet_switch(&mut self, node: usize, message: &str) {
        let now = self.now;
        let Some(watch) = self.fleet.as_mut() else {
            return;
        };
        if watch.over || !watch.live.contains(&node) {
            return;
        }
        let Some(name) = message.split_whitespace().next() else {
            return;
        };
        let Some((switched, done)) = watch.shards.get_mut(name) else {
            return;
        };
        *switched |= 1 << node;
        if done.is_none() && switched.count_ones() as usize >= watch.needed {
            *done = Some(now);
            self.stats.failover_ms.push(now - watch.at);
        }
    }

    /// The liveness deadline: every watched shard must have been failed over.
    pub(super) fn fleet_deadline(&mut self) {
        let bound = self.sc.fleet_failover_bound();
        let Some(watch) = self.fleet.as_mut() else {
            return;
        };
        watch.over = true;
        let mut late: Vec<&String> = watch
            .shards
            .iter()
            .filter(|(_, (_, done))| done.is_none())
            .map(|(name, _)| name)
            .collect();
        late.sort();
        self.stats.mass_sentinels += watch.live.len() as u64;
        for &n in &watch.live {
            let disk = self.nodes[n].disk.lock();
            let saves = disk.saves - watch.saves_at[n];
            self.stats.mass_saves += saves;
            self.stats.mass_votes += watch.votes[n];
            if matches!(disk.mode, crate::scenario::DiskMode::Background { .. }) {
                self.stats.mass_saves_bg += saves;
                self.stats.mass_votes_bg += watch.votes[n];
                self.stats.mass_sentinels_bg += 1;
            }
        }
        if late.is_empty() {
            return;
        }
        let shown: Vec<String> = late.iter().take(SHOWN).map(|s| s.to_string()).collect();
        let detail = format!(
            "{} of {} shards whose master died not failed over at a majority of the live sentinels ({:?}) within {bound} ms: {}{}",
            late.len(),
            watch.shards.len(),
            watch.live,
            shown.join(", "),
            if late.len() > SHOWN { ", ..." } else { "" }
        );
        self.checker
            .report(self.now, None, "fleet-failover-late", detail);
    }
}
