//! Helpers shared by the integration tests: running the binary, writing scenario files, reading
//! CSV output.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (where `scenarios/` lives).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The path of a bundled scenario file.
pub fn bundled(name: &str) -> PathBuf {
    root().join("scenarios").join(name)
}

/// Runs the `kervan` binary with `args` in `cwd`.
pub fn kervan(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kervan"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the kervan binary runs")
}

/// Writes `files` (name, text) into a fresh temporary folder.
pub fn scratch(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write scenario");
    }
    dir
}

/// A CSV file as rows of column → value.
pub fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("row");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Parses a decimal column exactly.
pub fn dec(row: &BTreeMap<String, String>, col: &str) -> rust_decimal::Decimal {
    row.get(col)
        .unwrap_or_else(|| panic!("no column {col}"))
        .parse()
        .unwrap_or_else(|e| panic!("column {col} = {:?}: {e}", row[col]))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Everything a library run hands its sink, kept (payments and netting cycles).
#[derive(Default)]
pub struct Collect {
    pub payments: Vec<kervan::record::PaymentRecord>,
    /// Rows the rails reported (netting cycles), as they handed them over.
    pub cycles: Vec<kervan::record::ReportRow>,
}

impl kervan::record::Sink for Collect {
    fn payment(&mut self, r: &kervan::record::PaymentRecord) -> kervan::Result<()> {
        self.payments.push(r.clone());
        Ok(())
    }
    fn fx(
        &mut self,
        _: i64,
        _: kervan::money::CurrencyId,
        _: rust_decimal::Decimal,
    ) -> kervan::Result<()> {
        Ok(())
    }
    fn report(&mut self, r: &kervan::record::ReportRow) -> kervan::Result<()> {
        self.cycles.push(r.clone());
        Ok(())
    }
}

/// Runs replication 0 of an already loaded scenario through the library, keeping what it
/// reports.
pub fn run_lib(s: &kervan::scenario::Scenario) -> (Collect, kervan::sim::RunReport) {
    let mut sink = Collect::default();
    let report = kervan::sim::run(s, 0, &mut sink).expect("the run succeeds");
    (sink, report)
}

/// A run's final ledger balances by account name.
pub fn balances(report: &kervan::sim::RunReport) -> BTreeMap<String, rust_decimal::Decimal> {
    report
        .final_balances
        .iter()
        .map(|(a, _, b)| (a.clone(), *b))
        .collect()
}
