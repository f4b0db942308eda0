//! The mass failover of the `many_masters` bench: clients that write to each killed shard's new
//! master as soon as a sentinel reports it ([`WriterPool`]), and the per-shard numbers drawn
//! from the sentinels' events ([`analyse`]).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use warden_integration::events::Event;
use warden_integration::resp::Value;

use crate::conn::Conn;
use crate::fleet::{master_name, shard_of};
use crate::json::Json;
use crate::writer::IO_TIMEOUT;

/// How often a shard's client asks its sentinel again until it names a new master.
pub const POLL_PERIOD: Duration = Duration::from_millis(10);
/// Shards per writing thread: a thread tries one shard at a time, so with more shards per
/// thread a write would wait for the others' round trips and measure the bench, not the
/// sentinels (the connections kept are bounded by threads × sentinels).
const SHARDS_PER_THREAD: usize = 4;
/// Most writing threads.
const MAX_WRITER_THREADS: usize = 64;

/// A shard whose client asks sentinel `sentinel` (index) for the master until it names one
/// other than `old_master`, then `SET`s a key there until it is acknowledged.
#[derive(Clone, Debug)]
pub struct Job {
    /// Shard index.
    pub shard: usize,
    /// Sentinel index.
    pub sentinel: usize,
    /// That sentinel's port.
    pub sentinel_port: u16,
    /// The killed master's port.
    pub old_master: u16,
}

/// An acknowledged write.
#[derive(Clone, Debug)]
pub struct Written {
    /// The job.
    pub job: Job,
    /// When `+OK` arrived.
    pub at: Instant,
    /// Where (`ip:port`).
    pub master: String,
    /// Attempts it took.
    pub attempts: u32,
}

struct Queue {
    jobs: Mutex<VecDeque<(Instant, Job, u32)>>,
    ready: Condvar,
    stop: AtomicBool,
    written: Mutex<Vec<Written>>,
}

/// A few threads serving every job, each at most every [`POLL_PERIOD`].
pub struct WriterPool {
    queue: Arc<Queue>,
    threads: Vec<JoinHandle<()>>,
}

impl WriterPool {
    /// Starts the threads for `shards` shards.
    pub fn start(shards: usize) -> WriterPool {
        let queue = Arc::new(Queue {
            jobs: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            stop: AtomicBool::new(false),
            written: Mutex::new(Vec::new()),
        });
        let threads = (0..shards
            .div_ceil(SHARDS_PER_THREAD)
            .clamp(1, MAX_WRITER_THREADS))
            .map(|_| {
                let queue = queue.clone();
                thread::spawn(move || serve(&queue))
            })
            .collect();
        WriterPool { queue, threads }
    }

    /// Adds a job, tried at once.
    pub fn push(&self, job: Job) {
        lock(&self.queue.jobs).push_back((Instant::now(), job, 0));
        self.queue.ready.notify_one();
    }

    /// Writes acknowledged so far.
    pub fn written(&self) -> usize {
        lock(&self.queue.written).len()
    }

    /// Stops the threads; returns every acknowledged write.
    pub fn finish(mut self) -> Vec<Written> {
        self.queue.stop.store(true, Ordering::Relaxed);
        self.queue.ready.notify_all();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        std::mem::take(&mut *lock(&self.queue.written))
    }
}

impl Drop for WriterPool {
    fn drop(&mut self) {
        self.queue.stop.store(true, Ordering::Relaxed);
        self.queue.ready.notify_all();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn serve(queue: &Queue) {
    let mut sentinels: HashMap<u16, Conn> = HashMap::new();
    loop {
        let (due, job, attempts) = {
            let mut jobs = lock(&queue.jobs);
            loop {
                if queue.stop.load(Ordering::Relaxed) {
                    return;
                }
                if let Some(next) = jobs.pop_front() {
                    break next;
                }
                jobs = queue
                    .ready
                    .wait_timeout(jobs, Duration::from_millis(50))
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        };
        thread::sleep(due.saturating_duration_since(Instant::now()));
        match attempt(&mut sentinels, &job) {
            Some((at, master)) => lock(&queue.written).push(Written {
                job,
                at,
                master,
                attempts: attempts + 1,
            }),
            None => lock(&queue.jobs).push_back((Instant::now() + POLL_PERIOD, job, attempts + 1)),
        }
    }
}

/// Asks the job's sentinel for the master; if it is a new one, `SET`s a key there.
fn attempt(sentinels: &mut HashMap<u16, Conn>, job: &Job) -> Option<(Instant, String)> {
    let sentinel_addr = format!("127.0.0.1:{}", job.sentinel_port);
    let conn = match sentinels.entry(job.sentinel_port) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(Conn::connect(&sentinel_addr, Some(IO_TIMEOUT)).ok()?)
        }
    };
    let name = master_name(job.shard);
    let reply = match conn.call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", &name]) {
        Ok(reply) => reply,
        Err(_) => {
            sentinels.remove(&job.sentinel_port);
            return None;
        }
    };
    let items: Vec<String> = reply
        .as_items()?
        .iter()
        .filter_map(Value::as_text)
        .collect();
    let [ip, port] = items.as_slice() else {
        return None;
    };
    if port.parse::<u16>().ok()? == job.old_master {
        return None;
    }
    let master = format!("{ip}:{port}");
    let mut target = Conn::connect(&master, Some(IO_TIMEOUT)).ok()?;
    let key = format!("many-masters:{name}");
    match target.call(&["SET", &key, "1"]) {
        Ok(Value::Simple(ok)) if ok == "OK" => Some((Instant::now(), master)),
        _ => None,
    }
}

/// An instance named in an event payload: `<kind> <name> <ip> <port> [@ <master> <ip> <port>]`.
struct Named<'a> {
    kind: &'a str,
    port: Option<u16>,
    /// The master it belongs to (its own name for a master).
    master: Option<&'a str>,
}

fn named(payload: &str) -> Option<Named<'_>> {
    let words: Vec<&str> = payload.split_whitespace().collect();
    let kind = *words.first()?;
    let port = words.get(3).and_then(|p| p.parse().ok());
    let master = if kind == "master" {
        words.get(1).copied()
    } else {
        words
            .iter()
            .position(|&w| w == "@")
            .and_then(|at| words.get(at + 1).copied())
    };
    Some(Named { kind, port, master })
}

/// One killed shard's numbers, ms since the kill (`None`: not seen before the deadline).
#[derive(Clone, Debug, Default)]
pub struct ShardResult {
    /// Shard index.
    pub shard: usize,
    /// First `+sdown` of the master, any sentinel.
    pub sdown: Option<f64>,
    /// First `+odown`, any sentinel.
    pub odown: Option<f64>,
    /// `+switch-master` per sentinel (index), first one each.
    pub switch: Vec<Option<f64>>,
    /// The last surviving sentinel's `+switch-master` (`None` unless every survivor switched).
    pub switch_all: Option<f64>,
    /// The sentinel that led the failover (`+elected-leader`, else `+promoted-slave`).
    pub leader: Option<usize>,
    /// First acknowledged write per sentinel asked (index).
    pub writes: Vec<Option<f64>>,
    /// The earliest first write through a sentinel that is not the leader.
    pub first_write: Option<f64>,
    /// `+try-failover` events for this master (any sentinel).
    pub tries: u64,
    /// `-failover-abort-*` events.
    pub aborts: u64,
}

impl ShardResult {
    /// As JSON.
    pub fn json(&self) -> Json {
        let list = |v: &[Option<f64>]| Json::Arr(v.iter().map(|&x| Json::from(x)).collect());
        Json::obj([
            ("shard", Json::from(self.shard as u64)),
            ("sdown", Json::from(self.sdown)),
            ("odown", Json::from(self.odown)),
            ("switch", list(&self.switch)),
            ("switch_all", Json::from(self.switch_all)),
            ("leader", Json::from(self.leader.map(|l| l as u64))),
            ("writes", list(&self.writes)),
            ("first_write", Json::from(self.first_write)),
            ("tries", Json::from(self.tries)),
            ("aborts", Json::from(self.aborts)),
        ])
    }
}

/// Counts over the whole failover.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    /// `-failover-abort-not-elected` events.
    pub aborted_elections: u64,
    /// Other `-failover-abort-*` events.
    pub other_aborts: u64,
    /// `+try-failover` beyond the first, per shard, summed.
    pub retries: u64,
    /// `+new-epoch` events.
    pub new_epochs: u64,
    /// `+tilt` events.
    pub tilts: u64,
    /// Killed shards not switched at every surviving sentinel by the deadline.
    pub not_failed_over: u64,
    /// Killed shards no sentinel switched.
    pub never_switched: u64,
    /// Healthy (not killed) masters that some sentinel switched.
    pub healthy_failed_over: u64,
    /// `+sdown` events of live instances (masters, replicas, sentinels not killed).
    pub live_sdown_events: u64,
    /// Distinct live instances marked SDOWN.
    pub live_sdown_instances: u64,
}

impl Counts {
    /// As JSON.
    pub fn json(&self) -> Json {
        Json::obj([
            ("aborted_elections", Json::from(self.aborted_elections)),
            ("other_aborts", Json::from(self.other_aborts)),
            ("retries", Json::from(self.retries)),
            ("new_epochs", Json::from(self.new_epochs)),
            ("tilts", Json::from(self.tilts)),
            ("not_failed_over", Json::from(self.not_failed_over)),
            ("never_switched", Json::from(self.never_switched)),
            ("healthy_failed_over", Json::from(self.healthy_failed_over)),
            ("live_sdown_events", Json::from(self.live_sdown_events)),
            (
                "live_sdown_instances",
                Json::from(self.live_sdown_instances),
            ),
        ])
    }
}

/// What [`analyse`] needs to know about the failover.
pub struct Setup<'a> {
    /// When the kill was sent.
    pub kill_at: Instant,
    /// The first `killed` shards' masters were killed.
    pub killed: usize,
    /// How many sentinels there are.
    pub sentinels: usize,
    /// Indexes of the sentinels that were not killed.
    pub survivors: &'a [usize],
    /// Ports of every killed process (masters, the sentinel if any).
    pub dead_ports: &'a HashSet<u16>,
}

/// The per-shard numbers and the counts, from the events collected since the kill and the
/// acknowledged writes.
pub fn analyse(
    setup: &Setup<'_>,
    events: &[Event],
    written: &[Written],
) -> (Vec<ShardResult>, Counts) {
    let ms = |at: Instant| at.saturating_duration_since(setup.kill_at).as_secs_f64() * 1000.0;
    let mut shards: Vec<ShardResult> = (0..setup.killed)
        .map(|shard| ShardResult {
            shard,
            switch: vec![None; setup.sentinels],
            writes: vec![None; setup.sentinels],
            ..ShardResult::default()
        })
        .collect();
    let mut counts = Counts::default();
    let mut promoters: HashMap<usize, usize> = HashMap::new();
    let mut healthy: BTreeSet<usize> = BTreeSet::new();
    let mut live_sdown: BTreeSet<String> = BTreeSet::new();
    for e in events.iter().filter(|e| e.at >= setup.kill_at) {
        let t = ms(e.at);
        match e.channel.as_str() {
            "+new-epoch" => counts.new_epochs += 1,
            "+tilt" => counts.tilts += 1,
            "-failover-abort-not-elected" => counts.aborted_elections += 1,
            c if c.starts_with("-failover-abort") => counts.other_aborts += 1,
            _ => {}
        }
        if e.channel == "+switch-master" {
            let Some(shard) = e.payload.split_whitespace().next().and_then(shard_of) else {
                continue;
            };
            match shards.get_mut(shard) {
                Some(s) => {
                    s.switch[e.source].get_or_insert(t);
                }
                None => {
                    healthy.insert(shard);
                }
            }
            continue;
        }
        let Some(inst) = named(&e.payload) else {
            continue;
        };
        if e.channel == "+sdown" && !inst.port.is_some_and(|p| setup.dead_ports.contains(&p)) {
            counts.live_sdown_events += 1;
            live_sdown.insert(format!("{} {:?}", inst.kind, inst.port));
            continue;
        }
        let Some(s) = inst
            .master
            .and_then(shard_of)
            .and_then(|i| shards.get_mut(i))
        else {
            continue;
        };
        match e.channel.as_str() {
            "+sdown" if inst.kind == "master" => {
                s.sdown.get_or_insert(t);
            }
            "+odown" => {
                s.odown.get_or_insert(t);
            }
            "+elected-leader" => {
                s.leader.get_or_insert(e.source);
            }
            "+promoted-slave" => {
                promoters.entry(s.shard).or_insert(e.source);
            }
            "+try-failover" => s.tries += 1,
            c if c.starts_with("-failover-abort") => s.aborts += 1,
            _ => {}
        }
    }
    for w in written {
        if let Some(s) = shards.get_mut(w.job.shard) {
            let t = ms(w.at);
            let slot = &mut s.writes[w.job.sentinel];
            *slot = Some(slot.map_or(t, |old: f64| old.min(t)));
        }
    }
    for s in &mut shards {
        if s.leader.is_none() {
            s.leader = promoters.get(&s.shard).copied();
        }
        let survivors: Vec<Option<f64>> = setup.survivors.iter().map(|&i| s.switch[i]).collect();
        s.switch_all = survivors
            .iter()
            .copied()
            .collect::<Option<Vec<f64>>>()
            .and_then(|v| v.into_iter().reduce(f64::max));
        s.first_write = setup
            .survivors
            .iter()
            .filter(|&&i| Some(i) != s.leader)
            .filter_map(|&i| s.writes[i])
            .reduce(f64::min);
        counts.retries += s.tries.saturating_sub(1);
        counts.not_failed_over += u64::from(s.switch_all.is_none());
        counts.never_switched += u64::from(survivors.iter().all(Option::is_none));
    }
    counts.healthy_failed_over = healthy.len() as u64;
    counts.live_sdown_instances = live_sdown.len() as u64;
    (shards, counts)
}
