//! Watching instances: (re)connecting links, the periodic PING / INFO / hello traffic, and
//! what the replies to it mean.

use super::detect::Ask;
use super::info::{self, ParsedInfo};
use super::instance::{FailoverState, Kind, Role};
use super::links::Expect;
use super::timers::{
    ping_period, FAST_INFO_PERIOD, MAX_PENDING_COMMANDS, MIN_PING_PERIOD, PROMOTION_INFO_PERIOD,
};
use super::{Change, Reveals, Sentinel, Which, SIMFAILURE_CRASH_AFTER_PROMOTION};
use crate::io::{Action, Level, LinkId, LinkKind};
use crate::reply::Reply;
use crate::Millis;
use bytes::Bytes;

/// The pub/sub channel hellos travel on.
pub const HELLO_CHANNEL: &str = "__sentinel__:hello";

impl Sentinel {
    /// One instance's share of a timer run (Redis's `sentinelHandleRedisInstance`).
    pub(super) fn handle_instance(&mut self, mi: usize, which: Which, now: Millis) {
        self.reconnect(mi, which, now);
        self.send_periodic(mi, which, now);
        match which {
            Which::Sentinel(si) => self.vip_ask_confirmation(mi, si, now),
            Which::Master => self.fence_retry(mi, now),
            Which::Replica(_) => {}
        }
        if self.tilt {
            if now.saturating_sub(self.tilt_start_time) < self.timers.tilt_period {
                return;
            }
            self.tilt = false;
            self.emit(Level::Warning, "-tilt", None, "#tilt mode exited".into());
        }
        self.check_sdown(mi, which, now);
        if which == Which::Master {
            self.check_odown(mi, now);
            if self.start_failover_if_needed(mi, now) {
                self.ask_peers(mi, Ask::Now, now);
            }
            self.failover_step(mi, now);
            self.ask_peers(mi, Ask::WhenDue, now);
        }
    }

    /// Words of a command with the master's rename-command table applied to its name.
    pub(super) fn words(&self, mi: usize, words: &[&str]) -> Vec<Bytes> {
        let renamed = &self.masters[mi].cfg.renamed_commands;
        words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let word = if i == 0 {
                    renamed
                        .iter()
                        .find(|(from, _)| from.eq_ignore_ascii_case(w))
                        .map_or(*w, |(_, to)| to.as_str())
                } else {
                    w
                };
                Bytes::copy_from_slice(word.as_bytes())
            })
            .collect()
    }

    /// Queue commands on an instance's connection; false if that connection is missing.
    pub(super) fn send(
        &mut self,
        mi: usize,
        which: Which,
        kind: LinkKind,
        cmds: Vec<(Vec<Bytes>, Expect)>,
    ) -> bool {
        let key = self.inst(mi, which).link;
        let Some(link) = self.links.get_mut(key) else {
            return false;
        };
        let conn = match kind {
            LinkKind::Cmd => link.cmd.as_mut(),
            LinkKind::PubSub => link.pubsub.as_mut(),
        };
        let Some(conn) = conn else { return false };
        let id = conn.id;
        // PING, INFO and questions reveal nothing (a peer ignores the epoch of a question that
        // asks no vote); hellos carry the current epoch; the failover's transactions and
        // handshakes act on this master's election (see `outbox`). A vote request leaves at
        // once, before the candidate's own vote for itself and its new epoch are durable (Raft
        // persists them first): its voters persist their own votes, and nothing the candidate
        // does as the leader — `+elected-leader`, the promotion — leaves before its vote for
        // itself is durable (those wait for this master's save), so a candidate that crashes
        // first never acted, and voting again in that epoch after a restart elects at most
        // one leader. The election saves one save's wait, and the first candidate's request
        // reaches the others before their own start (no split vote).
        let reveals = cmds
            .iter()
            .map(|(_, expect)| match expect {
                Expect::Ping
                | Expect::Info
                | Expect::MasterDown { .. }
                | Expect::VipConfirm { .. }
                | Expect::VipProbe { .. }
                | Expect::Fence { .. } => Reveals::Nothing,
                Expect::Publish(_) => Reveals::Epochs(Some(mi)),
                Expect::Ignore | Expect::Handover(_) => Reveals::Master(mi),
            })
            .max_by_key(|r| match r {
                Reveals::Nothing => 0,
                Reveals::Master(_) => 1,
                Reveals::Epochs(_) => 2,
            })
            .unwrap_or(Reveals::Nothing);
        let mut commands = Vec::with_capacity(cmds.len());
        for (words, expect) in cmds {
            conn.expect.push_back(expect);
            commands.push(words);
        }
        if kind == LinkKind::Cmd {
            link.pending_commands += commands.len() as u32;
        }
        self.push_revealing(Action::Send { link: id, commands }, reveals);
        true
    }

    fn auth_words(&self, mi: usize, which: Which) -> Option<Vec<Bytes>> {
        let (user, pass) = match self.inst(mi, which).kind {
            Kind::Master | Kind::Replica => {
                let cfg = &self.masters[mi].cfg;
                (cfg.auth_user.clone(), cfg.auth_pass.clone())
            }
            Kind::Sentinel => match &self.config.sentinel_pass {
                Some(pass) => (self.config.sentinel_user.clone(), Some(pass.clone())),
                None => (None, self.options.requirepass.clone()),
            },
        };
        let pass = pass?;
        Some(match user {
            Some(user) => self.words(mi, &["AUTH", &user, &pass]),
            None => self.words(mi, &["AUTH", &pass]),
        })
    }

    fn handshake(&self, mi: usize, which: Which, suffix: &str) -> Vec<(Vec<Bytes>, Expect)> {
        let mut cmds = Vec::new();
        if let Some(auth) = self.auth_words(mi, which) {
            cmds.push((auth, Expect::Ignore));
        }
        let name = format!(
            "sentinel-{}-{suffix}",
            &self.myid()[..8.min(self.myid().len())]
        );
        cmds.push((
            self.words(mi, &["CLIENT", "SETNAME", &name]),
            Expect::Ignore,
        ));
        cmds
    }

    /// Open missing connections, at most once per ping period.
    fn reconnect(&mut self, mi: usize, which: Which, now: Millis) {
        let inst = self.inst(mi, which);
        let (key, port) = (inst.link, inst.addr.port);
        // Redis retries once per ping period (1 s); with a down-after below a few seconds a
        // single dropped connection would then turn into SDOWN before the retry. Warden retries
        // within a quarter of down-after (at least every 100 ms, at most every ping period).
        let retry = self
            .timers
            .ping_period
            .min((inst.down_after / 4).max(MIN_PING_PERIOD));
        let Some(link) = self.links.get_mut(key) else {
            return;
        };
        if !link.disconnected() || port == 0 {
            return;
        }
        if now.saturating_sub(link.last_reconn_time) < retry {
            return;
        }
        link.last_reconn_time = now;
        let need_cmd = link.cmd.is_none();
        let need_pubsub = link.wants_pubsub && link.pubsub.is_none();
        let host = self.inst(mi, which).addr.ip.clone();
        // A connect reveals nothing, but waits for the master's last change to be saved, so
        // a switch to a new address is announced before anything is sent to it.
        let after = Reveals::Master(mi);
        if need_cmd {
            let id = self.links.open(key, LinkKind::Cmd, now);
            let connect = Action::Connect {
                link: id,
                kind: LinkKind::Cmd,
                host: host.clone(),
                port,
            };
            self.push_revealing(connect, after);
            let cmds = self.handshake(mi, which, "cmd");
            self.send(mi, which, LinkKind::Cmd, cmds);
            self.send_ping(mi, which, now);
        }
        if need_pubsub {
            let id = self.links.open(key, LinkKind::PubSub, now);
            let connect = Action::Connect {
                link: id,
                kind: LinkKind::PubSub,
                host,
                port,
            };
            self.push_revealing(connect, after);
            let mut cmds = self.handshake(mi, which, "pubsub");
            cmds.push((
                self.words(mi, &["SUBSCRIBE", HELLO_CHANNEL]),
                Expect::Ignore,
            ));
            self.send(mi, which, LinkKind::PubSub, cmds);
        }
    }

    pub(super) fn send_ping(&mut self, mi: usize, which: Which, now: Millis) -> bool {
        let ping = self.words(mi, &["PING"]);
        if !self.send(mi, which, LinkKind::Cmd, vec![(ping, Expect::Ping)]) {
            return false;
        }
        let inst = self.inst(mi, which);
        let (key, down_after) = (inst.link, inst.down_after);
        let mut first = false;
        if let Some(link) = self.links.get_mut(key) {
            link.last_ping_time = now;
            if link.act_ping_time == 0 {
                link.act_ping_time = now;
                first = true;
            }
        }
        if first && which == Which::Master {
            self.wake_master_at(now + down_after + 1, mi);
        }
        true
    }

    pub(super) fn send_info(&mut self, mi: usize, which: Which) -> bool {
        let info = self.words(mi, &["INFO"]);
        self.send(mi, which, LinkKind::Cmd, vec![(info, Expect::Info)])
    }

    /// PING, INFO and hello on their periods (Redis's `sentinelSendPeriodicCommands`).
    fn send_periodic(&mut self, mi: usize, which: Which, now: Millis) {
        let inst = self.inst(mi, which);
        let Some(link) = self.links.get(inst.link) else {
            return;
        };
        if link.disconnected() {
            return;
        }
        if link.pending_commands >= MAX_PENDING_COMMANDS * link.refcount {
            return;
        }
        let master = &self.masters[mi];
        let info_period = if (inst.flags.promoted
            && master.failover.state == FailoverState::WaitPromotion)
            || inst.flags.reconf_sent
            || inst.flags.reconf_inprog
        {
            // Warden: confirm the promotion (and each replica's reconfiguration) within
            // 100 ms rather than on the next 1 s poll.
            PROMOTION_INFO_PERIOD
        } else if inst.kind == Kind::Replica
            && (master.inst.flags.s_down
                || master.inst.flags.o_down
                || master.inst.flags.failover_in_progress
                || inst.master_link_down_time != 0)
        {
            FAST_INFO_PERIOD
        } else {
            self.timers.info_period
        };
        let ping_period = ping_period(
            inst.kind,
            inst.down_after,
            self.timers.ping_period,
            self.masters.len(),
        );
        let want_info = inst.kind != Kind::Sentinel
            && (inst.info_refresh == 0 || now.saturating_sub(inst.info_refresh) > info_period);
        let want_ping = now.saturating_sub(link.last_pong_time) > ping_period
            && now.saturating_sub(link.last_ping_time) > ping_period / 2;
        let want_hello = now.saturating_sub(inst.last_pub_time) > self.timers.publish_period;
        if want_info {
            self.send_info(mi, which);
        }
        if want_ping {
            self.send_ping(mi, which, now);
        }
        if want_hello {
            self.send_hello(mi, which);
        }
    }

    /// Publish our hello to an instance (to its channel, or directly to a peer sentinel).
    pub(super) fn send_hello(&mut self, mi: usize, which: Which) -> bool {
        let inst = self.inst(mi, which);
        let Some(link) = self.links.get(inst.link) else {
            return false;
        };
        if link.disconnected() {
            return false;
        }
        let ip = match (&self.config.announce_ip, &link.local_ip) {
            (Some(ip), _) if !ip.is_empty() => ip.clone(),
            (_, Some(local)) => local.clone(),
            _ => return false,
        };
        let port = if self.config.announce_port != 0 {
            self.config.announce_port
        } else {
            self.options.port
        };
        let m = &self.masters[mi];
        let addr = m.current_addr();
        let payload = super::hello::Hello {
            ip,
            port,
            runid: self.myid().to_string(),
            current_epoch: self.config.current_epoch,
            master_name: m.cfg.name.clone(),
            master_ip: addr.announced(self.config.announce_hostnames).to_string(),
            master_port: addr.port,
            master_config_epoch: m.cfg.config_epoch,
        }
        .format();
        let words = self.words(mi, &["PUBLISH", HELLO_CHANNEL, &payload]);
        let target = self.target(mi, which);
        self.send(
            mi,
            which,
            LinkKind::Cmd,
            vec![(words, Expect::Publish(target))],
        )
    }

    pub(super) fn on_link_up(&mut self, id: LinkId, local_ip: String) {
        if let Some((key, LinkKind::Cmd)) = self.links.route(id) {
            if let Some(link) = self.links.get_mut(key) {
                link.local_ip = Some(local_ip);
            }
        }
    }

    pub(super) fn on_reply(&mut self, id: LinkId, reply: Reply, now: Millis) {
        let Some((key, kind)) = self.links.route(id) else {
            return;
        };
        let Some(link) = self.links.get_mut(key) else {
            return;
        };
        if kind == LinkKind::PubSub {
            link.pc_last_activity = now;
            let subscribe_failed = link.pubsub.as_mut().is_some_and(|conn| {
                conn.expect.pop_front();
                conn.expect.is_empty() && matches!(reply, Reply::Error(_))
            });
            if subscribe_failed {
                // SUBSCRIBE was refused (e.g. NOAUTH): like Redis Sentinel (hiredis drops such a
                // connection), close it so the link shows `disconnected` and is retried.
                self.close_conn(id);
            }
            return;
        }
        let Some(conn) = link.cmd.as_mut() else {
            return;
        };
        let Some(expect) = conn.expect.pop_front() else {
            // A reply nobody asked for: a confused or hostile peer. Drop the connection.
            self.close_conn(id);
            return;
        };
        link.pending_commands = link.pending_commands.saturating_sub(1);
        match expect {
            Expect::Ignore => {}
            Expect::Ping => self.on_ping_reply(key, &reply, now),
            Expect::Info => {
                // INFO may hold any byte (error stats echo client input): read it lossily like
                // Redis Sentinel, which only looks at ASCII fields.
                if let Some(text) = info::text_of(&reply) {
                    self.on_info_for_link(key, &text, now);
                }
            }
            Expect::Publish(target) => {
                if !matches!(reply, Reply::Error(_)) {
                    if let Some((mi, which)) = self.resolve_target(&target) {
                        self.inst_mut(mi, which).last_pub_time = now;
                    }
                }
            }
            Expect::MasterDown { master, runid, .. } => {
                self.on_master_down_reply(&master, &runid, &reply, now)
            }
            Expect::Handover(master) => self.on_handover_reply(&master, &reply, now),
            Expect::VipConfirm {
                master,
                runid,
                sent,
            } => self.on_vip_confirm(&master, &runid, sent, &reply),
            Expect::VipProbe { master, runid } => self.on_vip_probe(&master, &runid, &reply),
            Expect::Fence { master } => self.on_fence_reply(&master, &reply),
        }
    }

    pub(super) fn on_message(&mut self, id: LinkId, channel: &[u8], payload: &[u8], now: Millis) {
        let Some((key, LinkKind::PubSub)) = self.links.route(id) else {
            return;
        };
        if let Some(link) = self.links.get_mut(key) {
            link.pc_last_activity = now;
        }
        if channel != HELLO_CHANNEL.as_bytes() {
            return;
        }
        self.process_hello(payload, now);
    }

    fn on_ping_reply(&mut self, key: super::instance::LinkKey, reply: &Reply, now: Millis) {
        let text = match reply {
            Reply::Status(s) | Reply::Error(s) => s.as_str(),
            _ => "",
        };
        let valid = ["PONG", "LOADING", "MASTERDOWN"]
            .iter()
            .any(|p| text.starts_with(p));
        if let Some(link) = self.links.get_mut(key) {
            link.last_pong_time = now;
            if valid {
                link.last_avail_time = now;
                link.act_ping_time = 0;
            }
        }
        let busy = text.starts_with("BUSY");
        let Some((mi, Which::Master)) = self.link_owner(key) else {
            return;
        };
        let flags = &mut self.masters[mi].inst.flags;
        if valid && text.starts_with("PONG") {
            flags.master_reboot = false;
        }
        if busy && flags.s_down && !flags.script_kill_sent {
            flags.script_kill_sent = true;
            let words = self.words(mi, &["SCRIPT", "KILL"]);
            self.send(
                mi,
                Which::Master,
                LinkKind::Cmd,
                vec![(words, Expect::Ignore)],
            );
        }
    }

    /// The master or replica entry an (unshared) link belongs to.
    pub(super) fn link_owner(&self, key: super::instance::LinkKey) -> Option<(usize, Which)> {
        let owner = self.links.get(key)?.owner.as_ref()?;
        let found = self.resolve_target(owner)?;
        // The entry must still use this link (a stale owner finds nothing).
        (self.inst(found.0, found.1).link == key).then_some(found)
    }

    /// Apply an INFO reply to the instance that owns the (non-shared) link.
    fn on_info_for_link(&mut self, key: super::instance::LinkKey, text: &str, now: Millis) {
        if let Some((mi, which)) = self.link_owner(key) {
            self.on_info(mi, which, text, now);
        }
    }

    /// Apply an INFO reply (Redis's `sentinelRefreshInstanceInfo`).
    fn on_info(&mut self, mi: usize, which: Which, text: &str, now: Millis) {
        let parsed = info::parse(text);
        let inst = self.inst_mut(mi, which);
        inst.info = Some(text.to_string());
        inst.info_refresh = now;
        inst.master_link_down_time = parsed.master_link_down_ms;
        if let Some(run_id) = &parsed.run_id {
            match &inst.runid {
                None => inst.runid = Some(run_id.clone()),
                Some(old) if old != run_id => {
                    inst.runid = Some(run_id.clone());
                    self.event(Level::Notice, "+reboot", Some((mi, which)), "");
                    let reboot_period = self.masters[mi].cfg.master_reboot_down_after_period_ms;
                    if which == Which::Master && reboot_period != 0 {
                        let inst = self.inst_mut(mi, which);
                        inst.flags.master_reboot = true;
                        inst.master_reboot_since = now;
                    }
                }
                Some(_) => {}
            }
        }
        if which == Which::Master {
            self.discover_replicas(mi, &parsed, now);
        }
        self.apply_replication_fields(mi, which, &parsed, now);
        let Some(role) = parsed.role else { return };
        let inst = self.inst_mut(mi, which);
        if role != inst.role_reported {
            inst.role_reported = role;
            inst.role_reported_time = now;
            if role == Role::Slave {
                inst.slave_conf_change_time = now;
            }
            let coherent = matches!(
                (inst.kind, role),
                (Kind::Master, Role::Master) | (Kind::Replica, Role::Slave)
            );
            let word = if role == Role::Master {
                "master"
            } else {
                "slave"
            };
            let kind = if coherent {
                "+role-change"
            } else {
                "-role-change"
            };
            self.event(
                Level::Verbose,
                kind,
                Some((mi, which)),
                &format!("new reported role is {word}"),
            );
        }
        if self.tilt {
            return;
        }
        if let Which::Replica(ri) = which {
            self.replica_role_actions(mi, ri, role, now);
        }
    }

    fn discover_replicas(&mut self, mi: usize, parsed: &ParsedInfo, now: Millis) {
        for (ip, port) in &parsed.replicas {
            if self.masters[mi].replica_index(ip, *port).is_some() {
                continue;
            }
            if let Some(ri) = self.add_replica(mi, ip, *port, now) {
                self.event(Level::Notice, "+slave", Some((mi, Which::Replica(ri))), "");
                self.flush(Change::Discovery);
            }
        }
    }

    fn apply_replication_fields(
        &mut self,
        mi: usize,
        which: Which,
        parsed: &ParsedInfo,
        now: Millis,
    ) {
        if parsed.role != Some(Role::Slave) {
            return;
        }
        let inst = self.inst_mut(mi, which);
        if let Some(host) = &parsed.master_host {
            if inst.slave_master_host.as_deref() != Some(host) {
                inst.slave_master_host = Some(host.clone());
                inst.slave_conf_change_time = now;
            }
        }
        if let Some(port) = parsed.master_port {
            if inst.slave_master_port != port {
                inst.slave_master_port = port;
                inst.slave_conf_change_time = now;
            }
        }
        if let Some(up) = parsed.master_link_up {
            inst.slave_master_link_up = up;
        }
        if let Some(priority) = parsed.slave_priority {
            inst.slave_priority = priority;
        }
        if let Some(offset) = parsed.slave_repl_offset {
            inst.slave_repl_offset = offset;
        }
        if let Some(announced) = parsed.replica_announced {
            inst.replica_announced = announced;
        }
    }

    /// Promotion detection, conversion of stray masters, fixing replicas pointing elsewhere and
    /// reconfiguration progress (the INFO-driven actions, skipped in TILT).
    fn replica_role_actions(&mut self, mi: usize, ri: usize, role: Role, now: Millis) {
        let m = &self.masters[mi];
        let r = &m.replicas[ri];
        if role == Role::Master {
            if r.flags.promoted
                && m.inst.flags.failover_in_progress
                && m.failover.state == FailoverState::WaitPromotion
            {
                self.promotion_confirmed(mi, ri, now);
            } else {
                let wait = self.timers.publish_period * 4;
                if !r.flags.promoted
                    && self.master_looks_sane(mi, now)
                    && r.no_down_for(wait, now)
                    && now.saturating_sub(r.role_reported_time) > wait
                {
                    let master_addr = m.inst.addr.clone();
                    if self.send_slaveof(mi, Which::Replica(ri), Some(&master_addr)) {
                        self.event(
                            Level::Notice,
                            "+convert-to-slave",
                            Some((mi, Which::Replica(ri))),
                            "",
                        );
                    }
                }
            }
            return;
        }
        // role == slave
        let master_addr = m.inst.addr.clone();
        let points_elsewhere = r.slave_master_port != master_addr.port
            || !r
                .slave_master_host
                .as_deref()
                .is_some_and(|h| master_addr.matches(h, master_addr.port));
        if points_elsewhere {
            let wait = m.cfg.failover_timeout_ms;
            if self.master_looks_sane(mi, now)
                && r.no_down_for(wait, now)
                && now.saturating_sub(r.slave_conf_change_time) > wait
                && self.send_slaveof(mi, Which::Replica(ri), Some(&master_addr))
            {
                self.event(
                    Level::Notice,
                    "+fix-slave-config",
                    Some((mi, Which::Replica(ri))),
                    "",
                );
            }
        }
        let m = &self.masters[mi];
        let r = &m.replicas[ri];
        if r.flags.reconf_sent || r.flags.reconf_inprog {
            let promoted = m.promoted_replica().map(|p| p.addr.clone());
            if r.flags.reconf_sent {
                if let (Some(p), Some(host)) = (&promoted, &r.slave_master_host) {
                    if p.matches(host, r.slave_master_port) {
                        let flags = &mut self.masters[mi].replicas[ri].flags;
                        flags.reconf_sent = false;
                        flags.reconf_inprog = true;
                        self.event(
                            Level::Notice,
                            "+slave-reconf-inprog",
                            Some((mi, Which::Replica(ri))),
                            "",
                        );
                    }
                }
            }
            let r = &self.masters[mi].replicas[ri];
            if r.flags.reconf_inprog && r.slave_master_link_up {
                let flags = &mut self.masters[mi].replicas[ri].flags;
                flags.reconf_inprog = false;
                flags.reconf_done = true;
                self.event(
                    Level::Notice,
                    "+slave-reconf-done",
                    Some((mi, Which::Replica(ri))),
                    "",
                );
            }
        }
    }

    /// The leader saw its chosen replica report `role:master`.
    fn promotion_confirmed(&mut self, mi: usize, ri: usize, now: Millis) {
        let m = &mut self.masters[mi];
        m.cfg.config_epoch = m.failover.epoch;
        m.failover.state = FailoverState::ReconfSlaves;
        m.failover.state_change_time = now;
        self.flush(Change::Master(mi));
        self.vip_promoted(mi, ri, now);
        self.event(
            Level::Warning,
            "+promoted-slave",
            Some((mi, Which::Replica(ri))),
            "",
        );
        if self.simfailure & SIMFAILURE_CRASH_AFTER_PROMOTION != 0 {
            self.push(Action::Exit { code: 99 });
        }
        self.event(
            Level::Warning,
            "+failover-state-reconf-slaves",
            Some((mi, Which::Master)),
            "",
        );
        let from = self.masters[mi].inst.addr.clone();
        let to = self.masters[mi].replicas[ri].addr.clone();
        self.client_reconfig_script(mi, "leader", &from, &to);
        self.force_hello_update(mi);
        // Warden: tell the peers now (not on the next timer run) so observers switch at once.
        for si in 0..self.masters[mi].sentinels.len() {
            self.send_hello(mi, Which::Sentinel(si));
        }
        if self.masters[mi].failover.coordinated {
            // The old master is a replica now: make its clients reconnect and re-ask us.
            let cmds = vec![
                (
                    self.words(mi, &["CLIENT", "KILL", "TYPE", "normal"]),
                    Expect::Ignore,
                ),
                (
                    self.words(mi, &["CLIENT", "KILL", "TYPE", "pubsub"]),
                    Expect::Ignore,
                ),
            ];
            self.send(mi, Which::Master, LinkKind::Cmd, cmds);
        }
        // Warden: start re-pointing the other replicas now rather than on the next timer run.
        self.failover_step(mi, now);
        // Warden: re-check the other replicas right away instead of on the next INFO period.
        for other in 0..self.masters[mi].replicas.len() {
            if other != ri {
                self.send_info(mi, Which::Replica(other));
            }
        }
    }

    /// Make every link of a master send a hello on the next timer run.
    pub(super) fn force_hello_update(&mut self, mi: usize) {
        let back = self.timers.publish_period + 1;
        let m = &mut self.masters[mi];
        for inst in std::iter::once(&mut m.inst)
            .chain(m.replicas.iter_mut())
            .chain(m.sentinels.iter_mut())
        {
            inst.last_pub_time = inst.last_pub_time.saturating_sub(back);
        }
    }

    /// `master_looks_sane`: flagged master, reports master, not down, INFO fresh.
    pub(super) fn master_looks_sane(&self, mi: usize, now: Millis) -> bool {
        let m = &self.masters[mi].inst;
        m.role_reported == Role::Master
            && !m.flags.s_down
            && !m.flags.o_down
            && now.saturating_sub(m.info_refresh) < self.timers.info_period * 2
    }

    /// Send the reconfiguration transaction (SLAVEOF, CONFIG REWRITE, CLIENT KILL ×2 in
    /// MULTI/EXEC); `to = None` means `SLAVEOF NO ONE`.
    pub(super) fn send_slaveof(
        &mut self,
        mi: usize,
        which: Which,
        to: Option<&super::instance::Addr>,
    ) -> bool {
        let key = self.inst(mi, which).link;
        if self.links.get(key).is_none_or(|l| l.disconnected()) {
            return false;
        }
        let (host, port) = match to {
            Some(addr) => (
                addr.announced(self.config.announce_hostnames).to_string(),
                addr.port.to_string(),
            ),
            None => ("NO".to_string(), "ONE".to_string()),
        };
        let cmds = vec![
            (self.words(mi, &["MULTI"]), Expect::Ignore),
            (self.words(mi, &["SLAVEOF", &host, &port]), Expect::Ignore),
            (self.words(mi, &["CONFIG", "REWRITE"]), Expect::Ignore),
            (
                self.words(mi, &["CLIENT", "KILL", "TYPE", "normal"]),
                Expect::Ignore,
            ),
            (
                self.words(mi, &["CLIENT", "KILL", "TYPE", "pubsub"]),
                Expect::Ignore,
            ),
            (self.words(mi, &["EXEC"]), Expect::Ignore),
        ];
        let sent = self.send(mi, which, LinkKind::Cmd, cmds);
        if sent && to.is_none() {
            // Warden: confirm the promotion as soon as Redis has executed the transaction,
            // instead of waiting for the next 1 s INFO poll.
            self.send_info(mi, which);
        }
        sent
    }
}
