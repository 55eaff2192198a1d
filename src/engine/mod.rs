//! The generic discrete-event kernel: integer time, a queue ordered by (time, insertion
//! sequence), and a bounded run loop. It knows nothing about payments or money.

mod queue;

pub use queue::EventQueue;

/// Simulation time: whole seconds since the scenario's start instant (UTC).
///
/// Integer time keeps runs repeatable: two events at "the same" moment compare equal exactly,
/// and their order is then decided by insertion sequence, never by float rounding.
pub type Time = i64;

/// Seconds in an hour, a day and a (365-day) year, for converting rates and durations.
pub const HOUR_S: Time = 3_600;
pub const DAY_S: Time = 86_400;
pub const YEAR_S: Time = 365 * DAY_S;

/// `epoch + t` as ISO 8601 UTC, `2025-01-06T09:00:00Z`: how messages and output files name an
/// instant (one formatter for both, so a message and a CSV row agree on the same instant).
pub fn iso_time(epoch: chrono::DateTime<chrono::Utc>, t: Time) -> String {
    let mut v = Vec::with_capacity(20);
    push_iso_time(&mut v, epoch.timestamp().saturating_add(t));
    String::from_utf8(v).unwrap_or_default()
}

/// `YYYY-MM-DDT` of the day `days` after 1970-01-01 (years clamped to 0..=9999).
fn iso_date(days: i64) -> [u8; 11] {
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = (yoe + era * 400 + i64::from(m <= 2)).clamp(0, 9_999);
    let digit = |n: i64| b'0' + n as u8;
    [
        digit(y / 1_000),
        digit(y / 100 % 10),
        digit(y / 10 % 10),
        digit(y % 10),
        b'-',
        digit(m / 10),
        digit(m % 10),
        b'-',
        digit(d / 10),
        digit(d % 10),
        b'T',
    ]
}

/// `HH:MM:SSZ` of the second `secs` of a day.
fn iso_clock(secs: i64) -> [u8; 9] {
    let (h, m, s) = (secs / 3_600, secs / 60 % 60, secs % 60);
    let digit = |n: i64| b'0' + n as u8;
    [
        digit(h / 10),
        digit(h % 10),
        b':',
        digit(m / 10),
        digit(m % 10),
        b':',
        digit(s / 10),
        digit(s % 10),
        b'Z',
    ]
}

/// Appends a Unix time as ISO 8601 UTC, `2025-01-06T09:00:00Z`, for years 0 to 9999.
pub fn push_iso_time(out: &mut Vec<u8>, unix_s: i64) {
    out.extend_from_slice(&iso_date(unix_s.div_euclid(86_400)));
    out.extend_from_slice(&iso_clock(unix_s.rem_euclid(86_400)));
}

/// [`push_iso_time`] with the date of the last instant kept: the rows of a payments file are
/// mostly on a few days, so the date (`2025-01-06T`, 11 bytes) is worked out once per day.
#[derive(Debug, Clone)]
pub struct IsoTimes {
    day: i64,
    date: [u8; 11],
}

impl Default for IsoTimes {
    fn default() -> Self {
        Self {
            day: i64::MIN,
            date: [0; 11],
        }
    }
}

impl IsoTimes {
    /// Appends `unix_s` exactly as [`push_iso_time`] does.
    pub fn push(&mut self, out: &mut Vec<u8>, unix_s: i64) {
        let day = unix_s.div_euclid(86_400);
        if day != self.day {
            self.date = iso_date(day);
            self.day = day;
        }
        out.extend_from_slice(&self.date);
        out.extend_from_slice(&iso_clock(unix_s.rem_euclid(86_400)));
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// No events were left.
    Exhausted,
    /// The next event lay beyond the horizon; it and everything after it were not handled.
    Horizon,
    /// The maximum number of events was handled.
    EventLimit,
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunStats {
    pub events: u64,
    pub reason: StopReason,
    /// Time of the last handled event (0 if none).
    pub now: Time,
}

/// A scheduler: the queue plus the clock and the bounds of a run.
///
/// `E` is the model's event enum; the kernel only orders and delivers it.
#[derive(Debug)]
pub struct Scheduler<E> {
    queue: EventQueue<E>,
    now: Time,
    horizon: Time,
    max_events: u64,
    handled: u64,
}

impl<E> Scheduler<E> {
    /// A scheduler that delivers events at times `<= horizon`, at most `max_events` of them.
    pub fn new(horizon: Time, max_events: u64) -> Self {
        Self {
            queue: EventQueue::new(),
            now: 0,
            horizon,
            max_events,
            handled: 0,
        }
    }

    /// The time of the event being handled (or of the last one handled).
    pub fn now(&self) -> Time {
        self.now
    }

    /// The last instant at which events are still delivered.
    pub fn horizon(&self) -> Time {
        self.horizon
    }

    /// Number of events waiting.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Schedules `event` at `at`. An event in the past is delivered at `now` instead: the
    /// clock never runs backwards.
    pub fn schedule(&mut self, at: Time, event: E) {
        self.queue.push(at.max(self.now), event);
    }

    /// Runs until the queue is empty, the horizon is passed or the event limit is reached,
    /// handing each event to `handle` in (time, insertion) order.
    pub fn run(&mut self, mut handle: impl FnMut(&mut Self, E)) -> RunStats {
        let reason = loop {
            if self.handled >= self.max_events {
                break StopReason::EventLimit;
            }
            match self.queue.peek_time() {
                None => break StopReason::Exhausted,
                Some(t) if t > self.horizon => break StopReason::Horizon,
                Some(_) => {}
            }
            let (t, event) = self.queue.pop().expect("peeked an event");
            self.now = t;
            self.handled += 1;
            handle(self, event);
        };
        RunStats {
            events: self.handled,
            reason,
            now: self.now,
        }
    }

    /// Removes and returns the events left in the queue, in delivery order. Used after a run to
    /// account for what was still in flight at the horizon.
    pub fn drain(&mut self) -> Vec<(Time, E)> {
        let mut out = Vec::with_capacity(self.queue.len());
        while let Some(entry) = self.queue.pop() {
            out.push(entry);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn iso(unix_s: i64) -> String {
        let mut v = Vec::new();
        push_iso_time(&mut v, unix_s);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn cached_dates_print_the_same() {
        let mut cached = IsoTimes::default();
        for unix in [
            0i64,
            59,
            86_399,
            86_400,
            1_735_689_600,
            1_735_689_601,
            1_736_154_000,
            1_709_251_199,
            1_709_251_200,
            -1,
            -86_400,
            253_402_300_799,
        ] {
            let mut v = Vec::new();
            cached.push(&mut v, unix);
            assert_eq!(String::from_utf8(v).unwrap(), iso(unix), "{unix}");
        }
    }

    #[test]
    fn timestamps_match_chrono() {
        for unix in [
            0i64,
            1_735_689_600,
            1_736_154_000,
            1_767_225_599,
            1_709_251_199,
            951_782_400,
            -86_400,
        ] {
            let expected = chrono::Utc
                .timestamp_opt(unix, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            assert_eq!(iso(unix), expected);
        }
    }

    #[test]
    fn iso_time_counts_from_the_epoch() {
        let epoch = chrono::Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(iso_time(epoch, 0), "2025-01-01T00:00:00Z");
        assert_eq!(
            iso_time(epoch, 5 * DAY_S + 9 * HOUR_S),
            "2025-01-06T09:00:00Z"
        );
        assert_eq!(iso_time(epoch, 59 * DAY_S + 1), "2025-03-01T00:00:01Z");
        assert_eq!(iso_time(epoch, -1), "2024-12-31T23:59:59Z");
    }

    #[test]
    fn events_come_out_in_time_order() {
        let mut s = Scheduler::new(1_000, 100);
        for t in [50, 10, 30, 20, 40] {
            s.schedule(t, t);
        }
        let mut seen = Vec::new();
        let stats = s.run(|s, e| seen.push((s.now(), e)));
        assert_eq!(seen, vec![(10, 10), (20, 20), (30, 30), (40, 40), (50, 50)]);
        assert_eq!(stats.reason, StopReason::Exhausted);
        assert_eq!(stats.events, 5);
    }

    #[test]
    fn equal_times_resolve_in_insertion_order() {
        let mut s = Scheduler::new(1_000, 100);
        for id in 0..20 {
            // All at time 7, pushed in id order; interleave another time to stir the heap.
            s.schedule(7, id);
            s.schedule(3, 100 + id);
        }
        let mut at7 = Vec::new();
        let mut at3 = Vec::new();
        s.run(|s, e| {
            if s.now() == 7 {
                at7.push(e)
            } else {
                at3.push(e)
            }
        });
        assert_eq!(at7, (0..20).collect::<Vec<_>>());
        assert_eq!(at3, (100..120).collect::<Vec<_>>());
    }

    #[test]
    fn events_scheduled_while_handling_keep_fifo_at_equal_time() {
        let mut s = Scheduler::new(100, 100);
        s.schedule(5, 0u32);
        let mut order = Vec::new();
        s.run(|s, e| {
            order.push(e);
            if e == 0 {
                // Two children at the current time: they follow in the order scheduled.
                s.schedule(5, 1);
                s.schedule(5, 2);
                // A past time is clamped to now, not delivered before the clock.
                s.schedule(1, 3);
            }
        });
        assert_eq!(order, vec![0, 1, 2, 3]);
    }

    #[test]
    fn horizon_stops_the_run_and_leaves_later_events_pending() {
        let mut s = Scheduler::new(100, 1_000);
        for t in [10, 100, 101, 500] {
            s.schedule(t, t);
        }
        let mut seen = Vec::new();
        let stats = s.run(|_, e| seen.push(e));
        assert_eq!(seen, vec![10, 100]);
        assert_eq!(stats.reason, StopReason::Horizon);
        assert_eq!(stats.now, 100);
        assert_eq!(s.drain(), vec![(101, 101), (500, 500)]);
    }

    #[test]
    fn event_limit_bounds_a_self_perpetuating_run() {
        let mut s = Scheduler::new(Time::MAX, 250);
        s.schedule(0, ());
        // Each event schedules another: without the bound this would never stop.
        let stats = s.run(|s, ()| {
            let next = s.now() + 1;
            s.schedule(next, ());
        });
        assert_eq!(stats.reason, StopReason::EventLimit);
        assert_eq!(stats.events, 250);
        assert_eq!(stats.now, 249);
        assert_eq!(s.pending(), 1);
    }
}
