//! Start-up errors: a bad config line stops Warden with exit status 1 and the same
//! `*** FATAL CONFIG FILE ERROR ***` block as Redis Sentinel (line number, the line, the reason); a
//! missing config file is refused with Redis Sentinel's message.

use std::process::Command;
use std::time::Duration;

use warden_integration::certs::TestCerts;
use warden_integration::process::Process;
use warden_integration::servers::{Flavor, SentinelConf, SentinelServer};
use warden_integration::tempdir::TempDir;

const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a sentinel printed before exiting, and its exit code.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(what: &str, mut process: Process) -> Outcome {
    let status = process
        .wait_exit(EXIT_TIMEOUT)
        .unwrap_or_else(|e| panic!("{what}: {} did not exit: {e}", process.name()));
    Outcome {
        code: status.code(),
        stdout: process.stdout(),
        stderr: process.stderr(),
    }
}

fn run_conf(what: &str, flavor: Flavor, conf: &SentinelConf) -> Outcome {
    let server = SentinelServer::spawn(flavor, conf)
        .unwrap_or_else(|e| panic!("cannot start {flavor}: {e}"));
    run(what, server.process)
}

/// The FATAL CONFIG FILE ERROR block without the version in its header.
fn fatal_block(text: &str) -> Option<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("*** FATAL CONFIG FILE ERROR"))?;
    let mut block = vec!["*** FATAL CONFIG FILE ERROR".to_owned()];
    block.extend(
        lines
            .get(start + 1..start + 4)?
            .iter()
            .map(|l| l.to_string()),
    );
    Some(block)
}

#[test]
fn bad_config_lines_stop_startup_with_the_fatal_config_file_error_block() {
    let master = "sentinel monitor mymaster 127.0.0.1 6379 2";
    let cases: [(&str, &[&str]); 9] = [
        (
            "unknown sentinel directive",
            &[master, "sentinel bogus-directive mymaster 1"],
        ),
        ("unknown generic directive", &["foo bar"]),
        (
            "option for an unknown master",
            &["sentinel down-after-milliseconds nosuch 100"],
        ),
        (
            "unresolvable master address",
            &["sentinel monitor mymaster not_an_ip 6379 2"],
        ),
        (
            "duplicate master",
            &[master, "sentinel monitor mymaster 127.0.0.1 6380 2"],
        ),
        (
            "zero quorum",
            &["sentinel monitor mymaster 127.0.0.1 6379 0"],
        ),
        (
            "missing argument",
            &[master, "sentinel parallel-syncs mymaster"],
        ),
        ("non-numeric generic value", &["port notanumber"]),
        ("unbalanced quotes", &["sentinel announce-ip \"127.0.0.1"]),
    ];
    let mut failures = Vec::new();
    for (name, lines) in cases {
        let conf = lines.iter().fold(SentinelConf::empty(), |c, l| c.line(*l));
        let reference = run_conf(name, Flavor::Redis, &conf);
        let warden = run_conf(name, Flavor::Warden, &conf);
        let want = fatal_block(&reference.stderr).unwrap_or_else(|| {
            panic!(
                "{name}: redis-sentinel printed no FATAL block:\n{}",
                reference.stderr
            )
        });
        assert_eq!(reference.code, Some(1), "{name}: redis-sentinel exit code");
        if warden.code != Some(1) {
            failures.push(format!(
                "{name}: warden exit code {:?}, want 1",
                warden.code
            ));
        }
        let got = fatal_block(&warden.stderr);
        if got.as_ref() != Some(&want) {
            failures.push(format!(
                "{name}: want on stderr\n    {}\n  got\n    {}",
                want.join("\n    "),
                warden.stderr.trim_end().replace('\n', "\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

/// The message of the last log line (`<pid>:X <date> <time> # <message>`).
fn last_log_message(text: &str) -> Option<String> {
    text.lines()
        .last()?
        .split_once(" # ")
        .map(|(_, m)| m.to_owned())
}

#[test]
fn missing_config_file_is_refused() {
    let dir = TempDir::new("missing-conf").unwrap_or_else(|e| panic!("tempdir: {e}"));
    let missing = dir.path().join("nonexistent.conf");
    let mut failures = Vec::new();
    for (name, args) in [
        ("no config argument", vec![]),
        ("nonexistent file", vec![missing.clone()]),
    ] {
        let start = |flavor: Flavor| {
            let mut cmd = Command::new(flavor.binary().unwrap_or_else(|e| panic!("{e}")));
            cmd.args(&args);
            run(
                name,
                Process::spawn(
                    &format!("{flavor}-{}", name.replace(' ', "-")),
                    cmd,
                    dir.path(),
                )
                .unwrap_or_else(|e| panic!("cannot start {flavor}: {e}")),
            )
        };
        let reference = start(Flavor::Redis);
        let warden = start(Flavor::Warden);
        assert_eq!(reference.code, Some(1), "{name}: redis-sentinel exit code");
        let message = last_log_message(&reference.stdout).unwrap_or_else(|| {
            panic!(
                "{name}: redis-sentinel logged nothing: {}",
                reference.stdout
            )
        });
        if warden.code != Some(1) {
            failures.push(format!(
                "{name}: warden exit code {:?}, want 1",
                warden.code
            ));
        }
        if !format!("{}{}", warden.stdout, warden.stderr).contains(&message) {
            failures.push(format!(
                "{name}: warden did not print {message:?}:\n{}{}",
                warden.stdout, warden.stderr
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

/// The messages of the log lines (`<pid>:X <date> <time> # <message>`), in order.
fn log_messages(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_once(" # ").map(|(_, m)| m.to_owned()))
        .collect()
}

#[test]
fn bad_tls_settings_stop_startup_as_in_redis_sentinel() {
    let dir = TempDir::new("tls-conf").unwrap_or_else(|e| panic!("tempdir: {e}"));
    let missing = |name: &str| dir.path().join(name).display().to_string();
    let files = [
        format!("tls-cert-file {}", missing("server.crt")),
        format!("tls-key-file {}", missing("server.key")),
    ];
    // Real certificates, so that loading gets as far as the DH parameters.
    let certs = TestCerts::create().unwrap_or_else(|e| panic!("certificates: {e}"));
    let garbage = dir.path().join("garbage.dh");
    std::fs::write(&garbage, "not DH parameters\n").unwrap();
    let with_dh = |dh: &str| {
        vec![
            "tls-port 1".to_string(),
            "tls-auth-clients no".into(),
            format!("tls-cert-file {}", certs.file("server.crt").display()),
            format!("tls-key-file {}", certs.file("server.key").display()),
            format!("tls-dh-params-file {dh}"),
        ]
    };
    let cases: [(&str, Vec<String>); 6] = [
        ("no certificate", vec!["tls-port 1".into()]),
        ("no CA", [&["tls-port 1".to_string()][..], &files].concat()),
        (
            "unreadable certificate",
            [
                &["tls-port 1".into(), "tls-auth-clients no".into()][..],
                &files,
            ]
            .concat(),
        ),
        (
            "bad protocols",
            [
                &["tls-replication yes".into(), "tls-auth-clients no".into()][..],
                &files,
                &[
                    format!("tls-ca-cert-file {}", missing("ca.crt")),
                    "tls-protocols SSLv3".into(),
                ],
            ]
            .concat(),
        ),
        ("missing DH parameters", with_dh(&missing("redis.dh"))),
        ("bad DH parameters", with_dh(&garbage.display().to_string())),
    ];
    let mut failures = Vec::new();
    for (name, lines) in cases {
        let conf = lines
            .iter()
            .fold(SentinelConf::monitoring("mymaster", 6379, 2), |c, l| {
                c.line(l.clone())
            });
        let reference = run_conf(name, Flavor::Redis, &conf);
        let warden = run_conf(name, Flavor::Warden, &conf);
        let expected = log_messages(&reference.stdout);
        let [.., reason, last] = expected.as_slice() else {
            panic!("{name}: redis-sentinel logged {:?}", reference.stdout);
        };
        assert_eq!(
            last, "Failed to configure TLS. Check logs for more info.",
            "{name}"
        );
        assert_eq!(reference.code, Some(1), "{name}: redis-sentinel exit code");
        // OpenSSL's error strings are formatted differently by the two (ERR_error_string_n vs
        // the whole error stack): compare up to them.
        let reason = reason.split(": error:").next().unwrap_or(reason);
        let got = log_messages(&warden.stdout);
        let ok = warden.code == Some(1)
            && got.last() == Some(last)
            && got
                .iter()
                .rev()
                .nth(1)
                .is_some_and(|r| r.starts_with(reason));
        if !ok {
            failures.push(format!(
                "{name}: want exit 1 after {reason:?} and {last:?}; warden exited {:?} logging {:?}",
                warden.code,
                got.iter().rev().take(2).rev().collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
