//! The `ACL` command and its 13 subcommands.

use super::command::help;
use super::Outcome;
use crate::acl::{RuleError, Selector};
use crate::request::int_arg;
use crate::session::Ctx;
use crate::table::{self, cat, Spec};
use bytes::Bytes;
use std::time::Instant;
use warden_core::Reply;

const HELP: &[&str] = &[
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
];

const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

/// Execute an `ACL` subcommand.
pub fn run(ctx: &mut Ctx, spec: &'static Spec, args: &[Bytes]) -> Outcome {
    Outcome::Reply(execute(ctx, spec, args))
}

fn execute(ctx: &mut Ctx, spec: &Spec, args: &[Bytes]) -> Reply {
    match spec.short_name() {
        "cat" => category(args.get(2)),
        "deluser" => deluser(ctx, &args[2..]),
        "dryrun" => dryrun(ctx, &args[2..]),
        "genpass" => genpass(args.get(2)),
        "getuser" => getuser(ctx, &args[2]),
        "list" => Reply::Array(
            ctx.shared
                .acl
                .read()
                .users()
                .map(|u| Reply::bulk(u.describe()))
                .collect(),
        ),
        "load" => load(ctx),
        "log" => log(ctx, args.get(2)),
        "save" => save(ctx),
        "setuser" => setuser(ctx, &args[2], &args[3..]),
        "users" => Reply::Array(
            ctx.shared
                .acl
                .read()
                .users()
                .map(|u| Reply::bulk(&u.name))
                .collect(),
        ),
        "whoami" => Reply::bulk(&ctx.session.user.name),
        _ => help(HELP),
    }
}

fn category(name: Option<&Bytes>) -> Reply {
    let Some(name) = name else {
        return Reply::Array(cat::NAMES.iter().map(Reply::bulk).collect());
    };
    match cat::by_name(&text(name)) {
        Some(category) => Reply::Array(
            table::all()
                .filter(|s| s.categories & category != 0)
                .map(|s| Reply::bulk(s.name))
                .collect(),
        ),
        None => Reply::err(format!("ERR Unknown category '{}'", text(name))),
    }
}

/// Disconnect subscribers whose subscriptions the current rules of `users` no longer allow.
fn kill_unpermitted_subscribers(ctx: &mut Ctx, users: &[String]) {
    for name in users {
        let Some(user) = ctx.shared.acl.read().user(name).cloned() else {
            continue;
        };
        for client in ctx
            .shared
            .hub
            .violators(name, |key, pattern| user.allows_channel(key, pattern))
        {
            if client.id == ctx.session.info.id {
                ctx.session.close = true;
            } else {
                client.kill.kill();
            }
        }
    }
}

/// Disconnect every client authenticated as one of `users`.
fn kill_clients_of(ctx: &mut Ctx, users: &[String]) {
    for client in ctx.shared.clients.snapshot() {
        if users.contains(&client.state().user) {
            if client.id == ctx.session.info.id {
                ctx.session.close = true;
            } else {
                client.kill.kill();
            }
        }
    }
}

fn deluser(ctx: &mut Ctx, names: &[Bytes]) -> Reply {
    let names: Vec<String> = names.iter().map(|n| text(n)).collect();
    if names.iter().any(|n| n == "default") {
        return Reply::err("ERR The 'default' user cannot be removed");
    }
    let deleted: Vec<String> = ctx
        .shared
        .acl
        .modify(|acl| names.iter().filter(|n| acl.delete(n)).cloned().collect());
    kill_clients_of(ctx, &deleted);
    Reply::Int(deleted.len() as i64)
}

fn dryrun(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let name = text(&args[0]);
    let Some(user) = ctx.shared.acl.read().user(&name).cloned() else {
        return Reply::err(format!("ERR User '{name}' not found"));
    };
    let command = &args[1..];
    let Some(top) = table::lookup_top(&command[0]) else {
        return Reply::err(format!("ERR Command '{}' not found", text(&command[0])));
    };
    let compat = ctx.shared.settings.compat;
    let spec = match table::resolve(command, compat) {
        Ok(spec) => spec,
        Err(_) if top.arity_ok(command.len(), compat) => top,
        Err(e) => return e,
    };
    if !user.allows(spec) {
        return Reply::bulk(format!(
            "This user has no permissions to run the '{}' command",
            spec.name
        ));
    }
    if let Some(channel) = user.denied_channel(spec, command) {
        return Reply::bulk(format!(
            "This user has no permissions to access the '{}' channel",
            text(channel)
        ));
    }
    Reply::ok()
}

fn genpass(bits: Option<&Bytes>) -> Reply {
    let bits = match bits {
        None => 256,
        Some(arg) => match int_arg(arg) {
            Some(bits) if (1..=4096).contains(&bits) => bits as usize,
            _ => {
                return Reply::err(
                    "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
                )
            }
        },
    };
    Reply::bulk(crate::random_hex(bits.div_ceil(4)))
}

fn selector_map(selector: &Selector) -> Vec<(&'static str, Reply)> {
    vec![
        ("commands", Reply::bulk(selector.describe_commands())),
        ("keys", Reply::bulk(selector.describe_keys())),
        ("channels", Reply::bulk(selector.describe_channels())),
    ]
}

fn getuser(ctx: &mut Ctx, name: &[u8]) -> Reply {
    let Some(user) = ctx.shared.acl.read().user(&text(name)).cloned() else {
        return Reply::Null;
    };
    let mut fields = vec![
        (
            "flags",
            Reply::Set(user.flags().into_iter().map(Reply::bulk).collect()),
        ),
        (
            "passwords",
            Reply::Array(user.passwords.iter().map(Reply::bulk).collect()),
        ),
    ];
    fields.extend(selector_map(&user.root));
    fields.push((
        "selectors",
        Reply::Array(
            user.selectors
                .iter()
                .map(|s| Reply::map(selector_map(s)))
                .collect(),
        ),
    ));
    Reply::map(fields)
}

fn load(ctx: &mut Ctx) -> Reply {
    let Some(path) = ctx.shared.settings.aclfile.clone() else {
        return Reply::err(NO_ACLFILE);
    };
    let users = match ctx.shared.acl.read().read_file(&path) {
        Ok(users) => users,
        Err(e) => return Reply::err(format!("ERR {e}")),
    };
    let kept: Vec<String> = users.keys().cloned().collect();
    let gone: Vec<String> = ctx.shared.acl.modify(|acl| {
        let gone = acl
            .users()
            .filter(|u| !users.contains_key(&u.name))
            .map(|u| u.name.clone())
            .collect();
        acl.set_users(users);
        gone
    });
    kill_clients_of(ctx, &gone);
    kill_unpermitted_subscribers(ctx, &kept);
    Reply::ok()
}

fn save(ctx: &mut Ctx) -> Reply {
    let Some(path) = ctx.shared.settings.aclfile.clone() else {
        return Reply::err(NO_ACLFILE);
    };
    match ctx.shared.acl.read().write_file(&path) {
        Ok(()) => Reply::ok(),
        Err(e) => {
            tracing::warn!("Saving ACL file {}: {e}", path.display());
            Reply::err("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
        }
    }
}

fn log(ctx: &mut Ctx, arg: Option<&Bytes>) -> Reply {
    let count = match arg {
        None => 10,
        Some(arg) if arg.eq_ignore_ascii_case(b"reset") => {
            ctx.shared.acl.modify_log(|acl| acl.reset_log());
            return Reply::ok();
        }
        Some(arg) => match int_arg(arg) {
            Some(count) if count >= 0 => count as usize,
            _ => return Reply::err("ERR value is not an integer or out of range"),
        },
    };
    let now = Instant::now();
    Reply::Array(
        ctx.shared
            .acl
            .read()
            .log_entries()
            .take(count)
            .map(|e| e.reply(now))
            .collect(),
    )
}

fn setuser(ctx: &mut Ctx, name: &[u8], rules: &[Bytes]) -> Reply {
    let name = text(name);
    let rules: Vec<String> = rules.iter().map(|r| text(r)).collect();
    let result = ctx
        .shared
        .acl
        .modify(|acl| acl.update(&name, rules.iter().map(String::as_str)));
    match result {
        Ok(()) => {
            kill_unpermitted_subscribers(ctx, &[name]);
            Reply::ok()
        }
        Err((rule, RuleError(reason))) => Reply::err(format!(
            "ERR Error in ACL SETUSER modifier '{rule}': {reason}"
        )),
    }
}
