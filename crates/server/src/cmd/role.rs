//! `ROLE` in sentinel mode: `["sentinel", [master names...]]`.

use super::Outcome;
use crate::session::Ctx;
use crate::table::Spec;
use crate::Shared;
use bytes::Bytes;
use warden_core::Reply;

/// `ROLE`.
pub fn run(ctx: &mut Ctx, _: &'static Spec, _args: &[Bytes]) -> Outcome {
    Outcome::Reply(role(ctx.shared))
}

fn role(shared: &Shared) -> Reply {
    let names = shared
        .app
        .master_names()
        .into_iter()
        .map(Reply::bulk)
        .collect();
    Reply::Array(vec![Reply::bulk("sentinel"), Reply::Array(names)])
}
