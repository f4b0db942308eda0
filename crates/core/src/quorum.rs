//! Vote arithmetic, kept apart so its rules can be read (and table-tested) on their own.
//!
//! Redis Sentinel's rules: a master is objectively down when `1 + peers reporting it down`
//! reaches the configured quorum; a leader needs a strict majority of *all known* sentinels
//! (dead ones included, plus itself) **and** at least `quorum` votes.

/// Votes needed for a strict majority of `voters`.
pub fn majority(voters: usize) -> usize {
    voters / 2 + 1
}

/// Whether `votes` elect a leader among `voters` sentinels with the master's `quorum`.
pub fn wins_election(votes: usize, voters: usize, quorum: u32) -> bool {
    votes >= majority(voters) && votes >= quorum as usize
}

/// Whether `agreeing` sentinels (self included) reach `quorum` for objective down.
pub fn reaches_odown(agreeing: usize, quorum: u32) -> bool {
    agreeing >= quorum as usize
}

/// Tally of votes per candidate run id, in the order candidates were first seen (so a tie is
/// won by the first candidate counted, as in Redis Sentinel's dictionary walk).
#[derive(Debug, Default)]
pub struct Tally {
    counts: Vec<(String, usize)>,
}

impl Tally {
    /// Count one vote for `candidate`; returns its new total.
    pub fn add(&mut self, candidate: &str) -> usize {
        if let Some(entry) = self.counts.iter_mut().find(|(c, _)| c == candidate) {
            entry.1 += 1;
            return entry.1;
        }
        self.counts.push((candidate.to_string(), 1));
        1
    }

    /// The candidate with the most votes (first seen wins ties) and its count.
    pub fn leader(&self) -> Option<(&str, usize)> {
        let mut best: Option<(&str, usize)> = None;
        for (candidate, votes) in &self.counts {
            if best.is_none_or(|(_, max)| *votes > max) {
                best = Some((candidate, *votes));
            }
        }
        best
    }

    /// Where the election stands among `voters` sentinels with the master's `quorum`, when
    /// `undecided` more voters may still vote: won by the leading candidate once its votes
    /// reach both; lost when some votes were cast and not even all the undecided ones going to
    /// the leading candidate would get it there (a split vote, to be retried); else pending.
    pub fn outcome(&self, undecided: usize, voters: usize, quorum: u32) -> Outcome<&str> {
        match self.leader() {
            Some((leader, votes)) if wins_election(votes, voters, quorum) => Outcome::Won(leader),
            Some((_, votes)) if !wins_election(votes + undecided, voters, quorum) => Outcome::Lost,
            _ => Outcome::Pending,
        }
    }
}

/// Where an election stands (see [`Tally::outcome`]); `L` names the winner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<L> {
    /// This candidate has the votes.
    Won(L),
    /// Not decided yet: votes may still come.
    Pending,
    /// No candidate can win any more.
    Lost,
}

impl Outcome<&str> {
    /// The same outcome, owning the winner's name.
    pub fn to_owned(self) -> Outcome<String> {
        match self {
            Outcome::Won(leader) => Outcome::Won(leader.to_string()),
            Outcome::Pending => Outcome::Pending,
            Outcome::Lost => Outcome::Lost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_table() {
        for (voters, needed) in [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4), (7, 4)] {
            assert_eq!(majority(voters), needed, "voters={voters}");
        }
    }

    #[test]
    fn election_table() {
        // (votes, voters, quorum, wins)
        let table = [
            (2, 3, 2, true),
            (1, 3, 1, false), // quorum 1 but no majority
            (2, 3, 3, false), // majority but below quorum
            (3, 5, 2, true),
            (2, 5, 2, false),
            (3, 5, 4, false),
            (5, 5, 5, true),
            (1, 1, 1, true),
            (2, 4, 1, false),
        ];
        for (votes, voters, quorum, wins) in table {
            assert_eq!(
                wins_election(votes, voters, quorum),
                wins,
                "{votes}/{voters} q{quorum}"
            );
        }
    }

    #[test]
    fn odown_table() {
        assert!(reaches_odown(2, 2));
        assert!(!reaches_odown(1, 2));
        assert!(reaches_odown(3, 2));
    }

    #[test]
    fn outcome_table() {
        // (votes for the leading candidate, for another, undecided, voters, quorum, outcome)
        let table = [
            (2, 0, 1, 3, 2, Outcome::Won("a")),
            (1, 0, 2, 3, 2, Outcome::Pending),
            (1, 1, 1, 3, 2, Outcome::Pending),
            (1, 1, 0, 3, 2, Outcome::Lost),
            (1, 1, 1, 5, 2, Outcome::Lost), // 2 of 5 at most: no majority
            (0, 0, 3, 3, 2, Outcome::Pending),
            (2, 0, 3, 5, 3, Outcome::Pending), // majority needs 3, quorum 3
            (3, 0, 0, 5, 4, Outcome::Lost),    // majority, but the quorum is out of reach
        ];
        for (a, b, undecided, voters, quorum, expected) in table {
            let mut t = Tally::default();
            for _ in 0..a {
                t.add("a");
            }
            for _ in 0..b {
                t.add("b");
            }
            assert_eq!(
                t.outcome(undecided, voters, quorum),
                expected,
                "{a}+{b} votes, {undecided} undecided, {voters} voters, quorum {quorum}"
            );
        }
    }

    #[test]
    fn tally_prefers_first_seen_on_tie() {
        let mut t = Tally::default();
        t.add("b");
        t.add("a");
        assert_eq!(t.leader(), Some(("b", 1)));
        assert_eq!(t.add("a"), 2);
        assert_eq!(t.leader(), Some(("a", 2)));
        assert_eq!(Tally::default().leader(), None);
    }
}
