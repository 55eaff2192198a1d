//! Shared payment terms: who bears the fees, how a payment ended, what it does when a balance
//! is short, fee schedules, delay and discrete distributions. Trade, every rail, the record and the scenario checks use them, so
//! they sit below all of those, beside the market and the books.

use rand::RngExt;
use rand_distr::StandardNormal;
use rust_decimal::Decimal;

use crate::engine::Time;
use crate::fx::Fx;
use crate::money::{Currencies, CurrencyId, minor_from_f64};

/// Who pays the fees (SWIFT field 71A).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bearer {
    /// The payer pays every fee; the full amount arrives.
    Our,
    /// Shared: the payer pays its bank's fee, later fees are deducted from the amount.
    Sha,
    /// The beneficiary pays: every fee is deducted from the amount.
    Ben,
}

impl Bearer {
    pub fn as_str(self) -> &'static str {
        match self {
            Bearer::Our => "OUR",
            Bearer::Sha => "SHA",
            Bearer::Ben => "BEN",
        }
    }
}

/// How a payment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// In flight.
    Pending,
    /// Credited to the exporter.
    Settled,
    /// Rejected on the way and credited back to the importer.
    Returned,
    /// Could not be carried out (no rail could take it).
    Failed,
    /// Still in flight when the run ended.
    Unsettled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Settled => "settled",
            Status::Returned => "returned",
            Status::Failed => "failed",
            Status::Unsettled => "unsettled",
        }
    }
}

/// What a payment does when the prefunded balance it needs (a nostro, a bridge account)
/// cannot cover it. Rails with a balance to run short of share it, so it is read and checked in
/// one place ([`crate::input::Checker::on_short`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnShort {
    /// Wait for the next top-up.
    Wait,
    /// Go to the route's fallback rail.
    Fallback,
}

/// A fee schedule in USD: `flat + bps × amount`, clamped to `[min, max]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeeSchedule {
    pub flat_usd: Decimal,
    /// bps of the amount, as a fraction (15 bps = 0.0015).
    pub rate: Decimal,
    pub min_usd: Decimal,
    pub max_usd: Option<Decimal>,
}

impl FeeSchedule {
    pub fn is_zero(&self) -> bool {
        self.flat_usd.is_zero() && self.rate.is_zero() && self.min_usd.is_zero()
    }

    /// The fee in USD on a principal worth `amount_usd`, in whole cents: tariffs are priced
    /// in cents, and a fee that is a clean decimal does not flip at a half-cent tie when the
    /// principal's USD value carries noise in its 20th digit.
    pub fn usd(&self, amount_usd: Decimal) -> Decimal {
        if self.is_zero() {
            return Decimal::ZERO;
        }
        let mut fee = crate::money::round_minor(self.flat_usd + self.rate * amount_usd.abs(), 2);
        if fee < self.min_usd {
            fee = self.min_usd;
        }
        if let Some(max) = self.max_usd {
            fee = fee.min(max);
        }
        fee
    }

    /// The fee in `ccy`, at the mid of `t`, rounded to the currency's minor units.
    pub fn in_currency(
        &self,
        fx: &Fx,
        currencies: &Currencies,
        ccy: CurrencyId,
        amount_usd: Decimal,
        t: Time,
    ) -> Decimal {
        let usd = self.usd(amount_usd);
        if usd.is_zero() {
            return Decimal::ZERO;
        }
        let local = if ccy == CurrencyId::USD {
            usd
        } else {
            usd * fx.mid(ccy, t)
        };
        currencies.round(ccy, local)
    }
}

/// A lognormal duration: `median × exp(sigma × N(0,1))`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delay {
    pub median: f64,
    pub sigma: f64,
}

impl Delay {
    pub fn fixed(median: f64) -> Self {
        Self { median, sigma: 0.0 }
    }

    /// One draw, in the delay's own unit. Draws nothing when sigma is 0, so fixed delays leave
    /// the stream untouched.
    pub fn draw(&self, rng: &mut impl rand::Rng) -> f64 {
        if self.sigma == 0.0 {
            return self.median;
        }
        let z: f64 = rng.sample(StandardNormal);
        self.median * (self.sigma * z).exp()
    }

    /// A draw in minutes, as whole seconds.
    pub fn draw_min_s(&self, rng: &mut impl rand::Rng) -> Time {
        crate::money::round_f64(self.draw(rng) * 60.0) as Time
    }
}

/// A discrete distribution: `values[i]` with cumulative weights `cumulative[i]` (last = 1). One
/// type for every such draw (an invoice's payment terms in days, a chain's count of
/// intermediaries).
#[derive(Debug, Clone, PartialEq)]
pub struct Discrete<T> {
    pub values: Vec<T>,
    /// Cumulative weights, last = 1.
    pub cumulative: Vec<f64>,
}

impl<T: Copy> Discrete<T> {
    /// One draw; always takes one uniform from the stream.
    pub fn draw(&self, rng: &mut impl rand::Rng) -> T {
        let u: f64 = rng.random();
        self.values[pick(&self.cumulative, u)]
    }

    /// One draw, taking nothing from the stream when there is only one value (so a fixed
    /// count leaves the stream as it was). The dollar chain's intermediaries are drawn this
    /// way and invoice terms with [`Discrete::draw`]; the two are kept apart because streams
    /// are still shared by position, and changing either would change every later draw.
    pub fn draw_unless_fixed(&self, rng: &mut impl rand::Rng) -> T {
        if self.values.len() == 1 {
            return self.values[0];
        }
        self.draw(rng)
    }
}

/// Draws an index from cumulative shares (last = 1).
pub fn pick(cumulative: &[f64], u: f64) -> usize {
    cumulative
        .partition_point(|&c| c <= u)
        .min(cumulative.len() - 1)
}

/// A USD amount in the scenario (f64) as exact cents.
pub fn usd(amount: f64) -> Decimal {
    minor_from_f64(amount, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn fee_schedule_clamps_to_min_and_max() {
        // 0.15 %, min $35, max $300 (KICB OUR tariff)
        let f = FeeSchedule {
            flat_usd: d("0"),
            rate: d("0.0015"),
            min_usd: d("35"),
            max_usd: Some(d("300")),
        };
        assert_eq!(f.usd(d("10000")), d("35"));
        assert_eq!(f.usd(d("100000")), d("150.00"));
        // 0.15 % of 74,938.2899… = 112.4074… → 112.41 (whole cents).
        assert_eq!(f.usd(d("74938.2899874920")), d("112.41"));
        assert_eq!(f.usd(d("1000000")), d("300"));
        assert_eq!(FeeSchedule::default().usd(d("1000")), d("0"));
    }

    #[test]
    fn discrete_draws_by_weight() {
        let c = Discrete {
            values: vec![0, 1, 2],
            cumulative: vec![0.2, 0.7, 1.0],
        };
        let mut rng = crate::rng::from_seed(5);
        let mut counts = [0u32; 3];
        for _ in 0..20_000 {
            counts[c.draw(&mut rng) as usize] += 1;
        }
        assert!(
            (counts[0] as f64 / 20_000.0 - 0.2).abs() < 0.015,
            "{counts:?}"
        );
        assert!(
            (counts[1] as f64 / 20_000.0 - 0.5).abs() < 0.015,
            "{counts:?}"
        );
    }
}
