//! `manifest.toml`: what produced an output folder — tool version, the fully resolved scenario
//! and its SHA-256, seed, replications, command line, row counts and the run's checks. It holds
//! no wall-clock time, so reruns stay byte-identical.

use serde::Serialize;

use crate::Result;
use crate::error::Error;

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub scenario: String,
    pub scenario_file: String,
    /// SHA-256 of `resolved_scenario`.
    pub scenario_sha256: String,
    pub seed: u64,
    pub replications: u32,
    pub command: String,
    pub rows: Rows,
    pub checks: Checks,
    /// The scenario after `extends` and command-line overrides, as the run used it.
    pub resolved_scenario: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rows {
    pub payments: u64,
    pub corridors: u64,
    pub rails: u64,
    pub fx: u64,
    pub liquidity: u64,
    pub netting: u64,
    pub depth: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Checks {
    /// Every currency's total across all accounts equals its issuance, in every replication.
    pub conservation: String,
    /// Largest |total − (fees + spread + drift)| over all payments, USD.
    pub max_identity_residual_usd: String,
    pub events: u64,
    pub ledger_postings: u64,
}

impl Manifest {
    pub fn write(&self, path: &std::path::Path) -> Result<()> {
        let text =
            toml::to_string_pretty(self).map_err(|e| Error::Invariant(format!("manifest: {e}")))?;
        std::fs::write(path, text).map_err(|e| Error::io(path, e))
    }
}
