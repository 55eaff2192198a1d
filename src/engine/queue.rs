//! The event queue: a monotone radix heap keyed by time, first-in first-out within a time.

use std::collections::VecDeque;

use super::Time;

/// A min-queue of events ordered by time, then by insertion order, for a clock that never runs
/// backwards: every push is at or after the time of the last event popped (the scheduler
/// moves an event in the past to `now`).
///
/// Events at equal times come out first-in first-out, so a run never depends on how the
/// queue happens to break ties. A radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, 1990) rather
/// than a binary heap: an event goes into the bucket of the highest bit in which its time
/// differs from the last time popped, and is moved down at most once per bit, so a pop costs
/// no comparisons along a tree (the binary heap's sift was the kernel's largest cost in
/// profiles). Within a bucket events stay in insertion order, and all events of one time are
/// always in one bucket, so equal times pop in insertion order as with a (time, sequence)
/// heap: the same order, event for event.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// Events at `last`, in insertion order.
    now: VecDeque<(u64, E)>,
    /// Bucket b (b ≥ 1): events whose time first differs from `last` at bit b − 1 (times as
    /// order-preserving u64), in insertion order; index 0 unused.
    buckets: Vec<Vec<(u64, E)>>,
    /// Bit b set: bucket b is not empty.
    occupied: u128,
    /// The time of the last event popped (as an order-preserving u64), or the least.
    last: u64,
    len: usize,
}

/// Buckets: one for `last` and one per bit of a time.
const BUCKETS: usize = 65;

/// Time as a u64 in the same order (the sign bit flipped).
#[inline]
fn key(t: Time) -> u64 {
    (t as u64) ^ (1 << 63)
}

#[inline]
fn time(k: u64) -> Time {
    (k ^ (1 << 63)) as Time
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self {
            now: VecDeque::new(),
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            occupied: 0,
            last: 0,
            len: 0,
        }
    }

    #[inline]
    fn bucket(&self, k: u64) -> usize {
        (64 - (k ^ self.last).leading_zeros()) as usize
    }

    /// Queues `event` at `t`, which must not be before the last event popped (it is queued
    /// at that time if it is).
    pub fn push(&mut self, t: Time, event: E) {
        let k = key(t).max(self.last);
        self.len += 1;
        let b = self.bucket(k);
        if b == 0 {
            self.now.push_back((k, event));
        } else {
            self.buckets[b].push((k, event));
            self.occupied |= 1 << b;
        }
    }

    /// Brings the earliest events to the front once those at `last` are gone: the lowest
    /// occupied bucket is emptied into lower ones around its least time, keeping its order.
    fn settle(&mut self) {
        if !self.now.is_empty() || self.occupied == 0 {
            return;
        }
        let b = self.occupied.trailing_zeros() as usize;
        self.occupied &= !(1 << b);
        let mut from = std::mem::take(&mut self.buckets[b]);
        self.last = from.iter().map(|(k, _)| *k).min().unwrap_or(self.last);
        for (k, event) in from.drain(..) {
            let to = self.bucket(k);
            if to == 0 {
                self.now.push_back((k, event));
            } else {
                self.buckets[to].push((k, event));
                self.occupied |= 1 << to;
            }
        }
        // Keep the emptied bucket's allocation for the next time it fills, unless it is large:
        // every bucket keeping the most it ever held would add up to several times the events
        // in flight (megabytes in a long run of millions of payments).
        if from.capacity() <= 1 << 12 {
            self.buckets[b] = from;
        }
    }

    pub fn pop(&mut self) -> Option<(Time, E)> {
        self.settle();
        let (k, event) = self.now.pop_front()?;
        self.len -= 1;
        Some((time(k), event))
    }

    /// The time of the next event, bringing it to the front.
    pub fn peek_time(&mut self) -> Option<Time> {
        self.settle();
        self.now.front().map(|(k, _)| time(*k))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn pops_in_time_then_insertion_order() {
        // Against a sort by (time, insertion order), with pushes at or after the last pop
        // between pops, many ties, far jumps and negative times.
        let mut rng = rand_pcg::Pcg64::seed_from_u64(23);
        let mut q = EventQueue::new();
        let mut model: Vec<(Time, u64)> = Vec::new();
        let mut n = 0u64;
        let mut now: Time = -1_000;
        for _ in 0..50_000 {
            for _ in 0..rng.random_range(0..4) {
                let t = match rng.random_range(0..10) {
                    0 => now,
                    1 => now + rng.random_range(0..(1 << 40)),
                    _ => now + rng.random_range(0..50),
                };
                q.push(t, n);
                model.push((t, n));
                n += 1;
            }
            if rng.random::<f64>() < 0.7 {
                model.sort();
                let want = (!model.is_empty()).then(|| model.remove(0));
                assert_eq!(q.peek_time(), want.map(|w| w.0));
                let got = q.pop();
                assert_eq!(got, want);
                if let Some((t, _)) = got {
                    now = t;
                }
            }
            assert_eq!(q.len(), model.len());
        }
        model.sort();
        for want in model {
            assert_eq!(q.pop(), Some(want));
        }
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn extreme_times_keep_their_order() {
        let mut q = EventQueue::new();
        for (i, t) in [Time::MAX, 0, Time::MIN, -1, 1, Time::MAX, Time::MIN]
            .iter()
            .enumerate()
        {
            q.push(*t, i);
        }
        let order: Vec<(Time, usize)> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (Time::MIN, 2),
                (Time::MIN, 6),
                (-1, 3),
                (0, 1),
                (1, 4),
                (Time::MAX, 0),
                (Time::MAX, 5)
            ]
        );
    }
}
