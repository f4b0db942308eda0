//! A minimal RESP2 client for the demo: request/reply calls with a timeout, and a `PSUBSCRIBE *`
//! connection that yields every published message.
//!
//! It only ever talks to servers the demo started itself on loopback, so it relies on
//! `redis-protocol`'s codec for framing and keeps no limits of its own.

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use redis_protocol::codec::Resp2;
use redis_protocol::resp2::types::{BytesFrame, Resp2Frame};
use std::io;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// How long a connect or a reply may take before the call fails.
const TIMEOUT: Duration = Duration::from_secs(2);

/// One connection to a server on 127.0.0.1.
pub struct Conn {
    framed: Framed<TcpStream, Resp2>,
}

impl Conn {
    /// Connect to `127.0.0.1:port`.
    pub async fn connect(port: u16) -> io::Result<Conn> {
        let stream = within(TcpStream::connect(("127.0.0.1", port))).await??;
        stream.set_nodelay(true)?;
        Ok(Conn {
            framed: Framed::new(stream, Resp2),
        })
    }

    /// Send one command and return its reply; an error reply becomes an `Err`.
    pub async fn call(&mut self, args: &[&str]) -> io::Result<BytesFrame> {
        let command = BytesFrame::Array(
            args.iter()
                .map(|a| BytesFrame::BulkString(Bytes::copy_from_slice(a.as_bytes())))
                .collect(),
        );
        within(self.framed.send(command)).await?.map_err(protocol)?;
        match within(self.next()).await?? {
            BytesFrame::Error(e) => Err(io::Error::other(format!("{}: {e}", args.join(" ")))),
            reply => Ok(reply),
        }
    }

    /// `PSUBSCRIBE *`, waiting for the server's confirmation (so nothing published afterwards
    /// is missed).
    pub async fn psubscribe_all(mut self) -> io::Result<Subscription> {
        self.call(&["PSUBSCRIBE", "*"]).await?;
        Ok(Subscription { conn: self })
    }

    /// The next frame from the server (`UnexpectedEof` when it closed the connection).
    async fn next(&mut self) -> io::Result<BytesFrame> {
        match self.framed.next().await {
            Some(frame) => frame.map_err(protocol),
            None => Err(io::ErrorKind::UnexpectedEof.into()),
        }
    }
}

/// A connection in pattern-subscribed mode.
pub struct Subscription {
    conn: Conn,
}

impl Subscription {
    /// The next published message as `(channel, payload)`, skipping anything else.
    pub async fn message(&mut self) -> io::Result<(String, String)> {
        loop {
            if let BytesFrame::Array(parts) = self.conn.next().await? {
                if let [kind, _pattern, channel, payload] = parts.as_slice() {
                    if kind.as_str() == Some("pmessage") {
                        return Ok((text(channel), text(payload)));
                    }
                }
            }
        }
    }
}

/// A string or bulk reply as text (lossy), empty for other types.
pub fn text(frame: &BytesFrame) -> String {
    frame
        .as_bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// A flat `[key, value, key, value, ...]` reply (e.g. `SENTINEL MASTER`) as pairs.
pub fn pairs(frame: &BytesFrame) -> Vec<(String, String)> {
    match frame {
        BytesFrame::Array(items) => items
            .chunks_exact(2)
            .map(|kv| (text(&kv[0]), text(&kv[1])))
            .collect(),
        _ => Vec::new(),
    }
}

/// The value of `key` in [`pairs`].
pub fn field<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The value of `field` in an `INFO` reply's `field:value` lines.
pub fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines().find_map(|line| {
        line.trim_end()
            .strip_prefix(field)
            .and_then(|rest| rest.strip_prefix(':'))
    })
}

/// Run `future` with [`TIMEOUT`].
async fn within<F: std::future::Future>(future: F) -> io::Result<F::Output> {
    tokio::time::timeout(TIMEOUT, future)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no reply within 2 s"))
}

fn protocol(e: redis_protocol::error::RedisProtocolError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flat_maps_and_info_fields() {
        let reply = BytesFrame::Array(vec![
            BytesFrame::BulkString(Bytes::from_static(b"name")),
            BytesFrame::BulkString(Bytes::from_static(b"mymaster")),
            BytesFrame::BulkString(Bytes::from_static(b"num-slaves")),
            BytesFrame::BulkString(Bytes::from_static(b"2")),
        ]);
        let map = pairs(&reply);
        assert_eq!(field(&map, "num-slaves"), Some("2"));
        assert_eq!(field(&map, "missing"), None);
        let info = "# Replication\r\nrole:slave\r\nmaster_link_status:up\r\n";
        assert_eq!(info_field(info, "role"), Some("slave"));
        assert_eq!(info_field(info, "master_link_status"), Some("up"));
        assert_eq!(info_field(info, "master"), None);
    }
}
