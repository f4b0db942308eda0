//! Redis's config-file lexical rules: line splitting, argument splitting with quotes and
//! escapes, the quoting used when writing strings back, and C-style number parsing.

/// Splits config text into lines the way Redis does (`sdssplitlen` on `"\n"`): a trailing
/// newline yields a final empty line; empty text yields no lines at all. Each line is
/// trimmed of spaces, tabs, `\r` and `\n` at both ends.
pub fn split_lines(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    text.split('\n')
        .map(|l| l.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n')))
        .collect()
}

/// C `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Splits one line into arguments like Redis's `sdssplitargs`: blanks separate tokens,
/// `"..."` supports `\n \r \t \b \a \xHH` and `\<any>` escapes, `'...'` supports only `\'`,
/// and a closing quote must be followed by a blank or the end of the line.
///
/// Returns `None` for unbalanced quotes (Redis: `Unbalanced quotes in configuration line`).
/// Bytes that do not form valid UTF-8 (from `\xHH` escapes) are replaced lossily; see
/// [`split_arg_bytes`] for the bytes themselves.
pub fn split_args(line: &str) -> Option<Vec<String>> {
    let args = split_arg_bytes(line.as_bytes())?;
    Some(
        args.iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// [`split_args`] on bytes, keeping every byte of every argument (an inline command is
/// binary-safe).
pub fn split_arg_bytes(b: &[u8]) -> Option<Vec<Vec<u8>>> {
    // A NUL byte ends a C string.
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let b = &b[..end];
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < b.len() && is_c_space(b[p]) {
            p += 1;
        }
        if p >= b.len() {
            return Some(args);
        }
        let mut cur: Vec<u8> = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            let c = at(p);
            if inq {
                if c == b'\\'
                    && at(p + 1) == b'x'
                    && at(p + 2).is_ascii_hexdigit()
                    && at(p + 3).is_ascii_hexdigit()
                {
                    cur.push(hex(at(p + 2)) * 16 + hex(at(p + 3)));
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    other => cur.push(other),
                }
            }
            p += 1;
        }
        args.push(cur);
    }
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// Quotes a string like Redis's `sdscatrepr`: `"` + escaped content + `"`, with `\\`, `\"`,
/// `\n`, `\r`, `\t`, `\a`, `\b` and `\xHH` for other non-printable bytes.
pub fn repr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// Renders a token so that [`split_args`] reads it back unchanged: as is when that already
/// works, quoted with [`repr`] otherwise (empty, blanks, quotes, control characters).
///
/// Redis writes `sentinel ...` values raw, which corrupts the file for values containing
/// blanks; Warden quotes exactly those values and is byte-identical to Redis for all others.
pub fn token(s: &str) -> String {
    // Without blanks, quotes or NUL a value reads back as itself (the common case, checked
    // without the tokenizer: a rewrite renders every value of every master).
    let plain = !s.is_empty()
        && !s
            .bytes()
            .any(|b| is_c_space(b) || matches!(b, b'"' | b'\'' | 0));
    if plain
        || (!s.is_empty() && split_args(s).as_deref() == Some(std::slice::from_ref(&s.to_string())))
    {
        s.to_string()
    } else {
        repr(s)
    }
}

/// C `atoi`: leading blanks, optional sign, decimal digits up to the first non-digit; no
/// digits gives 0. Out-of-range values wrap like a 32-bit `int` conversion on glibc.
pub fn atoi(s: &str) -> i32 {
    strtoll(s) as i32
}

/// C `strtoll` with base 10, saturating on overflow, 0 when there are no digits.
pub fn strtoll(s: &str) -> i64 {
    let (neg, digits) = sign_and_digits(s);
    let mut v: i64 = 0;
    for d in digits.bytes() {
        let d = i64::from(d - b'0');
        v = match v.checked_mul(10).and_then(|v| {
            if neg {
                v.checked_sub(d)
            } else {
                v.checked_add(d)
            }
        }) {
            Some(v) => v,
            None => return if neg { i64::MIN } else { i64::MAX },
        };
    }
    v
}

/// C `strtoull` with base 10: saturates to `u64::MAX` on overflow, and a leading `-`
/// negates modulo 2^64 as C does.
pub fn strtoull(s: &str) -> u64 {
    let (neg, digits) = sign_and_digits(s);
    let mut v: u64 = 0;
    for d in digits.bytes() {
        v = match v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
        {
            Some(v) => v,
            None => return u64::MAX,
        };
    }
    if neg {
        v.wrapping_neg()
    } else {
        v
    }
}

fn sign_and_digits(s: &str) -> (bool, &str) {
    let s = s.trim_start_matches(|c: char| c.is_ascii() && is_c_space(c as u8));
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
    (neg, &rest[..n])
}

/// Redis `string2ll`: the whole string must be a canonical decimal `long long` (no blanks,
/// no `+`, no leading zeros except "0", no "-0").
pub fn string2ll(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let digits = if b[0] == b'-' { &b[1..] } else { b };
    if digits.is_empty()
        || !digits.iter().all(u8::is_ascii_digit)
        || (digits[0] == b'0' && (digits.len() > 1 || b[0] == b'-'))
    {
        return None;
    }
    s.parse().ok()
}

/// Every non-empty string of at most `longest` characters drawn from `alphabet` (for tests that
/// check the tokenizer exhaustively over its special characters).
#[cfg(test)]
pub(crate) fn every_string(alphabet: &[char], longest: usize) -> Vec<String> {
    let mut all = Vec::new();
    let mut last = vec![String::new()];
    for _ in 0..longest {
        last = last
            .iter()
            .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
            .collect();
        all.extend(last.iter().cloned());
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Option<Vec<String>> {
        split_args(s)
    }

    #[test]
    fn splits_like_sdssplitargs() {
        let cases: &[(&str, Option<&[&str]>)] = &[
            ("a b  c", Some(&["a", "b", "c"])),
            ("  ", Some(&[])),
            (r#"dir "/var/lib/redis""#, Some(&["dir", "/var/lib/redis"])),
            (r#"x "a\nb\x41\"""#, Some(&["x", "a\nbA\""])),
            (r#"x "\q""#, Some(&["x", "q"])),
            (r"x 'it\'s \n'", Some(&["x", "it's \\n"])),
            (r#"x "" ''"#, Some(&["x", "", ""])),
            (r#"x ab"c d"e"#, None),
            (r#"x ab"c d""#, Some(&["x", "abc d"])),
            (r#"x "abc"d"#, None),
            (r#"x "abc"#, None),
            ("x 'abc", None),
            ("x\ty\rz", Some(&["x", "y", "z"])),
            (r#"x "\x4""#, Some(&["x", "x4"])),
        ];
        for (line, want) in cases {
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(args(line), want, "line {line:?}");
        }
    }

    #[test]
    fn lines_keep_the_trailing_empty_one() {
        assert_eq!(split_lines("a\n  b \r\n"), vec!["a", "b", ""]);
        assert_eq!(split_lines(""), Vec::<&str>::new());
        assert_eq!(split_lines("a"), vec!["a"]);
    }

    #[test]
    fn repr_and_token_round_trip() {
        assert_eq!(repr("/var/lib/redis"), "\"/var/lib/redis\"");
        assert_eq!(repr("a\"b\\\n\x01"), r#""a\"b\\\n\x01""#);
        for s in [
            "plain",
            "",
            "with space",
            "q\"uote",
            "it's",
            "tab\t",
            "é",
            "#x",
        ] {
            let t = token(s);
            assert_eq!(split_args(&t), Some(vec![s.to_string()]), "{s:?} -> {t:?}");
        }
        assert_eq!(token("mymaster"), "mymaster");
        assert_eq!(token("/a/b.sh"), "/a/b.sh");
    }

    #[test]
    fn c_numbers() {
        assert_eq!(atoi(" 42abc"), 42);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi("-7"), -7);
        assert_eq!(strtoull("18446744073709551616"), u64::MAX);
        assert_eq!(strtoull("-1"), u64::MAX);
        assert_eq!(strtoull("12x"), 12);
        assert_eq!(string2ll("12"), Some(12));
        assert_eq!(string2ll("012"), None);
        assert_eq!(string2ll("+1"), None);
        assert_eq!(string2ll("-0"), None);
        assert_eq!(string2ll("-5"), Some(-5));
    }

    /// Every value of up to four characters over the tokenizer's special characters: what
    /// [`token`] renders reads back as the value, and is the value itself exactly when the
    /// tokenizer gives it back unchanged.
    #[test]
    fn token_reads_back_and_stays_raw_only_when_it_can() {
        const ALPHABET: [char; 11] = [
            ' ', '\t', '\r', '"', '\'', '\\', 'a', '\u{b}', '\u{c}', '\0', 'é',
        ];
        for v in &every_string(&ALPHABET, 4) {
            let raw = split_args(v).as_deref() == Some(std::slice::from_ref(v));
            let t = token(v);
            assert_eq!(t == *v, raw, "{v:?} -> {t:?}");
            assert_eq!(split_args(&t), Some(vec![v.clone()]), "{v:?} -> {t:?}");
        }
    }
}
