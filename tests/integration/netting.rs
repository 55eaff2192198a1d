//! The `netting` rail (regional clearing house, deferred net settlement): a cycle worked out by
//! hand (net positions, efficiency, the spread of the net conversions shared by the items), a
//! participant that fails at a cycle, credit quotas that carry positions forward, and the
//! bundled scenario's identities.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::common::{bundled, dec, kervan, read_csv, scratch, stderr};
use kervan::record::{Cell, ReportRow};

/// Three members, constant rates: 40 TRY, 500 KZT and 2 AZN per USD. Half-spreads against USD:
/// TRY 0, KZT 20 bps, AZN 10 bps; no size curve, no depth. RTGS windows in UTC: TR 05:00-14:30,
/// KZ 03:00-14:00, AZ 05:00-14:00; no holidays. One clearing cycle a day at 12:00 Almaty =
/// 07:00 UTC, inside all three. Payer banks work 30 minutes. Item fee USD 2. Start Monday
/// 6 January 2025. `{RAIL}` takes extra keys of the netting rail, `{DAYS}` the trading days,
/// `{PAYMENTS}` extra payments.
const SCENARIO: &str = r#"
[scenario]
name = "netting-worked"
start = 2025-01-06
days = {DAYS}
drain_days = 2
seed = 1

[fx]
# Dollars in transit are free here, so hand computations show one currency's float at a time.
usd_liquidity_cost_pa = 0.0

[[member]]
code = "TR"
currency = "TRY"
time_zone = "Europe/Istanbul"
rtgs_open = "08:00"
rtgs_cutoff = "17:30"
holidays = "none"

[[member]]
code = "KZ"
currency = "KZT"
time_zone = "Asia/Almaty"
rtgs_open = "08:00"
rtgs_cutoff = "19:00"
holidays = "none"

[[member]]
code = "AZ"
currency = "AZN"
time_zone = "Asia/Baku"
rtgs_open = "09:00"
rtgs_cutoff = "18:00"
holidays = "none"

[[currency]]
code = "TRY"
minor_units = 2
mid_per_usd = "40"
regime = "float"
liquidity_cost_pa = 0.1
usd_half_spread_bps = 0

[[currency]]
code = "KZT"
minor_units = 2
mid_per_usd = "500"
regime = "float"
liquidity_cost_pa = 0.1
usd_half_spread_bps = 20

[[currency]]
code = "AZN"
minor_units = 2
mid_per_usd = "2"
regime = "float"
liquidity_cost_pa = 0.1
usd_half_spread_bps = 10

[trade]
# P1: TR importer pays a KZ exporter TRY 4,000,000 ($100,000), fees shared.
[[trade.payment]]
at = 2025-01-06T04:00:00Z
exporter = "KZ"
importer = "TR"
amount = "4000000"
currency = "TRY"
charge_bearer = "SHA"
# P2: KZ importer pays an AZ exporter KZT 25,000,000 ($50,000), the payer bears the fee.
[[trade.payment]]
at = 2025-01-06T04:30:00Z
exporter = "AZ"
importer = "KZ"
amount = "25000000"
currency = "KZT"
charge_bearer = "OUR"
# P3: AZ importer pays a TR exporter USD 80,000, the beneficiary bears the fee.
[[trade.payment]]
at = 2025-01-06T05:00:00Z
exporter = "TR"
importer = "AZ"
amount = "80000"
currency = "USD"
charge_bearer = "BEN"
# P4: KZ importer pays a TR exporter TRY 1,200,000 ($30,000) invoiced in the exporter's currency.
[[trade.payment]]
at = 2025-01-06T06:00:00Z
exporter = "TR"
importer = "KZ"
amount = "1200000"
currency = "TRY"
charge_bearer = "SHA"

[[rail]]
name = "clearing"
kind = "netting"
time_zone = "Asia/Almaty"
cycle_times = ["12:00"]
item_fee = { flat_usd = 2 }
processing_min = { median = 30 }
{RAIL}

[[rail]]
name = "usd"
kind = "correspondent"
intermediaries = { values = [1], weights = [1] }
hop_calendar = { time_zone = "UTC", open = "00:00", cutoff = "24:00", weekend = [], holidays = "none" }
processing_min = { median = 30 }
originator_fee = { flat_usd = 20 }

[[route]]
corridor = "*"
rails = [{ rail = "clearing", share = 1.0 }]
fallback = ["usd"]
{PAYMENTS}
"#;

fn scenario(rail: &str, days: u32, payments: &str) -> String {
    SCENARIO
        .replace("{RAIL}", rail)
        .replace("{DAYS}", &days.to_string())
        .replace("{PAYMENTS}", payments)
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

type Row = BTreeMap<String, String>;

/// Runs `text` with the binary; returns payments.csv by id and netting.csv.
fn run(text: &str) -> (BTreeMap<String, Row>, Vec<Row>, tempfile::TempDir) {
    let dir = scratch(&[("s.toml", text)]);
    let out = kervan(dir.path(), &["run", "s.toml", "--out", "out", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let payments = read_csv(&dir.path().join("out/payments.csv"))
        .into_iter()
        .map(|r| (r["payment_id"].clone(), r))
        .collect();
    let netting = read_csv(&dir.path().join("out/netting.csv"));
    let manifest = std::fs::read_to_string(dir.path().join("out/manifest.toml")).unwrap();
    assert!(manifest.contains("conservation = \"ok"), "{manifest}");
    (payments, netting, dir)
}

/// A USD cell of a reported cycle, at full precision.
fn usd(row: &ReportRow, column: &str) -> Decimal {
    match row.get(column) {
        Some(Cell::Usd(x) | Cell::Round2(x)) => *x,
        other => panic!("{column}: {other:?}"),
    }
}

/// The run through the library: the cycle rows as the rail reported them, and the final
/// balances.
fn run_lib(text: &str) -> (Vec<ReportRow>, BTreeMap<String, Decimal>) {
    let dir = scratch(&[("s.toml", text)]);
    let s = kervan::scenario::load(dir.path().join("s.toml").to_str().unwrap()).unwrap();
    let (sink, report) = super::common::run_lib(&s);
    (sink.cycles, super::common::balances(&report))
}

#[test]
fn a_cycle_matches_the_hand_computation() {
    let text = scenario("", 1, "");
    let (p, netting, _dir) = run(&text);
    assert_eq!(p.len(), 4);

    // Submission (30 working minutes at the payer's bank): P1 05:30 (TR opens 05:00 UTC), P2
    // 05:00, P3 05:30, P4 06:30. Each payer is debited then, in its own currency: P1 TRY
    // 4,000,000; P2 KZT 25,000,000; P3 the USD 80,000 at the mid, AZN 160,000; P4 the
    // TRY 1,200,000 at the mid, KZT 15,000,000. The cycle is at 07:00 UTC.
    //
    // Values at the cycle's mids: P1 100,000, P2 50,000, P3 80,000, P4 30,000: gross 260,000.
    // Net positions (receivable − payable): TR 80,000 + 30,000 − 100,000 = +10,000;
    // KZ 100,000 − 50,000 − 30,000 = +20,000; AZ 50,000 − 80,000 = −30,000.
    // Net = 10,000 + 20,000 = 30,000; efficiency 1 − 30,000 / 260,000 = 0.884615.
    assert_eq!(netting.len(), 1);
    let c = &netting[0];
    assert_eq!(c["rail"], "clearing");
    assert_eq!(c["cycle_at"], "2025-01-06T07:00:00Z");
    assert_eq!(c["items"], "4");
    assert_eq!(c["unwound_items"], "0");
    assert_eq!(dec(c, "gross_usd"), d("260000.00"));
    assert_eq!(dec(c, "net_usd"), d("30000.00"));
    assert_eq!(c["efficiency"], "0.884615");
    assert_eq!(dec(c, "carried_forward_usd"), d("0.00"));
    assert_eq!(c["failed_member"], "");

    // FX only on net positions, through USD. Each payee gets its item at the mid cross less a
    // fraction f (the spread of the net conversions shared by value). Per member, what the
    // house received minus what it pays out at f:
    //   TR: 4,000,000 − (3,200,000 + 1,200,000)(1 − f) = −400,000 + 4,400,000 f  (buys TRY, 0 bp)
    //   KZ: 40,000,000 − 50,000,000 (1 − f) = −10,000,000 + 50,000,000 f          (buys KZT)
    //   AZ: 160,000 − 100,000 (1 − f) = 60,000 + 100,000 f                          (sells AZN)
    // Spread in USD: AZ sells at 0.5 × (1 − 0.001): 0.001 × (30,000 + 50,000 f); KZ buys at
    // 500 × (1 − 0.002): its USD value × 0.002/0.998 = (20,000 − 100,000 f) × 0.002/0.998.
    // f × 260,000 = 30 + 50 f + 40.0801603 − 200.4008016 f
    //   → f = 70.0801603 / 260,150.4008 = 0.000269383253 (spread paid USD 70.0396).
    // Credits (cents, half to even):
    //   P1 KZT 50,000,000 (1 − f) = 49,986,530.84;  P2 AZN 100,000 (1 − f) = 99,973.06;
    //   P3 TRY 3,200,000 (1 − f) = 3,199,137.97;    P4 TRY 1,200,000 (1 − f) = 1,199,676.74.
    // The house then buys TRY 398,814.71 for USD 9,970.37 and KZT 9,986,530.84 for
    // 9,986,530.84 / 499 = USD 20,013.09, and sells AZN 60,026.94 for × 0.4995 = USD 29,983.46:
    // the dollar account nets to zero.
    //
    // P1 (SHA): fee USD 2 = TRY 80 to the payer; spread 13,469.16 KZT = USD 26.94; total
    //   100,002 − 99,973.06168 = 28.93832. Latency 04:00 → 07:00 = 3 h.
    let p1 = &p["1"];
    assert_eq!(p1["rail"], "clearing");
    assert_eq!(p1["status"], "settled");
    assert_eq!(p1["settled_at"], "2025-01-06T07:00:00Z");
    assert_eq!(p1["latency_h"], "3.0000");
    assert_eq!(p1["hops"], "1");
    assert_eq!(dec(p1, "fees_usd"), d("2.00"));
    assert_eq!(dec(p1, "spread_usd"), d("26.94"));
    assert_eq!(dec(p1, "drift_usd"), d("0.00"));
    assert_eq!(dec(p1, "total_cost_usd"), d("28.94"));
    // The dollars the house bought (29,983.46) and sold (9,970.37 + 20,013.09) are shared by
    // value: P1 has 100,000 / 260,000 of each = 11,532.10.
    assert_eq!(dec(p1, "usd_bought"), d("11532.10"));
    assert_eq!(dec(p1, "usd_sold"), d("11532.10"));
    // P2 (OUR): fee KZT 1,000; credit AZN 99,973.06 = USD 49,986.53: spread 13.47, total 15.47.
    //   Latency 04:30 → 07:00 = 2.5 h.
    let p2 = &p["2"];
    assert_eq!(p2["latency_h"], "2.5000");
    assert_eq!(dec(p2, "fees_usd"), d("2.00"));
    assert_eq!(dec(p2, "spread_usd"), d("13.47"));
    assert_eq!(dec(p2, "total_cost_usd"), d("15.47"));
    // Float: each item's principal waits in the payer's currency from its debit to the cycle,
    //   at that currency's carry rate (10 % a year for both): value × rate × hours / 8,760.
    //   P1 TRY from 05:30 to 07:00: 100,000 × 0.1 × 1.5 / 8,760 = 1.7123 → 1.71;
    //   P2 KZT from 05:00 to 07:00: 50,000 × 0.1 × 2 / 8,760 = 1.1416 → 1.14.
    //   Principal at risk: value × those hours.
    assert_eq!(dec(p1, "float_usd"), d("1.71"));
    assert_eq!(dec(p2, "float_usd"), d("1.14"));
    assert_eq!(dec(p1, "principal_at_risk_usd_h"), d("150000.00"));
    assert_eq!(dec(p2, "principal_at_risk_usd_h"), d("100000.00"));
    assert_eq!(dec(p1, "cost_usd"), d("30.65"));
    // P3 (BEN): the fee (TRY 80) comes off the credit: TRY 3,199,057.97 = USD 79,976.44925;
    //   spread 862.03 TRY = 21.55075; total 80,000 − 79,976.44925 = 23.55075. Latency 2 h.
    let p3 = &p["3"];
    assert_eq!(p3["latency_h"], "2.0000");
    assert_eq!(dec(p3, "value_usd"), d("80000.00"));
    assert_eq!(dec(p3, "fees_usd"), d("2.00"));
    assert_eq!(dec(p3, "spread_usd"), d("21.55"));
    assert_eq!(dec(p3, "total_cost_usd"), d("23.55"));
    // P4 (SHA): debited KZT 15,001,000 = 30,002; credit TRY 1,199,676.74 = 29,991.9185: spread
    //   323.26 TRY = 8.0815, total 10.0815. Latency 06:00 → 07:00 = exactly 1 h.
    let p4 = &p["4"];
    assert_eq!(p4["latency_h"], "1.0000");
    assert_eq!(p4["within_1h"], "true");
    assert_eq!(dec(p4, "spread_usd"), d("8.08"));
    assert_eq!(dec(p4, "total_cost_usd"), d("10.08"));

    // The cycle as the rail reports it, and the house's books afterwards.
    let (cycles, bal) = run_lib(&text);
    assert_eq!(cycles.len(), 1);
    let c = &cycles[0];
    assert_eq!(usd(c, "gross_usd"), d("260000"));
    assert_eq!(usd(c, "net_usd"), d("30000"));
    // Principal at risk, value × hours from the debit (submission) to the credit (cycle):
    // 100,000 × 1.5 + 50,000 × 2 + 80,000 × 1.5 + 30,000 × 0.5 = 385,000 USD·h.
    assert_eq!(usd(c, "principal_at_risk_usd_h"), d("385000"));
    assert!(
        (usd(c, "spread_usd") - d("70.0396")).abs() < d("0.0001"),
        "{}",
        usd(c, "spread_usd")
    );
    // Every currency account of the house is back to zero; its dollar account too (here the
    // cent rounding happens to cancel).
    assert_eq!(bal["rail0:house:TR:TRY"], d("0"));
    assert_eq!(bal["rail0:house:KZ:KZT"], d("0"));
    assert_eq!(bal["rail0:house:AZ:AZN"], d("0"));
    assert_eq!(bal["rail0:house:settlement:USD"], d("0"));
    // Fees: TRY 80 (P1) + 80 (P3, BEN); KZT 1,000 (P2) + 1,000 (P4).
    assert_eq!(bal["rail0:house-fees:TRY"], d("160"));
    assert_eq!(bal["rail0:house-fees:KZT"], d("2000"));
    assert_eq!(bal["rail0:house-fees:AZN"], d("0"));
    // Clients: TR paid 4,000,080 and received 3,199,057.97 + 1,199,676.74.
    assert_eq!(bal["clients:TR"], d("398654.71"));
}

#[test]
fn a_failed_participant_is_unwound_and_the_others_settle() {
    // AZ fails at the Monday cycle and is suspended until Tuesday 00:00 UTC. P5 (AZ importer,
    // submitted 08:30 during the suspension) goes to the dollar chain.
    let text = scenario(
        r#"defaults = [{ member = "AZ", at = 2025-01-06T06:45:00Z, until = 2025-01-07T00:00:00Z }]"#,
        1,
        r#"
[[trade.payment]]
at = 2025-01-06T08:00:00Z
exporter = "TR"
importer = "AZ"
amount = "20000"
currency = "AZN"
charge_bearer = "SHA"
"#,
    );
    let (p, netting, _dir) = run(&text);
    assert_eq!(p.len(), 5);
    // Without P2 (KZ → AZ) and P3 (AZ → TR): TR 30,000 − 100,000 = −70,000, KZ +70,000.
    // Gross 130,000, net 70,000, efficiency 1 − 7/13 = 0.461538. Unwound: 2 items, 130,000.
    assert_eq!(netting.len(), 1);
    let c = &netting[0];
    assert_eq!(c["items"], "2");
    assert_eq!(c["unwound_items"], "2");
    assert_eq!(dec(c, "gross_usd"), d("130000.00"));
    assert_eq!(dec(c, "net_usd"), d("70000.00"));
    assert_eq!(c["efficiency"], "0.461538");
    assert_eq!(dec(c, "unwound_usd"), d("130000.00"));
    assert_eq!(c["failed_member"], "AZ");
    // The unwound items go back to their payers unconverted at the cycle; fees already charged
    // stay (P2's OUR fee, USD 2); P3's BEN fee was never charged.
    for (id, fee) in [("2", "2.00"), ("3", "0.00")] {
        let r = &p[id];
        assert_eq!(r["status"], "returned", "P{id}");
        assert_eq!(r["rail"], "clearing");
        assert_eq!(r["settled_at"], "", "P{id}");
        assert_eq!(dec(r, "fees_usd"), d(fee), "P{id}");
        assert_eq!(dec(r, "spread_usd"), d("0.00"), "P{id}");
        assert_eq!(dec(r, "total_cost_usd"), d(fee), "P{id}");
    }
    // The others settle at the cycle.
    for id in ["1", "4"] {
        assert_eq!(p[id]["status"], "settled", "P{id}");
        assert_eq!(p[id]["settled_at"], "2025-01-06T07:00:00Z", "P{id}");
    }
    // P5 falls back to the dollar chain while AZ is suspended.
    assert_eq!(p["5"]["rail"], "usd");
    assert_eq!(p["5"]["fallback"], "true");
    assert_eq!(p["5"]["status"], "settled");

    let (cycles, bal) = run_lib(&text);
    assert_eq!(cycles[0].get("failed_member"), Some(&Cell::Member(Some(2))));
    assert_eq!(cycles[0].get("unwound_items"), Some(&Cell::Count(2)));
    // AZ's payer got its AZN 160,000 back; nothing stays in the house.
    assert_eq!(bal["rail0:house:AZ:AZN"], d("0"));
    assert_eq!(bal["rail0:house:KZ:KZT"], d("0"));
}

#[test]
fn quotas_carry_positions_forward_and_later_cycles_settle_them() {
    // Quotas of USD 60,000 per member. Two trading days; P5 on Tuesday: AZ importer pays a KZ
    // exporter AZN 100,000 ($50,000), SHA.
    let text = scenario(
        "quota_usd = 60000",
        2,
        r#"
[[trade.payment]]
at = 2025-01-07T05:00:00Z
exporter = "KZ"
importer = "AZ"
amount = "100000"
currency = "AZN"
charge_bearer = "SHA"
"#,
    );
    let (p, netting, _dir) = run(&text);
    assert_eq!(netting.len(), 3, "{netting:?}");
    // Monday: positions TR +10,000, KZ +20,000, AZ −30,000 are all within ±60,000: nothing is
    // converted, the house extends the credit and every payee gets its item at the mid.
    // Carried: creditors TR 10,000 + KZ 20,000 = debtors AZ 30,000 → 30,000.
    let mon = &netting[0];
    assert_eq!(mon["items"], "4");
    assert_eq!(dec(mon, "net_usd"), d("30000.00"));
    assert_eq!(dec(mon, "carried_forward_usd"), d("30000.00"));
    for id in ["1", "2", "3", "4"] {
        assert_eq!(dec(&p[id], "spread_usd"), d("0.00"), "P{id}");
        assert_eq!(dec(&p[id], "total_cost_usd"), d("2.00"), "P{id}");
    }
    // Tuesday: with P5, KZ stands at +70,000 and AZ at −80,000: beyond the quota. The excess
    // settles: KZ's 10,000 (KZT 5,000,000 less what P5's payee gives up), AZ's 20,000
    // (AZN 40,000). TR's 10,000 stays carried. Spread: 20 (AZ sells at 10 bp) +
    // (10,000 − 50,000 f) × 0.002/0.998 (KZ buys at 20 bp) = 50,000 f → f = 0.0007992, paid
    // by P5 alone: credit KZT 25,000,000 × (1 − f) = 24,980,020.00; spread 19,980 KZT =
    // USD 39.96; fee 2; total 41.96. Carried after: creditors TR 10,000 + KZ 60,000 = 70,000;
    // debtor AZ 60,000 (the house's dollar account holds the 10,000 between).
    let tue = &netting[1];
    assert_eq!(tue["cycle_at"], "2025-01-07T07:00:00Z");
    assert_eq!(tue["items"], "1");
    assert_eq!(dec(tue, "carried_forward_usd"), d("70000.00"));
    assert_eq!(dec(&p["5"], "spread_usd"), d("39.96"));
    assert_eq!(dec(&p["5"], "total_cost_usd"), d("41.96"));
    // Wednesday, after the last trading day: the final settlement converts every carried
    // position; nothing is carried any more.
    let wed = &netting[2];
    assert_eq!(wed["cycle_at"], "2025-01-08T07:00:00Z");
    assert_eq!(wed["items"], "0");
    assert_eq!(dec(wed, "carried_forward_usd"), d("0.00"));

    let (cycles, bal) = run_lib(&text);
    assert!(usd(&cycles[2], "spread_usd") > Decimal::ZERO);
    assert_eq!(bal["rail0:house:TR:TRY"], d("0"));
    assert_eq!(bal["rail0:house:KZ:KZT"], d("0"));
    assert_eq!(bal["rail0:house:AZ:AZN"], d("0"));
}

#[test]
fn bundled_scenario_keeps_the_identities() {
    let dir = scratch(&[]);
    let scenario = bundled("ots-regional-netting.toml");
    let out = kervan(
        dir.path(),
        &[
            "run",
            scenario.to_str().unwrap(),
            "--days",
            "20",
            "--out",
            "out",
            "--quiet",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest = std::fs::read_to_string(dir.path().join("out/manifest.toml")).unwrap();
    assert!(manifest.contains("conservation = \"ok"), "{manifest}");

    let rows = read_csv(&dir.path().join("out/payments.csv"));
    let cycles = read_csv(&dir.path().join("out/netting.csv"));
    assert!(rows.len() > 1_000, "{}", rows.len());
    let cycle_at: std::collections::BTreeSet<&str> =
        cycles.iter().map(|c| c["cycle_at"].as_str()).collect();
    let mut settled = 0u64;
    for r in &rows {
        let parts = dec(r, "fees_usd") + dec(r, "spread_usd") + dec(r, "drift_usd");
        let residual = (dec(r, "total_cost_usd") - parts).abs();
        assert!(
            residual <= d("0.015"),
            "payment {}: {residual}",
            r["payment_id"]
        );
        if r["rail"] == "ots-clearing" && r["status"] == "settled" {
            settled += 1;
            // Payees are credited at a cycle, and only then.
            assert!(
                cycle_at.contains(r["settled_at"].as_str()),
                "payment {} settled at {}",
                r["payment_id"],
                r["settled_at"]
            );
        }
    }
    // Every settled item is counted in exactly one cycle.
    let items: u64 = cycles
        .iter()
        .map(|c| c["items"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(items, settled);
    // Netting saves conversions, and cannot create them: efficiency in (0, 1) overall, within
    // [0, 1) at every cycle. Cycles run at 10:30 and 13:30 Almaty = 05:30 and 08:30 UTC.
    let gross: Decimal = cycles.iter().map(|c| dec(c, "gross_usd")).sum();
    let net: Decimal = cycles.iter().map(|c| dec(c, "net_usd")).sum();
    let efficiency = Decimal::ONE - net / gross;
    assert!(
        efficiency > Decimal::ZERO && efficiency < Decimal::ONE,
        "{efficiency}"
    );
    // After the run the house holds nothing in the members' currencies, and its dollar account
    // only the cent roundings of the net conversions.
    let overrides = kervan::scenario::Overrides {
        days: Some(20),
        ..Default::default()
    };
    let s = kervan::scenario::load_with(scenario.to_str().unwrap(), &overrides).unwrap();
    let (_, report) = super::common::run_lib(&s);
    let mut house = 0;
    for (account, _, balance) in &report.final_balances {
        if account.starts_with("rail1:house:settlement:") {
            assert!(balance.abs() < d("1"), "{account} {balance}");
            house += 1;
        } else if account.starts_with("rail1:house:") {
            assert!(balance.is_zero(), "{account} {balance}");
            house += 1;
        }
    }
    assert_eq!(house, 6);
    for c in &cycles {
        let e: f64 = c["efficiency"].parse().unwrap();
        assert!((0.0..1.0).contains(&e), "{c:?}");
        assert!(
            c["cycle_at"].ends_with("T05:30:00Z") || c["cycle_at"].ends_with("T08:30:00Z"),
            "{c:?}"
        );
    }
}
