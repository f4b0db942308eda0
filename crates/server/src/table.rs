//! The command table and command lookup: which commands exist in sentinel mode, and the errors
//! for unknown commands and wrong arity.

pub use super::spec::{cat, listed, Doc, Spec};
use bytes::Bytes;
use warden_core::config::Compat;
use warden_core::sentinel::Subcommand;
use warden_core::Reply;

/// All top-level commands, in `COMMAND` order.
pub fn commands() -> &'static [Spec] {
    &super::table_data::COMMANDS
}

/// The `COMMAND DOCS` entries of the top-level commands.
pub fn docs() -> &'static [(&'static str, Doc)] {
    &super::docs_data::DOCS
}

/// Every entry, top-level commands followed by their subcommands.
pub fn all() -> impl Iterator<Item = &'static Spec> {
    commands()
        .iter()
        .flat_map(|c| std::iter::once(c).chain(c.subcommands.iter()))
}

/// An entry by its id.
pub fn by_id(id: usize) -> Option<&'static Spec> {
    all().find(|s| s.id == id)
}

/// Number of entries (ACL bitmaps cover this many ids): Redis 7.0.15's 72, `client|setinfo`
/// and Valkey's four primary-named `sentinel` subcommands.
pub const ENTRIES: usize = 77;

fn find(list: &'static [Spec], name: &[u8], prefix: usize) -> Option<&'static Spec> {
    list.iter()
        .find(|s| s.name.as_bytes()[prefix..].eq_ignore_ascii_case(name))
}

/// A top-level command by name.
pub fn lookup_top(name: &[u8]) -> Option<&'static Spec> {
    find(commands(), name, 0)
}

/// An entry by full name (`ping`, `client|list`), case-insensitive.
pub fn lookup_full(name: &[u8]) -> Option<&'static Spec> {
    match name.iter().position(|&b| b == b'|') {
        None => lookup_top(name),
        Some(bar) => {
            let parent = lookup_top(&name[..bar])?;
            find(parent.subcommands, &name[bar + 1..], parent.name.len() + 1)
        }
    }
}

/// Resolve the command a request names, like Redis' `processCommand`: the subcommand of a
/// container when one is given, with unknown-command, unknown-subcommand and arity errors (the
/// arities of `compat`).
pub fn resolve(args: &[Bytes], compat: Compat) -> Result<&'static Spec, Reply> {
    let name = &args[0];
    let Some(top) = lookup_top(name) else {
        return Err(unknown_command(args));
    };
    let spec = match (top.subcommands.is_empty(), args.get(1)) {
        (false, Some(sub)) => match find(top.subcommands, sub, top.name.len() + 1) {
            Some(spec) => spec,
            None if top.name == "sentinel"
                && Subcommand::lookup(sub).is_some_and(Subcommand::is_warden_only) =>
            {
                // Warden's `SENTINEL VIP <master>` and `SENTINEL HISTORY <master>` stay out of
                // the command table (COMMAND COUNT/LIST are Redis Sentinel's exactly); they have
                // `sentinel|master`'s arity and ACL identity: each shows one master's state.
                lookup_full(b"sentinel|master").expect("in the table")
            }
            None => {
                return Err(Reply::err(format!(
                    "ERR unknown subcommand '{}'. Try {} HELP.",
                    truncate(sub, 128),
                    String::from_utf8_lossy(name).to_uppercase()
                )))
            }
        },
        _ => top,
    };
    // Warden's `SENTINEL FAILOVER <name> COORDINATED` has one word more than Redis's
    // `sentinel|failover` (whose table entry stays Redis's, arity 3).
    let coordinated = spec.name == "sentinel|failover"
        && args.len() == 4
        && args[3].eq_ignore_ascii_case(b"coordinated");
    if !coordinated && !spec.arity_ok(args.len(), compat) {
        return Err(wrong_arity(spec.name));
    }
    Ok(spec)
}

/// `-ERR wrong number of arguments for '<name>' command`.
pub fn wrong_arity(name: &str) -> Reply {
    Reply::err(format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

fn truncate(text: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&text[..text.len().min(max)]).into_owned()
}

/// `-ERR unknown command '<cmd>', with args beginning with: '<a>' '<b>' ` (at most ~128
/// characters of arguments, as Redis).
pub fn unknown_command(args: &[Bytes]) -> Reply {
    let mut shown = String::new();
    for arg in &args[1..] {
        if shown.len() >= 128 {
            break;
        }
        let room = 128 - shown.len();
        shown.push('\'');
        shown.push_str(&truncate(arg, room));
        shown.push_str("' ");
    }
    Reply::err(format!(
        "ERR unknown command '{}', with args beginning with: {shown}",
        truncate(&args[0], 128)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_args as args;

    #[test]
    fn table_matches_reference_counts() {
        assert_eq!(commands().len(), 15);
        assert_eq!(all().count(), ENTRIES);
        let mut ids: Vec<usize> = all().map(|s| s.id).collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..ENTRIES).collect::<Vec<_>>());
        assert_eq!(
            by_id(lookup_full(b"client|kill").unwrap().id).unwrap().name,
            "client|kill"
        );
        let sentinel = lookup_top(b"SENTINEL").unwrap();
        assert_eq!(sentinel.subcommands.len(), 25);
        let listed_under = |compat| all().filter(|s| listed(s.name, compat)).count();
        assert_eq!(listed_under(Compat::Redis70), 72);
        assert_eq!(listed_under(Compat::Redis72), 73);
        assert_eq!(listed_under(Compat::Valkey8), 77);
        assert_eq!(docs().len(), 15);
    }

    #[test]
    fn resolve_errors() {
        let err = |w: &[&str]| match resolve(&args(w), Compat::Redis70) {
            Err(Reply::Error(e)) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err(&["get", "a", "b"]),
            "ERR unknown command 'get', with args beginning with: 'a' 'b' "
        );
        assert_eq!(
            err(&["quit"]),
            "ERR unknown command 'quit', with args beginning with: "
        );
        assert_eq!(
            err(&["Sentinel", "foo"]),
            "ERR unknown subcommand 'foo'. Try SENTINEL HELP."
        );
        assert_eq!(
            err(&["sentinel", "SET", "m"]),
            "ERR wrong number of arguments for 'sentinel|set' command"
        );
        assert_eq!(
            err(&["client"]),
            "ERR wrong number of arguments for 'client' command"
        );
        assert_eq!(
            err(&["role", "x"]),
            "ERR wrong number of arguments for 'role' command"
        );
        assert_eq!(
            resolve(&args(&["CLIENT", "List"]), Compat::Redis70)
                .unwrap()
                .name,
            "client|list"
        );
        assert_eq!(
            resolve(&args(&["ping", "x"]), Compat::Redis70)
                .unwrap()
                .name,
            "ping"
        );
        assert_eq!(
            resolve(
                &args(&["client", "SETINFO", "lib-name", "x"]),
                Compat::Redis70
            )
            .unwrap()
            .name,
            "client|setinfo"
        );
        assert_eq!(
            err(&["client", "no-touch", "on"]),
            "ERR unknown subcommand 'no-touch'. Try CLIENT HELP."
        );
        assert_eq!(
            err(&["sentinel", "primary"]),
            "ERR wrong number of arguments for 'sentinel|primary' command"
        );
        let config_get = args(&["sentinel", "config", "get"]);
        assert!(resolve(&config_get, Compat::Redis70).is_ok());
        assert_eq!(
            resolve(&config_get, Compat::Valkey8).err(),
            Some(wrong_arity("sentinel|config"))
        );
    }

    #[test]
    fn unknown_command_args_are_bounded() {
        let long = "x".repeat(300);
        let Reply::Error(e) = unknown_command(&args(&["foo", &long, "b"])) else {
            panic!()
        };
        assert_eq!(
            e,
            format!(
                "ERR unknown command 'foo', with args beginning with: '{}' ",
                "x".repeat(128)
            )
        );
    }

    #[test]
    fn full_name_lookup() {
        assert_eq!(lookup_full(b"CLIENT|kill").unwrap().name, "client|kill");
        assert!(lookup_full(b"client|nope").is_none());
        assert!(lookup_full(b"ping|x").is_none());
    }

    /// The server's `sentinel|...` entries and the core's subcommand table agree: every entry
    /// the core executes (Warden's own aside, which COMMAND does not list) is in the table
    /// under its name with its arity, and every table entry names a subcommand of the core
    /// (Valkey's primary-named aliases included).
    #[test]
    fn sentinel_entries_match_the_core_subcommands() {
        use warden_core::sentinel::Subcommand;
        for &sub in Subcommand::ALL {
            let entry = lookup_full(format!("sentinel|{}", sub.name()).as_bytes());
            if sub.is_warden_only() {
                assert!(entry.is_none(), "{} is listed by COMMAND", sub.name());
                continue;
            }
            let entry = entry.unwrap_or_else(|| panic!("no table entry for {}", sub.name()));
            assert_eq!(
                entry.arity(Compat::Redis70),
                sub.listed_arity(),
                "{}",
                sub.name()
            );
        }
        let sentinel = lookup_top(b"sentinel").unwrap();
        for entry in sentinel.subcommands {
            let sub = Subcommand::lookup(entry.short_name().as_bytes())
                .unwrap_or_else(|| panic!("{} is not a core subcommand", entry.name));
            assert_eq!(
                entry.arity(Compat::Redis70),
                sub.listed_arity(),
                "{}",
                entry.name
            );
        }
    }
}
