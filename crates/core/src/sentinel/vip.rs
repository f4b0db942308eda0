//! The VIP surface of the sentinel: `SENTINEL SET <master> vip...` options and the
//! `SENTINEL VIP <master>` reply.

use super::Sentinel;
use crate::reply::Reply;
use crate::Millis;
use bytes::Bytes;

impl Sentinel {
    /// Apply a VIP option of `SENTINEL SET` starting at `args[0]` (the option name).
    /// `None` if `option` is not a VIP option; `Some(Ok(n))` consumed `n` values.
    pub(super) fn set_vip_option(&mut self, mi: usize, option: &str, args: &[Bytes]) -> Option<Result<usize, Reply>> {
        let _ = (mi, option, args);
        None
    }

    /// `SENTINEL VIP <master>`.
    pub(super) fn vip_reply(&self, mi: usize, now: Millis) -> Reply {
        let _ = (mi, now);
        Reply::NullArray
    }
}
