//! The processes the demo starts, tracked by name and PID so that it stops exactly those (and
//! nothing else) when it ends, fails or is interrupted.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// How long a process has to exit after SIGTERM before it gets SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// Ports are picked from here up: below the usual ephemeral range (so outgoing connections do
/// not take them) and away from the defaults 6379/26379.
const PORT_RANGE: std::ops::Range<u16> = 10_000..12_000;

/// A running process the demo started.
struct Started {
    name: String,
    child: Child,
}

/// The demo's scratch directory and the processes started in it.
pub struct Procs {
    dir: PathBuf,
    started: Vec<Started>,
}

impl Procs {
    /// Create a fresh scratch directory under the system temp dir.
    pub fn new() -> io::Result<Procs> {
        let dir = std::env::temp_dir().join(format!("warden-demo-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(Procs {
            dir,
            started: Vec::new(),
        })
    }

    /// The scratch directory (configs, working dirs and `<name>.log` files).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Start `program args...` as `name`, with stdout and stderr appended to `<dir>/<name>.log`,
    /// in its own process group (a Ctrl-C in the terminal reaches only the demo, which then
    /// stops everything in order) and killed by the kernel if the demo itself dies.
    pub fn spawn(&mut self, name: &str, program: &Path, args: &[String]) -> io::Result<u32> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{name}.log")))?;
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .kill_on_drop(true);
        // SAFETY: `die_with_parent` only makes an async-signal-safe call.
        unsafe {
            command.pre_exec(warden_integration::process::die_with_parent);
        }
        let child = command.spawn().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot start {name} ({}): {e}", program.display()),
            )
        })?;
        let pid = child
            .id()
            .ok_or_else(|| io::Error::other(format!("{name} exited at once")))?;
        self.started.push(Started {
            name: name.to_string(),
            child,
        });
        Ok(pid)
    }

    /// The PID of `name` while it runs.
    pub fn pid(&self, name: &str) -> Option<u32> {
        self.find(name).and_then(|s| s.child.id())
    }

    /// Whether `name` has exited (reaping it); an unknown name counts as exited.
    pub fn exited(&mut self, name: &str) -> bool {
        match self.started.iter_mut().find(|s| s.name == name) {
            Some(s) => !matches!(s.child.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// SIGKILL `name` by its PID and reap it; returns the PID.
    pub async fn kill(&mut self, name: &str) -> io::Result<u32> {
        let index = self
            .started
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| io::Error::other(format!("{name} was not started")))?;
        let mut started = self.started.remove(index);
        let pid = started
            .child
            .id()
            .ok_or_else(|| io::Error::other(format!("{name} is not running")))?;
        signal(pid, libc::SIGKILL)?;
        started.child.wait().await?;
        Ok(pid)
    }

    /// Stop everything still running: SIGTERM by PID, then SIGKILL after [`STOP_GRACE`].
    pub async fn stop_all(&mut self) {
        for started in &self.started {
            if let Some(pid) = started.child.id() {
                let _ = signal(pid, libc::SIGTERM);
            }
        }
        for mut started in self.started.drain(..) {
            if tokio::time::timeout(STOP_GRACE, started.child.wait())
                .await
                .is_err()
            {
                let _ = started.child.start_kill();
                let _ = started.child.wait().await;
            }
        }
    }

    /// Remove the scratch directory (after [`Procs::stop_all`]).
    pub fn remove_dir(&self) -> io::Result<()> {
        std::fs::remove_dir_all(&self.dir)
    }

    fn find(&self, name: &str) -> Option<&Started> {
        self.started.iter().find(|s| s.name == name)
    }
}

/// Send `sig` to `pid` (a process this demo started and has not reaped).
fn signal(pid: u32, sig: libc::c_int) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    // SAFETY: plain syscall without pointers, on a child we have not reaped (so not reused).
    if unsafe { libc::kill(pid, sig) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `count` distinct ports on 127.0.0.1 that nothing listens on right now.
pub fn free_ports(count: usize) -> io::Result<Vec<u16>> {
    let span = PORT_RANGE.end - PORT_RANGE.start;
    // Start at a per-process offset so that two demos at once rarely probe the same ports.
    let offset = (std::process::id() % u32::from(span)) as u16;
    let ports: Vec<u16> = (0..span)
        .map(|i| PORT_RANGE.start + (offset + i) % span)
        .filter(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .take(count)
        .collect();
    if ports.len() < count {
        return Err(io::Error::other(format!(
            "fewer than {count} free ports on 127.0.0.1 in {PORT_RANGE:?}"
        )));
    }
    Ok(ports)
}

/// `program` found on `PATH`.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// The `redis-server` program, installed with apt-get (saying so) when it is missing.
pub fn redis_server() -> io::Result<PathBuf> {
    if let Some(found) = on_path("redis-server") {
        return Ok(found);
    }
    println!("redis-server is not installed: running `apt-get update && apt-get install -y redis-server`");
    for args in [&["update"][..], &["install", "-y", "redis-server"][..]] {
        let status = std::process::Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .status()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot run apt-get: {e}")))?;
        if !status.success() {
            return Err(io::Error::other(format!(
                "`apt-get {}` failed ({status}); install redis-server (as root) and run the demo again",
                args.join(" ")
            )));
        }
    }
    on_path("redis-server")
        .ok_or_else(|| io::Error::other("redis-server is still not on PATH after apt-get install"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_and_skip_taken_ones() {
        // Hold the port free_ports would hand out first (retrying if another test takes it).
        let (held, _listener) = (0..10)
            .find_map(|_| {
                let port = *free_ports(1).ok()?.first()?;
                let listener = std::net::TcpListener::bind(("127.0.0.1", port)).ok()?;
                Some((port, listener))
            })
            .expect("a port to hold");
        let ports = free_ports(3).expect("free ports");
        assert_eq!(ports.len(), 3);
        assert!(ports[0] != ports[1] && ports[1] != ports[2] && ports[0] != ports[2]);
        assert!(!ports.contains(&held), "{held} is in use");
        assert!(ports.iter().all(|p| PORT_RANGE.contains(p)));
    }

    #[tokio::test]
    async fn kills_and_stops_only_its_own_children() {
        let mut procs = Procs::new().expect("scratch dir");
        let sleep = on_path("sleep").expect("sleep on PATH");
        procs.spawn("a", &sleep, &["30".into()]).expect("spawn a");
        procs.spawn("b", &sleep, &["30".into()]).expect("spawn b");
        assert!(!procs.exited("a"));
        assert!(procs.pid("a").is_some());
        procs.kill("a").await.expect("kill a");
        assert!(procs.exited("a"), "a is gone from the list once killed");
        assert!(!procs.exited("b"));
        procs.stop_all().await;
        assert!(procs.exited("b"));
        procs.remove_dir().expect("remove dir");
    }
}
