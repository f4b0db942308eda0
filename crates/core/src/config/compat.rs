//! The compatibility setting: which upstream Sentinel's surface Warden presents where the
//! versions disagree (the `warden-compat` directive, see docs/compatibility.md).
//!
//! Additions that no version contradicts (the Valkey subcommand names, `CLIENT SETINFO`,
//! `primary-reboot-down-after-period`) are accepted whatever the setting; the setting decides
//! only what differs between versions: the entries `COMMAND` lists, the `SENTINEL CONFIG`
//! grammar and parameters, and the version fields of `INFO server`.

/// One upstream Sentinel surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compat {
    /// Redis Sentinel 7.0.15 (the default): 72 `COMMAND` entries, one-pair `SENTINEL CONFIG`.
    #[default]
    Redis70,
    /// Redis Sentinel 7.2 to 8.x: adds `CLIENT SETINFO` (73 entries), multi-pair `SENTINEL
    /// CONFIG SET/GET` and its `loglevel` parameter.
    Redis72,
    /// Valkey Sentinel 8 and 9: Redis 7.2's surface plus the primary-named `SENTINEL`
    /// subcommands in `COMMAND` (77 entries) and Valkey's `INFO server` fields.
    Valkey8,
}

impl Compat {
    /// The directive name.
    pub const DIRECTIVE: &'static str = "warden-compat";
    /// Accepted values, in the order of [`Compat`]'s variants.
    pub const NAMES: [&'static str; 3] = ["redis-7.0", "redis-7.2", "valkey-8"];

    /// The setting a value names (case-insensitive), if any.
    pub fn from_name(name: &str) -> Option<Compat> {
        let i = Self::NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))?;
        Some([Compat::Redis70, Compat::Redis72, Compat::Valkey8][i])
    }

    /// The value naming this setting.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Whether `SENTINEL CONFIG SET/GET` take several parameters and know `loglevel` (Redis
    /// 7.2 and later, Valkey).
    pub fn multi_param_config(self) -> bool {
        self != Compat::Redis70
    }

    /// Whether `COMMAND` lists `client|setinfo` (Redis 7.2 and later, Valkey).
    pub fn lists_client_setinfo(self) -> bool {
        self != Compat::Redis70
    }

    /// Whether `COMMAND` lists the primary-named `SENTINEL` subcommands (Valkey 8 and later).
    pub fn lists_primary_names(self) -> bool {
        self == Compat::Valkey8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in [Compat::Redis70, Compat::Redis72, Compat::Valkey8] {
            assert_eq!(Compat::from_name(c.name()), Some(c));
        }
        assert_eq!(Compat::from_name("VALKEY-8"), Some(Compat::Valkey8));
        assert_eq!(Compat::from_name("redis-6.2"), None);
        assert_eq!(Compat::default(), Compat::Redis70);
    }
}
