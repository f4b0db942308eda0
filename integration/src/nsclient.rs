//! A blocking RESP client whose socket is opened inside a test bed's network namespace.
//!
//! The socket is created on a short-lived thread that entered the namespace
//! ([`TestBed::spawn_in`]); once connected it belongs to that namespace for good and can be
//! used from any thread. Every connect, read and write has a timeout, so a cut link or a dead
//! peer fails a call instead of hanging it.

use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::netns::TestBed;
use crate::resp::{encode_command, read_value, Value};

/// One connection made from inside node `i` of a bed.
pub struct NsClient {
    reader: BufReader<TcpStream>,
}

impl NsClient {
    /// Connects from inside node `node` of `bed` to `addr`, waiting at most `timeout` for the
    /// connection and then for each read and write.
    pub fn connect(
        bed: &TestBed,
        node: usize,
        addr: SocketAddr,
        timeout: Duration,
    ) -> io::Result<NsClient> {
        let stream = bed
            .spawn_in(node, move || TcpStream::connect_timeout(&addr, timeout))
            .join()
            .map_err(|_| io::Error::other("connect thread panicked"))???;
        NsClient::from_stream(stream, timeout)
    }

    /// Wraps a connected stream (opened in whatever namespace) with `timeout` on reads and
    /// writes.
    pub fn from_stream(stream: TcpStream, timeout: Duration) -> io::Result<NsClient> {
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(NsClient {
            reader: BufReader::new(stream),
        })
    }

    /// Sends one command and reads one reply.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Value> {
        self.send(args)?;
        self.read()
    }

    /// Sends one command without reading (e.g. `SUBSCRIBE`, whose replies come one per
    /// channel).
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        self.reader.get_mut().write_all(&encode_command(args))
    }

    /// Reads one value (a reply or a pushed message).
    pub fn read(&mut self) -> io::Result<Value> {
        read_value(&mut self.reader)
    }

    /// Changes the read timeout (e.g. a short one to poll a subscription).
    pub fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.reader.get_ref().set_read_timeout(Some(timeout))
    }
}

/// Whether an I/O error is a read or write timeout (the call may be retried; the stream may
/// hold a partial reply, so a caller that retries should reconnect).
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
