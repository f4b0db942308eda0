//! Every call of this crate into C: the system (`uname`, `getrusage`) and two OpenSSL context
//! settings the `openssl` crate does not wrap. One module to audit; the rest of the crate is
//! safe code (`#![deny(unsafe_code)]`).

use openssl::ssl::SslContextBuilder;
use std::os::raw::{c_int, c_long, c_void};

/// `uname`'s system name, release and machine, or `None` when the call fails.
pub fn uname() -> Option<(String, String, String)> {
    // SAFETY: `utsname` is plain bytes; `uname` fills it and NUL-terminates every field.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `uts` is a valid, writable utsname.
    if unsafe { libc::uname(&mut uts) } != 0 {
        return None;
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Some((
        field(&uts.sysname),
        field(&uts.release),
        field(&uts.machine),
    ))
}

/// Which CPU time [`rusage`] reports.
#[derive(Debug, Clone, Copy)]
pub enum Usage {
    /// This process.
    Process,
    /// Its waited-for children (scripts).
    Children,
}

/// (system, user) CPU time of `who`, as (seconds, microseconds) pairs; `None` when the call
/// fails.
pub fn rusage(who: Usage) -> Option<((i64, i64), (i64, i64))> {
    let who = match who {
        Usage::Process => libc::RUSAGE_SELF,
        Usage::Children => libc::RUSAGE_CHILDREN,
    };
    // SAFETY: `rusage` is plain data that `getrusage` fills.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage.
    if unsafe { libc::getrusage(who, &mut usage) } != 0 {
        return None;
    }
    let tv = |t: libc::timeval| (t.tv_sec, t.tv_usec);
    Some((tv(usage.ru_stime), tv(usage.ru_utime)))
}

/// `SSL_CTX_set_timeout`: how long cached sessions stay valid.
pub fn set_session_timeout(ctx: &mut SslContextBuilder, seconds: i64) {
    let seconds = c_long::try_from(seconds).unwrap_or(c_long::MAX);
    // SAFETY: the pointer is the live context being built; the call only stores the value.
    unsafe { SSL_CTX_set_timeout(ctx.as_ptr().cast(), seconds) };
}

/// OpenSSL's `SSL_CTX_set_dh_auto(ctx, 1)` macro: built-in DH parameters sized to the key.
pub fn set_dh_auto(ctx: &mut SslContextBuilder) {
    // SAFETY: the pointer is the live context being built; this is the macro's expansion.
    unsafe {
        SSL_CTX_ctrl(
            ctx.as_ptr().cast(),
            SSL_CTRL_SET_DH_AUTO,
            1,
            std::ptr::null_mut(),
        )
    };
}

// Two OpenSSL calls the `openssl` crate does not wrap (libssl is linked through it).
extern "C" {
    fn SSL_CTX_set_timeout(ctx: *mut c_void, seconds: c_long) -> c_long;
    fn SSL_CTX_ctrl(ctx: *mut c_void, cmd: c_int, larg: c_long, parg: *mut c_void) -> c_long;
}
/// `SSL_CTRL_SET_DH_AUTO` of OpenSSL's ssl.h.
const SSL_CTRL_SET_DH_AUTO: c_int = 118;
