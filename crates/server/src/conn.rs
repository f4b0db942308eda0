//! One task per client connection: read, split into commands, execute, and write all replies of a
//! read batch with a single write; pub/sub messages are interleaved between batches.

use super::acl::User;
use super::dispatch;
use super::pubsub::{Delivery, Subscriber, SUBSCRIBER_QUEUE};
use super::request::{self, Parsed, QUERY_BUFFER_MAX};
use super::resp::{self, Protocol};
use super::session::{Ctx, ReplyMode, Session};
use super::stats::Stats;
use super::Shared;
use crate::tls::{Stream, Tls};
use bytes::{Bytes, BytesMut};
use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use warden_core::Reply;

/// Initial size of the read and write buffers.
const BUFFER: usize = 16 * 1024;
/// `tcp-keepalive` default of Redis, in seconds.
const KEEPALIVE_SECS: u64 = 300;

/// Enable TCP keepalive probes after `idle` seconds, then every `idle / 3` seconds, giving up
/// after 3 unanswered probes (Redis's `anetKeepAlive`).
fn keepalive(stream: &TcpStream, idle: u64) -> std::io::Result<()> {
    let probes = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(idle))
        .with_interval(Duration::from_secs((idle / 3).max(1)))
        .with_retries(3);
    socket2::SockRef::from(stream).set_tcp_keepalive(&probes)
}
/// Longest a TLS client may take to complete its handshake.
const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Pub/sub messages written per flush at most.
const DELIVERY_BATCH: usize = 256;

/// Serve one client until it disconnects, is killed, or the server stops; through TLS when
/// it connected to the TLS port (`tls`).
pub async fn run(stream: TcpStream, addr: SocketAddr, tls: Option<Arc<Tls>>, shared: Arc<Shared>) {
    let laddr = stream.local_addr().unwrap_or(addr);
    // Replies are small and latency matters (Redis sets TCP_NODELAY too).
    let _ = stream.set_nodelay(true);
    // Dead peers are noticed like Redis does it (`tcp-keepalive 300`); best effort.
    let _ = keepalive(&stream, KEEPALIVE_SECS);
    let fd = stream.as_raw_fd();
    let stream = match tls {
        None => Stream::Plain(stream),
        Some(tls) => {
            // Bounded, so connections that never finish their handshake (not yet clients, so
            // not counted by maxclients) cannot pile up.
            let handshake = tokio::select! {
                handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(stream)) => {
                    handshake.unwrap_or_else(|_| Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "handshake timed out",
                    )))
                }
                () = shared.shutdown.wait() => return,
            };
            match handshake {
                Ok(stream) => Stream::Tls(Box::new(stream)),
                Err(e) => {
                    tracing::debug!(
                        "Error accepting a client connection: {e} (addr={addr} laddr={laddr})"
                    );
                    return;
                }
            }
        }
    };
    let (user, authenticated) = {
        let acl = shared.acl.read();
        let default = acl
            .user("default")
            .cloned()
            .unwrap_or_else(|| Arc::new(User::default_user()));
        (default, acl.default_user_open())
    };
    let info = shared.clients.register(addr, laddr, fd, &user.name);
    let (tx, rx) = mpsc::channel(SUBSCRIBER_QUEUE);
    let mut session = Session {
        subscriber: Subscriber {
            tx,
            client: info.clone(),
            pending: Default::default(),
        },
        info: info.clone(),
        proto: Protocol::Resp2,
        authenticated,
        acl_epoch: shared.acl.epoch(),
        user,
        reply: ReplyMode::default(),
        channels: HashSet::new(),
        patterns: HashSet::new(),
        close: false,
        durable_barrier: 0,
    };
    serve_client(stream, &shared, &mut session, rx).await;
    for channel in std::mem::take(&mut session.channels) {
        shared.hub.unsubscribe(&channel, info.id);
    }
    for pattern in std::mem::take(&mut session.patterns) {
        shared.hub.punsubscribe(&pattern, info.id);
    }
    shared.clients.unregister(info.id);
}

async fn serve_client(
    mut stream: Stream,
    shared: &Shared,
    session: &mut Session,
    mut deliveries: mpsc::Receiver<Delivery>,
) {
    let mut input = BytesMut::with_capacity(BUFFER);
    let mut out = BytesMut::with_capacity(BUFFER);
    let mut args = Vec::new();
    let info = session.info.clone();
    // Created once: resolves when the client is killed or the server stops.
    let stop = async {
        tokio::select! {
            _ = info.kill.wait() => {}
            _ = shared.shutdown.wait() => {}
        }
    };
    tokio::pin!(stop);
    loop {
        if input.capacity() - input.len() < BUFFER / 4 {
            input.reserve(BUFFER);
        }
        tokio::select! {
            biased;
            _ = &mut stop => return,
            read = stream.read_buf(&mut input) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    Stats::add(&shared.stats.net_input_bytes, n as u64);
                    Stats::add(&shared.stats.reads_processed, 1);
                    let io = Io { stream: &mut stream, stop: stop.as_mut() };
                    let done = process_input(io, shared, session, &mut input, &mut out, &mut args).await;
                    // Keep the capacity, not the frames the arguments point into.
                    args.clear();
                    if !done {
                        return;
                    }
                }
            },
            Some(delivery) = deliveries.recv() => {
                write_delivery(session, &mut out, &delivery);
                // Bounded, so one flush never holds an unbounded backlog.
                for _ in 0..DELIVERY_BATCH {
                    let Ok(more) = deliveries.try_recv() else { break };
                    write_delivery(session, &mut out, &more);
                }
            }
        }
        if !out.is_empty() {
            // Like Redis, which writes replies before it next waits for events: let the other
            // clients that are ready be read and answered first, so replies leave in bursts
            // and a busy client (a benchmark) handles many per wake-up.
            run_queued_tasks_first().await;
        }
        let io = Io {
            stream: &mut stream,
            stop: stop.as_mut(),
        };
        if !flush(io, shared, &mut out, &mut session.durable_barrier).await || session.close {
            return;
        }
    }
}

/// Let every task already queued run before this one continues: those are the other
/// connections the same poll of the I/O driver found ready. The task wakes itself, so the
/// scheduler queues it behind them. (`tokio::task::yield_now` would defer it until after the
/// next, non-blocking poll of the driver: one more `epoll_wait` per batch of ready clients.)
fn run_queued_tasks_first() -> impl Future<Output = ()> {
    let mut queued = false;
    std::future::poll_fn(move |cx| {
        if queued {
            return std::task::Poll::Ready(());
        }
        queued = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
}

/// The socket, and the signal that abandons any wait on it.
struct Io<'a, S: Future<Output = ()>> {
    stream: &'a mut Stream,
    stop: Pin<&'a mut S>,
}

/// Execute every complete command in `input`. Returns false when the connection must close
/// without further processing (the output holds the final error, already flushed).
async fn process_input<S: Future<Output = ()>>(
    mut io: Io<'_, S>,
    shared: &Shared,
    session: &mut Session,
    input: &mut BytesMut,
    out: &mut BytesMut,
    args: &mut Vec<Bytes>,
) -> bool {
    let now = Instant::now();
    let mut executed = 0u64;
    let mut errors = 0u64;
    let result = loop {
        if session.close {
            break true;
        }
        match request::parse(input, session.authenticated, args) {
            Ok(Parsed::Command) if args.is_empty() => continue,
            Ok(Parsed::Command) => {
                let mut ctx = Ctx {
                    shared,
                    session: &mut *session,
                    out: &mut *out,
                    errors: 0,
                };
                match dispatch::prepare(&mut ctx, args) {
                    Ok(spec) => {
                        if shared.pause.blocks(spec) {
                            let again = Io {
                                stream: &mut *io.stream,
                                stop: io.stop.as_mut(),
                            };
                            if !flush(again, shared, ctx.out, &mut ctx.session.durable_barrier)
                                .await
                            {
                                return false;
                            }
                            let _blocked = shared.stats.blocked();
                            tokio::select! {
                                _ = shared.pause.wait() => {}
                                _ = io.stop.as_mut() => return false,
                            }
                        }
                        ctx.session.info.touch(now, spec.id);
                        dispatch::execute(&mut ctx, spec, args);
                        executed += 1;
                    }
                    Err(reply) => ctx.reply(&reply),
                }
                dispatch::finish_command(ctx.session);
                errors += ctx.errors;
            }
            Ok(Parsed::Incomplete { hint }) => {
                if hint > input.capacity() {
                    input.reserve(hint - input.len());
                }
                if input.len() > QUERY_BUFFER_MAX {
                    tracing::warn!(
                        "Closing client that reached max query buffer length: id={} addr={}",
                        session.info.id,
                        session.info.addr
                    );
                    break false;
                }
                break true;
            }
            Err(e) => {
                tracing::debug!(
                    "Protocol error ({}) from client: id={} addr={}",
                    e.0,
                    session.info.id,
                    session.info.addr
                );
                resp::encode(out, session.proto, &Reply::err(e.reply_text()));
                errors += 1;
                session.close = true;
                break true;
            }
        }
    };
    Stats::add(&shared.stats.commands_processed, executed);
    Stats::add(&shared.stats.error_replies, errors);
    result
}

/// Write a pub/sub message (`message`/`pmessage`; a push frame in RESP3).
fn write_delivery(session: &Session, out: &mut BytesMut, delivery: &Delivery) {
    session
        .subscriber
        .pending
        .fetch_sub(delivery.size(), std::sync::atomic::Ordering::Relaxed);
    if session.reply.off {
        return;
    }
    match &delivery.pattern {
        Some(pattern) => {
            resp::put_array_header(out, session.proto, 4, true);
            resp::put_bulk(out, b"pmessage");
            resp::put_bulk(out, pattern);
        }
        None => {
            resp::put_array_header(out, session.proto, 3, true);
            resp::put_bulk(out, b"message");
        }
    }
    resp::put_bulk(out, &delivery.channel);
    resp::put_bulk(out, &delivery.payload);
}

/// Write `out` completely (abandoned if the client is killed or the server stops). False on
/// failure. The common case, a reply that fits the socket buffer, costs one `write` call.
/// Write the pending output, once the save generation it waits for (`barrier`) is durable.
async fn flush<S: Future<Output = ()>>(
    mut io: Io<'_, S>,
    shared: &Shared,
    out: &mut BytesMut,
    barrier: &mut u64,
) -> bool {
    if out.is_empty() {
        return true;
    }
    if *barrier != 0 {
        tokio::select! {
            _ = shared.app.durable(*barrier) => {}
            _ = io.stop.as_mut() => return false,
        }
        *barrier = 0;
    }
    let total = out.len();
    let written = match io.stream.try_write(out) {
        Ok(n) if n == total => true,
        Ok(n) => write_rest(&mut io, &out[n..]).await,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => write_rest(&mut io, out).await,
        Err(_) => false,
    };
    Stats::add(&shared.stats.net_output_bytes, total as u64);
    Stats::add(&shared.stats.writes_processed, 1);
    out.clear();
    if out.capacity() > 4 * 1024 * 1024 {
        // Don't keep a huge buffer around after one big reply.
        *out = BytesMut::with_capacity(BUFFER);
    }
    written
}

async fn write_all_and_flush(stream: &mut Stream, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

async fn write_rest<S: Future<Output = ()>>(io: &mut Io<'_, S>, rest: &[u8]) -> bool {
    tokio::select! {
        biased;
        _ = io.stop.as_mut() => false,
        result = write_all_and_flush(io.stream, rest) => result.is_ok(),
    }
}
