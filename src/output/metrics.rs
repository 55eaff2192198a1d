//! Aggregates of finished payments: per corridor × rail and per rail, per replication, and per
//! rail over all replications (for the terminal summary).

use std::collections::BTreeMap;

use super::sketch::Sketch;
use crate::money::Cents;
use crate::record::PaymentRecord;
use crate::terms::Status;

/// Sums and distributions over a group of payments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Agg {
    pub payments: u64,
    pub settled: u64,
    pub returned: u64,
    pub failed: u64,
    pub unsettled: u64,
    pub fallback: u64,
    pub value_usd: Cents,
    pub settled_value_usd: Cents,
    pub fees_usd: Cents,
    pub spread_usd: Cents,
    pub drift_usd: Cents,
    pub liquidity_usd: Cents,
    pub float_usd: Cents,
    pub total_cost_usd: Cents,
    /// fees + spread + drift + liquidity + float.
    pub cost_usd: Cents,
    /// Value × hours in transit, in hundredths (printed like cents).
    pub principal_at_risk_usd_h: Cents,
    pub usd_bought: Cents,
    pub usd_sold: Cents,
    pub within_1h: u64,
    pub same_day: u64,
    pub within_1bd: u64,
    /// Per settled payment: the cost in bps (its sum, for the mean, and its distribution)
    /// and the latency in hours, as sketches (bounded memory; docs/performance.md).
    pub cost_bps_sum: f64,
    pub cost_bps: Sketch,
    pub latency_h: Sketch,
}

impl Agg {
    pub fn add(&mut self, r: &PaymentRecord) {
        self.payments += 1;
        match r.status {
            Status::Settled => self.settled += 1,
            Status::Returned => self.returned += 1,
            Status::Failed => self.failed += 1,
            Status::Unsettled | Status::Pending => self.unsettled += 1,
        }
        self.fallback += u64::from(r.fallback);
        let c = &r.cents;
        self.value_usd += c.value;
        self.fees_usd += c.fees;
        self.spread_usd += c.spread;
        self.drift_usd += c.drift;
        self.liquidity_usd += c.liquidity;
        self.float_usd += c.float;
        self.total_cost_usd += c.total;
        self.cost_usd += c.cost;
        self.principal_at_risk_usd_h += Cents::of(r.principal_at_risk_usd_h);
        self.usd_bought += c.usd_bought;
        self.usd_sold += c.usd_sold;
        self.within_1h += u64::from(r.within_1h);
        self.same_day += u64::from(r.same_day);
        self.within_1bd += u64::from(r.within_1bd);
        if r.status == Status::Settled {
            self.settled_value_usd += c.value;
            let bps = crate::money::to_f64(r.cost_bps);
            self.cost_bps_sum += bps;
            self.cost_bps.add(bps);
            if let Some(l) = r.latency_s {
                self.latency_h.add(l as f64 / 3_600.0);
            }
        }
    }

    /// Adds another group's payments to this one.
    pub fn merge(&mut self, o: &Agg) {
        self.payments += o.payments;
        self.settled += o.settled;
        self.returned += o.returned;
        self.failed += o.failed;
        self.unsettled += o.unsettled;
        self.fallback += o.fallback;
        self.value_usd += o.value_usd;
        self.settled_value_usd += o.settled_value_usd;
        self.fees_usd += o.fees_usd;
        self.spread_usd += o.spread_usd;
        self.drift_usd += o.drift_usd;
        self.liquidity_usd += o.liquidity_usd;
        self.float_usd += o.float_usd;
        self.total_cost_usd += o.total_cost_usd;
        self.cost_usd += o.cost_usd;
        self.principal_at_risk_usd_h += o.principal_at_risk_usd_h;
        self.usd_bought += o.usd_bought;
        self.usd_sold += o.usd_sold;
        self.within_1h += o.within_1h;
        self.same_day += o.same_day;
        self.within_1bd += o.within_1bd;
        self.cost_bps_sum += o.cost_bps_sum;
        self.cost_bps.merge(&o.cost_bps);
        self.latency_h.merge(&o.latency_h);
    }

    /// Value-weighted cost: the whole cost of every payment of the group (settled, returned,
    /// failed or still in transit) per dollar delivered, Σ cost / Σ settled value, from cents.
    /// A design that returns payments pays for them here; value that never arrived does not
    /// dilute the figure.
    pub fn cost_bps_weighted(&self) -> f64 {
        if self.settled_value_usd.0 == 0 {
            return f64::NAN;
        }
        self.cost_usd.0 as f64 / self.settled_value_usd.0 as f64 * 1e4
    }

    /// One part of the cost (fees, spread, …) per dollar delivered, bps.
    pub fn part_bps(&self, part: Cents) -> f64 {
        if self.settled_value_usd.0 == 0 {
            return f64::NAN;
        }
        part.0 as f64 / self.settled_value_usd.0 as f64 * 1e4
    }

    /// Mean cost of a settled payment, bps (NaN without one).
    pub fn cost_bps_mean(&self) -> f64 {
        if self.cost_bps.count() == 0 {
            f64::NAN
        } else {
            self.cost_bps_sum / self.cost_bps.count() as f64
        }
    }

    pub fn share(&self, count: u64) -> f64 {
        if self.payments == 0 {
            f64::NAN
        } else {
            count as f64 / self.payments as f64
        }
    }
}

/// Mean of a sample (NaN when empty).
pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        f64::NAN
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// Quantile `q` with linear interpolation between order statistics (numpy's and R's default,
/// type 7), so analysts can reproduce it. NaN when empty.
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    quantiles(xs, &[q])[0]
}

/// Several quantiles of one sample, sorting it once.
pub fn quantiles(xs: &[f64], qs: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = xs.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    qs.iter().map(|&q| sorted_quantile(&v, q)).collect()
}

/// Quantile `q` of an ascending sample.
pub fn sorted_quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let h = (v.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Group key: replication, corridor, rail.
pub type Key = (u32, u16, u16);

/// All aggregates of a run. Each payment is added to one corridor × rail group; the per-rail
/// and pooled views are merged from those when asked for.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// Each group's aggregate, in the order groups first had a payment.
    aggs: Vec<Agg>,
    /// Group key → its place in `aggs`, in key order (the order output lists groups in).
    index: BTreeMap<Key, usize>,
    /// The groups of the latest replication by corridor, then rail: a payment finds its group
    /// by two indexings instead of a search of the tree (once per payment, it showed in
    /// profiles). `usize::MAX`: not looked up yet.
    recent: Vec<Vec<usize>>,
    recent_replication: u32,
}

impl Metrics {
    pub fn add(&mut self, r: &PaymentRecord) {
        let i = self.group(r.replication, r.corridor, r.rail);
        self.aggs[i].add(r);
    }

    /// The place of group (replication, corridor, rail) in `aggs`, made if new.
    #[inline]
    fn group(&mut self, replication: u32, corridor: u16, rail: u16) -> usize {
        if replication != self.recent_replication {
            self.recent.clear();
            self.recent_replication = replication;
        }
        let (c, k) = (usize::from(corridor), usize::from(rail));
        if let Some(&i) = self.recent.get(c).and_then(|rails| rails.get(k))
            && i != usize::MAX
        {
            return i;
        }
        let i = *self
            .index
            .entry((replication, corridor, rail))
            .or_insert_with(|| {
                self.aggs.push(Agg::default());
                self.aggs.len() - 1
            });
        if self.recent.len() <= c {
            self.recent.resize(c + 1, Vec::new());
        }
        let rails = &mut self.recent[c];
        if rails.len() <= k {
            rails.resize(k + 1, usize::MAX);
        }
        rails[k] = i;
        i
    }

    /// Puts every group's pending sketch values in their buckets ([`Sketch::add`]), so that
    /// reading quantiles later works on the sketches themselves rather than settled copies.
    pub fn settle(&mut self) {
        for a in &mut self.aggs {
            a.cost_bps.settle();
            a.latency_h.settle();
        }
    }

    /// Every group with its aggregate, in key order (replication, corridor, rail).
    pub fn groups(&self) -> impl Iterator<Item = (&Key, &Agg)> {
        self.index.iter().map(|(key, &i)| (key, &self.aggs[i]))
    }

    /// Per replication × rail.
    pub fn by_rail(&self) -> BTreeMap<(u32, u16), Agg> {
        let mut out: BTreeMap<(u32, u16), Agg> = BTreeMap::new();
        for ((rep, _, rail), a) in self.groups() {
            out.entry((*rep, *rail)).or_default().merge(a);
        }
        out
    }

    /// Per rail over every replication.
    pub fn pooled(&self) -> BTreeMap<u16, Agg> {
        let mut out: BTreeMap<u16, Agg> = BTreeMap::new();
        for ((_, _, rail), a) in self.groups() {
            out.entry(*rail).or_default().merge(a);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&xs, 0.5), 2.5);
        assert!((quantile(&xs, 0.95) - 3.85).abs() < 1e-12);
        assert_eq!(quantile(&[7.0], 0.95), 7.0);
        assert!(quantile(&[], 0.5).is_nan());
        assert_eq!(mean(&xs), 2.5);
    }

    #[test]
    fn each_group_has_one_place_whatever_order_payments_come_in() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(59);
        let mut m = Metrics::default();
        let mut model: BTreeMap<Key, usize> = BTreeMap::new();
        for _ in 0..20_000 {
            // Replications mostly in runs (as a unit writes them), now and then back to one
            // seen before; corridors and rails sparse and out of order.
            let key = (
                rng.random_range(0..4u32),
                rng.random_range(0..40u16) * 3,
                rng.random_range(0..6u16) * 7,
            );
            let i = m.group(key.0, key.1, key.2);
            let want = *model.entry(key).or_insert(i);
            assert_eq!(i, want, "{key:?}");
            m.aggs[i].payments += 1;
        }
        // Distinct groups have distinct places, listed in key order with their counts.
        let places: std::collections::BTreeSet<usize> = model.values().copied().collect();
        assert_eq!(places.len(), model.len());
        let listed: Vec<(Key, u64)> = m.groups().map(|(k, a)| (*k, a.payments)).collect();
        assert_eq!(listed.len(), m.aggs.len());
        let keys: Vec<Key> = model.keys().copied().collect();
        assert_eq!(listed.iter().map(|(k, _)| *k).collect::<Vec<_>>(), keys);
        assert_eq!(listed.iter().map(|(_, n)| n).sum::<u64>(), 20_000);
    }
}
