//! Redis-style logging on top of `tracing`.
//!
//! Every line looks like Redis Sentinel's: `<pid>:X 24 Nov 2026 17:06:35.097 # message`, with the
//! level character `.` (debug), `-` (verbose), `*` (notice) or `#` (warning). Tracing levels map
//! onto Redis levels as TRACE → debug, DEBUG → verbose, INFO → notice, WARN and ERROR → warning,
//! so `tracing::info!` is a notice line and `tracing::warn!` a warning line.
//!
//! Like Redis, a log file is opened in append mode for every line and closed right after, so
//! log rotation needs no signal and no descriptor stays open (none can leak into scripts).

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, Registry};

/// Where log lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// Standard output (`logfile ""` in the foreground).
    Stdout,
    /// Appended to this file, opened anew for each line.
    File(PathBuf),
}

impl LogTarget {
    /// The target for a `logfile` directive; `daemonized` turns `""` into `/dev/null` as Redis
    /// does, since a daemon has no terminal.
    pub fn from_logfile(logfile: &str, daemonized: bool) -> LogTarget {
        match (logfile, daemonized) {
            ("", false) => LogTarget::Stdout,
            ("", true) => LogTarget::File(PathBuf::from("/dev/null")),
            (path, _) => LogTarget::File(PathBuf::from(path)),
        }
    }

    /// Write one complete line to the target; failures are ignored like in Redis (there is
    /// nowhere left to report them).
    pub fn write_line(&self, line: &str) {
        let _ = self.make_writer().write_all(line.as_bytes());
    }
}

/// The tracing level filter for a `loglevel` value, or `None` if the value is unknown.
pub fn level_filter(loglevel: &str) -> Option<LevelFilter> {
    match loglevel.to_ascii_lowercase().as_str() {
        "debug" => Some(LevelFilter::TRACE),
        "verbose" => Some(LevelFilter::DEBUG),
        "notice" => Some(LevelFilter::INFO),
        "warning" => Some(LevelFilter::WARN),
        "nothing" => Some(LevelFilter::OFF),
        _ => None,
    }
}

/// Redis's level character for a tracing level.
pub fn level_char(level: &Level) -> char {
    match *level {
        Level::TRACE => '.',
        Level::DEBUG => '-',
        Level::INFO => '*',
        Level::WARN | Level::ERROR => '#',
    }
}

/// Install the global subscriber: Redis line format, `level` filter, lines to `target`.
pub fn init(target: LogTarget, level: LevelFilter) -> Result<(), String> {
    let (filter, handle) = reload::Layer::new(level);
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(target)
                .event_format(RedisFormat),
        )
        .try_init()
        .map_err(|e| e.to_string())?;
    let _ = LEVEL.set(handle);
    Ok(())
}

/// The handle that changes the level of the subscriber [`init`] installed.
static LEVEL: OnceLock<reload::Handle<LevelFilter, Registry>> = OnceLock::new();

/// Switch to the Redis level `loglevel` (`SENTINEL CONFIG SET loglevel`); unknown names and a
/// process without [`init`] are left alone.
pub fn set_level(loglevel: &str) {
    if let (Some(handle), Some(level)) = (LEVEL.get(), level_filter(loglevel)) {
        let _ = handle.reload(level);
    }
}

/// One complete log line (with the trailing newline) for the current process and time.
pub fn line(level: char, message: &str) -> String {
    format!("{} {level} {message}\n", prefix(SystemTime::now()))
}

/// `<pid>:X <timestamp>`.
fn prefix(now: SystemTime) -> String {
    format!("{}:X {}", std::process::id(), timestamp(now))
}

/// `24 Nov 2026 17:06:35.097` in local time (UTC if the local time cannot be computed).
fn timestamp(now: SystemTime) -> String {
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (day, month, year, hour, min, sec) = match crate::sys::localtime(since_epoch.as_secs()) {
        Some(t) => (t.day, t.month, t.year, t.hour, t.min, t.sec),
        None => (1, 0, 1970, 0, 0, 0),
    };
    format_time(
        day,
        month,
        year,
        hour,
        min,
        sec,
        since_epoch.subsec_millis(),
    )
}

/// Render broken-down time fields (`month` 0-based) the way Redis's `%d %b %Y %H:%M:%S.mmm` does,
/// independently of the C locale.
fn format_time(day: i32, month: i32, year: i32, hour: i32, min: i32, sec: i32, ms: u32) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = usize::try_from(month)
        .ok()
        .and_then(|m| MONTHS.get(m))
        .unwrap_or(&"Jan");
    format!("{day:02} {month} {year} {hour:02}:{min:02}:{sec:02}.{ms:03}")
}

/// The event formatter producing Redis log lines.
struct RedisFormat;

impl<S, N> FormatEvent<S, N> for RedisFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let level = level_char(event.metadata().level());
        write!(writer, "{} {level} ", prefix(SystemTime::now()))?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// A line's destination, handed out by [`LogTarget`] for every event.
pub enum LineWriter {
    /// Locked standard output.
    Stdout(io::StdoutLock<'static>),
    /// The log file, opened for this line (`None` when it could not be opened).
    File(Option<std::fs::File>),
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            LineWriter::Stdout(out) => out.write(buf),
            LineWriter::File(Some(file)) => file.write(buf),
            LineWriter::File(None) => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            LineWriter::Stdout(out) => out.flush(),
            LineWriter::File(Some(file)) => file.flush(),
            LineWriter::File(None) => Ok(()),
        }
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if let LineWriter::Stdout(out) = self {
            let _ = out.flush();
        }
    }
}

impl<'a> MakeWriter<'a> for LogTarget {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        match self {
            LogTarget::Stdout => LineWriter::Stdout(io::stdout().lock()),
            LogTarget::File(path) => {
                LineWriter::File(OpenOptions::new().create(true).append(true).open(path).ok())
            }
        }
    }
}

/// Render the message of a panic for the log, so crashes leave a trace in `logfile` and not only
/// on stderr.
pub fn panic_message(info: &std::panic::PanicHookInfo<'_>) -> String {
    let mut text = String::from("Panic");
    if let Some(location) = info.location() {
        let _ = write!(text, " in {}:{}", location.file(), location.line());
    }
    let payload = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned());
    if let Some(payload) = payload {
        let _ = write!(text, ": {payload}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn loglevel_names_map_to_filters() {
        assert_eq!(level_filter("debug"), Some(LevelFilter::TRACE));
        assert_eq!(level_filter("verbose"), Some(LevelFilter::DEBUG));
        assert_eq!(level_filter("NOTICE"), Some(LevelFilter::INFO));
        assert_eq!(level_filter("warning"), Some(LevelFilter::WARN));
        assert_eq!(level_filter("nothing"), Some(LevelFilter::OFF));
        assert_eq!(level_filter("loud"), None);
    }

    #[test]
    fn level_characters_match_redis() {
        assert_eq!(level_char(&Level::TRACE), '.');
        assert_eq!(level_char(&Level::DEBUG), '-');
        assert_eq!(level_char(&Level::INFO), '*');
        assert_eq!(level_char(&Level::WARN), '#');
        assert_eq!(level_char(&Level::ERROR), '#');
    }

    #[test]
    fn time_is_rendered_like_redis() {
        assert_eq!(
            format_time(24, 10, 2026, 17, 6, 35, 97),
            "24 Nov 2026 17:06:35.097"
        );
        assert_eq!(
            format_time(5, 0, 2027, 0, 0, 0, 0),
            "05 Jan 2027 00:00:00.000"
        );
    }

    /// True if `line` is `<pid>:X DD Mon YYYY HH:MM:SS.mmm <lvl> <msg>\n`.
    fn assert_redis_line(line: &str, lvl: char, msg: &str) {
        let (head, rest) = line.split_once(":X ").expect("pid separator");
        assert_eq!(head, std::process::id().to_string());
        let words: Vec<&str> = rest.splitn(6, ' ').collect();
        assert_eq!(words.len(), 6, "{line:?}");
        assert!(words[0].len() == 2 && words[0].bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(words[1].len(), 3);
        assert_eq!(words[2].len(), 4);
        let clock = words[3].as_bytes();
        assert_eq!(clock.len(), 12, "{line:?}");
        assert_eq!((clock[2], clock[5], clock[8]), (b':', b':', b'.'));
        assert_eq!(words[4], lvl.to_string());
        assert_eq!(words[5], format!("{msg}\n"));
    }

    #[test]
    fn line_has_redis_layout() {
        assert_redis_line(&line('#', "Sentinel ID is abc"), '#', "Sentinel ID is abc");
    }

    /// Captures what the formatter writes.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn tracing_events_become_redis_lines_filtered_by_level() {
        let capture = Capture::default();
        let sink = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level_filter("notice").unwrap())
            .with_writer(move || sink.clone())
            .event_format(RedisFormat)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!("+sdown master mymaster 127.0.0.1 6391");
            tracing::info!("Removing the pid file.");
            tracing::debug!("verbose line, filtered at notice");
            tracing::trace!("debug line, filtered at notice");
        });
        let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_redis_line(lines[0], '#', "+sdown master mymaster 127.0.0.1 6391");
        assert_redis_line(lines[1], '*', "Removing the pid file.");
    }

    #[test]
    fn file_target_appends_each_line() {
        let dir = std::env::temp_dir().join(format!("warden-log-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log.txt");
        let _ = std::fs::remove_file(&path);
        let target = LogTarget::from_logfile(path.to_str().unwrap(), false);
        target.write_line("one\n");
        target.write_line("two\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_logfile_is_stdout_or_dev_null() {
        assert_eq!(LogTarget::from_logfile("", false), LogTarget::Stdout);
        assert_eq!(
            LogTarget::from_logfile("", true),
            LogTarget::File("/dev/null".into())
        );
    }
}
