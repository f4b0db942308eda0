//! [`VipManager`]: executes claim/release decisions for one VIP and keeps the kernel in line.
//!
//! * Start: the VIP is not held. A copy left on the interface with a finite kernel lifetime (a
//!   predecessor that stopped for a restart, or died, while holding it) is *adopted*: reported
//!   ([`VipReport::Found`]) and left alone, unrenewed, until a claim (kept with no gap, lifetime
//!   renewed) or a release (removed); its lifetime removes it if neither comes. A copy with no
//!   lifetime (a manual add, a lone sentinel's) is removed before anything else
//!   ([`VipReport::RemovedStray`]).
//! * Claim: add the address, announce a burst of `garp_count` frames `garp_interval` apart,
//!   a second burst `garp_repeat_delay` later, and every `garp_refresh` re-check the address
//!   and announce again.
//! * Lease: a claim carries the end of the holder's lease and [`VipManager::lease`] moves it;
//!   the address is added, and renewed at each move, with a kernel lifetime that ends with the
//!   lease ([`kernel_lifetime`]), so a holder that is killed, frozen or hung loses the address
//!   to the kernel itself. A lease that has run out is never (re-)added.
//! * Release: stop announcing, remove the address.
//! * Watch: on every kernel change concerning the VIP (or a lost-events notice) the state is
//!   re-read; a VIP deleted while held is re-added and re-announced at once
//!   ([`VipReport::Reasserted`]); one that appears while not held is removed. When the
//!   interface's carrier comes back while the VIP is held, it is announced again.
//! * Conflicts: while the VIP is held, an ARP message from another hardware address whose sender
//!   is the VIP (another stack, a misconfigured host) is reported ([`VipReport::Conflict`]) and
//!   answered with a burst of announcements, at most once per [`CONFLICT_PERIOD`]; nobody
//!   else's address is touched.
//! * Failures are reported and retried after [`RETRY_DELAY`].
//! * Dropping the manager (or [`VipManager::shutdown`]) releases the VIP;
//!   [`VipManager::detach`] ends the task leaving the address as it is (with its lifetime).

use crate::backend::{
    ArpWatch, Change, Lifetime, NetEvent, NetWatch, RouteWatch, VipAddr, VipBackend,
};
use crate::error::VipError;
use crate::frames::ArpForm;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Delay before retrying a failed add/remove/list.
pub const RETRY_DELAY: Duration = Duration::from_secs(1);

/// At most one conflict report and re-announcement per this period.
pub const CONFLICT_PERIOD: Duration = Duration::from_secs(1);

/// How one VIP is announced (mirrors `VipConfig` of the core, in `Duration`s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VipSettings {
    /// The address and interface.
    pub vip: VipAddr,
    /// Frames per burst (0 = announce nothing).
    pub garp_count: u32,
    /// Spacing of frames within a burst.
    pub garp_interval: Duration,
    /// Delay of the second burst after a claim (zero = none).
    pub garp_repeat_delay: Duration,
    /// Period of re-check + re-announce while held (zero = none).
    pub garp_refresh: Duration,
    /// Also send the ARP reply form (THA = SHA) after each request frame (IPv4 only).
    pub reply_form: bool,
    /// A routed VIP: the address is only kept on its (dummy or loopback) interface for a
    /// routing daemon to export; no frame is sent and no ARP is watched, whatever the
    /// `garp_*` settings say.
    pub routed: bool,
}

/// What the manager observed or did; the driver turns [`VipReport::Observed`] into
/// `Input::VipObserved` and logs the rest.
#[derive(Debug)]
pub enum VipReport {
    /// Whether the VIP is on the interface now; sent once at start and on every change.
    Observed {
        /// Present on the configured interface.
        present: bool,
    },
    /// At start the VIP was on the interface with a finite kernel lifetime: it is adopted
    /// (left in place, unrenewed) until a claim or a release. Sent before the first
    /// [`VipReport::Observed`].
    Found {
        /// What the kernel says is left of its lifetime.
        lifetime: Duration,
    },
    /// The VIP vanished while held (e.g. `ip addr del`) and was re-added and re-announced.
    Reasserted,
    /// The VIP was on the interface while not held (at start, or added behind our back) and
    /// was removed.
    RemovedStray,
    /// While held, an ARP message from another hardware address claimed the VIP; it was
    /// announced again.
    Conflict {
        /// The other claimant's hardware address.
        mac: crate::frames::Mac,
    },
    /// Announcements went out for the held VIP: `frames` gratuitous ARPs (request and reply
    /// form) or one unsolicited neighbour advertisement.
    Announced {
        /// Messages sent.
        frames: u64,
    },
    /// A routed VIP: whether this node's routing table carries a route to it from the routing
    /// daemon (another node announces it); sent at start and on every change.
    Route {
        /// Announced by another node.
        present: bool,
    },
    /// An operation failed; it is retried after [`RETRY_DELAY`] (announcements at the next
    /// scheduled frame).
    Failed(VipError),
}

enum Command {
    Claim(Option<Instant>),
    Lease(Option<Instant>),
    Release,
    Detach,
}

/// The kernel lifetime that makes an address added or renewed at `now` go away by itself when a
/// lease ending at `until` runs out (`None`: the lease has no end), or `None` when it already
/// has. The kernel counts whole seconds, at least one: the lifetime is the whole seconds left
/// (rounded down, so it never outlasts the lease by rounding) or one second when less is left,
/// and the kernel then removes the address within `max(until, now + 1 s)` plus its expiry
/// check's delay (measured 4–260 ms; at most 1 s, the check's minimum period). While the lease
/// is renewed at least once a second the address never runs out early.
pub fn kernel_lifetime(until: Option<Instant>, now: Instant) -> Option<Lifetime> {
    let Some(until) = until else {
        return Some(Lifetime::Forever);
    };
    let left = until.checked_duration_since(now).filter(|d| !d.is_zero())?;
    let seconds = u32::try_from(left.as_secs()).unwrap_or(u32::MAX - 1);
    Some(Lifetime::Seconds(seconds.max(1)))
}

/// Handle to the task managing one VIP. See the module documentation.
pub struct VipManager {
    commands: UnboundedSender<Command>,
    task: JoinHandle<()>,
}

impl VipManager {
    /// Subscribes to address changes and spawns the managing task on the current tokio
    /// runtime; the task first removes a VIP left on the interface. `report` is called from
    /// the task for every [`VipReport`].
    pub fn start<R>(
        backend: Arc<dyn VipBackend>,
        settings: VipSettings,
        report: R,
    ) -> Result<VipManager, VipError>
    where
        R: FnMut(VipReport) + Send + 'static,
    {
        let watch = backend.watch()?;
        let (arp, route) = if settings.routed {
            (None, Some(backend.watch_route(&settings.vip)?))
        } else {
            (backend.watch_arp(&settings.vip)?, None)
        };
        let (commands, rx) = mpsc::unbounded_channel();
        let runner = Runner {
            backend,
            settings,
            report: Box::new(report),
            held: false,
            adopted: false,
            lease: None,
            present: None,
            carrier: None,
            frames_left: 0,
            next_frame: None,
            second_burst: None,
            next_refresh: None,
            retry: None,
            last_conflict: None,
            route_present: None,
        };
        let task = tokio::spawn(runner.run(rx, watch, arp, route));
        Ok(VipManager { commands, task })
    }

    /// Hold the VIP (idempotent) while the lease ending at `lease` lasts (`None`: no end).
    pub fn claim(&self, lease: Option<Instant>) {
        let _ = self.commands.send(Command::Claim(lease));
    }

    /// The holder's lease now ends at `until` (`None`: no end): a held address gets the
    /// matching kernel lifetime from now.
    pub fn lease(&self, until: Option<Instant>) {
        let _ = self.commands.send(Command::Lease(until));
    }

    /// Stop holding the VIP (idempotent).
    pub fn release(&self) {
        let _ = self.commands.send(Command::Release);
    }

    /// Releases the VIP and waits until the task has removed it and ended.
    pub async fn shutdown(self) {
        drop(self.commands);
        let _ = self.task.await;
    }

    /// Ends the task after the commands sent before, leaving the address as it is: a held VIP
    /// stays with the kernel lifetime of its last renewal, for a restarted process to adopt.
    pub async fn detach(self) {
        let _ = self.commands.send(Command::Detach);
        let _ = self.task.await;
    }
}

/// Why the kernel state is being brought in line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    /// First look at start-up.
    Startup,
    /// A claim or release command.
    Command,
    /// A kernel event, a lost-events notice, or the refresh timer.
    Repair,
}

struct Runner {
    backend: Arc<dyn VipBackend>,
    settings: VipSettings,
    report: Box<dyn FnMut(VipReport) + Send>,
    held: bool,
    /// A predecessor's copy found at start is being kept until a claim or a release.
    adopted: bool,
    /// When the holder's lease ends (`None`: never).
    lease: Option<Instant>,
    present: Option<bool>,
    /// Carrier of the VIP's interface as last reported (`None` until a link event).
    carrier: Option<bool>,
    frames_left: u32,
    next_frame: Option<Instant>,
    second_burst: Option<Instant>,
    next_refresh: Option<Instant>,
    retry: Option<(Instant, Reason)>,
    /// When a conflict was last reported.
    last_conflict: Option<Instant>,
    /// A routed VIP's route from another node, as last reported.
    route_present: Option<bool>,
}

impl Runner {
    async fn run(
        mut self,
        mut commands: UnboundedReceiver<Command>,
        watch: NetWatch,
        mut arp: Option<ArpWatch>,
        mut route: Option<RouteWatch>,
    ) {
        let mut watch = Some(watch);
        self.apply(Instant::now(), Reason::Startup);
        if route.is_some() {
            self.check_route();
        }
        loop {
            let deadline = self.next_deadline();
            tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::Claim(lease)) => self.claim(Instant::now(), lease),
                    Some(Command::Lease(until)) => self.renew(Instant::now(), until),
                    Some(Command::Release) => self.release(Instant::now()),
                    Some(Command::Detach) => return,
                    None => {
                        self.release(Instant::now());
                        return;
                    }
                },
                event = next_event(&mut watch) => match event {
                    Some(event) => self.on_event(Instant::now(), event),
                    None => {
                        watch = None;
                        (self.report)(VipReport::Failed(VipError::Protocol(
                            "the address watch ended; relying on the refresh timer".into(),
                        )));
                    }
                },
                claimant = next_item(&mut arp) => match claimant {
                    Some(mac) => self.on_arp(Instant::now(), mac),
                    None => arp = None,
                },
                changed = next_item(&mut route) => match changed {
                    Some(()) => self.check_route(),
                    None => {
                        route = None;
                        (self.report)(VipReport::Failed(VipError::Protocol(
                            "the route watch ended; withdrawals are no longer seen".into(),
                        )));
                    }
                },
                _ = sleep_until(deadline) => self.on_timer(Instant::now()),
            }
        }
    }

    fn on_event(&mut self, now: Instant, event: NetEvent) {
        match event {
            NetEvent::Added { addr, .. } | NetEvent::Removed { addr, .. }
                if addr != self.settings.vip.addr => {}
            // Our own renewal (or another attribute change) of an address we hold.
            NetEvent::Added { .. } if self.held && self.present == Some(true) => {}
            NetEvent::Link { index, carrier } => self.on_link(now, index, carrier),
            _ => {
                self.apply(now, Reason::Repair);
            }
        }
    }

    /// Tracks the carrier of the VIP's interface; when it comes back while the VIP is held,
    /// the VIP is verified and announced again (switches may have aged out the MAC meanwhile).
    fn on_link(&mut self, now: Instant, index: u32, carrier: bool) {
        // Looked up on demand: an interface can be recreated with a new index.
        match self.backend.link(&self.settings.vip.interface) {
            Ok(link) if link.index == index => {}
            _ => return,
        }
        let was = self.carrier.replace(carrier);
        if carrier && was == Some(false) && self.held && !self.apply(now, Reason::Repair) {
            self.start_burst(now);
        }
    }

    /// Asks the kernel whether another node's route to the (routed) VIP is installed, and
    /// reports a change.
    fn check_route(&mut self) {
        match self.backend.announced_elsewhere(&self.settings.vip) {
            Ok(present) => {
                if self.route_present.replace(present) != Some(present) {
                    (self.report)(VipReport::Route { present });
                }
            }
            Err(e) => (self.report)(VipReport::Failed(e)),
        }
    }

    /// An ARP message from `mac` claimed the VIP: a conflict if we hold it and `mac` is not
    /// ours.
    fn on_arp(&mut self, now: Instant, mac: crate::frames::Mac) {
        if !self.held || self.present != Some(true) {
            return;
        }
        let ours = self
            .backend
            .link(&self.settings.vip.interface)
            .ok()
            .and_then(|l| l.mac);
        if ours == Some(mac)
            || self
                .last_conflict
                .is_some_and(|t| now < t + CONFLICT_PERIOD)
        {
            return;
        }
        self.last_conflict = Some(now);
        (self.report)(VipReport::Conflict { mac });
        self.start_burst(now);
    }

    fn claim(&mut self, now: Instant, lease: Option<Instant>) {
        self.lease = lease;
        if !self.held {
            self.held = true;
            self.adopted = false;
            self.apply(now, Reason::Command);
        } else {
            self.renew(now, lease);
        }
    }

    /// A new lease end: renew the held address's kernel lifetime (or add it back if it is gone
    /// and the lease has time left).
    fn renew(&mut self, now: Instant, until: Option<Instant>) {
        self.lease = until;
        if !self.held {
            return;
        }
        if self.present != Some(true) {
            self.apply(now, Reason::Repair);
            return;
        }
        if let Some(lifetime) = kernel_lifetime(until, now) {
            if let Err(e) = self.backend.renew(&self.settings.vip, lifetime) {
                self.fail(now, Reason::Repair, e);
            }
        }
    }

    fn release(&mut self, now: Instant) {
        if self.held || self.adopted {
            self.held = false;
            self.adopted = false;
            self.frames_left = 0;
            self.next_frame = None;
            self.second_burst = None;
            self.next_refresh = None;
            self.apply(now, Reason::Command);
        }
    }

    /// Reads the interface and adds or removes the VIP to match `held`; true when it
    /// (re)started the announcement schedule.
    fn apply(&mut self, now: Instant, reason: Reason) -> bool {
        self.retry = None;
        let vip = &self.settings.vip;
        let found = match self.backend.list(&vip.interface) {
            Ok(entries) => entries.into_iter().find(|e| e.addr == vip.addr),
            Err(e) => return self.fail(now, reason, e),
        };
        let mut announcing = false;
        let lifetime = kernel_lifetime(self.lease, now);
        if reason == Reason::Startup {
            if let Some(Lifetime::Seconds(left)) = found.as_ref().map(|e| e.valid) {
                self.adopted = true;
                (self.report)(VipReport::Found {
                    lifetime: Duration::from_secs(u64::from(left)),
                });
            }
        }
        self.adopted &= found.is_some();
        let present = if self.adopted {
            true
        } else if self.held && (found.is_some() || lifetime.is_some()) {
            if let (None, Some(lifetime)) = (&found, lifetime) {
                if let Err(e) = self.backend.add(vip, lifetime) {
                    return self.fail(now, reason, e);
                }
                if reason == Reason::Repair {
                    (self.report)(VipReport::Reasserted);
                }
                announcing = true;
            } else if reason == Reason::Command {
                // Claimed while already there (e.g. left by a predecessor): the lease's
                // lifetime from now on.
                if let Some(lifetime) = lifetime {
                    if let Err(e) = self.backend.renew(vip, lifetime) {
                        return self.fail(now, reason, e);
                    }
                }
                announcing = true;
            }
            if announcing {
                self.start_announcing(now);
            }
            true
        } else if let Some(entry) = found {
            // Remove with the prefix it actually has, or the kernel refuses.
            let stray = VipAddr {
                prefix: entry.prefix,
                ..vip.clone()
            };
            match self.backend.remove(&stray) {
                Ok(Change::Applied) if reason != Reason::Command => {
                    (self.report)(VipReport::RemovedStray)
                }
                Ok(_) => {}
                Err(e) => return self.fail(now, reason, e),
            }
            false
        } else {
            false
        };
        if self.present != Some(present) {
            self.present = Some(present);
            (self.report)(VipReport::Observed { present });
        }
        announcing
    }

    /// Reports `error` and schedules a retry; returns false (nothing started).
    fn fail(&mut self, now: Instant, reason: Reason, error: VipError) -> bool {
        (self.report)(VipReport::Failed(error));
        self.retry = Some((now + RETRY_DELAY, reason));
        false
    }

    /// Starts the claim schedule: a burst now, the second burst and the refresh later.
    fn start_announcing(&mut self, now: Instant) {
        self.start_burst(now);
        let s = &self.settings;
        self.second_burst = (!s.garp_repeat_delay.is_zero()).then(|| now + s.garp_repeat_delay);
        self.next_refresh = (!s.garp_refresh.is_zero()).then(|| now + s.garp_refresh);
    }

    fn start_burst(&mut self, now: Instant) {
        self.frames_left = if self.settings.routed {
            0
        } else {
            self.settings.garp_count
        };
        self.next_frame = (self.frames_left > 0).then_some(now);
    }

    fn next_deadline(&self) -> Option<Instant> {
        [
            self.next_frame,
            self.second_burst,
            self.next_refresh,
            self.retry.map(|(t, _)| t),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn on_timer(&mut self, now: Instant) {
        if let Some((at, reason)) = self.retry {
            if at <= now {
                self.apply(now, reason);
            }
        }
        if self.next_refresh.is_some_and(|t| t <= now) {
            self.next_refresh = None;
            // Re-check first; a re-added VIP restarts the whole schedule, one still in place
            // gets a burst and the next refresh.
            if !self.apply(now, Reason::Repair) && self.held && self.present == Some(true) {
                self.start_burst(now);
                self.next_refresh = Some(now + self.settings.garp_refresh);
            }
        }
        if self.second_burst.is_some_and(|t| t <= now) {
            self.second_burst = None;
            self.start_burst(now);
        }
        if let Some(at) = self.next_frame.filter(|t| *t <= now) {
            self.send_frame();
            self.frames_left = self.frames_left.saturating_sub(1);
            self.next_frame = (self.frames_left > 0).then(|| at + self.settings.garp_interval);
        }
    }

    fn send_frame(&mut self) {
        let vip = &self.settings.vip;
        let mut frames = 1;
        let mut result = self.backend.announce(vip, ArpForm::Request);
        if result.is_ok() && self.settings.reply_form && vip.addr.is_ipv4() {
            result = self.backend.announce(vip, ArpForm::Reply);
            frames += 1;
        }
        match result {
            Ok(()) => (self.report)(VipReport::Announced { frames }),
            Err(e) => (self.report)(VipReport::Failed(e)),
        }
    }
}

async fn next_event(watch: &mut Option<NetWatch>) -> Option<NetEvent> {
    match watch {
        Some(w) => w.recv().await,
        None => std::future::pending().await,
    }
}

/// The next item of an optional watch (ARP claimants, route changes); pending without one.
async fn next_item<T>(watch: &mut Option<UnboundedReceiver<T>>) -> Option<T> {
    match watch {
        Some(w) => w.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
