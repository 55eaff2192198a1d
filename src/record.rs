//! What one replication produces, below both the simulator that makes it and the output that
//! writes it: the per-payment record, a sampled prefunded balance, the rows rails report for
//! their own tables (netting cycles), and the [`Sink`] trait they are all handed to.

use rust_decimal::Decimal;

use crate::Result;
use crate::engine::Time;
use crate::money::{Cents, CurrencyId};
use crate::terms::{Bearer, Status};

/// One finished payment, as the simulator hands it to output.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentRecord {
    pub replication: u32,
    pub payment_id: u64,
    pub corridor: u16,
    pub exporter: u16,
    pub importer: u16,
    pub rail: u16,
    pub fallback: bool,
    /// Sent to another rail by a shock; hours spent waiting out an outage.
    pub rerouted: bool,
    pub queued_s: crate::engine::Time,
    pub bearer: Bearer,
    pub invoice_ccy: CurrencyId,
    pub invoice_amount: Decimal,
    pub value_usd: Decimal,
    pub invoiced_at: Time,
    pub initiated_at: Time,
    pub settled_at: Option<Time>,
    pub latency_s: Option<Time>,
    pub within_1h: bool,
    /// Credited on the importer's local date of initiation.
    pub same_day: bool,
    /// Credited by the same local time on the importer's next business day (the G20 measure).
    pub within_1bd: bool,
    pub hops: u8,
    pub fees_usd: Decimal,
    pub spread_usd: Decimal,
    pub drift_usd: Decimal,
    pub liquidity_usd: Decimal,
    /// Time value of the principal in transit (debit to credit), at the carry rate of the
    /// currency it sat in.
    pub float_usd: Decimal,
    /// Value debited minus value credited at t0 mids: fees + spread + drift.
    pub total_cost_usd: Decimal,
    /// Value (USD at t0) × hours between the payer's debit and the payee's credit, rounded
    /// to hundredths (printed like cents).
    pub principal_at_risk_usd_h: Decimal,
    pub usd_bought: Decimal,
    pub usd_sold: Decimal,
    pub status: Status,
    /// Set when the payment's day closes (it needs `liquidity_usd`): see [`cost_bps`].
    pub cost_bps: Decimal,
    /// The USD columns in whole cents, as printed and aggregated; set when the day closes.
    pub cents: UsdCents,
}

/// A payment's USD columns rounded to the cent, once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsdCents {
    pub value: Cents,
    pub fees: Cents,
    pub spread: Cents,
    pub drift: Cents,
    pub liquidity: Cents,
    pub float: Cents,
    pub total: Cents,
    /// fees + spread + drift + liquidity + float, each as printed.
    pub cost: Cents,
    pub usd_bought: Cents,
    pub usd_sold: Cents,
}

impl PaymentRecord {
    /// The payment's whole cost: fees + spread + drift (its `total_cost_usd`) + liquidity +
    /// float, at full precision.
    pub fn cost_usd(&self) -> Decimal {
        self.total_cost_usd + self.liquidity_usd + self.float_usd
    }

    /// Computes `cost_bps` and the cents from the full-precision amounts.
    pub fn close(&mut self) {
        self.cost_bps = cost_bps(self.cost_usd(), self.value_usd);
        let (fees, spread, drift) = (
            Cents::of(self.fees_usd),
            Cents::of(self.spread_usd),
            Cents::of(self.drift_usd),
        );
        let (liquidity, float) = (Cents::of(self.liquidity_usd), Cents::of(self.float_usd));
        self.cents = UsdCents {
            value: Cents::of(self.value_usd),
            fees,
            spread,
            drift,
            liquidity,
            float,
            total: Cents::of(self.total_cost_usd),
            cost: Cents(fees.0 + spread.0 + drift.0 + liquidity.0 + float.0),
            usd_bought: Cents::of(self.usd_bought),
            usd_sold: Cents::of(self.usd_sold),
        };
    }
}

/// `cost_usd / value_usd × 10 000`, to 6 decimals (0 for a zero value).
///
/// Worked out exactly from the mantissas where that is what the Decimal steps (a product, a
/// 28-digit quotient, rounding to 6 decimals) give: everywhere but within 10⁻²¹ of a half of
/// the sixth decimal ([`crate::money::nearest_unless_near_half`]), and not for a zero result
/// (whose sign the steps decide); there, and for very wide operands, the steps are taken.
pub fn cost_bps(cost_usd: Decimal, value_usd: Decimal) -> Decimal {
    if let Some(bps) = cost_bps_exact(cost_usd, value_usd) {
        return bps;
    }
    if value_usd.is_zero() {
        return Decimal::ZERO;
    }
    let mut bps = (cost_usd * Decimal::from(10_000) / value_usd).round_dp(6);
    bps.rescale(6);
    bps
}

/// `cost_bps` as an integer count of 10⁻⁶ bps: |cost| × 10^(10 + value scale − cost scale) /
/// value, rounded; None where [`cost_bps`] takes the Decimal steps.
fn cost_bps_exact(cost_usd: Decimal, value_usd: Decimal) -> Option<Decimal> {
    if value_usd.is_sign_negative() || value_usd.is_zero() || cost_usd.is_zero() {
        return None;
    }
    let pow10 = crate::money::POW10;
    let (mc, mv) = (
        cost_usd.mantissa().unsigned_abs(),
        value_usd.mantissa().unsigned_abs(),
    );
    if mc.checked_mul(10_000).is_none_or(|x| x >> 96 != 0) && cost_usd.scale() == 0 {
        // The product overflows Decimal: the steps fail, and so must this.
        return None;
    }
    let e = 10 + value_usd.scale() as i32 - cost_usd.scale() as i32;
    let (n, d) = if e >= 0 {
        (mc.checked_mul(pow10[e as usize])?, mv)
    } else {
        (mc, mv.checked_mul(pow10[(-e) as usize])?)
    };
    let k = crate::money::nearest_unless_near_half(n, d)?;
    if k == 0 || k >= 1 << 96 {
        return None;
    }
    let k = k as i128;
    Some(Decimal::from_i128_with_scale(
        if cost_usd.is_sign_negative() { -k } else { k },
        6,
    ))
}

/// A balance sampled for liquidity.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    pub holder: String,
    pub ccy: CurrencyId,
    pub balance: Decimal,
    pub balance_usd: Decimal,
}

/// A table a rail kind reports into, besides payments: one CSV file, whose columns are
/// `replication`, `variant`, `rail` and then [`ReportTable::columns`]. Output writes every
/// registered table of every rail kind ([`crate::rails::REPORT_TABLES`]), header and all, so a
/// scenario without such a rail still gets the (empty) file.
#[derive(Debug, PartialEq, Eq)]
pub struct ReportTable {
    /// The file's name, `netting.csv`; its stem (`netting`) is the table's key in the
    /// manifest's row counts.
    pub file: &'static str,
    /// The columns after `rail`.
    pub columns: &'static [&'static str],
}

impl ReportTable {
    /// The file's stem: `netting` for `netting.csv`.
    pub fn key(&self) -> &'static str {
        self.file.strip_suffix(".csv").unwrap_or(self.file)
    }
}

/// One value of a reported row. Each kind says how it is printed, so rails hand over exact
/// values and never format anything themselves.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A whole number.
    Count(u64),
    /// An instant, printed as ISO 8601 UTC.
    Time(Time),
    /// A USD amount at full precision, printed in whole cents.
    Usd(Decimal),
    /// A ratio printed with exactly six decimals; blank when there is none.
    Ratio6(Option<Decimal>),
    /// A member (its index), printed as its code; blank when there is none.
    Member(Option<usize>),
    /// A number rounded to two decimals (trailing zeros as rounding leaves them).
    Round2(Decimal),
}

/// One row a rail reports for one of its tables.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub table: &'static ReportTable,
    /// The rail's index in the scenario.
    pub rail: usize,
    /// One cell per column of the table, in order.
    pub cells: Vec<Cell>,
}

impl ReportRow {
    /// The cell under `column`, if the table has that column.
    pub fn get(&self, column: &str) -> Option<&Cell> {
        let i = self.table.columns.iter().position(|c| *c == column)?;
        self.cells.get(i)
    }
}

/// Where a replication's results go.
pub trait Sink {
    /// A finished payment (settled, returned, failed or unsettled at the end).
    fn payment(&mut self, record: &PaymentRecord) -> Result<()>;
    /// A sampled mid rate.
    fn fx(&mut self, t: Time, ccy: CurrencyId, mid_per_usd: Decimal) -> Result<()>;
    /// The end of a simulated day (for progress). An error (an interrupt) stops the run.
    fn day(&mut self, _t: Time) -> Result<()> {
        Ok(())
    }
    /// Whether the user asked to stop (an error if so): checked at the end of every simulated
    /// day of a first pass, which reports no progress.
    fn interrupted(&mut self) -> Result<()> {
        Ok(())
    }
    /// A prefunded balance of rail `rail`, sampled at the end of each day.
    fn liquidity(&mut self, _t: Time, _rail: usize, _b: &Balance) -> Result<()> {
        Ok(())
    }
    /// A row a rail reports for one of its tables (a netting cycle).
    fn report(&mut self, _r: &ReportRow) -> Result<()> {
        Ok(())
    }
    /// A pair's rolling volume and depth-adjusted half-spread, sampled each day.
    fn depth(
        &mut self,
        _t: Time,
        _pair: (CurrencyId, CurrencyId),
        _volume_usd_per_day: f64,
        _half_spread_bps: f64,
    ) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn cost_bps_keeps_six_decimals() {
        // 13 USD on 10,000 = 13 bps, printed 13.000000.
        assert_eq!(cost_bps(d("13"), d("10000")).to_string(), "13.000000");
        // 1/3 USD on 7 USD: 476.1904761… → 476.190476.
        assert_eq!(cost_bps(d("1") / d("3"), d("7")).to_string(), "476.190476");
        assert_eq!(cost_bps(d("5"), d("0")), Decimal::ZERO);
    }

    /// `cost_bps` as the Decimal steps alone work it out (None where they overflow).
    fn cost_bps_steps(cost_usd: Decimal, value_usd: Decimal) -> Option<Decimal> {
        if value_usd.is_zero() {
            return Some(Decimal::ZERO);
        }
        let q = cost_usd
            .checked_mul(Decimal::from(10_000))?
            .checked_div(value_usd)?;
        let mut bps = q.round_dp(6);
        bps.rescale(6);
        Some(bps)
    }

    #[test]
    fn exact_cost_bps_is_the_decimal_steps_bit_for_bit() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(17);
        let mut exact = 0;
        for i in 0..400_000 {
            // Values and costs as payments carry them: 2-28 digits at scales up to 28, costs
            // of either sign; every fourth cost placed within a hair of a half of the sixth
            // decimal, where the fast path must step aside.
            let digits = rng.random_range(2..=28u32);
            let value = Decimal::from_i128_with_scale(
                rng.random_range(1..10i128.pow(digits)),
                rng.random_range(0..=28u32).min(26),
            );
            let shorter = 10i128.pow(rng.random_range(0..=25u32));
            let mut cost = Decimal::from_i128_with_scale(
                rng.random_range(-10i128.pow(26)..10i128.pow(26)) / shorter,
                rng.random_range(0..=28u32),
            );
            if i % 4 == 0 {
                // cost = (k + ½)·10⁻⁶ bps of value, nudged by a few units of its last digit.
                let k = Decimal::from(rng.random_range(-10_000_000i64..10_000_000));
                let half = (k + Decimal::new(5, 1)) / Decimal::from(10_000_000_000i64);
                if let Some(c) = half
                    .checked_mul(value)
                    .and_then(|c| c.checked_add(Decimal::new(rng.random_range(-3..=3), c.scale())))
                {
                    cost = c;
                }
            }
            let Some(want) = cost_bps_steps(cost, value) else {
                continue;
            };
            assert_eq!(
                cost_bps(cost, value).serialize(),
                want.serialize(),
                "{cost} / {value}"
            );
            exact += usize::from(cost_bps_exact(cost, value).is_some());
        }
        // The fast path is the usual one, not a rarity that leaves the check idle.
        assert!(exact > 100_000, "{exact}");
    }

    #[test]
    fn a_report_row_finds_its_cells_by_column() {
        static T: ReportTable = ReportTable {
            file: "things.csv",
            columns: &["at", "count"],
        };
        let row = ReportRow {
            table: &T,
            rail: 0,
            cells: vec![Cell::Time(60), Cell::Count(3)],
        };
        assert_eq!(T.key(), "things");
        assert_eq!(row.get("count"), Some(&Cell::Count(3)));
        assert_eq!(row.get("at"), Some(&Cell::Time(60)));
        assert_eq!(row.get("other"), None);
    }
}
