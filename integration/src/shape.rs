//! Reply-shape comparison: do two servers answer with the same *kind* of reply?
//!
//! Types, map keys and their order, array lengths, status texts and error texts must match; values that
//! legitimately differ between two processes (run ids, ports, times, counters) are ignored. Digit runs in
//! status and error texts are masked (`+OK 1 usable Sentinels` ~ `+OK 3 usable Sentinels`).

use std::fmt;

use crate::resp::Value;

/// How strictly two replies are compared.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    /// Treat even-length arrays of `[key, value, ...]` as maps: keys (even positions) must be equal.
    /// This is how RESP2 carries maps (SENTINEL MASTER, HELLO, SENTINEL DEBUG ...).
    pub flat_maps: bool,
    /// Arrays must have the same length (off for lists whose length depends on timing).
    pub array_lengths: bool,
    /// Compare every value exactly (for replies that are fixed: HELP texts, COMMAND INFO, ROLE).
    pub exact: bool,
}

impl Rules {
    /// Types, keys, lengths, status and error texts; values ignored.
    pub const SHAPE: Rules = Rules {
        flat_maps: false,
        array_lengths: true,
        exact: false,
    };
    /// [`Rules::SHAPE`] plus RESP2 flat maps compared by key.
    pub const FLAT_MAPS: Rules = Rules {
        flat_maps: true,
        ..Rules::SHAPE
    };
    /// Byte-for-byte equal values.
    pub const EXACT: Rules = Rules {
        exact: true,
        ..Rules::SHAPE
    };
}

/// One difference between the reference reply and the reply under test.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    /// Where in the reply: `$` is the root, `[3]` an element, `{name}` a map value.
    pub path: String,
    /// What differs.
    pub detail: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.path, self.detail)
    }
}

/// Compares `actual` against `reference` and lists every difference (empty = same shape).
pub fn compare(reference: &Value, actual: &Value, rules: Rules) -> Vec<Mismatch> {
    let mut out = Vec::new();
    Comparer {
        rules,
        out: &mut out,
    }
    .value("$", reference, actual, false);
    out
}

/// Replaces each run of ASCII digits by `#`.
pub fn mask_digits(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_digits = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(120) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

/// Whether `items` reads as `[key, value, ...]` with string keys.
fn is_flat_map(items: &[Value]) -> bool {
    items
        .chunks(2)
        .all(|kv| kv.len() == 2 && matches!(kv[0], Value::Bulk(_) | Value::Simple(_)))
}

struct Comparer<'a> {
    rules: Rules,
    out: &'a mut Vec<Mismatch>,
}

impl Comparer<'_> {
    fn push(&mut self, path: &str, detail: String) {
        self.out.push(Mismatch {
            path: path.to_owned(),
            detail,
        });
    }

    fn value(&mut self, path: &str, r: &Value, a: &Value, is_key: bool) {
        if r.kind() != a.kind() {
            let detail = format!(
                "type {} vs {} (reference {}, got {})",
                r.kind(),
                a.kind(),
                short(r),
                short(a)
            );
            return self.push(path, detail);
        }
        let equal_texts = |x: &str, y: &str| {
            if self.rules.exact {
                x == y
            } else {
                mask_digits(x) == mask_digits(y)
            }
        };
        let same = match (r, a) {
            (Value::Simple(x), Value::Simple(y))
            | (Value::Error(x), Value::Error(y))
            | (Value::BulkError(x), Value::BulkError(y)) => equal_texts(x, y),
            (Value::Bulk(x), Value::Bulk(y)) => !(is_key || self.rules.exact) || x == y,
            (Value::Verbatim(fx, x), Value::Verbatim(fy, y)) => {
                fx == fy && (!self.rules.exact || x == y)
            }
            (Value::Array(x), Value::Array(y))
            | (Value::Set(x), Value::Set(y))
            | (Value::Push(x), Value::Push(y)) => {
                return self.items(path, x, y);
            }
            (Value::Map(x), Value::Map(y)) => return self.map(path, x, y),
            _ => !self.rules.exact || r == a,
        };
        if !same {
            self.push(path, format!("reference {}, got {}", short(r), short(a)));
        }
    }

    fn items(&mut self, path: &str, r: &[Value], a: &[Value]) {
        if r.len() != a.len() && self.rules.array_lengths {
            self.push(path, format!("length {} vs {}", r.len(), a.len()));
            if !self.rules.exact {
                return;
            }
        }
        let flat_map =
            self.rules.flat_maps && r.len() == a.len() && is_flat_map(r) && is_flat_map(a);
        for (i, (x, y)) in r.iter().zip(a).enumerate() {
            if flat_map && i % 2 == 1 {
                let key = r[i - 1].as_text().unwrap_or_default();
                self.value(&format!("{path}{{{key}}}"), x, y, false);
            } else {
                self.value(&format!("{path}[{i}]"), x, y, flat_map);
            }
        }
    }

    fn map(&mut self, path: &str, r: &[(Value, Value)], a: &[(Value, Value)]) {
        let keys = |m: &[(Value, Value)]| m.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>();
        if keys(r) != keys(a) {
            let detail = format!(
                "map keys [{}] vs [{}]",
                keys(r).join(", "),
                keys(a).join(", ")
            );
            return self.push(path, detail);
        }
        for ((k, x), (_, y)) in r.iter().zip(a) {
            self.value(
                &format!("{path}{{{}}}", k.as_text().unwrap_or_else(|| k.to_string())),
                x,
                y,
                false,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::Bulk(s.as_bytes().to_vec())
    }

    fn flat(kv: &[(&str, &str)]) -> Value {
        Value::Array(kv.iter().flat_map(|(k, v)| [bulk(k), bulk(v)]).collect())
    }

    #[test]
    fn ignores_values_but_not_types() {
        assert!(compare(&bulk("6379"), &bulk("7000"), Rules::SHAPE).is_empty());
        assert_eq!(
            compare(&bulk("1"), &Value::Integer(1), Rules::SHAPE).len(),
            1
        );
        assert_eq!(
            compare(&Value::NullBulk, &Value::NullArray, Rules::SHAPE).len(),
            1
        );
    }

    #[test]
    fn compares_status_and_error_texts_with_digits_masked() {
        let r = Value::Simple("OK 1 usable Sentinels".into());
        assert!(compare(
            &r,
            &Value::Simple("OK 3 usable Sentinels".into()),
            Rules::SHAPE
        )
        .is_empty());
        assert_eq!(
            compare(&r, &Value::Simple("OK".into()), Rules::SHAPE).len(),
            1
        );
        let e = Value::Error("ERR No such master with that name".into());
        assert_eq!(
            compare(&e, &Value::Error("ERR no such master".into()), Rules::SHAPE).len(),
            1
        );
    }

    #[test]
    fn flat_maps_compare_keys_in_order() {
        let r = flat(&[("name", "a"), ("port", "1")]);
        assert!(compare(&r, &flat(&[("name", "b"), ("port", "2")]), Rules::FLAT_MAPS).is_empty());
        let swapped = flat(&[("port", "2"), ("name", "b")]);
        assert_eq!(compare(&r, &swapped, Rules::FLAT_MAPS).len(), 2);
        assert!(compare(&r, &swapped, Rules::SHAPE).is_empty());
    }

    #[test]
    fn maps_compare_keys_and_value_types() {
        let m = |v: Value| Value::Map(vec![(bulk("proto"), v)]);
        assert!(compare(&m(Value::Integer(2)), &m(Value::Integer(3)), Rules::SHAPE).is_empty());
        let diff = compare(&m(Value::Integer(2)), &m(bulk("3")), Rules::SHAPE);
        assert_eq!(diff[0].path, "${proto}");
        let other = Value::Map(vec![(bulk("role"), Value::Integer(2))]);
        assert_eq!(
            compare(&m(Value::Integer(2)), &other, Rules::SHAPE).len(),
            1
        );
    }

    #[test]
    fn array_lengths_can_be_relaxed() {
        let r = Value::Array(vec![bulk("a"), bulk("b")]);
        let a = Value::Array(vec![bulk("a")]);
        assert_eq!(compare(&r, &a, Rules::SHAPE).len(), 1);
        assert!(compare(
            &r,
            &a,
            Rules {
                array_lengths: false,
                ..Rules::SHAPE
            }
        )
        .is_empty());
    }

    #[test]
    fn exact_compares_values() {
        assert_eq!(compare(&bulk("a"), &bulk("b"), Rules::EXACT).len(), 1);
        assert_eq!(
            compare(&Value::Integer(15), &Value::Integer(16), Rules::EXACT).len(),
            1
        );
        assert_eq!(mask_digits("port 6379 at 10:3"), "port # at #:#");
    }
}
