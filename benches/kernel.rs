//! The event kernel alone (`kervan::engine::Scheduler`), in events per second.
//!
//! Workload: `streams` independent generators, each keeping exactly one event pending — the
//! shape of a kervan run, where every trade corridor keeps only its next arrival in the queue
//! (docs/architecture.md). Handling an event reschedules its stream at `now + delay`, with the delay from a
//! seeded xorshift; a run stops at the event limit, after 1 M events. The event is a `u32`
//! stream id, so a queue entry is 16 bytes, like the model's own `(time, Event)`.
//!
//! Two delay laws:
//! - `spread`: delays uniform in 1..=3 600 s, so almost every pending event has its own time
//!   and the heap's order comes from the times;
//! - `ties`: delays of 0 or 60 s, so thousands of events share each instant and their order
//!   comes from the insertion sequence alone (the FIFO tie-break the model relies on for
//!   repeatable runs). This is the worst case for the `(time, seq)` comparison.
//!
//! Why: the kernel is the floor under every scenario. If the model runs at P payments/s with
//! E events per payment, the kernel must sustain well over P·E events/s at the queue depths a
//! scenario reaches (tens to thousands of events in flight), or no optimisation of the model
//! can help. The queue is built outside the timed region; only `run` is timed.

use divan::Bencher;
use divan::counter::ItemsCount;
use kervan::engine::{Scheduler, StopReason, Time};

/// Events handled per sample.
const EVENTS: u64 = 1_000_000;

/// Queue depths: one stream (the heap does nothing), a scenario's scale, and far beyond it.
const STREAMS: &[u32] = &[1, 100, 10_000, 100_000];

fn main() {
    divan::main();
}

/// Marsaglia's xorshift64: three shifts per draw, no allocation, same sequence on every machine.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// A scheduler with `streams` events pending at distinct-or-tied start times, and its delay law.
fn setup(streams: u32, delay: fn(u64) -> Time) -> (Scheduler<u32>, XorShift) {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut sched = Scheduler::new(Time::MAX, EVENTS);
    for id in 0..streams {
        sched.schedule(delay(rng.next()), id);
    }
    (sched, rng)
}

fn bench_run(bencher: Bencher, streams: u32, delay: fn(u64) -> Time) {
    bencher
        .counter(ItemsCount::new(EVENTS))
        .with_inputs(|| setup(streams, delay))
        .bench_local_values(|(mut sched, mut rng)| {
            let stats = sched.run(|s, id| {
                let at = s.now() + delay(rng.next());
                s.schedule(at, id);
            });
            debug_assert_eq!(stats.reason, StopReason::EventLimit);
            // Returned so the queue is dropped outside the timed region.
            (stats, sched)
        });
}

/// Delays uniform in 1..=3 600 s: times rarely coincide.
#[divan::bench(args = STREAMS, sample_count = 30)]
fn spread(bencher: Bencher, streams: u32) {
    bench_run(bencher, streams, |x| 1 + (x % 3_600) as Time);
}

/// Delays of 0 or 60 s: most events share their time with many others.
#[divan::bench(args = STREAMS, sample_count = 30)]
fn ties(bencher: Bencher, streams: u32) {
    bench_run(bencher, streams, |x| 60 * (x & 1) as Time);
}
