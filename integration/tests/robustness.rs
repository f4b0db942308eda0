//! Malformed input over raw TCP: garbage bytes, oversized and invalid frame headers, unknown and inline
//! commands. Each byte string goes to Warden and to the reference `redis-sentinel`; the replies and whether
//! the connection is closed must match, and both servers must keep serving afterwards.

use std::time::Duration;

use warden_integration::bed::SideBySide;
use warden_integration::resp::{encode_command, Value};
use warden_integration::servers::SentinelServer;
use warden_integration::shape::{compare, Rules};
use warden_integration::wait::wait_until;

/// A command appended to cases that leave the connection open; its echo ends the exchange.
const MARKER: &str = "warden-robustness-marker";
/// Cases whose name ends with this get no marker: the server must answer and close by itself.
const CLOSES: &str = "(closes)";

fn bed() -> SideBySide {
    SideBySide::start(0).unwrap_or_else(|e| panic!("cannot start the side-by-side bed: {e}"))
}

/// Sends `bytes` (then, unless the case must end the connection by itself, the marker PING) in one
/// write; returns the replies up to the marker's echo or the server closing the connection, and whether
/// it closed it.
fn exchange(case: &str, sentinel: &SentinelServer, bytes: &[u8]) -> (Vec<Value>, bool) {
    let mut client = sentinel
        .client()
        .unwrap_or_else(|e| panic!("{}: connect: {e}", sentinel.flavor));
    let mut request = bytes.to_vec();
    if !case.ends_with(CLOSES) {
        request.extend(encode_command(&["PING", MARKER]));
    }
    client
        .send_raw(&request)
        .unwrap_or_else(|e| panic!("{}: send: {e}", sentinel.flavor));
    let marker = Value::Bulk(MARKER.as_bytes().to_vec());
    client
        .read_until(|v| *v == marker)
        .unwrap_or_else(|e| panic!("{case}: {}: read: {e}", sentinel.flavor))
}

/// Asserts that a new connection gets PONG.
fn assert_serving(sentinel: &SentinelServer, after: &str) {
    let reply = sentinel.client().and_then(|mut c| c.call(&["PING"]));
    assert!(
        matches!(&reply, Ok(Value::Simple(s)) if s == "PONG"),
        "{} stopped serving after {after}: {reply:?}\n{}",
        sentinel.flavor,
        sentinel.process.output_tail(20)
    );
}

#[test]
fn malformed_requests_get_redis_replies_and_the_server_keeps_serving() {
    let bed = bed();
    let mut big_ping = encode_command(&["PING", &"x".repeat(4 * 1024 * 1024)]);
    big_ping.extend(b"PING\r\n");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("non-numeric multibulk length", b"*abc\r\n".to_vec()),
        (
            "multibulk length above INT_MAX",
            b"*3000000000\r\n".to_vec(),
        ),
        ("huge bulk length", b"*1\r\n$999999999999\r\n".to_vec()),
        ("bulk length above 512 MB", b"*1\r\n$536870913\r\n".to_vec()),
        ("negative bulk length", b"*1\r\n$-1\r\n".to_vec()),
        ("bulk header missing", b"*1\r\nPING\r\n".to_vec()),
        (
            "integer instead of bulk",
            b"*2\r\n$4\r\nPING\r\n:5\r\n".to_vec(),
        ),
        ("inline request over 64 KB (closes)", vec![b'x'; 70_000]),
        ("unbalanced quotes inline", b"PING \"abc\r\n".to_vec()),
        (
            "garbage bytes inline",
            b"\x01\x02\xff garbage \x7f\r\n".to_vec(),
        ),
        ("unknown command inline", b"FOO bar baz\r\n".to_vec()),
        ("unknown command multibulk", encode_command(&["ECHO", "hi"])),
        ("wrong arity inline", b"ping hello world\r\n".to_vec()),
        ("empty lines", b"\r\n\r\n\n".to_vec()),
        ("empty and null multibulk", b"*0\r\n*-1\r\n".to_vec()),
        (
            "pipelined inline and multibulk",
            b"PING\r\nPING\n*1\r\n$4\r\nPING\r\nping\r\n".to_vec(),
        ),
        (
            "inline sentinel query",
            b"SENTINEL get-master-addr-by-name mymaster\r\n".to_vec(),
        ),
        (
            "inline quoted arguments",
            b"PING \"a b\\x41\" 'c'\r\nPING \"\\n\"\r\n".to_vec(),
        ),
        ("4 MB argument", big_ping),
    ];
    let mut mismatches = Vec::new();
    for (name, bytes) in &cases {
        let (r, r_closed) = exchange(name, &bed.reference, bytes);
        let (w, w_closed) = exchange(name, &bed.warden, bytes);
        let list = |v: Vec<Value>| Value::Array(v);
        for d in compare(&list(r), &list(w), Rules::EXACT) {
            mismatches.push(format!("{name}: replies {d}"));
        }
        if r_closed != w_closed {
            mismatches.push(format!(
                "{name}: redis-sentinel closed: {r_closed}, warden closed: {w_closed}"
            ));
        }
        assert_serving(&bed.reference, name);
        assert_serving(&bed.warden, name);
    }
    assert!(
        mismatches.is_empty(),
        "{} difference(s):\n  {}",
        mismatches.len(),
        mismatches.join("\n  ")
    );
}

#[test]
fn nul_bytes_unfinished_frames_and_dropped_connections_do_not_stop_the_server() {
    let bed = bed();
    let warden = &bed.warden;
    let connect = || warden.client().unwrap_or_else(|e| panic!("connect: {e}"));
    // Left open, each in the middle of something: NUL bytes inline, a 512 MB bulk that never comes,
    // a multibulk of 99,999,999 arguments that never come.
    let mut stalled = Vec::new();
    for bytes in [
        &b"\x00\x01garbage\r\n"[..],
        b"*1\r\n$536870912\r\nabc",
        b"*99999999\r\n$1\r\nx\r\n",
    ] {
        let mut c = connect();
        c.send_raw(bytes).unwrap_or_else(|e| panic!("send: {e}"));
        stalled.push(c);
    }
    // Connections that send half a frame and vanish.
    for _ in 0..50 {
        let mut c = connect();
        c.send_raw(b"*3\r\n$8\r\nSENTINEL\r\n$3\r\nMAS")
            .unwrap_or_else(|e| panic!("send: {e}"));
        c.shutdown_write()
            .unwrap_or_else(|e| panic!("shutdown: {e}"));
    }
    assert_serving(warden, "stalled and dropped connections");
    let addr = connect().call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]);
    let want = Value::Array(vec![
        Value::Bulk(b"127.0.0.1".to_vec()),
        Value::Bulk(bed.master.port.to_string().into()),
    ]);
    assert_eq!(
        addr.ok(),
        Some(want),
        "GET-MASTER-ADDR-BY-NAME beside stalled connections"
    );
    drop(stalled);
    assert_serving(warden, "closing the stalled connections");
}

#[test]
fn connections_beyond_maxclients_are_refused_and_the_server_keeps_serving() {
    const MAX: usize = 4;
    let bed = SideBySide::start_with(0, &["maxclients 4"])
        .unwrap_or_else(|e| panic!("cannot start the side-by-side bed: {e}"));
    let mut mismatches = Vec::new();
    let mut outcomes = Vec::new();
    for sentinel in bed.sentinels() {
        let name = sentinel.flavor;
        let mut held = Vec::new();
        for _ in 0..MAX {
            let mut c = sentinel
                .client()
                .unwrap_or_else(|e| panic!("{name}: connect: {e}"));
            let pong = c
                .call(&["PING"])
                .unwrap_or_else(|e| panic!("{name}: PING: {e}"));
            assert_eq!(
                pong,
                Value::Simple("PONG".into()),
                "{name}: connection below the limit"
            );
            held.push(c);
        }
        let mut over = sentinel
            .client()
            .unwrap_or_else(|e| panic!("{name}: connect: {e}"));
        over.send_raw(b"PING\r\n")
            .unwrap_or_else(|e| panic!("{name}: send: {e}"));
        let reply = over
            .read_until(|_| false)
            .unwrap_or_else(|e| panic!("{name}: read: {e}"));
        outcomes.push(reply);
        drop(held.pop());
        wait_until(
            Duration::from_secs(5),
            "a freed slot to be reusable",
            || match sentinel.client().and_then(|mut c| c.call(&["PING"])) {
                Ok(Value::Simple(s)) if s == "PONG" => Ok(()),
                other => Err(format!("{other:?}")),
            },
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let [(r, r_closed), (w, w_closed)] = [outcomes.remove(0), outcomes.remove(0)];
    let refused = r
        .first()
        .and_then(Value::as_error)
        .is_some_and(|e| e.contains("max number of clients"));
    assert!(
        refused && r_closed,
        "redis-sentinel over maxclients answered {r:?} (closed: {r_closed})"
    );
    for d in compare(&Value::Array(r), &Value::Array(w), Rules::EXACT) {
        mismatches.push(format!("connection over the limit: {d}"));
    }
    if r_closed != w_closed {
        mismatches.push(format!(
            "over the limit: redis-sentinel closed: {r_closed}, warden closed: {w_closed}"
        ));
    }
    assert!(
        mismatches.is_empty(),
        "{} difference(s):\n  {}",
        mismatches.len(),
        mismatches.join("\n  ")
    );
}
