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
    /// What its rows call it (the first variant's, with others under `other_variant`).
    pub variant: String,
    pub scenario_file: String,
    /// SHA-256 of `resolved_scenario`.
    pub scenario_sha256: String,
    pub seed: u64,
    pub replications: u32,
    pub command: String,
    pub rows: Rows,
    pub checks: Checks,
    /// Every file the scenario was read from, with its SHA-256.
    pub data_file: Vec<DataFileEntry>,
    /// The scenario after `extends` and command-line overrides, as the run used it.
    pub resolved_scenario: String,
    /// The other variants of a comparison or sweep, each described the same way.
    pub other_variant: Vec<VariantInfo>,
}

/// One file the run read.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataFileEntry {
    pub role: String,
    pub path: String,
    pub sha256: String,
}

/// Row counts by output file (its stem), in the order they are given: `[rows]` in the
/// manifest. A rail kind's report tables bring their own entries, so the list is open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows(pub Vec<(&'static str, u64)>);

impl Serialize for Rows {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (file, rows) in &self.0 {
            map.serialize_entry(file, rows)?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Checks {
    /// Every currency's total across all accounts equals its issuance, in every replication.
    pub conservation: String,
    /// Largest |total − (fees + spread + drift)| over all payments, USD.
    pub max_identity_residual_usd: String,
    /// The same on the printed cents of payments.csv (each column rounded on its own, so at
    /// most 2).
    pub max_printed_residual_cents: u64,
    pub events: u64,
    pub ledger_postings: u64,
}

/// What joining units into a folder needs to know of the experiment: written into every
/// shard's manifest, so a merge on another machine joins exactly what one machine would have.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Info {
    /// `run`, `compare` (the first variant is the base) or `sweep`.
    pub kind: String,
    /// A sweep's varied keys, in the order of each variant's `point`.
    pub vary: Vec<String>,
    pub seed: u64,
    pub replications: u32,
    pub write_payments: bool,
    pub command: String,
    pub variant: Vec<VariantInfo>,
}

/// One variant, as the manifest describes it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantInfo {
    pub variant: String,
    /// A sweep's grid point: the value of each varied key (empty otherwise).
    pub point: Vec<String>,
    pub scenario: String,
    pub scenario_file: String,
    pub scenario_sha256: String,
    pub resolved_scenario: String,
    pub data_file: Vec<DataFileEntry>,
}

impl Info {
    pub fn of(
        variants: &[&crate::scenario::Scenario],
        replications: u32,
        write_payments: bool,
        command: &str,
    ) -> Info {
        Info {
            kind: "run".into(),
            vary: Vec::new(),
            seed: variants.first().map_or(0, |s| s.seed),
            replications,
            write_payments,
            command: command.to_string(),
            variant: variants
                .iter()
                .map(|s| VariantInfo {
                    variant: s.variant.clone(),
                    point: Vec::new(),
                    scenario: s.name.clone(),
                    scenario_file: s.source.clone(),
                    scenario_sha256: s.sha256.clone(),
                    resolved_scenario: s.resolved.clone(),
                    data_file: s
                        .files
                        .iter()
                        .map(|f| DataFileEntry {
                            role: f.role.clone(),
                            path: f.path.clone(),
                            sha256: f.sha256.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    pub fn units(&self) -> usize {
        self.variant.len() * self.replications as usize
    }
}

impl Manifest {
    /// Writes `manifest.toml` into the run's folder.
    pub fn write(&self, dir: &mut super::OutputDir) -> Result<()> {
        use std::io::Write as _;
        let text =
            toml::to_string_pretty(self).map_err(|e| Error::Invariant(format!("manifest: {e}")))?;
        let mut f = dir.create_file("manifest.toml")?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| dir.fault_at("manifest.toml", e))
    }
}
