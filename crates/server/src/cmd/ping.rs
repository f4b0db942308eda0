//! `PING`.

use super::Outcome;
use crate::resp::Protocol;
use crate::session::Ctx;
use crate::table::{self, Spec};
use bytes::Bytes;
use warden_core::Reply;

/// `PING [message]`; in RESP2 subscribed mode the reply is `[pong, message]`.
pub fn run(ctx: &mut Ctx, _: &'static Spec, args: &[Bytes]) -> Outcome {
    ping(ctx, args).map_or(Outcome::Written, Outcome::Reply)
}

/// The reply, or `None` when the common `+PONG` was written directly.
fn ping(ctx: &mut Ctx, args: &[Bytes]) -> Option<Reply> {
    if args.len() == 1 && !ctx.session.subscribed() {
        // The hot path of health checks and benchmarks: no allocation.
        if ctx.session.replies_on() {
            ctx.out.extend_from_slice(b"+PONG\r\n");
        }
        return None;
    }
    if args.len() > 2 {
        return Some(table::wrong_arity("ping"));
    }
    if ctx.session.subscribed() && ctx.session.proto == Protocol::Resp2 {
        let message = args.get(1).cloned().unwrap_or_default();
        return Some(Reply::Array(vec![
            Reply::bulk("pong"),
            Reply::Bulk(message),
        ]));
    }
    Some(match args.get(1) {
        Some(message) => Reply::Bulk(message.clone()),
        None => Reply::Status("PONG".into()),
    })
}
