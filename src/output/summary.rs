//! The terminal summary: one line per rail over all replications.

use super::metrics::{Metrics, mean, quantiles};
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

/// The summary table, as printed after a run.
pub fn summary_table(s: &Scenario, m: &Metrics) -> String {
    let header = [
        "rail",
        "payments",
        "value $m",
        "bps mean",
        "bps med",
        "bps p95",
        "lat h med",
        "lat h p95",
        "<=1h",
        "<=1bd",
        "USD bought $m",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for (rail, a) in &m.pooled() {
        let bps = quantiles(&a.cost_bps, &[0.5, 0.95]);
        let lat = quantiles(&a.latency_h, &[0.5, 0.95]);
        rows.push(vec![
            s.rails[*rail as usize].name.clone(),
            a.payments.to_string(),
            num(usd_m(a.value_usd), 1),
            num(mean(&a.cost_bps), 1),
            num(bps[0], 1),
            num(bps[1], 1),
            num(lat[0], 2),
            num(lat[1], 2),
            pct(a.share(a.within_1h)),
            pct(a.share(a.within_1bd)),
            num(usd_m(a.usd_bought), 1),
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
