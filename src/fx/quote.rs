//! Dealer quotes: half-spreads by currency pair and a ticket-size curve.
//!
//! USD pairs are tight; a direct cross (e.g. TRY/KZT) has no deep market of its own, so unless
//! the scenario gives its spread it costs `cross_multiplier` × the sum of the two USD legs
//! (docs/calibration.md §3.3: "≈2× the sum of the two USD legs").

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::money::CurrencyId;

/// One band of the size curve: tickets of at most `up_to_usd` pay `multiplier` × the pair's
/// half-spread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeBand {
    pub up_to_usd: f64,
    pub multiplier: f64,
}

/// How quotes widen with realised volatility (docs/model.md, "Exchange rates"): each currency's
/// squared log returns are averaged with weights that halve every `halflife_s`; a pair's
/// half-spread is multiplied by (realised variance / calibrated variance)^(elasticity / 2),
/// never below 1 and at most `max_multiplier`. Elasticity 1: spreads in proportion to
/// volatility once it exceeds the calm level; 0: off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VolWidening {
    pub elasticity: f64,
    pub halflife_s: i64,
    pub max_multiplier: f64,
}

impl VolWidening {
    /// No widening: every factor is 1.
    pub const OFF: VolWidening = VolWidening {
        elasticity: 0.0,
        halflife_s: 86_400,
        max_multiplier: 1.0,
    };
}

/// Half-spreads by pair, in basis points of the mid.
#[derive(Debug, Clone, PartialEq)]
pub struct SpreadTable {
    /// Half-spread of each currency against USD (index by `CurrencyId`; USD's own entry unused).
    pub usd_half_bps: Vec<f64>,
    /// Explicit half-spreads for direct crosses, keyed by the pair with the lower id first.
    pub cross_half_bps: BTreeMap<(CurrencyId, CurrencyId), f64>,
    /// Multiplier on the sum of the USD legs for crosses without an explicit spread.
    pub cross_multiplier: f64,
    /// Size curve, ascending by `up_to_usd`; tickets above the last band use its multiplier.
    pub size_curve: Vec<SizeBand>,
    /// Widening with realised volatility (applied through the rate path's factors).
    pub vol: VolWidening,
}

/// bps → fraction as an exact Decimal (the bps value is first rounded to 1e-4 bps).
/// The widest half-spread any quote may reach after every multiplier (size curve, cross
/// multiplier, market depth, a rail's own multiplier): 50 % of the mid. Validation holds every
/// input below it, so a client rate is always at least half the mid — never zero, which would
/// divide by zero, and never negative, which would pay the client for converting.
pub const MAX_HALF_SPREAD_BPS: f64 = 5_000.0;

/// A half-spread held under [`MAX_HALF_SPREAD_BPS`]: what widens at run time (with realised
/// volatility, or a rail's multiple of a widened market quote) passes through here before it
/// becomes a rate.
pub fn capped_half_bps(bps: f64) -> f64 {
    if bps.is_finite() {
        bps.min(MAX_HALF_SPREAD_BPS)
    } else {
        MAX_HALF_SPREAD_BPS
    }
}

pub fn bps_to_fraction(bps: f64) -> Decimal {
    let n = crate::money::minor_from_f64(bps, 4).mantissa();
    fraction_of_ten_thousandths(n)
        .unwrap_or_else(|| Decimal::new(n as i64, 4) / Decimal::from(10_000))
}

/// `Decimal::new(n, 4) / 10 000` without the 96-bit division, for n in 0..=60 000 000 (every
/// half-spread up to 6 000 bps, above [`MAX_HALF_SPREAD_BPS`]); None outside. The quotient is
/// n × 10⁻⁸; the division leaves it at scale 4 when n is a multiple of 10 000, else at 4 + k,
/// k the digits it takes to divide the remainder exactly — except that one digit comes out as
/// two (0.00999 is 0.009990). That rule is what the tests check against the division for
/// every n of the range.
fn fraction_of_ten_thousandths(n: i128) -> Option<Decimal> {
    if !(0..=60_000_000).contains(&n) {
        return None;
    }
    if n == 0 {
        return Some(Decimal::ZERO);
    }
    // 64-bit arithmetic: 128-bit division is a library call.
    let n = n as u64;
    let r = n % 10_000;
    let k = if r == 0 {
        0
    } else if r.is_multiple_of(100) {
        // One digit (r a multiple of 1 000) or two.
        2
    } else if r.is_multiple_of(10) {
        3
    } else {
        4
    };
    Some(Decimal::from_parts(
        (n * 10u64.pow(k) / 10_000) as u32,
        0,
        0,
        false,
        4 + k,
    ))
}

impl SpreadTable {
    /// The size multiplier for a ticket of `ticket_usd`.
    pub fn size_multiplier(&self, ticket_usd: f64) -> f64 {
        self.size_curve
            .iter()
            .find(|b| ticket_usd <= b.up_to_usd)
            .or(self.size_curve.last())
            .map_or(1.0, |b| b.multiplier)
    }

    /// The pair's half-spread before the size curve.
    pub fn pair_half_bps(&self, a: CurrencyId, b: CurrencyId) -> f64 {
        if a == b {
            return 0.0;
        }
        if a == CurrencyId::USD {
            return self.usd_half_bps[b.index()];
        }
        if b == CurrencyId::USD {
            return self.usd_half_bps[a.index()];
        }
        let key = if a < b { (a, b) } else { (b, a) };
        match self.cross_half_bps.get(&key) {
            Some(&bps) => bps,
            None => {
                self.cross_multiplier
                    * (self.usd_half_bps[a.index()] + self.usd_half_bps[b.index()])
            }
        }
    }

    /// The half-spread quoted for a ticket of `ticket_usd` in the pair.
    pub fn half_spread_bps(&self, from: CurrencyId, to: CurrencyId, ticket_usd: f64) -> f64 {
        self.pair_half_bps(from, to) * self.size_multiplier(ticket_usd)
    }

    /// The largest multiplier the size curve applies to any ticket.
    pub fn max_size_multiplier(&self) -> f64 {
        if self.size_curve.is_empty() {
            return 1.0;
        }
        self.size_curve
            .iter()
            .map(|b| b.multiplier)
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> SpreadTable {
        let mut cross = BTreeMap::new();
        cross.insert((CurrencyId(1), CurrencyId(3)), 40.0);
        SpreadTable {
            usd_half_bps: vec![0.0, 4.0, 10.0, 35.0],
            cross_half_bps: cross,
            cross_multiplier: 2.0,
            vol: VolWidening::OFF,
            size_curve: vec![
                SizeBand {
                    up_to_usd: 10_000.0,
                    multiplier: 3.0,
                },
                SizeBand {
                    up_to_usd: 1_000_000.0,
                    multiplier: 1.0,
                },
                SizeBand {
                    up_to_usd: f64::INFINITY,
                    multiplier: 1.5,
                },
            ],
        }
    }

    #[test]
    fn usd_pairs_use_the_currency_leg_in_both_directions() {
        let t = table();
        assert_eq!(t.pair_half_bps(CurrencyId::USD, CurrencyId(2)), 10.0);
        assert_eq!(t.pair_half_bps(CurrencyId(2), CurrencyId::USD), 10.0);
        assert_eq!(t.pair_half_bps(CurrencyId(2), CurrencyId(2)), 0.0);
    }

    #[test]
    fn crosses_default_to_multiple_of_usd_legs_unless_given() {
        let t = table();
        // 2 × (4 + 10) = 28 bps
        assert_eq!(t.pair_half_bps(CurrencyId(1), CurrencyId(2)), 28.0);
        assert_eq!(t.pair_half_bps(CurrencyId(2), CurrencyId(1)), 28.0);
        // explicit, either order
        assert_eq!(t.pair_half_bps(CurrencyId(3), CurrencyId(1)), 40.0);
    }

    #[test]
    fn size_curve_widens_small_and_large_tickets() {
        let t = table();
        assert_eq!(
            t.half_spread_bps(CurrencyId(1), CurrencyId::USD, 5_000.0),
            12.0
        );
        assert_eq!(
            t.half_spread_bps(CurrencyId(1), CurrencyId::USD, 10_000.0),
            12.0
        );
        assert_eq!(
            t.half_spread_bps(CurrencyId(1), CurrencyId::USD, 500_000.0),
            4.0
        );
        assert_eq!(t.half_spread_bps(CurrencyId(1), CurrencyId::USD, 5e7), 6.0);
    }

    #[test]
    fn widened_quotes_stay_under_the_bound() {
        assert_eq!(capped_half_bps(120.0), 120.0);
        assert_eq!(capped_half_bps(9_000.0), MAX_HALF_SPREAD_BPS);
        assert_eq!(capped_half_bps(f64::INFINITY), MAX_HALF_SPREAD_BPS);
        assert_eq!(capped_half_bps(f64::NAN), MAX_HALF_SPREAD_BPS);
    }

    #[test]
    fn fractions_without_division_are_the_division_bit_for_bit() {
        // Every n of the range would take seconds; every n up to 200 000 and a stride through
        // the rest cover each remainder class many times over (the rule depends on n mod
        // 10 000 only).
        let check = |n: i64| {
            let want = Decimal::new(n, 4) / Decimal::from(10_000);
            let got = fraction_of_ten_thousandths(i128::from(n)).unwrap();
            assert_eq!(got.serialize(), want.serialize(), "{n}");
        };
        (0..=200_000).for_each(check);
        (200_001..=60_000_000).step_by(997).for_each(check);
        check(60_000_000);
        assert_eq!(fraction_of_ten_thousandths(60_000_001), None);
        assert_eq!(fraction_of_ten_thousandths(-1), None);
    }

    #[test]
    fn bps_become_exact_fractions() {
        assert_eq!(bps_to_fraction(25.0), Decimal::new(25, 4));
        assert_eq!(bps_to_fraction(0.5), Decimal::new(5, 5));
    }
}
