//! Redis's glob matching (`stringmatchlen`), shared by `SENTINEL RESET`, `SENTINEL CONFIG GET`,
//! pub/sub patterns, ACL channel rules and `COMMAND LIST FILTERBY PATTERN`.

/// Redis' `stringmatchlen`: `*`, `?`, `[...]` (with `^` negation and ranges), `\` escapes.
pub fn glob_match(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut t) = (0, 0);
    // Position to resume from after the last `*`: (pattern index after it, text index).
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    while p < pattern.len() && pattern[p] == b'*' {
                        p += 1;
                    }
                    if p == pattern.len() {
                        return true;
                    }
                    star = Some((p, t));
                    continue;
                }
                b'?' if t < text.len() => {
                    p += 1;
                    t += 1;
                    continue;
                }
                b'[' if t < text.len() && class_matches(pattern, p, text[t], nocase).0 => {
                    p = class_matches(pattern, p, text[t], nocase).1;
                    t += 1;
                    continue;
                }
                b'\\' if p + 1 < pattern.len() && t < text.len() && eq(pattern[p + 1], text[t]) => {
                    p += 2;
                    t += 1;
                    continue;
                }
                // A literal byte (a `\` is literal only as the pattern's last byte).
                c if t < text.len()
                    && !matches!(c, b'?' | b'[')
                    && !(c == b'\\' && p + 1 < pattern.len())
                    && eq(c, text[t]) =>
                {
                    p += 1;
                    t += 1;
                    continue;
                }
                _ => {}
            }
        } else if t == text.len() {
            return true;
        }
        // Mismatch: let the last `*` swallow one more byte.
        match star {
            Some((sp, st)) if st < text.len() => {
                star = Some((sp, st + 1));
                p = sp;
                t = st + 1;
            }
            _ => return false,
        }
    }
}

/// Match `c` against the class starting at `pattern[open] == '['`; returns (matched, index
/// after the class). An unterminated class extends to the end of the pattern, as in Redis.
fn class_matches(pattern: &[u8], open: usize, c: u8, nocase: bool) -> (bool, usize) {
    let fold = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    let c = fold(c);
    let mut i = open + 1;
    let negate = pattern.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut matched = false;
    while i < pattern.len() && pattern[i] != b']' {
        if pattern[i] == b'\\' && i + 1 < pattern.len() {
            matched |= fold(pattern[i + 1]) == c;
            i += 2;
        } else if i + 2 < pattern.len() && pattern[i + 1] == b'-' && pattern[i + 2] != b']' {
            let (mut lo, mut hi) = (fold(pattern[i]), fold(pattern[i + 2]));
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            matched |= (lo..=hi).contains(&c);
            i += 3;
        } else {
            matched |= fold(pattern[i]) == c;
            i += 1;
        }
    }
    let next = if i < pattern.len() { i + 1 } else { i };
    (matched != negate, next)
}
