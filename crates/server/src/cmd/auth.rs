//! `AUTH [username] password`, and the authentication step shared with `HELLO ... AUTH`.

use super::Outcome;
use crate::acl::Denial;
use crate::session::Ctx;
use crate::table::Spec;
use bytes::Bytes;
use warden_core::Reply;

/// The reply to a failed authentication.
pub fn wrongpass() -> Reply {
    Reply::err("WRONGPASS invalid username-password pair or user is disabled.")
}

/// `AUTH [username] password`.
pub fn run(ctx: &mut Ctx, _: &'static Spec, args: &[Bytes]) -> Outcome {
    Outcome::Reply(auth(ctx, args))
}

fn auth(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (username, password) = match args {
        [_, password] => {
            if ctx.shared.acl.read().default_user_nopass() {
                return Reply::err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
            }
            (&b"default"[..], password)
        }
        [_, username, password] => (&username[..], password),
        _ => return Reply::err("ERR syntax error"),
    };
    if authenticate(ctx, username, password) {
        Reply::ok()
    } else {
        wrongpass()
    }
}

/// Log the client in as `username` if the password matches an enabled user; failures are
/// written to the ACL log.
pub fn authenticate(ctx: &mut Ctx, username: &[u8], password: &[u8]) -> bool {
    let name = String::from_utf8_lossy(username).into_owned();
    let found = ctx
        .shared
        .acl
        .read()
        .user(&name)
        .filter(|u| u.enabled && u.check_password(password))
        .cloned();
    match found {
        Some(user) => {
            ctx.session.info.state().user = user.name.clone();
            ctx.session.user = user;
            ctx.session.acl_epoch = ctx.shared.acl.epoch();
            ctx.session.authenticated = true;
            true
        }
        None => {
            ctx.log_denial(Denial::Auth, "auth", &name);
            false
        }
    }
}
