//! Joining work units into an output folder. A unit (one replication of one variant) leaves a
//! part of each file without a header, and a `metrics` part: its row counts, checks and the
//! metrics the summaries are made of, as text. Whether the parts come from this process's
//! threads or from shard folders written on other machines, the folder is made from the same
//! bytes in the same (unit) order, so it is the same, byte for byte.

use std::collections::BTreeMap;
use std::io::Write;

use rust_decimal::Decimal;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::metrics::{Agg, Metrics};
use crate::rails::LiquidityStats;
use crate::scenario::Scenario;
use crate::sim::RunReport;
use crate::{Error, Result};

/// The name of a unit's metrics part.
pub const METRICS_PART: &str = "metrics";

/// Where each unit's parts are: a folder of this process, or ranges of shard files.
pub trait PartSource {
    /// Appends unit `unit`'s part of `file` to `out`.
    fn copy(&self, unit: usize, file: &str, out: &mut dyn Write) -> Result<()>;
    /// Unit `unit`'s part of `file`, as text.
    fn text(&self, unit: usize, file: &str) -> Result<String>;
}

/// Formats an f64 so it reads back as the same number (Rust's shortest round-trip form).
fn exact(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        String::new()
    }
}

/// The metrics of one group of payments (one replication), in the order they are listed.
/// `peak_usd`: the group's peak prefunding, where it is known (a rail, or all rails).
pub fn group_metrics(a: &Agg, peak_usd: Option<f64>) -> Vec<(&'static str, f64)> {
    let mut m = vec![
        ("cost_bps", a.cost_bps_weighted()),
        ("fees_bps", a.part_bps(a.fees_usd)),
        ("spread_bps", a.part_bps(a.spread_usd)),
        ("drift_bps", a.part_bps(a.drift_usd)),
        ("liquidity_bps", a.part_bps(a.liquidity_usd)),
        ("float_bps", a.part_bps(a.float_usd)),
        ("cost_bps_mean", a.cost_bps_mean()),
        ("cost_bps_median", a.cost_bps.quantile(0.5)),
        ("cost_bps_p95", a.cost_bps.quantile(0.95)),
        ("latency_h_median", a.latency_h.quantile(0.5)),
        ("latency_h_p95", a.latency_h.quantile(0.95)),
        ("within_1h_share", a.share(a.within_1h)),
        ("same_day_share", a.share(a.same_day)),
        ("within_1bd_share", a.share(a.within_1bd)),
        ("usd_bought_usd", a.usd_bought.to_f64()),
        (
            "principal_at_risk_usd_h",
            a.principal_at_risk_usd_h.to_f64(),
        ),
        ("payments", a.payments as f64),
        ("settled_value_usd", a.settled_value_usd.to_f64()),
    ];
    if let Some(p) = peak_usd {
        m.push(("peak_prefunding_usd", p));
    }
    m
}

/// The metrics part of one unit: its checks, row counts, and every group's metrics — all
/// payments (`*`,`*`), each rail (`*`,rail), each corridor over all rails (corridor,`*`) and
/// each corridor × rail.
pub fn unit_metrics(
    s: &Scenario,
    metrics: &Metrics,
    report: &RunReport,
    rows: &[(&'static str, u64)],
) -> String {
    let mut out = String::new();
    let mut line = |parts: &[&str]| {
        out.push_str(&parts.join(","));
        out.push('\n');
    };
    line(&["stat", "payments", &report.payments.to_string()]);
    line(&["stat", "events", &report.events.to_string()]);
    line(&["stat", "postings", &report.postings.to_string()]);
    line(&[
        "stat",
        "max_residual_usd",
        &report.max_residual_usd.to_string(),
    ]);
    line(&[
        "stat",
        "max_printed_residual_cents",
        &report.max_printed_residual_cents.to_string(),
    ]);
    for (file, n) in rows {
        line(&["rows", file, &n.to_string()]);
    }
    let liquidity: &[LiquidityStats] = &report.liquidity;
    let mut all = Agg::default();
    let mut by_corridor: BTreeMap<u16, Agg> = BTreeMap::new();
    for ((_, corridor, _), a) in metrics.groups() {
        all.merge(a);
        by_corridor.entry(*corridor).or_default().merge(a);
    }
    let peak_all: f64 = liquidity.iter().map(|l| l.peak_usd).sum();
    let mut group = |corridor: &str, rail: &str, a: &Agg, peak: Option<f64>| {
        for (name, x) in group_metrics(a, peak) {
            line(&["m", corridor, rail, name, &exact(x)]);
        }
    };
    group("*", "*", &all, Some(peak_all));
    for ((_, rail), a) in &metrics.by_rail() {
        let peak = liquidity.get(*rail as usize).map_or(0.0, |l| l.peak_usd);
        group("*", &s.rails[*rail as usize].name, a, Some(peak));
    }
    for (corridor, a) in &by_corridor {
        group(&s.trade.corridors[*corridor as usize].code, "*", a, None);
    }
    for ((_, corridor, rail), a) in metrics.groups() {
        group(
            &s.trade.corridors[*corridor as usize].code,
            &s.rails[*rail as usize].name,
            a,
            None,
        );
    }
    out
}

/// What the metrics parts of a set of units say, read back from their text.
#[derive(Debug, Clone, Default)]
pub struct UnitFacts {
    pub payments: u64,
    pub events: u64,
    pub postings: u64,
    pub max_residual_usd: Decimal,
    pub max_printed_residual_cents: u64,
    /// Rows per file stem, in the order first seen.
    pub rows: Vec<(String, u64)>,
    /// (corridor, rail, metric) → value, in the order written.
    pub metrics: Vec<((String, String, String), f64)>,
}

/// Reads one unit's metrics part.
pub fn parse_unit(text: &str) -> Result<UnitFacts> {
    let bad = |l: &str| Error::Invariant(format!("a unit's metrics part has a bad line: {l:?}"));
    let mut f = UnitFacts::default();
    for l in text.lines() {
        let parts: Vec<&str> = l.split(',').collect();
        match parts.as_slice() {
            ["stat", key, v] => {
                let n = || v.parse::<u64>().map_err(|_| bad(l));
                match *key {
                    "payments" => f.payments = n()?,
                    "events" => f.events = n()?,
                    "postings" => f.postings = n()?,
                    "max_printed_residual_cents" => f.max_printed_residual_cents = n()?,
                    "max_residual_usd" => {
                        f.max_residual_usd = v.parse().map_err(|_| bad(l))?;
                    }
                    _ => return Err(bad(l)),
                }
            }
            ["rows", file, n] => f
                .rows
                .push((file.to_string(), n.parse().map_err(|_| bad(l))?)),
            ["m", corridor, rail, metric, v] => {
                let x = if v.is_empty() {
                    f64::NAN
                } else {
                    v.parse::<f64>().map_err(|_| bad(l))?
                };
                f.metrics.push((
                    (corridor.to_string(), rail.to_string(), metric.to_string()),
                    x,
                ));
            }
            _ => return Err(bad(l)),
        }
    }
    Ok(f)
}

/// Mean, standard deviation and 95 % interval of one metric over replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Replications with a value (a group with no settled payment has none).
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    /// Half-width of the 95 % confidence interval of the mean: t(0.975, n − 1) · sd / √n; NaN
    /// with fewer than two values.
    pub half_width: f64,
}

/// Student's t quantile t(0.975, df).
pub fn t975(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64).map_or(f64::NAN, |t| t.inverse_cdf(0.975))
}

/// The interval of the finite values among `xs` (in replication order).
pub fn interval(xs: &[f64]) -> Interval {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return Interval {
            n,
            mean: f64::NAN,
            sd: f64::NAN,
            half_width: f64::NAN,
        };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Interval {
            n,
            mean,
            sd: f64::NAN,
            half_width: f64::NAN,
        };
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    Interval {
        n,
        mean,
        sd,
        half_width: t975(n - 1) * sd / (n as f64).sqrt(),
    }
}

/// One variant's metrics over its replications: (corridor, rail, metric) → the values in
/// replication order.
pub type Series = BTreeMap<(String, String, String), Vec<f64>>;

/// Collects the series of one variant from its units' facts (replication order).
pub fn series<'a>(units: impl Iterator<Item = &'a UnitFacts>) -> Series {
    let mut out = Series::new();
    for (r, f) in units.enumerate() {
        for (key, x) in &f.metrics {
            let v = out.entry(key.clone()).or_default();
            // A group absent from a replication (no payment there) has no value in it.
            v.resize(r, f64::NAN);
            v.push(*x);
        }
    }
    out
}

/// Formats a number for summary.csv (six decimals; empty when not finite).
pub fn num6(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}")
    } else {
        String::new()
    }
}

/// summary.csv's header.
pub const SUMMARY_HEADER: &[&str] = &[
    "variant",
    "corridor",
    "rail",
    "metric",
    "replications",
    "mean",
    "sd",
    "ci95_low",
    "ci95_high",
    "ci95_half_width",
];

/// summary.csv rows of one variant.
pub fn summary_rows(variant: &str, series: &Series) -> Vec<Vec<String>> {
    series
        .iter()
        .map(|((corridor, rail, metric), xs)| {
            let i = interval(xs);
            vec![
                variant.to_string(),
                corridor.clone(),
                rail.clone(),
                metric.clone(),
                i.n.to_string(),
                num6(i.mean),
                num6(i.sd),
                num6(i.mean - i.half_width),
                num6(i.mean + i.half_width),
                num6(i.half_width),
            ]
        })
        .collect()
}

/// The G20 targets for cross-border payments (docs/calibration.md §4): average cost at most
/// 1 % (retail) and 3 % (remittances), 75 % credited within one hour.
pub const G20_RETAIL_COST_PCT: f64 = 1.0;
pub const G20_REMITTANCE_COST_PCT: f64 = 3.0;
pub const G20_WITHIN_1H_SHARE: f64 = 0.75;

/// g20.csv's header.
pub const G20_HEADER: &[&str] = &[
    "variant",
    "corridor",
    "rail",
    "replications",
    "cost_pct",
    "cost_pct_ci95_half_width",
    "meets_retail_1pct",
    "meets_remittance_3pct",
    "within_1h_share",
    "meets_speed_75pct_1h",
    "within_1bd_share",
];

/// g20.csv rows of one variant: per corridor × rail (and every rail over all corridors,
/// corridor `*`), the average cost of a payment in % (the mean over replications of the mean
/// payment's cost) against 1 % and 3 %, and the share credited within 1 hour against 75 %.
pub fn g20_rows(variant: &str, series: &Series) -> Vec<Vec<String>> {
    let mut keys: Vec<(String, String)> = series
        .keys()
        .filter(|(_, r, m)| m == "cost_bps_mean" && r != "*")
        .map(|(c, r, _)| (c.clone(), r.clone()))
        .collect();
    // Rails over all corridors first, then each corridor.
    keys.sort_by(|a, b| (a.0 != "*", &a.0, &a.1).cmp(&(b.0 != "*", &b.0, &b.1)));
    let get = |c: &str, r: &str, m: &str| {
        series
            .get(&(c.to_string(), r.to_string(), m.to_string()))
            .map_or_else(|| interval(&[]), |v| interval(v))
    };
    let yes = |ok: bool, x: f64| {
        if x.is_finite() {
            if ok { "true" } else { "false" }.to_string()
        } else {
            String::new()
        }
    };
    keys.iter()
        .map(|(c, r)| {
            let cost = get(c, r, "cost_bps_mean");
            let pct = cost.mean / 100.0;
            let h1 = get(c, r, "within_1h_share");
            let bd = get(c, r, "within_1bd_share");
            vec![
                variant.to_string(),
                c.clone(),
                r.clone(),
                cost.n.to_string(),
                num6(pct),
                num6(cost.half_width / 100.0),
                yes(pct <= G20_RETAIL_COST_PCT, pct),
                yes(pct <= G20_REMITTANCE_COST_PCT, pct),
                num6(h1.mean),
                yes(h1.mean >= G20_WITHIN_1H_SHARE, h1.mean),
                num6(bd.mean),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_matches_a_hand_computation() {
        // 40.3, 44.1, 41.9: mean 42.1, deviations −1.8, 2.0, −0.2, sum of squares 7.28,
        // variance 3.64, sd 1.907878; t(0.975, 2) = 4.302653; half-width 4.302653 · 1.907878
        // / √3 = 8.208937 / 1.732051 = 4.739433.
        let i = interval(&[40.3, 44.1, 41.9]);
        assert_eq!(i.n, 3);
        assert!((i.mean - 42.1).abs() < 1e-12);
        assert!((i.sd - 1.907_878).abs() < 1e-6);
        assert!((t975(2) - 4.302_653).abs() < 1e-6);
        assert!((i.half_width - 4.739_433).abs() < 1e-5, "{}", i.half_width);
        // NaN values are left out; one value has no spread.
        let j = interval(&[f64::NAN, 5.0]);
        assert_eq!((j.n, j.mean), (1, 5.0));
        assert!(j.sd.is_nan() && j.half_width.is_nan());
    }

    #[test]
    fn metrics_text_reads_back_exactly() {
        let text = "stat,payments,12\nstat,events,40\nstat,postings,99\nstat,max_residual_usd,0.000001\nstat,max_printed_residual_cents,1\nrows,payments,12\nm,*,*,cost_bps,44.70000000000001\nm,TR->AZ,swift,latency_h_p95,\n";
        let f = parse_unit(text).unwrap();
        assert_eq!((f.payments, f.events, f.postings), (12, 40, 99));
        assert_eq!(f.max_residual_usd, Decimal::new(1, 6));
        assert_eq!(f.metrics[0].1, 44.700_000_000_000_01);
        assert!(f.metrics[1].1.is_nan());
        assert!(parse_unit("m,1,2\n").is_err());
        assert_eq!(exact(0.1 + 0.2).parse::<f64>().unwrap(), 0.1 + 0.2);
    }
}
