//! `COMMAND` and its subcommands, answered from the sentinel command table.

use super::table::{self, cat, Doc, Spec};
use bytes::Bytes;
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

/// Execute `COMMAND [...]` (`spec` is `command` itself or one of its subcommands).
pub fn run(spec: &Spec, args: &[Bytes]) -> Reply {
    match spec.short_name() {
        "command" => Reply::Array(table::commands().iter().map(Spec::info_reply).collect()),
        "count" => Reply::Int(table::commands().len() as i64),
        "list" => list(&args[2..]),
        "info" if args.len() == 2 => {
            Reply::Array(table::commands().iter().map(Spec::info_reply).collect())
        }
        "info" => Reply::Array(
            args[2..]
                .iter()
                .map(|n| {
                    table::lookup_full(n)
                        .map(Spec::info_reply)
                        .unwrap_or(Reply::Null)
                })
                .collect(),
        ),
        "docs" => docs(&args[2..]),
        "getkeys" | "getkeysandflags" => getkeys(&args[2..]),
        _ => help(HELP),
    }
}

fn list(filter: &[Bytes]) -> Reply {
    let names = |keep: &dyn Fn(&Spec) -> bool| {
        Reply::Array(
            table::all()
                .filter(|s| keep(s))
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
fn find_doc(name: &[u8]) -> Option<(&'static str, &'static Doc)> {
    let spec = table::lookup_full(name)?;
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

fn docs(names: &[Bytes]) -> Reply {
    let entries: Vec<(&str, &Doc)> = if names.is_empty() {
        table::docs().iter().map(|(n, d)| (*n, d)).collect()
    } else {
        names.iter().filter_map(|n| find_doc(n)).collect()
    };
    Reply::Map(
        entries
            .into_iter()
            .map(|(n, d)| (Reply::bulk(n), d.reply()))
            .collect(),
    )
}

fn getkeys(command: &[Bytes]) -> Reply {
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
    if !spec.arity_ok(command.len()) {
        return Reply::err("ERR Invalid number of arguments specified for command");
    }
    // No sentinel-mode command takes key arguments.
    Reply::err("ERR The command has no key arguments")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn run_words(words: &[&str]) -> Reply {
        let a = args(words);
        run(table::resolve(&a).unwrap(), &a)
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
}
