//! Who does what. In: a scenario's classes and tasks. Out: each
//! closed-model user's class ([`Placement`]), and weighted picks of a task
//! or an open-model arrival's class ([`pick_task`]).
//!
//! Users with a `count` class come first; the rest follow the weighted
//! classes in smooth weighted round-robin order, as Locust places weighted
//! users, so that any number of users splits as evenly as the weights
//! allow (500 users at 6:2:2 are exactly 300, 100 and 100).

use rand::Rng;

use crate::scenario::{Scenario, Share};

/// Which class each closed-model user belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// (users so far, class) for the classes with a count, in order.
    fixed: Vec<(u32, usize)>,
    /// One cycle of the weighted classes, smooth weighted round-robin.
    cycle: Vec<usize>,
}

impl Placement {
    pub fn new(scenario: &Scenario) -> Self {
        let mut fixed = Vec::new();
        let mut total = 0u32;
        for (i, c) in scenario.classes.iter().enumerate() {
            if let Share::Count(n) = c.share {
                total += n;
                fixed.push((total, i));
            }
        }
        let weights: Vec<(usize, u64)> = scenario
            .classes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c.share {
                Share::Weight(w) if w > 0 => Some((i, u64::from(w))),
                _ => None,
            })
            .collect();
        Placement {
            fixed,
            cycle: smooth_round_robin(&weights),
        }
    }

    /// User `id`'s class (0-based id); `None` past the counted classes
    /// when no class has a weight.
    pub fn class_of(&self, id: u32) -> Option<usize> {
        if let Some(&(_, class)) = self.fixed.iter().find(|(end, _)| id < *end) {
            return Some(class);
        }
        let past = id - self.fixed.last().map_or(0, |(end, _)| *end);
        (!self.cycle.is_empty()).then(|| self.cycle[past as usize % self.cycle.len()])
    }
}

/// One cycle of smooth weighted round-robin (nginx's, which Locust uses to
/// place weighted users): weights 5 and 1 give A A A B A A. Weights are
/// reduced by their greatest common divisor first.
fn smooth_round_robin(weights: &[(usize, u64)]) -> Vec<usize> {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let g = weights.iter().fold(0, |g, (_, w)| gcd(g, *w)).max(1);
    let w: Vec<i64> = weights.iter().map(|(_, w)| (w / g) as i64).collect();
    let total: i64 = w.iter().sum();
    let mut current = vec![0i64; w.len()];
    (0..total)
        .map(|_| {
            for (c, w) in current.iter_mut().zip(&w) {
                *c += w;
            }
            let best = (0..current.len())
                .max_by_key(|&i| (current[i], std::cmp::Reverse(i)))
                .unwrap_or(0);
            current[best] -= total;
            weights[best].0
        })
        .collect()
}

/// Cumulative weights, for [`pick_task`].
pub fn cumulative(weights: impl IntoIterator<Item = u32>) -> Vec<u32> {
    weights
        .into_iter()
        .scan(0u32, |acc, w| {
            *acc += w;
            Some(*acc)
        })
        .collect()
}

/// Picks an index by weight from cumulative weights.
pub fn pick_task<R: Rng>(cumulative: &[u32], rng: &mut R) -> usize {
    let total = *cumulative.last().unwrap_or(&1);
    let x = rng.random_range(0..total.max(1));
    cumulative.partition_point(|&c| c <= x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(p: &Placement, users: u32, classes: usize) -> Vec<u32> {
        let mut n = vec![0; classes];
        for id in 0..users {
            if let Some(c) = p.class_of(id) {
                n[c] += 1;
            }
        }
        n
    }

    #[test]
    fn smooth_round_robin_interleaves_as_locust_does() {
        // Locust's docstring example: weights 5 and 1 give AAABAA.
        assert_eq!(smooth_round_robin(&[(0, 5), (1, 1)]), [0, 0, 0, 1, 0, 0]);
        // Reduced by the common divisor: 6:2:2 is a cycle of 5.
        assert_eq!(
            smooth_round_robin(&[(0, 6), (1, 2), (2, 2)]),
            [0, 1, 0, 2, 0]
        );
    }

    #[test]
    fn weighted_users_split_evenly_at_any_count_and_counted_ones_come_first() {
        let s = crate::scenario::Scenario::parse("t.toml", crate::scenario::OPS_SOURCE).unwrap();
        let p = Placement::new(&s);
        assert_eq!(counts(&p, 500, 3), [300, 100, 100]);
        assert_eq!(counts(&p, 750, 3), [450, 150, 150]);
        // Every prefix is within one user of its exact share.
        for users in 1..200u32 {
            let n = counts(&p, users, 3);
            let exact = [0.6, 0.2, 0.2].map(|f| f * f64::from(users));
            for (got, want) in n.iter().zip(exact) {
                assert!((f64::from(*got) - want).abs() <= 1.0, "{users}: {n:?}");
            }
        }

        let mut s = s;
        s.classes[2].share = Share::Count(3);
        let p = Placement::new(&s);
        assert_eq!(
            (0..3).map(|i| p.class_of(i)).collect::<Vec<_>>(),
            [Some(2); 3]
        );
        assert_eq!(counts(&p, 2, 3), [0, 0, 2]);
        assert_eq!(counts(&p, 403, 3), [300, 100, 3]);

        // Only counted classes: users past them have none.
        for c in &mut s.classes[..2] {
            c.share = Share::Count(1);
        }
        let p = Placement::new(&s);
        assert_eq!(p.class_of(5), None);
        assert_eq!(counts(&p, 10, 3), [1, 1, 3]);
    }
}
