//! Median and range of repeated measurements.

use crate::json::Json;

/// Median, minimum and maximum of a set of samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub count: usize,
    /// The median (mean of the two middle samples for an even count).
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
}

impl Summary {
    /// The summary of `samples` (non-finite ones ignored); `None` if there are none.
    pub fn of(samples: impl IntoIterator<Item = f64>) -> Option<Summary> {
        let mut sorted: Vec<f64> = samples.into_iter().filter(|s| s.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let count = sorted.len();
        let (&min, &max) = (sorted.first()?, sorted.last()?);
        let median = if count % 2 == 1 {
            sorted[count / 2]
        } else {
            (sorted[count / 2 - 1] + sorted[count / 2]) / 2.0
        };
        Some(Summary {
            count,
            median,
            min,
            max,
        })
    }

    /// `median [min–max]`, rounded to whole units.
    pub fn cell(&self) -> String {
        format!("{:.0} [{:.0}–{:.0}]", self.median, self.min, self.max)
    }

    /// As a JSON object.
    pub fn json(&self) -> Json {
        Json::obj([
            ("n", Json::from(self.count as u64)),
            ("median", Json::from(self.median)),
            ("min", Json::from(self.min)),
            ("max", Json::from(self.max)),
        ])
    }
}

/// The `q` quantile (0..=1, nearest rank) of `samples` (non-finite ones ignored); `None` if
/// there are none.
pub fn quantile(samples: impl IntoIterator<Item = f64>, q: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = samples.into_iter().filter(|s| s.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.saturating_sub(1)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_range() {
        let odd = Summary::of([3.0, 1.0, 2.0]).unwrap();
        assert_eq!(
            (odd.median, odd.min, odd.max, odd.count),
            (2.0, 1.0, 3.0, 3)
        );
        let even = Summary::of([4.0, 1.0, 2.0, 3.0, f64::NAN]).unwrap();
        assert_eq!((even.median, even.count), (2.5, 4));
        assert_eq!(even.cell(), "2 [1–4]"); // 2.5 rounds half to even
        assert!(Summary::of([]).is_none());
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quantile(ten.iter().copied(), 0.9), Some(9.0));
        assert_eq!(quantile(ten.iter().copied(), 1.0), Some(10.0));
        assert_eq!(quantile([], 0.5), None);
    }
}
