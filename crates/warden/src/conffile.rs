//! The sentinel config file on disk: loading it at start-up (with Redis's refusals) and
//! saving the sentinel's state into it crash-safely ([`FilePersist`]).
//!
//! Start-up order, as redis-sentinel 7.0.15: make the path absolute (before any `chdir` to
//! `dir`), read the file (`Fatal error, can't open config file ...`), parse it followed by the
//! command-line options (FATAL CONFIG FILE ERROR block), then require write access (`Sentinel
//! config file ... is not writable ...`).

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::net::{IpAddr, ToSocketAddrs};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use warden_core::config::{self, ConfigEnv, ConfigError, Parsed, SentinelConfig, ServerConfig};

use crate::journal::{self, Journal};
use warden_core::glob::glob_match;
use warden_core::{Persist, Saved};
use warden_server::strerror;

use crate::sys::{access, thread_cpu_time};

/// The real environment for [`config::parse()`]: file modes and DNS of this machine.
pub struct SystemEnv;

impl ConfigEnv for SystemEnv {
    fn is_executable(&self, path: &str) -> bool {
        access(path, libc::X_OK).is_ok()
    }

    fn resolve(&self, host: &str) -> Option<IpAddr> {
        (host, 0).to_socket_addrs().ok()?.next().map(|a| a.ip())
    }

    fn check_dir(&self, path: &str) -> Result<(), String> {
        let meta = fs::metadata(path).map_err(|e| strerror(&e))?;
        if !meta.is_dir() {
            return Err(strerror(&io::Error::from_raw_os_error(libc::ENOTDIR)));
        }
        access(path, libc::X_OK).map_err(|e| strerror(&e))
    }
}

/// Why the sentinel cannot start with this config (each `Display`s as Redis words it).
#[derive(Debug)]
pub enum LoadError {
    /// No config file given. Log at warning level, exit 1.
    NoConfig,
    /// The file cannot be read. Log at warning level, exit 1.
    Unreadable {
        /// Absolute path.
        path: PathBuf,
        /// `strerror` text.
        reason: String,
    },
    /// A directive is invalid. Print [`ConfigError::stderr_text`] on **stderr**, exit 1.
    Invalid(ConfigError),
    /// An included file cannot be read (the message to log at warning level), exit 1.
    Include(String),
    /// The config journal cannot be read, or an intact record of it does not load (the
    /// message to log at warning level), exit 1.
    Journal(String),
    /// The file is not writable. Log at warning level, exit 1.
    NotWritable {
        /// Absolute path.
        path: PathBuf,
        /// `strerror` text.
        reason: String,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NoConfig => write!(
                f,
                "Sentinel needs config file on disk to save state. Exiting..."
            ),
            LoadError::Unreadable { path, reason } => {
                write!(
                    f,
                    "Fatal error, can't open config file '{}': {reason}",
                    path.display()
                )
            }
            LoadError::Invalid(e) => write!(f, "{e}"),
            LoadError::Include(message) => write!(f, "{message}"),
            LoadError::Journal(message) => {
                write!(f, "Fatal error, can't replay the config journal: {message}")
            }
            LoadError::NotWritable { path, reason } => {
                write!(
                    f,
                    "Sentinel config file {} is not writable: {reason}. Exiting...",
                    path.display()
                )
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// A loaded configuration and the persister bound to its file.
pub struct Loaded {
    /// Absolute path of the config file.
    pub path: PathBuf,
    /// The parsed configuration (plus warnings to log, e.g. unresolvable hostnames).
    pub parsed: Parsed,
    /// Saves state into `path`; hand it to the core.
    pub persist: FilePersist,
}

/// Makes `path` absolute against the current directory without touching the filesystem
/// (Redis's `getAbsolutePath`); call before any `chdir`.
pub fn absolute(path: &Path) -> io::Result<PathBuf> {
    std::path::absolute(path)
}

/// Loads the sentinel config: `path` is the config file argument (`None` if absent) and
/// `options` the command-line directives ([`config::CommandLine::options`]), loaded after it.
///
/// On success the caller should log `parsed.warnings` (warning level), `chdir` to
/// `parsed.server.dir` if set, and give `persist` to the core.
pub fn load(path: Option<&Path>, options: &str) -> Result<Loaded, LoadError> {
    let Read {
        path,
        mut parsed,
        replayed,
    } = read(path, options)?;
    access(&path.to_string_lossy(), libc::W_OK).map_err(|e| LoadError::NotWritable {
        path: path.clone(),
        reason: strerror(&e),
    })?;
    // Redis chdirs to `dir` while loading and always writes `dir "<getcwd()>"`: resolve it
    // now (physically, like getcwd), so saves do not depend on the process's later cwd.
    let mut server = parsed.server.clone();
    let dir = Path::new(server.dir.as_deref().unwrap_or("."));
    server.dir = fs::canonicalize(dir)
        .ok()
        .map(|d| d.to_string_lossy().into_owned());
    let mut persist = FilePersist::new(path.clone(), server);
    if let Some(replayed) = replayed {
        // Logged once logging is set up, with the other warnings.
        let journal = journal::path_for(&path);
        parsed.warnings.push(replayed.describe(&journal));
        if let Err(reason) = persist.rewrite_now(&parsed.sentinel) {
            parsed.warnings.push(format!(
                "Can't rewrite the config file after the journal's replay ({reason}): it is kept and replayed again at the next start"
            ));
        }
    }
    Ok(Loaded {
        path,
        parsed,
        persist,
    })
}

/// A config file as read, its journal replayed in memory.
pub struct Read {
    /// Absolute path of the config file.
    pub path: PathBuf,
    /// The parsed configuration, the journal's records applied.
    pub parsed: Parsed,
    /// What the journal held, if there was one.
    pub replayed: Option<journal::Replayed>,
}

/// Reads and parses the config (and replays its journal) without touching anything on disk:
/// the first half of [`load`], and what `warden doctor` checks (it may run beside the
/// sentinel that owns the file).
pub fn read(path: Option<&Path>, options: &str) -> Result<Read, LoadError> {
    let path = path.ok_or(LoadError::NoConfig)?;
    let path = absolute(path).map_err(|e| unreadable(&e, path))?;
    let bytes = fs::read(&path).map_err(|e| unreadable(&e, &path))?;
    let text = String::from_utf8_lossy(&bytes);
    let combined = config::config_text(&text, options);
    let expanded = config::expand_includes(&combined, &path.to_string_lossy(), &mut read_included)
        .map_err(LoadError::Include)?;
    let mut parsed = config::parse(&expanded.text, &SystemEnv).map_err(|mut e| {
        // Redis counts lines per file: report the line of the file it is in.
        e.line = expanded.origin(e.line).1;
        LoadError::Invalid(e)
    })?;
    let dir = parsed.server.dir.clone();
    let replayed = journal::replay(
        &path,
        &text,
        dir.as_deref(),
        &mut parsed.sentinel,
        &SystemEnv,
    )
    .map_err(LoadError::Journal)?;
    Ok(Read {
        path,
        parsed,
        replayed,
    })
}

/// Redis's "can't open config file" error for `path`.
fn unreadable(e: &io::Error, path: &Path) -> LoadError {
    LoadError::Unreadable {
        path: path.to_path_buf(),
        reason: strerror(e),
    }
}

/// The files an `include <pattern>` names, with their text: the file itself, or with wildcards
/// (`*`, `?`, `[...]` in its last component, matched like glob(3) without dot files) every
/// match in alphabetical order, possibly none.
fn read_included(pattern: &str) -> Result<Vec<config::include::Source>, String> {
    let read = |path: &Path| {
        fs::read(path)
            .map(|bytes| {
                (
                    path.to_string_lossy().into_owned(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                )
            })
            .map_err(|e| unreadable(&e, path).to_string())
    };
    let path = Path::new(pattern);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let Some(name) = name.filter(|n| n.contains(['*', '?', '['])) else {
        return Ok(vec![read(path)?]);
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut matches: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|file| {
                    (!file.starts_with('.') || name.starts_with('.'))
                        && glob_match(name.as_bytes(), file.as_bytes(), false)
                })
                .map(|file| dir.join(file))
                .collect()
        })
        .unwrap_or_default();
    matches.sort();
    matches.iter().map(|path| read(path)).collect()
}

/// Saves the sentinel state into its config file like Redis's `sentinelFlushConfig`: the old
/// file is read again (so comments and hand edits survive), rewritten by
/// [`config::rewrite()`], written to `<config>.XXXXXX` in the same directory, fsynced, renamed
/// over the original, and the directory fsynced.
///
/// Saves the core does not wait for (votes, epochs, discoveries: see the core's group commit)
/// go to a writer thread once [`FilePersist::write_in_background`] started it, so the event
/// loop never stops for a disk; operator commands and start-up write synchronously. Both go
/// through one [`ConfigFile`] under a lock, which never replaces a newer generation by an
/// older one.
///
/// The temporary file is created with mode `0644` which the kernel masks with the umask —
/// the same result as Redis's `mkostemp` + `fchmod(0644 & ~umask)`, without reading the umask.
pub struct FilePersist {
    file: Arc<Mutex<ConfigFile>>,
    /// Background saves, once the writer thread runs.
    jobs: Option<mpsc::Sender<(u64, SentinelConfig)>>,
}

/// The config file and the newest generation written into it.
struct ConfigFile {
    path: PathBuf,
    server: ServerConfig,
    written: u64,
    /// What the last rewrite wrote and the file's identity right after it: while the file is
    /// unchanged, the next save need not read it back (a hand edit changes the identity).
    last: Option<(String, FileIdentity)>,
    /// The state the file and the journal hold together, once a save wrote it.
    state: Option<SentinelConfig>,
    /// Background saves since the last rewrite (see `journal`).
    journal: Journal,
    /// Told how long each save that wrote took (the metrics).
    observer: Option<Box<dyn Fn(std::time::Duration) + Send>>,
}

/// Inode, size and modification time of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    ino: u64,
    len: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl FileIdentity {
    fn of(path: &Path) -> Option<FileIdentity> {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(path).ok()?;
        Some(FileIdentity {
            ino: m.ino(),
            len: m.len(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        })
    }
}

impl FilePersist {
    /// A persister for the (absolute) `path`, writing the generic directives of `server`
    /// (whose `dir` should be the absolute working directory, as [`load`] sets it).
    pub fn new(path: PathBuf, server: ServerConfig) -> Self {
        let journal = Journal::beside(&path);
        FilePersist {
            file: Arc::new(Mutex::new(ConfigFile {
                path,
                server,
                written: 0,
                last: None,
                state: None,
                journal,
                observer: None,
            })),
            jobs: None,
        }
    }

    /// Tell `observer` how long each save that writes takes (rewrite or journal append, its
    /// fsyncs included).
    pub fn observe_flushes(&mut self, observer: impl Fn(std::time::Duration) + Send + 'static) {
        lock(&self.file).observer = Some(Box::new(observer));
    }

    /// A handle that compacts the journal into the file (at a clean shutdown).
    pub fn compactor(&self) -> Compactor {
        Compactor(self.file.clone())
    }

    /// Rewrites the file with `state` now and removes the journal (after a replay at start-up).
    pub fn rewrite_now(&mut self, state: &SentinelConfig) -> Result<(), String> {
        let mut file = lock(&self.file);
        file.state = Some(state.clone());
        file.compact()
    }

    /// From now on, write the saves the core does not wait for on a thread of their own and
    /// report each generation to `done` when it is on disk (or failed, which is logged).
    pub fn write_in_background(&mut self, done: impl Fn(u64) + Send + 'static) -> io::Result<()> {
        let (tx, rx) = mpsc::channel::<(u64, SentinelConfig)>();
        let file = self.file.clone();
        std::thread::Builder::new()
            .name("config-writer".into())
            .spawn(move || {
                loop {
                    // A journal is compacted into the file once saves pause.
                    let job = if lock(&file).journal.len() > 0 {
                        match rx.recv_timeout(COMPACT_AFTER) {
                            Err(mpsc::RecvTimeoutError::Timeout) => {
                                let _ = lock(&file).compact();
                                continue;
                            }
                            job => job.ok(),
                        }
                    } else {
                        rx.recv().ok()
                    };
                    let Some((mut generation, mut state)) = job else {
                        let _ = lock(&file).compact();
                        break;
                    };
                    // Only the newest state matters: it contains every older one.
                    while let Ok((g, s)) = rx.try_recv() {
                        (generation, state) = (g, s);
                    }
                    let started = thread_cpu_time();
                    let _ = lock(&file).save(generation, state, true);
                    done(generation);
                    // Saves back to back (a mass failover) would keep this thread on a core
                    // the event loops need: rest a multiple of the CPU time the save took
                    // (a rewrite of a large fleet's file; waiting for the disk costs none),
                    // while newer states coalesce into the next save.
                    let took = thread_cpu_time().saturating_sub(started);
                    std::thread::sleep((took * WRITER_REST_FACTOR).min(WRITER_MAX_REST));
                }
            })?;
        self.jobs = Some(tx);
        Ok(())
    }
}

/// Compacts a [`FilePersist`]'s journal into its config file on demand.
pub struct Compactor(Arc<Mutex<ConfigFile>>);

impl Compactor {
    /// Rewrites the config file with the newest saved state if the journal holds any of it,
    /// and removes the journal (failures are logged).
    pub fn compact(&self) {
        let _ = lock(&self.0).compact();
    }
}

/// After each background save the writer rests this many times the CPU time the save took,
/// so it uses at most a quarter of a core however busy the sentinel is.
const WRITER_REST_FACTOR: u32 = 3;
/// The longest rest after a background save (a save of a large fleet, or a slow disk).
const WRITER_MAX_REST: Duration = Duration::from_millis(50);
/// How long background saves must pause before the journal is compacted into the file.
const COMPACT_AFTER: Duration = Duration::from_millis(500);
/// A journal this large is compacted at the next save (a few hundred records of a large
/// fleet's busiest masters).
const MAX_JOURNAL_LEN: u64 = 4 << 20;

fn lock(file: &Mutex<ConfigFile>) -> std::sync::MutexGuard<'_, ConfigFile> {
    // A panic while writing leaves nothing inconsistent in memory (the file is replaced
    // atomically or not at all).
    file.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ConfigFile {
    /// Write generation `generation` unless a newer one is already on disk, as a journal
    /// record when `append` allows it and a record holds the changes, else by a rewrite; logs
    /// the outcome as Redis does.
    fn save(&mut self, generation: u64, state: SentinelConfig, append: bool) -> Result<(), String> {
        if generation <= self.written {
            return Ok(());
        }
        let started = std::time::Instant::now();
        // A synchronous save (an operator's command) always rewrites: no diff to compute.
        let record = if append { self.record(&state) } else { None };
        let result = match record {
            Some(body) => match self.append(&body) {
                Ok(()) => Ok(()),
                Err(e) => {
                    tracing::warn!(
                        "Can't append to the config journal, rewriting the config instead: {}",
                        strerror(&e)
                    );
                    self.rewrite(&state)
                }
            },
            None => self.rewrite(&state),
        };
        self.state = Some(state);
        if let Some(observer) = &self.observer {
            observer(started.elapsed());
        }
        match result {
            Ok(()) => {
                self.written = generation;
                tracing::info!("Sentinel new configuration saved on disk");
                Ok(())
            }
            Err(e) => {
                let reason = strerror(&e);
                tracing::warn!("WARNING: Sentinel was not able to save the new configuration on disk!!!: {reason}");
                Err(reason)
            }
        }
    }

    /// The journal record of the changes from the saved state to `state`, if one can hold
    /// them: the file must be as the last rewrite left it (a hand edit is merged by a rewrite)
    /// and the journal not too long.
    fn record(&self, state: &SentinelConfig) -> Option<String> {
        let (_, identity) = self.last.as_ref()?;
        if self.journal.len() >= MAX_JOURNAL_LEN
            || FileIdentity::of(&self.path).as_ref() != Some(identity)
        {
            return None;
        }
        journal::changes(self.state.as_ref()?, state)
    }

    fn append(&mut self, body: &str) -> io::Result<()> {
        let base = self.last.as_ref().map_or("", |(text, _)| text.as_str());
        self.journal.append(base, body)
    }

    /// A rewrite of the file with `state`, then the journal (now in the file) removed.
    fn rewrite(&mut self, state: &SentinelConfig) -> io::Result<()> {
        self.write(state)?;
        if let Err(e) = self.journal.remove() {
            // Harmless once the file is rewritten: a journal over another base adds no epoch
            // the file does not have.
            tracing::warn!("Can't remove the config journal: {}", strerror(&e));
        }
        Ok(())
    }

    /// Rewrites the file with the saved state if the journal holds any of it.
    fn compact(&mut self) -> Result<(), String> {
        let Some(state) = self.state.take() else {
            return Ok(());
        };
        let result = if self.journal.len() > 0 || self.last.is_none() {
            self.rewrite(&state).map_err(|e| {
                let reason = strerror(&e);
                tracing::warn!("WARNING: Sentinel was not able to save the new configuration on disk!!!: {reason}");
                reason
            })
        } else {
            Ok(())
        };
        self.state = Some(state);
        result
    }

    /// The file's current text: what the last save wrote while nobody changed it since, else
    /// read from disk (hand edits survive, as with Redis).
    fn current_text(&self) -> io::Result<String> {
        if let Some((text, identity)) = &self.last {
            if FileIdentity::of(&self.path).as_ref() == Some(identity) {
                return Ok(text.clone());
            }
        }
        match fs::read(&self.path) {
            Ok(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(e),
        }
    }

    /// One rewrite of the file: the new text is written to a temporary file and fsynced, renamed
    /// over the config, and the directory fsynced, so a crash leaves the old file or the new
    /// one. (Redis 7.0.15 then also re-opens and fsyncs the final file; that adds a journal
    /// commit and no durability, and is left out: saves are on the path of every vote.)
    fn write(&mut self, state: &SentinelConfig) -> io::Result<()> {
        let old = self.current_text()?;
        let content = config::rewrite(&old, &self.server, state);

        let (tmp_path, mut tmp) = self.create_temp()?;
        let result = (|| {
            tmp.write_all(content.as_bytes())?;
            tmp.sync_all()?;
            fs::rename(&tmp_path, &self.path)?;
            if let Some(dir) = self.path.parent() {
                File::open(dir)?.sync_all()?;
            }
            Ok(())
        })();
        match &result {
            Ok(()) => self.last = FileIdentity::of(&self.path).map(|id| (content, id)),
            Err(_) => {
                self.last = None;
                let _ = fs::remove_file(&tmp_path);
            }
        }
        result
    }

    /// `mkostemp("<config>.XXXXXX", O_CLOEXEC)` (std opens files close-on-exec).
    fn create_temp(&self) -> io::Result<(PathBuf, File)> {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut last = io::Error::from_raw_os_error(libc::EEXIST);
        for _ in 0..100 {
            let suffix: String = (0..6)
                .map(|_| CHARS[rand::random::<usize>() % CHARS.len()] as char)
                .collect();
            let mut name = self.path.clone().into_os_string();
            name.push(format!(".{suffix}"));
            let tmp = PathBuf::from(name);
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .open(&tmp)
            {
                Ok(f) => return Ok((tmp, f)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }
}

impl Persist for FilePersist {
    fn save(
        &mut self,
        generation: u64,
        state: SentinelConfig,
        wait: bool,
    ) -> Result<Saved, String> {
        let state = if wait {
            state
        } else {
            match &self.jobs {
                Some(jobs) => match jobs.send((generation, state)) {
                    Ok(()) => return Ok(Saved::Pending),
                    // The writer thread is gone: write it here.
                    Err(mpsc::SendError((_, state))) => state,
                },
                None => state,
            }
        };
        lock(&self.file)
            .save(generation, state, false)
            .map(|()| Saved::Durable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TempDir;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;

    /// The config `CONF` loaded from `dir`, its persister writing in the background, and the
    /// generations it reports.
    fn loaded_in_background(dir: &TempDir) -> (PathBuf, Loaded, mpsc::Receiver<u64>) {
        let path = dir.file("sentinel.conf", CONF);
        let mut loaded = load(Some(&path), "").unwrap();
        let (tx, rx) = mpsc::channel();
        loaded
            .persist
            .write_in_background(move |generation| tx.send(generation).unwrap())
            .unwrap();
        (path, loaded, rx)
    }

    const CONF: &str = "# keep me\nsentinel monitor m 127.0.0.1 6379 2\nsentinel myid 0123456789012345678901234567890123456789\n";

    #[test]
    fn refusals_use_redis_words() {
        assert_eq!(
            load(None, "").err().unwrap().to_string(),
            "Sentinel needs config file on disk to save state. Exiting..."
        );
        let dir = TempDir::new("refuse");
        let missing = dir.0.join("missing.conf");
        assert_eq!(
            load(Some(&missing), "").err().unwrap().to_string(),
            format!(
                "Fatal error, can't open config file '{}': No such file or directory",
                missing.display()
            )
        );
        let bad = dir.file("bad.conf", "# c\nsentinel monitor m 127.0.0.1 6379 0\n");
        match load(Some(&bad), "") {
            Err(LoadError::Invalid(e)) => assert_eq!(
                (e.line, e.reason.as_str()),
                (2, "Quorum must be 1 or greater.")
            ),
            other => panic!("{:?}", other.err()),
        }
        // Command-line options are loaded after the file.
        let good = dir.file("good.conf", CONF);
        let loaded = load(Some(&good), "port \"26390\" ").unwrap();
        assert_eq!(loaded.parsed.server.port, 26390);
        assert_eq!(loaded.path, good);
    }

    #[test]
    fn relative_path_is_made_absolute() {
        let p = absolute(Path::new("sentinel_0/sentinel.conf")).unwrap();
        assert!(p.is_absolute() && p.ends_with("sentinel_0/sentinel.conf"));
    }

    #[test]
    fn save_rewrites_atomically_and_keeps_comments() {
        let dir = TempDir::new("save");
        let path = dir.file("sentinel.conf", CONF);
        let mut loaded = load(Some(&path), "").unwrap();
        let mut state = loaded.parsed.sentinel.clone();
        state.current_epoch = 5;
        state.masters[0]
            .known_replicas
            .push(("127.0.0.1".into(), 6380));
        loaded.persist.save(1, state.clone(), true).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# keep me\nsentinel monitor m 127.0.0.1 6379 2\nsentinel myid 0123"),
            "{text}"
        );
        assert!(
            text.contains("\nsentinel known-replica m 127.0.0.1 6380\n")
                && text.contains("\nsentinel current-epoch 5\n")
        );
        let cwd = fs::canonicalize(".").unwrap();
        assert!(text.contains(&format!("\ndir \"{}\"\n", cwd.display())));
        // No temporary file is left behind, and the result loads back to the same state.
        let names: Vec<_> = fs::read_dir(&dir.0)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("sentinel.conf")]);
        assert_eq!(load(Some(&path), "").unwrap().parsed.sentinel, state);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o644, 0, "mode {mode:o} within 0644");
        // A hand edit between saves survives the next save.
        fs::write(&path, format!("# hand edit\n{text}")).unwrap();
        loaded.persist.save(2, state.clone(), true).unwrap();
        assert!(fs::read_to_string(&path)
            .unwrap()
            .starts_with("# hand edit\n# keep me\n"));
    }

    #[test]
    fn dir_is_written_as_the_physical_path() {
        let dir = TempDir::new("dir");
        let real = dir.0.join("real");
        fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, dir.0.join("link")).unwrap();
        let path = dir.file("s.conf", &format!("dir {}/link\n{CONF}", dir.0.display()));
        let mut loaded = load(Some(&path), "").unwrap();
        loaded
            .persist
            .save(1, loaded.parsed.sentinel.clone(), true)
            .unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let real = fs::canonicalize(&real).unwrap();
        assert!(
            text.starts_with(&format!("dir \"{}\"\n", real.display())),
            "{text}"
        );
    }

    #[test]
    fn directory_as_path_fails_cleanly() {
        let dir = TempDir::new("isdir");
        let path = dir.file("sentinel.conf", CONF);
        let mut loaded = load(Some(&path), "").unwrap();
        // What upstream test 03 does: replace the config file by a directory.
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        let err = loaded
            .persist
            .save(1, loaded.parsed.sentinel.clone(), true)
            .unwrap_err();
        assert_eq!(err, "Is a directory");
        assert!(path.is_dir());
        let names: Vec<_> = fs::read_dir(&dir.0)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }

    #[test]
    fn missing_directory_fails_cleanly() {
        let dir = TempDir::new("gone");
        let path = dir.file("sentinel.conf", CONF);
        let mut loaded = load(Some(&path), "").unwrap();
        fs::remove_dir_all(&dir.0).unwrap();
        assert_eq!(
            loaded
                .persist
                .save(1, loaded.parsed.sentinel.clone(), true)
                .unwrap_err(),
            "No such file or directory"
        );
    }

    #[test]
    fn background_saves_report_their_generation_and_never_go_back() {
        let dir = TempDir::new("background");
        let (path, mut loaded, rx) = loaded_in_background(&dir);
        let mut state = loaded.parsed.sentinel.clone();
        state.current_epoch = 7;
        let saved = loaded.persist.save(1, state.clone(), false).unwrap();
        assert_eq!(saved, Saved::Pending);
        assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(10)), Ok(1));
        assert!(fs::read_to_string(&path)
            .unwrap()
            .contains("\nsentinel current-epoch 7\n"));
        // A synchronous save of a newer generation wins over an older one written later.
        state.current_epoch = 9;
        let saved = loaded.persist.save(3, state.clone(), true).unwrap();
        assert_eq!(saved, Saved::Durable);
        state.current_epoch = 8;
        loaded.persist.save(2, state.clone(), false).unwrap();
        assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(10)), Ok(2));
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("\nsentinel current-epoch 9\n"), "{text}");
    }

    /// Environment variable that makes [`not_writable_child`] do its work.
    const CHILD_VAR: &str = "WARDEN_CONFFILE_NOT_WRITABLE";

    /// A background save after the first goes to the journal; a crash (no compaction) loses
    /// none of it: the next start replays it, rewrites the file and removes the journal.
    #[test]
    fn journaled_saves_survive_a_crash() {
        let dir = TempDir::new("journal");
        let path = dir.file("sentinel.conf", CONF);
        let loaded = load(Some(&path), "").unwrap();
        let mut state = loaded.parsed.sentinel.clone();
        let mut file = lock(&loaded.persist.file);
        state.current_epoch = 7;
        file.save(1, state.clone(), true).unwrap();
        assert!(
            !journal::path_for(&path).exists(),
            "the first save rewrites"
        );
        state.current_epoch = 8;
        state.masters[0].leader_epoch = 8;
        file.save(2, state.clone(), true).unwrap();
        state.masters[0]
            .known_replicas
            .push(("127.0.0.1".into(), 6390));
        file.save(3, state.clone(), true).unwrap();
        assert!(journal::path_for(&path).exists());
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("\nsentinel current-epoch 7\n"), "{text}");
        drop(file);
        let again = load(Some(&path), "").unwrap();
        assert_eq!(again.parsed.sentinel, state);
        assert!(again.parsed.warnings[0].starts_with("Replayed 2 record(s)"));
        assert!(!journal::path_for(&path).exists(), "compacted at start-up");
        assert_eq!(load(Some(&path), "").unwrap().parsed.sentinel, state);
    }

    /// `read` (what `warden doctor` uses) sees the journal's records but writes nothing: the
    /// file and the journal stay as the running sentinel left them.
    #[test]
    fn reading_replays_the_journal_in_memory_only() {
        let dir = TempDir::new("journal");
        let path = dir.file("sentinel.conf", CONF);
        let loaded = load(Some(&path), "").unwrap();
        let mut state = loaded.parsed.sentinel.clone();
        let mut file = lock(&loaded.persist.file);
        for (generation, epoch) in [(1, 7), (2, 8)] {
            state.current_epoch = epoch;
            file.save(generation, state.clone(), true).unwrap();
        }
        drop(file);
        let journal = journal::path_for(&path);
        let before = (fs::read(&path).unwrap(), fs::read(&journal).unwrap());
        let read = read(Some(&path), "").unwrap();
        assert_eq!(read.parsed.sentinel, state);
        assert!(read.replayed.is_some());
        assert_eq!(
            (fs::read(&path).unwrap(), fs::read(&journal).unwrap()),
            before
        );
    }

    /// A record loads as the file does: a script path relative to `dir` is found there (the
    /// upstream suite's `notification-script ../../tests/helpers/...`).
    #[test]
    fn journaled_relative_scripts_are_found_in_dir() {
        let dir = TempDir::new("journal-dir");
        let script = dir.file("notify.sh", "#!/bin/sh\n");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        let conf = format!(
            "dir {}\nsentinel monitor m 127.0.0.1 6379 2\nsentinel notification-script m notify.sh\n\
             sentinel myid 0123456789012345678901234567890123456789\n",
            dir.0.display()
        );
        let path = dir.file("sentinel.conf", &conf);
        let loaded = load(Some(&path), "").unwrap();
        let mut state = loaded.parsed.sentinel.clone();
        let mut file = lock(&loaded.persist.file);
        file.save(1, state.clone(), true).unwrap();
        state.masters[0].leader_epoch = 3;
        file.save(2, state.clone(), true).unwrap();
        assert!(journal::path_for(&path).exists());
        drop(file);
        let again = load(Some(&path), "").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.parsed.sentinel, state);
    }

    /// Once background saves pause the writer compacts the journal into the file.
    #[test]
    fn a_pause_compacts_the_journal() {
        let dir = TempDir::new("compact");
        let (path, mut loaded, rx) = loaded_in_background(&dir);
        let mut state = loaded.parsed.sentinel.clone();
        for generation in 1..=3 {
            state.current_epoch = generation;
            loaded
                .persist
                .save(generation, state.clone(), false)
                .unwrap();
            assert_eq!(
                rx.recv_timeout(std::time::Duration::from_secs(10)),
                Ok(generation)
            );
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while journal::path_for(&path).exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(!journal::path_for(&path).exists());
        assert_eq!(load(Some(&path), "").unwrap().parsed.sentinel, state);
    }

    /// A change a record cannot hold (an operator's, a global option) and a hand edit of the
    /// file both go through a rewrite, which also ends the journal.
    #[test]
    fn rewrites_end_the_journal() {
        let dir = TempDir::new("rewrite");
        let path = dir.file("sentinel.conf", CONF);
        let loaded = load(Some(&path), "").unwrap();
        let mut state = loaded.parsed.sentinel.clone();
        let mut file = lock(&loaded.persist.file);
        file.save(1, state.clone(), true).unwrap();
        state.current_epoch = 2;
        file.save(2, state.clone(), true).unwrap();
        assert!(journal::path_for(&path).exists());
        state.announce_port = 26400;
        file.save(3, state.clone(), true).unwrap();
        assert!(!journal::path_for(&path).exists());
        state.current_epoch = 4;
        file.save(4, state.clone(), true).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, format!("# hand edit\n{text}")).unwrap();
        state.current_epoch = 5;
        file.save(5, state.clone(), true).unwrap();
        assert!(!journal::path_for(&path).exists());
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# hand edit\n") && text.contains("current-epoch 5\n"));
    }

    fn check_not_writable(path: &Path) {
        match load(Some(path), "") {
            Err(e @ LoadError::NotWritable { .. }) => assert_eq!(
                e.to_string(),
                format!(
                    "Sentinel config file {} is not writable: Permission denied. Exiting...",
                    path.display()
                )
            ),
            other => panic!("expected NotWritable, got {:?}", other.err()),
        }
    }

    /// Runs the check inside the child that [`read_only_file_is_refused`] starts unprivileged.
    #[test]
    fn not_writable_child() {
        if let Ok(path) = std::env::var(CHILD_VAR) {
            check_not_writable(Path::new(&path));
        }
    }

    #[test]
    fn read_only_file_is_refused() {
        let dir = TempDir::new("ro");
        let path = dir.file("sentinel.conf", CONF);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
        if !crate::sys::is_root() {
            check_not_writable(&path);
            return;
        }
        // Root may write anything: re-run the check as `nobody` in a child test process.
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "conffile::tests::not_writable_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_VAR, &path)
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
