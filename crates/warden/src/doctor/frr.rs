//! The routing daemon of a routed VIP: FRR's bgpd, asked through `vtysh` (its vty sockets in
//! `--frr-vty-dir`, `/var/run/frr` by default).
//!
//! What would keep the VIP's route from the routers, or keep a dead holder's route there:
//! bgpd not answering; no BGP session established; an eBGP neighbour whose updates FRR
//! discards (`bgp ebgp-requires-policy`, on by default, without an outbound policy); nothing
//! in the configuration that would export the VIP (`redistribute connected` or `network
//! <vip>/<len>` in the VIP's address family); a hold time above 9 s without BFD (a dead
//! holder's route outlives it that long); route-flap damping (a VIP that moves a few times is
//! suppressed for up to an hour).

use super::Severity;
use std::path::Path;
use std::process::Command;
use warden_core::config::VipConfig;

/// Longest hold time that withdraws a dead holder's route about as fast as BFD would.
const MAX_HOLD_WITHOUT_BFD_MS: u64 = 9_000;

/// The findings about the routing daemon for `vip`, FRR's sockets being in `vty_dir`.
pub fn check(vip: &VipConfig, vty_dir: &Path) -> Vec<(Severity, String)> {
    let neighbours = match vtysh(vty_dir, "show bgp neighbors json") {
        Ok(text) => text,
        Err(why) => {
            return vec![(
                Severity::Fail,
                format!(
                "a routed VIP needs a routing daemon: FRR's bgpd does not answer at {} ({why}); \
                     install frr, enable bgpd in /etc/frr/daemons and configure it (docs/vip.md), \
                     or give `warden doctor --frr-vty-dir`",
                vty_dir.display()
            ),
            )]
        }
    };
    let running = vtysh(vty_dir, "show running-config").unwrap_or_default();
    findings(vip, &running, &neighbours)
}

/// The findings from bgpd's running configuration and its `show bgp neighbors json`.
fn findings(vip: &VipConfig, running: &str, neighbours: &str) -> Vec<(Severity, String)> {
    let mut out = Vec::new();
    let family = if vip.addr.is_ipv4() {
        "ipv4Unicast"
    } else {
        "ipv6Unicast"
    };
    let peers: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(neighbours).unwrap_or_default();
    let established: Vec<&String> = peers
        .iter()
        .filter(|(_, p)| p["bgpState"] == "Established")
        .map(|(name, _)| name)
        .collect();
    if established.is_empty() {
        let states: Vec<String> = peers
            .iter()
            .map(|(name, p)| format!("{name} {}", p["bgpState"].as_str().unwrap_or("?")))
            .collect();
        out.push((
            Severity::Fail,
            format!(
                "no BGP session is established ({}): the VIP's route reaches no router",
                if states.is_empty() {
                    "no neighbour configured".to_string()
                } else {
                    states.join(", ")
                }
            ),
        ));
    }
    for (name, peer) in &peers {
        let af = &peer["addressFamilyInfo"][family];
        if af.get("outboundEbgpRequiresPolicy").is_some() {
            out.push((
                Severity::Fail,
                format!(
                    "eBGP neighbour {name} has no outbound policy, so FRR sends it nothing \
                     (`bgp ebgp-requires-policy`): add `neighbor {name} route-map <map> out` \
                     exporting the VIP only"
                ),
            ));
        }
        let hold = peer["bgpTimerHoldTimeMsecs"].as_u64().unwrap_or(0);
        if hold > MAX_HOLD_WITHOUT_BFD_MS && peer.get("peerBfdInfo").is_none() {
            out.push((
                Severity::Warn,
                format!(
                    "neighbour {name}: hold time {} s and no BFD: the route of a dead holder \
                     stays at the router that long; enable BFD (`neighbor {name} bfd`) or \
                     `timers bgp 1 3`",
                    hold / 1000
                ),
            ));
        }
    }
    if !exports(running, vip) {
        out.push((
            Severity::Fail,
            format!(
                "bgpd would export nothing for {}: add `redistribute connected route-map <map>` \
                 (the map matching the VIP only) or `network {}/{}` to `address-family {} \
                 unicast`",
                vip.addr,
                vip.addr,
                vip.prefix,
                if vip.addr.is_ipv4() { "ipv4" } else { "ipv6" }
            ),
        ));
    }
    if running
        .lines()
        .any(|l| l.trim_start().starts_with("bgp dampening"))
    {
        out.push((
            Severity::Warn,
            "route-flap damping is on (`bgp dampening`): a VIP that moved a few times is \
             suppressed for up to an hour; turn it off for the VIP (docs/vip.md)"
                .into(),
        ));
    }
    out
}

/// Whether the `router bgp` section's address family of the VIP redistributes connected (or
/// kernel) routes or originates the VIP with `network`.
fn exports(running: &str, vip: &VipConfig) -> bool {
    let family = if vip.addr.is_ipv4() { "ipv4" } else { "ipv6" };
    let network = format!("network {}/{}", vip.addr, vip.prefix);
    let (mut in_bgp, mut in_family) = (false, false);
    for line in running.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["router", "bgp", ..] => in_bgp = true,
            ["exit"] if line.starts_with("exit") => in_bgp = false,
            ["address-family", f, ..] if in_bgp => in_family = *f == family,
            ["exit-address-family"] => in_family = false,
            _ if in_family => {
                let text = line.trim();
                if text.starts_with("redistribute connected")
                    || text.starts_with("redistribute kernel")
                    || text.starts_with("redistribute local")
                    || text == network
                    || text.starts_with(&format!("{network} "))
                {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

/// Runs `vtysh -c command` against the daemons whose sockets are in `vty_dir`.
fn vtysh(vty_dir: &Path, command: &str) -> Result<String, String> {
    let out = Command::new("vtysh")
        .arg("--vty_socket")
        .arg(vty_dir)
        .args(["-c", command])
        .output()
        .map_err(|e| format!("cannot run vtysh: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() || text.trim().is_empty() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("vtysh: {}", err.trim()));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNNING: &str = "frr version 8.4.4\nfrr defaults traditional\nhostname node1\n!\n\
router bgp 65111\n bgp router-id 10.77.1.11\n timers bgp 1 3\n neighbor 10.77.1.1 remote-as 65101\n\
 neighbor 10.77.1.1 bfd\n !\n address-family ipv4 unicast\n  redistribute connected route-map VIP\n\
  neighbor 10.77.1.1 route-map VIP-OUT out\n exit-address-family\nexit\n!\n\
ip prefix-list VIP seq 10 permit 10.77.200.10/32\n!\nend\n";

    fn vip() -> VipConfig {
        let mut v = VipConfig::new("10.77.200.10".parse().unwrap(), 32, "lo", 1000);
        v.set_mode(warden_core::config::VipMode::Routed).unwrap();
        v
    }

    fn neighbour(state: &str, hold_ms: u64, bfd: bool, policy_missing: bool) -> String {
        let bfd = if bfd {
            r#","peerBfdInfo":{"status":"Up"}"#
        } else {
            ""
        };
        let policy = if policy_missing {
            r#","outboundEbgpRequiresPolicy":"Outbound updates discarded due to missing policy""#
        } else {
            ""
        };
        format!(
            r#"{{"10.77.1.1":{{"remoteAs":65101,"nbrExternalLink":true,"bgpState":"{state}",
            "bgpTimerHoldTimeMsecs":{hold_ms},"addressFamilyInfo":{{"ipv4Unicast":
            {{"acceptedPrefixCounter":3{policy}}}}}{bfd}}}}}"#
        )
    }

    fn texts(findings: Vec<(Severity, String)>) -> Vec<String> {
        findings
            .into_iter()
            .map(|(s, t)| format!("{s:?} {t}"))
            .collect()
    }

    #[test]
    fn a_good_setup_is_silent() {
        let good = neighbour("Established", 3000, true, false);
        assert_eq!(
            texts(findings(&vip(), RUNNING, &good)),
            Vec::<String>::new()
        );
        // `network` instead of redistribution, and a long hold time with BFD.
        let network = RUNNING.replace(
            "redistribute connected route-map VIP",
            "network 10.77.200.10/32",
        );
        let long_with_bfd = neighbour("Established", 180_000, true, false);
        assert!(findings(&vip(), &network, &long_with_bfd).is_empty());
    }

    #[test]
    fn what_would_keep_the_route_from_the_routers_fails() {
        let down = texts(findings(
            &vip(),
            RUNNING,
            &neighbour("Active", 3000, true, false),
        ));
        assert_eq!(down.len(), 1, "{down:?}");
        assert!(down[0].starts_with("Fail no BGP session is established (10.77.1.1 Active)"));
        let no_policy = texts(findings(
            &vip(),
            RUNNING,
            &neighbour("Established", 3000, true, true),
        ));
        assert!(
            no_policy[0].contains("has no outbound policy"),
            "{no_policy:?}"
        );
        let nothing = RUNNING.replace("  redistribute connected route-map VIP\n", "");
        let silent = texts(findings(
            &vip(),
            &nothing,
            &neighbour("Established", 3000, true, false),
        ));
        assert!(
            silent[0].starts_with("Fail bgpd would export nothing"),
            "{silent:?}"
        );
        let none = texts(findings(&vip(), RUNNING, "{}"));
        assert!(none[0].contains("no neighbour configured"), "{none:?}");
    }

    #[test]
    fn slow_withdrawal_and_damping_warn() {
        let slow = texts(findings(
            &vip(),
            RUNNING,
            &neighbour("Established", 180_000, false, false),
        ));
        assert_eq!(slow.len(), 1);
        assert!(slow[0].starts_with("Warn neighbour 10.77.1.1: hold time 180 s and no BFD"));
        let damped = RUNNING.replace(" timers bgp 1 3\n", " timers bgp 1 3\n bgp dampening\n");
        let warn = texts(findings(
            &vip(),
            &damped,
            &neighbour("Established", 3000, true, false),
        ));
        assert!(warn[0].starts_with("Warn route-flap damping"), "{warn:?}");
    }
}
