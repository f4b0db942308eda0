//! Command-line handling.
//!
//! Two personalities share one binary, chosen by the basename of `argv[0]`:
//! * `redis-sentinel` (e.g. a symlink): exactly Redis's forms — `redis-sentinel <config>
//!   [--directive value ...]`, `-v`/`--version`, `-h`/`--help`;
//! * anything else (`warden`): the same start-up form, parsed with clap, so `--help` and
//!   `--version` describe Warden.
//!
//! In both, every `--directive value...` after the config file becomes one config line appended
//! after the file's own lines, as redis-server does; `--sentinel` is accepted and ignored.

use clap::Parser;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The Redis version Warden behaves as.
pub const REDIS_VERSION: &str = "7.0.15";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the sentinel.
    Start(StartArgs),
    /// Print this text on stdout and exit 0 (version, help).
    Print(String),
}

/// Arguments for running the sentinel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartArgs {
    /// The config file, made absolute against the start-up directory (`None` when absent, which
    /// the sentinel refuses like Redis does).
    pub config: Option<PathBuf>,
    /// Config lines built from `--directive value` arguments, in order, values quoted so that
    /// Redis's argument splitting gives them back verbatim.
    pub overrides: Vec<String>,
}

/// Warden's own command line (used when not invoked as `redis-sentinel`).
#[derive(Debug, Parser)]
#[command(
    name = "warden",
    version,
    about = "Redis Sentinel 7.0.15 drop-in that also owns the service's virtual IP",
    after_help = "Any `--directive value ...` after the config file is appended to it as a config \
                  line, like redis-sentinel does (e.g. `--port 26380 --loglevel verbose`); \
                  `--sentinel` is accepted and ignored."
)]
struct WardenCli {
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
    let (config, options) = match args.split_first() {
        Some((first, rest)) if !first.starts_with("--") => (Some(absolute(first)), rest),
        _ => (None, args),
    };
    Command::Start(StartArgs {
        config,
        overrides: override_lines(options),
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

/// `path` made absolute against the current directory (no symlink resolution), so the config
/// rewrite keeps targeting it after the `dir` chdir.
fn absolute(path: &str) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path))
}

/// Turn `--name value... --name2 value...` into config lines, the way redis-server does:
/// * `--name` starts a line; the argument right after a bare `--name` is always its value, even if
///   it starts with `--`; further arguments not starting with `--` are appended;
/// * an argument holding spaces (`"--port 6380"`) is a complete line by itself;
/// * `--save` followed by another option or at the end gets the value `""`;
/// * `--sentinel` is a valueless pseudo-option and produces no line.
fn override_lines(options: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut awaiting_value = false;
    let mut i = 0;
    while i < options.len() {
        let arg = &options[i];
        let next_is_option = options.get(i + 1).is_some_and(|n| n.starts_with("--"));
        let is_last = i + 1 == options.len();
        if !awaiting_value && arg.starts_with("--") {
            let name = arg[2..].trim();
            let bare = name.split_whitespace().count() <= 1;
            lines.push(name.to_string());
            awaiting_value = bare;
            if bare && name.eq_ignore_ascii_case("save") && (next_is_option || is_last) {
                lines
                    .last_mut()
                    .into_iter()
                    .for_each(|l| l.push_str(" \"\""));
                awaiting_value = false;
            } else if bare && name.eq_ignore_ascii_case("sentinel") && (next_is_option || is_last) {
                lines.pop();
                awaiting_value = false;
            }
        } else if let Some(line) = lines.last_mut() {
            line.push(' ');
            line.push_str(&quote(arg));
            awaiting_value = false;
        } else {
            // A value with no option before it: redis-server appends it to an empty line.
            lines.push(quote(arg));
        }
        i += 1;
    }
    lines
}

/// Quote `word` so Redis's config-line splitting yields it unchanged: bare when it is a plain
/// token, otherwise a double-quoted string with escapes.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\'));
    if plain {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('"');
    for c in word.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

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
        let expected = std::env::current_dir()
            .unwrap()
            .join("sentinel_0/sentinel.conf");
        assert_eq!(s.config, Some(expected));
        assert_eq!(
            s.overrides,
            ["port 26380", "bind 127.0.0.1 ::1", "protected-mode no"]
        );
    }

    #[test]
    fn warden_form_matches_redis_form() {
        let s = start(&[
            "warden",
            "/etc/s.conf",
            "--supervised",
            "systemd",
            "--daemonize",
            "no",
        ]);
        assert_eq!(s.config, Some(PathBuf::from("/etc/s.conf")));
        assert_eq!(s.overrides, ["supervised systemd", "daemonize no"]);
    }

    #[test]
    fn sentinel_pseudo_option_anywhere() {
        let s = start(&["warden", "/s.conf", "--sentinel", "--port", "1"]);
        assert_eq!(s.overrides, ["port 1"]);
        let s = start(&["redis-sentinel", "/s.conf", "--port", "1", "--sentinel"]);
        assert_eq!(s.overrides, ["port 1"]);
    }

    #[test]
    fn values_are_quoted_and_special_forms_kept() {
        let s = start(&[
            "redis-sentinel",
            "/s.conf",
            "--logfile",
            "",
            "--save",
            "--dir",
            "a b",
        ]);
        assert_eq!(s.overrides, ["logfile \"\"", "save \"\"", "dir \"a b\""]);
        let s = start(&[
            "redis-sentinel",
            "/s.conf",
            "--port 6380",
            "--requirepass",
            "--x",
        ]);
        assert_eq!(s.overrides, ["port 6380", "requirepass --x"]);
        let s = start(&["redis-sentinel", "/s.conf", "--requirepass", "a\"b\\c\n"]);
        assert_eq!(s.overrides, ["requirepass \"a\\\"b\\\\c\\n\""]);
    }

    #[test]
    fn missing_config_file() {
        let s = start(&["redis-sentinel", "--port", "5000"]);
        assert_eq!(s.config, None);
        assert_eq!(s.overrides, ["port 5000"]);
        assert_eq!(start(&["warden"]).config, None);
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
