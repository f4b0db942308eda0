//! The RESP2 the swarm speaks: a request parser bounded in size (multi-bulk and inline
//! commands) and the replies it sends.

/// Longest request (all its arguments) a connection may send; longer closes the connection.
pub const MAX_REQUEST: usize = 1024 * 1024;
/// Most arguments one request may have.
const MAX_ARGS: usize = 1024;

/// One reply.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `+text`
    Status(String),
    /// `-text`
    Error(String),
    /// `:n`
    Int(i64),
    /// `$n` bulk string
    Bulk(Vec<u8>),
    /// `$-1`
    Null,
    /// `*n`
    Array(Vec<Reply>),
    /// Several replies back to back (`SUBSCRIBE` answers once per channel).
    Several(Vec<Reply>),
}

impl Reply {
    /// `+OK`
    pub fn ok() -> Reply {
        Reply::Status("OK".into())
    }

    /// An error reply (`text` includes its code, e.g. `ERR ...`).
    pub fn err(text: impl Into<String>) -> Reply {
        Reply::Error(text.into())
    }

    /// A bulk string.
    pub fn bulk(text: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(text.as_ref().to_vec())
    }

    /// Appends the wire form to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Reply::Status(s) => line(out, b'+', s.as_bytes()),
            Reply::Error(s) => line(out, b'-', s.as_bytes()),
            Reply::Int(n) => line(out, b':', n.to_string().as_bytes()),
            Reply::Bulk(b) => {
                line(out, b'$', b.len().to_string().as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Reply::Null => out.extend_from_slice(b"$-1\r\n"),
            Reply::Array(items) => {
                line(out, b'*', items.len().to_string().as_bytes());
                for item in items {
                    item.encode(out);
                }
            }
            Reply::Several(replies) => {
                for reply in replies {
                    reply.encode(out);
                }
            }
        }
    }
}

fn line(out: &mut Vec<u8>, kind: u8, text: &[u8]) {
    out.push(kind);
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

/// A request that cannot be parsed (the connection is closed, as Redis does).
#[derive(Debug, PartialEq)]
pub struct ProtocolError(pub String);

/// Takes one complete request off the front of `buf`: `Ok(None)` while it is incomplete.
/// An empty inline line is skipped (`Ok(Some(vec![]))`).
pub fn parse(buf: &mut Vec<u8>) -> Result<Option<Vec<Vec<u8>>>, ProtocolError> {
    if buf.is_empty() {
        return Ok(None);
    }
    let parsed = if buf[0] == b'*' {
        multi_bulk(buf)?
    } else {
        inline(buf)?
    };
    if parsed.is_none() && buf.len() > MAX_REQUEST {
        return Err(ProtocolError("request too long".into()));
    }
    Ok(parsed.map(|(args, used)| {
        buf.drain(..used);
        args
    }))
}

/// The line starting at `at` (without CRLF) and the index after it.
fn find_line(buf: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let end = buf.get(at..)?.windows(2).position(|w| w == b"\r\n")? + at;
    Some((&buf[at..end], end + 2))
}

fn number(text: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ProtocolError(format!("bad length {:?}", String::from_utf8_lossy(text))))
}

type Parsed = Option<(Vec<Vec<u8>>, usize)>;

fn multi_bulk(buf: &[u8]) -> Result<Parsed, ProtocolError> {
    let Some((head, mut at)) = find_line(buf, 0) else {
        return Ok(None);
    };
    let count = number(&head[1..])?;
    if !(0..=MAX_ARGS as i64).contains(&count) {
        return Err(ProtocolError(format!("bad argument count {count}")));
    }
    let mut args = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let Some((head, start)) = find_line(buf, at) else {
            return Ok(None);
        };
        if head.first() != Some(&b'$') {
            return Err(ProtocolError("expected '$'".into()));
        }
        let len = number(&head[1..])?;
        if !(0..=MAX_REQUEST as i64).contains(&len) {
            return Err(ProtocolError(format!("bad bulk length {len}")));
        }
        let end = start + len as usize;
        if buf.len() < end + 2 {
            return Ok(None);
        }
        args.push(buf[start..end].to_vec());
        at = end + 2;
    }
    Ok(Some((args, at)))
}

fn inline(buf: &[u8]) -> Result<Parsed, ProtocolError> {
    let Some(end) = buf.iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    let text = buf[..end].strip_suffix(b"\r").unwrap_or(&buf[..end]);
    let args: Vec<Vec<u8>> = text
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    if args.len() > MAX_ARGS {
        return Err(ProtocolError("too many arguments".into()));
    }
    Ok(Some((args, end + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pipelined_multi_bulk_and_inline_requests() {
        let mut buf = b"*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\nPING\r\n*1\r\n$4\r\nPI".to_vec();
        assert_eq!(
            parse(&mut buf),
            Ok(Some(vec![b"INFO".to_vec(), b"replication".to_vec()]))
        );
        assert_eq!(parse(&mut buf), Ok(Some(vec![b"PING".to_vec()])));
        assert_eq!(parse(&mut buf), Ok(None), "incomplete");
        buf.extend_from_slice(b"NG\r\n");
        assert_eq!(parse(&mut buf), Ok(Some(vec![b"PING".to_vec()])));
        assert!(buf.is_empty());
        assert!(parse(&mut b"*x\r\n".to_vec()).is_err());
        assert!(parse(&mut b"*1\r\n$99999999999\r\n".to_vec()).is_err());
    }

    #[test]
    fn encodes_replies() {
        let mut out = Vec::new();
        Reply::Array(vec![
            Reply::bulk("a"),
            Reply::Int(2),
            Reply::Null,
            Reply::ok(),
        ])
        .encode(&mut out);
        assert_eq!(out, b"*4\r\n$1\r\na\r\n:2\r\n$-1\r\n+OK\r\n");
    }
}
