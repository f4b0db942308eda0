//! `SENTINEL <subcommand> ...`: the generic layer already resolved the subcommand and checked its
//! arity (with `'sentinel|<sub>'` wording), so everything after the word SENTINEL goes to the core.

use super::Outcome;
use crate::session::Ctx;
use crate::table::Spec;
use bytes::Bytes;

/// Execute `SENTINEL <subcommand> ...` (the core gets the words after SENTINEL). A reply that may reveal
/// a change not yet durable is written only once it is (the session's barrier).
pub fn run(ctx: &mut Ctx, _: &'static Spec, args: &[Bytes]) -> Outcome {
    let (reply, barrier) = ctx.shared.app.sentinel_command(&args[1..]);
    if let Some(generation) = barrier {
        ctx.session.durable_barrier = ctx.session.durable_barrier.max(generation);
    }
    Outcome::Reply(reply)
}
