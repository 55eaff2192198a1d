//! The scenario file as written: serde types that mirror the TOML one to one, with every key
//! documented and unknown keys rejected. [`super::validate`] turns them into a checked
//! [`super::Scenario`].

use serde::{Deserialize, Serialize};

pub use crate::input::{Choice, CrossSpread, DelaySection, FeeSection, Num};
pub use crate::rails::RailSection;
use toml::value::Datetime;

/// Shares of payments by charge bearer (must sum to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BearerShares {
    #[serde(default)]
    pub our: f64,
    #[serde(default)]
    pub sha: f64,
    #[serde(default)]
    pub ben: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Another scenario file this one builds on (path relative to this file).
    pub extends: Option<String>,
    pub scenario: ScenarioSection,
    #[serde(default)]
    pub member: Vec<MemberSection>,
    #[serde(default)]
    pub currency: Vec<CurrencySection>,
    #[serde(default)]
    pub fx: FxSection,
    pub trade: TradeSection,
    #[serde(default)]
    pub rail: Vec<RailSection>,
    #[serde(default)]
    pub route: Vec<RouteSection>,
    /// Scheduled what-ifs (docs/model.md, "Shocks").
    #[serde(default)]
    pub shock: Vec<ShockSection>,
    #[serde(default)]
    pub output: OutputSection,
}

/// `[[shock]]`: one what-if. Which keys it takes depends on its kind (docs/model.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShockSection {
    /// Its name: unique, it labels shocks.csv and `--set shock.NAME.KEY=…` addresses it.
    pub name: String,
    /// devaluation, volatility, spread, outage, sanction, derisking, trade_growth, join,
    /// default.
    pub kind: String,
    /// Where it applies, from (a date, midnight UTC, or a date-time with an offset) …
    pub from: Datetime,
    /// … to (not included). Not for a devaluation or a join, which happen at `from`.
    pub to: Option<Datetime>,
    pub currency: Option<String>,
    /// "TRY/KZT".
    pub pair: Option<String>,
    pub member: Option<String>,
    /// "TR->AZ".
    pub corridor: Option<String>,
    pub rail: Option<String>,
    /// devaluation: the change of the currency's value in dollars (−0.20).
    pub value_change: Option<f64>,
    /// volatility, spread, trade_growth: the multiplier.
    pub factor: Option<f64>,
    /// trade_growth as a ramp: the multiplier at `from` and at `to`.
    pub factor_from: Option<f64>,
    pub factor_to: Option<f64>,
    /// outage: "queue", "fail" or "reroute"; and what payments already on the rail do:
    /// "finish" or "wait".
    pub mode: Option<String>,
    pub in_flight: Option<String>,
    /// derisking: more intermediaries, fees × a factor, a likelier hold.
    pub extra_intermediaries: Option<u32>,
    pub fee_factor: Option<f64>,
    pub hold_probability_added: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSection {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// First simulated day (a TOML date, 2025-01-01); time 0 is its midnight UTC.
    pub start: Datetime,
    /// Days during which payments are initiated.
    pub days: u32,
    pub seed: u64,
    #[serde(default = "one")]
    pub replications: u32,
    /// Days after the last initiation during which payments in flight may still settle.
    #[serde(default = "default_drain_days")]
    pub drain_days: u32,
    /// Upper bound on events handled in one replication.
    #[serde(default = "default_max_events")]
    pub max_events: u64,
}

fn one() -> u32 {
    1
}
fn default_drain_days() -> u32 {
    30
}
fn default_max_events() -> u64 {
    200_000_000
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberSection {
    /// ISO 3166 alpha-2 code (TR, AZ, KZ, KG, UZ; observers TM, HU).
    pub code: String,
    #[serde(default)]
    pub name: String,
    /// ISO 4217 code of its currency (declared in a [[currency]]).
    pub currency: String,
    /// IANA time zone, e.g. "Europe/Istanbul".
    pub time_zone: String,
    /// RTGS opening and cut-off, local "HH:MM".
    pub rtgs_open: String,
    pub rtgs_cutoff: String,
    /// Cut-off on half-days, local "HH:MM" (default: the normal cut-off).
    pub half_day_cutoff: Option<String>,
    /// Weekend days, e.g. ["Sat", "Sun"] (the default).
    pub weekend: Option<Vec<String>>,
    /// Bundled holiday set ("TR", "AZ", "KZ", "KG", "UZ", "TM", "HU", "US"), or "none".
    /// Default: the member's code if such a set is bundled.
    pub holidays: Option<String>,
    /// Extra full closures and half-days, "YYYY-MM-DD".
    #[serde(default)]
    pub extra_closed: Vec<String>,
    #[serde(default)]
    pub extra_half_days: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurrencySection {
    pub code: String,
    pub minor_units: u32,
    /// Opening mid rate, units per USD.
    pub mid_per_usd: Num,
    /// "float", "crawl" or "peg".
    pub regime: String,
    #[serde(default)]
    pub drift_pa: f64,
    #[serde(default)]
    pub vol_pa: f64,
    #[serde(default)]
    pub jump_rate_pa: f64,
    #[serde(default)]
    pub jump_mean: f64,
    #[serde(default)]
    pub jump_sd: f64,
    /// Peg band half-width as a fraction (peg only).
    #[serde(default)]
    pub band_pct: f64,
    /// Annual opportunity cost of idle balances in this currency.
    pub liquidity_cost_pa: f64,
    /// Dealer half-spread against USD, in bps of the mid.
    pub usd_half_spread_bps: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FxSection {
    /// Rate tick, hours.
    #[serde(default = "one")]
    pub tick_h: u32,
    /// Pairwise correlations of log-rate shocks; unlisted pairs are 0.
    #[serde(default)]
    pub correlation: Vec<CorrelationEntry>,
    /// Crosses without an explicit spread cost this multiple of the sum of their USD legs.
    #[serde(default = "default_cross_multiplier")]
    pub cross_multiplier: f64,
    #[serde(default)]
    pub cross: Vec<CrossSpread>,
    /// Size curve: tickets up to `up_to_usd` pay `multiplier` × the half-spread.
    #[serde(default)]
    pub size_curve: Vec<SizeBandSection>,
    /// fx.csv sampling interval, hours.
    #[serde(default = "default_sample_h")]
    pub sample_h: u32,
    /// Market depth: spreads narrow as a pair's traded volume grows.
    #[serde(default)]
    pub depth: Option<DepthSection>,
    /// The carry rate of dollar balances (USD is built in, so its rate is given here): what a
    /// dollar prefunded or in transit costs a year. Required: no balance is free.
    #[serde(default)]
    pub usd_liquidity_cost_pa: Option<f64>,
    /// Spreads widen with realised volatility: half-spread × (realised / calibrated
    /// volatility)^elasticity, at least 1 and at most `spread_vol_max_multiplier`; 0 = off.
    #[serde(default = "one_f64")]
    pub spread_vol_elasticity: f64,
    /// Half-life of the realised-volatility average, hours.
    #[serde(default = "default_spread_vol_halflife_h")]
    pub spread_vol_halflife_h: f64,
    /// The widest volatility may make a quote, as a multiple of its calm half-spread.
    #[serde(default = "default_spread_vol_max_multiplier")]
    pub spread_vol_max_multiplier: f64,
}

fn default_spread_vol_halflife_h() -> f64 {
    24.0
}

fn default_spread_vol_max_multiplier() -> f64 {
    5.0
}

/// `[fx.depth]`: `spread = max(floor, base × (reference / rolling volume)^elasticity)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepthSection {
    /// 0 switches depth off.
    pub elasticity: f64,
    /// Daily volume (USD) at which a pair quotes its base (calibrated) spread.
    pub reference_usd_per_day: f64,
    /// Days over which traded volume is averaged.
    #[serde(default = "default_window_days")]
    pub window_days: u32,
    /// Lowest half-spread, bps.
    #[serde(default)]
    pub floor_bps: f64,
    /// Widest a thin pair may get, as a multiple of its base spread (1 = never wider).
    #[serde(default = "one_f64")]
    pub max_multiplier: f64,
    /// Apply depth to USD pairs too (default: direct crosses only).
    #[serde(default)]
    pub usd_pairs: bool,
}

fn default_window_days() -> u32 {
    30
}
fn one_f64() -> f64 {
    1.0
}

impl Default for FxSection {
    fn default() -> Self {
        Self {
            tick_h: 1,
            correlation: Vec::new(),
            cross_multiplier: default_cross_multiplier(),
            cross: Vec::new(),
            size_curve: Vec::new(),
            sample_h: default_sample_h(),
            depth: None,
            usd_liquidity_cost_pa: None,
            spread_vol_elasticity: one_f64(),
            spread_vol_halflife_h: default_spread_vol_halflife_h(),
            spread_vol_max_multiplier: default_spread_vol_max_multiplier(),
        }
    }
}

fn default_cross_multiplier() -> f64 {
    2.0
}
fn default_sample_h() -> u32 {
    24
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrelationEntry {
    /// "TRY/KZT"
    pub pair: String,
    pub rho: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeBandSection {
    /// Upper bound of the band in USD; "inf" or omitted for the last band.
    pub up_to_usd: Option<f64>,
    pub multiplier: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradeSection {
    /// CSV of annual exporter → importer values (columns exporter,importer,annual_usd,...),
    /// relative to the scenario file. Optional when `payment` lists every payment.
    pub matrix: Option<String>,
    /// Multiplier on every matrix value (1 = as written).
    #[serde(default = "one_f")]
    pub scale: f64,
    /// Annual growth of trade values (0.05 = +5 %/yr), compounded over the run.
    #[serde(default)]
    pub growth_pa: f64,
    pub size: Option<SizeSection>,
    /// Days from invoice to payment.
    pub terms_days: Option<Choice>,
    /// Local hours of the importer's business days in which payments are initiated.
    pub hours: Option<Vec<String>>,
    #[serde(default)]
    pub invoice_currency: Vec<InvoiceShares>,
    pub charge_bearer: Option<BearerShares>,
    /// Payments given one by one (for worked examples); used instead of the matrix when present.
    #[serde(default)]
    pub payment: Vec<ExplicitPayment>,
}

fn one_f() -> f64 {
    1.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeSection {
    /// "lognormal" (median_usd, sigma) or "pareto" (min_usd, alpha).
    pub distribution: String,
    pub median_usd: Option<f64>,
    pub sigma: Option<f64>,
    pub min_usd: Option<f64>,
    pub alpha: Option<f64>,
    /// Sizes are capped here (USD).
    pub max_usd: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvoiceShares {
    /// "TR->AZ" or "*".
    pub corridor: String,
    #[serde(default)]
    pub usd: f64,
    #[serde(default)]
    pub exporter: f64,
    #[serde(default)]
    pub importer: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplicitPayment {
    /// Initiation instant, e.g. 2025-01-06T09:00:00Z.
    pub at: Datetime,
    pub exporter: String,
    pub importer: String,
    pub amount: Num,
    /// Invoice currency code.
    pub currency: String,
    /// "OUR", "SHA" or "BEN" (default SHA).
    pub charge_bearer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSection {
    /// "TR->AZ" (exporter->importer) or "*".
    pub corridor: String,
    pub rails: Vec<RouteShare>,
    #[serde(default)]
    pub fallback: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteShare {
    pub rail: String,
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// Write payments.csv (one row per payment).
    #[serde(default = "yes")]
    pub payments: bool,
}

impl Default for OutputSection {
    fn default() -> Self {
        Self { payments: true }
    }
}

fn yes() -> bool {
    true
}
