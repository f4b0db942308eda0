//! Conflict watch: an AF_PACKET datagram socket that receives the ARP messages seen on one
//! interface, read by a tokio task that forwards the senders claiming one address.

use crate::backend::ArpWatch;
use crate::frames::{arp_sender, Mac, ETHERTYPE_ARP};
use crate::linux::packet::link_addr;
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{self, Read};
use std::net::Ipv4Addr;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::mpsc::{self, UnboundedSender};

/// Opens the socket on interface `index` in the calling thread's network namespace (needs
/// CAP_NET_RAW) and spawns its reader on the current tokio runtime; the reader ends when the
/// receiver is dropped.
pub(crate) fn spawn(index: u32, addr: Ipv4Addr) -> io::Result<ArpWatch> {
    let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    let protocol = Protocol::from(i32::from(ETHERTYPE_ARP.to_be()));
    let socket = Socket::new(Domain::PACKET, Type::DGRAM.cloexec(), Some(protocol))?;
    socket.bind(&link_addr(index, ETHERTYPE_ARP, &[0; 6])?)?;
    socket.set_nonblocking(true)?;
    // SAFETY: `Socket` owns its descriptor, keeps it open until it is dropped (which happens
    // only with the AsyncFd), and always returns the same one from `as_raw_fd`.
    let fd = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) }
        .map_err(|e| e.into_parts().1)?;
    let (tx, rx) = mpsc::unbounded_channel();
    runtime.spawn(read_loop(fd, addr, tx));
    Ok(rx)
}

async fn read_loop(fd: AsyncFd<Socket>, addr: Ipv4Addr, tx: UnboundedSender<Mac>) {
    let mut buf = [0u8; 128];
    loop {
        let mut guard = tokio::select! {
            _ = tx.closed() => return,
            ready = fd.readable() => match ready {
                Ok(guard) => guard,
                Err(_) => return,
            },
        };
        loop {
            match guard.try_io(|inner| (&mut inner.get_ref()).read(&mut buf)) {
                Err(_would_block) => break,
                Ok(Ok(n)) => {
                    if let Some((mac, ip)) = arp_sender(&buf[..n]) {
                        if ip == addr && tx.send(mac).is_err() {
                            return;
                        }
                    }
                }
                Ok(Err(_)) => return,
            }
        }
    }
}
