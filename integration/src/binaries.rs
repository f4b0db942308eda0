//! Where the programs under test are.

use std::io;
use std::path::{Path, PathBuf};

/// `redis-server`: `$REDIS_SERVER` or the one on `PATH`.
pub fn redis_server() -> PathBuf {
    std::env::var_os("REDIS_SERVER").map_or_else(|| PathBuf::from("redis-server"), PathBuf::from)
}

/// The reference sentinel: `$REDIS_SENTINEL` or `redis-sentinel` on `PATH` (Debian's 7.0.15).
pub fn redis_sentinel() -> PathBuf {
    std::env::var_os("REDIS_SENTINEL")
        .map_or_else(|| PathBuf::from("redis-sentinel"), PathBuf::from)
}

/// The workspace's `target` directory (`$CARGO_TARGET_DIR` if set).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || {
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
            manifest.parent().unwrap_or(manifest).join("target")
        },
        PathBuf::from,
    )
}

/// The Warden binary under test: `$WARDEN_BIN`, else `target/release/warden` of this workspace.
/// Errors (with the command that builds it) when it does not exist.
pub fn warden() -> io::Result<PathBuf> {
    let path = std::env::var_os("WARDEN_BIN").map_or_else(
        || target_dir().join("release").join("warden"),
        PathBuf::from,
    );
    if path.is_file() {
        Ok(path)
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "warden binary not found at {} (build it with `cargo build --release -p warden` or set WARDEN_BIN)",
                path.display()
            ),
        ))
    }
}

/// The Valkey reference sentinel: `$VALKEY_SENTINEL`, else `<target>/valkey/valkey-sentinel` (the
/// valkey-server link `scripts/install-valkey.sh` makes). Errors (with the command that installs
/// it) when it does not exist.
pub fn valkey_sentinel() -> io::Result<PathBuf> {
    let path = std::env::var_os("VALKEY_SENTINEL").map_or_else(
        || target_dir().join("valkey").join("valkey-sentinel"),
        PathBuf::from,
    );
    if path.exists() {
        Ok(path)
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{} not found: run scripts/install-valkey.sh (or set VALKEY_SENTINEL)",
                path.display()
            ),
        ))
    }
}
