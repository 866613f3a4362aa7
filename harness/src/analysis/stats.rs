//! Statistics. In: short series of runs, or recorded distributions. Out:
//! Mann-Kendall trend test (exact for small untied series), Sen's slope,
//! a robust noise estimate, binary-segmentation change points with a seeded
//! permutation test, and the two-sample Kolmogorov-Smirnov test on
//! histograms. Pure functions; no I/O.

use hdrhistogram::Histogram;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Result of the Mann-Kendall test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    pub s: i64,
    /// Two-sided p-value.
    pub p_value: f64,
}

fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Complementary error function (Numerical Recipes' erfcc, |error| < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Counts of permutations of `n` by number of inversions (Mahonian numbers).
fn mahonian(n: usize) -> Vec<f64> {
    let mut dist = vec![1.0];
    for k in 1..n {
        let mut next = vec![0.0; dist.len() + k];
        for (inv, &c) in dist.iter().enumerate() {
            for add in 0..=k {
                next[inv + add] += c;
            }
        }
        dist = next;
    }
    dist
}

/// Mann-Kendall trend test. Exact p-value for n <= 30 without ties; the
/// normal approximation with continuity and tie corrections otherwise.
pub fn mann_kendall(x: &[f64]) -> MannKendall {
    let n = x.len();
    if n < 3 {
        return MannKendall { s: 0, p_value: 1.0 };
    }
    let mut s = 0i64;
    for i in 0..n {
        for j in i + 1..n {
            s += (x[j] - x[i]).partial_cmp(&0.0).map_or(0, |o| o as i64);
        }
    }
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut ties = Vec::new();
    let mut run = 1;
    for w in sorted.windows(2) {
        if w[0] == w[1] {
            run += 1;
        } else {
            if run > 1 {
                ties.push(run);
            }
            run = 1;
        }
    }
    if run > 1 {
        ties.push(run);
    }
    let p_value = if ties.is_empty() && n <= 30 {
        // S = pairs - 2 * inversions; P(|S| >= |s|) from the exact distribution.
        let dist = mahonian(n);
        let total: f64 = dist.iter().sum();
        let pairs = (n * (n - 1) / 2) as i64;
        let tail: f64 = dist
            .iter()
            .enumerate()
            .filter(|(inv, _)| (pairs - 2 * *inv as i64).abs() >= s.abs())
            .map(|(_, c)| c)
            .sum();
        (tail / total).min(1.0)
    } else {
        let nf = n as f64;
        let tie_term: f64 = ties
            .iter()
            .map(|&t| {
                let t = t as f64;
                t * (t - 1.0) * (2.0 * t + 5.0)
            })
            .sum();
        let var = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - tie_term) / 18.0;
        if var <= 0.0 {
            1.0
        } else {
            let z = if s > 0 {
                (s - 1) as f64
            } else if s < 0 {
                (s + 1) as f64
            } else {
                0.0
            } / var.sqrt();
            (2.0 * (1.0 - normal_cdf(z.abs()))).min(1.0)
        }
    };
    MannKendall { s, p_value }
}

/// Sen's slope (median of pairwise slopes, per run) and its intercept
/// (median of `x[i] - slope * i`), so that the fitted value at run `i` is
/// `intercept + slope * i`.
pub fn sen_slope(x: &[f64]) -> (f64, f64) {
    sen_over(x, 1)
}

/// Sen's slope for long series: pairwise slopes over every `stride`-th run,
/// so the cost stays near 2,000 x 2,000 pairs whatever the length.
pub fn sen_slope_fast(x: &[f64]) -> (f64, f64) {
    sen_over(x, x.len().div_ceil(2000).max(1))
}

fn sen_over(x: &[f64], stride: usize) -> (f64, f64) {
    if x.len() < 2 {
        return (0.0, x.first().copied().unwrap_or(0.0));
    }
    let idx: Vec<usize> = (0..x.len()).step_by(stride).collect();
    let mut slopes = Vec::with_capacity(idx.len() * idx.len() / 2);
    for (a, &i) in idx.iter().enumerate() {
        for &j in &idx[a + 1..] {
            slopes.push((x[j] - x[i]) / (j - i) as f64);
        }
    }
    let slope = median(&mut slopes);
    let mut intercepts: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| v - slope * i as f64)
        .collect();
    (slope, median(&mut intercepts))
}

pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Run-to-run noise as a standard deviation, from successive differences
/// after removing the fitted slope (robust to a trend and to a few steps):
/// 1.4826 x median |d - slope| / sqrt(2). `None` with fewer than 4 runs.
pub fn noise_sd(x: &[f64], slope: f64) -> Option<f64> {
    if x.len() < 4 {
        return None;
    }
    let mut d: Vec<f64> = x.windows(2).map(|w| (w[1] - w[0] - slope).abs()).collect();
    Some(1.4826 * median(&mut d) / std::f64::consts::SQRT_2)
}

/// A shift in level found in a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangePoint {
    /// Index (0-based) of the first run after the shift.
    pub index: usize,
    pub before: f64,
    pub after: f64,
    pub p_value: f64,
}

fn best_split(x: &[f64], min_seg: usize) -> Option<(usize, f64)> {
    let n = x.len();
    if n < 2 * min_seg {
        return None;
    }
    let mut prefix = vec![0.0; n + 1];
    let mut prefix2 = vec![0.0; n + 1];
    for (i, v) in x.iter().enumerate() {
        prefix[i + 1] = prefix[i] + v;
        prefix2[i + 1] = prefix2[i] + v * v;
    }
    let mut best: Option<(usize, f64)> = None;
    for k in min_seg..=n - min_seg {
        let (m, r) = (k as f64, (n - k) as f64);
        let (ml, mr) = (prefix[k] / m, (prefix[n] - prefix[k]) / r);
        let ssl = prefix2[k] - m * ml * ml;
        let ssr = (prefix2[n] - prefix2[k]) - r * mr * mr;
        let pooled = ((ssl + ssr).max(0.0) / (m + r - 2.0).max(1.0)).sqrt();
        let t = (mr - ml).abs() / (pooled.max(1e-12) * (1.0 / m + 1.0 / r).sqrt());
        if best.is_none_or(|(_, bt)| t > bt) {
            best = Some((k, t));
        }
    }
    best
}

/// Change points by binary segmentation: the split with the largest
/// two-sample t statistic, kept when a permutation test (seeded, 199
/// shuffles) gives p < `alpha`, then each side searched again.
pub fn change_points(x: &[f64], alpha: f64, seed: u64) -> Vec<ChangePoint> {
    let mut found = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    segment(x, 0, alpha, &mut rng, &mut found, 0);
    found.sort_by_key(|c| c.index);
    found
}

fn segment(
    x: &[f64],
    offset: usize,
    alpha: f64,
    rng: &mut ChaCha8Rng,
    out: &mut Vec<ChangePoint>,
    depth: usize,
) {
    const MIN_SEG: usize = 3;
    const PERMUTATIONS: usize = 199;
    if depth > 8 {
        return;
    }
    let Some((k, t)) = best_split(x, MIN_SEG) else {
        return;
    };
    if !t.is_finite() {
        return;
    }
    let mut shuffled = x.to_vec();
    let mut as_extreme = 0;
    for _ in 0..PERMUTATIONS {
        shuffled.shuffle(rng);
        if best_split(&shuffled, MIN_SEG).is_some_and(|(_, pt)| pt >= t) {
            as_extreme += 1;
        }
    }
    let p_value = (as_extreme + 1) as f64 / (PERMUTATIONS + 1) as f64;
    if p_value >= alpha {
        return;
    }
    let before = x[..k].iter().sum::<f64>() / k as f64;
    let after = x[k..].iter().sum::<f64>() / (x.len() - k) as f64;
    out.push(ChangePoint {
        index: offset + k,
        before,
        after,
        p_value,
    });
    segment(&x[..k], offset, alpha, rng, out, depth + 1);
    segment(&x[k..], offset + k, alpha, rng, out, depth + 1);
}

/// Two-sample Kolmogorov-Smirnov on two histograms: (D, asymptotic p-value).
pub fn ks_histograms(a: &Histogram<u64>, b: &Histogram<u64>) -> (f64, f64) {
    let (n, m) = (a.len() as f64, b.len() as f64);
    if n == 0.0 || m == 0.0 {
        return (0.0, 1.0);
    }
    let mut values: Vec<u64> = a
        .iter_recorded()
        .map(|v| v.value_iterated_to())
        .chain(b.iter_recorded().map(|v| v.value_iterated_to()))
        .collect();
    values.sort_unstable();
    values.dedup();
    let mut d: f64 = 0.0;
    for v in values {
        let fa = a.count_between(0, v) as f64 / n;
        let fb = b.count_between(0, v) as f64 / m;
        d = d.max((fa - fb).abs());
    }
    let en = (n * m / (n + m)).sqrt();
    let lambda = (en + 0.12 + 0.11 / en) * d;
    if lambda < 0.2 {
        // The series below does not converge there; Q(0.2) is 1 to 12 digits.
        return (d, 1.0);
    }
    // Kolmogorov distribution tail.
    let mut p = 0.0;
    for j in 1..=100 {
        let j = j as f64;
        p += 2.0 * (-1f64).powf(j - 1.0) * (-2.0 * j * j * lambda * lambda).exp();
    }
    (d, p.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mann_kendall_on_the_seed_documents_p95() {
        let mk = mann_kendall(&[450.0, 460.0, 520.0, 600.0, 750.0]);
        assert_eq!(mk.s, 10);
        assert!((mk.p_value - 2.0 / 120.0).abs() < 1e-9, "{}", mk.p_value);
        let (slope, intercept) = sen_slope(&[450.0, 460.0, 520.0, 600.0, 750.0]);
        assert_eq!(slope, 72.5);
        assert_eq!(intercept, 387.5);
    }

    #[test]
    fn exact_and_approximate_mann_kendall_agree_roughly() {
        let x: Vec<f64> = (0..30)
            .map(|i| (i as f64 * 0.7).sin() + i as f64 * 0.05)
            .collect();
        let exact = mann_kendall(&x).p_value;
        let mut tied = x.clone();
        tied[0] = tied[1];
        let approx = mann_kendall(&tied).p_value;
        assert!((exact - approx).abs() < 0.1, "{exact} vs {approx}");
    }

    #[test]
    fn a_step_is_found_where_it_is() {
        let mut x: Vec<f64> = (0..20).map(|i| 100.0 + (i % 3) as f64).collect();
        for v in &mut x[10..] {
            *v *= 1.2;
        }
        let cps = change_points(&x, 0.01, 1);
        assert_eq!(cps.len(), 1, "{cps:?}");
        assert_eq!(cps[0].index, 10);
    }

    #[test]
    fn ks_sees_a_shift_and_not_a_copy() {
        let mut a = crate::histogram::new_histogram();
        let mut b = crate::histogram::new_histogram();
        for i in 0..2000u64 {
            a.record(1000 + i).unwrap();
            b.record(1300 + i).unwrap();
        }
        let (d, p) = ks_histograms(&a, &b);
        assert!(d > 0.1 && p < 1e-6, "{d} {p}");
        let (d, p) = ks_histograms(&a, &a);
        assert!(d == 0.0 && p > 0.99);
    }
}
