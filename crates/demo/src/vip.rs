//! The VIP part of the demo: three nodes in network namespaces (redis-server + Warden each,
//! the VIP on the master's node) and a client namespace writing through the VIP, built with the
//! test kit's [`VipBed`]. The master's node is killed; the screen shows every Warden's events
//! beside which node answered the client's writes through the VIP, the gap, and how many
//! writes met a replica (`READONLY`). Blocking code: run it off the async runtime; it checks
//! `stop` between steps, and dropping the bed removes every namespace and process it made.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use warden_integration::info::info_field;
use warden_integration::nsclient::NsClient;
use warden_integration::resp::Value;
use warden_integration::vipbed::{VipBed, CLIENT, DOWN_AFTER_MS, NODES, SENTINEL_PORT};

/// How often the client writes through the VIP.
const WRITE_PERIOD: Duration = Duration::from_millis(20);
/// Connect / reply timeout of one write.
const WRITE_TIMEOUT: Duration = Duration::from_millis(200);
/// Longest wait for the failover to show.
const FAILOVER_LIMIT: Duration = Duration::from_secs(30);
/// How long writes must have succeeded on the new master before the demo ends.
const STEADY: Duration = Duration::from_millis(1500);

/// What the screen shows, stamped with its time.
enum Line {
    /// An event a node's Warden published.
    Event {
        node: usize,
        kind: String,
        message: String,
    },
    /// The writes through the VIP changed answerer (or started failing).
    Writes(WriteState),
}

/// Who answers the client's writes through the VIP.
#[derive(Debug, Clone, PartialEq, Eq)]
enum WriteState {
    /// Acknowledged by this node.
    Ok(usize),
    /// A replica answered READONLY.
    ReadOnly(usize),
    /// No answer (refused, timed out, reset).
    Failing(String),
}

/// Why the VIP part cannot run here, if it cannot (not root, no `ip netns`).
pub fn unavailable() -> Option<String> {
    warden_integration::netns::unavailable()
}

/// Runs the VIP part; `stop` ends it early (Ctrl-C). Prints as it goes.
pub fn run(stop: &AtomicBool) -> io::Result<()> {
    println!(
        "\n== The VIP: three nodes in network namespaces, a client writing through the VIP ==\n"
    );
    let started = Instant::now();
    let mut bed = VipBed::start(&[])?;
    for i in 0..NODES {
        let role = if i == 0 {
            "master, holds the VIP"
        } else {
            "replica"
        };
        println!(
            "  node-{i}  {}  redis-server :6379 + warden :{SENTINEL_PORT}  ({role})",
            bed.addr(i)
        );
    }
    println!(
        "  client  writes SET through the VIP {} every {} ms (down-after {DOWN_AFTER_MS} ms); set up in {:.1} s\n",
        bed.vip(),
        WRITE_PERIOD.as_millis(),
        started.elapsed().as_secs_f64()
    );
    let run_ids = run_ids(&bed)?;
    let quit = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<(Instant, Line)>();
    let mut watchers = Vec::new();
    for node in 0..NODES {
        let client = NsClient::connect(bed.bed(), node, sentinel_addr(), WRITE_TIMEOUT * 10)?;
        watchers.push(watch_events(node, client, tx.clone(), quit.clone()));
    }
    let writes = Arc::new(WriteCounts::default());
    let writer = write_through_vip(&bed, run_ids, tx.clone(), quit.clone(), writes.clone());
    drop(tx);

    // Steady writes on node-0 first.
    let first = rx.recv_timeout(Duration::from_secs(5));
    let result = match first {
        Ok((_, Line::Writes(WriteState::Ok(0)))) => kill_and_show(&mut bed, &rx, stop, &writes),
        Ok((_, Line::Writes(other))) => Err(io::Error::other(format!(
            "writes through the VIP before the kill: {other:?}"
        ))),
        _ => Err(io::Error::other("no write through the VIP within 5 s")),
    };
    quit.store(true, Ordering::Relaxed);
    for t in watchers {
        let _ = t.join();
    }
    let _ = writer.join();
    drop(bed);
    println!("\n  Removed the namespaces and stopped the processes of the VIP part.");
    result
}

/// Counts of the client's write attempts.
#[derive(Default)]
struct WriteCounts {
    acked: std::sync::atomic::AtomicU64,
    readonly: std::sync::atomic::AtomicU64,
}

fn kill_and_show(
    bed: &mut VipBed,
    rx: &mpsc::Receiver<(Instant, Line)>,
    stop: &AtomicBool,
    writes: &WriteCounts,
) -> io::Result<()> {
    let killed = Instant::now();
    bed.kill(0);
    println!("SIGKILLed node-0's redis-server and Warden at 0 ms (the VIP's lease lets it go by itself):");
    let mut first_failure: Option<Instant> = None;
    let mut resumed: Option<(Instant, usize)> = None;
    let deadline = killed + FAILOVER_LIMIT;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
        }
        if resumed.is_some_and(|(t, _)| t.elapsed() >= STEADY) {
            break;
        }
        if Instant::now() > deadline {
            return Err(io::Error::other(
                "the writes through the VIP did not resume within 30 s",
            ));
        }
        let Ok((at, line)) = rx.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        let ms = at.saturating_duration_since(killed).as_millis();
        match line {
            Line::Event {
                node,
                kind,
                message,
            } => {
                println!("  {ms:>6} ms  node-{node}  {kind:<28} {message}");
            }
            Line::Writes(state) => match &state {
                WriteState::Failing(why) => {
                    first_failure.get_or_insert(at);
                    println!("  {ms:>6} ms  client  writes through the VIP fail: {why}");
                }
                WriteState::ReadOnly(node) => {
                    println!("  {ms:>6} ms  client  node-{node} answers READONLY (a replica)");
                }
                WriteState::Ok(node) => {
                    let gap = first_failure
                        .take()
                        .map_or(0, |f| at.saturating_duration_since(f).as_millis());
                    println!("  {ms:>6} ms  client  writes acknowledged by node-{node} ({gap} ms without a write)");
                    if *node != 0 {
                        resumed = Some((at, *node));
                    }
                }
            },
        }
    }
    let (at, node) = resumed.expect("the loop ends once writes resumed");
    let gap = at.saturating_duration_since(killed).as_millis();
    println!(
        "\nWrites through the VIP {}: node-0 until the kill, node-{node} from {gap} ms on (down-after {DOWN_AFTER_MS} ms); {} acknowledged, {} READONLY.",
        bed.vip(),
        writes.acked.load(Ordering::Relaxed),
        writes.readonly.load(Ordering::Relaxed)
    );
    Ok(())
}

fn sentinel_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], SENTINEL_PORT))
}

/// Each node's Redis run id, to tell which node answered a write through the VIP.
fn run_ids(bed: &VipBed) -> io::Result<HashMap<String, usize>> {
    let mut ids = HashMap::new();
    for i in 0..NODES {
        let info = bed.redis(i, &["INFO", "server"])?;
        let text = info.as_text().unwrap_or_default();
        if let Some(id) = info_field(&text, "run_id") {
            ids.insert(id.to_string(), i);
        }
    }
    Ok(ids)
}

/// Forwards every event node `node`'s Warden publishes.
fn watch_events(
    node: usize,
    mut client: NsClient,
    tx: mpsc::Sender<(Instant, Line)>,
    quit: Arc<AtomicBool>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        if client.send(&["PSUBSCRIBE", "*"]).is_err()
            || client.set_read_timeout(Duration::from_millis(100)).is_err()
        {
            return;
        }
        while !quit.load(Ordering::Relaxed) {
            match client.read() {
                Ok(Value::Array(items)) | Ok(Value::Push(items)) if items.len() == 4 => {
                    let kind = items[2].as_text().unwrap_or_default();
                    let message = items[3].as_text().unwrap_or_default();
                    // Only the failover's story (not the hello chatter Redis never publishes).
                    if !kind.starts_with("__") {
                        let _ = tx.send((
                            Instant::now(),
                            Line::Event {
                                node,
                                kind,
                                message,
                            },
                        ));
                    }
                }
                Ok(_) => {}
                Err(e) if warden_integration::nsclient::is_timeout(&e) => {}
                // The node was killed: its Warden's connection closed.
                Err(_) => return,
            }
        }
    })
}

/// The client: a write every [`WRITE_PERIOD`] through the VIP from a thread inside the client
/// namespace, reporting each change of who answers.
fn write_through_vip(
    bed: &VipBed,
    run_ids: HashMap<String, usize>,
    tx: mpsc::Sender<(Instant, Line)>,
    quit: Arc<AtomicBool>,
    counts: Arc<WriteCounts>,
) -> thread::JoinHandle<io::Result<()>> {
    let vip = bed.vip_redis();
    bed.bed().spawn_in(CLIENT, move || {
        let mut conn: Option<NsClient> = None;
        let mut last: Option<WriteState> = None;
        let mut n = 0u64;
        while !quit.load(Ordering::Relaxed) {
            let started = Instant::now();
            n += 1;
            let state = write_once(&mut conn, vip, n, &run_ids);
            match &state {
                WriteState::Ok(_) => {
                    counts.acked.fetch_add(1, Ordering::Relaxed);
                }
                WriteState::ReadOnly(_) => {
                    counts.readonly.fetch_add(1, Ordering::Relaxed);
                }
                WriteState::Failing(_) => conn = None,
            }
            if last.as_ref() != Some(&state) {
                // Stamped when the attempt's outcome was known (a timeout is known at its end).
                let _ = tx.send((Instant::now(), Line::Writes(state.clone())));
                last = Some(state);
            }
            thread::sleep(WRITE_PERIOD.saturating_sub(started.elapsed()));
        }
    })
}

/// One write (and the answering node's run id) on `conn`, connecting first if needed; runs
/// inside the client namespace.
fn write_once(
    conn: &mut Option<NsClient>,
    vip: SocketAddr,
    n: u64,
    run_ids: &HashMap<String, usize>,
) -> WriteState {
    let result = (|| -> io::Result<WriteState> {
        if conn.is_none() {
            let stream = std::net::TcpStream::connect_timeout(&vip, WRITE_TIMEOUT)?;
            *conn = Some(NsClient::from_stream(stream, WRITE_TIMEOUT)?);
        }
        let c = conn.as_mut().expect("connected above");
        let key = format!("demo:{n}");
        let reply = c.call(&["SET", key.as_str(), "1"])?;
        let info = c.call(&["INFO", "server"])?;
        let text = info.as_text().unwrap_or_default();
        let node = info_field(&text, "run_id")
            .and_then(|id| run_ids.get(id).copied())
            .unwrap_or(usize::MAX);
        Ok(match reply {
            Value::Error(e) if e.starts_with("READONLY") => WriteState::ReadOnly(node),
            Value::Error(e) => WriteState::Failing(e),
            _ => WriteState::Ok(node),
        })
    })();
    result.unwrap_or_else(|e| WriteState::Failing(e.kind().to_string()))
}
