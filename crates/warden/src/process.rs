//! Process-level chores: daemonizing, the pid file, service-manager readiness, signals.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

pub use crate::sys::daemonize;

/// A pid file written at start-up and removed at a clean shutdown.
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    /// Write this process's pid (decimal, newline-terminated) to `path`.
    pub fn create(path: &Path) -> io::Result<PidFile> {
        std::fs::write(path, format!("{}\n", std::process::id()))?;
        Ok(PidFile {
            path: path.to_path_buf(),
        })
    }

    /// Remove the file (errors are irrelevant at exit and ignored).
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Which service manager expects readiness notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Supervisor {
    /// None.
    None,
    /// systemd (`NOTIFY_SOCKET` datagrams).
    Systemd,
    /// upstart (the process stops itself once ready).
    Upstart,
}

impl Supervisor {
    /// The supervisor for a `supervised` value (`no|upstart|systemd|auto`), `auto` meaning
    /// systemd if `NOTIFY_SOCKET` is set, else upstart if `UPSTART_JOB` is set.
    pub fn from_config(supervised: &str) -> Supervisor {
        match supervised.to_ascii_lowercase().as_str() {
            "systemd" => Supervisor::Systemd,
            "upstart" => Supervisor::Upstart,
            "auto" if std::env::var_os("NOTIFY_SOCKET").is_some() => Supervisor::Systemd,
            "auto" if std::env::var_os("UPSTART_JOB").is_some() => Supervisor::Upstart,
            _ => Supervisor::None,
        }
    }

    /// Whether the supervisor's environment is present (`NOTIFY_SOCKET` / `UPSTART_JOB`); Redis
    /// daemonizes despite `supervised` when it is not.
    pub fn available(self) -> bool {
        match self {
            Supervisor::None => false,
            Supervisor::Systemd => std::env::var_os("NOTIFY_SOCKET").is_some(),
            Supervisor::Upstart => std::env::var_os("UPSTART_JOB").is_some(),
        }
    }

    /// Tell the supervisor the sentinel accepts connections.
    pub fn ready(self) {
        match self {
            Supervisor::None => {}
            Supervisor::Systemd => {
                tracing::info!("Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.");
                match sd_notify("STATUS=Ready to accept connections\nREADY=1\n") {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(
                        "systemd supervision requested or auto-detected, but NOTIFY_SOCKET not found!"
                    ),
                    Err(e) => tracing::warn!("Failed to notify systemd: {e}"),
                }
            }
            Supervisor::Upstart => {
                if std::env::var_os("UPSTART_JOB").is_none() {
                    tracing::warn!("upstart supervision requested, but UPSTART_JOB not found!");
                    return;
                }
                tracing::info!("supervised by upstart, will stop to signal readiness.");
                // Upstart resumes us with SIGCONT.
                crate::sys::stop_self();
            }
        }
    }

    /// Tell the supervisor the sentinel is shutting down.
    pub fn stopping(self) {
        if self == Supervisor::Systemd {
            if let Err(e) = sd_notify("STOPPING=1\n") {
                tracing::warn!("Failed to notify systemd: {e}");
            }
        }
    }
}

/// Send `state` to systemd's `NOTIFY_SOCKET` (path or `@abstract`); `Ok(false)` if unset.
fn sd_notify(state: &str) -> io::Result<bool> {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(false);
    };
    let socket = socket.to_string_lossy().into_owned();
    let sender = UnixDatagram::unbound()?;
    match socket.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            sender.send_to_addr(state.as_bytes(), &addr)?;
        }
        None => {
            sender.send_to(state.as_bytes(), &socket)?;
        }
    }
    Ok(true)
}

/// Why the process is shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM.
    Term,
    /// SIGINT.
    Int,
}

impl Signal {
    /// The signal's name, as Redis logs it.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Term => "SIGTERM",
            Signal::Int => "SIGINT",
        }
    }
}

/// Waits for the termination signals; SIGHUP is ignored, as Redis does.
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Install the handlers. Must be called inside a tokio runtime.
    pub fn install() -> io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        crate::sys::ignore_sighup();
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// The next SIGTERM or SIGINT.
    pub async fn recv(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Term,
            _ = self.int.recv() => Signal::Int,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_file_holds_our_pid_until_removed() {
        let dir = std::env::temp_dir().join(format!("warden-pid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("warden.pid");
        let pidfile = PidFile::create(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{}\n", std::process::id())
        );
        pidfile.remove();
        assert!(!path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sd_notify_sends_datagrams_to_path_and_abstract_sockets() {
        // One test owns NOTIFY_SOCKET for the whole process to avoid races on the variable.
        let dir = std::env::temp_dir().join(format!("warden-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let receiver = UnixDatagram::bind(&path).unwrap();
        std::env::set_var("NOTIFY_SOCKET", &path);
        assert!(sd_notify("READY=1\n").unwrap());
        let mut buf = [0u8; 256];
        let n = receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\n");

        use std::os::linux::net::SocketAddrExt;
        let name = format!("warden-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let abstract_receiver = UnixDatagram::bind_addr(&addr).unwrap();
        std::env::set_var("NOTIFY_SOCKET", format!("@{name}"));
        assert_eq!(Supervisor::from_config("auto"), Supervisor::Systemd);
        assert!(Supervisor::Systemd.available());
        assert!(sd_notify("STOPPING=1\n").unwrap());
        let n = abstract_receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1\n");

        std::env::remove_var("NOTIFY_SOCKET");
        assert!(!sd_notify("READY=1\n").unwrap());
        assert!(!Supervisor::Systemd.available());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn supervised_values() {
        assert_eq!(Supervisor::from_config("systemd"), Supervisor::Systemd);
        assert_eq!(Supervisor::from_config("UPSTART"), Supervisor::Upstart);
        assert_eq!(Supervisor::from_config("no"), Supervisor::None);
    }
}
