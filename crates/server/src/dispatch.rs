//! From arguments to execution: command lookup and arity, authentication, ACL permissions and
//! the subscribed-mode restriction (in Redis' order), then routing to the command family.

use super::acl::Denial;
use super::resp::Protocol;
use super::session::{Ctx, Session};
use super::table::{self, Spec};
use super::{acl_cmd, auth, client, command, hello, info, role, sentinel, shutdown, subscribe};
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

/// Run a prepared command.
pub fn execute(ctx: &mut Ctx, spec: &'static Spec, args: &[Bytes]) {
    let reply = match spec.family() {
        "ping" => match ping(ctx, args) {
            Some(reply) => reply,
            None => return,
        },
        "publish" => publish(ctx, args),
        "subscribe" | "psubscribe" | "unsubscribe" | "punsubscribe" => {
            subscribe::run(ctx, spec, args);
            return;
        }
        "auth" => auth::auth(ctx, args),
        "hello" => hello::run(ctx, args),
        "acl" => acl_cmd::run(ctx, spec, args),
        "client" => match client::run(ctx, spec, args) {
            Some(reply) => reply,
            None => return,
        },
        "command" => command::run(ctx.shared.settings.compat, spec, args),
        "info" => Reply::Bulk(info::render(ctx.shared, &args[1..]).into()),
        "role" => role::run(ctx.shared),
        "sentinel" => sentinel::run(ctx, &args[1..]),
        "shutdown" => match shutdown::command(&ctx.shared.shutdown, args) {
            Some(reply) => reply,
            None => {
                ctx.session.close = true;
                return;
            }
        },
        _ => table::unknown_command(args),
    };
    ctx.reply(&reply);
}

/// After every command: advance the `CLIENT REPLY SKIP` state.
pub fn finish_command(session: &mut Session) {
    session.reply.skip = session.reply.skip_next;
    session.reply.skip_next = false;
}

/// `PING [message]`; in RESP2 subscribed mode the reply is `[pong, message]`. `None` when the
/// reply was written directly.
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

/// `PUBLISH`: only hello messages are accepted, and they are not re-published locally.
fn publish(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if &args[1][..] != b"__sentinel__:hello" {
        return Reply::err("ERR Only HELLO messages are accepted by Sentinel instances.");
    }
    ctx.shared.app.receive_hello(&args[2]);
    Reply::Int(1)
}
