//! Notification and client-reconfiguration scripts.
//!
//! The core decides when a script runs, retries and times out; this module only starts each one
//! as a direct child of the sentinel (environment inherited, stdio inherited, every other
//! descriptor closed on exec since Rust opens them all close-on-exec), reports its pid with
//! [`Input::ScriptStarted`], waits for it, reports [`Input::ScriptExited`], and kills it on
//! request.

use crate::ports::InputSink;
use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::Arc;
use tokio::process::Command;
use tokio::sync::oneshot;
use warden_core::io::ScriptOutcome;
use warden_core::Input;

/// Redis's exit code for a child whose `execve` failed.
const EXEC_FAILED_CODE: i32 = 2;

/// Running scripts, by the core's script id.
pub struct Scripts {
    sink: Arc<dyn InputSink>,
    running: HashMap<u64, oneshot::Sender<()>>,
}

impl Scripts {
    /// No script running yet; exits are reported to `sink`.
    pub fn new(sink: Arc<dyn InputSink>) -> Scripts {
        Scripts {
            sink,
            running: HashMap::new(),
        }
    }

    /// Start script `id` with `argv` (program first). Must be called inside a tokio runtime.
    pub fn run(&mut self, id: u64, argv: &[String]) {
        // Forget scripts that have finished (their waiter dropped the kill receiver).
        self.running.retain(|_, kill| !kill.is_closed());
        let Some((program, args)) = argv.split_first() else {
            self.sink.input(Input::ScriptExited {
                id,
                outcome: ScriptOutcome::SpawnFailed,
            });
            return;
        };
        let mut child = match Command::new(program).args(args).spawn() {
            Ok(child) => child,
            Err(e) => {
                tracing::warn!("Failed to run script {program}: {e}");
                // Like Redis: a failed fork is "signal 99", a failed exec exits with code 2.
                let outcome = match e.raw_os_error() {
                    Some(libc::EAGAIN | libc::ENOMEM) => ScriptOutcome::SpawnFailed,
                    _ => ScriptOutcome::Exited(EXEC_FAILED_CODE),
                };
                self.sink.input(Input::ScriptExited { id, outcome });
                return;
            }
        };
        if let Some(pid) = child.id() {
            self.sink.input(Input::ScriptStarted { id, pid });
        }
        let (kill, mut killed) = oneshot::channel();
        self.running.insert(id, kill);
        let sink = self.sink.clone();
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                Ok(()) = &mut killed => {
                    // Fails only if the child is already reaped, and then wait() returns at once.
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            let outcome = match status {
                Ok(status) => outcome(status),
                Err(e) => {
                    tracing::warn!("Failed to wait for script: {e}");
                    ScriptOutcome::SpawnFailed
                }
            };
            sink.input(Input::ScriptExited { id, outcome });
        });
    }

    /// SIGKILL script `id` if it is still running; its exit is reported as usual.
    pub fn kill(&mut self, id: u64) {
        if let Some(kill) = self.running.remove(&id) {
            let _ = kill.send(());
        }
    }
}

/// Whether `path` names a file this process may execute (`access(X_OK)`, relative paths against
/// the working directory, i.e. `dir`), as `SENTINEL SET ... notification-script` requires.
pub fn is_executable(path: &str) -> bool {
    crate::sys::access(path, libc::X_OK).is_ok()
}

fn outcome(status: ExitStatus) -> ScriptOutcome {
    match (status.code(), status.signal()) {
        (Some(code), _) => ScriptOutcome::Exited(code),
        (None, Some(signal)) => ScriptOutcome::Signaled(signal),
        (None, None) => ScriptOutcome::SpawnFailed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::testing::Recorder;
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::time::Duration;

    fn sh(script: &str) -> Vec<String> {
        vec!["/bin/sh".into(), "-c".into(), script.into()]
    }

    /// The outcome of script `id`, after checking it was reported started (if it started).
    async fn exit_of(recorder: &Recorder, id: u64) -> ScriptOutcome {
        let mut input = recorder.next(Duration::from_secs(10)).await;
        if let Input::ScriptStarted { id: got, pid } = input {
            assert_eq!(got, id);
            assert!(pid > 0);
            input = recorder.next(Duration::from_secs(10)).await;
        }
        match input {
            Input::ScriptExited { id: got, outcome } if got == id => outcome,
            other => panic!("unexpected input {other:?}"),
        }
    }

    #[tokio::test]
    async fn exit_codes_signals_and_spawn_failures_are_reported() {
        let recorder = Recorder::new();
        let mut scripts = Scripts::new(recorder.sink());
        scripts.run(1, &sh("exit 3"));
        assert_eq!(exit_of(&recorder, 1).await, ScriptOutcome::Exited(3));
        scripts.run(2, &sh("kill -TERM $$"));
        assert_eq!(
            exit_of(&recorder, 2).await,
            ScriptOutcome::Signaled(libc::SIGTERM)
        );
        scripts.run(3, &["/nonexistent/warden-script".to_string()]);
        assert_eq!(
            exit_of(&recorder, 3).await,
            ScriptOutcome::Exited(EXEC_FAILED_CODE)
        );
        scripts.run(4, &[]);
        assert_eq!(exit_of(&recorder, 4).await, ScriptOutcome::SpawnFailed);
    }

    #[test]
    fn executable_check() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("warden-exec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("notify.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(!is_executable(script.to_str().unwrap()));
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(is_executable(script.to_str().unwrap()));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!is_executable("/nonexistent/script"));
        assert!(!is_executable("nul\0byte"));
    }

    #[tokio::test]
    async fn kill_sends_sigkill() {
        let recorder = Recorder::new();
        let mut scripts = Scripts::new(recorder.sink());
        scripts.run(7, &sh("exec sleep 30"));
        scripts.kill(7);
        assert_eq!(
            exit_of(&recorder, 7).await,
            ScriptOutcome::Signaled(libc::SIGKILL)
        );
    }

    #[tokio::test]
    async fn environment_is_inherited() {
        let dir = std::env::temp_dir().join(format!("warden-script-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("env.txt");
        let recorder = Recorder::new();
        let mut scripts = Scripts::new(recorder.sink());
        let path = std::env::var("PATH").unwrap_or_default();
        scripts.run(1, &sh(&format!("printf %s \"$PATH\" > {}", out.display())));
        assert_eq!(exit_of(&recorder, 1).await, ScriptOutcome::Exited(0));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), path);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The targets of the descriptors a script sees (besides 0-2 and its own output file).
    async fn fds_seen_by_script(
        scripts: &mut Scripts,
        recorder: &Recorder,
        dir: &std::path::Path,
    ) -> String {
        let out = dir.join("fds.txt");
        let body = format!(
            "for f in /proc/$$/fd/*; do echo \"${{f##*/}} $(readlink $f)\"; done > {}",
            out.display()
        );
        scripts.run(1, &sh(&body));
        assert_eq!(exit_of(recorder, 1).await, ScriptOutcome::Exited(0));
        let mut text = String::new();
        std::fs::File::open(&out)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[tokio::test]
    async fn no_descriptor_leaks_into_scripts() {
        let dir = std::env::temp_dir().join(format!("warden-script-fds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let marker = dir.join("marker-file");
        let file = std::fs::File::create(&marker).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listener_inode = std::fs::read_link(format!("/proc/self/fd/{}", listener.as_raw_fd()))
            .unwrap()
            .display()
            .to_string();
        let recorder = Recorder::new();
        let mut scripts = Scripts::new(recorder.sink());

        let seen = fds_seen_by_script(&mut scripts, &recorder, &dir).await;
        assert!(!seen.contains("marker-file"), "file leaked:\n{seen}");
        assert!(!seen.contains(&listener_inode), "listener leaked:\n{seen}");

        // Control: a descriptor deliberately opened without close-on-exec is seen.
        let leaky = crate::sys::dup_inheritable(&file).expect("dup");
        let seen = fds_seen_by_script(&mut scripts, &recorder, &dir).await;
        drop(leaky);
        assert!(
            seen.contains("marker-file"),
            "control leak not detected:\n{seen}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
