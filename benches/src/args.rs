//! Command-line value parsing shared by the bench binaries.

/// A positive number given to `flag`, or an error naming the flag and the value.
pub fn positive<T: std::str::FromStr + PartialOrd + Default>(
    flag: &str,
    value: &str,
) -> Result<T, String> {
    value
        .parse()
        .ok()
        .filter(|n| *n > T::default())
        .ok_or(format!("{flag} {value}: expected a positive number"))
}

/// A comma-separated list given to `flag`, each item converted by `item`.
pub fn list<T>(
    flag: &str,
    value: &str,
    item: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, String> {
    value
        .split(',')
        .map(|s| item(s.trim()).ok_or(format!("{flag} {value}: unexpected item {s:?}")))
        .collect()
}

/// Calls `apply(flag, value)` for each command-line option after the program name, skipping
/// the `--bench` that cargo passes to every bench binary; `value()` takes the option's value (an
/// error naming the flag if there is none). Stops at the first error.
pub fn for_each_option(
    mut apply: impl FnMut(&str, &mut dyn FnMut() -> Result<String, String>) -> Result<(), String>,
) -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--bench" {
            continue;
        }
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        apply(&arg, &mut value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(positive::<u32>("--runs", "5"), Ok(5));
        assert!(positive::<u32>("--runs", "0").is_err());
        assert!(positive::<u32>("--runs", "x").is_err());
        assert_eq!(
            list("--down-after", "200, 1000", |s| s.parse::<u64>().ok()),
            Ok(vec![200, 1000])
        );
        assert!(list("--down-after", "200,x", |s| s.parse::<u64>().ok()).is_err());
    }
}
