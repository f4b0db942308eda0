//! The hello message exchanged on `__sentinel__:hello`:
//! `<ip>,<port>,<runid>,<current_epoch>,<master_name>,<master_ip>,<master_port>,<master_config_epoch>`.

/// A parsed hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// Sender's announced IP (or hostname).
    pub ip: String,
    /// Sender's announced port.
    pub port: u16,
    /// Sender's run id.
    pub runid: String,
    /// Sender's current epoch.
    pub current_epoch: u64,
    /// Master the hello is about.
    pub master_name: String,
    /// That master's address as the sender knows it.
    pub master_ip: String,
    /// That master's port.
    pub master_port: u16,
    /// That master's config epoch at the sender.
    pub master_config_epoch: u64,
}

/// Longest hello accepted (a real one is ~150 bytes).
pub const MAX_HELLO_BYTES: usize = 4096;

impl Hello {
    /// Render the payload.
    pub fn format(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{}",
            self.ip,
            self.port,
            self.runid,
            self.current_epoch,
            self.master_name,
            self.master_ip,
            self.master_port,
            self.master_config_epoch
        )
    }

    /// Parse a payload; `None` unless it has exactly 8 well-formed fields.
    pub fn parse(payload: &[u8]) -> Option<Hello> {
        if payload.len() > MAX_HELLO_BYTES {
            return None;
        }
        let text = std::str::from_utf8(payload).ok()?;
        let fields: Vec<&str> = text.split(',').collect();
        let [ip, port, runid, epoch, name, mip, mport, mepoch] = fields.as_slice() else {
            return None;
        };
        if ip.is_empty() || runid.len() != 40 || name.is_empty() || mip.is_empty() {
            return None;
        }
        Some(Hello {
            ip: ip.to_string(),
            port: port.parse().ok().filter(|p| *p != 0)?,
            runid: runid.to_string(),
            current_epoch: epoch.parse().ok()?,
            master_name: name.to_string(),
            master_ip: mip.to_string(),
            master_port: mport.parse().ok().filter(|p| *p != 0)?,
            master_config_epoch: mepoch.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3a65bbc1e5d3a65bbc1e5d3a65bbc1e5d3a65bbc";

    #[test]
    fn round_trip() {
        let text = format!("127.0.0.1,26392,{ID},2,mymaster,127.0.0.1,6392,2");
        let hello = Hello::parse(text.as_bytes()).expect("valid");
        assert_eq!(hello.port, 26392);
        assert_eq!(hello.current_epoch, 2);
        assert_eq!(hello.format(), text);
    }

    #[test]
    fn rejects_bogus() {
        for bad in [
            String::new(),
            "a,b,c".to_string(),
            format!("127.0.0.1,0,{ID},2,m,127.0.0.1,6392,2"),
            "127.0.0.1,26392,short,2,m,127.0.0.1,6392,2".to_string(),
            format!("127.0.0.1,26392,{ID},-1,m,127.0.0.1,6392,2"),
            format!("127.0.0.1,26392,{ID},2,m,127.0.0.1,6392,2,extra"),
            format!("127.0.0.1,26392,{ID},2,m,127.0.0.1,70000,2"),
            "x".repeat(MAX_HELLO_BYTES + 1),
        ] {
            assert!(Hello::parse(bad.as_bytes()).is_none(), "{bad}");
        }
    }
}
