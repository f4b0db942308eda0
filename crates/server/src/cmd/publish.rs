//! `PUBLISH` (hello messages of peer sentinels only).

use super::Outcome;
use crate::session::Ctx;
use crate::table::Spec;
use bytes::Bytes;
use warden_core::Reply;

/// `PUBLISH`: only hello messages are accepted, and they are not re-published locally.
pub fn run(ctx: &mut Ctx, _: &'static Spec, args: &[Bytes]) -> Outcome {
    if &args[1][..] != b"__sentinel__:hello" {
        return Outcome::Reply(Reply::err(
            "ERR Only HELLO messages are accepted by Sentinel instances.",
        ));
    }
    ctx.shared.app.receive_hello(&args[2]);
    Outcome::Reply(Reply::Int(1))
}
