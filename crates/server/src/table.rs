//! The command table and command lookup: which commands exist in sentinel mode, their arity,
//! flags and ACL categories, and the errors for unknown commands and wrong arity.

use bytes::Bytes;
use warden_core::config::Compat;
use warden_core::Reply;

/// ACL categories as bits, in the order `ACL CAT` lists them.
pub mod cat {
    /// `ACL CAT` names; bit `i` of a category mask is `NAMES[i]`.
    pub const NAMES: [&str; 21] = [
        "keyspace",
        "read",
        "write",
        "set",
        "sortedset",
        "list",
        "hash",
        "string",
        "bitmap",
        "hyperloglog",
        "geo",
        "stream",
        "pubsub",
        "admin",
        "fast",
        "slow",
        "blocking",
        "dangerous",
        "connection",
        "transaction",
        "scripting",
    ];
    /// `@pubsub`.
    pub const PUBSUB: u32 = 1 << 12;
    /// `@admin`.
    pub const ADMIN: u32 = 1 << 13;
    /// `@fast`.
    pub const FAST: u32 = 1 << 14;
    /// `@slow`.
    pub const SLOW: u32 = 1 << 15;
    /// `@dangerous`.
    pub const DANGEROUS: u32 = 1 << 17;
    /// `@connection`.
    pub const CONNECTION: u32 = 1 << 18;

    /// The bit of a category name (case-insensitive).
    pub fn by_name(name: &str) -> Option<u32> {
        NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .map(|i| 1 << i)
    }

    /// Names of the categories in `mask`, `@`-prefixed, in table order.
    pub fn names(mask: u32) -> impl Iterator<Item = String> {
        NAMES
            .iter()
            .enumerate()
            .filter(move |(i, _)| mask & (1 << i) != 0)
            .map(|(_, n)| format!("@{n}"))
    }
}

/// One command or subcommand.
#[derive(Debug)]
pub struct Spec {
    /// Dense index over all entries (ACL permission bits).
    pub id: usize,
    /// Full name: `ping`, or `parent|sub` for a subcommand.
    pub name: &'static str,
    /// Redis arity: exact argument count if positive, minimum if negative (command name included).
    pub arity: i32,
    /// Command flags as `COMMAND INFO` shows them.
    pub flags: &'static [&'static str],
    /// ACL category mask (see [`cat`]).
    pub categories: u32,
    /// Command tips.
    pub tips: &'static [&'static str],
    /// Subcommands (empty for plain commands).
    pub subcommands: &'static [Spec],
}

impl Spec {
    /// Whether the command carries `flag` (e.g. `no_auth`).
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }

    /// The top-level command's name (`sentinel` for `sentinel|set`).
    pub fn family(&self) -> &'static str {
        let bar = self.name.bytes().position(|b| b == b'|');
        &self.name[..bar.unwrap_or(self.name.len())]
    }

    /// The subcommand part of the name (`set` for `sentinel|set`), or the whole name.
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }

    /// The arity under `compat` (Valkey changed three, see [`VALKEY_CHANGES`]).
    pub fn arity(&self, compat: Compat) -> i32 {
        self.valkey_change(compat)
            .and_then(|c| c.arity)
            .unwrap_or(self.arity)
    }

    /// The command tips under `compat`.
    fn tips(&self, compat: Compat) -> &'static [&'static str] {
        self.valkey_change(compat)
            .and_then(|c| c.tips)
            .unwrap_or(self.tips)
    }

    fn valkey_change(&self, compat: Compat) -> Option<&'static Change> {
        (compat == Compat::Valkey8)
            .then(|| VALKEY_CHANGES.iter().find(|c| c.name == self.name))
            .flatten()
    }

    /// Whether `argc` arguments (including the name) satisfy the arity under `compat`.
    pub fn arity_ok(&self, argc: usize, compat: Compat) -> bool {
        let argc = argc as i64;
        let arity = i64::from(self.arity(compat));
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// `COMMAND INFO` entry, with the subcommands `COMMAND` lists under `compat`.
    pub fn info_reply(&self, compat: Compat) -> Reply {
        // Redis sends flags, categories, tips and key specs as sets (`~` in RESP3), and the
        // subcommands as an array, or an empty set when there are none.
        let statuses = |items: &mut dyn Iterator<Item = String>| {
            Reply::Set(items.map(Reply::Status).collect())
        };
        Reply::Array(vec![
            Reply::bulk(self.name),
            Reply::Int(i64::from(self.arity(compat))),
            statuses(&mut self.flags.iter().map(|f| f.to_string())),
            Reply::Int(0),
            Reply::Int(0),
            Reply::Int(0),
            statuses(&mut cat::names(self.categories)),
            Reply::Set(self.tips(compat).iter().map(Reply::bulk).collect()),
            Reply::Set(Vec::new()),
            if self.subcommands.is_empty() {
                Reply::Set(Vec::new())
            } else {
                Reply::Array(
                    self.subcommands
                        .iter()
                        .filter(|s| listed(s.name, compat))
                        .map(|s| s.info_reply(compat))
                        .collect(),
                )
            },
        ])
    }
}

/// An entry whose arity or tips Valkey 8 changed (as `COMMAND INFO` shows on valkey-sentinel 8.1).
struct Change {
    name: &'static str,
    arity: Option<i32>,
    tips: Option<&'static [&'static str]>,
}

/// The tips Valkey gives the commands that change server-wide state.
const ALL_NODES: &[&str] = &["request_policy:all_nodes", "response_policy:all_succeeded"];

/// Valkey 8's changes to entries it shares with Redis 7.0.15.
const VALKEY_CHANGES: [Change; 7] = [
    Change {
        name: "acl|deluser",
        arity: None,
        tips: Some(ALL_NODES),
    },
    Change {
        name: "acl|save",
        arity: None,
        tips: Some(ALL_NODES),
    },
    Change {
        name: "acl|setuser",
        arity: None,
        tips: Some(ALL_NODES),
    },
    Change {
        name: "client|setname",
        arity: None,
        tips: Some(ALL_NODES),
    },
    Change {
        name: "command|getkeys",
        arity: Some(-3),
        tips: None,
    },
    Change {
        name: "command|getkeysandflags",
        arity: Some(-3),
        tips: None,
    },
    // `SENTINEL CONFIG GET` without a parameter is an arity error.
    Change {
        name: "sentinel|config",
        arity: Some(-4),
        tips: None,
    },
];

/// A node of the `COMMAND DOCS` data.
#[derive(Debug)]
pub enum Doc {
    /// Bulk string.
    S(&'static str),
    /// Status string (argument and doc flags).
    T(&'static str),
    /// Array.
    L(&'static [Doc]),
    /// Map.
    M(&'static [(&'static str, Doc)]),
}

impl Doc {
    /// The reply for this node.
    pub fn reply(&self) -> Reply {
        self.reply_listed(&|_| true)
    }

    /// The reply for this node without the `subcommands` entries `keep` refuses.
    pub fn reply_listed(&self, keep: &dyn Fn(&str) -> bool) -> Reply {
        match self {
            Doc::S(s) => Reply::bulk(s),
            Doc::T(s) => Reply::Status(s.to_string()),
            Doc::L(items) => Reply::Array(items.iter().map(Doc::reply).collect()),
            Doc::M(pairs) => Reply::Map(
                pairs
                    .iter()
                    .map(|(k, v)| {
                        // Redis sends argument flags, doc flags and history as sets (`~` in
                        // RESP3).
                        let value = match (k, v) {
                            (&("flags" | "doc_flags" | "history"), Doc::L(items)) => {
                                Reply::Set(items.iter().map(Doc::reply).collect())
                            }
                            (&"subcommands", Doc::M(subs)) => Reply::Map(
                                subs.iter()
                                    .filter(|(name, _)| keep(name))
                                    .map(|(name, doc)| (Reply::bulk(name), doc.reply()))
                                    .collect(),
                            ),
                            _ => v.reply(),
                        };
                        (Reply::bulk(k), value)
                    })
                    .collect(),
            ),
        }
    }
}

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

/// Warden's extra `SENTINEL` subcommands (not listed by COMMAND, see [`resolve`]).
const WARDEN_SUBCOMMANDS: [&[u8]; 2] = [b"vip", b"history"];

/// Number of entries (ACL bitmaps cover this many ids): Redis 7.0.15's 72, `client|setinfo`
/// and Valkey's four primary-named `sentinel` subcommands.
pub const ENTRIES: usize = 77;

/// Valkey 8's primary-named `SENTINEL` subcommands.
const PRIMARY_NAMES: [&str; 4] = [
    "sentinel|primaries",
    "sentinel|primary",
    "sentinel|get-primary-addr-by-name",
    "sentinel|is-primary-down-by-addr",
];

/// Whether `COMMAND` (LIST, INFO, DOCS) shows the entry `name` under `compat`: Redis 7.0.15
/// has neither `client|setinfo` nor the primary names, Redis 7.2 and later add the former,
/// Valkey both. Every entry is executable whatever the setting.
pub fn listed(name: &str, compat: Compat) -> bool {
    if name == "client|setinfo" {
        compat.lists_client_setinfo()
    } else if PRIMARY_NAMES.contains(&name) {
        compat.lists_primary_names()
    } else {
        true
    }
}

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
                && WARDEN_SUBCOMMANDS
                    .iter()
                    .any(|w| sub.eq_ignore_ascii_case(w)) =>
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

    fn args(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

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
}
