//! The bundled scenarios end to end, in payments per second.
//!
//! Workload: `ots-baseline` (a year of intra-OTS trade, every payment through a chain of US-dollar
//! correspondents — the default of `kervan run`) and `ots-local-bilateral` (the same trade and
//! rate path through bilateral local-currency accounts), shortened to 60 days of trade (+ their
//! 30 drain days) so one sample takes a fraction of a second: about 27 500 payments each.
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

const SCENARIOS: &[&str] = &["ots-baseline", "ots-local-bilateral"];

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
    let mut sink = Discard::default();
    let report = sim::run(s, 0, &mut sink).expect("scenario runs");
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

/// A whole run into a fresh folder; `write_payments` decides whether payments.csv is written.
fn full_run(bencher: Bencher, name: &str, write_payments: bool) {
    let s = load(name);
    let opts = RunOptions {
        command: String::new(),
        write_payments,
        progress: None,
        force: false,
        cancelled: None,
        // One thread: the figure is per core (docs/performance.md).
        threads: 1,
        shard: None,
    };
    bencher
        .counter(ItemsCount::new(payments(&s)))
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
