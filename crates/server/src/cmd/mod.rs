//! One module per command family, each with the same entry point
//! `run(ctx, spec, args) -> Outcome` ([`Handler`]): `ctx` is the connection and the server,
//! `spec` the resolved table entry (already checked for arity, authentication and ACLs by
//! `dispatch`), `args` the whole request, command name included.

pub mod acl;
pub mod auth;
pub mod client;
pub mod command;
pub mod hello;
pub mod info;
pub mod ping;
pub mod publish;
pub mod role;
pub mod sentinel;
pub mod shutdown;
pub mod subscribe;

use crate::session::Ctx;
use crate::table::Spec;
use bytes::Bytes;
use warden_core::Reply;

/// What a handler did.
#[derive(Debug)]
pub enum Outcome {
    /// Send this reply (unless `CLIENT REPLY` suppresses it).
    Reply(Reply),
    /// The handler wrote its output itself, or there is none.
    Written,
    /// Close the connection once the pending output is written (`SHUTDOWN`).
    Close,
}

/// The entry point every family has.
pub type Handler = fn(&mut Ctx, &'static Spec, &[Bytes]) -> Outcome;

/// The handler of a top-level command (`spec.family()`), if Warden has it.
pub fn handler(family: &str) -> Option<Handler> {
    Some(match family {
        "acl" => acl::run,
        "auth" => auth::run,
        "client" => client::run,
        "command" => command::run,
        "hello" => hello::run,
        "info" => info::run,
        "ping" => ping::run,
        "publish" => publish::run,
        "role" => role::run,
        "sentinel" => sentinel::run,
        "shutdown" => shutdown::run,
        "subscribe" | "psubscribe" | "unsubscribe" | "punsubscribe" => subscribe::run,
        _ => return None,
    })
}
