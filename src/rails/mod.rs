//! Settlement rails: one file per kind, behind one interface. A rail is a state machine that
//! moves one payment through its steps ([`Rail::step`]), plus the shared state it owns (a
//! nostro's balance, say) and the timers that state needs ([`Rail::timer`]).
//!
//! Adding a kind is one new file and one arm in [`RailParams`] and [`Rail`].

pub mod bilateral;
pub mod common_currency;
pub mod correspondent;
pub mod liquidity;
pub mod netting;
mod payment;
pub mod pvp_bridge;
pub mod swap_line;

use rust_decimal::Decimal;

pub use payment::{LegUsd0, Payment};

use crate::Result;
use crate::engine::Time;
use crate::fx::Conversion;
use crate::fx::depth::Depth;
use crate::ledger::{AccountId, Ledger};
use crate::money::CurrencyId;
use crate::world::World;

/// Declares the rail kinds: each is a module with `Section` (its TOML table), `Params` (checked
/// parameters) and a run-time type implementing [`RailKind`], and optionally the tables it
/// reports into (`reports netting::CYCLES`). Adding a kind is one new file and one line here.
macro_rules! rail_kinds {
    ($($variant:ident => $module:ident :: $state:ident, $kind:literal $(, reports $($table:path),+)?;)*) => {
        /// Every table a rail kind reports into, in the order the kinds are declared: output
        /// writes one CSV file for each (see [`crate::record::ReportTable`]).
        pub const REPORT_TABLES: &[&crate::record::ReportTable] = &[$($($(&$table,)+)?)*];

        /// The `[[rail]]` tables of a scenario, by `kind`.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum RailSection {
            $($variant($module::Section),)*
        }

        impl RailSection {
            pub fn name(&self) -> &str {
                match self {
                    $(RailSection::$variant(r) => &r.name,)*
                }
            }

            /// Deserialises a rail table without its `kind` as the given kind, for error
            /// locations (serde buffers internally tagged enums and loses the path).
            pub fn check_as(kind: &str, body: toml::Value) -> Option<serde_path_to_error::Error<toml::de::Error>> {
                match kind {
                    $($kind => serde_path_to_error::deserialize::<_, $module::Section>(body).err(),)*
                    _ => None,
                }
            }

            /// Validates the section into parameters.
            pub fn params(&self, cx: &RailContext) -> Result<RailParams> {
                Ok(match self {
                    $(RailSection::$variant(s) => RailParams::$variant($module::Params::from_section(s, cx)?),)*
                })
            }
        }

        /// Validated parameters of a rail, by kind.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone)]
        pub enum RailParams {
            $($variant($module::Params),)*
        }

        impl RailParams {
            pub fn kind(&self) -> &'static str {
                match self {
                    $(RailParams::$variant(_) => $kind,)*
                }
            }

            /// Whether the rail can carry a payment between these members (codes).
            pub fn serves(&self, exporter: &str, importer: &str) -> bool {
                match self {
                    $(RailParams::$variant(p) => p.serves(exporter, importer),)*
                }
            }

            /// What the rail finds worth warning about over the run (see [`RailWarnings`]).
            pub fn warnings(&self, rail: &str, span: &RunSpan) -> Result<Vec<String>> {
                match self {
                    $(RailParams::$variant(p) => RailWarnings::warnings(p, rail, span),)*
                }
            }
        }

        /// A rail with its state during one replication.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug)]
        pub enum Rail {
            $($variant($module::$state),)*
        }

        impl Rail {
            /// Builds the rail's run-time state; `expected_flow_usd[importer][exporter]` is the
            /// annual value the routes send to it.
            pub fn new(spec: &RailSpec, index: usize, world: &World, ledger: &mut Ledger, expected_flow_usd: &[Vec<f64>], learned: Option<&Learned>) -> Result<Rail> {
                let setup = Setup { index, name: &spec.name, world, expected_flow_usd, learned };
                Ok(match &spec.params {
                    $(RailParams::$variant(p) => Rail::$variant($module::$state::new(p.clone(), &setup, ledger)?),)*
                })
            }

            fn kind_mut(&mut self) -> &mut dyn RailKind {
                match self {
                    $(Rail::$variant(r) => r,)*
                }
            }

            fn kind_ref(&self) -> &dyn RailKind {
                match self {
                    $(Rail::$variant(r) => r,)*
                }
            }
        }
    };
}

rail_kinds! {
    Correspondent => correspondent::Correspondent, "correspondent";
    Bilateral => bilateral::Bilateral, "bilateral";
    SwapLine => swap_line::SwapLine, "swap_line";
    Netting => netting::Netting, "netting", reports netting::CYCLES;
    PvpBridge => pvp_bridge::PvpBridge, "pvp_bridge";
    CommonCurrency => common_currency::CommonCurrency, "common_currency";
}

/// The run a rail's parameters are checked against for warnings: sim time 0, the end of the
/// run (trading and drain days), the days calendars must cover, and the members.
pub struct RunSpan<'a> {
    pub epoch: chrono::DateTime<chrono::Utc>,
    pub run_end_s: Time,
    pub span_days: u32,
    pub members: &'a [crate::world::MemberSpec],
}

/// Warnings a rail kind's checked parameters give about a run: valid, but probably not what
/// the analyst meant (a clearing house whose cycles never meet a member's open hours, say).
/// Validation prints them; a kind with nothing to say writes `impl RailWarnings for Params {}`.
pub trait RailWarnings {
    fn warnings(&self, _rail: &str, _span: &RunSpan) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
}

/// A rail as declared in the scenario.
#[derive(Debug, Clone)]
pub struct RailSpec {
    pub name: String,
    pub params: RailParams,
}

impl RailSpec {
    pub fn kind(&self) -> &'static str {
        self.params.kind()
    }

    /// A `default` shock: the netting participant `member` fails at the house's first cycle at
    /// or after `at_unix_s` and is suspended until `until_unix_s`. An error says why it cannot
    /// (not a clearing house, or not a participant).
    pub fn add_default(
        &mut self,
        member: usize,
        code: &str,
        at_unix_s: i64,
        until_unix_s: Option<i64>,
    ) -> std::result::Result<(), String> {
        match &mut self.params {
            RailParams::Netting(p) => {
                if !p.participant.get(member).copied().unwrap_or(false) {
                    return Err(format!(
                        "member \"{code}\" does not take part in clearing house \"{}\"",
                        self.name
                    ));
                }
                p.defaults.push(netting::MemberDefault {
                    member,
                    at_unix_s,
                    until_unix_s,
                });
                p.defaults.sort_by_key(|d| d.at_unix_s);
                Ok(())
            }
            _ => Err(format!("\"{}\" is not a netting rail", self.name)),
        }
    }

    /// Whether the rail can carry a payment from `importer` to `exporter` (member codes).
    pub fn serves(&self, exporter: &str, importer: &str) -> bool {
        self.params.serves(exporter, importer)
    }
}

/// What a rail's validation may look at: the checker (messages located in the file), the
/// scenario's currencies and members, and the rail's index in `[[rail]]`.
pub struct RailContext<'a> {
    pub check: &'a crate::input::Checker<'a>,
    pub currencies: &'a crate::money::Currencies,
    pub members: &'a [crate::world::MemberSpec],
    pub index: usize,
    /// The widest half-spread any market quote can reach (validated below
    /// [`crate::fx::quote::MAX_HALF_SPREAD_BPS`]): a rail quoting a multiple of the market checks
    /// its multiple against it.
    pub max_market_half_bps: f64,
}

impl RailContext<'_> {
    /// A half-spread a rail quotes itself: finite, non-negative and below
    /// [`crate::fx::quote::MAX_HALF_SPREAD_BPS`].
    pub fn half_spread(&self, keys: &[&str], bps: f64) -> crate::Result<f64> {
        let max = crate::fx::quote::MAX_HALF_SPREAD_BPS;
        let bps = self.check.nonneg(self.path(keys), bps)?;
        if bps >= max {
            return Err(self.err(
                keys,
                format!("must be below {max} bps (50 % of the mid), got {bps}"),
            ));
        }
        Ok(bps)
    }
}

impl RailContext<'_> {
    /// The key path `rail[i].a.b…`.
    pub fn path(&self, keys: &[&str]) -> Vec<crate::input::Seg> {
        use crate::input::Seg;
        let mut p = vec![Seg::Key("rail".into()), Seg::Index(self.index)];
        p.extend(keys.iter().map(|k| Seg::Key((*k).to_string())));
        p
    }

    /// An error at `rail[i].keys…`.
    pub fn err(&self, keys: &[&str], msg: impl AsRef<str>) -> crate::Error {
        self.check.err(self.path(keys), msg)
    }

    /// The member with this code.
    pub fn member(&self, keys: &[&str], code: &str) -> Result<usize> {
        self.members
            .iter()
            .position(|m| m.code == code)
            .ok_or_else(|| self.err(keys, format!("unknown member \"{code}\"")))
    }

    /// The currency with this code (USD included).
    pub fn currency(&self, keys: &[&str], code: &str) -> Result<CurrencyId> {
        self.currencies
            .id(code)
            .ok_or_else(|| self.err(keys, format!("unknown currency \"{code}\"")))
    }

    /// Member pairs "TR-AZ" (either direction) or ["*"]: None means every pair.
    pub fn pairs(&self, key: &str, pairs: &[String]) -> Result<Option<Vec<(String, String)>>> {
        if pairs.iter().any(|x| x == "*") {
            return Ok(None);
        }
        let mut out = Vec::new();
        for (j, s) in pairs.iter().enumerate() {
            let mut p = self.path(&[key]);
            p.push(crate::input::Seg::Index(j));
            let (x, y) = s.split_once('-').ok_or_else(|| {
                self.check.err(
                    p.clone(),
                    format!("expected a member pair such as \"TR-AZ\", or \"*\"; got \"{s}\""),
                )
            })?;
            for code in [x, y] {
                if !self.members.iter().any(|m| m.code == code) {
                    return Err(self.check.err(
                        p.clone(),
                        format!("unknown member \"{code}\" in pair \"{s}\""),
                    ));
                }
            }
            out.push((x.to_string(), y.to_string()));
        }
        if out.is_empty() {
            return Err(self.err(&[key], "list at least one member pair, or \"*\""));
        }
        Ok(Some(out))
    }
}

/// Whether a pair list (None = all) includes the pair, in either direction.
pub fn pair_listed(pairs: &Option<Vec<(String, String)>>, exporter: &str, importer: &str) -> bool {
    match pairs {
        None => exporter != importer,
        Some(pairs) => pairs
            .iter()
            .any(|(a, b)| (a == exporter && b == importer) || (a == importer && b == exporter)),
    }
}

/// Whether a member list (None = every member) includes `code`.
pub fn member_listed(members: &Option<Vec<String>>, code: &str) -> bool {
    members.as_ref().is_none_or(|m| m.iter().any(|x| x == code))
}

/// What a rail is built from.
pub struct Setup<'a> {
    /// The rail's index (its ledger accounts are named `rail{index}:…`).
    pub index: usize,
    pub name: &'a str,
    pub world: &'a World,
    /// Annual value routed to the rail, `[importer][exporter]`, USD.
    pub expected_flow_usd: &'a [Vec<f64>],
    /// What the first pass of this replication learned about the rail once the run had ended:
    /// what each payment owes it ([`RailKind::deferred_charges`]) and each of its balances' cost
    /// per dollar used ([`liquidity::Pool::rates`]); None in the first pass.
    pub learned: Option<&'a Learned>,
}

/// What the first pass of a replication learned about one rail, for the second.
#[derive(Debug, Clone, Default)]
pub struct Learned {
    /// Charges by payment ([`RailKind::deferred_charges`]).
    pub deferred: Deferred,
    /// Each prefunded balance's cost per dollar used (None: a balance nobody used). The
    /// simulator charges the carry and the funding dollars; a rail that books a balance's
    /// conversion spread into its payments' own conversions (the netting house) reads it here.
    pub rates: Vec<Option<liquidity::PerDollar>>,
}

/// Charges known only when a run ends, by payment id, USD (a swap-line draw's interest runs
/// until the draw is repaid).
pub type Deferred = std::collections::BTreeMap<u64, f64>;

/// The interface every rail kind implements.
pub trait RailKind {
    /// Advances `p` (in slot `slot`) by one step at `ctx.now`.
    fn step(&mut self, ctx: &mut Ctx, slot: u32, p: &mut Payment) -> Result<Next>;

    /// A timer the rail asked for (through [`Ctx::timers`]) has come due.
    fn timer(&mut self, _ctx: &mut Ctx, _token: u32) -> Result<()> {
        Ok(())
    }

    /// The balances the rail keeps (prefunded, or a clearing house's carried positions), if
    /// any.
    fn pool(&self) -> Option<&liquidity::Pool> {
        None
    }

    fn pool_mut(&mut self) -> Option<&mut liquidity::Pool> {
        None
    }

    /// Charges that only the end of the run decides, by payment (None: the kind has none).
    /// A kind that has some is run twice per replication: the second pass gets the first's
    /// charges through [`Setup::learned`] and books them when each payment settles.
    fn deferred_charges(&self) -> Option<Deferred> {
        None
    }

    /// Adds the kind's own run totals to its row of rails.csv (a swap line's interest).
    fn add_stats(&self, _stats: &mut LiquidityStats) {}
}

/// What a rail's step asks the simulator to do with the payment next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Step again at this instant.
    At(Time),
    /// The rail holds the payment and will wake it (through [`Ctx::wake`]).
    Park,
    /// The payment is finished (its status says how).
    Done,
    /// The rail cannot take the payment now: try the route's fallback. Nothing was booked.
    Fallback,
}

/// What a rail may touch while it works: the fixed world, the ledger, the market's depth, and
/// requests back to the simulator.
pub struct Ctx<'a> {
    pub now: Time,
    pub world: &'a World,
    pub ledger: &'a mut Ledger,
    pub depth: &'a mut Depth,
    /// Timers the rail asks for: (instant, token), delivered back to [`RailKind::timer`].
    pub timers: &'a mut Vec<(Time, u32)>,
    /// Parked payments (slots) to step again now, in this order.
    pub wake: &'a mut Vec<u32>,
    /// Rows for the rail kinds' own tables (netting cycles); rails know nothing about CSV.
    pub reports: &'a mut Vec<crate::record::ReportRow>,
    /// The name of the rail being stepped, as the scenario declares it (for error context).
    pub rail: &'a str,
    /// A fault to inject into one payment (by id), for the tests that show the run-time
    /// checks catch it; None in every real run.
    pub fault: Option<(Fault, u64)>,
    /// The payment being stepped (0 in a rail's timer), for the injected faults.
    pub payment: u64,
}

/// Faults the tests inject to show that the run-time checks stop a run that books wrongly.
/// Never set outside tests ([`crate::sim::run_with_fault`]).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The payer's bank takes a fee by a plain posting, not through `Payment::fee`.
    FeeOutsideFeePath,
    /// The payee is credited 1 % more by a posting the payment's counters never see.
    PostingBypassesCounters,
    /// A dealer delivers 0.1 % less than the rate it quoted.
    WrongRate,
}

impl Ctx<'_> {
    /// Books `amount` from `from` to `to`: every rail books through here. The ledger refuses
    /// only a currency mismatch or an overdraft of an account that may not go negative, and a
    /// rail checks balances before it moves money, so a refusal is a bug in the rail, not bad
    /// input: it stops the run as an invariant error naming the rail and the instant.
    pub fn post(&mut self, from: AccountId, to: AccountId, amount: Decimal) -> Result<()> {
        self.ledger.post(from, to, amount).map_err(|e| {
            crate::Error::Invariant(format!(
                "rail {:?} at t = {} s: the ledger refused a posting: {e}",
                self.rail, self.now
            ))
        })
    }

    /// Sells exactly `given` of `from` for `to` at the dealer's quote now, with market depth;
    /// the trade counts towards the pair's volume.
    pub fn convert_from(
        &mut self,
        from: CurrencyId,
        to: CurrencyId,
        given: Decimal,
        ticket_usd: f64,
    ) -> Conversion {
        let mut c = self.quote_from(from, to, given, ticket_usd);
        if self.fault == Some((Fault::WrongRate, self.payment)) && self.payment != 0 {
            c.received = self
                .world
                .currencies
                .round(to, c.received * Decimal::new(999, 3));
        }
        self.traded(&c, ticket_usd);
        c
    }

    /// Buys exactly `received` of `to` with `from` at the dealer's quote now, with market depth.
    pub fn convert_to(
        &mut self,
        from: CurrencyId,
        to: CurrencyId,
        received: Decimal,
        ticket_usd: f64,
    ) -> Conversion {
        let c = self.quote_to(from, to, received, ticket_usd);
        self.traded(&c, ticket_usd);
        c
    }

    /// What [`Ctx::convert_from`] would give now, without trading.
    pub fn quote_from(
        &mut self,
        from: CurrencyId,
        to: CurrencyId,
        given: Decimal,
        ticket_usd: f64,
    ) -> Conversion {
        let w = self.world;
        let factor = self.depth_factor(from, to, ticket_usd);
        w.fx.convert_from_scaled(&w.currencies, from, to, given, self.now, ticket_usd, factor)
    }

    /// What [`Ctx::convert_to`] would cost now, without trading.
    pub fn quote_to(
        &mut self,
        from: CurrencyId,
        to: CurrencyId,
        received: Decimal,
        ticket_usd: f64,
    ) -> Conversion {
        let w = self.world;
        let factor = self.depth_factor(from, to, ticket_usd);
        w.fx.convert_to_scaled(
            &w.currencies,
            from,
            to,
            received,
            self.now,
            ticket_usd,
            factor,
        )
    }

    /// Records a quoted conversion as traded (it adds to the pair's volume).
    pub fn traded(&mut self, c: &Conversion, ticket_usd: f64) {
        self.depth.record(c.from, c.to, ticket_usd, self.now);
    }

    fn depth_factor(&mut self, from: CurrencyId, to: CurrencyId, ticket_usd: f64) -> f64 {
        // Depth off (the usual case) costs nothing: no look-up of the pair's volume.
        if !self.depth.is_on() {
            return 1.0;
        }
        let base = self.world.fx.spreads.half_spread_bps(from, to, ticket_usd);
        self.depth.factor(from, to, base, self.now)
    }
}

/// Liquidity a rail keeps prefunded, measured over the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiquidityStats {
    pub peak_usd: f64,
    /// Mean of the daily samples during trade.
    pub mean_usd: f64,
    /// Carry of the balances over the whole run.
    pub carry_usd: f64,
    /// Interest on a swap line's draws over the run, and the part of it the central banks
    /// bear (all of it when the scenario says they do, none when the payers do).
    pub line_interest_usd: f64,
    pub central_bank_cost_usd: f64,
    /// The part of it on balances no payment used (charged to no payment), with the spread of
    /// converting such a balance (a clearing house's carried position no item relied on).
    pub carry_unallocated_usd: f64,
}

impl Rail {
    /// Advances `p` (in slot `slot`) by one step at `ctx.now`.
    pub fn step(&mut self, ctx: &mut Ctx, slot: u32, p: &mut Payment) -> Result<Next> {
        self.kind_mut().step(ctx, slot, p)
    }

    /// A timer this rail asked for has come due.
    pub fn timer(&mut self, ctx: &mut Ctx, token: u32) -> Result<()> {
        self.kind_mut().timer(ctx, token)
    }

    /// Closes a day: accrues carry up to `now`, samples prefunded liquidity, and returns the
    /// carry cost (USD) accrued since the last close, to be allocated to the day's payments.
    pub fn end_of_day(&mut self, world: &World, ledger: &Ledger, now: Time) {
        if let Some(p) = self.kind_mut().pool_mut() {
            p.end_of_day(world, ledger, now);
        }
    }

    /// Whether the rail charges what only the end of the run decides: the carry of its
    /// prefunded balances per dollar used, or its own deferred charges.
    pub fn needs_second_pass(&self) -> bool {
        self.kind_ref().pool().is_some_and(|p| !p.is_empty())
            || self.kind_ref().deferred_charges().is_some()
    }

    /// What the run taught about the rail once it has ended: its charges by payment, and each
    /// balance's carry per dollar used (see [`liquidity`]).
    pub fn learned(&self) -> Learned {
        Learned {
            deferred: self.kind_ref().deferred_charges().unwrap_or_default(),
            rates: self
                .kind_ref()
                .pool()
                .map_or_else(Vec::new, liquidity::Pool::rates),
        }
    }

    /// Prefunded balances at `now`.
    pub fn balances(&self, world: &World, ledger: &Ledger, now: Time) -> Vec<liquidity::Balance> {
        self.kind_ref()
            .pool()
            .map_or_else(Vec::new, |p| p.balances(world, ledger, now))
    }

    pub fn liquidity(&self) -> LiquidityStats {
        let mut stats = self
            .kind_ref()
            .pool()
            .map_or_else(LiquidityStats::default, liquidity::Pool::stats);
        self.kind_ref().add_stats(&mut stats);
        stats
    }
}
