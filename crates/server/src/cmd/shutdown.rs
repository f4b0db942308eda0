//! `SHUTDOWN`: stop the process (the signal itself is `crate::shutdown`).

use super::Outcome;
use crate::session::Ctx;
use crate::shutdown::Shutdown;
use crate::table::Spec;
use bytes::Bytes;
use warden_core::Reply;

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] [RELEASE]`: a sentinel never saves, so every
/// valid form stops the process (no reply; the connection closes). `ABORT` has nothing to
/// abort. `RELEASE` (Warden's) removes the held VIPs before exiting, where a plain stop leaves
/// them for a restart.
pub fn run(ctx: &mut Ctx, _: &'static Spec, args: &[Bytes]) -> Outcome {
    match shutdown(&ctx.shared.shutdown, args) {
        Some(reply) => Outcome::Reply(reply),
        None => Outcome::Close,
    }
}

fn shutdown(shutdown: &Shutdown, args: &[Bytes]) -> Option<Reply> {
    let (mut save, mut nosave, mut abort, mut other) = (false, false, false, false);
    let mut release = false;
    for arg in &args[1..] {
        match arg.to_ascii_lowercase().as_slice() {
            b"save" => save = true,
            b"nosave" => nosave = true,
            b"abort" => abort = true,
            b"release" => release = true,
            b"now" | b"force" => other = true,
            _ => return Some(Reply::err("ERR syntax error")),
        }
    }
    if (save && nosave) || (abort && (save || nosave || other || release)) {
        return Some(Reply::err("ERR syntax error"));
    }
    if abort {
        return Some(Reply::err("ERR No shutdown in progress."));
    }
    tracing::warn!("User requested shutdown...");
    if release {
        shutdown.trigger_releasing_vips();
    } else {
        shutdown.trigger();
    }
    None
}
