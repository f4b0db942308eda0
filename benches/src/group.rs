//! A monitored group on loopback: one master and two replicas (`redis-server`), watched by three
//! sentinels of one implementation, all with the same configuration.

use std::io;
use std::time::Duration;

use warden_integration::servers::{Flavor, RedisServer, SentinelConf, SentinelServer};
use warden_integration::wait::wait_until;

/// The monitored master's name.
pub const MASTER_NAME: &str = "mymaster";
/// Sentinels that must agree the master is down.
pub const QUORUM: u32 = 2;

/// The group. Dropping it stops every process (sentinels first, so none reacts to the others
/// going away).
pub struct Group {
    /// The sentinels.
    pub sentinels: Vec<SentinelServer>,
    /// The replicas.
    pub replicas: Vec<RedisServer>,
    /// The initial master.
    pub master: RedisServer,
}

impl Group {
    /// Start the master and two replicas (waiting until both are in sync), then three sentinels
    /// of `flavor` monitoring [`MASTER_NAME`] with quorum [`QUORUM`], `down_after_ms` and
    /// `failover_timeout_ms` (other settings as in the seed's sentinel.conf).
    pub fn start(
        flavor: Flavor,
        down_after_ms: u64,
        failover_timeout_ms: u64,
    ) -> io::Result<Group> {
        let master = RedisServer::start()?;
        let replicas = (0..2)
            .map(|_| RedisServer::start_replica_of(master.port))
            .collect::<io::Result<Vec<_>>>()?;
        for replica in &replicas {
            wait_until(
                Duration::from_secs(15),
                "a replica to finish its sync",
                || match replica.replication_field("master_link_status") {
                    Ok(Some(status)) if status == "up" => Ok(()),
                    other => Err(format!("{other:?}")),
                },
            )
            .map_err(io::Error::other)?;
        }
        let conf = SentinelConf::monitoring(MASTER_NAME, master.port, QUORUM)
            .line(format!(
                "sentinel down-after-milliseconds {MASTER_NAME} {down_after_ms}"
            ))
            .line(format!(
                "sentinel failover-timeout {MASTER_NAME} {failover_timeout_ms}"
            ));
        let sentinels = (0..3)
            .map(|_| SentinelServer::start(flavor, &conf))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Group {
            sentinels,
            replicas,
            master,
        })
    }

    /// Wait until every sentinel knows both replicas and both other sentinels.
    pub fn wait_agreement(&self, timeout: Duration) -> io::Result<()> {
        wait_until(timeout, "the sentinels to discover the group", || {
            let mut views = Vec::new();
            for sentinel in &self.sentinels {
                let reply = sentinel.master(MASTER_NAME).map_err(|e| e.to_string())?;
                let count = |key| reply.field_text(key).unwrap_or_default();
                views.push(format!(
                    "{}/{}",
                    count("num-slaves"),
                    count("num-other-sentinels")
                ));
            }
            if views.iter().all(|v| v == "2/2") {
                Ok(())
            } else {
                Err(format!("replicas/other sentinels: {}", views.join(" ")))
            }
        })
        .map_err(io::Error::other)
    }

    /// `ip:port` of every sentinel.
    pub fn sentinel_addrs(&self) -> Vec<String> {
        self.sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect()
    }

    /// `ip:port` of the initial master.
    pub fn master_addr(&self) -> String {
        format!("127.0.0.1:{}", self.master.port)
    }

    /// SIGKILL the master (by its PID).
    pub fn kill_master(&mut self) -> io::Result<()> {
        self.master.process.signal(libc::SIGKILL)
    }
}
