//! The script queue: notification and client-reconfig scripts, with Redis Sentinel's limits,
//! retries and timeouts. The driver only spawns and kills processes.

use super::Sentinel;
use crate::io::{Action, Level, ScriptOutcome};
use crate::reply::Reply;
use crate::Millis;
use std::collections::VecDeque;

/// Most scripts queued (the oldest non-running one is dropped beyond).
pub const MAX_QUEUE: usize = 256;
/// Most scripts running at once.
pub const MAX_RUNNING: usize = 16;
/// Most retries of a failing script.
pub const MAX_RETRIES: u32 = 10;

#[derive(Debug, Clone)]
struct Job {
    id: u64,
    argv: Vec<String>,
    running: bool,
    pid: u32,
    start_time: Millis,
    retry_num: u32,
}

/// Scheduled and running scripts.
#[derive(Debug, Default)]
pub struct ScriptQueue {
    jobs: VecDeque<Job>,
    next_id: u64,
}

impl ScriptQueue {
    /// Queue `argv` to run as soon as possible.
    pub fn schedule(&mut self, argv: Vec<String>) {
        if self.jobs.len() >= MAX_QUEUE {
            if let Some(pos) = self.jobs.iter().position(|j| !j.running) {
                self.jobs.remove(pos);
            }
        }
        self.next_id += 1;
        self.jobs.push_back(Job {
            id: self.next_id,
            argv,
            running: false,
            pid: 0,
            start_time: 0,
            retry_num: 0,
        });
    }

    /// Jobs queued or running.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Jobs running.
    pub fn running(&self) -> usize {
        self.jobs.iter().filter(|j| j.running).count()
    }

    /// The driver started job `id` as `pid`.
    pub fn started(&mut self, id: u64, pid: u32) {
        if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
            job.pid = pid;
        }
    }

    /// `SENTINEL PENDING-SCRIPTS`.
    pub fn pending_reply(&self, now: Millis) -> Reply {
        Reply::Array(
            self.jobs
                .iter()
                .map(|j| {
                    let timing = if j.running {
                        ("run-time", now.saturating_sub(j.start_time) as i64)
                    } else {
                        ("run-delay", j.start_time.saturating_sub(now) as i64)
                    };
                    Reply::map([
                        (
                            "argv",
                            Reply::Array(j.argv.iter().map(Reply::bulk).collect()),
                        ),
                        (
                            "flags",
                            Reply::bulk(if j.running { "running" } else { "scheduled" }),
                        ),
                        ("pid", Reply::bulk(j.pid.to_string())),
                        (timing.0, Reply::bulk(timing.1.to_string())),
                        ("retry-num", Reply::bulk(j.retry_num.to_string())),
                    ])
                })
                .collect(),
        )
    }
}

impl Sentinel {
    /// Start due scripts and kill the ones over their run time.
    pub(super) fn run_scripts(&mut self, now: Millis) {
        let mut running = self.scripts.running();
        let mut starts = Vec::new();
        for job in self.scripts.jobs.iter_mut() {
            if running >= MAX_RUNNING {
                break;
            }
            if job.running || job.start_time > now {
                continue;
            }
            job.running = true;
            job.start_time = now;
            job.retry_num += 1;
            job.pid = 0;
            running += 1;
            starts.push(Action::RunScript {
                id: job.id,
                argv: job.argv.clone(),
            });
        }
        let max_runtime = self.timers.script_max_runtime;
        let mut kills = Vec::new();
        for job in &self.scripts.jobs {
            if job.running && now.saturating_sub(job.start_time) > max_runtime {
                kills.push((job.id, job.argv[0].clone(), job.pid));
            }
        }
        for action in starts {
            self.push(action);
        }
        for (id, path, pid) in kills {
            self.emit(
                Level::Warning,
                "-script-timeout",
                None,
                format!("{path} {pid}"),
            );
            self.push(Action::KillScript { id });
        }
    }

    /// A script ended: retry on exit 1 or a signal, report other failures.
    pub(super) fn script_exited(&mut self, id: u64, outcome: ScriptOutcome, now: Millis) {
        let Some(pos) = self.scripts.jobs.iter().position(|j| j.id == id) else {
            return;
        };
        let (signal, code) = match outcome {
            ScriptOutcome::Exited(code) => (0, code),
            ScriptOutcome::Signaled(sig) => (sig, 0),
            ScriptOutcome::SpawnFailed => (99, 0),
        };
        let job = &mut self.scripts.jobs[pos];
        let retry = matches!(outcome, ScriptOutcome::Signaled(_)) || code == 1;
        if retry && job.retry_num < MAX_RETRIES {
            let mut delay = self.timers.script_retry_delay;
            for _ in 1..job.retry_num {
                delay = delay.saturating_mul(2);
            }
            job.running = false;
            job.pid = 0;
            job.start_time = now + delay;
            return;
        }
        let job = self.scripts.jobs.remove(pos).expect("present");
        if signal != 0 || code != 0 {
            self.emit(
                Level::Warning,
                "-script-error",
                None,
                format!("{} {signal} {code}", job.argv[0]),
            );
        }
    }
}
