//! Start-up errors: a bad config line stops Warden with exit status 1 and the same
//! `*** FATAL CONFIG FILE ERROR ***` block as Redis Sentinel (line number, the line, the reason); a
//! missing config file is refused with Redis Sentinel's message.

use std::process::Command;
use std::time::Duration;

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
