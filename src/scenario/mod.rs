//! Scenarios: the TOML schema ([`schema`]), reading files with `extends` and `--set` overrides
//! ([`load`]), and validation into a checked [`Scenario`] with defaults filled in
//! ([`validate`]). Every error names the file, line and column where known, and the key.

pub mod load;
pub mod schema;
mod shocks;
mod validate;

pub use crate::input::{Checker, MAX_LABEL_CHARS, MAX_NAME_CHARS};
pub use crate::world::MemberSpec;
pub use validate::{MAX_EXPECTED_PAYMENTS, MAX_EXPECTED_PAYMENTS_PER_RUN};

use chrono::{DateTime, Utc};

use crate::fx::process::ScheduledJump;
use crate::fx::{CurrencyProcess, SpreadTable};
use crate::money::Currencies;
use crate::rails::RailSpec;
use crate::trade::TradeParams;
use crate::{Error, Result};

pub use load::{BUNDLED, BUNDLED_PREFIX, DataFile, Loaded, Seg};

/// Exchange-rate parameters, validated.
#[derive(Debug, Clone)]
pub struct FxParams {
    pub tick_s: i64,
    /// One per non-USD currency, in currency-id order.
    pub processes: Vec<CurrencyProcess>,
    pub correlation: Vec<Vec<f64>>,
    pub jumps: Vec<ScheduledJump>,
    pub spreads: SpreadTable,
    pub sample_s: i64,
    pub depth: crate::fx::depth::DepthParams,
}

/// Where a corridor's payments go.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// (rail index, share), shares summing to 1.
    pub shares: Vec<(usize, f64)>,
    /// Rails to try, in order, when the chosen one cannot take a payment.
    pub fallback: Vec<usize>,
}

/// A checked scenario, ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    /// What its rows and output folder are called: the name, or — for a scenario changed by
    /// `--set`, `--days` or an `extends` that leaves the name as it was — the name plus a
    /// short hash of what was changed, unless `--variant` names it.
    pub variant: String,
    pub description: String,
    /// Sim time 0: midnight UTC of the start date.
    pub epoch: DateTime<Utc>,
    pub days: u32,
    pub seed: u64,
    pub replications: u32,
    pub drain_days: u32,
    pub max_events: u64,
    pub currencies: Currencies,
    /// Annual carry rate by currency id (USD first).
    pub liquidity_cost_pa: Vec<f64>,
    pub members: Vec<MemberSpec>,
    pub fx: FxParams,
    pub trade: TradeParams,
    pub rails: Vec<RailSpec>,
    /// One per trade corridor (same index as `trade.corridors`).
    pub routes: Vec<Route>,
    pub write_payments: bool,
    /// The file as given (or the bundled name).
    pub source: String,
    /// The scenario after `extends` and overrides, as TOML, and its SHA-256.
    pub resolved: String,
    pub sha256: String,
    /// Every file the scenario was read from (the `extends` chain, the trade matrix, the
    /// holiday table), with its SHA-256, for the manifest.
    pub files: Vec<load::DataFile>,
    /// Things worth telling the user that do not stop the run.
    pub warnings: Vec<String>,
    /// Scheduled what-ifs, in the order written (a devaluation is also in `fx.jumps`, a
    /// default in its netting rail's failures).
    pub shocks: Vec<crate::shock::Shock>,
}

/// Command-line changes to a scenario, applied before validation.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub seed: Option<u64>,
    pub replications: Option<u32>,
    pub days: Option<u32>,
    /// `key.path=value` assignments (`rail.swift-usd.our_fee.flat_usd=30`).
    pub set: Vec<String>,
    /// `--variant NAME`: what to call the variant (default: see [`Scenario::variant`]).
    pub variant: Option<String>,
}

/// Reads and validates a scenario (a path, or the name of a bundled scenario).
pub fn load(arg: &str) -> Result<Scenario> {
    load_with(arg, &Overrides::default())
}

/// Reads, applies `overrides`, and validates.
pub fn load_with(arg: &str, overrides: &Overrides) -> Result<Scenario> {
    let mut loaded = load::load(arg)?;
    let mut sets: Vec<(String, toml::Value)> = Vec::new();
    if let Some(seed) = overrides.seed {
        sets.push(("scenario.seed".into(), toml::Value::Integer(seed as i64)));
    }
    if let Some(r) = overrides.replications {
        sets.push((
            "scenario.replications".into(),
            toml::Value::Integer(r as i64),
        ));
    }
    if let Some(d) = overrides.days {
        sets.push(("scenario.days".into(), toml::Value::Integer(d as i64)));
    }
    for assignment in &overrides.set {
        let (key, value) = assignment.split_once('=').ok_or_else(|| {
            Error::Usage(format!(
                "--set {assignment}: expected KEY=VALUE, e.g. rail.swift-usd.hold_probability=0.1"
            ))
        })?;
        let value = parse_value(value.trim())
            .map_err(|m| Error::Usage(format!("--set {}: {m}", key.trim())))?;
        sets.push((key.trim().to_string(), value));
    }
    for (key, value) in sets {
        // `extends` is resolved when the files are read, before any --set: setting it here
        // would be silently ignored.
        if key == "extends" {
            return Err(Error::Usage(
                "--set extends: `extends` cannot be set on the command line; write it in the \
                 scenario file"
                    .into(),
            ));
        }
        set_path(&mut loaded.merged, &key, value)
            .map_err(|m| Error::Usage(format!("--set {key}: {m}")))?;
        loaded.overridden.push(key);
    }
    let mut s = validate::validate(&loaded)?;
    s.variant = variant_name(&loaded, &s, overrides)?;
    Ok(s)
}

/// The variant's name: `--variant`, else the scenario's name when the file asked for names it
/// and nothing on the command line changed what it simulates (`--seed` and `--replications`
/// change how it is sampled, not what), else the name plus the first 8 hex digits of the
/// SHA-256 of the resolved scenario without its seed and replications.
fn variant_name(loaded: &load::Loaded, s: &Scenario, o: &Overrides) -> Result<String> {
    if let Some(v) = &o.variant {
        if let Some(m) = crate::input::name_problem(v) {
            return Err(Error::Usage(format!("--variant {v:?}: {m}")));
        }
        return Ok(v.clone());
    }
    let names_itself = loaded
        .chain
        .first()
        .and_then(|f| f.text.parse::<toml::Table>().ok())
        .is_some_and(|t| t.get("scenario").and_then(|sc| sc.get("name")).is_some());
    if names_itself && o.set.is_empty() && o.days.is_none() {
        return Ok(s.name.clone());
    }
    let mut what = loaded.merged.clone();
    if let Some(toml::Value::Table(sc)) = what.get_mut("scenario") {
        sc.remove("seed");
        sc.remove("replications");
    }
    let text = toml::to_string(&what)
        .map_err(|e| Error::Invariant(format!("re-serialising the scenario: {e}")))?;
    let hash = load::sha256_hex(text.as_bytes());
    Ok(format!("{}-{}", s.name, &hash[..8]))
}

/// A `--set` value: exactly one TOML value (`30`, `0.5`, `true`, `"text"`, `[1, 2]`), or a bare
/// word (`bilateral`, `ots-trade-2024.csv`) taken as a string. Anything after the value (a
/// newline and more TOML) is an error, never silently dropped.
fn parse_value(text: &str) -> std::result::Result<toml::Value, String> {
    match format!("v = {text}").parse::<toml::Table>() {
        Ok(mut t) if t.len() == 1 => t
            .remove("v")
            .ok_or_else(|| "expected one TOML value".to_string()),
        Ok(_) => Err(format!(
            "takes exactly one TOML value; found more after it in {text:?}"
        )),
        Err(e) => {
            let bare = !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '+'));
            // A number TOML cannot hold (beyond 64 bits, `1_`) is a mistake, not a word.
            let numeric = text
                .trim_start_matches(['+', '-'])
                .starts_with(|c: char| c.is_ascii_digit())
                && text
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '_' | '.' | 'e' | 'E' | '+' | '-'));
            if bare && numeric && !is_date_like(text) {
                Err(format!(
                    "{text:?} is not a number TOML can hold ({}); integers are 64-bit, so \
                     write larger values as floats such as 1e20",
                    e.message().trim()
                ))
            } else if bare {
                Ok(toml::Value::String(text.to_string()))
            } else {
                Err(format!(
                    "{text:?} is not a TOML value ({}); quote text as '\"...\"'",
                    e.message().trim()
                ))
            }
        }
    }
}

/// `2025-13-01` or `10:30:99`: shaped like a date or time, which a bare word may mean to be
/// (a file name, a label), unlike a bad number.
fn is_date_like(text: &str) -> bool {
    text.contains(['-', ':']) && !text.starts_with(['+', '-'])
}

/// Sets `a.b.c` in a document; an array of tables is addressed by an element's `name`, `code`,
/// `corridor` or `pair` (`rail.swift-usd.hop_fee`).
fn set_path(
    doc: &mut toml::Table,
    key: &str,
    value: toml::Value,
) -> std::result::Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err("empty key segment".into());
    }
    let mut table = doc;
    let mut i = 0;
    while i + 1 < parts.len() {
        let part = parts[i];
        let entry = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = match entry {
            toml::Value::Table(t) => t,
            toml::Value::Array(items) => {
                let id = parts[i + 1];
                i += 1;
                if i + 1 >= parts.len() {
                    return Err(format!(
                        "`{part}.{id}` names an element; say which key of it to set"
                    ));
                }
                items
                    .iter_mut()
                    .filter_map(|v| v.as_table_mut())
                    .find(|t| {
                        ["name", "code", "corridor", "pair", "rail"]
                            .iter()
                            .any(|k| t.get(*k).and_then(|v| v.as_str()) == Some(id))
                    })
                    .ok_or_else(|| format!("no `{part}` named `{id}`"))?
            }
            _ => return Err(format!("`{part}` is not a table")),
        };
        i += 1;
    }
    table.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_value_is_one_toml_value_and_nothing_more() {
        assert_eq!(parse_value("3").unwrap().as_integer(), Some(3));
        assert_eq!(parse_value("3 # note").unwrap().as_integer(), Some(3));
        assert_eq!(
            parse_value("bilateral").unwrap().as_str(),
            Some("bilateral")
        );
        assert_eq!(parse_value("\"a b\"").unwrap().as_str(), Some("a b"));
        let e = parse_value("3\n[evil]\nx = 1").unwrap_err();
        assert!(e.contains("exactly one TOML value"), "{e}");
        assert!(parse_value("3\nx = 1").is_err());
        assert!(parse_value("[1, 2").is_err());
        assert!(parse_value("a b").is_err());
    }

    #[test]
    fn set_path_reaches_tables_and_named_array_elements() {
        let mut doc: toml::Table = "[scenario]\nseed = 1\n[[rail]]\nname = \"a\"\nfee = 1\n[[rail]]\nname = \"b\"\nfee = 2\n".parse().unwrap();
        set_path(&mut doc, "scenario.seed", parse_value("7").unwrap()).unwrap();
        set_path(&mut doc, "rail.b.fee", parse_value("9.5").unwrap()).unwrap();
        set_path(&mut doc, "rail.a.kind", parse_value("bilateral").unwrap()).unwrap();
        assert_eq!(doc["scenario"]["seed"].as_integer(), Some(7));
        assert_eq!(doc["rail"][1]["fee"].as_float(), Some(9.5));
        assert_eq!(doc["rail"][0]["kind"].as_str(), Some("bilateral"));
        assert!(
            set_path(&mut doc, "rail.zzz.fee", parse_value("1").unwrap())
                .unwrap_err()
                .contains("no `rail` named `zzz`")
        );
    }
}
