//! Capacity-planning arithmetic, pure functions. In: the measured steps
//! of a capacity search (offered load, achieved throughput, mean latency,
//! p95). Out: the knee (where p95 starts to grow much faster than the
//! load) and a fit of the Universal Scalability Law (Gunther) for planning
//! beyond the measured steps, with a plain word on whether to trust it.
//!
//! The USL models throughput at concurrency N as
//! `X(N) = λN / (1 + σ(N − 1) + κN(N − 1))`: λ the throughput of one
//! client, σ contention (queueing on a shared resource), κ coherency
//! (crosstalk, which makes throughput fall past a peak at
//! `N* = sqrt((1 − σ) / κ)`). Concurrency comes from Little's law:
//! `N = X × mean latency`. The fit is linear least squares on the
//! rearranged form `N / X = a + b(N − 1) + cN(N − 1)` (`a = 1/λ`,
//! `b = σ/λ`, `c = κ/λ`), with σ and κ kept at or above 0 by dropping a
//! term that would go negative and refitting; its quality is R² of the
//! throughput it predicts against the throughput measured.

/// A measured point: concurrency (by Little's law) and throughput.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub concurrency: f64,
    pub throughput: f64,
}

impl Point {
    /// A point from a step's throughput (requests/s) and mean latency (ms).
    pub fn from_little(throughput: f64, mean_latency_ms: f64) -> Self {
        Self {
            concurrency: throughput * mean_latency_ms / 1000.0,
            throughput,
        }
    }
}

/// The fitted law and what it predicts, as records carry it.
pub use crate::record::capacity::UslRecord as UslFit;

/// The USL's throughput at concurrency `n`.
pub fn usl(lambda: f64, sigma: f64, kappa: f64, n: f64) -> f64 {
    lambda * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))
}

/// R² below which a fit is called poor.
pub const GOOD_FIT_R2: f64 = 0.9;

/// Fits the USL to `points` (at least 3 with positive concurrency and
/// throughput; fewer give `None`).
pub fn fit_usl(points: &[Point]) -> Option<UslFit> {
    let pts: Vec<Point> = points
        .iter()
        .copied()
        .filter(|p| p.concurrency > 0.0 && p.throughput > 0.0 && p.concurrency.is_finite())
        .collect();
    if pts.len() < 3 {
        return None;
    }
    // Columns: 1, N - 1, N(N - 1); target N / X. Drop a column whose
    // coefficient comes out negative, and refit.
    let mut use_b = true;
    let mut use_c = true;
    let (a, b, c) = loop {
        let coef = least_squares(&pts, use_b, use_c)?;
        let (a, b, c) = coef;
        if a <= 0.0 {
            return None;
        }
        if use_c && c < 0.0 {
            use_c = false;
        } else if use_b && b < 0.0 {
            use_b = false;
        } else {
            break coef;
        }
    };
    let lambda = 1.0 / a;
    let (sigma, kappa) = (b * lambda, c * lambda);
    let mean = pts.iter().map(|p| p.throughput).sum::<f64>() / pts.len() as f64;
    let ss_tot: f64 = pts.iter().map(|p| (p.throughput - mean).powi(2)).sum();
    let ss_res: f64 = pts
        .iter()
        .map(|p| (p.throughput - usl(lambda, sigma, kappa, p.concurrency)).powi(2))
        .sum();
    let r_squared = if ss_tot > 0.0 {
        1.0 - ss_res / ss_tot
    } else {
        0.0
    };
    let (peak_concurrency, peak_throughput) = if kappa > 0.0 && sigma < 1.0 {
        let n = ((1.0 - sigma) / kappa).sqrt();
        (Some(n), Some(usl(lambda, sigma, kappa, n)))
    } else if sigma > 0.0 {
        (None, Some(lambda / sigma))
    } else {
        (None, None)
    };
    let max_measured = pts.iter().map(|p| p.concurrency).fold(0.0, f64::max);
    let poor = if pts.len() < 4 {
        Some(format!(
            "only {} steps: too few to tell contention from coherency",
            pts.len()
        ))
    } else if r_squared < GOOD_FIT_R2 {
        Some(format!(
            "R² {r_squared:.2} is below {GOOD_FIT_R2}: the law does not describe these steps"
        ))
    } else if peak_concurrency.is_some_and(|n| n > 4.0 * max_measured) {
        Some(format!(
            "the predicted peak lies far beyond the measured steps (N {:.0} against at most {max_measured:.0} measured)",
            peak_concurrency.unwrap_or_default()
        ))
    } else {
        None
    };
    Some(UslFit {
        lambda,
        sigma,
        kappa,
        r_squared,
        peak_concurrency,
        peak_throughput,
        poor,
    })
}

/// Least squares for `N/X = a + b(N−1) + c·N(N−1)` with the chosen
/// columns (a dropped one is 0), by the normal equations.
fn least_squares(pts: &[Point], use_b: bool, use_c: bool) -> Option<(f64, f64, f64)> {
    let row = |p: &Point| {
        let n = p.concurrency;
        let mut x = vec![1.0];
        if use_b {
            x.push(n - 1.0);
        }
        if use_c {
            x.push(n * (n - 1.0));
        }
        (x, n / p.throughput)
    };
    let k = 1 + usize::from(use_b) + usize::from(use_c);
    let mut ata = vec![vec![0.0; k]; k];
    let mut atb = vec![0.0; k];
    for p in pts {
        let (x, y) = row(p);
        for i in 0..k {
            atb[i] += x[i] * y;
            for j in 0..k {
                ata[i][j] += x[i] * x[j];
            }
        }
    }
    let sol = solve(ata, atb)?;
    let mut it = sol.into_iter();
    let a = it.next()?;
    let b = if use_b { it.next()? } else { 0.0 };
    let c = if use_c { it.next()? } else { 0.0 };
    Some((a, b, c))
}

/// Gaussian elimination with partial pivoting; `None` when singular.
fn solve(mut m: Vec<Vec<f64>>, mut v: Vec<f64>) -> Option<Vec<f64>> {
    let n = v.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        let scale = m.iter().flatten().fold(0.0f64, |s, x| s.max(x.abs()));
        if m[pivot][col].abs() <= scale * 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        v.swap(col, pivot);
        for row in col + 1..n {
            let f = m[row][col] / m[col][col];
            let (upper, lower) = m.split_at_mut(row);
            for (x, p) in lower[0][col..].iter_mut().zip(&upper[col][col..]) {
                *x -= f * p;
            }
            v[row] -= f * v[col];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| m[i][k] * x[k]).sum();
        x[i] = (v[i] - s) / m[i][i];
    }
    x.iter().all(|x| x.is_finite()).then_some(x)
}

/// How much faster than the load p95 may grow between two steps before
/// the second is called the knee: p95's relative growth over the load's.
pub const KNEE_ELASTICITY: f64 = 3.0;

/// The index of the knee among steps given as `(load, p95_ms)` in order of
/// load: the first step whose p95 grew more than [`KNEE_ELASTICITY`] times
/// as fast as the load since the step before (relative growth), so a
/// flat-then-rising curve names the step where it turns. `None` when p95
/// grows no faster than the load anywhere.
pub fn knee(steps: &[(f64, f64)]) -> Option<usize> {
    steps.windows(2).enumerate().find_map(|(i, w)| {
        let ((l0, p0), (l1, p1)) = (w[0], w[1]);
        if l0 <= 0.0 || p0 <= 0.0 || l1 <= l0 {
            return None;
        }
        let load_growth = l1 / l0 - 1.0;
        let p95_growth = p1 / p0 - 1.0;
        (p95_growth > KNEE_ELASTICITY * load_growth).then_some(i + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-9)
    }

    #[test]
    fn the_fit_recovers_a_known_law_and_its_peak() {
        let (lambda, sigma, kappa) = (100.0, 0.05, 0.002);
        let points: Vec<Point> = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 48.0]
            .iter()
            .map(|&n| Point {
                concurrency: n,
                throughput: usl(lambda, sigma, kappa, n),
            })
            .collect();
        let fit = fit_usl(&points).unwrap();
        assert!(close(fit.lambda, lambda, 1e-6), "{fit:?}");
        assert!(close(fit.sigma, sigma, 1e-6), "{fit:?}");
        assert!(close(fit.kappa, kappa, 1e-6), "{fit:?}");
        assert!(fit.r_squared > 0.999_999);
        let n_star = ((1.0 - sigma) / kappa).sqrt();
        assert!(close(fit.peak_concurrency.unwrap(), n_star, 1e-6));
        assert!(close(
            fit.peak_throughput.unwrap(),
            usl(lambda, sigma, kappa, n_star),
            1e-6
        ));
        assert_eq!(fit.poor, None);
    }

    #[test]
    fn a_hard_ceiling_is_fitted_near_its_level_and_one_clients_rate() {
        // 4 servers of 50 ms each: X = min(20N, 80).
        let points: Vec<Point> = [1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0]
            .iter()
            .map(|&n| Point {
                concurrency: n,
                throughput: (20.0 * n).min(80.0),
            })
            .collect();
        let fit = fit_usl(&points).unwrap();
        // One client alone gets about 20/s, and throughput stops growing:
        // some contention or coherency, never a linear law.
        assert!(close(fit.lambda, 20.0, 0.15), "{fit:?}");
        assert!(fit.sigma + fit.kappa > 0.01, "{fit:?}");
        assert!(fit.r_squared > GOOD_FIT_R2, "{fit:?}");
        assert_eq!(fit.poor, None, "{fit:?}");
        // The highest throughput it predicts is near the ceiling of 80.
        let ceiling = fit.peak_throughput.unwrap();
        assert!((70.0..=95.0).contains(&ceiling), "{fit:?}");
        for p in &points {
            let predicted = usl(fit.lambda, fit.sigma, fit.kappa, p.concurrency);
            assert!(close(predicted, p.throughput, 0.2), "{p:?}: {predicted}");
        }
    }

    #[test]
    fn too_few_or_noisy_points_are_said_to_be_poor() {
        let three: Vec<Point> = [(1.0, 10.0), (2.0, 19.0), (3.0, 27.0)]
            .iter()
            .map(|&(n, x)| Point {
                concurrency: n,
                throughput: x,
            })
            .collect();
        assert!(fit_usl(&three).unwrap().poor.unwrap().contains("too few"));
        assert!(fit_usl(&three[..2]).is_none());
        let noisy: Vec<Point> = [
            (1.0, 50.0),
            (2.0, 10.0),
            (3.0, 60.0),
            (4.0, 12.0),
            (5.0, 55.0),
        ]
        .iter()
        .map(|&(n, x)| Point {
            concurrency: n,
            throughput: x,
        })
        .collect();
        let fit = fit_usl(&noisy).expect("five positive points fit");
        let poor = fit
            .poor
            .as_deref()
            .unwrap_or_else(|| panic!("called good: {fit:?}"));
        assert!(poor.contains("R²") && poor.contains("below 0.9"), "{poor}");
    }

    #[test]
    fn littles_law_gives_concurrency() {
        let p = Point::from_little(80.0, 50.0);
        assert!(close(p.concurrency, 4.0, 1e-12));
    }

    #[test]
    fn the_knee_is_where_p95_turns_upward() {
        // Flat p95 up to 80/s, then it climbs: the knee is the step at 90.
        let steps = [
            (20.0, 51.0),
            (40.0, 51.5),
            (60.0, 52.0),
            (80.0, 54.0),
            (90.0, 120.0),
            (100.0, 600.0),
        ];
        assert_eq!(knee(&steps), Some(4));
        // p95 growing in proportion to the load is no knee.
        let linear = [(10.0, 10.0), (20.0, 20.0), (40.0, 40.0)];
        assert_eq!(knee(&linear), None);
    }
}
