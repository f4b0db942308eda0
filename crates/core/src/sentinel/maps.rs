//! Instance maps: the field lists `SENTINEL MASTER(S)`, `REPLICAS` and `SENTINELS` reply with,
//! in Redis Sentinel's exact order, all numbers as bulk strings.

use super::instance::{Instance, Kind, Master, Role};
use super::{Sentinel, Which};
use crate::reply::Reply;
use crate::Millis;

/// The comma-joined flags string (`s_down,o_down,master,...`).
pub fn flags_string(inst: &Instance, disconnected: bool) -> String {
    let f = &inst.flags;
    let mut parts = Vec::new();
    let mut add = |on: bool, name: &'static str| {
        if on {
            parts.push(name);
        }
    };
    add(f.s_down, "s_down");
    add(f.o_down, "o_down");
    add(inst.kind == Kind::Master, "master");
    add(inst.kind == Kind::Replica, "slave");
    add(inst.kind == Kind::Sentinel, "sentinel");
    add(disconnected, "disconnected");
    add(f.master_down, "master_down");
    add(f.failover_in_progress, "failover_in_progress");
    add(f.promoted, "promoted");
    add(f.reconf_sent, "reconf_sent");
    add(f.reconf_inprog, "reconf_inprog");
    add(f.reconf_done, "reconf_done");
    add(f.force_failover, "force_failover");
    add(f.script_kill_sent, "script_kill_sent");
    parts.join(",")
}

struct MapBuilder(Vec<(Reply, Reply)>);

impl MapBuilder {
    fn text(&mut self, key: &str, value: impl AsRef<str>) {
        self.0.push((Reply::bulk(key), Reply::bulk(value.as_ref())));
    }
    fn num(&mut self, key: &str, value: impl ToString) {
        self.text(key, value.to_string());
    }
}

fn since(now: Millis, t: Millis) -> u64 {
    now.saturating_sub(t)
}

impl Sentinel {
    /// The instance map of one instance of master `mi`.
    pub(super) fn instance_map(&self, mi: usize, which: Which, now: Millis) -> Reply {
        let m: &Master = &self.masters[mi];
        let inst = self.inst(mi, which);
        let hostnames = self.config.announce_hostnames;
        let link = self.links.get(inst.link);
        let mut b = MapBuilder(Vec::with_capacity(32));
        let name = if which == Which::Master {
            m.cfg.name.clone()
        } else {
            inst.name(hostnames)
        };
        b.text("name", name);
        b.text("ip", inst.addr.announced(hostnames));
        b.num("port", inst.addr.port);
        b.text("runid", inst.runid.as_deref().unwrap_or(""));
        b.text(
            "flags",
            flags_string(inst, link.is_none_or(|l| l.disconnected())),
        );
        b.num(
            "link-pending-commands",
            link.map_or(0, |l| l.pending_commands),
        );
        b.num("link-refcount", link.map_or(0, |l| l.refcount));
        if inst.flags.failover_in_progress {
            b.text("failover-state", m.failover.state.name());
        }
        let act = link.map_or(0, |l| l.act_ping_time);
        b.num("last-ping-sent", if act != 0 { since(now, act) } else { 0 });
        b.num(
            "last-ok-ping-reply",
            since(now, link.map_or(now, |l| l.last_avail_time)),
        );
        b.num(
            "last-ping-reply",
            since(now, link.map_or(now, |l| l.last_pong_time)),
        );
        if inst.flags.s_down {
            b.num("s-down-time", since(now, inst.s_down_since));
        }
        if inst.flags.o_down {
            b.num("o-down-time", since(now, inst.o_down_since));
        }
        b.num("down-after-milliseconds", inst.down_after);
        if inst.kind != Kind::Sentinel {
            b.num(
                "info-refresh",
                if inst.info_refresh != 0 {
                    since(now, inst.info_refresh)
                } else {
                    0
                },
            );
            b.text(
                "role-reported",
                if inst.role_reported == Role::Master {
                    "master"
                } else {
                    "slave"
                },
            );
            b.num("role-reported-time", since(now, inst.role_reported_time));
        }
        match inst.kind {
            Kind::Master => {
                b.num("config-epoch", m.cfg.config_epoch);
                b.num("num-slaves", m.replicas.len());
                b.num("num-other-sentinels", m.sentinels.len());
                b.num("quorum", m.cfg.quorum);
                b.num("failover-timeout", m.cfg.failover_timeout_ms);
                b.num("parallel-syncs", m.cfg.parallel_syncs);
                if let Some(script) = &m.cfg.notification_script {
                    b.text("notification-script", script);
                }
                if let Some(script) = &m.cfg.client_reconfig_script {
                    b.text("client-reconfig-script", script);
                }
                // Warden extension, present only when a VIP is configured (so the map of a
                // plain Sentinel configuration is field-for-field Redis Sentinel's).
                if let Some(vip) = &m.cfg.vip {
                    b.text("vip", format!("{} {}", vip.addr_spec(), vip.interface));
                    b.text("vip-mode", vip.mode.as_str());
                    let state = self
                        .vip
                        .status(&m.cfg.name, now)
                        .map_or("standby", |st| st.state.as_str());
                    b.text("vip-state", state);
                }
            }
            Kind::Replica => {
                b.num("master-link-down-time", inst.master_link_down_time);
                b.text(
                    "master-link-status",
                    if inst.slave_master_link_up {
                        "ok"
                    } else {
                        "err"
                    },
                );
                b.text(
                    "master-host",
                    inst.slave_master_host.as_deref().unwrap_or("?"),
                );
                b.num("master-port", inst.slave_master_port);
                b.num("slave-priority", inst.slave_priority);
                b.num("slave-repl-offset", inst.slave_repl_offset);
                b.num("replica-announced", u8::from(inst.replica_announced));
            }
            Kind::Sentinel => {
                b.num("last-hello-message", since(now, inst.last_hello_time));
                b.text("voted-leader", inst.leader.as_deref().unwrap_or("?"));
                b.num("voted-leader-epoch", inst.leader_epoch);
            }
        }
        Reply::Map(b.0)
    }
}
