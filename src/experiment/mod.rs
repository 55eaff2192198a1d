//! Experiments: replications of a scenario on separated random streams, run one after another
//! with their rows written in replication order, into one output folder with its manifest.

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

use crate::engine::Time;
use crate::output::{Manifest, OutputDir, RunWriter, summary_table};
use crate::scenario::Scenario;
use crate::sim::{self, RunReport};
use crate::{Error, Result};

/// How to run.
pub struct RunOptions<'a> {
    /// The command line, for the manifest.
    pub command: String,
    /// Write payments.csv (the scenario's `[output] payments` unless overridden).
    pub write_payments: bool,
    /// Called with (replication, sim time) at the end of every simulated day.
    pub progress: Option<&'a dyn Fn(u32, Time)>,
    /// Write into a folder that holds files kervan did not write (they are left alone).
    pub force: bool,
    /// Polled at the end of every simulated day: when it returns an error (an interrupt), the
    /// run stops and nothing is written.
    pub cancelled: Option<&'a (dyn Fn() -> Result<()> + Sync)>,
}

/// What a finished run left behind.
#[derive(Debug)]
pub struct RunOutcome {
    pub dir: PathBuf,
    pub summary: String,
    pub reports: Vec<RunReport>,
    pub payments: u64,
}

/// Runs every replication of `s` and writes the output folder `out`: only when every
/// replication succeeded do its files move into place (see [`OutputDir`]).
pub fn run(s: &Scenario, out: &Path, opts: &RunOptions) -> Result<RunOutcome> {
    let mut dir = OutputDir::create(out, opts.force)?;
    let created = dir.created();
    run_into(s, &mut dir, opts)
        .and_then(|(summary, reports, payments)| {
            let dir = dir.commit()?;
            Ok(RunOutcome {
                dir,
                summary,
                reports,
                payments,
            })
        })
        .map_err(|e| match e {
            e @ Error::NotWritten { .. } => e,
            e => Error::NotWritten {
                out: out.to_path_buf(),
                created,
                source: Box::new(e),
            },
        })
}

fn run_into(
    s: &Scenario,
    dir: &mut OutputDir,
    opts: &RunOptions,
) -> Result<(String, Vec<RunReport>, u64)> {
    let mut writer = RunWriter::new(dir, s, opts.write_payments)?;
    let mut reports = Vec::with_capacity(s.replications as usize);
    for r in 0..s.replications {
        writer.set_replication(r);
        let progress = opts.progress.map(|f| move |t: Time| f(r, t));
        let mut w = Progressed {
            inner: &mut writer,
            progress: progress.as_ref().map(|f| f as &dyn Fn(Time)),
            cancelled: opts.cancelled,
        };
        reports.push(sim::run(s, r, &mut w)?);
    }
    writer.flush()?;
    let liquidity: Vec<_> = reports.iter().map(|r| r.liquidity.clone()).collect();
    let (n_corridors, n_rails) = writer.write_aggregates(dir, &liquidity)?;
    let payments: u64 = reports.iter().map(|r| r.payments).sum();
    let max_residual = reports
        .iter()
        .map(|r| r.max_residual_usd)
        .max()
        .unwrap_or(Decimal::ZERO);
    let manifest = Manifest {
        tool: "kervan".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        scenario: s.name.clone(),
        scenario_file: s.source.clone(),
        scenario_sha256: s.sha256.clone(),
        seed: s.seed,
        replications: s.replications,
        command: opts.command.clone(),
        // payments, corridors, rails, fx, liquidity, each rail kind's tables, depth: the
        // order the files were first listed in.
        rows: crate::output::Rows(
            [
                ("payments", writer.rows_payments),
                ("corridors", n_corridors),
                ("rails", n_rails),
                ("fx", writer.rows_fx),
                ("liquidity", writer.rows_liquidity),
            ]
            .into_iter()
            .chain(writer.report_rows())
            .chain([("depth", writer.rows_depth)])
            .collect(),
        ),
        checks: crate::output::manifest_checks(
            max_residual,
            reports
                .iter()
                .map(|r| r.max_printed_residual_cents)
                .max()
                .unwrap_or(0),
            reports.iter().map(|r| r.events).sum(),
            reports.iter().map(|r| r.postings).sum(),
        ),
        data_file: s
            .files
            .iter()
            .map(|f| crate::output::manifest::DataFileEntry {
                role: f.role.clone(),
                path: f.path.clone(),
                sha256: f.sha256.clone(),
            })
            .collect(),
        resolved_scenario: s.resolved.clone(),
    };
    if let Some(cancelled) = opts.cancelled {
        cancelled()?;
    }
    manifest.write(dir)?;
    let summary = summary_table(s, &writer.metrics, &liquidity);
    Ok((summary, reports, payments))
}

/// A sink that forwards to the writer and reports each day.
struct Progressed<'a, 'b> {
    inner: &'a mut RunWriter<'b>,
    progress: Option<&'a dyn Fn(Time)>,
    cancelled: Option<&'a (dyn Fn() -> Result<()> + Sync)>,
}

impl crate::record::Sink for Progressed<'_, '_> {
    fn payment(&mut self, record: &crate::record::PaymentRecord) -> Result<()> {
        self.inner.payment(record)
    }
    fn fx(&mut self, t: Time, ccy: crate::money::CurrencyId, mid: Decimal) -> Result<()> {
        self.inner.fx(t, ccy, mid)
    }
    fn day(&mut self, t: Time) -> Result<()> {
        if let Some(progress) = self.progress {
            progress(t);
        }
        self.interrupted()
    }
    fn interrupted(&mut self) -> Result<()> {
        match self.cancelled {
            Some(cancelled) => cancelled(),
            None => Ok(()),
        }
    }
    fn liquidity(&mut self, t: Time, rail: usize, b: &crate::record::Balance) -> Result<()> {
        self.inner.liquidity(t, rail, b)
    }
    fn report(&mut self, r: &crate::record::ReportRow) -> Result<()> {
        self.inner.report(r)
    }
    fn depth(
        &mut self,
        t: Time,
        pair: (crate::money::CurrencyId, crate::money::CurrencyId),
        volume: f64,
        bps: f64,
    ) -> Result<()> {
        self.inner.depth(t, pair, volume, bps)
    }
}
