//! The `pvp_bridge` and `common_currency` rails: worked examples computed by hand (constant
//! rates, fixed delays), the bridge's atomicity over whole runs with tight balances, the regional
//! RTGS's hours, bad input, and the bundled scenarios' identities.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::common::{bundled, dec, kervan, read_csv, scratch, stderr};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn by_id(rows: &[BTreeMap<String, String>]) -> BTreeMap<String, BTreeMap<String, String>> {
    rows.iter()
        .map(|r| (r["payment_id"].clone(), r.clone()))
        .collect()
}

/// Two members on constant rates: 40 TRY and 500 KZT per USD. TR: Istanbul (UTC+3) 08:00-17:30
/// = 05:00-14:30 UTC. KZ: Almaty (UTC+5) 08:00-19:00 = 03:00-14:00 UTC. No holidays. Trade
/// starts Monday 6 January 2025. `{trade}` and `{rail}` are filled in per test.
const TWO_MEMBERS: &str = r#"
[scenario]
name = "two"
start = 2025-01-06
days = 2
drain_days = 1
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

[trade]
{trade}

{rail}

[[route]]
corridor = "*"
rails = [{ rail = "r", share = 1.0 }]
"#;

fn two_members(trade: &str, rail: &str) -> String {
    TWO_MEMBERS
        .replace("{trade}", trade)
        .replace("{rail}", rail)
}

fn run_ok(dir: &std::path::Path, file: &str, out_dir: &str) {
    let args = ["run", file, "--out", out_dir, "--quiet"];
    let out = kervan(dir, &args);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn final_balances(path: &std::path::Path) -> BTreeMap<String, Decimal> {
    let s = kervan::scenario::load(path.to_str().unwrap()).unwrap();
    super::common::balances(&super::common::run_lib(&s).1)
}

// ---------------------------------------------------------------------------------------------
// pvp_bridge

const BRIDGE: &str = r#"
[[rail]]
name = "r"
kind = "pvp_bridge"
latency_s = 10
quote_half_spread_bps = 10
fee = { flat_usd = 2 }
prefund_days = 0
prefund_min_usd = 100000
topup_threshold = 0.5
topup_min = { median = 30 }
sweep_above = 2
"#;

const BRIDGE_TRADE: &str = r#"
# P1 Mon 05:00 UTC: a KZ importer pays TRY 2,000,000 (USD 50,000), fees shared.
[[trade.payment]]
at = 2025-01-06T05:00:00Z
exporter = "TR"
importer = "KZ"
amount = "2000000"
currency = "TRY"
charge_bearer = "SHA"
# P2 Mon 13:00 UTC: TRY 3,000,000 (USD 75,000), the payer bears the fee.
[[trade.payment]]
at = 2025-01-06T13:00:00Z
exporter = "TR"
importer = "KZ"
amount = "3000000"
currency = "TRY"
charge_bearer = "OUR"
# P3 Mon 15:00 UTC, after the TR RTGS cut-off: a TR importer pays KZT 49,990,000 (USD 99,980),
# the beneficiary bears the fee.
[[trade.payment]]
at = 2025-01-06T15:00:00Z
exporter = "KZ"
importer = "TR"
amount = "49990000"
currency = "KZT"
charge_bearer = "BEN"
"#;

/// Every balance starts at USD 100,000: TR banks TRY 4,000,000, KZ banks KZT 50,000,000, the
/// liquidity provider (LP) TRY 4,000,000 and KZT 50,000,000. Top-up below 50 %, sweep above
/// 200 %, 30 working minutes in the currency's RTGS. Quote: mid less 10 bps; fee USD 2.
///
/// P1: at 05:00:10 (latency 10 s) the KZ banks pay TRY 2,000,000 at 500/40... the KZT→TRY rate
///   0.08 × 0.999 = 0.07992: KZT 2,000,000 / 0.07992 = 25,025,025.025… → 25,025,025.03. Legs:
///   KZ banks → LP KZT 25,025,025.03, LP → TR banks TRY 2,000,000. Fee KZT 1,000 from the
///   importer. At mid the KZT would buy TRY 2,002,002.0024 = USD 50,050.05006: spread 50.05006;
///   total 52.05006 (fee 2). KZ banks fall to 24,974,974.97 < 25 M: a top-up lands 05:30:10 (KZ
///   open), back to 50 M. LP TRY 2,000,000 is exactly half: no top-up.
/// P2: at 13:00:10 the LP holds TRY 2,000,000 < 3,000,000: the payment waits; the LP's TRY
///   top-up lands at 13:30:10 (TR open) with target + waiting = 7 M (+5 M from its reserve), and
///   P2 settles then: KZT 3,000,000 / 0.07992 = 37,537,537.537… → 37,537,537.54. Spread
///   75.07508, fee 2, total 77.07508; latency 1,810 s. Afterwards KZ banks 12,462,462.46 (top-up)
///   and LP KZT 112,562,562.57 (> 100 M: sweep) both ask the KZ RTGS: 29 min 50 s are left before
///   its 14:00 UTC cut-off, so they land Tue 03:00:10. TR banks hold 9 M > 8 M: 5 M swept at
///   14:00:10 (TR open until 14:30).
/// P3: at 15:00:10 the TR banks hold 4 M < TRY 49,990,000 / (12.5 × 0.999 = 12.4875) =
///   4,003,203.2032… → 4,003,203.20. The TR RTGS is closed: the top-up lands at its next
///   opening plus 30 min, Tue 05:30:00 (+4,003,203.20), and P3 settles then. The LP holds KZT
///   50 M since the 03:00:10 sweep. Spread: TRY 4,003,203.20 × 12.5 = KZT 50,040,040 at mid =
///   USD 100,080.08, less 99,980 received: 100.08. BEN: KZT 1,000 deducted, total 102.08.
///   Latency 14.5 h. Then LP TRY 8,003,203.20 > 8 M (sweep at 06:00) and LP KZT 10,000 < 25 M
///   (top-up of 49,990,000 at 06:00).
#[test]
fn bridge_worked_example() {
    let text = two_members(BRIDGE_TRADE, BRIDGE);
    let dir = scratch(&[("bridge.toml", &text)]);
    run_ok(dir.path(), "bridge.toml", "out");
    let rows = read_csv(&dir.path().join("out/payments.csv"));
    let p = by_id(&rows);
    let p1 = &p["1"];
    assert_eq!(p1["status"], "settled");
    assert_eq!(p1["settled_at"], "2025-01-06T05:00:10Z");
    assert_eq!(p1["latency_h"], "0.0028");
    assert_eq!(dec(p1, "fees_usd"), d("2.00"));
    assert_eq!(dec(p1, "spread_usd"), d("50.05"));
    assert_eq!(dec(p1, "drift_usd"), d("0.00"));
    assert_eq!(dec(p1, "total_cost_usd"), d("52.05"));
    // No payment converts a dollar, but the LP funds its balances through dollars (below), and
    // each payment carries the dollars of the balances it drew on, per dollar drawn. The LP's
    // TRY balance paid out P1's TRY 2,000,000 and P2's 3,000,000 (USD 125,000 in all) and was
    // funded by buying TRY for USD 125,125.13 and sweeping TRY for USD 99,980.00; its KZT
    // balance paid out P3's KZT 49,990,000 (USD 99,980) and was funded by selling KZT for USD
    // 124,874.87 and buying KZT for USD 100,180.36. P1: 50,000 × 99,980 / 125,000 = 39,992.00
    // bought, 50,000 × 125,125.13 / 125,000 = 50,050.052 sold; P3: all of the KZT balance's.
    assert_eq!(dec(p1, "usd_bought"), d("39992.00"));
    assert_eq!(dec(p1, "usd_sold"), d("50050.05"));
    assert_eq!(dec(&p["3"], "usd_bought"), d("124874.87"));
    assert_eq!(dec(&p["3"], "usd_sold"), d("100180.36"));
    let p2 = &p["2"];
    assert_eq!(p2["settled_at"], "2025-01-06T13:30:10Z");
    assert_eq!(p2["latency_h"], "0.5028");
    assert_eq!(dec(p2, "spread_usd"), d("75.08"));
    assert_eq!(dec(p2, "total_cost_usd"), d("77.08"));
    let p3 = &p["3"];
    assert_eq!(p3["settled_at"], "2025-01-07T05:30:00Z");
    assert_eq!(p3["latency_h"], "14.5000");
    assert_eq!(dec(p3, "fees_usd"), d("2.00"));
    assert_eq!(dec(p3, "spread_usd"), d("100.08"));
    assert_eq!(dec(p3, "total_cost_usd"), d("102.08"));

    let bal = final_balances(&dir.path().join("bridge.toml"));
    // Every balance back in its band: TR banks and both LP balances at target; the KZ banks
    // received P3 (50 M + 49.99 M, just under the 100 M sweep line).
    assert_eq!(bal["rail0:cbdc:TR:TRY"], d("4000000.00"));
    assert_eq!(bal["rail0:cbdc:KZ:KZT"], d("99990000.00"));
    assert_eq!(bal["rail0:lp:TRY"], d("4000000.00"));
    assert_eq!(bal["rail0:lp:KZT"], d("50000000.00"));
    // The LP funds its balances in dollars at the dealers' quotes (USD/TRY 10 bps, USD/KZT
    // 20 bps, no size curve): it buys TRY 5 M for P2's top-up (5,000,000 / 39.96 = USD
    // 125,125.13), sells KZT 62,562,562.57 on Tuesday's sweep (× 0.002 × 0.998 = USD
    // 124,874.87), sells TRY 4,003,203.20 on Tuesday's sweep (× 0.025 × 0.999 = USD 99,980.00)
    // and buys KZT 49,990,000 (/ 499 = USD 100,180.36). The dealers' books hold the other side:
    // TRY −5 M + 4,003,203.20; KZT +62,562,562.57 − 49,990,000; USD the net.
    assert_eq!(bal["dealer:TRY"], d("-996796.80"));
    assert_eq!(bal["dealer:KZT"], d("12572562.57"));
    assert_eq!(
        bal["rail0:lp-usd:USD"],
        d("-125125.13") + d("124874.87") + d("99980.00") - d("100180.36")
    );
    assert_eq!(bal["dealer:USD"], -bal["rail0:lp-usd:USD"]);
    assert!(!bal.contains_key("rail0:lp-reserve:TRY"));
    // The LP's whole position in each currency (platform balance + what it bought less what it
    // sold) moved by the payer legs less the payee legs:
    //   TRY 4,003,203.20 − 2,000,000 − 3,000,000; KZT 25,025,025.03 + 37,537,537.54 − 49,990,000.
    assert_eq!(
        bal["rail0:lp:TRY"] + bal["dealer:TRY"] - d("4000000"),
        d("4003203.20") - d("5000000")
    );
    assert_eq!(
        bal["rail0:lp:KZT"] + bal["dealer:KZT"] - d("50000000"),
        d("25025025.03") + d("37537537.54") - d("49990000")
    );
    // Each member's banks: what left the platform balance came from their clients and what
    // arrived went to their clients, so book + platform balance is still the opening balance.
    assert_eq!(bal["bank:TR:TRY"] + bal["rail0:cbdc:TR:TRY"], d("4000000"));
    assert_eq!(bal["bank:KZ:KZT"] + bal["rail0:cbdc:KZ:KZT"], d("50000000"));
    // KZ clients paid 25,026,025.03 + 37,538,537.54 and received 49,989,000.
    assert_eq!(bal["clients:KZ"], d("-12575562.57"));
    assert_eq!(bal["clients:TR"], d("996796.80"));
    assert_eq!(bal["fees:KZ:KZT"], d("3000.00"));
}

/// The platform may quote a multiple of the market instead: 0.5 × the market's TRY/KZT
/// half-spread, 2 × (10 + 20) = 60 bps (no size curve), is 30 bps. P1: KZT 2,000,000 /
/// (0.08 × 0.997 = 0.07976) = 25,075,225.677… → 25,075,225.68, worth TRY 2,006,018.0544 =
/// USD 50,150.45136 at mid: spread 150.45136, total 152.45136.
#[test]
fn bridge_quotes_a_multiple_of_the_market() {
    let rail = BRIDGE.replace(
        "quote_half_spread_bps = 10",
        "quote_market_multiplier = 0.5",
    );
    let dir = scratch(&[("bridge.toml", &two_members(BRIDGE_TRADE, &rail))]);
    run_ok(dir.path(), "bridge.toml", "out");
    let p = by_id(&read_csv(&dir.path().join("out/payments.csv")));
    assert_eq!(dec(&p["1"], "spread_usd"), d("150.45"));
    assert_eq!(dec(&p["1"], "total_cost_usd"), d("152.45"));
}

/// Three members, constant rates (40 TRY, 500 KZT, 2 AZN per USD), $1.5 bn a year on each of
/// the six corridors, invoiced in the exporter's currency, and every platform balance only
/// USD 200,000: payments are short all the time.
const TIGHT: &str = r#"
[scenario]
name = "tight"
start = 2025-01-06
days = 60
drain_days = 0
seed = 7

[fx]
# Dollars in transit are free here, so hand computations show one currency's float at a time.
usd_liquidity_cost_pa = 0.0

[[member]]
code = "TR"
currency = "TRY"
time_zone = "Europe/Istanbul"
rtgs_open = "08:00"
rtgs_cutoff = "17:30"

[[member]]
code = "KZ"
currency = "KZT"
time_zone = "Asia/Almaty"
rtgs_open = "08:00"
rtgs_cutoff = "19:00"

[[member]]
code = "AZ"
currency = "AZN"
time_zone = "Asia/Baku"
rtgs_open = "09:20"
rtgs_cutoff = "17:00"

[[currency]]
code = "TRY"
minor_units = 2
mid_per_usd = "40"
regime = "float"
liquidity_cost_pa = 0.45
usd_half_spread_bps = 4

[[currency]]
code = "KZT"
minor_units = 2
mid_per_usd = "500"
regime = "float"
liquidity_cost_pa = 0.15
usd_half_spread_bps = 10

[[currency]]
code = "AZN"
minor_units = 2
mid_per_usd = "2"
regime = "float"
liquidity_cost_pa = 0.07
usd_half_spread_bps = 8

[trade]
matrix = "m.csv"
hours = ["09:00", "18:00"]
size = { distribution = "lognormal", median_usd = 40000, sigma = 1.4, max_usd = 5000000 }
charge_bearer = { our = 0.3, sha = 0.6, ben = 0.1 }
[[trade.invoice_currency]]
corridor = "*"
exporter = 1.0

[[rail]]
name = "bridge"
kind = "pvp_bridge"
latency_s = { median = 10, sigma = 0.5 }
quote_half_spread_bps = 10
fee = { flat_usd = 2 }
prefund_days = 0
prefund_min_usd = 200000
topup_threshold = 0.5
topup_min = { median = 30 }
on_short = "{on_short}"

[[rail]]
name = "usd"
kind = "correspondent"
intermediaries = { values = [0, 1], weights = [0.5, 0.5] }
processing_min = { median = 12, sigma = 1 }
originator_fee = { bps = 15, min_usd = 35, max_usd = 300 }
intermediary_fee = { flat_usd = 25 }

[[route]]
corridor = "*"
rails = [{ rail = "bridge", share = 1.0 }]
fallback = ["usd"]
"#;

const TIGHT_MATRIX: &str = "exporter,importer,annual_usd
TR,KZ,1500000000
KZ,TR,1500000000
TR,AZ,1500000000
AZ,TR,1500000000
KZ,AZ,1500000000
AZ,KZ,1500000000
";

/// What a whole run shows about the bridge's legs (see the test below).
fn check_never_one_leg(on_short: &str) -> (usize, usize, usize, usize) {
    let dir = scratch(&[
        ("tight.toml", &TIGHT.replace("{on_short}", on_short)),
        ("m.csv", TIGHT_MATRIX),
    ]);
    let s = kervan::scenario::load(dir.path().join("tight.toml").to_str().unwrap()).unwrap();
    // The simulator's own checks run too: the run fails on any cost-identity residual above
    // 1e-6 USD and on any currency not conserved.
    let (sink, report) = super::common::run_lib(&s);
    let bal: BTreeMap<&str, Decimal> = report
        .final_balances
        .iter()
        .map(|(a, _, b)| (a.as_str(), *b))
        .collect();
    let ccy_code = |c: kervan::money::CurrencyId| s.currencies.code(c).to_string();
    let mid = |code: &str| match code {
        "TRY" => d("40"),
        "KZT" => d("500"),
        "AZN" => d("2"),
        other => panic!("{other}"),
    };
    let opening = |code: &str| mid(code) * d("200000");
    let bridge = s.rails.iter().position(|r| r.name == "bridge").unwrap() as u16;
    // The legs every settled bridge payment must have booked, recomputed from its record alone:
    // the payee receives the invoice (invoiced in its currency); the payer pays
    // round(invoice / (cross mid × (1 − 10 bps))).
    let mut lp_expected: BTreeMap<String, Decimal> = BTreeMap::new();
    let (mut settled, mut waited, mut fallbacks, mut unsettled) = (0, 0, 0, 0);
    for r in &sink.payments {
        let payer = ccy_code(s.members[r.importer as usize].currency);
        let payee = ccy_code(s.members[r.exporter as usize].currency);
        assert_eq!(ccy_code(r.invoice_ccy), payee);
        if r.fallback {
            fallbacks += 1;
        }
        let status = r.status.as_str();
        if r.rail != bridge {
            assert!(
                r.fallback,
                "payment {} left the bridge without falling back",
                r.payment_id
            );
            continue;
        }
        match status {
            "settled" => {
                settled += 1;
                if r.latency_s.unwrap() > 60 {
                    waited += 1;
                }
                let y = r.invoice_amount;
                let rate = mid(&payee) / mid(&payer) * (Decimal::ONE - d("0.001"));
                let x = (y / rate)
                    .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointNearestEven);
                *lp_expected.entry(payer.clone()).or_default() += x;
                *lp_expected.entry(payee.clone()).or_default() -= y;
                // Both legs: what the importer paid and what the exporter got differ by the
                // fee and the 10 bps quote only — a payment debited without its credit would
                // cost its whole value, one credited without its debit would gain it.
                let fees_and_quote = r.value_usd * d("0.0011") + d("2.01");
                assert!(
                    r.total_cost_usd > Decimal::ZERO && r.total_cost_usd < fees_and_quote,
                    "payment {}: total cost {} of value {}",
                    r.payment_id,
                    r.total_cost_usd,
                    r.value_usd
                );
                assert!(r.spread_usd > Decimal::ZERO);
                assert!(r.drift_usd.abs() < d("0.000001"));
            }
            "unsettled" => {
                // Still waiting at the end: nothing was debited, nothing credited, nothing
                // is in flight on the platform.
                unsettled += 1;
                assert_eq!(r.total_cost_usd, Decimal::ZERO, "payment {}", r.payment_id);
                assert_eq!(r.fees_usd, Decimal::ZERO);
                assert_eq!(r.spread_usd, Decimal::ZERO);
            }
            other => panic!("payment {} on the bridge ended {other}", r.payment_id),
        }
        assert!(
            (r.total_cost_usd - (r.fees_usd + r.spread_usd + r.drift_usd)).abs() < d("0.000001")
        );
    }
    // The liquidity provider funds its balances from its dollar treasury: every top-up is a
    // purchase at the dealers, every sweep a sale (no reserve in the currency appears from
    // nowhere). With payments waiting (no fallback rail trading at the same dealers), the
    // dealers' books hold exactly the provider's trades.
    assert!(
        !bal.keys().any(|a| a.contains("lp-reserve")),
        "no unfunded reserve account"
    );
    let lp_usd = bal["rail0:lp-usd:USD"];
    assert!(
        !lp_usd.is_zero(),
        "the provider's dollars paid for its top-ups"
    );
    if on_short == "wait" {
        let mut bought_any = false;
        for code in ["TRY", "KZT", "AZN"] {
            // The liquidity provider is the only counterparty of every leg: its position
            // (platform balance + what it bought at the dealers, less what it sold) moved by
            // exactly the payer legs less the payee legs of the payments recorded as settled on
            // the bridge. A leg booked for a payment that waited, fell back or ended unsettled,
            // or a settled payment missing a leg, would leave a whole payment's amount in this
            // difference.
            let dealer = bal[format!("dealer:{code}").as_str()];
            bought_any |= !dealer.is_zero();
            let lp = bal[format!("rail0:lp:{code}").as_str()] + dealer;
            assert_eq!(
                lp - opening(code),
                lp_expected.get(code).copied().unwrap_or_default(),
                "{code}"
            );
        }
        assert!(bought_any, "the top-ups went through the dealers");
        // And the dollars: what the provider paid for its purchases less what its sales
        // brought is what the dealers' dollar book holds.
        assert_eq!(lp_usd + bal["dealer:USD"], Decimal::ZERO);
    }
    for (m, code) in [("TR", "TRY"), ("KZ", "KZT"), ("AZ", "AZN")] {
        // Each platform leg has its client side at the same bank: the payer bank's balance
        // paid what its client paid in, the payee bank's balance received what its client was
        // credited (the RTGS transfers move between the two books).
        assert_eq!(
            bal[format!("bank:{m}:{code}").as_str()]
                + bal[format!("rail0:cbdc:{m}:{code}").as_str()],
            opening(code),
            "{m}"
        );
    }
    (settled, waited, fallbacks, unsettled)
}

#[test]
fn bridge_never_settles_one_leg_when_payments_wait() {
    let (settled, waited, fallbacks, _unsettled) = check_never_one_leg("wait");
    assert_eq!(fallbacks, 0);
    // The balances are tight: many payments had to wait for a top-up.
    assert!(settled > 2000, "{settled}");
    assert!(waited * 10 > settled, "{waited} of {settled} waited");
}

#[test]
fn bridge_never_settles_one_leg_when_payments_fall_back() {
    let (settled, _waited, fallbacks, unsettled) = check_never_one_leg("fallback");
    assert_eq!(unsettled, 0);
    assert!(settled > 1000, "{settled}");
    assert!(
        fallbacks * 10 > settled,
        "{fallbacks} fell back, {settled} settled"
    );
}

// ---------------------------------------------------------------------------------------------
// common_currency

/// The basket: half TRY, half KZT, worth USD 1 at the start; on constant rates 1 unit = TRY 40 =
/// KZT 500 for the whole run. Each conversion 10 bps. The regional RTGS: 06:00-12:00 UTC,
/// Monday to Friday. Payer's bank: 20 working minutes. Fee USD 4.
const UNIT: &str = r#"
[[rail]]
name = "r"
kind = "common_currency"
basket = [{ currency = "TRY", weight = 0.5 }, { currency = "KZT", weight = 0.5 }]
spread_bps = 10
rtgs = { time_zone = "UTC", open = "06:00", cutoff = "12:00" }
processing_min = { median = 20 }
fee = { flat_usd = 4 }
"#;

const UNIT_TRADE: &str = r#"
# P1 Mon 05:00 UTC: a KZ importer pays TRY 2,000,000 (USD 50,000), fees shared.
[[trade.payment]]
at = 2025-01-06T05:00:00Z
exporter = "TR"
importer = "KZ"
amount = "2000000"
currency = "TRY"
charge_bearer = "SHA"
# P2 Mon 11:50 UTC: a TR importer pays TRY 1,000,000 (USD 25,000) to a KZ exporter, the
# beneficiary bears the fee.
[[trade.payment]]
at = 2025-01-06T11:50:00Z
exporter = "KZ"
importer = "TR"
amount = "1000000"
currency = "TRY"
charge_bearer = "BEN"
"#;

/// P1: the KZ bank works 05:00-05:20, debits the payer and buys the units then; the RTGS opens
///   at 06:00 and settles then. TRY 2,000,000 out of the unit at 40 × 0.999 = 39.96 needs
///   50,050.05005… → 50,050.05 units; into the unit at 0.999 / 500 = 0.001998 unit per KZT that
///   takes KZT 25,050,075.075… → 25,050,075.08. The units pay TRY 50,050.05 × 39.96 =
///   1,999,999.998 → 2,000,000.00 at 06:00. At mid that KZT is USD 50,100.15016: spread
///   100.15016 (two conversions), fee USD 4 = KZT 2,000 from the importer, total 104.15016 =
///   20.830032 bps; latency 1 h. From the debit to the credit (40 min) the principal is in the
///   unit, whose carry is half the lira's and half the tenge's (0.5 × 0.365 + 0.5 × 0.0365 =
///   0.20075): float 50,000 × 0.20075 × 2,400 / 31,536,000 = 0.763889.
/// P2: the TR bank works 11:50-12:10 and converts then, after the RTGS's 12:00 cut-off: it
///   settles at Tuesday's opening, 06:00. TRY 1,000,000 × 0.999 / 40 = 24,975.00 units × 500 ×
///   0.999 = KZT 12,475,012.50; mid value USD 25,000, received 24,950.025: spread 49.975. BEN:
///   KZT 2,000 deducted; total 53.975 = 21.59 bps; latency 18 h 10 min. In the unit for 17 h
///   50 min: float 25,000 × 0.20075 × 64,200 / 31,536,000 = 10.217014.
#[test]
fn basket_worked_example_and_rtgs_hours() {
    let text = two_members(UNIT_TRADE, UNIT);
    let dir = scratch(&[("unit.toml", &text)]);
    run_ok(dir.path(), "unit.toml", "out");
    let p = by_id(&read_csv(&dir.path().join("out/payments.csv")));
    let p1 = &p["1"];
    assert_eq!(p1["status"], "settled");
    assert_eq!(p1["settled_at"], "2025-01-06T06:00:00Z");
    assert_eq!(p1["latency_h"], "1.0000");
    assert_eq!(dec(p1, "fees_usd"), d("4.00"));
    assert_eq!(dec(p1, "spread_usd"), d("100.15"));
    assert_eq!(dec(p1, "drift_usd"), d("0.00"));
    assert_eq!(dec(p1, "total_cost_usd"), d("104.15"));
    // The settlement agent's desks are funded at the market (no expected trade here, so each
    // desk's target is zero and every imbalance is squared at once through dollars):
    //   desk TRY: buys TRY 2,000,000 for P1 at 39.96 (USD 50,050.05; lost at mid TRY 2,002 =
    //   USD 50.05), then sells the TRY 1,000,000 P2 brings at 0.025 × 0.999 (USD 24,975.00;
    //   lost 25.00). Its only user is P1 (USD 50,000 drawn): liquidity 75.05.
    //   desk KZT: sells P1's KZT 25,050,075.08 at 0.002 × 0.998 (USD 49,999.95; lost
    //   100.20016), then buys P2's KZT 12,475,012.50 at 499 (USD 25,000.03; lost KZT 25,002.50
    //   = 50.005). Its only user is P2: liquidity 150.20516. The desks hold nothing overnight:
    //   no carry.
    // P1: 104.15016 + 75.05 + 0.763889 = 179.964049 = 35.992810 bps; its dollars are the TRY
    // desk's.
    assert_eq!(dec(p1, "liquidity_usd"), d("75.05"));
    assert_eq!(dec(p1, "float_usd"), d("0.76"));
    assert_eq!(dec(p1, "principal_at_risk_usd_h"), d("33333.33"));
    assert_eq!(p1["cost_bps"], "35.992810");
    assert_eq!(dec(p1, "usd_bought"), d("24975.00"));
    assert_eq!(dec(p1, "usd_sold"), d("50050.05"));
    let p2 = &p["2"];
    // After the regional RTGS's cut-off: the next opening.
    assert_eq!(p2["settled_at"], "2025-01-07T06:00:00Z");
    assert_eq!(p2["latency_h"], "18.1667");
    assert_eq!(dec(p2, "spread_usd"), d("49.98"));
    assert_eq!(dec(p2, "total_cost_usd"), d("53.98"));
    // P2: 53.975 + 150.20516 + 10.217014 = 214.397174 = 85.758870 bps of USD 25,000.
    assert_eq!(dec(p2, "liquidity_usd"), d("150.21"));
    assert_eq!(dec(p2, "float_usd"), d("10.22"));
    assert_eq!(dec(p2, "principal_at_risk_usd_h"), d("445833.33"));
    assert_eq!(p2["cost_bps"], "85.758870");
    assert_eq!(dec(p2, "usd_bought"), d("49999.95"));
    assert_eq!(dec(p2, "usd_sold"), d("25000.03"));

    let bal = final_balances(&dir.path().join("unit.toml"));
    // KZ clients paid 25,050,075.08 + 2,000 and received 12,473,012.50.
    assert_eq!(bal["clients:KZ"], d("-12579062.58"));
    // TR clients received 2,000,000 and paid 1,000,000.
    assert_eq!(bal["clients:TR"], d("1000000.00"));
    assert_eq!(bal["fees:KZ:KZT"], d("4000.00"));
    // The settlement agent's desks took the payers' money and paid the payees', squaring every
    // imbalance at the dealers: they end empty, and the dealers and the agent's dollars hold
    // the other side.
    assert_eq!(bal["rail0:unit-desk:KZT"], d("0"));
    assert_eq!(bal["rail0:unit-desk:TRY"], d("0"));
    assert_eq!(bal["dealer:KZT"], d("25050075.08") - d("12475012.50"));
    assert_eq!(bal["dealer:TRY"], d("1000000") - d("2000000"));
    assert_eq!(
        bal["rail0:unit-usd:USD"],
        d("-50050.05") + d("24975.00") + d("49999.95") - d("25000.03")
    );
}

/// The same two payments in a full union: no spread, conversion at the start's mids. P1: KZT
/// 2,000,000 × 500 / 40 = 25,000,000 (50,000.00 units) + fee KZT 2,000: cost USD 4, the fee.
/// P2: TRY 1,000,000 = 25,000.00 units = KZT 12,500,000, less the BEN fee: cost USD 4.
#[test]
fn union_costs_the_fee_only() {
    let rail = UNIT.replace("spread_bps = 10", "spread_bps = 0\nunion = true");
    let text = two_members(UNIT_TRADE, &rail);
    let dir = scratch(&[("union.toml", &text)]);
    run_ok(dir.path(), "union.toml", "out");
    let p = by_id(&read_csv(&dir.path().join("out/payments.csv")));
    for id in ["1", "2"] {
        let r = &p[id];
        assert_eq!(r["status"], "settled");
        assert_eq!(dec(r, "spread_usd"), d("0.00"), "{id}");
        assert_eq!(dec(r, "drift_usd"), d("0.00"), "{id}");
        assert_eq!(dec(r, "fees_usd"), d("4.00"), "{id}");
        assert_eq!(dec(r, "total_cost_usd"), d("4.00"), "{id}");
    }
    // Same hours as the basket: P2 still waits for Tuesday's opening.
    assert_eq!(p["2"]["settled_at"], "2025-01-07T06:00:00Z");
    let bal = final_balances(&dir.path().join("union.toml"));
    assert_eq!(bal["clients:KZ"], d("-25002000") + d("12498000"));
    assert_eq!(bal["clients:TR"], d("1000000.00"));
}

/// With the tenge drifting (−50 % a year, no noise), P2's overnight wait moves the rate: in the
/// basket that shows up as drift, in the union it does not (nothing converts at a later rate).
#[test]
fn union_carries_no_rate_risk_in_flight() {
    let drifting = |rail: &str| {
        two_members(UNIT_TRADE, rail).replace(
            "mid_per_usd = \"500\"\nregime = \"float\"",
            "mid_per_usd = \"500\"\nregime = \"float\"\ndrift_pa = -0.5",
        )
    };
    let basket = drifting(UNIT);
    let union = drifting(&UNIT.replace("spread_bps = 10", "spread_bps = 0\nunion = true"));
    assert!(basket.contains("drift_pa = -0.5"));
    let dir = scratch(&[("basket.toml", &basket), ("union.toml", &union)]);
    run_ok(dir.path(), "basket.toml", "out");
    let b = by_id(&read_csv(&dir.path().join("out/payments.csv")));
    run_ok(dir.path(), "union.toml", "out2");
    let u = by_id(&read_csv(&dir.path().join("out2/payments.csv")));
    assert_ne!(dec(&b["2"], "drift_usd"), d("0.00"));
    for id in ["1", "2"] {
        assert_eq!(dec(&u[id], "drift_usd"), d("0.00"), "{id}");
        assert!(dec(&u[id], "spread_usd").abs() <= d("0.01"), "{id}");
        assert_eq!(dec(&u[id], "fees_usd"), d("4.00"), "{id}");
    }
}

/// One payment that waits in the unit overnight: on Monday at 11:50 UTC a TR importer pays
/// TRY 1,000,000 (USD 25,000, fees shared) to a KZ exporter. Its bank works until 12:10, after
/// the regional RTGS's 12:00 cut-off: the payer is debited and the lira converted into the unit
/// at 12:10, and the unit is converted into tenge at Tuesday's 06:00 opening.
const OVERNIGHT_TRADE: &str = r#"
[[trade.payment]]
at = 2025-01-06T11:50:00Z
exporter = "KZ"
importer = "TR"
amount = "1000000"
currency = "TRY"
charge_bearer = "SHA"
"#;

/// What the overnight payment becomes through a basket of weights (TRY, KZT, USD), by hand.
/// The rates hold until Monday 18:00 UTC, then the lira goes from 40 to 32 per USD and the
/// tenge from 500 to 625 (scheduled jumps, no noise).
struct Overnight {
    /// KZT credited to the exporter.
    credited: Decimal,
    drift: Decimal,
    spread: Decimal,
    fees: Decimal,
    total: Decimal,
    float: Decimal,
}

/// At 12:10 (the opening rates; the unit is worth USD 1): TRY 1,000,000 × 0.999 / 40 =
/// 24,975.00 units; at the mid it would have been 25,000.00, so the first conversion's spread
/// is USD 25 and its drift 0. At Tuesday 06:00 one unit is worth
/// V = w_TRY × 40/32 + w_KZT × 500/625 + w_USD dollars and KZT 625 × V at the mid: the exporter
/// gets round(24,975 × 625 V × 0.999). The units' value at the start (USD 24,975) against the
/// tenge's at the start (625 V / 500 per unit) is the drift, 24,975 × (1 − 1.25 V); the
/// 0.1 % margin and the rounding are the second conversion's spread. The fee (USD 4, shared) is
/// charged in lira at settlement: TRY 4 × 32 = 128 = USD 3.20 at the start. From the debit
/// to the credit (17 h 50 min = 64,200 s) the principal sits in the unit, whose carry is its
/// currencies' carry by value weight at 12:10 (the weights themselves): float = 25,000 ×
/// (0.365 w_TRY + 0.0365 w_KZT + 0 w_USD) × 64,200 / 31,536,000.
fn overnight_by_hand(w_try: &str, w_kzt: &str, w_usd: &str) -> Overnight {
    let (w_try, w_kzt, w_usd) = (d(w_try), d(w_kzt), d(w_usd));
    let units = d("24975.00");
    assert_eq!(
        (d("1000000") * d("0.999") / d("40")).round_dp(2),
        units,
        "the unit amount"
    );
    let v = w_try * d("1.25") + w_kzt * d("0.8") + w_usd;
    let at_mid_kzt = units * d("625") * v;
    let credited = (at_mid_kzt * d("0.999"))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointNearestEven);
    // Into the unit: no drift (nothing moved by 12:10); out of it: the units' value at the
    // start against the tenge's at the start.
    let drift = units - at_mid_kzt / d("500");
    let spread = (d("25000") - units) + (at_mid_kzt - credited) / d("500");
    let fees = d("128") / d("40");
    let carry = w_try * d("0.365") + w_kzt * d("0.0365");
    let float = d("25000") * carry * d("64200") / d("31536000");
    Overnight {
        credited,
        drift,
        spread,
        fees,
        // What left the importer less what reached the exporter, at the start's mids.
        total: d("1000128") / d("40") - credited / d("500"),
        float,
    }
}

/// Runs the overnight payment through a basket unit with `basket`, the lira and tenge jumping
/// on Monday at 18:00 UTC (between the payer's debit and the RTGS's next opening).
fn overnight_run(basket: &str) -> (kervan::record::PaymentRecord, BTreeMap<String, Decimal>) {
    let rail = UNIT.replace(
        "basket = [{ currency = \"TRY\", weight = 0.5 }, { currency = \"KZT\", weight = 0.5 }]",
        &format!("basket = {basket}"),
    );
    assert!(rail.contains(basket));
    let dir = scratch(&[("unit.toml", &two_members(OVERNIGHT_TRADE, &rail))]);
    let path = dir.path().join("unit.toml");
    let mut s = kervan::scenario::load(path.to_str().unwrap()).unwrap();
    let jump = |code: &str, size: f64| kervan::fx::process::ScheduledJump {
        currency: s.currencies.id(code).unwrap(),
        at: 18 * 3600,
        size,
    };
    s.fx.jumps = vec![jump("TRY", -0.2), jump("KZT", 0.25)];
    let (sink, report) = super::common::run_lib(&s);
    assert_eq!(sink.payments.len(), 1);
    let r = sink.payments[0].clone();
    assert_eq!(r.status, kervan::terms::Status::Settled);
    // Tuesday 06:00 UTC: 30 hours after the start of Monday.
    assert_eq!(r.settled_at, Some(30 * 3600));
    (r, super::common::balances(&report))
}

/// Checks a run of the overnight payment against the hand computation.
fn check_overnight(basket: &str, w: (&str, &str, &str)) -> Decimal {
    let (r, bal) = overnight_run(basket);
    let want = overnight_by_hand(w.0, w.1, w.2);
    let close = |got: Decimal, want: Decimal, what: &str| {
        assert!(
            (got - want).abs() < d("0.000001"),
            "{basket}: {what} {got}, by hand {want}"
        );
    };
    assert_eq!(bal["clients:KZ"], want.credited, "{basket}: credited");
    assert_eq!(bal["clients:TR"], d("-1000128"), "{basket}: debited");
    close(r.drift_usd, want.drift, "drift");
    close(r.spread_usd, want.spread, "spread");
    close(r.fees_usd, want.fees, "fees");
    close(r.total_cost_usd, want.total, "total");
    close(r.float_usd, want.float, "float");
    // Debited at Monday 12:10, credited at Tuesday 06:00: 17 h 50 min in transit.
    assert_eq!(r.principal_at_risk_usd_h, d("445833.33"), "{basket}");
    r.drift_usd
}

/// The basket's weights decide what a payment waiting in the unit is worth when it comes out:
/// the same payment on the same rates, through a unit weighted to the tenge (which loses 20 %
/// overnight) and through one weighted to the dollar. In tenge the first unit is worth
/// 625 × (0.2 × 1.25 + 0.8 × 0.8) = 556.25 at the opening, the second 625 × (0.2 × 1.25 +
/// 0.8) = 656.25: the exporter gets 24,975 × 100 × 0.999 tenge more through the dollar-weighted
/// unit, and the drift differs by 24,975 × 100 / 500 = USD 4,995. A unit of the payee's own
/// currency carries no rate risk for the payee: no drift, and the tenge fixed at 12:10.
#[test]
fn basket_weights_move_a_waiting_payment() {
    let tenge = check_overnight(
        "[{ currency = \"TRY\", weight = 0.2 }, { currency = \"KZT\", weight = 0.8 }]",
        ("0.2", "0.8", "0"),
    );
    let dollar = check_overnight(
        "[{ currency = \"TRY\", weight = 0.2 }, { currency = \"USD\", weight = 0.8 }]",
        ("0.2", "0", "0.8"),
    );
    assert!(
        (tenge - dollar - d("4995")).abs() < d("0.000001"),
        "{tenge} − {dollar}"
    );
    let own = check_overnight("[{ currency = \"KZT\", weight = 1 }]", ("0", "1", "0"));
    assert!(own.abs() < d("0.000001"), "{own}");
    let (_, bal) = overnight_run("[{ currency = \"KZT\", weight = 1 }]");
    assert_eq!(bal["clients:KZ"], d("24975") * d("499.5"));
}

/// A basket of 100 % dollars is a dollar: the payer's bank buys USD 24,975.00 with the lira at
/// 40 / 0.999 on Monday, and the exporter sells them for tenge at 625 × 0.999 on Tuesday (KZT
/// 15,593,765.625, rounded half to even to .62); what the lira does after the debit no longer
/// matters. Drift: the dollars' value against the tenge's at the start, 24,975 × (1 − 625 /
/// 500) = −6,243.75 (a gain), where converting both ways at Tuesday's rates would have given
/// 25,000 × (1 − (625 / 32) / (500 / 40)) = −14,062.50.
#[test]
fn a_dollar_basket_is_a_dollar_unit() {
    let drift = check_overnight("[{ currency = \"USD\", weight = 1 }]", ("0", "0", "1"));
    assert_eq!(drift, d("24975") * (Decimal::ONE - d("625") / d("500")));
    assert_eq!(drift, d("-6243.75"));
    let (_, bal) = overnight_run("[{ currency = \"USD\", weight = 1 }]");
    assert_eq!(bal["clients:KZ"], d("15593765.62"));
}

/// A payment still in the unit when the run ends: the overnight payment with the run stopping
/// at Tuesday 00:00 UTC, before the RTGS opens. The payer was debited TRY 1,000,000 (USD 25,000
/// at the start) and holds 24,975.00 units, worth USD 1 each at the start: its cost so far is
/// the first conversion's spread, USD 25, which the books and the run's identity agree on
/// (the units count as principal still in flight, at their value at the start). It has been in
/// transit, in the unit, from 12:10 to midnight.
#[test]
fn a_payment_in_the_unit_at_the_horizon() {
    let text = two_members(OVERNIGHT_TRADE, UNIT)
        .replace("days = 2\ndrain_days = 1", "days = 1\ndrain_days = 0");
    assert!(text.contains("days = 1\ndrain_days = 0"));
    let dir = scratch(&[("unit.toml", &text)]);
    let s = kervan::scenario::load(dir.path().join("unit.toml").to_str().unwrap()).unwrap();
    let (sink, report) = super::common::run_lib(&s);
    let r = &sink.payments[0];
    assert_eq!(r.status, kervan::terms::Status::Unsettled);
    assert_eq!(r.total_cost_usd, d("25"));
    assert_eq!(r.spread_usd, d("25"));
    assert!(r.drift_usd.abs() < d("0.000001"), "{}", r.drift_usd);
    assert_eq!(r.fees_usd, d("0"));
    // 11 h 50 min (42,600 s) in the unit: 25,000 × 0.20075 × 42,600 / 31,536,000.
    let float = d("25000") * d("0.20075") * d("42600") / d("31536000");
    assert!(
        (r.float_usd - float).abs() < d("0.000001"),
        "{}",
        r.float_usd
    );
    let bal = super::common::balances(&report);
    assert_eq!(bal["clients:TR"], d("-1000000"));
    assert_eq!(bal["rail0:unit-desk:TRY"] + bal["dealer:TRY"], d("1000000"));
}

#[test]
fn bad_rail_tables_are_refused() {
    let cases = [
        (
            UNIT.replace("weight = 0.5 }]", "weight = 0.4 }]"),
            "must sum to 1",
        ),
        (
            UNIT.replace("spread_bps = 10", "spread_bps = 10\nunion = true"),
            "spread_bps must be 0",
        ),
        (
            UNIT.replace("open = \"06:00\"", "open = \"6am\""),
            "rtgs.open",
        ),
        (
            BRIDGE.replace("quote_half_spread_bps = 10", ""),
            "quote_half_spread_bps",
        ),
        (
            BRIDGE.replace("latency_s = 10", "latency_s = 10\non_short = \"later\""),
            "on_short",
        ),
        (
            BRIDGE.replace(
                "quote_half_spread_bps = 10",
                "quote_half_spread_bps = 10\nquote_market_multiplier = 0.5",
            ),
            "not both",
        ),
    ];
    for (rail, needle) in cases {
        let dir = scratch(&[("bad.toml", &two_members(UNIT_TRADE, &rail))]);
        let out = kervan(dir.path(), &["validate", "bad.toml"]);
        assert_eq!(out.status.code(), Some(2), "{needle}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{needle}: {}", stderr(&out));
    }
}

// ---------------------------------------------------------------------------------------------
// The bundled scenarios

fn bundled_scenario_holds(name: &str, rail: &str) {
    let dir = scratch(&[]);
    let path = bundled(name);
    let out = kervan(
        dir.path(),
        &[
            "run",
            path.to_str().unwrap(),
            "--days",
            "20",
            "--out",
            "out",
            "--quiet",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = read_csv(&dir.path().join("out/payments.csv"));
    assert!(rows.len() > 1000, "{name}: {} payments", rows.len());
    assert!(
        rows.iter()
            .any(|r| r["rail"] == rail && r["status"] == "settled")
    );
    for r in &rows {
        let residual = dec(r, "total_cost_usd")
            - (dec(r, "fees_usd") + dec(r, "spread_usd") + dec(r, "drift_usd"));
        assert!(
            residual.abs() <= d("0.015"),
            "{name}: payment {} residual {residual}",
            r["payment_id"]
        );
    }
    let manifest = std::fs::read_to_string(dir.path().join("out/manifest.toml")).unwrap();
    assert!(
        manifest.contains("conservation = \"ok"),
        "{name}: {manifest}"
    );
}

#[test]
fn bundled_pvp_bridge_holds_the_identities() {
    bundled_scenario_holds("ots-pvp-bridge.toml", "cbdc-bridge");
}

#[test]
fn bundled_common_unit_holds_the_identities() {
    bundled_scenario_holds("ots-common-unit.toml", "ots-unit");
}

#[test]
fn bundled_union_holds_the_identities() {
    bundled_scenario_holds("ots-union.toml", "ots-union");
}
