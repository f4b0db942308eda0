//! The AF_PACKET socket that sends announcement frames.

use socket2::{Domain, SockAddr, Socket, Type};
use std::io;

/// A raw link-layer socket that only sends: it is opened with protocol 0, so the kernel
/// delivers no incoming frames to it (what keepalived achieves with a "return 0" BPF filter).
pub(crate) struct PacketSender {
    socket: Socket,
}

impl PacketSender {
    /// Opens the socket in the calling thread's network namespace; needs CAP_NET_RAW.
    pub(crate) fn open() -> io::Result<PacketSender> {
        let socket = Socket::new(Domain::PACKET, Type::RAW.cloexec(), None)?;
        socket.set_nonblocking(true)?;
        Ok(PacketSender { socket })
    }

    /// Sends a complete Ethernet frame (header included) out of interface `index`.
    pub(crate) fn send(&self, index: u32, ethertype: u16, frame: &[u8]) -> io::Result<()> {
        let addr = link_addr(index, ethertype, &frame[0..6])?;
        let sent = self.socket.send_to(frame, &addr)?;
        if sent != frame.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("short send: {sent} of {} bytes", frame.len()),
            ));
        }
        Ok(())
    }
}

/// Builds a `sockaddr_ll` for interface `index`, protocol `ethertype`, destination `dst`.
pub(crate) fn link_addr(index: u32, ethertype: u16, dst: &[u8]) -> io::Result<SockAddr> {
    let index = i32::try_from(index)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index too large"))?;
    // SAFETY: the storage handed to the closure is a zeroed sockaddr_storage, which is larger
    // than and suitably aligned for sockaddr_ll; we write a fully initialised sockaddr_ll into
    // it and report exactly its size.
    let ((), addr) = unsafe {
        SockAddr::try_init(|storage, len| {
            let mut ll: libc::sockaddr_ll = std::mem::zeroed();
            ll.sll_family = libc::AF_PACKET as libc::sa_family_t;
            ll.sll_protocol = ethertype.to_be();
            ll.sll_ifindex = index;
            ll.sll_halen = 6;
            ll.sll_addr[..6].copy_from_slice(&dst[..6]);
            std::ptr::write(storage.cast::<libc::sockaddr_ll>(), ll);
            *len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            Ok(())
        })
    }?;
    Ok(addr)
}
