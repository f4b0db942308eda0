//! Helpers of the config file, journal and fuzz tests: a fresh directory removed on drop, and a
//! config environment that accepts everything.

use std::fs;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use warden_core::config::ConfigEnv;

/// A directory under the system temp dir, mode 0755 whatever the umask; removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new directory whose name contains `tag`.
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "warden-test-{tag}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        fs::create_dir(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        TempDir(p)
    }

    /// Writes `text` to the file `name` in the directory; returns its path.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A world where every script is executable, no name resolves and every directory can be
/// entered.
pub struct AnyEnv;

impl ConfigEnv for AnyEnv {
    fn is_executable(&self, _: &str) -> bool {
        true
    }
    fn resolve(&self, _: &str) -> Option<IpAddr> {
        None
    }
    fn check_dir(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
}
