//! Exchange rates: each currency's mid rate per USD over time ([`process`]) and the dealer
//! quotes around it ([`quote`]). Cross rates come from the USD rates, so every triangle is
//! consistent by construction.

pub mod depth;
pub mod process;
pub mod quote;

use rust_decimal::Decimal;

use crate::engine::Time;
use crate::money::{Currencies, CurrencyId};

pub use process::{CurrencyProcess, FxError, FxPath, Regime};
pub use quote::{SizeBand, SpreadTable};

/// The exchange-rate side of a run: the simulated mid path and the spread table.
#[derive(Debug, Clone)]
pub struct Fx {
    pub path: FxPath,
    pub spreads: SpreadTable,
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
}

impl Fx {
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

    /// The client rate (units of `to` per unit of `from`) for a ticket of `ticket_usd`:
    /// mid less the half-spread, so the client always receives less than at the mid.
    fn client_rate(
        &self,
        from: CurrencyId,
        to: CurrencyId,
        t: Time,
        ticket_usd: f64,
        factor: f64,
    ) -> (Decimal, Decimal, f64) {
        let mid = self.cross_mid(from, to, t);
        let half_bps = self.spreads.half_spread_bps(from, to, ticket_usd) * factor;
        let rate = mid * (Decimal::ONE - quote::bps_to_fraction(half_bps));
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
        Conversion {
            from,
            to,
            at: t,
            given,
            received: currencies.round(to, given * rate),
            received_at_mid: given * mid,
            mid,
            half_spread_bps,
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
        let given = currencies.round(from, received / rate);
        Conversion {
            from,
            to,
            at: t,
            given,
            received,
            received_at_mid: given * mid,
            mid,
            half_spread_bps,
        }
    }
}
