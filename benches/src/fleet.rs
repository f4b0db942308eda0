//! A fleet for the `many_masters` bench: M shards of one master and one replica — real
//! `redis-server` processes or one `redis-swarm` process of simulated instances — watched by
//! three sentinels of one implementation, each monitoring every master. Also the optional
//! tmpfs for the sentinels' config files, and Ctrl-C handling so guards still clean up.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use warden_integration::client::Client;
use warden_integration::ports::free_port;
use warden_integration::process::Process;
use warden_integration::resp::Value;
use warden_integration::servers::{Flavor, RedisServer, SentinelConf, SentinelServer};
use warden_integration::tempdir::TempDir;
use warden_integration::wait::wait_until;

/// Sentinels that must agree a master is down.
pub const QUORUM: u32 = 2;
/// `failover-timeout` of every master.
pub const FAILOVER_TIMEOUT_MS: u64 = 10_000;
/// How long a sentinel has to answer PING after it is started.
const SENTINEL_START_TIMEOUT: Duration = Duration::from_secs(60);
/// Extra `redis-server` arguments: no persistence, small buffers (hundreds run at once).
const REDIS_ARGS: [&str; 6] = [
    "--repl-backlog-size",
    "16kb",
    "--databases",
    "1",
    "--maxmemory",
    "16mb",
];

/// The name of shard `i`'s master.
pub fn master_name(i: usize) -> String {
    format!("m{i}")
}

/// Shard index of a master name given by [`master_name`].
pub fn shard_of(name: &str) -> Option<usize> {
    name.strip_prefix('m')?.parse().ok()
}

/// One shard's initial ports.
#[derive(Clone, Copy, Debug)]
pub struct Shard {
    /// The initial master.
    pub master: u16,
    /// Its replica.
    pub replica: u16,
}

/// The processes serving the shards.
enum Servers {
    /// One `redis-server` per instance.
    Real {
        masters: Vec<RedisServer>,
        replicas: Vec<RedisServer>,
    },
    /// Every instance in a `redis-swarm` (shard `i` in part `i % parts`), killed through its
    /// control connection.
    Swarm {
        parts: Vec<SwarmPart>,
        _dir: TempDir,
    },
}

/// One `redis-swarm` process.
struct SwarmPart {
    control: BufReader<TcpStream>,
    process: Process,
}

/// Shards one `redis-swarm` serves at most: each has two listeners and, with three sentinels,
/// twelve connections, so a thousand stay below the 20,000 open files a process may have here.
const SHARDS_PER_SWARM: usize = 1000;

/// The monitored instances. Dropping it kills every process.
pub struct Fleet {
    /// The shards, in order (shard `i`'s master is named [`master_name`]`(i)`).
    pub shards: Vec<Shard>,
    servers: Servers,
}

/// Whether Ctrl-C was pressed since [`catch_interrupt`].
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Turns SIGINT and SIGTERM into [`interrupted`] so the bench can stop and drop its guards
/// (processes, temp dirs, the tmpfs) instead of dying with them in place.
pub fn catch_interrupt() {
    let handler: extern "C" fn(libc::c_int) = on_interrupt;
    // SAFETY: the handler only stores to an atomic (async-signal-safe).
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
    }
}

/// Whether the user asked the bench to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// An error if the user asked the bench to stop.
pub fn check_interrupt() -> io::Result<()> {
    if interrupted() {
        Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"))
    } else {
        Ok(())
    }
}

/// Sleeps `duration` in short steps, returning early with an error on Ctrl-C.
pub fn sleep(duration: Duration) -> io::Result<()> {
    let end = Instant::now() + duration;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        check_interrupt()?;
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
    check_interrupt()
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl Fleet {
    /// Starts `m` shards of real `redis-server`s running their timers at `hz` (Redis's
    /// `hz`): every master at once, then every replica, then waits until every replica's link
    /// is up. (Processes are spawned on this thread: they die with it.)
    pub fn start_real(m: usize, hz: u32) -> io::Result<Fleet> {
        let hz = hz.to_string();
        let spawn_all = |extra: &dyn Fn(usize) -> Vec<String>| -> io::Result<Vec<RedisServer>> {
            let mut servers = Vec::with_capacity(m);
            for i in 0..m {
                let args = extra(i);
                let mut all: Vec<&str> = REDIS_ARGS.to_vec();
                all.extend(["--hz", &hz]);
                all.extend(args.iter().map(String::as_str));
                servers.push(RedisServer::spawn_on(free_port(), &all)?);
            }
            for server in &mut servers {
                check_interrupt()?;
                server.wait_ready()?;
            }
            Ok(servers)
        };
        let masters = spawn_all(&|_| Vec::new())?;
        let ports: Vec<u16> = masters.iter().map(|s| s.port).collect();
        let replicas = spawn_all(&|i| {
            vec![
                "--replicaof".into(),
                "127.0.0.1".into(),
                ports[i].to_string(),
            ]
        })?;
        for replica in &replicas {
            wait_until(Duration::from_secs(60), "every replica to sync", || {
                if interrupted() {
                    return Ok(());
                }
                match replica.replication_field("master_link_status") {
                    Ok(Some(status)) if status == "up" => Ok(()),
                    other => Err(format!("port {}: {other:?}", replica.port)),
                }
            })
            .map_err(other)?;
            check_interrupt()?;
        }
        let shards = masters
            .iter()
            .zip(&replicas)
            .map(|(m, r)| Shard {
                master: m.port,
                replica: r.port,
            })
            .collect();
        Ok(Fleet {
            shards,
            servers: Servers::Real { masters, replicas },
        })
    }

    /// Starts `m` simulated shards in `redis-swarm` processes (`binary`; one per
    /// [`SHARDS_PER_SWARM`]), waiting until each one's control port answers (every listener is
    /// bound by then).
    pub fn start_swarm(m: usize, binary: &Path) -> io::Result<Fleet> {
        let dir = TempDir::new("swarm")?;
        let shards: Vec<Shard> = (0..m)
            .map(|_| Shard {
                master: free_port(),
                replica: free_port(),
            })
            .collect();
        let count = m.div_ceil(SHARDS_PER_SWARM).max(1);
        let parts = (0..count)
            .map(|part| {
                let pairs: Vec<String> = shards
                    .iter()
                    .skip(part)
                    .step_by(count)
                    .map(|s| format!("{}:{}", s.master, s.replica))
                    .collect();
                SwarmPart::start(binary, &pairs, dir.path())
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Fleet {
            shards,
            servers: Servers::Swarm { parts, _dir: dir },
        })
    }

    /// Process ids of the servers (one for a swarm).
    pub fn server_pids(&self) -> Vec<u32> {
        match &self.servers {
            Servers::Real { masters, replicas } => masters
                .iter()
                .chain(replicas)
                .map(|s| s.process.pid())
                .collect(),
            Servers::Swarm { parts, .. } => parts.iter().map(|p| p.process.pid()).collect(),
        }
    }

    /// Whether the instances are simulated.
    pub fn is_swarm(&self) -> bool {
        matches!(self.servers, Servers::Swarm { .. })
    }

    /// Kills the masters of the first `k` shards at once (SIGKILL each, or one control
    /// command to the swarm); returns the instant just before the first kill.
    pub fn kill_masters(&mut self, k: usize) -> io::Result<Instant> {
        let k = k.min(self.shards.len());
        match &mut self.servers {
            Servers::Real { masters, .. } => {
                let at = Instant::now();
                for master in &mut masters[..k] {
                    master.process.signal(libc::SIGKILL)?;
                }
                Ok(at)
            }
            Servers::Swarm { parts, .. } => {
                let count = parts.len();
                let lines: Vec<(String, usize)> = (0..count)
                    .map(|part| {
                        let ports: Vec<String> = self.shards[..k]
                            .iter()
                            .skip(part)
                            .step_by(count)
                            .map(|s| s.master.to_string())
                            .collect();
                        (format!("kill {}\n", ports.join(" ")), ports.len())
                    })
                    .collect();
                let at = Instant::now();
                for (part, (line, _)) in parts.iter_mut().zip(&lines) {
                    part.control.get_mut().write_all(line.as_bytes())?;
                }
                for (part, (_, expected)) in parts.iter_mut().zip(&lines) {
                    let mut answer = String::new();
                    part.control.read_line(&mut answer)?;
                    if answer.trim() != format!("ok {expected}") {
                        return Err(other(format!("redis-swarm answered {answer:?} to kill")));
                    }
                }
                Ok(at)
            }
        }
    }
}

impl SwarmPart {
    /// Starts a `redis-swarm` serving `pairs` (`master:replica` ports) in `dir`.
    fn start(binary: &Path, pairs: &[String], dir: &Path) -> io::Result<SwarmPart> {
        let control_port = free_port();
        let mut cmd = Command::new(binary);
        cmd.args([
            "--control",
            &control_port.to_string(),
            "--pairs",
            &pairs.join(","),
        ]);
        let mut process = Process::spawn("redis-swarm", cmd, dir)?;
        let stream = wait_until(Duration::from_secs(60), "redis-swarm to listen", || {
            if let Ok(Some(status)) = process.try_exit_status() {
                return Ok(Err(status));
            }
            TcpStream::connect(("127.0.0.1", control_port))
                .map(Ok)
                .map_err(|e| e.to_string())
        })
        .map_err(other)?
        .map_err(|status| {
            other(format!(
                "redis-swarm exited ({status})\n{}",
                process.output_tail(20)
            ))
        })?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(SwarmPart {
            control: BufReader::new(stream),
            process,
        })
    }
}

/// A tmpfs mounted on a fresh temp dir, unmounted (then the dir removed) on drop.
pub struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    /// Mounts a 256 MiB tmpfs (needs root).
    pub fn mount() -> io::Result<Tmpfs> {
        let dir = TempDir::new("tmpfs")?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256m", "tmpfs"])
            .arg(dir.path())
            .status()?;
        if !status.success() {
            return Err(other(format!("mount -t tmpfs failed ({status})")));
        }
        Ok(Tmpfs { dir })
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// The three sentinels watching a fleet.
pub struct Sentinels {
    /// The sentinels (dropped, i.e. killed, before the fleet when declared after it).
    pub servers: Vec<SentinelServer>,
}

impl Sentinels {
    /// Starts three sentinels of `flavor`, each monitoring every master of `shards` with quorum
    /// [`QUORUM`], `down_after_ms` and failover-timeout [`FAILOVER_TIMEOUT_MS`]; their
    /// directories (config files) go under `parent`.
    pub fn start(
        flavor: Flavor,
        shards: &[Shard],
        down_after_ms: u64,
        parent: &Path,
    ) -> io::Result<Sentinels> {
        let mut conf = SentinelConf::empty();
        for (i, shard) in shards.iter().enumerate() {
            let name = master_name(i);
            conf = conf
                .line(format!(
                    "sentinel monitor {name} 127.0.0.1 {} {QUORUM}",
                    shard.master
                ))
                .line(format!(
                    "sentinel down-after-milliseconds {name} {down_after_ms}"
                ))
                .line(format!(
                    "sentinel failover-timeout {name} {FAILOVER_TIMEOUT_MS}"
                ))
                .line(format!("sentinel parallel-syncs {name} 1"));
        }
        // All three at once, then a generous wait: a sentinel that fsyncs its config at every
        // discovered instance may take long to answer while the others announce themselves.
        let mut servers = (0..3)
            .map(|_| SentinelServer::spawn_in(flavor, &conf, parent))
            .collect::<io::Result<Vec<_>>>()?;
        for server in &mut servers {
            server.wait_ready(SENTINEL_START_TIMEOUT)?;
        }
        Ok(Sentinels { servers })
    }

    /// Ports of the sentinels.
    pub fn ports(&self) -> Vec<u16> {
        self.servers.iter().map(|s| s.port).collect()
    }

    /// Process ids of the sentinels.
    pub fn pids(&self) -> Vec<u32> {
        self.servers.iter().map(|s| s.process.pid()).collect()
    }

    /// Waits until every sentinel reports, for each of the `m` masters, at least one replica and
    /// two other sentinels (`SENTINEL MASTERS`); returns how long that took.
    pub fn wait_discovery(&self, m: usize, timeout: Duration) -> io::Result<Duration> {
        let start = Instant::now();
        wait_until(
            timeout,
            "every sentinel to know every replica and the other sentinels",
            || {
                if interrupted() {
                    return Ok(());
                }
                let mut views = Vec::new();
                for sentinel in &self.servers {
                    let complete = discovered(sentinel.port).map_err(|e| e.to_string())?;
                    views.push(complete);
                }
                if views.iter().all(|&n| n >= m) {
                    Ok(())
                } else {
                    Err(format!(
                        "masters fully discovered per sentinel: {views:?} of {m}"
                    ))
                }
            },
        )
        .map_err(other)?;
        check_interrupt()?;
        Ok(start.elapsed())
    }
}

/// How many masters the sentinel on `port` knows with a replica and two other sentinels.
fn discovered(port: u16) -> io::Result<usize> {
    let reply = Client::connect(port)?.call(&["SENTINEL", "MASTERS"])?;
    let count = |master: &Value, key: &str| {
        master
            .field_text(key)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(reply
        .as_items()
        .unwrap_or_default()
        .iter()
        .filter(|master| {
            count(master, "num-slaves") >= 1 && count(master, "num-other-sentinels") >= 2
        })
        .count())
}

/// Where the sentinels' directories go: `--config-dir`, a tmpfs, or the system temp dir.
pub enum ConfigParent {
    /// The system temp dir.
    Temp,
    /// A directory given by the user.
    Dir(PathBuf),
    /// A tmpfs the bench mounted.
    Tmpfs(Tmpfs),
}

impl ConfigParent {
    /// The directory.
    pub fn path(&self) -> PathBuf {
        match self {
            ConfigParent::Temp => std::env::temp_dir(),
            ConfigParent::Dir(dir) => dir.clone(),
            ConfigParent::Tmpfs(tmpfs) => tmpfs.path().to_owned(),
        }
    }

    /// How it is described in the results.
    pub fn describe(&self) -> String {
        match self {
            ConfigParent::Temp => format!("{} (temp dir)", std::env::temp_dir().display()),
            ConfigParent::Dir(dir) => dir.display().to_string(),
            ConfigParent::Tmpfs(_) => "tmpfs".into(),
        }
    }
}
