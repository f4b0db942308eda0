//! The Debian package (issue 14): `scripts/build-deb.sh` packages the binary under test,
//! `dpkg -i` installs it, the installed `/usr/bin/warden` monitors a real redis-server, and
//! `dpkg --purge` removes every file it installed. Needs root and dpkg; skipped with a message
//! otherwise, or when a `warden` package is already installed (the test never touches one it did
//! not install).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use warden_integration::binaries;
use warden_integration::client::Client;
use warden_integration::ports::free_port;
use warden_integration::process::Process;
use warden_integration::servers::RedisServer;
use warden_integration::tempdir::TempDir;
use warden_integration::wait::wait_until;

fn installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", "warden"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("install ok installed"))
}

/// Purges the package when dropped (also when the test fails half-way).
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["--purge", "warden"]).output();
    }
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_deb_installs_runs_and_purges_cleanly() {
    let root = is_root();
    if !root || Command::new("dpkg-deb").arg("--version").output().is_err() {
        eprintln!("skipping: needs root and dpkg-deb");
        return;
    }
    if installed() {
        eprintln!("skipping: a warden package is already installed here");
        return;
    }
    let out = TempDir::new("deb").unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/build-deb.sh");
    let binary = binaries::warden().unwrap().display().to_string();
    let built = run(
        &script.display().to_string(),
        &[
            "--binary",
            &binary,
            "--out",
            &out.path().display().to_string(),
        ],
    );
    let deb = built.lines().last().unwrap().to_string();
    assert!(
        deb.ends_with("_amd64.deb") || deb.ends_with(".deb"),
        "{deb}"
    );
    let listing = run("dpkg-deb", &["--contents", &deb]);
    for file in [
        "./usr/bin/warden",
        "./lib/systemd/system/warden.service",
        "./usr/share/warden/sentinel.conf",
        "./usr/lib/warden/redis-sentinel -> /usr/bin/warden",
    ] {
        assert!(listing.contains(file), "{file} not in\n{listing}");
    }

    run("dpkg", &["-i", &deb]);
    let _purge = Installed;
    assert!(installed());
    assert!(run("/usr/bin/warden", &["--version"]).starts_with("warden "));
    let as_redis = run("/usr/lib/warden/redis-sentinel", &["--version"]);
    assert!(as_redis.starts_with("Redis server v=7.0.15"), "{as_redis}");
    assert!(run("getent", &["passwd", "warden"]).starts_with("warden:"));
    assert!(Path::new("/etc/warden/sentinel.conf").exists());
    // The shipped config is a good one: the doctor has nothing to say.
    assert_eq!(
        run("/usr/bin/warden", &["doctor", "/etc/warden/sentinel.conf"]),
        ""
    );
    let help = run("/usr/bin/warden", &["--help"]);
    assert!(help.contains("doctor") && help.contains("demo"), "{help}");

    // The installed binary monitors a real Redis.
    let redis = RedisServer::start().unwrap();
    let dir = TempDir::new("deb-run").unwrap();
    let port = free_port();
    let conf = dir.path().join("sentinel.conf");
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor m 127.0.0.1 {} 1\n",
            dir.path().display(),
            redis.port
        ),
    )
    .unwrap();
    let mut cmd = Command::new("/usr/bin/warden");
    cmd.arg(&conf);
    let sentinel = Process::spawn("installed-warden", cmd, dir.path()).unwrap();
    wait_until(
        Duration::from_secs(10),
        "the installed warden to name the master",
        || {
            let reply = Client::connect(port)
                .and_then(|mut c| c.call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "m"]))
                .map_err(|e| e.to_string())?;
            let named = reply
                .as_items()
                .and_then(|i| i.get(1))
                .and_then(|p| p.as_text());
            if named == Some(redis.port.to_string()) {
                Ok(())
            } else {
                Err(format!("{named:?}"))
            }
        },
    )
    .unwrap();

    drop(sentinel);
    run("dpkg", &["--purge", "warden"]);
    assert!(!installed());
    for gone in [
        "/usr/bin/warden",
        "/lib/systemd/system/warden.service",
        "/usr/lib/warden/redis-sentinel",
        "/etc/warden",
        "/var/lib/warden",
    ] {
        assert!(!Path::new(gone).exists(), "{gone} left behind");
    }
}

/// Whether this process runs as root (by its effective uid in /proc, no unsafe code).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}
