//! From arguments to execution: command lookup and arity, authentication, ACL permissions and
//! the subscribed-mode restriction (in Redis' order), then routing to the command family.

use super::acl::Denial;
use super::cmd::{self, Outcome};
use super::resp::Protocol;
use super::session::{Ctx, Session};
use super::table::{self, Spec};
use bytes::Bytes;
use std::sync::Arc;
use warden_core::Reply;

/// Checks before execution. Returns the command to run, or the error reply to send.
pub fn prepare(ctx: &mut Ctx, args: &[Bytes]) -> Result<&'static Spec, Reply> {
    let spec = table::resolve(args, ctx.shared.settings.compat)?;
    if !ctx.session.authenticated && !spec.has_flag("no_auth") {
        return Err(Reply::err("NOAUTH Authentication required."));
    }
    refresh_user(ctx);
    if !ctx.session.user.allows(spec) {
        let user = ctx.session.user.name.clone();
        ctx.log_denial(Denial::Command, spec.name, &user);
        return Err(Reply::err(format!(
            "NOPERM this user has no permissions to run the '{}' command",
            spec.name
        )));
    }
    if let Some(channel) = ctx.session.user.denied_channel(spec, args) {
        let user = ctx.session.user.name.clone();
        ctx.log_denial(Denial::Channel, &String::from_utf8_lossy(channel), &user);
        return Err(Reply::err(
            "NOPERM this user has no permissions to access one of the channels used as arguments",
        ));
    }
    if ctx.session.subscribed()
        && ctx.session.proto == Protocol::Resp2
        && !matches!(
            spec.name,
            "ping" | "subscribe" | "psubscribe" | "unsubscribe" | "punsubscribe"
        )
    {
        return Err(Reply::err(format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            spec.name
        )));
    }
    Ok(spec)
}

/// Pick up ACL changes made since the user was last read.
fn refresh_user(ctx: &mut Ctx) {
    let epoch = ctx.shared.acl.epoch();
    if epoch == ctx.session.acl_epoch {
        return;
    }
    let acl = ctx.shared.acl.read();
    if let Some(user) = acl.user(&ctx.session.user.name) {
        ctx.session.user = Arc::clone(user);
    } else {
        // Deleted while connected: the connection is being killed; deny everything meanwhile
        // (a new user has no permissions).
        ctx.session.user = Arc::new(super::acl::User::new(&ctx.session.user.name));
    }
    ctx.session.acl_epoch = epoch;
}

/// Run a prepared command through its family's handler.
pub fn execute(ctx: &mut Ctx, spec: &'static Spec, args: &[Bytes]) {
    let outcome = match cmd::handler(spec.family()) {
        Some(run) => run(ctx, spec, args),
        None => Outcome::Reply(table::unknown_command(args)),
    };
    match outcome {
        Outcome::Reply(reply) => ctx.reply(&reply),
        Outcome::Written => {}
        Outcome::Close => ctx.session.close = true,
    }
}

/// After every command: advance the `CLIENT REPLY SKIP` state.
pub fn finish_command(session: &mut Session) {
    session.reply.skip = session.reply.skip_next;
    session.reply.skip_next = false;
}
