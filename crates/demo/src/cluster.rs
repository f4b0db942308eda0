//! The demo's group: three `redis-server`s (one master, two replicas) and three sentinels
//! watching them, all on 127.0.0.1, with the questions the demo asks them.

use super::procs::{free_ports, Procs};
use super::resp::{field, info_field, pairs, text, Conn};
use redis_protocol::resp2::types::BytesFrame;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The monitored master's name.
pub const MASTER_NAME: &str = "mymaster";
/// Sentinels that must agree the master is down.
pub const QUORUM: u32 = 2;
/// `down-after-milliseconds`.
pub const DOWN_AFTER_MS: u64 = 1000;
/// `failover-timeout`.
pub const FAILOVER_TIMEOUT_MS: u64 = 10_000;
/// How long a started server has to answer PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(50);

/// One server of the group.
pub struct Node {
    /// Its name in the demo's output and log file (`redis-1`, `warden-2`, ...).
    pub name: String,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

/// The running group.
pub struct Cluster<'a> {
    procs: &'a mut Procs,
    redis_server: PathBuf,
    /// The redis-servers; the first is the initial master.
    pub servers: Vec<Node>,
    /// The sentinels.
    pub wardens: Vec<Node>,
}

/// What one sentinel reports about the group.
pub struct View {
    /// Replicas it knows.
    pub replicas: usize,
    /// Other sentinels it knows.
    pub sentinels: usize,
}

impl<'a> Cluster<'a> {
    /// Start the master, its two replicas and three `sentinel` processes (each with its own
    /// generated `sentinel.conf`), waiting until each answers PING. `announce` gets one line per
    /// process started.
    pub async fn start(
        procs: &'a mut Procs,
        redis_server: &Path,
        sentinel: &Path,
        announce: &mut dyn FnMut(String),
    ) -> io::Result<Cluster<'a>> {
        let ports = free_ports(6)?;
        let node = |kind: &str, i: usize, port: u16| Node {
            name: format!("{kind}-{}", i + 1),
            port,
        };
        let mut cluster = Cluster {
            procs,
            redis_server: redis_server.to_path_buf(),
            servers: (0..3).map(|i| node("redis", i, ports[i])).collect(),
            wardens: (0..3).map(|i| node("warden", i, ports[3 + i])).collect(),
        };
        let master = ports[0];
        for i in 0..3 {
            let role = if i == 0 { "master" } else { "replica" };
            let pid = cluster.start_redis(i, (i > 0).then_some(master)).await?;
            let server = &cluster.servers[i];
            announce(format!(
                "  started {:<8}  127.0.0.1:{}  pid {pid:<7}  redis-server, {role}",
                server.name, server.port
            ));
        }
        for i in 0..3 {
            let pid = cluster.start_sentinel(i, sentinel, master).await?;
            let warden = &cluster.wardens[i];
            announce(format!(
                "  started {:<8}  127.0.0.1:{}  pid {pid:<7}  {}",
                warden.name,
                warden.port,
                sentinel.display()
            ));
        }
        Ok(cluster)
    }

    /// (Re)start redis-server number `i`, as a replica of `replica_of` or as a master.
    pub async fn start_redis(&mut self, i: usize, replica_of: Option<u16>) -> io::Result<u32> {
        let Node { name, port } = &self.servers[i];
        let dir = self.procs.dir().join(name);
        std::fs::create_dir_all(&dir)?;
        let mut args = warden_integration::servers::redis_args(*port, &dir);
        args.extend(["--logfile".to_string(), String::new()]);
        if let Some(master) = replica_of {
            args.extend(["--replicaof".into(), "127.0.0.1".into(), master.to_string()]);
        }
        let (name, port) = (name.clone(), *port);
        let pid = self.procs.spawn(&name, &self.redis_server, &args)?;
        self.wait_ready(&name, port).await?;
        Ok(pid)
    }

    /// Start sentinel number `i` with a fresh config monitoring the master on `master`.
    async fn start_sentinel(&mut self, i: usize, program: &Path, master: u16) -> io::Result<u32> {
        let Node { name, port } = &self.wardens[i];
        let dir = self.procs.dir().join(name);
        std::fs::create_dir_all(&dir)?;
        let config = dir.join("sentinel.conf");
        std::fs::write(
            &config,
            format!(
                "port {port}\nbind 127.0.0.1\ndir \"{}\"\n\
                 sentinel monitor {MASTER_NAME} 127.0.0.1 {master} {QUORUM}\n\
                 sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n\
                 sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}\n",
                dir.display()
            ),
        )?;
        let (name, port) = (name.clone(), *port);
        let pid = self
            .procs
            .spawn(&name, program, &[config.to_string_lossy().into_owned()])?;
        self.wait_ready(&name, port).await?;
        Ok(pid)
    }

    /// Wait until `name` answers PING on `port`, failing early if it exits.
    async fn wait_ready(&mut self, name: &str, port: u16) -> io::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.procs.exited(name) {
                return Err(io::Error::other(format!(
                    "{name} exited during start-up; see {}",
                    self.procs.dir().join(format!("{name}.log")).display()
                )));
            }
            let pong = match Conn::connect(port).await {
                Ok(mut conn) => conn.call(&["PING"]).await.map(|r| text(&r) == "PONG"),
                Err(e) => Err(e),
            };
            if let Ok(true) = pong {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(io::Error::other(format!(
                    "{name} did not answer PING on port {port} within {START_TIMEOUT:?}"
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// SIGKILL redis-server number `i`; returns its PID.
    pub async fn kill_server(&mut self, i: usize) -> io::Result<u32> {
        let name = self.servers[i].name.clone();
        self.procs.kill(&name).await
    }

    /// The PID of the process called `name`, while it runs.
    pub fn pid(&self, name: &str) -> Option<u32> {
        self.procs.pid(name)
    }

    /// The scratch directory.
    pub fn dir(&self) -> &Path {
        self.procs.dir()
    }

    /// What each sentinel reports about the group (`None` where it did not answer).
    pub async fn views(&self) -> Vec<Option<View>> {
        let mut views = Vec::new();
        for warden in &self.wardens {
            let reply = ask(warden.port, &["SENTINEL", "MASTER", MASTER_NAME]).await;
            views.push(reply.ok().map(|reply| {
                let map = pairs(&reply);
                let count = |key| field(&map, key).and_then(|v| v.parse().ok()).unwrap_or(0);
                View {
                    replicas: count("num-slaves"),
                    sentinels: count("num-other-sentinels"),
                }
            }));
        }
        views
    }

    /// Each sentinel's id (`SENTINEL MYID`, the id its events and votes carry) paired with its
    /// name, to make events readable.
    pub async fn sentinel_ids(&self) -> io::Result<Vec<(String, String)>> {
        let mut names = Vec::new();
        for warden in &self.wardens {
            let id = text(&ask(warden.port, &["SENTINEL", "MYID"]).await?);
            names.push((id, warden.name.clone()));
        }
        Ok(names)
    }

    /// The master address (`ip:port`) each sentinel reports (`None` where it did not answer).
    pub async fn masters_seen(&self) -> Vec<Option<String>> {
        let mut seen = Vec::new();
        for warden in &self.wardens {
            let reply = ask(
                warden.port,
                &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME],
            )
            .await;
            seen.push(match reply {
                Ok(BytesFrame::Array(addr)) if addr.len() == 2 => {
                    Some(format!("{}:{}", text(&addr[0]), text(&addr[1])))
                }
                _ => None,
            });
        }
        seen
    }

    /// The master address all three sentinels report, if they agree.
    pub async fn agreed_master(&self) -> Option<String> {
        let seen = self.masters_seen().await;
        let first = seen.first().cloned().flatten()?;
        seen.iter()
            .all(|s| s.as_deref() == Some(first.as_str()))
            .then_some(first)
    }

    /// Whether the server on `port` is a replica whose link to its master is up.
    pub async fn is_synced_replica(&self, port: u16) -> bool {
        match ask(port, &["INFO", "replication"]).await {
            Ok(reply) => {
                let info = text(&reply);
                info_field(&info, "role") == Some("slave")
                    && info_field(&info, "master_link_status") == Some("up")
            }
            Err(_) => false,
        }
    }

    /// One line per process: what each redis-server says its role is, and which master each
    /// sentinel reports.
    pub async fn topology(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for server in &self.servers {
            let state = match ask(server.port, &["INFO", "replication"]).await {
                Ok(reply) => describe_replication(&text(&reply)),
                Err(_) => "down".to_string(),
            };
            lines.push(self.line(server, &state));
        }
        for (warden, master) in self.wardens.iter().zip(self.masters_seen().await) {
            let state = match master {
                Some(addr) => format!("says the master of {MASTER_NAME} is {addr}"),
                None => "no answer".to_string(),
            };
            lines.push(self.line(warden, &state));
        }
        lines
    }

    fn line(&self, node: &Node, state: &str) -> String {
        let pid = self
            .pid(&node.name)
            .map_or_else(|| "-".to_string(), |p| p.to_string());
        format!(
            "  {:<8}  127.0.0.1:{}  pid {pid:<7}  {state}",
            node.name, node.port
        )
    }
}

/// One command on a new connection to `port`.
async fn ask(port: u16, args: &[&str]) -> io::Result<BytesFrame> {
    Conn::connect(port).await?.call(args).await
}

/// A redis-server's `INFO replication` in a few words.
fn describe_replication(info: &str) -> String {
    let get = |key| info_field(info, key).unwrap_or("?");
    match get("role") {
        "master" => format!("master, connected replicas: {}", get("connected_slaves")),
        "slave" => format!(
            "replica of {}:{}, link {}",
            get("master_host"),
            get("master_port"),
            get("master_link_status")
        ),
        other => format!("role {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_roles() {
        let master = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n";
        assert_eq!(
            describe_replication(master),
            "master, connected replicas: 2"
        );
        let replica =
            "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:10001\r\nmaster_link_status:up\r\n";
        assert_eq!(
            describe_replication(replica),
            "replica of 127.0.0.1:10001, link up"
        );
    }
}
