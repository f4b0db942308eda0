//! Links against a real `redis-server` on loopback, and against fake hostile servers.

use super::*;
use crate::driver::testing::Recorder;
use tokio::net::TcpListener;
use warden_core::Reply;
use warden_integration::ports::free_port;
use warden_integration::servers::RedisServer;

const WAIT: Duration = Duration::from_secs(10);

fn cmd(words: &[&str]) -> Vec<Bytes> {
    words
        .iter()
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect()
}

async fn expect_up(recorder: &Recorder, link: LinkId) {
    match recorder.next(WAIT).await {
        Input::LinkUp {
            link: got,
            local_ip,
        } if got == link => assert_eq!(local_ip, "127.0.0.1"),
        other => panic!("expected LinkUp for {link}, got {other:?}"),
    }
}

async fn expect_reply(recorder: &Recorder, link: LinkId) -> Reply {
    match recorder.next(WAIT).await {
        Input::Reply { link: got, reply } if got == link => reply,
        other => panic!("expected a reply on {link}, got {other:?}"),
    }
}

#[tokio::test]
async fn talks_to_a_real_redis_server() {
    let server = RedisServer::start().expect("redis-server starts");
    let port = server.port;
    let recorder = Recorder::new();
    let mut links = Links::new(recorder.sink(), Outgoing::default());

    links.connect(1, LinkKind::Cmd, "127.0.0.1".into(), port);
    expect_up(&recorder, 1).await;
    links.send(1, vec![cmd(&["PING"]), cmd(&["INFO"])]);
    assert_eq!(
        expect_reply(&recorder, 1).await,
        Reply::Status("PONG".into())
    );
    let info = expect_reply(&recorder, 1).await;
    assert!(
        info.as_str()
            .is_some_and(|text| text.contains("\r\nrole:master\r\n")),
        "{info:?}"
    );
    links.send(1, vec![cmd(&["NOSUCHCOMMAND"])]);
    match expect_reply(&recorder, 1).await {
        Reply::Error(text) => assert!(text.starts_with("ERR unknown command"), "{text}"),
        other => panic!("{other:?}"),
    }

    links.connect(2, LinkKind::PubSub, "127.0.0.1".into(), port);
    expect_up(&recorder, 2).await;
    links.send(2, vec![cmd(&["SUBSCRIBE", "__sentinel__:hello"])]);
    assert_eq!(
        expect_reply(&recorder, 2).await,
        Reply::Array(vec![
            Reply::bulk("subscribe"),
            Reply::bulk("__sentinel__:hello"),
            Reply::Int(1)
        ])
    );

    links.send(
        1,
        vec![cmd(&[
            "PUBLISH",
            "__sentinel__:hello",
            "127.0.0.1,26379,abc,0,m,127.0.0.1,6379,0",
        ])],
    );
    let (mut published, mut delivered) = (false, false);
    for _ in 0..2 {
        match recorder.next(WAIT).await {
            Input::Reply {
                link: 1,
                reply: Reply::Int(1),
            } => published = true,
            Input::Message {
                link: 2,
                channel,
                payload,
            } => {
                assert_eq!(&channel[..], b"__sentinel__:hello");
                assert_eq!(&payload[..], b"127.0.0.1,26379,abc,0,m,127.0.0.1,6379,0");
                delivered = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(published && delivered);

    // A closed link reports nothing more, even when its server dies.
    links.connect(3, LinkKind::Cmd, "127.0.0.1".into(), port);
    expect_up(&recorder, 3).await;
    links.close(3);

    drop(server);
    let mut down = Vec::new();
    for _ in 0..2 {
        match recorder.next(WAIT).await {
            Input::LinkDown { link, .. } => down.push(link),
            other => panic!("unexpected {other:?}"),
        }
    }
    down.sort();
    assert_eq!(down, [1, 2]);

    // Nothing else arrives before the outcome of a later link (refused: the server is gone).
    links.connect(4, LinkKind::Cmd, "127.0.0.1".into(), port);
    match recorder.next(WAIT).await {
        Input::LinkDown { link: 4, reason } => assert_eq!(reason, "Connection refused"),
        other => panic!("unexpected {other:?}"),
    }
}

/// Accept one connection on a fresh loopback port and send it `bytes`.
async fn hostile_server(bytes: Vec<u8>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        socket.write_all(&bytes).await.unwrap();
        // Keep the connection open: the link must close it by itself.
        let mut sink = Vec::new();
        let _ = socket.read_to_end(&mut sink).await;
    });
    port
}

#[tokio::test]
async fn oversized_or_hostile_replies_close_the_link() {
    let huge_bulk = format!("+OK\r\n${}\r\nxxxxxxxx", 1u64 << 40).into_bytes();
    let deep = "*1\r\n".repeat(1000).into_bytes();
    let garbage = b"+OK\r\n?\r\n".to_vec();
    for (link, bytes, expected) in [
        (1, huge_bulk, "reply too large"),
        (2, deep, "reply too large"),
        (3, garbage, "protocol error"),
    ] {
        let recorder = Recorder::new();
        let mut links = Links::new(recorder.sink(), Outgoing::default());
        let port = hostile_server(bytes).await;
        links.connect(link, LinkKind::Cmd, "127.0.0.1".into(), port);
        expect_up(&recorder, link).await;
        if link != 2 {
            assert_eq!(
                expect_reply(&recorder, link).await,
                Reply::Status("OK".into())
            );
        }
        match recorder.next(WAIT).await {
            Input::LinkDown { link: got, reason } if got == link => {
                assert!(reason.starts_with(expected), "{reason}")
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn unresolvable_or_refused_hosts_report_link_down() {
    let recorder = Recorder::new();
    let mut links = Links::new(recorder.sink(), Outgoing::default());
    let port = free_port();
    links.connect(1, LinkKind::Cmd, "127.0.0.1".into(), port);
    match recorder.next(WAIT).await {
        Input::LinkDown { link: 1, reason } => assert_eq!(reason, "Connection refused"),
        other => panic!("unexpected {other:?}"),
    }
    links.connect(2, LinkKind::Cmd, "no-such-host.invalid".into(), 6379);
    assert!(matches!(
        recorder.next(WAIT).await,
        Input::LinkDown { link: 2, .. }
    ));
}

#[test]
fn hostnames_resolve_to_addresses() {
    assert_eq!(resolve_host("127.0.0.1").as_deref(), Some("127.0.0.1"));
    assert_eq!(resolve_host("::1").as_deref(), Some("::1"));
    let localhost = resolve_host("localhost").expect("localhost resolves");
    assert!(
        localhost == "127.0.0.1" || localhost == "::1",
        "{localhost}"
    );
}

#[tokio::test]
async fn connections_leave_from_the_configured_source_address() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let recorder = Recorder::new();
    let source: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let mut links = Links::new(
        recorder.sink(),
        Outgoing {
            source: Some(source),
            tls: None,
        },
    );
    links.connect(1, LinkKind::Cmd, "127.0.0.1".into(), port);
    let (_socket, peer) = listener.accept().await.unwrap();
    assert_eq!(peer.ip(), source);
    match recorder.next(WAIT).await {
        Input::LinkUp { link: 1, local_ip } => assert_eq!(local_ip, "127.0.0.2"),
        other => panic!("unexpected {other:?}"),
    }
    // No address of the source's family: the link fails instead of leaving from elsewhere.
    links.connect(2, LinkKind::Cmd, "::1".into(), port);
    assert!(matches!(
        recorder.next(WAIT).await,
        Input::LinkDown { link: 2, .. }
    ));
}
