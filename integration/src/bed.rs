//! The side-by-side bed: one Redis master (and replicas), monitored by the reference `redis-sentinel`
//! and by `warden` with the same configuration.

use std::io;
use std::time::Duration;

use crate::resp::Value;
use crate::servers::{Flavor, RedisServer, SentinelConf, SentinelServer};
use crate::wait::wait_until;

/// The master name every bed monitors.
pub const MASTER_NAME: &str = "mymaster";

/// How long a sentinel has to see the master and its replicas.
pub const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(15);

/// A master, its replicas and the two sentinels. Dropping it stops everything.
pub struct SideBySide {
    /// The reference sentinel.
    pub reference: SentinelServer,
    /// The sentinel under test.
    pub warden: SentinelServer,
    /// The replicas of [`SideBySide::master`].
    pub replicas: Vec<RedisServer>,
    /// The monitored master.
    pub master: RedisServer,
}

impl SideBySide {
    /// Starts a master with `replicas` replicas (waiting until they are in sync, so that a sentinel's
    /// first INFO of the master already lists them), then both sentinels with
    /// [`SentinelConf::monitoring`] `mymaster` at quorum 2.
    pub fn start(replicas: usize) -> io::Result<SideBySide> {
        SideBySide::start_with(replicas, &[])
    }

    /// [`SideBySide::start`] with extra config lines for both sentinels (e.g. `requirepass x`).
    pub fn start_with(replicas: usize, extra: &[&str]) -> io::Result<SideBySide> {
        SideBySide::start_each(replicas, |_| extra.iter().map(|l| l.to_string()).collect())
    }

    /// [`SideBySide::start`] with extra config lines for each sentinel (`extra(flavor)`).
    pub fn start_each(
        replicas: usize,
        extra: impl Fn(Flavor) -> Vec<String>,
    ) -> io::Result<SideBySide> {
        let master = RedisServer::start()?;
        let replicas = (0..replicas)
            .map(|_| RedisServer::start_replica_of(master.port))
            .collect::<io::Result<Vec<_>>>()?;
        for replica in &replicas {
            wait_until(
                DISCOVERY_TIMEOUT,
                "the replica to finish its sync",
                || match replica.replication_field("master_link_status") {
                    Ok(Some(s)) if s == "up" => Ok(()),
                    other => Err(format!("{other:?}")),
                },
            )
            .map_err(io::Error::other)?;
        }
        let conf = |flavor| {
            extra(flavor).into_iter().fold(
                SentinelConf::monitoring(MASTER_NAME, master.port, 2),
                SentinelConf::line,
            )
        };
        let reference = SentinelServer::start(Flavor::Redis, &conf(Flavor::Redis))?;
        let warden = SentinelServer::start(Flavor::Warden, &conf(Flavor::Warden))?;
        Ok(SideBySide {
            reference,
            warden,
            replicas,
            master,
        })
    }

    /// Both sentinels, reference first.
    pub fn sentinels(&self) -> [&SentinelServer; 2] {
        [&self.reference, &self.warden]
    }

    /// Waits until each sentinel reports the master healthy (`flags` = `master`, `role-reported` =
    /// `master`) with all replicas discovered, connected and their INFO read, so both are in the same
    /// state before they are compared.
    pub fn wait_settled(&self) -> io::Result<()> {
        let replicas = self.replicas.len().to_string();
        for sentinel in self.sentinels() {
            let what = format!(
                "{} to see {MASTER_NAME} up with {replicas} replica(s)",
                sentinel.flavor
            );
            wait_until(DISCOVERY_TIMEOUT, &what, || {
                let master = sentinel.master(MASTER_NAME).map_err(|e| e.to_string())?;
                let field = |k: &str| master.field_text(k).unwrap_or_default();
                let settled = field("flags") == "master"
                    && field("role-reported") == "master"
                    && field("num-slaves") == replicas
                    && replicas_listed(sentinel, self.replicas.len());
                if settled {
                    Ok(())
                } else {
                    Err(master.to_string())
                }
            })
            .map_err(|e| io::Error::other(format!("{e}\n{}", sentinel.process.output_tail(20))))?;
        }
        Ok(())
    }
}

/// Whether `SENTINEL REPLICAS mymaster` lists `n` connected replicas (flags exactly `slave`) whose INFO
/// the sentinel has read (`info-refresh` is 0 until then).
fn replicas_listed(sentinel: &SentinelServer, n: usize) -> bool {
    let reply = sentinel
        .client()
        .and_then(|mut c| c.call(&["SENTINEL", "REPLICAS", MASTER_NAME]));
    let ready = |r: &Value| {
        r.field_text("flags").as_deref() == Some("slave")
            && r.field_text("info-refresh").is_some_and(|ms| ms != "0")
    };
    match reply {
        Ok(Value::Array(list)) => list.len() == n && list.iter().all(ready),
        _ => false,
    }
}
