//! Monitoring and failure detection (issue 4) with real `redis-server`s on loopback: discovery of
//! replicas and sentinels, `SENTINEL REPLICAS`/`SENTINELS` compared with the reference
//! `redis-sentinel`, subjective and objective down for masters, replicas and sentinels, and hostile
//! input from a monitored "Redis" that is a fake TCP server.
//!
//! Needs `redis-server` and `redis-sentinel` on PATH and the release binary (`target/release/warden`
//! or `$WARDEN_BIN`).

use std::time::{Duration, Instant};

use warden_integration::bed::MASTER_NAME;
use warden_integration::events::{dump, from, Event, EventLog};
use warden_integration::group::{ports, Group, Settings};
use warden_integration::resp::Value;
use warden_integration::servers::{Flavor, RedisServer, SentinelConf, SentinelServer};
use warden_integration::shape::{compare, Rules};
use warden_integration::wait::{wait_for, wait_until};

/// Longest wait for a down or up transition to be published (down-after is 1 s; a restarted
/// instance is reconnected within a ping period).
const TRANSITION_TIMEOUT: Duration = Duration::from_secs(20);

/// Three Wardens over a master and two replicas that can never be promoted (`replica-priority 0`):
/// an objectively down master stays the master (the failover aborts with no good replica), so the
/// way back up can be observed.
fn unpromotable_group() -> Group {
    let settings = Settings {
        replica_args: vec!["--replica-priority".into(), "0".into()],
        ..Settings::default()
    };
    let group = Group::start(&[Flavor::Warden; 3], &settings)
        .unwrap_or_else(|e| panic!("cannot start the group: {e}"));
    group
        .wait_discovered()
        .unwrap_or_else(|e| panic!("the Wardens did not discover the group: {e}"));
    group
}

fn subscribe(group: &Group) -> EventLog {
    EventLog::subscribe(&group.sentinel_ports())
        .unwrap_or_else(|e| panic!("cannot subscribe to the sentinels' events: {e}"))
}

/// `%@` of the master as events print it.
fn master_id(port: u16) -> String {
    format!("master {MASTER_NAME} 127.0.0.1 {port}")
}

/// Waits for `channel` with `prefix` at every sentinel in `sources`, panicking with the logs.
fn expect_all(log: &mut EventLog, group: &Group, sources: &[usize], channel: &str, prefix: &str) {
    if let Err(e) = log.wait_all(TRANSITION_TIMEOUT, sources, channel, prefix) {
        panic!("{e}\n{}", group.logs(20));
    }
}

/// The first `channel` event with `prefix` from `source`.
fn first<'a>(events: &'a [Event], source: usize, channel: &str, prefix: &str) -> &'a Event {
    from(events, source)
        .find(|e| e.is(channel, prefix))
        .unwrap_or_else(|| panic!("no {channel} {prefix} from #{source}:\n{}", dump(events)))
}

/// `n` and `q` of a `+odown` payload ending in `#quorum n/q`.
fn quorum_count(payload: &str) -> Option<(u32, u32)> {
    let (n, q) = payload.rsplit_once("#quorum ")?.1.split_once('/')?;
    Some((n.parse().ok()?, q.parse().ok()?))
}

#[test]
fn three_wardens_discover_every_replica_and_each_other() {
    let group = Group::start(&[Flavor::Warden; 3], &Settings::default())
        .unwrap_or_else(|e| panic!("cannot start the group: {e}"));
    // Every Warden lists both replicas (connected, INFO read) and both other Wardens (connected).
    group
        .wait_discovered()
        .unwrap_or_else(|e| panic!("the Wardens did not discover the group: {e}"));
    for sentinel in &group.sentinels {
        let master = sentinel.master(MASTER_NAME).unwrap();
        assert_eq!(master.field_text("num-slaves").as_deref(), Some("2"));
        assert_eq!(
            master.field_text("num-other-sentinels").as_deref(),
            Some("2")
        );
    }
}

/// Instance-map fields whose values are the same whichever sentinel reports the instance.
const STABLE_REPLICA_FIELDS: [&str; 10] = [
    "name",
    "ip",
    "port",
    "flags",
    "master-link-down-time",
    "role-reported",
    "master-host",
    "master-port",
    "master-link-status",
    "slave-priority",
];
const STABLE_SENTINEL_FIELDS: [&str; 7] = [
    "name",
    "ip",
    "port",
    "flags",
    "link-refcount",
    "voted-leader",
    "voted-leader-epoch",
];

/// `SENTINEL <what> mymaster` sorted by `name`.
fn sorted_list(sentinel: &SentinelServer, what: &str) -> Vec<Value> {
    let reply = sentinel
        .client()
        .and_then(|mut c| c.call(&["SENTINEL", what, MASTER_NAME]))
        .unwrap_or_else(|e| panic!("SENTINEL {what} at {}: {e}", sentinel.flavor));
    let Value::Array(mut items) = reply else {
        panic!("SENTINEL {what} at {}: {reply}", sentinel.flavor)
    };
    items.sort_by_key(|i| i.field_text("name"));
    items
}

/// Compares the lists of Warden `w` and of the reference for one kind of instance: field names and
/// order of every entry, and the stable values of the instances both list.
fn compare_lists(group: &Group, w: usize, reference: usize, what: &str, stable: &[&str]) {
    let (warden, redis) = (&group.sentinels[w], &group.sentinels[reference]);
    let (ours, theirs) = (sorted_list(warden, what), sorted_list(redis, what));
    assert_eq!(
        ours.len(),
        theirs.len(),
        "SENTINEL {what}: {ours:?} vs {theirs:?}"
    );
    for (a, b) in ours.iter().zip(&theirs) {
        let diffs = compare(b, a, Rules::FLAT_MAPS);
        assert!(
            diffs.is_empty(),
            "SENTINEL {what} entry shape: {diffs:?}\nwarden {a}\nredis {b}"
        );
    }
    for entry in &ours {
        let name = entry.field_text("name");
        // A sentinel does not list itself: compare the entries both list.
        let Some(same) = theirs.iter().find(|t| t.field_text("name") == name) else {
            continue;
        };
        for field in stable {
            assert_eq!(
                entry.field_text(field),
                same.field_text(field),
                "SENTINEL {what}: `{field}` of {name:?} differs (warden #{w} vs redis-sentinel)"
            );
        }
    }
}

#[test]
fn replicas_and_sentinels_lists_match_redis_sentinel() {
    // Three Wardens and the reference watch the same group: each lists the same two replicas and
    // the three sentinels other than itself.
    let flavors = [
        Flavor::Warden,
        Flavor::Warden,
        Flavor::Warden,
        Flavor::Redis,
    ];
    let group = Group::start(&flavors, &Settings::default())
        .unwrap_or_else(|e| panic!("cannot start the group: {e}"));
    group
        .wait_discovered()
        .unwrap_or_else(|e| panic!("the sentinels did not discover the group: {e}"));
    let replica_ports = {
        let mut p: Vec<u16> = group.replicas.iter().map(|r| r.port).collect();
        p.sort_unstable();
        p
    };
    for w in 0..3 {
        assert_eq!(
            ports(&sorted_list(&group.sentinels[w], "REPLICAS")),
            replica_ports
        );
        compare_lists(&group, w, 3, "REPLICAS", &STABLE_REPLICA_FIELDS);
        compare_lists(&group, w, 3, "SENTINELS", &STABLE_SENTINEL_FIELDS);
    }
}

/// Stops (SIGSTOP) or kills (SIGKILL) the master; every Warden publishes `+sdown` and then `+odown`
/// with `#quorum n/2`, n ≥ 2. Returns when it is done; the caller brings the master back.
fn master_goes_down(group: &mut Group, log: &mut EventLog, signal: i32) {
    let id = master_id(group.master.port);
    let stopped = Instant::now();
    group.master.process.signal(signal).unwrap();
    let all = group.all();
    expect_all(log, group, &all, "+sdown", &id);
    expect_all(log, group, &all, "+odown", &id);
    let events = log.events();
    for s in all {
        let sdown = first(events, s, "+sdown", &id);
        let odown = first(events, s, "+odown", &id);
        assert!(
            sdown.at <= odown.at,
            "#{s}: +odown before +sdown\n{}",
            dump(events)
        );
        // Down means no reply for longer than down-after. A stopped master: counted from the
        // first unanswered PING, sent at most a moment before the stop. A killed one: Warden
        // counts from its last reply (up to a ping period before the kill, more on a busy
        // host), but never from earlier than half of down-after before its connection broke.
        let floor = if signal == libc::SIGKILL { 500 } else { 900 };
        let after = sdown.at.duration_since(stopped);
        assert!(
            after >= Duration::from_millis(floor),
            "#{s}: +sdown {after:?} after the stop"
        );
        let (n, q) = quorum_count(&odown.payload)
            .unwrap_or_else(|| panic!("#{s}: malformed +odown payload {:?}", odown.payload));
        assert!(q == 2 && (2..=3).contains(&n), "#{s}: {}", odown.payload);
    }
}

#[test]
fn a_stopped_master_is_sdown_then_odown_and_recovers_when_resumed() {
    let mut group = unpromotable_group();
    let mut log = subscribe(&group);
    master_goes_down(&mut group, &mut log, libc::SIGSTOP);
    group.master.process.signal(libc::SIGCONT).unwrap();
    let id = master_id(group.master.port);
    let all = group.all();
    expect_all(&mut log, &group, &all, "-sdown", &id);
    expect_all(&mut log, &group, &all, "-odown", &id);
    for s in all {
        // A failover attempt started while the master was down ends by itself (no good replica,
        // or not elected within the election timeout), as in Redis: then only `master` is left.
        wait_until(
            TRANSITION_TIMEOUT,
            &format!("#{s} to flag the master plainly up"),
            || {
                let reply = group.sentinels[s]
                    .master(MASTER_NAME)
                    .map_err(|e| e.to_string())?;
                match reply.field_text("flags").as_deref() {
                    Some("master") => Ok(()),
                    _ => Err(reply.to_string()),
                }
            },
        )
        .unwrap_or_else(|e| panic!("{e}\n{}", group.logs(20)));
        assert_eq!(group.reported_master(s), Ok(group.master.port));
    }
}

#[test]
fn a_killed_master_is_sdown_then_odown_and_recovers_when_restarted() {
    let mut group = unpromotable_group();
    let mut log = subscribe(&group);
    master_goes_down(&mut group, &mut log, libc::SIGKILL);
    let port = group.master.port;
    group.master = RedisServer::start_on(port, &[]).unwrap();
    let id = master_id(port);
    let all = group.all();
    expect_all(&mut log, &group, &all, "-sdown", &id);
    expect_all(&mut log, &group, &all, "-odown", &id);
    for s in all {
        assert_eq!(group.reported_master(s), Ok(port));
    }
}

#[test]
fn a_stopped_replica_is_sdown_and_recovers_when_resumed() {
    let mut group = unpromotable_group();
    let mut log = subscribe(&group);
    let port = group.replicas[0].port;
    let id = format!(
        "slave 127.0.0.1:{port} 127.0.0.1 {port} @ {MASTER_NAME} 127.0.0.1 {}",
        group.master.port
    );
    group.replicas[0].process.signal(libc::SIGSTOP).unwrap();
    let all = group.all();
    expect_all(&mut log, &group, &all, "+sdown", &id);
    group.replicas[0].process.signal(libc::SIGCONT).unwrap();
    expect_all(&mut log, &group, &all, "-sdown", &id);
    // A replica is never objectively down, and the master was never down.
    assert!(
        !log.events()
            .iter()
            .any(|e| e.channel == "+odown" || e.payload.starts_with("master ")),
        "{}",
        dump(log.events())
    );
}

#[test]
fn a_stopped_warden_is_sdown_at_the_others_and_recovers_when_resumed() {
    let mut group = unpromotable_group();
    let ids = group.myids().unwrap();
    let mut log = subscribe(&group);
    let port = group.sentinels[2].port;
    let id = format!(
        "sentinel {} 127.0.0.1 {port} @ {MASTER_NAME} 127.0.0.1 {}",
        ids[2], group.master.port
    );
    group.sentinels[2].process.signal(libc::SIGSTOP).unwrap();
    expect_all(&mut log, &group, &[0, 1], "+sdown", &id);
    group.sentinels[2].process.signal(libc::SIGCONT).unwrap();
    expect_all(&mut log, &group, &[0, 1], "-sdown", &id);
    // The resumed Warden still serves and still knows the master.
    assert_eq!(group.reported_master(2), Ok(group.master.port));
}

/// Fake "Redis" servers (tokio) that answer PING properly and misbehave in one way each.
mod hostile {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::thread::JoinHandle;
    use std::time::Duration;

    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::tcp::OwnedReadHalf;
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::oneshot;
    use warden_integration::ports::free_port;

    /// How a fake misbehaves.
    #[derive(Clone, Copy, Debug)]
    pub enum Mode {
        /// A master whose INFO is a mix of junk lines, absurd numbers and invalid replica lines,
        /// listing one well-formed replica: the fake on `replica` (mode [`Mode::AbsurdReplica`]).
        GarbageInfo { replica: u16 },
        /// A replica of `master` whose INFO carries absurd offsets, priorities and times.
        AbsurdReplica { master: u16 },
        /// Answers INFO with a bulk of 1 TiB and streams bytes until the connection is closed.
        EndlessBulk,
        /// Answers INFO with a status line that never ends.
        EndlessLine,
        /// Answers INFO with bytes that are not RESP at all.
        NotResp,
        /// A plain master whose pub/sub connection receives malformed hello messages.
        BogusHello,
        /// A master whose INFO is sound but carries bytes that are not UTF-8 (as a real Redis does
        /// after `redis.error_reply` with such bytes: `errorstat_<prefix>`), listing `replica`.
        BinaryInfo { replica: u16 },
    }

    /// A fake server on 127.0.0.1; stops when dropped.
    pub struct Fake {
        /// Its port.
        pub port: u16,
        delivered: Arc<AtomicUsize>,
        stop: Option<oneshot::Sender<()>>,
        thread: Option<JoinHandle<()>>,
    }

    impl Fake {
        /// Starts a fake on `port` (from [`free_port`]) behaving as `mode`.
        pub fn start(port: u16, mode: Mode) -> Fake {
            let delivered = Arc::new(AtomicUsize::new(0));
            let (stop, stopped) = oneshot::channel();
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            let counter = Arc::clone(&delivered);
            let thread = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::bind(("127.0.0.1", port)).await;
                    let _ = ready_tx.send(listener.as_ref().map(|_| ()).map_err(|e| e.to_string()));
                    let Ok(listener) = listener else { return };
                    let accept = async {
                        while let Ok((stream, _)) = listener.accept().await {
                            tokio::spawn(serve(stream, mode, Arc::clone(&counter)));
                        }
                    };
                    tokio::select! {
                        _ = accept => {}
                        _ = stopped => {}
                    }
                });
            });
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                other => panic!("fake on port {port} did not start: {other:?}"),
            }
            Fake {
                port,
                delivered,
                stop: Some(stop),
                thread: Some(thread),
            }
        }

        /// A fake on a free port.
        pub fn start_free(mode: Mode) -> Fake {
            Fake::start(free_port(), mode)
        }

        /// How many hostile payloads it has delivered.
        pub fn delivered(&self) -> usize {
            self.delivered.load(Ordering::Relaxed)
        }
    }

    impl Drop for Fake {
        fn drop(&mut self) {
            if let Some(stop) = self.stop.take() {
                let _ = stop.send(());
            }
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }

    /// Reads one RESP multibulk command (the only form a sentinel sends); `None` at end of stream
    /// or on anything else.
    async fn read_command(r: &mut BufReader<OwnedReadHalf>) -> Option<Vec<Vec<u8>>> {
        async fn header(r: &mut BufReader<OwnedReadHalf>, tag: u8) -> Option<usize> {
            let mut line = Vec::new();
            r.read_until(b'\n', &mut line).await.ok()?;
            let text = std::str::from_utf8(line.strip_prefix(&[tag])?).ok()?;
            text.trim_end().parse().ok().filter(|n| *n <= 1 << 20)
        }
        let argc = header(r, b'*').await?;
        let mut args = Vec::with_capacity(argc);
        for _ in 0..argc {
            let len = header(r, b'$').await?;
            let mut arg = vec![0; len + 2];
            r.read_exact(&mut arg).await.ok()?;
            arg.truncate(len);
            args.push(arg);
        }
        Some(args)
    }

    fn bulk(payload: &[u8]) -> Vec<u8> {
        let mut out = format!("${}\r\n", payload.len()).into_bytes();
        out.extend_from_slice(payload);
        out.extend_from_slice(b"\r\n");
        out
    }

    /// INFO of the garbage master.
    fn garbage_info(replica: u16) -> Vec<u8> {
        let mut text = format!(
            "# Server\r\nrun_id:not-a-run-id\r\nredis_version:\r\n:::\r\nno colon here\r\n\
             # Replication\r\nrole:master\r\nconnected_slaves:99999999999999999999999\r\n\
             slave0:ip=127.0.0.1,port=99999,state=online,offset=1,lag=0\r\n\
             slave1:ip=127.0.0.1,port=-1,state=online,offset=1,lag=0\r\n\
             slave2:ip=,port=,state=\r\nslave3:garbage\r\nslave4:127.0.0.1\r\n\
             slave5:ip=127.0.0.1,port={replica},state=online,\
             offset=999999999999999999999999999999,lag=-99999999999\r\n\
             master_repl_offset:-99999999999999999999999\r\n\
             master_link_down_since_seconds:-1\r\n"
        )
        .into_bytes();
        text.extend(std::iter::repeat(b'=').take(10_000));
        text.extend_from_slice(b"\r\n");
        text
    }

    /// INFO of the binary master.
    fn binary_info(replica: u16) -> Vec<u8> {
        let mut text = format!(
            "# Server\r\nrun_id:{}\r\n# Replication\r\nrole:master\r\nconnected_slaves:1\r\n\
             slave0:ip=127.0.0.1,port={replica},state=online,offset=0,lag=0\r\n\
             # Errorstats\r\n",
            "e".repeat(40)
        )
        .into_bytes();
        text.extend_from_slice(b"errorstat_\xff\xfeERR:count=1\r\n");
        text
    }

    /// INFO of the absurd replica.
    fn absurd_replica_info(master: u16) -> Vec<u8> {
        format!(
            "# Server\r\nrun_id:{}\r\n# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n\
             master_port:{master}\r\nmaster_link_status:up\r\n\
             master_link_down_since_seconds:99999999999999999999999\r\n\
             slave_repl_offset:-170141183460469231731687303715884105728\r\n\
             slave_priority:-99999999999999999999\r\nreplica_announced:maybe\r\n",
            "f".repeat(40)
        )
        .into_bytes()
    }

    /// Hellos that must all be rejected (the sentinel has no master named `hostile-nope`, and every
    /// other one is malformed).
    fn bogus_hellos(port: u16) -> Vec<Vec<u8>> {
        let runid = "a".repeat(40);
        let mut hellos: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"a,b".to_vec(),
            ",".repeat(5000).into_bytes(),
            format!("127.0.0.1,notaport,{runid},1,hostile-hello,127.0.0.1,{port},0").into_bytes(),
            format!("127.0.0.1,99999,{runid},1,hostile-hello,127.0.0.1,{port},0").into_bytes(),
            format!("127.0.0.1,26999,{runid},NaN,hostile-hello,127.0.0.1,{port},x").into_bytes(),
            format!("127.0.0.1,26999,{runid},1,hostile-nope,127.0.0.1,{port},0").into_bytes(),
            format!("127.0.0.1,26999,{runid},1,hostile-hello,127.0.0.1,{port},0,extra")
                .into_bytes(),
        ];
        hellos.push(b"\xff\xfe,\x00,\x01,\x02,\x03,\x04,\x05,\x06".to_vec());
        hellos
    }

    fn message(payload: &[u8]) -> Vec<u8> {
        let mut out = b"*3\r\n$7\r\nmessage\r\n$18\r\n__sentinel__:hello\r\n".to_vec();
        out.extend(bulk(payload));
        out
    }

    /// Serves one connection: PING and the link set-up are answered as Redis does; INFO (or, for
    /// [`Mode::BogusHello`], SUBSCRIBE) gets the hostile payload.
    async fn serve(stream: TcpStream, mode: Mode, delivered: Arc<AtomicUsize>) {
        let port = stream.local_addr().map(|a| a.port()).unwrap_or(0);
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::new(r);
        while let Some(args) = read_command(&mut r).await {
            let name = args
                .first()
                .map(|a| a.to_ascii_uppercase())
                .unwrap_or_default();
            let reply: Vec<u8> = match (name.as_slice(), mode) {
                (b"PING", _) => b"+PONG\r\n".to_vec(),
                (b"INFO", Mode::GarbageInfo { replica }) => bulk(&garbage_info(replica)),
                (b"INFO", Mode::AbsurdReplica { master }) => bulk(&absurd_replica_info(master)),
                (b"INFO", Mode::EndlessBulk) => {
                    delivered.fetch_add(1, Ordering::Relaxed);
                    let _ = w.write_all(b"$1099511627776\r\n").await;
                    let chunk = vec![b'x'; 64 * 1024];
                    while w.write_all(&chunk).await.is_ok() {}
                    return;
                }
                (b"INFO", Mode::EndlessLine) => {
                    delivered.fetch_add(1, Ordering::Relaxed);
                    let _ = w.write_all(b"+").await;
                    let chunk = vec![b'y'; 64 * 1024];
                    while w.write_all(&chunk).await.is_ok() {}
                    return;
                }
                (b"INFO", Mode::BinaryInfo { replica }) => bulk(&binary_info(replica)),
                (b"INFO", Mode::NotResp) => b"\x00\xff\xfeHTTP/1.1 200 OK\r\n\r\n<html>".to_vec(),
                (b"INFO", _) => bulk(b"# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"),
                (b"SUBSCRIBE", Mode::BogusHello) => {
                    let confirm = b"*3\r\n$9\r\nsubscribe\r\n$18\r\n__sentinel__:hello\r\n:1\r\n";
                    if w.write_all(confirm).await.is_err() {
                        return;
                    }
                    loop {
                        for hello in bogus_hellos(port) {
                            if w.write_all(&message(&hello)).await.is_err() {
                                return;
                            }
                        }
                        delivered.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                (b"SUBSCRIBE", _) => {
                    b"*3\r\n$9\r\nsubscribe\r\n$18\r\n__sentinel__:hello\r\n:1\r\n".to_vec()
                }
                (b"PUBLISH", _) => b":0\r\n".to_vec(),
                _ => b"+OK\r\n".to_vec(),
            };
            if name == b"INFO" && !matches!(mode, Mode::BogusHello) {
                delivered.fetch_add(1, Ordering::Relaxed);
            }
            if w.write_all(&reply).await.is_err() {
                return;
            }
        }
    }
}

#[test]
fn hostile_instances_are_rejected_and_the_warden_keeps_serving() {
    use hostile::{Fake, Mode};

    let master = RedisServer::start().unwrap();
    let replica_port = warden_integration::ports::free_port();
    let garbage = Fake::start_free(Mode::GarbageInfo {
        replica: replica_port,
    });
    let absurd = Fake::start(
        replica_port,
        Mode::AbsurdReplica {
            master: garbage.port,
        },
    );
    let endless_bulk = Fake::start_free(Mode::EndlessBulk);
    let endless_line = Fake::start_free(Mode::EndlessLine);
    let not_resp = Fake::start_free(Mode::NotResp);
    let bogus_hello = Fake::start_free(Mode::BogusHello);
    let hostile = [
        ("hostile-garbage", &garbage),
        ("hostile-endless-bulk", &endless_bulk),
        ("hostile-endless-line", &endless_line),
        ("hostile-not-resp", &not_resp),
        ("hostile-hello", &bogus_hello),
    ];
    // Verbose: malformed hellos are logged at that level (as Redis would if it logged them).
    let mut conf = SentinelConf::monitoring(MASTER_NAME, master.port, 1)
        .line(format!(
            "sentinel down-after-milliseconds {MASTER_NAME} 1000"
        ))
        .line("loglevel verbose");
    for (name, fake) in &hostile {
        conf = conf
            .line(format!("sentinel monitor {name} 127.0.0.1 {} 1", fake.port))
            .line(format!("sentinel down-after-milliseconds {name} 1000"));
    }
    let mut warden = SentinelServer::start(Flavor::Warden, &conf).unwrap();

    // Every fake delivers its payload at least three times (the closing ones: the Warden reconnected
    // after dropping the link, twice).
    let fakes = [
        &garbage,
        &absurd,
        &endless_bulk,
        &endless_line,
        &not_resp,
        &bogus_hello,
    ];
    wait_until(
        Duration::from_secs(30),
        "every fake to deliver 3 times",
        || {
            let counts: Vec<usize> = fakes.iter().map(|f| f.delivered()).collect();
            if counts.iter().all(|&n| n >= 3) {
                Ok(())
            } else {
                Err(format!("{counts:?}"))
            }
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", warden.process.output_tail(40)));

    // Still running, still serving, the real master still monitored and healthy.
    assert!(
        warden.process.try_exit_status().unwrap().is_none(),
        "warden exited\n{}",
        warden.process.output_tail(40)
    );
    let pong = warden.client().and_then(|mut c| c.call(&["PING"])).unwrap();
    assert_eq!(pong, Value::Simple("PONG".into()));
    wait_for(
        Duration::from_secs(10),
        "the real master to be seen up",
        || {
            warden.master(MASTER_NAME).is_ok_and(|m| {
                m.field_text("flags").as_deref() == Some("master")
                    && m.field_text("role-reported").as_deref() == Some("master")
                    && m.field_text("last-ok-ping-reply")
                        .and_then(|ms| ms.parse::<u64>().ok())
                        .is_some_and(|ms| ms < 2000)
            })
        },
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", warden.process.output_tail(40)));
    let masters = warden
        .client()
        .unwrap()
        .call(&["SENTINEL", "MASTERS"])
        .unwrap();
    assert_eq!(
        masters.as_items().map(<[Value]>::len),
        Some(1 + hostile.len()),
        "{masters}"
    );

    // Of the garbage master's replica lines only the well-formed one was taken.
    let replicas = warden
        .client()
        .unwrap()
        .call(&["SENTINEL", "REPLICAS", "hostile-garbage"])
        .unwrap();
    let listed = replicas.as_items().unwrap_or_default();
    assert_eq!(ports(listed), vec![replica_port], "{replicas}");
    // The absurd replica's numbers did not turn into nonsense: whatever is reported parses.
    let entry = &listed[0];
    for field in [
        "slave-priority",
        "slave-repl-offset",
        "master-link-down-time",
    ] {
        let value = entry.field_text(field).unwrap_or_default();
        assert!(
            value.parse::<i64>().is_ok(),
            "{field} = {value:?} in {entry}"
        );
    }
    // No sentinel was created from a bogus hello.
    let sentinels = warden
        .client()
        .unwrap()
        .call(&["SENTINEL", "SENTINELS", "hostile-hello"])
        .unwrap();
    assert_eq!(sentinels, Value::Array(Vec::new()));

    // Each rejection left a log line.
    let log = warden.process.stdout();
    for fake in [&endless_bulk, &endless_line, &not_resp] {
        let line = format!("Closing link to 127.0.0.1:{}", fake.port);
        assert!(
            log.contains(&line),
            "no `{line}` in the log\n{}",
            warden.process.output_tail(60)
        );
    }
    assert!(
        log.contains("Ignoring malformed hello message"),
        "no hello rejection in the log\n{}",
        warden.process.output_tail(60)
    );
    // Stopping the Warden works as usual.
    warden.process.terminate(Duration::from_secs(10)).unwrap();
}

/// Waits until `sentinel` has read its master's INFO (`info-refresh` set) and found the one replica
/// on `replica` in it; the reference sentinel runs first in the callers, proving what must be read.
fn assert_info_read(sentinel: &SentinelServer, replica: u16) {
    wait_until(
        Duration::from_secs(15),
        "the master's INFO to be read",
        || {
            let master = sentinel.master(MASTER_NAME).map_err(|e| e.to_string())?;
            let replicas = sentinel
                .client()
                .and_then(|mut c| c.call(&["SENTINEL", "REPLICAS", MASTER_NAME]))
                .map_err(|e| e.to_string())?;
            let read = master
                .field_text("info-refresh")
                .is_some_and(|ms| ms != "0")
                && ports(replicas.as_items().unwrap_or_default()) == vec![replica];
            if read {
                Ok(())
            } else {
                Err(format!("master {master}\nreplicas {replicas}"))
            }
        },
    )
    .unwrap_or_else(|e| {
        panic!(
            "{}: {e}\n{}",
            sentinel.flavor,
            sentinel.process.output_tail(20)
        )
    });
}

#[test]
fn info_with_bytes_that_are_not_utf8_is_read_like_redis_sentinel_does() {
    use hostile::{Fake, Mode};

    let replica = warden_integration::ports::free_port();
    let fake = Fake::start_free(Mode::BinaryInfo { replica });
    let conf = SentinelConf::monitoring(MASTER_NAME, fake.port, 1);
    for flavor in [Flavor::Redis, Flavor::Warden] {
        assert_info_read(&SentinelServer::start(flavor, &conf).unwrap(), replica);
    }
}

#[test]
fn a_real_master_with_non_utf8_error_stats_is_monitored() {
    // A real redis-server's INFO carries whatever bytes an error reply started with:
    // `errorstat_\xffBAD:count=1` after this script.
    let master = RedisServer::start().unwrap();
    let replica = RedisServer::start_replica_of(master.port).unwrap();
    let script = "return redis.error_reply(string.char(255) .. 'BAD x')";
    let reply = master
        .client()
        .unwrap()
        .call(&["EVAL", script, "0"])
        .unwrap();
    assert!(reply.as_error().is_some(), "{reply}");
    let conf = SentinelConf::monitoring(MASTER_NAME, master.port, 1);
    for flavor in [Flavor::Redis, Flavor::Warden] {
        assert_info_read(&SentinelServer::start(flavor, &conf).unwrap(), replica.port);
    }
}
