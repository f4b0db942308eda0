//! Free loopback ports for test servers.
//!
//! Ports come from 12000..20000: below the kernel's ephemeral range (so no outgoing connection takes
//! them between the check and the server's bind) and below the ports Redis's own Sentinel test suite
//! uses (20000+, 30000+, 40000+). Within one process no port is handed out twice.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

const FIRST: u32 = 12000;
const COUNT: u32 = 8000;

/// A port on 127.0.0.1 that nothing listens on right now and that this process has not handed out.
///
/// # Panics
/// When all 8000 ports of the range are taken (a broken test machine).
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    // Start at a per-process offset so that concurrent test processes rarely probe the same ports.
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id() * 97 % COUNT,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..COUNT {
        let port = (FIRST + NEXT.fetch_add(1, Ordering::Relaxed) % COUNT) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port on 127.0.0.1 in {FIRST}..{}", FIRST + COUNT);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_distinct_bindable_ports() {
        let a = free_port();
        let b = free_port();
        assert_ne!(a, b);
        assert!(TcpListener::bind(("127.0.0.1", a)).is_ok());
    }
}
