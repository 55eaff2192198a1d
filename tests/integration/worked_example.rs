//! A scenario small enough to work out by hand: two members, constant rates, fixed delays,
//! fixed fees and spreads, four payments on two corridors (one through the dollar chain, one
//! through a bilateral nostro). Every cost, latency and balance below is computed in the
//! comments and must appear exactly in the output.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::common::{dec, kervan, read_csv, scratch, stderr};

/// Rates: 40 TRY and 500 KZT per USD, no drift, no volatility, no jumps.
/// Half-spreads: USD/TRY 10 bps, USD/KZT 20 bps, TRY/KZT 1 × (10 + 20) = 30 bps; no size curve.
/// TR: Istanbul (UTC+3) 08:00-17:30 = 05:00-14:30 UTC. KZ: Almaty (UTC+5) 08:00-19:00 =
/// 03:00-14:00 UTC. No holidays. The dollar intermediaries work around the clock (UTC, no
/// weekend). Start Monday 6 January 2025.
const SCENARIO: &str = r#"
[scenario]
name = "worked"
start = 2025-01-06
days = 5
drain_days = 1
seed = 1

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

[[currency]]
code = "TRY"
minor_units = 2
mid_per_usd = "40"
regime = "float"
liquidity_cost_pa = 0.365
usd_half_spread_bps = 10

[[currency]]
code = "KZT"
minor_units = 2
mid_per_usd = "500"
regime = "float"
liquidity_cost_pa = 0.0365
usd_half_spread_bps = 20

[fx]
cross_multiplier = 1.0
# 8.76 % a year: a dollar in transit costs 1/100,000 of its value an hour, easy to work by hand.
usd_liquidity_cost_pa = 0.0876

[trade]
# P1: KZ importer pays a TR exporter USD 100,000, fees shared.
[[trade.payment]]
at = 2025-01-06T05:00:00Z
exporter = "TR"
importer = "KZ"
amount = "100000"
currency = "USD"
charge_bearer = "SHA"
# P2: KZ importer pays TRY 2,000,000, the payer bears every fee.
[[trade.payment]]
at = 2025-01-06T13:00:00Z
exporter = "TR"
importer = "KZ"
amount = "2000000"
currency = "TRY"
charge_bearer = "OUR"
# P3: TR importer pays KZT 10,000,000 through the nostro, the beneficiary bears the fee.
[[trade.payment]]
at = 2025-01-07T06:00:00Z
exporter = "KZ"
importer = "TR"
amount = "10000000"
currency = "KZT"
charge_bearer = "BEN"
# P4: KZT 30,000,000: more than the nostro holds, so it waits for a top-up.
[[trade.payment]]
at = 2025-01-07T07:00:00Z
exporter = "KZ"
importer = "TR"
amount = "30000000"
currency = "KZT"
charge_bearer = "SHA"

[[rail]]
name = "usd"
kind = "correspondent"
intermediaries = { values = [1], weights = [1] }
hop_calendar = { time_zone = "UTC", open = "00:00", cutoff = "24:00", weekend = [], holidays = "none" }
processing_min = { median = 30 }
originator_fee = { bps = 10, min_usd = 20, max_usd = 100 }
intermediary_fee = { flat_usd = 15 }
beneficiary_fee = { flat_usd = 5 }
our_fee = { flat_usd = 25 }

[[rail]]
name = "nostro"
kind = "bilateral"
pairs = ["TR-KZ"]
fee = { flat_usd = 4 }
processing_min = { median = 20 }
nostro_days = 0
nostro_min_usd = 40000
topup_threshold = 0.6
topup_min = { median = 30 }

[[route]]
corridor = "TR->KZ"
rails = [{ rail = "usd", share = 1.0 }]

[[route]]
corridor = "KZ->TR"
rails = [{ rail = "nostro", share = 1.0 }]
"#;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn by_id(rows: &[BTreeMap<String, String>]) -> BTreeMap<String, BTreeMap<String, String>> {
    rows.iter()
        .map(|r| (r["payment_id"].clone(), r.clone()))
        .collect()
}

#[test]
fn costs_and_latencies_match_the_hand_computation() {
    let dir = scratch(&[("worked.toml", SCENARIO)]);
    let out = kervan(
        dir.path(),
        &["run", "worked.toml", "--out", "out", "--quiet"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = read_csv(&dir.path().join("out/payments.csv"));
    assert_eq!(rows.len(), 4);
    let p = by_id(&rows);

    // P1, USD 100,000 SHA, KZ -> dollar chain -> TR. t0 = Mon 05:00 UTC.
    // 05:30 the KZ bank (30 working min) buys USD 100,000 at 1/500 × (1 − 0.0020) = 0.001996:
    //   KZT 100,000 / 0.001996 = 50,100,200.400801… → 50,100,200.40; at mid that is
    //   USD 100,200.4008, so spread 200.4008. Originator fee 0.10 % of 100,000 = 100 (within
    //   20..100) = KZT 50,000, charged to the importer. Debited KZT 50,150,200.40 = USD 100,300.4008.
    // 06:00 the intermediary deducts 15 → 99,985. 06:30 the TR bank deducts 5 → 99,980 and
    //   converts at 40 × (1 − 0.0010) = 39.96: TRY 3,995,200.80 (mid: 3,999,200; spread
    //   3,999.20 TRY = USD 99.98). Credited USD 99,880.02 at t0 mids.
    // fees 120, spread 300.3808, drift 0, total 420.3808. Float: the KZT debit and the purchase
    //   of dollars are one instant (05:30); the principal then sits in USD until the 06:30
    //   credit: 100,000 × 8.76 % × 1 h / 8,760 h = 1.00. Cost 421.3808 = 42.138080 bps.
    //   Principal at risk 100,000 × 1 h. Credited 11:30 Almaty on the day it started (10:00).
    //   Latency 1.5 h.
    let p1 = &p["1"];
    assert_eq!(p1["corridor"], "TR->KZ");
    assert_eq!(p1["rail"], "usd");
    assert_eq!(p1["initiated_at"], "2025-01-06T05:00:00Z");
    assert_eq!(p1["settled_at"], "2025-01-06T06:30:00Z");
    assert_eq!(p1["latency_h"], "1.5000");
    assert_eq!(p1["hops"], "2");
    assert_eq!(p1["within_1h"], "false");
    assert_eq!(p1["within_1bd"], "true");
    assert_eq!(dec(p1, "value_usd"), d("100000.00"));
    assert_eq!(dec(p1, "fees_usd"), d("120.00"));
    assert_eq!(dec(p1, "spread_usd"), d("300.38"));
    assert_eq!(dec(p1, "drift_usd"), d("0.00"));
    assert_eq!(dec(p1, "liquidity_usd"), d("0.00"));
    assert_eq!(dec(p1, "total_cost_usd"), d("420.38"));
    assert_eq!(dec(p1, "float_usd"), d("1.00"));
    assert_eq!(dec(p1, "cost_usd"), d("421.38"));
    assert_eq!(p1["cost_bps"], "42.138080");
    assert_eq!(dec(p1, "principal_at_risk_usd_h"), d("100000.00"));
    assert_eq!(p1["same_day"], "true");
    assert_eq!(dec(p1, "usd_bought"), d("100000.00"));
    assert_eq!(dec(p1, "usd_sold"), d("99980.00"));
    assert_eq!(p1["status"], "settled");

    // P2, TRY 2,000,000 OUR (a third currency for the KZ payer). 13:30 the KZ bank sends what
    //   buys TRY 2,000,000 at 39.96: USD 50,050.050… → 50,050.05, bought with KZT
    //   50,050.05 / 0.001996 = 25,075,175.35 (mid value USD 50,150.3507: spread 100.3007).
    //   OUR: the payer covers the chain: 0.10 % of value 50,000 = 50, the OUR surcharge 25, the
    //   intermediary's 15 and the beneficiary bank's 5 = USD 95 = KZT 47,500.
    // 14:00 the intermediary takes nothing (OUR). 14:30 the TR bank (work ends exactly at its
    //   14:30 UTC cut-off) converts 50,050.05 × 39.96 = 1,999,999.998 → TRY 2,000,000.00; the
    //   mid would give 2,002,002: spread TRY 2,002 = USD 50.05.
    // fees 95, spread 150.3507, total 245.3507; float 50,000 × 1 h at 8.76 % = 0.50 (debited
    //   13:30, credited 14:30): cost 245.8507 = 49.170140 bps of USD 50,000; latency 1.5 h.
    let p2 = &p["2"];
    assert_eq!(p2["settled_at"], "2025-01-06T14:30:00Z");
    assert_eq!(dec(p2, "value_usd"), d("50000.00"));
    assert_eq!(dec(p2, "fees_usd"), d("95.00"));
    assert_eq!(dec(p2, "spread_usd"), d("150.35"));
    assert_eq!(dec(p2, "total_cost_usd"), d("245.35"));
    assert_eq!(dec(p2, "float_usd"), d("0.50"));
    assert_eq!(p2["cost_bps"], "49.170140");
    assert_eq!(dec(p2, "principal_at_risk_usd_h"), d("50000.00"));
    assert_eq!(p2["charge_bearer"], "OUR");

    // P3, KZT 10,000,000 BEN on the nostro. t0 Tue 06:00; the TR bank works 20 min → 06:20, both
    //   RTGS open. The nostro (floor USD 40,000 = KZT 20,000,000) covers it. The TR importer buys
    //   KZT 10,000,000 at 500/40 × (1 − 0.0030) = 12.4625: TRY 802,407.22 (mid value
    //   KZT 10,030,090.25: spread KZT 30,090.25 = USD 60.1805). BEN: USD 4 = KZT 2,000 deducted.
    //   Credited KZT 9,998,000. fees 4, spread 60.1805, total 64.1805. Latency 20 min.
    // The nostro falls to 10 M < 0.6 × 20 M: a top-up lands at 06:50 (both open + 30 min), back to 20 M.
    let p3 = &p["3"];
    assert_eq!(p3["rail"], "nostro");
    assert_eq!(p3["settled_at"], "2025-01-07T06:20:00Z");
    assert_eq!(p3["within_1h"], "true");
    assert_eq!(p3["hops"], "1");
    assert_eq!(dec(p3, "fees_usd"), d("4.00"));
    assert_eq!(dec(p3, "spread_usd"), d("60.18"));
    assert_eq!(dec(p3, "total_cost_usd"), d("64.18"));
    assert_eq!(dec(p3, "usd_bought"), d("0.00"));
    // Debit and credit are one instant on the nostro: no float, no principal at risk.
    assert_eq!(dec(p3, "float_usd"), d("0.00"));
    assert_eq!(dec(p3, "principal_at_risk_usd_h"), d("0.00"));

    // P4, KZT 30,000,000 SHA. 07:20 the nostro holds 20 M: short, the payment waits; the top-up
    //   lands 07:50 with target 20 M + waiting 30 M − balance 20 M = 30 M; the payment settles at
    //   07:50. TRY 30,000,000 / 12.4625 = 2,407,221.6649… → 2,407,221.66 (spread USD 180.5415);
    //   SHA fee USD 4 = TRY 160 charged to the importer. total 184.5415. Latency 50 min.
    let p4 = &p["4"];
    assert_eq!(p4["settled_at"], "2025-01-07T07:50:00Z");
    assert_eq!(p4["latency_h"], "0.8333");
    assert_eq!(dec(p4, "spread_usd"), d("180.54"));
    assert_eq!(dec(p4, "total_cost_usd"), d("184.54"));

    // Liquidity: the rail keeps two nostros, each with the USD 40,000 floor, for the whole run
    //   (5 trading days + 1 drain day = 6 days, weekends and drain included).
    //   TR@KZ holds KZT 20 M at 3.65 %/yr = USD 4.00 a day, except 10 M (USD 2.00 a day) for
    //   06:20-06:50 on Tuesday: 6 × 4.00 − 2.00 × 0.5/24 = 23.958333. It paid out KZT 10 M for
    //   P3 and KZT 30 M for P4 (USD 20,000 + 60,000 at t0): 23.958333 / 80,000 per dollar used.
    //   P3 5.98958333, P4 17.96875. KZ@TR (TRY 1.6 M at 36.5 %/yr = USD 40.00 a day) was never
    //   used: its 240.00 goes to no payment (the other corridor does not use it) and is
    //   reported as unallocated.
    assert_eq!(dec(p3, "liquidity_usd"), d("5.99"));
    assert_eq!(dec(p4, "liquidity_usd"), d("17.97"));
    // P3: (64.1805 + 5.98958333) / 20,000 × 10,000 = 35.08504167 bps.
    let bps3: f64 = p3["cost_bps"].parse().unwrap();
    assert!((bps3 - 35.085_042).abs() < 1e-6, "{bps3}");
    let bps4: f64 = p4["cost_bps"].parse().unwrap();
    // P4: (184.5415 + 17.96875) / 60,000 × 10,000 = 33.75170833 bps.
    assert!((bps4 - 33.751_708).abs() < 1e-6, "{bps4}");

    // Aggregates: the rail rows add up the same numbers.
    let rails = read_csv(&dir.path().join("out/rails.csv"));
    let usd = rails.iter().find(|r| r["rail"] == "usd").unwrap();
    assert_eq!(usd["payments"], "2");
    assert_eq!(dec(usd, "fees_usd"), d("215.00"));
    assert_eq!(dec(usd, "total_cost_usd"), d("665.73"));
    // Whole cost, each part as printed: 421.38 + 245.85; per dollar delivered (150,000):
    // 667.23 / 150,000 × 10,000 = 44.482000 bps.
    assert_eq!(dec(usd, "float_usd"), d("1.50"));
    assert_eq!(dec(usd, "cost_usd"), d("667.23"));
    assert_eq!(dec(usd, "settled_value_usd"), d("150000.00"));
    assert_eq!(usd["cost_bps_weighted"], "44.482000");
    assert_eq!(dec(usd, "principal_at_risk_usd_h"), d("150000.00"));
    assert_eq!(usd["same_day_share"], "1.000000");
    assert_eq!(usd["within_1h_share"], "0.000000");
    let nostro = rails.iter().find(|r| r["rail"] == "nostro").unwrap();
    assert_eq!(nostro["within_1h_share"], "1.000000");
    assert_eq!(dec(nostro, "liquidity_usd"), d("23.96"));
    // The run's whole carry, and the part no payment used.
    assert_eq!(dec(nostro, "carry_usd"), d("263.96"));
    assert_eq!(dec(nostro, "carry_unallocated_usd"), d("240.00"));
    // Sampled at every midnight UTC, the two nostros hold USD 40,000 each.
    assert_eq!(nostro["liquidity_mean_usd"], "80000.00");
    assert_eq!(nostro["liquidity_peak_usd"], "80000.00");
}

#[test]
fn balances_match_the_hand_computation() {
    let dir = scratch(&[("worked.toml", SCENARIO)]);
    let s = kervan::scenario::load(dir.path().join("worked.toml").to_str().unwrap()).unwrap();
    let (_, report) = super::common::run_lib(&s);
    let bal = super::common::balances(&report);
    // The nostro is back at its 20 M floor after both top-ups (10 M at 06:50, 30 M at 07:50).
    assert_eq!(bal["rail1:nostro:TR@KZ:KZT"], d("20000000.00"));
    // The other direction was never used: still its floor, USD 40,000 = TRY 1,600,000.
    assert_eq!(bal["rail1:nostro:KZ@TR:TRY"], d("1600000.00"));
    // KZ banks' fees: P1 KZT 50,000 + P2 47,500 (charged to the KZ importer: under OUR its bank
    // collects the chain's fees too) + P3 2,000 (BEN, deducted at the KZ exporter's bank).
    assert_eq!(bal["fees:KZ:KZT"], d("99500.00"));
    // TR banks' fees: P4's TRY 160; the TR bank's USD lifting fee on P1: USD 5.
    assert_eq!(bal["fees:TR:TRY"], d("160.00"));
    assert_eq!(bal["fees:TR:USD"], d("5.00"));
    // The intermediary's USD 15 on P1 (P2 was OUR).
    assert_eq!(bal["rail0:correspondents-fees:USD"], d("15.00"));
    // KZ clients paid 50,150,200.40 + 25,122,675.35 and received 9,998,000 + 30,000,000.
    assert_eq!(bal["clients:KZ"], d("-35274875.75"));
    // TR clients received 3,995,200.80 + 2,000,000 and paid 802,407.22 + 2,407,221.66 + 160.
    assert_eq!(bal["clients:TR"], d("2785411.92"));
    // Unallocated carry: the reverse nostro's six days at USD 40.00, which no payment used.
    assert!(
        (report.unallocated_carry_usd - 240.0).abs() < 1e-9,
        "{}",
        report.unallocated_carry_usd
    );
    assert_eq!(report.payments, 4);
}
