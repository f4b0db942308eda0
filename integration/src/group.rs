//! A monitored group on loopback: one master with replicas (`redis-server`), watched by several
//! sentinels (Warden, `redis-sentinel`, or a mix) that share one configuration.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::bed::MASTER_NAME;
use crate::certs::TestCerts;
use crate::ports::free_port;
use crate::resp::Value;
use crate::servers::{Flavor, RedisServer, SentinelConf, SentinelServer};
use crate::wait::{wait_until, Timeout};

/// How long the sentinels have to discover the replicas and each other (hellos go out every 2 s).
pub const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// What the group is started with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Number of replicas.
    pub replicas: usize,
    /// `sentinel monitor ... <quorum>`.
    pub quorum: u32,
    /// `down-after-milliseconds`.
    pub down_after_ms: u64,
    /// `failover-timeout` (an aborted or split election is retried after twice this).
    pub failover_timeout_ms: u64,
    /// Extra `--directive value` arguments of every replica (e.g. `--replica-priority 0`).
    pub replica_args: Vec<String>,
    /// Extra lines of every sentinel's configuration.
    pub sentinel_lines: Vec<String>,
    /// When set, every sentinel also serves clients over TLS on a port of its own
    /// ([`Group::tls_ports`]) with these certificates, requiring a client certificate; its links
    /// to the instances and its peers stay plain.
    pub tls: Option<Arc<TestCerts>>,
    /// When set, every sentinel serves its HTTP side (metrics, health checks) on a port of its
    /// own ([`Group::metrics_ports`]).
    pub metrics: bool,
}

impl Default for Settings {
    /// Two replicas, quorum 2, down-after 1000 ms, failover-timeout 6000 ms.
    fn default() -> Settings {
        Settings {
            replicas: 2,
            quorum: 2,
            down_after_ms: 1000,
            failover_timeout_ms: 6000,
            replica_args: Vec::new(),
            sentinel_lines: Vec::new(),
            tls: None,
            metrics: false,
        }
    }
}

/// The group. Dropping it kills every process (sentinels first, so none reacts to the others going away).
pub struct Group {
    /// The sentinels, in the order of the flavors given to [`Group::start`].
    pub sentinels: Vec<SentinelServer>,
    /// The replicas.
    pub replicas: Vec<RedisServer>,
    /// The initial master.
    pub master: RedisServer,
    /// Each sentinel's `tls-port`, in order (empty without [`Settings::tls`]).
    pub tls_ports: Vec<u16>,
    /// Each sentinel's `metrics-port`, in order (empty without [`Settings::metrics`]).
    pub metrics_ports: Vec<u16>,
}

impl Group {
    /// Starts the master and the replicas (waiting until every replica is in sync, so a sentinel's
    /// first INFO of the master lists them), then one sentinel per entry of `flavors`, all monitoring
    /// [`MASTER_NAME`] with `settings`.
    pub fn start(flavors: &[Flavor], settings: &Settings) -> io::Result<Group> {
        let master = RedisServer::start()?;
        let port = master.port.to_string();
        let mut args = vec!["--replicaof", "127.0.0.1", &port];
        args.extend(settings.replica_args.iter().map(String::as_str));
        let replicas = (0..settings.replicas)
            .map(|_| RedisServer::start_with(&args))
            .collect::<io::Result<Vec<_>>>()?;
        for replica in &replicas {
            wait_until(
                DISCOVERY_TIMEOUT,
                "a replica to finish its sync",
                || match replica.replication_field("master_link_status") {
                    Ok(Some(status)) if status == "up" => Ok(()),
                    other => Err(format!("{other:?}")),
                },
            )
            .map_err(io::Error::other)?;
        }
        let mut conf = SentinelConf::monitoring(MASTER_NAME, master.port, settings.quorum)
            .line(format!(
                "sentinel down-after-milliseconds {MASTER_NAME} {}",
                settings.down_after_ms
            ))
            .line(format!(
                "sentinel failover-timeout {MASTER_NAME} {}",
                settings.failover_timeout_ms
            ));
        for line in &settings.sentinel_lines {
            conf = conf.line(line.clone());
        }
        let mut sentinels = Vec::with_capacity(flavors.len());
        let mut tls_ports = Vec::new();
        let mut metrics_ports = Vec::new();
        for &flavor in flavors {
            let mut own = conf.clone();
            if settings.metrics {
                let port = free_port();
                own = own.line(format!("metrics-port {port}"));
                metrics_ports.push(port);
            }
            if let Some(certs) = &settings.tls {
                let tls_port = free_port();
                for (name, value) in certs.directives(tls_port) {
                    if name != "tls-replication" {
                        own = own.line(format!("{name} {value}"));
                    }
                }
                tls_ports.push(tls_port);
            }
            sentinels.push(SentinelServer::start(flavor, &own)?);
        }
        Ok(Group {
            sentinels,
            replicas,
            master,
            tls_ports,
            metrics_ports,
        })
    }

    /// The sentinels' ports, in order.
    pub fn sentinel_ports(&self) -> Vec<u16> {
        self.sentinels.iter().map(|s| s.port).collect()
    }

    /// Indexes of every sentinel.
    pub fn all(&self) -> Vec<usize> {
        (0..self.sentinels.len()).collect()
    }

    /// Waits until every sentinel sees the master up, every replica connected with its INFO read,
    /// and every other sentinel connected (listed in `SENTINEL SENTINELS` by port, flags `sentinel`).
    pub fn wait_discovered(&self) -> io::Result<()> {
        let mut replica_ports: Vec<u16> = self.replicas.iter().map(|r| r.port).collect();
        replica_ports.sort_unstable();
        for (i, sentinel) in self.sentinels.iter().enumerate() {
            let mut others: Vec<u16> = self
                .sentinels
                .iter()
                .filter(|s| s.port != sentinel.port)
                .map(|s| s.port)
                .collect();
            others.sort_unstable();
            let what = format!("{} #{i} to discover the group", sentinel.flavor);
            wait_until(DISCOVERY_TIMEOUT, &what, || {
                let master = sentinel.master(MASTER_NAME).map_err(|e| e.to_string())?;
                if master.field_text("flags").as_deref() != Some("master")
                    || master.field_text("role-reported").as_deref() != Some("master")
                {
                    return Err(format!("master: {master}"));
                }
                let replicas = list(sentinel, "REPLICAS")?;
                let replicas_ok = |r: &Value| {
                    r.field_text("flags").as_deref() == Some("slave")
                        && r.field_text("info-refresh").is_some_and(|ms| ms != "0")
                };
                if ports(&replicas) != replica_ports || !replicas.iter().all(replicas_ok) {
                    return Err(format!("replicas: {}", Value::Array(replicas)));
                }
                let sentinels = list(sentinel, "SENTINELS")?;
                let connected = |s: &Value| s.field_text("flags").as_deref() == Some("sentinel");
                if ports(&sentinels) != others || !sentinels.iter().all(connected) {
                    return Err(format!("sentinels: {}", Value::Array(sentinels)));
                }
                Ok(())
            })
            .map_err(|e| io::Error::other(format!("{e}\n{}", sentinel.process.output_tail(30))))?;
        }
        Ok(())
    }

    /// `SENTINEL MYID` of every sentinel, in order.
    pub fn myids(&self) -> io::Result<Vec<String>> {
        self.sentinels
            .iter()
            .map(|s| {
                let reply = s.client()?.call(&["SENTINEL", "MYID"])?;
                reply
                    .as_text()
                    .ok_or_else(|| io::Error::other(format!("SENTINEL MYID -> {reply}")))
            })
            .collect()
    }

    /// The master port sentinel `i` reports through `SENTINEL GET-MASTER-ADDR-BY-NAME`.
    pub fn reported_master(&self, i: usize) -> Result<u16, String> {
        let reply = self.sentinels[i]
            .client()
            .and_then(|mut c| c.call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME]))
            .map_err(|e| e.to_string())?;
        match reply.as_items() {
            Some([ip, port]) if ip.as_text().as_deref() == Some("127.0.0.1") => port
                .as_text()
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| reply.to_string()),
            _ => Err(reply.to_string()),
        }
    }

    /// Waits until every sentinel reports the master at `port`.
    pub fn wait_master_everywhere(&self, port: u16, timeout: Duration) -> io::Result<()> {
        wait_until(
            timeout,
            &format!("every sentinel to report the master at port {port}"),
            || {
                let seen: Vec<Result<u16, String>> = self
                    .all()
                    .iter()
                    .map(|&i| self.reported_master(i))
                    .collect();
                if seen.iter().all(|p| p.as_ref() == Ok(&port)) {
                    Ok(())
                } else {
                    Err(format!("{seen:?}"))
                }
            },
        )
        .map_err(io::Error::other)
    }

    /// The replica (or master) started on `port`.
    pub fn server(&self, port: u16) -> Option<&RedisServer> {
        std::iter::once(&self.master)
            .chain(&self.replicas)
            .find(|s| s.port == port)
    }

    /// Checks that the replica on port `new` was promoted: it reports `role:master`, every other
    /// replica comes to replicate from it (waiting up to `timeout` for each), and every sentinel
    /// comes to report it through `SENTINEL GET-MASTER-ADDR-BY-NAME` (within 10 s). Panics
    /// otherwise, with the sentinels' logs.
    pub fn assert_promoted(&self, new: u16, timeout: Duration) {
        let promoted = self
            .server(new)
            .unwrap_or_else(|| panic!("{new} is not a replica"));
        assert_eq!(role(promoted).unwrap().0, "master");
        for replica in self.replicas.iter().filter(|r| r.port != new) {
            wait_replica_of(
                replica,
                new,
                timeout,
                "the other replica to follow the new master",
            )
            .unwrap_or_else(|e| panic!("{e}\n{}", self.logs(30)));
        }
        self.wait_master_everywhere(new, Duration::from_secs(10))
            .unwrap_or_else(|e| panic!("{e}\n{}", self.logs(30)));
    }

    /// The last `lines` lines of every sentinel's output, for failure messages.
    pub fn logs(&self, lines: usize) -> String {
        self.sentinels
            .iter()
            .map(|s| s.process.output_tail(lines))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `SENTINEL <what> mymaster` as a list of instance maps.
fn list(sentinel: &SentinelServer, what: &str) -> Result<Vec<Value>, String> {
    let reply = sentinel
        .client()
        .and_then(|mut c| c.call(&["SENTINEL", what, MASTER_NAME]))
        .map_err(|e| e.to_string())?;
    match reply {
        Value::Array(items) => Ok(items),
        other => Err(format!("SENTINEL {what} -> {other}")),
    }
}

/// The sorted `port` fields of instance maps.
pub fn ports(instances: &[Value]) -> Vec<u16> {
    let mut ports: Vec<u16> = instances
        .iter()
        .filter_map(|i| i.field_text("port")?.parse().ok())
        .collect();
    ports.sort_unstable();
    ports
}

/// `role` and `master_port` (for a replica) of `server`, from `INFO replication`.
pub fn role(server: &RedisServer) -> Result<(String, Option<u16>), String> {
    let role = server
        .replication_field("role")
        .map_err(|e| e.to_string())?
        .ok_or("no role field")?;
    let master_port = server
        .replication_field("master_port")
        .map_err(|e| e.to_string())?
        .and_then(|p| p.parse().ok());
    Ok((role, master_port))
}

/// Waits up to `timeout` (for `what`) until `server` reports `role:slave` replicating from the
/// master on port `master`.
pub fn wait_replica_of(
    server: &RedisServer,
    master: u16,
    timeout: Duration,
    what: &str,
) -> Result<(), Timeout> {
    wait_until(timeout, what, || match role(server) {
        Ok((r, Some(port))) if r == "slave" && port == master => Ok(()),
        other => Err(format!("{other:?}")),
    })
}
