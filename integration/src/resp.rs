//! RESP2/RESP3 values as they travel on the wire, with a reader and a command encoder.
//!
//! The tests compare replies of two servers byte-faithfully, so this keeps every distinction the
//! protocol makes (status vs bulk string, null bulk vs null array vs RESP3 null, map vs flat array).

use std::fmt;
use std::io::{self, BufRead};

/// Largest bulk string or aggregate this reader accepts (it talks only to local test servers).
const MAX_BULK: usize = 64 * 1024 * 1024;
/// Largest aggregate element count this reader accepts.
const MAX_ELEMENTS: usize = 16 * 1024 * 1024;

/// One RESP value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `+text`
    Simple(String),
    /// `-text` (RESP2 and RESP3)
    Error(String),
    /// `:n`
    Integer(i64),
    /// `$n` bulk string
    Bulk(Vec<u8>),
    /// `$-1` (RESP2 null bulk string)
    NullBulk,
    /// `*-1` (RESP2 null array)
    NullArray,
    /// `*n`
    Array(Vec<Value>),
    /// `_` (RESP3 null)
    Null,
    /// `,` (RESP3 double, kept as its text)
    Double(String),
    /// `#t` / `#f`
    Boolean(bool),
    /// `(` (RESP3 big number, kept as its text)
    BigNumber(String),
    /// `!n` (RESP3 bulk error)
    BulkError(String),
    /// `=n` (RESP3 verbatim string): format (e.g. `txt`) and text
    Verbatim(String, Vec<u8>),
    /// `%n` (RESP3 map), pairs in wire order
    Map(Vec<(Value, Value)>),
    /// `~n` (RESP3 set), elements in wire order
    Set(Vec<Value>),
    /// `>n` (RESP3 push)
    Push(Vec<Value>),
}

impl Value {
    /// The RESP type name, as used in mismatch reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Simple(_) => "simple-string",
            Value::Error(_) => "error",
            Value::Integer(_) => "integer",
            Value::Bulk(_) => "bulk-string",
            Value::NullBulk => "null-bulk",
            Value::NullArray => "null-array",
            Value::Array(_) => "array",
            Value::Null => "null",
            Value::Double(_) => "double",
            Value::Boolean(_) => "boolean",
            Value::BigNumber(_) => "big-number",
            Value::BulkError(_) => "bulk-error",
            Value::Verbatim(..) => "verbatim-string",
            Value::Map(_) => "map",
            Value::Set(_) => "set",
            Value::Push(_) => "push",
        }
    }

    /// The text of a status, bulk or verbatim string (lossy UTF-8), `None` for other types.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Simple(s) => Some(s.clone()),
            Value::Bulk(b) | Value::Verbatim(_, b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }

    /// The elements of an array, set or push, `None` for other types.
    pub fn as_items(&self) -> Option<&[Value]> {
        match self {
            Value::Array(v) | Value::Set(v) | Value::Push(v) => Some(v),
            _ => None,
        }
    }

    /// The error text of an error or bulk error, `None` for other types.
    pub fn as_error(&self) -> Option<&str> {
        match self {
            Value::Error(e) | Value::BulkError(e) => Some(e),
            _ => None,
        }
    }

    /// Looks `key` up in a RESP3 map or a RESP2 flat `[k1, v1, k2, v2, ...]` array.
    pub fn field(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| k.as_text().as_deref() == Some(key))
                .map(|(_, v)| v),
            Value::Array(items) => items
                .chunks_exact(2)
                .find(|kv| kv[0].as_text().as_deref() == Some(key))
                .map(|kv| &kv[1]),
            _ => None,
        }
    }

    /// [`Value::field`] as text.
    pub fn field_text(&self, key: &str) -> Option<String> {
        self.field(key).and_then(Value::as_text)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list(f: &mut fmt::Formatter<'_>, open: &str, items: &[Value]) -> fmt::Result {
            write!(f, "{open}")?;
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "{v}")?;
            }
            write!(f, "]")
        }
        match self {
            Value::Simple(s) => write!(f, "+{s}"),
            Value::Error(e) => write!(f, "-{e}"),
            Value::Integer(n) => write!(f, ":{n}"),
            Value::Bulk(b) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Value::NullBulk => write!(f, "(nil bulk)"),
            Value::NullArray => write!(f, "(nil array)"),
            Value::Null => write!(f, "(null)"),
            Value::Double(d) => write!(f, ",{d}"),
            Value::Boolean(b) => write!(f, "#{}", if *b { 't' } else { 'f' }),
            Value::BigNumber(n) => write!(f, "({n}"),
            Value::BulkError(e) => write!(f, "!{e}"),
            Value::Verbatim(fmt_, b) => write!(f, "={fmt_}:{:?}", String::from_utf8_lossy(b)),
            Value::Array(items) => list(f, "[", items),
            Value::Set(items) => list(f, "~[", items),
            Value::Push(items) => list(f, ">[", items),
            Value::Map(pairs) => {
                write!(f, "{{")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                write!(f, "}}")
            }
        }
    }
}

/// Encodes a command as a RESP multibulk request.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reads one line without its CRLF.
fn read_line(r: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    if r.read_until(b'\n', &mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    if !line.ends_with(b"\r\n") {
        return Err(invalid(format!(
            "line not terminated by CRLF: {:?}",
            String::from_utf8_lossy(&line)
        )));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn text(line: Vec<u8>) -> String {
    String::from_utf8_lossy(&line).into_owned()
}

fn parse_len(line: &[u8]) -> io::Result<i64> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid(format!("bad length {:?}", String::from_utf8_lossy(line))))
}

fn read_exact_crlf(r: &mut impl BufRead, len: usize) -> io::Result<Vec<u8>> {
    if len > MAX_BULK {
        return Err(invalid(format!(
            "bulk of {len} bytes is larger than the test limit"
        )));
    }
    let mut buf = vec![0; len + 2];
    r.read_exact(&mut buf)?;
    if !buf.ends_with(b"\r\n") {
        return Err(invalid("bulk not terminated by CRLF"));
    }
    buf.truncate(len);
    Ok(buf)
}

fn count(n: i64) -> io::Result<usize> {
    usize::try_from(n)
        .ok()
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| invalid(format!("bad element count {n}")))
}

fn read_items(r: &mut impl BufRead, n: i64) -> io::Result<Vec<Value>> {
    (0..count(n)?).map(|_| read_value(r)).collect()
}

/// Reads one complete RESP2 or RESP3 value. RESP3 attributes (`|`) are read and dropped.
pub fn read_value(r: &mut impl BufRead) -> io::Result<Value> {
    let line = read_line(r)?;
    let Some((&tag, rest)) = line.split_first() else {
        return Err(invalid("empty line where a RESP value was expected"));
    };
    let rest = rest.to_vec();
    Ok(match tag {
        b'+' => Value::Simple(text(rest)),
        b'-' => Value::Error(text(rest)),
        b':' => Value::Integer(parse_len(&rest)?),
        b',' => Value::Double(text(rest)),
        b'(' => Value::BigNumber(text(rest)),
        b'_' => Value::Null,
        b'#' => match rest.as_slice() {
            b"t" => Value::Boolean(true),
            b"f" => Value::Boolean(false),
            _ => return Err(invalid("bad boolean")),
        },
        b'$' => match parse_len(&rest)? {
            -1 => Value::NullBulk,
            n => Value::Bulk(read_exact_crlf(r, count(n)?)?),
        },
        b'!' => Value::BulkError(text(read_exact_crlf(r, count(parse_len(&rest)?)?)?)),
        b'=' => {
            let body = read_exact_crlf(r, count(parse_len(&rest)?)?)?;
            if body.len() < 4 || body[3] != b':' {
                return Err(invalid("verbatim string without a format prefix"));
            }
            Value::Verbatim(text(body[..3].to_vec()), body[4..].to_vec())
        }
        b'*' => match parse_len(&rest)? {
            -1 => Value::NullArray,
            n => Value::Array(read_items(r, n)?),
        },
        b'~' => Value::Set(read_items(r, parse_len(&rest)?)?),
        b'>' => Value::Push(read_items(r, parse_len(&rest)?)?),
        b'%' | b'|' => {
            let n = count(parse_len(&rest)?)?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                pairs.push((read_value(r)?, read_value(r)?));
            }
            if tag == b'|' {
                return read_value(r);
            }
            Value::Map(pairs)
        }
        other => {
            return Err(invalid(format!(
                "unknown RESP type byte {:?} in line {:?}",
                other as char,
                String::from_utf8_lossy(&line)
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Value {
        read_value(&mut &bytes[..]).unwrap()
    }

    #[test]
    fn reads_resp2_types() {
        assert_eq!(parse(b"+OK\r\n"), Value::Simple("OK".into()));
        assert_eq!(parse(b"-ERR x\r\n"), Value::Error("ERR x".into()));
        assert_eq!(parse(b":-3\r\n"), Value::Integer(-3));
        assert_eq!(parse(b"$-1\r\n"), Value::NullBulk);
        assert_eq!(parse(b"*-1\r\n"), Value::NullArray);
        assert_eq!(
            parse(b"*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6390\r\n"),
            Value::Array(vec![
                Value::Bulk(b"127.0.0.1".to_vec()),
                Value::Bulk(b"6390".to_vec())
            ])
        );
    }

    #[test]
    fn reads_resp3_types() {
        assert_eq!(parse(b"_\r\n"), Value::Null);
        assert_eq!(parse(b"#t\r\n"), Value::Boolean(true));
        assert_eq!(
            parse(b"=7\r\ntxt:abc\r\n"),
            Value::Verbatim("txt".into(), b"abc".to_vec())
        );
        assert_eq!(
            parse(b"%1\r\n+a\r\n:1\r\n"),
            Value::Map(vec![(Value::Simple("a".into()), Value::Integer(1))])
        );
        assert_eq!(parse(b"|1\r\n+k\r\n+v\r\n:7\r\n"), Value::Integer(7));
        assert_eq!(
            parse(b">1\r\n+x\r\n"),
            Value::Push(vec![Value::Simple("x".into())])
        );
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in [
            &b"?x\r\n"[..],
            b"$3\r\nab\r\n",
            b":x\r\n",
            b"*1\r\n",
            b"+OK\n",
        ] {
            assert!(
                read_value(&mut &bad[..]).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn encodes_commands() {
        assert_eq!(
            encode_command(&["PING", "a b"]),
            b"*2\r\n$4\r\nPING\r\n$3\r\na b\r\n"
        );
    }

    #[test]
    fn finds_fields_in_maps_and_flat_arrays() {
        let flat = parse(b"*4\r\n$4\r\nname\r\n$1\r\nm\r\n$4\r\nport\r\n$2\r\n10\r\n");
        assert_eq!(flat.field_text("port").as_deref(), Some("10"));
        let map = parse(b"%1\r\n$4\r\nname\r\n$1\r\nm\r\n");
        assert_eq!(map.field_text("name").as_deref(), Some("m"));
        assert_eq!(map.field("nope"), None);
    }
}
