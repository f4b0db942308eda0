//! # warden-vip — the kernel side of Warden's virtual IP
//!
//! * [`VipBackend`]: add / remove / list interface addresses, send one announcement, watch
//!   address changes. [`LinuxBackend`] implements it with rtnetlink (`netlink-sys` +
//!   `netlink-packet-route`, synchronous) and an AF_PACKET socket (`socket2`); no `ip` or
//!   `arping` is ever run. [`FakeBackend`] is an in-memory implementation for tests.
//! * [`frames`]: byte-exact gratuitous ARP (request and reply forms) and IPv6 unsolicited
//!   neighbour advertisements.
//! * [`VipManager`]: an async (tokio) task per VIP that executes the core's claim/release
//!   decisions (`Action::VipClaim` / `Action::VipRelease`), announces on a schedule, and keeps
//!   the kernel in line with the decision (start-up cleanup, repair of deletions, removal of
//!   strays), reporting what it sees through a callback.
//! * [`check_capabilities`]: the start-up check for CAP_NET_ADMIN + CAP_NET_RAW.
//!
//! Which node should hold a VIP is decided in `warden_core::vip`, not here.
//!
//! ```no_run
//! # async fn demo() -> Result<(), warden_vip::VipError> {
//! use std::{sync::Arc, time::Duration};
//! use warden_vip::*;
//! check_capabilities()?;
//! let settings = VipSettings {
//!     vip: VipAddr::new("10.0.0.100".parse().unwrap(), 32, "eth0")?,
//!     garp_count: 5,
//!     garp_interval: Duration::from_millis(50),
//!     garp_repeat_delay: Duration::from_secs(5),
//!     garp_refresh: Duration::from_secs(60),
//!     reply_form: true,
//!     routed: false,
//! };
//! let manager = VipManager::start(Arc::new(LinuxBackend::new()?), settings, |report| {
//!     println!("{report:?}");
//! })?;
//! manager.claim(None); // no lease end: the address is permanent until released
//! // ...
//! manager.shutdown().await; // removes the VIP
//! # Ok(()) }
//! ```

mod backend;
mod caps;
mod error;
pub mod fake;
pub mod frames;
#[cfg(target_os = "linux")]
mod linux;
mod manager;

pub use backend::{
    AddrEntry, ArpWatch, Change, Lifetime, LinkInfo, NetEvent, NetWatch, RouteWatch, VipAddr,
    VipBackend, LABEL_SUFFIX, MAX_NAME_LEN, WARDEN_ADDR_PROTO,
};
pub use caps::{check_capabilities, REQUIRED as REQUIRED_CAPABILITIES};
pub use error::{Capability, VipError};
pub use fake::FakeBackend;
#[cfg(target_os = "linux")]
pub use linux::{decode_notices, LinuxBackend};
pub use manager::{kernel_lifetime, VipManager, VipReport, VipSettings, RETRY_DELAY};
