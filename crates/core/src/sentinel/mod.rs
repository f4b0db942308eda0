//! The sentinel state machine: one Redis Sentinel as a plain value.
//!
//! Layout: `instance` (the model), `links` (connections and reply routing), `monitor`
//! (reconnects, PING/INFO/hello, reply handling), `info`/`hello` (wire formats), `discovery`
//! (processing hellos), `detect` (SDOWN/ODOWN/TILT and asking peers), `election` (epochs and
//! votes), `failover` (the failover state machine and replica selection), `commands` and `maps`
//! (the `SENTINEL` command surface), `scripts` (the script queue).

mod commands;
mod commit;
mod deadlines;
mod detect;
mod discovery;
mod election;
mod failover;
mod fence;
pub mod health;
pub mod hello;
mod history;
pub mod info;
pub mod instance;
mod links;
mod maps;
mod monitor;
mod outbox;
mod scripts;
mod subcommand;
pub mod timers;
mod vip;

use crate::config::{Compat, MasterConfig, SentinelConfig};
use crate::io::{Action, Event, Input, Level};
use crate::reply::Reply;
use crate::{Millis, Persist, Saved};
use bytes::Bytes;
use instance::{Addr, Flags, Instance, Kind, Master};
use links::{Links, Target};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
pub use subcommand::{SentinelCommand, Subcommand};
use timers::Timers;

/// Resolves a hostname to an IP address text (only used with `resolve-hostnames yes`).
pub type Resolver = fn(&str) -> Option<String>;

/// A resolver that accepts IP literals only.
pub fn resolve_ip_literal(host: &str) -> Option<String> {
    host.parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
}

/// Process-level facts the core needs but does not own.
#[derive(Debug, Clone)]
pub struct Options {
    /// The port this sentinel listens on (announced in hellos unless `announce-port` is set).
    pub port: u16,
    /// `requirepass`, used as the password towards other sentinels when `sentinel-pass` is unset.
    pub requirepass: Option<String>,
    /// Seed for every random choice (run id generation, start delays).
    pub seed: u64,
    /// Hostname resolution for `resolve-hostnames yes`.
    pub resolver: Resolver,
    /// Whether a script path exists and is executable (`SENTINEL SET ... notification-script`).
    pub is_executable: fn(&str) -> bool,
    /// Which upstream surface to present where versions disagree (`warden-compat`).
    pub compat: Compat,
    /// The `loglevel` loaded from the file (`SENTINEL CONFIG GET loglevel` until it is set).
    pub loglevel: String,
}

impl Options {
    /// Options with the IP-literal resolver and no script accepted as executable (the core
    /// has no filesystem; the binary supplies real checks).
    pub fn new(port: u16, requirepass: Option<String>, seed: u64) -> Options {
        Options {
            port,
            requirepass,
            seed,
            resolver: resolve_ip_literal,
            is_executable: |_| false,
            compat: Compat::default(),
            loglevel: "notice".into(),
        }
    }
}

/// Which instance of a master an operation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    /// The master itself.
    Master,
    /// `replicas[i]`.
    Replica(usize),
    /// `sentinels[i]`.
    Sentinel(usize),
}

/// What a change to the persistent state concerns, so outputs wait only for the changes they
/// could reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// The current epoch (announced in hellos and events).
    Epoch,
    /// One master's vote, failover epoch or configuration.
    Master(usize),
    /// Discovered replicas and sentinels: nothing any output depends on.
    Discovery,
}

/// What an output could reveal of the persistent state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reveals {
    /// Nothing (PING, INFO, connects, an address).
    Nothing,
    /// One master's vote or configuration (a vote reply, the failover's commands).
    Master(usize),
    /// The current epoch, and that master's state if given (hellos, events).
    Epochs(Option<usize>),
}

/// One Redis Sentinel, as a plain value.
pub struct Sentinel {
    /// Global settings and persisted state; `masters` is kept empty (see `masters`).
    config: SentinelConfig,
    options: Options,
    persist: Box<dyn Persist>,
    /// Save generations (see `commit`).
    commit: commit::Commit,
    masters: Vec<Master>,
    /// Index of `masters` by name.
    by_name: HashMap<String, usize>,
    /// Index of `masters` by current address (IP and lower-case hostname, with the port).
    by_addr: HashMap<(String, u16), Vec<usize>>,
    links: Links,
    timers: Timers,
    /// Actions for the driver, held while they could reveal a change not yet durable.
    outbox: outbox::Outbox,
    /// The save generation holding the last change of the current epoch.
    epoch_generation: u64,
    /// The save generation the reply of the last command waits for, when its handler knows
    /// what the reply shows (see `reply_barrier`).
    reply_generation: Option<u64>,
    rng: SmallRng,
    tilt: bool,
    tilt_start_time: Millis,
    previous_time: Millis,
    simfailure: u8,
    scripts: scripts::ScriptQueue,
    vip: crate::vip::VipDecider,
    /// When the next timer run is due at the latest: a random 50–100 ms after the last one
    /// (see `next_deadline`).
    next_tick: Millis,
    /// The VIP side's earliest deadline before `next_tick` (a lease end, a takeover, a release
    /// probe): recomputed by every tick, lowered by every VIP decision
    /// ([`Sentinel::wake_at`]), so asking for it costs O(1).
    wake: Option<Millis>,
    /// Masters' deadlines before `next_tick` (a failover start, crossing down-after): reaching
    /// one runs that master's checks only ([`Sentinel::timer`]).
    deadlines: deadlines::Deadlines,
    /// Masters whose failover reached `UpdateConfig`: switched to the promoted replica at the
    /// end of the current call into the core (Redis waits for the next timer run).
    switch_due: Vec<usize>,
    /// The time of the current call into the core (events are stamped with it).
    clock: Millis,
    /// Each master's recent failovers (see `history`).
    history: history::History,
}

/// `SENTINEL SIMULATE-FAILURE` flag: crash right after being elected.
pub const SIMFAILURE_CRASH_AFTER_ELECTION: u8 = 1;
/// `SENTINEL SIMULATE-FAILURE` flag: crash right after the promotion is seen.
pub const SIMFAILURE_CRASH_AFTER_PROMOTION: u8 = 2;

impl Sentinel {
    /// Build a sentinel from its loaded configuration. Generates and persists `myid` when
    /// absent and queues a `+monitor` event per master.
    pub fn new(
        mut config: SentinelConfig,
        options: Options,
        persist: Box<dyn Persist>,
        now: Millis,
    ) -> Result<Sentinel, String> {
        let mut rng = SmallRng::seed_from_u64(options.seed);
        let generated = config.myid.is_none();
        if generated {
            let id: String = (0..40)
                .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
                .collect();
            config.myid = Some(id);
        }
        let master_cfgs = std::mem::take(&mut config.masters);
        let mut sentinel = Sentinel {
            config,
            options,
            persist,
            commit: commit::Commit::default(),
            masters: Vec::new(),
            by_name: HashMap::new(),
            by_addr: HashMap::new(),
            links: Links::default(),
            timers: Timers::default(),
            outbox: outbox::Outbox::default(),
            epoch_generation: 0,
            reply_generation: None,
            rng,
            tilt: false,
            tilt_start_time: 0,
            previous_time: now,
            simfailure: 0,
            scripts: scripts::ScriptQueue::default(),
            vip: crate::vip::VipDecider::new(),
            next_tick: now + timers::MAX_TICK_PERIOD,
            wake: None,
            deadlines: deadlines::Deadlines::default(),
            switch_due: Vec::new(),
            clock: now,
            history: history::History::default(),
        };
        for cfg in master_cfgs {
            sentinel.add_master(cfg, now).map_err(|e| e.to_string())?;
        }
        if generated {
            sentinel.flush_config()?;
        }
        for mi in 0..sentinel.masters.len() {
            sentinel.vip_sync_master(mi, now);
            let quorum = sentinel.masters[mi].cfg.quorum;
            sentinel.event(
                Level::Warning,
                "+monitor",
                Some((mi, Which::Master)),
                &format!("quorum {quorum}"),
            );
        }
        Ok(sentinel)
    }

    /// Feed one input.
    pub fn handle(&mut self, input: Input, now: Millis) {
        self.clock = now;
        match input {
            Input::LinkUp { link, local_ip } => self.on_link_up(link, local_ip),
            Input::LinkDown { link, .. } => {
                // Warden: a broken command connection keeps the down-after clock running, for
                // a master from its last reply (see `Links::conn_lost`; Redis restarts it at the
                // reconnection's PING, up to a timer period later).
                let key = self.links.route(link).map(|(key, _)| key);
                if let Some(due) = self.links.conn_lost(link, now) {
                    if let Some((mi, Which::Master)) = key.and_then(|key| self.link_owner(key)) {
                        self.wake_master_at(due, mi);
                    }
                }
            }
            Input::Reply { link, reply } => self.on_reply(link, reply, now),
            Input::Message {
                link,
                channel,
                payload,
            } => self.on_message(link, &channel, &payload, now),
            Input::ScriptStarted { id, pid } => self.scripts.started(id, pid),
            Input::ScriptExited { id, outcome } => self.script_exited(id, outcome, now),
            Input::LocalAddrs { addrs } => self.vip.set_local_addrs(&addrs),
            Input::VipObserved { master, present } => self.vip.observe_present(&master, present),
            Input::VipFound {
                master,
                lifetime_ms,
            } => self.vip.observe_found(&master, lifetime_ms, now),
            Input::VipRoute { master, present } => self.vip.observe_route(&master, present, now),
        }
        self.switch_due_masters(now);
        self.vip_poll(now, false);
        self.commit(now);
    }

    /// Call when [`Sentinel::next_deadline`] is reached: the periodic run
    /// ([`Sentinel::tick`]) when it is due, else the checks of the masters whose deadline came
    /// (a failover start, crossing down-after) and the VIP decisions, without visiting every
    /// other instance.
    pub fn timer(&mut self, now: Millis) {
        self.clock = now;
        // A clock that went back leaves the next tick (and every deadline) in the future: tick
        // now, and the tick's TILT check finds the jump (and gives up the VIP, whose lease was
        // measured with that clock).
        if now >= self.next_tick || now < self.previous_time {
            self.tick(now);
            return;
        }
        for mi in self.deadlines.take_due(now) {
            if mi < self.masters.len() {
                self.handle_instance(mi, Which::Master, now);
            }
        }
        self.switch_due_masters(now);
        if self.wake.is_some_and(|t| t <= now) {
            self.wake = None;
            self.vip_poll(now, true);
        }
        self.commit(now);
    }

    /// Run periodic work over every instance: the equivalent of Redis Sentinel's
    /// `sentinelTimer`.
    pub fn tick(&mut self, now: Millis) {
        self.clock = now;
        self.check_tilt(now);
        for mi in 0..self.masters.len() {
            self.handle_instance(mi, Which::Master, now);
            for ri in 0..self.masters[mi].replicas.len() {
                self.handle_instance(mi, Which::Replica(ri), now);
            }
            for si in 0..self.masters[mi].sentinels.len() {
                self.handle_instance(mi, Which::Sentinel(si), now);
            }
        }
        self.switch_due_masters(now);
        self.run_scripts(now);
        self.vip_poll(now, true);
        // Like Redis Sentinel's re-randomised hz: sentinels started together must not evaluate
        // in lockstep, or they reach ODOWN together and split the vote.
        self.next_tick = now
            + self
                .rng
                .gen_range(timers::MAX_TICK_PERIOD / 2..=timers::MAX_TICK_PERIOD);
        self.wake = self.vip.next_deadline(now).filter(|t| *t > now);
        self.reset_deadlines(now);
        self.commit(now);
    }

    /// The latest time by which [`Sentinel::tick`] must be called again: a random 50–100 ms
    /// after the last run, or earlier when a failover attempt, SDOWN or a VIP decision (lease
    /// end, takeover, release probe) is due. The driver asks again after every input, since an
    /// input can move it earlier. O(1): the tick computes it, inputs only lower it.
    pub fn next_deadline(&self, now: Millis) -> Millis {
        self.wake
            .filter(|t| *t > now)
            .into_iter()
            .chain(self.deadlines.next())
            .fold(self.next_tick, Millis::min)
    }

    /// Every master's deadline, computed from scratch (by the tick, which visits every
    /// instance anyway): a pending failover start (its ODOWN start delay or the retry gap) and
    /// crossing down-after (so SDOWN is noticed at that moment, not up to one timer period
    /// later).
    fn reset_deadlines(&mut self, now: Millis) {
        let deadlines = self
            .masters
            .iter()
            .enumerate()
            .flat_map(|(mi, m)| {
                let start =
                    (m.inst.flags.o_down && !m.inst.flags.failover_in_progress).then(|| {
                        m.failover
                            .start_after
                            .max(m.failover.start_time + m.cfg.failover_timeout_ms * 2)
                    });
                let sdown = (!m.inst.flags.s_down)
                    .then(|| self.links.get(m.inst.link)?.sdown_due(m.inst.down_after))
                    .flatten();
                start.into_iter().chain(sdown).map(move |t| (t, mi))
            })
            .filter(|(t, _)| *t > now)
            .collect::<Vec<_>>();
        self.deadlines.reset(deadlines);
    }

    /// Make sure the timer runs at `t` for the VIP side (a deadline set between two ticks).
    fn wake_at(&mut self, t: Millis) {
        self.wake = Some(self.wake.map_or(t, |w| w.min(t)));
    }

    /// Make sure master `mi`'s checks run at `t` (a deadline set between two ticks); one
    /// after the next tick is left to that tick, which finds it again.
    fn wake_master_at(&mut self, t: Millis, mi: usize) {
        if t < self.next_tick {
            self.deadlines.at(t, mi);
        }
    }

    /// Next action for the driver, if any (those that could reveal a change not yet durable
    /// wait for its save; see `outbox`).
    pub fn poll_action(&mut self) -> Option<Action> {
        self.outbox.pop()
    }

    /// Execute `SENTINEL <args...>` (args exclude the word `SENTINEL`). The driver must not
    /// write the reply before [`Sentinel::reply_barrier`] is durable.
    pub fn command(&mut self, args: &[Bytes], now: Millis) -> Reply {
        self.clock = now;
        self.reply_generation = None;
        let cmd = match SentinelCommand::parse(args) {
            Ok(cmd) => cmd,
            Err(refusal) => return refusal,
        };
        let reply = commands::dispatch(self, cmd, now);
        self.switch_due_masters(now);
        // Unless its handler said what it shows, a reply may show an epoch, a vote or a
        // configuration: it waits for all of them.
        let barrier = self.commit.barrier();
        self.reply_generation.get_or_insert(barrier);
        if !cmd.is_read_only() {
            self.vip_poll(now, false);
            self.commit(now);
        }
        reply
    }

    /// The save generation a reply produced now must wait for, if it is not durable yet (the
    /// driver holds the reply, and any later one on the same connection, until
    /// [`Sentinel::saved`] reports it — or [`Sentinel::durable_generation`] reaches it).
    pub fn reply_barrier(&self) -> Option<u64> {
        self.reply_generation
            .filter(|generation| !self.commit.is_durable(*generation))
    }

    /// The save generation an output revealing `what` must wait for.
    fn generation_for(&self, what: Reveals) -> u64 {
        match what {
            Reveals::Nothing => 0,
            Reveals::Master(mi) => self.masters.get(mi).map_or(0, |m| m.saved_generation),
            Reveals::Epochs(mi) => self
                .epoch_generation
                .max(mi.map_or(0, |mi| self.generation_for(Reveals::Master(mi)))),
        }
    }

    /// The newest save generation known durable.
    pub fn durable_generation(&self) -> u64 {
        self.commit.durable()
    }

    /// A background save ([`Saved::Pending`]) of `generation` ended — written, or failed
    /// (the persister logs why; like Redis Sentinel, the sentinel announces anyway). Releases
    /// the outputs that waited for it and begins the next save if there are new changes.
    pub fn saved(&mut self, generation: u64, now: Millis) {
        self.clock = now;
        self.commit.ended(generation, now);
        self.saved_through(generation);
        self.commit(now);
    }

    /// Generation `generation` ended: release what waited for it.
    fn saved_through(&mut self, generation: u64) {
        self.commit.done(generation);
        self.outbox.release(self.commit.durable());
    }

    /// Whether `SENTINEL <args...>` only reads state: such a command changes no deadline and
    /// needs nothing re-evaluated after it.
    pub fn command_is_read_only(args: &[Bytes]) -> bool {
        args.first()
            .and_then(|word| Subcommand::lookup(word))
            .is_some_and(Subcommand::is_read_only)
    }

    /// A hello payload received via `PUBLISH __sentinel__:hello <payload>` on our own port.
    pub fn receive_hello(&mut self, payload: &[u8], now: Millis) {
        self.clock = now;
        self.process_hello(payload, now);
        self.vip_poll(now, false);
        self.commit(now);
    }

    /// The `# Sentinel` section of INFO (without header), lines joined with `\r\n`.
    pub fn info_section(&self, now: Millis) -> String {
        let _ = now;
        let mut out = format!(
            "sentinel_masters:{}\r\nsentinel_tilt:{}\r\nsentinel_tilt_since_seconds:{}\r\n\
sentinel_running_scripts:{}\r\nsentinel_scripts_queue_length:{}\r\nsentinel_simulate_failure_flags:{}\r\n",
            self.masters.len(),
            u8::from(self.tilt),
            if self.tilt { (now.saturating_sub(self.tilt_start_time) / 1000) as i64 } else { -1 },
            self.scripts.running(),
            self.scripts.len(),
            self.simfailure
        );
        for (i, m) in self.masters.iter().enumerate() {
            let status = if m.inst.flags.o_down {
                "odown"
            } else if m.inst.flags.s_down {
                "sdown"
            } else {
                "ok"
            };
            out.push_str(&format!(
                "master{i}:name={},status={status},address={}:{},slaves={},sentinels={}\r\n",
                m.cfg.name,
                m.inst.addr.announced(self.config.announce_hostnames),
                m.inst.addr.port,
                m.replicas.len(),
                m.sentinels.len() + 1
            ));
        }
        out.push_str(&self.vip_info_lines(now));
        out.truncate(out.trim_end_matches("\r\n").len());
        out
    }

    /// Names of monitored masters, for `ROLE`.
    pub fn master_names(&self) -> Vec<String> {
        self.masters.iter().map(|m| m.cfg.name.clone()).collect()
    }

    /// The VIP configured for `master`, if any (O(1): no configuration snapshot).
    pub fn vip_config(&self, master: &str) -> Option<&crate::config::VipConfig> {
        self.masters[self.master_index(master)?].cfg.vip.as_ref()
    }

    /// This sentinel's run id.
    pub fn myid(&self) -> &str {
        self.config.myid.as_deref().unwrap_or("")
    }

    /// Whether the sentinel is in TILT mode.
    pub fn in_tilt(&self) -> bool {
        self.tilt
    }

    /// The current `loglevel`: as loaded, or as `SENTINEL CONFIG SET loglevel` last set it.
    pub fn loglevel(&self) -> &str {
        self.config
            .loglevel
            .as_deref()
            .unwrap_or(&self.options.loglevel)
    }

    /// Snapshot of the persistent state, as it would be written to the config file.
    pub fn config(&self) -> SentinelConfig {
        let mut cfg = self.config.clone();
        cfg.masters = self
            .masters
            .iter()
            .map(|m| self.master_snapshot(m))
            .collect();
        cfg
    }

    fn master_snapshot(&self, m: &Master) -> MasterConfig {
        let mut cfg = m.cfg.clone();
        let current = m.current_addr();
        cfg.host = current.hostname.clone();
        cfg.port = current.port;
        let switched = !current.same_as(&m.inst.addr);
        cfg.known_replicas = m
            .replicas
            .iter()
            .enumerate()
            .map(|(i, r)| {
                // Mid-failover the promoted replica is written as the old master's address.
                let addr = if switched && m.failover.promoted == Some(i) {
                    &m.inst.addr
                } else {
                    &r.addr
                };
                (addr.hostname.clone(), addr.port)
            })
            .collect();
        cfg.known_sentinels = m
            .sentinels
            .iter()
            .filter_map(|s| Some((s.addr.hostname.clone(), s.addr.port, s.runid.clone()?)))
            .collect();
        cfg
    }

    /// Persist the state now, synchronously (operator commands report the outcome); on
    /// failure return the reason (the persister logs it, as Redis does).
    fn flush_config(&mut self) -> Result<(), String> {
        let generation = self.commit.begin_now();
        let snapshot = self.config();
        let result = self.persist.save(generation, snapshot, true).map(|_| ());
        self.saved_through(generation);
        result
    }

    /// The state changed where Redis Sentinel flushes its config: saved at the end of this
    /// call into the core (see `commit`); what the change is decides what waits for that save.
    fn flush(&mut self, change: Change) {
        self.commit.mark();
        let generation = self.commit.barrier();
        match change {
            Change::Epoch => self.epoch_generation = generation,
            Change::Master(mi) => self.masters[mi].saved_generation = generation,
            Change::Discovery => {}
        }
    }

    /// Begin the save of this call's changes, unless one is in flight (they go with the next).
    fn commit(&mut self, now: Millis) {
        let Some(generation) = self.commit.begin(now) else {
            return;
        };
        let snapshot = self.config();
        match self.persist.save(generation, snapshot, false) {
            Ok(Saved::Pending) => {}
            // A failed save was logged by the persister; Redis Sentinel goes on announcing.
            Ok(Saved::Durable) | Err(_) => self.saved_through(generation),
        }
    }

    /// Queue an action for the driver: events, scripts and the simulated crash may reveal the
    /// current epoch (commands say what they reveal, see `send`); connects, closes and log
    /// lines reveal nothing.
    fn push(&mut self, action: Action) {
        let reveals = match action {
            Action::Connect { .. }
            | Action::Close { .. }
            | Action::Log { .. }
            | Action::KillScript { .. }
            | Action::VipClaim { .. }
            | Action::VipLease { .. }
            | Action::VipRelease { .. } => Reveals::Nothing,
            Action::Send { .. }
            | Action::Event(_)
            | Action::RunScript { .. }
            | Action::Exit { .. } => Reveals::Epochs(None),
        };
        self.push_revealing(action, reveals);
    }

    fn push_revealing(&mut self, action: Action, reveals: Reveals) {
        let needs = self.generation_for(reveals);
        self.outbox.push(action, needs, self.commit.durable());
    }

    fn push_all(&mut self, actions: Vec<Action>) {
        for action in actions {
            self.push(action);
        }
    }

    fn random_desync(&mut self) -> Millis {
        self.rng.gen_range(0..timers::MAX_DESYNC)
    }

    /// Build an address for `host:port`, resolving hostnames when allowed.
    fn make_addr(&self, host: &str, port: u16) -> Option<Addr> {
        let ip = resolve_ip_literal(host).or_else(|| {
            if self.config.resolve_hostnames {
                (self.options.resolver)(host)
            } else {
                None
            }
        })?;
        Some(Addr {
            hostname: host.to_string(),
            ip,
            port,
        })
    }

    fn master_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The first master whose current address is `host:port` (by IP or hostname).
    fn master_at(&self, host: &str, port: u16) -> Option<usize> {
        let exact = self.by_addr.get(&(host.to_string(), port));
        let folded = self.by_addr.get(&(host.to_ascii_lowercase(), port));
        exact
            .into_iter()
            .chain(folded)
            .flatten()
            .copied()
            .filter(|&mi| self.masters[mi].inst.addr.matches(host, port))
            .min()
    }

    /// Stop monitoring master `mi` (its links must be released by the caller).
    fn remove_master(&mut self, mi: usize) -> Master {
        let m = self.masters.remove(mi);
        self.history.remove(mi);
        self.reindex_masters();
        // The deadlines name masters by index: the next timer call is a full run, which
        // computes them again.
        self.deadlines.reset([]);
        self.next_tick = 0;
        m
    }

    /// Rebuild the name and address indexes (after a removal or an address change).
    fn reindex_masters(&mut self) {
        self.by_name.clear();
        self.by_addr.clear();
        for mi in 0..self.masters.len() {
            self.index_master(mi);
        }
    }

    fn index_master(&mut self, mi: usize) {
        self.by_name.insert(self.masters[mi].cfg.name.clone(), mi);
        self.index_addr(mi);
    }

    /// The address index keys of master `mi`'s current address.
    fn addr_keys(&self, mi: usize) -> Vec<(String, u16)> {
        let addr = &self.masters[mi].inst.addr;
        let mut keys = vec![(addr.ip.clone(), addr.port)];
        let host = addr.hostname.to_ascii_lowercase();
        if host != addr.ip {
            keys.push((host, addr.port));
        }
        keys
    }

    fn index_addr(&mut self, mi: usize) {
        for key in self.addr_keys(mi) {
            let entry = self.by_addr.entry(key).or_default();
            let at = entry.partition_point(|&i| i < mi);
            entry.insert(at, mi);
        }
    }

    fn unindex_addr(&mut self, mi: usize) {
        for key in self.addr_keys(mi) {
            if let Some(entry) = self.by_addr.get_mut(&key) {
                entry.retain(|&i| i != mi);
                if entry.is_empty() {
                    self.by_addr.remove(&key);
                }
            }
        }
    }

    fn inst(&self, mi: usize, which: Which) -> &Instance {
        let m = &self.masters[mi];
        match which {
            Which::Master => &m.inst,
            Which::Replica(i) => &m.replicas[i],
            Which::Sentinel(i) => &m.sentinels[i],
        }
    }

    fn inst_mut(&mut self, mi: usize, which: Which) -> &mut Instance {
        let m = &mut self.masters[mi];
        match which {
            Which::Master => &mut m.inst,
            Which::Replica(i) => &mut m.replicas[i],
            Which::Sentinel(i) => &mut m.sentinels[i],
        }
    }

    fn target(&self, mi: usize, which: Which) -> Target {
        let m = &self.masters[mi];
        match which {
            Which::Master => Target::Master(m.cfg.name.clone()),
            Which::Replica(i) => Target::Replica(
                m.cfg.name.clone(),
                m.replicas[i].addr.ip.clone(),
                m.replicas[i].addr.port,
            ),
            Which::Sentinel(i) => Target::Sentinel(
                m.cfg.name.clone(),
                m.sentinels[i].runid.clone().unwrap_or_default(),
            ),
        }
    }

    fn resolve_target(&self, target: &Target) -> Option<(usize, Which)> {
        match target {
            Target::Master(name) => Some((self.master_index(name)?, Which::Master)),
            Target::Replica(name, ip, port) => {
                let mi = self.master_index(name)?;
                Some((
                    mi,
                    Which::Replica(self.masters[mi].replica_index(ip, *port)?),
                ))
            }
            Target::Sentinel(name, runid) => {
                let mi = self.master_index(name)?;
                Some((mi, Which::Sentinel(self.masters[mi].sentinel_index(runid)?)))
            }
        }
    }

    /// `%@`: `<type> <name> <ip> <port>` plus ` @ <master> <ip> <port>` for non-masters.
    fn describe(&self, mi: usize, which: Which) -> String {
        let m = &self.masters[mi];
        let hostnames = self.config.announce_hostnames;
        let inst = self.inst(mi, which);
        let name = match which {
            Which::Master => m.cfg.name.clone(),
            _ => inst.name(hostnames),
        };
        let mut out = format!(
            "{} {} {} {}",
            inst.kind.word(),
            name,
            inst.addr.announced(hostnames),
            inst.addr.port
        );
        if which != Which::Master {
            out.push_str(&format!(
                " @ {} {} {}",
                m.cfg.name,
                m.inst.addr.announced(hostnames),
                m.inst.addr.port
            ));
        }
        out
    }

    /// Emit an event. With `at`, the message is `%@` followed by `rest` (if not empty), and a
    /// warning runs the master's notification script.
    fn event(&mut self, level: Level, kind: &str, at: Option<(usize, Which)>, rest: &str) {
        let message = match at {
            Some((mi, which)) if rest.is_empty() => self.describe(mi, which),
            Some((mi, which)) => format!("{} {}", self.describe(mi, which), rest),
            None => rest.to_string(),
        };
        self.emit(level, kind, at.map(|(mi, _)| mi), message);
    }

    /// Emit an event whose message is fully formatted; `master` names whose notification script
    /// runs for warnings.
    fn emit(&mut self, level: Level, kind: &str, master: Option<usize>, message: String) {
        if level == Level::Warning {
            if let Some(script) =
                master.and_then(|mi| self.masters[mi].cfg.notification_script.clone())
            {
                self.scripts
                    .schedule(vec![script, kind.to_string(), message.clone()]);
            }
        }
        if let Some(mi) = master {
            self.history_observe(mi, kind, &message, self.clock);
        }
        let event = Action::Event(Event {
            level,
            kind: kind.to_string(),
            message,
        });
        self.push_revealing(event, Reveals::Epochs(master));
    }

    /// Start monitoring a master (config load or `SENTINEL MONITOR`).
    fn add_master(&mut self, cfg: MasterConfig, now: Millis) -> Result<usize, &'static str> {
        if self.master_index(&cfg.name).is_some() {
            return Err("Duplicate master name.");
        }
        let addr = self
            .make_addr(&cfg.host, cfg.port)
            .ok_or("Can't resolve instance hostname.")?;
        let link = self.links.create(true, now);
        self.links.watch_sdown(link, Some(cfg.down_after_ms));
        self.links.set_owner(link, Target::Master(cfg.name.clone()));
        let mut inst = Instance::new(Kind::Master, addr, link, cfg.down_after_ms, now);
        inst.flags = Flags::default();
        let known_replicas = cfg.known_replicas.clone();
        let known_sentinels = cfg.known_sentinels.clone();
        self.masters.push(Master {
            cfg,
            inst,
            replicas: Vec::new(),
            sentinels: Vec::new(),
            failover: instance::Failover::default(),
            fence: None,
            saved_generation: 0,
        });
        let mi = self.masters.len() - 1;
        self.index_master(mi);
        for (host, port) in known_replicas {
            self.add_replica(mi, &host, port, now);
        }
        for (host, port, runid) in known_sentinels {
            self.add_sentinel(mi, &host, port, &runid, now);
        }
        Ok(mi)
    }

    /// Add a replica entry unless one exists at that address; returns its index if added.
    fn add_replica(&mut self, mi: usize, host: &str, port: u16, now: Millis) -> Option<usize> {
        let addr = self.make_addr(host, port)?;
        let m = &self.masters[mi];
        if m.replicas.iter().any(|r| r.addr.same_as(&addr)) {
            return None;
        }
        let down_after = m.cfg.down_after_ms;
        let owner = Target::Replica(m.cfg.name.clone(), addr.ip.clone(), addr.port);
        let link = self.links.create(true, now);
        self.links.set_owner(link, owner);
        self.masters[mi]
            .replicas
            .push(Instance::new(Kind::Replica, addr, link, down_after, now));
        Some(self.masters[mi].replicas.len() - 1)
    }

    /// Add a sentinel entry (sharing an existing link to the same run id); returns its index.
    fn add_sentinel(
        &mut self,
        mi: usize,
        host: &str,
        port: u16,
        runid: &str,
        now: Millis,
    ) -> Option<usize> {
        let addr = self.make_addr(host, port)?;
        if self.masters[mi]
            .sentinels
            .iter()
            .any(|s| s.addr.same_as(&addr) || s.runid.as_deref() == Some(runid))
        {
            return None;
        }
        let shared = self
            .masters
            .iter()
            .flat_map(|m| m.sentinels.iter())
            .find(|s| s.runid.as_deref() == Some(runid) && s.addr.same_as(&addr))
            .map(|s| s.link);
        let link = match shared {
            Some(key) => {
                self.links.share(key);
                key
            }
            None => self.links.create(false, now),
        };
        let down_after = self.masters[mi].cfg.down_after_ms;
        let mut inst = Instance::new(Kind::Sentinel, addr, link, down_after, now);
        inst.runid = Some(runid.to_string());
        self.masters[mi].sentinels.push(inst);
        self.vip_peers_changed(mi);
        Some(self.masters[mi].sentinels.len() - 1)
    }

    /// Release an instance's link, closing its connections if it was the last user.
    fn release_link(&mut self, key: instance::LinkKey) {
        for id in self.links.release(key) {
            self.push(Action::Close { link: id });
        }
    }

    /// Close one connection of a link (it will be reopened by the next reconnect).
    fn close_conn(&mut self, id: crate::io::LinkId) {
        if self.links.drop_conn(id) {
            self.push(Action::Close { link: id });
        }
    }
}
#[cfg(test)]
mod tests;
