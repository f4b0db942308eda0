//! Processing hello messages: discovering other sentinels, following their address changes,
//! adopting newer epochs, and switching to a newer master configuration.

use super::hello::Hello;
use super::{Change, Sentinel, Which};
use crate::io::Level;
use crate::Millis;

impl Sentinel {
    /// Handle a hello from a pub/sub channel or a direct PUBLISH (Redis's
    /// `sentinelProcessHelloMessage`). Malformed or foreign hellos are ignored.
    pub(super) fn process_hello(&mut self, payload: &[u8], now: Millis) {
        let myid = self.myid().as_bytes();
        if payload.windows(myid.len().max(1)).any(|w| w == myid) {
            return;
        }
        let Some(hello) = Hello::parse(payload) else {
            if !payload.is_empty() {
                self.push(crate::io::Action::Log {
                    level: Level::Verbose,
                    message: "Ignoring malformed hello message".into(),
                });
            }
            return;
        };
        let Some(mi) = self.master_index(&hello.master_name) else {
            return;
        };
        let known = self.masters[mi].sentinels.iter().position(|s| {
            s.runid.as_deref() == Some(hello.runid.as_str())
                && s.addr.matches(&hello.ip, hello.port)
        });
        let si = match known {
            Some(si) => Some(si),
            None => self.learn_sentinel(mi, &hello, now),
        };
        self.adopt_epoch(hello.current_epoch, Some(mi));
        if let Some(si) = si {
            if self.masters[mi].cfg.config_epoch < hello.master_config_epoch {
                self.masters[mi].cfg.config_epoch = hello.master_config_epoch;
                // Warden: saved before our hellos announce it, also when the address stays
                // the same (Redis only saves when it switches).
                self.flush(Change::Master(mi));
                // Compare with the address we advertise: mid-failover (from reconf_slaves on)
                // that is our promoted replica, not the old master. A newer configuration that
                // names the old master while our failover has not promoted anyone ends our
                // attempt (otherwise we would finish it later under the newer epoch: two
                // masters with one epoch).
                let current = self.masters[mi].current_addr().clone();
                let same = current.matches(&hello.master_ip, hello.master_port);
                if same
                    && self.masters[mi].inst.flags.failover_in_progress
                    && !self.failover_promoted(mi)
                {
                    self.abort_failover(mi, now);
                }
                if !same {
                    if let Some(new) = self.make_addr(&hello.master_ip, hello.master_port) {
                        self.event(
                            Level::Warning,
                            "+config-update-from",
                            Some((mi, Which::Sentinel(si))),
                            "",
                        );
                        self.announce_switch(mi, &current, &new);
                        self.reset_master_and_change_address(mi, new.clone(), now);
                        self.masters[mi].failover.followed_switch_time = now;
                        self.client_reconfig_script(mi, "observer", &current, &new);
                    }
                }
            }
        }
        let Some(si) = self.masters[mi]
            .sentinels
            .iter()
            .position(|s| s.runid.as_deref() == Some(hello.runid.as_str()))
        else {
            return;
        };
        self.masters[mi].sentinels[si].last_hello_time = now;
    }

    /// A hello from a sentinel not known at that (ip, port, runid): handle address switches and
    /// stale entries, then add it. Returns its index.
    fn learn_sentinel(&mut self, mi: usize, hello: &Hello, now: Millis) -> Option<usize> {
        let removed = self.remove_sentinel_by_runid(mi, &hello.runid);
        if removed {
            let rest = format!("ip {} port {} for {}", hello.ip, hello.port, hello.runid);
            self.event(
                Level::Notice,
                "+sentinel-address-switch",
                Some((mi, Which::Master)),
                &rest,
            );
        } else if let Some(other) = self.masters[mi]
            .sentinels
            .iter()
            .position(|s| s.addr.matches(&hello.ip, hello.port))
        {
            self.event(
                Level::Notice,
                "+sentinel-invalid-addr",
                Some((mi, Which::Sentinel(other))),
                "",
            );
            if let Some(runid) = self.masters[mi].sentinels[other].runid.clone() {
                for m in 0..self.masters.len() {
                    self.remove_sentinel_by_runid(m, &runid);
                }
            }
        }
        let si = self.add_sentinel(mi, &hello.ip, hello.port, &hello.runid, now)?;
        if removed {
            self.update_sentinel_address_everywhere(mi, si);
        } else {
            self.event(
                Level::Notice,
                "+sentinel",
                Some((mi, Which::Sentinel(si))),
                "",
            );
        }
        self.flush(Change::Discovery);
        Some(si)
    }

    /// Remove the sentinel with `runid` from master `mi`; true if one was removed.
    fn remove_sentinel_by_runid(&mut self, mi: usize, runid: &str) -> bool {
        let Some(si) = self.masters[mi].sentinel_index(runid) else {
            return false;
        };
        let s = self.masters[mi].sentinels.remove(si);
        self.release_link(s.link);
        self.vip_peers_changed(mi);
        true
    }

    /// A sentinel changed address: move its entries under every other master to the new
    /// address and link.
    fn update_sentinel_address_everywhere(&mut self, mi: usize, si: usize) {
        let fresh = self.masters[mi].sentinels[si].clone();
        let mut updated = 0;
        for m in 0..self.masters.len() {
            if m == mi {
                continue;
            }
            let Some(idx) = self.masters[m]
                .sentinels
                .iter()
                .position(|s| s.runid == fresh.runid)
            else {
                continue;
            };
            let old_link = self.masters[m].sentinels[idx].link;
            if old_link != fresh.link {
                self.release_link(old_link);
                self.links.share(fresh.link);
            }
            let entry = &mut self.masters[m].sentinels[idx];
            entry.link = fresh.link;
            entry.addr = fresh.addr.clone();
            updated += 1;
        }
        self.event(
            Level::Notice,
            "+sentinel-address-update",
            Some((mi, Which::Sentinel(si))),
            &format!("{updated} additional matching instances"),
        );
    }
}
