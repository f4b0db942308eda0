//! Fault injection and healing: partitions, crashes and restarts (sentinels boot from what
//! they persisted, Redis from its rewritten config), pauses, clock jumps, slow hosts.

use super::{Ev, World, BASE_WALL, MASTER};
use crate::link::{Endpoint, State};
use crate::node::DiskPersist;
use crate::panics;
use crate::scenario::{FaultKind, TickMode};
use crate::trace::Detail;
use rand::Rng;
use warden_core::vip::KERNEL_EXPIRY_DELAY;
use warden_core::{Input, Options, Sentinel};

impl World {
    pub(super) fn fault(&mut self, index: usize, start: bool) {
        let fault = self.sc.faults[index].clone();
        let label = if start { "fault" } else { "heal" };
        self.trace.log(Detail::Events, self.now, "WORLD", || {
            format!("{label} {:?}", fault.kind)
        });
        match fault.kind {
            FaultKind::Partition { side } => {
                let other: Vec<usize> =
                    (0..self.sc.hosts()).filter(|h| !side.contains(h)).collect();
                self.net.cut(&side, &other, start);
                self.net.cut(&other, &side, start);
            }
            FaultKind::OneWay { from, to } => self.net.cut(&from, &to, start),
            FaultKind::CrashSentinel(node) => {
                if start {
                    self.nodes[node].crashes += 1;
                    self.crash_node(node);
                } else {
                    self.nodes[node].crashes -= 1;
                    if self.nodes[node].crashes == 0 {
                        self.boot_node(node);
                    }
                }
            }
            FaultKind::CrashRedis(r) => self.redis_fault(r, start),
            FaultKind::Pause(node) => {
                if start {
                    let until = self.now + fault.duration;
                    let n = &mut self.nodes[node];
                    n.paused_until = Some(n.paused_until.map_or(until, |u| u.max(until)));
                }
            }
            FaultKind::ClockJump { node, delta_ms } => {
                self.nodes[node].clock_offset += delta_ms;
                self.nodes[node].clock_jumped_at = Some(self.now);
            }
            FaultKind::Slow { host, extra_ms } => self.net.slow(host, extra_ms, start),
            FaultKind::CrashHost(host) => {
                if start && Some(self.now) == self.sc.mass_fault_at && self.fleet.is_none() {
                    self.start_fleet_watch(host);
                }
                let on_host: Vec<usize> = (0..self.redis.len())
                    .filter(|&r| self.redis[r].host == host)
                    .collect();
                for r in on_host {
                    self.redis_fault(r, start);
                }
            }
            FaultKind::SlowDisk { node, extra_ms } => {
                let slow = &mut self.nodes[node].disk_slow_ms;
                *slow = if start {
                    *slow + extra_ms
                } else {
                    slow.saturating_sub(extra_ms)
                };
            }
        }
        if !start {
            self.resume_stalled();
        }
    }

    /// The sentinel process dies: its connections vanish (peers get a reset), its timer stops.
    /// A VIP it put on the host stays there, as an address would.
    pub(super) fn crash_node(&mut self, node: usize) {
        if self.nodes[node].core.take().is_none() {
            return;
        }
        self.trace
            .log(Detail::Events, self.now, &format!("s{node}"), || {
                "process crashed".into()
            });
        let n = &mut self.nodes[node];
        n.next_tick = None;
        n.vip_held_since = None;
        // Background saves in flight are lost (the restart reads the older file), and so are
        // the replies that waited for them.
        n.saving.clear();
        n.held.clear();
        n.disk.lock().started.clear();
        let owned: Vec<u64> = self
            .links
            .iter()
            .filter(|(_, l)| l.node == node)
            .map(|(k, _)| *k)
            .collect();
        for key in owned {
            if let Some(link) = self.remove_link(key) {
                self.by_id.remove(&(link.node, link.incarnation, link.id));
            }
        }
        for key in self.links_to(Endpoint::Sentinel(node)) {
            if self.links.get(&key).is_some_and(|l| l.state == State::Up) {
                self.server_close(key, "Connection reset by peer");
            }
        }
    }

    /// Start (or restart) a sentinel process from its persisted config.
    pub(super) fn boot_node(&mut self, node: usize) {
        if self.nodes[node].core.is_some() || self.nodes[node].crashes > 0 {
            return;
        }
        let n = &mut self.nodes[node];
        n.incarnation += 1;
        n.next_tick = None;
        n.contact.iter_mut().for_each(|c| *c = None);
        let config = {
            // Generations start over with the new process.
            let mut disk = n.disk.lock();
            disk.generation = 0;
            disk.started.clear();
            disk.saved.clone()
        };
        n.known_votes = config
            .masters
            .iter()
            .filter_map(|m| {
                let leader = m.leader.as_ref()?.to_ascii_lowercase();
                Some((m.name.clone(), (leader, m.leader_epoch)))
            })
            .collect();
        let seed =
            self.sc.seed.wrapping_mul(1_000_003) ^ ((node as u64) << 32) ^ u64::from(n.incarnation);
        let options = Options::new(super::SENTINEL_PORT, None, seed);
        let persist = Box::new(DiskPersist(n.disk.clone()));
        let wall = n.clock(BASE_WALL, self.now);
        let first = n.incarnation == 1;
        self.trace
            .log(Detail::Events, self.now, &format!("s{node}"), || {
                if first {
                    "process started".into()
                } else {
                    "process restarted from persisted config".into()
                }
            });
        match panics::catch(|| Sentinel::new(config, options, persist, wall)) {
            Ok(Ok(core)) => self.nodes[node].core = Some(core),
            Ok(Err(reason)) => {
                self.checker.report(
                    self.now,
                    Some(node),
                    "boot-failed",
                    format!("own persisted config rejected: {reason}"),
                );
                return;
            }
            Err(message) => {
                self.checker.report(self.now, Some(node), "panic", message);
                self.stop = true;
                return;
            }
        }
        self.checker.restarted(node);
        let addrs = vec![std::net::IpAddr::from([10, 0, 0, node as u8 + 1])];
        // The driver's start-up reconciliation (warden's `KernelVip::start`): a copy the last
        // process left with a kernel lifetime still running is adopted (the core hears how
        // much is left), any other copy is removed before the core runs.
        let vip = self.sc.vip_lease_ms.is_some();
        self.nodes[node].boot_majority_epoch = self.majority_epoch();
        let n = &mut self.nodes[node];
        let left = match n.vip_kernel_until {
            Some(until) if n.vip_present && until > self.now + KERNEL_EXPIRY_DELAY => {
                Some(until - KERNEL_EXPIRY_DELAY - self.now)
            }
            _ => None,
        };
        if left.is_none() {
            n.vip_present = false;
            n.vip_kernel_until = None;
        } else {
            self.stats.vip_found += 1;
        }
        self.step(node, |c, now| {
            c.handle(Input::LocalAddrs { addrs }, now);
            if !vip {
                return;
            }
            if let Some(lifetime_ms) = left {
                c.handle(
                    Input::VipFound {
                        master: MASTER.into(),
                        lifetime_ms,
                    },
                    now,
                );
            }
            c.handle(
                Input::VipObserved {
                    master: MASTER.into(),
                    present: left.is_some(),
                },
                now,
            );
        });
        if self.nodes[node].tick_mode == TickMode::RedisHz && self.nodes[node].next_tick.is_none() {
            let first = self.now + self.rng.gen_range(1..100);
            self.set_tick(node, first);
        }
    }

    /// A crash of Redis instance `r` starts or ends (it restarts when the last one ends).
    fn redis_fault(&mut self, r: usize, start: bool) {
        if start {
            self.redis_crashes[r] += 1;
            self.crash_redis(r);
        } else {
            self.redis_crashes[r] -= 1;
            if self.redis_crashes[r] == 0 && !self.redis[r].up {
                self.redis[r].restart(self.now, &mut self.rng);
                let role = format!("{:?}", self.redis[r].role);
                self.trace
                    .log(Detail::Events, self.now, &format!("r{r}"), || {
                        format!("restarted as {role}")
                    });
            }
        }
    }

    fn crash_redis(&mut self, r: usize) {
        if !self.redis[r].up {
            return;
        }
        self.redis[r].crash();
        self.trace
            .log(Detail::Events, self.now, &format!("r{r}"), || {
                "redis crashed".into()
            });
        for key in self.links_to(Endpoint::Redis(r)) {
            if self.links.get(&key).is_some_and(|l| l.state == State::Up) {
                self.server_close(key, "Connection reset by peer");
            }
        }
    }

    /// Schedule a restart of `node` (after `SENTINEL SIMULATE-FAILURE`'s exit).
    pub(super) fn restart_later(&mut self, node: usize, delay: u64) {
        self.schedule(self.now + delay, Ev::Boot { node });
    }
}
