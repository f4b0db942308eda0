//! Sentinel's timing constants, tunable at run time through `SENTINEL DEBUG` (global, not
//! persisted), exactly as Redis Sentinel 7.0.15 exposes them.

use super::instance::Kind;
use crate::Millis;

/// The 13 tunables of `SENTINEL DEBUG`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timers {
    /// INFO period for masters and replicas.
    pub info_period: Millis,
    /// PING period (effective `min(ping_period, down_after)`).
    pub ping_period: Millis,
    /// Period of `is-master-down-by-addr` asks; replies are valid 5× this.
    pub ask_period: Millis,
    /// Hello period.
    pub publish_period: Millis,
    /// Default `down-after-milliseconds`.
    pub default_down_after: Millis,
    /// Default `failover-timeout`.
    pub default_failover_timeout: Millis,
    /// Timer gap that triggers TILT.
    pub tilt_trigger: Millis,
    /// How long TILT lasts.
    pub tilt_period: Millis,
    /// Per-replica reconfiguration timeout.
    pub slave_reconf_timeout: Millis,
    /// Minimum age of a connection before it may be recycled.
    pub min_link_reconnect_period: Millis,
    /// Election timeout (min with failover-timeout).
    pub election_timeout: Millis,
    /// Maximum script run time.
    pub script_max_runtime: Millis,
    /// First script retry delay (doubles on each retry).
    pub script_retry_delay: Millis,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            info_period: 10_000,
            ping_period: 1_000,
            ask_period: 1_000,
            publish_period: 2_000,
            default_down_after: 30_000,
            default_failover_timeout: 180_000,
            tilt_trigger: 2_000,
            tilt_period: 30_000,
            slave_reconf_timeout: 10_000,
            min_link_reconnect_period: 15_000,
            election_timeout: 10_000,
            script_max_runtime: 60_000,
            script_retry_delay: 30_000,
        }
    }
}

impl Timers {
    /// The `SENTINEL DEBUG` names, in the order Redis prints them.
    pub const NAMES: [&'static str; 13] = [
        "INFO-PERIOD",
        "PING-PERIOD",
        "ASK-PERIOD",
        "PUBLISH-PERIOD",
        "DEFAULT-DOWN-AFTER",
        "DEFAULT-FAILOVER-TIMEOUT",
        "TILT-TRIGGER",
        "TILT-PERIOD",
        "SLAVE-RECONF-TIMEOUT",
        "MIN-LINK-RECONNECT-PERIOD",
        "ELECTION-TIMEOUT",
        "SCRIPT-MAX-RUNTIME",
        "SCRIPT-RETRY-DELAY",
    ];

    /// The tunable called `name` (case-insensitive).
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Millis> {
        let idx = Self::NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))?;
        Some(self.fields_mut()[idx])
    }

    /// All values in [`Timers::NAMES`] order.
    pub fn values(&self) -> [Millis; 13] {
        [
            self.info_period,
            self.ping_period,
            self.ask_period,
            self.publish_period,
            self.default_down_after,
            self.default_failover_timeout,
            self.tilt_trigger,
            self.tilt_period,
            self.slave_reconf_timeout,
            self.min_link_reconnect_period,
            self.election_timeout,
            self.script_max_runtime,
            self.script_retry_delay,
        ]
    }

    fn fields_mut(&mut self) -> [&mut Millis; 13] {
        [
            &mut self.info_period,
            &mut self.ping_period,
            &mut self.ask_period,
            &mut self.publish_period,
            &mut self.default_down_after,
            &mut self.default_failover_timeout,
            &mut self.tilt_trigger,
            &mut self.tilt_period,
            &mut self.slave_reconf_timeout,
            &mut self.min_link_reconnect_period,
            &mut self.election_timeout,
            &mut self.script_max_runtime,
            &mut self.script_retry_delay,
        ]
    }
}

/// Pending-command cap per link reference (`100 × refcount`).
pub const MAX_PENDING_COMMANDS: u32 = 100;
/// Upper bound of the random failover start offset.
pub const MAX_DESYNC: Millis = 1_000;
/// Warden's shortest PING period (see [`ping_period`]).
pub const MIN_PING_PERIOD: Millis = 100;
/// Warden pings a master every `down-after / PING_DIVISOR` (see [`ping_period`]).
pub const PING_DIVISOR: Millis = 10;

/// The most PINGs a second Warden sends to masters in all, beyond the fleet size where the
/// tenth-of-down-after period would exceed it (see [`ping_period`]).
pub const MASTER_PINGS_PER_SECOND: Millis = 1_000;

/// Warden's PING period for an instance of `kind` with `down_after` (`tunable`: the
/// `PING-PERIOD` of `SENTINEL DEBUG`, 1 s), in a sentinel watching `masters` masters. Replicas
/// and peer sentinels are pinged as Redis does, every `min(tunable, down-after)`. A master
/// every tenth of down-after, at least every `tunable`, at most every [`MIN_PING_PERIOD`] (and
/// never beyond down-after): a silent failure (a cut link, a frozen process) starts the
/// down-after clock at the first unanswered PING, so it is noticed within `down-after × 1.1`
/// (Redis: down-after + up to 1 s, which doubles a 1 s down-after). A large fleet spreads
/// [`MASTER_PINGS_PER_SECOND`] over its masters instead (100 masters at down-after 1 s; 300 are
/// pinged every 300 ms, 1,000 and more every second, as by Redis), so monitoring does not cost
/// each sentinel and each Redis more than that (2,000 a second cost 1.5 times as much idle
/// CPU at 300 masters for no faster mass failover: a killed master is judged from its last
/// reply, whatever the period). At the default 30 s down-after
/// every instance is pinged as often as by Redis. A closed connection (a killed process)
/// starts the clock at once, whatever the period.
pub fn ping_period(kind: Kind, down_after: Millis, tunable: Millis, masters: usize) -> Millis {
    let redis = tunable.min(down_after).max(1);
    match kind {
        Kind::Master => {
            let fleet = masters as Millis * 1000 / MASTER_PINGS_PER_SECOND;
            (down_after / PING_DIVISOR)
                .max(MIN_PING_PERIOD)
                .max(fleet)
                .min(redis)
        }
        Kind::Replica | Kind::Sentinel => redis,
    }
}
/// INFO period for the replica being promoted, until it reports `role:master` (Warden).
pub const PROMOTION_INFO_PERIOD: Millis = 100;
/// Upper bound of the random part of the delay between ODOWN and the start of a failover
/// attempt (Warden; see [`START_RANK_STEP`]).
pub const START_JITTER: Millis = 10;
/// Extra start delay per reachable peer whose run id sorts before ours (Warden): the first
/// candidate's vote requests reach the others before they start themselves, so their votes do
/// not cross and split the election. The requests leave at once, but a busy host (a mass
/// failover, a slow disk) delays them and the answers, so the step follows the measured save
/// time (see [`RANK_STEP_SAVES`]) rather than a round trip alone. It costs
/// nothing while the first candidate is alive: only a candidate whose predecessors stay silent
/// waits for it.
pub const START_RANK_STEP: Millis = 75;
/// When saves take longer (a large fleet's file, a busy disk), the start step is this many
/// times their recent duration (Warden)...
pub const RANK_STEP_SAVES: Millis = 2;
/// ...but at most this long.
pub const MAX_RANK_STEP: Millis = 500;
/// A peer answered within this many of its ping periods counts as reachable when ranking
/// candidates (Warden).
pub const RECENTLY_HEARD_PINGS: Millis = 3;
/// Shortest gap between two questions to one peer when asking back (Warden: see
/// `Ask::Again`).
pub const ASK_AGAIN_GAP: Millis = 10;
/// Back-off before retrying an election that was provably split (Warden), before the ranked
/// start delay.
pub const SPLIT_RETRY_BACKOFF: Millis = 50;
/// Longest gap between timer runs (each gap is drawn from half of it to all of it).
pub const MAX_TICK_PERIOD: Millis = 100;
/// How long the leader waits in select_slave for fresh replica INFO before giving up (Warden).
pub const FRESH_INFO_WAIT: Millis = 2_000;
/// INFO period for replicas of a master that is down or failing over.
pub const FAST_INFO_PERIOD: Millis = 1_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_are_pinged_every_tenth_of_down_after_within_the_fleet_budget() {
        // One master: a tenth of down-after, between 100 ms and the 1 s of Redis.
        assert_eq!(ping_period(Kind::Master, 1_000, 1_000, 1), 100);
        assert_eq!(ping_period(Kind::Master, 5_000, 1_000, 1), 500);
        assert_eq!(ping_period(Kind::Master, 30_000, 1_000, 1), 1_000);
        assert_eq!(ping_period(Kind::Master, 300, 1_000, 1), 100);
        assert_eq!(ping_period(Kind::Master, 50, 1_000, 1), 50);
        // A fleet shares the budget: up to 100 masters as above, then slower, never slower
        // than Redis.
        assert_eq!(ping_period(Kind::Master, 1_000, 1_000, 100), 100);
        assert_eq!(ping_period(Kind::Master, 1_000, 1_000, 300), 300);
        assert_eq!(ping_period(Kind::Master, 1_000, 1_000, 5_000), 1_000);
        // Replicas and peers as Redis, whatever the fleet.
        assert_eq!(ping_period(Kind::Replica, 1_000, 1_000, 5_000), 1_000);
        assert_eq!(ping_period(Kind::Sentinel, 500, 1_000, 1), 500);
    }
}
