//! Rail kind `netting`: a regional clearing house with deferred net settlement (the "common OTS
//! payment system"). Payers are debited when their bank submits the item; items wait in the
//! house's book until the next cycle; at the cycle the house nets every member's receivables
//! against its payables, converts ONLY each member's net position through the settlement asset
//! (USD), and credits every payee in its own currency. Optional credit quotas carry net
//! positions to the next cycle (European Payments Union style): each member's carried position
//! is a balance of the rail's liquidity pool, whose carry — and the spread of converting it at a
//! cycle with none of that member's items — the member's items pay per dollar of their value
//! over the run. A participant that fails at a cycle has its items unwound and returned. See
//! docs/rail-netting.md.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use toml::value::Datetime;

use super::liquidity::Pool;
use super::{Ctx, Next, Payment, RailContext, RailKind, Setup};
use crate::calendar::{Calendar, CalendarSpec};
use crate::engine::{HOUR_S, Time};
use crate::fx::Conversion;
use crate::fx::quote::bps_to_fraction;
use crate::input::{DelaySection, FeeSection};
use crate::ledger::{AccountId, Ledger};
use crate::money::CurrencyId;
use crate::record::{Cell, ReportRow, ReportTable};
use crate::terms::{Bearer, Delay, FeeSchedule, Status};
use crate::{Error, Result};

/// The `[[rail]]` table of this kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub name: String,
    /// Participants (member codes), or ["*"] (the default) for every member.
    pub members: Option<Vec<String>>,
    /// The clearing house's reference time zone (IANA): cycle times and the window are read in it.
    pub time_zone: String,
    /// Cycles at these local times ("HH:MM") of the house's business days. Exclusive with
    /// `every_h`.
    pub cycle_times: Option<Vec<String>>,
    /// A cycle every this many hours inside `window`. Exclusive with `cycle_times`.
    pub every_h: Option<f64>,
    /// ["HH:MM", "HH:MM"]: the first cycle at the start, the last no later than the end.
    pub window: Option<Vec<String>>,
    /// The house's weekend (default Saturday and Sunday).
    pub weekend: Option<Vec<String>>,
    /// The house's own holidays: a bundled set or "none" (the default).
    pub holidays: Option<String>,
    /// Fee per item, charged to the payer (OUR, SHA) or deducted from the payee's credit (BEN).
    #[serde(default)]
    pub item_fee: FeeSection,
    /// Working minutes at the payer's bank before it submits the item.
    pub processing_min: DelaySection,
    /// Currency that net positions settle in (default USD).
    pub settlement_asset: Option<String>,
    /// Credit quotas, USD: one number for every member or a table by member code; 0 = none.
    pub quota_usd: Option<Quota>,
    /// Participants that fail at a cycle.
    #[serde(default)]
    pub defaults: Vec<DefaultSection>,
}

/// Credit quotas: the same for everyone, or by member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a quota in USD (a number), or a table of quotas by member code"
)]
pub enum Quota {
    All(f64),
    Each(BTreeMap<String, f64>),
}

/// A participant that fails: at the first cycle held at or after `at`, and suspended until
/// `until` (default: that cycle only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultSection {
    pub member: String,
    /// e.g. 2025-03-03T10:00:00Z (an offset is required).
    pub at: Instant,
    pub until: Option<Instant>,
}

/// A TOML date-time. Inside a `[[rail]]` (an internally tagged enum, which serde buffers) it
/// arrives as its text; read directly it is a TOML date-time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a date-time with an offset, e.g. 2025-03-03T10:00:00Z"
)]
pub enum Instant {
    Toml(Datetime),
    Text(String),
}

impl Instant {
    fn datetime(&self) -> Option<Datetime> {
        match self {
            Instant::Toml(dt) => Some(*dt),
            Instant::Text(s) => s.parse().ok(),
        }
    }

    fn text(&self) -> String {
        match self {
            Instant::Toml(dt) => dt.to_string(),
            Instant::Text(s) => s.clone(),
        }
    }
}

/// When cycles happen, in local minutes of the house's time zone.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Fixed local times, ascending.
    Times(Vec<u32>),
    /// Every `step_min` from `open_min` while not after `close_min`.
    Every {
        step_min: u32,
        open_min: u32,
        close_min: u32,
    },
}

impl Schedule {
    /// The local minutes of a business day at which cycles run.
    pub fn minutes(&self) -> Vec<u32> {
        match self {
            Schedule::Times(t) => t.clone(),
            Schedule::Every {
                step_min,
                open_min,
                close_min,
            } => (0..)
                .map(|k| open_min + k * step_min)
                .take_while(|m| *m <= *close_min && *m < 1_440)
                .collect(),
        }
    }
}

/// A validated member default; instants are UTC Unix seconds (the scenario's epoch is not
/// known during validation).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberDefault {
    pub member: usize,
    pub at_unix_s: i64,
    pub until_unix_s: Option<i64>,
}

/// Validated parameters.
#[derive(Debug, Clone)]
pub struct Params {
    /// Participating member codes.
    pub members: Vec<String>,
    /// Participation by member index.
    pub participant: Vec<bool>,
    /// The house's business days (hours unused: cycles are at `schedule`).
    pub calendar: CalendarSpec,
    pub schedule: Schedule,
    pub item_fee: FeeSchedule,
    pub processing_min: Delay,
    pub settlement_asset: CurrencyId,
    /// Credit quota by member index, USD (0 = none).
    pub quota_usd: Vec<Decimal>,
    /// Sorted by `at`.
    pub defaults: Vec<MemberDefault>,
}

/// `members`: which members take part (by member index); at least two.
fn participants(s: &Section, cx: &RailContext) -> Result<Vec<bool>> {
    let n = cx.members.len();
    let mut participant = vec![false; n];
    match &s.members {
        None => participant.fill(true),
        Some(list) if list.iter().any(|c| c == "*") => participant.fill(true),
        Some(list) => {
            for code in list {
                participant[cx.member(&["members"], code)?] = true;
            }
        }
    }
    if participant.iter().filter(|x| **x).count() < 2 {
        return Err(cx.err(&["members"], "a clearing house needs at least two members"));
    }
    Ok(participant)
}

/// `cycle_times`, or `every_h` with `window`: when the house runs its cycles (local minutes).
fn schedule(s: &Section, cx: &RailContext) -> Result<Schedule> {
    let v = cx.check;
    let p = |key: &str| cx.path(&[key]);
    Ok(match (&s.cycle_times, s.every_h) {
        (Some(_), Some(_)) => {
            return Err(cx.err(
                &["every_h"],
                "give either `cycle_times` or `every_h` with `window`, not both",
            ));
        }
        (None, None) => {
            return Err(cx.err(
                &["cycle_times"],
                "give the cycles: `cycle_times = [\"10:30\", \"13:30\"]`, or `every_h` with `window`",
            ));
        }
        (Some(times), None) => {
            if s.window.is_some() {
                return Err(cx.err(
                    &["window"],
                    "`window` goes with `every_h`, not with `cycle_times`",
                ));
            }
            if times.is_empty() {
                return Err(cx.err(&["cycle_times"], "list at least one cycle time"));
            }
            let mut minutes = Vec::new();
            for (j, t) in times.iter().enumerate() {
                let mut path = p("cycle_times");
                path.push(crate::input::Seg::Index(j));
                let m = v.hhmm(path.clone(), t)?;
                if m >= 1_440 {
                    return Err(v.err(path, "a cycle time must be before 24:00"));
                }
                if minutes.contains(&m) {
                    return Err(v.err(path, format!("cycle time \"{t}\" is listed twice")));
                }
                minutes.push(m);
            }
            minutes.sort_unstable();
            Schedule::Times(minutes)
        }
        (None, Some(every_h)) => {
            let every_h = v.positive(p("every_h"), every_h)?;
            let step_min = (every_h * 60.0).round();
            if !(1.0..=1_440.0).contains(&step_min) {
                return Err(cx.err(
                    &["every_h"],
                    format!("must be between 1 minute and 24 hours, got {every_h}"),
                ));
            }
            let window = s.window.as_ref().ok_or_else(|| {
                cx.err(
                    &["window"],
                    "`every_h` needs `window = [\"HH:MM\", \"HH:MM\"]` (start, end)",
                )
            })?;
            if window.len() != 2 {
                return Err(cx.err(&["window"], "expected two local times [start, end]"));
            }
            let at = |j: usize| {
                let mut path = p("window");
                path.push(crate::input::Seg::Index(j));
                path
            };
            let open_min = v.hhmm(at(0), &window[0])?;
            let close_min = v.hhmm(at(1), &window[1])?;
            if close_min < open_min || open_min >= 1_440 {
                return Err(v.err(
                    at(1),
                    "the window must end no earlier than it starts, within one day",
                ));
            }
            Schedule::Every {
                step_min: step_min as u32,
                open_min,
                close_min,
            }
        }
    })
}

/// `quota_usd`: each participant's quota (USD), one figure for all or one per member.
fn quotas(s: &Section, cx: &RailContext, participant: &[bool]) -> Result<Vec<Decimal>> {
    let v = cx.check;
    let p = |key: &str| cx.path(&[key]);
    let n = cx.members.len();
    let mut quota_usd = vec![Decimal::ZERO; n];
    match &s.quota_usd {
        None => {}
        Some(Quota::All(q)) => {
            let q = crate::terms::usd(v.nonneg(p("quota_usd"), *q)?);
            for (m, on) in participant.iter().enumerate() {
                if *on {
                    quota_usd[m] = q;
                }
            }
        }
        Some(Quota::Each(table)) => {
            for (code, q) in table {
                let m = cx.member(&["quota_usd", code], code)?;
                if !participant[m] {
                    return Err(cx.err(
                        &["quota_usd", code],
                        format!("member \"{code}\" does not take part in this clearing house"),
                    ));
                }
                quota_usd[m] = crate::terms::usd(v.nonneg(cx.path(&["quota_usd", code]), *q)?);
            }
        }
    }
    Ok(quota_usd)
}

/// `[[rail.defaults]]`: participants that fail at a stated instant (and recover at `until`),
/// in order of time.
fn member_defaults(
    s: &Section,
    cx: &RailContext,
    participant: &[bool],
) -> Result<Vec<MemberDefault>> {
    let v = cx.check;
    let p = |key: &str| cx.path(&[key]);
    let mut defaults = Vec::new();
    for (j, d) in s.defaults.iter().enumerate() {
        let path = |key: &str| {
            let mut path = p("defaults");
            path.push(crate::input::Seg::Index(j));
            path.push(crate::input::Seg::Key(key.into()));
            path
        };
        let member = cx
            .members
            .iter()
            .position(|m| m.code == d.member)
            .ok_or_else(|| v.err(path("member"), format!("unknown member \"{}\"", d.member)))?;
        if !participant[member] {
            return Err(v.err(
                path("member"),
                format!(
                    "member \"{}\" does not take part in this clearing house",
                    d.member
                ),
            ));
        }
        let instant = |key: &str, i: &Instant| {
            i.datetime().as_ref().and_then(unix_s).ok_or_else(|| {
                v.err(
                    path(key),
                    format!(
                        "expected a date-time with an offset, e.g. 2025-03-03T10:00:00Z; got {}",
                        i.text()
                    ),
                )
            })
        };
        let at_unix_s = instant("at", &d.at)?;
        let until_unix_s = match &d.until {
            None => None,
            Some(u) => {
                let u = instant("until", u)?;
                if u <= at_unix_s {
                    return Err(v.err(path("until"), "must be after `at`"));
                }
                Some(u)
            }
        };
        defaults.push(MemberDefault {
            member,
            at_unix_s,
            until_unix_s,
        });
    }
    defaults.sort_by_key(|d| d.at_unix_s);
    Ok(defaults)
}

/// What a cycle did, for its row in `netting.csv`.
struct CycleSums<'a> {
    failed: Option<usize>,
    included: &'a [Item],
    unwound: &'a [Item],
    gross_usd: Decimal,
    net_usd: Decimal,
    spread_usd: Decimal,
    conversions: usize,
}

fn unix_s(dt: &Datetime) -> Option<i64> {
    let d = dt.date?;
    let t = dt.time?;
    let offset_min = match dt.offset? {
        toml::value::Offset::Z => 0,
        toml::value::Offset::Custom { minutes } => i64::from(minutes),
    };
    let date = NaiveDate::from_ymd_opt(i32::from(d.year), d.month.into(), d.day.into())?;
    let naive = date.and_hms_opt(t.hour.into(), t.minute.into(), t.second.unwrap_or(0).into())?;
    Some(Utc.from_utc_datetime(&naive).timestamp() - offset_min * 60)
}

impl Params {
    /// Checks a `[[rail]]` table of kind `netting`.
    pub fn from_section(s: &Section, cx: &RailContext) -> Result<Params> {
        let v = cx.check;
        let p = |key: &str| cx.path(&[key]);

        let participant = participants(s, cx)?;
        let members = cx
            .members
            .iter()
            .zip(&participant)
            .filter(|(_, on)| **on)
            .map(|(m, _)| m.code.clone())
            .collect();

        let time_zone = v.time_zone(p("time_zone"), &s.time_zone)?;
        let schedule = schedule(s, cx)?;
        let calendar = CalendarSpec {
            name: format!("{} clearing house", s.name),
            time_zone,
            open_min: 0,
            cutoff_min: 1_440,
            half_day_cutoff_min: 1_440,
            weekend: v.weekend(p("weekend"), &s.weekend)?,
            holidays: v.holidays(p("holidays"), &s.holidays, "none")?,
            extra_closed: Vec::new(),
            extra_half: Vec::new(),
            open_previous_evening: false,
        };

        let settlement_asset = match &s.settlement_asset {
            None => CurrencyId::USD,
            Some(code) => cx.currency(&["settlement_asset"], code)?,
        };

        let quota_usd = quotas(s, cx, &participant)?;
        let defaults = member_defaults(s, cx, &participant)?;
        Ok(Params {
            members,
            participant,
            calendar,
            schedule,
            item_fee: v.fee(p("item_fee"), &s.item_fee)?,
            processing_min: v.delay(p("processing_min"), &s.processing_min)?,
            settlement_asset,
            quota_usd,
            defaults,
        })
    }

    /// Both members take part (and they differ).
    pub fn serves(&self, exporter: &str, importer: &str) -> bool {
        exporter != importer
            && self.members.iter().any(|m| m == exporter)
            && self.members.iter().any(|m| m == importer)
    }
}

/// An item in the house's book: a payment submitted and waiting for a cycle.
#[derive(Debug, Clone)]
struct Item {
    slot: u32,
    importer: usize,
    exporter: usize,
    /// Principal, in the importer's currency, paid into the house at submission.
    amount: Decimal,
    /// The payment's value at its t0 mids (for principal at risk).
    value_usd: Decimal,
    submitted: Time,
}

/// What a cycle decided for an item; the item's own step books it.
#[derive(Debug, Clone)]
enum Outcome {
    Settled {
        /// Credit in the exporter's currency before a BEN fee.
        credit: Decimal,
        /// Importer → exporter mid cross at the cycle, and the principal at that mid.
        mid: Decimal,
        at_mid: Decimal,
        /// The item's own spread fraction f_k of the cycle's conversions.
        fraction: Decimal,
        /// The item's share (by value) of the settlement asset the house bought and sold.
        usd_bought: Decimal,
        usd_sold: Decimal,
    },
    /// Unwound (a participant failed): the principal goes back to the payer unconverted.
    Returned,
}

/// A member default at run time (sim time).
#[derive(Debug, Clone)]
struct Failure {
    member: usize,
    at: Time,
    until: Option<Time>,
    /// The cycle at which it happened.
    fired: Option<Time>,
}

/// One member's net conversion at a cycle.
#[derive(Debug, Clone)]
struct NetConversion {
    member: usize,
    /// Net position to convert, in the member's currency: > 0 the house sells it for the
    /// settlement asset, < 0 it buys that much with the settlement asset.
    amount: Decimal,
    /// None when the member's currency is the settlement asset.
    conv: Option<Conversion>,
    ticket_usd: f64,
    /// φ_m: the part of the conversion the cycle's own items account for; the rest converts
    /// the member's carried position (see [`Plan::items_spread_usd`]).
    items_share: Decimal,
}

/// A cycle's settlement plan for given spread fractions of the items.
#[derive(Debug, Clone, Default)]
struct Plan {
    credits: Vec<Decimal>,
    conversions: Vec<NetConversion>,
    /// Position each member carries after the cycle, in its currency (house holds > 0).
    carried: Vec<Decimal>,
    /// Spread paid to the dealers on the net conversions, USD at the cycle's mids.
    spread_usd: Decimal,
    /// The same by member index: S_m, the spread of member m's net conversion (zero without
    /// one: its currency is the settlement asset, or its net is zero or kept under its quota).
    member_spread_usd: Vec<Decimal>,
    /// φ_m S_m, the part of it the cycle's items touching m bear: φ_m = clamp(F_m / A_m, 0, 1)
    /// with F_m their net flow (paid in − paid out, in m's currency) and A_m the conversion.
    /// Without a carried position before or after, A_m = F_m and they bear all of it; with
    /// none of m's items in the cycle (F_m = 0) none. The rest, (1 − φ_m) S_m, converts m's
    /// carried position and goes to its balance ([`Pool::converted`]).
    items_spread_usd: Vec<Decimal>,
}

/// V_m: by member index, the value (USD at the cycle's mids) of the items that have member m
/// as importer or as exporter.
fn touched_usd(items: &[Item], value_usd: &[Decimal], members: usize) -> Vec<Decimal> {
    let mut touched = vec![Decimal::ZERO; members];
    for (item, v) in items.iter().zip(value_usd) {
        touched[item.importer] += *v;
        touched[item.exporter] += *v;
    }
    touched
}

/// Each item's spread fraction under the pair rule: the part of member m's spread its cycle's
/// items bear, S'_m = φ_m S_m ([`Plan::items_spread_usd`]; all of S_m without quotas), is
/// shared by value by the items that touch m, so item k (importer i, exporter e, value v_k)
/// bears S'_i·v_k/V_i + S'_e·v_k/V_e, a fraction f_k = S'_i/V_i + S'_e/V_e of its value. A
/// member with a conversion but no item in the cycle (V_m = 0: a carried position converted)
/// has φ_m = 0: its spread goes to its carried position's balance ([`Pool::converted`]), and
/// every item of the member over the run pays it per dollar.
fn item_fractions(
    items: &[Item],
    touched_usd: &[Decimal],
    items_spread_usd: &[Decimal],
) -> Vec<Decimal> {
    let rate: Vec<Decimal> = items_spread_usd
        .iter()
        .zip(touched_usd)
        .map(|(s, v)| if v.is_zero() { Decimal::ZERO } else { *s / *v })
        .collect();
    items
        .iter()
        .map(|item| rate[item.importer] + rate[item.exporter])
        .collect()
}

/// Run-time state: the book, the house's accounts and the cycle timetable.
#[derive(Debug)]
pub struct Netting {
    p: Params,
    index: usize,
    /// Every cycle instant in the run, ascending.
    cycles: Vec<Time>,
    /// The house's account per member, in the member's currency (None: not a participant).
    house: Vec<Option<AccountId>>,
    /// The house's fee income per member currency.
    house_fees: Vec<Option<AccountId>>,
    /// The house's settlement-asset account.
    settle: AccountId,
    /// Position carried per member under quotas, in its currency (the house holds > 0).
    carried: Vec<Decimal>,
    /// The carried positions as balances (members with a quota): each member's index in
    /// `pool`, whose account holds its carried position.
    pool: Pool,
    balance: Vec<Option<usize>>,
    /// What the house recovers from the items of the spread of converting carried positions,
    /// by member (in its currency; one account per currency).
    recovered: Vec<Option<AccountId>>,
    /// Per member, the spread of converting its carried position per dollar of its items'
    /// value, as the first pass found it (zero in the first pass and without a quota).
    spread_rate: Vec<f64>,
    book: Vec<Item>,
    outcome: Vec<Option<Outcome>>,
    timer_at: Option<Time>,
    last_cycle: Time,
    failures: Vec<Failure>,
}

/// Sim time of local `minute` on `date` in `tz`; a local time that does not exist (a DST gap)
/// moves to the next one that does, an ambiguous one takes the earlier instant.
fn local_to_sim(tz: Tz, date: NaiveDate, minute: u32, epoch_s: i64) -> Option<Time> {
    let naive = date.and_hms_opt(minute / 60, minute % 60, 0)?;
    (0..=26 * 4).find_map(|k| {
        let local = naive.checked_add_signed(TimeDelta::minutes(15 * k))?;
        tz.from_local_datetime(&local)
            .earliest()
            .map(|t| t.timestamp() - epoch_s)
    })
}

/// The sim times of the house's cycles, ascending, for a run of `span_days` from `epoch`: every
/// scheduled local time of every business day of the house.
fn cycle_times(
    p: &Params,
    epoch: chrono::DateTime<Utc>,
    span_days: u32,
) -> std::result::Result<Vec<Time>, crate::calendar::CalendarError> {
    let calendar = Calendar::new(&p.calendar, epoch, span_days)?;
    let epoch_s = epoch.timestamp();
    let (first, last) = calendar.precomputed_dates();
    let minutes = p.schedule.minutes();
    let mut cycles: Vec<Time> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .filter(|d| calendar.is_business_day(*d))
        .flat_map(|d| {
            minutes
                .iter()
                .filter_map(move |m| local_to_sim(p.calendar.time_zone, d, *m, epoch_s))
        })
        .filter(|t| *t >= 0)
        .collect();
    cycles.sort_unstable();
    cycles.dedup();
    Ok(cycles)
}

/// The participants (member indexes, ascending) whose RTGS is closed at every one of `cycles`:
/// a member takes part in a cycle only while its RTGS is open, so their items wait in the book
/// and never settle. `calendars` are the members' RTGS calendars, by member index.
fn never_present(p: &Params, calendars: &[Calendar], cycles: &[Time]) -> Vec<usize> {
    (0..calendars.len())
        .filter(|&m| p.participant[m] && !cycles.iter().any(|&t| calendars[m].is_open(t)))
        .collect()
}

impl super::RailWarnings for Params {
    /// A house that has no cycle in the run, or whose cycles never find a member's RTGS open:
    /// a member settles only at cycles during its RTGS hours, so such items wait in the book
    /// and never settle.
    fn warnings(&self, rail: &str, span: &super::RunSpan) -> Result<Vec<String>> {
        let mut warnings = Vec::new();
        let calendar_error = |e: crate::calendar::CalendarError| {
            Error::Invariant(format!("rail {rail}: calendar: {e}"))
        };
        let cycles: Vec<Time> = cycle_times(self, span.epoch, span.span_days)
            .map_err(calendar_error)?
            .into_iter()
            .filter(|&t| t < span.run_end_s)
            .collect();
        if cycles.is_empty() {
            warnings.push(format!(
                "netting rail {rail} has no cycle in the run (no business day of its calendar at \
                 its scheduled times): nothing it carries ever settles"
            ));
            return Ok(warnings);
        }
        let calendars = span
            .members
            .iter()
            .map(|m| Calendar::new(&m.calendar, span.epoch, span.span_days))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(calendar_error)?;
        for m in never_present(self, &calendars, &cycles) {
            let code = &span.members[m].code;
            warnings.push(format!(
                "netting rail {rail}: member {code}'s RTGS is closed at every one of its {} cycles in \
                 the run, so payments to or from {code} on it never settle (move the cycles into \
                 its hours, or its hours over a cycle)",
                cycles.len(),
            ));
        }
        Ok(warnings)
    }
}

impl Netting {
    /// Opens the house's accounts (one per participant's currency, one in the settlement
    /// asset, fee income per currency) and lays out the cycles of the run.
    pub fn new(p: Params, setup: &Setup, ledger: &mut Ledger) -> Result<Self> {
        let (index, world) = (setup.index, setup.world);
        let cycles = cycle_times(&p, world.epoch, world.span_days)
            .map_err(|e| Error::Invariant(format!("clearing-house calendar: {e}")))?;
        let epoch_s = world.epoch.timestamp();

        let n = world.members.len();
        let mut house = vec![None; n];
        let mut house_fees = vec![None; n];
        for (m, member) in world.members.iter().enumerate() {
            if !p.participant[m] {
                continue;
            }
            let code = world.currencies.code(member.currency);
            house[m] = Some(ledger.open(
                &format!("rail{index}:house:{}:{code}", member.code),
                member.currency,
                false,
            ));
            house_fees[m] = Some(ledger.open(
                &format!("rail{index}:house-fees:{code}"),
                member.currency,
                false,
            ));
        }
        let s = p.settlement_asset;
        let settle = ledger.open(
            &format!("rail{index}:house:settlement:{}", world.currencies.code(s)),
            s,
            false,
        );
        let (pool, balance, recovered) = Self::carried_balances(&p, setup, ledger);
        let spread_rate = balance
            .iter()
            .map(|k| {
                k.and_then(|k| setup.learned?.rates.get(k).copied().flatten())
                    .map_or(0.0, |r| r.spread_usd)
            })
            .collect();
        let failures = p
            .defaults
            .iter()
            .map(|d| Failure {
                member: d.member,
                at: d.at_unix_s - epoch_s,
                until: d.until_unix_s.map(|u| u - epoch_s),
                fired: None,
            })
            .collect();
        Ok(Self {
            p,
            index,
            cycles,
            house,
            house_fees,
            settle,
            carried: vec![Decimal::ZERO; n],
            pool,
            balance,
            recovered,
            spread_rate,
            book: Vec::new(),
            outcome: Vec::new(),
            timer_at: None,
            last_cycle: Time::MIN,
            failures,
        })
    }

    /// With quotas, each member with one gets a balance in the pool for its carried position,
    /// an account that may go below zero (a creditor's position), and every participant an
    /// account for the spread its items repay (see [`Netting::settle_item`]).
    fn carried_balances(
        p: &Params,
        setup: &Setup,
        ledger: &mut Ledger,
    ) -> (Pool, Vec<Option<usize>>, Vec<Option<AccountId>>) {
        let (index, world) = (setup.index, setup.world);
        let n = world.members.len();
        let mut pool = Pool::default();
        let mut balance = vec![None; n];
        let mut recovered = vec![None; n];
        if p.quota_usd.iter().all(Decimal::is_zero) {
            return (pool, balance, recovered);
        }
        for (m, member) in world.members.iter().enumerate() {
            if !p.participant[m] {
                continue;
            }
            let code = world.currencies.code(member.currency);
            recovered[m] = Some(ledger.open(
                &format!("rail{index}:spread-recovered:{code}"),
                member.currency,
                false,
            ));
            if !p.quota_usd[m].is_zero() {
                let account = ledger.open(
                    &format!("rail{index}:carried:{}:{code}", member.code),
                    member.currency,
                    false,
                );
                balance[m] =
                    Some(pool.add(format!("house:{}", member.code), member.currency, account));
            }
        }
        (pool, balance, recovered)
    }

    /// The first cycle at or after `t` that has not run yet.
    fn next_cycle(&self, t: Time) -> Option<Time> {
        let from = t.max(self.last_cycle.saturating_add(1));
        let i = self.cycles.partition_point(|c| *c < from);
        self.cycles.get(i).copied()
    }

    /// Asks for the next cycle's timer unless one is pending.
    fn ensure_timer(&mut self, ctx: &mut Ctx) {
        if self.timer_at.is_none()
            && let Some(t) = self.next_cycle(ctx.now)
        {
            self.timer_at = Some(t);
            ctx.timers.push((t, 0));
        }
    }

    /// Whether member `m` is suspended at `t`: it failed at a cycle at or before `t`, and its
    /// suspension (if any) has not ended.
    fn suspended(&self, m: usize, t: Time) -> bool {
        self.failures.iter().any(|f| {
            f.member == m
                && f.fired
                    .is_some_and(|at| t >= at && t < f.until.unwrap_or(at))
        })
    }

    fn house(&self, m: usize) -> Result<AccountId> {
        self.house[m]
            .ok_or_else(|| Error::Invariant(format!("netting: member {m} is not a participant")))
    }

    fn house_fees(&self, m: usize) -> Result<AccountId> {
        self.house_fees[m]
            .ok_or_else(|| Error::Invariant(format!("netting: member {m} is not a participant")))
    }

    /// The settlement at spread fractions `f` (one per item): each included item's credit,
    /// at_mid × (1 − f_k) to the exporter currency's minor unit, each present member's net
    /// conversion (beyond its quota) and the spread those conversions cost, in all and by
    /// member.
    #[allow(clippy::too_many_arguments)]
    fn plan(
        &self,
        ctx: &mut Ctx,
        items: &[Item],
        at_mid: &[Decimal],
        paid_in: &[Decimal],
        present: &[bool],
        final_settlement: bool,
        f: &[Decimal],
    ) -> Plan {
        let w = ctx.world;
        let now = ctx.now;
        let s = self.p.settlement_asset;
        let mut plan = Plan {
            carried: self.carried.clone(),
            member_spread_usd: vec![Decimal::ZERO; w.members.len()],
            items_spread_usd: vec![Decimal::ZERO; w.members.len()],
            ..Plan::default()
        };
        let mut paid_out = vec![Decimal::ZERO; w.members.len()];
        for (k, item) in items.iter().enumerate() {
            let ce = w.members[item.exporter].currency;
            // A same-currency item has at_mid = its amount (the cross is 1): at f_k = 0 it is
            // credited in full.
            let credit = w.currencies.round(ce, at_mid[k] * (Decimal::ONE - f[k]));
            paid_out[item.exporter] += credit;
            plan.credits.push(credit);
        }
        for (m, member) in w.members.iter().enumerate() {
            if !present[m] {
                continue;
            }
            let c = member.currency;
            let balance = self.carried[m] + paid_in[m] - paid_out[m];
            let quota = if final_settlement {
                Decimal::ZERO
            } else {
                self.p.quota_usd[m]
            };
            let keep = if quota.is_zero() || balance.is_zero() {
                Decimal::ZERO
            } else if w.fx.to_usd(c, balance, now).abs() <= quota {
                balance
            } else {
                let limit = w.currencies.round(c, quota * w.fx.mid(c, now));
                if balance.is_sign_negative() {
                    -limit
                } else {
                    limit
                }
            };
            plan.carried[m] = keep;
            let amount = balance - keep;
            if amount.is_zero() {
                continue;
            }
            let value_usd = w.fx.to_usd(c, amount.abs(), now);
            let ticket_usd = crate::money::to_f64(value_usd);
            // The bid/ask paid, without the cent rounding of the settlement-asset leg (rounding
            // residues stay with the house).
            let (conv, spread) = if c == s {
                (None, Decimal::ZERO)
            } else if amount.is_sign_positive() {
                let conv = ctx.quote_from(c, s, amount, ticket_usd);
                let spread = value_usd * bps_to_fraction(conv.half_spread_bps);
                (Some(conv), spread)
            } else {
                let conv = ctx.quote_to(s, c, -amount, ticket_usd);
                let h = bps_to_fraction(conv.half_spread_bps);
                (Some(conv), value_usd * h / (Decimal::ONE - h))
            };
            // The items' own net flow, where it points the way of the conversion, up to all of
            // it; the carried position's release (or growth) the rest.
            let flow = paid_in[m] - paid_out[m];
            let items_share = (flow / amount).clamp(Decimal::ZERO, Decimal::ONE);
            plan.spread_usd += spread;
            plan.member_spread_usd[m] = spread;
            plan.items_spread_usd[m] = spread * items_share;
            plan.conversions.push(NetConversion {
                member: m,
                amount,
                conv,
                ticket_usd,
                items_share,
            });
        }
        plan
    }

    /// Runs the cycle at `ctx.now`.
    fn cycle(&mut self, ctx: &mut Ctx) -> Result<()> {
        let w = ctx.world;
        let now = ctx.now;
        let n = w.members.len();
        self.last_cycle = now;
        self.timer_at = None;

        // At most one participant fails per cycle; a second one due fails at the next.
        let failed = self
            .failures
            .iter_mut()
            .find(|f| f.fired.is_none() && f.at <= now)
            .map(|f| {
                f.fired = Some(now);
                f.member
            });
        // A member takes part in the cycle when its RTGS is open (its central bank can settle).
        let present: Vec<bool> = (0..n)
            .map(|m| {
                self.house[m].is_some() && Some(m) != failed && w.members[m].calendar.is_open(now)
            })
            .collect();

        let (included, unwound, order) = self.take_book(failed, &present);

        // Values in the unit of account (USD at the cycle's mids) and multilateral positions.
        let mut value_usd = Vec::with_capacity(included.len());
        let mut at_mid = Vec::with_capacity(included.len());
        let mut chi = Vec::with_capacity(included.len());
        let mut position_usd = vec![Decimal::ZERO; n];
        let mut paid_in = vec![Decimal::ZERO; n];
        let mut gross_usd = Decimal::ZERO;
        for item in &included {
            let (ci, ce) = (
                w.members[item.importer].currency,
                w.members[item.exporter].currency,
            );
            let v = w.fx.to_usd(ci, item.amount, now);
            let mid = w.fx.cross_mid(ci, ce, now);
            position_usd[item.exporter] += v;
            position_usd[item.importer] -= v;
            paid_in[item.importer] += item.amount;
            gross_usd += v;
            value_usd.push(v);
            at_mid.push(item.amount * mid);
            chi.push(mid);
        }
        let net_usd: Decimal = position_usd.iter().filter(|x| x.is_sign_positive()).sum();

        let touched = touched_usd(&included, &value_usd, n);
        let (plan, f) =
            self.plan_with_spread(ctx, &included, &at_mid, &paid_in, &present, &touched);

        // The net conversions, through the dealers; the house's accounts hold the money between.
        let dollars = self.book_conversions(ctx, &plan)?;
        let (bought, sold) = self.items_dollars(&plan, &dollars)?;
        self.move_carried(ctx, &plan.carried)?;
        self.carried = plan.carried.clone();

        // Each item's outcome; the items' own steps book them at this instant.
        for (k, item) in included.iter().enumerate() {
            let share = if gross_usd.is_zero() {
                Decimal::ZERO
            } else {
                value_usd[k] / gross_usd
            };
            self.set_outcome(
                item.slot,
                Outcome::Settled {
                    credit: plan.credits[k],
                    mid: chi[k],
                    at_mid: at_mid[k],
                    fraction: f[k],
                    usd_bought: bought * share,
                    usd_sold: sold * share,
                },
            );
        }
        for item in &unwound {
            self.set_outcome(item.slot, Outcome::Returned);
        }
        ctx.wake.extend(order.iter().map(|(slot, _)| *slot));

        self.report(
            ctx,
            &CycleSums {
                failed,
                included: &included,
                unwound: &unwound,
                gross_usd,
                net_usd,
                spread_usd: plan.spread_usd,
                conversions: plan.conversions.len(),
            },
        );

        // The next cycle, while anything waits: deferred items or carried positions.
        if !self.book.is_empty() || self.carried.iter().any(|c| !c.is_zero()) {
            self.ensure_timer(ctx);
        }
        Ok(())
    }

    /// The plan of net conversions and each item's fraction f_k of its credit that pays their
    /// spread. Each member's spread S_m (the part φ_m S_m its items account for) is borne by
    /// the items that touch that member, by value ([`item_fractions`]): f_k = S_i/V_i +
    /// S_e/V_e for an item from importer i to exporter e. The f's depend on the conversions, which depend on the f's; the fixed point
    /// (no f_k changes: the credits, rounded to minor units, stop moving) is reached in two or
    /// three rounds (each f_k is of the order of the spreads), at most eight.
    fn plan_with_spread(
        &self,
        ctx: &mut Ctx,
        included: &[Item],
        at_mid: &[Decimal],
        paid_in: &[Decimal],
        present: &[bool],
        touched: &[Decimal],
    ) -> (Plan, Vec<Decimal>) {
        let final_settlement = ctx.now >= ctx.world.trade_end;
        let plan_at = |ctx: &mut Ctx, f: &[Decimal]| {
            self.plan(ctx, included, at_mid, paid_in, present, final_settlement, f)
        };
        let mut f = vec![Decimal::ZERO; included.len()];
        let mut plan = plan_at(ctx, &f);
        for _ in 0..8 {
            let next = item_fractions(included, touched, &plan.items_spread_usd);
            if next == f {
                break;
            }
            f = next;
            plan = plan_at(ctx, &f);
        }
        (plan, f)
    }

    /// Empties the book into this cycle's items (both sides present), the failed member's items
    /// (unwound), and the rest, which stay booked for a later cycle. `order` lists the slots
    /// taken, in book order, with whether each settles.
    fn take_book(
        &mut self,
        failed: Option<usize>,
        present: &[bool],
    ) -> (Vec<Item>, Vec<Item>, Vec<(u32, bool)>) {
        let mut included = Vec::new();
        let mut unwound = Vec::new();
        let mut deferred = Vec::new();
        let mut order = Vec::new();
        for item in std::mem::take(&mut self.book) {
            if failed.is_some_and(|f| item.importer == f || item.exporter == f) {
                order.push((item.slot, false));
                unwound.push(item);
            } else if present[item.importer] && present[item.exporter] {
                order.push((item.slot, true));
                included.push(item);
            } else {
                deferred.push(item);
            }
        }
        self.book = deferred;
        (included, unwound, order)
    }

    /// Books the plan's net conversions through the dealers (the house's accounts hold the
    /// money in between). Returns the USD each bought and sold, zero unless the settlement
    /// asset is the dollar.
    fn book_conversions(&self, ctx: &mut Ctx, plan: &Plan) -> Result<Vec<(Decimal, Decimal)>> {
        let w = ctx.world;
        let s = self.p.settlement_asset;
        let mut dollars = Vec::with_capacity(plan.conversions.len());
        for nc in &plan.conversions {
            let acct = self.house(nc.member)?;
            let c = w.members[nc.member].currency;
            let (mut bought, mut sold) = (Decimal::ZERO, Decimal::ZERO);
            match &nc.conv {
                None if nc.amount.is_sign_positive() => {
                    ctx.post(acct, self.settle, nc.amount)?;
                }
                None => ctx.post(self.settle, acct, -nc.amount)?,
                Some(conv) => {
                    ctx.traded(conv, nc.ticket_usd);
                    if nc.amount.is_sign_positive() {
                        ctx.post(acct, w.dealer[c.index()], conv.given)?;
                        ctx.post(w.dealer[s.index()], self.settle, conv.received)?;
                        bought += conv.received;
                    } else {
                        ctx.post(self.settle, w.dealer[s.index()], conv.given)?;
                        ctx.post(w.dealer[c.index()], acct, conv.received)?;
                        sold += conv.given;
                    }
                }
            }
            if s != CurrencyId::USD {
                bought = Decimal::ZERO;
                sold = Decimal::ZERO;
            }
            dollars.push((bought, sold));
        }
        Ok(dollars)
    }

    /// The dollars the cycle's items share (bought, sold): of each member's conversion, the
    /// part φ_m its items in the cycle account for. The rest converts the member's carried
    /// position: its spread and its dollars go to that balance ([`Pool::converted`]), and so to
    /// the member's items over the run.
    fn items_dollars(
        &mut self,
        plan: &Plan,
        dollars: &[(Decimal, Decimal)],
    ) -> Result<(Decimal, Decimal)> {
        let f64_of = crate::money::to_f64;
        let (mut bought, mut sold) = (Decimal::ZERO, Decimal::ZERO);
        for (nc, (b, s)) in plan.conversions.iter().zip(dollars) {
            let (m, phi) = (nc.member, nc.items_share);
            bought += *b * phi;
            sold += *s * phi;
            let rest = Decimal::ONE - phi;
            if rest.is_zero() {
                continue;
            }
            let k = self.balance[m].ok_or_else(|| {
                Error::Invariant(format!(
                    "netting: member {m} converted more than its items' flow without a quota"
                ))
            })?;
            let spread = plan.member_spread_usd[m] - plan.items_spread_usd[m];
            self.pool
                .converted(k, f64_of(spread), f64_of(*b * rest), f64_of(*s * rest));
        }
        Ok((bought, sold))
    }

    /// Moves each member's change of carried position between the house's account in its
    /// currency and its carried-position balance (accrued first: the balance changes now).
    fn move_carried(&mut self, ctx: &mut Ctx, carried: &[Decimal]) -> Result<()> {
        for (m, (new, old)) in carried.iter().zip(&self.carried).enumerate() {
            let delta = *new - *old;
            if delta.is_zero() {
                continue;
            }
            let k = self.balance[m].ok_or_else(|| {
                Error::Invariant(format!("netting: member {m} carries without a quota"))
            })?;
            self.pool.accrue(ctx.world, ctx.ledger, k, ctx.now);
            let (house, account) = (self.house(m)?, self.pool.get(k).account);
            if delta.is_sign_positive() {
                ctx.post(house, account, delta)?;
            } else {
                ctx.post(account, house, -delta)?;
            }
        }
        Ok(())
    }

    /// One row of `netting.csv` for the cycle, unless it had nothing to do.
    fn report(&self, ctx: &mut Ctx, c: &CycleSums) {
        let w = ctx.world;
        let now = ctx.now;
        let hours = |item: &Item| {
            item.value_usd * Decimal::from(now - item.submitted) / Decimal::from(HOUR_S)
        };
        let principal_at_risk_usd_h = c.included.iter().chain(c.unwound).map(hours).sum();
        let unwound_usd = c
            .unwound
            .iter()
            .map(|i| w.fx.to_usd(w.members[i.importer].currency, i.amount, now))
            .sum();
        let (mut creditors, mut debtors) = (Decimal::ZERO, Decimal::ZERO);
        for (m, carried) in self.carried.iter().enumerate() {
            let v = w.fx.to_usd(w.members[m].currency, *carried, now);
            if v.is_sign_negative() {
                creditors -= v;
            } else {
                debtors += v;
            }
        }
        if !c.included.is_empty() || !c.unwound.is_empty() || c.conversions > 0 {
            let efficiency =
                (!c.gross_usd.is_zero()).then(|| Decimal::ONE - c.net_usd / c.gross_usd);
            ctx.reports.push(ReportRow {
                table: &CYCLES,
                rail: self.index,
                cells: vec![
                    Cell::Time(now),
                    Cell::Count(c.included.len() as u64),
                    Cell::Count(c.unwound.len() as u64),
                    Cell::Usd(c.gross_usd),
                    Cell::Usd(c.net_usd),
                    Cell::Ratio6(efficiency),
                    Cell::Usd(unwound_usd),
                    Cell::Usd(creditors.max(debtors)),
                    Cell::Member(c.failed),
                    Cell::Count(self.book.len() as u64),
                    Cell::Usd(c.spread_usd),
                    Cell::Round2(principal_at_risk_usd_h),
                ],
            });
        }
    }

    /// Books a settled item's conversion and pays its credit to the payee's bank; returns that
    /// credit. The item relies on each carried position of its two members, by its value: it
    /// is recorded as using their balances (their carry is charged per dollar once the run has
    /// ended), and it pays, at the t0 mids, the spread of converting them at cycles with none
    /// of their items, at the rate per dollar the first pass found (`spread_rate`). That charge
    /// comes off the credit inside the item's conversion (rate mid × (1 − f_k − g_k)), so it is
    /// the item's `spread_usd`, and goes to the house's spread-recovered account: the house's
    /// net positions, and so the cycles, are those of the first pass.
    fn settle_item(
        &mut self,
        ctx: &mut Ctx,
        p: &mut Payment,
        credit: Decimal,
        mid: Decimal,
        at_mid: Decimal,
        fraction: Decimal,
    ) -> Result<Decimal> {
        let w = ctx.world;
        let (ci, ce) = (
            w.members[p.importer].currency,
            w.members[p.exporter].currency,
        );
        let value = crate::money::to_f64(p.value_usd);
        let mut rate = 0.0;
        for m in [p.importer, p.exporter] {
            if let Some(k) = self.balance[m] {
                self.pool.used_usd(p, k, value);
                rate += self.spread_rate[m];
            }
        }
        let before = at_mid * (Decimal::ONE - fraction);
        let charge = crate::money::minor_from_f64(rate * value, 6) * w.fx.mid(ce, p.t0);
        let g = if at_mid.is_zero() {
            Decimal::ZERO
        } else {
            charge.min(before.max(Decimal::ZERO)) / at_mid
        };
        let received = if g.is_zero() {
            credit
        } else {
            w.currencies
                .round(ce, at_mid * (Decimal::ONE - fraction - g))
        };
        let lost = fraction + g;
        let rate = mid * (Decimal::ONE - lost);
        p.account_conversion(
            w,
            &Conversion {
                from: ci,
                to: ce,
                at: ctx.now,
                given: p.amount,
                received,
                received_at_mid: at_mid,
                mid,
                half_spread_bps: crate::money::to_f64(lost * Decimal::from(10_000)),
                rate,
                at_rate: p.amount * rate,
                rounding_to: crate::fx::half_unit(&w.currencies, ce),
            },
        );
        let house = self.house(p.exporter)?;
        ctx.post(house, w.members[p.exporter].bank_home, received)?;
        if credit > received {
            let recovered = self.recovered[p.exporter].ok_or_else(|| {
                Error::Invariant(format!("netting: payment {} repays no account", p.id))
            })?;
            ctx.post(house, recovered, credit - received)?;
        }
        Ok(received)
    }

    fn set_outcome(&mut self, slot: u32, o: Outcome) {
        let i = slot as usize;
        if self.outcome.len() <= i {
            self.outcome.resize(i + 1, None);
        }
        self.outcome[i] = Some(o);
    }
}

const STAGE_SUBMIT: u8 = 1;
const STAGE_CYCLE: u8 = 2;

impl RailKind for Netting {
    /// Long because: one match over a payment's stages (submit, wait for its cycle, settle or
    /// unwind), each a few bookings on the same bindings; read top to bottom it is the item's life.
    fn step(&mut self, ctx: &mut Ctx, slot: u32, p: &mut Payment) -> Result<Next> {
        let w = ctx.world;
        let importer = &w.members[p.importer];
        let exporter = &w.members[p.exporter];
        let (ci, ce) = (importer.currency, exporter.currency);
        match p.stage {
            0 => {
                let work = self.p.processing_min.draw_min_s(&mut p.rng);
                p.hops = 1;
                p.stage = STAGE_SUBMIT;
                Ok(Next::At(
                    importer
                        .calendar
                        .process(ctx.now, work)
                        .unwrap_or(Time::MAX),
                ))
            }
            STAGE_SUBMIT => {
                // A suspended participant's payments go to the fallback rail before anything
                // is booked.
                if self.suspended(p.importer, ctx.now) || self.suspended(p.exporter, ctx.now) {
                    return Ok(Next::Fallback);
                }
                if self.next_cycle(ctx.now).is_none() {
                    return Ok(Next::At(Time::MAX));
                }
                // The item is a claim in the payer's currency: the invoice amount, or its
                // value at the mid of submission when invoiced in another currency.
                let amount = if p.invoice_ccy == ci {
                    p.invoice_amount
                } else {
                    w.currencies.round(
                        ci,
                        p.invoice_amount * w.fx.cross_mid(p.invoice_ccy, ci, ctx.now),
                    )
                };
                let house = self.house(p.importer)?;
                p.debit(ctx, importer.bank_home, amount)?;
                ctx.post(importer.bank_home, house, amount)?;
                p.amount = amount;
                p.ccy = ci;
                if p.bearer != Bearer::Ben {
                    let fee =
                        self.p
                            .item_fee
                            .in_currency(&w.fx, &w.currencies, ci, p.value_usd, ctx.now);
                    let fees = self.house_fees(p.importer)?;
                    p.charge_importer(ctx, fees, fee)?;
                }
                self.book.push(Item {
                    slot,
                    importer: p.importer,
                    exporter: p.exporter,
                    amount,
                    value_usd: p.value_usd,
                    submitted: ctx.now,
                });
                self.ensure_timer(ctx);
                p.stage = STAGE_CYCLE;
                Ok(Next::Park)
            }
            STAGE_CYCLE => {
                let outcome = self
                    .outcome
                    .get_mut(slot as usize)
                    .and_then(Option::take)
                    .ok_or_else(|| {
                        Error::Invariant(format!("netting: payment {} woken without a cycle", p.id))
                    })?;
                match outcome {
                    Outcome::Returned => {
                        let house = self.house(p.importer)?;
                        ctx.post(house, importer.bank_home, p.amount)?;
                        p.credit_client(ctx, p.importer, p.amount, Status::Returned)?;
                    }
                    Outcome::Settled {
                        credit,
                        mid,
                        at_mid,
                        fraction,
                        usd_bought,
                        usd_sold,
                    } => {
                        let mut credit = self.settle_item(ctx, p, credit, mid, at_mid, fraction)?;
                        p.usd_bought += usd_bought;
                        p.usd_sold += usd_sold;
                        if p.bearer == Bearer::Ben {
                            let fee = self
                                .p
                                .item_fee
                                .in_currency(&w.fx, &w.currencies, ce, p.value_usd, ctx.now)
                                .min(credit);
                            let fees = self.house_fees(p.exporter)?;
                            p.fee(ctx, exporter.bank_home, fees, fee)?;
                            credit -= fee;
                        }
                        p.credit_client(ctx, p.exporter, credit, Status::Settled)?;
                    }
                }
                p.amount = Decimal::ZERO;
                p.settled_at = ctx.now;
                Ok(Next::Done)
            }
            other => Err(Error::Invariant(format!("netting: unknown stage {other}"))),
        }
    }

    fn pool(&self) -> Option<&Pool> {
        Some(&self.pool)
    }

    fn pool_mut(&mut self) -> Option<&mut Pool> {
        Some(&mut self.pool)
    }

    /// A cycle comes due.
    fn timer(&mut self, ctx: &mut Ctx, _token: u32) -> Result<()> {
        if self.timer_at != Some(ctx.now) {
            return Ok(());
        }
        self.cycle(ctx)
    }
}

/// netting.csv: one row per cycle that settled, unwound or converted anything.
pub const CYCLES: ReportTable = ReportTable {
    file: "netting.csv",
    columns: &[
        // When the cycle ran.
        "cycle_at",
        // Items settled, and items unwound because a participant failed.
        "items",
        "unwound_items",
        // Gross value of the items, and the sum of the positive net positions, at the cycle's
        // mids; efficiency is 1 − net / gross (blank when nothing was gross).
        "gross_usd",
        "net_usd",
        "efficiency",
        "unwound_usd",
        // Net positions carried to the next cycle under credit quotas.
        "carried_forward_usd",
        // The member that failed at this cycle, if any.
        "failed_member",
        // Items left in the book for a later cycle because a member's RTGS was closed.
        "deferred_items",
        // Spread paid to the dealers on the net conversions, USD at the cycle's mids (each
        // member's is borne by the settled items that touch it, by value).
        "spread_usd",
        // Σ value_usd × hours from the payer's debit (submission) to the cycle, over the items
        // settled and unwound at this cycle.
        "principal_at_risk_usd_h",
    ],
};
