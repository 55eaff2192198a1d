//! Experiments: every replication of every variant is a work unit; units run in parallel
//! (rayon, `threads`) on their own named random streams, each writing its rows into part
//! files, and the output folder is joined from the parts in unit order — variant by variant,
//! replication by replication — with the summaries across replications, the G20 scorecard and
//! the manifest. So the folder is the same, byte for byte, whatever the number of threads, and
//! a shard of the units run on another machine joins into exactly the same folder
//! (`shard`).

pub mod compare;
pub mod shard;
pub mod sweep;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

use crate::engine::Time;
use crate::output::assemble::{self, METRICS_PART, PartSource, Series, UnitFacts};
pub use crate::output::manifest::{Info, VariantInfo};
use crate::output::{Begun, Manifest, OutputDir, RunWriter};
use crate::scenario::Scenario;
use crate::sim;
use crate::{Error, Result};

/// How to run.
pub struct RunOptions<'a> {
    /// The command that reproduces the run, for the manifest (no output folder, threads or
    /// shard: they do not change what is written).
    pub command: String,
    /// Write payments.csv (the scenario's `[output] payments` unless overridden).
    pub write_payments: bool,
    /// Called at the end of every simulated day of every unit, from the unit's thread.
    pub progress: Option<&'a (dyn Fn() + Sync)>,
    /// Write into a folder that holds files kervan did not write (they are left alone).
    pub force: bool,
    /// Polled at the end of every simulated day: when it returns an error (an interrupt), the
    /// run stops and nothing is written.
    pub cancelled: Option<&'a (dyn Fn() -> Result<()> + Sync)>,
    /// Worker threads; 0: one per core.
    pub threads: usize,
    /// Run only shard K of N (1-based) and write a shard folder for `kervan merge`.
    pub shard: Option<(u32, u32)>,
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        Self {
            command: String::new(),
            write_payments: true,
            progress: None,
            force: false,
            cancelled: None,
            threads: 0,
            shard: None,
        }
    }
}

/// What a finished run left behind.
#[derive(Debug)]
pub struct RunOutcome {
    pub dir: PathBuf,
    /// The terminal summary (means and 95 % intervals over replications), and the G20
    /// scorecard.
    pub summary: String,
    pub g20: String,
    /// Payments over every unit this process ran.
    pub payments: u64,
    /// Per variant, its metrics over replications (empty for a shard).
    pub series: Vec<Series>,
}

/// An experiment: variants on the same seed and number of replications.
pub struct Experiment<'a> {
    pub variants: Vec<&'a Scenario>,
    pub replications: u32,
    /// `run`, `compare` (the first variant is the base) or `sweep`.
    pub kind: &'static str,
    /// A sweep's varied keys, and each variant's values of them.
    pub vary: Vec<String>,
    pub points: Vec<Vec<String>>,
}

impl<'a> Experiment<'a> {
    /// One scenario's replications.
    pub fn single(s: &'a Scenario) -> Self {
        Experiment {
            variants: vec![s],
            replications: s.replications,
            kind: "run",
            vary: Vec::new(),
            points: Vec::new(),
        }
    }

    /// What joining its units needs to know (also written into every shard).
    pub fn info(&self, opts: &RunOptions) -> Info {
        let mut info = Info::of(
            &self.variants,
            self.replications,
            opts.write_payments,
            &opts.command,
        );
        info.kind = self.kind.to_string();
        info.vary = self.vary.clone();
        for (v, point) in info.variant.iter_mut().zip(&self.points) {
            v.point = point.clone();
        }
        info
    }

    pub fn units(&self) -> usize {
        self.variants.len() * self.replications as usize
    }

    /// (variant, replication) of unit `u`: variant by variant, replication by replication.
    pub fn unit(&self, u: usize) -> (usize, u32) {
        let r = self.replications as usize;
        (u / r, (u % r) as u32)
    }
}

/// The units of shard `k` of `n` (1-based): every n-th unit from the (k − 1)-th, so each shard
/// gets a share of every variant.
pub fn shard_units(units: usize, shard: Option<(u32, u32)>) -> Vec<usize> {
    match shard {
        None => (0..units).collect(),
        Some((k, n)) => (0..units)
            .filter(|u| u % n as usize == (k - 1) as usize)
            .collect(),
    }
}

/// Runs every replication of `s` and writes the output folder `out`.
pub fn run(s: &Scenario, out: &Path, opts: &RunOptions) -> Result<RunOutcome> {
    run_experiment(&Experiment::single(s), out, opts)
}

/// Runs an experiment (or one shard of it) and writes its folder: only when every unit
/// succeeded do the files move into place (see [`OutputDir`]).
pub fn run_experiment(e: &Experiment, out: &Path, opts: &RunOptions) -> Result<RunOutcome> {
    let mut dir = OutputDir::create(out, opts.force)?;
    let created = dir.created();
    run_into(e, &mut dir, opts)
        .and_then(|mut outcome| {
            outcome.dir = dir.commit()?;
            Ok(outcome)
        })
        .map_err(|err| match err {
            err @ Error::NotWritten { .. } => err,
            err => Error::NotWritten {
                out: out.to_path_buf(),
                created,
                source: Box::new(err),
            },
        })
}

/// A unit's part file name.
pub fn part_name(unit: usize, file: &str) -> String {
    format!("u{unit:06}.{file}")
}

/// Parts in a folder of this process.
struct LocalParts {
    dir: PathBuf,
}

impl PartSource for LocalParts {
    fn copy(&self, unit: usize, file: &str, out: &mut dyn std::io::Write) -> Result<()> {
        let path = self.dir.join(part_name(unit, file));
        let mut f = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        copy_chunks(&mut f, out).map_err(|e| Error::io(&path, e))
    }
    fn text(&self, unit: usize, file: &str) -> Result<String> {
        let path = self.dir.join(part_name(unit, file));
        std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))
    }
}

/// Copies a part in chunks of up to a megabyte (`io::copy` into a `dyn Write` goes through an
/// 8 KiB buffer: thousands of calls per replication's payments).
pub fn copy_chunks(f: &mut std::fs::File, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use std::io::Read as _;
    let len = f.metadata().map_or(0, |m| m.len());
    let mut buf = vec![0u8; len.clamp(1, 1 << 20) as usize];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => out.write_all(&buf[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn run_into(e: &Experiment, dir: &mut OutputDir, opts: &RunOptions) -> Result<RunOutcome> {
    let parts = dir.parts_dir()?;
    let shown = dir.shown().to_path_buf();
    let units = shard_units(e.units(), opts.shard);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|err| Error::Usage(format!("--threads: {err}")))?;
    let Some((k, n)) = opts.shard else {
        return run_and_join(e, dir, opts, &pool, &parts);
    };
    // Each unit writes its parts and returns its payment count; the first error (in unit
    // order) is the run's.
    let results: Vec<Result<u64>> = pool.install(|| {
        use rayon::prelude::*;
        units
            .par_iter()
            .map(|&u| run_unit(e, u, (&parts, &shown), opts, Vec::new()).map(|(n, _)| n))
            .collect()
    });
    let mut payments = 0;
    for r in results {
        payments += r?;
    }
    if let Some(cancelled) = opts.cancelled {
        cancelled()?;
    }
    let source = LocalParts { dir: parts };
    shard::write_shard(e, dir, &source, &units, (k, n), opts)?;
    dir.remove_parts();
    Ok(RunOutcome {
        dir: PathBuf::new(),
        summary: String::new(),
        g20: String::new(),
        payments,
        series: Vec::new(),
    })
}

/// The files joined from every unit's parts, in the order they are created (the marker lists
/// them so), each with its header.
fn joined_files(write_payments: bool) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut files = crate::output::streamed_files(write_payments);
    files.extend(crate::output::aggregate_files());
    files
}

/// The joined files as they are being written: each unit's parts are appended, in unit order,
/// as soon as that unit and every unit before it have finished — while later units still run,
/// so the end of a run waits for the last unit's parts only. `None`: a file the first unit is
/// still writing into directly.
struct Joiner {
    files: Vec<(&'static str, Option<Begun>)>,
    /// The next unit to append.
    next: usize,
    error: Option<Error>,
}

/// What the workers of [`run_and_join`] share.
struct Shared<'a> {
    /// The first unit's begun files, until it takes them.
    first_unit: std::sync::Mutex<Option<Vec<(&'static str, Begun)>>>,
    joiner: std::sync::Mutex<Joiner>,
    /// Per unit: finished without error.
    done: Vec<std::sync::atomic::AtomicBool>,
    /// Per unit: its payment count, or its error.
    results: Vec<std::sync::Mutex<Option<Result<u64>>>>,
    /// Units handed out so far.
    taken: std::sync::atomic::AtomicUsize,
    source: LocalParts,
    streamed: Vec<&'static str>,
    shown: &'a Path,
}

/// A poisoned lock: a worker panicked (the panic itself is reported by rayon).
fn locked<T>(m: &std::sync::Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>> {
    m.lock()
        .map_err(|_| Error::Invariant("a worker thread panicked".into()))
}

/// Runs every unit of a run that is not a shard and writes the folder. Units are taken in
/// order by whichever worker is free (so the join keeps pace with them); the first unit
/// writes its streamed rows straight into the output files, the others into parts that are
/// appended as they finish (see [`Joiner`]). The folder is the same, byte for byte, whatever
/// the threads and whichever of them ran a unit.
fn run_and_join(
    e: &Experiment,
    dir: &mut OutputDir,
    opts: &RunOptions,
    pool: &rayon::ThreadPool,
    parts: &Path,
) -> Result<RunOutcome> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize};
    let shown = dir.shown().to_path_buf();
    let n_units = e.units();
    let streamed: Vec<&'static str> = crate::output::streamed_files(opts.write_payments)
        .iter()
        .map(|(f, _)| *f)
        .collect();
    // Every joined file begun now, header first, hashed from its first byte.
    let mut first_unit = Vec::new();
    let mut files = Vec::new();
    for (name, header) in joined_files(opts.write_payments) {
        let mut w = dir.create_hashed(name)?;
        w.write_all(header.join(",").as_bytes())
            .and_then(|()| w.write_all(b"\n"))
            .map_err(|err| dir.fault_at(name, err))?;
        if streamed.contains(&name) {
            first_unit.push((name, w));
            files.push((name, None));
        } else {
            files.push((name, Some(w)));
        }
    }
    let shared = Shared {
        first_unit: Mutex::new(Some(first_unit)),
        joiner: Mutex::new(Joiner {
            files,
            next: 0,
            error: None,
        }),
        done: (0..n_units).map(|_| AtomicBool::new(false)).collect(),
        results: (0..n_units).map(|_| Mutex::new(None)).collect(),
        taken: AtomicUsize::new(0),
        source: LocalParts {
            dir: parts.to_path_buf(),
        },
        streamed,
        shown: &shown,
    };
    let worker_errors: Vec<Result<()>> = pool.broadcast(|_| work(e, opts, &shared));
    for r in worker_errors {
        r?;
    }
    // The first error in unit order is the run's.
    let mut payments = 0;
    for r in &shared.results {
        let r = locked(r)?.take();
        payments += r.unwrap_or_else(|| Err(Error::Invariant("a unit did not run".into())))?;
    }
    if let Some(cancelled) = opts.cancelled {
        cancelled()?;
    }
    let mut j = locked(&shared.joiner)?;
    join_ready(&mut j, &shared);
    if let Some(err) = j.error.take() {
        return Err(err);
    }
    if j.next != n_units {
        return Err(Error::Invariant(format!(
            "joined {} of {n_units} units",
            j.next
        )));
    }
    for (name, w) in j.files.drain(..) {
        let w = w.ok_or_else(|| Error::Invariant(format!("{name}: never written")))?;
        dir.finish_hashed(name, w)?;
    }
    drop(j);
    let mut o = finish_folder(&e.info(opts), dir, &shared.source)?;
    o.payments = payments;
    dir.remove_parts();
    Ok(o)
}

/// One worker: takes the next unit until none is left, runs it, and appends what is ready.
fn work(e: &Experiment, opts: &RunOptions, sh: &Shared) -> Result<()> {
    use std::sync::atomic::Ordering;
    loop {
        let u = sh.taken.fetch_add(1, Ordering::SeqCst);
        if u >= sh.done.len() {
            return Ok(());
        }
        let direct = match u {
            0 => locked(&sh.first_unit)?.take().unwrap_or_default(),
            _ => Vec::new(),
        };
        let result = match run_unit(e, u, (&sh.source.dir, sh.shown), opts, direct) {
            Ok((payments, returned)) => {
                if !returned.is_empty() {
                    let mut j = locked(&sh.joiner)?;
                    for (name, w) in returned {
                        if let Some(slot) = j.files.iter_mut().find(|(f, _)| *f == name) {
                            slot.1 = Some(w);
                        }
                    }
                }
                sh.done[u].store(true, Ordering::SeqCst);
                Ok(payments)
            }
            Err(err) => Err(err),
        };
        *locked(&sh.results[u])? = Some(result);
        // Append what is ready unless another worker is at it: whatever it leaves is
        // appended by the next worker to finish a unit, or once every unit has finished.
        if let Ok(mut j) = sh.joiner.try_lock() {
            join_ready(&mut j, sh);
        }
    }
}

/// Appends the parts of every unit that is ready (finished, as has every unit before it) to
/// the joined files, and removes them; the first unit's streamed rows are already in place.
fn join_ready(j: &mut Joiner, sh: &Shared) {
    use std::sync::atomic::Ordering;
    while j.error.is_none() && j.next < sh.done.len() && sh.done[j.next].load(Ordering::SeqCst) {
        let u = j.next;
        for (name, w) in &mut j.files {
            if u == 0 && sh.streamed.contains(name) {
                continue;
            }
            let Some(w) = w else {
                j.error = Some(Error::Invariant(format!("{name}: not handed back")));
                return;
            };
            if let Err(err) = sh.source.copy(u, name, w) {
                j.error = Some(err);
                return;
            }
            let _ = std::fs::remove_file(sh.source.dir.join(part_name(u, name)));
        }
        j.next += 1;
    }
}

/// Runs unit `u` into its parts, or into the begun output files of `direct`; returns its
/// payment count and those files, to be continued.
fn run_unit(
    e: &Experiment,
    u: usize,
    (parts, shown): (&Path, &Path),
    opts: &RunOptions,
    direct: Vec<(&'static str, Begun)>,
) -> Result<(u64, Vec<(&'static str, Begun)>)> {
    let (v, r) = e.unit(u);
    let s = e.variants[v];
    let prefix = format!("u{u:06}.");
    let mut writer = RunWriter::new(parts, &prefix, shown, s, r, opts.write_payments, direct)?;
    let report = {
        let mut w = Progressed {
            inner: &mut writer,
            progress: opts.progress,
            cancelled: opts.cancelled,
        };
        sim::run(s, r, &mut w)?
    };
    let done = writer.finish(&report)?;
    let text = assemble::unit_metrics(s, &done.metrics, &report, &done.rows);
    let path = parts.join(part_name(u, METRICS_PART));
    std::fs::write(&path, text).map_err(|err| Error::io(shown.join(".kervan-partial"), err))?;
    Ok((report.payments, done.direct))
}

/// Joins the parts of every unit into `dir`: each file's header then its parts in unit order,
/// summary.csv, g20.csv and the manifest.
pub fn assemble_folder(
    info: &Info,
    dir: &mut OutputDir,
    parts: &dyn PartSource,
) -> Result<RunOutcome> {
    // Read first: a shard whose metrics do not parse stops the merge before any copying.
    for u in 0..info.units() {
        assemble::parse_unit(&parts.text(u, METRICS_PART)?)?;
    }
    for (name, header) in joined_files(info.write_payments) {
        let mut w = dir.create_hashed(name)?;
        w.write_all(header.join(",").as_bytes())
            .and_then(|()| w.write_all(b"\n"))
            .map_err(|err| dir.fault_at(name, err))?;
        for u in 0..info.units() {
            parts.copy(u, name, &mut w)?;
        }
        dir.finish_hashed(name, w)?;
    }
    finish_folder(info, dir, parts)
}

/// After the joined files: summary.csv, g20.csv (and compare.csv or sweep.csv) and the
/// manifest, from every unit's metrics part.
fn finish_folder(info: &Info, dir: &mut OutputDir, parts: &dyn PartSource) -> Result<RunOutcome> {
    let facts: Vec<UnitFacts> = (0..info.units())
        .map(|u| assemble::parse_unit(&parts.text(u, METRICS_PART)?))
        .collect::<Result<_>>()?;
    let r = info.replications as usize;
    let series: Vec<Series> = (0..info.variant.len())
        .map(|v| assemble::series(facts[v * r..(v + 1) * r].iter()))
        .collect();
    let mut summary = Vec::new();
    let mut g20 = Vec::new();
    for (s, ser) in info.variant.iter().zip(&series) {
        summary.extend(assemble::summary_rows(&s.variant, ser));
        g20.extend(assemble::g20_rows(&s.variant, ser));
    }
    write_table(dir, "summary.csv", assemble::SUMMARY_HEADER, &summary)?;
    write_table(dir, "g20.csv", assemble::G20_HEADER, &g20)?;
    let names: Vec<&str> = info.variant.iter().map(|v| v.variant.as_str()).collect();
    let mut extra_rows = Vec::new();
    let mut terminal = String::new();
    match info.kind.as_str() {
        "compare" => {
            let mut rows = Vec::new();
            for (name, ser) in names.iter().zip(&series).skip(1) {
                rows.extend(compare::rows(names[0], &series[0], name, ser));
            }
            write_table(dir, "compare.csv", compare::HEADER, &rows)?;
            extra_rows.push(("compare", rows.len() as u64));
            let others: Vec<(&str, &Series)> =
                names.iter().copied().zip(series.iter()).skip(1).collect();
            terminal = compare::table(names[0], &series[0], &others);
            terminal.push('\n');
        }
        "sweep" => {
            let rows = sweep::rows(info, &series);
            write_table(dir, "sweep.csv", &sweep::header(info), &rows)?;
            extra_rows.push(("sweep", rows.len() as u64));
            terminal = sweep::table(info, &series);
            terminal.push('\n');
        }
        _ => {}
    }
    manifest(info, &facts, summary.len(), g20.len(), &extra_rows).write(dir)?;
    terminal.push_str(&crate::output::summary_table(&names, &series));
    let g20_text = crate::output::g20_table(&names, &series);
    Ok(RunOutcome {
        dir: PathBuf::new(),
        summary: terminal,
        g20: g20_text,
        payments: facts.iter().map(|f| f.payments).sum(),
        series,
    })
}

fn write_table(
    dir: &mut OutputDir,
    name: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> Result<()> {
    let f = dir.create_file(name)?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(f));
    w.write_record(header)
        .map_err(|err| Error::csv(dir.shown_file(name), err))?;
    for row in rows {
        w.write_record(row)
            .map_err(|err| Error::csv(dir.shown_file(name), err))?;
    }
    w.flush().map_err(|err| dir.fault_at(name, err))
}

/// The manifest of a whole experiment, from its units' facts.
fn manifest(
    info: &Info,
    facts: &[UnitFacts],
    summary_rows: usize,
    g20_rows: usize,
    extra_rows: &[(&'static str, u64)],
) -> Manifest {
    let s = &info.variant[0];
    // Rows per file over every unit, in the order the files are listed.
    let mut rows: Vec<(&'static str, u64)> = Vec::new();
    let stems: Vec<&'static str> = crate::output::streamed_files(true)
        .iter()
        .map(|(f, _)| f.trim_end_matches(".csv"))
        .chain(["corridors", "rails", "shocks"])
        .collect();
    for f in facts {
        for (file, n) in &f.rows {
            let Some(stem) = stems.iter().find(|s| **s == file.as_str()) else {
                continue;
            };
            match rows.iter_mut().find(|(x, _)| x == stem) {
                Some((_, total)) => *total += n,
                None => rows.push((stem, *n)),
            }
        }
    }
    rows.push(("summary", summary_rows as u64));
    rows.push(("g20", g20_rows as u64));
    rows.extend_from_slice(extra_rows);
    Manifest {
        tool: "kervan".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        scenario: s.scenario.clone(),
        variant: s.variant.clone(),
        scenario_file: s.scenario_file.clone(),
        scenario_sha256: s.scenario_sha256.clone(),
        seed: info.seed,
        replications: info.replications,
        command: info.command.clone(),
        rows: crate::output::Rows(rows),
        checks: crate::output::manifest_checks(
            facts
                .iter()
                .map(|f| f.max_residual_usd)
                .max()
                .unwrap_or(Decimal::ZERO),
            facts
                .iter()
                .map(|f| f.max_printed_residual_cents)
                .max()
                .unwrap_or(0),
            facts.iter().map(|f| f.events).sum(),
            facts.iter().map(|f| f.postings).sum(),
        ),
        data_file: s.data_file.clone(),
        resolved_scenario: s.resolved_scenario.clone(),
        other_variant: info.variant[1..].to_vec(),
    }
}

/// A sink that forwards to the unit's writer and reports each day.
struct Progressed<'a, 'b> {
    inner: &'a mut RunWriter<'b>,
    progress: Option<&'a (dyn Fn() + Sync)>,
    cancelled: Option<&'a (dyn Fn() -> Result<()> + Sync)>,
}

impl crate::record::Sink for Progressed<'_, '_> {
    fn payment(&mut self, record: &crate::record::PaymentRecord) -> Result<()> {
        self.inner.payment(record)
    }
    fn fx(&mut self, t: Time, ccy: crate::money::CurrencyId, mid: Decimal) -> Result<()> {
        self.inner.fx(t, ccy, mid)
    }
    fn day(&mut self, _t: Time) -> Result<()> {
        if let Some(progress) = self.progress {
            progress();
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
