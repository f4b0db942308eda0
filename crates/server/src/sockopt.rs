//! Integer socket options tokio does not expose (IPv6-only listeners, TCP keepalive tuning).

use std::io;
use std::os::fd::RawFd;

/// `setsockopt(fd, level, name, &value)` for an `int` option.
pub fn set(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: the caller passes an open socket fd; the pointer/length pair describes `value`,
    // which outlives the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Enable TCP keepalive probes after `idle` seconds, then every `idle / 3` seconds, giving up
/// after 3 unanswered probes (Redis' `anetKeepAlive`).
pub fn keepalive(fd: RawFd, idle: libc::c_int) -> io::Result<()> {
    set(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    set(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, idle)?;
    set(
        fd,
        libc::IPPROTO_TCP,
        libc::TCP_KEEPINTVL,
        (idle / 3).max(1),
    )?;
    set(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3)
}
