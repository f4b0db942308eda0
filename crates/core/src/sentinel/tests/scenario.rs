//! Scenario tests as data: small text files (`scenarios/*.scn`) that drive one sentinel core
//! through a simulated world and state what it must publish, and when.
//!
//! The world: a master on 127.0.0.1:6379 with replicas 127.0.0.2:6380 (offset 100) and
//! 127.0.0.3:6381 (offset 90), and with `setup peers 2` two peer sentinels (127.0.0.1:26380 and
//! :26381) the core knows from its configuration. Every instance is `healthy` (answers),
//! `silent` (takes commands, never answers) or `dead` (refuses connections). The replicas act
//! on `SLAVEOF` (`NO ONE` makes one report `role:master`; `<host> <port>` re-points it); the
//! peers answer `is-master-down-by-addr` as `peers say down|up` and `peers vote me|other|none`
//! set (a vote for the asking core, for another run id, or none). Time moves in timer runs of
//! at most 100 ms, each followed by every answer the world gives.
//!
//! One directive per line (lines starting with `#` are comments):
//!
//! | line | meaning |
//! |---|---|
//! | `setup quorum Q [peers N] [down-after MS]` | first line: the core's configuration |
//! | `at +MS` | let MS ms pass |
//! | `master\|replica 6380\|replica 6381\|peers healthy\|silent\|dead` | change the world |
//! | `peers say down\|up`, `peers vote me\|other\|none` | how the peers answer |
//! | `expect EVENT [within MS] ["TEXT"]` | EVENT (with exactly TEXT, if given) is published within MS ms (default 10,000) of the previous expectation's match, after it in order |
//! | `expect no EVENT within MS` | not published in the next MS ms |
//! | `command WORDS... => WORDS...` | `SENTINEL WORDS` answers the flattened reply `WORDS` |

use super::{info_master, info_replica, Harness, MASTER_RUNID, PEER1, PEER2, R1_RUNID, R2_RUNID};
use crate::config::MasterConfig;
use crate::io::LinkKind;
use crate::reply::Reply;
use crate::Millis;
use std::collections::BTreeMap;

/// Default deadline of an `expect` without `within`.
const DEFAULT_WITHIN: Millis = 10_000;

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Wait(Millis),
    World(WorldInput),
    Expect {
        event: String,
        within: Millis,
        text: Option<String>,
    },
    ExpectNo {
        event: String,
        within: Millis,
    },
    Command {
        words: Vec<String>,
        reply: Vec<String>,
    },
}

/// A scenario: its setup and steps, with the line each came from.
#[derive(Debug)]
struct Scenario {
    quorum: u32,
    peers: usize,
    down_after: Millis,
    steps: Vec<(usize, Step)>,
}

fn number(word: Option<&str>, line: usize) -> Result<Millis, String> {
    let word = word.ok_or(format!("line {line}: a number is missing"))?;
    word.trim_start_matches('+')
        .parse()
        .map_err(|_| format!("line {line}: {word:?} is not a number"))
}

/// Parses a scenario file; errors name the line.
fn parse(text: &str) -> Result<Scenario, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let (n, setup) = lines.next().ok_or("empty scenario")?;
    let words: Vec<&str> = setup.split_whitespace().collect();
    if words.first() != Some(&"setup") {
        return Err(format!(
            "line {n}: the first line must be `setup quorum Q ...`"
        ));
    }
    let mut scenario = Scenario {
        quorum: 1,
        peers: 0,
        down_after: 1000,
        steps: Vec::new(),
    };
    let mut it = words[1..].iter().copied();
    while let Some(key) = it.next() {
        let value = number(it.next(), n)?;
        match key {
            "quorum" => scenario.quorum = value as u32,
            "peers" if value <= 2 => scenario.peers = value as usize,
            "down-after" => scenario.down_after = value,
            other => return Err(format!("line {n}: unknown setup {other:?}")),
        }
    }
    for (n, line) in lines {
        scenario.steps.push((n, step(line, n)?));
    }
    Ok(scenario)
}

fn step(line: &str, n: usize) -> Result<Step, String> {
    // A quoted text is the event's exact message.
    let (head, text) = match line.split_once('"') {
        Some((head, rest)) => (head, Some(rest.trim_end_matches('"').to_string())),
        None => (line, None),
    };
    let words: Vec<&str> = head.split_whitespace().collect();
    let within = |at: usize| -> Result<Millis, String> {
        match words.get(at) {
            Some(&"within") => number(words.get(at + 1).copied(), n),
            None => Ok(DEFAULT_WITHIN),
            Some(other) => Err(format!("line {n}: unexpected {other:?}")),
        }
    };
    Ok(match words.as_slice() {
        ["at", ms] => Step::Wait(number(Some(ms), n)?),
        ["expect", "no", event, ..] => Step::ExpectNo {
            event: event.to_string(),
            within: within(3)?,
        },
        ["expect", event, ..] => Step::Expect {
            event: event.to_string(),
            within: within(2)?,
            text,
        },
        ["command", ..] => {
            let (words, reply) = head["command".len()..]
                .split_once("=>")
                .ok_or(format!("line {n}: `command WORDS => REPLY`"))?;
            Step::Command {
                words: words.split_whitespace().map(str::to_string).collect(),
                reply: reply.split_whitespace().map(str::to_string).collect(),
            }
        }
        _ => Step::World(
            WorldInput::parse(&words).ok_or(format!("line {n}: unknown directive {line:?}"))?,
        ),
    })
}

/// Runs `text` (named `name` in failures); panics with the line that failed and what was
/// published.
fn run(name: &str, text: &str) {
    let scenario = parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut world = World::new(scenario.quorum, scenario.peers, scenario.down_after);
    // Events before this index were matched by earlier expectations (or are older).
    let mut seen = 0;
    for (line, step) in &scenario.steps {
        let fail = |world: &World, why: String| -> ! {
            panic!(
                "{name}:{line}: {why}\npublished (ms since the start):\n{}",
                world.timeline()
            )
        };
        match step {
            Step::Wait(ms) => world.run_for(*ms),
            Step::World(input) => world.apply(input),
            Step::Expect {
                event,
                within,
                text,
            } => {
                let found = world.run_until(*within, |events| {
                    events[seen..]
                        .iter()
                        .position(|(k, m)| k == event && text.as_ref().is_none_or(|t| t == m))
                });
                match found {
                    Some(at) => seen += at + 1,
                    None => fail(&world, format!("no {event} {text:?} within {within} ms")),
                }
            }
            Step::ExpectNo { event, within } => {
                let start = world.events().len();
                world.run_for(*within);
                if world.events()[start..].iter().any(|(k, _)| k == event) {
                    fail(&world, format!("{event} within {within} ms"));
                }
            }
            Step::Command { words, reply } => {
                let got = world.command(words);
                if &got != reply {
                    fail(&world, format!("SENTINEL {words:?} answered {got:?}"));
                }
            }
        }
    }
}

/// The scenarios, by topic.
const SCENARIOS: [(&str, &str); 3] = [
    ("detection.scn", include_str!("scenarios/detection.scn")),
    ("election.scn", include_str!("scenarios/election.scn")),
    ("failover.scn", include_str!("scenarios/failover.scn")),
];

/// The scenarios of a file, each from its `setup` line to the next, padded with empty lines so
/// that line numbers stay the file's.
fn scenarios_of(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let starts: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim_start().starts_with("setup"))
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, &start)| {
            let end = starts.get(k + 1).copied().unwrap_or(lines.len());
            "\n".repeat(start) + &lines[start..end].join("\n")
        })
        .collect()
}

#[test]
fn every_scenario_file_passes() {
    for (name, text) in SCENARIOS {
        let scenarios = scenarios_of(text);
        assert!(!scenarios.is_empty(), "{name} has no scenario");
        for scenario in scenarios {
            run(name, &scenario);
        }
    }
}

#[test]
fn the_format_rejects_what_it_does_not_know() {
    assert!(parse("").is_err());
    assert!(parse("at +100").unwrap_err().contains("first line"));
    assert!(parse("setup quorum x")
        .unwrap_err()
        .contains("not a number"));
    assert!(parse("setup quorum 1\nfly away")
        .unwrap_err()
        .contains("line 2"));
    assert!(parse("setup quorum 1\nexpect +sdown soon").is_err());
    let s =
        parse("setup quorum 2 peers 2\nexpect +odown within 200 \"master m #quorum 2/2\"").unwrap();
    assert_eq!(
        s.steps[0].1,
        Step::Expect {
            event: "+odown".into(),
            within: 200,
            text: Some("master m #quorum 2/2".into())
        }
    );
}

#[test]
#[should_panic(expected = "detection.scn:3: no +odown")]
fn a_failed_expectation_names_its_line() {
    run(
        "detection.scn",
        "setup quorum 2 peers 2\nmaster dead\nexpect +odown within 3000\n",
    );
}

/// Whether an instance answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Health {
    Healthy,
    Silent,
    Dead,
}

/// Whom the peers vote for when asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Vote {
    Me,
    Other,
    Nobody,
}

/// A change of the world.
#[derive(Clone, Debug, PartialEq, Eq)]
enum WorldInput {
    /// An instance's (or both peers') health.
    Health(Vec<u16>, Health),
    /// Whether the peers say the master is down.
    PeersSay(bool),
    /// How the peers vote.
    PeersVote(Vote),
}

impl WorldInput {
    fn parse(words: &[&str]) -> Option<WorldInput> {
        let health = |w: &str| match w {
            "healthy" => Some(Health::Healthy),
            "silent" => Some(Health::Silent),
            "dead" => Some(Health::Dead),
            _ => None,
        };
        Some(match words {
            ["master", h] => WorldInput::Health(vec![6379], health(h)?),
            ["replica", port @ ("6380" | "6381"), h] => {
                WorldInput::Health(vec![port.parse().ok()?], health(h)?)
            }
            ["peers", "say", "down"] => WorldInput::PeersSay(true),
            ["peers", "say", "up"] => WorldInput::PeersSay(false),
            ["peers", "vote", "me"] => WorldInput::PeersVote(Vote::Me),
            ["peers", "vote", "other"] => WorldInput::PeersVote(Vote::Other),
            ["peers", "vote", "none"] => WorldInput::PeersVote(Vote::Nobody),
            ["peers", h] => WorldInput::Health(vec![26380, 26381], health(h)?),
            _ => return None,
        })
    }
}

/// The core under test and the world it watches (see the module documentation).
struct World {
    h: Harness,
    start: Millis,
    health: BTreeMap<u16, Health>,
    /// Each Redis instance's master (`None`: it is a master).
    master_of: BTreeMap<u16, Option<u16>>,
    peers_down: bool,
    vote: Vote,
    /// When each of `h.events` was published.
    times: Vec<Millis>,
}

impl World {
    fn new(quorum: u32, peers: usize, down_after: Millis) -> World {
        let mut m = MasterConfig::new("mymaster", "127.0.0.1", 6379, quorum);
        m.down_after_ms = down_after;
        m.failover_timeout_ms = 10_000;
        m.known_sentinels = [(26380, PEER1), (26381, PEER2)]
            .into_iter()
            .take(peers)
            .map(|(port, id)| ("127.0.0.1".to_string(), port, id.to_string()))
            .collect();
        let h = Harness::new(m);
        let start = h.now;
        let mut world = World {
            h,
            start,
            health: [6379, 6380, 6381, 26380, 26381]
                .into_iter()
                .map(|p| (p, Health::Healthy))
                .collect(),
            master_of: BTreeMap::from([(6379, None), (6380, Some(6379)), (6381, Some(6379))]),
            peers_down: false,
            vote: Vote::Nobody,
            times: Vec::new(),
        };
        world.stamp();
        world
    }

    fn events(&self) -> &[(String, String)] {
        &self.h.events
    }

    /// Timestamps the events published since the last call.
    fn stamp(&mut self) {
        let now = self.h.now - self.start;
        self.times.resize(self.h.events.len(), now);
    }

    fn apply(&mut self, input: &WorldInput) {
        match input {
            WorldInput::Health(ports, health) => {
                for port in ports {
                    self.health.insert(*port, *health);
                }
            }
            WorldInput::PeersSay(down) => self.peers_down = *down,
            WorldInput::PeersVote(vote) => self.vote = *vote,
        }
        self.settle();
    }

    /// One timer run `ms` (at most 100) later, then every answer the world gives.
    fn step(&mut self, ms: Millis) {
        self.h.tick(ms);
        self.settle();
    }

    /// Answers what is pending and refuses the dead instances' connections.
    fn settle(&mut self) {
        let (health, peers_down, vote) = (self.health.clone(), self.peers_down, self.vote);
        let master_of = &mut self.master_of;
        self.h.answer(|port, kind, words| {
            if health.get(&port) != Some(&Health::Healthy) {
                return None;
            }
            Some(answer(
                port, kind, words, master_of, &health, peers_down, vote,
            ))
        });
        for (port, _) in health.iter().filter(|(_, h)| **h == Health::Dead) {
            self.h.kill_port(*port);
        }
        self.stamp();
    }

    fn run_for(&mut self, ms: Millis) {
        let end = self.h.now + ms;
        while self.h.now < end {
            self.step((end - self.h.now).min(100));
        }
    }

    /// Runs until `found` finds something in the events (returned) or `ms` have passed.
    fn run_until(
        &mut self,
        ms: Millis,
        found: impl Fn(&[(String, String)]) -> Option<usize>,
    ) -> Option<usize> {
        let end = self.h.now + ms;
        loop {
            if let Some(at) = found(&self.h.events) {
                return Some(at);
            }
            if self.h.now >= end {
                return None;
            }
            self.step((end - self.h.now).min(100));
        }
    }

    fn command(&mut self, words: &[String]) -> Vec<String> {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let reply = self.h.command(&words);
        self.stamp();
        let mut flat = Vec::new();
        flatten(&reply, &mut flat);
        flat
    }

    fn timeline(&self) -> String {
        self.h
            .events
            .iter()
            .zip(&self.times)
            .map(|((kind, message), at)| format!("  {at:>6} {kind} {message}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// What the world answers to `words` sent to `port` (a healthy instance).
fn answer(
    port: u16,
    _kind: LinkKind,
    words: &[String],
    master_of: &mut BTreeMap<u16, Option<u16>>,
    health: &BTreeMap<u16, Health>,
    peers_down: bool,
    vote: Vote,
) -> Reply {
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match (port, word(0)) {
        (_, "PING") => Reply::Status("PONG".into()),
        (26380 | 26381, "SENTINEL") if word(1).eq_ignore_ascii_case("is-master-down-by-addr") => {
            let (epoch, asker) = (word(4), word(5));
            let (leader, leader_epoch) = match (asker, vote) {
                ("*", _) | (_, Vote::Nobody) => ("*".to_string(), 0),
                (_, Vote::Me) => (asker.to_string(), epoch.parse().unwrap_or(0)),
                (_, Vote::Other) => {
                    let own = if port == 26380 { PEER1 } else { PEER2 };
                    (own.to_string(), epoch.parse().unwrap_or(0))
                }
            };
            Reply::Array(vec![
                Reply::Int(i64::from(peers_down)),
                Reply::bulk(leader),
                Reply::Int(leader_epoch),
            ])
        }
        (6379..=6381, "SLAVEOF" | "REPLICAOF") => {
            let new = if word(1).eq_ignore_ascii_case("no") {
                None
            } else {
                word(2).parse().ok()
            };
            master_of.insert(port, new);
            Reply::ok()
        }
        (6379..=6381, "INFO") => {
            let offset = |p: u16| if p == 6381 { 90 } else { 100 };
            Reply::bulk(match master_of.get(&port).copied().flatten() {
                None => {
                    let replicas: Vec<(u16, u64)> = master_of
                        .iter()
                        .filter(|(_, m)| **m == Some(port))
                        .map(|(p, _)| (*p, offset(*p)))
                        .collect();
                    let runid = [MASTER_RUNID, R1_RUNID, R2_RUNID][usize::from(port - 6379)];
                    info_master(&replicas).replacen(MASTER_RUNID, runid, 1)
                }
                Some(master) => {
                    let runid = [MASTER_RUNID, R1_RUNID, R2_RUNID][usize::from(port - 6379)];
                    let link_up = health.get(&master) == Some(&Health::Healthy);
                    info_replica(runid, master, offset(port), link_up)
                }
            })
        }
        _ => Reply::ok(),
    }
}

/// A reply as a list of words (arrays and maps flattened, errors as their text).
fn flatten(reply: &Reply, out: &mut Vec<String>) {
    match reply {
        Reply::Array(items) => items.iter().for_each(|r| flatten(r, out)),
        Reply::Map(pairs) => pairs.iter().for_each(|(k, v)| {
            flatten(k, out);
            flatten(v, out);
        }),
        Reply::Int(n) => out.push(n.to_string()),
        other => out.push(other.to_text().unwrap_or_else(|| format!("{other:?}"))),
    }
}
