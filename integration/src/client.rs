//! A small blocking RESP client for tests: typed calls, raw bytes, and end-of-stream detection.

use std::io::{self, BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use crate::resp::{encode_command, read_value, Value};

/// How long a read waits before the call fails (a hung server must fail the test, not hang it).
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// One connection to a RESP server on 127.0.0.1.
pub struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    /// Connects to `127.0.0.1:port` with [`READ_TIMEOUT`] on reads.
    pub fn connect(port: u16) -> io::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Client {
            reader: BufReader::new(stream),
        })
    }

    /// Sends one command and reads one reply.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Value> {
        self.send(args)?;
        self.read()
    }

    /// Sends one command and reads `replies` replies (SUBSCRIBE answers once per channel).
    pub fn call_n<A: AsRef<[u8]>>(&mut self, args: &[A], replies: usize) -> io::Result<Vec<Value>> {
        self.send(args)?;
        (0..replies).map(|_| self.read()).collect()
    }

    /// Sends one command without reading.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        self.send_raw(&encode_command(args))
    }

    /// Writes raw bytes (inline commands, garbage, partial frames).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.reader.get_mut().write_all(bytes)
    }

    /// Reads one value.
    pub fn read(&mut self) -> io::Result<Value> {
        read_value(&mut self.reader)
    }

    /// Reads values until `stop` accepts one (included) or the server closes the connection.
    /// Returns the values and whether the connection was closed.
    pub fn read_until(
        &mut self,
        mut stop: impl FnMut(&Value) -> bool,
    ) -> io::Result<(Vec<Value>, bool)> {
        let mut values = Vec::new();
        loop {
            match self.read() {
                Ok(v) => {
                    let done = stop(&v);
                    values.push(v);
                    if done {
                        return Ok((values, false));
                    }
                }
                Err(e) if is_closed(&e) => return Ok((values, true)),
                Err(e) => return Err(e),
            }
        }
    }

    /// Closes the sending half, telling the server no more requests follow.
    pub fn shutdown_write(&mut self) -> io::Result<()> {
        self.reader.get_ref().shutdown(Shutdown::Write)
    }
}

/// Whether a read error means the peer closed the connection.
pub fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
    )
}

/// Converts a list of string slices into owned arguments (handy for tables of commands).
pub fn args(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}
