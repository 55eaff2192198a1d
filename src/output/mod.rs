//! Outputs: the per-payment record the simulator produces, tidy CSV files (one folder per run,
//! written to a temporary folder and renamed into place only on success), the manifest and the
//! terminal summary.

mod csvout;
pub mod fmt;
pub mod folder;
pub mod manifest;
pub mod metrics;
mod summary;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::engine::Time;
use crate::money::{Cents, CurrencyId};
use crate::terms::{Bearer, Status};

pub use csvout::RunWriter;
pub use folder::OutputDir;
pub use manifest::{Checks, Manifest, Rows};
pub use metrics::{Agg, Metrics};
pub use summary::summary_table;

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
    pub bearer: Bearer,
    pub invoice_ccy: CurrencyId,
    pub invoice_amount: Decimal,
    pub value_usd: Decimal,
    pub invoiced_at: Time,
    pub initiated_at: Time,
    pub settled_at: Option<Time>,
    pub latency_s: Option<Time>,
    pub within_1h: bool,
    pub within_1bd: bool,
    pub hops: u8,
    pub fees_usd: Decimal,
    pub spread_usd: Decimal,
    pub drift_usd: Decimal,
    pub liquidity_usd: Decimal,
    pub total_cost_usd: Decimal,
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
    pub total: Cents,
    pub usd_bought: Cents,
    pub usd_sold: Cents,
}

impl PaymentRecord {
    /// Computes `cost_bps` and the cents from the full-precision amounts.
    pub fn close(&mut self) {
        self.cost_bps = cost_bps(self.total_cost_usd, self.liquidity_usd, self.value_usd);
        self.cents = UsdCents {
            value: Cents::of(self.value_usd),
            fees: Cents::of(self.fees_usd),
            spread: Cents::of(self.spread_usd),
            drift: Cents::of(self.drift_usd),
            liquidity: Cents::of(self.liquidity_usd),
            total: Cents::of(self.total_cost_usd),
            usd_bought: Cents::of(self.usd_bought),
            usd_sold: Cents::of(self.usd_sold),
        };
    }
}

/// `(total_cost_usd + liquidity_usd) / value_usd × 10 000`, to 6 decimals (0 for a zero value).
pub fn cost_bps(total_cost_usd: Decimal, liquidity_usd: Decimal, value_usd: Decimal) -> Decimal {
    if value_usd.is_zero() {
        return Decimal::ZERO;
    }
    let mut bps =
        ((total_cost_usd + liquidity_usd) * Decimal::from(10_000) / value_usd).round_dp(6);
    bps.rescale(6);
    bps
}

/// Checks for the manifest; a run only gets this far when conservation held.
pub fn manifest_checks(
    max_residual_usd: Decimal,
    max_printed_residual_cents: u64,
    events: u64,
    ledger_postings: u64,
) -> Checks {
    Checks {
        conservation: "ok: every currency's total equals its issuance in every replication".into(),
        max_identity_residual_usd: max_residual_usd.to_string(),
        max_printed_residual_cents,
        events,
        ledger_postings,
    }
}

/// `epoch + t` as ISO 8601 UTC, e.g. `2025-01-06T09:00:00Z`.
pub fn iso_time(epoch: DateTime<Utc>, t: Time) -> String {
    let mut v = Vec::with_capacity(20);
    fmt::push_iso_time(&mut v, epoch.timestamp() + t);
    String::from_utf8(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn iso_time_matches_chrono() {
        let epoch = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        for t in [
            0i64,
            59,
            3_600 * 24 * 59 + 1,
            86_400 * 365 + 12_345,
            86_400 * 790 - 1,
            -86_400,
        ] {
            let expected = (epoch + chrono::Duration::seconds(t))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            assert_eq!(iso_time(epoch, t), expected);
        }
        assert_eq!(
            iso_time(epoch, 5 * 86_400 + 9 * 3_600),
            "2025-01-06T09:00:00Z"
        );
    }
}
