//! The fixed setting of one replication: currencies, members with their calendars and
//! accounts, and the exchange-rate path. Rails read it; only the ledger changes during a run.

use rust_decimal::Decimal;

use crate::calendar::{Calendar, CalendarSpec};
use crate::fx::Fx;
use crate::ledger::{AccountId, Ledger};
use crate::money::{Currencies, CurrencyId};

/// A member state as the scenario gives it (validated): what rails may check their member
/// codes against, and what [`Member`] is built from.
#[derive(Debug, Clone)]
pub struct MemberSpec {
    pub code: String,
    pub name: String,
    pub currency: CurrencyId,
    pub calendar: CalendarSpec,
}

/// A member state as the rails see it.
#[derive(Debug)]
pub struct Member {
    pub code: String,
    pub currency: CurrencyId,
    pub calendar: Calendar,
    /// The member's importers and exporters, in its home currency.
    pub clients: AccountId,
    /// The member's banks: home-currency book.
    pub bank_home: AccountId,
    /// Fees collected by the member's banks, in home currency.
    pub fees_home: AccountId,
}

/// Everything fixed during a replication.
#[derive(Debug)]
pub struct World {
    /// Sim time 0, and how many days of calendars were precomputed.
    pub epoch: chrono::DateTime<chrono::Utc>,
    pub span_days: u32,
    /// End of the trading period (no initiations after it). Liquidity is costed up to here:
    /// balances kept only while the last payments drain are an artefact of the horizon.
    pub trade_end: crate::engine::Time,
    pub currencies: Currencies,
    pub members: Vec<Member>,
    pub fx: Fx,
    /// Annual opportunity cost of idle balances, by currency.
    pub liquidity_cost_pa: Vec<f64>,
    /// The FX dealers' inventory accounts, one per currency.
    pub dealer: Vec<AccountId>,
    /// The scenario's scheduled shocks.
    pub shocks: Vec<crate::shock::Shock>,
}

impl World {
    /// Opens the accounts every run needs: clients, bank books and fee accounts per member, and
    /// a dealer account per currency.
    pub fn open_accounts(
        ledger: &mut Ledger,
        currencies: &Currencies,
        members: &[(String, CurrencyId)],
    ) -> (Vec<(AccountId, AccountId, AccountId)>, Vec<AccountId>) {
        let dealer = currencies
            .ids()
            .map(|c| ledger.open(&format!("dealer:{}", currencies.code(c)), c, false))
            .collect();
        let per_member = members
            .iter()
            .map(|(code, ccy)| {
                let clients = ledger.open(&format!("clients:{code}"), *ccy, false);
                // The clients' postings are what a payment's cost is measured from.
                ledger.watch(clients);
                (
                    clients,
                    ledger.open(
                        &format!("bank:{code}:{}", currencies.code(*ccy)),
                        *ccy,
                        false,
                    ),
                    ledger.open(
                        &format!("fees:{code}:{}", currencies.code(*ccy)),
                        *ccy,
                        false,
                    ),
                )
            })
            .collect();
        (per_member, dealer)
    }

    /// USD value of `amount` of `ccy` at the mid of `t`.
    #[inline]
    pub fn usd(&self, ccy: CurrencyId, amount: Decimal, t: crate::engine::Time) -> Decimal {
        self.fx.to_usd(ccy, amount, t)
    }
}
