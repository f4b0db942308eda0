//! A synchronous rtnetlink request socket: send one request, collect its answer.

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use std::io;
use std::time::Duration;

/// How long to wait for the kernel's answer before giving up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);
/// Receive buffer per datagram (dumps are split by the kernel into datagrams of this order).
const RECV_BUF: usize = 64 * 1024;

/// Why a request failed.
#[derive(Debug)]
pub(crate) enum RequestError {
    /// The kernel answered with this errno.
    Kernel(io::Error),
    /// A malformed or unexpected answer.
    Protocol(String),
}

/// An rtnetlink socket bound in the network namespace of the thread that opened it.
pub(crate) struct RouteSocket {
    socket: Socket,
    sequence: u32,
}

impl RouteSocket {
    /// Opens and binds the socket; needs no privilege.
    pub(crate) fn open() -> io::Result<RouteSocket> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        set_recv_timeout(&socket, REPLY_TIMEOUT)?;
        Ok(RouteSocket {
            socket,
            sequence: 0,
        })
    }

    /// Sends `message` with `REQUEST|ACK|extra_flags` and returns every data message of the
    /// answer (for a dump: all parts until `NLMSG_DONE`; otherwise until the ACK).
    pub(crate) fn request(
        &mut self,
        message: RouteNetlinkMessage,
        extra_flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, RequestError> {
        self.sequence = self.sequence.wrapping_add(1);
        let sequence = self.sequence;
        let mut packet = NetlinkMessage::new(
            NetlinkHeader::default(),
            NetlinkPayload::InnerMessage(message),
        );
        packet.header.flags = NLM_F_REQUEST | NLM_F_ACK | extra_flags;
        packet.header.sequence_number = sequence;
        packet.finalize();
        let mut out = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut out);
        self.socket.send(&out, 0).map_err(RequestError::Kernel)?;

        let mut answers = Vec::new();
        let mut buf: Vec<u8> = Vec::with_capacity(RECV_BUF);
        loop {
            buf.clear();
            self.socket
                .recv(&mut buf, 0)
                .map_err(RequestError::Kernel)?;
            for msg in messages(&buf) {
                let msg = msg.map_err(RequestError::Protocol)?;
                if msg.header.sequence_number != sequence {
                    continue; // a late answer to an earlier, timed-out request
                }
                match msg.payload {
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(answers),
                            Some(_) => Err(RequestError::Kernel(e.to_io())),
                        };
                    }
                    NetlinkPayload::Done(_) => return Ok(answers),
                    // A dump ends with NLMSG_DONE, any other request with the ACK.
                    NetlinkPayload::InnerMessage(m) => answers.push(m),
                    _ => {}
                }
            }
        }
    }
}

/// The messages of one datagram, in order, up to and including the first that does not parse
/// (its error ends the walk: what follows it cannot be located).
pub(crate) fn messages(
    datagram: &[u8],
) -> impl Iterator<Item = Result<NetlinkMessage<RouteNetlinkMessage>, String>> + '_ {
    let mut offset = 0;
    std::iter::from_fn(move || {
        if offset >= datagram.len() {
            return None;
        }
        let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&datagram[offset..])
            .map_err(|e| e.to_string())
            .and_then(|msg| match msg.header.length as usize {
                0 => Err("zero-length message".to_string()),
                // Messages are 4-byte aligned within a datagram.
                len => Ok((msg, (len + 3) & !3)),
            });
        Some(match parsed {
            Ok((msg, len)) => {
                offset += len;
                Ok(msg)
            }
            Err(e) => {
                offset = datagram.len();
                Err(e)
            }
        })
    })
}

fn set_recv_timeout(socket: &Socket, timeout: Duration) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let tv = libc::timeval {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_usec: timeout.subsec_micros() as libc::suseconds_t,
    };
    // SAFETY: `tv` is a valid timeval that outlives the call; the fd is owned by `socket`.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
