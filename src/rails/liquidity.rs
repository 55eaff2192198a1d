//! Prefunded balances a rail keeps (nostros, bridge accounts, netting collateral): their carry
//! cost accrued exactly between balance changes, and daily samples for peak and mean.

use super::LiquidityStats;
use crate::engine::{Time, YEAR_S};
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
}

pub use crate::record::Balance;

/// The prefunded balances of one rail.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    accounts: Vec<Prefunded>,
    /// Carry accrued but not yet handed to payments.
    carry_pending_usd: f64,
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

    /// Accrues balance `k`'s carry up to `now`. Call it before every change of the balance.
    /// Liquidity is costed over the trading period only (`world.trade_end`).
    pub fn accrue(&mut self, world: &World, ledger: &Ledger, k: usize, now: Time) {
        let now = now.min(world.trade_end);
        let a = &mut self.accounts[k];
        if now > a.last_t {
            let bal_usd =
                crate::money::to_f64(world.fx.to_usd(a.ccy, ledger.balance(a.account), now));
            let rate = world.liquidity_cost_pa[a.ccy.index()];
            let carry = bal_usd * rate * (now - a.last_t) as f64 / YEAR_S as f64;
            self.carry_pending_usd += carry;
            self.carry_total_usd += carry;
            a.last_t = now;
        }
    }

    /// Closes a day: accrues every balance to `now`, samples the total (during trade only) and
    /// returns the carry accrued since the last close.
    pub fn end_of_day(&mut self, world: &World, ledger: &Ledger, now: Time) -> f64 {
        for k in 0..self.accounts.len() {
            self.accrue(world, ledger, k, now);
        }
        if now <= world.trade_end {
            let total: f64 = self
                .accounts
                .iter()
                .map(|a| {
                    crate::money::to_f64(world.fx.to_usd(a.ccy, ledger.balance(a.account), now))
                })
                .sum();
            self.samples += 1;
            self.sum_usd += total;
            self.peak_usd = self.peak_usd.max(total);
        }
        std::mem::take(&mut self.carry_pending_usd)
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
        }
    }
}
