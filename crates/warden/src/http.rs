//! The HTTP side (issue 14), off unless `metrics-port` is set: the Prometheus endpoint and
//! the health checks load balancers poll, Patroni's verbs.
//!
//! | request | 200 | otherwise |
//! |---|---|---|
//! | `GET /metrics` | the exposition ([`crate::metrics`]) | |
//! | `GET /health` | the sentinel runs, not in TILT | 503 |
//! | `GET /primary/<master>` (also `/master/<master>`) | this host's Redis is the master to write to (see `Sentinel::primary_health`) | 503; 404 for an unknown master |
//! | `GET /replica/<master>[?lag=<bytes>]` | a replica on this host is fit to read from | 503; 404 |
//! | `GET /history[/<master>]` | JSON: the last failovers of every master (or one), as `SENTINEL HISTORY` gives them | 404 |
//!
//! `HEAD` is answered like `GET` without the body. Every answer closes the connection (what
//! HAProxy's `httpchk` and Prometheus expect of a small endpoint). The server is bounded
//! against slow and hostile clients: at most [`MAX_CONNECTIONS`] at once, a request head of
//! at most [`MAX_HEAD`] bytes read within [`READ_TIMEOUT`], the answer written within
//! [`WRITE_TIMEOUT`]; anything malformed gets a 4xx and the connection is closed. It runs on
//! the same event loop as the sentinel.

use crate::app::App;
use crate::metrics::Metrics;
use bytes::Bytes;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use warden_core::sentinel::health::Verdict;
use warden_core::Reply;
use warden_server::SentinelPort;

/// Connections served at once; more are answered 503 and closed.
pub const MAX_CONNECTIONS: usize = 64;
/// Largest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 8 * 1024;
/// Time a client has to send its request head.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Time a client has to take the answer.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Headers parsed at most.
const MAX_HEADERS: usize = 32;

/// What the endpoints read from.
#[derive(Clone)]
pub struct Endpoints {
    /// The sentinel.
    pub app: Arc<App>,
    /// The accumulated metrics.
    pub metrics: Arc<Metrics>,
}

/// One answer.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Answer {
    fn text(status: u16, body: impl Into<String>) -> Answer {
        let mut body = body.into();
        body.push('\n');
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }

    fn verdict(verdict: Verdict) -> Answer {
        match verdict {
            Verdict::Pass(why) => Answer::text(200, why),
            Verdict::Fail(why) => Answer::text(503, why),
            Verdict::UnknownMaster => Answer::text(404, "No such master with that name"),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// Serve `listeners` until the task is dropped.
pub async fn serve(listeners: Vec<TcpListener>, endpoints: Endpoints) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut tasks = Vec::new();
    for listener in listeners {
        let (endpoints, slots) = (endpoints.clone(), slots.clone());
        tasks.push(tokio::spawn(accept_loop(listener, endpoints, slots)));
    }
    for task in tasks {
        let _ = task.await;
    }
}

async fn accept_loop(listener: TcpListener, endpoints: Endpoints, slots: Arc<Semaphore>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors and the like: back off rather than spin.
                tracing::warn!("Metrics port: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let endpoints = endpoints.clone();
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                tokio::spawn(async move {
                    let _ = serve_one(stream, &endpoints).await;
                    drop(slot);
                });
            }
            Err(_) => {
                tokio::spawn(async move {
                    let busy = Answer::text(503, "too many connections");
                    let _ = write_answer(stream, &busy, true).await;
                });
            }
        }
    }
}

async fn serve_one(mut stream: TcpStream, endpoints: &Endpoints) -> io::Result<()> {
    let head = tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await;
    let (answer, with_body) = match head {
        Err(_) => (Answer::text(408, "request head not received in time"), true),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(Err(answer))) => (answer, true),
        Ok(Ok(Ok(request))) => {
            let with_body = request.method != "HEAD";
            (route(&request, endpoints), with_body)
        }
    };
    write_answer(stream, &answer, with_body).await
}

/// A parsed request: its method and target.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    method: String,
    target: String,
}

/// Read until the end of the request head; `Err(answer)` for a request that gets a 4xx.
async fn read_head(stream: &mut TcpStream) -> io::Result<Result<Request, Answer>> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        match parse_head(&buf) {
            Some(parsed) => return Ok(parsed),
            None if buf.len() >= MAX_HEAD => {
                return Ok(Err(Answer::text(431, "request head too large")))
            }
            None => {}
        }
    }
}

/// The request in `buf` if its head is complete (`None`: read more).
fn parse_head(buf: &[u8]) -> Option<Result<Request, Answer>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(buf) {
        Ok(httparse::Status::Partial) => None,
        Ok(httparse::Status::Complete(_)) => Some(Ok(Request {
            method: request.method.unwrap_or_default().to_string(),
            target: request.path.unwrap_or_default().to_string(),
        })),
        Err(e) => Some(Err(Answer::text(400, format!("malformed request: {e}")))),
    }
}

fn route(request: &Request, endpoints: &Endpoints) -> Answer {
    if request.method != "GET" && request.method != "HEAD" {
        return Answer::text(405, "only GET and HEAD");
    }
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let app = &endpoints.app;
    match segments.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["metrics"] => Answer {
            status: 200,
            content_type: "application/openmetrics-text; version=1.0.0; charset=utf-8",
            body: endpoints.metrics.render(app),
        },
        ["health"] => Answer::verdict(app.with_core(|core, now| core.health(now))),
        ["primary" | "master", master] => {
            Answer::verdict(app.with_core(|core, now| core.primary_health(master, now)))
        }
        ["replica", master] => match lag_limit(query) {
            Ok(lag) => {
                Answer::verdict(app.with_core(|core, now| core.replica_health(master, lag, now)))
            }
            Err(answer) => answer,
        },
        ["history"] => history(app, None),
        ["history", master] => history(app, Some(master)),
        _ => Answer::text(
            404,
            "not found: /metrics, /health, /primary/<master>, /replica/<master>[?lag=<bytes>], \
             /history[/<master>]",
        ),
    }
}

/// `GET /history[/<master>]`: `{"<master>": [<record>, ...], ...}`, newest record first.
fn history(app: &App, only: Option<&str>) -> Answer {
    let names = match only {
        Some(name) => vec![name.to_string()],
        None => app.master_names(),
    };
    let mut out = serde_json::Map::new();
    for name in names {
        let args = [Bytes::from_static(b"HISTORY"), Bytes::from(name.clone())];
        match app.sentinel_command(&args).0 {
            Reply::Error(e) => return Answer::text(404, e),
            reply => out.insert(name, json(&reply)),
        };
    }
    let mut body = serde_json::Value::Object(out).to_string();
    body.push('\n');
    Answer {
        status: 200,
        content_type: "application/json",
        body,
    }
}

/// A reply as JSON: maps become objects, arrays arrays, scalars numbers or strings.
fn json(reply: &Reply) -> serde_json::Value {
    use serde_json::Value;
    match reply {
        Reply::Map(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_text().unwrap_or_default(), json(v)))
                .collect(),
        ),
        Reply::Array(items) | Reply::Set(items) => Value::Array(items.iter().map(json).collect()),
        Reply::Int(n) => Value::from(*n),
        Reply::Double(d) => Value::from(*d),
        Reply::Bool(b) => Value::from(*b),
        Reply::Null | Reply::NullArray => Value::Null,
        other => Value::from(other.to_text().unwrap_or_default()),
    }
}

/// The `lag=<bytes>` parameter of a query string, if given.
fn lag_limit(query: &str) -> Result<Option<u64>, Answer> {
    let Some(value) = query.split('&').find_map(|pair| pair.strip_prefix("lag=")) else {
        return Ok(None);
    };
    value
        .parse()
        .map(Some)
        .map_err(|_| Answer::text(400, format!("lag must be a number of bytes, not {value:?}")))
}

async fn write_answer(mut stream: TcpStream, answer: &Answer, with_body: bool) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.status,
        reason(answer.status),
        answer.content_type,
        answer.body.len()
    );
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        if with_body {
            stream.write_all(answer.body.as_bytes()).await?;
        }
        stream.shutdown().await
    };
    tokio::time::timeout(WRITE_TIMEOUT, write)
        .await
        .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn heads_are_parsed_or_refused_with_a_status() {
        let complete = parse_head(b"GET /primary/my%20master HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(
            complete,
            Some(Ok(Request {
                method: "GET".into(),
                target: "/primary/my%20master".into()
            }))
        );
        assert_eq!(parse_head(b"GET /health HTTP/1.1\r\nHost:"), None);
        let Some(Err(bad)) = parse_head(b"GET /health HTTP/9\r\n\r\n") else {
            panic!("a bad version must be refused");
        };
        assert_eq!(bad.status, 400);
    }

    #[test]
    fn lag_limits_are_bytes() {
        assert_eq!(lag_limit(""), Ok(None));
        assert_eq!(lag_limit("x=1&lag=1024"), Ok(Some(1024)));
        assert_eq!(lag_limit("lag=1MB").unwrap_err().status, 400);
        assert_eq!(lag_limit("lag=-1").unwrap_err().status, 400);
    }

    proptest! {
        /// Whatever bytes arrive, the parser answers, asks for more, or refuses: it never
        /// panics, and a refusal is a 4xx.
        #[test]
        fn any_bytes_are_safe(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            match parse_head(&bytes) {
                None | Some(Ok(_)) => {}
                Some(Err(answer)) => prop_assert!((400..500).contains(&answer.status)),
            }
        }
    }
}
