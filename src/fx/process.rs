//! Mid-rate processes: each currency's rate per USD on a fixed tick, by regime, with drift,
//! volatility, compound-Poisson jumps and a correlation across currencies (Cholesky).
//!
//! The whole path is simulated once per replication, before any payment: it is small
//! (ticks × currencies) and every rail and variant then reads the same path (common random
//! numbers).

use rand::RngExt;
use rand_distr::StandardNormal;
use rust_decimal::Decimal;

use crate::engine::{Time, YEAR_S};
use crate::money::CurrencyId;

/// How a currency's rate per USD behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regime {
    /// Geometric Brownian motion with drift, plus jumps.
    Float,
    /// A managed depreciation: the same law as `Float`, calibrated with steady drift and low
    /// volatility; kept as its own label so scenarios say what they mean.
    Crawl,
    /// A fixed level; noise stays inside ±`band_pct`; a jump is a peg break that moves the level.
    Peg,
}

/// One currency's rate process (annualised figures; jumps in fractions of the rate).
#[derive(Debug, Clone, PartialEq)]
pub struct CurrencyProcess {
    pub regime: Regime,
    /// Opening mid, units of the currency per USD.
    pub mid0_per_usd: f64,
    /// Annual drift of the log rate (+0.17 = the currency loses about 17 % a year).
    pub drift_pa: f64,
    /// Annual volatility of the log rate.
    pub vol_pa: f64,
    /// Expected jumps per year.
    pub jump_rate_pa: f64,
    /// Mean and standard deviation of a jump, as a fraction of the rate (+0.25 = 25 % weaker).
    pub jump_mean: f64,
    pub jump_sd: f64,
    /// Peg band half-width, as a fraction of the level (Peg only).
    pub band_pct: f64,
}

/// A scheduled one-off change of a rate (a devaluation shock), applied at the first tick at or
/// after `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledJump {
    pub currency: CurrencyId,
    pub at: Time,
    /// Fractional change of the rate per USD (+0.2 = the currency loses 20 %).
    pub size: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FxError {
    #[error(
        "the correlation matrix is {rows}×{cols}; it must be {n}×{n} (one row per non-USD currency)"
    )]
    Shape { rows: usize, cols: usize, n: usize },
    #[error("the correlation matrix is not symmetric at ({0}, {1})")]
    NotSymmetric(usize, usize),
    #[error(
        "the correlation matrix has {value} at ({i}, {j}); entries must lie in [-1, 1] with 1 on the diagonal"
    )]
    Entry { i: usize, j: usize, value: f64 },
    #[error(
        "the correlation matrix is not positive semi-definite (pivot {pivot:.3e} at row {row})"
    )]
    NotPsd { row: usize, pivot: f64 },
}

/// Lower-triangular Cholesky factor of a correlation matrix, accepting positive
/// *semi*-definite matrices (a zero pivot zeroes its column) and rejecting anything else.
pub fn cholesky(corr: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, FxError> {
    let n = corr.len();
    for (i, row) in corr.iter().enumerate() {
        if row.len() != n {
            return Err(FxError::Shape {
                rows: n,
                cols: row.len(),
                n,
            });
        }
        for (j, &v) in row.iter().enumerate() {
            let diag_ok = i != j || (v - 1.0).abs() < 1e-12;
            if !v.is_finite() || !(-1.0..=1.0).contains(&v) || !diag_ok {
                return Err(FxError::Entry { i, j, value: v });
            }
            if (v - corr[j][i]).abs() > 1e-12 {
                return Err(FxError::NotSymmetric(i, j));
            }
        }
    }
    const TOL: f64 = 1e-10;
    let mut l = vec![vec![0.0; n]; n];
    for j in 0..n {
        let pivot = corr[j][j] - (0..j).map(|k| l[j][k] * l[j][k]).sum::<f64>();
        if pivot < -TOL {
            return Err(FxError::NotPsd { row: j, pivot });
        }
        let d = pivot.max(0.0).sqrt();
        l[j][j] = d;
        for i in j + 1..n {
            let s = corr[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            l[i][j] = if d > TOL {
                s / d
            } else if s.abs() > 1e-8 {
                // A zero pivot with a non-zero remainder: no real factor exists.
                return Err(FxError::NotPsd { row: j, pivot });
            } else {
                0.0
            };
        }
    }
    Ok(l)
}

/// The simulated mids: one row per tick, one column per currency (USD = 1 in column 0).
#[derive(Debug, Clone)]
pub struct FxPath {
    tick_s: Time,
    n_ccy: usize,
    n_ticks: usize,
    mids: Vec<Decimal>,
    /// USD per unit of each currency (1 / mid) to 16 significant digits. Valuing amounts in
    /// USD is then a multiplication that is exact for ordinary amounts, instead of a 28-digit
    /// division per booking; every USD figure of a payment uses the same reciprocal, so the
    /// cost identity still telescopes exactly.
    inv: Vec<Decimal>,
}

/// 1 / `mid`, rounded to 16 significant digits.
fn reciprocal(mid: Decimal) -> Decimal {
    if mid == Decimal::ONE {
        return Decimal::ONE;
    }
    // A mid with k integer digits has a reciprocal below 10^(1-k): 15 + k decimals keep 16
    // significant digits.
    let int_digits = decimal_digits(mid.mantissa().unsigned_abs()) as i32 - mid.scale() as i32;
    let scale = (15 + int_digits).clamp(0, 28) as u32;
    (Decimal::ONE / mid).round_dp(scale)
}

fn decimal_digits(n: u128) -> u32 {
    if n == 0 { 1 } else { n.ilog10() + 1 }
}

impl FxPath {
    /// Simulates `n_ticks` ticks of `tick_s` seconds for `processes` (currency ids 1..),
    /// correlated by `corr` (one row per process), with `jumps` applied on schedule.
    pub fn simulate<R: rand::Rng + ?Sized>(
        processes: &[CurrencyProcess],
        corr: &[Vec<f64>],
        jumps: &[ScheduledJump],
        tick_s: Time,
        n_ticks: usize,
        rng: &mut R,
    ) -> Result<FxPath, FxError> {
        let k = processes.len();
        let l = cholesky(corr)?;
        let n_ccy = k + 1;
        let n_ticks = n_ticks.max(1);
        let dt = tick_s as f64 / YEAR_S as f64;
        let sqrt_dt = dt.sqrt();
        let mut mids = Vec::with_capacity(n_ticks * n_ccy);
        // State: log level (Float/Crawl: the rate; Peg: the peg level) and the peg deviation.
        let mut log_level: Vec<f64> = processes.iter().map(|p| p.mid0_per_usd.ln()).collect();
        let mut peg_dev = vec![0.0; k];
        let mut eps = vec![0.0; k];
        let mut z = vec![0.0; k];
        for tick in 0..n_ticks {
            if tick > 0 {
                for e in eps.iter_mut() {
                    *e = rng.sample(StandardNormal);
                }
                for i in 0..k {
                    z[i] = (0..=i).map(|j| l[i][j] * eps[j]).sum();
                }
                for (i, p) in processes.iter().enumerate() {
                    // A jump per tick with probability rate·dt: ticks are short (an hour), so
                    // the chance of two in one tick is negligible.
                    let jump = if p.jump_rate_pa > 0.0 && rng.random::<f64>() < p.jump_rate_pa * dt
                    {
                        let size: f64 =
                            p.jump_mean + p.jump_sd * rng.sample::<f64, _>(StandardNormal);
                        (1.0 + size.max(-0.95)).ln()
                    } else {
                        0.0
                    };
                    match p.regime {
                        Regime::Float | Regime::Crawl => {
                            log_level[i] += (p.drift_pa - 0.5 * p.vol_pa * p.vol_pa) * dt
                                + p.vol_pa * sqrt_dt * z[i]
                                + jump;
                        }
                        Regime::Peg => {
                            let band = (1.0 + p.band_pct).ln();
                            peg_dev[i] =
                                (peg_dev[i] + p.vol_pa * sqrt_dt * z[i]).clamp(-band, band);
                            log_level[i] += jump;
                        }
                    }
                }
            }
            let t = tick as Time * tick_s;
            for j in jumps {
                // Applied at the first tick at or after its time.
                if j.at <= t && j.at > t - tick_s {
                    log_level[j.currency.index() - 1] += (1.0 + j.size.max(-0.95)).ln();
                }
            }
            mids.push(Decimal::ONE);
            for i in 0..k {
                let log_mid = log_level[i] + peg_dev[i];
                mids.push(to_decimal_rate(log_mid.exp()));
            }
        }
        let inv = mids.iter().map(|m| reciprocal(*m)).collect();
        Ok(FxPath {
            tick_s,
            n_ccy,
            n_ticks,
            mids,
            inv,
        })
    }

    /// A constant path (every mid fixed at its opening level): for tests and worked examples.
    pub fn constant(mids_per_usd: &[Decimal], tick_s: Time) -> FxPath {
        let mut mids = vec![Decimal::ONE];
        mids.extend_from_slice(mids_per_usd);
        FxPath {
            tick_s,
            n_ccy: mids.len(),
            n_ticks: 1,
            inv: mids.iter().map(|m| reciprocal(*m)).collect(),
            mids,
        }
    }

    /// Mid rate of `ccy` per USD at `t` (the last tick at or before `t`; clamped to the path).
    #[inline]
    pub fn mid(&self, ccy: CurrencyId, t: Time) -> Decimal {
        let tick = (t.max(0) / self.tick_s) as usize;
        let tick = tick.min(self.n_ticks - 1);
        self.mids[tick * self.n_ccy + ccy.index()]
    }

    /// USD per unit of `ccy` at `t`: the reciprocal of [`FxPath::mid`] to 16 significant digits.
    #[inline]
    pub fn usd_per_unit(&self, ccy: CurrencyId, t: Time) -> Decimal {
        let tick = (t.max(0) / self.tick_s) as usize;
        let tick = tick.min(self.n_ticks - 1);
        self.inv[tick * self.n_ccy + ccy.index()]
    }

    pub fn tick_s(&self) -> Time {
        self.tick_s
    }

    pub fn n_ticks(&self) -> usize {
        self.n_ticks
    }

    pub fn n_currencies(&self) -> usize {
        self.n_ccy
    }
}

/// The range a simulated rate is held to, units per USD (the same bounds the scenario puts
/// on opening rates). An extreme path (volatility 50, say) would otherwise reach rates that
/// round to zero or overflow exact arithmetic; clamped, it stays absurd but computable.
pub const MID_RANGE: (f64, f64) = (1e-3, 1e6);

/// A rate as an exact Decimal with 10 significant digits: enough for UZS (≈12 600 per USD)
/// and AZN (1.70) alike, and short enough to keep products cheap.
fn to_decimal_rate(x: f64) -> Decimal {
    let x = if x.is_finite() {
        x.clamp(MID_RANGE.0, MID_RANGE.1)
    } else {
        MID_RANGE.1
    };
    let digits = 9 - x.log10().floor() as i32;
    let scale = digits.clamp(0, 20) as u32;
    // Built from an integer (at most 10 digits), not through `Decimal::from_f64`, which costs
    // more than the rest of the path's arithmetic.
    crate::money::minor_from_f64(x, scale).normalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;
    use rust_decimal::prelude::FromPrimitive;

    fn float(mid0: f64, drift: f64, vol: f64) -> CurrencyProcess {
        CurrencyProcess {
            regime: Regime::Float,
            mid0_per_usd: mid0,
            drift_pa: drift,
            vol_pa: vol,
            jump_rate_pa: 0.0,
            jump_mean: 0.0,
            jump_sd: 0.0,
            band_pct: 0.0,
        }
    }

    #[test]
    fn cholesky_of_a_known_matrix() {
        let l = cholesky(&[vec![1.0, 0.6], vec![0.6, 1.0]]).unwrap();
        assert!((l[0][0] - 1.0).abs() < 1e-12);
        assert!((l[1][0] - 0.6).abs() < 1e-12);
        assert!((l[1][1] - 0.8).abs() < 1e-12);
    }

    #[test]
    fn cholesky_accepts_semidefinite_and_rejects_indefinite() {
        // Perfect correlation: semi-definite, allowed.
        assert!(cholesky(&[vec![1.0, 1.0], vec![1.0, 1.0]]).is_ok());
        // Three variables pairwise at -0.9 cannot exist.
        let bad = vec![
            vec![1.0, -0.9, -0.9],
            vec![-0.9, 1.0, -0.9],
            vec![-0.9, -0.9, 1.0],
        ];
        assert!(matches!(cholesky(&bad), Err(FxError::NotPsd { .. })));
        assert!(matches!(
            cholesky(&[vec![1.0, 0.2], vec![0.3, 1.0]]),
            Err(FxError::NotSymmetric(..))
        ));
        assert!(matches!(cholesky(&[vec![2.0]]), Err(FxError::Entry { .. })));
    }

    #[test]
    fn zero_volatility_drift_compounds_exactly() {
        // drift 0.1 per year, no vol, hourly ticks: after 8760 ticks the rate is mid0·e^0.1.
        let p = float(100.0, 0.1, 0.0);
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let path = FxPath::simulate(&[p], &[vec![1.0]], &[], 3600, 8761, &mut rng).unwrap();
        let end = path.mid(CurrencyId(1), 8760 * 3600);
        let expected = 100.0 * 0.1f64.exp();
        let got: f64 = end.to_string().parse().unwrap();
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
        assert_eq!(path.mid(CurrencyId::USD, 5 * 3600), Decimal::ONE);
        assert_eq!(path.mid(CurrencyId(1), 0), Decimal::from(100));
    }

    #[test]
    fn correlated_shocks_have_the_requested_correlation() {
        let ps = [float(10.0, 0.0, 0.2), float(20.0, 0.0, 0.2)];
        let corr = vec![vec![1.0, 0.7], vec![0.7, 1.0]];
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        let n = 20_001;
        let path = FxPath::simulate(&ps, &corr, &[], 3600, n, &mut rng).unwrap();
        let r = |c: u16, i: usize| -> f64 {
            let a: f64 = path
                .mid(CurrencyId(c), (i as i64) * 3600)
                .to_string()
                .parse()
                .unwrap();
            let b: f64 = path
                .mid(CurrencyId(c), (i as i64 + 1) * 3600)
                .to_string()
                .parse()
                .unwrap();
            (b / a).ln()
        };
        let (x, y): (Vec<f64>, Vec<f64>) = (0..n - 1).map(|i| (r(1, i), r(2, i))).unzip();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (mx, my) = (mean(&x), mean(&y));
        let cov: f64 = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum();
        let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
        let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
        let rho = cov / (vx * vy).sqrt();
        assert!((rho - 0.7).abs() < 0.03, "rho = {rho}");
    }

    #[test]
    fn a_peg_stays_in_its_band_and_a_scheduled_jump_moves_it() {
        let mut p = float(1.70, 0.0, 0.05);
        p.regime = Regime::Peg;
        p.band_pct = 0.01;
        let jump = ScheduledJump {
            currency: CurrencyId(1),
            at: 100 * 3600,
            size: 0.5,
        };
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let path = FxPath::simulate(&[p], &[vec![1.0]], &[jump], 3600, 200, &mut rng).unwrap();
        for i in 0..200i64 {
            let m: f64 = path
                .mid(CurrencyId(1), i * 3600)
                .to_string()
                .parse()
                .unwrap();
            let level = if i < 100 { 1.70 } else { 2.55 };
            assert!((m / level - 1.0).abs() <= 0.0101, "tick {i}: {m}");
        }
    }

    #[test]
    fn same_seed_same_path() {
        let ps = [float(35.0, 0.17, 0.1), float(500.0, 0.0, 0.09)];
        let corr = vec![vec![1.0, 0.3], vec![0.3, 1.0]];
        let a =
            FxPath::simulate(&ps, &corr, &[], 3600, 500, &mut Pcg64Mcg::seed_from_u64(9)).unwrap();
        let b =
            FxPath::simulate(&ps, &corr, &[], 3600, 500, &mut Pcg64Mcg::seed_from_u64(9)).unwrap();
        assert_eq!(a.mids, b.mids);
    }

    #[test]
    fn extreme_paths_stay_within_the_rate_range() {
        // Volatility 50 (5,000 %) drives the log rate far out within hours.
        let p = float(1.0, 0.0, 50.0);
        let mut rng = Pcg64Mcg::seed_from_u64(5);
        let path = FxPath::simulate(&[p], &[vec![1.0]], &[], 3600, 2000, &mut rng).unwrap();
        let lo = Decimal::from_f64(MID_RANGE.0).unwrap();
        let hi = Decimal::from_f64(MID_RANGE.1).unwrap();
        for i in 0..2000i64 {
            let m = path.mid(CurrencyId(1), i * 3600);
            assert!(m >= lo.round_dp(20) && m <= hi, "tick {i}: {m}");
            assert!(!m.is_zero());
        }
    }

    #[test]
    fn reciprocals_keep_sixteen_significant_digits() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(reciprocal(d("500")), d("0.002"));
        assert_eq!(reciprocal(d("40")), d("0.025"));
        assert_eq!(reciprocal(Decimal::ONE), Decimal::ONE);
        // 1 / 35.3585 = 0.02828174272098646718… → 16 significant digits.
        assert_eq!(reciprocal(d("35.3585")), d("0.02828174272098647"));
        let r = reciprocal(d("12904.9"));
        assert!((r * d("12904.9") - Decimal::ONE).abs() < d("1e-15"), "{r}");
    }
}
