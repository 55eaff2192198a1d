//! One payment in flight and its cost accounting: every fee posting and every conversion adds
//! to its own component (fees, spread, drift), valued at the mid rates of the payment's start.
//! Nothing is computed as the remainder of the others, so the identity
//! `total = fees + spread + drift` is a real check. The payment also keeps the clock of its
//! principal in transit: from the payer's debit to the payee's credit, in whichever currency it
//! sits, for its float (time value) and principal at risk.

use rust_decimal::Decimal;

use super::{Ctx, Fault};
use crate::Result;
use crate::engine::{HOUR_S, Time, YEAR_S};
use crate::fx::Conversion;
use crate::ledger::AccountId;
use crate::money::{Cents, CurrencyId, Usd};
use crate::rng::Stream;
use crate::terms::{Bearer, FeeSchedule, Status};
use crate::world::World;

/// One conversion's amounts valued at the payment's t0 mids (USD): what was given, what it would
/// have bought at the mid of its moment, at the rate applied (unrounded), what was received, and
/// how far rounding may move the received amount.
#[derive(Debug, Clone, Copy)]
pub struct LegUsd0 {
    pub given: Usd,
    pub at_mid: Usd,
    pub at_rate: Usd,
    pub received: Usd,
    pub rounding: Usd,
}

/// `value × secs / 3 600` in cents, rounded to nearest, from the value's mantissa: None where
/// that may differ from the Decimal steps (see [`Payment::principal_at_risk_cents`]).
fn value_hours_cents(value_usd: Decimal, secs: Time) -> Option<Cents> {
    let secs = u128::try_from(secs).ok()?;
    if value_usd.is_sign_negative() {
        return None;
    }
    let n = value_usd.mantissa().unsigned_abs().checked_mul(secs)?;
    let d = 36 * crate::money::POW10[value_usd.scale() as usize];
    let cents = crate::money::nearest_unless_near_half(n, d)?;
    Some(Cents(i128::try_from(cents).ok()?))
}

/// A payment from an importer (paying its own currency) to an exporter (receiving its own).
#[derive(Debug, Clone)]
pub struct Payment {
    pub id: u64,
    pub corridor: u16,
    pub exporter: usize,
    pub importer: usize,
    pub invoice_ccy: CurrencyId,
    pub invoice_amount: Decimal,
    /// Invoice amount at the t0 mid.
    pub value_usd: Decimal,
    /// The same as a float, for the size curve.
    pub ticket_usd: f64,
    pub bearer: Bearer,
    /// Initiation (cost reference) and invoice date.
    pub t0: Time,
    pub invoiced_at: Time,
    pub rail: usize,
    pub fallback_taken: bool,
    /// Sent to another rail by a shock (an outage's reroute, a sanction).
    pub rerouted: bool,
    /// Time spent waiting out an outage, seconds.
    pub queued_s: Time,
    /// Rail-private progress.
    pub stage: u8,
    pub hops: u8,
    pub hop: u8,
    pub flag: bool,
    /// Principal in flight: amount, currency and the account that holds it.
    pub amount: Decimal,
    pub ccy: CurrencyId,
    /// Principal in flight in a rail's own unit of account, which is no ledger currency (the
    /// common unit): the amount of the unit, and what it was worth at t0 (USD). Zero when the
    /// principal is not in such a unit.
    pub unit_amount: Decimal,
    pub unit_usd0: Usd,
    pub fees_usd: Usd,
    pub spread_usd: Usd,
    pub drift_usd: Usd,
    pub usd_bought: Decimal,
    pub usd_sold: Decimal,
    pub status: Status,
    pub settled_at: Time,
    /// Its stream key: (corridor code, number in the corridor), or (explicit, index).
    pub key: u64,
    pub rng: Stream,
    /// The principal in transit: when the payer was first debited (None: not yet), the carry
    /// rate (a year) of the currency or unit it sits in since `hold_since`, and when it was
    /// credited (the clock stops).
    pub debited_at: Option<Time>,
    pub hold_carry_pa: f64,
    pub hold_since: Time,
    pub credited_at: Option<Time>,
    /// Time value of the principal in transit so far: value × the carry rate of the currency
    /// it sat in × the time it sat there (USD).
    pub float_usd: f64,
    /// What the ledger shows left the clients' accounts and reached them in this payment's
    /// steps, at t0 mids (USD): the simulator tallies it from the postings themselves, so the
    /// cost identity checks the rails' counters against the books.
    pub ledger_debited_usd: Usd,
    pub ledger_credited_usd: Usd,
    /// How far rounding to minor units may move its conversions from their quotes, USD at t0:
    /// the cost identity's allowance.
    pub rounding_allowance_usd: Usd,
    /// The spread measured from each conversion's quote (the rate applied) against the mid,
    /// without rounding: what the run-time identity checks the books against.
    pub spread_quote_usd: Usd,
    /// Prefunded balances it drew from: (rail, balance in the rail's pool, USD at t0), charged
    /// each balance's carry per dollar once the run has ended.
    pub uses: Vec<(u16, u16, f64)>,
}

impl Payment {
    /// Value at the payment's t0 mids, at the fixed scale of its cost accounting ([`Usd`]).
    #[inline]
    pub fn usd0(&self, world: &World, ccy: CurrencyId, amount: Decimal) -> Usd {
        world.fx.to_usd_fixed(ccy, amount, self.t0)
    }

    /// Books a fee of `amount` (in the currency of both accounts) from `from` to `to` and adds
    /// it to `fees_usd`. Zero fees book nothing.
    pub fn fee(
        &mut self,
        ctx: &mut Ctx,
        from: AccountId,
        to: AccountId,
        amount: Decimal,
    ) -> Result<()> {
        if amount.is_zero() {
            return Ok(());
        }
        ctx.post(from, to, amount)?;
        let ccy = ctx.ledger.currency(from);
        self.fees_usd += self.usd0(ctx.world, ccy, amount);
        Ok(())
    }

    /// Debits the payer (the importer's client account) `amount` of its currency into `to`, and
    /// starts the principal's clock at the first debit: from now it sits in the importer's
    /// currency until a conversion moves it.
    pub fn debit(&mut self, ctx: &mut Ctx, to: AccountId, amount: Decimal) -> Result<()> {
        let importer = &ctx.world.members[self.importer];
        ctx.post(importer.clients, to, amount)?;
        if ctx.fault == Some((Fault::FeeOutsideFeePath, self.id)) {
            // A fee (1 % of the debit) the bank takes without going through `fee`: the
            // counters never see it.
            let fee = ctx
                .world
                .currencies
                .round(importer.currency, amount / Decimal::ONE_HUNDRED);
            ctx.post(importer.clients, importer.fees_home, fee)?;
        }
        if self.debited_at.is_none() {
            self.debited_at = Some(ctx.now);
            self.hold_carry_pa = ctx.world.liquidity_cost_pa[importer.currency.index()];
            self.hold_since = ctx.now;
        }
        Ok(())
    }

    /// The principal now sits in `ccy` (from `now`): the float of the interval it sat in the
    /// previous currency is added at that currency's carry rate.
    pub fn hold(&mut self, world: &World, ccy: CurrencyId, now: Time) {
        self.hold_at_carry(world.liquidity_cost_pa[ccy.index()], now);
    }

    /// The principal now sits in something whose carry is `carry_pa` a year (a unit of
    /// account that is no ledger currency, say), from `now`.
    pub fn hold_at_carry(&mut self, carry_pa: f64, now: Time) {
        if self.debited_at.is_none() || self.credited_at.is_some() {
            return;
        }
        self.accrue_float(now);
        self.hold_carry_pa = carry_pa;
    }

    fn accrue_float(&mut self, now: Time) {
        if now > self.hold_since {
            let years = (now - self.hold_since) as f64 / YEAR_S as f64;
            self.float_usd += crate::money::to_f64(self.value_usd) * self.hold_carry_pa * years;
            self.hold_since = now;
        }
    }

    /// The payee (or, for a returned payment, the payer) is credited at `now`: the principal's
    /// clock stops. A payment never debited has no clock to stop.
    pub fn stop_clock(&mut self, now: Time) {
        if self.debited_at.is_none() || self.credited_at.is_some() {
            return;
        }
        self.accrue_float(now);
        self.credited_at = Some(now);
    }

    /// Principal at risk: value (USD at t0) × hours between the debit and the credit (or `end`
    /// for a payment still in transit). Zero for a payment that was never debited, and for an
    /// atomic payment-versus-payment settlement, whose debit and credit are one instant.
    pub fn principal_at_risk_usd_h(&self, end: Time) -> Decimal {
        match self.debited_at {
            None => Decimal::ZERO,
            Some(t) => {
                let until = self.credited_at.unwrap_or(end);
                self.value_usd * Decimal::from(until - t) / Decimal::from(HOUR_S)
            }
        }
    }

    /// [`Payment::principal_at_risk_usd_h`] rounded to the cent (half to even), as printed and
    /// summed. Worked out exactly from the value's mantissa (value × seconds / 36 in cents),
    /// which is what the Decimal steps give wherever the exact figure is not within 10⁻²¹ of a
    /// half-cent ([`crate::money::nearest_unless_near_half`]); there the steps are taken.
    pub fn principal_at_risk_cents(&self, end: Time) -> Cents {
        let exact = match self.debited_at {
            None => Some(Cents(0)),
            Some(t) => value_hours_cents(self.value_usd, self.credited_at.unwrap_or(end) - t),
        };
        exact.unwrap_or_else(|| Cents::of(self.principal_at_risk_usd_h(end).round_dp(2)))
    }

    /// Charges the importer a fee in its own currency (OUR/SHA fees at the originating bank).
    pub fn charge_importer(&mut self, ctx: &mut Ctx, to: AccountId, amount: Decimal) -> Result<()> {
        let from = ctx.world.members[self.importer].clients;
        self.fee(ctx, from, to, amount)?;
        Ok(())
    }

    /// Books a conversion: `from_acct` gives `given` to the dealer of `c.from`; the dealer of
    /// `c.to` pays `received` into `to_acct`. Adds its spread (quote against the mid of the
    /// moment) and drift (mid of the moment against the t0 mid) to the payment.
    pub fn convert(
        &mut self,
        ctx: &mut Ctx,
        c: &Conversion,
        from_acct: AccountId,
        to_acct: AccountId,
    ) -> Result<()> {
        let world = ctx.world;
        if c.from != c.to {
            ctx.post(from_acct, world.dealer[c.from.index()], c.given)?;
            ctx.post(world.dealer[c.to.index()], to_acct, c.received)?;
        } else if from_acct != to_acct {
            ctx.post(from_acct, to_acct, c.given)?;
        }
        self.account_conversion(world, c);
        Ok(())
    }

    /// The cost side of a conversion, without bookings (for conversions the rail books itself).
    pub fn account_conversion(&mut self, world: &World, c: &Conversion) {
        // A same-currency "conversion" moves nothing between currencies (no hold changes, no
        // dollars change hands) but may still cost a spread: a netting item whose two members
        // share a currency bears their share of the cycle's conversions.
        let converts = c.from != c.to;
        if converts {
            self.hold(world, c.to, c.at);
        }
        // Drift from the conversion's mid against the t0 mid; spread from its quote (the rate
        // applied) against the mid of its moment. Neither is a remainder: what the client
        // actually received differs from `given × rate` only by rounding to minor units, which
        // the cost identity allows and nothing more.
        self.account_leg(&LegUsd0 {
            given: self.usd0(world, c.from, c.given),
            at_mid: self.usd0(world, c.to, c.received_at_mid),
            at_rate: self.usd0(world, c.to, c.at_rate),
            received: self.usd0(world, c.to, c.received),
            rounding: self.usd0(world, c.to, c.rounding_to),
        });
        if converts && c.to == CurrencyId::USD {
            self.usd_bought += c.received;
        }
        if converts && c.from == CurrencyId::USD {
            self.usd_sold += c.given;
        }
    }

    /// The cost side of one conversion from its values at the t0 mids (USD), for a conversion
    /// one of whose sides is no ledger currency (a unit of account valued by its rail).
    pub fn account_leg(&mut self, v: &LegUsd0) {
        self.drift_usd += v.given - v.at_mid;
        // The reported spread is everything the conversion lost against the mid, its rounding
        // to minor units included, so the printed columns add up; the run-time identity uses
        // the quote's part alone.
        self.spread_usd += v.at_mid - v.received;
        self.spread_quote_usd += v.at_mid - v.at_rate;
        self.rounding_allowance_usd += v.rounding;
    }

    /// Charges a rail's fee by charge bearer: OUR and SHA pay it in the importer's currency to
    /// the importer's bank; BEN has it deducted from `credit` (in the exporter's currency) at
    /// the exporter's bank. Returns what is left to credit.
    pub fn bearer_fee(
        &mut self,
        ctx: &mut Ctx,
        fee: &FeeSchedule,
        credit: Decimal,
    ) -> Result<Decimal> {
        let (world, now) = (ctx.world, ctx.now);
        let (importer, exporter) = (&world.members[self.importer], &world.members[self.exporter]);
        match self.bearer {
            Bearer::Our | Bearer::Sha => {
                let amount = fee.in_currency(
                    &world.fx,
                    &world.currencies,
                    importer.currency,
                    self.value_usd,
                    now,
                );
                self.charge_importer(ctx, importer.fees_home, amount)?;
                Ok(credit)
            }
            Bearer::Ben => {
                let amount = fee
                    .in_currency(
                        &world.fx,
                        &world.currencies,
                        exporter.currency,
                        self.value_usd,
                        now,
                    )
                    .min(credit);
                self.fee(ctx, exporter.bank_home, exporter.fees_home, amount)?;
                Ok(credit - amount)
            }
        }
    }

    /// Credits the exporter `credit` (its currency) from its bank and marks the payment
    /// settled at `now`.
    pub fn settle(&mut self, ctx: &mut Ctx, credit: Decimal) -> Result<()> {
        self.credit_client(ctx, self.exporter, credit, Status::Settled)
    }

    /// The last booking of every payment: `member`'s bank credits its client `credit` (its
    /// currency) — the exporter when the payment settles, the importer when it comes back —
    /// and the payment ends with `status` at `now`.
    pub fn credit_client(
        &mut self,
        ctx: &mut Ctx,
        member: usize,
        credit: Decimal,
        status: Status,
    ) -> Result<()> {
        let (m, now) = (&ctx.world.members[member], ctx.now);
        ctx.post(m.bank_home, m.clients, credit)?;
        if ctx.fault == Some((Fault::PostingBypassesCounters, self.id)) {
            // 1 % more credited than the payment's counters know of.
            let extra = ctx
                .world
                .currencies
                .round(m.currency, credit / Decimal::ONE_HUNDRED);
            ctx.post(m.bank_home, m.clients, extra)?;
        }
        self.stop_clock(now);
        self.amount = Decimal::ZERO;
        self.status = status;
        self.settled_at = now;
        Ok(())
    }

    /// Value debited from the clients minus value credited to them, at t0 mids, as the ledger
    /// shows it (principal still in flight counts as not yet lost, valued at the t0 mid of its
    /// currency).
    pub fn total_cost_usd(&self, world: &World) -> Usd {
        let mut total = self.ledger_debited_usd - self.ledger_credited_usd;
        if matches!(self.status, Status::Unsettled | Status::Pending) {
            total -= self.usd0(world, self.ccy, self.amount) + self.unit_usd0;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_at_risk_in_cents_is_the_decimal_steps_bit_for_bit() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(19);
        let mut exact = 0;
        for i in 0..400_000 {
            // USD values at t0 mids (2-28 digits, scales up to 26) and delays up to a year;
            // every fourth value placed within a hair of a half-cent of value-hours.
            let secs: Time = rng.random_range(0..=366 * 86_400);
            let digits = rng.random_range(2..=28u32);
            let mut value = Decimal::from_i128_with_scale(
                rng.random_range(1..10i128.pow(digits)),
                rng.random_range(0..=26u32),
            );
            if i % 4 == 0 && secs > 0 {
                let k = Decimal::from(rng.random_range(0..1_000_000_000i64));
                let tie = (k + Decimal::new(5, 1)) * Decimal::from(36) / Decimal::from(secs);
                if let Some(v) =
                    tie.checked_add(Decimal::new(rng.random_range(-3..=3), tie.scale()))
                {
                    value = v.abs();
                }
            }
            let Some(steps) = value
                .checked_mul(Decimal::from(secs))
                .and_then(|x| x.checked_div(Decimal::from(HOUR_S)))
            else {
                continue;
            };
            let want = Cents::of(steps.round_dp(2));
            let got = value_hours_cents(value, secs);
            exact += usize::from(got.is_some());
            if let Some(got) = got {
                assert_eq!(got, want, "{value} × {secs} s");
            }
        }
        assert!(exact > 200_000, "{exact}");
    }
}
