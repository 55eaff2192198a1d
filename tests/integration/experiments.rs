//! Experiments at scale: threads and shards change no byte, summaries agree with the
//! per-replication files they summarise, variants are named apart.

use std::collections::BTreeMap;
use std::path::Path;

use super::common::{kervan, read_csv, stderr, stdout};

fn run(cwd: &Path, args: &[&str]) -> String {
    let out = kervan(cwd, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// Every file of a folder (hidden ones included), by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

const BASE: &[&str] = &[
    "run",
    "ots-local-bilateral",
    "--days",
    "20",
    "--replications",
    "4",
    "--quiet",
];

#[test]
fn threads_and_shards_change_no_byte() {
    let dir = tempfile::tempdir().unwrap();
    let with = |extra: &[&str]| -> Vec<String> {
        BASE.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let go = |extra: &[&str]| {
        let a = with(extra);
        run(
            dir.path(),
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    };
    go(&["--threads", "1", "--out", "t1"]);
    go(&["--threads", "2", "--out", "t2"]);
    let one = files(&dir.path().join("t1"));
    assert!(one.contains_key("summary.csv") && one.contains_key("g20.csv"));
    assert_eq!(one.len(), 11, "{:?}", one.keys().collect::<Vec<_>>());
    assert!(
        one == files(&dir.path().join("t2")),
        "--threads 1 and 2 differ"
    );
    for n in 1..=3u32 {
        let mut shards = Vec::new();
        for k in 1..=n {
            let name = format!("s{n}-{k}");
            go(&["--shard", &format!("{k}/{n}"), "--out", &name]);
            shards.push(name);
        }
        // Any order of the shard folders.
        shards.reverse();
        let merged = format!("m{n}");
        let mut args = vec!["merge"];
        args.extend(shards.iter().map(String::as_str));
        args.extend(["--out", &merged, "--quiet"]);
        run(dir.path(), &args);
        let m = files(&dir.path().join(&merged));
        for (name, bytes) in &one {
            assert!(
                m.get(name) == Some(bytes),
                "N = {n}: {name} differs from one machine's"
            );
        }
        assert_eq!(m.len(), one.len());
    }
    // A shard left out, or given twice, is named.
    let o = kervan(dir.path(), &["merge", "s3-1", "s3-3", "--out", "bad"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("shard 2/3 missing"), "{}", stderr(&o));
    let o = kervan(
        dir.path(),
        &["merge", "s3-1", "s3-2", "s3-2", "s3-3", "--out", "bad"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("shard 2/3 is given twice"),
        "{}",
        stderr(&o)
    );
    // Shards of another experiment do not mix.
    let o = kervan(dir.path(), &["merge", "s2-1", "s3-2", "--out", "bad"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("another experiment"), "{}", stderr(&o));
    assert!(!dir.path().join("bad").exists());
}

#[test]
fn summary_and_g20_agree_with_the_replications_they_summarise() {
    let dir = tempfile::tempdir().unwrap();
    let text = run(
        dir.path(),
        &[
            "run",
            "ots-baseline",
            "--days",
            "15",
            "--replications",
            "3",
            "--variant",
            "b",
            "--out",
            "o",
        ],
    );
    let o = dir.path().join("o");
    let rails = read_csv(&o.join("rails.csv"));
    let summary = read_csv(&o.join("summary.csv"));
    let pick = |corridor: &str, rail: &str, metric: &str| {
        summary
            .iter()
            .find(|r| r["corridor"] == corridor && r["rail"] == rail && r["metric"] == metric)
            .unwrap_or_else(|| panic!("no {corridor} {rail} {metric} in summary.csv"))
            .clone()
    };
    // rails.csv's per-replication value-weighted cost, worked into a mean and a t interval by
    // hand: t(0.975, 2) = 4.302653.
    let xs: Vec<f64> = rails
        .iter()
        .map(|r| r["cost_bps_weighted"].parse().unwrap())
        .collect();
    assert_eq!(xs.len(), 3);
    let mean = xs.iter().sum::<f64>() / 3.0;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    let half = 4.302_653 * sd / 3f64.sqrt();
    let row = pick("*", "swift-usd", "cost_bps");
    assert_eq!(row["variant"], "b");
    assert_eq!(row["replications"], "3");
    let got = |k: &str| row[k].parse::<f64>().unwrap();
    assert!(
        (got("mean") - mean).abs() < 2e-6,
        "{} vs {mean}",
        got("mean")
    );
    assert!((got("sd") - sd).abs() < 2e-6);
    assert!((got("ci95_half_width") - half).abs() < 2e-5);
    assert!((got("ci95_low") - (mean - half)).abs() < 2e-5);
    // A corridor × rail metric against corridors.csv: within 1 hour on TR->AZ.
    let corridors = read_csv(&o.join("corridors.csv"));
    let tr_az: Vec<f64> = corridors
        .iter()
        .filter(|r| r["corridor"] == "TR->AZ")
        .map(|r| r["within_1h_share"].parse().unwrap())
        .collect();
    let m = tr_az.iter().sum::<f64>() / tr_az.len() as f64;
    let row = pick("TR->AZ", "swift-usd", "within_1h_share");
    assert!((row["mean"].parse::<f64>().unwrap() - m).abs() < 2e-6);
    // g20.csv: the average cost of a payment in %, against 1 % and 3 %.
    let g20 = read_csv(&o.join("g20.csv"));
    let costs: Vec<f64> = corridors
        .iter()
        .filter(|r| r["corridor"] == "KZ->UZ")
        .map(|r| r["cost_bps_mean"].parse().unwrap())
        .collect();
    let pct = costs.iter().sum::<f64>() / costs.len() as f64 / 100.0;
    let g = g20.iter().find(|r| r["corridor"] == "KZ->UZ").unwrap();
    assert!((g["cost_pct"].parse::<f64>().unwrap() - pct).abs() < 2e-6);
    assert_eq!(g["meets_retail_1pct"], (pct <= 1.0).to_string());
    assert_eq!(g["meets_remittance_3pct"], (pct <= 3.0).to_string());
    // The terminal shows means with interval half-widths, never sums over replications.
    assert!(text.contains("±95%"), "{text}");
    let payments_mean = rails
        .iter()
        .map(|r| r["payments"].parse::<f64>().unwrap())
        .sum::<f64>()
        / 3.0;
    let line = text
        .lines()
        .find(|l| l.starts_with("b ") && l.contains("swift-usd"))
        .unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cells[2], format!("{payments_mean:.0}"), "{line}");
    assert!(text.contains("G20 targets"), "{text}");
}

#[test]
fn a_changed_run_is_a_variant_of_its_own_with_its_own_folder() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), &["run", "--days", "3", "--quiet"]);
    run(
        dir.path(),
        &[
            "run",
            "--days",
            "3",
            "--set",
            "rail.swift-usd.hold_probability=0.2",
            "--quiet",
        ],
    );
    let out: Vec<String> = std::fs::read_dir(dir.path().join("kervan-out"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(out.len(), 2, "{out:?}");
    for name in &out {
        assert!(name.starts_with("ots-baseline-") && name.len() == "ots-baseline-".len() + 8);
        let rows = read_csv(&dir.path().join("kervan-out").join(name).join("rails.csv"));
        assert_eq!(&rows[0]["variant"], name, "rows name their variant");
    }
    // The file as it is, more replications or another seed: the scenario's own name.
    run(
        dir.path(),
        &[
            "run",
            "ots-union",
            "--replications",
            "2",
            "--seed",
            "9",
            "--quiet",
        ],
    );
    assert!(dir.path().join("kervan-out/ots-union/rails.csv").is_file());
    // --variant names it; a bad name is refused before anything runs.
    let o = kervan(dir.path(), &["run", "--days", "2", "--variant", "../x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--variant"), "{}", stderr(&o));
}
