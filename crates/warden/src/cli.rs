//! Command-line handling.
//!
//! Two personalities share one binary, chosen by the basename of `argv[0]`:
//! * `redis-sentinel` (e.g. a symlink): exactly Redis's forms — `redis-sentinel <config>
//!   [--directive value ...]`, `-v`/`--version`, `-h`/`--help`;
//! * anything else (`warden`): the same start-up form, parsed with clap, so `--help` and
//!   `--version` describe Warden.
//!
//! In both, every `--directive value...` after the config file becomes one config line appended
//! after the file's own lines, split exactly as redis-server does by
//! [`warden_core::config::command_line`]; `--sentinel` becomes a bare `sentinel` line, which the
//! loader ignores.

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use warden_core::config::command_line;

use warden_core::REDIS_VERSION;

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the sentinel.
    Start(StartArgs),
    /// Print this text on stdout and exit 0 (version, help).
    Print(String),
    /// `warden demo [args...]`: the end-to-end failover demo, with its own arguments.
    Demo(Vec<String>),
    /// `warden doctor <config>`: check a deployment before it breaks (see `doctor`).
    Doctor(DoctorArgs),
}

/// What `warden doctor` checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorArgs {
    /// Path of sentinel.conf.
    pub config: PathBuf,
    /// Where FRR's vty sockets are (for routed VIPs).
    pub frr_vty_dir: PathBuf,
}

/// Arguments for running the sentinel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartArgs {
    /// The config file as given (`None` when absent, which the sentinel refuses like Redis
    /// does); the loader makes it absolute before changing to `dir`.
    pub config: Option<PathBuf>,
    /// Config text built from the `--directive value` arguments, one directive per line, to be
    /// loaded after the file.
    pub options: String,
}

/// Warden's own command line (used when not invoked as `redis-sentinel`).
#[derive(Debug, Parser)]
#[command(
    name = "warden",
    version,
    about = "Redis Sentinel 7.0.15 drop-in that also owns the service's virtual IP",
    after_help = "Any `--directive value ...` after the config file is appended to it as a config \
                  line, like redis-sentinel does (e.g. `--port 26380 --loglevel verbose`); \
                  `--sentinel` is accepted and ignored.",
    args_conflicts_with_subcommands = true
)]
struct WardenCli {
    #[command(subcommand)]
    command: Option<WardenCommand>,
    /// Path of sentinel.conf (must be writable: the sentinel saves its state there).
    config: Option<PathBuf>,
    /// Extra config directives, redis-style: `--port 26380 --bind 127.0.0.1 ::1`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "--DIRECTIVE VALUE"
    )]
    directives: Vec<String>,
}

/// Warden's subcommands.
#[derive(Debug, Subcommand)]
enum WardenCommand {
    /// Show a failover end to end on loopback (starts redis-server and three Wardens).
    #[command(disable_help_flag = true)]
    Demo {
        /// Demo options (`--keep`, `--help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Check a deployment: the config, the monitored Redis (reachable, auth, every command
    /// Warden sends allowed), the VIP's host setup, the peers. One line per finding; exit 1
    /// when something is broken, silent when all is well.
    Doctor {
        /// Path of sentinel.conf.
        config: PathBuf,
        /// Where FRR's vty sockets are, for the checks of routed VIPs (`vtysh --vty_socket`).
        #[arg(long, value_name = "DIR", default_value = "/var/run/frr")]
        frr_vty_dir: PathBuf,
    },
}

/// Parse the process arguments (`args[0]` is the program name).
///
/// Errors are clap's rendered usage errors (or a note about non-UTF-8 arguments); clap prints
/// help and version itself only through [`Command::Print`].
pub fn parse(args: Vec<OsString>) -> Result<Command, String> {
    let program = args.first().map(Path::new).and_then(Path::file_name);
    let redis_personality =
        program.is_some_and(|name| name.to_string_lossy().contains("redis-sentinel"));
    if redis_personality {
        let args: Vec<String> = args
            .into_iter()
            .skip(1)
            .map(|a| {
                a.into_string()
                    .map_err(|_| "arguments must be valid UTF-8".to_string())
            })
            .collect::<Result<_, _>>()?;
        return Ok(parse_redis(&args));
    }
    match WardenCli::try_parse_from(args) {
        Ok(WardenCli {
            command: Some(WardenCommand::Demo { args }),
            ..
        }) => Ok(Command::Demo(args)),
        Ok(WardenCli {
            command:
                Some(WardenCommand::Doctor {
                    config,
                    frr_vty_dir,
                }),
            ..
        }) => Ok(Command::Doctor(DoctorArgs {
            config,
            frr_vty_dir,
        })),
        Ok(cli) => {
            let mut words = Vec::with_capacity(cli.directives.len() + 1);
            if let Some(config) = cli.config {
                words.push(config.to_string_lossy().into_owned());
            }
            words.extend(cli.directives);
            Ok(parse_redis(&words))
        }
        Err(e) if !e.use_stderr() => Ok(Command::Print(e.to_string())),
        Err(e) => Err(e.render().to_string()),
    }
}

/// Redis's forms, `args` excluding the program name.
fn parse_redis(args: &[String]) -> Command {
    if let [only] = args {
        match only.as_str() {
            "-v" | "--version" => return Command::Print(redis_version_line()),
            "-h" | "--help" => return Command::Print(REDIS_USAGE.to_string()),
            _ => {}
        }
    }
    let line = command_line(args);
    Command::Start(StartArgs {
        config: line.config_file.map(PathBuf::from),
        options: line.options,
    })
}

/// `redis-sentinel --version` output, naming Warden as the build.
fn redis_version_line() -> String {
    format!(
        "Redis server v={REDIS_VERSION} sha=00000000:0 malloc=libc bits={} build=warden-{}\n",
        usize::BITS,
        env!("CARGO_PKG_VERSION")
    )
}

const REDIS_USAGE: &str = "\
Usage: ./redis-sentinel [/path/to/sentinel.conf] [options]
       ./redis-sentinel -v or --version
       ./redis-sentinel -h or --help

Examples:
       ./redis-sentinel /etc/sentinel.conf
       ./redis-sentinel /etc/sentinel.conf --port 26380 --loglevel verbose
";

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Command {
        parse(args.iter().map(OsString::from).collect()).expect("parses")
    }

    fn start(args: &[&str]) -> StartArgs {
        match run(args) {
            Command::Start(start) => start,
            other => panic!("expected start, got {other:?}"),
        }
    }

    /// The option lines, each split back into words as the config loader will.
    fn option_words(s: &StartArgs) -> Vec<Vec<String>> {
        s.options
            .lines()
            .map(|line| warden_core::config::tokenize::split_args(line).expect("balanced"))
            .collect()
    }

    fn words(lines: &[&[&str]]) -> Vec<Vec<String>> {
        lines
            .iter()
            .map(|l| l.iter().map(|w| w.to_string()).collect())
            .collect()
    }

    #[test]
    fn redis_sentinel_form_with_overrides() {
        let s = start(&[
            "../../../src/redis-sentinel",
            "sentinel_0/sentinel.conf",
            "--port",
            "26380",
            "--bind",
            "127.0.0.1",
            "::1",
            "--protected-mode",
            "no",
            "--sentinel",
        ]);
        assert_eq!(s.config, Some(PathBuf::from("sentinel_0/sentinel.conf")));
        assert_eq!(
            option_words(&s),
            words(&[
                &["port", "26380"],
                &["bind", "127.0.0.1", "::1"],
                &["protected-mode", "no"],
                &["sentinel"],
            ])
        );
    }

    #[test]
    fn warden_form_matches_redis_form() {
        let args = [
            "/etc/s.conf",
            "--supervised",
            "systemd",
            "--save",
            "--dir",
            "a b",
        ];
        let warden = start(&[&["warden"][..], &args].concat());
        let redis = start(&[&["redis-sentinel"][..], &args].concat());
        assert_eq!(warden, redis);
        assert_eq!(warden.config, Some(PathBuf::from("/etc/s.conf")));
        assert_eq!(
            option_words(&warden),
            words(&[&["supervised", "systemd"], &["save", ""], &["dir", "a b"]])
        );
    }

    #[test]
    fn missing_config_file_or_stdin() {
        let s = start(&["redis-sentinel", "--port", "5000"]);
        assert_eq!(s.config, None);
        assert_eq!(option_words(&s), words(&[&["port", "5000"]]));
        assert_eq!(start(&["warden"]).config, None);
        assert_eq!(start(&["redis-sentinel", "-"]).config, None);
    }

    #[test]
    fn demo_subcommand_keeps_its_arguments() {
        assert_eq!(run(&["warden", "demo"]), Command::Demo(vec![]));
        assert_eq!(
            run(&["warden", "demo", "--keep"]),
            Command::Demo(vec!["--keep".into()])
        );
        assert_eq!(
            run(&["warden", "demo", "--help"]),
            Command::Demo(vec!["--help".into()])
        );
        // Only Warden's personality has subcommands.
        assert!(matches!(
            run(&["redis-sentinel", "demo"]),
            Command::Start(_)
        ));
    }

    #[test]
    fn version_and_help() {
        match run(&["/usr/bin/redis-sentinel", "--version"]) {
            Command::Print(text) => assert!(text.starts_with("Redis server v=7.0.15 "), "{text}"),
            other => panic!("{other:?}"),
        }
        match run(&["redis-sentinel", "-h"]) {
            Command::Print(text) => assert!(text.starts_with("Usage: ./redis-sentinel"), "{text}"),
            other => panic!("{other:?}"),
        }
        match run(&["warden", "--version"]) {
            Command::Print(text) => assert!(text.starts_with("warden "), "{text}"),
            other => panic!("{other:?}"),
        }
        match run(&["warden", "--help"]) {
            Command::Print(text) => assert!(text.contains("--DIRECTIVE VALUE"), "{text}"),
            other => panic!("{other:?}"),
        }
    }
}
