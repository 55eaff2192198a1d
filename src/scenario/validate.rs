//! Validation: the raw TOML types become a checked [`Scenario`] with defaults filled in. Each
//! check names the key it is about, and [`Loaded::error`] turns that into file, line and column.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use super::load::{Loaded, read_data};
use super::schema::*;
use super::{FxParams, MemberSpec, Route, Scenario};
use crate::calendar::CalendarSpec;
use crate::engine::{DAY_S, HOUR_S, Time};
use crate::fx::process::{Regime, cholesky};
use crate::fx::quote::MAX_HALF_SPREAD_BPS;
use crate::fx::{CurrencyProcess, SizeBand, SpreadTable, VolWidening};
use crate::input::{Checker, MAX_DESCRIPTION_CHARS, MAX_LABEL_CHARS, Seg, k, key_path, rounded};
use crate::money::{Currencies, CurrencyId};
use crate::rails::RailSpec;
use crate::terms::{Bearer, Discrete};
use crate::trade::{Corridor, ExplicitPayment as TradePayment, SizeDist, TradeParams};
use crate::{Error, Result};

/// The most payments one replication may be expected to generate (a run stops at twice this:
/// [`crate::sim::MAX_PAYMENTS_STARTED`]).
pub const MAX_EXPECTED_PAYMENTS: f64 = 5e7;
/// The most payments all replications of a run may be expected to generate: aggregates keep
/// about 40 bytes per payment for exact quantiles, so this is about 4 GB.
pub const MAX_EXPECTED_PAYMENTS_PER_RUN: f64 = 1e8;
/// The largest multiple of the trade matrix.
pub const MAX_TRADE_SCALE: f64 = 1e6;

/// A corridor (exporter, importer) as member indices; None is "*".
type CorridorKey = Option<(usize, usize)>;

/// Translates a serde error on the merged document into a located scenario error.
fn serde_error(l: &Loaded, e: serde_path_to_error::Error<toml::de::Error>) -> Error {
    let (mut path, mut message) = serde_path(&e);
    // A [[rail]] is an internally tagged enum: serde buffers it, so an error inside one stops
    // at the rail. Deserialise that rail alone as its kind to find the key within it.
    if let [Seg::Key(top), Seg::Index(i)] = path.as_slice()
        && top == "rail"
        && let Some(rail) = l
            .merged
            .get("rail")
            .and_then(|r| r.as_array())
            .and_then(|a| a.get(*i))
            .and_then(|r| r.as_table())
    {
        let mut body = rail.clone();
        let kind = body.remove("kind");
        let body = toml::Value::Table(body);
        let inner = kind
            .as_ref()
            .and_then(|k| k.as_str())
            .and_then(|k| RailSection::check_as(k, body));
        if let Some(inner) = inner {
            let (sub, m) = serde_path(&inner);
            path.extend(sub);
            message = m;
        }
    }
    // A missing key is reported on its container, and so is an unknown key inside an internally
    // tagged enum: point at the key itself.
    if let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))
        && let Some((field, _)) = rest.split_once('`')
        && path.last() != Some(&k(field))
    {
        path.push(k(field));
    }
    // toml hands a date-time to serde as a string: say what the user wrote.
    let message = match value_at(&l.merged, &path) {
        Some(toml::Value::Datetime(d)) => {
            message.replace(&format!("string \"{d}\""), &format!("date-time {d}"))
        }
        _ => message,
    };
    let message = message.replace(
        "data did not match any variant of untagged enum Num",
        "expected a number (integer, float or a string such as \"12.50\")",
    );
    l.error(&path, &message)
}

/// The value at `path` in a document, if there is one.
fn value_at<'a>(doc: &'a toml::Table, path: &[Seg]) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_first()?;
    let Seg::Key(key) = first else {
        return None;
    };
    let mut value = doc.get(key)?;
    for seg in rest {
        value = match seg {
            Seg::Key(key) => value.as_table()?.get(key)?,
            Seg::Index(i) => value.as_array()?.get(*i)?,
        };
    }
    Some(value)
}

/// The key path and message of a serde error.
fn serde_path(e: &serde_path_to_error::Error<toml::de::Error>) -> (Vec<Seg>, String) {
    let mut path: Vec<Seg> = Vec::new();
    for seg in e.path().iter() {
        match seg {
            serde_path_to_error::Segment::Seq { index } => path.push(Seg::Index(*index)),
            serde_path_to_error::Segment::Map { key } => path.push(k(key)),
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {}
        }
    }
    (path, e.inner().message().to_string())
}

pub fn validate(l: &Loaded) -> Result<Scenario> {
    let raw: RawScenario = serde_path_to_error::deserialize(toml::Value::Table(l.merged.clone()))
        .map_err(|e| serde_error(l, e))?;
    let v = Checker::new(l);
    // Sections in the order the errors should come: a later section may use an earlier one's
    // checked values (members need currencies, trade needs members, routes need rails).
    let sc = &raw.scenario;
    let start = scenario_section(&v, sc)?;
    let epoch = Utc.from_utc_datetime(&start.and_hms_opt(0, 0, 0).expect("midnight exists"));
    let CurrencyTables {
        currencies,
        liquidity_cost_pa,
        processes,
        usd_half_bps,
    } = currency_sections(&v, &raw.currency)?;
    let mut liquidity_cost_pa = liquidity_cost_pa;
    liquidity_cost_pa[CurrencyId::USD.index()] = usd_carry(&v, &raw.fx)?;
    let members = member_sections(&v, &raw.member, &currencies)?;
    let fx = fx_section(&v, &raw.fx, &currencies, processes, usd_half_bps)?;
    let max_market_half_bps = check_spread_bounds(&v, &raw, &currencies, &fx.spreads, &fx.depth)?;
    let ids = Ids {
        v: &v,
        currencies: &currencies,
        members: &members,
    };
    let mut data_files = l.files.clone();
    let (matrix, scale) = trade_matrix(l, &ids, &raw.trade, &mut data_files)?;
    let trade = trade_section(&ids, &raw.trade, sc, epoch, matrix, &fx.processes)?;
    let mut warnings = check_volume(&v, sc, &trade, scale)?;
    let rails = rail_sections(&ids, &raw.rail, max_market_half_bps)?;
    let routes = route_sections(&ids, &raw.route, &trade.corridors, &rails)?;
    let shocks = super::shocks::shock_sections(
        &v,
        &raw.shock,
        &super::shocks::Names {
            currencies: &currencies,
            members: &members,
            rails: &rails,
            epoch,
        },
    )?;
    let (fx, rails) = apply_shocks(&v, &shocks, fx, rails, epoch)?;
    warnings.extend(calendar_warnings(sc, start, epoch, &members, &rails)?);
    let resolved = super::load::resolved_text(&l.merged, &data_files)?;
    let sha256 = super::load::sha256_hex(resolved.as_bytes());
    data_files.push(super::load::DataFile::new(
        "holidays",
        "bundled:holidays.csv".into(),
        crate::calendar::bundled_holidays_csv().as_bytes(),
    ));
    Ok(Scenario {
        name: sc.name.clone(),
        variant: sc.name.clone(),
        description: sc.description.clone(),
        epoch,
        days: sc.days,
        seed: sc.seed,
        replications: sc.replications,
        drain_days: sc.drain_days,
        max_events: sc.max_events,
        currencies,
        liquidity_cost_pa,
        members,
        fx,
        trade,
        rails,
        routes,
        write_payments: raw.output.payments,
        source: l.chain[0].display.display().to_string(),
        resolved,
        sha256,
        files: data_files,
        warnings,
        shocks,
    })
}

/// What shocks change in the validated sections: a devaluation is a scheduled jump of the mid
/// per USD (a value change v moves the rate by 1/(1 + v) − 1), a default a failure of the
/// netting participant.
fn apply_shocks(
    v: &Checker,
    shocks: &[crate::shock::Shock],
    mut fx: FxParams,
    mut rails: Vec<RailSpec>,
    epoch: chrono::DateTime<Utc>,
) -> Result<(FxParams, Vec<RailSpec>)> {
    use crate::shock::Kind;
    for (i, s) in shocks.iter().enumerate() {
        match s.kind {
            Kind::Devaluation {
                currency,
                value_change,
            } => fx.jumps.push(crate::fx::process::ScheduledJump {
                currency,
                at: s.from,
                size: 1.0 / (1.0 + value_change) - 1.0,
            }),
            Kind::Default { rail, member } => {
                let until = (s.to != crate::engine::Time::MAX).then(|| epoch.timestamp() + s.to);
                let code = s.target.split(' ').next().unwrap_or_default();
                rails[rail]
                    .add_default(member, code, epoch.timestamp() + s.from, until)
                    .map_err(|m| v.err(key_path!["shock", i, "member"], m))?;
            }
            _ => {}
        }
    }
    Ok((fx, rails))
}

/// What the checks of later sections look names up in: the checker, the declared currencies and
/// the members.
struct Ids<'a> {
    v: &'a Checker<'a>,
    currencies: &'a Currencies,
    members: &'a [MemberSpec],
}

impl Ids<'_> {
    fn member(&self, code: &str) -> Option<usize> {
        self.members.iter().position(|m| m.code == code)
    }

    /// A corridor `"EXPORTER->IMPORTER"` as member indices, or `"*"` (None).
    fn corridor(&self, path: Vec<Seg>, s: &str) -> Result<CorridorKey> {
        let v = self.v;
        if s == "*" {
            return Ok(None);
        }
        let (a, b) = s
            .split_once("->")
            .ok_or_else(|| v.err(path.clone(), format!("expected a corridor \"EXPORTER->IMPORTER\" such as \"TR->AZ\", or \"*\"; got \"{s}\"")))?;
        let a = self.member(a.trim()).ok_or_else(|| {
            v.err(
                path.clone(),
                format!("unknown member \"{}\" in corridor \"{s}\"", a.trim()),
            )
        })?;
        let b = self.member(b.trim()).ok_or_else(|| {
            v.err(
                path.clone(),
                format!("unknown member \"{}\" in corridor \"{s}\"", b.trim()),
            )
        })?;
        if a == b {
            return Err(v.err(path, format!("corridor \"{s}\" joins a member to itself")));
        }
        Ok(Some((a, b)))
    }
}

/// `[scenario]`: name, description, span and run limits. Returns the start date.
fn scenario_section(v: &Checker, sc: &ScenarioSection) -> Result<NaiveDate> {
    v.scenario_name(key_path!["scenario", "name"], &sc.name)?;
    v.label(
        key_path!["scenario", "description"],
        &sc.description,
        MAX_DESCRIPTION_CHARS,
        true,
    )?;
    let start = match (sc.start.date, sc.start.time) {
        (Some(d), None) => NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32),
        _ => None,
    }
    .ok_or_else(|| {
        v.err(
            key_path!["scenario", "start"],
            format!("expected a date such as 2025-01-01, got {}", sc.start),
        )
    })?;
    if sc.days == 0 || sc.days > 3_660 {
        return Err(v.err(
            key_path!["scenario", "days"],
            format!("must be between 1 and 3660, got {}", sc.days),
        ));
    }
    if sc.replications == 0 || sc.replications > 100_000 {
        return Err(v.err(
            key_path!["scenario", "replications"],
            format!("must be between 1 and 100000, got {}", sc.replications),
        ));
    }
    if sc.drain_days > 366 {
        return Err(v.err(
            key_path!["scenario", "drain_days"],
            format!("must be at most 366, got {}", sc.drain_days),
        ));
    }
    if sc.max_events == 0 {
        return Err(v.err(key_path!["scenario", "max_events"], "must be positive"));
    }
    Ok(start)
}

/// The checked `[[currency]]` tables, each vector in currency-id order (USD first where the
/// vector has a USD entry).
struct CurrencyTables {
    currencies: Currencies,
    /// Annual carry rate by currency id (USD first).
    liquidity_cost_pa: Vec<f64>,
    /// One per non-USD currency.
    processes: Vec<CurrencyProcess>,
    /// Half-spread against USD by currency id (USD first).
    usd_half_bps: Vec<f64>,
}

/// `[[currency]]`: codes, minor units, opening mids, rate regimes and carry.
fn currency_sections(v: &Checker, raw: &[CurrencySection]) -> Result<CurrencyTables> {
    let mut currencies = Currencies::new();
    let mut liquidity_cost_pa = vec![0.0];
    let mut processes = Vec::new();
    let mut usd_half_bps = vec![0.0];
    for (i, c) in raw.iter().enumerate() {
        let p = |key: &str| key_path!["currency", i, key];
        if c.code.len() != 3 || !c.code.chars().all(|ch| ch.is_ascii_uppercase()) {
            return Err(v.err(
                p("code"),
                format!(
                    "expected an ISO 4217 code of three capital letters, got \"{}\"",
                    c.code
                ),
            ));
        }
        if c.code == "USD" {
            return Err(v.err(
                p("code"),
                "USD is built in (the numeraire); do not declare it",
            ));
        }
        if currencies.id(&c.code).is_some() {
            return Err(v.err(p("code"), format!("currency {} is declared twice", c.code)));
        }
        if c.minor_units > 8 {
            return Err(v.err(
                p("minor_units"),
                format!("must be at most 8, got {}", c.minor_units),
            ));
        }
        let mid = v.decimal(p("mid_per_usd"), &c.mid_per_usd)?;
        if mid <= Decimal::ZERO {
            return Err(v.err(p("mid_per_usd"), format!("must be positive, got {mid}")));
        }
        // Rates are exact decimals (at most ≈7.9e28, 28 decimal places): beyond this range
        // converted amounts overflow or round to zero during a run.
        // Held to the range simulated rates are clamped to (fx::process::MID_RANGE): no
        // currency is worth more than 1000 USD or less than a millionth of one, and within it
        // every converted amount stays inside exact decimal arithmetic.
        if mid < Decimal::new(1, 3) || mid > Decimal::from(1_000_000) {
            return Err(v.err(
                p("mid_per_usd"),
                format!("must lie between 0.001 and 1000000 units per USD, got {mid}"),
            ));
        }
        let regime = match c.regime.as_str() {
            "float" => Regime::Float,
            "crawl" => Regime::Crawl,
            "peg" => Regime::Peg,
            other => {
                return Err(v.err(
                    p("regime"),
                    format!("expected \"float\", \"crawl\" or \"peg\", got \"{other}\""),
                ));
            }
        };
        let drift_pa = c.drift_pa;
        if !drift_pa.is_finite() || drift_pa.abs() > 5.0 {
            return Err(v.err(
                p("drift_pa"),
                format!("must be a finite annual drift within ±5, got {drift_pa}"),
            ));
        }
        if regime == Regime::Peg && drift_pa != 0.0 {
            return Err(v.err(
                p("drift_pa"),
                format!(
                    "a peg holds its level, so it takes no drift (got {drift_pa}); a peg moves \
                     only when it breaks: give `jump_rate_pa`, `jump_mean` and `jump_sd`, or make \
                     it a \"crawl\""
                ),
            ));
        }
        processes.push(CurrencyProcess {
            regime,
            mid0_per_usd: mid.to_string().parse().unwrap_or(1.0),
            drift_pa,
            vol_pa: v.nonneg(p("vol_pa"), c.vol_pa)?,
            jump_rate_pa: v.nonneg(p("jump_rate_pa"), c.jump_rate_pa)?,
            jump_mean: {
                let x = c.jump_mean;
                if !x.is_finite() || x <= -0.95 {
                    return Err(v.err(
                        p("jump_mean"),
                        format!("must be a finite fraction above -0.95, got {x}"),
                    ));
                }
                x
            },
            jump_sd: v.nonneg(p("jump_sd"), c.jump_sd)?,
            band_pct: v.nonneg(p("band_pct"), c.band_pct)?,
        });
        liquidity_cost_pa.push(v.nonneg(p("liquidity_cost_pa"), c.liquidity_cost_pa)?);
        usd_half_bps.push(v.nonneg(p("usd_half_spread_bps"), c.usd_half_spread_bps)?);
        currencies.add(&c.code, c.minor_units);
    }
    Ok(CurrencyTables {
        currencies,
        liquidity_cost_pa,
        processes,
        usd_half_bps,
    })
}

/// `[[member]]`: codes, currencies and RTGS calendars.
fn member_sections(
    v: &Checker,
    raw: &[MemberSection],
    currencies: &Currencies,
) -> Result<Vec<MemberSpec>> {
    if raw.len() < 2 {
        return Err(v.err(
            key_path!["member"],
            format!("at least two members are needed, got {}", raw.len()),
        ));
    }
    let mut members: Vec<MemberSpec> = Vec::new();
    for (i, m) in raw.iter().enumerate() {
        let p = |key: &str| key_path!["member", i, key];
        if m.code.len() != 2 || !m.code.chars().all(|ch| ch.is_ascii_uppercase()) {
            return Err(v.err(
                p("code"),
                format!(
                    "expected an ISO 3166 code of two capital letters, got \"{}\"",
                    m.code
                ),
            ));
        }
        if members.iter().any(|x| x.code == m.code) {
            return Err(v.err(p("code"), format!("member {} is declared twice", m.code)));
        }
        let currency = currencies
            .id(&m.currency)
            .filter(|c| *c != CurrencyId::USD)
            .ok_or_else(|| {
                v.err(
                    p("currency"),
                    format!(
                        "unknown currency \"{}\": declare it in a [[currency]] table",
                        m.currency
                    ),
                )
            })?;
        let time_zone = v.time_zone(p("time_zone"), &m.time_zone)?;
        let open_min = v.hhmm(p("rtgs_open"), &m.rtgs_open)?;
        let cutoff_min = v.hhmm(p("rtgs_cutoff"), &m.rtgs_cutoff)?;
        if cutoff_min <= open_min {
            return Err(v.err(
                p("rtgs_cutoff"),
                format!(
                    "cut-off {} must be after opening {}",
                    m.rtgs_cutoff, m.rtgs_open
                ),
            ));
        }
        let half_day_cutoff_min = match &m.half_day_cutoff {
            Some(h) => {
                let x = v.hhmm(p("half_day_cutoff"), h)?;
                if x <= open_min || x > cutoff_min {
                    return Err(v.err(
                        p("half_day_cutoff"),
                        format!("must lie after opening and no later than the cut-off, got {h}"),
                    ));
                }
                x
            }
            None => cutoff_min,
        };
        let extra_closed = m
            .extra_closed
            .iter()
            .enumerate()
            .map(|(j, d)| v.date(key_path!["member", i, "extra_closed", j], d))
            .collect::<Result<_>>()?;
        let extra_half = m
            .extra_half_days
            .iter()
            .enumerate()
            .map(|(j, d)| v.date(key_path!["member", i, "extra_half_days", j], d))
            .collect::<Result<_>>()?;
        v.label(p("name"), &m.name, MAX_LABEL_CHARS, false)?;
        members.push(MemberSpec {
            code: m.code.clone(),
            name: m.name.clone(),
            currency,
            calendar: CalendarSpec {
                name: m.code.clone(),
                time_zone,
                open_min,
                cutoff_min,
                half_day_cutoff_min,
                weekend: v.weekend(p("weekend"), &m.weekend)?,
                holidays: v.holidays(p("holidays"), &m.holidays, &m.code)?,
                extra_closed,
                extra_half,
                open_previous_evening: false,
            },
        });
    }
    Ok(members)
}

/// `[fx]`: the rate path's tick and sampling, correlations, spreads and market depth.
fn fx_section(
    v: &Checker,
    fx: &FxSection,
    currencies: &Currencies,
    processes: Vec<CurrencyProcess>,
    usd_half_bps: Vec<f64>,
) -> Result<FxParams> {
    if fx.tick_h == 0 || fx.tick_h > 24 {
        return Err(v.err(
            key_path!["fx", "tick_h"],
            format!("must be between 1 and 24 hours, got {}", fx.tick_h),
        ));
    }
    if fx.sample_h == 0 {
        return Err(v.err(key_path!["fx", "sample_h"], "must be at least 1 hour"));
    }
    let correlation = correlations(v, fx, currencies, processes.len())?;
    let mut cross_half_bps = BTreeMap::new();
    let mut seen = BTreeMap::new();
    for (i, c) in fx.cross.iter().enumerate() {
        let (a, b) = currency_pair(v, currencies, key_path!["fx", "cross", i, "pair"], &c.pair)?;
        listed_once(v, &mut seen, "cross", i, (a, b), &c.pair)?;
        let bps = v.nonneg(
            key_path!["fx", "cross", i, "half_spread_bps"],
            c.half_spread_bps,
        )?;
        cross_half_bps.insert(if a < b { (a, b) } else { (b, a) }, bps);
    }
    let size_curve = size_curve(v, fx)?;
    let spreads = SpreadTable {
        usd_half_bps,
        cross_half_bps,
        cross_multiplier: v.nonneg(key_path!["fx", "cross_multiplier"], fx.cross_multiplier)?,
        size_curve,
        vol: vol_widening(v, fx)?,
    };
    let depth = depth_section(v, fx.depth.as_ref())?;
    Ok(FxParams {
        tick_s: fx.tick_h as i64 * HOUR_S,
        processes,
        correlation,
        jumps: Vec::new(),
        spreads,
        sample_s: fx.sample_h as i64 * HOUR_S,
        depth,
    })
}

/// `fx.usd_liquidity_cost_pa`: the carry rate of dollar balances, required (a dollar in a
/// nostro or in transit is not free).
fn usd_carry(v: &Checker, fx: &FxSection) -> Result<f64> {
    let path = key_path!["fx", "usd_liquidity_cost_pa"];
    match fx.usd_liquidity_cost_pa {
        None => Err(v.err(
            path,
            "required: the carry rate of dollar balances a year (e.g. 0.0433), so that dollars \
             prefunded or in transit cost what they cost",
        )),
        Some(rate) => v.nonneg(path, rate),
    }
}

/// `fx.spread_vol_*`: how quotes widen with realised volatility.
fn vol_widening(v: &Checker, fx: &FxSection) -> Result<VolWidening> {
    let elasticity = fx.spread_vol_elasticity;
    if !elasticity.is_finite() || !(0.0..=4.0).contains(&elasticity) {
        return Err(v.err(
            key_path!["fx", "spread_vol_elasticity"],
            format!("must be between 0 (off) and 4, got {elasticity}"),
        ));
    }
    let halflife_h = fx.spread_vol_halflife_h;
    if !halflife_h.is_finite() || !(1.0..=8_760.0).contains(&halflife_h) {
        return Err(v.err(
            key_path!["fx", "spread_vol_halflife_h"],
            format!("must be between 1 and 8760 hours, got {halflife_h}"),
        ));
    }
    let max_multiplier = fx.spread_vol_max_multiplier;
    if !max_multiplier.is_finite() || !(1.0..=100.0).contains(&max_multiplier) {
        return Err(v.err(
            key_path!["fx", "spread_vol_max_multiplier"],
            format!("must be between 1 (never wider) and 100, got {max_multiplier}"),
        ));
    }
    Ok(VolWidening {
        elasticity,
        halflife_s: (halflife_h * HOUR_S as f64).round() as i64,
        max_multiplier: if elasticity > 0.0 {
            max_multiplier
        } else {
            1.0
        },
    })
}

/// `fx.correlation`: the correlation matrix of the non-USD rates (`n` of them), which must be
/// positive definite.
fn correlations(
    v: &Checker,
    fx: &FxSection,
    currencies: &Currencies,
    n: usize,
) -> Result<Vec<Vec<f64>>> {
    let mut corr = vec![vec![0.0; n]; n];
    for (i, row) in corr.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    let mut seen = BTreeMap::new();
    for (i, c) in fx.correlation.iter().enumerate() {
        let (a, b) = currency_pair(
            v,
            currencies,
            key_path!["fx", "correlation", i, "pair"],
            &c.pair,
        )?;
        listed_once(v, &mut seen, "correlation", i, (a, b), &c.pair)?;
        if a == CurrencyId::USD || b == CurrencyId::USD {
            return Err(v.err(
                key_path!["fx", "correlation", i, "pair"],
                "correlations are between non-USD currencies (each rate is per USD)",
            ));
        }
        if !c.rho.is_finite() || !(-1.0..=1.0).contains(&c.rho) {
            return Err(v.err(
                key_path!["fx", "correlation", i, "rho"],
                format!("must lie in [-1, 1], got {}", c.rho),
            ));
        }
        corr[a.index() - 1][b.index() - 1] = c.rho;
        corr[b.index() - 1][a.index() - 1] = c.rho;
    }
    if let Err(e) = cholesky(&corr) {
        return Err(v.err(
            key_path!["fx", "correlation"],
            format!("{e}: the listed correlations cannot hold together"),
        ));
    }
    Ok(corr)
}

/// A currency pair `"AAA/BBB"` of two different declared currencies.
fn currency_pair(
    v: &Checker,
    currencies: &Currencies,
    path: Vec<Seg>,
    s: &str,
) -> Result<(CurrencyId, CurrencyId)> {
    let (a, b) = s.split_once('/').ok_or_else(|| {
        v.err(
            path.clone(),
            format!("expected a pair \"AAA/BBB\", got \"{s}\""),
        )
    })?;
    let id = |c: &str| {
        currencies.id(c).ok_or_else(|| {
            v.err(
                path.clone(),
                format!("unknown currency \"{c}\" in pair \"{s}\""),
            )
        })
    };
    let (a, b) = (id(a)?, id(b)?);
    if a == b {
        return Err(v.err(path, format!("pair \"{s}\" names the same currency twice")));
    }
    Ok((a, b))
}

/// Refuses a pair listed twice (in either order) in `fx.TABLE`: the later entry would
/// silently win.
fn listed_once(
    v: &Checker,
    seen: &mut BTreeMap<(CurrencyId, CurrencyId), String>,
    table: &str,
    i: usize,
    (a, b): (CurrencyId, CurrencyId),
    name: &str,
) -> Result<()> {
    match seen.insert(if a < b { (a, b) } else { (b, a) }, name.to_string()) {
        Some(first) => Err(v.err(
            key_path!["fx", table, i, "pair"],
            format!(
                "pair \"{name}\" is listed twice in fx.{table} (also as \"{first}\"); \
                 list each pair once"
            ),
        )),
        None => Ok(()),
    }
}

/// `fx.size_curve`: spread multipliers by ticket size, in ascending bands.
fn size_curve(v: &Checker, fx: &FxSection) -> Result<Vec<SizeBand>> {
    let mut size_curve = Vec::new();
    for (i, b) in fx.size_curve.iter().enumerate() {
        let up_to = match b.up_to_usd {
            Some(x) => v.positive(key_path!["fx", "size_curve", i, "up_to_usd"], x)?,
            None => f64::INFINITY,
        };
        if size_curve
            .last()
            .is_some_and(|last: &SizeBand| last.up_to_usd >= up_to)
        {
            return Err(v.err(
                key_path!["fx", "size_curve", i, "up_to_usd"],
                "bands must be in ascending order of up_to_usd",
            ));
        }
        size_curve.push(SizeBand {
            up_to_usd: up_to,
            multiplier: v.nonneg(key_path!["fx", "size_curve", i, "multiplier"], b.multiplier)?,
        });
    }
    Ok(size_curve)
}

/// `[fx.depth]`: how spreads widen with the volume a pair has traded lately (off when absent).
fn depth_section(
    v: &Checker,
    depth: Option<&DepthSection>,
) -> Result<crate::fx::depth::DepthParams> {
    Ok(match depth {
        None => crate::fx::depth::DepthParams::default(),
        Some(d) => {
            let p = |key: &str| key_path!["fx", "depth", key];
            if d.window_days == 0 || d.window_days > 366 {
                return Err(v.err(
                    p("window_days"),
                    format!("must be between 1 and 366, got {}", d.window_days),
                ));
            }
            crate::fx::depth::DepthParams {
                elasticity: v.nonneg(p("elasticity"), d.elasticity)?,
                reference_usd_per_day: v
                    .positive(p("reference_usd_per_day"), d.reference_usd_per_day)?,
                window_s: d.window_days as i64 * DAY_S,
                floor_bps: v.nonneg(p("floor_bps"), d.floor_bps)?,
                max_multiplier: v.at_least(p("max_multiplier"), d.max_multiplier, 1.0)?,
                usd_pairs: d.usd_pairs,
            }
        }
    })
}

/// One row of the trade matrix: exporter and importer (member indices), annual trade in USD,
/// and the corridor's label as the file wrote it.
type MatrixRow = (usize, usize, f64, String);

/// `trade.matrix` and `trade.scale`: the annual trade by corridor, read from the data file
/// (recorded in `data_files`) and scaled. Returns the scaled rows and the scale.
fn trade_matrix(
    l: &Loaded,
    ids: &Ids,
    t: &TradeSection,
    data_files: &mut Vec<super::load::DataFile>,
) -> Result<(Vec<MatrixRow>, f64)> {
    let v = ids.v;
    let mut matrix: Vec<MatrixRow> = Vec::new();
    if let Some(name) = &t.matrix {
        // Relative to the file that wrote the key (the command line: the current folder).
        let on_command_line = l
            .overridden
            .iter()
            .any(|o| o == "trade.matrix" || o == "trade");
        let writer = if on_command_line {
            None
        } else {
            l.chain.iter().find(|f| {
                f.text
                    .parse::<toml::Table>()
                    .ok()
                    .and_then(|t| t.get("trade")?.get("matrix").cloned())
                    .is_some()
            })
        };
        // The read error names the file and the reason; the key and where it was written are
        // added, so the user sees which setting named the file.
        let (file, text) = read_data(writer, name).map_err(|e| match e {
            Ok(read_error) => v.err(key_path!["trade", "matrix"], read_error.to_string()),
            Err(msg) => v.err(key_path!["trade", "matrix"], msg),
        })?;
        data_files.push(super::load::DataFile::new(
            "trade.matrix",
            file.display().to_string(),
            text.as_bytes(),
        ));
        matrix = read_matrix(&file, &text, ids.members)?;
    }
    let scale = v.nonneg(key_path!["trade", "scale"], t.scale)?;
    if scale > MAX_TRADE_SCALE {
        return Err(v.err(
            key_path!["trade", "scale"],
            format!("must be at most {MAX_TRADE_SCALE} (a multiple of the matrix), got {scale}"),
        ));
    }
    for row in &mut matrix {
        row.2 *= scale;
    }
    if t.matrix.is_none() && t.payment.is_empty() {
        return Err(v.err(
            key_path!["trade"],
            "give a `matrix` file or at least one [[trade.payment]]",
        ));
    }
    Ok((matrix, scale))
}

/// `[trade.size]`: the invoice size distribution and its cap (USD). Without a matrix (explicit
/// payments only) it may be left out.
fn size_section(v: &Checker, t: &TradeSection, no_matrix: bool) -> Result<(SizeDist, f64)> {
    let size = match &t.size {
        Some(sz) => {
            let p = |key: &str| key_path!["trade", "size", key];
            let need = |key: &str, x: Option<f64>| {
                x.ok_or_else(|| {
                    v.err(
                        p(key),
                        format!(
                            "`{key}` is required for the {} distribution",
                            sz.distribution
                        ),
                    )
                })
            };
            match sz.distribution.as_str() {
                "lognormal" => SizeDist::LogNormal {
                    median_usd: v.positive(p("median_usd"), need("median_usd", sz.median_usd)?)?,
                    sigma: v.nonneg(p("sigma"), need("sigma", sz.sigma)?)?,
                },
                "pareto" => {
                    let alpha = need("alpha", sz.alpha)?;
                    if !alpha.is_finite() || alpha <= 1.0 {
                        return Err(v.err(
                            p("alpha"),
                            format!("must be above 1 (a finite mean), got {alpha}"),
                        ));
                    }
                    SizeDist::Pareto {
                        min_usd: v.positive(p("min_usd"), need("min_usd", sz.min_usd)?)?,
                        alpha,
                    }
                }
                other => {
                    return Err(v.err(
                        p("distribution"),
                        format!("expected \"lognormal\" or \"pareto\", got \"{other}\""),
                    ));
                }
            }
        }
        None if no_matrix => SizeDist::LogNormal {
            median_usd: 1.0,
            sigma: 0.0,
        },
        None => return Err(v.err(key_path!["trade"], "`size` is required with a trade matrix")),
    };
    // Sizes are capped at MAX_PAYMENT_USD whether or not the scenario says so: a lognormal's
    // tail is unbounded, and exact money must stay in range.
    let max_usd = match t.size.as_ref().and_then(|s| s.max_usd) {
        Some(m) => {
            let m = v.positive(key_path!["trade", "size", "max_usd"], m)?;
            if m > crate::money::MAX_PAYMENT_USD {
                return Err(v.err(
                    key_path!["trade", "size", "max_usd"],
                    format!(
                        "must be at most {:.0e} USD (one payment), got {m}",
                        crate::money::MAX_PAYMENT_USD
                    ),
                ));
            }
            m
        }
        None => crate::money::MAX_PAYMENT_USD,
    };
    Ok((size, max_usd))
}

/// `[[trade.invoice_currency]]`: shares of invoices in USD, the exporter's and the importer's
/// currency (cumulative), by corridor or for every corridor (`"*"`).
fn invoice_rules(ids: &Ids, t: &TradeSection) -> Result<Vec<(CorridorKey, [f64; 3])>> {
    let v = ids.v;
    let mut invoice_rules: Vec<(CorridorKey, [f64; 3])> = Vec::new();
    for (i, rule) in t.invoice_currency.iter().enumerate() {
        let key = ids.corridor(
            key_path!["trade", "invoice_currency", i, "corridor"],
            &rule.corridor,
        )?;
        if invoice_rules.iter().any(|(k2, _)| *k2 == key) {
            return Err(v.err(
                key_path!["trade", "invoice_currency", i, "corridor"],
                format!(
                    "corridor \"{}\" has two invoice-currency rules",
                    rule.corridor
                ),
            ));
        }
        let shares = v.shares(
            key_path!["trade", "invoice_currency", i],
            ["usd", "exporter", "importer"],
            [rule.usd, rule.exporter, rule.importer],
        )?;
        invoice_rules.push((key, shares));
    }
    Ok(invoice_rules)
}

/// The invoice-currency shares of corridor `e -> im`: its own rule, else the `"*"` rule, else
/// all in USD.
fn invoice_for(rules: &[(CorridorKey, [f64; 3])], e: usize, im: usize) -> [f64; 3] {
    rules
        .iter()
        .find(|(key, _)| *key == Some((e, im)))
        .or_else(|| rules.iter().find(|(key, _)| key.is_none()))
        .map_or([1.0, 1.0, 1.0], |(_, s)| *s)
}

/// `[trade]`: sizes, payment terms, invoice currencies, the corridors with trade and the
/// explicit payments (`[[trade.payment]]`), on top of the matrix already read.
fn trade_section(
    ids: &Ids,
    t: &TradeSection,
    sc: &ScenarioSection,
    epoch: chrono::DateTime<Utc>,
    matrix: Vec<MatrixRow>,
    processes: &[CurrencyProcess],
) -> Result<TradeParams> {
    let v = ids.v;
    let (size, max_usd) = size_section(v, t, matrix.is_empty())?;
    let terms_days = match &t.terms_days {
        Some(c) => {
            let (values, cumulative) = v.choice(key_path!["trade", "terms_days"], c)?;
            for &x in &values {
                v.nonneg(key_path!["trade", "terms_days", "values"], x)?;
            }
            Discrete { values, cumulative }
        }
        None => Discrete {
            values: vec![0.0],
            cumulative: vec![1.0],
        },
    };
    let hours_min = match &t.hours {
        Some(h) if h.len() == 2 => {
            let a = v.hhmm(key_path!["trade", "hours", 0], &h[0])?;
            let b = v.hhmm(key_path!["trade", "hours", 1], &h[1])?;
            if b <= a {
                return Err(v.err(
                    key_path!["trade", "hours"],
                    "the second time must be after the first",
                ));
            }
            Some((a, b))
        }
        Some(_) => {
            return Err(v.err(
                key_path!["trade", "hours"],
                "expected two local times, e.g. [\"09:00\", \"18:00\"]",
            ));
        }
        // Unset: each importer's banking day, RTGS opening to cut-off (docs/calibration.md §3.4:
        // banks accept customer payment orders until their cut-off).
        None => None,
    };
    let bearer_cumulative = match &t.charge_bearer {
        Some(b) => v.shares(
            key_path!["trade", "charge_bearer"],
            ["our", "sha", "ben"],
            [b.our, b.sha, b.ben],
        )?,
        None => [0.0, 1.0, 1.0],
    };
    let growth_pa = t.growth_pa;
    if !growth_pa.is_finite() || growth_pa <= -1.0 {
        return Err(v.err(
            key_path!["trade", "growth_pa"],
            format!("must be a finite rate above -1, got {growth_pa}"),
        ));
    }
    let invoice_rules = invoice_rules(ids, t)?;
    let mut corridors: Vec<Corridor> = matrix
        .iter()
        .filter(|(_, _, usd, _)| *usd > 0.0)
        .map(|(e, im, usd, source)| Corridor {
            exporter: *e,
            importer: *im,
            code: format!("{}->{}", ids.members[*e].code, ids.members[*im].code),
            annual_usd: *usd,
            source: source.clone(),
            invoice_cumulative: invoice_for(&invoice_rules, *e, *im),
        })
        .collect();
    let explicit = explicit_payments(ids, t, sc, epoch, processes, &invoice_rules, &mut corridors)?;
    Ok(TradeParams {
        corridors,
        size,
        max_usd,
        terms_days,
        hours_min,
        bearer_cumulative,
        growth_pa,
        explicit,
    })
}

/// `[[trade.payment]]`: payments at given instants, in time order (equal times keep the order
/// written). A payment on a corridor without matrix trade adds the corridor.
/// Long because: one check per key of a `[[trade.payment]]` entry, in the order they are
/// documented.
fn explicit_payments(
    ids: &Ids,
    t: &TradeSection,
    sc: &ScenarioSection,
    epoch: chrono::DateTime<Utc>,
    processes: &[CurrencyProcess],
    invoice_rules: &[(CorridorKey, [f64; 3])],
    corridors: &mut Vec<Corridor>,
) -> Result<Vec<TradePayment>> {
    let v = ids.v;
    let mut explicit = Vec::new();
    for (i, pay) in t.payment.iter().enumerate() {
        let p = |key: &str| key_path!["trade", "payment", i, key];
        let at = datetime_to_time(&pay.at, epoch).ok_or_else(|| {
            v.err(
                p("at"),
                format!(
                    "expected an instant such as 2025-01-06T09:00:00Z, got {}",
                    pay.at
                ),
            )
        })?;
        if at < 0 || at >= sc.days as Time * DAY_S {
            return Err(v.err(
                p("at"),
                format!("{} lies outside the simulated days", pay.at),
            ));
        }
        let e = ids.member(&pay.exporter).ok_or_else(|| {
            v.err(
                p("exporter"),
                format!("unknown member \"{}\"", pay.exporter),
            )
        })?;
        let im = ids.member(&pay.importer).ok_or_else(|| {
            v.err(
                p("importer"),
                format!("unknown member \"{}\"", pay.importer),
            )
        })?;
        if e == im {
            return Err(v.err(p("importer"), "exporter and importer must differ"));
        }
        let currency = ids.currencies.id(&pay.currency).ok_or_else(|| {
            v.err(
                p("currency"),
                format!("unknown currency \"{}\"", pay.currency),
            )
        })?;
        let amount = v.decimal(p("amount"), &pay.amount)?;
        if amount <= Decimal::ZERO {
            return Err(v.err(p("amount"), format!("must be positive, got {amount}")));
        }
        // Valued at the opening mid: explicit payments obey the same ceiling as drawn sizes.
        let mid0 = if currency == CurrencyId::USD {
            1.0
        } else {
            processes
                .get(currency.index() - 1)
                .map_or(1.0, |c: &CurrencyProcess| c.mid0_per_usd)
        };
        let usd0 = amount.to_string().parse::<f64>().unwrap_or(f64::INFINITY) / mid0;
        if usd0 > crate::money::MAX_PAYMENT_USD {
            return Err(v.err(
                p("amount"),
                format!(
                    "{amount} {} is about {usd0:.3e} USD; one payment may be at most {:.0e} USD",
                    pay.currency,
                    crate::money::MAX_PAYMENT_USD
                ),
            ));
        }
        if ids.currencies.round(currency, amount) != amount {
            return Err(v.err(
                p("amount"),
                format!(
                    "{amount} has more decimals than {} allows ({})",
                    pay.currency,
                    ids.currencies.minor_units(currency)
                ),
            ));
        }
        let bearer = match pay.charge_bearer.as_deref() {
            None | Some("SHA") => Bearer::Sha,
            Some("OUR") => Bearer::Our,
            Some("BEN") => Bearer::Ben,
            Some(other) => {
                return Err(v.err(
                    p("charge_bearer"),
                    format!("expected \"OUR\", \"SHA\" or \"BEN\", got \"{other}\""),
                ));
            }
        };
        let corridor = match corridors
            .iter()
            .position(|c| c.exporter == e && c.importer == im)
        {
            Some(c) => c,
            None => {
                corridors.push(Corridor {
                    exporter: e,
                    importer: im,
                    code: format!("{}->{}", ids.members[e].code, ids.members[im].code),
                    annual_usd: 0.0,
                    source: "scenario".into(),
                    invoice_cumulative: invoice_for(invoice_rules, e, im),
                });
                corridors.len() - 1
            }
        };
        explicit.push(TradePayment {
            at,
            corridor,
            amount,
            currency,
            bearer,
        });
    }
    // Explicit payments in time order; equal times keep the order written.
    explicit.sort_by_key(|p| p.at);
    Ok(explicit)
}

/// Refuses a scenario that would generate more payments than a run can hold (a size in the
/// wrong unit, or a typo, would otherwise show only after minutes) and warns of one with none.
/// Returns the warnings.
fn check_volume(
    v: &Checker,
    sc: &ScenarioSection,
    trade: &TradeParams,
    scale: f64,
) -> Result<Vec<String>> {
    // A size in the wrong unit (cents, or a typo) would make a run generate billions of
    // payments: refuse it up front rather than after minutes.
    let mean_size = trade.size.mean_capped(trade.max_usd);
    let growth = (1.0 + trade.growth_pa)
        .powf(sc.days as f64 / 365.0)
        .max(1.0);
    let expected_payments: f64 = trade
        .corridors
        .iter()
        .map(|c| c.annual_usd * sc.days as f64 / 365.0 / mean_size)
        .sum::<f64>()
        * growth;
    if !expected_payments.is_finite() || expected_payments > MAX_EXPECTED_PAYMENTS {
        let (key, why, hint) = if scale > 1.0 {
            (
                key_path!["trade", "scale"],
                format!("trade.scale = {scale}"),
                "",
            )
        } else {
            (
                key_path!["trade", "size"],
                format!("a mean invoice of ${mean_size:.3e}"),
                "; are the sizes in USD?",
            )
        };
        return Err(v.err(
            key,
            format!(
                "the trade matrix over {} days and {why} imply {expected_payments:.3e} payments per replication (at most {MAX_EXPECTED_PAYMENTS:.0e}){hint}",
                sc.days
            ),
        ));
    }
    let mut warnings = Vec::new();
    let expected_total = expected_payments * sc.replications as f64;
    if expected_total > MAX_EXPECTED_PAYMENTS_PER_RUN {
        return Err(v.err(
            key_path!["scenario", "replications"],
            format!(
                "{} replications of about {expected_payments:.3e} payments each would keep \
                 {expected_total:.3e} payments' statistics in memory (at most \
                 {MAX_EXPECTED_PAYMENTS_PER_RUN:.0e}); use fewer replications or fewer days",
                sc.replications
            ),
        ));
    }
    if expected_payments == 0.0 && trade.explicit.is_empty() {
        warnings.push(
            "this scenario produces no payments: every corridor's trade is zero (check the \
             trade matrix, trade.scale and the members)"
                .to_string(),
        );
    }
    Ok(warnings)
}

/// `[[rail]]`: names, and each rail kind's own section checked by the kind itself.
fn rail_sections(
    ids: &Ids,
    raw: &[RailSection],
    max_market_half_bps: f64,
) -> Result<Vec<RailSpec>> {
    let v = ids.v;
    let mut rails: Vec<RailSpec> = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let p = |key: &str| key_path!["rail", i, key];
        let name = r.name();
        if name.trim().is_empty() {
            return Err(v.err(p("name"), "must not be empty"));
        }
        v.label(p("name"), name, MAX_LABEL_CHARS, false)?;
        if rails.iter().any(|x| x.name == name) {
            return Err(v.err(p("name"), format!("rail \"{name}\" is declared twice")));
        }
        let cx = crate::rails::RailContext {
            check: v,
            currencies: ids.currencies,
            members: ids.members,
            index: i,
            max_market_half_bps,
        };
        let params = r.params(&cx)?;
        rails.push(RailSpec {
            name: name.to_string(),
            params,
        });
    }
    if rails.is_empty() {
        return Err(v.err(key_path!["rail"], "declare at least one [[rail]]"));
    }
    Ok(rails)
}

/// `[[route]]`: rail shares and fallbacks by corridor (or `"*"`); every corridor with trade
/// gets one, and every rail on it must serve the corridor. Returns one per corridor.
fn route_sections(
    ids: &Ids,
    raw: &[RouteSection],
    corridors: &[Corridor],
    rails: &[RailSpec],
) -> Result<Vec<Route>> {
    let v = ids.v;
    let rail_ix = |path: Vec<Seg>, name: &str| -> Result<usize> {
        rails.iter().position(|r| r.name == name).ok_or_else(|| {
            let names: Vec<&str> = rails.iter().map(|r| r.name.as_str()).collect();
            v.err(
                path,
                format!("unknown rail \"{name}\" (declared: {})", names.join(", ")),
            )
        })
    };
    let mut route_rules: Vec<(CorridorKey, usize, Route)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, r) in raw.iter().enumerate() {
        let key = ids.corridor(key_path!["route", i, "corridor"], &r.corridor)?;
        if !seen.insert(key) {
            return Err(v.err(
                key_path!["route", i, "corridor"],
                format!("corridor \"{}\" has two routes", r.corridor),
            ));
        }
        if r.rails.is_empty() {
            return Err(v.err(key_path!["route", i, "rails"], "list at least one rail"));
        }
        let mut shares = Vec::new();
        for (j, s) in r.rails.iter().enumerate() {
            let rail = rail_ix(key_path!["route", i, "rails", j, "rail"], &s.rail)?;
            let share = v.probability(key_path!["route", i, "rails", j, "share"], s.share)?;
            shares.push((rail, share));
        }
        let total: f64 = shares.iter().map(|s| s.1).sum();
        if (total - 1.0).abs() > 1e-9 {
            return Err(v.err(
                key_path!["route", i, "rails"],
                format!("shares sum to {}; they must sum to 1", rounded(total)),
            ));
        }
        let fallback = r
            .fallback
            .iter()
            .enumerate()
            .map(|(j, f)| rail_ix(key_path!["route", i, "fallback", j], f))
            .collect::<Result<Vec<_>>>()?;
        route_rules.push((key, i, Route { shares, fallback }));
    }
    let mut routes = Vec::with_capacity(corridors.len());
    for c in corridors {
        let (exp, imp) = (&ids.members[c.exporter].code, &ids.members[c.importer].code);
        let (_, i, rule) = route_rules
            .iter()
            .find(|(key, _, _)| *key == Some((c.exporter, c.importer)))
            .or_else(|| route_rules.iter().find(|(key, _, _)| key.is_none()))
            .ok_or_else(|| {
                v.err(
                    key_path!["route"],
                    format!(
                        "corridor {} has trade but no route: add a [[route]] for \"{}\" or \"*\"",
                        c.code, c.code
                    ),
                )
            })?;
        for (j, &(rail, share)) in rule.shares.iter().enumerate() {
            if share > 0.0 && !rails[rail].serves(exp, imp) {
                return Err(v.err(key_path!["route", *i, "rails", j, "rail"], format!("rail \"{}\" cannot serve corridor {} (it does not list the pair {exp}-{imp})", rails[rail].name, c.code)));
            }
        }
        for (j, &rail) in rule.fallback.iter().enumerate() {
            if !rails[rail].serves(exp, imp) {
                return Err(v.err(
                    key_path!["route", *i, "fallback", j],
                    format!(
                        "fallback rail \"{}\" cannot serve corridor {}",
                        rails[rail].name, c.code
                    ),
                ));
            }
        }
        routes.push(rule.clone());
    }
    Ok(routes)
}

/// Settings that are valid but leave payments that can never settle, or calendars with less
/// in them than the user may think: warnings, not errors.
fn calendar_warnings(
    sc: &ScenarioSection,
    start: NaiveDate,
    epoch: chrono::DateTime<Utc>,
    members: &[MemberSpec],
    rails: &[RailSpec],
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    // A member without business days can never open its RTGS: its payments never settle.
    for m in members {
        let days: BTreeSet<u32> = m
            .calendar
            .weekend
            .iter()
            .map(|d| d.num_days_from_monday())
            .collect();
        if days.len() == 7 {
            warnings.push(format!(
                "member {} has a seven-day weekend: it has no business days, so its payments \
                 are never initiated or never settle",
                m.code
            ));
        }
    }
    // What each rail kind finds worth a warning over the run (a netting house whose cycles
    // never find a member's RTGS open, say).
    let span = crate::rails::RunSpan {
        epoch,
        run_end_s: (sc.days + sc.drain_days) as Time * DAY_S,
        span_days: sc.days + sc.drain_days + 2,
        members,
    };
    for r in rails {
        warnings.extend(r.params.warnings(&r.name, &span)?);
    }
    // Bundled holidays cover only some years: outside them a calendar silently has weekends
    // but no holidays, which an analyst should know.
    let last_day = start + chrono::Duration::days((sc.days + sc.drain_days) as i64);
    let (first_year, last_year) = crate::calendar::BUNDLED_YEARS;
    if start.year() < first_year || last_day.year() > last_year {
        let with_holidays: Vec<&str> = members
            .iter()
            .filter(|m| m.calendar.holidays.is_some())
            .map(|m| m.code.as_str())
            .collect();
        if !with_holidays.is_empty() {
            warnings.push(format!(
                "the run spans {start} to {last_day}, but bundled holidays cover only {first_year}-{last_year}: outside those years {} have weekends but no holidays (add them with `extra_closed`)",
                with_holidays.join(", ")
            ));
        }
    }
    Ok(warnings)
}

/// Checks that no market quote can reach [`MAX_HALF_SPREAD_BPS`] after the size curve, the
/// cross multiplier and market depth (widening with volatility is held under it at run time); returns the widest half-spread any pair can reach (rails
/// that quote a multiple of the market check their multiple against it).
fn check_spread_bounds(
    v: &Checker,
    raw: &RawScenario,
    currencies: &Currencies,
    spreads: &SpreadTable,
    depth: &crate::fx::depth::DepthParams,
) -> Result<f64> {
    let size = spreads.max_size_multiplier();
    let depth_on = depth.elasticity > 0.0;
    let mut widest: f64 = 0.0;
    let ids: Vec<CurrencyId> = currencies.ids().collect();
    for (n, &a) in ids.iter().enumerate() {
        for &b in &ids[n + 1..] {
            let base = spreads.pair_half_bps(a, b);
            let mut worst = base * size;
            let mut how = format!("{base} bps × {size} (the size curve's largest multiplier)");
            if depth_on {
                worst = (worst * depth.max_multiplier).max(depth.floor_bps);
                how.push_str(&format!(
                    " × {} (fx.depth.max_multiplier), at least fx.depth.floor_bps",
                    depth.max_multiplier
                ));
            }
            widest = widest.max(worst);
            if worst.is_finite() && worst < MAX_HALF_SPREAD_BPS {
                continue;
            }
            // Blame the key that set the pair's spread.
            let ix = |c: CurrencyId| {
                raw.currency
                    .iter()
                    .position(|x| x.code == currencies.code(c))
                    .unwrap_or(0)
            };
            let explicit = raw.fx.cross.iter().position(|c| {
                let mut it = c.pair.split('/').map(str::trim);
                let (x, y) = (it.next(), it.next());
                let (ca, cb) = (Some(currencies.code(a)), Some(currencies.code(b)));
                (x, y) == (ca, cb) || (x, y) == (cb, ca)
            });
            let key = if a == CurrencyId::USD {
                key_path!["currency", ix(b), "usd_half_spread_bps"]
            } else if let Some(i) = explicit {
                key_path!["fx", "cross", i, "half_spread_bps"]
            } else {
                key_path!["fx", "cross_multiplier"]
            };
            return Err(v.err(
                key,
                format!(
                    "the half-spread of {}/{} can reach {worst} bps ({how}); every quote must \
                     stay below {MAX_HALF_SPREAD_BPS} bps (50 % of the mid)",
                    currencies.code(a),
                    currencies.code(b)
                ),
            ));
        }
    }
    Ok(widest)
}

/// A TOML date-time as sim time; a date alone means its midnight UTC; a local date-time is UTC.
fn datetime_to_time(dt: &toml::value::Datetime, epoch: chrono::DateTime<Utc>) -> Option<Time> {
    let d = dt.date?;
    let date = NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32)?;
    let (h, m, s) = dt.time.map_or((0, 0, 0), |t| {
        (t.hour as u32, t.minute as u32, t.second.unwrap_or(0) as u32)
    });
    let naive = date.and_hms_opt(h, m, s)?;
    let offset_min = match dt.offset {
        Some(toml::value::Offset::Custom { minutes }) => minutes as i64,
        _ => 0,
    };
    Some((Utc.from_utc_datetime(&naive) - epoch).num_seconds() - offset_min * 60)
}

/// Reads the trade matrix: `exporter,importer,annual_usd[,...]`. Rows naming a non-member
/// (an observer not in this scenario) are skipped.
fn read_matrix(
    file: &std::path::Path,
    text: &str,
    members: &[MemberSpec],
) -> Result<Vec<MatrixRow>> {
    let err = |line: Option<usize>, msg: String| {
        super::load::scenario_error(file, line.map(|l| (l, 1)), None, &msg)
    };
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| err(Some(1), format!("cannot read the header: {e}")))?
        .clone();
    let col = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            err(
                Some(1),
                format!("missing column `{name}` (need exporter, importer, annual_usd)"),
            )
        })
    };
    let (ce, ci, cv) = (col("exporter")?, col("importer")?, col("annual_usd")?);
    let cs = headers.iter().position(|h| h == "source");
    let mut rows: Vec<MatrixRow> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            err(
                e.position().map(|p| p.line() as usize),
                format!("malformed row: {e}"),
            )
        })?;
        let line = record.position().map(|p| p.line() as usize);
        let field = |i: usize| record.get(i).unwrap_or("");
        let value: f64 = field(cv).parse().map_err(|_| {
            err(
                line,
                format!("annual_usd \"{}\" is not a number", field(cv)),
            )
        })?;
        if !value.is_finite() || value < 0.0 {
            return Err(err(
                line,
                format!("annual_usd must be a non-negative finite number, got {value}"),
            ));
        }
        // World trade is about 3e13 USD a year: a corridor above 1e15 is a typo.
        if value > 1e15 {
            return Err(err(
                line,
                format!("annual_usd must be at most 1e15 USD a year, got {value}"),
            ));
        }
        // Rows naming a non-member (an observer) are skipped, but a code that is not one at
        // all (a typo such as `kz`) is an error, not a silently dropped corridor.
        for c in [ce, ci] {
            let code = field(c);
            if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(err(
                    line,
                    format!("\"{code}\" is not a member code (two capital letters, such as KZ)"),
                ));
            }
        }
        let (Some(e), Some(i)) = (
            members.iter().position(|m| m.code == field(ce)),
            members.iter().position(|m| m.code == field(ci)),
        ) else {
            continue;
        };
        if e == i {
            return Err(err(
                line,
                format!("{}->{} joins a member to itself", field(ce), field(ci)),
            ));
        }
        if rows.iter().any(|r| r.0 == e && r.1 == i) {
            return Err(err(
                line,
                format!("{}->{} appears twice", field(ce), field(ci)),
            ));
        }
        rows.push((
            e,
            i,
            value,
            cs.map(|c| field(c).to_string()).unwrap_or_default(),
        ));
    }
    Ok(rows)
}
