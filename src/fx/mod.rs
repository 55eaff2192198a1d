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
        Self {
            path,
            spreads,
            shocks,
            quotes: Default::default(),
        }
    }
}

/// A memo of client rates: (mid, rate) is a function of the pair, the tick (which fixes the
/// mids) and the half-spread, and working it out costs two 28-digit divisions and a
/// multiplication. Payments in the same hour on the same pair and size band share it, so most
/// conversions find their rate here. A direct-mapped table: a clash only costs the
/// recomputation, and what is returned is always what the computation gives.
#[derive(Debug, Clone)]
pub struct Quotes {
    quotes: Vec<QuoteSlot>,
    /// The cross mids themselves, by pair and tick (a quote of another size band needs the
    /// same mid, and a cross against the dollar is a 28-digit division).
    mids: Vec<MidSlot>,
}

/// (from, to, tick, half-spread in bps as f64 bits).
type QuoteKey = (CurrencyId, CurrencyId, usize, u64);

/// A quote's key and (mid, rate) on one cache line: a look-up is one line, not one in a table
/// of keys and another in a table of rates (the look-up was a cache miss in most conversions).
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
struct QuoteSlot {
    key: Option<QuoteKey>,
    mid: Decimal,
    rate: Decimal,
}

#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
struct MidSlot {
    key: Option<(CurrencyId, CurrencyId, usize)>,
    mid: Decimal,
}

const QUOTE_SLOTS: usize = 1 << 9;

impl Default for Quotes {
    fn default() -> Self {
        Self {
            quotes: vec![QuoteSlot::default(); QUOTE_SLOTS],
            mids: vec![MidSlot::default(); QUOTE_SLOTS],
        }
    }
}

impl Quotes {
    fn slot(key: &QuoteKey) -> usize {
        let h = (key.2 as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(u64::from(key.0.0) << 8 | u64::from(key.1.0))
            .wrapping_add(key.3.wrapping_mul(0xC2B2_AE3D_27D4_EB4F));
        (h ^ (h >> 29)) as usize % QUOTE_SLOTS
    }

    /// The memoised cross mid of (from, to, tick), or `compute()`'s, remembered.
    fn mid_or(
        &mut self,
        key: (CurrencyId, CurrencyId, usize),
        compute: impl FnOnce() -> Decimal,
    ) -> Decimal {
        let slot = &mut self.mids[Self::slot(&(key.0, key.1, key.2, 0))];
        if slot.key == Some(key) {
            return slot.mid;
        }
        let mid = compute();
        *slot = MidSlot {
            key: Some(key),
            mid,
        };
        mid
    }

    /// The memoised (mid, rate) of `key`, if any.
    fn get(&self, key: &QuoteKey) -> Option<(Decimal, Decimal)> {
        let slot = &self.quotes[Self::slot(key)];
        (slot.key == Some(*key)).then_some((slot.mid, slot.rate))
    }

    /// Remembers (mid, rate) of `key`.
    fn put(&mut self, key: QuoteKey, (mid, rate): (Decimal, Decimal)) {
        self.quotes[Self::slot(&key)] = QuoteSlot {
            key: Some(key),
            mid,
            rate,
        };
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
        let mut quotes = self.quotes.borrow_mut();
        let (mid, rate) = match quotes.get(&(from, to, tick, half_bps.to_bits())) {
            Some(r) => r,
            None => {
                let mid = quotes.mid_or((from, to, tick), || self.cross_mid(from, to, t));
                let rate = mid * (Decimal::ONE - quote::bps_to_fraction(half_bps));
                quotes.put((from, to, tick, half_bps.to_bits()), (mid, rate));
                (mid, rate)
            }
        };
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
