//! Settlement rails: one file per kind, behind one interface. A rail is a state machine that
//! moves one payment through its steps ([`Rail::step`]), plus the shared state it owns (a
//! nostro's balance, say) and the timers that state needs ([`Rail::timer`]).
//!
//! Adding a kind is one new file and one arm in [`RailParams`] and [`Rail`].

pub mod bilateral;
pub mod correspondent;
mod payment;

use rand::RngExt;
use rand_distr::StandardNormal;
use rust_decimal::Decimal;

pub use payment::{Bearer, Payment, Status};

use crate::Result;
use crate::engine::Time;
use crate::ledger::Ledger;
use crate::money::{CurrencyId, minor_from_f64};
use crate::world::World;

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
        world: &World,
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
            usd * world.fx.mid(ccy, t)
        };
        world.currencies.round(ccy, local)
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
        (self.draw(rng) * 60.0).round() as Time
    }
}

/// A discrete distribution of small counts.
#[derive(Debug, Clone, PartialEq)]
pub struct CountChoice {
    pub values: Vec<u8>,
    /// Cumulative weights, last = 1.
    pub cumulative: Vec<f64>,
}

impl CountChoice {
    pub fn draw(&self, rng: &mut impl rand::Rng) -> u8 {
        if self.values.len() == 1 {
            return self.values[0];
        }
        let u: f64 = rng.random();
        let i = self
            .cumulative
            .partition_point(|&c| c <= u)
            .min(self.values.len() - 1);
        self.values[i]
    }
}

/// Validated parameters of a rail, by kind.
// A handful of rails per run, built once: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum RailParams {
    Correspondent(correspondent::Params),
    Bilateral(bilateral::Params),
}

/// A rail as declared in the scenario.
#[derive(Debug, Clone)]
pub struct RailSpec {
    pub name: String,
    pub params: RailParams,
}

impl RailSpec {
    pub fn kind(&self) -> &'static str {
        match self.params {
            RailParams::Correspondent(_) => "correspondent",
            RailParams::Bilateral(_) => "bilateral",
        }
    }

    /// Whether the rail can carry a payment from `importer` to `exporter` (member codes).
    pub fn serves(&self, exporter: &str, importer: &str) -> bool {
        match &self.params {
            RailParams::Correspondent(_) => true,
            RailParams::Bilateral(p) => p.serves(exporter, importer),
        }
    }
}

/// What a rail's step asks the simulator to do with the payment next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Step again at this instant.
    At(Time),
    /// The rail holds the payment and will wake it (through [`Ctx::wake`]).
    Park,
    /// The payment is finished (its status says how).
    Done,
    /// The rail cannot take the payment now: try the route's fallback. Nothing was booked.
    Fallback,
}

/// What a rail may touch while it works: the fixed world, the ledger, and requests back to the
/// simulator.
pub struct Ctx<'a> {
    pub now: Time,
    pub world: &'a World,
    pub ledger: &'a mut Ledger,
    /// Timers the rail asks for: (instant, token), delivered back to [`Rail::timer`].
    pub timers: &'a mut Vec<(Time, u32)>,
    /// Parked payments (slots) to step again now, in this order.
    pub wake: &'a mut Vec<u32>,
}

/// Liquidity a rail keeps prefunded, measured over the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiquidityStats {
    pub peak_usd: f64,
    /// Time-weighted mean over the run.
    pub mean_usd: f64,
    pub carry_usd: f64,
}

/// A rail with its state during one replication.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Rail {
    Correspondent(correspondent::Correspondent),
    Bilateral(bilateral::Bilateral),
}

impl Rail {
    /// Builds the rail's run-time state; `expected_flow_usd[(importer, exporter)]` is the
    /// annual value the routes send to it, per member pair.
    pub fn new(
        spec: &RailSpec,
        index: usize,
        world: &World,
        ledger: &mut Ledger,
        expected_flow_usd: &[Vec<f64>],
    ) -> Result<Rail> {
        Ok(match &spec.params {
            RailParams::Correspondent(p) => Rail::Correspondent(correspondent::Correspondent::new(
                p.clone(),
                index,
                world,
                ledger,
            )?),
            RailParams::Bilateral(p) => Rail::Bilateral(bilateral::Bilateral::new(
                p.clone(),
                index,
                world,
                ledger,
                expected_flow_usd,
            )?),
        })
    }

    /// Advances `p` (in slot `slot`) by one step at `ctx.now`.
    pub fn step(&mut self, ctx: &mut Ctx, slot: u32, p: &mut Payment) -> Result<Next> {
        match self {
            Rail::Correspondent(r) => r.step(ctx, p),
            Rail::Bilateral(r) => r.step(ctx, slot, p),
        }
    }

    /// A timer this rail asked for has come due.
    pub fn timer(&mut self, ctx: &mut Ctx, token: u32) -> Result<()> {
        match self {
            Rail::Correspondent(_) => Ok(()),
            Rail::Bilateral(r) => r.timer(ctx, token),
        }
    }

    /// Closes a day: accrues carry up to `now`, samples prefunded liquidity, and returns the
    /// carry cost (USD) accrued since the last close, to be allocated to the day's payments.
    pub fn end_of_day(&mut self, world: &World, ledger: &Ledger, now: Time) -> f64 {
        match self {
            Rail::Correspondent(_) => 0.0,
            Rail::Bilateral(r) => {
                r.sample(world, ledger, now);
                r.take_carry_usd()
            }
        }
    }

    /// Prefunded balances by holder and currency at `now`: (holder, currency, balance, balance_usd).
    pub fn balances(
        &self,
        world: &World,
        ledger: &Ledger,
        now: Time,
    ) -> Vec<(String, CurrencyId, Decimal, Decimal)> {
        match self {
            Rail::Correspondent(_) => Vec::new(),
            Rail::Bilateral(r) => r.balances(world, ledger, now),
        }
    }

    pub fn liquidity(&self) -> LiquidityStats {
        match self {
            Rail::Correspondent(_) => LiquidityStats::default(),
            Rail::Bilateral(r) => r.liquidity(),
        }
    }
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
    fn count_choice_draws_by_weight() {
        let c = CountChoice {
            values: vec![0, 1, 2],
            cumulative: vec![0.2, 0.7, 1.0],
        };
        let mut rng = crate::experiment::streams::from_seed(5);
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
