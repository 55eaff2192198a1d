//! Paired comparisons: every variant runs on the base's random streams (same seed, same
//! replications; streams keyed by names), so replication r of a variant and replication r of
//! the base see the same invoices and rates. For each metric the difference variant − base is
//! taken replication by replication and its mean gets a t interval (paired t on replication
//! values; for the quantile metrics — median, p95 — the values are each replication's own
//! quantile, so the interval is for the mean difference of replication quantiles).

use crate::output::assemble::{Interval, Series, interval, num6};

/// The metrics a comparison reports, in order: cost and its parts, the per-payment
/// distribution, speed, dollar use and liquidity.
pub const COMPARED: &[&str] = &[
    "cost_bps",
    "fees_bps",
    "spread_bps",
    "drift_bps",
    "liquidity_bps",
    "float_bps",
    "cost_bps_median",
    "cost_bps_p95",
    "latency_h_median",
    "latency_h_p95",
    "within_1h_share",
    "same_day_share",
    "within_1bd_share",
    "usd_bought_usd",
    "peak_prefunding_usd",
    "principal_at_risk_usd_h",
];

/// The headline metric `--until` watches.
pub const HEADLINE: &str = "cost_bps";

/// The paired difference of one metric.
#[derive(Debug, Clone, Copy)]
pub struct Difference {
    pub base: Interval,
    pub variant: Interval,
    pub diff: Interval,
}

impl Difference {
    /// The 95 % interval of the difference excludes zero.
    pub fn significant(&self) -> bool {
        self.diff.half_width.is_finite()
            && (self.diff.mean - self.diff.half_width > 0.0
                || self.diff.mean + self.diff.half_width < 0.0)
    }
}

/// Paired difference of (corridor, rail, metric) between `variant` and `base`: replications
/// where either has no value are left out of the pairs.
pub fn difference(base: &Series, variant: &Series, corridor: &str, metric: &str) -> Difference {
    let key = (corridor.to_string(), "*".to_string(), metric.to_string());
    let empty = Vec::new();
    let b = base.get(&key).unwrap_or(&empty);
    let v = variant.get(&key).unwrap_or(&empty);
    let pairs: Vec<f64> = b
        .iter()
        .zip(v)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| y - x)
        .collect();
    Difference {
        base: interval(b),
        variant: interval(v),
        diff: interval(&pairs),
    }
}

/// The corridors either series knows, `*` (all) first.
pub fn corridors(base: &Series, variant: &Series) -> Vec<String> {
    let mut c: Vec<String> = base
        .keys()
        .chain(variant.keys())
        .filter(|(_, r, _)| r == "*")
        .map(|(c, _, _)| c.clone())
        .collect();
    c.sort_by(|a, b| (a != "*", a).cmp(&(b != "*", b)));
    c.dedup();
    c
}

/// compare.csv's header.
pub const HEADER: &[&str] = &[
    "base",
    "variant",
    "corridor",
    "metric",
    "replications",
    "base_mean",
    "variant_mean",
    "difference",
    "ci95_low",
    "ci95_high",
    "ci95_half_width",
    "significant",
];

/// compare.csv rows: every metric, over all corridors (`*`) and per corridor, all rails
/// together.
pub fn rows(base_name: &str, base: &Series, name: &str, variant: &Series) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for corridor in corridors(base, variant) {
        for metric in COMPARED {
            let d = difference(base, variant, &corridor, metric);
            if d.base.n == 0 && d.variant.n == 0 {
                continue;
            }
            out.push(vec![
                base_name.to_string(),
                name.to_string(),
                corridor.clone(),
                metric.to_string(),
                d.diff.n.to_string(),
                num6(d.base.mean),
                num6(d.variant.mean),
                num6(d.diff.mean),
                num6(d.diff.mean - d.diff.half_width),
                num6(d.diff.mean + d.diff.half_width),
                num6(d.diff.half_width),
                if d.diff.half_width.is_finite() {
                    d.significant().to_string()
                } else {
                    String::new()
                },
            ]);
        }
    }
    out
}

/// The terminal table of a comparison: per variant, the overall difference of each metric with
/// its interval; `*` marks a difference whose 95 % interval excludes zero.
pub fn table(base_name: &str, base: &Series, variants: &[(&str, &Series)]) -> String {
    let labels: &[(&str, &str, f64, usize)] = &[
        ("cost_bps", "cost bps", 1.0, 2),
        ("fees_bps", "fees", 1.0, 2),
        ("spread_bps", "spread", 1.0, 2),
        ("drift_bps", "drift", 1.0, 2),
        ("liquidity_bps", "liquidity", 1.0, 2),
        ("float_bps", "float", 1.0, 2),
        ("cost_bps_median", "bps median", 1.0, 2),
        ("cost_bps_p95", "bps p95", 1.0, 2),
        ("latency_h_median", "latency h median", 1.0, 3),
        ("latency_h_p95", "latency h p95", 1.0, 3),
        ("within_1h_share", "<=1h (pp)", 100.0, 2),
        ("same_day_share", "same day (pp)", 100.0, 2),
        ("within_1bd_share", "<=1bd (pp)", 100.0, 2),
        ("usd_bought_usd", "USD bought $m", 1e-6, 1),
        ("peak_prefunding_usd", "peak prefund $m", 1e-6, 1),
        ("principal_at_risk_usd_h", "at risk $bn·h", 1e-9, 2),
    ];
    let mut rows: Vec<Vec<String>> = vec![vec![
        "metric".into(),
        "variant".into(),
        "base".into(),
        "variant mean".into(),
        "difference".into(),
        "±95%".into(),
        "".into(),
    ]];
    let f = |x: f64, d: usize| {
        if x.is_finite() {
            format!("{x:.d$}")
        } else {
            "-".into()
        }
    };
    for (metric, label, scale, d) in labels {
        for (name, v) in variants {
            let x = difference(base, v, "*", metric);
            rows.push(vec![
                label.to_string(),
                name.to_string(),
                f(x.base.mean * scale, *d),
                f(x.variant.mean * scale, *d),
                f(x.diff.mean * scale, *d),
                f(x.diff.half_width * scale, *d),
                if x.significant() { "*" } else { "" }.into(),
            ]);
        }
    }
    let mut out = format!(
        "paired differences against {base_name}, over {} replications (* : the 95% interval excludes 0)\n",
        base.get(&("*".into(), "*".into(), HEADLINE.into()))
            .map_or(0, Vec::len)
    );
    out.push_str(&crate::output::layout(&rows, 2));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_differences_by_hand() {
        // Base 40, 44, 42; variant 41, 46, 42.5: differences 1, 2, 0.5, mean 7/6, deviations
        // −1/6, 5/6, −2/3: sum of squares 1/36 + 25/36 + 16/36 = 42/36, variance 7/12,
        // sd 0.763763; half-width 4.302653 · 0.763763 / √3 = 3.286207 / 1.732051 = 1.897292.
        let key = ("*".to_string(), "*".to_string(), "cost_bps".to_string());
        let base: Series = [(key.clone(), vec![40.0, 44.0, 42.0])].into();
        let var: Series = [(key, vec![41.0, 46.0, 42.5])].into();
        let d = difference(&base, &var, "*", "cost_bps");
        assert_eq!(d.diff.n, 3);
        assert!((d.diff.mean - 7.0 / 6.0).abs() < 1e-12);
        assert!((d.diff.sd - 0.763_763).abs() < 1e-6);
        assert!(
            (d.diff.half_width - 1.897_292).abs() < 1e-5,
            "{}",
            d.diff.half_width
        );
        // 1.1667 − 1.8973 < 0: not significant, although every pair went up.
        assert!(!d.significant());
        // The unpaired intervals are much wider than the paired one: that is the point.
        assert!(d.base.half_width > 2.0 * d.diff.half_width);
    }
}
