//! Who holds each master's virtual IP — the pure decision (no I/O, explicit time).
//!
//! A Warden holds the VIP of a master exactly while all of these hold:
//!
//! 1. **Target is local.** The *target* is the newest master address this sentinel knows: the
//!    configured/switched master address and its config epoch ([`VipDecider::observe_master`]),
//!    or, if newer, a promotion this sentinel has confirmed ([`VipDecider::observe_promotion`]:
//!    the replica answered `role:master` after `REPLICAOF NO ONE` in failover epoch *e*) — so
//!    the VIP moves at promotion, not at the later `+switch-master`. The target is local when
//!    its host parses as an IP address assigned to this host ([`VipDecider::set_local_addrs`]),
//!    VIP addresses excluded (holding a VIP must never make its holder "the master's host").
//! 2. **Lease.** This sentinel heard from a majority of the master's sentinels (known peers +
//!    itself, [`crate::quorum::majority`]) within `lease_ms`: with *k* peer contacts needed,
//!    the lease runs until the *k*-th most recent contact + `lease_ms`. Losing it releases the
//!    VIP with `fence: true` (the driver also kills Redis clients that came in through it).
//!    A lone sentinel (no peers) always has its lease.
//! 3. **Takeover wait.** When the target moves away from another host, that host's Warden may
//!    still hold the VIP. It stops at the latest when its own lease runs out, so a new claim
//!    waits until `min(last contact with a sentinel at that host, time the target moved) +
//!    lease_ms`: an *unreachable* holder (silent for a while) costs little or nothing, a
//!    holder still talking is given one lease to notice the new epoch. An explicit release
//!    notice ([`VipDecider::observe_release`]) ends the wait at once. A host with no known
//!    sentinel counts as heard from when the target moved.
//!
//! 4. **Kernel lifetime.** The address itself carries the lease: a claim says when the lease ends
//!    and, while held, `Action::VipLease` moves that end each time the lease has grown by
//!    [`LEASE_RENEW_STEP`] (or shrunk), so the shell gives the address a kernel lifetime (whole
//!    seconds, at least one) that ends with it. A holder that is killed, frozen or hung loses
//!    the address to its kernel within `max(lease end, last renewal + 1 s)` + the kernel's
//!    expiry check delay ([`KERNEL_EXPIRY_DELAY`] at most). The takeover wait of rule 3 is
//!    longer by that much ([`kernel_margin`]), so a silent holder's address is gone from its
//!    interface before another node claims it. A lone sentinel's VIP has no lifetime.
//!
//! 5. **Restart.** A process that starts and finds the VIP on its interface with a finite
//!    kernel lifetime ([`VipDecider::observe_found`]: left by its predecessor, which stopped for a
//!    restart or died) *adopts* it: the address stays, unrenewed, until the rules above decide.
//!    If they say hold (the target is local in the newest epoch known, a majority confirms it)
//!    it is claimed with no gap; if the target is another host it is dropped at once; if
//!    neither happens within `min(lifetime left, lease_ms)` it is dropped (fenced if the target
//!    is local). An adopted address is never renewed, so it ends within the predecessor's
//!    kernel lifetime, which rule 3's takeover wait already covers. Only the kernel's copy
//!    (tied to this boot) and the persisted configuration are trusted; nothing else is carried
//!    over. [`VipDecider::shutdown`] says which held VIPs an orderly stop may leave in place.
//!
//! 6. **Routed VIPs** (`sentinel vip ... routed`): the address is announced by a routing
//!    daemon on each node (BGP), not by ARP, so what matters is whether the routers still carry
//!    the old holder's route. The shell watches this node's routing table for a route to the
//!    VIP learned from the daemon ([`VipDecider::observe_route`]): while this node does not
//!    hold the VIP, such a route means another node announces it. A *withdrawal* of that
//!    route seen after the old holder was last heard from (its BGP session went down with it:
//!    BFD or hold timer, or its address left its interface) ends the takeover wait at the old
//!    holder's lease end instead of lease + [`kernel_margin`]: its announcement is gone from the
//!    routers upstream of this node, and a live holder stops holding when its lease runs out.
//!    Without such a withdrawal the wait is the usual one plus [`ROUTE_WITHDRAW_MARGIN`] (the
//!    daemons' time to pass the withdrawal on once the kernel dropped the address).
//!
//! Decisions are edge-triggered: [`VipDecider::poll`] returns `Action::VipClaim` and the event
//! `+vip-claimed <master> <vip> <epoch>` when a VIP becomes held, `Action::VipRelease` and
//! `-vip-released <master> <vip> <epoch>` when it stops being held (both events at
//! [`Level::Warning`]). While held, a newer epoch for the same local target just updates the
//! recorded epoch.
//!
//! # How the sentinel state machine calls it
//!
//! * For every master with a `sentinel vip` line: [`VipDecider::configure`] at start-up and on
//!   `SENTINEL SET ... vip*` (returns a release if a held VIP's address changes or the VIP is
//!   unset); [`VipDecider::remove_master`] on `SENTINEL REMOVE`. Observations may come before
//!   or after `configure` (they are kept per master name), so the calls below can be made for
//!   every monitored master. [`VipDecider::set_peer_count`] whenever the number of known
//!   sentinels of a master changes, [`VipDecider::forget_peer`] on `SENTINEL RESET`.
//! * [`VipDecider::observe_master`] at start-up with the configured address and config epoch,
//!   and whenever they change (`+switch-master`, `+config-update-from`).
//! * [`VipDecider::observe_promotion`] when this sentinel, as failover leader, sees the
//!   selected replica report `role:master` (`+promoted-slave`).
//! * [`VipDecider::observe_contact`] for each hello received from a peer sentinel, **after**
//!   the hello's master configuration has been processed (so majority contact never outruns
//!   the newest epoch those peers advertise).
//! * [`VipDecider::observe_release`] when a peer Warden's release notice arrives (the transport
//!   is the sentinel's business).
//! * [`VipDecider::set_local_addrs`] on `Input::LocalAddrs`.
//! * [`VipDecider::poll_touched`] after handling each input, [`VipDecider::poll`] on every
//!   tick; push the actions out.
//!   [`VipDecider::next_deadline`] says when the next decision can change without input.
//! * [`VipDecider::observe_found`] when the shell finds the VIP on the interface at start-up
//!   with a finite lifetime, [`VipDecider::observe_present`] on every later look.
//! * [`VipDecider::release_all`] when entering TILT, [`VipDecider::shutdown`] on an orderly stop;
//!   [`VipDecider::status`] for `SENTINEL VIP`/`INFO`.
//!
//! Times are milliseconds of a clock that must not jump (feed a monotonic clock); backward
//! steps are tolerated (nothing panics, leases simply look fresher).

use crate::config::{VipConfig, VipMode};
use crate::io::{Action, Event, Level};
use crate::quorum::majority;
use crate::Millis;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// How often a Warden waiting to take a VIP over asks the peers whether the old holder has
/// released it: while a master waits, [`VipDecider::next_deadline`] is at most this far away.
pub const TAKEOVER_PROBE_PERIOD: Millis = 10;

/// How far the lease must have moved since the last `Action::VipLease` (or claim) for a new
/// one: well below the kernel's one-second lifetime granularity, so that a running holder's
/// address is renewed several times before its lifetime could run out.
pub const LEASE_RENEW_STEP: Millis = 250;

/// The longest the kernel takes, past an address's lifetime, to remove it: its IPv4 expiry check
/// runs at most once a second (`ADDRCONF_TIMER_FUZZ_MAX`); measured 4–260 ms on Linux 6.x.
pub const KERNEL_EXPIRY_DELAY: Millis = 1000;

/// How much older the last contact a peer had with a holder may be than the holder's last
/// renewal: two periods of the confirmations that renew leases
/// (`sentinel::vip::CONFIRM_PERIOD`).
pub const CONTACT_LAG: Millis = 200;

/// For a routed VIP whose old holder's route was not seen withdrawn: how long the routing
/// daemons may take to withdraw it from the routers once the holder's kernel dropped the
/// address (FRR 8.4 measured 120–180 ms from the kernel to the second router), with room.
pub const ROUTE_WITHDRAW_MARGIN: Millis = 500;

/// How much longer than the lease a takeover waits for a silent holder: the kernel's expiry
/// delay, what a lease shorter than the kernel's one-second minimum lifetime leaves over, and the
/// [`CONTACT_LAG`].
pub fn kernel_margin(lease: Millis) -> Millis {
    KERNEL_EXPIRY_DELAY + 1000u64.saturating_sub(lease) + CONTACT_LAG
}

/// A master address with the epoch it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    host: String,
    epoch: u64,
}

/// A previous target whose holder has not been seen releasing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outstanding {
    host: String,
    epoch: u64,
    /// When the target moved away from `host`.
    since: Millis,
}

/// A peer sentinel's address and the time of its last hello.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Contact {
    ip: String,
    at: Millis,
}

#[derive(Debug, Clone, Default)]
struct MasterVip {
    /// The VIP, if this master has one (observations are kept either way).
    config: Option<VipConfig>,
    master: Option<Target>,
    promoted: Option<Target>,
    /// The effective target at the last bookkeeping step (to notice moves).
    last_target: Option<Target>,
    peers: usize,
    contacts: BTreeMap<String, Contact>,
    outstanding: Vec<Outstanding>,
    /// Epoch of the current hold.
    held: Option<u64>,
    /// The lease end last given to the shell for the current hold (`Some(None)`: no end).
    announced_until: Option<Option<Millis>>,
    /// The last release was a fence (lease lost).
    fenced: bool,
    /// An address found on the interface at start-up, kept unrenewed until this time unless
    /// claimed or dropped first (rule 5).
    adopted: Option<Millis>,
    /// A routed VIP: whether this node's routing table has a route to it from the routing
    /// daemon (another node announces it), and when such a route was last withdrawn (rule 6).
    route: RouteView,
}

/// What the routing table says about a routed VIP's route (rule 6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct RouteView {
    present: bool,
    /// When a present route went away (and has not come back since).
    withdrawn_at: Option<Millis>,
}

/// Where a VIP stands, for `SENTINEL VIP <master>` and `INFO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VipState {
    /// Held by this node.
    Held,
    /// Found on the interface at start-up (left by the previous process) and kept, unrenewed,
    /// until a majority confirms this node should hold it or the wait ends.
    Adopted,
    /// The target is local and the lease is fresh, but a previous holder's lease is still
    /// running (claim at `takeover_at`).
    Waiting,
    /// The target is local but there is no majority contact (fenced).
    NoQuorum,
    /// The target is another host (or unknown): another node should hold it.
    Standby,
}

impl VipState {
    /// Lower-case name for replies (`held`, `adopted`, `waiting`, `no-quorum`, `standby`).
    pub fn as_str(self) -> &'static str {
        match self {
            VipState::Held => "held",
            VipState::Adopted => "adopted",
            VipState::Waiting => "waiting",
            VipState::NoQuorum => "no-quorum",
            VipState::Standby => "standby",
        }
    }
}

/// A snapshot of one master's VIP decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VipStatus {
    /// The VIP configuration.
    pub config: VipConfig,
    /// Decision state.
    pub state: VipState,
    /// Host of the current target (the master address the VIP follows), if known.
    pub target: Option<String>,
    /// Epoch of the hold if held, else of the target (0 if unknown).
    pub epoch: u64,
    /// Milliseconds until the majority-contact lease runs out (`None` = never: no peers).
    pub lease_remaining_ms: Option<u64>,
    /// When a takeover wait ends, if one is running.
    pub takeover_at: Option<Millis>,
    /// The last release was a fence.
    pub fenced: bool,
}

/// The VIP decision for every master. See the module documentation.
///
/// Work after an input is proportional to the masters it concerns, not to all of them:
/// observations mark their master *touched*, [`VipDecider::poll_touched`] decides for the
/// touched masters with a VIP only ([`VipDecider::poll`], on the periodic tick, for all), and
/// the next deadline is kept up to date as a running minimum (recomputed in full by `poll`).
#[derive(Debug, Clone, Default)]
pub struct VipDecider {
    masters: BTreeMap<String, MasterVip>,
    local: Vec<IpAddr>,
    /// Names of the masters that have a VIP.
    configured: BTreeSet<String>,
    /// The VIP addresses of all masters (never count as a local master address).
    vips: Vec<IpAddr>,
    /// Masters observed since the last poll.
    touched: BTreeSet<String>,
    /// Whether every configured master must be polled (tick, local addresses changed).
    all_touched: bool,
    /// Earliest deadline found by the polls since the last full one.
    deadline: Option<Millis>,
}

impl VipDecider {
    /// A decider with no VIPs and no local addresses.
    pub fn new() -> VipDecider {
        VipDecider::default()
    }

    fn entry(&mut self, master: &str) -> &mut MasterVip {
        if self.configured.contains(master) && !self.touched.contains(master) {
            self.touched.insert(master.to_string());
        }
        self.masters.entry(master.to_string()).or_default()
    }

    /// Recomputes the configured set and the VIP addresses after a configuration change.
    fn reindex(&mut self) {
        self.configured = self
            .masters
            .iter()
            .filter(|(_, m)| m.config.is_some())
            .map(|(name, _)| name.clone())
            .collect();
        self.vips = self
            .masters
            .values()
            .filter_map(|m| m.config.as_ref().map(|c| c.addr))
            .collect();
        self.all_touched = true;
    }

    /// Sets, changes or (with `None`) removes the VIP of `master`; what was observed about the
    /// master is kept either way. Returns a release when a held VIP is removed or its
    /// address/prefix/interface changes (it is claimed again, with the new address, by a later
    /// [`VipDecider::poll`]).
    pub fn configure(&mut self, master: &str, vip: Option<&VipConfig>) -> Vec<Action> {
        let mut actions = Vec::new();
        let m = self.entry(master);
        let moved = match (&m.config, vip) {
            (Some(old), Some(new)) => {
                (old.addr, old.prefix, &old.interface) != (new.addr, new.prefix, &new.interface)
            }
            (Some(_), None) => true,
            (None, _) => false,
        };
        if moved {
            release(master, m, false, &mut actions);
        }
        m.config = vip.cloned();
        self.reindex();
        actions
    }

    /// Forgets `master` entirely (`SENTINEL REMOVE`), releasing its VIP if held.
    pub fn remove_master(&mut self, master: &str) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(mut m) = self.masters.remove(master) {
            release(master, &mut m, false, &mut actions);
        }
        self.touched.remove(master);
        self.reindex();
        actions
    }

    /// The master's address and config epoch as this sentinel knows them. An epoch at least
    /// as new as a confirmed promotion supersedes it; an older one is ignored.
    pub fn observe_master(&mut self, master: &str, host: &str, epoch: u64, now: Millis) {
        let local = self.local.clone();
        let m = self.entry(master);
        if m.master.as_ref().is_some_and(|t| t.epoch > epoch) {
            return;
        }
        m.master = Some(Target {
            host: host.to_string(),
            epoch,
        });
        if m.promoted.as_ref().is_some_and(|p| p.epoch <= epoch) {
            m.promoted = None;
        }
        track_target(m, &local, now);
    }

    /// This sentinel confirmed that the replica at `host` was promoted in failover `epoch`.
    /// It becomes the target while no master address of that epoch or newer is known.
    pub fn observe_promotion(&mut self, master: &str, host: &str, epoch: u64, now: Millis) {
        let local = self.local.clone();
        let m = self.entry(master);
        if m.master.as_ref().is_some_and(|t| t.epoch >= epoch)
            || m.promoted.as_ref().is_some_and(|p| p.epoch > epoch)
        {
            return;
        }
        m.promoted = Some(Target {
            host: host.to_string(),
            epoch,
        });
        track_target(m, &local, now);
    }

    /// The addresses assigned to this host's interfaces.
    pub fn set_local_addrs(&mut self, addrs: &[IpAddr]) {
        self.local = addrs.to_vec();
        self.all_touched = true;
    }

    /// The number of other sentinels known for `master` (self excluded).
    pub fn set_peer_count(&mut self, master: &str, peers: usize) {
        self.entry(master).peers = peers;
    }

    /// A hello from peer sentinel `runid` (announcing address `ip`) arrived at `now`.
    pub fn observe_contact(&mut self, master: &str, runid: &str, ip: &str, now: Millis) {
        self.entry(master).contacts.insert(
            runid.to_string(),
            Contact {
                ip: ip.to_string(),
                at: now,
            },
        );
    }

    /// Drops what is known about peer `runid` (after `SENTINEL RESET` or when it is removed).
    pub fn forget_peer(&mut self, master: &str, runid: &str) {
        if self.masters.contains_key(master) {
            self.entry(master).contacts.remove(runid);
        }
    }

    /// The Warden at `host` announced it released `master`'s VIP held at `epoch`: a takeover
    /// need not wait for its lease.
    pub fn observe_release(&mut self, master: &str, host: &str, epoch: u64) {
        if self.masters.contains_key(master) {
            self.entry(master)
                .outstanding
                .retain(|o| !(same_host(&o.host, host) && o.epoch <= epoch));
        }
    }

    /// At start-up the shell found `master`'s VIP on its interface with `lifetime_ms` of kernel
    /// lifetime left (a predecessor's): keep it, unrenewed, until the rules decide, at the
    /// latest `min(lifetime_ms, lease_ms)` from `now` (rule 5). Ignored while held or when the
    /// master has no VIP.
    pub fn observe_found(&mut self, master: &str, lifetime_ms: Millis, now: Millis) {
        let m = self.entry(master);
        if m.held.is_some() {
            return;
        }
        if let Some(config) = &m.config {
            m.adopted = Some(now.saturating_add(lifetime_ms.min(config.lease_ms)));
        }
    }

    /// Whether `master`'s VIP is on the interface now: an adopted address that is gone (its
    /// lifetime ran out, someone removed it) is no longer kept.
    pub fn observe_present(&mut self, master: &str, present: bool) {
        if !present
            && self
                .masters
                .get(master)
                .is_some_and(|m| m.adopted.is_some())
        {
            self.entry(master).adopted = None;
        }
    }

    /// Whether this node's routing table has a route to `master`'s (routed) VIP learned from the
    /// routing daemon, i.e. another node announces it (rule 6); reported at start and on every
    /// change.
    pub fn observe_route(&mut self, master: &str, present: bool, now: Millis) {
        let route = &mut self.entry(master).route;
        if present {
            *route = RouteView {
                present: true,
                withdrawn_at: None,
            };
        } else if route.present {
            *route = RouteView {
                present: false,
                withdrawn_at: Some(now),
            };
        }
    }

    /// Decides, for every master with a VIP, whether to claim or release (leases run out with
    /// time alone: the periodic tick); returns the actions and events.
    pub fn poll(&mut self, now: Millis) -> Vec<Action> {
        self.all_touched = true;
        self.poll_touched(now)
    }

    /// Like [`VipDecider::poll`], for the masters observed since the last poll only (after an
    /// input): O(masters the input concerned).
    pub fn poll_touched(&mut self, now: Millis) -> Vec<Action> {
        let mut actions = Vec::new();
        let names: Vec<String> = if std::mem::take(&mut self.all_touched) {
            self.touched.clear();
            self.deadline = None;
            self.configured.iter().cloned().collect()
        } else {
            std::mem::take(&mut self.touched).into_iter().collect()
        };
        for name in names {
            let Some(m) = self.masters.get_mut(&name) else {
                continue;
            };
            let Some(config) = m.config.clone() else {
                continue;
            };
            let d = decide(m, &config, &self.local, &self.vips, now);
            m.outstanding
                .retain(|o| takeover_deadline(&config, &m.contacts, m.route, o) > now);
            if let Some(t) = d.deadline(now) {
                self.deadline = earliest(self.deadline, t);
            }
            let name = &name;
            match (m.held, d.want) {
                (None, true) => {
                    let epoch = d.target_epoch;
                    m.adopted = None;
                    m.held = Some(epoch);
                    m.fenced = false;
                    m.announced_until = Some(d.lease_until);
                    actions.push(Action::VipClaim {
                        master: name.clone(),
                        epoch,
                        until: d.lease_until,
                    });
                    actions.push(event("+vip-claimed", name, &config, epoch));
                }
                (Some(held), true) => {
                    m.held = Some(held.max(d.target_epoch));
                    if renewal_due(m.announced_until, d.lease_until) {
                        m.announced_until = Some(d.lease_until);
                        actions.push(Action::VipLease {
                            master: name.clone(),
                            until: d.lease_until,
                        });
                    }
                }
                (Some(_), false) => {
                    release(name, m, d.target_local && !d.lease_fresh, &mut actions)
                }
                (None, false) => {
                    if let Some(until) = m.adopted {
                        // The target is known to be elsewhere (once the host's addresses are
                        // known), or the wait is over.
                        let elsewhere = !self.local.is_empty() && !d.target_local;
                        if elsewhere || now >= until {
                            let fence = d.target_local && !d.lease_fresh;
                            release(name, m, fence, &mut actions);
                        } else {
                            self.deadline = earliest(self.deadline, until);
                        }
                    }
                }
            }
        }
        actions
    }

    /// Releases every held or adopted VIP (TILT: the clock measuring the leases is not
    /// trusted), without fencing.
    pub fn release_all(&mut self) -> Vec<Action> {
        let mut actions = Vec::new();
        for (name, m) in &mut self.masters {
            release(name, m, false, &mut actions);
        }
        actions
    }

    /// An orderly stop (`SIGTERM`, `SHUTDOWN`): releases the VIPs that must not outlive the
    /// process — all of them with `release` (decommissioning), else those without a kernel
    /// lifetime (a lone sentinel's) — and leaves the others in place for a restarted process
    /// to adopt (rule 5); their kernel lifetime removes them if none does. Returns the
    /// releases and the names of the masters whose VIP is left in place.
    pub fn shutdown(&mut self, release_all: bool) -> (Vec<Action>, Vec<String>) {
        let mut actions = Vec::new();
        let mut kept = Vec::new();
        for (name, m) in &mut self.masters {
            let bounded = matches!(m.announced_until, Some(Some(_)));
            if !release_all && ((m.held.is_some() && bounded) || m.adopted.is_some()) {
                kept.push(name.clone());
            } else {
                release(name, m, false, &mut actions);
            }
        }
        (actions, kept)
    }

    /// Whether `host` is an address of this host (a VIP never counts).
    pub fn is_local_host(&self, host: &str) -> bool {
        is_local(host, &self.local, &self.vips)
    }

    /// Whether this node currently holds `master`'s VIP.
    pub fn holds(&self, master: &str) -> bool {
        self.masters.get(master).is_some_and(|m| m.held.is_some())
    }

    /// The decision state of `master`'s VIP, or `None` if it has none.
    pub fn status(&self, master: &str, now: Millis) -> Option<VipStatus> {
        let m = self.masters.get(master)?;
        let config = m.config.as_ref()?;
        let d = decide(m, config, &self.local, &self.vips, now);
        let state = if m.held.is_some() {
            VipState::Held
        } else if m.adopted.is_some() {
            VipState::Adopted
        } else if !d.target_local {
            VipState::Standby
        } else if !d.lease_fresh {
            VipState::NoQuorum
        } else {
            VipState::Waiting
        };
        Some(VipStatus {
            config: config.clone(),
            state,
            target: target(m).map(|t| t.host.clone()),
            epoch: m.held.unwrap_or(d.target_epoch),
            lease_remaining_ms: d.lease_until.map(|t| t.saturating_sub(now)),
            takeover_at: d.takeover_at.filter(|t| *t > now),
            fenced: m.fenced,
        })
    }

    /// The earliest time after `now` at which [`VipDecider::poll`] could decide differently
    /// without new input (a lease running out, a takeover wait ending, the next release probe
    /// of a master waiting to take over), if any, as found by the polls since the last full
    /// one. O(1).
    pub fn next_deadline(&self, now: Millis) -> Option<Millis> {
        self.deadline.filter(|t| *t > now)
    }

    /// Whether `master` waits for a previous holder to release its VIP before claiming it.
    pub fn waiting(&self, master: &str, now: Millis) -> bool {
        self.masters.get(master).is_some_and(|m| {
            m.held.is_none()
                && m.config
                    .as_ref()
                    .is_some_and(|c| decide(m, c, &self.local, &self.vips, now).waiting(now))
        })
    }
}

/// What the inputs say about one master at `now`.
struct Decision {
    want: bool,
    target_local: bool,
    target_epoch: u64,
    lease_fresh: bool,
    /// When the lease runs out (`None` = never).
    lease_until: Option<Millis>,
    /// When the longest running takeover wait ends, if any.
    takeover_at: Option<Millis>,
}

impl Decision {
    /// The target is local with a fresh lease, but a previous holder's lease still runs.
    fn waiting(&self, now: Millis) -> bool {
        self.target_local && self.lease_fresh && self.takeover_at.is_some_and(|t| t > now)
    }

    /// When this decision can change with time alone: the lease's end, the takeover wait's
    /// end, or the next release probe while waiting (only for a local target).
    fn deadline(&self, now: Millis) -> Option<Millis> {
        if !self.target_local {
            return None;
        }
        let probe = self.waiting(now).then_some(now + TAKEOVER_PROBE_PERIOD);
        [self.lease_until, self.takeover_at, probe]
            .into_iter()
            .flatten()
            .filter(|t| *t > now)
            .min()
    }
}

fn decide(
    m: &MasterVip,
    config: &VipConfig,
    local: &[IpAddr],
    vips: &[IpAddr],
    now: Millis,
) -> Decision {
    let target = target(m);
    let target_local = target.is_some_and(|t| is_local(&t.host, local, vips));
    let lease_until = lease_until(m, config.lease_ms);
    let lease_fresh = lease_until.is_none_or(|t| now < t);
    let takeover_at = m
        .outstanding
        .iter()
        .map(|o| takeover_deadline(config, &m.contacts, m.route, o))
        .max();
    let waiting = takeover_at.is_some_and(|t| t > now);
    Decision {
        want: target_local && lease_fresh && !waiting,
        target_local,
        target_epoch: target.map_or(0, |t| t.epoch),
        lease_fresh,
        lease_until,
        takeover_at,
    }
}

/// The effective target: a confirmed promotion newer than the known master, else the master.
fn target(m: &MasterVip) -> Option<&Target> {
    match (&m.promoted, &m.master) {
        (Some(p), Some(t)) if p.epoch > t.epoch => Some(p),
        (Some(p), None) => Some(p),
        (_, t) => t.as_ref(),
    }
}

/// Records a move of the target away from another host as an outstanding holder.
fn track_target(m: &mut MasterVip, local: &[IpAddr], now: Millis) {
    let current = target(m).cloned();
    if let (Some(prev), Some(cur)) = (&m.last_target, &current) {
        // A target that was local is released by this node itself; no wait for it.
        if !same_host(&prev.host, &cur.host) && !is_local(&prev.host, local, &[]) {
            m.outstanding.retain(|o| !same_host(&o.host, &prev.host));
            m.outstanding.push(Outstanding {
                host: prev.host.clone(),
                epoch: prev.epoch,
                since: now,
            });
        }
    }
    // A target that comes back to a host it left does not wait for that host.
    if let Some(cur) = &current {
        m.outstanding.retain(|o| !same_host(&o.host, &cur.host));
    }
    m.last_target = current;
}

/// Whether the lease end `until` differs enough from the one last given to the shell to renew
/// the kernel lifetime: it shrank, grew by [`LEASE_RENEW_STEP`], or gained or lost its end.
fn renewal_due(announced: Option<Option<Millis>>, until: Option<Millis>) -> bool {
    match (announced, until) {
        (Some(Some(last)), Some(until)) => until < last || until >= last + LEASE_RENEW_STEP,
        (Some(None), None) => false,
        _ => true,
    }
}

/// When the holder at `o.host` has surely stopped holding, its kernel's copy of the address
/// included: its lease after the last time we heard from a sentinel at that host, but no later
/// than one lease after the move, plus the [`kernel_margin`]. For a routed VIP: at that lease
/// end if its route was seen withdrawn since (rule 6), else later by [`ROUTE_WITHDRAW_MARGIN`].
fn takeover_deadline(
    config: &VipConfig,
    contacts: &BTreeMap<String, Contact>,
    route: RouteView,
    o: &Outstanding,
) -> Millis {
    let lease = config.lease_ms;
    let heard = contacts
        .values()
        .filter(|c| same_host(&c.ip, &o.host))
        .map(|c| c.at)
        .max()
        .unwrap_or(o.since)
        .min(o.since);
    let lease_end = heard.saturating_add(lease);
    let silent = lease_end.saturating_add(kernel_margin(lease));
    match (config.mode, route.withdrawn_at) {
        (VipMode::Arp, _) => silent,
        (VipMode::Routed, Some(withdrawn)) if withdrawn >= heard => lease_end.max(withdrawn),
        (VipMode::Routed, _) => silent.saturating_add(ROUTE_WITHDRAW_MARGIN),
    }
}

/// When the majority-contact lease runs out; `None` when no peer contact is needed.
fn lease_until(m: &MasterVip, lease: u64) -> Option<Millis> {
    let needed = majority(m.peers + 1) - 1;
    if needed == 0 {
        return None;
    }
    let mut times: Vec<Millis> = m.contacts.values().map(|c| c.at).collect();
    times.sort_unstable_by(|a, b| b.cmp(a));
    Some(times.get(needed - 1).map_or(0, |t| t.saturating_add(lease)))
}

fn is_local(host: &str, local: &[IpAddr], vips: &[IpAddr]) -> bool {
    host.parse::<IpAddr>()
        .is_ok_and(|ip| local.contains(&ip) && !vips.contains(&ip))
}

/// Host equality that treats equivalent spellings of one IP address as equal.
fn same_host(a: &str, b: &str) -> bool {
    match (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.eq_ignore_ascii_case(b),
    }
}

/// The earlier of a running minimum and `t`.
fn earliest(deadline: Option<Millis>, t: Millis) -> Option<Millis> {
    Some(deadline.map_or(t, |d| d.min(t)))
}

/// Stops holding `m`'s VIP, or drops an adopted one (at the epoch of the target it was kept
/// for); nothing if neither.
fn release(name: &str, m: &mut MasterVip, fence: bool, actions: &mut Vec<Action>) {
    let adopted = m.adopted.take().map(|_| target(m).map_or(0, |t| t.epoch));
    let Some(epoch) = m.held.take().or(adopted) else {
        return;
    };
    m.announced_until = None;
    m.fenced = fence;
    actions.push(Action::VipRelease {
        master: name.to_string(),
        epoch,
        fence,
    });
    // A VIP is only held while configured (configure() releases before clearing it).
    if let Some(config) = &m.config {
        actions.push(event("-vip-released", name, config, epoch));
    }
}

fn event(kind: &str, master: &str, config: &VipConfig, epoch: u64) -> Action {
    Action::Event(Event {
        level: Level::Warning,
        kind: kind.to_string(),
        message: format!("{master} {} {epoch}", config.addr),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = "mymaster";
    const LEASE: u64 = 1000;
    /// How long a takeover waits for a silent holder: the lease and the kernel's margin.
    const WAIT: u64 = LEASE + KERNEL_EXPIRY_DELAY + CONTACT_LAG;
    const ME: &str = "10.0.0.1";
    const B: &str = "10.0.0.2";
    const C: &str = "10.0.0.3";
    const VIP: &str = "10.0.0.100";

    fn config() -> VipConfig {
        VipConfig {
            addr: VIP.parse().unwrap(),
            prefix: 32,
            interface: "eth0".into(),
            garp_count: 5,
            garp_interval_ms: 50,
            garp_repeat_delay_ms: 5000,
            garp_refresh_ms: 0,
            lease_ms: LEASE,
            mode: crate::config::VipMode::Arp,
        }
    }

    /// A decider on host ME for master M with `peers` other sentinels, whose master is at
    /// `host` in `epoch`.
    fn decider(peers: usize, host: &str, epoch: u64) -> VipDecider {
        let mut d = VipDecider::new();
        assert!(d.configure(M, Some(&config())).is_empty());
        d.set_local_addrs(&[ME.parse().unwrap(), "127.0.0.1".parse().unwrap()]);
        d.set_peer_count(M, peers);
        d.observe_master(M, host, epoch, 0);
        d
    }

    /// `actions` with claims' lease ends left out and renewals dropped (the tests of the kernel
    /// lifetime look at them).
    fn plain(actions: Vec<Action>) -> Vec<Action> {
        actions
            .into_iter()
            .filter(|a| !matches!(a, Action::VipLease { .. }))
            .map(|a| match a {
                Action::VipClaim { master, epoch, .. } => Action::VipClaim {
                    master,
                    epoch,
                    until: None,
                },
                other => other,
            })
            .collect()
    }

    fn claim(epoch: u64) -> Vec<Action> {
        vec![
            Action::VipClaim {
                master: M.into(),
                epoch,
                until: None,
            },
            Action::Event(Event {
                level: Level::Warning,
                kind: "+vip-claimed".into(),
                message: format!("{M} {VIP} {epoch}"),
            }),
        ]
    }

    fn release(epoch: u64, fence: bool) -> Vec<Action> {
        vec![
            Action::VipRelease {
                master: M.into(),
                epoch,
                fence,
            },
            Action::Event(Event {
                level: Level::Warning,
                kind: "-vip-released".into(),
                message: format!("{M} {VIP} {epoch}"),
            }),
        ]
    }

    #[test]
    fn lone_sentinel_claims_when_master_is_local() {
        let mut d = decider(0, ME, 3);
        assert_eq!(plain(d.poll(10)), claim(3));
        assert!(d.holds(M));
        assert!(
            plain(d.poll(1_000_000)).is_empty(),
            "no lease needed without peers"
        );
    }

    #[test]
    fn master_elsewhere_is_not_claimed() {
        let mut d = decider(0, B, 3);
        assert!(plain(d.poll(10)).is_empty());
        assert_eq!(d.status(M, 10).unwrap().state, VipState::Standby);
    }

    #[test]
    fn hostname_masters_are_never_local() {
        let mut d = decider(0, "redis-1.example", 1);
        assert!(plain(d.poll(10)).is_empty());
    }

    #[test]
    fn ipv6_spellings_compare_as_addresses() {
        let mut d = VipDecider::new();
        d.configure(M, Some(&config()));
        d.set_local_addrs(&["fd00::1".parse().unwrap()]);
        d.observe_master(M, "fd00:0:0::1", 1, 0);
        assert_eq!(plain(d.poll(0)), claim(1));
    }

    #[test]
    fn claim_needs_majority_contact_within_the_lease() {
        // Three sentinels: self + 1 peer is a majority.
        let mut d = decider(2, ME, 1);
        assert!(plain(d.poll(0)).is_empty(), "no contact yet");
        assert_eq!(d.status(M, 0).unwrap().state, VipState::NoQuorum);
        d.observe_contact(M, "peer-b", B, 100);
        assert_eq!(plain(d.poll(100)), claim(1));
        assert!(
            plain(d.poll(100 + LEASE - 1)).is_empty(),
            "still inside the lease"
        );
        assert_eq!(
            plain(d.poll(100 + LEASE)),
            release(1, true),
            "lease ran out: fence"
        );
        assert_eq!(d.status(M, 100 + LEASE).unwrap().state, VipState::NoQuorum);
        assert!(d.status(M, 100 + LEASE).unwrap().fenced);
        d.observe_contact(M, "peer-c", C, 1500);
        assert_eq!(
            plain(d.poll(1500)),
            claim(1),
            "contact again: claim again at once"
        );
        assert!(!d.status(M, 1500).unwrap().fenced);
    }

    #[test]
    fn lease_runs_from_the_kth_most_recent_contact() {
        // Five sentinels: self + 2 peers needed.
        let mut d = decider(4, ME, 1);
        d.observe_contact(M, "p1", "10.0.0.11", 100);
        assert!(plain(d.poll(100)).is_empty(), "one peer is not enough");
        d.observe_contact(M, "p2", "10.0.0.12", 500);
        assert_eq!(plain(d.poll(500)), claim(1));
        let s = d.status(M, 600).unwrap();
        assert_eq!(s.lease_remaining_ms, Some(100 + LEASE - 600));
        assert_eq!(d.next_deadline(600), Some(100 + LEASE));
        d.observe_contact(M, "p3", "10.0.0.13", 900);
        // Now the 2nd most recent contact is p2 at 500.
        assert!(plain(d.poll(100 + LEASE)).is_empty());
        assert_eq!(plain(d.poll(500 + LEASE)), release(1, true));
    }

    #[test]
    fn contacts_of_forgotten_peers_do_not_count() {
        let mut d = decider(2, ME, 1);
        d.observe_contact(M, "peer-b", B, 100);
        d.forget_peer(M, "peer-b");
        assert!(plain(d.poll(100)).is_empty());
        // Fewer known peers lowers the bar: 1 peer + self = 2, majority 2 still needs 1 peer;
        // 0 peers needs none.
        d.set_peer_count(M, 0);
        assert_eq!(plain(d.poll(100)), claim(1));
    }

    #[test]
    fn master_moving_away_releases_without_fence() {
        let mut d = decider(2, ME, 1);
        d.observe_contact(M, "peer-b", B, 0);
        assert_eq!(plain(d.poll(0)), claim(1));
        d.observe_master(M, B, 2, 200);
        assert_eq!(plain(d.poll(200)), release(1, false));
        assert_eq!(d.status(M, 200).unwrap().state, VipState::Standby);
        assert_eq!(d.status(M, 200).unwrap().epoch, 2);
    }

    #[test]
    fn older_epochs_are_ignored() {
        let mut d = decider(0, ME, 5);
        assert_eq!(plain(d.poll(0)), claim(5));
        d.observe_master(M, B, 4, 10);
        assert!(
            plain(d.poll(10)).is_empty(),
            "a stale hello cannot move the VIP"
        );
        assert!(d.holds(M));
    }

    #[test]
    fn newer_epoch_for_the_same_local_master_just_updates_the_epoch() {
        let mut d = decider(0, ME, 5);
        assert_eq!(plain(d.poll(0)), claim(5));
        d.observe_master(M, ME, 6, 10);
        assert!(plain(d.poll(10)).is_empty());
        assert_eq!(d.status(M, 10).unwrap().epoch, 6);
        d.observe_master(M, B, 7, 20);
        assert_eq!(plain(d.poll(20)), release(6, false));
    }

    #[test]
    fn local_address_loss_releases() {
        let mut d = decider(0, ME, 1);
        assert_eq!(plain(d.poll(0)), claim(1));
        d.set_local_addrs(&["127.0.0.1".parse().unwrap()]);
        assert_eq!(plain(d.poll(10)), release(1, false));
    }

    #[test]
    fn the_vip_itself_never_makes_a_host_local() {
        // Clients (or sentinels) addressing the master through the VIP must not make the VIP
        // holder the master's host forever.
        let mut d = decider(0, VIP, 1);
        d.set_local_addrs(&[ME.parse().unwrap(), VIP.parse().unwrap()]);
        assert!(plain(d.poll(0)).is_empty());
    }

    /// Master B at epoch 1, B's sentinel heard at `b_heard`; at t=5000 this sentinel confirms
    /// the promotion of its local replica in epoch 2.
    fn failover_from_b(b_heard: Millis) -> VipDecider {
        promote_away_from_b(decider(2, B, 1), b_heard)
    }

    /// B's sentinel last heard at `b_heard`, C's at 4900, then ME promoted at 5000 in epoch 2.
    fn promote_away_from_b(mut d: VipDecider, b_heard: Millis) -> VipDecider {
        d.observe_contact(M, "peer-b", B, b_heard);
        d.observe_contact(M, "peer-c", C, 4900);
        assert!(plain(d.poll(4900)).is_empty());
        d.observe_promotion(M, ME, 2, 5000);
        d
    }

    #[test]
    fn promotion_claims_at_once_when_the_old_holder_is_long_silent() {
        let mut d = failover_from_b(0);
        assert_eq!(plain(d.poll(5000)), claim(2), "B's lease ended at 1000");
        // The later +switch-master for the same epoch changes nothing.
        d.observe_contact(M, "peer-c", C, 5900);
        d.observe_master(M, ME, 2, 6000);
        assert!(plain(d.poll(6000)).is_empty());
        assert!(d.holds(M));
    }

    #[test]
    fn claim_after_an_unreachable_holder_waits_out_its_lease() {
        let mut d = failover_from_b(4500);
        assert!(plain(d.poll(5000)).is_empty());
        let s = d.status(M, 5000).unwrap();
        assert_eq!(s.state, VipState::Waiting);
        assert_eq!(s.takeover_at, Some(4500 + WAIT));
        // While waiting, the next release probe comes first; the wait's end is a deadline too.
        assert_eq!(d.next_deadline(5000), Some(5000 + TAKEOVER_PROBE_PERIOD));
        d.observe_contact(M, "peer-c", C, 4500 + WAIT - 100);
        assert!(plain(d.poll(4500 + WAIT - 5)).is_empty());
        assert_eq!(d.next_deadline(4500 + WAIT - 5), Some(4500 + WAIT));
        assert!(plain(d.poll(4500 + WAIT - 1)).is_empty());
        assert_eq!(plain(d.poll(4500 + WAIT)), claim(2));
    }

    /// `failover_from_b` for a routed VIP, whose route (B's announcement) this node's routing
    /// table carried from the start.
    fn routed_failover_from_b(b_heard: Millis) -> VipDecider {
        let mut d = routed_decider();
        d.observe_route(M, true, 0);
        promote_away_from_b(d, b_heard)
    }

    /// [`decider`] for a routed VIP.
    fn routed_decider() -> VipDecider {
        let mut d = decider(2, B, 1);
        let routed = VipConfig {
            mode: VipMode::Routed,
            ..config()
        };
        assert!(d.configure(M, Some(&routed)).is_empty());
        d
    }

    /// Rule 6: the old holder's route withdrawn after it was last heard (its node died: BFD
    /// took its session down) ends the wait at its lease end, without the kernel's margin.
    #[test]
    fn a_withdrawn_route_ends_the_takeover_wait_at_the_old_holders_lease_end() {
        let mut d = routed_failover_from_b(4500);
        d.observe_route(M, false, 4800);
        assert!(plain(d.poll(5000)).is_empty());
        assert_eq!(d.status(M, 5000).unwrap().takeover_at, Some(4500 + LEASE));
        d.observe_contact(M, "peer-c", C, 5400);
        assert!(plain(d.poll(4500 + LEASE - 1)).is_empty());
        assert_eq!(plain(d.poll(4500 + LEASE)), claim(2));
    }

    /// A route that went away before the old holder was last heard from, or that came back,
    /// proves nothing: the usual wait, longer by the daemons' withdrawal margin.
    #[test]
    fn without_a_withdrawal_after_the_last_contact_a_routed_vip_waits_longer() {
        let waits = |route: &[(bool, Millis)]| {
            let mut d = routed_failover_from_b(4500);
            for &(present, at) in route {
                d.observe_route(M, present, at);
            }
            d.poll(5000);
            d.status(M, 5000).unwrap().takeover_at
        };
        let full = Some(4500 + WAIT + ROUTE_WITHDRAW_MARGIN);
        assert_eq!(waits(&[]), full, "still announced");
        assert_eq!(
            waits(&[(false, 4400)]),
            full,
            "gone before B was last heard"
        );
        assert_eq!(
            waits(&[(false, 4600), (true, 4700)]),
            full,
            "announced again"
        );
        assert_eq!(
            waits(&[(false, 4600), (true, 4700), (false, 4900)]),
            Some(4500 + LEASE)
        );
        // Never present: nothing was withdrawn (this node's daemon may not be peering).
        let mut d = promote_away_from_b(routed_decider(), 4500);
        d.observe_route(M, false, 5000);
        d.poll(5000);
        assert_eq!(d.status(M, 5000).unwrap().takeover_at, full);
    }

    #[test]
    fn explicit_release_allows_an_immediate_claim() {
        let mut d = failover_from_b(4500);
        assert!(plain(d.poll(5000)).is_empty());
        d.observe_release(M, "10.0.0.2", 0);
        assert!(
            plain(d.poll(5050)).is_empty(),
            "a release of an older epoch does not count"
        );
        d.observe_release(M, B, 1);
        assert_eq!(plain(d.poll(5100)), claim(2));
    }

    #[test]
    fn a_holder_that_keeps_talking_gets_one_lease_from_the_move() {
        let mut d = failover_from_b(4500);
        // B's sentinel is alive and keeps sending hellos but never announces a release.
        d.observe_contact(M, "peer-b", B, 5400);
        d.observe_contact(M, "peer-b", B, 5900);
        assert!(plain(d.poll(5900)).is_empty());
        assert_eq!(d.status(M, 5900).unwrap().takeover_at, Some(5000 + WAIT));
        d.observe_contact(M, "peer-c", C, 5000 + WAIT - 100);
        assert_eq!(plain(d.poll(5000 + WAIT)), claim(2));
    }

    #[test]
    fn unknown_holder_host_waits_one_lease_from_the_move() {
        let mut d = decider(2, "10.0.0.9", 1);
        d.observe_contact(M, "peer-c", C, 4900);
        d.observe_promotion(M, ME, 2, 5000);
        assert!(plain(d.poll(5000)).is_empty());
        d.observe_contact(M, "peer-c", C, 5000 + WAIT - 100);
        assert!(plain(d.poll(5000 + WAIT - 1)).is_empty());
        assert_eq!(plain(d.poll(5000 + WAIT)), claim(2));
    }

    #[test]
    fn promotion_needs_the_lease_too() {
        let mut d = decider(2, B, 1);
        d.observe_promotion(M, ME, 2, 5000);
        assert!(plain(d.poll(5000)).is_empty(), "no peer contact");
        assert_eq!(d.status(M, 5000).unwrap().state, VipState::NoQuorum);
    }

    #[test]
    fn promotion_of_a_stale_epoch_is_ignored_and_newer_master_supersedes() {
        let mut d = decider(0, B, 3);
        d.observe_promotion(M, ME, 3, 0);
        assert!(
            plain(d.poll(0)).is_empty(),
            "epoch 3 is already known with master B"
        );
        d.observe_promotion(M, ME, 4, 10);
        assert_eq!(plain(d.poll(5000)), claim(4));
        // The leader of epoch 5 promoted C: the config arrives as a master change.
        d.observe_master(M, C, 5, 6000);
        assert_eq!(plain(d.poll(6000)), release(4, false));
    }

    #[test]
    fn coming_back_to_a_host_clears_its_wait() {
        let mut d = decider(0, ME, 1);
        assert_eq!(plain(d.poll(0)), claim(1));
        d.observe_master(M, B, 2, 100);
        assert_eq!(plain(d.poll(100)), release(1, false));
        d.observe_master(M, ME, 3, 200);
        // B may have claimed epoch 2: wait for it (never heard from a sentinel at B).
        assert!(plain(d.poll(200)).is_empty());
        assert_eq!(plain(d.poll(200 + WAIT)), claim(3));
        // A chain ME -> B -> C -> B only keeps the wait for hosts other than the target.
        d.observe_master(M, B, 4, 2000);
        d.observe_master(M, C, 5, 2100);
        d.observe_master(M, B, 6, 2200);
        assert_eq!(plain(d.poll(2200)), release(3, false));
        let s = d.status(M, 2200).unwrap();
        assert_eq!((s.state, s.target.as_deref()), (VipState::Standby, Some(B)));
    }

    #[test]
    fn reconfiguring_the_address_releases_then_reclaims() {
        let mut d = decider(0, ME, 1);
        assert_eq!(plain(d.poll(0)), claim(1));
        let mut lease_only = config();
        lease_only.lease_ms = 5000;
        assert!(
            d.configure(M, Some(&lease_only)).is_empty(),
            "timing change only"
        );
        let mut moved = lease_only.clone();
        moved.addr = "10.0.0.101".parse().unwrap();
        assert_eq!(d.configure(M, Some(&moved)), release(1, false));
        let again = d.poll(10);
        assert_eq!(
            again[0],
            Action::VipClaim {
                master: M.into(),
                epoch: 1,
                until: None
            }
        );
        assert!(matches!(&again[1], Action::Event(e) if e.message == format!("{M} 10.0.0.101 1")));
        assert_eq!(
            d.configure(M, None).len(),
            2,
            "removing a held VIP releases it"
        );
        assert!(d.status(M, 10).is_none());
        assert!(plain(d.poll(20)).is_empty());
    }

    #[test]
    fn observations_before_the_vip_is_configured_count() {
        let mut d = VipDecider::new();
        d.set_local_addrs(&[ME.parse().unwrap()]);
        d.set_peer_count(M, 2);
        d.observe_master(M, ME, 4, 0);
        d.observe_contact(M, "peer-b", B, 0);
        assert!(plain(d.poll(0)).is_empty(), "no VIP configured yet");
        assert!(d.status(M, 0).is_none());
        assert!(d.configure(M, Some(&config())).is_empty());
        assert_eq!(plain(d.poll(10)), claim(4));
    }

    #[test]
    fn removing_the_master_releases_and_forgets() {
        let mut d = decider(0, ME, 1);
        assert_eq!(plain(d.poll(0)), claim(1));
        assert_eq!(d.remove_master(M), release(1, false));
        assert!(d.remove_master(M).is_empty());
        assert!(d.configure(M, Some(&config())).is_empty());
        assert!(
            plain(d.poll(10)).is_empty(),
            "no master address known any more"
        );
    }

    #[test]
    fn release_all_on_shutdown() {
        let mut d = decider(0, ME, 1);
        let mut other = config();
        other.addr = "10.0.0.200".parse().unwrap();
        d.configure("second", Some(&other));
        d.observe_master("second", ME, 9, 0);
        d.observe_master("unknown-master", ME, 9, 0);
        let claims = d.poll(0);
        assert_eq!(claims.len(), 4);
        let releases = d.release_all();
        assert_eq!(releases.len(), 4);
        assert!(releases
            .iter()
            .all(|a| !matches!(a, Action::VipRelease { fence: true, .. })));
        assert!(d.release_all().is_empty());
    }

    #[test]
    fn masters_are_independent() {
        let mut d = decider(2, ME, 1);
        let mut other = config();
        other.addr = "10.0.0.200".parse().unwrap();
        d.configure("second", Some(&other));
        d.observe_master("second", ME, 1, 0);
        d.set_peer_count("second", 2);
        d.observe_contact(M, "peer-b", B, 0);
        assert_eq!(plain(d.poll(0)), claim(1), "only M has a peer contact");
        assert!(!d.holds("second"));
    }

    #[test]
    fn next_deadline_is_none_without_pending_changes() {
        let d = decider(0, ME, 1);
        assert_eq!(d.next_deadline(0), None);
        let d = decider(2, B, 1);
        assert_eq!(d.next_deadline(0), None, "not the target");
    }

    #[test]
    fn clock_stepping_back_does_not_panic_or_claim_early() {
        let mut d = failover_from_b(4500);
        assert!(plain(d.poll(3000)).is_empty());
        d.observe_contact(M, "peer-c", C, 4500 + WAIT - 100);
        assert_eq!(plain(d.poll(4500 + WAIT)), claim(2));
        assert!(plain(d.poll(0)).is_empty());
        assert!(d.status(M, 0).is_some());
    }

    /// Three nodes A (master), B, C, each a sentinel + Redis at its own address; hellos every
    /// 100 ms between connected nodes. At t=10 s A is cut off (`frozen`: its process stops
    /// instead, so it decides and says nothing any more); B and C promote B (epoch 2) at
    /// `promote_at`. Checks, millisecond by millisecond, that A and B never hold the VIP at the
    /// same time, A's address counted until A released it or, frozen, until its kernel lifetime
    /// (from A's last claim or renewal, as the shell sets it) and the kernel's expiry delay are
    /// over. Returns (the end of A's address, B's claim time).
    fn partition_run(lease: u64, promote_at: Millis, frozen: bool) -> (Millis, Millis) {
        let hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
        let mut nodes: Vec<VipDecider> = hosts
            .iter()
            .map(|h| {
                let mut d = VipDecider::new();
                let mut c = config();
                c.lease_ms = lease;
                d.configure(M, Some(&c));
                d.set_local_addrs(&[h.parse().unwrap()]);
                d.set_peer_count(M, 2);
                d.observe_master(M, hosts[0], 1, 0);
                d
            })
            .collect();
        let cut_at = 10_000;
        // When A released the address, and when A's kernel would drop it at the latest.
        let (mut released, mut kernel_gone) = (None, None);
        let mut claimed = None;
        for now in 0..promote_at + 3 * lease + 2 * KERNEL_EXPIRY_DELAY {
            if now % 100 == 0 {
                for (from, host) in hosts.iter().enumerate() {
                    for (to, node) in nodes.iter_mut().enumerate() {
                        let cut = now >= cut_at && (from == 0) != (to == 0);
                        if from != to && !cut {
                            node.observe_contact(M, &format!("s{from}"), host, now);
                        }
                    }
                }
            }
            if now == promote_at {
                nodes[1].observe_promotion(M, hosts[1], 2, now);
                nodes[2].observe_master(M, hosts[1], 2, now);
            }
            for (i, node) in nodes.iter_mut().enumerate() {
                if i == 0 && frozen && now >= cut_at {
                    continue;
                }
                for action in node.poll(now) {
                    match action {
                        Action::VipRelease { fence, .. } if i == 0 => {
                            assert!(fence, "A loses the VIP by fencing");
                            released.get_or_insert(now);
                        }
                        Action::VipClaim { until, .. } | Action::VipLease { until, .. }
                            if i == 0 =>
                        {
                            let until = until.expect("A has peers: its lease ends");
                            let seconds = (until.saturating_sub(now) / 1000).max(1);
                            kernel_gone = Some(now + seconds * 1000 + KERNEL_EXPIRY_DELAY);
                        }
                        Action::VipClaim { epoch, .. } if i == 1 => {
                            assert_eq!(epoch, 2);
                            claimed.get_or_insert(now);
                        }
                        _ => {}
                    }
                }
            }
            let a_holds = if frozen {
                kernel_gone.is_some_and(|t| now < t)
            } else {
                nodes[0].holds(M)
            };
            assert!(!(a_holds && nodes[1].holds(M)), "two holders at t={now}");
        }
        let gone = if frozen { kernel_gone } else { released };
        (gone.expect("A let go"), claimed.expect("B claimed"))
    }

    /// The lease end a claim carries, and the renewals: when the lease grew by the step, shrank,
    /// or lost or gained its end; none while it moved less.
    #[test]
    fn claims_carry_the_lease_end_and_renewals_follow_it() {
        let lease = |until| Action::VipLease {
            master: M.into(),
            until,
        };
        let mut d = decider(2, ME, 1);
        d.observe_contact(M, "p1", B, 100);
        match d.poll(100).first() {
            Some(Action::VipClaim { until, .. }) => assert_eq!(*until, Some(100 + LEASE)),
            other => panic!("no claim: {other:?}"),
        }
        d.observe_contact(M, "p1", B, 100 + LEASE_RENEW_STEP - 1);
        assert!(d.poll(300).is_empty(), "moved less than the step");
        d.observe_contact(M, "p1", B, 100 + LEASE_RENEW_STEP);
        assert_eq!(
            d.poll(400),
            vec![lease(Some(100 + LEASE_RENEW_STEP + LEASE))]
        );
        // A new peer: two contacts needed now, the older one counts; the lease shrinks.
        d.set_peer_count(M, 4);
        d.observe_contact(M, "p2", C, 300);
        assert_eq!(d.poll(400), vec![lease(Some(300 + LEASE))]);
        // Alone again: no end.
        d.set_peer_count(M, 0);
        assert_eq!(d.poll(500), vec![lease(None)]);
        assert!(d.poll(600).is_empty());
    }

    #[test]
    fn a_partitioned_holder_and_its_successor_never_overlap() {
        // The last hello across the cut is at 9.9 s. Lease shorter than detection + failover:
        // A fences itself before B is promoted, B claims at promotion.
        assert_eq!(partition_run(3000, 16_000, false), (12_900, 16_000));
        // Lease longer: B waits out A's lease from the last hello it got from A, and the
        // kernel's margin.
        assert_eq!(
            partition_run(10_000, 16_000, false),
            (19_900, 19_900 + KERNEL_EXPIRY_DELAY + CONTACT_LAG)
        );
    }

    #[test]
    fn a_frozen_holders_kernel_drops_the_address_before_its_successor_claims() {
        // A's last renewal comes before the cut; its kernel lifetime ends with its lease (or one
        // second after the renewal, the kernel's minimum) plus the expiry check's delay, and B's
        // takeover waits that long after the last hello it got from A.
        for (lease, promote_at) in [
            (500, 11_000),
            (1000, 12_000),
            (1000, 10_500),
            (2500, 11_000),
            (10_000, 16_000),
        ] {
            let (gone, claimed) = partition_run(lease, promote_at, true);
            assert!(
                gone <= claimed,
                "lease {lease}: A's address until {gone}, B claims at {claimed}"
            );
        }
    }

    #[test]
    fn state_names() {
        let names: Vec<&str> = [
            VipState::Held,
            VipState::Waiting,
            VipState::NoQuorum,
            VipState::Standby,
        ]
        .iter()
        .map(|s| s.as_str())
        .collect();
        assert_eq!(names, ["held", "waiting", "no-quorum", "standby"]);
    }

    /// Rule 5: a restarted holder keeps the address it finds, unrenewed, and claims it with no
    /// gap once a peer confirms the local master.
    #[test]
    fn a_restarted_holder_adopts_its_address_and_claims_it_on_confirmation() {
        let mut d = decider(2, ME, 3);
        d.observe_found(M, 900, 0);
        assert!(d.poll(0).is_empty(), "kept: no release, no renewal");
        assert_eq!(d.status(M, 0).unwrap().state, VipState::Adopted);
        assert_eq!(
            d.next_deadline(0),
            Some(900),
            "dropped at the end of the wait"
        );
        d.observe_contact(M, "peer-b", B, 150);
        let actions = d.poll(150);
        assert_eq!(plain(actions.clone()), claim(3));
        assert!(
            matches!(actions[0], Action::VipClaim { until: Some(u), .. } if u == 150 + LEASE),
            "the claim renews the lifetime from the confirmation: {actions:?}"
        );
        assert_eq!(d.status(M, 150).unwrap().state, VipState::Held);
    }

    #[test]
    fn an_adopted_address_is_dropped_at_once_when_the_target_is_elsewhere() {
        let mut d = VipDecider::new();
        d.configure(M, Some(&config()));
        d.set_peer_count(M, 2);
        d.observe_master(M, ME, 3, 0);
        d.observe_found(M, 5000, 0);
        assert!(
            d.poll(0).is_empty(),
            "the host's addresses are not known yet"
        );
        d.set_local_addrs(&[ME.parse().unwrap()]);
        // A peer's hello brought a newer epoch: the master is B now.
        d.observe_master(M, B, 4, 20);
        assert_eq!(plain(d.poll(20)), release(4, false));
        assert_eq!(d.status(M, 20).unwrap().state, VipState::Standby);
        d.observe_contact(M, "peer-b", B, 30);
        assert!(
            d.poll(30).is_empty(),
            "never claimed against the newer epoch"
        );
    }

    #[test]
    fn an_unconfirmed_adopted_address_is_dropped_and_fenced_after_the_lease() {
        let mut d = decider(2, ME, 3);
        // More kernel lifetime left than the lease: the lease bounds the wait.
        d.observe_found(M, 5000, 100);
        assert!(d.poll(100 + LEASE - 1).is_empty());
        assert_eq!(plain(d.poll(100 + LEASE)), release(3, true));
        assert!(d.status(M, 100 + LEASE).unwrap().fenced);
        assert_eq!(d.status(M, 100 + LEASE).unwrap().state, VipState::NoQuorum);
    }

    #[test]
    fn an_adopted_address_the_kernel_dropped_is_forgotten() {
        let mut d = decider(2, ME, 3);
        d.observe_found(M, 900, 0);
        d.observe_present(M, false);
        assert_eq!(d.status(M, 10).unwrap().state, VipState::NoQuorum);
        assert!(d.poll(2000).is_empty(), "nothing left to release");
    }

    #[test]
    fn tilt_drops_an_adopted_address() {
        let mut d = decider(2, ME, 3);
        d.observe_found(M, 900, 0);
        assert_eq!(plain(d.release_all()), release(3, false));
    }

    #[test]
    fn an_orderly_stop_leaves_lease_bounded_vips_and_releases_the_rest() {
        let mut d = decider(2, ME, 1);
        d.observe_contact(M, "peer-b", B, 0);
        assert_eq!(plain(d.poll(0)), claim(1));
        let (actions, kept) = d.clone().shutdown(false);
        assert!(actions.is_empty());
        assert_eq!(kept, [M]);
        let (actions, kept) = d.shutdown(true);
        assert_eq!(plain(actions), release(1, false), "decommissioning");
        assert!(kept.is_empty());
        // A lone sentinel's VIP has no kernel lifetime: it cannot be left behind.
        let mut lone = decider(0, ME, 1);
        assert_eq!(plain(lone.poll(0)), claim(1));
        let (actions, kept) = lone.shutdown(false);
        assert_eq!(plain(actions), release(1, false));
        assert!(kept.is_empty());
    }
}
