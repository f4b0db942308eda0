//! Encoding [`Reply`] values onto the wire as RESP2 or RESP3.
//!
//! Replies are written straight into the connection's output buffer (no intermediate frame
//! tree), so a reply costs no allocation beyond buffer growth.

use bytes::{BufMut, BytesMut};
use warden_core::Reply;

/// The protocol a client speaks (switched by `HELLO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// RESP2, the default.
    Resp2,
    /// RESP3, after `HELLO 3`.
    Resp3,
}

impl Protocol {
    /// The protocol number as `HELLO` and `CLIENT LIST` show it.
    pub fn number(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

fn put_int(out: &mut BytesMut, n: i64) {
    let mut buf = [0u8; 20];
    out.put_slice(format_int(&mut buf, n));
}

/// Decimal digits of `n` at the end of `buf` (20 bytes hold any `i64`).
fn format_int(buf: &mut [u8; 20], n: i64) -> &[u8] {
    let mut pos = buf.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        pos -= 1;
        buf[pos] = b'-';
    }
    &buf[pos..]
}

/// Write `<prefix><n>\r\n`.
pub fn put_header(out: &mut BytesMut, prefix: u8, n: i64) {
    match n {
        // Most headers are short lengths: one write, no digit loop.
        0..=9 => out.put_slice(&[prefix, b'0' + n as u8, b'\r', b'\n']),
        10..=99 => out.put_slice(&[
            prefix,
            b'0' + (n / 10) as u8,
            b'0' + (n % 10) as u8,
            b'\r',
            b'\n',
        ]),
        _ => {
            out.put_u8(prefix);
            put_int(out, n);
            out.put_slice(b"\r\n");
        }
    }
}

/// Write a bulk string.
pub fn put_bulk(out: &mut BytesMut, data: &[u8]) {
    put_header(out, b'$', data.len() as i64);
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

/// Write a status/error line, replacing CR/LF by spaces as Redis does for error texts.
fn put_line(out: &mut BytesMut, prefix: u8, text: &str) {
    out.put_u8(prefix);
    for &b in text.as_bytes() {
        out.put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
    }
    out.put_slice(b"\r\n");
}

/// Write the header of an array of `len` elements; in RESP3 `push` makes it a `>` push frame.
pub fn put_array_header(out: &mut BytesMut, proto: Protocol, len: usize, push: bool) {
    let prefix = if push && proto == Protocol::Resp3 {
        b'>'
    } else {
        b'*'
    };
    put_header(out, prefix, len as i64);
}

/// Encode `reply` for `proto`.
pub fn encode(out: &mut BytesMut, proto: Protocol, reply: &Reply) {
    let resp3 = proto == Protocol::Resp3;
    match reply {
        Reply::Status(s) => put_line(out, b'+', s),
        Reply::Error(s) => put_line(out, b'-', s),
        Reply::Int(n) => put_header(out, b':', *n),
        Reply::Bulk(b) => put_bulk(out, b),
        Reply::Null if resp3 => out.put_slice(b"_\r\n"),
        Reply::Null => out.put_slice(b"$-1\r\n"),
        Reply::NullArray if resp3 => out.put_slice(b"_\r\n"),
        Reply::NullArray => out.put_slice(b"*-1\r\n"),
        Reply::Array(items) => {
            put_header(out, b'*', items.len() as i64);
            for item in items {
                encode(out, proto, item);
            }
        }
        Reply::Set(items) => {
            put_header(out, if resp3 { b'~' } else { b'*' }, items.len() as i64);
            for item in items {
                encode(out, proto, item);
            }
        }
        Reply::Map(pairs) => {
            if resp3 {
                put_header(out, b'%', pairs.len() as i64);
            } else {
                put_header(out, b'*', 2 * pairs.len() as i64);
            }
            for (k, v) in pairs {
                encode(out, proto, k);
                encode(out, proto, v);
            }
        }
        Reply::Verbatim(text) if resp3 => {
            put_header(out, b'=', text.len() as i64 + 4);
            out.put_slice(b"txt:");
            out.put_slice(text.as_bytes());
            out.put_slice(b"\r\n");
        }
        Reply::Verbatim(text) => put_bulk(out, text.as_bytes()),
        Reply::Double(d) => {
            let text = format_double(*d);
            if resp3 {
                put_line(out, b',', &text);
            } else {
                put_bulk(out, text.as_bytes());
            }
        }
        Reply::Bool(b) if resp3 => out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        Reply::Bool(b) => put_header(out, b':', i64::from(*b)),
    }
}

/// Doubles as Redis prints them (`%.17g`-like shortest round-trip; `inf`, `-inf`, `nan`).
fn format_double(d: f64) -> String {
    if d.is_nan() {
        "nan".into()
    } else if d.is_infinite() {
        if d > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{d}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(proto: Protocol, reply: Reply) -> String {
        let mut out = BytesMut::new();
        encode(&mut out, proto, &reply);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn scalars() {
        use Protocol::*;
        assert_eq!(enc(Resp2, Reply::ok()), "+OK\r\n");
        assert_eq!(enc(Resp2, Reply::err("ERR a\r\nb")), "-ERR a  b\r\n");
        assert_eq!(enc(Resp2, Reply::Int(-42)), ":-42\r\n");
        assert_eq!(enc(Resp2, Reply::Int(7)), ":7\r\n");
        assert_eq!(enc(Resp2, Reply::Int(10)), ":10\r\n");
        assert_eq!(enc(Resp2, Reply::Int(99)), ":99\r\n");
        assert_eq!(enc(Resp2, Reply::Int(100)), ":100\r\n");
        assert_eq!(
            enc(Resp2, Reply::Int(i64::MIN)),
            ":-9223372036854775808\r\n"
        );
        assert_eq!(enc(Resp2, Reply::bulk("6390")), "$4\r\n6390\r\n");
        assert_eq!(enc(Resp2, Reply::Null), "$-1\r\n");
        assert_eq!(enc(Resp2, Reply::NullArray), "*-1\r\n");
        assert_eq!(enc(Resp3, Reply::Null), "_\r\n");
        assert_eq!(enc(Resp3, Reply::NullArray), "_\r\n");
        assert_eq!(enc(Resp2, Reply::Bool(true)), ":1\r\n");
        assert_eq!(enc(Resp3, Reply::Bool(false)), "#f\r\n");
        assert_eq!(enc(Resp2, Reply::Double(1.5)), "$3\r\n1.5\r\n");
        assert_eq!(enc(Resp3, Reply::Double(f64::INFINITY)), ",inf\r\n");
    }

    #[test]
    fn aggregates() {
        use Protocol::*;
        let addr = Reply::Array(vec![Reply::bulk("127.0.0.1"), Reply::bulk("6390")]);
        assert_eq!(enc(Resp2, addr), "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6390\r\n");
        let map = Reply::map([("a", Reply::Int(1)), ("b", Reply::Array(vec![]))]);
        assert_eq!(
            enc(Resp2, map.clone()),
            "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*0\r\n"
        );
        assert_eq!(enc(Resp3, map), "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*0\r\n");
        assert_eq!(
            enc(Resp2, Reply::Verbatim("id=1\n".into())),
            "$5\r\nid=1\n\r\n"
        );
        assert_eq!(
            enc(Resp3, Reply::Verbatim("id=1\n".into())),
            "=9\r\ntxt:id=1\n\r\n"
        );
    }

    #[test]
    fn push_headers() {
        let mut out = BytesMut::new();
        put_array_header(&mut out, Protocol::Resp3, 3, true);
        put_array_header(&mut out, Protocol::Resp2, 3, true);
        assert_eq!(&out[..], b">3\r\n*3\r\n");
    }
}
