//! The VIP side of the sentinel: feeding [`crate::vip::VipDecider`] what the sentinel learns
//! (master address and epoch, promotions, peer contact), `SENTINEL SET <master> vip...` options,
//! and the `SENTINEL VIP <master>` reply.

use super::links::Expect;
use super::timers::MAX_PENDING_COMMANDS;
use super::{Sentinel, Which};
use crate::config::vip::{check_interface, parse_vip_addr, VipMode, VipOption, ERR_NO_VIP};
use crate::config::VipConfig;
use crate::io::{Action, LinkKind};
use crate::reply::Reply;
use crate::Millis;
use bytes::Bytes;

/// How often a Warden with a VIP re-confirms the master address with each peer (the lease's
/// renewal rate).
pub const CONFIRM_PERIOD: Millis = 100;
pub use crate::vip::TAKEOVER_PROBE_PERIOD;

impl Sentinel {
    /// Tell the decider everything about master `mi` (start-up, MONITOR, SET, switch).
    pub(super) fn vip_sync_master(&mut self, mi: usize, now: Millis) {
        let m = &self.masters[mi];
        let name = m.cfg.name.clone();
        let (host, epoch, peers) = (
            m.inst.addr.ip.clone(),
            m.cfg.config_epoch,
            m.sentinels.len(),
        );
        let vip = m.cfg.vip.clone();
        if vip.is_none() {
            self.fence_end(mi);
        }
        let releases = self.vip.configure(&name, vip.as_ref());
        self.push_all(releases);
        self.vip.observe_master(&name, &host, epoch, now);
        self.vip.set_peer_count(&name, peers);
    }

    /// The number of known sentinels of master `mi` changed.
    pub(super) fn vip_peers_changed(&mut self, mi: usize) {
        let m = &self.masters[mi];
        self.vip.set_peer_count(&m.cfg.name, m.sentinels.len());
    }

    /// The leader saw replica `ri` report `role:master`: the VIP may move now.
    pub(super) fn vip_promoted(&mut self, mi: usize, ri: usize, now: Millis) {
        let m = &self.masters[mi];
        let (name, host, epoch) = (
            m.cfg.name.clone(),
            m.replicas[ri].addr.ip.clone(),
            m.failover.epoch,
        );
        self.vip.observe_promotion(&name, &host, epoch, now);
    }

    /// Ask peer `si` which address it considers the master of `mi`, for the VIP lease: only
    /// masters with a VIP, at most every [`CONFIRM_PERIOD`] (or a quarter of the lease), and
    /// never beyond the pending-command cap.
    pub(super) fn vip_ask_confirmation(&mut self, mi: usize, si: usize, now: Millis) {
        let m = &self.masters[mi];
        let Some(vip) = &m.cfg.vip else { return };
        let waiting = self.vip_waiting(mi, now);
        let period = if waiting {
            TAKEOVER_PROBE_PERIOD
        } else {
            CONFIRM_PERIOD.min(vip.lease_ms / 4).max(1)
        };
        let s = &m.sentinels[si];
        if now.saturating_sub(s.last_vip_confirm_ask) < period {
            return;
        }
        let Some(link) = self.links.get(s.link) else {
            return;
        };
        if link.disconnected() || link.pending_commands >= MAX_PENDING_COMMANDS * link.refcount {
            return;
        }
        let expect = Expect::VipConfirm {
            master: m.cfg.name.clone(),
            runid: s.runid.clone().unwrap_or_default(),
            sent: now,
        };
        let mut cmds = vec![(
            self.words(mi, &["SENTINEL", "get-master-addr-by-name", &m.cfg.name]),
            expect,
        )];
        if waiting {
            // Ask whether the Warden there still holds the VIP (a redis-sentinel peer answers
            // with an error, and we wait out the lease).
            let probe = Expect::VipProbe {
                master: m.cfg.name.clone(),
                runid: s.runid.clone().unwrap_or_default(),
            };
            cmds.push((self.words(mi, &["SENTINEL", "VIP", &m.cfg.name]), probe));
        }
        if self.send(mi, Which::Sentinel(si), LinkKind::Cmd, cmds) {
            self.masters[mi].sentinels[si].last_vip_confirm_ask = now;
        }
    }

    /// Whether this node should hold master `mi`'s VIP and waits for the old holder to let go.
    pub(super) fn vip_waiting(&self, mi: usize, now: Millis) -> bool {
        self.vip.waiting(&self.masters[mi].cfg.name, now)
    }

    /// A peer told us which address it considers the master. It renews our VIP lease (from
    /// the time we asked) only if it names the address we follow: contact then goes both
    /// ways, is never younger than the question, and carries the peer's configuration, so a
    /// peer that moved to a newer epoch stops renewing a stale holder's lease, a one-way
    /// partition lets the lease run out, and replies delayed by a partition count as old.
    pub(super) fn on_vip_confirm(
        &mut self,
        master: &str,
        runid: &str,
        sent: Millis,
        reply: &Reply,
    ) {
        let Some(mi) = self.master_index(master) else {
            return;
        };
        let Some(si) = self.masters[mi].sentinel_index(runid) else {
            return;
        };
        let Reply::Array(items) = reply else { return };
        let [host, port] = items.as_slice() else {
            return;
        };
        let (Some(host), Some(port)) = (
            host.as_str(),
            port.as_str().and_then(|p| p.parse::<u16>().ok()),
        ) else {
            return;
        };
        let m = &self.masters[mi];
        if !m.current_addr().matches(host, port) {
            return;
        }
        let ip = m.sentinels[si].addr.ip.clone();
        let name = m.cfg.name.clone();
        self.vip.observe_contact(&name, runid, &ip, sent);
    }

    /// A peer answered `SENTINEL VIP`: if it does not hold the VIP and follows another
    /// address than its own, its Warden has released, and the takeover need not wait.
    pub(super) fn on_vip_probe(&mut self, master: &str, runid: &str, reply: &Reply) {
        let Some(mi) = self.master_index(master) else {
            return;
        };
        let Some(si) = self.masters[mi].sentinel_index(runid) else {
            return;
        };
        let fields: Vec<&Reply> = match reply {
            Reply::Array(items) => items.iter().collect(),
            Reply::Map(pairs) => pairs.iter().flat_map(|(k, v)| [k, v]).collect(),
            _ => return,
        };
        let field = |name: &str| {
            fields
                .chunks(2)
                .find(|kv| kv.len() == 2 && kv[0].as_str() == Some(name))
                .and_then(|kv| kv[1].as_str())
        };
        let peer_ip = self.masters[mi].sentinels[si].addr.ip.clone();
        let (Some("0"), Some(target), Some(epoch)) =
            (field("held"), field("target"), field("epoch"))
        else {
            return;
        };
        if target == peer_ip {
            return;
        }
        let Ok(epoch) = epoch.parse::<u64>() else {
            return;
        };
        let name = self.masters[mi].cfg.name.clone();
        self.vip.observe_release(&name, &peer_ip, epoch);
    }

    /// Push the decider's claims and releases — for every master on the tick (`all`), else
    /// for the masters the last input or command concerned — and keep the timer's deadline up
    /// to date with the VIP side's (a lease running out, a takeover wait ending, the next
    /// release probe while waiting).
    pub(super) fn vip_poll(&mut self, now: Millis, all: bool) {
        if self.tilt {
            // Nothing is claimed while the clock is not trusted (TILT released everything).
            return;
        }
        let actions = if all {
            self.vip.poll(now)
        } else {
            self.vip.poll_touched(now)
        };
        for action in &actions {
            match action {
                Action::VipRelease {
                    master,
                    fence: true,
                    ..
                } => {
                    if let Some(mi) = self.master_index(master) {
                        self.fence_start(mi, now);
                    }
                }
                Action::VipClaim { master, .. } => {
                    if let Some(mi) = self.master_index(master) {
                        self.fence_end(mi);
                    }
                }
                Action::Event(e) => {
                    // `<master> <vip> <epoch>`
                    let master = e.message.split(' ').next().unwrap_or_default();
                    if let Some(mi) = self.master_index(master) {
                        self.history_observe(mi, &e.kind, &e.message, now);
                    }
                }
                _ => {}
            }
        }
        self.push_all(actions);
        if let Some(t) = self.vip.next_deadline(now) {
            self.wake_at(t);
        }
    }

    /// An orderly stop: the VIP releases to execute now (every VIP with `release`, else only
    /// those without a kernel lifetime) and the masters whose VIP is left in place for a
    /// restarted process to adopt (see [`crate::vip::VipDecider::shutdown`]). The actions are
    /// returned rather than queued: the driver has stopped.
    pub fn shutdown_vips(&mut self, release: bool) -> (Vec<Action>, Vec<String>) {
        self.vip.shutdown(release)
    }

    /// Apply a VIP option of `SENTINEL SET` (`args[0]` is the option name). `None` if `option`
    /// is not a VIP option; `Some(Ok(n))` when `n` values were consumed.
    pub(super) fn set_vip_option(
        &mut self,
        mi: usize,
        option: &str,
        args: &[Bytes],
    ) -> Option<Result<usize, Reply>> {
        let text = |i: usize| args.get(i).map(|b| String::from_utf8_lossy(b).into_owned());
        let invalid = |value: &str, reason: &str| {
            Reply::err(format!(
                "ERR Invalid argument '{value}' for SENTINEL SET '{option}': {reason}"
            ))
        };
        let down_after = self.masters[mi].cfg.down_after_ms;
        let result = if option == "vip" {
            let spec = text(1)?;
            if spec.is_empty() {
                self.masters[mi].cfg.vip = None;
                Ok(1)
            } else {
                let iface = text(2)?;
                match (parse_vip_addr(&spec), check_interface(&iface)) {
                    (Err(e), _) => Err(invalid(&spec, e)),
                    (_, Err(e)) => Err(invalid(&iface, e)),
                    (Ok((addr, prefix)), Ok(())) => {
                        let mut vip = VipConfig::new(addr, prefix, &iface, down_after);
                        let mut kept = Ok(());
                        if let Some(old) = &self.masters[mi].cfg.vip {
                            for opt in VipOption::ALL {
                                let keep = old.option(opt).to_string();
                                vip.set_option(opt, &keep).expect("previously validated");
                            }
                            kept = vip.set_mode(old.mode);
                        }
                        match kept {
                            Ok(()) => {
                                self.masters[mi].cfg.vip = Some(vip);
                                Ok(2)
                            }
                            Err(e) => Err(invalid(&spec, e)),
                        }
                    }
                }
            }
        } else if option == "vip-mode" {
            let value = text(1)?;
            match self.masters[mi].cfg.vip.as_mut() {
                None => Err(Reply::err(format!("ERR {ERR_NO_VIP}"))),
                Some(vip) => VipMode::parse(&value)
                    .and_then(|mode| vip.set_mode(mode))
                    .map(|()| 1)
                    .map_err(|e| invalid(&value, e)),
            }
        } else {
            let opt = VipOption::from_name(option)?;
            let value = text(1)?;
            match self.masters[mi].cfg.vip.as_mut() {
                None => Err(Reply::err(format!("ERR {ERR_NO_VIP}"))),
                Some(vip) => vip
                    .set_option(opt, &value)
                    .map(|()| 1)
                    .map_err(|e| invalid(&value, e)),
            }
        };
        if result.is_ok() {
            let name = self.masters[mi].cfg.name.clone();
            let vip = self.masters[mi].cfg.vip.clone();
            let releases = self.vip.configure(&name, vip.as_ref());
            self.push_all(releases);
        }
        Some(result)
    }

    /// `SENTINEL VIP <master>`: where the VIP stands on this node.
    pub(super) fn vip_reply(&self, mi: usize, now: Millis) -> Reply {
        let name = &self.masters[mi].cfg.name;
        let Some(st) = self.vip.status(name, now) else {
            return Reply::err(format!("ERR {ERR_NO_VIP}"));
        };
        let num = |n: i64| Reply::bulk(n.to_string());
        Reply::map([
            ("address", Reply::bulk(st.config.addr_spec())),
            ("interface", Reply::bulk(&st.config.interface)),
            ("mode", Reply::bulk(st.config.mode.as_str())),
            ("state", Reply::bulk(st.state.as_str())),
            ("held", num(i64::from(self.vip.holds(name)))),
            ("target", Reply::bulk(st.target.as_deref().unwrap_or("?"))),
            ("epoch", num(st.epoch as i64)),
            ("lease-ms", num(st.config.lease_ms as i64)),
            (
                "lease-remaining-ms",
                num(st.lease_remaining_ms.map_or(-1, |r| r as i64)),
            ),
            (
                "takeover-in-ms",
                num(st.takeover_at.map_or(0, |t| t.saturating_sub(now) as i64)),
            ),
            ("fenced", num(i64::from(st.fenced))),
        ])
    }

    /// INFO lines describing each configured VIP.
    pub(super) fn vip_info_lines(&self, now: Millis) -> String {
        let mut out = String::new();
        for (i, m) in self.masters.iter().enumerate() {
            if let Some(st) = self.vip.status(&m.cfg.name, now) {
                out.push_str(&format!(
                    "vip{i}:master={},address={},interface={},mode={},state={},epoch={}\r\n",
                    m.cfg.name,
                    st.config.addr_spec(),
                    st.config.interface,
                    st.config.mode.as_str(),
                    st.state.as_str(),
                    st.epoch
                ));
            }
        }
        out
    }
}
