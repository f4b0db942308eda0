//! `SENTINEL <subcommand> ...`: the generic layer already resolved the subcommand and checked its
//! arity (with `'sentinel|<sub>'` wording), so everything after the word SENTINEL goes to the core.

use super::Shared;
use bytes::Bytes;
use warden_core::Reply;

/// Execute `SENTINEL <args...>` (`args` excludes the word SENTINEL).
pub fn run(shared: &Shared, args: &[Bytes]) -> Reply {
    shared.app.sentinel_command(args)
}
