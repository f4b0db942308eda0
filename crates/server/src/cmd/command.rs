//! `COMMAND` and its subcommands, answered from the sentinel command table.

use super::Outcome;
use crate::session::Ctx;
use crate::table::{self, cat, Doc, Spec};
use bytes::Bytes;
use warden_core::config::Compat;
use warden_core::glob::glob_match;
use warden_core::Reply;

const HELP: &[&str] = &[
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
];

/// A `HELP` reply: one status line per entry.
pub fn help(lines: &[&str]) -> Reply {
    Reply::Array(lines.iter().map(|l| Reply::Status(l.to_string())).collect())
}

/// Execute `COMMAND [...]` (`spec` is `command` itself or one of its subcommands), showing the
/// entries the compatibility setting lists.
pub fn run(ctx: &mut Ctx, spec: &'static Spec, args: &[Bytes]) -> Outcome {
    Outcome::Reply(execute(ctx.shared.settings.compat, spec, args))
}

fn execute(compat: Compat, spec: &Spec, args: &[Bytes]) -> Reply {
    let all = || {
        Reply::Array(
            table::commands()
                .iter()
                .map(|c| c.info_reply(compat))
                .collect(),
        )
    };
    match spec.short_name() {
        "command" => all(),
        "count" => Reply::Int(table::commands().len() as i64),
        "list" => list(compat, &args[2..]),
        "info" if args.len() == 2 => all(),
        "info" => Reply::Array(
            args[2..]
                .iter()
                .map(|n| {
                    lookup_listed(compat, n)
                        .map(|s| s.info_reply(compat))
                        .unwrap_or(Reply::Null)
                })
                .collect(),
        ),
        "docs" => docs(compat, &args[2..]),
        "getkeys" | "getkeysandflags" => getkeys(compat, &args[2..]),
        _ => help(HELP),
    }
}

/// An entry by full name, if `compat` lists it.
fn lookup_listed(compat: Compat, name: &[u8]) -> Option<&'static Spec> {
    table::lookup_full(name).filter(|s| table::listed(s.name, compat))
}

fn list(compat: Compat, filter: &[Bytes]) -> Reply {
    let names = |keep: &dyn Fn(&Spec) -> bool| {
        Reply::Array(
            table::all()
                .filter(|s| table::listed(s.name, compat) && keep(s))
                .map(|s| Reply::bulk(s.name))
                .collect(),
        )
    };
    match filter {
        [] => names(&|_| true),
        [by, kind, value] if by.eq_ignore_ascii_case(b"filterby") => {
            let kind = kind.to_ascii_lowercase();
            match kind.as_slice() {
                b"module" => Reply::Array(Vec::new()),
                b"aclcat" => match cat::by_name(&String::from_utf8_lossy(value)) {
                    Some(category) => names(&|s| s.categories & category != 0),
                    None => Reply::Array(Vec::new()),
                },
                b"pattern" => names(&|s| glob_match(value, s.name.as_bytes(), true)),
                _ => Reply::err("ERR syntax error"),
            }
        }
        _ => Reply::err("ERR syntax error"),
    }
}

/// The docs node of a command or subcommand by full name.
fn find_doc(compat: Compat, name: &[u8]) -> Option<(&'static str, &'static Doc)> {
    let spec = lookup_listed(compat, name)?;
    let top = spec.family();
    let (_, doc) = table::docs().iter().find(|(n, _)| *n == top)?;
    if spec.name == top {
        return Some((spec.name, doc));
    }
    let Doc::M(fields) = doc else { return None };
    let (_, Doc::M(subs)) = fields.iter().find(|(k, _)| *k == "subcommands")? else {
        return None;
    };
    subs.iter()
        .find(|(n, _)| *n == spec.name)
        .map(|(n, d)| (*n, d))
}

fn docs(compat: Compat, names: &[Bytes]) -> Reply {
    let entries: Vec<(&str, &Doc)> = if names.is_empty() {
        table::docs().iter().map(|(n, d)| (*n, d)).collect()
    } else {
        names.iter().filter_map(|n| find_doc(compat, n)).collect()
    };
    let keep = |name: &str| table::listed(name, compat);
    Reply::Map(
        entries
            .into_iter()
            .map(|(n, d)| (Reply::bulk(n), d.reply_listed(&keep)))
            .collect(),
    )
}

fn getkeys(compat: Compat, command: &[Bytes]) -> Reply {
    let Some(spec) = command.first().and_then(|n| table::lookup_top(n)) else {
        return Reply::err("ERR Invalid command specified");
    };
    let spec = match command.get(1) {
        Some(sub) if !spec.subcommands.is_empty() => {
            match spec
                .subcommands
                .iter()
                .find(|s| s.short_name().as_bytes().eq_ignore_ascii_case(sub))
            {
                Some(sub) => sub,
                None => return Reply::err("ERR Invalid command specified"),
            }
        }
        _ => spec,
    };
    if !spec.arity_ok(command.len(), compat) {
        return Reply::err("ERR Invalid number of arguments specified for command");
    }
    // No sentinel-mode command takes key arguments.
    Reply::err("ERR The command has no key arguments")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_args as args;

    fn run_words(words: &[&str]) -> Reply {
        run_as(Compat::Redis70, words)
    }

    fn run_as(compat: Compat, words: &[&str]) -> Reply {
        let a = args(words);
        execute(compat, table::resolve(&a, compat).unwrap(), &a)
    }

    fn strings(reply: Reply) -> Vec<String> {
        let Reply::Array(items) = reply else {
            panic!("{reply:?}")
        };
        items
            .iter()
            .map(|i| i.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn count_and_list() {
        assert_eq!(run_words(&["command", "count"]), Reply::Int(15));
        let names = strings(run_words(&["COMMAND", "LIST"]));
        assert_eq!(names.len(), 72);
        assert!(names.contains(&"sentinel|get-master-addr-by-name".to_string()));
        assert!(names.contains(&"client|no-evict".to_string()));
        let pubsub = strings(run_words(&[
            "command", "list", "filterby", "aclcat", "pubsub",
        ]));
        assert_eq!(
            pubsub,
            [
                "publish",
                "psubscribe",
                "punsubscribe",
                "unsubscribe",
                "subscribe"
            ]
        );
        let pattern = strings(run_words(&[
            "command", "list", "filterby", "pattern", "SH*",
        ]));
        assert_eq!(pattern, ["shutdown"]);
        assert_eq!(
            run_words(&["command", "list", "foo"]),
            Reply::err("ERR syntax error")
        );
    }

    #[test]
    fn info_docs_getkeys() {
        let Reply::Array(items) = run_words(&["command", "info", "foo", "client|id"]) else {
            panic!()
        };
        assert_eq!(items[0], Reply::Null);
        let Reply::Array(fields) = &items[1] else {
            panic!()
        };
        assert_eq!(fields[0], Reply::bulk("client|id"));
        assert_eq!(fields[1], Reply::Int(2));
        let Reply::Map(docs) = run_words(&["command", "docs", "ping", "client|list", "nope"])
        else {
            panic!()
        };
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].0, Reply::bulk("client|list"));
        assert_eq!(
            run_words(&["command", "getkeys", "foo", "bar"]),
            Reply::err("ERR Invalid command specified")
        );
        assert_eq!(
            run_words(&["command", "getkeys", "role", "x"]),
            Reply::err("ERR Invalid number of arguments specified for command")
        );
        assert_eq!(
            run_words(&["command", "getkeys", "ping", "x"]),
            Reply::err("ERR The command has no key arguments")
        );
    }

    #[test]
    fn newer_entries_are_shown_by_the_setting() {
        let listed = |compat| strings(run_as(compat, &["command", "list"]));
        assert!(!listed(Compat::Redis70).contains(&"client|setinfo".to_string()));
        assert_eq!(listed(Compat::Redis72).len(), 73);
        let valkey = listed(Compat::Valkey8);
        assert_eq!(valkey.len(), 77);
        assert!(valkey.contains(&"sentinel|primary".to_string()));
        for compat in [Compat::Redis70, Compat::Redis72, Compat::Valkey8] {
            assert_eq!(run_as(compat, &["command", "count"]), Reply::Int(15));
        }
        let Reply::Map(docs) = run_as(Compat::Valkey8, &["command", "docs", "client|setinfo"])
        else {
            panic!()
        };
        assert_eq!(docs[0].0, Reply::bulk("client|setinfo"));
        assert_eq!(
            run_as(Compat::Redis70, &["command", "docs", "client|setinfo"]),
            Reply::Map(Vec::new())
        );
        assert_eq!(
            run_as(Compat::Redis70, &["command", "info", "sentinel|primary"]),
            Reply::Array(vec![Reply::Null])
        );
        // The `sentinel` entry's own subcommand lists follow the setting too.
        let subcommands = |compat| {
            let Reply::Array(info) = run_as(compat, &["command", "info", "sentinel"]) else {
                panic!()
            };
            let Reply::Array(fields) = &info[0] else {
                panic!()
            };
            let Reply::Array(subs) = &fields[9] else {
                panic!()
            };
            subs.len()
        };
        assert_eq!(subcommands(Compat::Redis70), 21);
        assert_eq!(subcommands(Compat::Valkey8), 25);
    }
}
