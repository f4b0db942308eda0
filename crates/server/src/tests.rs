//! End-to-end tests: a real server on 127.0.0.1:0, spoken to with raw RESP, over the real
//! sentinel core (behind [`Core`], the same port the binary's `App` implements) or over a stub
//! of the port.

use super::{PubSubHub, SentinelPort, Server, ServerSettings, Shutdown, Wait};
use bytes::{Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use warden_core::config::{MasterConfig, SentinelConfig, ServerConfig};
use warden_core::{Options, Persist, Reply, Saved, Sentinel};

/// Upper bound for any single wait in these tests.
const DEADLINE: Duration = Duration::from_secs(10);

struct MemoryPersist;

impl Persist for MemoryPersist {
    fn save(&mut self, _: u64, _: SentinelConfig, _: bool) -> Result<Saved, String> {
        Ok(Saved::Durable)
    }
}

/// The real core behind the port, at time 0, with every save durable at once and its actions
/// dropped (nothing here runs links).
struct Core(Mutex<Sentinel>);

impl Core {
    fn with<R>(&self, f: impl FnOnce(&mut Sentinel) -> R) -> R {
        let mut core = self.0.lock().unwrap();
        let result = f(&mut core);
        while core.poll_action().is_some() {}
        result
    }
}

impl SentinelPort for Core {
    fn sentinel_command(&self, args: &[Bytes]) -> (Reply, Option<u64>) {
        self.with(|core| (core.command(args, 0), core.reply_barrier()))
    }
    fn receive_hello(&self, payload: &[u8]) {
        self.with(|core| core.receive_hello(payload, 0));
    }
    fn info_sentinel(&self) -> String {
        self.with(|core| core.info_section(0))
    }
    fn master_names(&self) -> Vec<String> {
        self.with(|core| core.master_names())
    }
    fn durable(&self, _: u64) -> Wait<'_> {
        Box::pin(std::future::ready(()))
    }
}

struct TestServer {
    addr: SocketAddr,
    hub: Arc<PubSubHub>,
    shutdown: Shutdown,
    task: JoinHandle<()>,
}

async fn start(configure: impl FnOnce(&mut ServerSettings)) -> TestServer {
    let mut config = SentinelConfig {
        myid: Some("a".repeat(40)),
        ..SentinelConfig::default()
    };
    config
        .masters
        .push(MasterConfig::new("mymaster", "127.0.0.1", 6379, 2));
    let options = Options::new(0, None, 1);
    let core = Sentinel::new(config, options, Box::new(MemoryPersist), 0).expect("core");
    start_with(Arc::new(Core(Mutex::new(core))), configure).await
}

/// A server over `app` on 127.0.0.1, port chosen by the kernel.
async fn start_with(
    app: Arc<dyn SentinelPort>,
    configure: impl FnOnce(&mut ServerSettings),
) -> TestServer {
    let server_config = ServerConfig {
        bind: vec!["127.0.0.1".into()],
        port: 0,
        ..ServerConfig::default()
    };
    let mut settings = ServerSettings::new(&server_config, "/tmp/sentinel.conf".into());
    configure(&mut settings);
    let hub = PubSubHub::new();
    let shutdown = Shutdown::new();
    let server = Server::bind(app, hub.clone(), settings, shutdown.clone(), None)
        .await
        .expect("bind");
    let addr = server.local_addrs()[0];
    let task = tokio::spawn(server.run());
    TestServer {
        addr,
        hub,
        shutdown,
        task,
    }
}

struct Client {
    stream: TcpStream,
    buf: BytesMut,
}

fn encode(words: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", words.len()).into_bytes();
    for w in words {
        out.extend_from_slice(format!("${}\r\n{w}\r\n", w.len()).as_bytes());
    }
    out
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        Client {
            stream: TcpStream::connect(addr).await.expect("connect"),
            buf: BytesMut::new(),
        }
    }

    async fn send(&mut self, raw: &[u8]) {
        self.stream.write_all(raw).await.expect("write");
    }

    /// The next complete reply, as raw text.
    async fn reply(&mut self) -> String {
        tokio::time::timeout(DEADLINE, async {
            loop {
                // RESP3 frames, or RESP2 ones the RESP3 decoder rejects (`$-1`, `*-1`).
                let resp3 = redis_protocol::resp3::decode::complete::decode(&self.buf)
                    .ok()
                    .flatten()
                    .map(|(_, n)| n);
                let resp2 = || {
                    redis_protocol::resp2::decode::decode(&self.buf)
                        .ok()
                        .flatten()
                        .map(|(_, n)| n)
                };
                if let Some(len) = resp3.or_else(resp2) {
                    let raw = self.buf.split_to(len);
                    return String::from_utf8_lossy(&raw).into_owned();
                }
                if self.stream.read_buf(&mut self.buf).await.expect("read") == 0 {
                    panic!("connection closed; pending {:?}", self.buf);
                }
            }
        })
        .await
        .expect("reply within deadline")
    }

    async fn cmd(&mut self, words: &[&str]) -> String {
        self.send(&encode(words)).await;
        self.reply().await
    }

    /// Wait for the server to close the connection; returns what it sent meanwhile.
    async fn closed(&mut self) -> String {
        tokio::time::timeout(DEADLINE, async {
            loop {
                match self.stream.read_buf(&mut self.buf).await {
                    Ok(0) | Err(_) => return String::from_utf8_lossy(&self.buf).into_owned(),
                    Ok(_) => {}
                }
            }
        })
        .await
        .expect("close within deadline")
    }
}

fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
}

#[tokio::test]
async fn ping_echo_and_unknown_commands() {
    let server = start(|_| {}).await;
    let mut c = Client::connect(server.addr).await;
    assert_eq!(c.cmd(&["PING"]).await, "+PONG\r\n");
    assert_eq!(c.cmd(&["ping", "hi"]).await, bulk("hi"));
    assert_eq!(
        c.cmd(&["ECHO", "a", "b"]).await,
        "-ERR unknown command 'ECHO', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        c.cmd(&["quit"]).await,
        "-ERR unknown command 'quit', with args beginning with: \r\n"
    );
    assert_eq!(
        c.cmd(&["sentinel"]).await,
        "-ERR wrong number of arguments for 'sentinel' command\r\n"
    );
    assert_eq!(
        c.cmd(&["sentinel", "nope"]).await,
        "-ERR unknown subcommand 'nope'. Try SENTINEL HELP.\r\n"
    );
    assert_eq!(
        c.cmd(&["sentinel", "set", "mymaster"]).await,
        "-ERR wrong number of arguments for 'sentinel|set' command\r\n"
    );
    assert_eq!(
        c.cmd(&["ROLE"]).await,
        format!("*2\r\n{}*1\r\n{}", bulk("sentinel"), bulk("mymaster"))
    );
    // Inline commands and pipelining.
    c.send(b"PING\r\nping \"a b\"\r\n*1\r\n$4\r\nPING\r\n")
        .await;
    assert_eq!(c.reply().await, "+PONG\r\n");
    assert_eq!(c.reply().await, bulk("a b"));
    assert_eq!(c.reply().await, "+PONG\r\n");
    server.shutdown.trigger();
    server.task.await.unwrap();
}

#[tokio::test]
async fn protocol_errors_close_only_the_offender() {
    let server = start(|_| {}).await;
    let mut good = Client::connect(server.addr).await;
    let mut bad = Client::connect(server.addr).await;
    bad.send(b"*1\r\n$4\r\nPING\r\n*1\r\n:4\r\n*1\r\n$4\r\nPING\r\n")
        .await;
    assert_eq!(
        bad.closed().await,
        "+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n"
    );
    let mut huge = Client::connect(server.addr).await;
    huge.send(b"*1\r\n$536870913\r\n").await;
    assert_eq!(
        huge.closed().await,
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    let mut garbage = Client::connect(server.addr).await;
    garbage
        .send(&vec![0xffu8; super::request::INLINE_MAX + 10])
        .await;
    assert_eq!(
        garbage.closed().await,
        "-ERR Protocol error: too big inline request\r\n"
    );
    let mut quotes = Client::connect(server.addr).await;
    quotes.send(b"ping \"oops\r\n").await;
    assert_eq!(
        quotes.closed().await,
        "-ERR Protocol error: unbalanced quotes in request\r\n"
    );
    assert_eq!(good.cmd(&["PING"]).await, "+PONG\r\n");
    server.shutdown.trigger();
    server.task.await.unwrap();
}

#[tokio::test]
async fn command_table_numbers() {
    let server = start(|_| {}).await;
    let mut c = Client::connect(server.addr).await;
    assert_eq!(c.cmd(&["COMMAND", "COUNT"]).await, ":15\r\n");
    let list = c.cmd(&["COMMAND", "LIST"]).await;
    assert!(list.starts_with("*72\r\n"), "{list}");
    for name in [
        "sentinel|is-master-down-by-addr",
        "acl|dryrun",
        "client|trackinginfo",
        "command|getkeysandflags",
    ] {
        assert!(list.contains(&bulk(name)), "{name}");
    }
    let info = c.cmd(&["COMMAND", "INFO", "ping"]).await;
    assert!(
        info.starts_with(&format!(
            "*1\r\n*10\r\n{}:-1\r\n*1\r\n+fast\r\n",
            bulk("ping")
        )),
        "{info}"
    );
    server.shutdown.trigger();
    server.task.await.unwrap();
}

#[tokio::test]
async fn info_sections() {
    let server = start(|_| {}).await;
    let mut c = Client::connect(server.addr).await;
    let all = c.cmd(&["INFO"]).await;
    for header in [
        "# Server\r\n",
        "# Clients\r\n",
        "# CPU\r\n",
        "# Stats\r\n",
        "# Sentinel\r\n",
    ] {
        assert!(all.contains(header), "{header}");
    }
    assert!(all.contains("redis_mode:sentinel\r\n"));
    assert!(all.contains("connected_clients:1\r\n"));
    assert!(!all.contains("used_memory"));
    assert_eq!(c.cmd(&["INFO", "nosuch"]).await, "$0\r\n\r\n");
    let cpu = c.cmd(&["INFO", "cpu", "nosuch"]).await;
    assert!(cpu.contains("\r\n# CPU\r\nused_cpu_sys:"), "{cpu}");
    assert!(!cpu.contains("# Server"));
    // Plain bulk string even in RESP3.
    c.cmd(&["HELLO", "3"]).await;
    assert!(c.cmd(&["INFO", "server"]).await.starts_with('$'));
    server.shutdown.trigger();
    server.task.await.unwrap();
}

#[tokio::test]
async fn hello_and_resp3_shapes() {
    let server = start(|_| {}).await;
    let mut c = Client::connect(server.addr).await;
    assert_eq!(
        c.cmd(&["HELLO", "4"]).await,
        "-NOPROTO unsupported protocol version\r\n"
    );
    assert_eq!(
        c.cmd(&["HELLO", "x"]).await,
        "-ERR Protocol version is not an integer or out of range\r\n"
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "auth", "a"]).await,
        "-ERR Syntax error in HELLO option 'auth'\r\n"
    );
    let hello = c.cmd(&["HELLO", "3", "SETNAME", "me"]).await;
    let expected = format!(
        "%6\r\n{}{}{}{}{}:3\r\n{}:1\r\n{}{}{}*0\r\n",
        bulk("server"),
        bulk("redis"),
        bulk("version"),
        bulk("7.0.15"),
        bulk("proto"),
        bulk("id"),
        bulk("mode"),
        bulk("sentinel"),
        bulk("modules")
    );
    assert_eq!(hello, expected);
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]).await, bulk("me"));
    assert!(c.cmd(&["CLIENT", "INFO"]).await.starts_with("="));
    assert_eq!(c.cmd(&["ACL", "GETUSER", "nobody"]).await, "_\r\n");
    server.shutdown.trigger();
    server.task.await.unwrap();
}

#[tokio::test]
async fn auth_and_acl_flows() {
    let server = start(|s| s.requirepass = Some("secret".into())).await;
    let mut c = Client::connect(server.addr).await;
    assert_eq!(
        c.cmd(&["PING"]).await,
        "-NOAUTH Authentication required.\r\n"
    );
    assert_eq!(
        c.cmd(&["AUTH", "wrong"]).await,
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert!(c
        .cmd(&["HELLO", "3"])
        .await
        .starts_with("-NOAUTH HELLO must be called"));
    // Pre-auth size limits.
    let mut big = Client::connect(server.addr).await;
    big.send(b"*11\r\n").await;
    assert_eq!(
        big.closed().await,
        "-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    assert_eq!(c.cmd(&["AUTH", "secret"]).await, "+OK\r\n");
    assert_eq!(c.cmd(&["ACL", "WHOAMI"]).await, bulk("default"));
    let log = c.cmd(&["ACL", "LOG"]).await;
    assert!(
        log.starts_with("*1\r\n*14\r\n") && log.contains(&bulk("auth")),
        "{log}"
    );
    assert_eq!(
        c.cmd(&[
            "ACL",
            "SETUSER",
            "app",
            "on",
            ">pw",
            "+ping",
            "+sentinel|get-master-addr-by-name",
            "&+*"
        ])
        .await,
        "+OK\r\n"
    );
    assert_eq!(
        c.cmd(&["ACL", "SETUSER", "app", "+nosuch"]).await,
        "-ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL\r\n"
    );
    assert_eq!(
        c.cmd(&["ACL", "USERS"]).await,
        format!("*2\r\n{}{}", bulk("app"), bulk("default"))
    );
    let list = c.cmd(&["ACL", "LIST"]).await;
    assert!(list.contains("user app on #"), "{list}");
    assert!(
        list.contains(" resetchannels &+* -@all +ping +sentinel|get-master-addr-by-name"),
        "{list}"
    );
    assert_eq!(
        c.cmd(&["ACL", "DRYRUN", "app", "role"]).await,
        bulk("This user has no permissions to run the 'role' command")
    );
    assert_eq!(c.cmd(&["ACL", "DRYRUN", "app", "ping"]).await, "+OK\r\n");

    let mut app = Client::connect(server.addr).await;
    assert_eq!(app.cmd(&["AUTH", "app", "pw"]).await, "+OK\r\n");
    assert_eq!(app.cmd(&["PING"]).await, "+PONG\r\n");
    assert_eq!(
        app.cmd(&["ROLE"]).await,
        "-NOPERM this user has no permissions to run the 'role' command\r\n"
    );
    assert_eq!(
        app.cmd(&["SENTINEL", "MASTERS"]).await,
        "-NOPERM this user has no permissions to run the 'sentinel|masters' command\r\n"
    );
    // Permission changes apply to connected clients at once.
    assert_eq!(c.cmd(&["ACL", "SETUSER", "app", "+role"]).await, "+OK\r\n");
    assert!(app.cmd(&["ROLE"]).await.starts_with("*2\r\n"));
    // Deleting the user disconnects its clients.
    assert_eq!(c.cmd(&["ACL", "DELUSER", "app", "ghost"]).await, ":1\r\n");
    assert_eq!(app.closed().await, "");
    assert_eq!(
        c.cmd(&["ACL", "DELUSER", "default"]).await,
        "-ERR The 'default' user cannot be removed\r\n"
    );
    server.shutdown.trigger();
    server.task.await.unwrap();
}

#[tokio::test]
async fn auth_without_password_configured() {
    let server = start(|_| {}).await;
    let mut c = Client::connect(server.addr).await;
    assert_eq!(
        c.cmd(&["AUTH", "x"]).await,
        "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"
    );
    assert_eq!(
        c.cmd(&["AUTH", "a", "b", "c"]).await,
        "-ERR syntax error\r\n"
    );
    server.shutdown.trigger();
    server.task.await.unwrap();
}

#[tokio::test]
async fn publish_and_subscribe() {
    let server = start(|_| {}).await;
    let mut c = Client::connect(server.addr).await;
    assert_eq!(
        c.cmd(&["PUBLISH", "foo", "bar"]).await,
        "-ERR Only HELLO messages are accepted by Sentinel instances.\r\n"
    );
    assert_eq!(
        c.cmd(&["PUBLISH", "__sentinel__:hello", "x"]).await,
        ":1\r\n"
    );
    assert_eq!(
        c.cmd(&["SUBSCRIBE", "+sdown"]).await,
        format!("*3\r\n{}{}:1\r\n", bulk("subscribe"), bulk("+sdown"))
    );
    assert_eq!(
        c.cmd(&["PSUBSCRIBE", "+*"]).await,
        format!("*3\r\n{}{}:2\r\n", bulk("psubscribe"), bulk("+*"))
    );
    assert_eq!(
        c.cmd(&["ROLE"]).await,
        "-ERR Can't execute 'role': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(
        c.cmd(&["PING"]).await,
        format!("*2\r\n{}$0\r\n\r\n", bulk("pong"))
    );
    assert_eq!(
        server
            .hub
            .publish("+sdown", "master mymaster 127.0.0.1 6379"),
        2
    );
    assert_eq!(
        c.reply().await,
        format!(
            "*3\r\n{}{}{}",
            bulk("message"),
            bulk("+sdown"),
            bulk("master mymaster 127.0.0.1 6379")
        )
    );
    assert_eq!(
        c.reply().await,
        format!(
            "*4\r\n{}{}{}{}",
            bulk("pmessage"),
            bulk("+*"),
            bulk("+sdown"),
            bulk("master mymaster 127.0.0.1 6379")
        )
    );
    assert_eq!(
        c.cmd(&["UNSUBSCRIBE"]).await,
        format!("*3\r\n{}{}:1\r\n", bulk("unsubscribe"), bulk("+sdown"))
    );
    assert_eq!(
        c.cmd(&["PUNSUBSCRIBE"]).await,
        format!("*3\r\n{}{}:0\r\n", bulk("punsubscribe"), bulk("+*"))
    );
    assert_eq!(
        c.cmd(&["UNSUBSCRIBE"]).await,
        format!("*3\r\n{}$-1\r\n:0\r\n", bulk("unsubscribe"))
    );
    // RESP3: push frames, and ordinary commands stay allowed.
    c.cmd(&["HELLO", "3"]).await;
    assert_eq!(
        c.cmd(&["SUBSCRIBE", "+odown"]).await,
        format!(">3\r\n{}{}:1\r\n", bulk("subscribe"), bulk("+odown"))
    );
    assert!(c.cmd(&["ROLE"]).await.starts_with("*2\r\n"));
    server.hub.publish("+odown", "x");
    assert_eq!(
        c.reply().await,
        format!(">3\r\n{}{}{}", bulk("message"), bulk("+odown"), bulk("x"))
    );
    server.shutdown.trigger();
    server.task.await.unwrap();
}

#[tokio::test]
async fn slow_subscriber_is_disconnected() {
    let server = start(|_| {}).await;
    let mut slow = Client::connect(server.addr).await;
    slow.cmd(&["SUBSCRIBE", "+tilt"]).await;
    let mut other = Client::connect(server.addr).await;
    // The subscriber never reads: its socket buffers fill, then its queue, then it is dropped.
    let payload = "x".repeat(64 * 1024);
    let dropped = tokio::time::timeout(DEADLINE, async {
        loop {
            server.hub.publish("+tilt", &payload);
            let list = other.cmd(&["CLIENT", "LIST"]).await;
            if !list.contains("cmd=subscribe") {
                return;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(dropped.is_ok(), "slow subscriber still connected");
    assert_eq!(other.cmd(&["PING"]).await, "+PONG\r\n");
    server.shutdown.trigger();
    server.task.await.unwrap();
}

#[tokio::test]
async fn client_subcommands() {
    let server = start(|_| {}).await;
    let mut a = Client::connect(server.addr).await;
    let mut b = Client::connect(server.addr).await;
    assert_eq!(a.cmd(&["CLIENT", "ID"]).await, ":1\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "SETNAME", "a b"]).await,
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "SETNAME", "alpha"]).await, "+OK\r\n");
    let list = b.cmd(&["CLIENT", "LIST"]).await;
    assert!(list.contains("id=1 addr=127.0.0.1:"), "{list}");
    assert!(list.contains(" name=alpha age="), "{list}");
    assert!(
        list.contains(" flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 "),
        "{list}"
    );
    assert!(
        list.contains(" cmd=client|list user=default redir=-1 resp=2\n"),
        "{list}"
    );
    assert_eq!(
        b.cmd(&["CLIENT", "LIST", "TYPE", "foo"]).await,
        "-ERR Unknown client type 'foo'\r\n"
    );
    assert_eq!(
        b.cmd(&["CLIENT", "NOPE"]).await,
        "-ERR unknown subcommand 'NOPE'. Try CLIENT HELP.\r\n"
    );
    assert_eq!(
        b.cmd(&["CLIENT", "KILL", "ID", "0"]).await,
        "-ERR client-id should be greater than 0\r\n"
    );
    assert_eq!(
        b.cmd(&["CLIENT", "TRACKINGINFO"]).await.lines().nth(3),
        Some("*1")
    );
    assert_eq!(b.cmd(&["CLIENT", "GETREDIR"]).await, ":-1\r\n");
    assert_eq!(
        b.cmd(&["CLIENT", "TRACKING", "on", "optin"]).await,
        "+OK\r\n"
    );
    assert_eq!(b.cmd(&["CLIENT", "CACHING", "yes"]).await, "+OK\r\n");
    assert_eq!(b.cmd(&["CLIENT", "GETREDIR"]).await, ":0\r\n");
    assert_eq!(b.cmd(&["CLIENT", "UNBLOCK", "1"]).await, ":0\r\n");
    // REPLY OFF/SKIP suppress replies.
    b.send(&encode(&["CLIENT", "REPLY", "SKIP"])).await;
    b.send(&encode(&["PING", "skipped"])).await;
    assert_eq!(b.cmd(&["PING", "seen"]).await, bulk("seen"));
    // Kill by id and by filters.
    assert_eq!(b.cmd(&["CLIENT", "KILL", "ID", "1"]).await, ":1\r\n");
    assert_eq!(a.closed().await, "");
    assert_eq!(
        b.cmd(&["CLIENT", "KILL", "USER", "nobody"]).await,
        "-ERR No such user 'nobody'\r\n"
    );
    assert_eq!(
        b.cmd(&["CLIENT", "KILL", "USER", "default"]).await,
        ":0\r\n"
    );
    server.shutdown.trigger();
    server.task.await.unwrap();
}

#[tokio::test]
async fn client_pause_all_delays_commands_until_unpause() {
    let server = start(|_| {}).await;
    let mut admin = Client::connect(server.addr).await;
    let mut other = Client::connect(server.addr).await;
    assert_eq!(admin.cmd(&["CLIENT", "PAUSE", "100000"]).await, "+OK\r\n");
    other.send(&encode(&["PING"])).await;
    let early = tokio::time::timeout(Duration::from_millis(200), other.reply()).await;
    assert!(early.is_err(), "PING answered during CLIENT PAUSE ALL");
    // ALL pauses even the admin's next command, as in Redis; end the pause from the server side.
    server.shutdown.trigger();
    server.task.await.unwrap();
}

#[tokio::test]
async fn maxclients_and_shutdown_command() {
    let server = start(|s| s.maxclients = 1).await;
    let mut first = Client::connect(server.addr).await;
    assert_eq!(first.cmd(&["PING"]).await, "+PONG\r\n");
    let mut second = Client::connect(server.addr).await;
    assert_eq!(
        second.closed().await,
        "-ERR max number of clients reached\r\n"
    );
    assert_eq!(
        first.cmd(&["SHUTDOWN", "ABORT"]).await,
        "-ERR No shutdown in progress.\r\n"
    );
    assert_eq!(
        first.cmd(&["SHUTDOWN", "SAVE", "NOSAVE"]).await,
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        first.cmd(&["SHUTDOWN", "ABORT", "RELEASE"]).await,
        "-ERR syntax error\r\n"
    );
    first.send(&encode(&["SHUTDOWN", "NOSAVE"])).await;
    assert_eq!(first.closed().await, "");
    assert!(server.shutdown.is_triggered());
    assert!(!server.shutdown.releases_vips(), "a plain stop keeps VIPs");
    server.task.await.unwrap();

    let server = start(|_| {}).await;
    let mut client = Client::connect(server.addr).await;
    client.send(&encode(&["SHUTDOWN", "release"])).await;
    assert_eq!(client.closed().await, "");
    assert!(server.shutdown.releases_vips());
    server.task.await.unwrap();
}

#[tokio::test]
async fn acl_change_disconnects_subscribers_that_lost_their_channels() {
    let server = start(|_| {}).await;
    let mut admin = Client::connect(server.addr).await;
    let ok = "+OK\r\n";
    assert_eq!(
        admin
            .cmd(&["ACL", "SETUSER", "sub", "on", "nopass", "+@all", "&ev*"])
            .await,
        ok
    );
    let mut sub = Client::connect(server.addr).await;
    assert_eq!(sub.cmd(&["AUTH", "sub", "x"]).await, ok);
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "other"]).await,
        "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n"
    );
    assert_eq!(
        sub.cmd(&["PSUBSCRIBE", "ev1*"]).await.lines().next(),
        Some(
            "-NOPERM this user has no permissions to access one of the channels used as arguments"
        )
    );
    assert!(sub.cmd(&["SUBSCRIBE", "ev1"]).await.starts_with("*3\r\n"));
    // Still allowed: stays connected.
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "sub", "&x"]).await, ok);
    assert_eq!(server.hub.publish("ev1", "hello"), 1);
    assert!(sub.reply().await.contains("hello"));
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "sub", "resetchannels"]).await,
        ok
    );
    assert_eq!(sub.closed().await, "");
    let log = admin.cmd(&["ACL", "LOG", "1"]).await;
    assert!(
        log.contains(&bulk("channel")) && log.contains(&bulk("ev1*")),
        "{log}"
    );
    server.shutdown.trigger();
    server.task.await.unwrap();
}

#[tokio::test]
async fn acl_file_save_and_load() {
    let dir = std::env::temp_dir().join(format!("warden-acl-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("users.acl");
    std::fs::write(
        &path,
        "user default on nopass ~* &* +@all\nuser ops on >pw +@all -sentinel|reset\n",
    )
    .unwrap();
    let file = path.clone();
    let server = start(move |s| s.aclfile = Some(file)).await;
    let mut c = Client::connect(server.addr).await;
    assert_eq!(
        c.cmd(&["ACL", "USERS"]).await,
        format!("*2\r\n{}{}", bulk("default"), bulk("ops"))
    );
    assert_eq!(
        c.cmd(&["ACL", "SETUSER", "extra", "on", ">x", "+ping"])
            .await,
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["ACL", "SAVE"]).await, "+OK\r\n");
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("user extra on #"), "{saved}");
    assert!(saved.contains("user ops on #"), "{saved}");
    std::fs::write(&path, "user default on nopass ~* &* +@all\nbogus line\n").unwrap();
    let err = c.cmd(&["ACL", "LOAD"]).await;
    assert!(err.starts_with("-ERR ") && err.contains(":2: "), "{err}");
    std::fs::write(&path, "user default on nopass ~* &* +@all\n").unwrap();
    assert_eq!(c.cmd(&["ACL", "LOAD"]).await, "+OK\r\n");
    assert_eq!(
        c.cmd(&["ACL", "USERS"]).await,
        format!("*1\r\n{}", bulk("default"))
    );
    server.shutdown.trigger();
    server.task.await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn users_in_config_and_aclfile_are_exclusive() {
    let mut settings = ServerSettings::new(&ServerConfig::default(), "/tmp/x.conf".into());
    settings.users = vec![vec!["u".into(), "on".into()]];
    settings.aclfile = Some("/tmp/users.acl".into());
    assert!(super::acl::Acl::from_settings(&settings).is_err());
    settings.aclfile = None;
    settings.users = vec![vec!["u".into(), "+nosuch".into()]];
    let err = super::acl::Acl::from_settings(&settings).unwrap_err();
    assert!(
        err.contains("Unknown command or category name in ACL"),
        "{err}"
    );
}

/// A stub of the port: canned answers, the arguments of each `SENTINEL` command and each hello
/// recorded, and saves that become durable only when the test says so.
#[derive(Default)]
struct Stub {
    commands: Mutex<Vec<Vec<String>>>,
    hellos: Mutex<Vec<Vec<u8>>>,
    durable: tokio::sync::watch::Sender<u64>,
}

impl SentinelPort for Stub {
    fn sentinel_command(&self, args: &[Bytes]) -> (Reply, Option<u64>) {
        let words = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        self.commands.lock().unwrap().push(words);
        (Reply::ok(), Some(7))
    }
    fn receive_hello(&self, payload: &[u8]) {
        self.hellos.lock().unwrap().push(payload.to_vec());
    }
    fn info_sentinel(&self) -> String {
        "sentinel_masters:2\r\nstub:yes\r\n".into()
    }
    fn master_names(&self) -> Vec<String> {
        vec!["m1".into(), "m2".into()]
    }
    fn durable(&self, generation: u64) -> Wait<'_> {
        let mut seen = self.durable.subscribe();
        Box::pin(async move {
            let _ = seen.wait_for(|d| *d >= generation).await;
        })
    }
}

/// The server reaches the sentinel only through the port: ROLE, INFO, SENTINEL and a peer's
/// hello each make the one call, and a reply that waits for a save is written once the port
/// says it is durable, not before.
#[tokio::test]
async fn the_server_speaks_to_the_sentinel_only_through_its_port() {
    let stub = Arc::new(Stub::default());
    let server = start_with(stub.clone(), |_| {}).await;
    let mut c = Client::connect(server.addr).await;
    assert_eq!(
        c.cmd(&["ROLE"]).await,
        format!(
            "*2\r\n{}*2\r\n{}{}",
            bulk("sentinel"),
            bulk("m1"),
            bulk("m2")
        )
    );
    let info = c.cmd(&["INFO", "sentinel"]).await;
    assert!(
        info.contains("# Sentinel\r\nsentinel_masters:2\r\nstub:yes"),
        "{info}"
    );
    assert_eq!(
        c.cmd(&["PUBLISH", "__sentinel__:hello", "10.0.0.1,26379,x"])
            .await,
        ":1\r\n"
    );
    assert_eq!(*stub.hellos.lock().unwrap(), [b"10.0.0.1,26379,x".to_vec()]);

    // SENTINEL RESET asks for save generation 7: no reply until it is durable.
    c.send(&encode(&["SENTINEL", "RESET", "*"])).await;
    let early = tokio::time::timeout(Duration::from_millis(200), c.reply()).await;
    assert!(early.is_err(), "replied before the save: {early:?}");
    assert_eq!(
        *stub.commands.lock().unwrap(),
        [vec!["RESET".to_string(), "*".to_string()]]
    );
    stub.durable.send_replace(7);
    assert_eq!(c.reply().await, "+OK\r\n");
    server.shutdown.trigger();
    server.task.await.unwrap();
}
