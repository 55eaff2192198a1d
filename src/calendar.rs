//! Business days, opening hours, cut-offs, time zones and bundled holidays of each party.
//!
//! A [`Calendar`] turns a [`CalendarSpec`] (hours in local minutes, an IANA zone, weekend days,
//! holidays) into a sorted list of open windows in sim time (UTC seconds since the scenario's
//! start). All time-zone arithmetic happens once, in [`Calendar::new`]; the hot look-ups
//! ([`Calendar::is_open`], [`Calendar::next_open`], [`Calendar::process`]) are binary searches
//! over integers, because they run several times per simulated payment.
//!
//! Bundled public holidays for 2025 and 2026 live in `scenarios/holidays.csv` (one row per
//! non-working weekday, with a status C = confirmed / E = estimate and a source).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::offset::LocalResult;
use chrono::{
    DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone,
    Utc, Weekday,
};
use chrono_tz::Tz;

use crate::engine::{DAY_S, Time};

/// Minutes in a day; a cut-off of 1440 means local midnight at the end of the day.
const MINUTES_PER_DAY: u32 = 1_440;
/// Seconds in a minute.
const MINUTE_S: Time = 60;
/// Local dates precomputed on each side of the scenario span, so that steps arriving just
/// before the start or finishing just after the end still find their windows.
const MARGIN_DAYS: u64 = 7;
/// Longest scenario span accepted (about a century): keeps the precomputed tables bounded.
pub const MAX_SPAN_DAYS: u32 = 36_600;
/// UTC instants are clamped to about ±10,000 years around 1970 before any chrono conversion,
/// so that no input can push chrono outside its representable range (where it would panic).
const UTC_LIMIT_S: i64 = 10_000 * 366 * DAY_S;
/// A nonexistent local time (DST gap) is resolved by searching this far either side of it;
/// real gaps are at most a day long (Samoa skipped 30 Dec 2011).
const GAP_SEARCH_S: i64 = 26 * 3_600;
/// Whether a zone keeps one UTC offset over a calendar's range is checked by reading the offset
/// at least this often (see [`FixedOffsetDays::check`]).
const OFFSET_SAMPLE_S: i64 = 6 * 3_600;
/// Days 0001-01-01 (day 1 of the common era, as chrono counts) to 1970-01-01.
const CE_TO_UNIX_DAYS: i64 = 719_163;

/// First and last calendar year covered by the bundled holiday file.
pub const BUNDLED_YEARS: (i32, i32) = (2025, 2026);
/// Names of the bundled holiday sets, in the order the file lists them: the five members, the
/// observers Turkmenistan and Hungary (for scenarios in which they join), and the United States
/// (Fedwire, for the dollar hops).
const BUNDLED_SETS: [&str; 8] = ["TR", "AZ", "KZ", "KG", "UZ", "TM", "HU", "US"];
/// Column names the bundled file must carry, in this order.
const BUNDLED_HEADER: [&str; 6] = ["calendar", "date", "kind", "name", "status", "source"];
/// The bundled holiday file, compiled into the binary so that runs do not depend on paths.
const BUNDLED_CSV: &str = include_str!("../scenarios/holidays.csv");

/// The bundled holiday table's text (the manifest lists its SHA-256).
pub fn bundled_holidays_csv() -> &'static str {
    BUNDLED_CSV
}

/// How a party's business day is defined (validated values from the scenario).
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarSpec {
    /// e.g. "TR" or "US" (used in error messages).
    pub name: String,
    /// e.g. `chrono_tz::Europe::Istanbul`.
    pub time_zone: Tz,
    /// Opening, minutes after local midnight (08:00 -> 480).
    pub open_min: u32,
    /// Cut-off, minutes after local midnight (17:30 -> 1050); > `open_min`, at most 1440.
    pub cutoff_min: u32,
    /// Cut-off on half-days (13:00 -> 780); > `open_min`, at most `cutoff_min`.
    pub half_day_cutoff_min: u32,
    /// Days of the week that are never business days, usually `[Sat, Sun]`.
    pub weekend: Vec<Weekday>,
    /// Bundled holiday set (one of [`bundled_holiday_sets`]: "TR", "AZ", "KZ", "KG", "UZ",
    /// "TM", "HU", "US"); `None` = no bundled holidays.
    pub holidays: Option<String>,
    /// Extra full closures from the scenario.
    pub extra_closed: Vec<NaiveDate>,
    /// Extra half-days from the scenario.
    pub extra_half: Vec<NaiveDate>,
    /// The business day's window opens on the previous calendar day at `open_min` (Fedwire
    /// opens at 21:00 ET the evening before the business day it settles for); then `open_min`
    /// must be after `cutoff_min`.
    pub open_previous_evening: bool,
}

/// Why a calendar could not be built.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum CalendarError {
    #[error(
        "calendar {calendar}: unknown bundled holiday set {set:?} (known: {})",
        BUNDLED_SETS.join(", ")
    )]
    UnknownHolidaySet { calendar: String, set: String },
    #[error(
        "calendar {calendar}: need opening < cut-off <= 1440 (24:00), got minutes {open_min}..{cutoff_min}"
    )]
    BadHours {
        calendar: String,
        open_min: u32,
        cutoff_min: u32,
    },
    #[error(
        "calendar {calendar}: half-day cut-off (minute {half_day_cutoff_min}) must lie in ({open_min}, {cutoff_min}]"
    )]
    BadHalfDayCutoff {
        calendar: String,
        open_min: u32,
        cutoff_min: u32,
        half_day_cutoff_min: u32,
    },
    #[error("calendar {calendar}: span of {span_days} days is too long (at most {max_days})")]
    SpanTooLong {
        calendar: String,
        span_days: u32,
        max_days: u32,
    },
    #[error("calendar {calendar}: scenario start {epoch} is outside the supported range of dates")]
    EpochOutOfRange { calendar: String, epoch: String },
    #[error("bundled scenarios/holidays.csv, line {line}: {message}")]
    BundledData { line: u64, message: String },
}

/// Whether a bundled holiday closes the system all day or from the half-day cut-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidayKind {
    Closed,
    Half,
}

/// Whether a bundled holiday was read in a source (C) or derived/estimated (E).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidayStatus {
    Confirmed,
    Estimate,
}

/// One row of the bundled holiday file.
#[derive(Debug, Clone, PartialEq)]
pub struct HolidayRow {
    pub calendar: String,
    pub date: NaiveDate,
    pub kind: HolidayKind,
    pub name: String,
    pub status: HolidayStatus,
    pub source: String,
}

/// Names of the bundled holiday sets.
pub fn bundled_holiday_sets() -> Vec<&'static str> {
    BUNDLED_SETS.to_vec()
}

/// All rows of the bundled holiday file, parsed and validated once per process.
pub fn bundled_holidays() -> Result<&'static [HolidayRow], CalendarError> {
    static PARSED: OnceLock<Result<Vec<HolidayRow>, CalendarError>> = OnceLock::new();
    match PARSED.get_or_init(|| parse_holidays(BUNDLED_CSV)) {
        Ok(rows) => Ok(rows),
        Err(e) => Err(e.clone()),
    }
}

/// Parses and validates holiday rows in the bundled file's format.
fn parse_holidays(text: &str) -> Result<Vec<HolidayRow>, CalendarError> {
    let bad = |line: u64, message: String| CalendarError::BundledData { line, message };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| bad(1, e.to_string()))?;
    if !header.iter().eq(BUNDLED_HEADER) {
        return Err(bad(
            1,
            format!("header must be {:?}, found {:?}", BUNDLED_HEADER, header),
        ));
    }
    let mut rows = Vec::new();
    let mut seen: BTreeSet<(String, NaiveDate)> = BTreeSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            bad(line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let calendar = field(0);
        if !BUNDLED_SETS.contains(&calendar) {
            return Err(bad(line, format!("unknown calendar {calendar:?}")));
        }
        let date = NaiveDate::parse_from_str(field(1), "%Y-%m-%d")
            .map_err(|e| bad(line, format!("bad date {:?}: {e}", field(1))))?;
        if date.year() < BUNDLED_YEARS.0 || date.year() > BUNDLED_YEARS.1 {
            return Err(bad(line, format!("date {date} outside {BUNDLED_YEARS:?}")));
        }
        let kind = match field(2) {
            "closed" => HolidayKind::Closed,
            "half" => HolidayKind::Half,
            other => {
                return Err(bad(
                    line,
                    format!("kind must be closed or half, not {other:?}"),
                ));
            }
        };
        let status = match field(4) {
            "C" => HolidayStatus::Confirmed,
            "E" => HolidayStatus::Estimate,
            other => return Err(bad(line, format!("status must be C or E, not {other:?}"))),
        };
        if field(3).is_empty() || field(5).is_empty() {
            return Err(bad(line, "name and source must not be empty".to_string()));
        }
        if !seen.insert((calendar.to_string(), date)) {
            return Err(bad(line, format!("{calendar} {date} listed twice")));
        }
        rows.push(HolidayRow {
            calendar: calendar.to_string(),
            date,
            kind,
            name: field(3).to_string(),
            status,
            source: field(5).to_string(),
        });
    }
    Ok(rows)
}

/// One calendar, with its open windows precomputed as sim-time intervals for fast look-ups.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// What it was built from, so a variant (other hours, same days) can be built.
    spec: CalendarSpec,
    name: String,
    time_zone: Tz,
    /// UTC Unix seconds of sim time 0.
    epoch_s: i64,
    /// Weekend flags indexed by `Weekday::num_days_from_monday`.
    weekend: [bool; 7],
    /// Full closures (bundled and extra).
    closed: BTreeSet<NaiveDate>,
    /// Half-days (bundled and extra); a date also in `closed` is closed.
    half: BTreeSet<NaiveDate>,
    /// First and last precomputed local date.
    first_date: NaiveDate,
    last_date: NaiveDate,
    /// Per precomputed local date (index = days since `first_date`): the (open, cut-off)
    /// instants in sim time, `None` on non-business days.
    day_windows: Vec<Option<(Time, Time)>>,
    /// Business days among the precomputed dates, ascending.
    business: Vec<NaiveDate>,
    /// Non-empty open windows, ascending and disjoint (a DST gap can empty a window).
    windows: Vec<(Time, Time)>,
    /// Open seconds summed over `windows[..=i]`; lets `process` find its end in O(log n).
    open_s_through: Vec<Time>,
    /// Per UTC day from `index_from` (sim time, a midnight): the first window whose cut-off lies
    /// after that midnight. An instant's window is then found a step or two from its day's
    /// entry instead of by a binary search over the whole range (see `window_index_after`).
    index_from: Time,
    first_window_of_day: Vec<u32>,
    /// Whether a bundled holiday set was loaded (see `outside_bundled_years`).
    uses_bundled: bool,
    /// The zone's one UTC offset around the precomputed dates, if it has one there: lets
    /// `add_business_days` and `same_local_date` skip the time-zone look-ups. Checked on the
    /// first call that needs it (see `fixed`), so calendars that never do pay nothing.
    fixed: OnceLock<Option<FixedOffsetDays>>,
}

/// What the fast paths of a zone with one UTC offset over a calendar's range need. Day numbers
/// count local days since 1970-01-01 (the local wall-clock second divided by 86 400).
#[derive(Debug, Clone)]
struct FixedOffsetDays {
    /// The zone's offset (local minus UTC, seconds) at every instant in `from..=to`.
    offset_s: i64,
    /// Sim-time instants over which `offset_s` was checked: from two days before the first
    /// precomputed local date's midnight to two days after the last one's end.
    from: Time,
    to: Time,
    /// `epoch_s + offset_s`: added to sim time, gives the local wall-clock second.
    wall_shift_s: i64,
    /// Day numbers of the first and last precomputed local date.
    first_day: i64,
    last_day: i64,
    /// Day numbers of the business days (`Calendar::business`), ascending.
    business: Vec<i64>,
    /// Per day from `first_day` to `last_day`: how many of `business` fall on or before it (a
    /// look-up where a binary search, a chain of dependent loads, showed in profiles).
    business_through: Vec<u32>,
}

impl Calendar {
    /// Builds the calendar for sim time 0 = `epoch` (UTC), precomputing open windows for local
    /// dates from (epoch - 7 days) to (epoch + span_days + 7 days).
    /// Long because: one pass over the local dates builds the windows; weekends, holidays,
    /// half-days and extra closures share its running state.
    pub fn new(
        spec: &CalendarSpec,
        epoch: DateTime<Utc>,
        span_days: u32,
    ) -> Result<Calendar, CalendarError> {
        let calendar = spec.name.clone();
        let hours_ok = if spec.open_previous_evening {
            spec.open_min > spec.cutoff_min && spec.open_min < MINUTES_PER_DAY
        } else {
            spec.open_min < spec.cutoff_min
        };
        if !hours_ok || spec.cutoff_min > MINUTES_PER_DAY {
            return Err(CalendarError::BadHours {
                calendar,
                open_min: spec.open_min,
                cutoff_min: spec.cutoff_min,
            });
        }
        let half_after_open =
            spec.open_previous_evening || spec.half_day_cutoff_min > spec.open_min;
        if !half_after_open
            || spec.half_day_cutoff_min > spec.cutoff_min
            || spec.half_day_cutoff_min == 0
        {
            return Err(CalendarError::BadHalfDayCutoff {
                calendar,
                open_min: spec.open_min,
                cutoff_min: spec.cutoff_min,
                half_day_cutoff_min: spec.half_day_cutoff_min,
            });
        }
        if span_days > MAX_SPAN_DAYS {
            return Err(CalendarError::SpanTooLong {
                calendar,
                span_days,
                max_days: MAX_SPAN_DAYS,
            });
        }
        let epoch_s = epoch.timestamp();
        if !(-UTC_LIMIT_S..=UTC_LIMIT_S).contains(&epoch_s) {
            return Err(CalendarError::EpochOutOfRange {
                calendar,
                epoch: epoch.to_rfc3339(),
            });
        }

        let mut closed: BTreeSet<NaiveDate> = spec.extra_closed.iter().copied().collect();
        let mut half: BTreeSet<NaiveDate> = spec.extra_half.iter().copied().collect();
        if let Some(set) = &spec.holidays {
            if !BUNDLED_SETS.contains(&set.as_str()) {
                return Err(CalendarError::UnknownHolidaySet {
                    calendar,
                    set: set.clone(),
                });
            }
            for row in bundled_holidays()?.iter().filter(|r| &r.calendar == set) {
                match row.kind {
                    HolidayKind::Closed => closed.insert(row.date),
                    HolidayKind::Half => half.insert(row.date),
                };
            }
        }
        let mut weekend = [false; 7];
        for day in &spec.weekend {
            weekend[day.num_days_from_monday() as usize] = true;
        }

        let tz = spec.time_zone;
        let epoch_local = local_naive(tz, epoch_s).date();
        let out_of_range = || CalendarError::EpochOutOfRange {
            calendar: spec.name.clone(),
            epoch: epoch.to_rfc3339(),
        };
        let first_date = epoch_local
            .checked_sub_days(Days::new(MARGIN_DAYS))
            .ok_or_else(out_of_range)?;
        let last_date = epoch_local
            .checked_add_days(Days::new(u64::from(span_days) + MARGIN_DAYS))
            .ok_or_else(out_of_range)?;

        let mut cal = Calendar {
            spec: spec.clone(),
            name: spec.name.clone(),
            time_zone: tz,
            epoch_s,
            weekend,
            closed,
            half,
            first_date,
            last_date,
            day_windows: Vec::new(),
            business: Vec::new(),
            windows: Vec::new(),
            open_s_through: Vec::new(),
            index_from: 0,
            first_window_of_day: Vec::new(),
            uses_bundled: spec.holidays.is_some(),
            fixed: OnceLock::new(),
        };
        let mut open_s_total: Time = 0;
        for date in first_date.iter_days().take_while(|d| *d <= last_date) {
            if !cal.is_business_day(date) {
                cal.day_windows.push(None);
                continue;
            }
            let cutoff_min = if cal.half.contains(&date) {
                spec.half_day_cutoff_min
            } else {
                spec.cutoff_min
            };
            let open = if spec.open_previous_evening {
                let eve = date.pred_opt().unwrap_or(date);
                cal.local_minutes_to_sim(eve, spec.open_min)
            } else {
                cal.local_minutes_to_sim(date, spec.open_min)
            };
            let cutoff = cal.local_minutes_to_sim(date, cutoff_min);
            cal.day_windows.push(Some((open, cutoff)));
            cal.business.push(date);
            // Earliest-instant resolution is monotone in local time, so windows come out in
            // order and disjoint; a window swallowed by a DST gap (cutoff == open) is dropped.
            if cutoff > open {
                open_s_total += cutoff - open;
                cal.windows.push((open, cutoff));
                cal.open_s_through.push(open_s_total);
            }
        }
        debug_assert!(cal.windows.windows(2).all(|w| w[0].1 <= w[1].0));
        if let (Some(&(first_open, _)), Some(&(_, last_cutoff))) =
            (cal.windows.first(), cal.windows.last())
        {
            cal.index_from = first_open.div_euclid(DAY_S) * DAY_S;
            let days = (last_cutoff - cal.index_from).div_euclid(DAY_S) + 1;
            cal.first_window_of_day = (0..days)
                .map(|d| {
                    let midnight = cal.index_from + d * DAY_S;
                    cal.windows
                        .partition_point(|&(_, cutoff)| cutoff <= midnight)
                        as u32
                })
                .collect();
        }
        Ok(cal)
    }

    /// The specification it was built from.
    pub fn spec(&self) -> &CalendarSpec {
        &self.spec
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    /// First and last local date whose windows are precomputed.
    pub fn precomputed_dates(&self) -> (NaiveDate, NaiveDate) {
        (self.first_date, self.last_date)
    }

    /// The zone's UTC offset in seconds (local minus UTC) if it keeps a single one from two
    /// days before the precomputed dates to two days after them; None if it changes there
    /// (DST) or the dates lie near the edge of the supported range.
    pub fn fixed_offset_s(&self) -> Option<i64> {
        self.fixed().map(|f| f.offset_s)
    }

    /// The fast-path data of a zone with one offset over the range, checked on first use.
    fn fixed(&self) -> Option<&FixedOffsetDays> {
        self.fixed
            .get_or_init(|| {
                FixedOffsetDays::check(
                    self.time_zone,
                    self.epoch_s,
                    self.first_date,
                    self.last_date,
                    &self.business,
                )
            })
            .as_ref()
    }

    /// Local date of instant t in this calendar's zone.
    pub fn local_date(&self, t: Time) -> NaiveDate {
        local_naive(self.time_zone, self.epoch_s.saturating_add(t)).date()
    }

    /// Whether instants `a` and `b` fall on the same local date: [`Calendar::local_date`] of
    /// each, compared as day numbers (the local wall-clock second, clamped as there, divided
    /// into days), without building the dates.
    pub fn same_local_date(&self, a: Time, b: Time) -> bool {
        // Where the zone's one offset was checked, the wall-clock second is t + epoch + offset,
        // and no clamp applies (`FixedOffsetDays::check` keeps that span inside them).
        if let Some(f) = self.fixed().filter(|f| f.covers(a) && f.covers(b)) {
            return f.day(a) == f.day(b);
        }
        self.same_local_date_slow(a, b)
    }

    /// [`Calendar::same_local_date`] through the time zone, for any instants.
    fn same_local_date_slow(&self, a: Time, b: Time) -> bool {
        let day = |t: Time| {
            let utc_s = clamp_utc_s(self.epoch_s.saturating_add(t));
            clamp_utc_s(utc_s + utc_offset_s(self.time_zone, utc_s)).div_euclid(86_400)
        };
        day(a) == day(b)
    }

    /// Not a weekend day and not a full holiday (half-days ARE business days).
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        !self.weekend[date.weekday().num_days_from_monday() as usize]
            && !self.closed.contains(&date)
    }

    /// Half-day (bundled or extra)? A date that is also a full closure is not a half-day.
    pub fn is_half_day(&self, date: NaiveDate) -> bool {
        self.half.contains(&date) && !self.closed.contains(&date)
    }

    /// Index of the first window whose cut-off lies after t (the window t is in, or the next).
    fn window_index_after(&self, t: Time) -> usize {
        // The answer is at or after the first window ending after t's midnight (which is at or
        // before t), and every window between ends at or before t: step to it from there.
        let day = t.saturating_sub(self.index_from).div_euclid(DAY_S);
        let Some(&from) = usize::try_from(day)
            .ok()
            .and_then(|d| self.first_window_of_day.get(d))
        else {
            return self.windows.partition_point(|&(_, cutoff)| cutoff <= t);
        };
        let mut i = from as usize;
        while self.windows.get(i).is_some_and(|&(_, cutoff)| cutoff <= t) {
            i += 1;
        }
        i
    }

    /// Is the system open at t (open <= local time < cut-off of that day, on a business day)?
    pub fn is_open(&self, t: Time) -> bool {
        self.windows
            .get(self.window_index_after(t))
            .is_some_and(|&(open, _)| open <= t)
    }

    /// t itself if open at t, else the next opening instant; None if no opening lies within
    /// the precomputed range.
    pub fn next_open(&self, t: Time) -> Option<Time> {
        let &(open, _) = self.windows.get(self.window_index_after(t))?;
        Some(t.max(open))
    }

    /// A step that arrives at `arrive` and needs `work_s` seconds of open time: the work runs
    /// only while the system is open (waits for next opening after cut-off, over
    /// weekends/holidays) and the step completes at the returned instant. work_s <= 0 -> same
    /// as next_open(arrive). A step that completes exactly at a cut-off instant is complete
    /// (not rolled over). None if the work cannot finish within the precomputed range.
    pub fn process(&self, arrive: Time, work_s: Time) -> Option<Time> {
        let first = self.window_index_after(arrive);
        let &(open, cutoff) = self.windows.get(first)?;
        let start = arrive.max(open);
        if work_s <= 0 {
            return Some(start);
        }
        // Measure in "open seconds since the first precomputed window": the step ends where
        // that count reaches (count at start + work).
        let open_s_at_start = self.open_s_through[first] - (cutoff - start);
        let open_s_at_end = open_s_at_start.saturating_add(work_s);
        // Every window before `first` ends with less open time than that (the work starts in
        // or after it): most work ends in it or a few windows on, so look there first.
        let near = &self.open_s_through[first..(first + 4).min(self.open_s_through.len())];
        let last = match near.iter().position(|&through| through >= open_s_at_end) {
            Some(k) => first + k,
            None => self
                .open_s_through
                .partition_point(|&through| through < open_s_at_end),
        };
        let &(_, last_cutoff) = self.windows.get(last)?;
        Some(last_cutoff - (self.open_s_through[last] - open_s_at_end))
    }

    /// The open window (open instant, cut-off instant) in sim time of a local date, None if
    /// not a business day or out of range. (On a day whose whole window falls in a DST gap
    /// the two instants are equal.)
    pub fn window(&self, date: NaiveDate) -> Option<(Time, Time)> {
        if date < self.first_date || date > self.last_date {
            return None;
        }
        let index = usize::try_from((date - self.first_date).num_days()).ok()?;
        self.day_windows.get(index).copied().flatten()
    }

    /// The instant n business days after t: same local wall-clock time on the n-th next
    /// business day (if that wall time does not exist on that day because of a DST gap, the
    /// next valid instant; if it occurs twice, the earlier). n = 0 gives t. None if out of
    /// range.
    pub fn add_business_days(&self, t: Time, n: u32) -> Option<Time> {
        let Some(f) = self.fixed().filter(|f| f.covers(t)) else {
            return self.add_business_days_slow(t, n);
        };
        // The same steps as `add_business_days_slow`, on day numbers. t's wall-clock second is
        // t + epoch + offset (no clamp applies there), so its local date is `day` and its wall
        // time the remainder. The target business day D lies in the precomputed dates, so the
        // wall second W = D * 86 400 + that remainder maps back to UTC W - offset: that instant
        // lies within a day of D, inside the checked span, where the offset is `offset_s`; and
        // any other instant with wall clock W would have another offset, below a day in size
        // (chrono bounds offsets by ±86 400 s), so it would lie within a day of D as well, where
        // there is no other offset. So `local_to_utc_s` finds exactly one instant, W - offset,
        // which in sim time is t + (D - day) * 86 400. Sizes: |t| and the day numbers are
        // bounded by the checked span (about ±10 000 years in seconds), far from overflow.
        let day = f.day(t);
        if day < f.first_day || day > f.last_day {
            return None;
        }
        if n == 0 {
            return Some(t);
        }
        // Business days on or before `day` (`day` is in range, checked above).
        let after = f.business_through[(day - f.first_day) as usize] as usize;
        let target = *f.business.get(after.checked_add(n as usize - 1)?)?;
        Some(t + (target - day) * DAY_S)
    }

    /// [`Calendar::add_business_days`] through the time zone, for any instant and zone.
    fn add_business_days_slow(&self, t: Time, n: u32) -> Option<Time> {
        let local = local_naive(self.time_zone, self.epoch_s.saturating_add(t));
        let date = local.date();
        if date < self.first_date || date > self.last_date {
            return None;
        }
        if n == 0 {
            return Some(t);
        }
        let after = self.business.partition_point(|d| *d <= date);
        let target = *self.business.get(after.checked_add(n as usize - 1)?)?;
        let utc_s = local_to_utc_s(self.time_zone, target.and_time(local.time()));
        Some(utc_s - self.epoch_s)
    }

    /// Business days (local dates) in [from, to) — used to spread invoice arrivals.
    pub fn business_days(&self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        from.iter_days()
            .take_while(|d| *d < to)
            .filter(|d| self.is_business_day(*d))
            .collect()
    }

    /// Whether this calendar uses a bundled holiday set but its precomputed dates after sim
    /// time 0 run outside the years the bundled file covers, so holidays there are missing.
    /// Callers can warn on this.
    pub fn outside_bundled_years(&self) -> bool {
        let start_year = self.local_date(0).year();
        self.uses_bundled
            && (start_year < BUNDLED_YEARS.0 || self.last_date.year() > BUNDLED_YEARS.1)
    }

    /// Sim time of a local date plus minutes after its midnight (1440 = next midnight).
    fn local_minutes_to_sim(&self, date: NaiveDate, minutes: u32) -> Time {
        let midnight = date.and_time(NaiveTime::MIN);
        let local = midnight
            .checked_add_signed(TimeDelta::seconds(i64::from(minutes) * MINUTE_S))
            .unwrap_or(midnight);
        local_to_utc_s(self.time_zone, local) - self.epoch_s
    }
}

/// Unix day number of a date (days since 1970-01-01).
fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - CE_TO_UNIX_DAYS
}

impl FixedOffsetDays {
    /// The fast-path data if `tz` has one UTC offset at every UTC second from two days before
    /// the first precomputed local date (its midnight read as UTC) to two days after the end
    /// of the last one; None if it does not, or if that span comes within a day of the clamped
    /// edge of supported instants (so no clamp applies to an instant or its wall clock inside).
    ///
    /// The offset is read every [`OFFSET_SAMPLE_S`] and at the span's last second. Readings that
    /// all agree could only miss a change if the zone left that offset and came back between two
    /// of them, within 6 h. In the tz database of chrono-tz 0.10.4 (pinned in Cargo.toml) the
    /// shortest such excursion, over all its zones, lasts 167 h (a week of summer time: Brazil's
    /// north-east in October 2000, Gaza and Hebron as predicted for October 2040), so none can
    /// hide between readings.
    fn check(
        tz: Tz,
        epoch_s: i64,
        first_date: NaiveDate,
        last_date: NaiveDate,
        business: &[NaiveDate],
    ) -> Option<FixedOffsetDays> {
        let (first_day, last_day) = (day_number(first_date), day_number(last_date));
        let (from_s, to_s) = ((first_day - 2) * DAY_S, (last_day + 3) * DAY_S);
        if from_s < -UTC_LIMIT_S + DAY_S || to_s > UTC_LIMIT_S - DAY_S {
            return None;
        }
        let offset_s = utc_offset_s(tz, from_s);
        let mut at = from_s;
        while at < to_s {
            at = (at + OFFSET_SAMPLE_S).min(to_s);
            if utc_offset_s(tz, at) != offset_s {
                return None;
            }
        }
        let business: Vec<i64> = business.iter().map(|&d| day_number(d)).collect();
        let mut through = 0;
        let business_through = (first_day..=last_day)
            .map(|day| {
                while business.get(through).is_some_and(|&d| d <= day) {
                    through += 1;
                }
                through as u32
            })
            .collect();
        Some(FixedOffsetDays {
            offset_s,
            from: from_s - epoch_s,
            to: to_s - epoch_s,
            wall_shift_s: epoch_s + offset_s,
            first_day,
            last_day,
            business,
            business_through,
        })
    }

    /// Whether sim time t lies where the offset was checked.
    fn covers(&self, t: Time) -> bool {
        (self.from..=self.to).contains(&t)
    }

    /// Local day number of sim time t (only for t it covers).
    fn day(&self, t: Time) -> i64 {
        (t + self.wall_shift_s).div_euclid(DAY_S)
    }
}

/// The earliest instant >= t at which BOTH calendars are open (a bilateral hop needs both
/// RTGS systems open). None if none in range.
pub fn next_joint_open(a: &Calendar, b: &Calendar, t: Time) -> Option<Time> {
    // Leapfrog: the earliest joint instant is at or after a's next opening, and at or after
    // b's next opening from there. Each round that does not finish moves into a later window
    // of b, so the number of rounds is bounded by the window counts.
    let max_rounds = a.windows.len() + b.windows.len() + 2;
    let mut from = t;
    for _ in 0..max_rounds {
        let a_open = a.next_open(from)?;
        let b_open = b.next_open(a_open)?;
        if b_open == a_open {
            return Some(a_open);
        }
        from = b_open;
    }
    None
}

/// UTC seconds clamped to the range where chrono conversions cannot overflow.
fn clamp_utc_s(utc_s: i64) -> i64 {
    utc_s.clamp(-UTC_LIMIT_S, UTC_LIMIT_S)
}

/// Naive UTC date-time of clamped Unix seconds.
fn utc_naive(utc_s: i64) -> NaiveDateTime {
    DateTime::from_timestamp(clamp_utc_s(utc_s), 0)
        .map(|dt| dt.naive_utc())
        .unwrap_or_default()
}

/// Offset of the zone from UTC, in seconds, at a UTC instant.
fn utc_offset_s(tz: Tz, utc_s: i64) -> i64 {
    i64::from(
        tz.offset_from_utc_datetime(&utc_naive(utc_s))
            .fix()
            .local_minus_utc(),
    )
}

/// Local wall-clock date-time of a UTC instant (computed by hand: chrono's own
/// `naive_local` panics at the edges of its range).
fn local_naive(tz: Tz, utc_s: i64) -> NaiveDateTime {
    let utc_s = clamp_utc_s(utc_s);
    utc_naive(utc_s + utc_offset_s(tz, utc_s))
}

/// UTC Unix seconds of a local wall-clock time: the earlier instant if the time occurs twice
/// (DST fall-back), the first valid instant after the gap if it does not exist (spring-forward).
fn local_to_utc_s(tz: Tz, local: NaiveDateTime) -> i64 {
    let wall_s = local.and_utc().timestamp();
    match tz.offset_from_local_datetime(&local) {
        LocalResult::Single(offset) => wall_s - i64::from(offset.fix().local_minus_utc()),
        LocalResult::Ambiguous(first, second) => {
            let first_s = wall_s - i64::from(first.fix().local_minus_utc());
            let second_s = wall_s - i64::from(second.fix().local_minus_utc());
            first_s.min(second_s)
        }
        LocalResult::None => {
            // In a gap the zone's wall clock jumps over `wall_s`; find the first instant whose
            // wall clock is at or past it. Around a single transition, wall time is monotone in
            // UTC, and the bounds hold because offsets are far smaller than GAP_SEARCH_S.
            let wall_at = |utc_s: i64| utc_s + utc_offset_s(tz, utc_s);
            let mut before = wall_s - GAP_SEARCH_S;
            let mut at_or_after = wall_s + GAP_SEARCH_S;
            while at_or_after - before > 1 {
                let mid = before + (at_or_after - before) / 2;
                if wall_at(mid) >= wall_s {
                    at_or_after = mid;
                } else {
                    before = mid;
                }
            }
            at_or_after
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::HOUR_S;
    use chrono_tz::{America, Asia, Europe};

    fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).single().unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn spec(name: &str, tz: Tz, open_min: u32, cutoff_min: u32, set: Option<&str>) -> CalendarSpec {
        CalendarSpec {
            name: name.to_string(),
            time_zone: tz,
            open_min,
            cutoff_min,
            half_day_cutoff_min: 780,
            weekend: vec![Weekday::Sat, Weekday::Sun],
            holidays: set.map(str::to_string),
            extra_closed: Vec::new(),
            extra_half: Vec::new(),
            open_previous_evening: false,
        }
    }

    /// Türkiye EFT 08:00–17:30 Europe/Istanbul (UTC+3), half-days 13:00.
    fn tr(epoch: DateTime<Utc>, span_days: u32) -> Calendar {
        Calendar::new(
            &spec("TR", Europe::Istanbul, 480, 1050, Some("TR")),
            epoch,
            span_days,
        )
        .unwrap()
    }

    /// Kazakhstan 08:00–19:00 Asia/Almaty (UTC+5 since 1 March 2024).
    fn kz(epoch: DateTime<Utc>, span_days: u32) -> Calendar {
        Calendar::new(
            &spec("KZ", Asia::Almaty, 480, 1140, Some("KZ")),
            epoch,
            span_days,
        )
        .unwrap()
    }

    /// US 09:00–18:00 America/New_York with Fed holidays.
    fn us(epoch: DateTime<Utc>, span_days: u32) -> Calendar {
        Calendar::new(
            &spec("US", America::New_York, 540, 1080, Some("US")),
            epoch,
            span_days,
        )
        .unwrap()
    }

    // Epoch Tue 1 Apr 2025 00:00 UTC: sim time of day d in April = (d - 1) * DAY_S.

    #[test]
    fn after_friday_cutoff_waits_for_monday_opening_in_istanbul() {
        let cal = tr(utc(2025, 4, 1), 60);
        // Fri 4 Apr 18:00 Istanbul = 15:00 UTC = 3 d + 15 h = 313_200.
        let friday_evening = 3 * DAY_S + 15 * HOUR_S;
        assert_eq!(friday_evening, 313_200);
        assert!(!cal.is_open(friday_evening));
        // Mon 7 Apr 08:00 Istanbul = 05:00 UTC = 6 d + 5 h = 536_400.
        assert_eq!(cal.next_open(friday_evening), Some(536_400));
        assert_eq!(cal.process(friday_evening, 0), Some(536_400));
        // Saturday noon waits for the same opening.
        assert_eq!(cal.next_open(4 * DAY_S + 12 * HOUR_S), Some(536_400));
        // Opening instant itself is open and returned unchanged.
        assert!(cal.is_open(536_400));
        assert_eq!(cal.next_open(536_400), Some(536_400));
    }

    #[test]
    fn holiday_waits_for_next_business_day() {
        let cal = tr(utc(2025, 4, 1), 60);
        assert!(!cal.is_business_day(date(2025, 4, 23)));
        assert_eq!(cal.window(date(2025, 4, 23)), None);
        // Wed 23 Apr 2025 10:00 Istanbul = 07:00 UTC = 22 d + 7 h = 1_926_000 (holiday).
        assert!(!cal.is_open(1_926_000));
        // Thu 24 Apr 08:00 Istanbul = 05:00 UTC = 23 d + 5 h = 2_005_200.
        assert_eq!(cal.next_open(1_926_000), Some(2_005_200));

        // Kazakhstan Nauryz 2025: Fri 21 Mar, plus Mon 24 and Tue 25 Mar (roll-over of the
        // Sat/Sun Nauryz days; E rows in holidays.csv). Epoch Mon 17 Mar 2025 00:00 UTC.
        let cal = kz(utc(2025, 3, 17), 30);
        // Fri 21 Mar 10:00 Almaty = 05:00 UTC = 4 d + 5 h = 363_600.
        // Next opening: Wed 26 Mar 08:00 Almaty = 03:00 UTC = 9 d + 3 h = 788_400.
        assert_eq!(cal.next_open(363_600), Some(788_400));
        assert_eq!(
            cal.business_days(date(2025, 3, 17), date(2025, 3, 31)),
            vec![
                date(2025, 3, 17),
                date(2025, 3, 18),
                date(2025, 3, 19),
                date(2025, 3, 20),
                date(2025, 3, 26),
                date(2025, 3, 27),
                date(2025, 3, 28),
            ]
        );
    }

    #[test]
    fn turkish_half_day_closes_at_13_00() {
        // Epoch Mon 27 Oct 2025 00:00 UTC. Tue 28 Oct is a half-day, Wed 29 Oct closed.
        let cal = tr(utc(2025, 10, 27), 10);
        assert!(cal.is_half_day(date(2025, 10, 28)));
        assert!(cal.is_business_day(date(2025, 10, 28)));
        assert!(!cal.is_business_day(date(2025, 10, 29)));
        // 28 Oct 08:00 local = 05:00 UTC = 1 d + 5 h = 104_400; 13:00 local = 10:00 UTC = 122_400.
        assert_eq!(cal.window(date(2025, 10, 28)), Some((104_400, 122_400)));
        assert!(cal.is_open(122_399));
        assert!(!cal.is_open(122_400));
        // 1 h of work arriving 12:30 local (09:30 UTC = 120_600): 30 min on the 28th, the
        // 29th is closed, the other 30 min from Thu 30 Oct 08:00 local -> 08:30 local =
        // 05:30 UTC = 3 d + 5.5 h = 279_000.
        assert_eq!(cal.process(120_600, HOUR_S), Some(279_000));
    }

    #[test]
    fn new_york_daylight_saving_moves_the_window_in_utc() {
        // Epoch Mon 3 Mar 2025 00:00 UTC; DST starts Sun 9 Mar 2025.
        let cal = us(utc(2025, 3, 3), 30);
        // Fri 7 Mar 22:30 UTC = 17:30 EST (UTC-5): open. 4 d + 22.5 h = 426_600.
        assert!(cal.is_open(426_600));
        // Mon 10 Mar 22:30 UTC = 18:30 EDT (UTC-4): after cut-off. 7 d + 22.5 h = 685_800.
        assert!(!cal.is_open(685_800));
        // Opening 09:00 local: 14:00 UTC on 7 Mar (4 d + 14 h = 396_000), 13:00 UTC on 10 Mar
        // (7 d + 13 h = 651_600); cut-off 18:00 local: 23:00 UTC on 7 Mar (428_400), 22:00 UTC
        // on 10 Mar (684_000).
        assert_eq!(cal.window(date(2025, 3, 7)), Some((396_000, 428_400)));
        assert_eq!(cal.window(date(2025, 3, 10)), Some((651_600, 684_000)));
        // After Monday's cut-off: Tue 11 Mar 13:00 UTC = 8 d + 13 h = 738_000.
        assert_eq!(cal.next_open(685_800), Some(738_000));
        // Local dates follow the zone: 10 Mar 02:00 UTC is still 9 Mar in New York.
        assert_eq!(cal.local_date(7 * DAY_S + 2 * HOUR_S), date(2025, 3, 9));
    }

    #[test]
    fn process_consumes_work_only_while_open() {
        let cal = tr(utc(2025, 4, 1), 60);
        // 2 h starting Mon 7 Apr 16:30 local (13:30 UTC = 6 d + 13.5 h = 567_000): 1 h until
        // the 17:30 cut-off, 1 h from Tue 8 Apr 08:00 -> 09:00 local = 06:00 UTC = 7 d + 6 h
        // = 626_400.
        assert_eq!(cal.process(567_000, 2 * HOUR_S), Some(626_400));
        // Same on Fri 4 Apr 16:30 local (3 d + 13.5 h = 307_800): ends Mon 7 Apr 09:00 local
        // = 6 d + 6 h = 540_000.
        assert_eq!(cal.process(307_800, 2 * HOUR_S), Some(540_000));
        // Exactly 1 h from 16:30 ends at the 17:30 cut-off (14:30 UTC = 3 d + 14.5 h =
        // 311_400) and is not rolled over to Monday.
        assert_eq!(cal.process(307_800, HOUR_S), Some(311_400));
        // Arriving on Saturday: 1 h from Monday's 08:00 opening -> 09:00 local = 540_000.
        assert_eq!(cal.process(4 * DAY_S, HOUR_S), Some(540_000));
        // Two full 9.5 h days from Mon 7 Apr 08:00 local (536_400) end at Tue 8 Apr 17:30
        // local = 14:30 UTC = 7 d + 14.5 h = 657_000.
        assert_eq!(cal.process(536_400, 2 * 34_200), Some(657_000));
        // Negative work is treated as none.
        assert_eq!(cal.process(307_800, -5), Some(307_800));
        // Work that cannot finish inside the precomputed range.
        assert_eq!(cal.process(0, 400 * DAY_S), None);
    }

    #[test]
    fn indexed_look_ups_are_the_binary_searches() {
        // Every instant's window and every step's end, against the plain binary searches, in
        // New York (DST, the evening-before opening) and Istanbul, inside and past the range.
        let epoch = utc(2025, 3, 1);
        for cal in [us(epoch, 60), tr(epoch, 60)] {
            let mut t = -12 * DAY_S;
            while t < 80 * DAY_S {
                let plain = cal.windows.partition_point(|&(_, cutoff)| cutoff <= t);
                assert_eq!(cal.window_index_after(t), plain, "{t}");
                for work in [0, 1, 600, 3_600, 9 * 3_600, 40 * 3_600, 30 * DAY_S] {
                    let first = cal.windows.get(plain).copied();
                    let want = first.and_then(|(open, cutoff)| {
                        let start = t.max(open);
                        if work <= 0 {
                            return Some(start);
                        }
                        let at_end = cal.open_s_through[plain] - (cutoff - start) + work;
                        let last = cal.open_s_through.partition_point(|&x| x < at_end);
                        let &(_, last_cutoff) = cal.windows.get(last)?;
                        Some(last_cutoff - (cal.open_s_through[last] - at_end))
                    });
                    assert_eq!(cal.process(t, work), want, "{t} + {work}");
                }
                t += 1_799;
            }
            for t in [i64::MIN, i64::MAX, -UTC_LIMIT_S, UTC_LIMIT_S] {
                let plain = cal.windows.partition_point(|&(_, cutoff)| cutoff <= t);
                assert_eq!(cal.window_index_after(t), plain, "{t}");
            }
        }
    }

    #[test]
    fn same_local_date_compares_local_dates() {
        // Across New York's DST changes and midnights, and at the clamped edges.
        let epoch = utc(2025, 3, 1);
        let cal = us(epoch, 400);
        let points: Vec<Time> = (0..2_000)
            .map(|i| i * 4_337 - 86_400)
            .chain([i64::MIN, i64::MAX, -UTC_LIMIT_S, UTC_LIMIT_S])
            .collect();
        for w in points.windows(2) {
            for (a, b) in [
                (w[0], w[1]),
                (w[0], w[0].saturating_add(1)),
                (w[1], w[1].saturating_sub(3_600)),
            ] {
                assert_eq!(
                    cal.same_local_date(a, b),
                    cal.local_date(a) == cal.local_date(b),
                    "{a} {b}"
                );
            }
        }
    }

    /// Every bundled zone with its holiday set over a default year from 1 Jan 2025, three weeks
    /// from 20 Oct 2025 (Europe and New York leave DST in them) and a month from 20 Feb 2024
    /// (Almaty changes its offset in it); Fedwire's evening-before day; a UTC calendar open
    /// every day; and an epoch near the clamped edge of instants: the calendars the fast paths
    /// serve and the ones that fall back.
    fn differential_calendars() -> Vec<Calendar> {
        let zones = [
            ("TR", Europe::Istanbul),
            ("AZ", Asia::Baku),
            ("KZ", Asia::Almaty),
            ("KG", Asia::Bishkek),
            ("UZ", Asia::Tashkent),
            ("TM", Asia::Ashgabat),
            ("HU", Europe::Budapest),
            ("US", America::New_York),
        ];
        let mut cals = Vec::new();
        for (set, tz) in zones {
            let s = spec(set, tz, 480, 1050, Some(set));
            cals.push(Calendar::new(&s, utc(2025, 1, 1), 395).unwrap());
            cals.push(Calendar::new(&s, utc(2025, 10, 20), 20).unwrap());
            cals.push(Calendar::new(&s, utc(2024, 2, 20), 30).unwrap());
        }
        let mut fed = spec("US", America::New_York, 21 * 60, 18 * 60, Some("US"));
        fed.open_previous_evening = true;
        cals.push(Calendar::new(&fed, utc(2025, 1, 1), 395).unwrap());
        // No fast path near the edge: the checked span would run past it.
        let mut all_days = spec("UTC", Tz::UTC, 480, 1050, None);
        all_days.weekend.clear();
        cals.push(Calendar::new(&all_days, utc(2025, 1, 1), 30).unwrap());
        let near_edge = DateTime::from_timestamp(UTC_LIMIT_S - 10 * DAY_S, 0).unwrap();
        cals.push(
            Calendar::new(
                &spec("TR", Europe::Istanbul, 480, 1050, None),
                near_edge,
                30,
            )
            .unwrap(),
        );
        cals
    }

    /// Instants to compare the two paths at: the ends of the checked span and of the
    /// precomputed dates, every local midnight in range (and the seconds either side), pseudo-
    /// random instants over the range and far beyond it, and the extremes of i64.
    fn differential_instants(cal: &Calendar) -> Vec<Time> {
        let mut ts: Vec<Time> = Vec::new();
        let first_midnight = cal.local_minutes_to_sim(cal.first_date, 0);
        let last_midnight = cal.local_minutes_to_sim(cal.last_date, MINUTES_PER_DAY);
        let mut edges = vec![
            first_midnight,
            last_midnight,
            -UTC_LIMIT_S - cal.epoch_s,
            UTC_LIMIT_S - cal.epoch_s,
            0,
        ];
        if let Some(f) = cal.fixed() {
            edges.extend([f.from, f.to]);
        }
        for edge in edges {
            for d in [
                -2 * DAY_S,
                -DAY_S,
                -3_600,
                -1,
                0,
                1,
                3_600,
                DAY_S,
                2 * DAY_S,
            ] {
                ts.push(edge.saturating_add(d));
            }
        }
        for date in cal
            .first_date
            .iter_days()
            .take_while(|d| *d <= cal.last_date)
        {
            let midnight = cal.local_minutes_to_sim(date, 0);
            ts.extend([midnight - 1, midnight, midnight + 1]);
        }
        // splitmix64: fixed pseudo-random instants, the same every run.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let span = last_midnight - first_midnight + 8 * DAY_S;
        for _ in 0..2_000 {
            let r = next();
            ts.push(first_midnight - 4 * DAY_S + (r % span as u64) as i64);
        }
        for _ in 0..200 {
            ts.push(next() as i64);
            ts.push((next() as i64) >> 20);
        }
        ts.extend([
            i64::MIN,
            i64::MIN + 1,
            i64::MAX,
            i64::MAX - 1,
            -1_000_000 * DAY_S,
        ]);
        ts
    }

    #[test]
    fn fast_paths_match_the_time_zone_paths() {
        let mut fast_served = 0;
        for cal in differential_calendars() {
            let ts = differential_instants(&cal);
            for (i, &t) in ts.iter().enumerate() {
                for n in [0, 1, 2, 5, u32::MAX] {
                    assert_eq!(
                        cal.add_business_days(t, n),
                        cal.add_business_days_slow(t, n),
                        "{} from {}: add_business_days({t}, {n})",
                        cal.name,
                        cal.first_date
                    );
                }
                let others = [
                    t.saturating_add(1),
                    t.saturating_sub(1),
                    t.saturating_add(DAY_S - 1),
                    t.saturating_sub(DAY_S),
                    t.saturating_add(3 * 3_600),
                    ts[(i * 7 + 3) % ts.len()],
                ];
                for u in others {
                    assert_eq!(
                        cal.same_local_date(t, u),
                        cal.same_local_date_slow(t, u),
                        "{} from {}: same_local_date({t}, {u})",
                        cal.name,
                        cal.first_date
                    );
                }
            }
            if cal.fixed().is_some() {
                fast_served += 1;
            }
        }
        // Türkiye, Azerbaijan, Kyrgyzstan, Uzbekistan and Turkmenistan over all three spans,
        // Kazakhstan over the two in 2025, Hungary's February 2024 (before its DST starts on
        // 31 March), and the UTC calendar; not New York, nor Hungary across DST, nor the epoch
        // near the edge.
        assert_eq!(fast_served, 19);
    }

    #[test]
    fn only_zones_with_one_offset_over_the_range_take_the_fast_paths() {
        let year = |tz: Tz| Calendar::new(&spec("X", tz, 480, 1050, None), utc(2025, 1, 1), 395);
        for (tz, hours) in [
            (Europe::Istanbul, 3),
            (Asia::Baku, 4),
            (Asia::Almaty, 5),
            (Asia::Bishkek, 6),
            (Asia::Tashkent, 5),
            (Asia::Ashgabat, 5),
            (Tz::UTC, 0),
        ] {
            assert_eq!(
                year(tz).unwrap().fixed_offset_s(),
                Some(hours * 3_600),
                "{tz}"
            );
        }
        // Daylight saving time.
        assert_eq!(year(America::New_York).unwrap().fixed_offset_s(), None);
        assert_eq!(year(Europe::Budapest).unwrap().fixed_offset_s(), None);
        // A New York range in winter has one offset (dates 24 Dec .. 10 Jan, checked to the end
        // of 12 Jan; DST starts on 9 Mar); one over the change has not.
        let winter = Calendar::new(
            &spec("US", America::New_York, 540, 1080, None),
            utc(2025, 1, 1),
            3,
        )
        .unwrap();
        assert_eq!(winter.fixed_offset_s(), Some(-5 * 3_600));
        let march = Calendar::new(
            &spec("US", America::New_York, 540, 1080, None),
            utc(2025, 3, 1),
            3,
        )
        .unwrap();
        assert_eq!(march.fixed_offset_s(), None);
        // Almaty's move to UTC+5 on 1 Mar 2024, and the days just either side of the check.
        let almaty = |y, m, d, span| {
            Calendar::new(
                &spec("KZ", Asia::Almaty, 480, 1140, None),
                utc(y, m, d),
                span,
            )
            .unwrap()
            .fixed_offset_s()
        };
        assert_eq!(almaty(2024, 2, 20, 30), None);
        // Range 13 Feb .. 22 Feb + 7 d = 29 Feb, checked to the end of 2 Mar local: refused.
        assert_eq!(almaty(2024, 2, 20, 2), None);
        // Range from 12 Mar - 7 d = 5 Mar, checked from 3 Mar 00:00 (as UTC): UTC+5 throughout.
        assert_eq!(almaty(2024, 3, 12, 10), Some(5 * 3_600));
    }

    #[test]
    fn add_business_days_skips_weekends_and_holidays() {
        let cal = tr(utc(2025, 4, 1), 60);
        // Tue 22 Apr 10:00 local (07:00 UTC = 21 d + 7 h = 1_839_600) + 1 business day:
        // 23 Apr is a holiday -> Thu 24 Apr 10:00 local = 23 d + 7 h = 2_012_400.
        assert_eq!(cal.add_business_days(1_839_600, 1), Some(2_012_400));
        // + 3: 24 Apr, 25 Apr, (weekend), Mon 28 Apr 10:00 local = 27 d + 7 h = 2_358_000.
        assert_eq!(cal.add_business_days(1_839_600, 3), Some(2_358_000));
        // Fri 4 Apr 15:00 local (12:00 UTC = 3 d + 12 h = 302_400) + 1 -> Mon 7 Apr 15:00
        // local = 6 d + 12 h = 561_600.
        assert_eq!(cal.add_business_days(302_400, 1), Some(561_600));
        assert_eq!(cal.add_business_days(302_400, 0), Some(302_400));
        assert_eq!(cal.add_business_days(302_400, 1_000), None);
    }

    #[test]
    fn add_business_days_across_dst_gap_and_overlap() {
        // Every day a business day, no holidays, New York.
        let mut all_days = spec("NY7", America::New_York, 540, 1080, None);
        all_days.weekend.clear();
        // Spring forward: epoch Sat 8 Mar 2025 00:00 UTC. Sat 02:30 EST = 07:30 UTC = 27_000.
        let cal = Calendar::new(&all_days, utc(2025, 3, 8), 10).unwrap();
        // Sun 9 Mar 02:30 does not exist; next valid instant is 03:00 EDT = 07:00 UTC =
        // 1 d + 7 h = 111_600.
        assert_eq!(cal.add_business_days(27_000, 1), Some(111_600));
        // Mon 10 Mar 02:30 EDT = 06:30 UTC = 2 d + 6.5 h = 196_200.
        assert_eq!(cal.add_business_days(27_000, 2), Some(196_200));
        // Fall back: epoch Sat 1 Nov 2025 00:00 UTC. Sat 01:30 EDT = 05:30 UTC = 19_800.
        let cal = Calendar::new(&all_days, utc(2025, 11, 1), 10).unwrap();
        // Sun 2 Nov 01:30 occurs twice; the earlier is 01:30 EDT = 05:30 UTC = 1 d + 5.5 h
        // = 106_200.
        assert_eq!(cal.add_business_days(19_800, 1), Some(106_200));
        // Mon 3 Nov 01:30 EST = 06:30 UTC = 2 d + 6.5 h = 196_200.
        assert_eq!(cal.add_business_days(19_800, 2), Some(196_200));
    }

    #[test]
    fn window_inside_a_dst_gap_is_empty_and_skipped() {
        // 02:00–02:30 local on Sun 9 Mar 2025 lies wholly in New York's gap: both ends resolve
        // to 03:00 EDT = 07:00 UTC = 1 d + 7 h = 111_600 (epoch Sat 8 Mar 2025 00:00 UTC).
        let mut gap = spec("GAP", America::New_York, 120, 150, None);
        gap.half_day_cutoff_min = 150;
        gap.weekend.clear();
        let cal = Calendar::new(&gap, utc(2025, 3, 8), 5).unwrap();
        assert_eq!(cal.window(date(2025, 3, 9)), Some((111_600, 111_600)));
        assert!(!cal.is_open(111_600));
        // Next opening: Mon 10 Mar 02:00 EDT = 06:00 UTC = 2 d + 6 h = 194_400.
        assert_eq!(cal.next_open(100_000), Some(194_400));
    }

    #[test]
    fn joint_opening_of_istanbul_and_almaty() {
        // TR 08:00–17:30 UTC+3 = 05:00–14:30 UTC; KZ 08:00–19:00 UTC+5 = 03:00–14:00 UTC;
        // overlap 05:00–14:00 UTC. Epoch Tue 1 Apr 2025 00:00 UTC.
        let (tr, kz) = (tr(utc(2025, 4, 1), 60), kz(utc(2025, 4, 1), 60));
        // Wed 2 Apr 04:00 UTC (KZ open, TR not yet) -> 05:00 UTC = 1 d + 5 h = 104_400.
        assert_eq!(next_joint_open(&tr, &kz, DAY_S + 4 * HOUR_S), Some(104_400));
        assert_eq!(next_joint_open(&kz, &tr, DAY_S + 4 * HOUR_S), Some(104_400));
        // 13:59:59 UTC is jointly open; 14:00 UTC (KZ cut-off) is not -> Thu 3 Apr 05:00 UTC
        // = 2 d + 5 h = 190_800.
        assert_eq!(next_joint_open(&tr, &kz, 136_799), Some(136_799));
        assert_eq!(next_joint_open(&tr, &kz, 136_800), Some(190_800));
        // One side on holiday: Tue 1 Apr 2025 is Ramazan Bayramı day 3 in Türkiye while KZ is
        // open 03:00–14:00 UTC -> Wed 2 Apr 05:00 UTC = 104_400.
        assert_eq!(next_joint_open(&tr, &kz, 0), Some(104_400));
        // Wed 7 May 2025 (36 d) is Defender of the Fatherland Day in KZ, TR open -> Thu 8 May
        // 05:00 UTC = 37 d + 5 h = 3_214_800.
        assert_eq!(next_joint_open(&tr, &kz, 36 * DAY_S), Some(3_214_800));
        // A calendar that is never open: bounded search, None.
        let mut never = spec("NEVER", Asia::Almaty, 480, 1140, None);
        never.weekend = vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        let never = Calendar::new(&never, utc(2025, 4, 1), 60).unwrap();
        assert_eq!(next_joint_open(&tr, &never, 0), None);
    }

    #[test]
    fn bundled_csv_parses_and_is_well_formed() {
        let rows = bundled_holidays().unwrap();
        assert!(rows.len() > 100);
        let sets = bundled_holiday_sets();
        assert_eq!(sets, vec!["TR", "AZ", "KZ", "KG", "UZ", "TM", "HU", "US"]);
        for row in rows {
            assert!(sets.contains(&row.calendar.as_str()), "{row:?}");
            assert!((2025..=2026).contains(&row.date.year()), "{row:?}");
            assert!(!row.source.is_empty() && !row.name.is_empty(), "{row:?}");
        }
        for set in &sets {
            for year in [2025, 2026] {
                assert!(
                    rows.iter()
                        .any(|r| r.calendar == *set && r.date.year() == year),
                    "{set} has no {year} rows"
                );
            }
        }
        // Weekends are closed anyway, so the file lists only the weekdays a holiday closes.
        assert!(
            rows.iter()
                .all(|r| r.date.weekday().num_days_from_monday() < 5)
        );
        // Half-days are a Turkish institution only.
        assert!(
            rows.iter()
                .all(|r| r.kind == HolidayKind::Closed || r.calendar == "TR")
        );
    }

    #[test]
    fn parser_rejects_malformed_rows() {
        let header = "calendar,date,kind,name,status,source\n";
        let parse = |body: &str| parse_holidays(&format!("{header}{body}"));
        assert!(parse("TR,2025-04-23,closed,x,C,src\n").is_ok());
        assert!(matches!(
            parse("XX,2025-04-23,closed,x,C,src\n"),
            Err(CalendarError::BundledData { line: 2, .. })
        ));
        assert!(parse("TR,2024-04-23,closed,x,C,src\n").is_err());
        assert!(parse("TR,2025-04-23,shut,x,C,src\n").is_err());
        assert!(parse("TR,2025-04-23,closed,x,?,src\n").is_err());
        assert!(parse("TR,2025-04-23,closed,x,C,\n").is_err());
        assert!(parse("TR,2025-04-23,closed,x,C,a\nTR,2025-04-23,half,y,C,b\n").is_err());
        assert!(parse_holidays("date,calendar\n").is_err());
    }

    #[test]
    fn us_holidays_follow_the_fed_rule() {
        let rows = bundled_holidays().unwrap();
        let us_2025: Vec<NaiveDate> = rows
            .iter()
            .filter(|r| r.calendar == "US" && r.date.year() == 2025)
            .map(|r| r.date)
            .collect();
        let expected: Vec<NaiveDate> = [
            (1, 1),
            (1, 20),
            (2, 17),
            (5, 26),
            (6, 19),
            (7, 4),
            (9, 1),
            (10, 13),
            (11, 11),
            (11, 27),
            (12, 25),
        ]
        .iter()
        .map(|&(m, d)| date(2025, m, d))
        .collect();
        assert_eq!(us_2025, expected);
        // Fed rule: no weekday listed for a Saturday holiday, and nothing on a weekend.
        assert!(
            rows.iter().filter(|r| r.calendar == "US").all(|r| r
                .date
                .weekday()
                .num_days_from_monday()
                < 5)
        );
        let cal = us(utc(2025, 1, 1), 730);
        // 4 July 2026 is a Saturday: the Fed is open on Friday 3 July.
        assert!(cal.is_business_day(date(2026, 7, 3)));
        assert!(!cal.is_business_day(date(2025, 11, 27)));
        // 9 Jan 2025 (national day of mourning): Fed systems operated normally.
        assert!(cal.is_business_day(date(2025, 1, 9)));
    }

    /// Western Easter Sunday (the anonymous Gregorian algorithm), to check Hungary's moving
    /// holidays without reading them from the file.
    fn easter(y: i32) -> NaiveDate {
        let (a, b, c) = (y % 19, y / 100, y % 100);
        let (d, e) = (b / 4, b % 4);
        let g = (8 * b + 13) / 25;
        let h = (19 * a + b - d - g + 15) % 30;
        let (i, k) = (c / 4, c % 4);
        let l = (32 + 2 * e + 2 * i - h - k) % 7;
        let m = (a + 11 * h + 22 * l) / 451;
        let month = (h + l - 7 * m + 114) / 31;
        let day = (h + l - 7 * m + 114) % 31 + 1;
        date(y, month as u32, day as u32)
    }

    #[test]
    fn observer_holidays_close_their_calendars() {
        assert_eq!(easter(2025), date(2025, 4, 20));
        assert_eq!(easter(2026), date(2026, 4, 5));
        let hu = Calendar::new(
            &spec("HU", Europe::Budapest, 7 * 60, 17 * 60, Some("HU")),
            utc(2025, 1, 1),
            730,
        )
        .unwrap();
        for y in [2025, 2026] {
            let e = easter(y);
            // Good Friday, Easter Monday, Whit Monday (Easter + 50 days), and the fixed days
            // of the Labour Code that fall on weekdays.
            for d in [e - Days::new(2), e + Days::new(1), e + Days::new(50)] {
                assert!(!hu.is_business_day(d), "HU open on {d}");
            }
            for (m, d) in [(1, 1), (5, 1), (8, 20), (10, 23), (12, 24), (12, 25)] {
                assert!(!hu.is_business_day(date(y, m, d)), "HU open on {y}-{m}-{d}");
            }
        }
        // Bridge days by decree: Fri 2 May and Fri 24 Oct 2025, Fri 2 Jan and 21 Aug 2026;
        // the working days around them stay open.
        for d in [
            date(2025, 5, 2),
            date(2025, 10, 24),
            date(2026, 1, 2),
            date(2026, 8, 21),
        ] {
            assert!(!hu.is_business_day(d), "HU open on {d}");
        }
        assert!(hu.is_business_day(date(2025, 5, 5)));
        assert!(hu.is_business_day(date(2025, 12, 29)));
        let tm = Calendar::new(
            &spec("TM", Asia::Ashgabat, 9 * 60, 17 * 60, Some("TM")),
            utc(2025, 1, 1),
            730,
        )
        .unwrap();
        // Decrees of 2025: Oraza bayramy moved to Mon 31 Mar, Constitution Day to Mon 19 May,
        // Gurban bayramy on Fri 6 Jun and (moved from Sunday) Mon 9 Jun, Neutrality Day's
        // anniversary on Thu 11 and Fri 12 Dec.
        for d in [
            date(2025, 3, 31),
            date(2025, 5, 19),
            date(2025, 6, 6),
            date(2025, 6, 9),
            date(2025, 12, 11),
            date(2025, 12, 12),
        ] {
            assert!(!tm.is_business_day(d), "TM open on {d}");
        }
        assert!(tm.is_business_day(date(2025, 5, 20)));
        assert!(tm.is_business_day(date(2025, 6, 10)));
    }

    #[test]
    fn bad_specs_are_errors() {
        let epoch = utc(2025, 1, 1);
        let unknown = spec("XX", Europe::Istanbul, 480, 1050, Some("XX"));
        assert_eq!(
            Calendar::new(&unknown, epoch, 10).err(),
            Some(CalendarError::UnknownHolidaySet {
                calendar: "XX".to_string(),
                set: "XX".to_string()
            })
        );
        let backwards = spec("TR", Europe::Istanbul, 1050, 480, None);
        assert!(matches!(
            Calendar::new(&backwards, epoch, 10),
            Err(CalendarError::BadHours { .. })
        ));
        let past_midnight = spec("TR", Europe::Istanbul, 480, 1441, None);
        assert!(matches!(
            Calendar::new(&past_midnight, epoch, 10),
            Err(CalendarError::BadHours { .. })
        ));
        let mut half_before_open = spec("TR", Europe::Istanbul, 480, 1050, None);
        half_before_open.half_day_cutoff_min = 480;
        assert!(matches!(
            Calendar::new(&half_before_open, epoch, 10),
            Err(CalendarError::BadHalfDayCutoff { .. })
        ));
        let ok = spec("TR", Europe::Istanbul, 480, 1050, None);
        assert!(matches!(
            Calendar::new(&ok, epoch, MAX_SPAN_DAYS + 1),
            Err(CalendarError::SpanTooLong { .. })
        ));
        let message = Calendar::new(&unknown, epoch, 10)
            .err()
            .unwrap()
            .to_string();
        assert!(message.contains("XX"), "{message}");
    }

    #[test]
    fn extra_closures_and_half_days_apply() {
        let mut s = spec("TR", Europe::Istanbul, 480, 1050, Some("TR"));
        s.extra_closed = vec![date(2025, 4, 2)];
        s.extra_half = vec![date(2025, 4, 3), date(2025, 4, 2)];
        let cal = Calendar::new(&s, utc(2025, 4, 1), 10).unwrap();
        // Closed wins over half.
        assert!(!cal.is_business_day(date(2025, 4, 2)));
        assert!(!cal.is_half_day(date(2025, 4, 2)));
        // Thu 3 Apr half-day: 05:00–10:00 UTC = 2 d + 5 h .. 2 d + 10 h.
        assert_eq!(
            cal.window(date(2025, 4, 3)),
            Some((2 * DAY_S + 5 * HOUR_S, 2 * DAY_S + 10 * HOUR_S))
        );
        assert_eq!(cal.window(date(2024, 1, 1)), None);
        assert!(!cal.outside_bundled_years());
        let late = Calendar::new(&s, utc(2026, 12, 1), 60).unwrap();
        assert!(late.outside_bundled_years());
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let cal = us(utc(2025, 3, 3), 30);
        for t in [i64::MIN, i64::MIN / 2, -1, 0, i64::MAX / 2, i64::MAX] {
            let _ = cal.local_date(t);
            let _ = cal.is_open(t);
            let _ = cal.next_open(t);
            let _ = cal.process(t, i64::MAX);
            let _ = cal.process(t, i64::MIN);
            let _ = cal.add_business_days(t, u32::MAX);
            let _ = next_joint_open(&cal, &cal, t);
        }
        assert_eq!(cal.process(0, i64::MAX), None);
        assert_eq!(cal.add_business_days(0, u32::MAX), None);
        assert!(cal.business_days(NaiveDate::MAX, NaiveDate::MIN).is_empty());
        let _ = cal.window(NaiveDate::MAX);
        let _ = cal.is_business_day(NaiveDate::MIN);
        let far = Calendar::new(
            &spec("US", America::New_York, 540, 1080, None),
            DateTime::<Utc>::MAX_UTC,
            1,
        );
        assert!(matches!(far, Err(CalendarError::EpochOutOfRange { .. })));
    }

    #[test]
    fn a_window_can_open_the_evening_before() {
        // Fedwire: 21:00 ET the evening before to an 18:00 ET cut-off. Epoch Sat 1 Mar 2025.
        let epoch = utc(2025, 3, 1);
        let at = |d: u32, h: i64| -> Time {
            (Utc.with_ymd_and_hms(2025, 3, d, 0, 0, 0).unwrap() - epoch).num_seconds() + h * HOUR_S
        };
        let mut s = spec("US", America::New_York, 21 * 60, 18 * 60, Some("US"));
        s.open_previous_evening = true;
        let cal = Calendar::new(&s, epoch, 60).unwrap();
        // Monday 10 Mar (EDT, UTC-4) opens Sunday 9 Mar 21:00 EDT = Monday 01:00 UTC and cuts
        // off at 18:00 EDT = 22:00 UTC.
        assert_eq!(cal.next_open(at(9, 23)), Some(at(10, 1)));
        assert!(cal.is_open(at(10, 21)));
        assert!(!cal.is_open(at(10, 22)));
        // Friday 7 Mar (EST, UTC-5) opens Thursday 21:00 EST = Friday 02:00 UTC.
        assert_eq!(cal.next_open(at(7, 0)), Some(at(7, 2)));
        // The flag with an opening before the cut-off is refused.
        s.open_min = 9 * 60;
        assert!(Calendar::new(&s, epoch, 60).is_err());
    }
}
