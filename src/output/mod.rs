//! Outputs: tidy CSV files (one folder per run,
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

pub use csvout::RunWriter;
pub use folder::OutputDir;
pub use manifest::{Checks, Manifest, Rows};
pub use metrics::{Agg, Metrics};
pub use summary::summary_table;

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
