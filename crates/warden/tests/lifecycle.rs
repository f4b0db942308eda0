//! The `warden` process from the outside: start-up forms, readiness, pid file, logging, systemd
//! notifications and clean shutdown. Every process started here is killed by its own PID.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};
use warden_integration::ports::free_port;
use warden_integration::tempdir::TempDir;

const WAIT: Duration = Duration::from_secs(10);

/// A started sentinel, killed on drop if still running.
struct Sentinel {
    child: Child,
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sentinel {
    fn start(mut command: Command, port: u16) -> Sentinel {
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let sentinel = Sentinel { child };
        let deadline = Instant::now() + WAIT;
        while ping(port).as_deref() != Some("+PONG\r\n") {
            assert!(Instant::now() < deadline, "no PONG on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        sentinel
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on the PID of a child this test started and has not reaped.
        assert_eq!(
            unsafe { libc::kill(self.child.id() as libc::pid_t, signal) },
            0
        );
    }

    /// Wait for the exit; returns its status and stderr.
    fn finish(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "sentinel did not exit");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            pipe.read_to_string(&mut stderr).unwrap();
        }
        (status, stderr)
    }
}

/// One PING over a fresh connection; the raw reply.
fn ping(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(b"*1\r\n$4\r\nPING\r\n").ok()?;
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn write_config(path: &Path, port: u16, extra: &str) {
    let text =
        format!("port {port}\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 1 2\n{extra}");
    std::fs::write(path, text).unwrap();
}

fn warden() -> Command {
    Command::new(env!("CARGO_BIN_EXE_warden"))
}

#[test]
fn foreground_run_with_pidfile_and_logfile_ends_cleanly_on_sigterm() {
    let scratch = TempDir::new("life-term").unwrap();
    let port = free_port();
    let config = scratch.path().join("sentinel.conf");
    let pidfile = scratch.path().join("warden.pid");
    let logfile = scratch.path().join("log.txt");
    let extra = format!(
        "pidfile {}\nlogfile {}\n",
        pidfile.display(),
        logfile.display()
    );
    write_config(&config, port, &extra);
    let mut command = warden();
    command.arg(&config);
    let sentinel = Sentinel::start(command, port);

    let pid = std::fs::read_to_string(&pidfile).unwrap();
    assert_eq!(pid.trim(), sentinel.child.id().to_string());
    sentinel.signal(libc::SIGTERM);
    let (status, stderr) = sentinel.finish();
    assert_eq!(status.code(), Some(0));
    assert_eq!(stderr, "");
    assert!(!pidfile.exists(), "pid file not removed");

    let log = std::fs::read_to_string(&logfile).unwrap();
    let expected = [
        "# Sentinel ID is ",
        "# +monitor master mymaster 127.0.0.1 1 quorum 2",
        "# Received SIGTERM scheduling shutdown...",
        "# User requested shutdown...",
        "* Removing the pid file.",
        "# Sentinel is now ready to exit, bye bye...",
    ];
    let mut rest = log.as_str();
    for line in expected {
        let at = rest
            .find(line)
            .unwrap_or_else(|| panic!("{line:?} missing in order:\n{log}"));
        rest = &rest[at..];
    }
    let first = log.lines().next().unwrap();
    assert!(first.starts_with(&format!("{}:X ", pid.trim())), "{first}");
    // The myid was generated and saved.
    let saved = std::fs::read_to_string(&config).unwrap();
    assert!(saved.contains("sentinel myid "), "{saved}");
}

#[test]
fn redis_sentinel_symlink_with_relative_config_and_dir() {
    let scratch = TempDir::new("life-symlink").unwrap();
    let port = free_port();
    std::fs::create_dir_all(scratch.path().join("sentinel_0")).unwrap();
    std::fs::create_dir_all(scratch.path().join("src")).unwrap();
    let config = scratch.path().join("sentinel_0/sentinel.conf");
    write_config(&config, port, "dir ./sentinel_0\nlogfile log.txt\n");
    let link = scratch.path().join("src/redis-sentinel");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_warden"), &link).unwrap();

    let mut command = Command::new("src/redis-sentinel");
    command.current_dir(scratch.path()).args([
        "sentinel_0/sentinel.conf",
        "--sentinel",
        "--loglevel",
        "verbose",
    ]);
    let sentinel = Sentinel::start(command, port);
    sentinel.signal(libc::SIGINT);
    let (status, stderr) = sentinel.finish();
    assert_eq!(status.code(), Some(0));
    assert_eq!(stderr, "");
    let log = std::fs::read_to_string(scratch.path().join("sentinel_0/log.txt")).unwrap();
    assert!(
        log.contains("# Received SIGINT scheduling shutdown..."),
        "{log}"
    );
    let saved = std::fs::read_to_string(&config).unwrap();
    assert!(saved.contains("sentinel myid "), "{saved}");
}

#[test]
fn systemd_is_notified_of_readiness_and_stopping() {
    let scratch = TempDir::new("life-systemd").unwrap();
    let port = free_port();
    let config = scratch.path().join("sentinel.conf");
    write_config(&config, port, "logfile \"\"\ndaemonize yes\n");
    let socket_path = scratch.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    let mut command = warden();
    command
        .arg(&config)
        .args(["--supervised", "systemd"])
        .env("NOTIFY_SOCKET", &socket_path);
    // Supervised: stays in the foreground despite `daemonize yes`.
    let sentinel = Sentinel::start(command, port);
    let mut buf = [0u8; 256];
    let n = socket.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"STATUS=Ready to accept connections\nREADY=1\n");
    sentinel.signal(libc::SIGTERM);
    let n = socket.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"STOPPING=1\n");
    let (status, _) = sentinel.finish();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn daemonize_detaches_and_writes_the_pid_file() {
    let scratch = TempDir::new("life-daemon").unwrap();
    let port = free_port();
    let config = scratch.path().join("sentinel.conf");
    let pidfile = scratch.path().join("daemon.pid");
    let logfile = scratch.path().join("log.txt");
    let extra = format!(
        "daemonize yes\npidfile {}\nlogfile {}\n",
        pidfile.display(),
        logfile.display()
    );
    write_config(&config, port, &extra);
    let launcher = warden().arg(&config).output().unwrap();
    assert_eq!(launcher.status.code(), Some(0));
    let deadline = Instant::now() + WAIT;
    while ping(port).as_deref() != Some("+PONG\r\n") {
        assert!(Instant::now() < deadline, "daemon did not answer");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid: libc::pid_t = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: kill(2) on the daemon this test started (its PID from the pid file it wrote).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + WAIT;
    while pidfile.exists() || ping(port).is_some() {
        assert!(Instant::now() < deadline, "daemon did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = std::fs::read_to_string(&logfile).unwrap();
    assert!(log.contains("bye bye"), "{log}");
}

fn run(args: &[&str]) -> Output {
    warden().args(args).output().unwrap()
}

#[test]
fn refusals_and_version() {
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.ends_with("# Sentinel needs config file on disk to save state. Exiting...\n"),
        "{stdout}"
    );

    let scratch = TempDir::new("life-refusals").unwrap();
    let bad = scratch.path().join("bad.conf");
    std::fs::write(&bad, "sentinel monitor\n").unwrap();
    let out = run(&[bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***"),
        "{stderr}"
    );

    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("warden "));
}
