//! Mid-rate processes: each currency's rate per USD on a fixed tick, by regime, with drift,
//! volatility, compound-Poisson jumps and a correlation across currencies (Cholesky).
//!
//! The whole path is simulated once per replication, before any payment: it is small
//! (ticks × currencies) and every rail and variant then reads the same path (common random
//! numbers).

use rand::RngExt;
use rand_distr::StandardNormal;
use rust_decimal::Decimal;

use super::quote::VolWidening;
use crate::engine::{Time, YEAR_S};
use crate::money::CurrencyId;
use crate::rng::Stream;

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

/// A volatility shock: process `process`'s volatility × `factor` for ticks in [from, to).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VolShock {
    pub process: usize,
    pub from: Time,
    pub to: Time,
    pub factor: f64,
}

/// One currency's rate process (annualised figures; jumps in fractions of the rate).
#[derive(Debug, Clone, PartialEq)]
pub struct CurrencyProcess {
    pub regime: Regime,
    /// Opening mid, units of the currency per USD.
    pub mid0_per_usd: f64,
    /// Expected rate of change of the rate per USD, continuously compounded and with jumps
    /// included: E[mid(t)] = mid(0)·e^(drift_pa·t), t in years (+0.17 = the currency is expected
    /// to lose e^0.17 − 1 ≈ 18.5 % in a year). Jumps are compensated in the drift, so adding
    /// jumps widens the distribution without moving its mean. Zero for a peg (refused
    /// otherwise): a peg's level moves only by peg breaks (jumps).
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

/// The lowest a proportional jump may go: −95 % of the rate (a currency cannot lose more
/// than all of its value against the dollar in one step without the rate turning negative).
pub const JUMP_FLOOR: f64 = -0.95;

/// E[max(m + s·Z, JUMP_FLOOR)] for a standard normal Z: the mean proportional size of a jump
/// drawn as `jump_mean + jump_sd·Z` and floored as the simulation floors it. This is κ in the
/// compensator: a process with jumps at rate λ grows by a factor e^(λκt) in expectation from
/// the jumps alone, which the drift takes back.
pub fn jump_kappa(mean: f64, sd: f64) -> f64 {
    if sd <= 0.0 {
        return mean.max(JUMP_FLOOR);
    }
    // E[max(X, c)] = m + E[max(c − X, 0)] = m + (c − m)·Φ(a) + s·φ(a), a = (c − m)/s.
    let a = (JUMP_FLOOR - mean) / sd;
    let cdf = 0.5 * statrs::function::erf::erfc(-a / std::f64::consts::SQRT_2);
    let pdf = (-0.5 * a * a).exp() / (2.0 * std::f64::consts::PI).sqrt();
    mean + (JUMP_FLOOR - mean) * cdf + sd * pdf
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
    #[error("{streams} random streams for {currencies} currencies; one per currency is needed")]
    Streams { streams: usize, currencies: usize },
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

/// Which tick a time falls in: `t.max(0) / tick_s`, by a multiplication with the tick's
/// reciprocal. A run looks up rates by time tens of times per payment (every USD valuation,
/// every quote, every fee), and the hardware division was on the way to each of them.
#[derive(Debug, Clone, Copy)]
struct TickOf {
    tick_s: u64,
    /// ⌊(2⁶⁴ − 1) / tick_s⌋.
    recip: u64,
}

impl TickOf {
    fn new(tick_s: Time) -> TickOf {
        // Validation keeps the tick at one second or more.
        let tick_s = tick_s.max(1) as u64;
        TickOf {
            tick_s,
            recip: u64::MAX / tick_s,
        }
    }

    /// ⌊max(t, 0) / tick_s⌋. With r = ⌊(2⁶⁴ − 1)/d⌋ > (2⁶⁴ − 1)/d − 1, a·r/2⁶⁴ lies within 2
    /// below a/d (as a < 2⁶⁴) and never above it, so the estimate is the quotient or up to two
    /// less, and the loop corrects it.
    #[inline]
    fn of(self, t: Time) -> usize {
        let a = t.max(0) as u64;
        let mut q = ((u128::from(a) * u128::from(self.recip)) >> 64) as u64;
        let mut r = a - q * self.tick_s;
        while r >= self.tick_s {
            q += 1;
            r -= self.tick_s;
        }
        q as usize
    }
}

/// The simulated mids: one row per tick, one column per currency (USD = 1 in column 0).
#[derive(Debug, Clone)]
pub struct FxPath {
    tick_s: Time,
    tick_of: TickOf,
    n_ccy: usize,
    n_ticks: usize,
    mids: Vec<Decimal>,
    /// USD per unit of each currency (1 / mid) to 16 significant digits. Valuing amounts in
    /// USD is then a multiplication that is exact for ordinary amounts, instead of a 28-digit
    /// division per booking; every USD figure of a payment uses the same reciprocal, so the
    /// cost identity still telescopes exactly.
    inv: Vec<Decimal>,
    /// Each tick's spread factor per currency from realised volatility (≥ 1; column 0, USD,
    /// is 1). Empty when widening is off: every factor is then 1.
    spread_factor: Vec<f32>,
}

/// Builds the spread factors while the path is simulated: an exponentially weighted mean of
/// squared log returns (annualised) per currency, against the variance the spreads were
/// calibrated in (σ², at least 1 % a year squared so a quiet peg is not divided by zero);
/// factor = clamp((v / v_ref)^(elasticity / 2), 1, max_multiplier).
struct Widening {
    on: bool,
    elasticity: f64,
    max_multiplier: f64,
    /// Weight of the newest squared return, from the half-life.
    alpha: f64,
    /// Years per tick, to annualise a squared return.
    dt: f64,
    v: Vec<f64>,
    v_ref: Vec<f64>,
    factors: Vec<f32>,
    row: Vec<f32>,
}

impl Widening {
    fn new(w: &VolWidening, processes: &[CurrencyProcess], tick_s: Time, n_ticks: usize) -> Self {
        let on = w.elasticity > 0.0;
        let v_ref: Vec<f64> = processes
            .iter()
            .map(|p| (p.vol_pa * p.vol_pa).max(1e-4))
            .collect();
        let halflife_ticks = (w.halflife_s.max(1) as f64 / tick_s as f64).max(1e-9);
        Widening {
            on,
            elasticity: w.elasticity,
            max_multiplier: w.max_multiplier.max(1.0),
            alpha: 1.0 - 0.5f64.powf(1.0 / halflife_ticks),
            dt: tick_s as f64 / YEAR_S as f64,
            v: v_ref.clone(),
            v_ref,
            factors: if on {
                Vec::with_capacity(n_ticks * (processes.len() + 1))
            } else {
                Vec::new()
            },
            row: vec![1.0; processes.len() + 1],
        }
    }

    /// One currency's log return over the tick just simulated (zero on the first tick).
    fn observe(&mut self, i: usize, log_return: f64) {
        if !self.on {
            return;
        }
        let r2 = if log_return.is_finite() {
            log_return * log_return / self.dt
        } else {
            0.0
        };
        self.v[i] += self.alpha * (r2 - self.v[i]);
        let ratio = self.v[i] / self.v_ref[i];
        let f = ratio.powf(0.5 * self.elasticity);
        self.row[i + 1] = if f.is_finite() {
            f.clamp(1.0, self.max_multiplier) as f32
        } else {
            self.max_multiplier as f32
        };
    }

    fn end_tick(&mut self) {
        if self.on {
            self.factors.extend_from_slice(&self.row);
        }
    }
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
    reciprocal_exact(mid, scale).unwrap_or_else(|| (Decimal::ONE / mid).round_dp(scale))
}

/// `(1 / mid).round_dp(scale)` from integers, where that is provably what the two Decimal
/// steps give: 10^(scale + mid's scale) / mid's mantissa, rounded to nearest, when the exact
/// quotient needs more than `scale` decimals (so the rounded one has exactly `scale`) and lies
/// clear of a half of its last digit — by more than the 28-decimal quotient can be off
/// (10^(scale − 28) of that digit) and than [`crate::money::nearest_unless_near_half`]'s
/// margin. None otherwise (a path's whole rate table goes through here, a division each).
fn reciprocal_exact(mid: Decimal, scale: u32) -> Option<Decimal> {
    if mid.is_sign_negative() || mid.is_zero() || scale >= 28 {
        return None;
    }
    let d = mid.mantissa().unsigned_abs();
    let n = *crate::money::POW10.get((scale + mid.scale()) as usize)?;
    let r = n % d;
    if r == 0 || d >= 1 << 100 {
        return None;
    }
    let clear = (2 * r)
        .abs_diff(d)
        .checked_mul(crate::money::POW10[(28 - scale) as usize])?;
    if clear <= 4 * d {
        return None;
    }
    let q = crate::money::nearest_unless_near_half(n, d)?;
    Some(Decimal::from_i128_with_scale(
        i128::try_from(q).ok()?,
        scale,
    ))
}

fn decimal_digits(n: u128) -> u32 {
    if n == 0 { 1 } else { n.ilog10() + 1 }
}

impl FxPath {
    /// Simulates `n_ticks` ticks of `tick_s` seconds for `processes` (currency ids 1..),
    /// correlated by `corr` (one row per process), with `jumps` applied on schedule, and the
    /// spread factor of each tick from realised volatility (`widening`).
    ///
    /// Float and crawl: the log rate moves by (μ − σ²/2 − c)·dt + σ·√dt·z + J per tick, where a
    /// jump J = ln(1 + size) happens with probability p = λ·dt and c = ln(1 + p·κ)/dt
    /// compensates it exactly per tick, so E[mid(t)] = mid(0)·e^(μt) (μ = `drift_pa`).
    /// Long because: one loop over ticks advances every process by its regime, with its
    /// scheduled jumps and volatility shocks, and records the spread widening it causes.
    #[allow(clippy::too_many_arguments)]
    pub fn simulate(
        processes: &[CurrencyProcess],
        corr: &[Vec<f64>],
        jumps: &[ScheduledJump],
        vol_shocks: &[VolShock],
        tick_s: Time,
        n_ticks: usize,
        widening: &VolWidening,
        streams: &mut [Stream],
    ) -> Result<FxPath, FxError> {
        let k = processes.len();
        if streams.len() < k {
            return Err(FxError::Streams {
                streams: streams.len(),
                currencies: k,
            });
        }
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
        // Per-tick log drift of each process: the drift less the Itô term and the jump
        // compensator (pegs have neither: their level moves only by breaks).
        let log_drift: Vec<f64> = processes
            .iter()
            .map(|p| match p.regime {
                Regime::Float | Regime::Crawl => {
                    let jump_p = (p.jump_rate_pa * dt).min(1.0);
                    let kappa = jump_kappa(p.jump_mean, p.jump_sd);
                    let compensator = (1.0 + jump_p * kappa).ln();
                    (p.drift_pa - 0.5 * p.vol_pa * p.vol_pa) * dt - compensator
                }
                Regime::Peg => 0.0,
            })
            .collect();
        let mut vol = Widening::new(widening, processes, tick_s, n_ticks);
        let mut last_log_mid: Vec<f64> = log_level.clone();
        for tick in 0..n_ticks {
            if tick > 0 {
                // Each currency draws from its own stream (keyed by its code), so adding a
                // currency or changing another's parameters leaves its draws alone.
                for (e, rng) in eps.iter_mut().zip(streams.iter_mut()) {
                    *e = rng.sample(StandardNormal);
                }
                for i in 0..k {
                    z[i] = (0..=i).map(|j| l[i][j] * eps[j]).sum();
                }
                for (i, (p, rng)) in processes.iter().zip(streams.iter_mut()).enumerate() {
                    // A jump per tick with probability rate·dt: ticks are short (an hour), so
                    // the chance of two in one tick is negligible.
                    let jump = if p.jump_rate_pa > 0.0 && rng.random::<f64>() < p.jump_rate_pa * dt
                    {
                        let size: f64 =
                            p.jump_mean + p.jump_sd * rng.sample::<f64, _>(StandardNormal);
                        (1.0 + size.max(JUMP_FLOOR)).ln()
                    } else {
                        0.0
                    };
                    // A volatility shock scales the moves that start inside its window, and
                    // their Itô term, so the expected rate path is unchanged (the same draws,
                    // k times the swing).
                    let t_start = (tick as Time - 1) * tick_s;
                    let k: f64 = vol_shocks
                        .iter()
                        .filter(|v| v.process == i && v.from <= t_start && t_start < v.to)
                        .map(|v| v.factor)
                        .product();
                    let vol = p.vol_pa * k;
                    match p.regime {
                        Regime::Float | Regime::Crawl => {
                            let ito = 0.5 * (vol * vol - p.vol_pa * p.vol_pa) * dt;
                            log_level[i] += log_drift[i] - ito + vol * sqrt_dt * z[i] + jump;
                        }
                        Regime::Peg => {
                            let band = (1.0 + p.band_pct).ln();
                            peg_dev[i] = (peg_dev[i] + vol * sqrt_dt * z[i]).clamp(-band, band);
                            log_level[i] += jump;
                        }
                    }
                }
            }
            let t = tick as Time * tick_s;
            for j in jumps {
                // Applied at the first tick at or after its time.
                if j.at <= t && j.at > t - tick_s {
                    log_level[j.currency.index() - 1] += (1.0 + j.size.max(JUMP_FLOOR)).ln();
                }
            }
            mids.push(Decimal::ONE);
            for i in 0..k {
                let log_mid = log_level[i] + peg_dev[i];
                mids.push(to_decimal_rate(log_mid.exp()));
                vol.observe(i, log_mid - last_log_mid[i]);
                last_log_mid[i] = log_mid;
            }
            vol.end_tick();
        }
        let inv = mids.iter().map(|m| reciprocal(*m)).collect();
        Ok(FxPath {
            tick_s,
            tick_of: TickOf::new(tick_s),
            n_ccy,
            n_ticks,
            mids,
            inv,
            spread_factor: vol.factors,
        })
    }

    /// A constant path (every mid fixed at its opening level): for tests and worked examples.
    pub fn constant(mids_per_usd: &[Decimal], tick_s: Time) -> FxPath {
        let mut mids = vec![Decimal::ONE];
        mids.extend_from_slice(mids_per_usd);
        FxPath {
            tick_s,
            tick_of: TickOf::new(tick_s),
            n_ccy: mids.len(),
            n_ticks: 1,
            inv: mids.iter().map(|m| reciprocal(*m)).collect(),
            mids,
            spread_factor: Vec::new(),
        }
    }

    /// The spread factor of a pair at `t` from realised volatility: the larger of its two
    /// currencies' factors (1 when widening is off).
    #[inline]
    pub fn spread_factor(&self, a: CurrencyId, b: CurrencyId, t: Time) -> f64 {
        if self.spread_factor.is_empty() {
            return 1.0;
        }
        let tick = self.tick(t);
        let row = &self.spread_factor[tick * self.n_ccy..(tick + 1) * self.n_ccy];
        f64::from(row[a.index()].max(row[b.index()]))
    }

    /// `f` at the start of every tick, in tick order: a table of a figure that depends on the
    /// time only through the mids (and spread factors) of its tick, to be looked up at
    /// `[self.tick(t)]` for any `t` instead of working the figure out again.
    pub fn per_tick<T>(&self, f: impl FnMut(Time) -> T) -> Vec<T> {
        (0..self.n_ticks)
            .map(|k| k as Time * self.tick_s)
            .map(f)
            .collect()
    }

    /// The tick whose rates hold at `t` (the last at or before `t`; clamped to the path).
    #[inline]
    pub fn tick(&self, t: Time) -> usize {
        self.tick_of.of(t).min(self.n_ticks - 1)
    }

    /// Mid rate of `ccy` per USD at `t` (the last tick at or before `t`; clamped to the path).
    #[inline]
    pub fn mid(&self, ccy: CurrencyId, t: Time) -> Decimal {
        self.mids[self.tick(t) * self.n_ccy + ccy.index()]
    }

    /// USD per unit of `ccy` at `t`: the reciprocal of [`FxPath::mid`] to 16 significant digits.
    #[inline]
    pub fn usd_per_unit(&self, ccy: CurrencyId, t: Time) -> Decimal {
        self.inv[self.tick(t) * self.n_ccy + ccy.index()]
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
    use rust_decimal::prelude::FromPrimitive;

    #[test]
    fn a_per_tick_table_is_its_figure_at_every_time() {
        use rand::RngExt;
        let ps = [float(10.0, 0.0, 0.3), float(2_000.0, 0.05, 0.6)];
        let corr = vec![vec![1.0, 0.2], vec![0.2, 1.0]];
        let path = FxPath::simulate(
            &ps,
            &corr,
            &[],
            &[],
            7_200,
            400,
            &VolWidening::OFF,
            &mut streams(31),
        )
        .unwrap();
        // A figure of two mids, as a rail's basket value is.
        let figure = |t: Time| path.mid(CurrencyId(1), t) / path.mid(CurrencyId(2), t);
        let table = path.per_tick(figure);
        assert_eq!(table.len(), 400);
        let mut rng = crate::rng::from_seed(37);
        // Every tick's first and last second, times before the path and after its end, and
        // times anywhere.
        let mut ts: Vec<Time> = (0..400)
            .flat_map(|k| [k * 7_200, k * 7_200 + 7_199])
            .collect();
        ts.extend([-5, 400 * 7_200, 10_000 * 7_200]);
        ts.extend((0..2_000).map(|_| rng.random_range(0..420 * 7_200)));
        for t in ts {
            assert_eq!(table[path.tick(t)], figure(t), "t = {t}");
        }
    }

    #[test]
    fn the_tick_of_a_time_is_its_quotient() {
        use rand::RngExt;
        let mut rng = crate::rng::from_seed(23);
        for tick_s in [1, 2, 3, 7, 60, 3_600, 7_200, 86_400, 1 << 40, i64::MAX] {
            let by = TickOf::new(tick_s);
            // Edges: zero, negatives (tick 0), multiples and their neighbours, the largest.
            let mut ts = vec![0, -1, i64::MIN, i64::MAX, i64::MAX - 1, tick_s, tick_s - 1];
            ts.extend((1..50).flat_map(|k| {
                let m = tick_s.saturating_mul(k);
                [m - 1, m, m.saturating_add(1)]
            }));
            ts.extend((0..20_000).map(|_| rng.random_range(-1_000..i64::MAX)));
            ts.extend((0..20_000).map(|_| rng.random_range(0..400 * 86_400)));
            for t in ts {
                assert_eq!(by.of(t) as i64, t.max(0) / tick_s, "{t} / {tick_s}");
            }
        }
    }

    /// One stream per currency for the tests (at most eight currencies).
    fn streams(seed: u64) -> Vec<Stream> {
        (0..8)
            .map(|i| crate::rng::stream(seed, 0, crate::rng::Purpose::Fx, i, 0))
            .collect()
    }

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
        let mut rng = streams(1);
        let path = FxPath::simulate(
            &[p],
            &[vec![1.0]],
            &[],
            &[],
            3600,
            8761,
            &VolWidening::OFF,
            &mut rng,
        )
        .unwrap();
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
        let mut rng = streams(7);
        let n = 20_001;
        let path =
            FxPath::simulate(&ps, &corr, &[], &[], 3600, n, &VolWidening::OFF, &mut rng).unwrap();
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
        let mut rng = streams(3);
        let path = FxPath::simulate(
            &[p],
            &[vec![1.0]],
            &[jump],
            &[],
            3600,
            200,
            &VolWidening::OFF,
            &mut rng,
        )
        .unwrap();
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
        let a = FxPath::simulate(
            &ps,
            &corr,
            &[],
            &[],
            3600,
            500,
            &VolWidening::OFF,
            &mut streams(9),
        )
        .unwrap();
        let b = FxPath::simulate(
            &ps,
            &corr,
            &[],
            &[],
            3600,
            500,
            &VolWidening::OFF,
            &mut streams(9),
        )
        .unwrap();
        assert_eq!(a.mids, b.mids);
    }

    #[test]
    fn extreme_paths_stay_within_the_rate_range() {
        // Volatility 50 (5,000 %) drives the log rate far out within hours.
        let p = float(1.0, 0.0, 50.0);
        let mut rng = streams(5);
        let path = FxPath::simulate(
            &[p],
            &[vec![1.0]],
            &[],
            &[],
            3600,
            2000,
            &VolWidening::OFF,
            &mut rng,
        )
        .unwrap();
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

    #[test]
    fn reciprocals_from_integers_are_the_decimal_steps_bit_for_bit() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(31);
        let mut exact = 0;
        for _ in 0..300_000 {
            // Mids as paths make them: 10 significant digits across the whole rate range.
            let x = 10f64.powf(rng.random_range(-3.0..6.0));
            let mid = to_decimal_rate(x);
            let int_digits =
                decimal_digits(mid.mantissa().unsigned_abs()) as i32 - mid.scale() as i32;
            let scale = (15 + int_digits).clamp(0, 28) as u32;
            let steps = (Decimal::ONE / mid).round_dp(scale);
            assert_eq!(reciprocal(mid).serialize(), steps.serialize(), "1 / {mid}");
            exact += usize::from(reciprocal_exact(mid, scale).is_some());
        }
        assert!(exact > 200_000, "{exact}");
    }

    fn mid_f64(path: &FxPath, ccy: u16, t: Time) -> f64 {
        path.mid(CurrencyId(ccy), t).to_string().parse().unwrap()
    }

    #[test]
    fn log_returns_match_the_closed_form_with_compensated_jumps() {
        // A lira-like float: drift 0.17, volatility 10 %, 0.4 jumps a year of +25 % each (no
        // spread of size, so a jump is exactly ln 1.25). Daily ticks over one year, 4000 paths.
        let (mu, sigma, lambda, size) = (0.17, 0.10, 0.4, 0.25);
        let p = CurrencyProcess {
            regime: Regime::Float,
            mid0_per_usd: 40.0,
            drift_pa: mu,
            vol_pa: sigma,
            jump_rate_pa: lambda,
            jump_mean: size,
            jump_sd: 0.0,
            band_pct: 0.0,
        };
        let (tick_s, n) = (86_400, 365usize);
        let paths = 4_000;
        let mut x = Vec::with_capacity(paths);
        for seed in 0..paths as u64 {
            let mut rng = streams(seed);
            let path = FxPath::simulate(
                std::slice::from_ref(&p),
                &[vec![1.0]],
                &[],
                &[],
                tick_s,
                n + 1,
                &VolWidening::OFF,
                &mut rng,
            )
            .unwrap();
            x.push((mid_f64(&path, 1, n as Time * tick_s) / 40.0).ln());
        }
        // The closed form of the simulated law, worked out per tick: a jump with probability
        // q = λ·dt, the compensator ln(1 + q·κ) with κ = 0.25.
        let dt = tick_s as f64 / YEAR_S as f64;
        let (q, j) = (lambda * dt, (1.0 + size).ln());
        let nf = n as f64;
        let mean_cf = nf * ((mu - 0.5 * sigma * sigma) * dt - (1.0 + q * size).ln() + q * j);
        let var_cf = nf * (sigma * sigma * dt + q * (1.0 - q) * j * j);
        let m = x.iter().sum::<f64>() / paths as f64;
        let var = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (paths - 1) as f64;
        let se = (var_cf / paths as f64).sqrt();
        assert!(
            (m - mean_cf).abs() < 4.0 * se,
            "mean {m} vs {mean_cf} (se {se})"
        );
        assert!(
            (var / var_cf - 1.0).abs() < 0.08,
            "variance {var} vs {var_cf}"
        );
        // And the meaning of drift_pa: the expected rate grows by e^μ over a year, jumps and
        // all (without the compensator it would grow by e^(μ + λκ) ≈ 1.30, not 1.185).
        let growth: Vec<f64> = x.iter().map(|v| v.exp()).collect();
        let g = growth.iter().sum::<f64>() / paths as f64;
        let g_sd = (growth.iter().map(|v| (v - g).powi(2)).sum::<f64>() / paths as f64).sqrt();
        let g_se = g_sd / (paths as f64).sqrt();
        assert!(
            (g - mu.exp()).abs() < 4.0 * g_se,
            "E[mid(1y)/mid(0)] = {g} vs e^0.17 = {} (se {g_se})",
            mu.exp()
        );
    }

    #[test]
    fn the_jump_compensator_accounts_for_the_floor() {
        // Without a spread of size the mean jump is the jump; a floor at −95 % lifts the mean of
        // a wide jump distribution above its nominal mean.
        assert_eq!(jump_kappa(0.25, 0.0), 0.25);
        assert_eq!(jump_kappa(-2.0, 0.0), JUMP_FLOOR);
        assert!((jump_kappa(0.25, 0.08) - 0.25).abs() < 1e-12);
        let wide = jump_kappa(-0.5, 0.5);
        // E[max(X, −0.95)] for X ~ N(−0.5, 0.5²) by numerical integration.
        let mut integral = 0.0;
        let steps = 200_000;
        for i in 0..steps {
            let z = -10.0 + 20.0 * (i as f64 + 0.5) / steps as f64;
            let pdf = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
            integral += (-0.5 + 0.5 * z).max(JUMP_FLOOR) * pdf * 20.0 / steps as f64;
        }
        assert!((wide - integral).abs() < 1e-6, "{wide} vs {integral}");
        assert!(wide > -0.5);
    }

    #[test]
    fn spreads_widen_after_a_jump_and_decay_with_the_half_life() {
        // No diffusion: the only return is a scheduled +10 % step at hour 100. The factor is 1
        // before it, at the cap just after, and then follows the decaying average exactly.
        let p = float(40.0, 0.0, 0.0);
        let jump = ScheduledJump {
            currency: CurrencyId(1),
            at: 100 * 3600,
            size: 0.10,
        };
        let w = VolWidening {
            elasticity: 1.0,
            halflife_s: 24 * 3600,
            max_multiplier: 5.0,
        };
        let mut rng = streams(1);
        let path = FxPath::simulate(
            &[p],
            &[vec![1.0]],
            std::slice::from_ref(&jump),
            &[],
            3600,
            1000,
            &w,
            &mut rng,
        )
        .unwrap();
        let f = |h: i64| path.spread_factor(CurrencyId::USD, CurrencyId(1), h * 3600);
        assert_eq!(f(0), 1.0);
        assert_eq!(f(99), 1.0);
        assert_eq!(f(100), 5.0);
        // v(t) = v_ref·(1−α)^t + α·r²/dt·(1−α)^(t−100), v_ref = 1e-4 (the floor), hourly dt.
        let alpha = 1.0 - 0.5f64.powf(1.0 / 24.0);
        let dt = 3600.0 / YEAR_S as f64;
        let r2 = 1.1f64.ln().powi(2) / dt;
        for h in [340i64, 400, 500] {
            let v = 1e-4 * (1.0 - alpha).powi(h as i32)
                + alpha * r2 * (1.0 - alpha).powi((h - 100) as i32);
            let expected = (v / 1e-4).sqrt().clamp(1.0, 5.0);
            assert!(
                (f(h) - expected).abs() < 1e-5 * expected,
                "hour {h}: {} vs {expected}",
                f(h)
            );
        }
        assert!(f(400) > 1.0 && f(400) < 5.0);
        // USD against itself never widens; a pair takes the wider of its two currencies.
        assert_eq!(
            path.spread_factor(CurrencyId::USD, CurrencyId::USD, 100 * 3600),
            1.0
        );
        // Off: no factors are kept.
        let off = FxPath::simulate(
            &[float(40.0, 0.0, 0.0)],
            &[vec![1.0]],
            &[jump],
            &[],
            3600,
            1000,
            &VolWidening::OFF,
            &mut streams(1),
        )
        .unwrap();
        assert_eq!(
            off.spread_factor(CurrencyId::USD, CurrencyId(1), 100 * 3600),
            1.0
        );
    }
}
