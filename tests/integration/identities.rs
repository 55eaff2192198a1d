//! Identities that must hold on every payment of a full run: the cost decomposition to the
//! cent, cost in bps from its parts, liquidity cost fully accounted for, and the run's own
//! conservation and identity checks recorded in the manifest.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::common::{dec, kervan, read_csv, stderr};

/// Checks the identity on every row and returns (rows, Σ liquidity_usd by rail).
fn check_payments(path: &std::path::Path) -> (usize, BTreeMap<String, Decimal>) {
    let rows = read_csv(path);
    let cent = Decimal::new(1, 2);
    let mut liquidity: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for r in &rows {
        let total = dec(r, "total_cost_usd");
        let parts = dec(r, "fees_usd") + dec(r, "spread_usd") + dec(r, "drift_usd");
        // Each printed part is rounded to the cent on its own: at most 1.5 cents apart (docs/model.md).
        assert!(
            (total - parts).abs() <= Decimal::new(15, 3),
            "payment {}: total {total} vs fees + spread + drift {parts}",
            r["payment_id"]
        );
        let value = dec(r, "value_usd");
        let liq = dec(r, "liquidity_usd");
        let float = dec(r, "float_usd");
        // The whole cost is the sum of its five printed parts, to the cent.
        assert_eq!(
            dec(r, "cost_usd"),
            parts + liq + float,
            "payment {}: cost_usd is not the sum of its parts",
            r["payment_id"]
        );
        // Float is the time value of the principal in transit: never negative.
        assert!(float >= Decimal::ZERO, "payment {}", r["payment_id"]);
        *liquidity.entry(r["rail"].clone()).or_default() += liq;
        *statuses.entry(r["status"].clone()).or_default() += 1;
        if r["status"] == "settled" {
            assert!(value > Decimal::ZERO);
            let bps: f64 = r["cost_bps"].parse().unwrap();
            let from_parts: f64 = ((total + liq + float) / value * Decimal::from(10_000))
                .to_string()
                .parse()
                .unwrap();
            // cost_bps is computed from unrounded parts; the printed cents of the total,
            // liquidity and float move it by at most 1.5 cents.
            let slack = 0.016 / value.to_string().parse::<f64>().unwrap() * 1e4;
            assert!(
                (bps - from_parts).abs() <= slack + 1e-6,
                "payment {}: {bps} vs {from_parts}",
                r["payment_id"]
            );
            assert!(!r["settled_at"].is_empty() && !r["latency_h"].is_empty());
            // Fees and spreads cost the parties; they are never negative.
            assert!(dec(r, "fees_usd") >= Decimal::ZERO && dec(r, "spread_usd") >= -cent);
        } else {
            assert!(r["settled_at"].is_empty());
        }
    }
    assert!(
        statuses.get("settled").copied().unwrap_or(0) * 100 > rows.len() * 95,
        "{statuses:?}"
    );
    (rows.len(), liquidity)
}

#[test]
fn every_payment_of_the_default_run_decomposes_to_the_cent() {
    let dir = tempfile::tempdir().unwrap();
    let out = kervan(dir.path(), &["run", "--out", "base", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (n, _) = check_payments(&dir.path().join("base/payments.csv"));
    // Aggregates are sums of the printed cents: rails.csv equals the column sums of
    // payments.csv exactly.
    let rows = read_csv(&dir.path().join("base/payments.csv"));
    let rails = read_csv(&dir.path().join("base/rails.csv"));
    assert_eq!(rails.len(), 1);
    for col in [
        "value_usd",
        "fees_usd",
        "spread_usd",
        "drift_usd",
        "liquidity_usd",
        "float_usd",
        "total_cost_usd",
        "cost_usd",
        "principal_at_risk_usd_h",
        "usd_bought",
        "usd_sold",
    ] {
        let sum: Decimal = rows.iter().map(|r| dec(r, col)).sum();
        assert_eq!(sum, dec(&rails[0], col), "{col}");
    }
    // The value-weighted cost is the cost of every payment (returned ones included) per dollar
    // delivered: Σ cost_usd over all rows / Σ value_usd over settled rows.
    let cost: Decimal = rows.iter().map(|r| dec(r, "cost_usd")).sum();
    let delivered: Decimal = rows
        .iter()
        .filter(|r| r["status"] == "settled")
        .map(|r| dec(r, "value_usd"))
        .sum();
    assert!(rows.iter().any(|r| r["status"] == "returned"));
    assert_eq!(dec(&rails[0], "settled_value_usd"), delivered);
    let weighted: f64 = rails[0]["cost_bps_weighted"].parse().unwrap();
    let expected: f64 = (cost / delivered * Decimal::from(10_000))
        .to_string()
        .parse()
        .unwrap();
    assert!(
        (weighted - expected).abs() < 1e-6,
        "{weighted} vs {expected}"
    );
    // A year of the ≈$24 bn matrix at a mean ticket of ≈$143k: well over 100,000 payments.
    assert!(n > 100_000, "{n} payments");
    let manifest = std::fs::read_to_string(dir.path().join("base/manifest.toml")).unwrap();
    let m: toml::Table = manifest.parse().unwrap();
    assert_eq!(m["rows"]["payments"].as_integer(), Some(n as i64));
    assert!(
        m["checks"]["conservation"]
            .as_str()
            .unwrap()
            .starts_with("ok")
    );
    let residual: Decimal = m["checks"]["max_identity_residual_usd"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // The run checks the books against fees + each quote's spread + drift; only rounding to
    // minor units separates them: under a cent per payment (a lira or dollar cent's half at
    // each conversion, at most).
    assert!(
        residual < Decimal::new(1, 2),
        "full-precision residual {residual}"
    );
}

#[test]
fn bilateral_run_decomposes_and_allocates_all_carry() {
    let dir = tempfile::tempdir().unwrap();
    let out = kervan(
        dir.path(),
        &["run", "ots-local-bilateral", "--out", "bil", "--quiet"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, liquidity) = check_payments(&dir.path().join("bil/payments.csv"));
    // The carry cost of the nostros over the whole run (rails.csv) is handed out to the
    // payments that drew on them, per dollar drawn, except the carry of a nostro no payment used
    // (reported as unallocated): to the cent per row (each share is printed rounded, so compare
    // to a few dollars on a total in the millions).
    let rails = read_csv(&dir.path().join("bil/rails.csv"));
    let bil = rails
        .iter()
        .find(|r| r["rail"] == "local-bilateral")
        .unwrap();
    let carry = dec(bil, "carry_usd");
    assert!(carry > Decimal::from(100_000), "carry {carry}");
    let allocated = liquidity["local-bilateral"];
    let unallocated = dec(bil, "carry_unallocated_usd");
    assert!(
        (carry - allocated - unallocated).abs() < Decimal::from(5),
        "carry {carry} vs allocated {allocated} + unallocated {unallocated}"
    );
    assert_eq!(
        liquidity.get("swift-usd").copied().unwrap_or_default(),
        Decimal::ZERO
    );
    // Local-currency settlement buys no dollars on the bilateral rail.
    assert_eq!(dec(bil, "usd_bought"), Decimal::ZERO);
}

#[test]
fn every_bundled_scenario_keeps_the_identity_and_conserves_money() {
    // Every rail kind, as bundled: a short run of each, the identity on every payment and the
    // run's own conservation check recorded in its manifest.
    let dir = tempfile::tempdir().unwrap();
    let list = kervan(dir.path(), &["list"]);
    let names: Vec<String> = super::common::stdout(&list)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    // Seven designs, the observers' scenario and nine what-ifs (whose shocks need not fall in
    // the first 15 days: the identity is checked on whatever they run).
    assert_eq!(names.len(), 17, "{names:?}");
    for name in &names {
        let out = kervan(
            dir.path(),
            &["run", name, "--days", "15", "--out", name, "--quiet"],
        );
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let rows = read_csv(&dir.path().join(name).join("payments.csv"));
        assert!(rows.len() > 3_000, "{name}: {} payments", rows.len());
        for r in &rows {
            let total = dec(r, "total_cost_usd");
            let parts = dec(r, "fees_usd") + dec(r, "spread_usd") + dec(r, "drift_usd");
            assert!(
                (total - parts).abs() <= Decimal::new(15, 3),
                "{name} payment {}: {total} vs {parts}",
                r["payment_id"]
            );
        }
        let m: toml::Table = std::fs::read_to_string(dir.path().join(name).join("manifest.toml"))
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            m["checks"]["conservation"]
                .as_str()
                .unwrap()
                .starts_with("ok"),
            "{name}"
        );
        assert_eq!(m["rows"]["payments"].as_integer(), Some(rows.len() as i64));
    }
}

#[test]
fn the_run_time_identity_stops_postings_and_rates_the_counters_never_saw() {
    // The cost identity compares the rails' counters (fees, spread, drift, each from its own
    // path) with what the ledger shows left and reached the clients' accounts. A fee taken by a
    // plain posting, or a credit that bypasses the payment's counters, must stop the run and
    // name the payment, the seed and the replication that reproduce it.
    use kervan::rails::Fault;
    let s = kervan::scenario::load_with(
        "ots-baseline",
        &kervan::scenario::Overrides {
            days: Some(5),
            ..Default::default()
        },
    )
    .unwrap();
    // Without a fault the same run passes: the check is not merely strict.
    let mut sink = super::common::Collect::default();
    let clean = kervan::sim::run(&s, 0, &mut sink).expect("a clean run passes");
    let target = sink
        .payments
        .iter()
        .find(|r| r.status == kervan::terms::Status::Settled)
        .map(|r| r.payment_id)
        .unwrap();
    assert!(clean.max_residual_usd < Decimal::new(1, 2));
    // 1 % of the payer's debit taken, or of the payee's credit added, outside the paths that
    // count them; or a dealer delivering 0.1 % less than its quote (the spread is measured
    // from the quote, so the books and the parts part ways). Each is far above the rounding
    // to minor units the check allows.
    for fault in [
        Fault::FeeOutsideFeePath,
        Fault::PostingBypassesCounters,
        Fault::WrongRate,
    ] {
        let mut sink = super::common::Collect::default();
        let err = kervan::sim::run_with_fault(&s, 0, &mut sink, Some((fault, target)))
            .expect_err("the fault is caught");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!(
                "payment {target} (seed {}, replication 0)",
                s.seed
            )),
            "{fault:?}: {msg}"
        );
        assert!(msg.contains("the value the ledger shows debited"), "{msg}");
        // Nothing past the faulty payment's finish reaches a sink as settled with a broken
        // identity: every record handed over still decomposes.
        for r in &sink.payments {
            assert_ne!(
                r.payment_id, target,
                "{fault:?}: the faulty payment was recorded"
            );
        }
    }
}

#[test]
fn an_interrupt_stops_the_first_of_two_passes_too() {
    // A design with prefunded balances runs each replication twice; Ctrl-C must not wait for the
    // first pass (which writes nothing) to finish. A sink that asks to stop at once stops the
    // run at the end of the first simulated day, before any payment is written.
    struct StopAtOnce {
        payments: usize,
        asked: usize,
    }
    impl kervan::record::Sink for StopAtOnce {
        fn payment(&mut self, _: &kervan::record::PaymentRecord) -> kervan::Result<()> {
            self.payments += 1;
            Ok(())
        }
        fn fx(&mut self, _: i64, _: kervan::money::CurrencyId, _: Decimal) -> kervan::Result<()> {
            Ok(())
        }
        fn interrupted(&mut self) -> kervan::Result<()> {
            self.asked += 1;
            Err(kervan::Error::Interrupted {
                message: "interrupted".into(),
                code: 130,
            })
        }
    }
    let s = kervan::scenario::load_with(
        "ots-local-bilateral",
        &kervan::scenario::Overrides {
            days: Some(10),
            ..Default::default()
        },
    )
    .unwrap();
    let mut sink = StopAtOnce {
        payments: 0,
        asked: 0,
    };
    let err = kervan::sim::run(&s, 0, &mut sink).expect_err("the run stops");
    assert!(matches!(err, kervan::Error::Interrupted { .. }), "{err}");
    assert_eq!(sink.asked, 1);
    assert_eq!(sink.payments, 0);
}
