//! The `SENTINEL` surface as a type: every subcommand once, with its arity and whether it only
//! reads state, parsed from a request once ([`SentinelCommand::parse`]). The server's command
//! table is checked against [`Subcommand::ALL`] in its tests.

use crate::reply::Reply;
use bytes::Bytes;

/// Defines [`Subcommand`] from one table: variant = (Redis name, arity counting the word
/// SENTINEL; negative: at least that many).
macro_rules! subcommands {
    ($($(#[$doc:meta])* $variant:ident = ($name:literal, $arity:literal),)*) => {
        /// A `SENTINEL` subcommand, under its Redis name (Valkey's primary-named aliases map
        /// onto these).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Subcommand {
            $($(#[$doc])* $variant,)*
        }

        impl Subcommand {
            /// Every subcommand, in name order.
            pub const ALL: &'static [Subcommand] = &[$(Subcommand::$variant,)*];

            /// The lower-case Redis name (`get-master-addr-by-name`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Subcommand::$variant => $name,)*
                }
            }

            /// Redis's arity, counting the word SENTINEL; negative: at least that many.
            pub fn arity(self) -> i32 {
                match self {
                    $(Subcommand::$variant => $arity,)*
                }
            }
        }
    };
}

subcommands! {
    /// `CKQUORUM <master>`
    Ckquorum = ("ckquorum", 3),
    /// `CONFIG GET|SET ...`
    Config = ("config", -3),
    /// `DEBUG [<param> <value> ...]`
    Debug = ("debug", -2),
    /// `FAILOVER <master> [COORDINATED]`
    Failover = ("failover", -3),
    /// `FLUSHCONFIG`
    Flushconfig = ("flushconfig", 2),
    /// `GET-MASTER-ADDR-BY-NAME <master>`
    GetMasterAddrByName = ("get-master-addr-by-name", 3),
    /// `HELP`
    Help = ("help", 2),
    /// `HISTORY <master>` (Warden)
    History = ("history", 3),
    /// `INFO-CACHE <master> ...`
    InfoCache = ("info-cache", -3),
    /// `IS-MASTER-DOWN-BY-ADDR <ip> <port> <epoch> <runid>`
    IsMasterDownByAddr = ("is-master-down-by-addr", 6),
    /// `MASTER <master>`
    Master = ("master", 3),
    /// `MASTERS`
    Masters = ("masters", 2),
    /// `MONITOR <name> <ip> <port> <quorum>`
    Monitor = ("monitor", 6),
    /// `MYID`
    Myid = ("myid", 2),
    /// `PENDING-SCRIPTS`
    PendingScripts = ("pending-scripts", 2),
    /// `REMOVE <master>`
    Remove = ("remove", 3),
    /// `REPLICAS <master>`
    Replicas = ("replicas", 3),
    /// `RESET <pattern>`
    Reset = ("reset", 3),
    /// `SENTINELS <master>`
    Sentinels = ("sentinels", 3),
    /// `SET <master> <option> <value> ...`
    Set = ("set", -5),
    /// `SIMULATE-FAILURE ...`
    SimulateFailure = ("simulate-failure", -3),
    /// `SLAVES <master>`
    Slaves = ("slaves", 3),
    /// `VIP <master>` (Warden)
    Vip = ("vip", 3),
}

use Subcommand::*;

/// Valkey 8's primary-named subcommands and the Redis names they stand for (accepted whatever
/// the compatibility setting: no version gives these names another meaning).
const ALIASES: [(&str, Subcommand); 4] = [
    ("primaries", Masters),
    ("primary", Master),
    ("get-primary-addr-by-name", GetMasterAddrByName),
    ("is-primary-down-by-addr", IsMasterDownByAddr),
];

impl Subcommand {
    /// The arity `COMMAND INFO` shows: Redis's. Only `FAILOVER` differs from [`Self::arity`]:
    /// Warden's `FAILOVER <master> COORDINATED` takes one word more than Redis's entry allows.
    pub fn listed_arity(self) -> i32 {
        match self {
            Failover => 3,
            other => other.arity(),
        }
    }

    /// Whether the subcommand only reads state (the hot path of clients asking for the master:
    /// nothing to re-evaluate afterwards).
    pub fn is_read_only(self) -> bool {
        matches!(
            self,
            GetMasterAddrByName
                | History
                | Master
                | Masters
                | Replicas
                | Slaves
                | Sentinels
                | Myid
                | Ckquorum
                | InfoCache
        )
    }

    /// Warden's own subcommands: kept out of `COMMAND` (whose output is Redis Sentinel's
    /// exactly) and of `SENTINEL HELP`.
    pub fn is_warden_only(self) -> bool {
        matches!(self, Vip | History)
    }

    /// The subcommand `word` names (any case; Valkey's primary-named aliases included).
    pub fn lookup(word: &[u8]) -> Option<Subcommand> {
        Subcommand::ALL
            .iter()
            .copied()
            .find(|s| s.name().as_bytes().eq_ignore_ascii_case(word))
            .or_else(|| {
                ALIASES
                    .iter()
                    .find(|(alias, _)| alias.as_bytes().eq_ignore_ascii_case(word))
                    .map(|&(_, sub)| sub)
            })
    }
}

/// A `SENTINEL` request whose subcommand is known and whose arity is right.
#[derive(Debug, Clone, Copy)]
pub struct SentinelCommand<'a> {
    /// Which subcommand.
    pub sub: Subcommand,
    /// The arguments after the subcommand's name.
    pub args: &'a [Bytes],
}

impl<'a> SentinelCommand<'a> {
    /// Parses `SENTINEL <args...>` (`args` excludes the word SENTINEL), with Redis's errors for
    /// a missing or unknown subcommand and a wrong number of arguments.
    pub fn parse(args: &'a [Bytes]) -> Result<SentinelCommand<'a>, Reply> {
        let Some(word) = args.first() else {
            return Err(Reply::err(
                "ERR wrong number of arguments for 'sentinel' command",
            ));
        };
        let Some(sub) = Subcommand::lookup(word) else {
            return Err(Reply::err(format!(
                "ERR unknown subcommand '{}'. Try SENTINEL HELP.",
                String::from_utf8_lossy(word)
            )));
        };
        let argc = args.len() as i32 + 1;
        let arity = sub.arity();
        if (arity > 0 && argc != arity) || (arity < 0 && argc < -arity) {
            return Err(Reply::err(format!(
                "ERR wrong number of arguments for 'sentinel|{}' command",
                String::from_utf8_lossy(word).to_ascii_lowercase()
            )));
        }
        Ok(SentinelCommand {
            sub,
            args: &args[1..],
        })
    }

    /// Whether the request only reads state.
    pub fn is_read_only(&self) -> bool {
        self.sub.is_read_only()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<Bytes> {
        w.iter().map(|s| Bytes::from(s.to_string())).collect()
    }

    #[test]
    fn names_round_trip_and_aliases_map_to_redis_names() {
        for &sub in Subcommand::ALL {
            assert_eq!(Subcommand::lookup(sub.name().as_bytes()), Some(sub));
            assert_eq!(
                Subcommand::lookup(sub.name().to_uppercase().as_bytes()),
                Some(sub)
            );
        }
        assert_eq!(Subcommand::lookup(b"PRIMARY"), Some(Subcommand::Master));
        assert_eq!(Subcommand::lookup(b"nope"), None);
    }

    #[test]
    fn parse_checks_the_subcommand_and_its_arity() {
        let ok = words(&["get-primary-addr-by-name", "m"]);
        let cmd = SentinelCommand::parse(&ok).unwrap();
        assert_eq!(cmd.sub, Subcommand::GetMasterAddrByName);
        assert_eq!(cmd.args, &ok[1..]);
        assert!(cmd.is_read_only());
        let err = |w: &[&str]| match SentinelCommand::parse(&words(w)) {
            Err(Reply::Error(e)) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err(&["nope"]),
            "ERR unknown subcommand 'nope'. Try SENTINEL HELP."
        );
        assert_eq!(
            err(&["SET", "m"]),
            "ERR wrong number of arguments for 'sentinel|set' command"
        );
        assert_eq!(
            err(&["masters", "x"]),
            "ERR wrong number of arguments for 'sentinel|masters' command"
        );
        assert!(SentinelCommand::parse(&words(&["set", "m", "quorum", "2"])).is_ok());
        assert!(!SentinelCommand::parse(&words(&["reset", "*"]))
            .unwrap()
            .is_read_only());
    }
}
