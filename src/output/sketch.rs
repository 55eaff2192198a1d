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
    /// Adds `n` to bucket `i`: in place when the range already covers it (nearly always once
    /// a run is under way, and small enough to inline, so a batch's loads overlap), else
    /// through [`Store::grow_and_add`].
    #[inline]
    fn add(&mut self, i: i32, n: u32) {
        let k = i64::from(i) - i64::from(self.offset);
        match usize::try_from(k).ok().and_then(|k| self.counts.get_mut(k)) {
            Some(c) => *c = c.saturating_add(n),
            None => self.grow_and_add(i, n),
        }
    }

    /// The rare case, kept out of line: the store's first bucket, or one outside its range.
    #[inline(never)]
    fn grow_and_add(&mut self, i: i32, n: u32) {
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

/// Values a sketch holds before it puts them in their buckets (see [`Sketch::add`]).
const PENDING: usize = 32;

/// The sketch of one sample.
#[derive(Debug, Clone, Default)]
pub struct Sketch {
    positive: Store,
    negative: Store,
    zero: u64,
    count: u64,
    /// Non-zero values added but not yet counted in their buckets, in the order added: the
    /// first `n_pending` of `pending`.
    pending: [f64; PENDING],
    n_pending: usize,
}

/// Two sketches are equal when they hold the same values: their buckets once every pending
/// value is in them (bucket counts do not depend on the order values arrive in).
impl PartialEq for Sketch {
    fn eq(&self, o: &Sketch) -> bool {
        let (a, b) = (self.settled(), o.settled());
        let (a, b) = (a.as_ref(), b.as_ref());
        a.positive == b.positive
            && a.negative == b.negative
            && a.zero == b.zero
            && a.count == b.count
    }
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
    ///
    /// Non-zero values wait in a small buffer and go into their buckets [`PENDING`] at a
    /// time. A run adds two values per payment to sketches of thousands of buckets each,
    /// spread over every corridor, and by then other work has pushed those buckets out of the
    /// cache: added one by one, each waited for its own miss (the largest single stall of a
    /// run in profiles). In a batch the misses overlap. Counts are the same either way.
    #[inline]
    pub fn add(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        self.count += 1;
        if x.abs() < MIN_MAGNITUDE {
            self.zero += 1;
            return;
        }
        self.hold(x);
    }

    /// Queues a non-zero value (already counted) for its bucket.
    #[inline]
    fn hold(&mut self, x: f64) {
        self.pending[self.n_pending] = x;
        self.n_pending += 1;
        if self.n_pending == PENDING {
            self.settle();
        }
    }

    /// Puts every pending value in its bucket: all indexes first, then all counts, so the
    /// buckets' cache misses are independent loads.
    pub fn settle(&mut self) {
        let n = std::mem::take(&mut self.n_pending);
        let mut at = [0i32; PENDING];
        for (i, x) in at.iter_mut().zip(&self.pending[..n]) {
            *i = index(x.abs().min(f64::MAX));
        }
        for (&i, &x) in at.iter().zip(&self.pending[..n]) {
            if x > 0.0 {
                self.positive.add(i, 1);
            } else {
                self.negative.add(i, 1);
            }
        }
    }

    /// This sketch with every value in its bucket: itself, or a settled copy.
    fn settled(&self) -> std::borrow::Cow<'_, Sketch> {
        if self.n_pending == 0 {
            std::borrow::Cow::Borrowed(self)
        } else {
            let mut s = self.clone();
            s.settle();
            std::borrow::Cow::Owned(s)
        }
    }

    /// Adds another sketch's values (exact: counts add).
    pub fn merge(&mut self, o: &Sketch) {
        self.positive.merge(&o.positive);
        self.negative.merge(&o.negative);
        self.zero += o.zero;
        self.count += o.count;
        // `o.count` already counts its pending values: they go into buckets, not counted again.
        for &x in &o.pending[..o.n_pending] {
            self.hold(x);
        }
        // Merges come at the end of a run: leave nothing pending for the readers.
        self.settle();
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
        if self.n_pending > 0 {
            return self.settled().quantile(q);
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

    /// The sketch as it was before values waited in a buffer: each value straight into its
    /// bucket.
    fn one_by_one(xs: &[f64]) -> (Store, Store, u64, u64) {
        let (mut positive, mut negative, mut zero, mut count) =
            (Store::default(), Store::default(), 0, 0);
        for &x in xs.iter().filter(|x| !x.is_nan()) {
            let m = x.abs().min(f64::MAX);
            count += 1;
            if m < MIN_MAGNITUDE {
                zero += 1;
            } else if x > 0.0 {
                positive.add(index(m), 1);
            } else {
                negative.add(index(m), 1);
            }
        }
        (positive, negative, zero, count)
    }

    #[test]
    fn pending_values_count_as_if_added_one_by_one() {
        let mut rng = from_seed(11);
        // Sizes around and between whole batches, so some values are still pending.
        for n in [
            0,
            1,
            5,
            PENDING - 1,
            PENDING,
            PENDING + 1,
            3 * PENDING + 7,
            1_000,
        ] {
            let xs: Vec<f64> = (0..n)
                .map(|k| match k % 9 {
                    0 => 0.0,
                    1 => -rng.random::<f64>() * 50.0,
                    2 => f64::NAN,
                    3 => f64::INFINITY,
                    _ => rng.random::<f64>() * 1e4,
                })
                .collect();
            let mut s = Sketch::default();
            xs.iter().for_each(|&x| s.add(x));
            let want = one_by_one(&xs);
            assert_eq!(s.count(), want.3, "n {n}");
            // Read while values are pending: the quantiles of the settled sketch.
            let early: Vec<f64> = [0.0, 0.5, 0.95, 1.0].map(|q| s.quantile(q)).to_vec();
            let unsettled = s.clone();
            s.settle();
            assert_eq!(s.n_pending, 0);
            assert_eq!(
                (s.positive.clone(), s.negative.clone(), s.zero, s.count),
                want,
                "n {n}"
            );
            let late: Vec<f64> = [0.0, 0.5, 0.95, 1.0].map(|q| s.quantile(q)).to_vec();
            assert_eq!(format!("{early:?}"), format!("{late:?}"), "n {n}");
            assert_eq!(unsettled, s, "n {n}");
            // Merged with values pending on both sides: the one-by-one sketch of both samples.
            let (a, b) = xs.split_at(n / 3);
            let (mut sa, mut sb) = (Sketch::default(), Sketch::default());
            a.iter().for_each(|&x| sa.add(x));
            b.iter().for_each(|&x| sb.add(x));
            sa.merge(&sb);
            assert_eq!(sa.n_pending, 0);
            assert_eq!(
                (sa.positive.clone(), sa.negative.clone(), sa.zero, sa.count),
                want,
                "n {n}"
            );
        }
        // Equality looks through pending values: a different last value is a different sketch.
        let (mut a, mut b) = (Sketch::default(), Sketch::default());
        for k in 1..10 {
            a.add(f64::from(k));
            b.add(f64::from(k));
        }
        assert_eq!(a, b);
        a.add(10.0);
        b.add(20.0);
        assert_ne!(a, b);
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
