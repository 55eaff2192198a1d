//! Trade: payment initiations per corridor (exporter → importer) as a Poisson process on the
//! importer's business hours, heavy-tailed sizes scaled so the expected yearly total matches
//! the trade matrix, the invoice currency, payment terms and the charge bearer.
//!
//! Each corridor's generator keeps only its next arrival pending, drawn from the corridor's
//! own random stream, so every rail and every variant sees the same invoices.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::RngExt;
use rand_distr::StandardNormal;
use rust_decimal::Decimal;

use crate::calendar::Calendar;
use crate::engine::{DAY_S, Time, YEAR_S};
use crate::money::{CurrencyId, minor_from_f64};
use crate::rng::Stream;
use crate::shock::{Kind, Shock};
use crate::terms::{Bearer, Discrete, pick};
use crate::world::World;

/// Invoice sizes in USD.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SizeDist {
    LogNormal { median_usd: f64, sigma: f64 },
    Pareto { min_usd: f64, alpha: f64 },
}

impl SizeDist {
    pub fn draw(&self, rng: &mut Stream, max_usd: f64) -> f64 {
        let x = match *self {
            SizeDist::LogNormal { median_usd, sigma } => {
                let z: f64 = rng.sample(StandardNormal);
                median_usd * (sigma * z).exp()
            }
            SizeDist::Pareto { min_usd, alpha } => {
                let u: f64 = rng.random();
                min_usd * (1.0 - u).powf(-1.0 / alpha)
            }
        };
        x.min(max_usd)
    }

    /// Mean of the size capped at `max_usd`, in closed form.
    pub fn mean_capped(&self, max_usd: f64) -> f64 {
        match *self {
            SizeDist::LogNormal { median_usd, sigma } => {
                let mu = median_usd.ln();
                if sigma == 0.0 {
                    return median_usd.min(max_usd);
                }
                if !max_usd.is_finite() {
                    return (mu + 0.5 * sigma * sigma).exp();
                }
                let lm = max_usd.ln();
                let below = (mu + 0.5 * sigma * sigma).exp()
                    * normal_cdf((lm - mu - sigma * sigma) / sigma);
                below + max_usd * (1.0 - normal_cdf((lm - mu) / sigma))
            }
            SizeDist::Pareto { min_usd, alpha } => {
                if max_usd <= min_usd {
                    return max_usd;
                }
                if !max_usd.is_finite() {
                    return alpha * min_usd / (alpha - 1.0);
                }
                let r = min_usd / max_usd;
                let below = if (alpha - 1.0).abs() < 1e-12 {
                    min_usd * (max_usd / min_usd).ln()
                } else {
                    alpha * min_usd / (alpha - 1.0) * (1.0 - r.powf(alpha - 1.0))
                };
                below + max_usd * r.powf(alpha)
            }
        }
    }
}

/// A trade shock's (smallest, largest) factor over its window.
fn factors(s: &Shock) -> (f64, f64) {
    match s.kind {
        Kind::TradeGrowth {
            factor_from,
            factor_to,
            ..
        } => (factor_from.min(factor_to), factor_from.max(factor_to)),
        _ => (1.0, 1.0),
    }
}

/// Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7): only used to scale
/// expected counts, where that precision is ample.
pub fn normal_cdf(x: f64) -> f64 {
    let z = x / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    let erf = if z >= 0.0 { erf } else { -erf };
    0.5 * (1.0 + erf)
}

/// One ordered pair of members with trade between them.
#[derive(Debug, Clone, PartialEq)]
pub struct Corridor {
    pub exporter: usize,
    pub importer: usize,
    /// "TR->AZ": exporter, then importer. The money flows the other way.
    pub code: String,
    pub annual_usd: f64,
    pub source: String,
    /// Cumulative invoice-currency shares: USD, exporter's, importer's.
    pub invoice_cumulative: [f64; 3],
}

/// A payment given one by one in the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplicitPayment {
    pub at: Time,
    pub corridor: usize,
    pub amount: Decimal,
    pub currency: CurrencyId,
    pub bearer: Bearer,
}

/// Validated trade parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeParams {
    pub corridors: Vec<Corridor>,
    pub size: SizeDist,
    pub max_usd: f64,
    pub terms_days: Discrete<f64>,
    /// Local minutes of the importer's day in which payments are initiated; None: its banking
    /// day (RTGS opening to cut-off, the early cut-off on a half-day).
    pub hours_min: Option<(u32, u32)>,
    /// Cumulative bearer shares: OUR, SHA, BEN.
    pub bearer_cumulative: [f64; 3],
    pub growth_pa: f64,
    pub explicit: Vec<ExplicitPayment>,
}

/// A new payment's terms, before any rail touches it.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    pub corridor: usize,
    pub t0: Time,
    pub invoiced_at: Time,
    pub currency: CurrencyId,
    pub amount: Decimal,
    pub ticket_usd: f64,
    pub bearer: Bearer,
    /// The payment's stream key: its corridor's code and its number in the corridor.
    pub key: u64,
}

/// Initiation windows (start, end) in sim time, shared by the corridors of one importer.
type Windows = std::sync::Arc<Vec<(Time, Time)>>;

/// The next-arrival state of one lane: a corridor's own invoices, or the extra invoices a
/// trade shock adds to it.
#[derive(Debug)]
struct Lane {
    corridor: usize,
    rng: Stream,
    /// The lane's stream key (its name's), and how many invoices it has issued.
    key: u64,
    seq: u64,
    /// Importer's initiation windows in sim time, ascending.
    windows: Windows,
    window: usize,
    cursor: Time,
    /// Arrival rate per initiation second at t = 0.
    rate0: f64,
    /// None: the corridor's own invoices. Some(k): the extra invoices of trade shock k
    /// (index into `Generator::shocks`), at (factor − 1) times the corridor's rate.
    extra: Option<usize>,
    /// No arrival before this (an observer that joins), nor at or after `until`.
    until: Time,
    /// Per trade shock that can thin this corridor (factor below 1): (shock, its stream).
    thin: Vec<(usize, Stream)>,
    /// The thinning bound's growth factor, max(growth^year, growth^(year + 1)), for the year
    /// it was last worked out: two `powf` per candidate arrival otherwise.
    growth_bound: (Time, f64),
}

/// Invoice arrivals for every corridor.
#[derive(Debug)]
pub struct Generator {
    params: TradeParams,
    lanes: Vec<Lane>,
    /// The scenario's trade shocks.
    shocks: Vec<Shock>,
    /// Per trade shock: invoices added and their value in USD, and invoices removed and theirs.
    pub effects: Vec<TradeEffect>,
}

/// What one trade shock did to the invoices.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TradeEffect {
    pub added: u64,
    pub added_usd: f64,
    pub removed: u64,
    pub removed_usd: f64,
}

/// Days of the reference year over which a corridor's yearly value is spread: its importer's
/// initiation seconds in the 365 days from the epoch, whatever the run's length. So a
/// corridor's arrival rate — and with it every invoice of the days two runs share — does not
/// depend on the horizon.
pub const REFERENCE_DAYS: u32 = 365;

/// The importer's initiation windows: `hours` local time (or, without `hours`, its RTGS
/// window) on its business days in [start, start + days).
pub fn initiation_windows(
    cal: &Calendar,
    epoch: DateTime<Utc>,
    days: u32,
    hours_min: Option<(u32, u32)>,
) -> Vec<(Time, Time)> {
    let start = epoch.date_naive();
    let end = start + Duration::days(days as i64);
    let tz = cal.time_zone();
    let local = |d: NaiveDate, m: u32| -> Option<Time> {
        let naive = d.and_hms_opt(m / 60, m % 60, 0)?;
        let dt = tz.from_local_datetime(&naive).earliest()?;
        Some((dt.with_timezone(&Utc) - epoch).num_seconds())
    };
    cal.business_days(start, end)
        .into_iter()
        .filter_map(|d| match hours_min {
            Some((from, to)) => Some((local(d, from)?, local(d, to)?)),
            None => cal.window(d),
        })
        .filter(|(a, b)| b > a && *a >= 0)
        .collect()
}

impl Generator {
    /// One lane per corridor, and one per trade shock with a factor above 1 on each corridor it
    /// covers. `stream(name)` gives the stream of a lane (a corridor's code; `CODE+SHOCK` for a
    /// shock's extra invoices, `CODE-SHOCK` for its thinning), `reference[m]` member m's
    /// calendar over at least [`REFERENCE_DAYS`] days (the rate's denominator), `world`'s
    /// calendars over the run (the windows invoices arrive in).
    /// Long because: base lanes, joins, extra lanes and thinning streams are set up in one pass
    /// over the corridors.
    pub fn new(
        params: TradeParams,
        world: &World,
        days: u32,
        stream: &dyn Fn(&str) -> Stream,
        reference: &[Calendar],
    ) -> Self {
        let mut by_member: Vec<Option<(Windows, Time)>> = vec![None; world.members.len()];
        let mean = params.size.mean_capped(params.max_usd);
        let shocks: Vec<Shock> = world
            .shocks
            .iter()
            .filter(|s| matches!(s.kind, Kind::TradeGrowth { .. }))
            .cloned()
            .collect();
        let mut lanes = Vec::new();
        let mut extras = Vec::new();
        for (ci, c) in params.corridors.iter().enumerate() {
            let (windows, year_open_s) = by_member[c.importer]
                .get_or_insert_with(|| {
                    let run = initiation_windows(
                        &world.members[c.importer].calendar,
                        world.epoch,
                        days,
                        params.hours_min,
                    );
                    let year = initiation_windows(
                        &reference[c.importer],
                        world.epoch,
                        REFERENCE_DAYS,
                        params.hours_min,
                    );
                    let open_s = year.iter().map(|(a, b)| b - a).sum();
                    (std::sync::Arc::new(run), open_s)
                })
                .clone();
            // The yearly value at the start's rate, spread over a reference year's initiation
            // seconds; growth scales it over time (see `next_arrival`).
            let rate0 = if year_open_s > 0 && mean > 0.0 {
                c.annual_usd / mean / year_open_s as f64
            } else {
                0.0
            };
            // A member that joins trades from its join date on.
            let start = world
                .shocks
                .iter()
                .filter_map(|s| match s.kind {
                    Kind::Join { member } if member == c.exporter || member == c.importer => {
                        Some(s.from)
                    }
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            let covers = |s: &Shock| match s.kind {
                Kind::TradeGrowth { corridors, .. } => corridors.covers(c.exporter, c.importer),
                _ => false,
            };
            let thin = shocks
                .iter()
                .enumerate()
                .filter(|(_, s)| covers(s) && factors(s).0 < 1.0)
                .map(|(k, s)| (k, stream(&format!("{}-{}", c.code, s.name))))
                .collect();
            lanes.push(Lane {
                corridor: ci,
                rng: stream(&c.code),
                key: crate::rng::key(&c.code),
                seq: 0,
                windows: windows.clone(),
                window: 0,
                cursor: start,
                rate0,
                extra: None,
                until: Time::MAX,
                thin,
                growth_bound: (Time::MIN, 0.0),
            });
            for (k, s) in shocks.iter().enumerate() {
                if covers(s) && factors(s).1 > 1.0 {
                    let name = format!("{}+{}", c.code, s.name);
                    extras.push(Lane {
                        corridor: ci,
                        rng: stream(&name),
                        key: crate::rng::key(&name),
                        seq: 0,
                        windows: windows.clone(),
                        window: 0,
                        cursor: s.from.max(start),
                        rate0,
                        extra: Some(k),
                        until: s.to,
                        thin: Vec::new(),
                        growth_bound: (Time::MIN, 0.0),
                    });
                }
            }
        }
        lanes.extend(extras);
        let effects = vec![TradeEffect::default(); shocks.len()];
        Self {
            params,
            lanes,
            shocks,
            effects,
        }
    }

    pub fn params(&self) -> &TradeParams {
        &self.params
    }

    /// Lanes: the corridors first (lane c is corridor c), then the shocks' extra invoices.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// The next arrival of lane `c` after its cursor, or None when its windows run out.
    ///
    /// A Poisson process on the importer's initiation windows at rate0·(1 + g)^(t/year) —
    /// times (factor − 1) for a shock's extra lane — drawn by thinning against a bound that is
    /// constant over each year from the epoch: a candidate past the year's end is dropped and
    /// the draw restarts there (the process is memoryless). The bound depends only on the year,
    /// never on the run's length, so runs of different horizons draw the same arrivals on the
    /// days they share.
    pub fn next_arrival(&mut self, c: usize) -> Option<Time> {
        let growth = self.params.growth_pa;
        let shock = self.lanes[c].extra.map(|k| &self.shocks[k]);
        // An extra lane runs at (factor − 1) of the corridor's rate: its bound uses the larger
        // end of the ramp.
        let (extra_max, extra_at): (f64, Box<dyn Fn(Time) -> f64>) = match shock {
            Some(s) => {
                let s = s.clone();
                (
                    factors(&s).1 - 1.0,
                    Box::new(move |t| (s.trade_factor(t) - 1.0).max(0.0)),
                )
            }
            None => (1.0, Box::new(|_| 1.0)),
        };
        let lane = &mut self.lanes[c];
        if lane.rate0 <= 0.0 || extra_max <= 0.0 {
            return None;
        }
        let factor = |year: Time| (1.0 + growth).powf(year as f64);
        loop {
            if lane.cursor >= lane.until {
                return None;
            }
            let year = lane.cursor.max(0) / YEAR_S;
            let year_end = (year + 1) * YEAR_S;
            if lane.growth_bound.0 != year {
                lane.growth_bound = (year, factor(year).max(factor(year + 1)));
            }
            let bound = lane.rate0 * lane.growth_bound.1 * extra_max;
            let u: f64 = lane.rng.random();
            let mut gap = -(1.0 - u).ln() / bound;
            let mut crossed = false;
            loop {
                let (a, b) = *lane.windows.get(lane.window)?;
                if b <= lane.cursor {
                    lane.window += 1;
                    continue;
                }
                let from = lane.cursor.max(a);
                if from >= year_end {
                    lane.cursor = year_end;
                    crossed = true;
                    break;
                }
                let room = (b.min(year_end) - from) as f64;
                if gap < room {
                    // gap ≥ 0 (an exponential draw less whole rooms), so truncation is its
                    // floor, without the libm call `floor` is on x86-64's baseline.
                    lane.cursor = from + gap as Time;
                    break;
                }
                gap -= room;
                if b > year_end {
                    lane.cursor = year_end;
                    crossed = true;
                    break;
                }
                lane.window += 1;
                lane.cursor = lane.cursor.max(b);
            }
            if crossed {
                continue;
            }
            let t = lane.cursor;
            if t >= lane.until {
                return None;
            }
            // Thinning: accept with the ratio of the rate at t to the bound.
            let rate_t = lane.rate0 * (1.0 + growth).powf(t as f64 / YEAR_S as f64) * extra_at(t);
            let v: f64 = lane.rng.random();
            if v * bound <= rate_t {
                return Some(t);
            }
        }
    }

    /// Whether the invoice lane `c` issued at `t` is kept: a trade shock with a factor below 1
    /// drops each of the corridor's invoices with probability 1 − factor, drawing from its own
    /// stream (the corridor's own draws go on as without it). Counts the shocks' effects.
    pub fn kept(&mut self, c: usize, inv: &Invoice) -> bool {
        let lane = &mut self.lanes[c];
        if let Some(k) = lane.extra {
            self.effects[k].added += 1;
            self.effects[k].added_usd += inv.ticket_usd;
            return true;
        }
        let mut keep = true;
        for (k, rng) in &mut lane.thin {
            let s = &self.shocks[*k];
            let f = s.trade_factor(inv.t0);
            if s.active(inv.t0) && f < 1.0 {
                let u: f64 = rng.random();
                if keep && u >= f {
                    keep = false;
                    self.effects[*k].removed += 1;
                    self.effects[*k].removed_usd += inv.ticket_usd;
                }
            }
        }
        keep
    }

    /// The invoice that arrives on lane `c` at `t0`.
    pub fn invoice(&mut self, c: usize, t0: Time, world: &World) -> Invoice {
        let p = &self.params;
        let corridor = &p.corridors[self.lanes[c].corridor];
        self.lanes[c].seq += 1;
        let seq = self.lanes[c].seq;
        let rng = &mut self.lanes[c].rng;
        let size_usd = p.size.draw(rng, p.max_usd);
        let which = pick(&corridor.invoice_cumulative, rng.random());
        let currency = match which {
            0 => CurrencyId::USD,
            1 => world.members[corridor.exporter].currency,
            _ => world.members[corridor.importer].currency,
        };
        let terms = p.terms_days.draw(rng);
        let bearer =
            [Bearer::Our, Bearer::Sha, Bearer::Ben][pick(&p.bearer_cumulative, rng.random())];
        let mid: f64 = crate::money::to_f64(world.fx.mid(currency, t0));
        let units = world.currencies.minor_units(currency);
        let mut amount = minor_from_f64(size_usd * mid, units);
        if amount <= Decimal::ZERO {
            amount = Decimal::new(1, units);
        }
        Invoice {
            corridor: self.lanes[c].corridor,
            t0,
            invoiced_at: t0 - crate::money::round_f64(terms * DAY_S as f64) as Time,
            currency,
            amount,
            ticket_usd: size_usd,
            bearer,
            key: crate::rng::key2(self.lanes[c].key, seq),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_matches_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.96) - 0.975_002).abs() < 1e-5);
        assert!((normal_cdf(-1.0) - 0.158_655).abs() < 1e-5);
    }

    #[test]
    fn capped_means_agree_with_simulation() {
        let mut rng = crate::rng::from_seed(11);
        for (dist, cap) in [
            (
                SizeDist::LogNormal {
                    median_usd: 40_000.0,
                    sigma: 1.5,
                },
                5e6,
            ),
            (
                SizeDist::LogNormal {
                    median_usd: 40_000.0,
                    sigma: 1.5,
                },
                f64::INFINITY,
            ),
            (
                SizeDist::Pareto {
                    min_usd: 5_000.0,
                    alpha: 1.6,
                },
                2e6,
            ),
        ] {
            let n = 400_000;
            let sim: f64 = (0..n).map(|_| dist.draw(&mut rng, cap)).sum::<f64>() / n as f64;
            let exact = dist.mean_capped(cap);
            assert!(
                (sim / exact - 1.0).abs() < 0.03,
                "{dist:?} cap {cap}: {sim} vs {exact}"
            );
        }
    }

    #[test]
    fn pick_uses_cumulative_shares() {
        let cum = [0.5, 0.8, 1.0];
        assert_eq!(pick(&cum, 0.0), 0);
        assert_eq!(pick(&cum, 0.49), 0);
        assert_eq!(pick(&cum, 0.5), 1);
        assert_eq!(pick(&cum, 0.99), 2);
        // A zero share is never drawn.
        assert_eq!(pick(&[0.0, 1.0, 1.0], 0.0), 1);
    }
}
