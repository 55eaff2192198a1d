//! The terminal summary: one line per rail over all replications, led by the value-weighted
//! cost and its parts.

use super::metrics::{Metrics, quantiles};
use crate::rails::LiquidityStats;
use crate::scenario::Scenario;

fn usd_m(c: crate::money::Cents) -> f64 {
    c.to_f64() / 1e6
}

fn num(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "-".to_string()
    }
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", x * 100.0)
    } else {
        "-".to_string()
    }
}

/// The summary table, as printed after a run: per rail, the value-weighted cost (cost of
/// every payment per dollar delivered) and its parts in bps, then the per-payment median and
/// p95, latency, the shares credited within 1 hour, on the importer's same day and within 1
/// business day, the USD bought and the peak prefunding (the largest over replications).
pub fn summary_table(s: &Scenario, m: &Metrics, liquidity: &[Vec<LiquidityStats>]) -> String {
    let header = [
        "rail",
        "payments",
        "bps",
        "fees",
        "spread",
        "drift",
        "liq",
        "float",
        "bps med",
        "bps p95",
        "lat h med",
        "lat h p95",
        "<=1h",
        "same day",
        "<=1bd",
        "USD bought $m",
        "peak prefund $m",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for (rail, a) in &m.pooled() {
        let bps = quantiles(&a.cost_bps, &[0.5, 0.95]);
        let lat = quantiles(&a.latency_h, &[0.5, 0.95]);
        let peak_usd = liquidity
            .iter()
            .filter_map(|rep| rep.get(*rail as usize))
            .map(|l| l.peak_usd)
            .fold(0.0, f64::max);
        rows.push(vec![
            s.rails[*rail as usize].name.clone(),
            a.payments.to_string(),
            num(a.cost_bps_weighted(), 1),
            num(a.part_bps(a.fees_usd), 1),
            num(a.part_bps(a.spread_usd), 1),
            num(a.part_bps(a.drift_usd), 1),
            num(a.part_bps(a.liquidity_usd), 1),
            num(a.part_bps(a.float_usd), 1),
            num(bps[0], 1),
            num(bps[1], 1),
            num(lat[0], 2),
            num(lat[1], 2),
            pct(a.share(a.within_1h)),
            pct(a.share(a.same_day)),
            pct(a.share(a.within_1bd)),
            num(usd_m(a.usd_bought), 1),
            num(peak_usd / 1e6, 1),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i == 0 {
                    format!("{cell:<w$}", w = widths[i])
                } else {
                    format!("{cell:>w$}", w = widths[i])
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
        if n == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
            out.push('\n');
        }
    }
    out
}
