//! A blocking RESP connection with explicit timeouts, for clients that must fail fast when a
//! server dies (the harness's own client waits up to 10 s for a reply).

use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use warden_integration::resp::{encode_command, read_value, Value};

/// One connection to a RESP server.
pub struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    /// Connect to `addr` (`ip:port`) within `timeout`; later reads and writes time out after
    /// `timeout` too (`None`: block).
    pub fn connect(addr: &str, timeout: Option<Duration>) -> io::Result<Conn> {
        let addr: SocketAddr = addr.to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no address in {addr:?}"),
            )
        })?;
        let stream = match timeout {
            Some(t) => TcpStream::connect_timeout(&addr, t)?,
            None => TcpStream::connect(addr)?,
        };
        stream.set_read_timeout(timeout)?;
        stream.set_write_timeout(timeout)?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(stream),
        })
    }

    /// Send one command and read one reply; an error reply becomes an `Err`.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Value> {
        self.reader.get_mut().write_all(&encode_command(args))?;
        match read_value(&mut self.reader)? {
            Value::Error(e) => Err(io::Error::other(e)),
            reply => Ok(reply),
        }
    }
}
