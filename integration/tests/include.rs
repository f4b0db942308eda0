//! `include` in sentinel.conf, side by side with redis-sentinel: included directives apply where
//! the `include` line stands (a wildcard includes every match in alphabetical order, or nothing),
//! relative paths follow the `dir` lines before them, the line survives rewrites, and errors in
//! included files are reported with the included file's line number; a missing file stops
//! start-up with Redis's message.

use std::time::Duration;

use warden_integration::process::Process;
use warden_integration::servers::{Flavor, SentinelConf, SentinelServer};
use warden_integration::tempdir::TempDir;

const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
const FLAVORS: [Flavor; 2] = [Flavor::Redis, Flavor::Warden];

fn write(dir: &TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Exit code, stdout and stderr of a sentinel expected to refuse its config.
fn refused(flavor: Flavor, conf: &SentinelConf) -> (Option<i32>, String, String) {
    let server = SentinelServer::spawn(flavor, conf).unwrap_or_else(|e| panic!("{flavor}: {e}"));
    let mut process: Process = server.process;
    let status = process
        .wait_exit(EXIT_TIMEOUT)
        .unwrap_or_else(|e| panic!("{flavor} did not exit: {e}"));
    (status.code(), process.stdout(), process.stderr())
}

/// Starts both flavors with `conf`; each must report `want` as mymaster's down-after.
fn started_with_down_after(conf: &SentinelConf, want: &str) -> Vec<SentinelServer> {
    FLAVORS
        .into_iter()
        .map(|flavor| {
            let sentinel =
                SentinelServer::start(flavor, conf).unwrap_or_else(|e| panic!("{flavor}: {e}"));
            let master = sentinel.master("mymaster").unwrap();
            assert_eq!(
                master.field_text("down-after-milliseconds").as_deref(),
                Some(want),
                "{flavor}: {master}"
            );
            sentinel
        })
        .collect()
}

#[test]
fn included_directives_apply_in_order_and_the_include_line_stays() {
    let dir = TempDir::new("include").unwrap();
    write(
        &dir,
        "conf.d/a.conf",
        "sentinel down-after-milliseconds mymaster 1111\n",
    );
    write(
        &dir,
        "conf.d/b.conf",
        "# later file wins\nsentinel down-after-milliseconds mymaster 2222\n",
    );
    write(
        &dir,
        "conf.d/.hidden.conf",
        "sentinel down-after-milliseconds mymaster 3333\n",
    );
    std::fs::create_dir_all(dir.path().join("empty.d")).unwrap();
    let include = format!("include {}/conf.d/*.conf", dir.path().display());
    let conf = SentinelConf::monitoring("mymaster", 1, 2)
        .line(include.clone())
        .line(format!("include {}/empty.d/*.conf", dir.path().display()));
    for sentinel in started_with_down_after(&conf, "2222") {
        // Started, so it rewrote its config (new myid): the include is still there.
        let text = std::fs::read_to_string(&sentinel.config_path).unwrap();
        assert!(
            text.lines().any(|l| l == include),
            "{}:\n{text}",
            sentinel.flavor
        );
    }
}

#[test]
fn errors_in_included_files_are_reported_like_redis_sentinel() {
    let dir = TempDir::new("include-errors").unwrap();
    let bad = write(&dir, "bad.conf", "# line 1\n\nloglevel loud\n");
    let missing = dir.path().join("missing.conf").display().to_string();
    let cases = [
        ("error in an included file", format!("include {bad}")),
        ("missing included file", format!("include {missing}")),
    ];
    for (name, line) in cases {
        let conf = SentinelConf::empty().line(line);
        let [reference, warden] = FLAVORS.map(|flavor| refused(flavor, &conf));
        assert_eq!(reference.0, Some(1), "{name}: redis-sentinel exit code");
        assert_eq!(warden.0, Some(1), "{name}: warden exit code");
        // The FATAL block on stderr (the version in its header aside), else the last log line.
        let essence = |(_, stdout, stderr): &(Option<i32>, String, String)| {
            let fatal: Vec<&str> = stderr
                .lines()
                .skip_while(|l| !l.starts_with("*** FATAL"))
                .skip(1)
                .collect();
            if fatal.is_empty() {
                stdout
                    .lines()
                    .last()
                    .and_then(|l| l.split_once(" # "))
                    .map(|(_, m)| m.to_owned())
            } else {
                Some(fatal.join("\n"))
            }
        };
        assert_eq!(essence(&warden), essence(&reference), "{name}");
        assert!(essence(&reference).is_some(), "{name}: {reference:?}");
    }
}

#[test]
fn a_relative_include_is_found_in_the_dir_set_before_it() {
    let dir = TempDir::new("include-dir").unwrap();
    write(
        &dir,
        "work/extra.conf",
        "sentinel down-after-milliseconds mymaster 4444\n",
    );
    let conf = SentinelConf::monitoring("mymaster", 1, 2)
        .line(format!("dir {}/work", dir.path().display()))
        .line("include extra.conf");
    started_with_down_after(&conf, "4444");
}
