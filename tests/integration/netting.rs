//! The `netting` rail (regional clearing house, deferred net settlement): a cycle worked out by
//! hand (net positions, efficiency, the spread of each member's net conversion borne by the
//! items that touch that member), items that pay their own pair's spread (zero between two
//! zero-spread currencies; a same-currency item's share), a participant that fails at a cycle,
//! credit quotas that carry positions forward (and their carry and the spread of converting
//! them, charged per dollar to their members' items over the run), and the bundled scenario's
//! identities.

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

    // FX only on net positions, through USD. Each payee gets its item at the mid cross less
    // its own fraction f_k: each member's spread S_m is borne, by value, by the items that have
    // m as importer or exporter, so an item from i to e gives up f_k = S_i/V_i + S_e/V_e, with
    // V_m the value of the items touching m:
    //   V_TR = P1 + P3 + P4 = 210,000; V_KZ = P1 + P2 + P4 = 180,000; V_AZ = P2 + P3 = 130,000.
    // TRY's spread is 0, so S_TR = 0 and, writing a = S_KZ / 180,000 and b = S_AZ / 130,000:
    //   f1 (TR → KZ) = a;  f2 (KZ → AZ) = a + b;  f3 (AZ → TR) = b;  f4 (KZ → TR) = a.
    // Per member, what the house received minus what it pays out:
    //   TR: 4,000,000 − 3,200,000 (1 − f3) − 1,200,000 (1 − f4)   (buys TRY, 0 bp: no spread)
    //   KZ: 40,000,000 − 50,000,000 (1 − f1) = −10,000,000 + 50,000,000 f1        (buys KZT)
    //   AZ: 160,000 − 100,000 (1 − f2) = 60,000 + 100,000 f2                        (sells AZN)
    // Spread in USD: KZ buys at 500 × (1 − 0.002), its USD value × 0.002/0.998:
    //   S_KZ = (20,000 − 100,000 f1) × 0.002/0.998; AZ sells at 0.5 × (1 − 0.001):
    //   S_AZ = 0.001 × (30,000 + 50,000 f2).
    // The fixed point: 180,000 a = (20,000 − 100,000 a) × 0.002/0.998
    //   → a (179,640 + 200) = 40 → a = 1/4,496 = 0.000222419929, S_KZ = 40.035587;
    //   130,000 b = 30 + 50 a + 50 b → b = (30 + 50/4,496) / 129,950 = 0.000230943601,
    //   S_AZ = 30.022668. So f1 = f4 = 2.2242 bps, f3 = 2.3094 bps, f2 = 4.5336 bps (today's
    //   single f was 2.6938 bps for every item).
    // Credits (cents, half to even):
    //   P1 KZT 50,000,000 (1 − f1) = 49,988,879.00;  P2 AZN 100,000 (1 − f2) = 99,954.66;
    //   P3 TRY 3,200,000 (1 − f3) = 3,199,260.98;    P4 TRY 1,200,000 (1 − f4) = 1,199,733.10.
    // With the credits in cents the spreads are S_KZ = 9,988,879.00 / 500 × 0.002/0.998 =
    // 40.035587 and S_AZ = 30,022.67 × 0.001 = 30.022670: USD 70.058257 in all (the f's they
    // give round to the same credits: the fixed point). The house buys TRY 398,994.08 for
    // USD 9,974.85 and KZT 9,988,879.00 for 9,988,879.00 / 499 = USD 20,017.79, and sells
    // AZN 60,045.34 for × 0.4995 = USD 29,992.65: the dollar account keeps the cent of rounding
    // (29,992.65 − 9,974.85 − 20,017.79 = 0.01).
    //
    // P1 (SHA): fee USD 2 = TRY 80 to the payer; spread 11,121.00 KZT = USD 22.242; total
    //   100,002 − 99,977.758 = 24.242. Latency 04:00 → 07:00 = 3 h.
    let p1 = &p["1"];
    assert_eq!(p1["rail"], "clearing");
    assert_eq!(p1["status"], "settled");
    assert_eq!(p1["settled_at"], "2025-01-06T07:00:00Z");
    assert_eq!(p1["latency_h"], "3.0000");
    assert_eq!(p1["hops"], "1");
    assert_eq!(dec(p1, "fees_usd"), d("2.00"));
    assert_eq!(dec(p1, "spread_usd"), d("22.24"));
    assert_eq!(dec(p1, "drift_usd"), d("0.00"));
    assert_eq!(dec(p1, "total_cost_usd"), d("24.24"));
    // The dollars the house bought (29,992.65) and sold (9,974.85 + 20,017.79 = 29,992.64) are
    // still shared by value: P1 has 100,000 / 260,000 of each = 11,535.635 and 11,535.631.
    assert_eq!(dec(p1, "usd_bought"), d("11535.63"));
    assert_eq!(dec(p1, "usd_sold"), d("11535.63"));
    // P2 (OUR): fee KZT 1,000; credit AZN 99,954.66 = USD 49,977.33: spread 45.34 AZN = 22.67,
    //   total 24.67: it touches both converting currencies, so it bears a share of both
    //   spreads. Latency 04:30 → 07:00 = 2.5 h.
    let p2 = &p["2"];
    assert_eq!(p2["latency_h"], "2.5000");
    assert_eq!(dec(p2, "fees_usd"), d("2.00"));
    assert_eq!(dec(p2, "spread_usd"), d("22.67"));
    assert_eq!(dec(p2, "total_cost_usd"), d("24.67"));
    // Float: each item's principal waits in the payer's currency from its debit to the cycle,
    //   at that currency's carry rate (10 % a year for both): value × rate × hours / 8,760.
    //   P1 TRY from 05:30 to 07:00: 100,000 × 0.1 × 1.5 / 8,760 = 1.7123 → 1.71;
    //   P2 KZT from 05:00 to 07:00: 50,000 × 0.1 × 2 / 8,760 = 1.1416 → 1.14.
    //   Principal at risk: value × those hours. Cost: P1 24.242 + 1.712 = 25.95.
    assert_eq!(dec(p1, "float_usd"), d("1.71"));
    assert_eq!(dec(p2, "float_usd"), d("1.14"));
    assert_eq!(dec(p1, "principal_at_risk_usd_h"), d("150000.00"));
    assert_eq!(dec(p2, "principal_at_risk_usd_h"), d("100000.00"));
    assert_eq!(dec(p1, "cost_usd"), d("25.95"));
    // P3 (BEN): the fee (TRY 80) comes off the credit: TRY 3,199,180.98 = USD 79,979.5245;
    //   spread 739.02 TRY = 18.4755; total 80,000 − 79,979.5245 = 20.4755. Latency 2 h.
    let p3 = &p["3"];
    assert_eq!(p3["latency_h"], "2.0000");
    assert_eq!(dec(p3, "value_usd"), d("80000.00"));
    assert_eq!(dec(p3, "fees_usd"), d("2.00"));
    assert_eq!(dec(p3, "spread_usd"), d("18.48"));
    assert_eq!(dec(p3, "total_cost_usd"), d("20.48"));
    // P4 (SHA): debited KZT 15,001,000 = 30,002; credit TRY 1,199,733.10 = 29,993.3275: spread
    //   266.90 TRY = 6.6725, total 8.6725. Latency 06:00 → 07:00 = exactly 1 h.
    let p4 = &p["4"];
    assert_eq!(p4["latency_h"], "1.0000");
    assert_eq!(p4["within_1h"], "true");
    assert_eq!(dec(p4, "spread_usd"), d("6.67"));
    assert_eq!(dec(p4, "total_cost_usd"), d("8.67"));
    // netting.csv: the cycle's spread is still the whole spread of the net conversions.
    assert_eq!(dec(c, "spread_usd"), d("70.06"));

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
        (usd(c, "spread_usd") - d("70.058257")).abs() < d("0.000001"),
        "{}",
        usd(c, "spread_usd")
    );
    // Every currency account of the house is back to zero; its dollar account keeps the cent
    // by which the roundings of the dollar legs differ (bought 29,992.65, sold 29,992.64).
    assert_eq!(bal["rail0:house:TR:TRY"], d("0"));
    assert_eq!(bal["rail0:house:KZ:KZT"], d("0"));
    assert_eq!(bal["rail0:house:AZ:AZN"], d("0"));
    assert_eq!(bal["rail0:house:settlement:USD"], d("0.01"));
    // Fees: TRY 80 (P1) + 80 (P3, BEN); KZT 1,000 (P2) + 1,000 (P4).
    assert_eq!(bal["rail0:house-fees:TRY"], d("160"));
    assert_eq!(bal["rail0:house-fees:KZT"], d("2000"));
    assert_eq!(bal["rail0:house-fees:AZN"], d("0"));
    // Clients: TR paid 4,000,080 and received 3,199,180.98 + 1,199,733.10.
    assert_eq!(bal["clients:TR"], d("398834.08"));
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
    // converted, the house extends the credit and every payee gets its item at the mid, less
    // its share of converting the carried positions later (below).
    // Carried: creditors TR 10,000 + KZ 20,000 = debtors AZ 30,000 → 30,000.
    let mon = &netting[0];
    assert_eq!(mon["items"], "4");
    assert_eq!(dec(mon, "net_usd"), d("30000.00"));
    assert_eq!(dec(mon, "carried_forward_usd"), d("30000.00"));
    assert_eq!(dec(mon, "spread_usd"), d("0.00"));
    // Tuesday: with P5, KZ stands at +70,000 and AZ at −80,000: beyond the quota. The excess
    // settles: KZ's 10,000 (KZT 5,000,000 less what P5's payee gives up), AZ's 20,000
    // (AZN 40,000). TR's 10,000 stays carried. Spread: 20 (AZ sells at 10 bp) +
    // (10,000 − 50,000 f) × 0.002/0.998 (KZ buys at 20 bp) = 50,000 f → f = 0.0007992, paid
    // by P5 alone (the only item touching KZ and AZ in the cycle): KZT 25,000,000 × f =
    // 19,980 = USD 39.96 (before P5's share of the final settlement, below). Carried after:
    // creditors TR 10,000 + KZ 60,000 = 70,000; debtor AZ 60,000 (the house's dollar account
    // holds the 10,000 between).
    let tue = &netting[1];
    assert_eq!(tue["cycle_at"], "2025-01-07T07:00:00Z");
    assert_eq!(tue["items"], "1");
    assert_eq!(dec(tue, "carried_forward_usd"), d("70000.00"));
    assert_eq!(dec(tue, "spread_usd"), d("39.96"));
    // Wednesday, after the last trading day: the final settlement converts every carried
    // position, with no item in the cycle; nothing is carried any more. The house buys KZ's
    // KZT 30,000,000 ($60,000) at 20 bp: S_KZ = 60,000 × 0.002 / 0.998 = 120.240481; sells AZ's
    // AZN 120,000 at 10 bp: S_AZ = 60,000 × 0.001 = 60; TR's 10,000 at 0 bp costs nothing.
    let wed = &netting[2];
    assert_eq!(wed["cycle_at"], "2025-01-08T07:00:00Z");
    assert_eq!(wed["items"], "0");
    assert_eq!(dec(wed, "carried_forward_usd"), d("0.00"));
    assert_eq!(dec(wed, "spread_usd"), d("180.24"));
    // Those spreads are borne by each member's items over the run, per dollar of value (at t0):
    // KZ's items are P1, P2, P4 and P5 ($230,000), AZ's P2, P3 and P5 ($180,000). So P1 pays
    // 100,000 × 120.240481 / 230,000 = 52.278470; P2 50,000 × (120.240481 / 230,000 +
    // 60 / 180,000) = 42.805902; P3 80,000 × 60 / 180,000 = 26.666667; P4 30,000 × 120.240481 /
    // 230,000 = 15.683541; P5 its Tuesday share, 39.96, plus 42.805902. Each total is that and
    // the fee (USD 2; P3's BEN fee comes off its credit).
    let (s_kz, s_az) = (d("60000") * d("0.002") / d("0.998"), d("60"));
    let (r_kz, r_az) = (s_kz / d("230000"), s_az / d("180000"));
    for (id, share) in [
        ("1", d("100000") * r_kz),
        ("2", d("50000") * (r_kz + r_az)),
        ("3", d("80000") * r_az),
        ("4", d("30000") * r_kz),
    ] {
        // To the cent: the credit's rounding to the payee's minor unit (an AZN cent is half a
        // dollar cent) and the printed cent.
        let spread = dec(&p[id], "spread_usd");
        assert!(
            (spread - share).abs() <= d("0.01"),
            "P{id}: {spread} vs {share}"
        );
        assert_eq!(dec(&p[id], "total_cost_usd"), spread + d("2"), "P{id}");
    }
    let p5 = d("39.96") + d("50000") * (r_kz + r_az);
    assert!((dec(&p["5"], "spread_usd") - p5).abs() <= d("0.01"), "P5");
    // All the spread the house paid is in the items' spreads.
    let items: Decimal = p.values().map(|r| dec(r, "spread_usd")).sum();
    let cycles: Decimal = netting.iter().map(|c| dec(c, "spread_usd")).sum();
    assert!((items - cycles).abs() <= d("0.03"), "{items} vs {cycles}");

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

/// Four members, constant rates and no fees: TR (TRY, 40 per USD, half-spread 0), GE (GEL, 2.5,
/// 0), KG and KB (both KGS, 100 per USD, 50 bps). RTGS windows in UTC: TR 05:00-14:30,
/// GE 05:00-14:00, KG and KB 02:00-09:00. One cycle at 12:00 Almaty = 07:00 UTC. Start Monday
/// 6 January 2025. `{PAYMENTS}` are the items.
const PAIRS: &str = r#"
[scenario]
name = "netting-pairs"
start = 2025-01-06
days = 1
drain_days = 2
seed = 1

[fx]
usd_liquidity_cost_pa = 0.0

[[member]]
code = "TR"
currency = "TRY"
time_zone = "Europe/Istanbul"
rtgs_open = "08:00"
rtgs_cutoff = "17:30"
holidays = "none"

[[member]]
code = "GE"
currency = "GEL"
time_zone = "Asia/Tbilisi"
rtgs_open = "09:00"
rtgs_cutoff = "18:00"
holidays = "none"

[[member]]
code = "KG"
currency = "KGS"
time_zone = "Asia/Bishkek"
rtgs_open = "08:00"
rtgs_cutoff = "15:00"
holidays = "none"

[[member]]
code = "KB"
currency = "KGS"
time_zone = "Asia/Bishkek"
rtgs_open = "08:00"
rtgs_cutoff = "15:00"
holidays = "none"

[[currency]]
code = "TRY"
minor_units = 2
mid_per_usd = "40"
regime = "float"
liquidity_cost_pa = 0.1
usd_half_spread_bps = 0

[[currency]]
code = "GEL"
minor_units = 2
mid_per_usd = "2.5"
regime = "float"
liquidity_cost_pa = 0.1
usd_half_spread_bps = 0

[[currency]]
code = "KGS"
minor_units = 2
mid_per_usd = "100"
regime = "float"
liquidity_cost_pa = 0.1
usd_half_spread_bps = 50

[trade]
{PAYMENTS}

[[rail]]
name = "clearing"
kind = "netting"
time_zone = "Asia/Almaty"
cycle_times = ["12:00"]
processing_min = { median = 30 }

[[route]]
corridor = "*"
rails = [{ rail = "clearing", share = 1.0 }]
"#;

/// One `[[trade.payment]]` on Monday at 04:00 UTC, invoiced in the importer's currency, fees
/// shared.
fn item(importer: &str, exporter: &str, amount: &str, currency: &str) -> String {
    item_at("2025-01-06T04:00:00Z", importer, exporter, amount, currency)
}

/// The same at `at`.
fn item_at(at: &str, importer: &str, exporter: &str, amount: &str, currency: &str) -> String {
    format!(
        "[[trade.payment]]\nat = {at}\nexporter = \"{exporter}\"\n\
         importer = \"{importer}\"\namount = \"{amount}\"\ncurrency = \"{currency}\"\n\
         charge_bearer = \"SHA\"\n"
    )
}

/// [`PAIRS`] over `days` trading days, with `quota` (a `quota_usd = …` line) on the house.
fn pairs_with_quota(days: u32, quota: &str, payments: &str) -> String {
    PAIRS
        .replace("days = 1\n", &format!("days = {days}\n"))
        .replace(
            "cycle_times = [\"12:00\"]\n",
            &format!("cycle_times = [\"12:00\"]\n{quota}\n"),
        )
        .replace("{PAYMENTS}", payments)
}

/// The run through the library: the payments as recorded, the cycles as reported, the run's
/// report and its final balances.
fn run_lib_all(
    text: &str,
) -> (
    BTreeMap<u64, kervan::record::PaymentRecord>,
    Vec<ReportRow>,
    kervan::sim::RunReport,
    BTreeMap<String, Decimal>,
) {
    let dir = scratch(&[("s.toml", text)]);
    let s = kervan::scenario::load(dir.path().join("s.toml").to_str().unwrap()).unwrap();
    let (sink, report) = super::common::run_lib(&s);
    let bal = super::common::balances(&report);
    let payments = sink
        .payments
        .into_iter()
        .map(|r| (r.payment_id, r))
        .collect();
    (payments, sink.cycles, report, bal)
}

/// The row of rails.csv for the clearing house.
fn clearing_row(dir: &tempfile::TempDir) -> Row {
    read_csv(&dir.path().join("out/rails.csv"))
        .into_iter()
        .find(|r| r["rail"] == "clearing")
        .expect("a row for the clearing house")
}

/// Spread of a payment in bps of its value, from payments.csv.
fn spread_bps(r: &Row) -> Decimal {
    dec(r, "spread_usd") / dec(r, "value_usd") * Decimal::from(10_000)
}

#[test]
fn each_item_pays_the_spread_of_its_own_pair() {
    // Q1: TR pays GE TRY 2,000,000 ($50,000): two zero-spread currencies.
    // Q2: KG pays TR KGS 2,000,000 ($20,000). Q3: TR pays KG TRY 400,000 ($10,000).
    let payments = [
        item("TR", "GE", "2000000", "TRY"),
        item("KG", "TR", "2000000", "KGS"),
        item("TR", "KG", "400000", "TRY"),
    ]
    .concat();
    let (p, netting, _dir) = run(&PAIRS.replace("{PAYMENTS}", &payments));
    assert_eq!(p.len(), 3);
    // Net conversions: TR sells its surplus TRY (0 bp) and GE buys GEL 125,000 (0 bp): no
    // spread, S_TR = S_GE = 0. KG sells KGS 2,000,000 − 1,000,000 (1 − f3) at 100 × (1 − 0.005):
    // S_KG = 0.005 × (20,000 − 10,000 (1 − f3)) = 50 + 50 f3. KG's spread is borne by the items
    // that touch KG, Q2 and Q3 (V_KG = 30,000): f2 = f3 = S_KG / 30,000 (plus S_TR / V_TR = 0),
    // so 30,000 f = 50 + 50 f → f = 50 / 29,950 = 16.6945 bps. Q1 touches only TR and GE: f1 = 0.
    // (Today's single f would be S / 80,000 = 6.25 bps for all three: Q1 would pay USD 31.27.)
    // Credits: Q1 GEL 125,000.00 in full; Q2 TRY 800,000 (1 − f) = 798,664.44; Q3 KGS
    // 1,000,000 (1 − f) = 998,330.55. With those, S_KG = 1,001,669.45 / 100 × 0.005 =
    // 50.0834725, which gives the same credits: the fixed point.
    // Spreads: Q1 0; Q2 1,335.56 TRY = USD 33.389; Q3 1,669.45 KGS = USD 16.6945.
    let (q1, q2, q3) = (&p["1"], &p["2"], &p["3"]);
    for r in [q1, q2, q3] {
        assert_eq!(r["rail"], "clearing");
        assert_eq!(r["status"], "settled");
        assert_eq!(dec(r, "fees_usd"), d("0.00"));
    }
    assert_eq!(dec(q1, "spread_usd"), d("0.00"));
    assert_eq!(dec(q1, "total_cost_usd"), d("0.00"));
    assert_eq!(dec(q2, "spread_usd"), d("33.39"));
    assert_eq!(dec(q2, "total_cost_usd"), d("33.39"));
    assert_eq!(dec(q3, "spread_usd"), d("16.69"));
    assert_eq!(dec(q3, "total_cost_usd"), d("16.69"));
    // Per dollar: the KG items pay KG's spread, 16.69 bps (16.695 and 16.69 from the printed
    // cents), the TR → GE item nothing.
    assert!(spread_bps(q2) > spread_bps(q1));
    assert_eq!(spread_bps(q1), Decimal::ZERO);
    for r in [q2, q3] {
        assert!((spread_bps(r) - d("16.6945")).abs() < d("0.01"), "{r:?}");
    }
    // The cycle's spread is KG's conversion's: 50.0834725, USD 50.08 printed.
    assert_eq!(netting.len(), 1);
    assert_eq!(dec(&netting[0], "spread_usd"), d("50.08"));
    let (cycles, bal) = run_lib(&PAIRS.replace("{PAYMENTS}", &payments));
    assert_eq!(usd(&cycles[0], "spread_usd"), d("50.0834725"));
    // The dollar legs: KG sells KGS 1,001,669.45 × 0.00995 = USD 9,966.61, TR sells TRY
    // 1,601,335.56 / 40 = 40,033.39, GE buys GEL 125,000 for 50,000.00: the dollar account
    // nets to zero.
    assert_eq!(bal["rail0:house:settlement:USD"], d("0"));
    assert_eq!(bal["clients:GE"], d("125000"));
}

#[test]
fn a_same_currency_item_bears_its_members_shares() {
    // R1: KG pays KB KGS 1,000,000 ($10,000), no conversion needed. R2: KB pays TR
    // KGS 3,000,000 ($30,000). The rule does not look at currencies: R1 still bears its two
    // members' shares of their spreads (KG's and KB's net KGS positions are converted apart).
    let payments = [
        item("KG", "KB", "1000000", "KGS"),
        item("KB", "TR", "3000000", "KGS"),
    ]
    .concat();
    let (p, netting, _dir) = run(&PAIRS.replace("{PAYMENTS}", &payments));
    assert_eq!(p.len(), 2);
    // KG sells KGS 1,000,000 ($10,000): S_KG = 50, borne by R1 alone (V_KG = 10,000).
    // KB sells KGS 3,000,000 − 1,000,000 (1 − f1): S_KB = 0.005 × (20,000 + 10,000 f1)
    // = 100 + 50 f1, borne by R1 and R2 (V_KB = 40,000). TR buys TRY at 0 bp: S_TR = 0.
    //   f1 = 50 / 10,000 + S_KB / 40,000 = 0.0075 + 0.00125 f1 → f1 = 0.0075 / 0.99875
    //      = 75.0939 bps;
    //   f2 = S_KB / 40,000 = 0.0025 + 0.00125 f1 = 25.0939 bps.
    // Credits: R1 KGS 1,000,000 (1 − f1) = 992,490.61; R2 TRY 1,200,000 (1 − f2) =
    // 1,196,988.74. Spreads: R1 7,509.39 KGS = USD 75.0939; R2 3,011.26 TRY = 75.2815;
    // together the cycle's 50 + 100.3754695 = 150.3754695 (to the rounding of the credits).
    // (Today R1 would be credited in full and R2 would bear all 150.) R1 has no drift: its
    // whole loss is spread, so total = fees + spread + drift still holds.
    let (r1, r2) = (&p["1"], &p["2"]);
    assert_eq!(r1["status"], "settled");
    assert_eq!(dec(r1, "spread_usd"), d("75.09"));
    assert_eq!(dec(r1, "drift_usd"), d("0.00"));
    assert_eq!(dec(r1, "total_cost_usd"), d("75.09"));
    assert_eq!(dec(r2, "spread_usd"), d("75.28"));
    assert_eq!(dec(r2, "total_cost_usd"), d("75.28"));
    assert_eq!(dec(&netting[0], "spread_usd"), d("150.38"));
    let (cycles, bal) = run_lib(&PAIRS.replace("{PAYMENTS}", &payments));
    assert_eq!(usd(&cycles[0], "spread_usd"), d("150.3754695"));
    assert_eq!(bal["clients:KB"], d("992490.61") - d("3000000"));
    assert_eq!(bal["rail0:house:KG:KGS"], d("0"));
    assert_eq!(bal["rail0:house:KB:KGS"], d("0"));
    // KB sells KGS 2,007,509.39 for USD 19,974.72, KG KGS 1,000,000 for 9,950.00, TR buys
    // TRY 1,196,988.74 for 29,924.72: the dollar account nets to zero.
    assert_eq!(bal["rail0:house:settlement:USD"], d("0"));
}

#[test]
fn a_carried_position_pays_its_carry_per_dollar_of_its_members_items() {
    // TR has a quota of USD 60,000, GE and KG none. Two trading days, so Wednesday's cycle
    // (07:00 UTC each day) is the final settlement. TRY and GEL convert at 0 bp, so TR's
    // position does not depend on any spread.
    // Monday: C1 TR pays GE TRY 4,000,000 ($100,000); C2 KG pays GE KGS 1,000,000 ($10,000),
    //   which does not touch TR. The house holds TR's TRY 4,000,000 ($100,000), beyond the
    //   quota: it sells TRY 1,600,000 and carries TRY 2,400,000 = $60,000.
    // Tuesday: C3 GE pays TR GEL 25,000 ($10,000). TR's payee gets TRY 400,000 (the cross
    //   16 TRY per GEL, f = 0) out of TR's position, which is then TRY 2,000,000 = $50,000,
    //   within the quota: still carried, nothing converted for TR.
    // Wednesday: the final settlement sells TR's TRY 2,000,000.
    // Carry at TRY's 10 % a year: $60,000 for 24 h (Mon 07:00 → Tue 07:00), then $50,000 for
    // 24 h (→ Wed 07:00).
    let carry = (60_000.0 * 24.0 + 50_000.0 * 24.0) * 0.1 / 8_760.0; // 30.1369863
    // The items that touch TR over the run are C1 ($100,000) and C3 ($10,000): per dollar
    // carry / 110,000, so C1 pays 27.3972603 and C3 2.7397260; C2 touches no carried position.
    let (c1, c3) = (carry * 100_000.0 / 110_000.0, carry * 10_000.0 / 110_000.0);
    let payments = [
        item("TR", "GE", "4000000", "TRY"),
        item("KG", "GE", "1000000", "KGS"),
        item_at("2025-01-07T04:00:00Z", "GE", "TR", "25000", "GEL"),
    ]
    .concat();
    let text = pairs_with_quota(2, "quota_usd = { TR = 60000 }", &payments);
    let (p, netting, dir) = run(&text);
    assert_eq!(p.len(), 3);
    assert_eq!(netting.len(), 3, "{netting:?}");
    assert_eq!(dec(&netting[0], "carried_forward_usd"), d("60000.00"));
    assert_eq!(dec(&netting[1], "carried_forward_usd"), d("50000.00"));
    assert_eq!(dec(&netting[2], "carried_forward_usd"), d("0.00"));
    let cents = |x: f64| Decimal::from_f64_retain(x).unwrap().round_dp(2);
    assert_eq!(dec(&p["1"], "liquidity_usd"), cents(c1));
    assert_eq!(dec(&p["3"], "liquidity_usd"), cents(c3));
    assert_eq!(dec(&p["2"], "liquidity_usd"), d("0.00"));
    // rails.csv: the house's carry over the run, all of it charged.
    let rail = clearing_row(&dir);
    assert_eq!(dec(&rail, "carry_usd"), cents(carry));
    assert_eq!(dec(&rail, "carry_unallocated_usd"), d("0.00"));
    // The largest carried position sampled at a day's end (Monday 24:00): $60,000.
    assert_eq!(dec(&rail, "liquidity_peak_usd"), d("60000.00"));

    // Unrounded: each charge to the micro-dollar, and the charges over all payments plus the
    // unallocated carry are the carry the house's balances accrued.
    let (records, _, report, bal) = run_lib_all(&text);
    let f = |x: Decimal| x.to_string().parse::<f64>().unwrap();
    assert!((f(records[&1].liquidity_usd) - c1).abs() < 2e-6);
    assert!((f(records[&3].liquidity_usd) - c3).abs() < 2e-6);
    let accrued = report.liquidity[0].carry_usd;
    assert!((accrued - carry).abs() < 1e-6, "{accrued} vs {carry}");
    let charged: f64 = records.values().map(|r| f(r.liquidity_usd)).sum();
    assert!(
        (charged + report.unallocated_carry_usd - accrued).abs() < 1e-5,
        "charged {charged} + unallocated {} vs {accrued}",
        report.unallocated_carry_usd
    );
    // The carried position sat in its own account, and is gone after the final settlement.
    assert_eq!(bal["rail0:carried:TR:TRY"], d("0"));
    assert_eq!(bal["rail0:house:TR:TRY"], d("0"));
}

#[test]
fn a_carried_position_converted_without_its_members_items_charges_them_its_spread() {
    // KG (KGS, 50 bp) has a quota of USD 60,000; one trading day, so Tuesday's cycle is the
    // final settlement. TRY and GEL convert at 0 bp.
    // Monday: S1 KG pays TR KGS 10,000,000 ($100,000); S2 KG pays GE KGS 5,000,000 ($50,000);
    //   S3 TR pays GE TRY 400,000 ($10,000), which does not touch KG. The house holds KG's
    //   KGS 15,000,000 ($150,000): it sells the KGS 9,000,000 ($90,000) beyond the quota at
    //   100 × (1 − 0.005) and carries KGS 6,000,000 ($60,000). S_KG = 90,000 × 0.005 = 450,
    //   borne by S1 and S2 (V_KG = 150,000): f = 450 / 150,000 = 0.003 each, S3 f = 0.
    // Tuesday: the final settlement sells KG's KGS 6,000,000 with no item of KG in the cycle
    //   (V_KG = 0): S = 60,000 × 0.005 = 300. KG's items over the run pay it per dollar of their
    //   value, 300 / 150,000 = 0.002: S1 $200 (TRY 8,000) and S2 $100 (GEL 250).
    let monday = 90_000 * 5 / 1_000; // 450
    let tuesday = 60_000 * 5 / 1_000; // 300
    let rate = Decimal::from(tuesday) / Decimal::from(150_000);
    let payments = [
        item("KG", "TR", "10000000", "KGS"),
        item("KG", "GE", "5000000", "KGS"),
        item("TR", "GE", "400000", "TRY"),
    ]
    .concat();
    let text = pairs_with_quota(1, "quota_usd = { KG = 60000 }", &payments);
    let (p, netting, dir) = run(&text);
    assert_eq!(p.len(), 3);
    assert_eq!(netting.len(), 2, "{netting:?}");
    assert_eq!(dec(&netting[0], "spread_usd"), Decimal::from(monday));
    assert_eq!(netting[1]["items"], "0");
    assert_eq!(dec(&netting[1], "spread_usd"), Decimal::from(tuesday));
    // S1: 100,000 × 0.003 + 100,000 × 0.002 = 500 (credit TRY 4,000,000 × 0.997 − 8,000 =
    // 3,980,000.00); S2: 50,000 × (0.003 + 0.002) = 250 (GEL 125,000 × 0.997 − 250 =
    // 124,375.00); S3: 0.
    let share = |v: i64| Decimal::from(v) * (Decimal::from(monday) / Decimal::from(150_000) + rate);
    assert_eq!(dec(&p["1"], "spread_usd"), share(100_000));
    assert_eq!(dec(&p["2"], "spread_usd"), share(50_000));
    assert_eq!(dec(&p["3"], "spread_usd"), d("0.00"));
    // The items' spreads add up to the cycles' spreads.
    let items: Decimal = p.values().map(|r| dec(r, "spread_usd")).sum();
    let cycles: Decimal = netting.iter().map(|c| dec(c, "spread_usd")).sum();
    assert_eq!(items, cycles);
    assert_eq!(dec(&clearing_row(&dir), "carry_unallocated_usd"), d("0.00"));

    let (records, cycle_rows, report, bal) = run_lib_all(&text);
    // Unrounded, to the minor-unit roundings of the three credits.
    let items: Decimal = records.values().map(|r| r.spread_usd).sum();
    let cycles: Decimal = cycle_rows.iter().map(|c| usd(c, "spread_usd")).sum();
    assert!((items - cycles).abs() < d("0.01"), "{items} vs {cycles}");
    // The payees got what the rule says; the house recovered the $300 it paid on Tuesday in
    // the payees' currencies (TRY 8,000 + GEL 250), and its dollar account is short exactly
    // that: Monday it bought USD 89,550 (KGS 9,000,000 × 0.00995) and sold 89,700 (TRY
    // 3,588,000 for TR's payee, less S3's TRY 400,000) and 59,850 (GEL 149,625 for GE's two
    // payees); Tuesday it bought 59,700 (KGS 6,000,000 × 0.00995).
    assert_eq!(bal["clients:TR"], d("3980000") - d("400000"));
    assert_eq!(bal["clients:GE"], d("124375") + d("25000"));
    assert_eq!(bal["rail0:spread-recovered:TRY"], d("8000"));
    assert_eq!(bal["rail0:spread-recovered:GEL"], d("250"));
    assert_eq!(bal["rail0:house:settlement:USD"], d("-300"));
    // Tuesday's dollars are KG's items' too: all the dollars the house bought and sold are in
    // the payments' usd_bought and usd_sold.
    let bought: Decimal = records.values().map(|r| r.usd_bought).sum();
    let sold: Decimal = records.values().map(|r| r.usd_sold).sum();
    assert!((bought - d("149250")).abs() < d("0.001"), "{bought}");
    assert!((sold - d("149550")).abs() < d("0.001"), "{sold}");
    // KG's carry, $60,000 for 24 h at 10 %, goes 2:1 to S1 and S2.
    let carry = 60_000.0 * 0.1 * 24.0 / 8_760.0;
    let f = |x: Decimal| x.to_string().parse::<f64>().unwrap();
    assert!((f(records[&1].liquidity_usd) - carry * 2.0 / 3.0).abs() < 2e-6);
    assert!((f(records[&2].liquidity_usd) - carry / 3.0).abs() < 2e-6);
    assert_eq!(records[&3].liquidity_usd, Decimal::ZERO);
    assert!((report.liquidity[0].carry_usd - carry).abs() < 1e-6);
}

#[test]
fn converting_a_carried_position_is_not_charged_to_the_few_items_of_its_cycle() {
    // KG (KGS, 50 bp) has a quota of USD 60,000; one trading day, so Tuesday's cycle is the
    // final settlement. TRY and GEL convert at 0 bp.
    // Monday 07:00: T1 KG pays TR KGS 10,000,000 ($100,000). KG's flow is +10,000,000; the house
    //   carries KGS 6,000,000 ($60,000) and sells the other 4,000,000 ($40,000): S = 200, all
    //   of it T1's own flow's (φ = 10,000,000 / 4,000,000, capped at 1): f1 = 0.002.
    // T2 KG pays GE KGS 1,000,000 ($10,000) at 08:00, after Monday's cycle: it settles at
    //   Tuesday's, the final settlement. There KG's flow is +1,000,000 (T2) and the house sells
    //   the carried 6,000,000 with it: A = 7,000,000 ($70,000), S = 350. T2's own flow accounts
    //   for φ = 1/7 of the conversion, so T2 bears 50 (f2 = 0.005, what its flow alone would
    //   cost); the other 300 converts KG's carried position and goes, like its carry, to KG's
    //   items over the run per dollar: 300 / 110,000, T1 272.727273 and T2 27.272727.
    //   (Charged to the cycle's items alone, T2 would pay 350, 3.5 % of its value.)
    let (monday, tuesday) = (d("200"), d("350"));
    let carried = tuesday * (Decimal::ONE - Decimal::ONE / Decimal::from(7));
    let rate = carried / d("110000");
    let t1 = monday + d("100000") * rate; // 472.727273
    let t2 = tuesday / Decimal::from(7) + d("10000") * rate; // 77.272727
    let payments = [
        item("KG", "TR", "10000000", "KGS"),
        item_at("2025-01-06T08:00:00Z", "KG", "GE", "1000000", "KGS"),
    ]
    .concat();
    let text = pairs_with_quota(1, "quota_usd = { KG = 60000 }", &payments);
    let (p, netting, _dir) = run(&text);
    assert_eq!(netting.len(), 2, "{netting:?}");
    assert_eq!(dec(&netting[0], "spread_usd"), monday);
    assert_eq!(netting[1]["items"], "1");
    assert_eq!(dec(&netting[1], "spread_usd"), tuesday);
    assert_eq!(p["2"]["settled_at"], "2025-01-07T07:00:00Z");
    // To the cent: each credit's rounding to the payee's minor unit, and the printed cent.
    for (id, want) in [("1", t1), ("2", t2)] {
        let spread = dec(&p[id], "spread_usd");
        assert!(
            (spread - want).abs() <= d("0.01"),
            "T{id}: {spread} vs {want}"
        );
    }
    let items: Decimal = p.values().map(|r| dec(r, "spread_usd")).sum();
    assert_eq!(items, monday + tuesday);

    // The dollars go the same way: Monday the house buys USD 39,800 (KGS 4,000,000 × 0.00995)
    // and sells 99,800 (TRY 3,992,000 for T1's payee); Tuesday it buys 69,650 (KGS 7,000,000)
    // and sells 9,950 (GEL 24,875 for T2's payee). All of them are in the items' columns.
    let (records, _, _, _) = run_lib_all(&text);
    let bought: Decimal = records.values().map(|r| r.usd_bought).sum();
    let sold: Decimal = records.values().map(|r| r.usd_sold).sum();
    assert!((bought - d("109450")).abs() < d("0.001"), "{bought}");
    assert!((sold - d("109750")).abs() < d("0.001"), "{sold}");
}
