//! `SENTINEL <subcommand> ...`: the generic layer already resolved the subcommand and checked its
//! arity (with `'sentinel|<sub>'` wording), so everything after the word SENTINEL goes to the core.

use super::session::Ctx;
use bytes::Bytes;
use warden_core::Reply;

/// Execute `SENTINEL <args...>` (`args` excludes the word SENTINEL). A reply that may reveal
/// a change not yet durable is written only once it is (the session's barrier).
pub fn run(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (reply, barrier) = ctx.shared.app.sentinel_command(args);
    if let Some(generation) = barrier {
        ctx.session.durable_barrier = ctx.session.durable_barrier.max(generation);
    }
    reply
}
