//! Exchange rates: each currency's mid rate per USD over time ([`process`]) and the dealer
//! quotes around it ([`quote`]). Cross rates come from the USD rates, so every triangle is
//! consistent by construction.

pub mod depth;
pub mod process;
pub mod quote;

use rust_decimal::Decimal;

use crate::engine::Time;
use crate::money::{Currencies, CurrencyId, Usd};

pub use process::{CurrencyProcess, FxError, FxPath, Regime};
pub use quote::{SizeBand, SpreadTable, VolWidening};

/// The exchange-rate side of a run: the simulated mid path and the spread table.
#[derive(Debug, Clone)]
pub struct Fx {
    pub path: FxPath,
    pub spreads: SpreadTable,
    /// Spread shocks: quotes × a factor inside a window.
    pub shocks: Vec<SpreadShock>,
    /// Client rates already worked out, by pair, tick and half-spread (see [`Quotes`]).
    pub quotes: std::cell::RefCell<Quotes>,
}

/// A spread shock as the quotes see it: in [from, to), quotes on pairs it covers × `factor`.
/// `a`/`b`: both None, every pair; `a` only, every pair with that currency; both, that pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpreadShock {
    pub from: Time,
    pub to: Time,
    pub a: Option<CurrencyId>,
    pub b: Option<CurrencyId>,
    pub factor: f64,
}

impl SpreadShock {
    fn covers(&self, x: CurrencyId, y: CurrencyId, t: Time) -> bool {
        self.from <= t
            && t < self.to
            && match (self.a, self.b) {
                (None, _) => true,
                (Some(c), None) => x == c || y == c,
                (Some(a), Some(b)) => (x == a && y == b) || (x == b && y == a),
            }
    }
}

impl Fx {
    pub fn new(path: FxPath, spreads: SpreadTable, shocks: Vec<SpreadShock>) -> Self {
        let quotes = std::cell::RefCell::new(Quotes::new(path.n_currencies()));
        Self {
            path,
            spreads,
            shocks,
            quotes,
        }
    }
}

/// A memo of client rates: (mid, rate) is a function of the pair, the tick (which fixes the
/// mids) and the half-spread, and working it out costs a 28-digit division (the cross mid)
/// and a multiplication. Conversions on one pair within the hour share the mid, and those of
/// one size band the rate too. Each ordered pair has its own entry with the mid of its latest
/// tick and its last few quotes, side by side: a run quotes a few dozen pairs, so the memo is
/// a few kilobytes that stay in cache (a table hashed over thousands of slots missed the
/// cache on most look-ups, and most quotes are new). What is returned is always what the
/// computation gives.
#[derive(Debug, Clone)]
pub struct Quotes {
    n_ccy: usize,
    /// Entry of the pair (from, to): `from × n_ccy + to`.
    pairs: Vec<PairQuotes>,
}

/// Quotes a pair remembers.
const PAIR_QUOTES: usize = 4;

#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
struct PairQuotes {
    /// The cross mid at tick `mid_tick` (None: none yet).
    mid_tick: Option<usize>,
    mid: Decimal,
    /// (tick, half-spread in bps as f64 bits, rate): the latest quotes, `next` the oldest.
    quotes: [Option<(usize, u64, Decimal)>; PAIR_QUOTES],
    next: usize,
}

impl Quotes {
    fn new(n_ccy: usize) -> Quotes {
        Quotes {
            n_ccy,
            pairs: vec![PairQuotes::default(); n_ccy * n_ccy],
        }
    }

    /// The memoised (mid, rate) of `pair` at `tick` and half-spread bits `bps`, or the ones
    /// `mid()` and `rate(mid)` work out, remembered.
    fn get_or(
        &mut self,
        (from, to): (CurrencyId, CurrencyId),
        tick: usize,
        bps: u64,
        mid: impl FnOnce() -> Decimal,
        rate: impl FnOnce(Decimal) -> Decimal,
    ) -> (Decimal, Decimal) {
        let n = self.n_ccy;
        if from.index() >= n || to.index() >= n {
            // A currency the path does not know: nothing to remember it by.
            let mid = mid();
            return (mid, rate(mid));
        }
        let q = &mut self.pairs[from.index() * n + to.index()];
        if q.mid_tick != Some(tick) {
            q.mid = mid();
            q.mid_tick = Some(tick);
        } else if let Some(&(_, _, r)) = q
            .quotes
            .iter()
            .flatten()
            .find(|(t, b, _)| *t == tick && *b == bps)
        {
            return (q.mid, r);
        }
        let r = rate(q.mid);
        q.quotes[q.next] = Some((tick, bps, r));
        q.next = (q.next + 1) % PAIR_QUOTES;
        (q.mid, r)
    }
}

/// One executed conversion: `given` of `from` bought `received` of `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    pub from: CurrencyId,
    pub to: CurrencyId,
    pub at: Time,
    pub given: Decimal,
    pub received: Decimal,
    /// What `given` would have bought at the mid (unrounded): the spread is measured against it.
    pub received_at_mid: Decimal,
    /// Units of `to` per unit of `from` at the mid.
    pub mid: Decimal,
    pub half_spread_bps: f64,
    /// The client rate applied: units of `to` per unit of `from` (the mid less the quote's
    /// half-spread, or a rail's own rate). The spread is measured from it, so a booking at any
    /// other rate shows in the cost identity.
    pub rate: Decimal,
    /// `given × rate`, unrounded (what a conversion that sells `given` rounds into
    /// `received`): worked out once, where the conversion is made, and valued by the cost
    /// accounting.
    pub at_rate: Decimal,
    /// The most that rounding to minor units may move `received` away from `given × rate`
    /// (in `to`): the cost identity's allowance for this conversion.
    pub rounding_to: Decimal,
}

/// Half of one minor unit of `ccy`: the most rounding to it moves an amount.
pub fn half_unit(currencies: &Currencies, ccy: CurrencyId) -> Decimal {
    Decimal::new(5, currencies.minor_units(ccy) + 1)
}

impl Fx {
    /// The spread shocks' factor on quotes between `a` and `b` at `t` (1 without one): the
    /// dealer table's quotes use it, and so do rails that quote their own spread (the bridge's
    /// platform quote, the unit's conversion spread, the swap line's margin).
    pub fn spread_shock(&self, a: CurrencyId, b: CurrencyId, t: Time) -> f64 {
        self.shocks
            .iter()
            .filter(|s| s.covers(a, b, t))
            .map(|s| s.factor)
            .product()
    }

    /// Mid rate: units of `ccy` per USD at `t`.
    #[inline]
    pub fn mid(&self, ccy: CurrencyId, t: Time) -> Decimal {
        self.path.mid(ccy, t)
    }

    /// Mid cross rate: units of `to` per unit of `from` at `t`.
    pub fn cross_mid(&self, from: CurrencyId, to: CurrencyId, t: Time) -> Decimal {
        if from == to {
            return Decimal::ONE;
        }
        let m_from = self.mid(from, t);
        let m_to = self.mid(to, t);
        if from == CurrencyId::USD {
            m_to
        } else {
            m_to / m_from
        }
    }

    /// Values `amount` of `ccy` in USD at the mid of `t`: amount × (1 / mid), the reciprocal
    /// taken to 16 significant digits (not rounded further).
    #[inline]
    pub fn to_usd(&self, ccy: CurrencyId, amount: Decimal, t: Time) -> Decimal {
        if ccy == CurrencyId::USD {
            amount
        } else {
            amount * self.path.usd_per_unit(ccy, t)
        }
    }

    /// [`Fx::to_usd`] at the fixed scale of a payment's cost accounting: the exact product
    /// `amount × (1 / mid)` rounded once to 10⁻¹⁷ USD (see [`Usd`]).
    #[inline]
    pub fn to_usd_fixed(&self, ccy: CurrencyId, amount: Decimal, t: Time) -> Usd {
        if ccy == CurrencyId::USD {
            Usd::from_decimal(amount)
        } else {
            Usd::product(amount, self.path.usd_per_unit(ccy, t))
        }
    }

    /// The client rate (units of `to` per unit of `from`) for a ticket of `ticket_usd`:
    /// mid less the half-spread (widened by `factor`, market depth, and by the pair's realised
    /// volatility), so the client always receives less than at the mid.
    fn client_rate(
        &self,
        from: CurrencyId,
        to: CurrencyId,
        t: Time,
        ticket_usd: f64,
        factor: f64,
    ) -> (Decimal, Decimal, f64) {
        let half_bps = quote::capped_half_bps(
            self.spreads.half_spread_bps(from, to, ticket_usd)
                * factor
                * self.path.spread_factor(from, to, t)
                * self.spread_shock(from, to, t),
        );
        let tick = self.path.tick(t);
        let (mid, rate) = self.quotes.borrow_mut().get_or(
            (from, to),
            tick,
            half_bps.to_bits(),
            || self.cross_mid(from, to, t),
            |mid| mid * (Decimal::ONE - quote::bps_to_fraction(half_bps)),
        );
        (mid, rate, half_bps)
    }

    /// Sells exactly `given` of `from` for `to` at the dealer's quote.
    pub fn convert_from(
        &self,
        currencies: &Currencies,
        from: CurrencyId,
        to: CurrencyId,
        given: Decimal,
        t: Time,
        ticket_usd: f64,
    ) -> Conversion {
        self.convert_from_scaled(currencies, from, to, given, t, ticket_usd, 1.0)
    }

    /// [`Fx::convert_from`] with the half-spread multiplied by `factor` (market depth).
    #[allow(clippy::too_many_arguments)]
    pub fn convert_from_scaled(
        &self,
        currencies: &Currencies,
        from: CurrencyId,
        to: CurrencyId,
        given: Decimal,
        t: Time,
        ticket_usd: f64,
        factor: f64,
    ) -> Conversion {
        let (mid, rate, half_spread_bps) = self.client_rate(from, to, t, ticket_usd, factor);
        let at_rate = given * rate;
        Conversion {
            from,
            to,
            at: t,
            given,
            received: currencies.round(to, at_rate),
            received_at_mid: given * mid,
            mid,
            half_spread_bps,
            rate,
            at_rate,
            rounding_to: half_unit(currencies, to),
        }
    }

    /// Buys exactly `received` of `to`, paying `from` at the dealer's quote.
    pub fn convert_to(
        &self,
        currencies: &Currencies,
        from: CurrencyId,
        to: CurrencyId,
        received: Decimal,
        t: Time,
        ticket_usd: f64,
    ) -> Conversion {
        self.convert_to_scaled(currencies, from, to, received, t, ticket_usd, 1.0)
    }

    /// [`Fx::convert_to`] with the half-spread multiplied by `factor` (market depth).
    #[allow(clippy::too_many_arguments)]
    pub fn convert_to_scaled(
        &self,
        currencies: &Currencies,
        from: CurrencyId,
        to: CurrencyId,
        received: Decimal,
        t: Time,
        ticket_usd: f64,
        factor: f64,
    ) -> Conversion {
        let (mid, rate, half_spread_bps) = self.client_rate(from, to, t, ticket_usd, factor);
        // The division's rounded result from the mantissas where provably the same, else the
        // division itself (money::quotient_minor).
        let given = crate::money::quotient_minor(received, rate, currencies.minor_units(from))
            .unwrap_or_else(|| currencies.round(from, received / rate));
        Conversion {
            from,
            to,
            at: t,
            given,
            received,
            received_at_mid: given * mid,
            mid,
            half_spread_bps,
            rate,
            at_rate: given * rate,
            rounding_to: half_unit(currencies, from) * rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fx::process::ScheduledJump;

    #[test]
    fn the_quote_memo_returns_what_the_computation_gives_and_spares_repeats() {
        use rand::RngExt;
        let mut rng = crate::rng::from_seed(29);
        // Stand-ins for the cross mid and the rate, distinct for every input.
        let mid_of = |from: usize, to: usize, tick: usize| {
            Decimal::from((from * 10 + to) as u64) + Decimal::new(tick as i64, 6)
        };
        let rate_of = |mid: Decimal, bps: u64| mid - Decimal::new(bps as i64, 9);
        let mut q = Quotes::new(4);
        let (mut mids, mut rates) = (0, 0);
        let mut tick = 0;
        for _ in 0..50_000 {
            // Time moves on now and then; quotes come in three sizes per pair (fewer than a
            // pair remembers).
            tick += usize::from(rng.random::<f64>() < 0.002);
            let (from, to) = (rng.random_range(0..4usize), rng.random_range(0..4usize));
            let bps = rng.random_range(0..3u64);
            let (mid, rate) = q.get_or(
                (CurrencyId(from as u16), CurrencyId(to as u16)),
                tick,
                bps,
                || {
                    mids += 1;
                    mid_of(from, to, tick)
                },
                |m| {
                    rates += 1;
                    rate_of(m, bps)
                },
            );
            assert_eq!(mid, mid_of(from, to, tick));
            assert_eq!(rate, rate_of(mid, bps));
            // Asked again at once: remembered, nothing worked out.
            let again = q.get_or(
                (CurrencyId(from as u16), CurrencyId(to as u16)),
                tick,
                bps,
                || panic!("mid worked out again"),
                |_| panic!("rate worked out again"),
            );
            assert_eq!(again, (mid, rate));
        }
        // Each pair's mid once per tick it is asked at, each quote once per tick.
        assert!(
            mids <= 16 * (tick + 1),
            "{mids} mids over {} ticks",
            tick + 1
        );
        assert!(rates <= 3 * mids, "{rates} rates for {mids} mids");
        // A currency beyond the table is worked out every time, and still right (on either
        // side: (0, 5) is no pair's entry, though 0 × 4 + 5 is (1, 1)'s place).
        for pair in [(9, 1), (0, 5), (1, 4)] {
            let pair = (CurrencyId(pair.0), CurrencyId(pair.1));
            let far = q.get_or(pair, tick, 1, || Decimal::TEN, |m| m);
            assert_eq!(far, (Decimal::TEN, Decimal::TEN));
        }
    }

    #[test]
    fn a_quote_widens_by_the_pair_factor_of_its_moment() {
        // KZT steps 10 % at hour 100: its USD quote and its cross with TRY widen by the
        // factor of that hour (at the cap, 5), the USD quote of TRY does not.
        let calm = |ccy_mid: f64| CurrencyProcess {
            regime: Regime::Float,
            mid0_per_usd: ccy_mid,
            drift_pa: 0.0,
            vol_pa: 0.0,
            jump_rate_pa: 0.0,
            jump_mean: 0.0,
            jump_sd: 0.0,
            band_pct: 0.0,
        };
        let vol = VolWidening {
            elasticity: 1.0,
            halflife_s: 24 * 3600,
            max_multiplier: 5.0,
        };
        let path = FxPath::simulate(
            &[calm(40.0), calm(500.0)],
            &[vec![1.0, 0.0], vec![0.0, 1.0]],
            &[ScheduledJump {
                currency: CurrencyId(2),
                at: 100 * 3600,
                size: 0.1,
            }],
            &[],
            3600,
            200,
            &vol,
            &mut (0..2)
                .map(|i| crate::rng::stream(1, 0, crate::rng::Purpose::Fx, i, 0))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let fx = Fx::new(
            path,
            SpreadTable {
                usd_half_bps: vec![0.0, 4.0, 10.0],
                cross_half_bps: Default::default(),
                cross_multiplier: 2.0,
                size_curve: Vec::new(),
                vol,
            },
            Vec::new(),
        );
        let mut currencies = Currencies::new();
        currencies.add("TRY", 2);
        currencies.add("KZT", 2);
        let (try_, kzt) = (CurrencyId(1), CurrencyId(2));
        let bps = |from, to, h: i64| {
            fx.convert_from(&currencies, from, to, Decimal::from(1000), h * 3600, 1e5)
                .half_spread_bps
        };
        assert_eq!(bps(kzt, CurrencyId::USD, 99), 10.0);
        assert_eq!(bps(kzt, CurrencyId::USD, 100), 50.0);
        assert_eq!(bps(try_, kzt, 99), 28.0);
        assert_eq!(bps(try_, kzt, 100), 140.0);
        assert_eq!(bps(try_, CurrencyId::USD, 100), 4.0);
    }
}
