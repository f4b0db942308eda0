//! Change subscriptions: a netlink socket in the IPv4/IPv6 address and link multicast groups
//! (or the route groups, for one routed VIP's prefix), read by a tokio task that forwards
//! decoded events.

use crate::backend::{NetEvent, NetWatch};
use crate::linux::netlink::messages;
use crate::linux::{address_of, route_destination};
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::link::LinkFlags;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};
use std::io;
use std::net::IpAddr;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

/// Kernel receive buffer for the subscription; a burst of changes beyond it is reported
/// as [`NetEvent::Lost`].
const RCVBUF: usize = 1024 * 1024;

/// Opens the subscription in the calling thread's network namespace and spawns its reader
/// on the current tokio runtime.
pub(crate) fn spawn() -> io::Result<NetWatch> {
    subscribe(
        &[
            libc::RTNLGRP_IPV4_IFADDR,
            libc::RTNLGRP_IPV6_IFADDR,
            libc::RTNLGRP_LINK,
        ],
        decode,
        NetEvent::Lost,
    )
}

/// Subscribes to route changes for exactly `addr/prefix` (a signal per notice, and one when
/// notices were lost), in the calling thread's network namespace.
pub(crate) fn spawn_route(addr: IpAddr, prefix: u8) -> io::Result<UnboundedReceiver<()>> {
    subscribe(
        &[libc::RTNLGRP_IPV4_ROUTE, libc::RTNLGRP_IPV6_ROUTE],
        move |datagram| {
            messages(datagram)
                .map_while(Result::ok)
                .filter(|msg| match &msg.payload {
                    NetlinkPayload::InnerMessage(
                        RouteNetlinkMessage::NewRoute(r) | RouteNetlinkMessage::DelRoute(r),
                    ) => route_destination(r) == Some((addr, prefix)),
                    _ => false,
                })
                .map(|_| ())
                .collect()
        },
        (),
    )
}

/// A netlink socket in `groups`, read by a task on the current tokio runtime that sends what
/// `decode` makes of each datagram, and `lost` when the socket overran.
fn subscribe<T: Clone + Send + 'static>(
    groups: &[u32],
    decode: impl Fn(&[u8]) -> Vec<T> + Send + 'static,
    lost: T,
) -> io::Result<UnboundedReceiver<T>> {
    let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
    let mut socket = Socket::new(NETLINK_ROUTE)?;
    socket.bind_auto()?;
    for &group in groups {
        socket.add_membership(group)?;
    }
    socket.set_rx_buf_sz(RCVBUF)?;
    socket.set_non_blocking(true)?;
    // SAFETY: `Socket` owns its descriptor, keeps it open until it is dropped (which happens
    // only with the AsyncFd), and always returns the same one from `as_raw_fd`.
    let fd = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) }
        .map_err(|e| e.into_parts().1)?;
    let (tx, rx) = mpsc::unbounded_channel();
    runtime.spawn(read_loop(fd, tx, decode, lost));
    Ok(rx)
}

async fn read_loop<T: Clone>(
    fd: AsyncFd<Socket>,
    tx: UnboundedSender<T>,
    decode: impl Fn(&[u8]) -> Vec<T>,
    lost: T,
) {
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
                    if tx.send(lost.clone()).is_err() {
                        return;
                    }
                }
                Ok(Err(_)) => return,
            }
        }
    }
}

/// Decodes the address and link events in one datagram of the kernel's notices; messages of
/// other kinds are skipped, and an undecodable message ends the datagram.
pub fn decode(datagram: &[u8]) -> Vec<NetEvent> {
    messages(datagram)
        .map_while(Result::ok)
        .filter_map(|msg| match msg.payload {
            NetlinkPayload::InnerMessage(inner) => to_event(inner),
            _ => None,
        })
        .collect()
}

fn to_event(message: RouteNetlinkMessage) -> Option<NetEvent> {
    Some(match message {
        RouteNetlinkMessage::NewAddress(m) => NetEvent::Added {
            index: m.header.index,
            addr: address_of(&m)?,
            prefix: m.header.prefix_len,
        },
        RouteNetlinkMessage::DelAddress(m) => NetEvent::Removed {
            index: m.header.index,
            addr: address_of(&m)?,
            prefix: m.header.prefix_len,
        },
        RouteNetlinkMessage::NewLink(l) => NetEvent::Link {
            index: l.header.index,
            carrier: l.header.flags.contains(LinkFlags::Up | LinkFlags::LowerUp),
        },
        RouteNetlinkMessage::DelLink(l) => NetEvent::Link {
            index: l.header.index,
            carrier: false,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{NetlinkHeader, NetlinkMessage};
    use netlink_packet_route::address::{AddressAttribute, AddressMessage};
    use netlink_packet_route::link::LinkMessage;
    use proptest::prelude::*;
    use std::net::IpAddr;

    fn datagram(messages: Vec<RouteNetlinkMessage>) -> Vec<u8> {
        let mut out = Vec::new();
        for m in messages {
            let mut packet =
                NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(m));
            packet.finalize();
            let mut buf = vec![0u8; packet.buffer_len()];
            packet.serialize(&mut buf);
            out.extend_from_slice(&buf);
        }
        out
    }

    #[test]
    fn decodes_address_and_link_notices() {
        let mut add = AddressMessage::default();
        add.header.index = 7;
        add.header.prefix_len = 32;
        add.attributes
            .push(AddressAttribute::Local("10.0.0.5".parse().unwrap()));
        let mut del = AddressMessage::default();
        del.header.index = 7;
        del.header.prefix_len = 128;
        del.attributes
            .push(AddressAttribute::Address("fd00::5".parse().unwrap()));
        let mut up = LinkMessage::default();
        up.header.index = 7;
        up.header.flags = LinkFlags::Up | LinkFlags::LowerUp | LinkFlags::Running;
        let mut no_carrier = LinkMessage::default();
        no_carrier.header.index = 7;
        no_carrier.header.flags = LinkFlags::Up;
        let bytes = datagram(vec![
            RouteNetlinkMessage::NewAddress(add),
            RouteNetlinkMessage::DelAddress(del),
            RouteNetlinkMessage::NewLink(up),
            RouteNetlinkMessage::NewLink(no_carrier),
            // No address attribute: skipped.
            RouteNetlinkMessage::NewAddress(AddressMessage::default()),
        ]);
        assert_eq!(
            decode(&bytes),
            vec![
                NetEvent::Added {
                    index: 7,
                    addr: "10.0.0.5".parse().unwrap(),
                    prefix: 32
                },
                NetEvent::Removed {
                    index: 7,
                    addr: "fd00::5".parse().unwrap(),
                    prefix: 128
                },
                NetEvent::Link {
                    index: 7,
                    carrier: true
                },
                NetEvent::Link {
                    index: 7,
                    carrier: false
                },
            ]
        );
    }

    #[test]
    fn garbage_is_skipped_without_panicking() {
        assert!(decode(&[]).is_empty());
        assert!(decode(&[0xff; 3]).is_empty());
        assert!(decode(&[0u8; 64]).is_empty());
        let mut truncated = datagram(vec![RouteNetlinkMessage::NewLink(LinkMessage::default())]);
        truncated.truncate(truncated.len() - 4);
        assert!(decode(&truncated).is_empty());
    }

    /// An address or link notice and the event it must decode to.
    fn notice() -> impl Strategy<Value = (RouteNetlinkMessage, NetEvent)> {
        let addr = prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ];
        (0u8..6, any::<u32>(), addr, any::<u8>(), any::<bool>()).prop_map(
            |(kind, index, addr, prefix, local)| {
                let mut address = AddressMessage::default();
                address.header.index = index;
                address.header.prefix_len = prefix;
                address.attributes.push(if local {
                    AddressAttribute::Local(addr)
                } else {
                    AddressAttribute::Address(addr)
                });
                let mut link = LinkMessage::default();
                link.header.index = index;
                link.header.flags = match kind {
                    2 => LinkFlags::Up | LinkFlags::LowerUp,
                    _ => LinkFlags::Up,
                };
                match kind {
                    0 => (
                        RouteNetlinkMessage::NewAddress(address),
                        NetEvent::Added {
                            index,
                            addr,
                            prefix,
                        },
                    ),
                    1 => (
                        RouteNetlinkMessage::DelAddress(address),
                        NetEvent::Removed {
                            index,
                            addr,
                            prefix,
                        },
                    ),
                    2 | 3 => (
                        RouteNetlinkMessage::NewLink(link),
                        NetEvent::Link {
                            index,
                            carrier: kind == 2,
                        },
                    ),
                    _ => (
                        RouteNetlinkMessage::DelLink(link),
                        NetEvent::Link {
                            index,
                            carrier: false,
                        },
                    ),
                }
            },
        )
    }

    /// Property tests (issue 17); proptest's default 256 cases each.
    mod properties {
        use super::*;

        proptest! {
            /// Any bytes: no panic, and no more events than 16-byte headers fit in them.
            #[test]
            fn any_datagram_is_safe(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
                prop_assert!(decode(&bytes).len() <= bytes.len() / 16);
            }

            /// Encode → decode is identity, and whatever follows whole messages (a truncated or
            /// corrupt one) leaves the events before it as they were.
            #[test]
            fn notices_read_back(
                notices in prop::collection::vec(notice(), 0..8),
                tail in prop::collection::vec(any::<u8>(), 0..64),
            ) {
                let (messages, events): (Vec<_>, Vec<_>) = notices.into_iter().unzip();
                let mut bytes = datagram(messages);
                prop_assert_eq!(&decode(&bytes), &events);
                bytes.extend_from_slice(&tail);
                let decoded = decode(&bytes);
                prop_assert!(decoded.len() >= events.len());
                prop_assert_eq!(&decoded[..events.len()], &events[..]);
            }
        }
    }
}
