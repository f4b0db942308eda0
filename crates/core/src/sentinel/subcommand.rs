//! The `SENTINEL` surface as a type: every subcommand once, with its arity and whether it only
//! reads state, parsed from a request once ([`SentinelCommand::parse`]). The server's command
//! table is checked against [`Subcommand::ALL`] in its tests.

use crate::reply::Reply;
use bytes::Bytes;

/// A `SENTINEL` subcommand, under its Redis name (Valkey's primary-named aliases map onto these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subcommand {
    /// `CKQUORUM <master>`
    Ckquorum,
    /// `CONFIG GET|SET ...`
    Config,
    /// `DEBUG [<param> <value> ...]`
    Debug,
    /// `FAILOVER <master> [COORDINATED]`
    Failover,
    /// `FLUSHCONFIG`
    Flushconfig,
    /// `GET-MASTER-ADDR-BY-NAME <master>`
    GetMasterAddrByName,
    /// `HELP`
    Help,
    /// `HISTORY <master>` (Warden)
    History,
    /// `INFO-CACHE <master> ...`
    InfoCache,
    /// `IS-MASTER-DOWN-BY-ADDR <ip> <port> <epoch> <runid>`
    IsMasterDownByAddr,
    /// `MASTER <master>`
    Master,
    /// `MASTERS`
    Masters,
    /// `MONITOR <name> <ip> <port> <quorum>`
    Monitor,
    /// `MYID`
    Myid,
    /// `PENDING-SCRIPTS`
    PendingScripts,
    /// `REMOVE <master>`
    Remove,
    /// `REPLICAS <master>`
    Replicas,
    /// `RESET <pattern>`
    Reset,
    /// `SENTINELS <master>`
    Sentinels,
    /// `SET <master> <option> <value> ...`
    Set,
    /// `SIMULATE-FAILURE ...`
    SimulateFailure,
    /// `SLAVES <master>`
    Slaves,
    /// `VIP <master>` (Warden)
    Vip,
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
    /// Every subcommand, in name order.
    pub const ALL: [Subcommand; 23] = [
        Ckquorum,
        Config,
        Debug,
        Failover,
        Flushconfig,
        GetMasterAddrByName,
        Help,
        History,
        InfoCache,
        IsMasterDownByAddr,
        Master,
        Masters,
        Monitor,
        Myid,
        PendingScripts,
        Remove,
        Replicas,
        Reset,
        Sentinels,
        Set,
        SimulateFailure,
        Slaves,
        Vip,
    ];

    /// The lower-case Redis name (`get-master-addr-by-name`).
    pub fn name(self) -> &'static str {
        match self {
            Ckquorum => "ckquorum",
            Config => "config",
            Debug => "debug",
            Failover => "failover",
            Flushconfig => "flushconfig",
            GetMasterAddrByName => "get-master-addr-by-name",
            Help => "help",
            History => "history",
            InfoCache => "info-cache",
            IsMasterDownByAddr => "is-master-down-by-addr",
            Master => "master",
            Masters => "masters",
            Monitor => "monitor",
            Myid => "myid",
            PendingScripts => "pending-scripts",
            Remove => "remove",
            Replicas => "replicas",
            Reset => "reset",
            Sentinels => "sentinels",
            Set => "set",
            SimulateFailure => "simulate-failure",
            Slaves => "slaves",
            Vip => "vip",
        }
    }

    /// Redis's arity, counting the word SENTINEL; negative: at least that many.
    pub fn arity(self) -> i32 {
        match self {
            Masters | Myid | Flushconfig | PendingScripts | Help => 2,
            Debug => -2,
            Ckquorum | GetMasterAddrByName | History | Master | Remove | Replicas | Reset
            | Sentinels | Slaves | Vip => 3,
            Config | Failover | InfoCache | SimulateFailure => -3,
            Set => -5,
            IsMasterDownByAddr | Monitor => 6,
        }
    }

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
            .into_iter()
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
        for sub in Subcommand::ALL {
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
