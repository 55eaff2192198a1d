//! A mergeable quantile sketch (DDSketch, Masson, Rim & Lee, VLDB 2019) with integer bucket
//! counts: a replication's per-payment cost and latency distributions in bounded memory,
//! merged exactly (counts add, so any merge order gives the same sketch and the same bytes).
//!
//! Every value x ≠ 0 falls in bucket i = ⌈ln|x| / ln γ⌉ with γ = (1 + α)/(1 − α); the bucket's
//! estimate 2γ^i/(γ + 1) is within relative error α of every value in it. A quantile is the
//! estimate of the bucket that holds the value of rank q·(n − 1) (rounded down, the lower of
//! the two order statistics that numpy's default interpolates between), so it is within α of
//! that order statistic. Values whose magnitude is below [`MIN_MAGNITUDE`] count as zero.

/// Relative accuracy of every quantile: 0.1 %.
pub const ALPHA: f64 = 0.001;

/// Magnitudes below this are counted as zero (1e-9 bps or hours is far below any printed
/// digit).
pub const MIN_MAGNITUDE: f64 = 1e-9;

/// One side's buckets: counts for consecutive indexes starting at `offset`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Store {
    offset: i32,
    counts: Vec<u32>,
}

impl Store {
    fn add(&mut self, i: i32, n: u32) {
        if self.counts.is_empty() {
            self.offset = i;
            self.counts.push(0);
        }
        if i < self.offset {
            let grow = (self.offset - i) as usize;
            let mut v = vec![0; grow];
            v.extend_from_slice(&self.counts);
            self.counts = v;
            self.offset = i;
        }
        let k = (i - self.offset) as usize;
        if k >= self.counts.len() {
            self.counts.resize(k + 1, 0);
        }
        self.counts[k] = self.counts[k].saturating_add(n);
    }

    /// Adds `o`'s counts: the same store as adding its non-empty buckets one by one, with the
    /// range grown once instead of per bucket (a run merges thousands of buckets per group).
    fn merge(&mut self, o: &Store) {
        let (Some(first), Some(last)) = (
            o.counts.iter().position(|&n| n > 0),
            o.counts.iter().rposition(|&n| n > 0),
        ) else {
            return;
        };
        let (lo, hi) = (o.offset + first as i32, o.offset + last as i32);
        // Grow to cover [lo, hi] (`add` at both ends does exactly that), then add the counts.
        self.add(lo, 0);
        self.add(hi, 0);
        let start = (lo - self.offset) as usize;
        for (c, &n) in self.counts[start..].iter_mut().zip(&o.counts[first..=last]) {
            *c = c.saturating_add(n);
        }
    }

    /// (index, count) of non-empty buckets, ascending index.
    fn buckets(&self) -> impl DoubleEndedIterator<Item = (i32, u32)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (self.offset + k as i32, *n))
    }
}

/// The sketch of one sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sketch {
    positive: Store,
    negative: Store,
    zero: u64,
    count: u64,
}

fn gamma() -> f64 {
    (1.0 + ALPHA) / (1.0 - ALPHA)
}

/// ln γ, worked out once (the same libm call as before, so the same bits) rather than on
/// every value added.
static LN_GAMMA: std::sync::LazyLock<f64> = std::sync::LazyLock::new(|| gamma().ln());

fn index(magnitude: f64) -> i32 {
    crate::money::ceil_f64(magnitude.ln() / *LN_GAMMA) as i32
}

fn estimate(i: i32) -> f64 {
    let g = gamma();
    2.0 * g.powi(i) / (g + 1.0)
}

impl Sketch {
    /// Adds one value; NaN is ignored, infinities are clamped to the largest finite bucket.
    pub fn add(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        let m = x.abs().min(f64::MAX);
        self.count += 1;
        if m < MIN_MAGNITUDE {
            self.zero += 1;
        } else if x > 0.0 {
            self.positive.add(index(m), 1);
        } else {
            self.negative.add(index(m), 1);
        }
    }

    /// Adds another sketch's values (exact: counts add).
    pub fn merge(&mut self, o: &Sketch) {
        self.positive.merge(&o.positive);
        self.negative.merge(&o.negative);
        self.zero += o.zero;
        self.count += o.count;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Quantile `q` in [0, 1] (NaN when empty): within [`ALPHA`] of the order statistic of rank
    /// ⌊q·(n − 1)⌋.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return f64::NAN;
        }
        let rank = (q.clamp(0.0, 1.0) * (self.count - 1) as f64).floor() as u64;
        let mut seen = 0u64;
        // Ascending values: negatives from the largest magnitude down, zeros, positives up.
        for (i, n) in self.negative.buckets().rev() {
            seen += u64::from(n);
            if seen > rank {
                return -estimate(i);
            }
        }
        seen += self.zero;
        if seen > rank {
            return 0.0;
        }
        for (i, n) in self.positive.buckets() {
            seen += u64::from(n);
            if seen > rank {
                return estimate(i);
            }
        }
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::from_seed;
    use rand::RngExt;
    use rand_distr::StandardNormal;

    /// The exact order statistic of rank ⌊q(n − 1)⌋.
    fn exact(v: &mut [f64], q: f64) -> f64 {
        v.sort_unstable_by(f64::total_cmp);
        v[(q * (v.len() - 1) as f64).floor() as usize]
    }

    #[test]
    fn quantiles_are_within_the_stated_accuracy() {
        let mut rng = from_seed(3);
        // Costs in bps: lognormal, a few negative (an FX gain), some exactly zero.
        let mut v: Vec<f64> = (0..50_000)
            .map(|k| {
                let z: f64 = rng.sample(StandardNormal);
                match k % 50 {
                    0 => 0.0,
                    1..=3 => -(z.exp() * 3.0),
                    _ => 40.0 * (1.5 * z).exp(),
                }
            })
            .collect();
        let mut s = Sketch::default();
        for x in &v {
            s.add(*x);
        }
        for q in [0.0, 0.01, 0.05, 0.5, 0.9, 0.95, 0.99, 1.0] {
            let want = exact(&mut v, q);
            let got = s.quantile(q);
            assert!(
                (got - want).abs() <= ALPHA * want.abs() * (1.0 + 1e-9) + 1e-12,
                "q {q}: {got} vs exact {want}"
            );
        }
    }

    #[test]
    fn a_store_merges_like_adding_its_buckets_one_by_one() {
        let mut rng = from_seed(7);
        for _ in 0..2_000 {
            let mut stores = [Store::default(), Store::default()];
            for s in &mut stores {
                for _ in 0..rng.random_range(0..40) {
                    s.add(rng.random_range(-300..300), rng.random_range(1..5));
                }
            }
            let [a, b] = stores;
            let mut merged = a.clone();
            merged.merge(&b);
            let mut one_by_one = a.clone();
            for (i, n) in b.buckets() {
                one_by_one.add(i, n);
            }
            assert_eq!(merged, one_by_one);
        }
    }

    #[test]
    fn merging_is_exact_and_order_free() {
        let mut rng = from_seed(5);
        let xs: Vec<f64> = (0..10_000)
            .map(|_| rng.random::<f64>() * 100.0 - 5.0)
            .collect();
        let mut whole = Sketch::default();
        xs.iter().for_each(|x| whole.add(*x));
        let (a, b) = xs.split_at(3_333);
        let (mut sa, mut sb) = (Sketch::default(), Sketch::default());
        a.iter().for_each(|x| sa.add(*x));
        b.iter().for_each(|x| sb.add(*x));
        let mut ab = sa.clone();
        ab.merge(&sb);
        let mut ba = sb.clone();
        ba.merge(&sa);
        assert_eq!(ab, ba);
        for q in [0.1, 0.5, 0.95] {
            assert_eq!(ab.quantile(q), whole.quantile(q));
        }
        assert_eq!(ab.count(), 10_000);
    }

    #[test]
    fn small_samples_and_edges() {
        let mut s = Sketch::default();
        assert!(s.quantile(0.5).is_nan());
        s.add(f64::NAN);
        assert_eq!(s.count(), 0);
        for x in [1.0, 2.0, 3.0, 4.0] {
            s.add(x);
        }
        // Rank ⌊0.5·3⌋ = 1: the second value, 2, within 0.1 % (1 sits on a bucket's upper
        // edge, where the error is exactly α: a hair of float slack).
        let within = |got: f64, want: f64| (got - want).abs() <= want * ALPHA * (1.0 + 1e-9);
        assert!(within(s.quantile(0.5), 2.0));
        assert!(within(s.quantile(1.0), 4.0));
        assert!(within(s.quantile(0.0), 1.0));
    }
}
