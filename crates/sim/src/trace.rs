//! The readable event trace of a run (virtual time, who, what), kept only when replaying.

use crate::scenario::Time;

/// How much the trace records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Detail {
    /// Nothing (bulk runs).
    Off,
    /// Faults, sentinel events, Redis role changes, VIP actions, violations.
    Events,
    /// Also every link opened, closed or broken, and the core's log lines.
    Links,
    /// Also every segment delivered (commands, replies, pub/sub messages).
    Wire,
}

/// Trace lines, in order.
#[derive(Debug)]
pub struct Trace {
    detail: Detail,
    lines: Vec<String>,
}

impl Trace {
    /// An empty trace recording at `detail`.
    pub fn new(detail: Detail) -> Trace {
        Trace {
            detail,
            lines: Vec::new(),
        }
    }

    /// Whether lines of `level` are recorded (lets callers skip formatting).
    pub fn wants(&self, level: Detail) -> bool {
        level != Detail::Off && self.detail >= level
    }

    /// Record `what` done by `who` at `time`, if `level` is recorded.
    pub fn log(&mut self, level: Detail, time: Time, who: &str, what: impl FnOnce() -> String) {
        if self.wants(level) {
            self.lines.push(format!(
                "{:>9.3}s {who:<6} {}",
                time as f64 / 1000.0,
                what()
            ));
        }
    }

    /// The recorded lines.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}
