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

#[test]
fn designs_see_the_same_invoices_and_rates() {
    // Common random numbers: the baseline and the bilateral design draw the same payments
    // (id, corridor, time, invoice currency and amount) and the same rate path.
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &[
            "run",
            "ots-baseline",
            "--days",
            "30",
            "--out",
            "base",
            "--quiet",
        ],
    );
    run(
        dir.path(),
        &[
            "run",
            "ots-local-bilateral",
            "--days",
            "30",
            "--out",
            "bil",
            "--quiet",
        ],
    );
    let key = |r: &BTreeMap<String, String>| {
        (
            r["payment_id"].clone(),
            r["corridor"].clone(),
            r["initiated_at"].clone(),
            r["invoice_currency"].clone(),
            r["invoice_amount"].clone(),
            r["charge_bearer"].clone(),
        )
    };
    let mut base: Vec<_> = read_csv(&dir.path().join("base/payments.csv"))
        .iter()
        .map(key)
        .collect();
    let mut bil: Vec<_> = read_csv(&dir.path().join("bil/payments.csv"))
        .iter()
        .map(key)
        .collect();
    base.sort();
    bil.sort();
    assert!(base.len() > 1000);
    assert_eq!(base, bil);
    let fx_base = read_csv(&dir.path().join("base/fx.csv"));
    let fx_bil = read_csv(&dir.path().join("bil/fx.csv"));
    let mids = |rows: &[BTreeMap<String, String>]| {
        rows.iter()
            .map(|r| {
                (
                    r["time"].clone(),
                    r["currency"].clone(),
                    r["mid_per_usd"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(mids(&fx_base), mids(&fx_bil));
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
