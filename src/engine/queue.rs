//! The event queue: a monotone radix heap keyed by time, first-in first-out within a time.

use std::collections::VecDeque;

use super::Time;

/// A min-queue of events ordered by time, then by insertion order, for a clock that never runs
/// backwards: every push is at or after the time of the last event popped (the scheduler
/// moves an event in the past to `now`).
///
/// Events at equal times come out first-in first-out, so a run never depends on how the
/// queue happens to break ties. A radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, 1990) rather
/// than a binary heap, so a pop costs no comparisons along a tree (the binary heap's sift was
/// the kernel's largest cost in profiles), with base-16 digits: an event goes into the bucket
/// of the highest hexadecimal digit in which its time differs from the last time popped, and
/// of its own value of that digit. The lowest non-empty bucket then holds the least time;
/// emptying it moves its events to lower digits only, so an event moves at most once per
/// digit (with one bucket per bit, as before, events moved four times on average; per digit,
/// about half as often). Within a bucket events stay in insertion order, and all events of
/// one time are always in one bucket, so equal times pop in insertion order as with a (time,
/// sequence) heap: the same order, event for event.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// Events at `last`, in insertion order.
    now: VecDeque<(u64, E)>,
    /// Bucket 16·d + v: events whose time first differs from `last` in hexadecimal digit d
    /// (0 the lowest; times as order-preserving u64) and has value v there, in insertion order.
    buckets: Box<[Vec<(u64, E)>; DIGITS * 16]>,
    /// Bit d set: some bucket of digit d is not empty.
    digits: u16,
    /// Per digit d, bit v set: bucket 16·d + v is not empty.
    values: [u16; DIGITS],
    /// The time of the last event popped (as an order-preserving u64), or the least.
    last: u64,
    len: usize,
}

/// Hexadecimal digits of a u64 time.
const DIGITS: usize = 16;

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
            buckets: Box::new(std::array::from_fn(|_| Vec::new())),
            digits: 0,
            values: [0; DIGITS],
            last: 0,
            len: 0,
        }
    }

    /// Where `k` (≥ `last`) goes: None for `last` itself, else (digit, value).
    #[inline]
    fn place(&self, k: u64) -> Option<(usize, usize)> {
        let differ = k ^ self.last;
        if differ == 0 {
            return None;
        }
        let d = (63 - differ.leading_zeros() as usize) / 4;
        Some((d, ((k >> (4 * d)) & 15) as usize))
    }

    #[inline(always)]
    fn put(&mut self, k: u64, event: E) {
        match self.place(k) {
            None => self.now.push_back((k, event)),
            Some((d, v)) => {
                self.buckets[16 * d + v].push((k, event));
                self.digits |= 1 << d;
                self.values[d] |= 1 << v;
            }
        }
    }

    /// Queues `event` at `t`, which must not be before the last event popped (it is queued
    /// at that time if it is).
    pub fn push(&mut self, t: Time, event: E) {
        let k = key(t).max(self.last);
        self.len += 1;
        self.put(k, event);
    }

    /// Brings the earliest events to the front once those at `last` are gone: the lowest
    /// non-empty bucket is emptied into lower digits around its least time, keeping its order.
    fn settle(&mut self) {
        if !self.now.is_empty() || self.digits == 0 {
            return;
        }
        let d = self.digits.trailing_zeros() as usize;
        let v = self.values[d].trailing_zeros() as usize;
        self.values[d] &= !(1 << v);
        if self.values[d] == 0 {
            self.digits &= !(1 << d);
        }
        let b = 16 * d + v;
        let mut from = std::mem::take(&mut self.buckets[b]);
        if d == 0 {
            // The lowest digit: every event here has the one time that differs from `last`
            // only there, so they all come next, in their order.
            self.last = (self.last & !15) | v as u64;
            self.now.extend(from.drain(..));
        } else {
            self.last = from.iter().map(|(k, _)| *k).min().unwrap_or(self.last);
            for (k, event) in from.drain(..) {
                self.put(k, event);
            }
        }
        // Keep the emptied bucket's allocation for the next time it fills, unless it is large:
        // every bucket keeping the most it ever held would add up to several times the events
        // in flight (megabytes in a long run of millions of payments). At most 1 024 entries
        // each, the 256 buckets keep at most 4 MiB.
        if from.capacity() <= 1 << 10 {
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
