//! The bundled scenarios end to end, in payments per second.
//!
//! Workload: the default scenario's trade through every bundled design — `ots-baseline` (a year
//! of intra-OTS trade, every payment through a chain of US-dollar correspondents, the default of
//! `kervan run`), `ots-local-bilateral` (bilateral local-currency accounts), `ots-swap-tr-kz`
//! (a central-bank swap line on two corridors), `ots-regional-netting` (a clearing house),
//! `ots-pvp-bridge` (a CBDC payment-versus-payment platform), `ots-common-unit` (a common unit
//! of account) and `ots-union` (a common currency) — each shortened to 60 days of trade (+ their
//! 30 drain days) so one sample takes a fraction of a second: about 27 500 payments each.
//! `scripts/speed-designs.sh` measures the same designs over the whole default year, as
//! processes.
//!
//! Four measurements per scenario, each one layer more than the one before:
//! - `world`: building one replication's world alone (calendars, the simulated FX path over the
//!   whole span, accounts) — the fixed cost every replication pays before its first payment;
//! - `simulate`: `sim::run` with a sink that discards every row — the model (trade generation,
//!   routing, rails, ledger, identity checks, liquidity allocation) without output;
//! - `run_no_payments_csv`: `experiment::run` without payments.csv — adds the aggregates
//!   (corridors.csv, rails.csv), fx.csv and the manifest;
//! - `run_payments_csv`: `experiment::run` as `kervan run` does by default — adds one CSV row per
//!   payment.
//!
//! - `threads_one` and `threads_all`: `experiment::run` of several replications
//!   (`REPLICATIONS`, payments.csv included) on 1 worker thread and on one per core — the ratio
//!   of the two is the speed-up of independent work units, joined into one folder as they
//!   finish (issue 9 asks for 1.8 on 2 cores). It is only meaningful on an otherwise idle
//!   machine with at least 2 cores.
//!
//! Why: the guideline is that a minimal five-event payment pipeline with exact money and one CSV
//! row per payment runs at about 0.8 M payments/s on one core, and the full model should keep at
//! least half of that. The gaps between these four figures say which layer spends the time
//! (see docs/performance.md). Scenario loading (TOML, validation) is done once, outside timing;
//! `run_*` write into a fresh temporary folder per sample, deleted outside timing.

use divan::Bencher;
use divan::counter::ItemsCount;
use kervan::engine::Time;
use kervan::experiment::{self, RunOptions};
use kervan::money::CurrencyId;
use kervan::record::PaymentRecord;
use kervan::record::Sink;
use kervan::scenario::{self, Overrides, Scenario};
use kervan::sim;
use rust_decimal::Decimal;

/// Days of trade simulated per sample.
const DAYS: u32 = 60;

/// One scenario per bundled design, on the default scenario's trade.
const SCENARIOS: &[&str] = &[
    "ots-baseline",
    "ots-local-bilateral",
    "ots-swap-tr-kz",
    "ots-regional-netting",
    "ots-pvp-bridge",
    "ots-common-unit",
    "ots-union",
];

fn main() {
    divan::main();
}

fn load(name: &str) -> Scenario {
    scenario::load_with(
        name,
        &Overrides {
            days: Some(DAYS),
            ..Default::default()
        },
    )
    .expect("bundled scenario loads")
}

/// A sink that looks at every row and keeps nothing.
#[derive(Default)]
struct Discard {
    payments: u64,
}

impl Sink for Discard {
    fn payment(&mut self, record: &PaymentRecord) -> kervan::Result<()> {
        divan::black_box(record);
        self.payments += 1;
        Ok(())
    }

    fn fx(&mut self, t: Time, ccy: CurrencyId, mid_per_usd: Decimal) -> kervan::Result<()> {
        divan::black_box((t, ccy, mid_per_usd));
        Ok(())
    }
}

/// Payments in one replication (the run is deterministic: the same count every sample).
fn payments(s: &Scenario) -> u64 {
    payments_of(s, 0)
}

/// Payments in replication `r`.
fn payments_of(s: &Scenario, r: u32) -> u64 {
    let mut sink = Discard::default();
    let report = sim::run(s, r, &mut sink).expect("scenario runs");
    assert_eq!(
        report.payments, sink.payments,
        "every payment reaches the sink once"
    );
    report.payments
}

/// One replication's world alone; counted in the scenario's payments so it compares with the rest.
#[divan::bench(args = SCENARIOS, sample_count = 20)]
fn world(bencher: Bencher, name: &str) {
    let s = load(name);
    bencher
        .counter(ItemsCount::new(payments(&s)))
        .bench_local(|| sim::build_world(&s, 0).expect("world builds"));
}

/// The simulator alone: every row handed to a sink that discards it.
#[divan::bench(args = SCENARIOS, sample_count = 20)]
fn simulate(bencher: Bencher, name: &str) {
    let s = load(name);
    bencher
        .counter(ItemsCount::new(payments(&s)))
        .bench_local(|| {
            let mut sink = Discard::default();
            sim::run(&s, 0, &mut sink).expect("scenario runs")
        });
}

/// Replications per sample of the `threads` bench: enough units for both threads to stay busy
/// until near the end.
const REPLICATIONS: u32 = 8;

/// A whole run into a fresh folder; `write_payments` decides whether payments.csv is written.
fn full_run(bencher: Bencher, name: &str, write_payments: bool) {
    full_run_on(bencher, load(name), write_payments, 1);
}

/// `s` run into a fresh folder on `threads` worker threads, counted in all its payments.
fn full_run_on(bencher: Bencher, s: Scenario, write_payments: bool, threads: usize) {
    let opts = RunOptions {
        command: String::new(),
        write_payments,
        progress: None,
        force: false,
        cancelled: None,
        // One thread unless the bench is about threads: the figure is per core
        // (docs/performance.md).
        threads,
        shard: None,
    };
    let all: u64 = (0..s.replications).map(|r| payments_of(&s, r)).sum();
    bencher
        .counter(ItemsCount::new(all))
        .with_inputs(|| tempfile::tempdir().expect("temporary folder"))
        .bench_local_values(|dir| {
            let outcome =
                experiment::run(&s, &dir.path().join("out"), &opts).expect("run succeeds");
            // Returned so the folder is deleted outside the timed region.
            (outcome, dir)
        });
}

/// `kervan run --no-payments`: aggregates, fx.csv and the manifest, no per-payment rows.
#[divan::bench(args = SCENARIOS, sample_count = 20)]
fn run_no_payments_csv(bencher: Bencher, name: &str) {
    full_run(bencher, name, false);
}

/// `kervan run`: everything, including one payments.csv row per payment.
#[divan::bench(args = SCENARIOS, sample_count = 20)]
fn run_payments_csv(bencher: Bencher, name: &str) {
    full_run(bencher, name, true);
}

/// `kervan run NAME --replications 8 --threads N` (60 days each), N given (0: one per core).
fn replications_on(bencher: Bencher, name: &str, threads: usize) {
    let s = scenario::load_with(
        name,
        &Overrides {
            days: Some(DAYS),
            replications: Some(REPLICATIONS),
            ..Default::default()
        },
    )
    .expect("bundled scenario loads");
    full_run_on(bencher, s, true, threads);
}

/// `kervan run NAME --replications 8 --threads 1`: the reference for the speed-up.
#[divan::bench(args = SCENARIOS, sample_count = 10)]
fn threads_one(bencher: Bencher, name: &str) {
    replications_on(bencher, name, 1);
}

/// `kervan run NAME --replications 8` on one thread per core: against `threads_one`, the
/// speed-up of independent replications.
#[divan::bench(args = SCENARIOS, sample_count = 10)]
fn threads_all(bencher: Bencher, name: &str) {
    replications_on(bencher, name, 0);
}
