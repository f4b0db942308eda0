//! A simulated sentinel process: the real core, its "config file" (what [`Persist`] saved,
//! synchronously or in the background), its skewed clock and how its timer is driven.

use crate::scenario::{DiskMode, TickMode, Time};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use warden_core::config::SentinelConfig;
use warden_core::{Persist, Saved, Sentinel};

/// The config file of one sentinel, shared between the world and the core's [`Persist`].
#[derive(Debug)]
pub struct Disk {
    /// Last saved state (initially the config the node was deployed with).
    pub saved: SentinelConfig,
    /// Generation of `saved` in the current process (0: written by an earlier process).
    pub generation: u64,
    /// Number of writes that reached the disk.
    pub saves: u64,
    /// Epochs that went backwards between two saves, found by [`Disk::write`].
    pub regressions: Vec<String>,
    /// How saves without `wait` are carried out.
    pub mode: DiskMode,
    /// Background saves the core began that the world has not scheduled yet.
    pub started: Vec<(u64, SentinelConfig)>,
}

impl Disk {
    /// Write `state` as `generation`, unless a newer generation is already there (a background
    /// save that ends after a later synchronous one must not replace it). Checks that no
    /// persisted epoch goes backwards.
    pub fn write(&mut self, generation: u64, state: &SentinelConfig) {
        if generation < self.generation {
            return;
        }
        let mut found = Vec::new();
        if state.current_epoch < self.saved.current_epoch {
            found.push(format!(
                "current-epoch {} -> {}",
                self.saved.current_epoch, state.current_epoch
            ));
        }
        for (i, old) in self.saved.masters.iter().enumerate() {
            // Masters keep their order between saves; look further only if they did not.
            let new = match state.masters.get(i) {
                Some(m) if m.name == old.name => m,
                _ => match state.masters.iter().find(|m| m.name == old.name) {
                    Some(m) => m,
                    None => continue,
                },
            };
            if new.config_epoch < old.config_epoch {
                found.push(format!(
                    "{} config-epoch {} -> {}",
                    old.name, old.config_epoch, new.config_epoch
                ));
            }
            if new.leader_epoch < old.leader_epoch {
                found.push(format!(
                    "{} leader-epoch {} -> {}",
                    old.name, old.leader_epoch, new.leader_epoch
                ));
            }
        }
        self.regressions.extend(found);
        self.saved = state.clone();
        self.generation = generation;
        self.saves += 1;
    }
}

/// Handle to a node's [`Disk`].
#[derive(Debug, Clone)]
pub struct DiskHandle(Arc<Mutex<Disk>>);

impl DiskHandle {
    /// A disk holding the deployment config, written as `mode` says.
    pub fn new(initial: SentinelConfig, mode: DiskMode) -> DiskHandle {
        DiskHandle(Arc::new(Mutex::new(Disk {
            saved: initial,
            generation: 0,
            saves: 0,
            regressions: Vec::new(),
            mode,
            started: Vec::new(),
        })))
    }

    /// Lock it (a poisoned lock only means a core panicked mid-save; the data is still ours).
    pub fn lock(&self) -> MutexGuard<'_, Disk> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The [`Persist`] given to a simulated core: writes to its [`Disk`] at once, or (background
/// disks, saves without `wait`) records the save as started and returns [`Saved::Pending`];
/// the world completes it later and reports it with `Sentinel::saved`.
pub struct DiskPersist(pub DiskHandle);

impl Persist for DiskPersist {
    fn save(
        &mut self,
        generation: u64,
        state: SentinelConfig,
        wait: bool,
    ) -> Result<Saved, String> {
        let mut disk = self.0.lock();
        if !wait && matches!(disk.mode, DiskMode::Background { .. }) {
            disk.started.push((generation, state));
            return Ok(Saved::Pending);
        }
        disk.write(generation, &state);
        Ok(Saved::Durable)
    }
}

/// The self-check's deliberately broken participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokenVoter {
    /// A correct sentinel.
    No,
    /// Answers every vote request with a vote for the requester and logs `+vote-for-leader`
    /// for each, as a sentinel with a broken one-vote-per-epoch rule would.
    Logged,
    /// The same, without logging: only the election outcome can give it away.
    Silent,
}

/// One sentinel node (host + process).
pub struct Node {
    /// Host index (also the node index).
    pub host: usize,
    /// The running core; `None` while crashed.
    pub core: Option<Sentinel>,
    /// Process incarnation, bumped at every start.
    pub incarnation: u32,
    /// Its config file.
    pub disk: DiskHandle,
    /// Its run id (pre-assigned in the deployed config, so stable across restarts).
    pub myid: String,
    /// Wall clock = simulated time + this offset.
    pub clock_offset: i64,
    /// How its timer is driven.
    pub tick_mode: TickMode,
    /// Simulated time of the tick currently scheduled.
    pub next_tick: Option<Time>,
    /// Active crash faults (the process restarts when the last ends).
    pub crashes: u32,
    /// Paused until this simulated time.
    pub paused_until: Option<Time>,
    /// Simulated time of the last jump of its wall clock.
    pub clock_jumped_at: Option<Time>,
    /// Whether this host currently carries the VIP (survives a process crash, like an address).
    pub vip_present: bool,
    /// Simulated time since which it holds the VIP (per its last claim).
    pub vip_held_since: Option<Time>,
    /// The master's newest epoch a majority of sentinels had persisted when this process
    /// started (for the restart rule's check).
    pub boot_majority_epoch: u64,
    /// Simulated time at which the host's kernel drops the VIP by itself: the lifetime the shell
    /// gave it at the last claim or renewal, plus the kernel's expiry delay (`None`: no
    /// lifetime). Runs whether or not the process does.
    pub vip_kernel_until: Option<Time>,
    /// Node-clock time of the last contact from each peer (anything attributable to it).
    pub contact: Vec<Option<i64>>,
    /// Whether the lease violation was already reported for the current hold.
    pub lease_reported: bool,
    /// Self-check: whether (and how) this node is the broken voter.
    pub broken: BrokenVoter,
    /// Background saves in flight: generation → state (lost if the process crashes).
    pub saving: BTreeMap<u64, SentinelConfig>,
    /// Extra write latency from active slow-disk faults.
    pub disk_slow_ms: u64,
    /// Replies to connections served by this node that wait for a save, per link key, in
    /// order: (generation that must be durable, replies).
    pub held: BTreeMap<u64, VecDeque<(u64, Vec<HeldReply>)>>,
    /// Per master, the vote (lower-case leader run id, epoch) its replies last named (from
    /// its disk at every start), to tell a newly granted vote from a repeated answer.
    pub known_votes: std::collections::HashMap<String, (String, u64)>,
}

/// A reply written by a sentinel's listener, and the vote it announces (checked when it
/// leaves).
#[derive(Debug, Clone)]
pub struct HeldReply {
    /// The reply.
    pub reply: warden_core::Reply,
    /// `(master, leader run id, leader epoch)` when it answers `is-master-down-by-addr`
    /// with a vote.
    pub vote: Option<(String, String, u64)>,
}

impl Node {
    /// A node that has not started yet.
    pub fn new(
        host: usize,
        myid: String,
        disk: DiskHandle,
        tick_mode: TickMode,
        peers: usize,
    ) -> Node {
        Node {
            host,
            core: None,
            incarnation: 0,
            disk,
            myid,
            clock_offset: 0,
            tick_mode,
            next_tick: None,
            crashes: 0,
            paused_until: None,
            clock_jumped_at: None,
            vip_present: false,
            vip_held_since: None,
            boot_majority_epoch: 0,
            vip_kernel_until: None,
            contact: vec![None; peers],
            lease_reported: false,
            broken: BrokenVoter::No,
            saving: BTreeMap::new(),
            disk_slow_ms: 0,
            held: BTreeMap::new(),
            known_votes: std::collections::HashMap::new(),
        }
    }

    /// The node's wall clock at simulated time `now` (`base` is the simulated epoch).
    pub fn clock(&self, base: u64, now: Time) -> u64 {
        (base as i64 + now as i64 + self.clock_offset).max(0) as u64
    }

    /// Simulated time at which the node's wall clock reads `wall`.
    pub fn sim_time(&self, base: u64, wall: u64) -> Time {
        (wall as i64 - self.clock_offset - base as i64).max(0) as Time
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_core::config::MasterConfig;

    #[test]
    fn persist_flags_epoch_regressions() {
        let mut cfg = SentinelConfig {
            current_epoch: 3,
            ..SentinelConfig::default()
        };
        let mut m = MasterConfig::new("m", "10.0.0.1", 6379, 2);
        m.config_epoch = 2;
        m.leader_epoch = 3;
        cfg.masters.push(m);
        let disk = DiskHandle::new(cfg.clone(), DiskMode::Sync);
        let mut persist = DiskPersist(disk.clone());
        let mut newer = cfg.clone();
        newer.current_epoch = 4;
        persist.save(1, newer.clone(), true).expect("save");
        assert!(disk.lock().regressions.is_empty());
        let mut older = newer.clone();
        older.current_epoch = 1;
        older.masters[0].config_epoch = 1;
        persist.save(2, older.clone(), true).expect("save");
        assert_eq!(disk.lock().regressions.len(), 2);
    }

    #[test]
    fn background_saves_are_pending_and_never_replace_a_newer_generation() {
        let cfg = SentinelConfig::default();
        let mode = DiskMode::Background {
            min_ms: 1,
            max_ms: 2,
        };
        let disk = DiskHandle::new(cfg.clone(), mode);
        let mut persist = DiskPersist(disk.clone());
        let mut one = cfg.clone();
        one.current_epoch = 1;
        assert_eq!(persist.save(1, one.clone(), false), Ok(Saved::Pending));
        assert_eq!(disk.lock().saved.current_epoch, 0, "not written yet");
        let mut two = cfg.clone();
        two.current_epoch = 2;
        assert_eq!(
            persist.save(2, two.clone(), true),
            Ok(Saved::Durable),
            "wait: at once"
        );
        let (generation, state) = disk.lock().started.pop().expect("started");
        disk.lock().write(generation, &state);
        let d = disk.lock();
        assert_eq!((d.saved.current_epoch, d.generation, d.saves), (2, 2, 1));
        assert!(d.regressions.is_empty());
    }
}
