//! Behaviour of trade generation and rails on whole runs: the simulated year matches the trade
//! matrix, payments start only in the importer's business hours, holds and returns happen at
//! their probabilities, route shares split traffic, and a short nostro falls back.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDateTime, TimeZone, Timelike};
use rust_decimal::Decimal;

use super::common::{dec, kervan, read_csv, scratch, stderr};

fn run(dir: &std::path::Path, args: &[&str]) {
    let out = kervan(dir, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
}

#[test]
fn a_year_of_trade_matches_the_matrix_and_respects_business_hours() {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &["run", "--out", "o", "--quiet", "--no-payments"],
    );
    assert!(
        !dir.path().join("o/payments.csv").exists(),
        "--no-payments writes no payments.csv"
    );
    let corridors = read_csv(&dir.path().join("o/corridors.csv"));
    let mut total = Decimal::ZERO;
    let mut expected_total = Decimal::ZERO;
    for c in &corridors {
        let value = dec(c, "value_usd");
        let expected = dec(c, "expected_value_usd");
        total += value;
        expected_total += expected;
        // Heavy tails make small corridors noisy; the big ones (≥ $1 bn, ≥ 7,000 payments) must
        // land within 10 % of the matrix.
        if expected >= Decimal::from(1_000_000_000) {
            let ratio: f64 = (value / expected).to_string().parse().unwrap();
            assert!(
                (ratio - 1.0).abs() < 0.10,
                "{}: {value} vs {expected}",
                c["corridor"]
            );
        }
    }
    let ratio: f64 = (total / expected_total).to_string().parse().unwrap();
    assert!(
        (ratio - 1.0).abs() < 0.04,
        "all trade: {total} vs {expected_total}"
    );
    // The ten member pairs of the matrix (20 directed corridors) and no observer.
    assert_eq!(corridors.len(), 20);
    assert!(
        corridors
            .iter()
            .all(|c| c["corridor"] != "TR->TM" && c["corridor"] != "TR->HU")
    );
}

#[test]
fn payments_start_in_the_importers_hours_on_business_days() {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &["run", "--days", "120", "--out", "o", "--quiet"],
    );
    let rows = read_csv(&dir.path().join("o/payments.csv"));
    let zones: BTreeMap<&str, chrono_tz::Tz> = [
        ("TR", chrono_tz::Europe::Istanbul),
        ("AZ", chrono_tz::Asia::Baku),
        ("KZ", chrono_tz::Asia::Almaty),
        ("KG", chrono_tz::Asia::Bishkek),
        ("UZ", chrono_tz::Asia::Tashkent),
    ]
    .into();
    let mut on_holiday = 0;
    for r in &rows {
        let t = NaiveDateTime::parse_from_str(&r["initiated_at"], "%Y-%m-%dT%H:%M:%SZ").unwrap();
        let local = chrono::Utc
            .from_utc_datetime(&t)
            .with_timezone(&zones[r["importer"].as_str()]);
        assert!(
            local.weekday().num_days_from_monday() < 5,
            "weekend initiation {r:?}"
        );
        // Inside the importer's banking day: RTGS opening to cut-off (ots-baseline.toml).
        let (open, cutoff) = match r["importer"].as_str() {
            "TR" => (8 * 60, 17 * 60 + 30),
            "AZ" => (9 * 60 + 20, 17 * 60),
            "KZ" => (8 * 60, 19 * 60),
            "KG" => (9 * 60, 15 * 60),
            _ => (9 * 60, 17 * 60),
        };
        let minute = local.hour() * 60 + local.minute();
        assert!(
            (open..=cutoff).contains(&minute),
            "outside the banking day: {}",
            local
        );
        // Bundled holidays: no Turkish importer pays on 23 April (National Sovereignty Day) or
        // 1 January; no Kazakh importer on 21-25 March (Nauryz and its roll-over days).
        let d = (local.month(), local.day());
        if (r["importer"] == "TR" && (d == (4, 23) || d == (1, 1)))
            || (r["importer"] == "KZ" && d.0 == 3 && (21..=25).contains(&d.1))
        {
            on_holiday += 1;
        }
    }
    assert_eq!(on_holiday, 0);
    assert!(rows.len() > 40_000);
}

#[test]
fn holds_and_returns_happen_at_their_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    // Returns at 5 % so a short run has enough of them to measure.
    run(
        dir.path(),
        &[
            "run",
            "--days",
            "60",
            "--set",
            "rail.swift-usd.return_probability=0.05",
            "--out",
            "o",
            "--quiet",
        ],
    );
    let rows = read_csv(&dir.path().join("o/payments.csv"));
    let n = rows.len() as f64;
    let returned = rows.iter().filter(|r| r["status"] == "returned").count() as f64;
    // Binomial: sd = sqrt(0.05 × 0.95 / n) ≈ 0.0012 at n ≈ 30,000; allow 4 sd.
    assert!(
        (returned / n - 0.05).abs() < 4.0 * (0.05f64 * 0.95 / n).sqrt(),
        "{returned} of {n}"
    );
    for r in rows.iter().filter(|r| r["status"] == "returned") {
        // The importer got its money back less fees and two spreads (rate moves may offset
        // some of that, so only fees + spread must be a cost).
        assert!(dec(r, "fees_usd") + dec(r, "spread_usd") > Decimal::ZERO);
        assert!(r["settled_at"].is_empty() && r["latency_h"].is_empty());
    }
    // Every payment held: latency grows by the hold's working hours.
    run(
        dir.path(),
        &[
            "run",
            "--days",
            "30",
            "--set",
            "rail.swift-usd.hold_probability=1",
            "--set",
            "rail.swift-usd.hold_h={ median = 4 }",
            "--out",
            "held",
            "--quiet",
        ],
    );
    let held = read_csv(&dir.path().join("held/payments.csv"));
    let min_latency = held
        .iter()
        .filter(|r| r["status"] == "settled")
        .map(|r| r["latency_h"].parse::<f64>().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert!(
        min_latency >= 4.0,
        "a 4-hour hold, yet a payment took {min_latency} h"
    );
    assert!(held.iter().all(|r| r["within_1h"] == "false"));
}

#[test]
fn route_shares_split_payments_and_a_short_nostro_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    // Half the payments on each rail.
    run(
        dir.path(),
        &[
            "run",
            "ots-local-bilateral",
            "--days",
            "30",
            "--set",
            "route.*.rails=[{ rail = \"local-bilateral\", share = 0.5 }, { rail = \"swift-usd\", share = 0.5 }]",
            "--out",
            "half",
            "--quiet",
        ],
    );
    let rows = read_csv(&dir.path().join("half/payments.csv"));
    let n = rows.len() as f64;
    let bilateral = rows
        .iter()
        .filter(|r| r["rail"] == "local-bilateral")
        .count() as f64;
    assert!(
        (bilateral / n - 0.5).abs() < 4.0 * (0.25 / n).sqrt(),
        "{bilateral} of {n}"
    );
    assert!(rows.iter().all(|r| r["fallback"] == "false"));

    // Empty nostros that never wait: every payment falls back to the dollar chain.
    let text = std::fs::read_to_string(super::common::bundled("ots-local-bilateral.toml")).unwrap();
    let text = text
        .replace("nostro_days = 3.0", "nostro_days = 0.0")
        .replace("on_short = \"wait\"", "on_short = \"fallback\"")
        .replace(
            "extends = \"ots-baseline.toml\"",
            &format!(
                "extends = {:?}",
                super::common::bundled("ots-baseline.toml")
                    .display()
                    .to_string()
            ),
        );
    let d2 = scratch(&[("short.toml", &text)]);
    run(
        d2.path(),
        &["run", "short.toml", "--days", "10", "--out", "o", "--quiet"],
    );
    let rows = read_csv(&d2.path().join("o/payments.csv"));
    assert!(rows.len() > 1000);
    // The first payment of each nostro finds it empty and falls back; its top-up then refills
    // the nostro to a zero target plus nothing waiting: it stays empty, so all fall back.
    assert!(
        rows.iter()
            .all(|r| r["rail"] == "swift-usd" && r["fallback"] == "true"),
        "some payment stayed on the empty nostro"
    );
}

#[test]
fn a_run_beyond_the_bundled_holidays_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let out = kervan(
        dir.path(),
        &["run", "--days", "20", "--out", "in", "--quiet"],
    );
    assert!(
        out.status.success() && stderr(&out).is_empty(),
        "{}",
        stderr(&out)
    );
    // December 2026 plus the drain runs into 2027, which the bundled holidays do not cover.
    let out = kervan(
        dir.path(),
        &[
            "run",
            "--set",
            "scenario.start=2026-12-01",
            "--days",
            "10",
            "--out",
            "past",
            "--quiet",
        ],
    );
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.starts_with("warning: the run spans 2026-12-01 to 2027-01-10"),
        "{err}"
    );
    assert!(
        err.contains("TR, AZ, KZ, KG, UZ have weekends but no holidays"),
        "{err}"
    );
}
