//! Market depth: a pair's spread narrows as the volume traded in it grows (docs/model.md),
//! `spread = max(floor, base × (reference / rolling volume)^elasticity)`, the factor capped at
//! `max_multiplier` so calibrated spreads stay the ceiling unless a scenario says otherwise.
//! Elasticity 0 switches it off. This is how "more trade in local currency makes local
//! currency cheaper" shows up in results.

use std::collections::{BTreeMap, VecDeque};

use crate::engine::{DAY_S, Time};
use crate::money::CurrencyId;

/// Validated depth parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct DepthParams {
    /// 0 = off.
    pub elasticity: f64,
    /// Daily volume (USD) at which a pair quotes its base spread.
    pub reference_usd_per_day: f64,
    /// Rolling window over which volume is averaged.
    pub window_s: Time,
    /// The half-spread never falls below this (bps).
    pub floor_bps: f64,
    /// Cap on the widening of a thin pair (1 = never wider than calibrated).
    pub max_multiplier: f64,
    /// Whether USD pairs are subject to depth too (by default only direct crosses are).
    pub usd_pairs: bool,
}

impl Default for DepthParams {
    fn default() -> Self {
        Self {
            elasticity: 0.0,
            reference_usd_per_day: 50e6,
            window_s: 30 * DAY_S,
            floor_bps: 0.0,
            max_multiplier: 1.0,
            usd_pairs: false,
        }
    }
}

/// Rolling traded volume per pair during one replication.
#[derive(Debug, Clone, Default)]
pub struct Depth {
    params: DepthParams,
    pairs: BTreeMap<(CurrencyId, CurrencyId), Window>,
}

#[derive(Debug, Clone, Default)]
struct Window {
    trades: VecDeque<(Time, f64)>,
    sum_usd: f64,
}

fn key(a: CurrencyId, b: CurrencyId) -> (CurrencyId, CurrencyId) {
    if a < b { (a, b) } else { (b, a) }
}

impl Depth {
    pub fn new(params: DepthParams) -> Self {
        Self {
            params,
            pairs: BTreeMap::new(),
        }
    }

    pub fn is_on(&self) -> bool {
        self.params.elasticity != 0.0
    }

    /// Whether the pair's volume is tracked: direct crosses (and USD pairs if asked), whatever
    /// the elasticity, so depth.csv shows the volume a design brings even with depth off.
    fn tracked(&self, a: CurrencyId, b: CurrencyId) -> bool {
        a != b && (self.params.usd_pairs || (a != CurrencyId::USD && b != CurrencyId::USD))
    }

    /// Average daily volume of the pair over the window ending at `now`.
    pub fn volume_per_day(&mut self, a: CurrencyId, b: CurrencyId, now: Time) -> f64 {
        let window = self.params.window_s;
        let w = self.pairs.entry(key(a, b)).or_default();
        while let Some(&(t, usd)) = w.trades.front() {
            if t > now - window {
                break;
            }
            w.sum_usd -= usd;
            w.trades.pop_front();
        }
        if w.trades.is_empty() {
            // Summing and subtracting floats drifts: start clean when the window empties.
            w.sum_usd = 0.0;
        }
        w.sum_usd.max(0.0) * DAY_S as f64 / window as f64
    }

    /// The multiplier on the pair's base half-spread at `now`, given `base_bps`.
    pub fn factor(&mut self, a: CurrencyId, b: CurrencyId, base_bps: f64, now: Time) -> f64 {
        if !self.is_on() || !self.tracked(a, b) || base_bps <= 0.0 {
            return 1.0;
        }
        let volume = self.volume_per_day(a, b, now);
        let p = &self.params;
        let raw = if volume <= 0.0 {
            f64::INFINITY
        } else {
            (p.reference_usd_per_day / volume).powf(p.elasticity)
        };
        raw.min(p.max_multiplier).max(p.floor_bps / base_bps)
    }

    /// Records a trade of `usd` in the pair at `now`.
    pub fn record(&mut self, a: CurrencyId, b: CurrencyId, usd: f64, now: Time) {
        if !self.tracked(a, b) || !usd.is_finite() || usd <= 0.0 {
            return;
        }
        let w = self.pairs.entry(key(a, b)).or_default();
        w.trades.push_back((now, usd));
        w.sum_usd += usd;
    }

    /// Pairs that have traded, in order (for sampling).
    pub fn pairs(&self) -> Vec<(CurrencyId, CurrencyId)> {
        self.pairs.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: CurrencyId = CurrencyId(1);
    const B: CurrencyId = CurrencyId(2);

    fn params(elasticity: f64) -> DepthParams {
        DepthParams {
            elasticity,
            reference_usd_per_day: 1e6,
            window_s: 10 * DAY_S,
            floor_bps: 5.0,
            max_multiplier: 2.0,
            usd_pairs: false,
        }
    }

    #[test]
    fn spread_narrows_with_volume_down_to_the_floor() {
        let mut d = Depth::new(params(0.5));
        // No volume yet: as wide as allowed.
        assert_eq!(d.factor(A, B, 40.0, 0), 2.0);
        // 4 M over a 10-day window = 0.4 M a day: (1 / 0.4)^0.5 = 1.58.
        d.record(A, B, 4e6, 0);
        assert!((d.factor(B, A, 40.0, DAY_S) - (1.0f64 / 0.4).sqrt()).abs() < 1e-12);
        // 40 M → 4 M a day: (1/4)^0.5 = 0.5.
        d.record(A, B, 36e6, DAY_S);
        assert!((d.factor(A, B, 40.0, DAY_S) - 0.5).abs() < 1e-12);
        // 4,000 M → 400 M a day: 0.05, but the 5 bps floor on a 40 bps base holds it at 0.125.
        d.record(A, B, 3_960e6, DAY_S);
        assert!((d.factor(A, B, 40.0, DAY_S) - 0.125).abs() < 1e-12);
        // Ten days after the last trade the window is empty again.
        assert_eq!(d.factor(A, B, 40.0, 12 * DAY_S), 2.0);
    }

    #[test]
    fn elasticity_zero_and_usd_pairs_are_flat() {
        let mut d = Depth::new(params(0.0));
        d.record(A, B, 1e9, 0);
        assert_eq!(d.factor(A, B, 40.0, 0), 1.0);
        // The volume is still tracked, for depth.csv.
        assert_eq!(d.volume_per_day(A, B, 0), 1e8);
        let mut d = Depth::new(params(0.5));
        d.record(CurrencyId::USD, B, 1e9, 0);
        assert_eq!(d.factor(CurrencyId::USD, B, 10.0, 0), 1.0);
    }
}
