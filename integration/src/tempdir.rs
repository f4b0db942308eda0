//! Scratch directories removed on drop.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh directory under the system temp dir, deleted with its contents when dropped
/// (kept when `WARDEN_KEEP_TMP` is set, to inspect logs after a failure).
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<tmp>/warden-<label>-<pid>-<n>`.
    pub fn new(label: &str) -> io::Result<TempDir> {
        TempDir::new_in(&std::env::temp_dir(), label)
    }

    /// Creates `<parent>/warden-<label>-<pid>-<n>` (e.g. on a tmpfs the caller mounted).
    pub fn new_in(parent: &Path, label: &str) -> io::Result<TempDir> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = parent.join(format!("warden-{label}-{}-{n}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("WARDEN_KEEP_TMP").is_none() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
