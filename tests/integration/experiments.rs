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
    assert_eq!(one.len(), 12, "{:?}", one.keys().collect::<Vec<_>>());
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

/// Runs `args` whole, then as N = 1, 2, 3 shards merged, and checks every file is the same.
fn sharded_equals_whole(args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut whole: Vec<&str> = args.to_vec();
    whole.extend(["--out", "whole", "--quiet"]);
    run(dir.path(), &whole);
    let one = files(&dir.path().join("whole"));
    for n in 1..=3u32 {
        let mut names = Vec::new();
        for k in 1..=n {
            let name = format!("s{n}-{k}");
            let shard = format!("{k}/{n}");
            let mut a: Vec<&str> = args.to_vec();
            a.extend([
                "--shard",
                &shard,
                "--out",
                &name,
                "--quiet",
                "--threads",
                "1",
            ]);
            run(dir.path(), &a);
            names.push(name);
        }
        let merged = format!("m{n}");
        let mut m = vec!["merge"];
        m.extend(names.iter().map(String::as_str));
        m.extend(["--out", &merged, "--quiet"]);
        run(dir.path(), &m);
        let got = files(&dir.path().join(&merged));
        assert_eq!(got.len(), one.len(), "{args:?} N = {n}");
        for (name, bytes) in &one {
            assert!(
                got.get(name) == Some(bytes),
                "{args:?} N = {n}: {name} differs"
            );
        }
    }
}

#[test]
fn compare_and_sweep_shard_and_merge_into_the_same_folder() {
    sharded_equals_whole(&[
        "compare",
        "ots-baseline",
        "ots-regional-netting",
        "--days",
        "10",
        "--replications",
        "2",
        "--no-payments",
    ]);
    sharded_equals_whole(&[
        "sweep",
        "ots-baseline",
        "--vary",
        "rail.swift-usd.hold_probability=0,0.2",
        "--days",
        "10",
        "--replications",
        "2",
        "--no-payments",
    ]);
}

#[test]
fn compare_reports_paired_differences_of_the_replications() {
    let dir = tempfile::tempdir().unwrap();
    let text = run(
        dir.path(),
        &[
            "compare",
            "ots-baseline",
            "ots-regional-netting",
            "--days",
            "20",
            "--replications",
            "4",
            "--no-payments",
            "--out",
            "c",
        ],
    );
    let c = dir.path().join("c");
    // Per replication, from rails.csv (each design has one rail): the cost and the latency
    // median, and their paired differences worked into a t interval by hand
    // (t(0.975, 3) = 3.182446).
    let rails = read_csv(&c.join("rails.csv"));
    let by = |variant: &str, col: &str| -> Vec<f64> {
        rails
            .iter()
            .filter(|r| r["variant"] == variant)
            .map(|r| r[col].parse().unwrap())
            .collect()
    };
    let names: Vec<String> = {
        let mut v: Vec<String> = rails.iter().map(|r| r["variant"].clone()).collect();
        v.dedup();
        v
    };
    assert_eq!(names.len(), 2, "{names:?}");
    let compare = read_csv(&c.join("compare.csv"));
    for (metric, col) in [
        ("cost_bps", "cost_bps_weighted"),
        ("latency_h_median", "latency_h_median"),
    ] {
        let (b, v) = (by(&names[0], col), by(&names[1], col));
        let d: Vec<f64> = b.iter().zip(&v).map(|(x, y)| y - x).collect();
        let mean = d.iter().sum::<f64>() / 4.0;
        let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
        let half = 3.182_446 * sd / 2.0;
        let row = compare
            .iter()
            .find(|r| r["corridor"] == "*" && r["metric"] == metric)
            .unwrap();
        assert_eq!(row["base"], names[0]);
        assert_eq!(row["replications"], "4");
        let got = |k: &str| row[k].parse::<f64>().unwrap();
        assert!((got("difference") - mean).abs() < 1e-5, "{metric}");
        assert!((got("ci95_half_width") - half).abs() < 1e-4, "{metric}");
        assert_eq!(row["significant"], (mean.abs() > half).to_string());
    }
    // Per corridor too, and the terminal marks the differences.
    assert!(compare.iter().any(|r| r["corridor"] == "TR->AZ"));
    assert!(text.contains("paired differences against"), "{text}");
}

#[test]
fn until_stops_at_the_interval_asked_for_and_leaves_the_plain_folder() {
    let dir = tempfile::tempdir().unwrap();
    let text = run(
        dir.path(),
        &[
            "compare",
            "ots-baseline",
            "ots-regional-netting",
            "--days",
            "10",
            "--replications",
            "2",
            "--until",
            "3bps",
            "--no-payments",
            "--out",
            "u",
        ],
    );
    let line = text
        .lines()
        .find(|l| l.contains("reached with"))
        .unwrap_or_else(|| panic!("{text}"));
    let n: u32 = line
        .split("reached with ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|x| x.parse().ok())
        .unwrap();
    let compare = read_csv(&dir.path().join("u/compare.csv"));
    let row = compare
        .iter()
        .find(|r| r["corridor"] == "*" && r["metric"] == "cost_bps")
        .unwrap();
    assert_eq!(row["replications"], n.to_string());
    assert!(row["ci95_half_width"].parse::<f64>().unwrap() <= 3.0);
    // The folder is the one `--replications n` writes.
    let reps = n.to_string();
    run(
        dir.path(),
        &[
            "compare",
            "ots-baseline",
            "ots-regional-netting",
            "--days",
            "10",
            "--replications",
            &reps,
            "--no-payments",
            "--out",
            "p",
            "--quiet",
        ],
    );
    assert!(files(&dir.path().join("u")) == files(&dir.path().join("p")));
    // A cap that is too low is said, not hidden.
    let o = kervan(
        dir.path(),
        &[
            "compare",
            "ots-baseline",
            "ots-regional-netting",
            "--days",
            "10",
            "--replications",
            "2",
            "--until",
            "0.0001bps",
            "--max-replications",
            "3",
            "--no-payments",
            "--out",
            "cap",
        ],
    );
    assert!(o.status.success());
    assert!(stderr(&o).contains("not reached"), "{}", stderr(&o));
}

#[test]
fn sweep_runs_every_point_on_common_streams() {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &[
            "sweep",
            "ots-local-bilateral",
            "--vary",
            "fx.cross_multiplier=1:2:0.5",
            "--vary",
            "rail.local-bilateral.nostro_days=2,4",
            "--days",
            "10",
            "--replications",
            "2",
            "--no-payments",
            "--out",
            "s",
        ],
    );
    let rows = read_csv(&dir.path().join("s/sweep.csv"));
    // A full grid: 3 multipliers × 2 nostro sizes, the first key varying slowest.
    let points: Vec<(String, String, String)> = {
        let mut v: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r["point"].clone(),
                    r["fx.cross_multiplier"].clone(),
                    r["rail.local-bilateral.nostro_days"].clone(),
                )
            })
            .collect();
        v.dedup();
        v
    };
    let want: Vec<(String, String, String)> = [
        ("0", "1", "2"),
        ("1", "1", "4"),
        ("2", "1.5", "2"),
        ("3", "1.5", "4"),
        ("4", "2", "2"),
        ("5", "2", "4"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(points, want);
    // Each point's cost is the mean of its replications in rails.csv; a wider cross costs more
    // spread on the same invoices (common streams: same payments at every point).
    let rails = read_csv(&dir.path().join("s/rails.csv"));
    let spread = |p: &str| -> f64 {
        rows.iter()
            .find(|r| r["point"] == p && r["rail"] == "*" && r["metric"] == "spread_bps")
            .unwrap()["mean"]
            .parse()
            .unwrap()
    };
    assert!(spread("0") < spread("2") && spread("2") < spread("4"));
    let cost0: f64 = rows
        .iter()
        .find(|r| r["point"] == "0" && r["rail"] == "local-bilateral" && r["metric"] == "cost_bps")
        .unwrap()["mean"]
        .parse()
        .unwrap();
    let reps: Vec<f64> = rails
        .iter()
        .filter(|r| r["variant"].ends_with("-p000") && r["rail"] == "local-bilateral")
        .map(|r| r["cost_bps_weighted"].parse().unwrap())
        .collect();
    assert_eq!(reps.len(), 2);
    assert!((cost0 - (reps[0] + reps[1]) / 2.0).abs() < 1e-5);
    let payments = |v: &str| -> Vec<String> {
        rails
            .iter()
            .filter(|r| r["variant"].ends_with(v))
            .map(|r| r["payments"].clone())
            .collect()
    };
    assert_eq!(payments("-p000"), payments("-p005"));
    // --zip pairs lists of the same length, and refuses others.
    let o = kervan(
        dir.path(),
        &[
            "sweep",
            "ots-baseline",
            "--vary",
            "rail.swift-usd.hold_probability=0,0.1",
            "--vary",
            "rail.swift-usd.return_probability=0",
            "--zip",
            "--days",
            "2",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("as long"), "{}", stderr(&o));
}

#[test]
fn bad_experiment_arguments_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["run", "--shard", "0/2"], "shard 0 of 2 does not exist"),
        (&["run", "--shard", "3/2"], "shard 3 of 2 does not exist"),
        (&["run", "--shard", "two"], "expected K/N"),
        (&["run", "--shard", "a/2"], "K is \"a\""),
        (&["run", "--shard", "auto"], "neither a Slurm array task"),
        (
            &["sweep", "ots-baseline", "--vary", "k=1:0:1"],
            "STEP must be non-zero and lead from A to B",
        ),
        (&["sweep", "ots-baseline", "--vary", "novalue"], "no `=`"),
        (
            &["sweep", "ots-baseline", "--vary", "rail.nope.fee=1,2"],
            "no `rail` named `nope`",
        ),
        (&["compare", "ots-baseline", "ots-baseline"], "both called"),
        (
            &["compare", "ots-baseline", "ots-union", "--until", "0bps"],
            "positive number of bps",
        ),
        (
            &[
                "compare",
                "ots-baseline",
                "ots-union",
                "--until",
                "1bps",
                "--shard",
                "1/2",
            ],
            "cannot run as a shard",
        ),
        (&["merge", "nowhere", "--out", "m"], "not a shard folder"),
    ];
    for (args, want) in cases {
        let mut a = args.to_vec();
        a.extend(["--days", "2"]);
        if args[0] == "merge" {
            a.truncate(args.len());
        }
        let o = kervan(dir.path(), &a);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
    // Slurm's array variables, and a Kubernetes index without the shard count.
    let bin = env!("CARGO_BIN_EXE_kervan");
    let o = std::process::Command::new(bin)
        .args([
            "run", "--days", "2", "--shard", "auto", "--out", "sl", "--quiet",
        ])
        .env("SLURM_ARRAY_TASK_ID", "5")
        .env("SLURM_ARRAY_TASK_MIN", "4")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let shard = std::fs::read_to_string(dir.path().join("sl/shard.toml")).unwrap();
    assert!(
        shard.contains("shard = 2") && shard.contains("shards = 3"),
        "{shard}"
    );
    let o = std::process::Command::new(bin)
        .args(["run", "--days", "2", "--shard", "auto", "--out", "k8"])
        .env("JOB_COMPLETION_INDEX", "0")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("KERVAN_SHARDS"), "{}", stderr(&o));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["sl"], "nothing else was written");
}
