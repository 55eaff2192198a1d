//! Issue 9's speed target as a side-by-side ratio: `kervan run` of the default year (one
//! thread, payments.csv written) against the minimal five-event pipeline of
//! examples/minimal_pipeline.rs on the same number of payments, alternated in one process so
//! both see the same load on a shared machine.
//!
//! The target is that kervan keeps at least half of the minimal pipeline's throughput (about
//! 400 k of 800 k payments/s per core on the machines the issue was written on). Each round
//! runs the reference once and kervan once, each into a fresh temporary folder created and
//! deleted outside the timed region; the fastest of the rounds is the figure (the machine is
//! shared, and interference only ever slows a run down), the median is printed for scale.
//! `KERVAN_RATIO_ROUNDS` sets the number of rounds (default 9). Figures and the machine are in
//! docs/performance.md.

use std::time::{Duration, Instant};

use kervan::experiment::{self, RunOptions};
use kervan::scenario::{self, Overrides};

#[path = "../examples/minimal_pipeline.rs"]
mod reference;

fn main() {
    // `cargo bench` passes `--bench` (and any filter) to every bench binary; there is nothing
    // to filter here.
    let rounds: usize = std::env::var("KERVAN_RATIO_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(9)
        .max(1);
    let s =
        scenario::load_with("ots-baseline", &Overrides::default()).expect("bundled scenario loads");
    let opts = RunOptions {
        command: String::new(),
        write_payments: true,
        progress: None,
        force: false,
        cancelled: None,
        // The figure is per core.
        threads: 1,
        shard: None,
    };

    let mut kervan_s = Vec::new();
    let mut reference_s = Vec::new();
    let mut payments = 0;
    for round in 0..rounds {
        let dir = tempfile::tempdir().expect("temporary folder");
        let start = Instant::now();
        let outcome = experiment::run(&s, &dir.path().join("kervan"), &opts).expect("run succeeds");
        kervan_s.push(start.elapsed());
        payments = outcome.payments;

        let start = Instant::now();
        let total =
            reference::run(&dir.path().join("reference"), payments).expect("reference runs");
        reference_s.push(start.elapsed());
        assert!(total.is_zero(), "the reference's books balance");
        eprintln!(
            "round {}: kervan {:.1} ms, reference {:.1} ms",
            round + 1,
            ms(kervan_s[round]),
            ms(reference_s[round])
        );
    }

    let (k_min, k_med) = fastest_and_median(&mut kervan_s);
    let (r_min, r_med) = fastest_and_median(&mut reference_s);
    let per_s = |d: Duration| payments as f64 / d.as_secs_f64() / 1_000.0;
    println!("{payments} payments, {rounds} rounds, one thread (fastest; median)");
    println!(
        "kervan run, payments.csv:  {:7.1} ms  {:5.0} k payments/s  ({:.0} k/s)",
        ms(k_min),
        per_s(k_min),
        per_s(k_med)
    );
    println!(
        "minimal 5-event pipeline:  {:7.1} ms  {:5.0} k payments/s  ({:.0} k/s)",
        ms(r_min),
        per_s(r_min),
        per_s(r_med)
    );
    println!(
        "ratio kervan / reference:  {:.3}  ({:.3})   target: at least 0.5",
        r_min.as_secs_f64() / k_min.as_secs_f64(),
        r_med.as_secs_f64() / k_med.as_secs_f64()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn fastest_and_median(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    (samples[0], samples[samples.len() / 2])
}
