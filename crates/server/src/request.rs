//! Splitting a client's query buffer into commands, the way Redis does it.
//!
//! A buffer starting with `*` is a multibulk request (`*<n>\r\n` then `n` times `$<len>\r\n<data>\r\n`);
//! anything else is an inline command (one line, words split like `sdssplitargs`: spaces, double
//! quotes with `\n \r \t \b \a \xHH` escapes, single quotes with `\'`). Every malformed input becomes
//! a [`ProtocolError`] carrying Redis's exact text; the connection answers it and closes. Limits
//! are Redis 7.0's defaults, and sizes are checked on the header, before any data is buffered.
//!
//! This parser is hand-written rather than built on `redis-protocol`'s decoder because requests
//! are a strict subset of RESP (arrays of bulk strings) with their own error texts, and because
//! that decoder recurses on nested arrays without a depth bound (hostile input could exhaust the
//! stack).

use bytes::{Bytes, BytesMut};

/// Longest inline request or `*`/`$` header line awaiting its newline (`PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX: usize = 64 * 1024;
/// Largest bulk argument (`proto-max-bulk-len`, 512 MB).
pub const MAX_BULK: usize = 512 * 1024 * 1024;
/// Largest argument count accepted in a multibulk header (Redis: `INT_MAX`).
pub const MAX_MULTIBULK: usize = i32::MAX as usize;
/// Unparsed bytes a client may accumulate (`client-query-buffer-limit`, 1 GB).
pub const QUERY_BUFFER_MAX: usize = 1024 * 1024 * 1024;
/// Before authentication: at most this many arguments (Redis 7.0.15 guard against
/// unauthenticated memory abuse)...
pub const UNAUTH_MAX_MULTIBULK: usize = 10;
/// ...and bulk arguments no longer than this.
pub const UNAUTH_MAX_BULK: usize = 16384;

/// A request the client must be told about before the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    /// The error reply text, e.g. `ERR Protocol error: invalid bulk length`.
    pub fn reply_text(&self) -> String {
        format!("ERR Protocol error: {}", self.0)
    }
}

/// Outcome of one parse attempt.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// A complete command is in the argument vector (possibly empty: an empty inline line or
    /// `*0`, which Redis skips).
    Command,
    /// More bytes are needed; `hint` is how many in total the buffer should hold to make progress
    /// (used to reserve space for large bulks at once).
    Incomplete { hint: usize },
}

/// Parse one command from the front of `buf` into `args` (cleared first; reused across calls
/// so a command costs no allocation), removing its bytes when complete. `authenticated`
/// selects the tighter pre-authentication limits.
pub fn parse(
    buf: &mut BytesMut,
    authenticated: bool,
    args: &mut Vec<Bytes>,
) -> Result<Parsed, ProtocolError> {
    args.clear();
    if buf.first() == Some(&b'*') {
        parse_multibulk(buf, authenticated, args)
    } else {
        parse_inline(buf, args)
    }
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    let mut start = 0;
    while let Some(pos) = rest[start..].iter().position(|&b| b == b'\r') {
        let at = start + pos;
        match rest.get(at + 1) {
            Some(b'\n') => return Some(from + at),
            Some(_) => start = at + 1,
            None => return None,
        }
    }
    None
}

/// A decimal as Redis' `string2ll` accepts it (no `+`, no leading zeros, no spaces).
fn parse_int(digits: &[u8]) -> Option<i64> {
    let (neg, body) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    if body.is_empty() || body.len() > 19 || (body[0] == b'0' && (body.len() > 1 || neg)) {
        return None;
    }
    let mut value: i64 = 0;
    for &d in body {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    Some(if neg { -value } else { value })
}

fn parse_multibulk(
    buf: &mut BytesMut,
    authenticated: bool,
    args: &mut Vec<Bytes>,
) -> Result<Parsed, ProtocolError> {
    let Some(end) = find_crlf(buf, 0) else {
        if buf.len() > INLINE_MAX {
            return Err(ProtocolError("too big mbulk count string".into()));
        }
        return Ok(Parsed::Incomplete { hint: 0 });
    };
    let count = match parse_int(&buf[1..end]) {
        Some(n) if n <= MAX_MULTIBULK as i64 => n,
        _ => return Err(ProtocolError("invalid multibulk length".into())),
    };
    if count > UNAUTH_MAX_MULTIBULK as i64 && !authenticated {
        return Err(ProtocolError("unauthenticated multibulk length".into()));
    }
    if count <= 0 {
        let _ = buf.split_to(end + 2);
        return Ok(Parsed::Command);
    }
    let count = count as usize;
    let first = end + 2;
    let mut pos = first;
    for _ in 0..count {
        if pos >= buf.len() {
            return Ok(Parsed::Incomplete { hint: 0 });
        }
        let Some(end) = find_crlf(buf, pos) else {
            if buf.len() - pos > INLINE_MAX {
                return Err(ProtocolError("too big bulk count string".into()));
            }
            return Ok(Parsed::Incomplete { hint: 0 });
        };
        if buf[pos] != b'$' {
            return Err(ProtocolError(format!(
                "expected '$', got '{}'",
                char::from(buf[pos])
            )));
        }
        let len = match parse_int(&buf[pos + 1..end]) {
            Some(n) if (0..=MAX_BULK as i64).contains(&n) => n as usize,
            _ => return Err(ProtocolError("invalid bulk length".into())),
        };
        if len > UNAUTH_MAX_BULK && !authenticated {
            return Err(ProtocolError("unauthenticated bulk length".into()));
        }
        let start = end + 2;
        if buf.len() < start + len + 2 {
            return Ok(Parsed::Incomplete {
                hint: start + len + 2,
            });
        }
        pos = start + len + 2;
    }
    // Complete and validated: slice the arguments out of the frame in a second, cheap pass.
    let frame = buf.split_to(pos).freeze();
    let mut at = first;
    while at < frame.len() {
        let end = find_crlf(&frame, at).unwrap_or(frame.len());
        let len = parse_int(&frame[at + 1..end]).unwrap_or(0) as usize;
        args.push(frame.slice(end + 2..end + 2 + len));
        at = end + 2 + len + 2;
    }
    Ok(Parsed::Command)
}

fn parse_inline(buf: &mut BytesMut, args: &mut Vec<Bytes>) -> Result<Parsed, ProtocolError> {
    let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > INLINE_MAX {
            return Err(ProtocolError("too big inline request".into()));
        }
        return Ok(Parsed::Incomplete { hint: 0 });
    };
    let line = buf.split_to(nl + 1);
    let mut text = &line[..nl];
    if text.last() == Some(&b'\r') {
        text = &text[..text.len() - 1];
    }
    *args = split_args(text).ok_or(ProtocolError("unbalanced quotes in request".into()))?;
    Ok(Parsed::Command)
}

/// Split a line into words like Redis's `sdssplitargs` (the config tokenizer's rules, on bytes);
/// `None` on unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Bytes>> {
    let words = warden_core::config::tokenize::split_arg_bytes(line)?;
    Some(words.into_iter().map(Bytes::from).collect())
}

/// A signed 64-bit integer argument as Redis reads one (`string2ll`): an optional `-`, then
/// digits without leading zeros (`0` alone is fine), nothing else, within range. `+5`, `007`,
/// ` 5` and `5 ` are not integers to Redis, so they are not here either.
pub fn int_arg(arg: &[u8]) -> Option<i64> {
    let (negative, digits) = match arg {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, arg),
    };
    match digits {
        [b'0'] if !negative => return Some(0),
        [b'1'..=b'9', ..] => {}
        _ => return None,
    }
    let mut value: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        value = if negative {
            value.checked_mul(10)?.checked_sub(d)?
        } else {
            value.checked_mul(10)?.checked_add(d)?
        };
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inline commands split exactly as Redis's `sdssplitargs` does (the config tokenizer,
    /// checked against redis-cli's): a form feed or vertical tab is skipped before a word but
    /// does not end one.
    #[test]
    fn inline_words_split_like_sdssplitargs() {
        let words = |line: &[u8]| -> Vec<Vec<u8>> {
            split_args(line)
                .unwrap()
                .into_iter()
                .map(|b| b.to_vec())
                .collect()
        };
        assert_eq!(words(b"\x0b\x0cPING"), [b"PING".to_vec()]);
        assert_eq!(words(b"a\x0cb c"), [b"a\x0cb".to_vec(), b"c".to_vec()]);
        assert_eq!(
            words(b"\"\\x41\" 'x\\'y'"),
            [b"A".to_vec(), b"x'y".to_vec()]
        );
        assert_eq!(split_args(b"\"open"), None);
    }

    fn parse_all(input: &[u8], authenticated: bool) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        let mut args = Vec::new();
        loop {
            match parse(&mut buf, authenticated, &mut args)? {
                Parsed::Command => out.push(args.clone()),
                Parsed::Incomplete { .. } => return Ok(out),
            }
            if buf.is_empty() {
                return Ok(out);
            }
        }
    }

    fn words(cmd: &[&str]) -> Vec<Bytes> {
        cmd.iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    #[test]
    fn multibulk_pipelined() {
        let got = parse_all(b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\necho\r\n$0\r\n\r\n", true).unwrap();
        assert_eq!(got, vec![words(&["PING"]), words(&["echo", ""])]);
    }

    #[test]
    fn multibulk_incomplete_keeps_bytes() {
        let mut buf = BytesMut::from(&b"*2\r\n$4\r\nPING\r\n$3\r\nab"[..]);
        let mut args = Vec::new();
        assert_eq!(
            parse(&mut buf, true, &mut args).unwrap(),
            Parsed::Incomplete { hint: 23 }
        );
        assert_eq!(buf.len(), 20);
        buf.extend_from_slice(b"c\r\n");
        assert_eq!(parse(&mut buf, true, &mut args).unwrap(), Parsed::Command);
        assert_eq!(args, words(&["PING", "abc"]));
        assert!(buf.is_empty());
    }

    #[test]
    fn multibulk_errors_use_redis_text() {
        let err = |input: &[u8]| parse_all(input, true).unwrap_err().reply_text();
        assert_eq!(
            err(b"*x\r\n"),
            "ERR Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*1\r\n:1\r\n"),
            "ERR Protocol error: expected '$', got ':'"
        );
        assert_eq!(
            err(b"*1\r\n$-5\r\n"),
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"*1\r\n$536870913\r\n"),
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"*1\r\nx\r\n"),
            "ERR Protocol error: expected '$', got 'x'"
        );
        let mut long = b"*1".to_vec();
        long.extend(vec![b'1'; INLINE_MAX + 1]);
        assert_eq!(err(&long), "ERR Protocol error: too big mbulk count string");
    }

    #[test]
    fn unauthenticated_limits() {
        let err = parse_all(b"*11\r\n", false).unwrap_err();
        assert_eq!(err.0, "unauthenticated multibulk length");
        let err = parse_all(b"*1\r\n$16385\r\n", false).unwrap_err();
        assert_eq!(err.0, "unauthenticated bulk length");
        assert!(parse_all(b"*1\r\n$16385\r\n", true).unwrap().is_empty());
    }

    #[test]
    fn huge_bulk_header_reserves_without_buffering() {
        let mut buf = BytesMut::from(&b"*1\r\n$536870912\r\n"[..]);
        assert_eq!(
            parse(&mut buf, true, &mut Vec::new()).unwrap(),
            Parsed::Incomplete {
                hint: 16 + 536870912 + 2
            }
        );
    }

    #[test]
    fn empty_requests_are_skipped() {
        let empty: Vec<Vec<Bytes>> = vec![vec![], vec![], vec![]];
        assert_eq!(parse_all(b"*0\r\n\r\n*-1\r\n", true).unwrap(), empty);
    }

    #[test]
    fn inline_nul_ends_the_line() {
        let got = parse_all(b"ping a\0b\r\n\x00\x01\r\n", true).unwrap();
        assert_eq!(got, vec![words(&["ping", "a"]), vec![]]);
    }

    #[test]
    fn inline_commands_split_like_redis() {
        let got = parse_all(
            b"sentinel  get-master-addr-by-name \"my master\"\r\nping 'it''s'\n",
            true,
        );
        assert_eq!(got.unwrap_err().0, "unbalanced quotes in request");
        let got = parse_all(b"set k \"a\\x41\\n\" 'it\\'s'\r\nPING\n", true).unwrap();
        assert_eq!(
            got,
            vec![words(&["set", "k", "aA\n", "it's"]), words(&["PING"])]
        );
        assert_eq!(
            parse_all(b"\"unterminated\r\n", true).unwrap_err().0,
            "unbalanced quotes in request"
        );
        let mut long = vec![b'a'; INLINE_MAX + 1];
        long.push(b' ');
        assert_eq!(
            parse_all(&long, true).unwrap_err().0,
            "too big inline request"
        );
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let len = (seed % 40) as usize;
            let mut input = Vec::with_capacity(len);
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                input.push(b"*$\r\n0123:-'\"\\x a\0\x0b"[(seed % 18) as usize]);
            }
            let _ = parse_all(&input, seed & 1 == 0);
        }
    }
}

/// Property tests (issue 17); proptest's default 256 cases each.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn multibulk(cmd: &[Vec<u8>]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", cmd.len()).into_bytes();
        for arg in cmd {
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// Feeds `input` in pieces cut at `cuts` (byte offsets), parsing after each piece as the
    /// connection does; the commands, or the first error.
    fn feed(
        input: &[u8],
        cuts: &[usize],
        authenticated: bool,
    ) -> Result<Vec<Vec<Bytes>>, ProtocolError> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        cuts.push(input.len());
        cuts.sort_unstable();
        let (mut buf, mut args, mut out, mut from) = (BytesMut::new(), Vec::new(), Vec::new(), 0);
        for cut in cuts {
            buf.extend_from_slice(&input[from..cut]);
            from = cut;
            while !buf.is_empty() {
                let before = buf.len();
                match parse(&mut buf, authenticated, &mut args)? {
                    Parsed::Command => {
                        assert!(buf.len() < before, "a command consumes bytes");
                        out.push(args.clone());
                    }
                    Parsed::Incomplete { .. } => break,
                }
            }
        }
        Ok(out)
    }

    fn command() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..6)
    }

    proptest! {
        /// Every i64 reads back from its decimal text; a `+` sign, a leading zero or a blank
        /// makes it not an integer (Redis's `string2ll`); any bytes are safe.
        #[test]
        fn integers_read_as_redis_reads_them(n in any::<i64>(), junk in prop::collection::vec(any::<u8>(), 0..24)) {
            let text = n.to_string();
            prop_assert_eq!(int_arg(text.as_bytes()), Some(n));
            prop_assert_eq!(int_arg(format!("+{text}").as_bytes()), None);
            prop_assert_eq!(int_arg(format!(" {text}").as_bytes()), None);
            prop_assert_eq!(int_arg(format!("{text} ").as_bytes()), None);
            if n > 0 {
                prop_assert_eq!(int_arg(format!("0{text}").as_bytes()), None);
            }
            let parsed = int_arg(&junk);
            if let Some(v) = parsed {
                prop_assert_eq!(v.to_string().into_bytes(), junk);
            }
        }
    }

    proptest! {
        /// Pipelined multibulk commands come out the same whatever the reads they arrive in.
        #[test]
        fn multibulk_reads_back_split_anywhere(
            commands in prop::collection::vec(command(), 1..5),
            cuts in prop::collection::vec(any::<usize>(), 0..6),
        ) {
            let input: Vec<u8> = commands.iter().flat_map(|c| multibulk(c)).collect();
            let expected: Vec<Vec<Bytes>> = commands
                .iter()
                .map(|c| c.iter().map(|a| Bytes::copy_from_slice(a)).collect())
                .collect();
            prop_assert_eq!(feed(&input, &cuts, true), Ok(expected));
        }

        /// Inline commands of plain words come out as those words, split anywhere.
        #[test]
        fn inline_reads_back_split_anywhere(
            words in prop::collection::vec("[A-Za-z0-9_:.-]{1,12}", 1..6),
            cuts in prop::collection::vec(any::<usize>(), 0..4),
        ) {
            let input = format!("{}\r\n", words.join(" "));
            let expected = vec![words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()];
            prop_assert_eq!(feed(input.as_bytes(), &cuts, true), Ok(expected));
        }

        /// Any bytes, split anywhere, before or after authentication: no panic, every command
        /// consumes input, and the outcome does not depend on the splits.
        #[test]
        fn any_input_is_safe_and_split_independent(
            input in prop::collection::vec(
                prop_oneof![
                    4 => any::<u8>(),
                    1 => prop::sample::select(b"*$\r\n0123456789-".to_vec()),
                ],
                0..200,
            ),
            cuts in prop::collection::vec(any::<usize>(), 0..6),
            authenticated in any::<bool>(),
        ) {
            let whole = feed(&input, &[], authenticated);
            prop_assert_eq!(feed(&input, &cuts, authenticated), whole);
        }
    }
}
