//! Waiting on conditions with deadlines (never on fixed sleeps).

use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

/// How often a condition is re-checked.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// A condition that did not become true in time.
#[derive(Debug)]
pub struct Timeout {
    /// What was waited for.
    pub what: String,
    /// How long was waited.
    pub waited: Duration,
    /// The last observation the probe reported, if any.
    pub last: Option<String>,
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timed out after {:?} waiting for {}",
            self.waited, self.what
        )?;
        if let Some(last) = &self.last {
            write!(f, " (last seen: {last})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Timeout {}

/// Polls `probe` until it returns `Ok(value)` or `timeout` has passed. The probe returns `Err(observation)`
/// while the condition does not hold; the last observation is reported on timeout.
pub fn wait_until<T>(
    timeout: Duration,
    what: &str,
    mut probe: impl FnMut() -> Result<T, String>,
) -> Result<T, Timeout> {
    let start = Instant::now();
    loop {
        let last = match probe() {
            Ok(value) => return Ok(value),
            Err(observation) => observation,
        };
        if start.elapsed() >= timeout {
            return Err(Timeout {
                what: what.to_owned(),
                waited: start.elapsed(),
                last: Some(last),
            });
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// [`wait_until`] for a plain boolean condition.
pub fn wait_for(
    timeout: Duration,
    what: &str,
    mut condition: impl FnMut() -> bool,
) -> Result<(), Timeout> {
    wait_until(timeout, what, || {
        if condition() {
            Ok(())
        } else {
            Err("false".to_owned())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_value_once_the_condition_holds() {
        let mut n = 0;
        let got = wait_until(Duration::from_secs(5), "n reaches 3", || {
            n += 1;
            if n >= 3 {
                Ok(n)
            } else {
                Err(format!("n={n}"))
            }
        });
        assert_eq!(got.unwrap(), 3);
    }

    #[test]
    fn reports_the_last_observation_on_timeout() {
        let err = wait_until::<()>(Duration::ZERO, "never", || Err("nope".into())).unwrap_err();
        assert_eq!(err.last.as_deref(), Some("nope"));
        assert!(err.to_string().contains("waiting for never"));
    }
}
