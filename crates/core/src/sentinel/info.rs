//! Parsing of a monitored instance's INFO reply into the few facts Sentinel uses.
//!
//! The text comes from the network: every field is optional, numbers are parsed defensively and
//! absurd values are clamped or ignored rather than trusted.

use super::instance::Role;
use crate::reply::Reply;

/// Upper bound on the INFO text size accepted (a real INFO is a few KB).
pub const MAX_INFO_BYTES: usize = 1 << 20;
/// Upper bound on replicas read from one master's INFO.
pub const MAX_REPLICAS_PER_INFO: usize = 1024;

/// What Sentinel reads out of INFO.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedInfo {
    /// `run_id` (exactly 40 characters).
    pub run_id: Option<String>,
    /// `role`.
    pub role: Option<Role>,
    /// Replicas listed by a master (`slaveN:` lines), as (ip, port).
    pub replicas: Vec<(String, u16)>,
    /// `master_link_down_since_seconds` in ms (0 when absent).
    pub master_link_down_ms: u64,
    /// `master_host`.
    pub master_host: Option<String>,
    /// `master_port`.
    pub master_port: Option<u16>,
    /// `master_link_status:up`.
    pub master_link_up: Option<bool>,
    /// `slave_priority` / `replica_priority`.
    pub slave_priority: Option<i64>,
    /// `slave_repl_offset`.
    pub slave_repl_offset: Option<u64>,
    /// `replica_announced`.
    pub replica_announced: Option<bool>,
    /// `master_repl_offset` (a master's replication offset).
    pub master_repl_offset: Option<u64>,
}

/// The text of an INFO reply (bulk or verbatim), bytes that are not UTF-8 replaced; `None`
/// for other reply types or beyond [`MAX_INFO_BYTES`].
pub fn text_of(reply: &Reply) -> Option<String> {
    match reply {
        Reply::Bulk(b) if b.len() <= MAX_INFO_BYTES => {
            Some(String::from_utf8_lossy(b).into_owned())
        }
        Reply::Verbatim(s) if s.len() <= MAX_INFO_BYTES => Some(s.clone()),
        _ => None,
    }
}

/// Parse INFO text. Unknown or malformed lines are skipped.
pub fn parse(text: &str) -> ParsedInfo {
    let mut info = ParsedInfo::default();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key {
            "run_id" if value.len() == 40 && value.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                info.run_id = Some(value.to_string());
            }
            "role" => {
                info.role = match value {
                    "master" => Some(Role::Master),
                    "slave" => Some(Role::Slave),
                    _ => None,
                }
            }
            "master_link_down_since_seconds" => {
                // "-1" means never connected; Redis multiplies whatever strtoll gives.
                if let Ok(secs) = value.parse::<i64>() {
                    info.master_link_down_ms = (secs.max(0) as u64).saturating_mul(1000);
                }
            }
            "master_host" => info.master_host = Some(value.to_string()),
            "master_port" => info.master_port = value.parse().ok(),
            "master_link_status" => info.master_link_up = Some(value == "up"),
            "slave_priority" | "replica_priority" => info.slave_priority = value.parse().ok(),
            "slave_repl_offset" => info.slave_repl_offset = value.parse().ok(),
            "master_repl_offset" => info.master_repl_offset = value.parse().ok(),
            "replica_announced" => info.replica_announced = Some(value != "0"),
            _ if is_replica_line(key) && info.replicas.len() < MAX_REPLICAS_PER_INFO => {
                if let Some(replica) = parse_replica(value) {
                    info.replicas.push(replica);
                }
            }
            _ => {}
        }
    }
    info
}

fn is_replica_line(key: &str) -> bool {
    key.len() > 5 && key.starts_with("slave") && key[5..].bytes().all(|b| b.is_ascii_digit())
}

/// `ip=127.0.0.1,port=6380,state=online,...` or the pre-2.8 form `127.0.0.1,6380,online`.
fn parse_replica(value: &str) -> Option<(String, u16)> {
    if value.contains("ip=") {
        let mut ip = None;
        let mut port = None;
        for field in value.split(',') {
            match field.split_once('=') {
                Some(("ip", v)) => ip = Some(v),
                Some(("port", v)) => port = v.parse::<u16>().ok(),
                _ => {}
            }
        }
        Some((ip?.to_string(), port?)).filter(|(ip, port)| !ip.is_empty() && *port != 0)
    } else {
        let mut parts = value.split(',');
        let ip = parts.next()?;
        let port = parts.next()?.parse::<u16>().ok()?;
        Some((ip.to_string(), port)).filter(|(ip, port)| !ip.is_empty() && *port != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: &str =
        "# Server\r\nredis_version:7.0.15\r\nrun_id:0123456789abcdef0123456789abcdef01234567\r\n\
# Replication\r\nrole:master\r\nconnected_slaves:2\r\n\
slave0:ip=127.0.0.1,port=6380,state=online,offset=100,lag=0\r\n\
slave1:127.0.0.2,6381,online\r\nslave_x:ip=1.1.1.1,port=1\r\nmaster_repl_offset:100\r\n";

    #[test]
    fn master_info() {
        let info = parse(MASTER);
        assert_eq!(
            info.run_id.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(info.role, Some(Role::Master));
        assert_eq!(
            info.replicas,
            vec![
                ("127.0.0.1".to_string(), 6380),
                ("127.0.0.2".to_string(), 6381)
            ]
        );
    }

    #[test]
    fn replica_info() {
        let text = "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6379\r\nmaster_link_status:down\r\n\
master_link_down_since_seconds:3\r\nslave_priority:0\r\nslave_repl_offset:42\r\nreplica_announced:0\r\n";
        let info = parse(text);
        assert_eq!(info.role, Some(Role::Slave));
        assert_eq!(info.master_host.as_deref(), Some("127.0.0.1"));
        assert_eq!(info.master_port, Some(6379));
        assert_eq!(info.master_link_up, Some(false));
        assert_eq!(info.master_link_down_ms, 3000);
        assert_eq!(info.slave_priority, Some(0));
        assert_eq!(info.slave_repl_offset, Some(42));
        assert_eq!(info.replica_announced, Some(false));
    }

    #[test]
    fn hostile_info_is_tolerated() {
        let text = "run_id:short\r\nrole:emperor\r\nslave0:ip=,port=99999\r\nmaster_port:-5\r\n\
slave_repl_offset:999999999999999999999999\r\nmaster_link_down_since_seconds:99999999999999999\r\n\u{0}\u{1}garbage";
        let info = parse(text);
        assert_eq!(info.run_id, None);
        assert_eq!(info.role, None);
        assert!(info.replicas.is_empty());
        assert_eq!(info.master_port, None);
        assert_eq!(info.slave_repl_offset, None);
        assert_eq!(info.master_link_down_ms, u64::MAX);
    }

    #[test]
    fn non_utf8_info_is_read() {
        let mut bytes = b"run_id:0123456789abcdef0123456789abcdef01234567\r\nerrorstat_".to_vec();
        bytes.extend_from_slice(b"\xffBAD:count=1\r\nrole:master\r\n");
        let text = text_of(&Reply::Bulk(bytes.into())).expect("bulk");
        assert_eq!(parse(&text).role, Some(Role::Master));
        assert_eq!(text_of(&Reply::Int(1)), None);
    }

    #[test]
    fn replica_list_is_bounded() {
        let mut text = String::from("role:master\r\n");
        for i in 0..(MAX_REPLICAS_PER_INFO + 10) {
            text.push_str(&format!(
                "slave{i}:ip=10.0.0.1,port={},state=online\r\n",
                1000 + i
            ));
        }
        assert_eq!(parse(&text).replicas.len(), MAX_REPLICAS_PER_INFO);
    }
}
