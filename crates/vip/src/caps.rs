//! Pre-flight check of the capabilities the VIP needs, from `/proc/self/status`.

use crate::error::{Capability, VipError};

/// The capabilities the VIP needs.
pub const REQUIRED: [Capability; 2] = [Capability::NetAdmin, Capability::NetRaw];

/// Which of `needed` are absent from an effective capability mask.
fn missing_from(cap_eff: u64, needed: &[Capability]) -> Vec<Capability> {
    needed
        .iter()
        .copied()
        .filter(|c| cap_eff & (1u64 << c.bit()) == 0)
        .collect()
}

/// Parses the `CapEff:` line of a `/proc/<pid>/status` text.
fn parse_cap_eff(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
}

/// Checks that the calling thread holds CAP_NET_ADMIN and CAP_NET_RAW in its effective set
/// (capabilities are per thread; `/proc/thread-self`, falling back to `/proc/self` on kernels
/// before 3.17); the error names exactly the missing ones. Call at start-up when a VIP is
/// configured.
pub fn check_capabilities() -> Result<(), VipError> {
    let status = std::fs::read_to_string("/proc/thread-self/status")
        .or_else(|_| std::fs::read_to_string("/proc/self/status"))
        .map_err(|e| VipError::Kernel {
            operation: "read /proc/thread-self/status to check capabilities".into(),
            source: e,
        })?;
    let eff = parse_cap_eff(&status)
        .ok_or_else(|| VipError::Protocol("no CapEff line in the process status".into()))?;
    let missing = missing_from(eff, &REQUIRED);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(VipError::MissingCapabilities {
            missing,
            operation: "manage the virtual IP".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cap_eff() {
        let status = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert_eq!(parse_cap_eff(status), Some(0x1ff_ffff_ffff));
        assert_eq!(parse_cap_eff("Name: x\n"), None);
    }

    #[test]
    fn names_exactly_the_missing_ones() {
        assert!(missing_from(u64::MAX, &REQUIRED).is_empty());
        assert_eq!(missing_from(1 << 13, &REQUIRED), vec![Capability::NetAdmin]);
        assert_eq!(missing_from(1 << 12, &REQUIRED), vec![Capability::NetRaw]);
        assert_eq!(missing_from(0, &REQUIRED), REQUIRED.to_vec());
        let e = VipError::MissingCapabilities {
            missing: missing_from(0, &REQUIRED),
            operation: "manage the virtual IP".into(),
        };
        assert!(e
            .to_string()
            .contains("missing capability CAP_NET_ADMIN and CAP_NET_RAW"));
    }
}
