//! `HELLO [protover [AUTH username password] [SETNAME clientname]]`.

use super::auth::{authenticate, wrongpass};
use super::client::valid_name;
use super::info::server_version;
use super::Outcome;
use crate::request::int_arg;
use crate::resp::Protocol;
use crate::session::Ctx;
use crate::table::Spec;
use bytes::Bytes;
use warden_core::Reply;

/// `HELLO`: optionally authenticate, name the connection and switch protocol; replies with the
/// server description (6 fields in sentinel mode, encoded in the new protocol).
pub fn run(ctx: &mut Ctx, _: &'static Spec, args: &[Bytes]) -> Outcome {
    Outcome::Reply(hello(ctx, args))
}

fn hello(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut proto = None;
    if let Some(version) = args.get(1) {
        match int_arg(version) {
            Some(2) => proto = Some(Protocol::Resp2),
            Some(3) => proto = Some(Protocol::Resp3),
            Some(_) => return Reply::err("NOPROTO unsupported protocol version"),
            None => return Reply::err("ERR Protocol version is not an integer or out of range"),
        }
    }
    let mut credentials = None;
    let mut name = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let option = args[i].to_ascii_lowercase();
        if option == b"auth" && more >= 2 {
            credentials = Some((&args[i + 1], &args[i + 2]));
            i += 3;
        } else if option == b"setname" && more >= 1 {
            name = Some(&args[i + 1]);
            i += 2;
        } else {
            return Reply::err(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&args[i])
            ));
        }
    }
    if !ctx.session.authenticated && credentials.is_none() {
        return Reply::err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
    }
    if let Some((user, pass)) = credentials {
        if !authenticate(ctx, user, pass) {
            return wrongpass();
        }
    }
    if let Some(name) = name {
        if !valid_name(name) {
            return Reply::err(
                "ERR Client names cannot contain spaces, newlines or special characters.",
            );
        }
        ctx.session.info.state().name = String::from_utf8_lossy(name).into_owned();
    }
    if let Some(proto) = proto {
        ctx.session.proto = proto;
        ctx.session.info.state().resp = proto.number();
    }
    let (server, version) = server_version(ctx.shared.settings.compat);
    Reply::map([
        ("server", Reply::bulk(server)),
        ("version", Reply::bulk(version)),
        ("proto", Reply::Int(ctx.session.proto.number())),
        ("id", Reply::Int(ctx.session.info.id as i64)),
        ("mode", Reply::bulk("sentinel")),
        ("modules", Reply::Array(Vec::new())),
    ])
}
