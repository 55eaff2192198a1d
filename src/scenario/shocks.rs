//! Checking `[[shock]]` sections: each kind takes its own keys and no others, targets name
//! declared currencies, members, corridors and rails, and windows are instants inside the run.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use toml::value::Datetime;

use super::schema::ShockSection;
use crate::engine::Time;
use crate::input::{Checker, Seg, key_path};
use crate::money::{Currencies, CurrencyId};
use crate::rails::RailSpec;
use crate::shock::{Corridors, InFlight, KINDS, Kind, OutageMode, Quotes, Shock, Who};
use crate::world::MemberSpec;
use crate::{Error, Result};

/// What the shocks may name.
pub struct Names<'a> {
    pub currencies: &'a Currencies,
    pub members: &'a [MemberSpec],
    pub rails: &'a [RailSpec],
    pub epoch: DateTime<Utc>,
}

/// Sim time of a TOML date (midnight UTC) or date-time with an offset.
fn instant(dt: &Datetime, epoch: DateTime<Utc>) -> Option<Time> {
    let d = dt.date?;
    let date = NaiveDate::from_ymd_opt(i32::from(d.year), d.month.into(), d.day.into())?;
    let unix = match (dt.time, dt.offset) {
        (None, None) => Utc
            .from_utc_datetime(&date.and_hms_opt(0, 0, 0)?)
            .timestamp(),
        (Some(t), Some(o)) => {
            let naive =
                date.and_hms_opt(t.hour.into(), t.minute.into(), t.second.unwrap_or(0).into())?;
            let offset_min = match o {
                toml::value::Offset::Z => 0,
                toml::value::Offset::Custom { minutes } => i64::from(minutes),
            };
            Utc.from_utc_datetime(&naive).timestamp() - offset_min * 60
        }
        _ => return None,
    };
    Some(unix - epoch.timestamp())
}

/// The keys each kind takes besides name, kind, from and to.
fn allowed(kind: &str) -> &'static [&'static str] {
    match kind {
        "devaluation" => &["currency", "value_change"],
        "volatility" => &["currency", "factor"],
        "spread" => &["currency", "pair", "factor"],
        "outage" => &["rail", "mode", "in_flight"],
        "sanction" => &["rail", "corridor", "member", "currency"],
        "derisking" => &[
            "rail",
            "extra_intermediaries",
            "fee_factor",
            "hold_probability_added",
        ],
        "trade_growth" => &["corridor", "member", "factor", "factor_from", "factor_to"],
        "route_share" => &[
            "rail",
            "corridor",
            "member",
            "factor",
            "factor_from",
            "factor_to",
        ],
        "join" => &["member"],
        "default" => &["rail", "member"],
        _ => &[],
    }
}

/// The optional keys a section gave, by name.
fn given(s: &ShockSection) -> Vec<&'static str> {
    let mut g = Vec::new();
    let mut add = |present: bool, key: &'static str| {
        if present {
            g.push(key);
        }
    };
    add(s.currency.is_some(), "currency");
    add(s.pair.is_some(), "pair");
    add(s.member.is_some(), "member");
    add(s.corridor.is_some(), "corridor");
    add(s.rail.is_some(), "rail");
    add(s.value_change.is_some(), "value_change");
    add(s.factor.is_some(), "factor");
    add(s.factor_from.is_some(), "factor_from");
    add(s.factor_to.is_some(), "factor_to");
    add(s.mode.is_some(), "mode");
    add(s.in_flight.is_some(), "in_flight");
    add(s.extra_intermediaries.is_some(), "extra_intermediaries");
    add(s.fee_factor.is_some(), "fee_factor");
    add(s.hold_probability_added.is_some(), "hold_probability_added");
    g
}

/// Checks every `[[shock]]` and returns them, in the order written.
/// Long because: one match arm per kind, each reading its own keys.
pub fn shock_sections(v: &Checker, raw: &[ShockSection], n: &Names) -> Result<Vec<Shock>> {
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    for (i, s) in raw.iter().enumerate() {
        let path = |key: &str| -> Vec<Seg> { key_path!["shock", i, key] };
        v.label(path("name"), &s.name, 80, false)?;
        if s.name.trim().is_empty() {
            return Err(v.err(path("name"), "must not be empty"));
        }
        if !names.insert(s.name.clone()) {
            return Err(v.err(path("name"), format!("shock \"{}\" is named twice", s.name)));
        }
        if !KINDS.contains(&s.kind.as_str()) {
            return Err(v.err(
                path("kind"),
                format!("unknown kind \"{}\" (one of: {})", s.kind, KINDS.join(", ")),
            ));
        }
        let ok = allowed(&s.kind);
        if let Some(extra) = given(s).into_iter().find(|k| !ok.contains(k)) {
            return Err(v.err(
                path(extra),
                format!(
                    "a {} shock does not take `{extra}` (it takes: {})",
                    s.kind,
                    ok.join(", ")
                ),
            ));
        }
        let at = |key: &str, dt: &Datetime| -> Result<Time> {
            instant(dt, n.epoch).ok_or_else(|| {
                v.err(
                    path(key),
                    format!(
                        "expected a date (2025-03-03, midnight UTC) or a date-time with an offset (2025-03-03T09:00:00Z); got {dt}"
                    ),
                )
            })
        };
        let from = at("from", &s.from)?;
        if from < 0 {
            return Err(v.err(path("from"), "is before the scenario's start"));
        }
        let instant_kind = matches!(s.kind.as_str(), "devaluation" | "join");
        let to = match (&s.to, instant_kind) {
            (Some(_), true) => {
                return Err(v.err(
                    path("to"),
                    format!("a {} happens at `from`; it takes no `to`", s.kind),
                ));
            }
            (None, true) => Time::MAX,
            (None, false) => {
                return Err(v.err(path("to"), "say when the shock ends (`to`)"));
            }
            (Some(t), false) => {
                let to = at("to", t)?;
                if to <= from {
                    return Err(v.err(path("to"), "must be after `from`"));
                }
                to
            }
        };
        let currency = |key: &str, code: &Option<String>| -> Result<CurrencyId> {
            let code = code
                .as_deref()
                .ok_or_else(|| v.err(path(key), format!("a {} shock needs `{key}`", s.kind)))?;
            n.currencies
                .id(code)
                .filter(|c| *c != CurrencyId::USD)
                .ok_or_else(|| {
                    v.err(
                        path(key),
                        format!("\"{code}\" is not a declared currency other than USD"),
                    )
                })
        };
        let member = |code: &str| -> Result<usize> {
            n.members
                .iter()
                .position(|m| m.code == code)
                .ok_or_else(|| v.err(path("member"), format!("unknown member \"{code}\"")))
        };
        let need_member = || -> Result<usize> {
            member(s.member.as_deref().ok_or_else(|| {
                v.err(path("member"), format!("a {} shock needs `member`", s.kind))
            })?)
        };
        let corridor = |text: &str| -> Result<(usize, usize)> {
            let bad = || {
                v.err(
                    path("corridor"),
                    format!(
                        "expected EXPORTER->IMPORTER of two members, e.g. TR->AZ; got \"{text}\""
                    ),
                )
            };
            let (e, i) = text.split_once("->").ok_or_else(bad)?;
            let e = n
                .members
                .iter()
                .position(|m| m.code == e.trim())
                .ok_or_else(bad)?;
            let i = n
                .members
                .iter()
                .position(|m| m.code == i.trim())
                .ok_or_else(bad)?;
            if e == i {
                return Err(bad());
            }
            Ok((e, i))
        };
        let rail = || -> Result<usize> {
            let name = s
                .rail
                .as_deref()
                .ok_or_else(|| v.err(path("rail"), format!("a {} shock needs `rail`", s.kind)))?;
            n.rails.iter().position(|r| r.name == name).ok_or_else(|| {
                let names: Vec<&str> = n.rails.iter().map(|r| r.name.as_str()).collect();
                v.err(
                    path("rail"),
                    format!("unknown rail \"{name}\" (declared: {})", names.join(", ")),
                )
            })
        };
        let factor = |key: &str, x: Option<f64>| -> Result<f64> {
            let x =
                x.ok_or_else(|| v.err(path(key), format!("a {} shock needs `{key}`", s.kind)))?;
            if !(x.is_finite() && (0.0..=100.0).contains(&x)) {
                return Err(v.err(path(key), format!("must be between 0 and 100, got {x}")));
            }
            Ok(x)
        };
        let one_of = |keys: &[&str]| -> Result<()> {
            let g = given(s);
            let present: Vec<&&str> = keys.iter().filter(|k| g.contains(k)).collect();
            if present.len() > 1 {
                return Err(v.err(
                    path(present[1]),
                    format!("give one of {}, not several", keys.join(", ")),
                ));
            }
            Ok(())
        };
        // The corridors a trade_growth or route_share shock applies to (one corridor, one
        // member's, or all), and the name it is shown by.
        let corridors_or_member = || -> Result<(Corridors, String)> {
            one_of(&["corridor", "member"])?;
            Ok(if let Some(c) = &s.corridor {
                let (e, i) = corridor(c)?;
                (Corridors::Corridor(e, i), c.clone())
            } else if let Some(m) = &s.member {
                (Corridors::Member(member(m)?), m.clone())
            } else {
                (Corridors::All, "*".to_string())
            })
        };
        // A constant `factor`, or a ramp from `factor_from` to `factor_to`, each checked by
        // `value`; `hint` says what to give when neither is given whole.
        let constant_or_ramp =
            |value: &dyn Fn(&str, Option<f64>) -> Result<f64>, hint: &str| -> Result<(f64, f64)> {
                match (s.factor, s.factor_from, s.factor_to) {
                    (Some(_), None, None) => {
                        let k = value("factor", s.factor)?;
                        Ok((k, k))
                    }
                    (None, Some(_), Some(_)) => Ok((
                        value("factor_from", s.factor_from)?,
                        value("factor_to", s.factor_to)?,
                    )),
                    _ => Err(v.err(path("factor"), hint)),
                }
            };
        let (kind, target) = match s.kind.as_str() {
            "devaluation" => {
                let c = currency("currency", &s.currency)?;
                let x = s.value_change.ok_or_else(|| {
                    v.err(
                        path("value_change"),
                        "a devaluation needs `value_change`, e.g. -0.20",
                    )
                })?;
                if !(x.is_finite() && x > -0.95 && x < 10.0) {
                    return Err(v.err(
                        path("value_change"),
                        format!("must be above -0.95 and below 10 (a change of the currency's value in dollars), got {x}"),
                    ));
                }
                (
                    Kind::Devaluation {
                        currency: c,
                        value_change: x,
                    },
                    n.currencies.code(c).to_string(),
                )
            }
            "volatility" => {
                let c = currency("currency", &s.currency)?;
                (
                    Kind::Volatility {
                        currency: c,
                        factor: factor("factor", s.factor)?,
                    },
                    n.currencies.code(c).to_string(),
                )
            }
            "spread" => {
                one_of(&["currency", "pair"])?;
                let (quotes, target) = if let Some(p) = &s.pair {
                    let (a, b) = p.split_once('/').ok_or_else(|| {
                        v.err(
                            path("pair"),
                            format!("expected A/B, e.g. TRY/KZT; got \"{p}\""),
                        )
                    })?;
                    let id = |code: &str| {
                        n.currencies.id(code.trim()).ok_or_else(|| {
                            v.err(
                                path("pair"),
                                format!("\"{code}\" is not a declared currency"),
                            )
                        })
                    };
                    (Quotes::Pair(id(a)?, id(b)?), p.clone())
                } else if s.currency.is_some() {
                    let c = currency("currency", &s.currency)?;
                    (Quotes::Currency(c), n.currencies.code(c).to_string())
                } else {
                    (Quotes::All, "*".to_string())
                };
                let f = factor("factor", s.factor)?;
                if f < 1.0 {
                    return Err(v.err(
                        path("factor"),
                        "spreads widen: the factor must be at least 1",
                    ));
                }
                (Kind::Spread { quotes, factor: f }, target)
            }
            "outage" => {
                let r = rail()?;
                let mode = match s.mode.as_deref() {
                    Some("queue") => OutageMode::Queue,
                    Some("fail") => OutageMode::Fail,
                    Some("reroute") => OutageMode::Reroute,
                    other => {
                        return Err(v.err(
                            path("mode"),
                            format!("expected \"queue\", \"fail\" or \"reroute\"; got {other:?}"),
                        ));
                    }
                };
                let in_flight = match s.in_flight.as_deref() {
                    None | Some("finish") => InFlight::Finish,
                    Some("wait") => InFlight::Wait,
                    Some(other) => {
                        return Err(v.err(
                            path("in_flight"),
                            format!("expected \"finish\" or \"wait\"; got \"{other}\""),
                        ));
                    }
                };
                (
                    Kind::Outage {
                        rail: r,
                        mode,
                        in_flight,
                    },
                    n.rails[r].name.clone(),
                )
            }
            "sanction" => {
                let r = rail()?;
                one_of(&["corridor", "member", "currency"])?;
                let (who, target) = if let Some(c) = &s.corridor {
                    let (e, i) = corridor(c)?;
                    (Who::Corridor(e, i), c.clone())
                } else if let Some(m) = &s.member {
                    (Who::Member(member(m)?), m.clone())
                } else if s.currency.is_some() {
                    let c = currency("currency", &s.currency)?;
                    (Who::Currency(c), n.currencies.code(c).to_string())
                } else {
                    return Err(v.err(
                        path("corridor"),
                        "a sanction names whom it cuts off: `corridor`, `member` or `currency`",
                    ));
                };
                (
                    Kind::Sanction { rail: r, who },
                    format!("{target} on {}", n.rails[r].name),
                )
            }
            "derisking" => {
                let r = rail()?;
                if n.rails[r].kind() != "correspondent" {
                    return Err(v.err(
                        path("rail"),
                        format!(
                            "\"{}\" is a {} rail; correspondents withdraw from a correspondent chain",
                            n.rails[r].name,
                            n.rails[r].kind()
                        ),
                    ));
                }
                let extra = s.extra_intermediaries.unwrap_or(0);
                if extra > 5 {
                    return Err(v.err(path("extra_intermediaries"), "at most 5 more"));
                }
                let fee_factor = match s.fee_factor {
                    None => 1.0,
                    Some(_) => factor("fee_factor", s.fee_factor)?,
                };
                let hold = v.probability(
                    path("hold_probability_added"),
                    s.hold_probability_added.unwrap_or(0.0),
                )?;
                (
                    Kind::Derisking {
                        rail: r,
                        extra_intermediaries: extra,
                        fee_factor,
                        hold_probability_added: hold,
                    },
                    n.rails[r].name.clone(),
                )
            }
            "trade_growth" => {
                let (corridors, target) = corridors_or_member()?;
                let (a, b) = constant_or_ramp(
                    &factor,
                    "give `factor` (a constant multiplier), or `factor_from` and `factor_to` (a ramp)",
                )?;
                (
                    Kind::TradeGrowth {
                        corridors,
                        factor_from: a,
                        factor_to: b,
                    },
                    target,
                )
            }
            "route_share" => {
                let r = rail()?;
                let (corridors, target) = corridors_or_member()?;
                let share = |key: &str, x: Option<f64>| v.probability(path(key), x.unwrap_or(0.0));
                let (a, b) = constant_or_ramp(
                    &share,
                    "give the share sent to the rail: `factor`, or `factor_from` and `factor_to` (a ramp), each between 0 and 1",
                )?;
                (
                    Kind::RouteShare {
                        rail: r,
                        corridors,
                        share_from: a,
                        share_to: b,
                    },
                    format!("{target} to {}", n.rails[r].name),
                )
            }
            "join" => {
                let m = need_member()?;
                (Kind::Join { member: m }, n.members[m].code.clone())
            }
            "default" => {
                let r = rail()?;
                if n.rails[r].kind() != "netting" {
                    return Err(v.err(
                        path("rail"),
                        format!("\"{}\" is not a netting rail; only a clearing house has participants that default", n.rails[r].name),
                    ));
                }
                let m = need_member()?;
                (
                    Kind::Default { rail: r, member: m },
                    format!("{} in {}", n.members[m].code, n.rails[r].name),
                )
            }
            other => return Err(Error::Invariant(format!("shock kind {other} not handled"))),
        };
        out.push(Shock {
            name: s.name.clone(),
            from,
            to,
            kind,
            target,
        });
    }
    Ok(out)
}
