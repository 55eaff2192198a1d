//! Double-entry accounts: every booking moves one amount of one currency from one account to
//! another, so each currency's total across all accounts can only change by explicit issuance.
//! [`Ledger::check_conservation`] proves it at the end of every run.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::money::{Currencies, CurrencyId};

/// Index of an account in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(pub u32);

/// A ledger: named accounts, each in one currency, with balances.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    names: Vec<String>,
    currency: Vec<CurrencyId>,
    balance: Vec<Decimal>,
    /// Where an account may not go below zero (prefunded balances: nostros, bridge accounts).
    must_stay_funded: Vec<bool>,
    by_name: BTreeMap<String, AccountId>,
    /// Explicit issuance per currency (opening balances), indexed by `CurrencyId`.
    issued: Vec<Decimal>,
    postings: u64,
    /// Accounts whose postings are tallied (the clients' accounts): the simulator values each
    /// payment's debits and credits from this tally, independently of the rails' counters.
    watched: Vec<bool>,
    /// What left and what reached watched accounts since the last take, per currency.
    watched_out: Vec<Decimal>,
    watched_in: Vec<Decimal>,
    watched_touched: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LedgerError {
    #[error("posting {amount} from {from} ({from_ccy}) to {to} ({to_ccy}): currencies differ")]
    CurrencyMismatch {
        from: String,
        to: String,
        from_ccy: String,
        to_ccy: String,
        amount: Decimal,
    },
    #[error("conservation violated in {currency}: accounts hold {held}, issued {issued}")]
    NotConserved {
        currency: String,
        held: Decimal,
        issued: Decimal,
    },
    #[error("account {account} would go negative ({balance}) but must stay funded")]
    Overdrawn { account: String, balance: Decimal },
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens (or finds) the account `name` in `ccy`.
    pub fn open(&mut self, name: &str, ccy: CurrencyId, must_stay_funded: bool) -> AccountId {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        let id = AccountId(self.names.len() as u32);
        self.names.push(name.to_string());
        self.currency.push(ccy);
        self.balance.push(Decimal::ZERO);
        self.must_stay_funded.push(must_stay_funded);
        self.by_name.insert(name.to_string(), id);
        if self.issued.len() <= ccy.index() {
            self.issued.resize(ccy.index() + 1, Decimal::ZERO);
            self.watched_out.resize(ccy.index() + 1, Decimal::ZERO);
            self.watched_in.resize(ccy.index() + 1, Decimal::ZERO);
        }
        self.watched.push(false);
        id
    }

    pub fn find(&self, name: &str) -> Option<AccountId> {
        self.by_name.get(name).copied()
    }

    pub fn name(&self, id: AccountId) -> &str {
        &self.names[id.0 as usize]
    }

    pub fn currency(&self, id: AccountId) -> CurrencyId {
        self.currency[id.0 as usize]
    }

    #[inline]
    pub fn balance(&self, id: AccountId) -> Decimal {
        self.balance[id.0 as usize]
    }

    pub fn postings(&self) -> u64 {
        self.postings
    }

    /// Credits an opening balance that did not come from another account: recorded as
    /// issuance so conservation still holds.
    pub fn issue(&mut self, to: AccountId, amount: Decimal) {
        let ccy = self.currency[to.0 as usize];
        self.issued[ccy.index()] += amount;
        self.balance[to.0 as usize] += amount;
    }

    /// Moves `amount` from `from` to `to` (same currency). A prefunded account that would go
    /// below zero is refused and nothing is booked.
    #[inline]
    pub fn post(
        &mut self,
        from: AccountId,
        to: AccountId,
        amount: Decimal,
    ) -> Result<(), LedgerError> {
        let (f, t) = (from.0 as usize, to.0 as usize);
        if self.currency[f] != self.currency[t] {
            return Err(LedgerError::CurrencyMismatch {
                from: self.names[f].clone(),
                to: self.names[t].clone(),
                from_ccy: format!("{:?}", self.currency[f]),
                to_ccy: format!("{:?}", self.currency[t]),
                amount,
            });
        }
        let after = self.balance[f] - amount;
        if self.must_stay_funded[f] && after.is_sign_negative() && !after.is_zero() {
            return Err(LedgerError::Overdrawn {
                account: self.names[f].clone(),
                balance: after,
            });
        }
        self.balance[f] = after;
        self.balance[t] += amount;
        self.postings += 1;
        if self.watched[f] || self.watched[t] {
            let c = self.currency[f].index();
            if self.watched[f] {
                self.watched_out[c] += amount;
            }
            if self.watched[t] {
                self.watched_in[c] += amount;
            }
            self.watched_touched = true;
        }
        Ok(())
    }

    /// Tallies every posting out of and into `id` from now on (a clients' account).
    pub fn watch(&mut self, id: AccountId) {
        self.watched[id.0 as usize] = true;
    }

    /// Hands over what left (`out`) and reached (`in`) the watched accounts since the last
    /// call, per currency with any movement, and starts a new tally. Returns whether any
    /// watched account moved.
    pub fn take_watched(&mut self, mut f: impl FnMut(CurrencyId, Decimal, Decimal)) -> bool {
        if !self.watched_touched {
            return false;
        }
        for c in 0..self.watched_out.len() {
            let (out, inn) = (self.watched_out[c], self.watched_in[c]);
            if !out.is_zero() || !inn.is_zero() {
                f(CurrencyId(c as u16), out, inn);
                self.watched_out[c] = Decimal::ZERO;
                self.watched_in[c] = Decimal::ZERO;
            }
        }
        self.watched_touched = false;
        true
    }

    /// Each currency's total across all accounts equals its issuance, exactly.
    pub fn check_conservation(&self, currencies: &Currencies) -> Result<(), LedgerError> {
        let mut held = vec![Decimal::ZERO; self.issued.len()];
        for (ccy, bal) in self.currency.iter().zip(&self.balance) {
            held[ccy.index()] += *bal;
        }
        for (i, (h, issued)) in held.iter().zip(&self.issued).enumerate() {
            if h != issued {
                return Err(LedgerError::NotConserved {
                    currency: currencies.code(CurrencyId(i as u16)).to_string(),
                    held: *h,
                    issued: *issued,
                });
            }
        }
        Ok(())
    }

    /// Accounts and balances, in opening order.
    pub fn accounts(&self) -> impl Iterator<Item = (AccountId, &str, CurrencyId, Decimal)> {
        (0..self.names.len()).map(move |i| {
            (
                AccountId(i as u32),
                self.names[i].as_str(),
                self.currency[i],
                self.balance[i],
            )
        })
    }

    /// Books directly into a balance without a counterpart. Only for tests of the conservation
    /// check itself.
    #[doc(hidden)]
    pub fn corrupt_for_test(&mut self, id: AccountId, amount: Decimal) {
        self.balance[id.0 as usize] += amount;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros_free::d;

    mod rust_decimal_macros_free {
        pub fn d(s: &str) -> rust_decimal::Decimal {
            s.parse().unwrap()
        }
    }

    #[test]
    fn postings_move_money_and_conserve_it() {
        let mut c = Currencies::new();
        let try_ = c.add("TRY", 2);
        let mut l = Ledger::new();
        let a = l.open("clients:TR", try_, false);
        let b = l.open("bank:TR", try_, false);
        l.post(a, b, d("100.25")).unwrap();
        l.post(b, a, d("0.25")).unwrap();
        assert_eq!(l.balance(a), d("-100.00"));
        assert_eq!(l.balance(b), d("100.00"));
        l.check_conservation(&c).unwrap();
    }

    #[test]
    fn prefunded_accounts_cannot_be_overdrawn() {
        let c = Currencies::new();
        let mut l = Ledger::new();
        let nostro = l.open("nostro", CurrencyId::USD, true);
        let other = l.open("other", CurrencyId::USD, false);
        l.issue(nostro, d("50"));
        assert!(l.post(nostro, other, d("50.01")).is_err());
        assert_eq!(l.balance(nostro), d("50"));
        l.post(nostro, other, d("50")).unwrap();
        l.check_conservation(&c).unwrap();
    }

    #[test]
    fn mixing_currencies_is_refused() {
        let mut c = Currencies::new();
        let kzt = c.add("KZT", 2);
        let mut l = Ledger::new();
        let a = l.open("a", kzt, false);
        let b = l.open("b", CurrencyId::USD, false);
        assert!(matches!(
            l.post(a, b, d("1")),
            Err(LedgerError::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn a_one_sided_booking_is_caught() {
        let mut c = Currencies::new();
        let kzt = c.add("KZT", 2);
        let mut l = Ledger::new();
        let a = l.open("a", kzt, false);
        l.issue(a, d("10"));
        l.corrupt_for_test(a, d("0.01"));
        let err = l.check_conservation(&c).unwrap_err();
        assert!(err.to_string().contains("KZT"), "{err}");
    }
}
