//! `ROLE` in sentinel mode: `["sentinel", [master names...]]`.

use super::Shared;
use warden_core::Reply;

/// The ROLE reply.
pub fn run(shared: &Shared) -> Reply {
    let names = shared
        .app
        .master_names()
        .into_iter()
        .map(Reply::bulk)
        .collect();
    Reply::Array(vec![Reply::bulk("sentinel"), Reply::Array(names)])
}
