//! The liquidity and market-depth outputs: liquidity.csv agrees with the rail's peak and mean
//! prefunding in rails.csv, and a cross's spread narrows as local trade moves onto it (market
//! depth) but stays flat at elasticity 0.

use std::collections::BTreeMap;

use super::common::{kervan, read_csv, stderr};

fn run(dir: &std::path::Path, args: &[&str]) {
    let out = kervan(dir, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
}

#[test]
fn liquidity_csv_matches_the_rails_summary() {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &[
            "run",
            "ots-local-bilateral",
            "--days",
            "45",
            "--out",
            "o",
            "--quiet",
        ],
    );
    let rows = read_csv(&dir.path().join("o/liquidity.csv"));
    // 20 nostros (every ordered member pair), sampled at each of the 45 midnights of trade.
    let holders: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["holder"].as_str()).collect();
    assert_eq!(holders.len(), 20);
    assert_eq!(rows.len(), 20 * 45);
    // The TR bank's nostro at a Kazakh bank holds tenge.
    assert!(
        rows.iter()
            .filter(|r| r["holder"] == "TR@KZ")
            .all(|r| r["currency"] == "KZT")
    );
    let mut by_time: BTreeMap<&str, f64> = BTreeMap::new();
    for r in &rows {
        let balance: f64 = r["balance"].parse().unwrap();
        assert!(balance >= 0.0, "a prefunded balance went negative: {r:?}");
        *by_time.entry(r["time"].as_str()).or_default() += r["balance_usd"].parse::<f64>().unwrap();
    }
    let peak = by_time.values().copied().fold(0.0, f64::max);
    let mean = by_time.values().sum::<f64>() / by_time.len() as f64;
    let rails = read_csv(&dir.path().join("o/rails.csv"));
    let bil = rails
        .iter()
        .find(|r| r["rail"] == "local-bilateral")
        .unwrap();
    let rail_peak: f64 = bil["liquidity_peak_usd"].parse().unwrap();
    let rail_mean: f64 = bil["liquidity_mean_usd"].parse().unwrap();
    // liquidity.csv prints each balance to the cent: 20 roundings of half a cent at most.
    assert!((peak - rail_peak).abs() < 0.11, "{peak} vs {rail_peak}");
    assert!((mean - rail_mean).abs() < 0.11, "{mean} vs {rail_mean}");
    assert!(
        rail_peak > 1e8,
        "3 days of $24 bn a year is ≈ $200 m prefunded: {rail_peak}"
    );
}

/// TRY/KZT half-spreads from depth.csv, in time order.
fn try_kzt(path: &std::path::Path) -> Vec<(f64, f64)> {
    read_csv(path)
        .iter()
        .filter(|r| r["pair"] == "TRY/KZT")
        .map(|r| {
            (
                r["volume_usd_per_day"].parse().unwrap(),
                r["half_spread_bps"].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn local_trade_narrows_a_cross_and_elasticity_zero_keeps_it_flat() {
    let dir = tempfile::tempdir().unwrap();
    // TRY/KZT: base half-spread 2 × (4 + 10) = 28 bps (docs/calibration.md §3.3 defaults).
    run(
        dir.path(),
        &[
            "run",
            "ots-local-bilateral",
            "--days",
            "60",
            "--out",
            "flat",
            "--quiet",
        ],
    );
    let flat = try_kzt(&dir.path().join("flat/depth.csv"));
    assert!(flat.len() > 50);
    assert!(
        flat.iter().all(|&(_, bps)| bps == 28.0),
        "elasticity 0 must leave the spread at 28 bps"
    );
    // The volume the local rail brings grows as the 30-day window fills.
    assert!(flat.last().unwrap().0 > 10.0 * flat[0].0);

    // Depth on, never wider than calibrated (max_multiplier 1).
    let depth = "fx.depth={ elasticity = 0.5, reference_usd_per_day = 10000000, floor_bps = 5 }";
    run(
        dir.path(),
        &[
            "run",
            "ots-local-bilateral",
            "--days",
            "60",
            "--set",
            depth,
            "--out",
            "deep",
            "--quiet",
        ],
    );
    let deep = try_kzt(&dir.path().join("deep/depth.csv"));
    // Thin at first: (10 M / ≈1 M)^0.5 > 1, so held at the base 28 bps.
    assert_eq!(deep[0].1, 28.0);
    // A month later the window holds ≈ $17 M a day — each unit traded counted once, at the
    // top-ups that refill the nostros: 28 × (10 / 17)^0.5 ≈ 21 bps.
    let (volume, bps) = deep[29];
    assert!((12e6..25e6).contains(&volume), "{volume}");
    let expected = 28.0 * (10e6 / volume).sqrt();
    assert!(
        (bps - expected.clamp(5.0, 28.0)).abs() < 1e-6,
        "{bps} vs {expected}"
    );
    assert!(bps < 24.0, "{bps}");
    // Narrowing over the run: the last week is tighter than the first.
    let first: f64 = deep[..7].iter().map(|x| x.1).sum::<f64>() / 7.0;
    let last: f64 = deep[deep.len() - 7..].iter().map(|x| x.1).sum::<f64>() / 7.0;
    assert!(
        last < first - 5.0,
        "first week {first} bps, last week {last} bps"
    );
    // And the payments pay it: the same Turkish-Kazakh trade loses less to spread.
    let spread = |name: &str| -> f64 {
        read_csv(&dir.path().join(name).join("corridors.csv"))
            .iter()
            .filter(|r| r["corridor"] == "KZ->TR" || r["corridor"] == "TR->KZ")
            .map(|r| r["spread_usd"].parse::<f64>().unwrap())
            .sum()
    };
    assert!(
        spread("deep") < 0.95 * spread("flat"),
        "{} vs {}",
        spread("deep"),
        spread("flat")
    );
}
