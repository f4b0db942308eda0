//! The config journal: the background saves of a busy time appended to `<config>.journal`
//! rather than each rewriting the whole config file.
//!
//! Redis Sentinel rewrites and fsyncs `sentinel.conf` at every vote and epoch. With hundreds of
//! masters that is a 100+ KB file rendered, written and synced per save, and a mass failover
//! has a few such saves on the path of every shard (the candidate's epoch, each voter's vote,
//! the leader's switch, each peer's switch). Warden's background saves (see the core's group
//! commit) append instead what changed since the previous save: the current epoch and the
//! lines of each master that changed, in `sentinel.conf`'s own syntax
//! ([`config::master_text`]), as one record made durable with `fdatasync` before the save is
//! reported. The config file itself is rewritten — the journal compacted into it, then removed
//! — once saves pause, when the journal grows large, for every change a record cannot hold
//! (operator commands, global options, masters added or removed), and at start-up after a
//! replay.
//!
//! The file: a header line `# Warden config journal, base <sha256 of the config file's text>`,
//! then records, each a line `record <body length> <first 16 hex of the body's sha256>` and the
//! body. At start-up the records are replayed over the loaded config up to the first incomplete
//! or damaged one (a save cut short by a crash, never reported durable). A journal whose base is
//! not the file's text (the file was rewritten or edited after it) is not replayed as such; it
//! only keeps what makes votes safe: no epoch goes back.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use warden_core::config::tokenize::repr;
use warden_core::config::{self, sha256_hex, ConfigEnv, MasterConfig, SentinelConfig};

/// The header's words before the base hash.
const HEADER: &str = "# Warden config journal, base ";

/// The journal beside config file `config`: `<config>.journal`.
pub fn path_for(config: &Path) -> PathBuf {
    let mut name = config.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// The journal file being appended to.
pub struct Journal {
    path: PathBuf,
    /// Open for appending once the first record of this journal is written.
    file: Option<File>,
    /// Bytes in the file.
    len: u64,
}

impl Journal {
    /// The (not yet created) journal of config file `config`.
    pub fn beside(config: &Path) -> Journal {
        Journal {
            path: path_for(config),
            file: None,
            len: 0,
        }
    }

    /// Bytes written since the journal was created (0: there is none).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Appends a record with `body` and syncs it. The first record creates the journal with
    /// the hash of `base`, the config file's text it extends (and syncs the directory, so the
    /// journal is found after a crash).
    pub fn append(&mut self, base: &str, body: &str) -> io::Result<()> {
        let record = format!(
            "record {} {}\n{body}",
            body.len(),
            &sha256_hex(body.as_bytes())[..16]
        );
        let result = match &mut self.file {
            Some(file) => file
                .write_all(record.as_bytes())
                .and_then(|()| file.sync_data()),
            None => self.create(base, &record),
        };
        match result {
            Ok(()) => {
                self.len += record.len() as u64;
                Ok(())
            }
            Err(e) => {
                // What was written may be a torn record: the journal must not grow past it.
                self.file = None;
                Err(e)
            }
        }
    }

    fn create(&mut self, base: &str, record: &str) -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&self.path)?;
        let header = format!("{HEADER}{}\n", sha256_hex(base.as_bytes()));
        file.write_all(header.as_bytes())?;
        file.write_all(record.as_bytes())?;
        file.sync_all()?;
        sync_parent(&self.path)?;
        self.len = header.len() as u64;
        self.file = Some(file);
        Ok(())
    }

    /// Removes the journal (its records are in the config file now) and syncs the directory,
    /// so it cannot reappear after a crash.
    pub fn remove(&mut self) -> io::Result<()> {
        self.file = None;
        self.len = 0;
        match fs::remove_file(&self.path) {
            Ok(()) => sync_parent(&self.path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) => File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// What changed from `old` to `new` as a record body (the current epoch, then the lines of
/// each changed master), or `None` where a change is one a record cannot hold: a global
/// option, a master added, removed or reordered. The vote's run id is not persisted (as in
/// Redis) and is not compared.
pub fn changes(old: &SentinelConfig, new: &SentinelConfig) -> Option<String> {
    if old.masters.len() != new.masters.len() || !same_globals(old, new) {
        return None;
    }
    let mut body = format!("sentinel current-epoch {}\n", new.current_epoch);
    for (a, b) in old.masters.iter().zip(&new.masters) {
        if a.name != b.name {
            return None;
        }
        if !same_persisted(a, b) {
            body.push_str(&config::master_text(b));
        }
    }
    Some(body)
}

/// Whether the two configurations agree on everything but the masters and the current epoch.
fn same_globals(a: &SentinelConfig, b: &SentinelConfig) -> bool {
    // Spelled out so that a field added to the config must be placed here or in a record.
    let SentinelConfig {
        myid,
        current_epoch: _,
        announce_ip,
        announce_port,
        deny_scripts_reconfig,
        sentinel_user,
        sentinel_pass,
        resolve_hostnames,
        announce_hostnames,
        loglevel,
        masters: _,
    } = a;
    *myid == b.myid
        && *announce_ip == b.announce_ip
        && *announce_port == b.announce_port
        && *deny_scripts_reconfig == b.deny_scripts_reconfig
        && *sentinel_user == b.sentinel_user
        && *sentinel_pass == b.sentinel_pass
        && *resolve_hostnames == b.resolve_hostnames
        && *announce_hostnames == b.announce_hostnames
        && *loglevel == b.loglevel
}

/// Whether the two agree on everything the config file holds of a master.
fn same_persisted(a: &MasterConfig, b: &MasterConfig) -> bool {
    // Spelled out like `same_globals`; the vote's run id is all that is left out.
    let MasterConfig {
        name,
        host,
        port,
        quorum,
        down_after_ms,
        failover_timeout_ms,
        parallel_syncs,
        notification_script,
        client_reconfig_script,
        auth_pass,
        auth_user,
        master_reboot_down_after_period_ms,
        renamed_commands,
        config_epoch,
        leader_epoch,
        leader: _,
        known_replicas,
        known_sentinels,
        vip,
    } = a;
    *name == b.name
        && *host == b.host
        && *port == b.port
        && *quorum == b.quorum
        && *down_after_ms == b.down_after_ms
        && *failover_timeout_ms == b.failover_timeout_ms
        && *parallel_syncs == b.parallel_syncs
        && *notification_script == b.notification_script
        && *client_reconfig_script == b.client_reconfig_script
        && *auth_pass == b.auth_pass
        && *auth_user == b.auth_user
        && *master_reboot_down_after_period_ms == b.master_reboot_down_after_period_ms
        && *renamed_commands == b.renamed_commands
        && *config_epoch == b.config_epoch
        && *leader_epoch == b.leader_epoch
        && *known_replicas == b.known_replicas
        && *known_sentinels == b.known_sentinels
        && *vip == b.vip
}

/// What a replay did.
#[derive(Debug, PartialEq, Eq)]
pub struct Replayed {
    /// Records applied.
    pub records: usize,
    /// Whether the journal extends the config file's text (else only epochs were taken).
    pub base_matches: bool,
    /// Whether it ended in an incomplete or damaged record (ignored: never reported durable).
    pub torn: bool,
}

impl Replayed {
    /// A line for the log.
    pub fn describe(&self, path: &Path) -> String {
        let what = if self.base_matches {
            "changes"
        } else {
            "epochs (the config file was rewritten or edited after it)"
        };
        let torn = if self.torn {
            "; an incomplete last record was left out"
        } else {
            ""
        };
        format!(
            "Replayed {} record(s) of the config journal {}: {what}{torn}",
            self.records,
            path.display()
        )
    }
}

/// Replays the journal of `config` (whose text is `text`, loaded into `cfg` with working
/// directory `dir`) over `cfg`; `Ok(None)` when there is none. Records load as the file did:
/// relative script paths are checked against `dir`. A record that is intact but does not load
/// is an error (`<journal>: record N: ...`).
pub fn replay(
    config: &Path,
    text: &str,
    dir: Option<&str>,
    cfg: &mut SentinelConfig,
    env: &dyn ConfigEnv,
) -> Result<Option<Replayed>, String> {
    let path = path_for(config);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let (base, records, torn) = split(&bytes);
    let Some(base) = base else {
        // Not even a whole header: the crash came while it was being created.
        return Ok(Some(Replayed {
            records: 0,
            base_matches: true,
            torn: true,
        }));
    };
    let base_matches = base == sha256_hex(text.as_bytes());
    let dir_line = dir.map_or(String::new(), |dir| format!("dir {}\n", repr(dir)));
    for (n, body) in records.iter().enumerate() {
        let fragment = config::parse(&format!("{dir_line}{body}"), env)
            .map_err(|e| format!("{}: record {}: {e}", path.display(), n + 1))?;
        apply(cfg, fragment.sentinel, base_matches);
    }
    Ok(Some(Replayed {
        records: records.len(),
        base_matches,
        torn,
    }))
}

/// The header's base hash and the intact record bodies of a journal, and whether anything
/// followed them.
fn split(bytes: &[u8]) -> (Option<&str>, Vec<&str>, bool) {
    let Some(end) = bytes.iter().position(|&b| b == b'\n') else {
        return (None, Vec::new(), true);
    };
    let base = std::str::from_utf8(&bytes[..end])
        .ok()
        .and_then(|line| line.strip_prefix(HEADER));
    let Some(base) = base else {
        return (None, Vec::new(), true);
    };
    let mut rest = &bytes[end + 1..];
    let mut records = Vec::new();
    while !rest.is_empty() {
        match record(rest) {
            Some((body, len)) => {
                records.push(body);
                rest = &rest[len..];
            }
            None => return (Some(base), records, true),
        }
    }
    (Some(base), records, false)
}

/// The body of the intact record `bytes` begins with, and the record's length.
fn record(bytes: &[u8]) -> Option<(&str, usize)> {
    let end = bytes.iter().position(|&b| b == b'\n')?;
    let header = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut words = header.split(' ');
    let (Some("record"), Some(len), Some(hash), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return None;
    };
    let len: usize = len.parse().ok()?;
    let body = bytes.get(end + 1..end + 1 + len)?;
    if sha256_hex(body).get(..16)? != hash {
        return None;
    }
    Some((std::str::from_utf8(body).ok()?, end + 1 + len))
}

/// Applies one record: with the base matching, its epoch and masters replace the loaded ones;
/// otherwise only epochs that are ahead of the loaded ones are taken (a master's address goes
/// with its config epoch, as in a hello).
fn apply(cfg: &mut SentinelConfig, fragment: SentinelConfig, base_matches: bool) {
    if base_matches {
        cfg.current_epoch = fragment.current_epoch;
    } else {
        cfg.current_epoch = cfg.current_epoch.max(fragment.current_epoch);
    }
    for m in fragment.masters {
        let Some(loaded) = cfg.masters.iter_mut().find(|l| l.name == m.name) else {
            continue;
        };
        if base_matches {
            *loaded = m;
            continue;
        }
        loaded.leader_epoch = loaded.leader_epoch.max(m.leader_epoch);
        if m.config_epoch > loaded.config_epoch {
            loaded.config_epoch = m.config_epoch;
            loaded.host = m.host;
            loaded.port = m.port;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{AnyEnv as Env, TempDir};

    fn fleet(n: usize) -> SentinelConfig {
        let mut c = SentinelConfig::new();
        c.myid = Some("f".repeat(40));
        for i in 0..n {
            let mut m = MasterConfig::new(&format!("m{i}"), "127.0.0.1", 7000 + i as u16, 2);
            m.known_replicas.push(("127.0.0.1".into(), 8000 + i as u16));
            c.masters.push(m);
        }
        c
    }

    /// A vote, a failover's switch and a discovery, each a record, over a file with `base`.
    fn busy(base: &SentinelConfig) -> Vec<SentinelConfig> {
        let mut states = vec![base.clone()];
        let mut s = base.clone();
        s.current_epoch = 5;
        s.masters[1].leader_epoch = 5;
        s.masters[1].leader = Some("a".repeat(40));
        states.push(s.clone());
        s.masters[2].config_epoch = 5;
        s.masters[2].port = 8002;
        s.masters[2].known_replicas = vec![("127.0.0.1".into(), 7002)];
        states.push(s.clone());
        s.masters[0]
            .known_sentinels
            .push(("127.0.0.1".into(), 26380, "b".repeat(40)));
        states.push(s);
        states
    }

    fn without_leaders(mut c: SentinelConfig) -> SentinelConfig {
        for m in &mut c.masters {
            m.leader = None;
        }
        c
    }

    /// Journals `states` (the first is the config file's), returning the file's text.
    fn journal(dir: &TempDir, states: &[SentinelConfig]) -> (PathBuf, String) {
        let config_path = dir.0.join("sentinel.conf");
        let text = "sentinel myid ffff\n".to_string();
        fs::write(&config_path, &text).unwrap();
        let mut j = Journal::beside(&config_path);
        for pair in states.windows(2) {
            let body = changes(&pair[0], &pair[1]).expect("a record holds it");
            j.append(&text, &body).unwrap();
        }
        (config_path, text)
    }

    #[test]
    fn a_replay_restores_every_journaled_change() {
        let dir = TempDir::new("replay");
        let base = fleet(4);
        let states = busy(&base);
        let (path, text) = journal(&dir, &states);
        let mut loaded = base.clone();
        let replayed = replay(&path, &text, None, &mut loaded, &Env)
            .unwrap()
            .unwrap();
        assert_eq!(
            replayed,
            Replayed {
                records: 3,
                base_matches: true,
                torn: false
            }
        );
        assert_eq!(loaded, without_leaders(states[3].clone()));
    }

    #[test]
    fn only_changed_masters_are_recorded_and_the_run_id_is_not() {
        let base = fleet(3);
        let mut voted = base.clone();
        voted.masters[1].leader = Some("a".repeat(40));
        assert_eq!(
            changes(&base, &voted).unwrap(),
            "sentinel current-epoch 0\n"
        );
        voted.masters[1].leader_epoch = 1;
        let body = changes(&base, &voted).unwrap();
        assert!(body.contains("sentinel leader-epoch m1 1"), "{body}");
        assert!(!body.contains(" m0 ") && !body.contains(" m2 "), "{body}");
    }

    #[test]
    fn changes_a_record_cannot_hold_ask_for_a_rewrite() {
        let base = fleet(3);
        let mut removed = base.clone();
        removed.masters.pop();
        assert_eq!(changes(&base, &removed), None);
        let mut swapped = base.clone();
        swapped.masters.swap(0, 1);
        assert_eq!(changes(&base, &swapped), None);
        let mut announced = base.clone();
        announced.announce_port = 26400;
        assert_eq!(changes(&base, &announced), None);
    }

    #[test]
    fn a_torn_last_record_is_left_out() {
        let dir = TempDir::new("torn");
        let base = fleet(4);
        let states = busy(&base);
        let (path, text) = journal(&dir, &states);
        let full = fs::read(path_for(&path)).unwrap();
        // Every cut inside the last record keeps the first two; a flipped byte in it too.
        let last = full.len() - changes(&states[2], &states[3]).unwrap().len() - 30;
        for cut in (last..full.len() - 1).step_by(7) {
            fs::write(path_for(&path), &full[..cut]).unwrap();
            let mut loaded = base.clone();
            let replayed = replay(&path, &text, None, &mut loaded, &Env)
                .unwrap()
                .unwrap();
            assert!(replayed.records <= 2 && replayed.torn, "cut at {cut}");
        }
        let mut flipped = full.clone();
        *flipped.last_mut().unwrap() ^= 0x20;
        fs::write(path_for(&path), &flipped).unwrap();
        let mut loaded = base.clone();
        let replayed = replay(&path, &text, None, &mut loaded, &Env)
            .unwrap()
            .unwrap();
        assert_eq!((replayed.records, replayed.torn), (2, true));
        assert_eq!(loaded, without_leaders(states[2].clone()));
    }

    #[test]
    fn over_another_base_only_newer_epochs_are_taken() {
        let dir = TempDir::new("base");
        let base = fleet(4);
        let states = busy(&base);
        let (path, _) = journal(&dir, &states);
        // The file was edited since: the master m1 voted at epoch 9 there, m3 is elsewhere.
        let mut loaded = base.clone();
        loaded.masters[1].leader_epoch = 9;
        loaded.masters[3].port = 9999;
        let edited = "sentinel myid ffff\n# edited\n";
        let replayed = replay(&path, edited, None, &mut loaded, &Env)
            .unwrap()
            .unwrap();
        assert!(!replayed.base_matches);
        assert_eq!(loaded.current_epoch, 5);
        assert_eq!(loaded.masters[1].leader_epoch, 9, "never back");
        assert_eq!(
            (loaded.masters[2].config_epoch, loaded.masters[2].port),
            (5, 8002),
            "the switch, with its config epoch"
        );
        assert_eq!(loaded.masters[0].known_sentinels, vec![]);
        assert_eq!(loaded.masters[3].port, 9999);
    }

    #[test]
    fn no_journal_no_replay_and_removal_is_idempotent() {
        let dir = TempDir::new("none");
        let path = dir.0.join("sentinel.conf");
        let mut c = fleet(1);
        assert_eq!(replay(&path, "", None, &mut c, &Env), Ok(None));
        let mut j = Journal::beside(&path);
        j.remove().unwrap();
        j.append("", "sentinel current-epoch 1\n").unwrap();
        assert!(j.len() > 0 && path_for(&path).exists());
        j.remove().unwrap();
        assert!(!path_for(&path).exists() && j.len() == 0);
    }

    #[test]
    fn garbage_is_a_torn_journal_not_a_panic() {
        let dir = TempDir::new("garbage");
        let path = dir.0.join("sentinel.conf");
        for garbage in [
            &b""[..],
            b"# Warden config journal, base",
            b"\xff\xfe\n",
            b"# Warden config journal, base x\nrecord 99999999999999999999999 0\n",
            b"# Warden config journal, base x\nrecord 5 0000000000000000\nab",
            b"# Warden config journal, base x\nrecord -1 z\n\n\n",
        ] {
            fs::write(path_for(&path), garbage).unwrap();
            let mut c = fleet(1);
            let replayed = replay(&path, "", None, &mut c, &Env).unwrap().unwrap();
            assert_eq!(replayed.records, 0, "{garbage:?}");
            assert_eq!(c, fleet(1));
        }
    }
}

/// Property tests (issue 17); proptest's default 256 cases each.
#[cfg(test)]
mod properties {
    use super::*;
    use crate::testkit::{AnyEnv as Env, TempDir};
    use proptest::prelude::*;

    fn base() -> SentinelConfig {
        let mut c = SentinelConfig::new();
        for i in 0..3 {
            c.masters.push(MasterConfig::new(
                &format!("m{i}"),
                "10.0.0.1",
                7000 + i as u16,
                2,
            ));
        }
        c
    }

    /// Saves of a busy time: each raises the epoch and changes one master's vote, config epoch
    /// or known replicas.
    fn saves() -> impl Strategy<Value = Vec<SentinelConfig>> {
        prop::collection::vec((0usize..3, 0u8..3, 1u16..), 1..8).prop_map(|steps| {
            let mut state = base();
            let mut states = vec![state.clone()];
            for (mi, what, port) in steps {
                state.current_epoch += 1;
                let m = &mut state.masters[mi];
                match what {
                    0 => m.leader_epoch = state.current_epoch,
                    1 => {
                        m.config_epoch = state.current_epoch;
                        m.port = port;
                    }
                    _ => m.known_replicas.push(("10.0.0.9".into(), port)),
                }
                states.push(state.clone());
            }
            states
        })
    }

    proptest! {
        /// A journal cut anywhere (a crash mid-write) replays to one of the states it recorded,
        /// at least every record that was complete before the cut, never a mixture.
        #[test]
        fn a_cut_journal_replays_to_a_recorded_state(states in saves(), cut in any::<usize>()) {
            let dir = TempDir::new("journal-prop");
            let path = dir.file("sentinel.conf", "");
            let mut journal = Journal::beside(&path);
            let mut ends = Vec::new();
            for pair in states.windows(2) {
                journal.append("", &changes(&pair[0], &pair[1]).expect("a record")).unwrap();
                ends.push(journal.len() as usize);
            }
            let bytes = fs::read(path_for(&path)).unwrap();
            let cut = cut % (bytes.len() + 1);
            fs::write(path_for(&path), &bytes[..cut]).unwrap();
            let mut loaded = base();
            let replayed = replay(&path, "", None, &mut loaded, &Env).unwrap().unwrap();
            let complete = ends.iter().filter(|&&end| end <= cut).count();
            prop_assert_eq!(replayed.records, complete);
            let header = HEADER.len() + 64 + 1;
            prop_assert_eq!(replayed.torn, cut != header && !ends.contains(&cut));
            prop_assert_eq!(&loaded, &states[complete]);
        }

        /// Any bytes in the journal's place: no panic, and nothing but whole records is applied.
        #[test]
        fn any_journal_bytes_are_safe(garbage in prop::collection::vec(any::<u8>(), 0..300)) {
            let dir = TempDir::new("journal-garbage");
            let path = dir.file("sentinel.conf", "");
            let mut bytes = format!("{HEADER}{}\n", sha256_hex(b"")).into_bytes();
            bytes.extend_from_slice(&garbage);
            fs::write(path_for(&path), &bytes).unwrap();
            let mut loaded = base();
            let replayed = replay(&path, "", None, &mut loaded, &Env);
            if let Ok(Some(r)) = replayed {
                prop_assert!(r.records == 0 || r.base_matches);
            }
        }
    }
}
