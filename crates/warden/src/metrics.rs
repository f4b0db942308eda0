//! What `GET /metrics` shows (issue 14), in the OpenMetrics text format `prometheus-client`
//! encodes:
//! - **redis_exporter's sentinel metrics**, under its names, labels and meanings
//!   (`redis_sentinel_*` and `redis_up`, read from `exporter/sentinels.go`), so its Grafana
//!   dashboards and alerts keep working. They are read at scrape time through the same
//!   `SENTINEL` surface redis_exporter queries (MASTERS, SENTINELS, REPLICAS, CKQUORUM, CONFIG
//!   GET), so the values are the ones it would have shown.
//! - **Warden's own** (`warden_*`): failover phase durations as histograms, elections by
//!   result, events by type, time in TILT, config flush durations, the VIP (holder, lease
//!   left, announcements sent, conflicts) and script runs. The event-driven ones are fed by
//!   [`Observed`], which sits in front of the pub/sub hub, so they count exactly what
//!   subscribers were told.

use crate::app::App;
use crate::ports::EventPublisher;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use warden_core::{Millis, Reply, Sentinel};

/// Label pairs of one series.
type Labels = Vec<(&'static str, String)>;
/// A gauge holding any float.
type FloatGauge = Gauge<f64, AtomicU64>;
/// Histogram buckets of failover phases, in seconds: 5 ms to ~82 s.
const PHASE_BUCKETS: (f64, f64, u16) = (0.005, 2.0, 15);
/// Histogram buckets of config flushes, in seconds: 0.1 ms to ~1.6 s.
const FLUSH_BUCKETS: (f64, f64, u16) = (0.0001, 2.0, 15);

fn buckets((start, factor, count): (f64, f64, u16)) -> impl Iterator<Item = f64> {
    (0..count).map(move |i| start * factor.powi(i32::from(i)))
}

fn phase_histogram() -> Histogram {
    Histogram::new(buckets(PHASE_BUCKETS))
}

/// The metrics that accumulate between scrapes, shared by everything that feeds them.
#[derive(Debug)]
pub struct Metrics {
    phases: Family<Labels, Histogram, fn() -> Histogram>,
    elections: Family<Labels, Counter>,
    votes: Counter,
    events: Family<Labels, Counter>,
    flushes: Histogram,
    announcements: Family<Labels, Counter>,
    conflicts: Family<Labels, Counter>,
    scripts: Counter,
    clocks: Mutex<Clocks>,
}

/// Per master, when the phases of its current failover were published; and TILT time.
#[derive(Debug, Default)]
struct Clocks {
    failovers: HashMap<String, FailoverClock>,
    tilt_since: Option<Instant>,
    tilt_total: Duration,
}

/// When a master's current failover began (its `+sdown`) and last moved to a new phase.
#[derive(Debug, Clone, Copy)]
struct FailoverClock {
    sdown: Instant,
    last: Instant,
}

/// The failover phases, in order (see [`Metrics::observe_event`]).
const PHASES: [&str; 6] = [
    "odown",
    "elected",
    "promoted",
    "switch",
    "vip_claimed",
    "total",
];
/// Election results.
const ELECTION_RESULTS: [&str; 2] = ["won", "not_elected"];

impl Default for Metrics {
    /// Every series with a fixed label set exists from the start (at zero), so a scrape lists
    /// each family before the first failover.
    fn default() -> Self {
        let metrics = Metrics {
            phases: Family::new_with_constructor(phase_histogram),
            elections: Family::default(),
            votes: Counter::default(),
            events: Family::default(),
            flushes: Histogram::new(buckets(FLUSH_BUCKETS)),
            announcements: Family::default(),
            conflicts: Family::default(),
            scripts: Counter::default(),
            clocks: Mutex::new(Clocks::default()),
        };
        for phase in PHASES {
            let _ = metrics.phase(phase);
        }
        for result in ELECTION_RESULTS {
            let _ = metrics
                .elections
                .get_or_create(&vec![("result", result.to_string())]);
        }
        metrics
    }
}

/// The phase a published event ends, and the master it concerns.
fn phase_of<'a>(kind: &str, words: &[&'a str]) -> Option<(&'static str, &'a str)> {
    let master_event = || {
        (words.first() == Some(&"master"))
            .then(|| words.get(1))
            .flatten()
    };
    match kind {
        "+odown" => Some(("odown", master_event()?)),
        "+elected-leader" => Some(("elected", master_event()?)),
        // `slave <ip:port> <ip> <port> @ <master> <ip> <port>`
        "+promoted-slave" => {
            let at = words.iter().position(|w| *w == "@")?;
            Some(("promoted", words.get(at + 1)?))
        }
        "+switch-master" => Some(("switch", words.first()?)),
        "+vip-claimed" => Some(("vip_claimed", words.first()?)),
        _ => None,
    }
}

impl Metrics {
    /// Account for one published event (`kind` is its channel, `message` its payload).
    pub fn observe_event(&self, kind: &str, message: &str, now: Instant) {
        self.events
            .get_or_create(&vec![("event", kind.to_string())])
            .inc();
        let words: Vec<&str> = message.split(' ').collect();
        match kind {
            "+elected-leader" => self.election("won"),
            "-failover-abort-not-elected" => self.election("not_elected"),
            "+vote-for-leader" => {
                self.votes.inc();
            }
            "-vip-conflict" => {
                if let Some(master) = words.first() {
                    self.conflicts
                        .get_or_create(&vec![("master", master.to_string())])
                        .inc();
                }
            }
            _ => {}
        }
        let mut clocks = self.clocks.lock().unwrap_or_else(|p| p.into_inner());
        match kind {
            "+sdown" if words.first() == Some(&"master") => {
                if let Some(master) = words.get(1) {
                    let clock = FailoverClock {
                        sdown: now,
                        last: now,
                    };
                    clocks.failovers.insert(master.to_string(), clock);
                }
            }
            "+tilt" => clocks.tilt_since = Some(now),
            "-tilt" => {
                if let Some(since) = clocks.tilt_since.take() {
                    clocks.tilt_total += now.saturating_duration_since(since);
                }
            }
            _ => {}
        }
        let Some((phase, master)) = phase_of(kind, &words) else {
            return;
        };
        let Some(clock) = clocks.failovers.get_mut(master) else {
            return;
        };
        let since_last = now.saturating_duration_since(clock.last);
        self.phase(phase).observe(since_last.as_secs_f64());
        clock.last = now;
        if phase == "switch" {
            let total = now.saturating_duration_since(clock.sdown);
            self.phase("total").observe(total.as_secs_f64());
        }
        if phase == "vip_claimed" {
            clocks.failovers.remove(master);
        }
    }

    fn phase(&self, phase: &str) -> impl std::ops::Deref<Target = Histogram> + '_ {
        self.phases
            .get_or_create(&vec![("phase", phase.to_string())])
    }

    fn election(&self, result: &str) {
        self.elections
            .get_or_create(&vec![("result", result.to_string())])
            .inc();
    }

    /// A config save (rewrite or journal append, with its fsyncs) took `took`.
    pub fn observe_flush(&self, took: Duration) {
        self.flushes.observe(took.as_secs_f64());
    }

    /// `frames` gratuitous ARPs or unsolicited neighbour advertisements were sent for
    /// `master`'s VIP.
    pub fn observe_announcements(&self, master: &str, frames: u64) {
        self.announcements
            .get_or_create(&vec![("master", master.to_string())])
            .inc_by(frames);
    }

    /// A notification or reconfiguration script was started.
    pub fn observe_script_run(&self) {
        self.scripts.inc();
    }

    /// The whole exposition: the sentinel's state read from `app` now, and what accumulated.
    pub fn render(&self, app: &App) -> String {
        let view = app.with_core(View::read);
        for master in view.masters.iter().filter(|m| m.vip.is_some()) {
            let labels = vec![("master", master.name().to_string())];
            let _ = self.announcements.get_or_create(&labels);
            let _ = self.conflicts.get_or_create(&labels);
        }
        let mut registry = Registry::default();
        view.register(&mut registry);
        self.register(&mut registry);
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }

    fn register(&self, r: &mut Registry) {
        r.register(
            "warden_failover_phase_seconds",
            "Time from the previous failover phase to this one, as published: odown (from +sdown), elected, promoted, switch, vip_claimed; total is +sdown to +switch-master",
            self.phases.clone(),
        );
        r.register(
            "warden_elections",
            "Failover elections this sentinel ran, by result (won, not_elected)",
            self.elections.clone(),
        );
        r.register(
            "warden_votes",
            "Votes this sentinel granted to a failover leader (+vote-for-leader)",
            self.votes.clone(),
        );
        r.register(
            "warden_events",
            "Events published, by type",
            self.events.clone(),
        );
        r.register(
            "warden_config_flush_seconds",
            "Duration of config saves (rewrite or journal append, fsyncs included)",
            self.flushes.clone(),
        );
        r.register(
            "warden_vip_announcements",
            "Gratuitous ARPs and unsolicited neighbour advertisements sent for a VIP",
            self.announcements.clone(),
        );
        r.register(
            "warden_vip_conflicts",
            "ARP messages from another host claiming a held VIP (-vip-conflict)",
            self.conflicts.clone(),
        );
        r.register(
            "warden_script_runs",
            "Notification and client-reconfiguration script runs started",
            self.scripts.clone(),
        );
        let clocks = self.clocks.lock().unwrap_or_else(|p| p.into_inner());
        let ongoing = clocks.tilt_since.map_or(Duration::ZERO, |t| t.elapsed());
        let tilt: Counter<f64, AtomicU64> = Counter::default();
        tilt.inc_by((clocks.tilt_total + ongoing).as_secs_f64());
        r.register(
            "warden_tilt_seconds",
            "Time spent in TILT mode since start",
            tilt,
        );
    }
}

/// The event publisher the driver and the VIP glue use: accounts for each event in the
/// metrics, then hands it to the pub/sub hub.
pub struct Observed {
    /// Where events go next.
    pub next: Arc<dyn EventPublisher>,
    /// Where they are counted.
    pub metrics: Arc<Metrics>,
}

impl EventPublisher for Observed {
    fn publish(&self, channel: &str, payload: &str) {
        self.metrics.observe_event(channel, payload, Instant::now());
        self.next.publish(channel, payload);
    }
}

/// The sentinel's state as redis_exporter reads it, taken under the core's lock.
struct View {
    /// INFO's sentinel section fields (`sentinel_masters`, `sentinel_tilt`...).
    info: Vec<(String, String)>,
    masters: Vec<MasterView>,
    config: Vec<(String, String)>,
}

/// One master's replies.
struct MasterView {
    fields: Vec<(String, String)>,
    ckquorum: Result<String, String>,
    sentinels: Vec<Vec<(String, String)>>,
    replicas: Vec<Vec<(String, String)>>,
    vip: Option<Vec<(String, String)>>,
}

fn sentinel(core: &mut Sentinel, now: Millis, words: &[&str]) -> Reply {
    let args: Vec<bytes::Bytes> = words
        .iter()
        .map(|w| bytes::Bytes::copy_from_slice(w.as_bytes()))
        .collect();
    core.command(&args, now)
}

/// The elements of an array reply.
fn items(reply: Reply) -> Vec<Reply> {
    match reply {
        Reply::Array(items) | Reply::Set(items) => items,
        _ => Vec::new(),
    }
}

fn get<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn number(fields: &[(String, String)], name: &str) -> f64 {
    get(fields, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Whether an instance's flags say it is up (redis_exporter's test: neither s_down nor o_down).
fn is_ok(fields: &[(String, String)]) -> bool {
    get(fields, "flags").is_some_and(|f| !f.contains("s_down") && !f.contains("o_down"))
}

impl View {
    fn read(core: &mut Sentinel, now: Millis) -> View {
        let info = core
            .info_section(now)
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let masters = items(sentinel(core, now, &["MASTERS"]))
            .iter()
            .map(Reply::pairs)
            .map(|fields| {
                let name = get(&fields, "name").unwrap_or_default().to_string();
                let of = |core: &mut Sentinel, sub: &str| -> Vec<Vec<(String, String)>> {
                    items(sentinel(core, now, &[sub, &name]))
                        .iter()
                        .map(Reply::pairs)
                        .collect()
                };
                let ckquorum = match sentinel(core, now, &["CKQUORUM", &name]) {
                    Reply::Error(e) => Err(e),
                    other => Ok(other.to_text().unwrap_or_default()),
                };
                MasterView {
                    ckquorum,
                    sentinels: of(core, "SENTINELS"),
                    replicas: of(core, "REPLICAS"),
                    vip: core
                        .vip_config(&name)
                        .is_some()
                        .then(|| sentinel(core, now, &["VIP", &name]).pairs()),
                    fields,
                }
            })
            .collect();
        let config = sentinel(core, now, &["CONFIG", "GET", "*"]).pairs();
        View {
            info,
            masters,
            config,
        }
    }

    fn register(&self, r: &mut Registry) {
        let mut g = Gauges::default();
        g.set("redis_up", vec![], 1.0);
        for key in [
            "sentinel_masters",
            "sentinel_tilt",
            "sentinel_running_scripts",
            "sentinel_scripts_queue_length",
            "sentinel_simulate_failure_flags",
        ] {
            g.set(&format!("redis_{key}"), vec![], number(&self.info, key));
        }
        for m in &self.masters {
            m.gauges(&mut g);
        }
        for (key, value) in &self.config {
            // Never publish a password (redis_exporter redacts its own list the same way).
            let shown = if key.ends_with("-pass") && !value.is_empty() {
                "(redacted)".to_string()
            } else {
                value.clone()
            };
            let labels = vec![("key", key.clone()), ("value", shown)];
            g.set("redis_sentinel_config_key_value", labels, 1.0);
            if let Ok(v) = value.parse::<f64>() {
                g.set("redis_sentinel_config_value", vec![("key", key.clone())], v);
            }
        }
        g.register(r);
    }
}

impl MasterView {
    fn name(&self) -> &str {
        get(&self.fields, "name").unwrap_or_default()
    }

    fn gauges(&self, g: &mut Gauges) {
        let f = &self.fields;
        let name = self.name().to_string();
        let address = format!(
            "{}:{}",
            get(f, "ip").unwrap_or_default(),
            get(f, "port").unwrap_or_default()
        );
        let labels = || {
            vec![
                ("master_name", name.clone()),
                ("master_address", address.clone()),
            ]
        };
        let flags = get(f, "flags").unwrap_or_default();
        let status = if flags.contains("o_down") {
            "odown"
        } else if flags.contains("s_down") {
            "sdown"
        } else {
            "ok"
        };
        let mut with_status = labels();
        with_status.push(("master_status", status.to_string()));
        g.set(
            "redis_sentinel_master_status",
            with_status,
            f64::from(u8::from(status == "ok")),
        );
        g.set(
            "redis_sentinel_master_slaves",
            labels(),
            number(f, "num-slaves"),
        );
        g.set(
            "redis_sentinel_master_sentinels",
            labels(),
            number(f, "num-other-sentinels") + 1.0,
        );
        let (ok, message) = match &self.ckquorum {
            Ok(m) => (1.0, m.clone()),
            Err(e) => (0.0, e.clone()),
        };
        let quorum_labels = vec![("master_name", name.clone()), ("message", message)];
        g.set("redis_sentinel_master_ckquorum_status", quorum_labels, ok);
        for (metric, field) in [
            ("setting_ckquorum", "quorum"),
            ("setting_failover_timeout", "failover-timeout"),
            ("setting_parallel_syncs", "parallel-syncs"),
            ("setting_down_after_milliseconds", "down-after-milliseconds"),
            ("config_epoch", "config-epoch"),
        ] {
            let metric = format!("redis_sentinel_master_{metric}");
            g.set(&metric, labels(), number(f, field));
        }
        g.set(
            "redis_sentinel_master_last_ok_ping_reply_seconds",
            labels(),
            number(f, "last-ok-ping-reply") / 1000.0,
        );
        let ok_sentinels = 1 + self.sentinels.iter().filter(|s| is_ok(s)).count();
        g.set(
            "redis_sentinel_master_ok_sentinels",
            labels(),
            ok_sentinels as f64,
        );
        let ok_replicas = self.replicas.iter().filter(|r| is_ok(r)).count();
        g.set(
            "redis_sentinel_master_ok_slaves",
            labels(),
            ok_replicas as f64,
        );
        for s in &self.sentinels {
            let mut peer = labels();
            for key in ["name", "ip", "port", "runid", "flags"] {
                peer.push((key, get(s, key).unwrap_or_default().to_string()));
            }
            g.set("redis_sentinel_peer_info", peer, 1.0);
        }
        if let Some(vip) = &self.vip {
            let vip_labels = || {
                vec![
                    ("master", name.clone()),
                    ("vip", get(vip, "address").unwrap_or_default().to_string()),
                    ("mode", get(vip, "mode").unwrap_or_default().to_string()),
                ]
            };
            g.set("warden_vip_holder", vip_labels(), number(vip, "held"));
            // -1: the lease has no end (no peers to confirm it).
            let left = number(vip, "lease-remaining-ms");
            let left = if left < 0.0 {
                f64::INFINITY
            } else {
                left / 1000.0
            };
            g.set("warden_vip_lease_remaining_seconds", vip_labels(), left);
        }
    }
}

/// Gauges filled for one scrape, registered in the order first set.
#[derive(Default)]
struct Gauges {
    families: Vec<(String, Scraped)>,
}

/// One scrape-time gauge: a single value, or a family of labelled series.
enum Scraped {
    Plain(FloatGauge),
    Labelled(Family<Labels, FloatGauge>),
}

impl Gauges {
    fn set(&mut self, name: &str, labels: Labels, value: f64) {
        let i = match self.families.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                let family = if labels.is_empty() {
                    Scraped::Plain(FloatGauge::default())
                } else {
                    Scraped::Labelled(Family::default())
                };
                self.families.push((name.to_string(), family));
                self.families.len() - 1
            }
        };
        match &self.families[i].1 {
            Scraped::Plain(gauge) => gauge.set(value),
            Scraped::Labelled(family) => family.get_or_create(&labels).set(value),
        };
    }

    fn register(self, r: &mut Registry) {
        for (name, gauge) in self.families {
            let help = help(&name);
            match gauge {
                Scraped::Plain(gauge) => r.register(name, help, gauge),
                Scraped::Labelled(family) => r.register(name, help, family),
            }
        }
    }
}

/// The help text of a scrape-time gauge (redis_exporter's wording for its names).
fn help(name: &str) -> &'static str {
    match name.trim_start_matches("redis_") {
        "up" => "Information about the Redis instance",
        "sentinel_masters" => "The number of masters this sentinel is watching",
        "sentinel_tilt" => "Sentinel is in TILT mode",
        "sentinel_running_scripts" => "Number of scripts in execution right now",
        "sentinel_scripts_queue_length" => "Queue of user scripts to execute",
        "sentinel_simulate_failure_flags" => "Failures simulations",
        "sentinel_master_status" => "Master status on Sentinel",
        "sentinel_master_slaves" => "The number of slaves of the master",
        "sentinel_master_sentinels" => "The number of sentinels monitoring this master",
        "sentinel_master_ok_slaves" => "The number of okay slaves of the master",
        "sentinel_master_ok_sentinels" => "The number of okay sentinels monitoring this master",
        "sentinel_master_ckquorum_status" => "Master ckquorum status",
        "sentinel_master_setting_ckquorum" => "Show the current ckquorum config for each master",
        "sentinel_master_setting_failover_timeout" => {
            "Show the current failover-timeout config for each master"
        }
        "sentinel_master_setting_parallel_syncs" => {
            "Show the current parallel-syncs config for each master"
        }
        "sentinel_master_setting_down_after_milliseconds" => {
            "Show the current down-after-milliseconds config for each master"
        }
        "sentinel_master_config_epoch" => {
            "The configuration epoch of the master (increments on each failover)"
        }
        "sentinel_master_last_ok_ping_reply_seconds" => {
            "Elapsed time in seconds since the last successful ping reply from the master"
        }
        "sentinel_peer_info" => "Other Sentinel peers discovered via SENTINEL SENTINELS",
        "sentinel_config_key_value" => "Sentinel global config key and value",
        "sentinel_config_value" => "Sentinel global config key and value as metric",
        "warden_vip_holder" => "1 on the node holding the master's VIP",
        "warden_vip_lease_remaining_seconds" => {
            "Time left of the VIP's majority-contact lease (+Inf: no peers, no end)"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposition(m: &Metrics) -> String {
        let mut registry = Registry::default();
        m.register(&mut registry);
        let mut out = String::new();
        encode(&mut out, &registry).unwrap();
        out
    }

    #[test]
    fn a_failovers_phases_are_timed_from_the_published_events() {
        let m = Metrics::default();
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        for (ms, kind, message) in [
            (
                0,
                "+sdown",
                "slave 127.0.0.1:6380 127.0.0.1 6380 @ m 127.0.0.1 6379",
            ),
            (0, "+sdown", "master m 127.0.0.1 6379"),
            (100, "+odown", "master m 127.0.0.1 6379 #quorum 2/2"),
            (150, "+elected-leader", "master m 127.0.0.1 6379"),
            (
                200,
                "+promoted-slave",
                "slave 127.0.0.1:6380 127.0.0.1 6380 @ m 127.0.0.1 6379",
            ),
            (300, "+switch-master", "m 127.0.0.1 6379 127.0.0.1 6380"),
            (350, "+vip-claimed", "m 10.0.0.100/24 1"),
            (
                400,
                "-failover-abort-not-elected",
                "master other 127.0.0.1 7000",
            ),
        ] {
            m.observe_event(kind, message, at(ms));
        }
        let text = exposition(&m);
        for (phase, sum) in [
            ("odown", "0.1"),
            ("elected", "0.05"),
            ("promoted", "0.05"),
            ("switch", "0.1"),
            ("vip_claimed", "0.05"),
            ("total", "0.3"),
        ] {
            let line = format!("warden_failover_phase_seconds_sum{{phase=\"{phase}\"}} {sum}");
            assert!(text.contains(&line), "{line} not in\n{text}");
        }
        assert!(text.contains("warden_elections_total{result=\"won\"} 1"));
        assert!(text.contains("warden_elections_total{result=\"not_elected\"} 1"));
        assert!(text.contains("warden_events_total{event=\"+sdown\"} 2"));
    }

    #[test]
    fn a_switch_without_a_seen_failure_times_nothing() {
        let m = Metrics::default();
        m.observe_event(
            "+switch-master",
            "m 127.0.0.1 6379 127.0.0.1 6380",
            Instant::now(),
        );
        let text = exposition(&m);
        assert!(text.contains("warden_failover_phase_seconds_count{phase=\"switch\"} 0"));
        assert!(text.contains("warden_events_total{event=\"+switch-master\"} 1"));
    }

    #[test]
    fn tilt_time_accumulates_across_episodes() {
        let m = Metrics::default();
        let t0 = Instant::now();
        m.observe_event("+tilt", "#tilt mode entered", t0);
        m.observe_event("-tilt", "#tilt mode exited", t0 + Duration::from_secs(30));
        m.observe_event("+tilt", "#tilt mode entered", t0 + Duration::from_secs(40));
        m.observe_event("-tilt", "#tilt mode exited", t0 + Duration::from_secs(42));
        assert!(exposition(&m).contains("warden_tilt_seconds_total 32.0"));
    }
}
