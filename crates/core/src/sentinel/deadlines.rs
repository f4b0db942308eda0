//! Per-master deadlines that fall between two timer runs (a failover attempt's start, a master
//! crossing down-after), so that reaching one runs that master's checks alone rather than a
//! timer run over every instance: in a mass failover hundreds of such deadlines fall within a
//! second, and a full run for each would make the work grow with the square of the fleet.

use crate::Millis;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Deadlines by master index, earliest first. An entry may be stale (its master's state moved
/// on): running a master's checks early is harmless, so stale entries are simply run.
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    heap: BinaryHeap<Reverse<(Millis, usize)>>,
}

impl Deadlines {
    /// Master `mi` has something due at `t`.
    pub(super) fn at(&mut self, t: Millis, mi: usize) {
        self.heap.push(Reverse((t, mi)));
    }

    /// The earliest deadline, if any.
    pub(super) fn next(&self) -> Option<Millis> {
        self.heap.peek().map(|Reverse((t, _))| *t)
    }

    /// Remove the deadlines due at `now` or before; returns their masters, each once, in
    /// index order.
    pub(super) fn take_due(&mut self, now: Millis) -> Vec<usize> {
        let mut due = Vec::new();
        while let Some(Reverse((t, mi))) = self.heap.peek().copied() {
            if t > now {
                break;
            }
            self.heap.pop();
            due.push(mi);
        }
        due.sort_unstable();
        due.dedup();
        due
    }

    /// Replace every deadline with `deadlines` (after a timer run computed them afresh, or
    /// after the master indexes changed).
    pub(super) fn reset(&mut self, deadlines: impl IntoIterator<Item = (Millis, usize)>) {
        self.heap = deadlines.into_iter().map(Reverse).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_masters_come_once_in_index_order() {
        let mut d = Deadlines::default();
        d.at(30, 2);
        d.at(10, 5);
        d.at(20, 2);
        d.at(40, 1);
        assert_eq!(d.next(), Some(10));
        assert_eq!(d.take_due(5), Vec::<usize>::new());
        assert_eq!(d.take_due(30), vec![2, 5]);
        assert_eq!(d.next(), Some(40));
        d.reset([(7, 3)]);
        assert_eq!(d.take_due(100), vec![3]);
        assert_eq!(d.next(), None);
    }
}
