//! What describes a command: its table entry ([`Spec`]: arity, flags, ACL categories, tips and
//! how newer versions changed them), its `COMMAND DOCS` data ([`Doc`]), and which entries
//! `COMMAND` lists under each compatibility setting. The data itself is in `table_data` and
//! `docs_data`; lookups are in `table`.

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
