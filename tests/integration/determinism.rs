//! Reproducibility: the same scenario and seed give byte-identical files; replications add a
//! column and stay deterministic; designs compared on the same seed see the same invoices
//! (common random numbers).

use std::collections::BTreeMap;
use std::path::Path;

use super::common::{kervan, read_csv, stderr};

const FILES: &[&str] = &[
    "payments.csv",
    "corridors.csv",
    "rails.csv",
    "fx.csv",
    "manifest.toml",
];

fn run(cwd: &Path, args: &[&str]) {
    let out = kervan(cwd, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
}

#[test]
fn same_seed_same_bytes_with_replications() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let args = [
        "run",
        "ots-local-bilateral",
        "--days",
        "40",
        "--replications",
        "3",
        "--out",
        "o",
        "--quiet",
    ];
    run(a.path(), &args);
    run(b.path(), &args);
    for f in FILES {
        let x = std::fs::read(a.path().join("o").join(f)).unwrap();
        let y = std::fs::read(b.path().join("o").join(f)).unwrap();
        assert!(x == y, "{f} differs between identical runs");
    }
    // Three replications, in order, each with its own draws.
    let rows = read_csv(&a.path().join("o/payments.csv"));
    let reps: Vec<&str> = rows.iter().map(|r| r["replication"].as_str()).collect();
    assert_eq!(reps.first(), Some(&"0"));
    assert_eq!(reps.last(), Some(&"2"));
    assert!(
        reps.windows(2).all(|w| w[0] <= w[1]),
        "rows grouped by replication"
    );
    let count = |rep: &str| rows.iter().filter(|r| r["replication"] == rep).count();
    assert!(count("0") > 1000 && count("1") > 1000 && count("0") != count("1"));
}

#[test]
fn another_seed_gives_another_run() {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &["run", "--days", "20", "--out", "s1", "--quiet"],
    );
    run(
        dir.path(),
        &[
            "run", "--days", "20", "--seed", "7", "--out", "s7", "--quiet",
        ],
    );
    let x = std::fs::read(dir.path().join("s1/payments.csv")).unwrap();
    let y = std::fs::read(dir.path().join("s7/payments.csv")).unwrap();
    assert_ne!(x, y);
    let m = std::fs::read_to_string(dir.path().join("s7/manifest.toml")).unwrap();
    assert!(m.contains("seed = 7"), "{m}");
}

/// Turkmenistan joins the baseline as a sixth member (its trade rows are in the bundled matrix;
/// the manat on its de facto peg). Its currency comes last, so the others' correlations are
/// those of the base.
const WITH_TM: &str = r#"extends = "bundled:ots-baseline"
[scenario]
name = "with-tm"
[[member]]
code = "TM"
name = "Turkmenistan"
currency = "TMT"
time_zone = "Asia/Ashgabat"
rtgs_open = "09:00"
rtgs_cutoff = "17:00"
holidays = "none"
[[currency]]
code = "TMT"
minor_units = 2
mid_per_usd = "3.50"
regime = "peg"
band_pct = 0.001
vol_pa = 0.001
liquidity_cost_pa = 0.05
usd_half_spread_bps = 50
"#;

type Invoice = (String, String, String, String, String);

/// The invoices of a run's payments.csv initiated in the first 40 days (before 2025-02-10),
/// sorted: (corridor, initiated_at, invoice currency, amount, bearer).
fn invoices(dir: &Path) -> Vec<Invoice> {
    let mut v: Vec<Invoice> = read_csv(&dir.join("payments.csv"))
        .into_iter()
        .filter(|r| r["initiated_at"].as_str() < "2025-02-10")
        .map(|r| {
            (
                r["corridor"].clone(),
                r["initiated_at"].clone(),
                r["invoice_currency"].clone(),
                r["invoice_amount"].clone(),
                r["charge_bearer"].clone(),
            )
        })
        .collect();
    v.sort();
    v
}

/// fx.csv's mids before day 40, by (time, currency).
fn mids(dir: &Path) -> BTreeMap<(String, String), String> {
    read_csv(&dir.join("fx.csv"))
        .into_iter()
        .filter(|r| r["time"].as_str() < "2025-02-10")
        .map(|r| {
            (
                (r["time"].clone(), r["currency"].clone()),
                r["mid_per_usd"].clone(),
            )
        })
        .collect()
}

#[test]
fn common_random_numbers_survive_any_change_of_design() {
    // Streams are keyed by names: a variant that differs in its rails, in one rail parameter,
    // by an extra member or in its horizon draws the same invoices on every corridor and day
    // it shares with the base, and the same rates for the currencies they share.
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::write(dir.path().join("tm.toml"), WITH_TM).unwrap();
    let days = ["--days", "40", "--quiet"];
    let variants: [(&str, Vec<&str>); 5] = [
        ("base", vec!["run", "ots-baseline"]),
        ("longer", vec!["run", "ots-baseline", "--days", "120"]),
        ("rails", vec!["run", "ots-local-bilateral"]),
        (
            "param",
            vec![
                "run",
                "ots-baseline",
                "--set",
                "rail.swift-usd.hold_probability=0.5",
            ],
        ),
        ("tm", vec!["run", "tm.toml"]),
    ];
    for (name, args) in &variants {
        let mut a = args.clone();
        if *name != "longer" {
            a.extend_from_slice(&days[..2]);
        }
        a.extend_from_slice(&["--out", name, days[2]]);
        run(dir.path(), &a);
    }
    let at = |n: &str| dir.path().join(n);
    let base = invoices(&at("base"));
    assert!(base.len() > 10_000, "{} invoices", base.len());
    for other in ["longer", "rails", "param"] {
        let theirs = invoices(&at(other));
        assert!(
            theirs == base,
            "{other}: its invoices differ from the base's"
        );
        assert_eq!(mids(&at(other)), mids(&at("base")), "{other}: rates differ");
    }
    // With Turkmenistan: its own corridors come in, everyone else's are untouched.
    let tm = invoices(&at("tm"));
    let (with_tm, without): (Vec<_>, Vec<_>) = tm.into_iter().partition(|i| i.0.contains("TM"));
    assert!(with_tm.len() > 100, "{} TM invoices", with_tm.len());
    assert!(
        without == base,
        "an extra member changed the other corridors' invoices"
    );
    let tm_mids = mids(&at("tm"));
    let base_mids = mids(&at("base"));
    assert!(tm_mids.keys().any(|(_, c)| c == "TMT"));
    let shared: BTreeMap<_, _> = tm_mids
        .into_iter()
        .filter(|((_, c), _)| c != "TMT")
        .collect();
    assert_eq!(
        shared, base_mids,
        "an extra currency changed the others' rates"
    );
    // A rail parameter does not disturb the other draws of a payment's path on that rail: the
    // number of banks is drawn before the hold, from the payment's own stream.
    let hops = |n: &str| {
        let mut v: Vec<_> = read_csv(&at(n).join("payments.csv"))
            .into_iter()
            .map(|r| {
                (
                    r["corridor"].clone(),
                    r["initiated_at"].clone(),
                    r["invoice_amount"].clone(),
                    r["hops"].clone(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(hops("base"), hops("param"));
}

#[test]
fn an_interrupted_runs_leftovers_are_cleared_and_never_look_complete() {
    let dir = tempfile::tempdir().unwrap();
    // What a run killed mid-way leaves: its partial folder inside the output folder, with no
    // marker and no manifest, so the folder does not look complete.
    let stale = dir.path().join("o/.kervan-partial");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("payments.csv"), "half a file").unwrap();
    run(dir.path(), &["run", "--days", "5", "--out", "o", "--quiet"]);
    assert!(dir.path().join("o/manifest.toml").is_file());
    assert!(dir.path().join("o/.kervan-output").is_file());
    assert!(!stale.exists(), "the stale partial folder is cleared");
    assert!(
        !dir.path().join("o/.kervan-lock").exists(),
        "the lock goes with the run"
    );
    // Nothing was written beside the output folder.
    let beside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(beside, ["o"]);
}
