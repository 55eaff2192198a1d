//! Sweeps: one scenario at every point of a grid of settings (`--vary KEY=A:B:STEP` or
//! `--vary KEY=V1,V2,…`; several make a full grid, `--zip` pairs them instead), each point a
//! variant on the same random streams, and `sweep.csv` with each point's metrics and their
//! intervals.

use rust_decimal::Decimal;

use crate::output::assemble::{Series, interval, num6};
use crate::output::manifest::Info;
use crate::{Error, Result};

/// The most grid points a sweep may have (each is a full set of replications).
pub const MAX_POINTS: usize = 1000;

/// One `--vary`: a key and its values (as `--set` would take them).
#[derive(Debug, Clone, PartialEq)]
pub struct Vary {
    pub key: String,
    pub values: Vec<String>,
}

/// Parses `KEY=A:B:STEP` (A, A + STEP, … up to B, exact decimals; STEP may be negative) or
/// `KEY=V1,V2,…`.
pub fn parse_vary(arg: &str) -> Result<Vary> {
    let usage = |m: &str| {
        Error::Usage(format!(
            "--vary {arg}: {m} (expected KEY=A:B:STEP or KEY=V1,V2,…, e.g. fx.cross_multiplier=0.5:2.5:0.5)"
        ))
    };
    let (key, spec) = arg.split_once('=').ok_or_else(|| usage("no `=`"))?;
    let key = key.trim().to_string();
    if key.is_empty() {
        return Err(usage("no key"));
    }
    let spec = spec.trim();
    let values = if spec.contains(':') && !spec.contains(',') {
        let parts: Vec<&str> = spec.split(':').collect();
        let [a, b, step] = parts.as_slice() else {
            return Err(usage("a range has three parts, A:B:STEP"));
        };
        let num = |x: &str, what: &str| -> Result<Decimal> {
            x.trim()
                .parse::<Decimal>()
                .map_err(|_| usage(&format!("{what} {x:?} is not a number")))
        };
        let (a, b, step) = (num(a, "A")?, num(b, "B")?, num(step, "STEP")?);
        if step.is_zero() || (b - a).is_sign_negative() != step.is_sign_negative() && b != a {
            return Err(usage("STEP must be non-zero and lead from A to B"));
        }
        let mut v = Vec::new();
        let mut x = a;
        while (step.is_sign_positive() && x <= b) || (step.is_sign_negative() && x >= b) {
            v.push(x.normalize().to_string());
            if v.len() > MAX_POINTS {
                return Err(usage(&format!("more than {MAX_POINTS} values")));
            }
            x = x
                .checked_add(step)
                .ok_or_else(|| usage("the range overflows"))?;
        }
        v
    } else {
        spec.split(',').map(|v| v.trim().to_string()).collect()
    };
    if values.iter().any(String::is_empty) {
        return Err(usage("an empty value"));
    }
    Ok(Vary { key, values })
}

/// The grid points: every combination (the first key varies slowest), or with `zip` the
/// values side by side (all lists as long).
pub fn grid(vary: &[Vary], zip: bool) -> Result<Vec<Vec<String>>> {
    if vary.is_empty() {
        return Err(Error::Usage("sweep: give at least one --vary KEY=…".into()));
    }
    let points = if zip {
        let n = vary[0].values.len();
        if let Some(v) = vary.iter().find(|v| v.values.len() != n) {
            return Err(Error::Usage(format!(
                "--zip: --vary {} has {} values but --vary {} has {n}; zipped lists must be as long",
                v.key,
                v.values.len(),
                vary[0].key
            )));
        }
        (0..n)
            .map(|i| vary.iter().map(|v| v.values[i].clone()).collect())
            .collect()
    } else {
        let mut points: Vec<Vec<String>> = vec![Vec::new()];
        for v in vary {
            if points.len().saturating_mul(v.values.len()) > MAX_POINTS {
                return Err(Error::Usage(format!(
                    "sweep: the grid has more than {MAX_POINTS} points"
                )));
            }
            points = points
                .into_iter()
                .flat_map(|p| {
                    v.values.iter().map(move |x| {
                        let mut q = p.clone();
                        q.push(x.clone());
                        q
                    })
                })
                .collect();
        }
        points
    };
    Ok(points)
}

/// The metrics of each grid point that sweep.csv and the terminal show.
const SWEPT: &[&str] = &[
    "cost_bps",
    "fees_bps",
    "spread_bps",
    "drift_bps",
    "liquidity_bps",
    "float_bps",
    "cost_bps_median",
    "latency_h_median",
    "within_1h_share",
    "same_day_share",
    "usd_bought_usd",
    "peak_prefunding_usd",
];

/// sweep.csv's header: the point, its variant, one column per varied key, then the metric.
pub fn header(info: &Info) -> Vec<&str> {
    let mut h = vec!["point", "variant"];
    h.extend(info.vary.iter().map(String::as_str));
    h.extend([
        "corridor",
        "rail",
        "metric",
        "replications",
        "mean",
        "ci95_low",
        "ci95_high",
        "ci95_half_width",
    ]);
    h
}

/// sweep.csv rows: per point, each metric over all rails (`*`) and per rail.
pub fn rows(info: &Info, series: &[Series]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, (v, ser)) in info.variant.iter().zip(series).enumerate() {
        let mut rails: Vec<&str> = ser
            .keys()
            .filter(|(c, _, _)| c == "*")
            .map(|(_, r, _)| r.as_str())
            .collect();
        rails.dedup();
        // `*` sorts first: all rails, then each.
        for rail in rails {
            for metric in SWEPT {
                let key = ("*".to_string(), rail.to_string(), metric.to_string());
                let Some(xs) = ser.get(&key) else { continue };
                let it = interval(xs);
                let mut row = vec![i.to_string(), v.variant.clone()];
                row.extend(v.point.iter().cloned());
                row.extend([
                    "*".to_string(),
                    rail.to_string(),
                    metric.to_string(),
                    it.n.to_string(),
                    num6(it.mean),
                    num6(it.mean - it.half_width),
                    num6(it.mean + it.half_width),
                    num6(it.half_width),
                ]);
                out.push(row);
            }
        }
    }
    out
}

/// The terminal table: one line per point, all rails together.
pub fn table(info: &Info, series: &[Series]) -> String {
    let mut head: Vec<String> = vec!["point".into()];
    head.extend(info.vary.iter().cloned());
    head.extend(
        [
            "bps",
            "±95%",
            "lat h med",
            "<=1h",
            "same day",
            "USD bought $m",
            "peak prefund $m",
        ]
        .map(String::from),
    );
    let mut rows = vec![head];
    let f = |x: f64, d: usize| {
        if x.is_finite() {
            format!("{x:.d$}")
        } else {
            "-".into()
        }
    };
    for (i, (v, ser)) in info.variant.iter().zip(series).enumerate() {
        let m = |metric: &str| {
            ser.get(&("*".to_string(), "*".to_string(), metric.to_string()))
                .map_or_else(|| interval(&[]), |x| interval(x))
        };
        let cost = m("cost_bps");
        let mut row = vec![i.to_string()];
        row.extend(v.point.iter().cloned());
        row.extend([
            f(cost.mean, 1),
            f(cost.half_width, 1),
            f(m("latency_h_median").mean, 2),
            f(m("within_1h_share").mean * 100.0, 1) + "%",
            f(m("same_day_share").mean * 100.0, 1) + "%",
            f(m("usd_bought_usd").mean / 1e6, 1),
            f(m("peak_prefunding_usd").mean / 1e6, 1),
        ]);
        rows.push(row);
    }
    crate::output::layout(&rows, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_lists_grids_and_zips() {
        let v = parse_vary("fx.cross_multiplier=0.5:2.5:0.5").unwrap();
        assert_eq!(v.key, "fx.cross_multiplier");
        assert_eq!(v.values, ["0.5", "1", "1.5", "2", "2.5"]);
        // Exact decimals: ten steps of 0.1 land on 1, not 0.9999999.
        let v = parse_vary("k=0:1:0.1").unwrap();
        assert_eq!(v.values.len(), 11);
        assert_eq!(v.values.last().unwrap(), "1");
        let down = parse_vary("k=1:0:-0.25").unwrap();
        assert_eq!(down.values, ["1", "0.75", "0.5", "0.25", "0"]);
        let list = parse_vary("rail.x.kind=bilateral,correspondent").unwrap();
        assert_eq!(list.values, ["bilateral", "correspondent"]);
        assert!(parse_vary("k=1:0:0.5").is_err());
        assert!(parse_vary("k=0:1:0").is_err());
        assert!(parse_vary("k").is_err());
        let g = grid(
            &[parse_vary("a=1,2").unwrap(), parse_vary("b=x,y,z").unwrap()],
            false,
        )
        .unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], ["1", "x"]);
        assert_eq!(g[5], ["2", "z"]);
        let z = grid(
            &[parse_vary("a=1,2").unwrap(), parse_vary("b=x,y").unwrap()],
            true,
        )
        .unwrap();
        assert_eq!(z, vec![vec!["1", "x"], vec!["2", "y"]]);
        assert!(
            grid(
                &[parse_vary("a=1,2").unwrap(), parse_vary("b=x").unwrap()],
                true
            )
            .is_err()
        );
    }
}
