//! Address-change subscription: a netlink socket in the IPv4/IPv6 address multicast groups,
//! read by a tokio task that forwards decoded events.

use crate::backend::{AddrEvent, AddrWatch};
use crate::linux::address_of;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};
use std::io;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::mpsc::{self, UnboundedSender};

/// Kernel receive buffer for the subscription; a burst of changes beyond it is reported
/// as [`AddrEvent::Lost`].
const RCVBUF: usize = 1024 * 1024;

/// Opens the subscription in the calling thread's network namespace and spawns its reader
/// on the current tokio runtime.
pub(crate) fn spawn() -> io::Result<AddrWatch> {
    let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    socket.add_membership(libc::RTNLGRP_IPV4_IFADDR)?;
    socket.add_membership(libc::RTNLGRP_IPV6_IFADDR)?;
    socket.set_rx_buf_sz(RCVBUF)?;
    socket.set_non_blocking(true)?;
    // SAFETY: `Socket` owns its descriptor, keeps it open until it is dropped (which happens
    // only with the AsyncFd), and always returns the same one from `as_raw_fd`.
    let fd = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) }
        .map_err(|e| e.into_parts().1)?;
    let (tx, rx) = mpsc::unbounded_channel();
    runtime.spawn(read_loop(fd, tx));
    Ok(rx)
}

async fn read_loop(fd: AsyncFd<Socket>, tx: UnboundedSender<AddrEvent>) {
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        let mut guard = tokio::select! {
            _ = tx.closed() => return,
            ready = fd.readable() => match ready {
                Ok(guard) => guard,
                Err(_) => return,
            },
        };
        loop {
            buf.clear();
            match guard.try_io(|inner| inner.get_ref().recv(&mut buf, 0)) {
                Err(_would_block) => break,
                Ok(Ok(_)) => {
                    for event in decode(&buf) {
                        if tx.send(event).is_err() {
                            return;
                        }
                    }
                }
                Ok(Err(e)) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    if tx.send(AddrEvent::Lost).is_err() {
                        return;
                    }
                }
                Ok(Err(_)) => return,
            }
        }
    }
}

/// Decodes the address events in one datagram; undecodable messages are skipped.
fn decode(datagram: &[u8]) -> Vec<AddrEvent> {
    let mut events = Vec::new();
    let mut offset = 0;
    while offset < datagram.len() {
        let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&datagram[offset..])
        else {
            break;
        };
        let len = msg.header.length as usize;
        if len == 0 {
            break;
        }
        offset += (len + 3) & !3;
        let (added, m) = match msg.payload {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(m)) => (true, m),
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(m)) => (false, m),
            _ => continue,
        };
        let Some(addr) = address_of(&m) else { continue };
        let (index, prefix) = (m.header.index, m.header.prefix_len);
        events.push(if added {
            AddrEvent::Added {
                index,
                addr,
                prefix,
            }
        } else {
            AddrEvent::Removed {
                index,
                addr,
                prefix,
            }
        });
    }
    events
}
