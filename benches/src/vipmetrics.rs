//! What one netns failover run recorded ([`Trace`]) and the numbers the bench reports from it
//! ([`Metrics`]), all in ms from the fault.

use std::time::Instant;

use warden_integration::events::Event;

use crate::timeline::{merge, Kind, NodeLane, Panel, Span};
use crate::vipprobe::{Attempt, Changes, Outcome, Role, RouteSample, WRITE_PERIOD};

/// Everything recorded during one run.
pub struct Trace {
    /// The fault.
    pub zero: Instant,
    /// The end of the observation.
    pub end: Instant,
    /// When the faulty node was brought back (`None`: nothing to bring back).
    pub restored: Option<Instant>,
    /// Sentinel events (sources are node indexes).
    pub events: Vec<Event>,
    /// Every write attempt through the VIP.
    pub attempts: Vec<Attempt>,
    /// Each node's Redis role as the client saw it.
    pub roles: Vec<Changes<Role>>,
    /// Whether each node's interface held the VIP.
    pub vip: Vec<Changes<bool>>,
    /// Whether each node was alive and plugged in (a killed or unplugged node's leftover VIP
    /// does not count as a holder).
    pub live: Vec<Changes<bool>>,
    /// The client's ARP probes for the VIP and who answered each (an L2 VIP).
    pub arp: Vec<crate::vipprobe::ArpProbe>,
    /// The routers' announcers of the VIP over time (a routed VIP).
    pub routes: Vec<RouteSample>,
}

/// A period during which writes through the VIP failed.
#[derive(Clone, Debug, PartialEq)]
pub struct Outage {
    /// Start of the first failed attempt (ms from the fault; not before 0).
    pub from_ms: f64,
    /// End of the next acknowledged write (or of the observation).
    pub to_ms: f64,
    /// How the first failed attempt ended.
    pub first: Outcome,
}

/// The measurements of one run (ms from the fault; `None`: not observed).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    /// First `+sdown` of the master, any sentinel.
    pub sdown_ms: Option<f64>,
    /// First `+odown` of the master, any sentinel.
    pub odown_ms: Option<f64>,
    /// First `+switch-master`, any sentinel.
    pub switch_ms: Option<f64>,
    /// First time another node than the old master held the VIP.
    pub vip_ms: Option<f64>,
    /// First time the old master (node 0) answered `ROLE` as a replica (sampled every
    /// `ROLE_PERIOD`): in a coordinated switchover, when its write pause ended.
    pub demoted_ms: Option<f64>,
    /// End of the first acknowledged write after writes started failing (0: they never failed).
    pub first_write_ms: Option<f64>,
    /// Total time writes failed, from each first failure to the next acknowledged write (or the
    /// end of the observation).
    pub unavailable_ms: f64,
    /// Each period writes failed: (from, to) in ms from the fault, with how the first failed
    /// attempt of it ended.
    pub outages: Vec<Outage>,
    /// Writes answered READONLY.
    pub readonly: u64,
    /// Writes that timed out.
    pub timeouts: u64,
    /// Writes refused or failed otherwise.
    pub errors: u64,
    /// Time with two or more live nodes holding the VIP.
    pub dual_vip_ms: f64,
    /// Time during which the client's ARP probes for the VIP were answered by two or more
    /// hardware addresses (one probe period per such probe).
    pub dual_arp_ms: f64,
    /// A routed VIP: the first time every router carried exactly one announcer, another node
    /// than the old master.
    pub route_ms: Option<f64>,
    /// A routed VIP: time during which the routers carried announcements from two or more
    /// nodes (each sample counts until the next).
    pub dual_route_ms: f64,
    /// Whether the last write of the run was acknowledged.
    pub ok_at_end: bool,
}

/// Signed ms from `zero` to `at`.
pub fn ms(zero: Instant, at: Instant) -> f64 {
    if at >= zero {
        (at - zero).as_secs_f64() * 1000.0
    } else {
        -((zero - at).as_secs_f64() * 1000.0)
    }
}

/// The value of `changes` at `at` (`default` before the first change).
fn value_at<T: Copy>(changes: &Changes<T>, at: Instant, default: T) -> T {
    changes
        .iter()
        .take_while(|(t, _)| *t <= at)
        .last()
        .map_or(default, |(_, v)| *v)
}

impl Trace {
    /// The measurements.
    pub fn metrics(&self) -> Metrics {
        let zero = self.zero;
        let event = |channel: &str, prefix: &str| {
            self.events
                .iter()
                .find(|e| e.at >= zero && e.channel == channel && e.payload.starts_with(prefix))
                .map(|e| ms(zero, e.at))
        };
        let vip_ms = self
            .vip
            .iter()
            .skip(1)
            .filter_map(|changes| changes.iter().find(|(t, held)| *t >= zero && *held))
            .map(|(t, _)| ms(zero, *t))
            .min_by(f64::total_cmp);
        let demoted_ms = self.roles.first().and_then(|changes| {
            changes
                .iter()
                .find(|(t, role)| *t >= zero && *role == crate::vipprobe::Role::Replica)
                .map(|(t, _)| ms(zero, *t))
        });
        let after: Vec<&Attempt> = self.attempts.iter().filter(|a| a.end >= zero).collect();
        let count = |o: Outcome| after.iter().filter(|a| a.outcome == o).count() as u64;
        let outages = self.outages(&after);
        let unavailable_ms = outages.iter().map(|o| o.to_ms - o.from_ms).sum();
        let never_failed = after.iter().all(|a| a.outcome == Outcome::Ok);
        let first_write_ms = if never_failed {
            Some(0.0)
        } else {
            outages
                .first()
                .filter(|o| ms(zero, self.end) > o.to_ms)
                .map(|o| o.to_ms)
        };
        Metrics {
            sdown_ms: event("+sdown", "master "),
            odown_ms: event("+odown", "master "),
            switch_ms: event("+switch-master", ""),
            vip_ms,
            demoted_ms,
            first_write_ms,
            unavailable_ms,
            outages,
            readonly: count(Outcome::ReadOnly),
            timeouts: count(Outcome::Timeout),
            errors: count(Outcome::Error),
            dual_vip_ms: self.dual_vip_ms(),
            dual_arp_ms: self.dual_arp_ms(),
            route_ms: self
                .routes
                .iter()
                .find(|r| r.at >= zero && r.announcers.iter().all(|a| a.len() == 1 && a[0] != 0))
                .map(|r| ms(zero, r.at)),
            dual_route_ms: self
                .routes
                .windows(2)
                .filter(|w| w[0].at >= zero && w[0].at <= self.end && w[0].nodes().len() >= 2)
                .map(|w| ms(w[0].at, w[1].at))
                .fold(0.0, |sum, d| sum + d),
            ok_at_end: self
                .attempts
                .last()
                .is_some_and(|a| a.outcome == Outcome::Ok),
        }
    }

    /// The periods writes failed over `after`: each from a failed attempt that follows a success
    /// to the end of the next success.
    fn outages(&self, after: &[&Attempt]) -> Vec<Outage> {
        let mut outages = Vec::new();
        let mut failing: Option<(Instant, Outcome)> = None;
        for a in after {
            match (a.outcome == Outcome::Ok, failing) {
                (false, None) => failing = Some((a.start.max(self.zero), a.outcome)),
                (true, Some((since, first))) => {
                    outages.push(Outage {
                        from_ms: ms(self.zero, since),
                        to_ms: ms(self.zero, a.end),
                        first,
                    });
                    failing = None;
                }
                _ => {}
            }
        }
        if let Some((since, first)) = failing {
            outages.push(Outage {
                from_ms: ms(self.zero, since),
                to_ms: ms(self.zero, self.end),
                first,
            });
        }
        outages
    }

    /// Time during which two or more live nodes held the VIP.
    fn dual_arp_ms(&self) -> f64 {
        let period = crate::vipprobe::ARP_PERIOD.as_secs_f64() * 1000.0;
        self.arp
            .iter()
            .filter(|p| p.at >= self.zero && p.at <= self.end && p.answers.len() >= 2)
            .count() as f64
            * period
    }

    fn dual_vip_ms(&self) -> f64 {
        let mut points: Vec<Instant> = self
            .vip
            .iter()
            .chain(&self.live)
            .flat_map(|c| c.iter().map(|(t, _)| *t))
            .filter(|t| *t <= self.end)
            .collect();
        points.push(self.end);
        points.sort();
        points.dedup();
        points
            .windows(2)
            .filter(|w| {
                let holders = (0..self.vip.len())
                    .filter(|&i| {
                        value_at(&self.vip[i], w[0], false) && value_at(&self.live[i], w[0], true)
                    })
                    .count();
                holders >= 2
            })
            .map(|w| ms(w[0], w[1]))
            .fold(0.0, |total, d| total + d)
    }

    /// The run as a timeline panel titled `title`, with markers for the main events.
    pub fn panel(&self, title: String, metrics: &Metrics) -> Panel {
        let zero = self.zero;
        let end = ms(zero, self.end);
        let spans = |changes: &[(Instant, Kind)]| {
            changes
                .iter()
                .enumerate()
                .map(|(k, (t, kind))| Span {
                    from: ms(zero, *t),
                    to: changes.get(k + 1).map_or(end, |(next, _)| ms(zero, *next)),
                    kind: *kind,
                })
                .collect::<Vec<_>>()
        };
        let nodes = (0..self.roles.len())
            .map(|i| {
                let roles: Vec<(Instant, Kind)> = self.roles[i]
                    .iter()
                    .map(|(t, r)| {
                        let kind = match r {
                            Role::Master => Kind::Master,
                            Role::Replica => Kind::Replica,
                            Role::Unreachable => Kind::Unreachable,
                        };
                        (*t, kind)
                    })
                    .collect();
                let vip: Vec<(Instant, Kind)> = self.vip[i]
                    .iter()
                    .map(|(t, held)| (*t, if *held { Kind::Vip } else { Kind::Unreachable }))
                    .collect();
                let routed: Vec<(Instant, Kind)> = self
                    .routes
                    .iter()
                    .map(|r| {
                        let carried = r.announcers.iter().any(|a| a.contains(&i));
                        (
                            r.at,
                            if carried {
                                Kind::Route
                            } else {
                                Kind::Unreachable
                            },
                        )
                    })
                    .collect();
                let only = |spans: Vec<Span>, kind| {
                    merge(spans.into_iter().filter(|s: &Span| s.kind == kind), 0.0)
                };
                NodeLane {
                    label: format!("node {i}"),
                    roles: spans(&roles),
                    vip: only(spans(&vip), Kind::Vip),
                    routes: only(spans(&routed), Kind::Route),
                }
            })
            .collect();
        let period = WRITE_PERIOD.as_secs_f64() * 1000.0;
        // Attempts overlap while they wait out timeouts: each one is drawn from its start to
        // the next one's, so the lane shows how the write started at each moment ended.
        let client = merge(
            self.attempts.iter().enumerate().map(|(k, a)| Span {
                from: ms(zero, a.start),
                to: self
                    .attempts
                    .get(k + 1)
                    .map_or(ms(zero, a.start) + period, |next| ms(zero, next.start)),
                kind: match a.outcome {
                    Outcome::Ok => Kind::WriteOk,
                    Outcome::ReadOnly => Kind::ReadOnly,
                    Outcome::Error => Kind::Error,
                    Outcome::Timeout => Kind::Timeout,
                },
            }),
            period * 1.5,
        );
        let mut markers = vec![(0.0, "fault".to_string())];
        let mut mark = |at: Option<f64>, label: &str| {
            if let Some(at) = at {
                markers.push((at, label.to_string()));
            }
        };
        mark(metrics.odown_ms, "+odown");
        mark(metrics.switch_ms, "+switch-master");
        mark(metrics.vip_ms, "VIP moved");
        mark(metrics.route_ms, "route moved");
        mark(self.restored.map(|t| ms(zero, t)), "node back");
        Panel {
            title,
            nodes,
            client,
            markers,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::vipprobe::ArpProbe;
    use std::time::Duration;

    use super::*;

    fn at(zero: Instant, ms: i64) -> Instant {
        if ms >= 0 {
            zero + Duration::from_millis(ms as u64)
        } else {
            zero - Duration::from_millis((-ms) as u64)
        }
    }

    fn trace() -> Trace {
        let zero = Instant::now() + Duration::from_secs(10);
        let attempt = |start: i64, outcome| Attempt {
            start: at(zero, start),
            end: at(zero, start + 1),
            outcome,
            seq: 0,
        };
        Trace {
            zero,
            end: at(zero, 5000),
            restored: None,
            events: Vec::new(),
            attempts: vec![
                attempt(-10, Outcome::Ok),
                attempt(0, Outcome::Timeout),
                attempt(300, Outcome::ReadOnly),
                attempt(999, Outcome::Ok),
                attempt(2000, Outcome::Error),
                attempt(2499, Outcome::Ok),
            ],
            roles: vec![Vec::new(); 3],
            vip: vec![
                vec![(at(zero, -100), true), (at(zero, 1500), false)],
                vec![(at(zero, -100), false), (at(zero, 1000), true)],
                vec![(at(zero, -100), false)],
            ],
            live: vec![vec![(at(zero, -100), true)]; 3],
            arp: vec![
                ArpProbe {
                    at: at(zero, -50),
                    answers: vec!["a".into(), "b".into()],
                },
                ArpProbe {
                    at: at(zero, 100),
                    answers: vec!["a".into(), "b".into()],
                },
                ArpProbe {
                    at: at(zero, 150),
                    answers: vec!["b".into()],
                },
            ],
            routes: Vec::new(),
        }
    }

    #[test]
    fn measures_outages_and_dual_holders() {
        let m = trace().metrics();
        assert_eq!(m.first_write_ms, Some(1000.0));
        assert!(
            (m.unavailable_ms - 1500.0).abs() < 1e-6,
            "{}",
            m.unavailable_ms
        );
        assert_eq!((m.readonly, m.timeouts, m.errors), (1, 1, 1));
        assert_eq!(m.vip_ms, Some(1000.0));
        assert!((m.dual_vip_ms - 500.0).abs() < 1e-6, "{}", m.dual_vip_ms);
        // One probe after the fault answered by two MACs (the one before it does not count).
        assert!((m.dual_arp_ms - 50.0).abs() < 1e-6, "{}", m.dual_arp_ms);
        assert!(m.ok_at_end);
    }

    #[test]
    fn routes_count_two_announcers_until_the_next_sample_and_the_move() {
        let mut t = trace();
        let sample = |ms: i64, announcers: Vec<Vec<usize>>| RouteSample {
            at: at(t.zero, ms),
            announcers,
        };
        t.routes = vec![
            sample(-20, vec![vec![0, 1], vec![0]]),
            sample(0, vec![vec![0], vec![0]]),
            sample(300, vec![vec![], vec![]]),
            // Router 0 already has node 1's route, router 1 still node 0's: two announcers.
            sample(1100, vec![vec![1], vec![0]]),
            sample(1120, vec![vec![1], vec![1]]),
            sample(1140, vec![vec![1], vec![1]]),
        ];
        let m = t.metrics();
        assert_eq!(m.route_ms, Some(1120.0));
        assert!((m.dual_route_ms - 20.0).abs() < 1e-6, "{}", m.dual_route_ms);
        let lanes = t.panel(String::new(), &m).nodes;
        // Node 1's route before the fault (router 0 carried two), then from 1100 ms on.
        assert_eq!(lanes[1].routes.len(), 2);
        assert_eq!(lanes[1].routes[1].from, 1100.0);
        assert_eq!(
            lanes[0].routes[0].to, 300.0,
            "node 0's route gone at 300 ms"
        );
    }

    #[test]
    fn a_dead_node_does_not_count_as_a_holder() {
        let mut t = trace();
        t.live[0].push((at(t.zero, 0), false));
        assert_eq!(t.metrics().dual_vip_ms, 0.0);
    }
}
