//! Wire format of outgoing links: commands out as RESP arrays, replies in as [`Reply`] values.
//!
//! Replies are read with `redis-protocol`'s decoders (RESP2, and RESP3 types too), but only after
//! [`FrameScanner`] has found where a frame ends. The scanner is incremental (each byte is looked
//! at once however the frame is split across reads) and enforces the limits that keep a hostile
//! or broken instance from exhausting memory or stack: frame size, bulk length, line length and
//! nesting depth. Only a complete, bounded frame ever reaches the decoder.

use bytes::{Bytes, BytesMut};
use redis_protocol::resp2::types::BytesFrame as Resp2Frame;
use redis_protocol::resp3::types::BytesFrame as Resp3Frame;
use redis_protocol::{resp2, resp3};
use std::fmt;
use warden_core::Reply;

/// Largest reply frame accepted, in bytes (all nested elements included).
pub const MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;
/// Longest header or simple-string line accepted (Redis's own inline limit).
const MAX_LINE_BYTES: usize = 64 * 1024;
/// Deepest aggregate nesting accepted (real replies to Sentinel's commands nest at most 3 deep).
const MAX_DEPTH: usize = 32;

/// Append `commands` to `out` as RESP arrays of bulk strings, pipelined.
pub fn encode_commands(out: &mut BytesMut, commands: &[Vec<Bytes>]) {
    for command in commands {
        let frame = Resp2Frame::Array(
            command
                .iter()
                .cloned()
                .map(Resp2Frame::BulkString)
                .collect(),
        );
        // Encoding into a growable buffer cannot fail: every part of the frame is valid.
        let _ = resp2::encode::extend_encode(out, &frame);
    }
}

/// Why the byte stream from an instance was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// A frame exceeded one of the size limits.
    TooLarge(String),
    /// Not valid RESP.
    Invalid(String),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::TooLarge(what) => write!(f, "reply too large: {what}"),
            ProtocolError::Invalid(what) => write!(f, "protocol error: {what}"),
        }
    }
}

/// Finds frame boundaries in a growing buffer, remembering its progress between calls.
#[derive(Debug, Default)]
pub struct FrameScanner {
    /// Bytes of the current frame already known complete (always at an element boundary).
    pos: usize,
    /// Elements still expected by each open aggregate, innermost last.
    open: Vec<usize>,
    /// Buffer length the last incomplete scan is known to need (a bulk's end), else 0.
    needed: usize,
}

impl FrameScanner {
    /// Length of the first complete frame in `buf`, `None` if more bytes are needed. `buf` must be
    /// the same buffer (possibly grown) as in the previous call, until a frame is returned; the
    /// caller then removes that frame from the front and the scanner starts afresh.
    pub fn scan(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        self.needed = 0;
        loop {
            let Some(element_end) = self.scan_element(buf)? else {
                return Ok(None);
            };
            self.pos = element_end;
            if self.pos > MAX_FRAME_BYTES {
                return Err(ProtocolError::TooLarge(format!(
                    "frame over {MAX_FRAME_BYTES} bytes"
                )));
            }
            if self.open.is_empty() {
                let len = self.pos;
                self.pos = 0;
                return Ok(Some(len));
            }
        }
    }

    /// After a scan that found no complete frame: how many more bytes than `buf_len` the
    /// frame is already known to need (the rest of a bulk whose header arrived), else 0. Lets
    /// the reader take a large reply (INFO) in one read rather than many small ones.
    pub fn missing(&self, buf_len: usize) -> usize {
        self.needed.saturating_sub(buf_len)
    }

    /// Consume one element header (and the payload of a scalar) at `pos`. Returns the new
    /// position, or `None` if the element is not complete yet. Finishing a scalar (or an empty
    /// aggregate) closes every aggregate it completes.
    fn scan_element(&mut self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        let Some(&kind) = buf.get(self.pos) else {
            return Ok(None);
        };
        let Some(line_end) = find_crlf(buf, self.pos + 1)? else {
            return Ok(None);
        };
        let line = &buf[self.pos + 1..line_end];
        let after_line = line_end + 2;
        let end = match kind {
            b'+' | b'-' | b':' | b',' | b'(' | b'_' | b'#' => after_line,
            b'$' | b'!' | b'=' => {
                let len = parse_len(line)?;
                if len < 0 {
                    if kind != b'$' || len != -1 {
                        return Err(ProtocolError::Invalid(format!("bad length {len}")));
                    }
                    after_line
                } else {
                    let len = len as usize;
                    if len > MAX_FRAME_BYTES {
                        return Err(ProtocolError::TooLarge(format!("bulk of {len} bytes")));
                    }
                    let end = after_line + len + 2;
                    if end > MAX_FRAME_BYTES {
                        return Err(ProtocolError::TooLarge(format!(
                            "frame over {MAX_FRAME_BYTES} bytes"
                        )));
                    }
                    if buf.len() < end {
                        self.needed = end;
                        return Ok(None);
                    }
                    if &buf[end - 2..end] != b"\r\n" {
                        return Err(ProtocolError::Invalid("bulk not terminated by CRLF".into()));
                    }
                    end
                }
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => {
                let count = parse_len(line)?;
                if count == -1 && kind == b'*' {
                    after_line
                } else if count < 0 {
                    return Err(ProtocolError::Invalid(format!("bad count {count}")));
                } else {
                    let count = count as usize;
                    // Each element takes at least 3 bytes, which bounds counts by the frame size.
                    if count > MAX_FRAME_BYTES / 3 {
                        return Err(ProtocolError::TooLarge(format!("{count} elements")));
                    }
                    let elements = match kind {
                        b'%' => count * 2,
                        // Attributes precede the element they describe.
                        b'|' => count * 2 + 1,
                        _ => count,
                    };
                    if elements > 0 {
                        if self.open.len() == MAX_DEPTH {
                            return Err(ProtocolError::TooLarge(format!(
                                "nesting over {MAX_DEPTH}"
                            )));
                        }
                        self.open.push(elements);
                        return Ok(Some(after_line));
                    }
                    after_line
                }
            }
            other => {
                return Err(ProtocolError::Invalid(format!(
                    "unexpected byte 0x{other:02x}"
                )))
            }
        };
        self.close_completed();
        Ok(Some(end))
    }

    /// One element finished: count it against its aggregate, closing those it completes.
    fn close_completed(&mut self) {
        while let Some(remaining) = self.open.last_mut() {
            *remaining -= 1;
            if *remaining > 0 {
                break;
            }
            self.open.pop();
        }
    }
}

/// Index of the `\r\n` ending the line that starts at `from`.
fn find_crlf(buf: &[u8], from: usize) -> Result<Option<usize>, ProtocolError> {
    let window = &buf[from.min(buf.len())..buf.len().min(from + MAX_LINE_BYTES + 2)];
    match window.windows(2).position(|w| w == b"\r\n") {
        Some(i) => Ok(Some(from + i)),
        None if window.len() >= MAX_LINE_BYTES + 2 => Err(ProtocolError::TooLarge(format!(
            "line over {MAX_LINE_BYTES} bytes"
        ))),
        None => Ok(None),
    }
}

/// A length or count field (`?`, RESP3 streaming, is not supported).
fn parse_len(line: &[u8]) -> Result<i64, ProtocolError> {
    std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| {
            ProtocolError::Invalid(format!("bad length {:?}", String::from_utf8_lossy(line)))
        })
}

/// Decode one complete frame as found by [`FrameScanner`].
pub fn decode_frame(frame: &Bytes) -> Result<Reply, ProtocolError> {
    let invalid = |e: &dyn fmt::Display| ProtocolError::Invalid(e.to_string());
    // RESP2 first: it is what instances speak unless asked otherwise, and the only decoder that
    // understands `$-1` / `*-1`.
    match resp2::decode::decode_bytes(frame) {
        Ok(Some((decoded, used))) if used == frame.len() => return Ok(resp2_reply(decoded)),
        Ok(_) => return Err(ProtocolError::Invalid("frame boundary mismatch".into())),
        Err(_) => {}
    }
    match resp3::decode::complete::decode_bytes(frame) {
        Ok(Some((decoded, used))) if used == frame.len() => resp3_reply(decoded),
        Ok(_) => Err(ProtocolError::Invalid("frame boundary mismatch".into())),
        Err(e) => Err(invalid(&e)),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn resp2_reply(frame: Resp2Frame) -> Reply {
    match frame {
        Resp2Frame::SimpleString(s) => Reply::Status(text(&s)),
        Resp2Frame::Error(e) => Reply::Error(e.to_string()),
        Resp2Frame::Integer(i) => Reply::Int(i),
        Resp2Frame::BulkString(b) => Reply::Bulk(b),
        Resp2Frame::Array(items) => Reply::Array(items.into_iter().map(resp2_reply).collect()),
        Resp2Frame::Null => Reply::Null,
    }
}

fn resp3_reply(frame: Resp3Frame) -> Result<Reply, ProtocolError> {
    let list = |items: Vec<Resp3Frame>| -> Result<Reply, ProtocolError> {
        Ok(Reply::Array(
            items
                .into_iter()
                .map(resp3_reply)
                .collect::<Result<_, _>>()?,
        ))
    };
    Ok(match frame {
        Resp3Frame::BlobString { data, .. } => Reply::Bulk(data),
        Resp3Frame::BigNumber { data, .. } => Reply::Bulk(data),
        Resp3Frame::SimpleString { data, .. } => Reply::Status(text(&data)),
        Resp3Frame::BlobError { data, .. } => Reply::Error(text(&data)),
        Resp3Frame::SimpleError { data, .. } => Reply::Error(data.to_string()),
        Resp3Frame::Boolean { data, .. } => Reply::Bool(data),
        Resp3Frame::Null => Reply::Null,
        Resp3Frame::Number { data, .. } => Reply::Int(data),
        Resp3Frame::Double { data, .. } => Reply::Double(data),
        Resp3Frame::VerbatimString { data, .. } => Reply::Verbatim(text(&data)),
        Resp3Frame::Array { data, .. } | Resp3Frame::Push { data, .. } => list(data)?,
        Resp3Frame::Set { data, .. } => list(data.into_iter().collect())?,
        Resp3Frame::Map { data, .. } => Reply::Map(
            data.into_iter()
                .map(|(k, v)| Ok((resp3_reply(k)?, resp3_reply(v)?)))
                .collect::<Result<_, ProtocolError>>()?,
        ),
        Resp3Frame::Hello { .. } | Resp3Frame::ChunkedString(_) => {
            return Err(ProtocolError::Invalid("unexpected frame type".into()))
        }
    })
}

/// If `reply` is a published message (`message <channel> <payload>`, as array or RESP3 push),
/// its channel and payload.
pub fn as_message(reply: &Reply) -> Option<(Bytes, Bytes)> {
    match reply {
        Reply::Array(items) => match items.as_slice() {
            [Reply::Bulk(kind), Reply::Bulk(channel), Reply::Bulk(payload)]
                if kind.as_ref() == b"message" =>
            {
                Some((channel.clone(), payload.clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn decode_all(input: &[u8]) -> Result<Vec<Reply>, ProtocolError> {
        let mut buf = BytesMut::from(input);
        let mut scanner = FrameScanner::default();
        let mut out = Vec::new();
        while let Some(len) = scanner.scan(&buf)? {
            out.push(decode_frame(&buf.split_to(len).freeze())?);
        }
        assert!(buf.is_empty(), "leftover {buf:?}");
        Ok(out)
    }

    #[test]
    fn commands_encode_as_pipelined_bulk_arrays() {
        let mut out = BytesMut::new();
        encode_commands(
            &mut out,
            &[
                vec![b("PING")],
                vec![b("CLIENT"), b("SETNAME"), b("sentinel-0123abcd-cmd")],
                vec![],
            ],
        );
        assert_eq!(
            &out[..],
            b"*1\r\n$4\r\nPING\r\n*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$21\r\nsentinel-0123abcd-cmd\r\n*0\r\n"
        );
    }

    #[test]
    fn resp2_frames_convert_to_replies() {
        let replies = decode_all(
            b"+PONG\r\n-ERR unknown command\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n$0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            replies,
            vec![
                Reply::Status("PONG".into()),
                Reply::Error("ERR unknown command".into()),
                Reply::Int(42),
                Reply::Bulk(b("hello")),
                Reply::Null,
                Reply::Null,
                Reply::Array(vec![Reply::Bulk(b("a")), Reply::Array(vec![Reply::Int(1)])]),
                Reply::Bulk(Bytes::new()),
            ]
        );
    }

    #[test]
    fn resp3_frames_convert_to_replies() {
        let replies = decode_all(
            b"_\r\n#t\r\n,1.5\r\n=7\r\ntxt:abc\r\n%1\r\n$1\r\nk\r\n:2\r\n>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\np\r\n|1\r\n+a\r\n+b\r\n:7\r\n",
        )
        .unwrap();
        assert_eq!(
            replies,
            vec![
                Reply::Null,
                Reply::Bool(true),
                Reply::Double(1.5),
                Reply::Verbatim("abc".into()),
                Reply::Map(vec![(Reply::Bulk(b("k")), Reply::Int(2))]),
                Reply::Array(vec![
                    Reply::Bulk(b("message")),
                    Reply::Bulk(b("ch")),
                    Reply::Bulk(b("p"))
                ]),
                Reply::Int(7),
            ]
        );
        assert_eq!(as_message(&replies[5]), Some((b("ch"), b("p"))));
    }

    #[test]
    fn frames_split_at_every_byte_are_found_incrementally() {
        let input: &[u8] =
            b"*3\r\n$7\r\nmessage\r\n$18\r\n__sentinel__:hello\r\n$3\r\nx,y\r\n+OK\r\n";
        let mut buf = BytesMut::new();
        let mut scanner = FrameScanner::default();
        let mut found = Vec::new();
        for &byte in input {
            buf.extend_from_slice(&[byte]);
            if let Some(len) = scanner.scan(&buf).unwrap() {
                found.push(decode_frame(&buf.split_to(len).freeze()).unwrap());
            }
        }
        assert_eq!(found.len(), 2);
        assert_eq!(
            as_message(&found[0]),
            Some((b("__sentinel__:hello"), b("x,y")))
        );
        assert_eq!(found[1], Reply::Status("OK".into()));
    }

    #[test]
    fn an_incomplete_bulk_says_how_many_bytes_it_still_needs() {
        let mut scanner = FrameScanner::default();
        let info = format!("${}\r\n{}\r\n", 5000, "x".repeat(5000));
        let (head, _) = info.as_bytes().split_at(1000);
        assert_eq!(scanner.scan(head).unwrap(), None);
        // 7 header bytes + 5000 + CRLF, of which 1000 are in.
        assert_eq!(scanner.missing(head.len()), 5009 - 1000);
        assert_eq!(scanner.scan(info.as_bytes()).unwrap(), Some(5009));
        assert_eq!(scanner.missing(0), 0);
        // Nothing known yet: an incomplete header, or an aggregate's next element.
        let mut scanner = FrameScanner::default();
        assert_eq!(scanner.scan(b"$50").unwrap(), None);
        assert_eq!(scanner.missing(3), 0);
        assert_eq!(scanner.scan(b"*2\r\n+a\r\n").unwrap(), None);
        assert_eq!(scanner.missing(8), 0);
    }

    #[test]
    fn oversized_and_hostile_input_is_rejected_before_buffering() {
        let mut scanner = FrameScanner::default();
        let huge = format!("${}\r\nabc", MAX_FRAME_BYTES + 1);
        assert!(matches!(
            scanner.scan(huge.as_bytes()),
            Err(ProtocolError::TooLarge(_))
        ));

        let mut scanner = FrameScanner::default();
        let deep = "*1\r\n".repeat(MAX_DEPTH + 1);
        assert!(matches!(
            scanner.scan(deep.as_bytes()),
            Err(ProtocolError::TooLarge(_))
        ));

        let mut scanner = FrameScanner::default();
        let endless_line = vec![b'+'; MAX_LINE_BYTES + 10];
        assert!(matches!(
            scanner.scan(&endless_line),
            Err(ProtocolError::TooLarge(_))
        ));

        let mut scanner = FrameScanner::default();
        let many = format!("*{}\r\n", MAX_FRAME_BYTES);
        assert!(matches!(
            scanner.scan(many.as_bytes()),
            Err(ProtocolError::TooLarge(_))
        ));
    }

    #[test]
    fn a_frame_growing_past_the_limit_is_rejected_before_it_is_buffered_whole() {
        // Two bulks of 40 MB in one array: the second header already crosses the frame limit.
        let bulk = 40 * 1024 * 1024;
        let mut buf = format!("*2\r\n${bulk}\r\n").into_bytes();
        buf.resize(buf.len() + bulk, b'x');
        buf.extend_from_slice(format!("\r\n${bulk}\r\n").as_bytes());
        let mut scanner = FrameScanner::default();
        let mut fed = 0;
        let result = loop {
            fed = (fed + 1024 * 1024).min(buf.len());
            match scanner.scan(&buf[..fed]) {
                Ok(None) if fed < buf.len() => continue,
                other => break other,
            }
        };
        assert!(
            matches!(result, Err(ProtocolError::TooLarge(_))),
            "{result:?}"
        );
        assert!(fed <= MAX_FRAME_BYTES);
    }

    #[test]
    fn random_input_never_panics() {
        use rand::{Rng, SeedableRng};
        let pieces: [&[u8]; 16] = [
            b"*", b"$", b"%", b"~", b">", b"|", b"+", b"-", b":", b"_", b"#t", b"=", b"\r\n", b"2",
            b"-1", b"abc",
        ];
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        for _ in 0..20_000 {
            let mut input = Vec::new();
            for _ in 0..rng.gen_range(1..24) {
                input.extend_from_slice(pieces[rng.gen_range(0..pieces.len())]);
            }
            let mut buf = BytesMut::from(&input[..]);
            let mut scanner = FrameScanner::default();
            while let Ok(Some(len)) = scanner.scan(&buf) {
                let _ = decode_frame(&buf.split_to(len).freeze());
            }
        }
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for input in [
            &b"?what\r\n"[..],
            b"$abc\r\n",
            b"$3\r\nabcXY",
            b"*-2\r\n",
            b"$-5\r\n",
            b"$?\r\n",
            b":notanumber\r\n",
            b"#x\r\n",
            b"%1\r\n*1\r\n:1\r\n:2\r\n",
        ] {
            assert!(
                decode_all(input).is_err(),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn a_message_needs_the_exact_shape() {
        let msg = Reply::Array(vec![
            Reply::Bulk(b("message")),
            Reply::Bulk(b("c")),
            Reply::Bulk(b("p")),
        ]);
        assert_eq!(as_message(&msg), Some((b("c"), b("p"))));
        let sub = Reply::Array(vec![
            Reply::Bulk(b("subscribe")),
            Reply::Bulk(b("c")),
            Reply::Int(1),
        ]);
        assert_eq!(as_message(&sub), None);
        assert_eq!(as_message(&Reply::Status("message".into())), None);
    }
}

/// Property tests (issue 17); proptest's default 256 cases each.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use warden_server::resp::{encode, Protocol};

    /// Replies that read back as themselves in `resp3` (sets, verbatim strings and null arrays
    /// have no exact inverse on this side; maps, booleans and doubles are RESP3's).
    fn reply(resp3: bool) -> impl Strategy<Value = Reply> {
        let line = "[ -~]{0,20}";
        let leaf = prop_oneof![
            line.prop_map(Reply::Status),
            line.prop_map(|e| Reply::Error(format!("ERR {e}"))),
            any::<i64>().prop_map(Reply::Int),
            prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| Reply::Bulk(b.into())),
            Just(Reply::Null),
        ];
        let leaf = if resp3 {
            prop_oneof![
                4 => leaf,
                1 => any::<bool>().prop_map(Reply::Bool),
                1 => (-1e12f64..1e12).prop_map(Reply::Double),
            ]
            .boxed()
        } else {
            leaf.boxed()
        };
        let keys = leaf.clone();
        leaf.prop_recursive(4, 40, 5, move |inner| {
            if resp3 {
                // Map keys are plain values, as servers send them (the decoder's maps refuse
                // aggregate keys).
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..5).prop_map(Reply::Array),
                    prop::collection::vec((keys.clone(), inner), 0..3).prop_map(unique_keys),
                ]
                .boxed()
            } else {
                prop::collection::vec(inner, 0..5)
                    .prop_map(Reply::Array)
                    .boxed()
            }
        })
    }

    /// A map with the first pair of each key (the decoder's maps hold one value per key).
    fn unique_keys(pairs: Vec<(Reply, Reply)>) -> Reply {
        let mut seen = Vec::new();
        Reply::Map(
            pairs
                .into_iter()
                .filter(|(k, _)| {
                    let new = !seen.contains(k);
                    seen.push(k.clone());
                    new
                })
                .collect(),
        )
    }

    /// `reply` with every map's pairs in one order (the decoder's maps do not keep theirs).
    fn canonical(reply: Reply) -> Reply {
        match reply {
            Reply::Array(items) => Reply::Array(items.into_iter().map(canonical).collect()),
            Reply::Map(pairs) => {
                let mut pairs: Vec<(Reply, Reply)> = pairs
                    .into_iter()
                    .map(|(k, v)| (canonical(k), canonical(v)))
                    .collect();
                pairs.sort_by_key(|(k, _)| format!("{k:?}"));
                Reply::Map(pairs)
            }
            other => other,
        }
    }

    fn protocol_and_reply() -> impl Strategy<Value = (Protocol, Reply)> {
        prop_oneof![
            reply(false).prop_map(|r| (Protocol::Resp2, r)),
            reply(true).prop_map(|r| (Protocol::Resp3, r)),
        ]
    }

    proptest! {
        /// A reply, encoded and arriving in any reads, is found as one frame of exactly its
        /// length (with the next reply behind it) and decodes to itself (maps in any order).
        #[test]
        fn replies_read_back_split_anywhere(
            (proto, reply) in protocol_and_reply(),
            cuts in prop::collection::vec(any::<usize>(), 0..6),
        ) {
            let mut bytes = BytesMut::new();
            encode(&mut bytes, proto, &reply);
            let len = bytes.len();
            encode(&mut bytes, proto, &Reply::Int(7));
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % len).collect();
            cuts.sort_unstable();
            let mut scanner = FrameScanner::default();
            for cut in cuts {
                prop_assert_eq!(scanner.scan(&bytes[..cut]), Ok(None), "cut at {}", cut);
            }
            prop_assert_eq!(scanner.scan(&bytes), Ok(Some(len)));
            let decoded = decode_frame(&bytes.split_to(len).freeze()).map(canonical);
            prop_assert_eq!(decoded, Ok(canonical(reply)));
        }

        /// Any bytes, split anywhere: scanning and decoding never panic, and the frames found do
        /// not depend on the reads.
        #[test]
        fn any_bytes_are_safe_and_split_independent(
            input in prop::collection::vec(
                prop_oneof![
                    3 => any::<u8>(),
                    2 => prop::sample::select(b"*$%~>+-:_#,=\r\n0123456789".to_vec()),
                ],
                0..200,
            ),
            cut in any::<usize>(),
        ) {
            let frames = |cut: usize| {
                let mut buf = BytesMut::new();
                let mut scanner = FrameScanner::default();
                let mut out = Vec::new();
                for piece in [&input[..cut], &input[cut..]] {
                    buf.extend_from_slice(piece);
                    loop {
                        match scanner.scan(&buf) {
                            Ok(Some(len)) => {
                                out.push(decode_frame(&buf.split_to(len).freeze()));
                                scanner = FrameScanner::default();
                            }
                            Ok(None) => break,
                            Err(e) => {
                                out.push(Err(e));
                                return out;
                            }
                        }
                    }
                }
                out
            };
            prop_assert_eq!(frames(cut % (input.len() + 1)), frames(input.len()));
        }
    }
}
