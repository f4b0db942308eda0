//! Where an address is configured, sampled over time in several namespaces at once.
//!
//! [`VipWatch::start`] runs one thread per watched node; each enters the node's namespace and
//! lists its addresses (`getifaddrs`, a netlink dump: no process is started, so sampling every
//! few milliseconds stays cheap) until stopped. [`VipWatch::stop`] returns a [`Holdings`]:
//! per node, the intervals during which the address was present.

use std::io;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::netns::TestBed;

/// Whether `addr` is assigned to an interface of the calling thread's network namespace.
pub fn has_addr(addr: Ipv4Addr) -> io::Result<bool> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list that is only read here and freed exactly once
    // below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut found = false;
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, not yet freed; an IPv4
        // `ifa_addr` points to a sockaddr_in.
        unsafe {
            let sa = (*cur).ifa_addr;
            if !sa.is_null() && i32::from((*sa).sa_family) == libc::AF_INET {
                let sin = &*(sa as *const libc::sockaddr_in);
                if Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)) == addr {
                    found = true;
                }
            }
            cur = (*cur).ifa_next;
        }
    }
    // SAFETY: `head` came from a successful getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(found)
}

/// Background samplers of one address in several nodes. See the module documentation.
pub struct VipWatch {
    start: Instant,
    stop: Arc<AtomicBool>,
    threads: Vec<(usize, Sampler)>,
}

/// A sampler thread: the outer result is entering the namespace, the inner one sampling.
type Sampler = JoinHandle<io::Result<io::Result<Vec<Sample>>>>;

/// One observation: at `at`, the address was (or was not) present.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    present: bool,
}

impl VipWatch {
    /// Starts sampling `addr` every `period` in each of `nodes` of `bed`; returns once every
    /// node has been sampled once (so the samples cover everything that happens afterwards).
    pub fn start(bed: &TestBed, nodes: &[usize], addr: Ipv4Addr, period: Duration) -> VipWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let (first_tx, first_rx) = mpsc::channel::<()>();
        let threads = nodes
            .iter()
            .map(|&i| {
                let (stop, first) = (stop.clone(), first_tx.clone());
                let handle = bed.spawn_in(i, move || -> io::Result<Vec<Sample>> {
                    let mut samples = Vec::new();
                    loop {
                        let done = stop.load(Ordering::Relaxed);
                        let present = has_addr(addr)?;
                        samples.push(Sample {
                            at: Instant::now(),
                            present,
                        });
                        if samples.len() == 1 {
                            let _ = first.send(());
                        }
                        if done {
                            return Ok(samples);
                        }
                        std::thread::sleep(period);
                    }
                });
                (i, handle)
            })
            .collect();
        drop(first_tx);
        // One message per sampler that got going (a sampler that failed to enter its
        // namespace drops its sender instead; stop() reports its error).
        for _ in nodes {
            if first_rx.recv().is_err() {
                break;
            }
        }
        VipWatch {
            start: Instant::now(),
            stop,
            threads,
        }
    }

    /// Stops sampling (after one last sample per node) and returns what was seen.
    pub fn stop(mut self) -> io::Result<Holdings> {
        self.stop.store(true, Ordering::Relaxed);
        let mut nodes = Vec::new();
        for (i, handle) in std::mem::take(&mut self.threads) {
            let samples = handle
                .join()
                .map_err(|_| io::Error::other("sampler thread panicked"))???;
            nodes.push(NodeHoldings {
                node: i,
                spans: intervals(&samples),
                present_at_end: samples.last().is_some_and(|s| s.present),
            });
        }
        Ok(Holdings {
            start: self.start,
            nodes,
        })
    }
}

impl Drop for VipWatch {
    /// A watch dropped without [`VipWatch::stop`] (a failing test) still ends its threads.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Turns samples into presence intervals `[from, to)`: from the first sample that saw the
/// address to the first that did not (or the last sample, if it was still there).
fn intervals(samples: &[Sample]) -> Vec<(Instant, Instant)> {
    let mut out = Vec::new();
    let mut since = None;
    for s in samples {
        match (since, s.present) {
            (None, true) => since = Some(s.at),
            (Some(from), false) => {
                out.push((from, s.at));
                since = None;
            }
            _ => {}
        }
    }
    if let (Some(from), Some(last)) = (since, samples.last()) {
        out.push((from, last.at));
    }
    out
}

/// What a [`VipWatch`] saw: per node, the intervals during which the address was present.
#[derive(Debug, Clone)]
pub struct Holdings {
    start: Instant,
    nodes: Vec<NodeHoldings>,
}

/// The presence intervals of one node.
#[derive(Debug, Clone)]
struct NodeHoldings {
    node: usize,
    spans: Vec<(Instant, Instant)>,
    /// The last interval was still open at the last sample (it ends there).
    present_at_end: bool,
}

impl Holdings {
    /// The presence intervals of node `i` (empty if it was not watched).
    pub fn intervals(&self, i: usize) -> &[(Instant, Instant)] {
        self.nodes
            .iter()
            .find(|n| n.node == i)
            .map_or(&[], |n| n.spans.as_slice())
    }

    /// The first time after `t` node `i` was seen with the address (`t` itself if it had it
    /// then and still had it at the next sample).
    pub fn first_held_after(&self, i: usize, t: Instant) -> Option<Instant> {
        self.intervals(i)
            .iter()
            .find(|(from, to)| *to > t || (*from >= t && from == to))
            .map(|(from, _)| (*from).max(t))
    }

    /// The first time at or after `t` node `i` was seen without the address (`t` itself if it
    /// did not have it then); `None` if it still had it at the last sample.
    pub fn first_absent_after(&self, i: usize, t: Instant) -> Option<Instant> {
        let spans = self.intervals(i);
        if self.present_at_end(i) && spans.last().is_some_and(|(from, _)| *from <= t) {
            return None;
        }
        Some(
            spans
                .iter()
                .find(|(from, to)| *from <= t && t < *to)
                .map_or(t, |(_, to)| *to),
        )
    }

    /// Whether node `i` had the address at the last sample.
    pub fn present_at_end(&self, i: usize) -> bool {
        self.nodes.iter().any(|n| n.node == i && n.present_at_end)
    }

    /// The longest stretch, from `since` on, during which two or more of `nodes` had the
    /// address at once.
    pub fn longest_overlap(&self, nodes: &[usize], since: Instant) -> Duration {
        // Sweep over interval edges, counting how many nodes hold at each moment.
        let mut edges: Vec<(Instant, i32)> = nodes
            .iter()
            .flat_map(|&i| self.intervals(i).iter())
            .filter(|&&(_, to)| to > since)
            .flat_map(|&(from, to)| [(from.max(since), 1), (to, -1)])
            .collect();
        edges.sort_by_key(|&(at, delta)| (at, delta));
        let (mut holders, mut since, mut longest) = (0, None::<Instant>, Duration::ZERO);
        for (at, delta) in edges {
            holders += delta;
            match (holders >= 2, since) {
                (true, None) => since = Some(at),
                (false, Some(from)) => {
                    longest = longest.max(at - from);
                    since = None;
                }
                _ => {}
            }
        }
        longest
    }

    /// A readable summary: each node's intervals in ms since the watch started.
    pub fn describe(&self) -> String {
        let ms = |t: Instant| t.saturating_duration_since(self.start).as_millis();
        self.nodes
            .iter()
            .map(|n| {
                let spans: Vec<String> = n
                    .spans
                    .iter()
                    .map(|&(f, t)| format!("{}..{}", ms(f), ms(t)))
                    .collect();
                format!("node {}: [{}]", n.node, spans.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_an_address_of_this_namespace() {
        assert!(has_addr(Ipv4Addr::LOCALHOST).unwrap());
        assert!(!has_addr(Ipv4Addr::new(192, 0, 2, 1)).unwrap());
    }

    fn holdings(nodes: Vec<(usize, Vec<(u64, u64)>)>) -> Holdings {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        Holdings {
            start,
            nodes: nodes
                .into_iter()
                .map(|(node, v)| NodeHoldings {
                    node,
                    spans: v.into_iter().map(|(f, t)| (at(f), at(t))).collect(),
                    present_at_end: false,
                })
                .collect(),
        }
    }

    #[test]
    fn intervals_from_samples() {
        let t0 = Instant::now();
        let s = |ms: u64, present| Sample {
            at: t0 + Duration::from_millis(ms),
            present,
        };
        let got = intervals(&[
            s(0, false),
            s(10, true),
            s(20, true),
            s(30, false),
            s(40, true),
        ]);
        let ms: Vec<(u128, u128)> = got
            .iter()
            .map(|(f, t)| ((*f - t0).as_millis(), (*t - t0).as_millis()))
            .collect();
        assert_eq!(ms, [(10, 30), (40, 40)]);
    }

    #[test]
    fn longest_overlap_of_two_or_more() {
        let h = holdings(vec![
            (0, vec![(0, 100), (500, 600)]),
            (1, vec![(80, 300)]),
            (2, vec![(550, 700)]),
        ]);
        let t0 = h.start;
        assert_eq!(h.longest_overlap(&[0, 1, 2], t0), Duration::from_millis(50));
        assert_eq!(h.longest_overlap(&[0, 1], t0), Duration::from_millis(20));
        assert_eq!(h.longest_overlap(&[1, 2], t0), Duration::ZERO);
        let later = t0 + Duration::from_millis(560);
        assert_eq!(
            h.longest_overlap(&[0, 1, 2], later),
            Duration::from_millis(40)
        );
    }
}
