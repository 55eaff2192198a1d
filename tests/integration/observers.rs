//! The observers as members (`ots-observers`): Turkmenistan's and Hungary's trade comes in at the
//! matrix's values, the members' own corridors and rates stay exactly those of the baseline, and
//! no invoice starts on an observer's holiday or outside its banking day.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike};

use super::common::{bundled, dec, kervan, read_csv, stderr};

fn run(dir: &std::path::Path, args: &[&str]) {
    let out = kervan(dir, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
}

/// The bundled trade matrix's rows naming TM or HU: corridor → annual USD, read from the CSV
/// itself (not through kervan).
fn observer_rows() -> BTreeMap<String, f64> {
    let mut r = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_path(bundled("ots-trade-2024.csv"))
        .unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (e, i, v) = (col("exporter"), col("importer"), col("annual_usd"));
    r.records()
        .map(|rec| rec.unwrap())
        .filter(|rec| ["TM", "HU"].iter().any(|o| rec[e] == **o || rec[i] == **o))
        .map(|rec| (format!("{}->{}", &rec[e], &rec[i]), rec[v].parse().unwrap()))
        .collect()
}

/// Mean and mean square of the baseline's invoice size (lognormal, median m, sigma s), read from
/// ots-baseline.toml; the cap at $50 m is ignored, which overstates the spread a little.
fn size_moments() -> (f64, f64) {
    let text = std::fs::read_to_string(bundled("ots-baseline.toml")).unwrap();
    let t: toml::Table = text.parse().unwrap();
    let size = &t["trade"]["size"];
    assert_eq!(size["distribution"].as_str(), Some("lognormal"));
    let m = size["median_usd"].as_integer().unwrap() as f64;
    let s = size["sigma"].as_float().unwrap();
    (m * (s * s / 2.0).exp(), m * m * (2.0 * s * s).exp())
}

#[test]
fn a_year_with_the_observers_brings_in_their_trade_at_the_matrix_values() {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &[
            "run",
            "ots-observers",
            "--out",
            "o",
            "--quiet",
            "--no-payments",
        ],
    );
    let corridors = read_csv(&dir.path().join("o/corridors.csv"));
    // The baseline's 20 member corridors and the four observer corridors of the matrix.
    let names: BTreeSet<&str> = corridors.iter().map(|c| c["corridor"].as_str()).collect();
    assert_eq!(names.len(), 24, "{names:?}");
    let rows = observer_rows();
    assert_eq!(
        rows.keys().map(String::as_str).collect::<Vec<_>>(),
        ["HU->TR", "TM->TR", "TR->HU", "TR->TM"]
    );
    let (ex, ex2) = size_moments();
    for (corridor, annual) in &rows {
        let c: Vec<_> = corridors
            .iter()
            .filter(|c| &c["corridor"] == corridor)
            .collect();
        assert_eq!(c.len(), 1, "{corridor}: one rail, the dollar chain");
        // A year from 1 January 2025: the expected value is the matrix's annual value.
        let expected: f64 = c[0]["expected_value_usd"].parse().unwrap();
        assert!((expected - annual).abs() < 0.01, "{corridor}: {expected}");
        // A compound Poisson total: sd / mean = sqrt(E[X²] / (E[X] · annual)).
        let value: f64 = c[0]["value_usd"].parse().unwrap();
        let rel_sd = (ex2 / (ex * annual)).sqrt();
        assert!(
            ((value / annual) - 1.0).abs() < 4.0 * rel_sd,
            "{corridor}: {value} against {annual} (4 sd = {:.1} %)",
            400.0 * rel_sd
        );
        let payments: f64 = c[0]["payments"].parse().unwrap();
        let n = annual / ex;
        assert!(
            (payments - n).abs() < 4.0 * n.sqrt(),
            "{corridor}: {payments} payments, {n:.0} expected"
        );
        assert!(dec(c[0], "settled_value_usd") > rust_decimal::Decimal::ZERO);
    }
}

type Invoice = (String, String, String, String);

/// payments.csv's invoices (corridor, initiated_at, invoice currency, amount), sorted.
fn invoices(path: &std::path::Path) -> Vec<Invoice> {
    let mut v: Vec<Invoice> = read_csv(path)
        .into_iter()
        .map(|r| {
            (
                r["corridor"].clone(),
                r["initiated_at"].clone(),
                r["invoice_currency"].clone(),
                r["invoice_amount"].clone(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_members_corridors_and_rates_stay_those_of_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    for (name, out) in [("ots-baseline", "base"), ("ots-observers", "obs")] {
        run(
            dir.path(),
            &["run", name, "--days", "20", "--out", out, "--quiet"],
        );
    }
    let base = invoices(&dir.path().join("base/payments.csv"));
    let (theirs, shared): (Vec<_>, Vec<_>) = invoices(&dir.path().join("obs/payments.csv"))
        .into_iter()
        .partition(|i| i.0.contains("TM") || i.0.contains("HU"));
    assert!(base.len() > 5_000, "{} invoices", base.len());
    assert!(
        shared == base,
        "the observers changed the members' invoices"
    );
    for corridor in ["TR->TM", "TM->TR", "TR->HU", "HU->TR"] {
        assert!(
            theirs.iter().any(|i| i.0 == corridor),
            "no invoice on {corridor}"
        );
    }
    // The members' rates: the same mids, currency by currency, sample by sample.
    let mids = |out: &str| -> BTreeMap<(String, String), String> {
        read_csv(&dir.path().join(out).join("fx.csv"))
            .into_iter()
            .map(|r| {
                (
                    (r["time"].clone(), r["currency"].clone()),
                    r["mid_per_usd"].clone(),
                )
            })
            .collect()
    };
    let (base_mids, obs_mids) = (mids("base"), mids("obs"));
    let (new, old): (BTreeMap<_, _>, BTreeMap<_, _>) = obs_mids
        .into_iter()
        .partition(|((_, c), _)| c == "TMT" || c == "HUF");
    assert_eq!(
        old, base_mids,
        "the observers' currencies moved the others'"
    );
    // The manat holds its official rate (a peg with a 0.1 % band).
    for ((_, c), mid) in &new {
        if c == "TMT" {
            let x: f64 = mid.parse().unwrap();
            assert!((x / 3.5 - 1.0).abs() <= 0.001 + 1e-9, "TMT at {x}");
        }
    }
}

/// The bundled holidays of `set` (closed days), read from scenarios/holidays.csv.
fn holidays(set: &str) -> BTreeSet<NaiveDate> {
    let rows = read_csv(&bundled("holidays.csv"));
    let days: BTreeSet<NaiveDate> = rows
        .iter()
        .filter(|r| r["calendar"] == set && r["kind"] == "closed")
        .map(|r| NaiveDate::parse_from_str(&r["date"], "%Y-%m-%d").unwrap())
        .collect();
    assert!(days.len() >= 9, "{set}: {} holidays", days.len());
    days
}

#[test]
fn no_observer_importer_pays_on_its_holidays_or_outside_its_banking_day() {
    let dir = tempfile::tempdir().unwrap();
    run(
        dir.path(),
        &["run", "ots-observers", "--out", "o", "--quiet"],
    );
    // (zone, RTGS opening and cut-off in minutes, holidays) as ots-observers.toml gives them.
    let observers: BTreeMap<&str, (chrono_tz::Tz, u32, u32, BTreeSet<NaiveDate>)> = [
        (
            "TM",
            (chrono_tz::Asia::Ashgabat, 9 * 60, 17 * 60, holidays("TM")),
        ),
        (
            "HU",
            (chrono_tz::Europe::Budapest, 7 * 60, 17 * 60, holidays("HU")),
        ),
    ]
    .into();
    // payments.csv streamed: a year of every corridor is too much to hold as maps.
    let mut r = csv::Reader::from_path(dir.path().join("o/payments.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (ci, ct) = (col("importer"), col("initiated_at"));
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut days_paid: BTreeMap<&str, BTreeSet<NaiveDate>> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let Some((code, (tz, open, cutoff, closed))) = observers.get_key_value(&rec[ci]) else {
            continue;
        };
        let t = NaiveDateTime::parse_from_str(&rec[ct], "%Y-%m-%dT%H:%M:%SZ").unwrap();
        let local = chrono::Utc.from_utc_datetime(&t).with_timezone(tz);
        let day = local.date_naive();
        assert!(day.weekday().num_days_from_monday() < 5, "{code}: {local}");
        assert!(
            !closed.contains(&day),
            "{code} importer paid on a holiday: {local}"
        );
        let minute = local.hour() * 60 + local.minute();
        assert!((*open..=*cutoff).contains(&minute), "{code}: {local}");
        *seen.entry(code).or_default() += 1;
        days_paid.entry(code).or_default().insert(day);
    }
    // Not vacuous: thousands of payments by each observer's importers, on every business day of
    // 2025 (a day has ≈ 40 of them), and the 2025 holidays fell on weekdays.
    for (code, (_, _, _, closed)) in &observers {
        assert!(seen[code] > 5_000, "{code}: {} payments", seen[code]);
        let weekdays_2025 = (0..365)
            .map(|d| NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Days::new(d))
            .filter(|d| d.weekday().num_days_from_monday() < 5)
            .filter(|d| !closed.contains(d))
            .count();
        assert_eq!(days_paid[code].len(), weekdays_2025, "{code}");
        assert!(closed.iter().filter(|d| d.year() == 2025).count() >= 9);
    }
}
