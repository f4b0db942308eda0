//! The layout of text replies (INFO, CLIENT LIST/INFO), without their values.

/// The layout of an INFO reply, one entry per line: `# Section` headers as they are, blank lines as
/// `""`, `field:value` lines as `field`, and `field:k1=v1,k2=v2` lines (e.g. `master0:name=...`) as
/// `field{k1,k2}`. Two servers with the same sections, fields and order give equal layouts.
pub fn info_layout(text: &str) -> Vec<String> {
    let mut layout: Vec<String> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .map(|line| {
            if line.is_empty() || line.starts_with('#') {
                return line.to_owned();
            }
            let Some((field, value)) = line.split_once(':') else {
                return format!("(no colon) {line}");
            };
            let subkeys: Vec<&str> = value
                .split(',')
                .filter_map(|kv| kv.split_once('=').map(|(k, _)| k))
                .collect();
            if subkeys.is_empty() {
                field.to_owned()
            } else {
                format!("{field}{{{}}}", subkeys.join(","))
            }
        })
        .collect();
    while layout.last().is_some_and(String::is_empty) {
        layout.pop();
    }
    layout
}

/// The value of `field` in an INFO reply.
pub fn info_field<'a>(text: &'a str, field: &str) -> Option<&'a str> {
    text.lines()
        .filter_map(|line| line.trim_end_matches('\r').split_once(':'))
        .find(|(k, _)| *k == field)
        .map(|(_, v)| v)
}

/// The field names of one `k=v k=v ...` line as CLIENT LIST and CLIENT INFO print it.
pub fn client_line_keys(line: &str) -> Vec<String> {
    line.split_whitespace()
        .map(|kv| kv.split_once('=').map_or(kv, |(k, _)| k).to_owned())
        .collect()
}

/// Describes the first difference between two layouts, `None` if they are equal.
pub fn first_difference(reference: &[String], actual: &[String]) -> Option<String> {
    let at = reference
        .iter()
        .zip(actual)
        .position(|(r, a)| r != a)
        .or_else(|| {
            (reference.len() != actual.len()).then_some(reference.len().min(actual.len()))
        })?;
    let show = |v: &[String]| v.get(at).map_or("<end>".to_owned(), |s| format!("{s:?}"));
    Some(format!(
        "entry {at}: reference {}, got {} ({} vs {} entries)",
        show(reference),
        show(actual),
        reference.len(),
        actual.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_info_sections() {
        let text = "# Server\r\nredis_version:7.0.15\r\nrun_id:abc\r\n\r\n# Sentinel\r\nsentinel_masters:1\r\n\
                    master0:name=m,status=ok,address=127.0.0.1:1,slaves=0,sentinels=1\r\n";
        assert_eq!(
            info_layout(text),
            [
                "# Server",
                "redis_version",
                "run_id",
                "",
                "# Sentinel",
                "sentinel_masters",
                "master0{name,status,address,slaves,sentinels}"
            ]
        );
        assert_eq!(info_field(text, "run_id"), Some("abc"));
    }

    #[test]
    fn reports_first_difference() {
        let a = vec!["x".to_owned(), "y".to_owned()];
        let b = vec!["x".to_owned()];
        assert_eq!(first_difference(&a, &a), None);
        assert!(first_difference(&a, &b).unwrap().starts_with("entry 1"));
    }

    #[test]
    fn reads_client_line_keys() {
        assert_eq!(
            client_line_keys("id=3 addr=127.0.0.1:5 name= flags=N\n"),
            ["id", "addr", "name", "flags"]
        );
    }
}
