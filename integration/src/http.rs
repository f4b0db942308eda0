//! A minimal HTTP/1.1 client for Warden's metrics and health endpoints, and the bridge to a
//! real Prometheus exposition parser (`prometheus_client`'s OpenMetrics parser, run by
//! `python3` from the directory `scripts/install-pytools.sh` fills).

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::binaries::target_dir;

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Body text.
    pub body: String,
}

/// `GET path` on a connected stream; reads the answer to the end (the server closes).
pub fn get_on(mut stream: TcpStream, path: &str, timeout: Duration) -> io::Result<Answer> {
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: warden\r\nAccept: */*\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_answer(&raw)
}

/// `GET path` from `addr` on a new connection.
pub fn get(addr: SocketAddr, path: &str, timeout: Duration) -> io::Result<Answer> {
    get_on(TcpStream::connect_timeout(&addr, timeout)?, path, timeout)
}

/// The status and body of a raw HTTP/1.1 answer.
pub fn parse_answer(raw: &[u8]) -> io::Result<Answer> {
    let text = String::from_utf8_lossy(raw);
    let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("bad answer: {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    Ok(Answer {
        status,
        body: body.to_string(),
    })
}

/// One sample of a parsed exposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Sample name (a histogram's `_bucket`, `_count`... included).
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Value.
    pub value: f64,
}

/// A parsed exposition: per family name, its type and samples.
#[derive(Debug, Clone, Default)]
pub struct Exposition {
    /// Family name → (type, samples).
    pub families: BTreeMap<String, (String, Vec<Sample>)>,
}

impl Exposition {
    /// The type of family `name`, if present.
    pub fn kind(&self, name: &str) -> Option<&str> {
        self.families.get(name).map(|(kind, _)| kind.as_str())
    }

    /// Samples called `sample` (in any family) whose labels include `labels`.
    pub fn samples(&self, sample: &str, labels: &[(&str, &str)]) -> Vec<&Sample> {
        self.families
            .values()
            .flat_map(|(_, samples)| samples)
            .filter(|s| {
                s.name == sample
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The value of the one sample `sample` with `labels`, if exactly one matches.
    pub fn value(&self, sample: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match self.samples(sample, labels)[..] {
            [one] => Some(one.value),
            _ => None,
        }
    }
}

/// Where `scripts/install-pytools.sh` put the Python tools (`$WARDEN_PYTOOLS_DIR`, else
/// `<target>/pytools`).
pub fn pytools_dir() -> PathBuf {
    std::env::var_os("WARDEN_PYTOOLS_DIR")
        .map_or_else(|| target_dir().join("pytools"), PathBuf::from)
}

/// The parser run by python3: reads an exposition on stdin and prints one line per sample,
/// `family<TAB>type<TAB>sample<TAB>labels as k=v joined by \x1f<TAB>value`.
const PARSER: &str = r#"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = "\x1f".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        print(f"{family.name}\t{family.type}\t{s.name}\t{labels}\t{s.value!r}")
"#;

/// Parses `text` with `prometheus_client`'s OpenMetrics parser (strict: a malformed
/// exposition is an error).
pub fn parse_exposition(text: &str) -> io::Result<Exposition> {
    let dir = pytools_dir();
    let mut child = Command::new("python3")
        .args(["-c", PARSER])
        .env("PYTHONPATH", &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("no stdin"))?
        .write_all(text.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "the exposition parser refused it (is prometheus_client in {}? run \
             scripts/install-pytools.sh): {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let mut exposition = Exposition::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [family, kind, name, labels, value] = fields[..] else {
            return Err(io::Error::other(format!(
                "unexpected parser output {line:?}"
            )));
        };
        let labels = labels
            .split('\x1f')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let value = match value {
            "inf" => f64::INFINITY,
            v => v
                .parse()
                .map_err(|_| io::Error::other(format!("bad value in {line:?}")))?,
        };
        exposition
            .families
            .entry(family.to_string())
            .or_insert_with(|| (kind.to_string(), Vec::new()))
            .1
            .push(Sample {
                name: name.to_string(),
                labels,
                value,
            });
    }
    Ok(exposition)
}
