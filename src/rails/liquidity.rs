//! Balances a rail keeps (nostros, bridge accounts, a clearing house's carried positions): their
//! carry cost accrued exactly between balance changes over the whole run (weekends and the
//! drain period included), what payments drew from each, and daily samples for peak and mean.
//!
//! Allocation (docs/model.md, "Liquidity"): a balance's carry over the run, divided by the value
//! paid out of it over the run, is its cost per dollar used; each payment pays that rate on what
//! it drew from each balance. So only the payments that use a balance pay for it, a payment's
//! charge does not depend on how many others settled the same day, and all carry is charged;
//! the carry of a balance nobody used is reported as unallocated. A balance below zero (a
//! clearing house's position with a creditor) is liquidity advanced to its holder: it carries
//! on its size, like any other.

use rust_decimal::Decimal;

use super::{Ctx, LiquidityStats, Payment};
use crate::Result;
use crate::engine::{Time, YEAR_S};
use crate::fx::Conversion;
use crate::ledger::{AccountId, Ledger};
use crate::money::CurrencyId;
use crate::world::World;

/// One prefunded balance held in the ledger.
#[derive(Debug, Clone)]
pub struct Prefunded {
    /// Who holds it, e.g. `TR@KZ` (a Turkish bank's account at a Kazakh bank).
    pub holder: String,
    pub ccy: CurrencyId,
    pub account: AccountId,
    last_t: Time,
    /// Carry accrued on it so far, USD.
    carry_usd: f64,
    /// Value paid out of it for payments so far, USD.
    used_usd: f64,
    /// Dollars bought and sold to fund it at the market so far.
    funding_usd_bought: f64,
    funding_usd_sold: f64,
    /// Spread of converting it at the market that its rail books into the conversions of the
    /// payments that used it ([`Pool::converted`]), USD.
    converted_spread_usd: f64,
}

/// What one balance costs per dollar paid out of it over the run: its carry (with the spread of
/// funding it), and the dollars bought and sold to fund it — a design's dollar needs, even when
/// its payments convert no dollars themselves. The simulator charges these to the payments;
/// `spread_usd`, the spread of converting the balance that its rail books itself into the
/// payments' own conversions (a clearing house's carried positions), is the rail's to charge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerDollar {
    pub carry_usd: f64,
    pub usd_bought: f64,
    pub usd_sold: f64,
    pub spread_usd: f64,
}

pub use crate::record::Balance;

/// What a funding trade lost to the quote against the mid, USD at the mid of its moment.
fn spread_lost_usd(c: &Conversion, ctx: &Ctx) -> f64 {
    let lost = c.received_at_mid - c.received;
    crate::money::to_f64(ctx.world.fx.to_usd(c.to, lost, c.at))
}

/// The prefunded balances of one rail.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    accounts: Vec<Prefunded>,
    carry_total_usd: f64,
    samples: u64,
    sum_usd: f64,
    peak_usd: f64,
}

impl Pool {
    /// Adds a balance; returns its index in the pool.
    pub fn add(&mut self, holder: String, ccy: CurrencyId, account: AccountId) -> usize {
        self.accounts.push(Prefunded {
            holder,
            ccy,
            account,
            last_t: 0,
            carry_usd: 0.0,
            used_usd: 0.0,
            funding_usd_bought: 0.0,
            funding_usd_sold: 0.0,
            converted_spread_usd: 0.0,
        });
        self.accounts.len() - 1
    }

    pub fn get(&self, k: usize) -> &Prefunded {
        &self.accounts[k]
    }

    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// Accrues balance `k`'s carry up to `now`, on its size (a balance below zero is liquidity
    /// advanced to its holder). Call it before every change of the balance.
    pub fn accrue(&mut self, world: &World, ledger: &Ledger, k: usize, now: Time) {
        let a = &mut self.accounts[k];
        if now > a.last_t {
            let balance = ledger.balance(a.account).abs();
            let bal_usd = crate::money::to_f64(world.fx.to_usd(a.ccy, balance, now));
            let rate = world.liquidity_cost_pa[a.ccy.index()];
            let carry = bal_usd * rate * (now - a.last_t) as f64 / YEAR_S as f64;
            a.carry_usd += carry;
            self.carry_total_usd += carry;
            a.last_t = now;
        }
    }

    /// Balance `k` was funded at the market: the spread lost (USD) is added to its carry, so the
    /// payments that use it pay it, and the dollars bought and sold count as theirs too.
    pub fn funded(&mut self, k: usize, spread_usd: f64, usd_bought: f64, usd_sold: f64) {
        let a = &mut self.accounts[k];
        a.carry_usd += spread_usd;
        a.funding_usd_bought += usd_bought;
        a.funding_usd_sold += usd_sold;
        self.carry_total_usd += spread_usd;
    }

    /// Tops balance `k` up by `amount` of its currency, bought with dollars from `treasury` at
    /// the dealers' market quote (the trade counts towards market depth); the spread and the
    /// dollars count against the balance ([`Pool::funded`]).
    pub fn buy(
        &mut self,
        ctx: &mut Ctx,
        k: usize,
        treasury: AccountId,
        amount: Decimal,
    ) -> Result<()> {
        let (w, account, ccy) = (ctx.world, self.accounts[k].account, self.accounts[k].ccy);
        let ticket_usd = crate::money::to_f64(w.fx.to_usd(ccy, amount, ctx.now));
        let conv = ctx.convert_to(CurrencyId::USD, ccy, amount, ticket_usd);
        ctx.post(treasury, w.dealer[CurrencyId::USD.index()], conv.given)?;
        ctx.post(w.dealer[ccy.index()], account, conv.received)?;
        let sold = crate::money::to_f64(conv.given);
        self.funded(k, spread_lost_usd(&conv, ctx), 0.0, sold);
        Ok(())
    }

    /// Sweeps `amount` of balance `k`'s currency back to dollars in `treasury` at the dealers'
    /// market quote; the spread and the dollars count against the balance.
    pub fn sell(
        &mut self,
        ctx: &mut Ctx,
        k: usize,
        treasury: AccountId,
        amount: Decimal,
    ) -> Result<()> {
        let (w, account, ccy) = (ctx.world, self.accounts[k].account, self.accounts[k].ccy);
        let ticket_usd = crate::money::to_f64(w.fx.to_usd(ccy, amount, ctx.now));
        let conv = ctx.convert_from(ccy, CurrencyId::USD, amount, ticket_usd);
        ctx.post(account, w.dealer[ccy.index()], conv.given)?;
        ctx.post(w.dealer[CurrencyId::USD.index()], treasury, conv.received)?;
        let bought = crate::money::to_f64(conv.received);
        self.funded(k, spread_lost_usd(&conv, ctx), bought, 0.0);
        Ok(())
    }

    /// Balance `k` was converted at the market by its rail, on behalf of the payments that use
    /// it (a clearing house converting a member's carried position at a cycle with none of that
    /// member's items): the spread lost (USD) is charged per dollar used, by the rail itself in
    /// those payments' own conversions ([`PerDollar::spread_usd`]); the dollars bought and sold
    /// count as theirs, like funding dollars.
    pub fn converted(&mut self, k: usize, spread_usd: f64, usd_bought: f64, usd_sold: f64) {
        let a = &mut self.accounts[k];
        a.converted_spread_usd += spread_usd;
        a.funding_usd_bought += usd_bought;
        a.funding_usd_sold += usd_sold;
    }

    /// Payment `p` draws `amount` (of the balance's currency) from balance `k`: recorded on the
    /// balance and on the payment, valued at the payment's t0 mid, so that the payment can be
    /// charged the balance's carry per dollar once the run has ended.
    pub fn used_by(&mut self, world: &World, p: &mut Payment, k: usize, amount: Decimal) {
        let usd = p.usd0(world, self.accounts[k].ccy, amount).to_f64();
        self.used_usd(p, k, usd);
    }

    /// Payment `p` relies on balance `k` for `usd` (USD at its t0 mids) without drawing that
    /// much of its currency: a clearing house's carried position with a member stands behind
    /// every item of that member, by the item's value. Recorded as [`Pool::used_by`] records.
    pub fn used_usd(&mut self, p: &mut Payment, k: usize, usd: f64) {
        self.accounts[k].used_usd += usd;
        p.uses.push((p.rail as u16, k as u16, usd));
    }

    /// Each balance's carry and funding dollars per dollar paid out of it over the run (None:
    /// never used), once the run has ended.
    pub fn rates(&self) -> Vec<Option<PerDollar>> {
        self.accounts
            .iter()
            .map(|a| {
                (a.used_usd > 0.0).then(|| PerDollar {
                    carry_usd: a.carry_usd / a.used_usd,
                    usd_bought: a.funding_usd_bought / a.used_usd,
                    usd_sold: a.funding_usd_sold / a.used_usd,
                    spread_usd: a.converted_spread_usd / a.used_usd,
                })
            })
            .collect()
    }

    /// The carry of balances no payment used, USD, with the spread of converting them
    /// ([`Pool::converted`]): charged to no payment, so reported.
    pub fn unallocated_usd(&self) -> f64 {
        // Starts from +0.0: an empty f64 sum is −0.0, which would print as "-0.00".
        self.accounts
            .iter()
            .filter(|a| a.used_usd <= 0.0)
            .fold(0.0, |sum, a| sum + a.carry_usd + a.converted_spread_usd)
    }

    /// Closes a day: accrues every balance to `now` and samples the total of their sizes (during
    /// trade only).
    pub fn end_of_day(&mut self, world: &World, ledger: &Ledger, now: Time) {
        for k in 0..self.accounts.len() {
            self.accrue(world, ledger, k, now);
        }
        if now <= world.trade_end {
            let total: f64 = self
                .accounts
                .iter()
                .map(|a| {
                    let balance = ledger.balance(a.account).abs();
                    crate::money::to_f64(world.fx.to_usd(a.ccy, balance, now))
                })
                .sum();
            self.samples += 1;
            self.sum_usd += total;
            self.peak_usd = self.peak_usd.max(total);
        }
    }

    /// Every balance at `now`.
    pub fn balances(&self, world: &World, ledger: &Ledger, now: Time) -> Vec<Balance> {
        self.accounts
            .iter()
            .map(|a| {
                let balance = ledger.balance(a.account);
                Balance {
                    holder: a.holder.clone(),
                    ccy: a.ccy,
                    balance,
                    balance_usd: world.fx.to_usd(a.ccy, balance, now),
                }
            })
            .collect()
    }

    pub fn stats(&self) -> LiquidityStats {
        LiquidityStats {
            peak_usd: self.peak_usd,
            mean_usd: if self.samples > 0 {
                self.sum_usd / self.samples as f64
            } else {
                0.0
            },
            carry_usd: self.carry_total_usd,
            carry_unallocated_usd: self.unallocated_usd(),
            ..LiquidityStats::default()
        }
    }
}
