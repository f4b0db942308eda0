//! The swarm's sockets: one listener per instance on 127.0.0.1, one task per connection, and a
//! line-based control port (`kill <port> [<port>...]` kills instances at once: their listeners
//! and connections close, new connections are refused).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::model::{Conn, Effect, Swarm};
use super::resp::parse;

/// How much a connection's read buffer grows at a time (kept small: thousands of connections).
const READ_CHUNK: usize = 512;

/// What runs the swarm.
struct Shared {
    swarm: Mutex<Swarm>,
    /// Per instance: `true` once killed (every connection task watches it).
    killed: Vec<watch::Sender<bool>>,
    /// Per instance: its accept loop, aborted (closing the listener) at the kill.
    listeners: Mutex<Vec<Option<JoinHandle<()>>>>,
    next_conn: AtomicU64,
}

impl Shared {
    fn swarm(&self) -> MutexGuard<'_, Swarm> {
        self.swarm
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn kill(&self, i: usize) {
        self.swarm().kill(i, Instant::now());
        let listener = self.listeners.lock().unwrap_or_else(|p| p.into_inner())[i].take();
        if let Some(listener) = listener {
            listener.abort();
        }
        let _ = self.killed[i].send(true);
    }
}

/// Serves the instances of `pairs` (master port, replica port) and the control port until the
/// process is killed. Every listener is bound before the control port, so a control connection
/// means the swarm is ready.
pub fn run(control_port: u16, pairs: &[(u16, u16)]) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(serve(control_port, Swarm::new(pairs)))
}

async fn serve(control_port: u16, swarm: Swarm) -> io::Result<()> {
    let ports = swarm.ports();
    let mut listeners = Vec::with_capacity(ports.len());
    for &port in &ports {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on port {port}: {e}")))?;
        listeners.push(listener);
    }
    let shared = Arc::new(Shared {
        swarm: Mutex::new(swarm),
        killed: ports.iter().map(|_| watch::channel(false).0).collect(),
        listeners: Mutex::new(ports.iter().map(|_| None).collect()),
        next_conn: AtomicU64::new(1),
    });
    for (i, listener) in listeners.into_iter().enumerate() {
        let task = tokio::spawn(accept(shared.clone(), i, listener));
        shared.listeners.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(task);
    }
    let control = TcpListener::bind(("127.0.0.1", control_port)).await?;
    loop {
        let (stream, _) = control.accept().await?;
        tokio::spawn(control_connection(shared.clone(), stream));
    }
}

async fn accept(shared: Arc<Shared>, i: usize, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(shared.clone(), i, stream));
            }
            // Out of file descriptors or similar: back off instead of spinning.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

async fn connection(shared: Arc<Shared>, i: usize, mut stream: TcpStream) {
    let mut killed = shared.killed[i].subscribe();
    if *killed.borrow_and_update() {
        return;
    }
    let (tx, mut pushed) = mpsc::unbounded_channel();
    let mut conn = Conn {
        id: shared.next_conn.fetch_add(1, Ordering::Relaxed),
        multi: None,
        subscriptions: 0,
        tx,
    };
    let mut buf = Vec::new();
    let mut out = Vec::new();
    loop {
        buf.reserve(READ_CHUNK);
        tokio::select! {
            _ = killed.changed() => break,
            Some(message) = pushed.recv() => {
                if stream.write_all(&message).await.is_err() {
                    break;
                }
            }
            read = stream.read_buf(&mut buf) => {
                if !matches!(read, Ok(n) if n > 0) {
                    break;
                }
                let (mut close, mut kill) = (false, false);
                {
                    let mut swarm = shared.swarm();
                    loop {
                        match parse(&mut buf) {
                            Ok(Some(cmd)) if cmd.is_empty() => {}
                            Ok(Some(cmd)) => {
                                let (reply, effect) = swarm.execute(i, &mut conn, &cmd, Instant::now());
                                reply.encode(&mut out);
                                if effect == Effect::Kill {
                                    kill = true;
                                    break;
                                }
                            }
                            Ok(None) => break,
                            Err(_) => {
                                close = true;
                                break;
                            }
                        }
                    }
                }
                if kill {
                    shared.kill(i);
                    break;
                }
                if stream.write_all(&out).await.is_err() || close {
                    break;
                }
                out.clear();
                if buf.is_empty() && buf.capacity() > 16 * READ_CHUNK {
                    buf = Vec::new();
                }
            }
        }
    }
    shared.swarm().closed(i, conn.id);
}

async fn control_connection(shared: Arc<Shared>, stream: TcpStream) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let mut words = line.split_whitespace();
        let answer = match words.next() {
            Some("kill") => {
                let mut killed = 0;
                let ports: Vec<u16> = words.filter_map(|w| w.parse().ok()).collect();
                let indexes: Vec<usize> = {
                    let swarm = shared.swarm();
                    ports.iter().filter_map(|&p| swarm.index(p)).collect()
                };
                for i in indexes {
                    shared.kill(i);
                    killed += 1;
                }
                format!("ok {killed}\n")
            }
            Some("ping") => "pong\n".to_owned(),
            _ => format!("err unknown control command {line:?}\n"),
        };
        if write.write_all(answer.as_bytes()).await.is_err() {
            break;
        }
    }
}
