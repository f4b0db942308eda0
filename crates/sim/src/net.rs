//! The network between hosts: which directions are cut, and how long a segment takes.
//!
//! Reachability is per *direction* so that one-way partitions can be expressed; overlapping
//! faults are counted, so a direction is open again only when every fault cutting it is over.

use crate::scenario::NetParams;
use rand::rngs::SmallRng;
use rand::Rng;

/// Host-level reachability and latency.
#[derive(Debug)]
pub struct Net {
    params: NetParams,
    /// `cuts[from][to]`: number of active faults dropping segments from `from` to `to`.
    cuts: Vec<Vec<u32>>,
    /// Extra one-way latency per host from active `Slow` faults.
    slow: Vec<u64>,
}

impl Net {
    /// A fully connected network of `hosts` hosts.
    pub fn new(hosts: usize, params: NetParams) -> Net {
        Net {
            params,
            cuts: vec![vec![0; hosts]; hosts],
            slow: vec![0; hosts],
        }
    }

    /// The scenario's network parameters.
    pub fn params(&self) -> &NetParams {
        &self.params
    }

    /// Whether a segment sent now from `from` reaches `to`.
    pub fn open(&self, from: usize, to: usize) -> bool {
        from == to || self.cuts[from][to] == 0
    }

    /// Whether both directions between `a` and `b` are open (needed for a TCP handshake).
    pub fn open_both(&self, a: usize, b: usize) -> bool {
        self.open(a, b) && self.open(b, a)
    }

    /// Start (`cut = true`) or end one fault dropping every segment from `from` to `to`.
    pub fn cut(&mut self, from: &[usize], to: &[usize], cut: bool) {
        for &f in from {
            for &t in to {
                if f == t {
                    continue;
                }
                let count = &mut self.cuts[f][t];
                *count = if cut {
                    *count + 1
                } else {
                    count.saturating_sub(1)
                };
            }
        }
    }

    /// Add (or remove, with a negative sign) extra latency on a host.
    pub fn slow(&mut self, host: usize, extra_ms: u64, on: bool) {
        let slot = &mut self.slow[host];
        *slot = if on {
            *slot + extra_ms
        } else {
            slot.saturating_sub(extra_ms)
        };
    }

    /// One-way latency for a segment sent now from `from` to `to`.
    pub fn latency(&self, from: usize, to: usize, rng: &mut SmallRng) -> u64 {
        let jitter = rng.gen_range(0..=self.params.jitter_ms);
        if from == to {
            return jitter / 4;
        }
        self.params.base_latency_ms + jitter + self.slow[from] + self.slow[to]
    }

    /// Whether this segment breaks its connection instead of arriving (models loss that TCP
    /// cannot repair: a reset or a dead path).
    pub fn breaks(&self, rng: &mut SmallRng) -> bool {
        self.params.break_per_million > 0
            && rng.gen_range(0..1_000_000) < self.params.break_per_million
    }

    /// Whether a pub/sub delivery is repeated later.
    pub fn duplicates(&self, rng: &mut SmallRng) -> bool {
        self.params.dup_per_million > 0 && rng.gen_range(0..1_000_000) < self.params.dup_per_million
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> NetParams {
        NetParams {
            base_latency_ms: 1,
            jitter_ms: 0,
            break_per_million: 0,
            dup_per_million: 0,
            tcp_user_timeout_ms: 10_000,
        }
    }

    #[test]
    fn one_way_cut_and_overlap() {
        let mut net = Net::new(3, params());
        net.cut(&[0], &[1, 2], true);
        assert!(!net.open(0, 1));
        assert!(net.open(1, 0));
        assert!(!net.open_both(0, 2));
        net.cut(&[0, 1], &[2], true);
        net.cut(&[0], &[1, 2], false);
        assert!(net.open(0, 1));
        assert!(!net.open(0, 2), "second fault still cuts 0->2");
        net.cut(&[0, 1], &[2], false);
        assert!(net.open_both(0, 2));
    }
}
