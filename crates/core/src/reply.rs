//! A RESP value, independent of protocol version.
//!
//! The core builds replies to client commands with it and receives replies from monitored
//! instances as it. The driver encodes it as RESP2 or RESP3 depending on the client's protocol.

use bytes::Bytes;

/// One RESP value.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+text` status reply.
    Status(String),
    /// `-ERR text` error reply; holds the whole text including its prefix (`ERR`, `NOQUORUM`...).
    Error(String),
    /// `:n` integer.
    Int(i64),
    /// `$n` bulk string.
    Bulk(Bytes),
    /// Null bulk string: `$-1` in RESP2, `_` in RESP3.
    Null,
    /// Null array: `*-1` in RESP2, `_` in RESP3.
    NullArray,
    /// `*n` array.
    Array(Vec<Reply>),
    /// `~n` set in RESP3, an array in RESP2.
    Set(Vec<Reply>),
    /// `%n` map in RESP3, a flat `*2n` array in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// `=n txt:` verbatim string in RESP3, a plain bulk string in RESP2.
    Verbatim(String),
    /// RESP3 double; RESP2 bulk string.
    Double(f64),
    /// RESP3 boolean; RESP2 integer 0/1.
    Bool(bool),
}

impl Reply {
    /// `+OK`.
    pub fn ok() -> Reply {
        Reply::Status("OK".into())
    }

    /// An error reply; `text` must include the error code prefix, e.g. `ERR No such master`.
    pub fn err(text: impl Into<String>) -> Reply {
        Reply::Error(text.into())
    }

    /// A bulk string from anything string-like.
    pub fn bulk(text: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(text.as_ref()))
    }

    /// A map whose keys are bulk strings.
    pub fn map<K: AsRef<[u8]>>(pairs: impl IntoIterator<Item = (K, Reply)>) -> Reply {
        Reply::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Reply::bulk(k), v))
                .collect(),
        )
    }

    /// Any scalar as text (a bulk string lossily decoded, numbers and booleans printed, an
    /// error's whole text); `None` for aggregates and nulls.
    pub fn to_text(&self) -> Option<String> {
        match self {
            Reply::Status(s) | Reply::Error(s) | Reply::Verbatim(s) => Some(s.clone()),
            Reply::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Reply::Int(n) => Some(n.to_string()),
            Reply::Double(d) => Some(d.to_string()),
            Reply::Bool(b) => Some(u8::from(*b).to_string()),
            _ => None,
        }
    }

    /// A map reply (or RESP2's flat array of pairs) as text pairs; scalars only, others
    /// skipped; empty for any other reply.
    pub fn pairs(&self) -> Vec<(String, String)> {
        match self {
            Reply::Map(pairs) => pairs
                .iter()
                .filter_map(|(k, v)| Some((k.to_text()?, v.to_text()?)))
                .collect(),
            Reply::Array(items) => items
                .chunks(2)
                .filter_map(|p| Some((p.first()?.to_text()?, p.get(1)?.to_text()?)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The value as text if it is a status, bulk or verbatim string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Reply::Status(s) | Reply::Verbatim(s) => Some(s),
            Reply::Bulk(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }
}
