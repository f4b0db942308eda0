//! Child processes that the tests start, killed when their guard is dropped.

use std::fs::File;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::wait::wait_until;

/// A process started by a test. Dropping it sends SIGKILL and reaps it; only this PID is ever signalled.
///
/// Its stdout and stderr go to `<name>.stdout` / `<name>.stderr` in the directory given to
/// [`Process::spawn`]. The child also gets SIGKILL if the thread that spawned it dies (so a killed
/// test run leaves no servers behind): spawn and drop it on the same thread.
#[derive(Debug)]
pub struct Process {
    name: String,
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
    status: Option<ExitStatus>,
}

/// Run in a child between fork and exec (`pre_exec`): the kernel SIGKILLs it when the process
/// that started it dies, so a test or demo that crashes leaves no server behind.
pub fn die_with_parent() -> io::Result<()> {
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Process {
    /// Starts `command` with its output redirected to files in `log_dir`.
    pub fn spawn(name: &str, mut command: Command, log_dir: &Path) -> io::Result<Process> {
        let stdout = log_dir.join(format!("{name}.stdout"));
        let stderr = log_dir.join(format!("{name}.stderr"));
        command
            .stdin(Stdio::null())
            .stdout(File::create(&stdout)?)
            .stderr(File::create(&stderr)?);
        // SAFETY: `die_with_parent` only makes an async-signal-safe call.
        unsafe {
            command.pre_exec(die_with_parent);
        }
        let child = command.spawn().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot start {name} ({:?}): {e}", command.get_program()),
            )
        })?;
        Ok(Process {
            name: name.to_owned(),
            child,
            stdout,
            stderr,
            status: None,
        })
    }

    /// The name given at spawn.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has exited (reaping it), `None` while it runs.
    pub fn try_exit_status(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.child.try_wait()?;
        }
        Ok(self.status)
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> io::Result<ExitStatus> {
        let what = format!("{} (pid {}) to exit", self.name, self.pid());
        wait_until(timeout, &what, || match self.try_exit_status() {
            Ok(Some(status)) => Ok(Ok(status)),
            Ok(None) => Err("running".to_owned()),
            Err(e) => Ok(Err(e)),
        })
        .map_err(|t| io::Error::new(io::ErrorKind::TimedOut, t.to_string()))?
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`, `libc::SIGSTOP`) if the process has not been reaped yet
    /// (an unreaped PID cannot have been reused by another process).
    pub fn signal(&mut self, signal: i32) -> io::Result<()> {
        if self.try_exit_status()?.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} has exited", self.name),
            ));
        }
        let pid = libc::pid_t::try_from(self.pid())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // SAFETY: plain syscall on a PID we own and have not reaped.
        if unsafe { libc::kill(pid, signal) } == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// SIGTERM, then waits up to `timeout` for the exit.
    pub fn terminate(&mut self, timeout: Duration) -> io::Result<ExitStatus> {
        self.signal(libc::SIGTERM)?;
        self.wait_exit(timeout)
    }

    /// What the process wrote to stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The last `lines` lines of stdout and stderr, for failure messages.
    pub fn output_tail(&self, lines: usize) -> String {
        let tail = |text: String| {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        };
        format!(
            "--- {} stdout ---\n{}\n--- {} stderr ---\n{}",
            self.name,
            tail(self.stdout()),
            self.name,
            tail(self.stderr())
        )
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.try_exit_status() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
