//! Real servers on loopback: `redis-server`, the reference `redis-sentinel`, and `warden`.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::binaries;
use crate::client::Client;
use crate::info::info_field;
use crate::ports::free_port;
use crate::process::Process;
use crate::resp::Value;
use crate::tempdir::TempDir;
use crate::wait::wait_until;

/// How long a freshly started server has to answer PING.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Waits until the server on `port` answers PING (with PONG, or NOAUTH when it has a password),
/// failing early if `process` exits.
fn wait_ready(process: &mut Process, port: u16) -> io::Result<()> {
    wait_ready_within(process, port, START_TIMEOUT)
}

/// [`wait_ready`] with another deadline.
fn wait_ready_within(process: &mut Process, port: u16, timeout: Duration) -> io::Result<()> {
    let what = format!("{} on port {port} to answer PING", process.name());
    let ready = wait_until(timeout, &what, || {
        if let Ok(Some(status)) = process.try_exit_status() {
            return Ok(Err(status));
        }
        match Client::connect(port).and_then(|mut c| c.call(&["PING"])) {
            Ok(Value::Simple(s)) if s == "PONG" => Ok(Ok(())),
            // Up, and configured with a password.
            Ok(Value::Error(e)) if e.starts_with("NOAUTH") => Ok(Ok(())),
            Ok(other) => Err(format!("PING -> {other}")),
            Err(e) => Err(e.to_string()),
        }
    });
    let failure = match ready {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(status)) => format!("{} exited before answering PING ({status})", process.name()),
        Err(timeout) => timeout.to_string(),
    };
    Err(io::Error::other(format!(
        "{failure}\n{}",
        process.output_tail(20)
    )))
}

/// Runs `start` on a free port; if the server could not bind it (another process took the port between
/// the check and the server's bind), tries again on another port, up to three times in all.
fn on_free_port<T>(mut start: impl FnMut(u16) -> io::Result<T>) -> io::Result<T> {
    let mut attempts = 1;
    loop {
        match start(free_port()) {
            Err(e) if attempts < 3 && e.to_string().contains("Address already in use") => {
                attempts += 1
            }
            result => return result,
        }
    }
}

/// A `redis-server` on 127.0.0.1 with no persistence and no replication sync delay, in its own
/// scratch directory.
pub struct RedisServer {
    /// Its port.
    pub port: u16,
    /// The process (field order: dropped, i.e. killed, before its directory is removed).
    pub process: Process,
    /// Its scratch directory.
    pub dir: TempDir,
}

impl RedisServer {
    /// Starts a master.
    pub fn start() -> io::Result<RedisServer> {
        RedisServer::start_with(&[])
    }

    /// Starts a replica of the server on `master_port`.
    pub fn start_replica_of(master_port: u16) -> io::Result<RedisServer> {
        RedisServer::start_with(&["--replicaof", "127.0.0.1", &master_port.to_string()])
    }

    /// Starts a server with extra `--directive value` arguments.
    pub fn start_with(extra: &[&str]) -> io::Result<RedisServer> {
        on_free_port(|port| RedisServer::start_on(port, extra))
    }

    /// Starts a server on `port` with extra `--directive value` arguments (e.g. to bring a killed
    /// server back at its old address).
    pub fn start_on(port: u16, extra: &[&str]) -> io::Result<RedisServer> {
        let mut server = RedisServer::spawn_on(port, extra)?;
        server.wait_ready()?;
        Ok(server)
    }

    /// Starts a server on `port` without waiting for it to answer (to start many at once, then
    /// [`RedisServer::wait_ready`] on each).
    pub fn spawn_on(port: u16, extra: &[&str]) -> io::Result<RedisServer> {
        let dir = TempDir::new("redis")?;
        let mut cmd = Command::new(binaries::redis_server());
        cmd.args(redis_args(port, dir.path())).args(extra);
        let process = Process::spawn(&format!("redis-server-{port}"), cmd, dir.path())?;
        Ok(RedisServer { port, process, dir })
    }

    /// Waits until the server answers PING ([`START_TIMEOUT`]), failing early if it exits.
    pub fn wait_ready(&mut self) -> io::Result<()> {
        wait_ready(&mut self.process, self.port)
    }

    /// A new connection.
    pub fn client(&self) -> io::Result<Client> {
        Client::connect(self.port)
    }

    /// The value of an `INFO replication` field (e.g. `connected_slaves`, `master_link_status`).
    pub fn replication_field(&self, field: &str) -> io::Result<Option<String>> {
        let info = self.client()?.call(&["INFO", "replication"])?;
        Ok(info
            .as_text()
            .and_then(|t| info_field(&t, field).map(str::to_owned)))
    }
}

/// The configuration a sentinel is started with: the seed's `sentinel.conf` shape.
#[derive(Clone, Debug)]
pub struct SentinelConf {
    lines: Vec<String>,
}

impl SentinelConf {
    /// `sentinel monitor <name> 127.0.0.1 <port> <quorum>` with down-after 5000 ms, failover-timeout
    /// 60000 ms and parallel-syncs 1, as in the seed.
    pub fn monitoring(name: &str, master_port: u16, quorum: u32) -> SentinelConf {
        SentinelConf {
            lines: vec![
                format!("sentinel monitor {name} 127.0.0.1 {master_port} {quorum}"),
                format!("sentinel down-after-milliseconds {name} 5000"),
                format!("sentinel failover-timeout {name} 60000"),
                format!("sentinel parallel-syncs {name} 1"),
            ],
        }
    }

    /// A configuration that monitors nothing.
    pub fn empty() -> SentinelConf {
        SentinelConf { lines: Vec::new() }
    }

    /// Adds a line (any directive).
    pub fn line(mut self, line: impl Into<String>) -> SentinelConf {
        self.lines.push(line.into());
        self
    }

    /// The file text for a sentinel on `port` whose working directory is `dir`.
    pub fn render(&self, port: u16, dir: &std::path::Path) -> String {
        let mut text = format!("port {port}\nbind 127.0.0.1\ndir {}\n", dir.display());
        for line in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

/// Which sentinel implementation a [`SentinelServer`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Debian's `redis-sentinel` 7.0.15, the reference.
    Redis,
    /// `warden`, the implementation under test.
    Warden,
    /// `valkey-sentinel` 8.1 (valkey-server under that name), the reference for Valkey's surface.
    Valkey,
}

impl Flavor {
    /// The program to run.
    pub fn binary(self) -> io::Result<PathBuf> {
        match self {
            Flavor::Redis => Ok(binaries::redis_sentinel()),
            Flavor::Warden => binaries::warden(),
            Flavor::Valkey => binaries::valkey_sentinel(),
        }
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flavor::Redis => "redis-sentinel",
            Flavor::Warden => "warden",
            Flavor::Valkey => "valkey-sentinel",
        })
    }
}

/// A sentinel (reference or Warden) on 127.0.0.1, started as `<binary> <dir>/sentinel.conf`.
pub struct SentinelServer {
    /// Which implementation.
    pub flavor: Flavor,
    /// Its port.
    pub port: u16,
    /// Its config file (rewritten by the sentinel itself).
    pub config_path: PathBuf,
    /// The process (dropped, i.e. killed, before its directory is removed).
    pub process: Process,
    /// Its scratch directory (also its `dir`).
    pub dir: TempDir,
}

impl SentinelServer {
    /// Writes the config and starts the sentinel, waiting until it answers PING.
    pub fn start(flavor: Flavor, conf: &SentinelConf) -> io::Result<SentinelServer> {
        SentinelServer::start_in(flavor, conf, &std::env::temp_dir())
    }

    /// [`SentinelServer::start`] with its directory (config file, logs) created under `parent`.
    pub fn start_in(
        flavor: Flavor,
        conf: &SentinelConf,
        parent: &std::path::Path,
    ) -> io::Result<SentinelServer> {
        on_free_port(|port| {
            let mut server = SentinelServer::spawn_on(flavor, conf, port, parent)?;
            wait_ready(&mut server.process, port)?;
            Ok(server)
        })
    }

    /// Writes the config and starts the sentinel without waiting for it to answer (for start-up
    /// failure tests).
    pub fn spawn(flavor: Flavor, conf: &SentinelConf) -> io::Result<SentinelServer> {
        SentinelServer::spawn_on(flavor, conf, free_port(), &std::env::temp_dir())
    }

    fn spawn_on(
        flavor: Flavor,
        conf: &SentinelConf,
        port: u16,
        parent: &std::path::Path,
    ) -> io::Result<SentinelServer> {
        let dir = TempDir::new_in(parent, &flavor.to_string())?;
        let config_path = dir.path().join("sentinel.conf");
        std::fs::write(&config_path, conf.render(port, dir.path()))?;
        let mut cmd = Command::new(flavor.binary()?);
        cmd.arg(&config_path);
        let process = Process::spawn(&format!("{flavor}-{port}"), cmd, dir.path())?;
        Ok(SentinelServer {
            flavor,
            port,
            config_path,
            process,
            dir,
        })
    }

    /// Writes the config and starts the sentinel on a free port under `parent` without waiting
    /// for it to answer (to start several at once, then [`SentinelServer::wait_ready`]).
    pub fn spawn_in(
        flavor: Flavor,
        conf: &SentinelConf,
        parent: &std::path::Path,
    ) -> io::Result<SentinelServer> {
        SentinelServer::spawn_on(flavor, conf, free_port(), parent)
    }

    /// Waits up to `timeout` until the sentinel answers PING, failing early if it exits.
    pub fn wait_ready(&mut self, timeout: Duration) -> io::Result<()> {
        wait_ready_within(&mut self.process, self.port, timeout)
    }

    /// A new connection.
    pub fn client(&self) -> io::Result<Client> {
        Client::connect(self.port)
    }

    /// `SENTINEL MASTER <name>` on a new connection.
    pub fn master(&self, name: &str) -> io::Result<Value> {
        self.client()?.call(&["SENTINEL", "MASTER", name])
    }
}

/// The command line of a throwaway redis-server on `127.0.0.1:port` working in `dir`: no
/// persistence, and replicas that sync at once instead of after the default 5 s diskless-sync
/// delay.
pub fn redis_args(port: u16, dir: &std::path::Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--repl-diskless-sync-delay",
        "0",
        "--dir",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(dir.to_string_lossy().into_owned());
    args
}
