//! The terminal summary: one line per variant and rail, the means over replications led by the
//! value-weighted cost with its 95 % interval, and the G20 scorecard.

use super::assemble::{Series, g20_rows, interval};

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

/// The summary table, as printed after a run: per variant and rail (and all rails together,
/// when there are several), the mean over replications of the value-weighted cost (cost of
/// every payment per dollar delivered) with its 95 % interval half-width, its parts in bps,
/// the per-payment median and p95, latency, the shares credited within 1 hour, on the
/// importer's same day and within 1 business day, the USD bought and the peak prefunding.
pub fn summary_table(variants: &[&str], series: &[Series]) -> String {
    let header = [
        "variant",
        "rail",
        "payments",
        "bps",
        "±95%",
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
    for (variant, ser) in variants.iter().zip(series) {
        let mut rails: Vec<&str> = ser
            .keys()
            .filter(|(c, r, _)| c == "*" && r != "*")
            .map(|(_, r, _)| r.as_str())
            .collect();
        rails.dedup();
        if rails.len() > 1 {
            rails.push("*");
        }
        for rail in rails {
            let m = |metric: &str| {
                ser.get(&("*".to_string(), rail.to_string(), metric.to_string()))
                    .map_or_else(|| interval(&[]), |v| interval(v))
            };
            let cost = m("cost_bps");
            rows.push(vec![
                variant.to_string(),
                if rail == "*" { "all rails" } else { rail }.to_string(),
                num(m("payments").mean, 0),
                num(cost.mean, 1),
                num(cost.half_width, 1),
                num(m("fees_bps").mean, 1),
                num(m("spread_bps").mean, 1),
                num(m("drift_bps").mean, 1),
                num(m("liquidity_bps").mean, 1),
                num(m("float_bps").mean, 1),
                num(m("cost_bps_median").mean, 1),
                num(m("cost_bps_p95").mean, 1),
                num(m("latency_h_median").mean, 2),
                num(m("latency_h_p95").mean, 2),
                pct(m("within_1h_share").mean),
                pct(m("same_day_share").mean),
                pct(m("within_1bd_share").mean),
                num(m("usd_bought_usd").mean / 1e6, 1),
                num(m("peak_prefunding_usd").mean / 1e6, 1),
            ]);
        }
    }
    table(&rows)
}

/// The G20 scorecard after a run: per variant and rail, the average cost of a payment against
/// the 1 % and 3 % targets and the share credited within 1 hour against 75 %, and how many of
/// the corridors meet each (g20.csv has every corridor).
pub fn g20_table(variants: &[&str], series: &[Series]) -> String {
    let header = [
        "variant",
        "rail",
        "cost %",
        "<=1%",
        "<=3%",
        "<=1h",
        ">=75%",
        "corridors <=1%",
        "corridors <=3%",
        "corridors >=75% <=1h",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    let yes = |b: bool| if b { "yes" } else { "no" }.to_string();
    for (variant, ser) in variants.iter().zip(series) {
        let g = g20_rows(variant, ser);
        for row in g.iter().filter(|r| r[1] == "*") {
            let rail = &row[2];
            let corridors: Vec<&Vec<String>> =
                g.iter().filter(|r| r[1] != "*" && &r[2] == rail).collect();
            let count = |col: usize| {
                format!(
                    "{}/{}",
                    corridors.iter().filter(|r| r[col] == "true").count(),
                    corridors.len()
                )
            };
            let cost: f64 = row[4].parse().unwrap_or(f64::NAN);
            let h1: f64 = row[8].parse().unwrap_or(f64::NAN);
            rows.push(vec![
                variant.to_string(),
                rail.clone(),
                num(cost, 2),
                yes(row[6] == "true"),
                yes(row[7] == "true"),
                pct(h1),
                yes(row[9] == "true"),
                count(6),
                count(7),
                count(9),
            ]);
        }
    }
    table(&rows)
}

/// Lays out rows as a table: the first two columns left-aligned, the rest right-aligned.
fn table(rows: &[Vec<String>]) -> String {
    layout(rows, 2)
}

/// Lays out rows as a terminal table under a rule: the first `left` columns left-aligned, the
/// rest right-aligned. The first row is the header.
pub fn layout(rows: &[Vec<String>], left: usize) -> String {
    let header = &rows[0];
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i < left {
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

/// A what-if's shock timeline, as `kervan run` prints it before the results: one line per
/// shock in order of its start — when, what, on what.
pub fn shock_timeline(s: &crate::scenario::Scenario) -> String {
    if s.shocks.is_empty() {
        return String::new();
    }
    let when = |t: crate::engine::Time| crate::engine::iso_time(s.epoch, t);
    let mut shocks: Vec<&crate::shock::Shock> = s.shocks.iter().collect();
    shocks.sort_by_key(|x| x.from);
    let mut out = format!("{}: shocks\n", s.variant);
    for x in shocks {
        let span = if x.to == crate::engine::Time::MAX {
            format!("from {}", when(x.from))
        } else {
            format!("{} to {}", when(x.from), when(x.to))
        };
        out.push_str(&format!(
            "  {span}  {} ({}) on {}\n",
            x.name,
            x.kind_name(),
            x.target
        ));
    }
    out
}
