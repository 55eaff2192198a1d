//! The vocabulary shared by everything that checks input: key paths into the scenario
//! ([`Seg`], [`path!`]), the [`Checker`] that turns a bad value into an error located in the
//! file that wrote it, and the small raw TOML sections (numbers, fees, delays, discrete choices)
//! that the scenario schema and the rails' own sections both use. It knows nothing of how files
//! are read: the loader (`scenario::load`) implements [`Locate`].

use std::str::FromStr;

use chrono::{NaiveDate, Weekday};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calendar::bundled_holiday_sets;
use crate::terms::{Delay, FeeSchedule, OnShort};
use crate::{Error, Result};

/// The largest fee (flat, floor or cap) a fee schedule may name, USD.
pub const MAX_FEE_USD: f64 = 1e9;

/// The longest scenario name: it names the default output folder and appears in every row.
pub const MAX_NAME_CHARS: usize = 64;
/// The longest rail or member name (they appear in CSV rows and the terminal table).
pub const MAX_LABEL_CHARS: usize = 64;
/// The longest scenario description (it is printed by `kervan list`, not repeated in rows).
pub const MAX_DESCRIPTION_CHARS: usize = 4096;

/// One step of a key path into the merged document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Turns a key path and a message into an error located where the key was written (file, line,
/// column, or the `--set` that gave it).
pub trait Locate {
    fn error(&self, path: &[Seg], message: &str) -> Error;
}

pub(crate) fn k(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

/// Builds a key path: `key_path!["rail", 2, "fee"]`.
macro_rules! key_path {
    ($($x:expr),* $(,)?) => { vec![$($crate::input::IntoSeg::into_seg($x)),*] };
}
pub(crate) use key_path;

pub trait IntoSeg {
    fn into_seg(self) -> Seg;
}
impl IntoSeg for &str {
    fn into_seg(self) -> Seg {
        k(self)
    }
}
impl IntoSeg for usize {
    fn into_seg(self) -> Seg {
        Seg::Index(self)
    }
}

/// Checks values and turns failures into errors located in the scenario file.
pub struct Checker<'a> {
    l: &'a dyn Locate,
}

impl<'a> Checker<'a> {
    pub fn new(l: &'a dyn Locate) -> Self {
        Checker { l }
    }

    pub fn err(&self, path: Vec<Seg>, msg: impl AsRef<str>) -> Error {
        self.l.error(&path, msg.as_ref())
    }

    /// A finite number, at least `min`.
    pub fn at_least(&self, path: Vec<Seg>, x: f64, min: f64) -> Result<f64> {
        if !x.is_finite() {
            return Err(self.err(path, format!("must be a finite number, got {x}")));
        }
        if x < min {
            return Err(self.err(path, format!("must be at least {min}, got {x}")));
        }
        Ok(x)
    }

    /// A scenario name: it becomes a folder under `kervan-out/`, so it is a plain name, never a
    /// path — letters, digits, `.`, `_` and `-`, not starting with `.` or `-`, at most
    /// [`MAX_NAME_CHARS`] characters.
    pub fn scenario_name(&self, path: Vec<Seg>, name: &str) -> Result<()> {
        match name_problem(name) {
            Some(m) => Err(self.err(path, m)),
            None => Ok(()),
        }
    }

    /// Free text with a length limit and no control characters (except newlines and tabs
    /// where `multiline`).
    pub fn label(
        &self,
        path: Vec<Seg>,
        text: &str,
        max_chars: usize,
        multiline: bool,
    ) -> Result<()> {
        let n = text.chars().count();
        if n > max_chars {
            return Err(self.err(
                path,
                format!("is {n} characters long; at most {max_chars} are allowed"),
            ));
        }
        if let Some(c) = text
            .chars()
            .find(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\t' | '\r')))
        {
            return Err(self.err(
                path,
                format!("must not contain the control character {c:?}"),
            ));
        }
        Ok(())
    }

    pub fn nonneg(&self, path: Vec<Seg>, x: f64) -> Result<f64> {
        self.at_least(path, x, 0.0)
    }

    pub fn positive(&self, path: Vec<Seg>, x: f64) -> Result<f64> {
        if !x.is_finite() || x <= 0.0 {
            return Err(self.err(path, format!("must be a positive finite number, got {x}")));
        }
        Ok(x)
    }

    pub fn probability(&self, path: Vec<Seg>, x: f64) -> Result<f64> {
        if !x.is_finite() || !(0.0..=1.0).contains(&x) {
            return Err(self.err(path, format!("must be a probability in [0, 1], got {x}")));
        }
        Ok(x)
    }

    pub fn hhmm(&self, path: Vec<Seg>, s: &str) -> Result<u32> {
        let bad = || {
            self.err(
                path.clone(),
                format!("expected a local time \"HH:MM\", got \"{s}\""),
            )
        };
        // Exactly two digits each, 00:00 to 24:00 (24:00 is the end of the day, for a cut-off).
        let (h, m) = s.split_once(':').ok_or_else(bad)?;
        let two_digits = |x: &str| x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return Err(bad());
        }
        let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 24 || m > 59 || (h == 24 && m > 0) {
            return Err(bad());
        }
        Ok(h * 60 + m)
    }

    pub fn date(&self, path: Vec<Seg>, s: &str) -> Result<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| self.err(path, format!("expected a date \"YYYY-MM-DD\", got \"{s}\"")))
    }

    pub fn time_zone(&self, path: Vec<Seg>, s: &str) -> Result<Tz> {
        Tz::from_str(s).map_err(|_| {
            self.err(
                path,
                format!("unknown IANA time zone \"{s}\" (e.g. \"Asia/Almaty\")"),
            )
        })
    }

    pub fn weekend(&self, path: Vec<Seg>, days: &Option<Vec<String>>) -> Result<Vec<Weekday>> {
        match days {
            None => Ok(vec![Weekday::Sat, Weekday::Sun]),
            Some(days) => days
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    Weekday::from_str(d).map_err(|_| {
                        let mut p = path.clone();
                        p.push(Seg::Index(i));
                        self.err(p, format!("expected a weekday (Mon … Sun), got \"{d}\""))
                    })
                })
                .collect(),
        }
    }

    pub fn holidays(
        &self,
        path: Vec<Seg>,
        set: &Option<String>,
        default: &str,
    ) -> Result<Option<String>> {
        let sets = bundled_holiday_sets();
        match set.as_deref() {
            None => Ok(sets.contains(&default).then(|| default.to_string())),
            Some("none") => Ok(None),
            Some(s) if sets.contains(&s) => Ok(Some(s.to_string())),
            Some(s) => Err(self.err(
                path,
                format!(
                    "unknown holiday set \"{s}\" (bundled: {}, or \"none\")",
                    sets.join(", ")
                ),
            )),
        }
    }

    pub fn decimal(&self, path: Vec<Seg>, n: &Num) -> Result<Decimal> {
        let parsed = match n {
            Num::Int(i) => Some(Decimal::from(*i)),
            Num::Float(f) if f.is_finite() => Decimal::from_str(&f.to_string()).ok(),
            Num::Float(_) => None,
            Num::Text(s) => Decimal::from_str(s.trim()).ok(),
        };
        let shown = match n {
            Num::Int(i) => i.to_string(),
            Num::Float(f) => f.to_string(),
            Num::Text(s) => format!("\"{s}\""),
        };
        let max = Decimal::from(crate::money::MAX_AMOUNT);
        // A finite float that is no decimal is too large for one (1e40).
        let too_large = parsed.is_some() || matches!(n, Num::Float(f) if f.is_finite());
        match parsed {
            Some(d) if d.abs() <= max => Ok(d),
            _ if too_large => {
                Err(self.err(path, format!("must be at most 1e18 in size, got {shown}")))
            }
            _ => Err(self.err(
                path,
                format!("expected a decimal number such as 1250.50, got {shown}"),
            )),
        }
    }

    pub fn choice(&self, path: Vec<Seg>, c: &Choice) -> Result<(Vec<f64>, Vec<f64>)> {
        if c.values.is_empty() || c.values.len() != c.weights.len() {
            return Err(self.err(
                path,
                format!(
                    "`values` and `weights` must be non-empty and of equal length ({} vs {})",
                    c.values.len(),
                    c.weights.len()
                ),
            ));
        }
        let mut sub = path.clone();
        sub.push(k("weights"));
        for &w in &c.weights {
            self.nonneg(sub.clone(), w)?;
        }
        let total: f64 = c.weights.iter().sum();
        if total <= 0.0 {
            return Err(self.err(sub, "weights must not all be zero"));
        }
        let mut acc = 0.0;
        let cumulative = c
            .weights
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect::<Vec<_>>();
        let mut cumulative = cumulative;
        if let Some(last) = cumulative.last_mut() {
            *last = 1.0;
        }
        Ok((c.values.clone(), cumulative))
    }

    pub fn delay(&self, path: Vec<Seg>, d: &DelaySection) -> Result<Delay> {
        let mut p = path.clone();
        p.push(k("median"));
        let median = self.nonneg(p, d.median)?;
        let mut p = path;
        p.push(k("sigma"));
        let sigma = self.nonneg(p, d.sigma)?;
        Ok(Delay { median, sigma })
    }

    /// A delay section, or `fixed_min` (minutes, no spread) when the key is absent.
    pub fn delay_or(
        &self,
        path: Vec<Seg>,
        d: &Option<DelaySection>,
        fixed_min: f64,
    ) -> Result<Delay> {
        match d {
            Some(d) => self.delay(path, d),
            None => Ok(Delay::fixed(fixed_min)),
        }
    }

    /// `on_short = "wait" | "fallback"`; absent means wait.
    pub fn on_short(&self, path: Vec<Seg>, s: &Option<String>) -> Result<OnShort> {
        match s.as_deref() {
            None | Some("wait") => Ok(OnShort::Wait),
            Some("fallback") => Ok(OnShort::Fallback),
            Some(other) => Err(self.err(
                path,
                format!("expected \"wait\" or \"fallback\", got \"{other}\""),
            )),
        }
    }

    pub fn fee(&self, path: Vec<Seg>, f: &FeeSection) -> Result<FeeSchedule> {
        let sub = |key: &str| {
            let mut p = path.clone();
            p.push(k(key));
            p
        };
        // A fee is at most a billion dollars and 100 % of the value: beyond that it is a typo,
        // and exact money must stay in range.
        let usd = |key: &str, x: f64| -> Result<f64> {
            let x = self.nonneg(sub(key), x)?;
            if x > MAX_FEE_USD {
                return Err(self.err(
                    sub(key),
                    format!("must be at most {MAX_FEE_USD:.0e} USD, got {x}"),
                ));
            }
            Ok(x)
        };
        let flat = usd("flat_usd", f.flat_usd)?;
        let bps = self.nonneg(sub("bps"), f.bps)?;
        if bps > 10_000.0 {
            return Err(self.err(
                sub("bps"),
                format!("must be at most 10000 (100 % of the value), got {bps}"),
            ));
        }
        let min = usd("min_usd", f.min_usd)?;
        let max = match f.max_usd {
            Some(m) => {
                let m = usd("max_usd", m)?;
                if m < min {
                    return Err(self.err(sub("max_usd"), format!("is below min_usd ({m} < {min})")));
                }
                Some(crate::terms::usd(m))
            }
            None => None,
        };
        Ok(FeeSchedule {
            flat_usd: crate::terms::usd(flat),
            rate: crate::fx::quote::bps_to_fraction(bps),
            min_usd: crate::terms::usd(min),
            max_usd: max,
        })
    }

    /// Three shares that must sum to 1.
    pub fn shares(&self, path: Vec<Seg>, names: [&str; 3], xs: [f64; 3]) -> Result<[f64; 3]> {
        for (n, x) in names.iter().zip(xs) {
            let mut p = path.clone();
            p.push(k(n));
            self.probability(p, x)?;
        }
        let total: f64 = xs.iter().sum();
        if (total - 1.0).abs() > 1e-9 {
            let total = rounded(total);
            return Err(self.err(
                path,
                format!(
                    "shares {} = {} sum to {total}; they must sum to 1",
                    names.join(" + "),
                    xs.map(|x| x.to_string()).join(" + ")
                ),
            ));
        }
        Ok([xs[0], xs[0] + xs[1], 1.0])
    }
}

/// A sum of shares as the user would write it: 0.7 + 0.1 + 0.1 is 0.8999999999999999 in
/// binary, which reads like a different mistake.
pub(crate) fn rounded(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

/// A number written as a TOML integer, float or string ("12500.50"). Strings reach `Decimal`
/// exactly; floats go through their shortest decimal representation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Num {
    Int(i64),
    Float(f64),
    Text(String),
}

/// A discrete distribution: `values` drawn with `weights` (weights need not sum to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub values: Vec<f64>,
    pub weights: Vec<f64>,
}

/// A lognormal duration: `median` and log-scale `sigma` (0 = always the median).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelaySection {
    pub median: f64,
    #[serde(default)]
    pub sigma: f64,
}

/// A fee schedule in USD: `flat_usd + bps × amount`, then clamped to [min_usd, max_usd].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeSection {
    #[serde(default)]
    pub flat_usd: f64,
    #[serde(default)]
    pub bps: f64,
    #[serde(default)]
    pub min_usd: f64,
    pub max_usd: Option<f64>,
}

/// A half-spread quoted for a currency pair `"A/B"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossSpread {
    pub pair: String,
    pub half_spread_bps: f64,
}

/// What is wrong with `name` as a scenario or variant name (it names a folder under
/// `kervan-out/`), if anything: letters, digits, `.`, `_` and `-`, not starting with `.` or
/// `-`, at most [`MAX_NAME_CHARS`] characters.
pub fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("must not be empty".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Some(format!(
            "is {} characters long; a name has at most {MAX_NAME_CHARS}",
            name.chars().count()
        ));
    }
    let bad = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')));
    if let Some(c) = bad {
        return Some(format!(
            "{c:?} is not allowed: a name (it names the output folder kervan-out/NAME) uses \
             letters, digits, `.`, `_` and `-` only"
        ));
    }
    if name.starts_with(['.', '-']) {
        return Some("must not start with `.` or `-`".into());
    }
    None
}
