//! Every call of the `warden` binary into libc, in one module to audit: daemonizing, signals,
//! file access checks, the thread CPU clock, local time, the host's interface addresses (and two
//! helpers of tests). The rest of the binary is safe code (`#![deny(unsafe_code)]`).

use std::ffi::CString;
use std::io;
use std::net::IpAddr;
use std::time::Duration;

/// Detach from the terminal: fork, new session, fork again, stdio to `/dev/null`. The original
/// process and the intermediate child exit with status 0.
///
/// Must run before any thread exists (in particular before the tokio runtime starts).
pub fn daemonize() -> io::Result<()> {
    for step in 0..2 {
        // SAFETY: the process is single-threaded here (documented precondition), so fork is
        // safe; the parent leaves with _exit, running no destructor or atexit handler twice.
        match unsafe { libc::fork() } {
            -1 => return Err(io::Error::last_os_error()),
            0 => {}
            // SAFETY: see above.
            _ => unsafe { libc::_exit(0) },
        }
        // SAFETY: plain syscall with no pointer arguments.
        if step == 0 && unsafe { libc::setsid() } == -1 {
            return Err(io::Error::last_os_error());
        }
    }
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for target in 0..=2 {
        // SAFETY: dup2 onto the standard descriptors of a valid open file; the copies are not
        // close-on-exec, which is right for 0-2 (scripts inherit them).
        if unsafe { libc::dup2(std::os::fd::AsRawFd::as_raw_fd(&devnull), target) } == -1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Stops this process (SIGSTOP to itself): upstart's readiness signal; it resumes us.
pub fn stop_self() {
    // SAFETY: raising a signal at ourselves has no memory effects.
    unsafe { libc::raise(libc::SIGSTOP) };
}

/// Ignores SIGHUP, as Redis does.
pub fn ignore_sighup() {
    // SAFETY: setting a signal disposition to "ignore" has no handler code to be unsafe.
    unsafe { libc::signal(libc::SIGHUP, libc::SIG_IGN) };
}

/// `access(path, mode)` (`libc::X_OK`...): relative paths against the working directory.
pub fn access(path: &str, mode: libc::c_int) -> io::Result<()> {
    let c = CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    if unsafe { libc::access(c.as_ptr(), mode) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The CPU time the calling thread has used (zero if the clock cannot be read).
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to; the clock id is a constant Linux knows.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// Broken-down local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Day of the month, 1-31.
    pub day: i32,
    /// Month, 0-11.
    pub month: i32,
    /// Year, e.g. 2026.
    pub year: i32,
    /// Hour, 0-23.
    pub hour: i32,
    /// Minute, 0-59.
    pub min: i32,
    /// Second, 0-60.
    pub sec: i32,
}

/// `secs` since the epoch in the local time zone (`localtime_r`), if it can be computed.
pub fn localtime(secs: u64) -> Option<LocalTime> {
    let secs = libc::time_t::try_from(secs).unwrap_or(libc::time_t::MAX);
    // SAFETY: `tm` is plain old data, fully written by localtime_r on success.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r is the thread-safe variant; it only reads `secs` and writes `tm`.
    if unsafe { libc::localtime_r(&secs, &mut tm) }.is_null() {
        return None;
    }
    Some(LocalTime {
        day: tm.tm_mday,
        month: tm.tm_mon,
        year: tm.tm_year + 1900,
        hour: tm.tm_hour,
        min: tm.tm_min,
        sec: tm.tm_sec,
    })
}

/// One address of an interface of this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    /// The interface's name.
    pub interface: String,
    /// The address.
    pub addr: IpAddr,
    /// Its prefix length.
    pub prefix: u8,
}

/// Every address of every interface of this host, with its interface and prefix (getifaddrs).
pub fn host_interfaces() -> Vec<IfAddr> {
    let mut out = Vec::new();
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we only read and then free exactly once;
    // each entry's sockaddrs are read as the type their family says.
    unsafe {
        if libc::getifaddrs(&mut head) != 0 {
            return out;
        }
        let mut cur = head;
        while !cur.is_null() {
            let entry = &*cur;
            if let Some(addr) = sockaddr_ip(entry.ifa_addr) {
                let prefix = sockaddr_ip(entry.ifa_netmask).map_or(0, |mask| match mask {
                    IpAddr::V4(m) => u32::from(m).count_ones() as u8,
                    IpAddr::V6(m) => u128::from(m).count_ones() as u8,
                });
                let interface = std::ffi::CStr::from_ptr(entry.ifa_name)
                    .to_string_lossy()
                    .into_owned();
                out.push(IfAddr {
                    interface,
                    addr,
                    prefix,
                });
            }
            cur = entry.ifa_next;
        }
        libc::freeifaddrs(head);
    }
    out
}

/// The IP address in a sockaddr, if it holds one.
///
/// # Safety
/// `addr` is null or points to a sockaddr of the size its family implies.
unsafe fn sockaddr_ip(addr: *const libc::sockaddr) -> Option<IpAddr> {
    if addr.is_null() {
        return None;
    }
    match i32::from((*addr).sa_family) {
        libc::AF_INET => {
            let sin = &*(addr as *const libc::sockaddr_in);
            Some(IpAddr::from(
                u32::from_be(sin.sin_addr.s_addr).to_be_bytes(),
            ))
        }
        libc::AF_INET6 => {
            let sin6 = &*(addr as *const libc::sockaddr_in6);
            Some(IpAddr::from(sin6.sin6_addr.s6_addr))
        }
        _ => None,
    }
}

/// Whether this process runs as root (tests that need an unprivileged user re-run as one).
#[cfg(test)]
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A copy of `fd` that is *not* close-on-exec (what a leaking descriptor looks like; tests of
/// the scripts' descriptor hygiene use it as their control).
#[cfg(test)]
pub fn dup_inheritable(fd: &impl std::os::fd::AsRawFd) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: dup of a valid descriptor.
    let raw = unsafe { libc::dup(fd.as_raw_fd()) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh descriptor nobody else owns.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) })
}
