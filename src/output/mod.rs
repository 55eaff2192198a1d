//! Outputs: tidy CSV files (one folder per run,
//! written to a temporary folder and renamed into place only on success), the manifest and the
//! terminal summary.

pub mod assemble;
mod csvout;
pub mod fmt;
pub mod folder;
pub mod manifest;
pub mod metrics;
pub mod sketch;
mod summary;

use rust_decimal::Decimal;

pub use csvout::{
    Begun, RunWriter, aggregate_files, corridors_header, rails_header, streamed_files,
};
pub use folder::OutputDir;
pub use manifest::{Checks, Manifest, Rows};
pub use metrics::{Agg, Metrics};
pub use summary::{g20_table, layout, shock_timeline, summary_table};

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
