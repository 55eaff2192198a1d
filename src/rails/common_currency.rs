//! Rail kind `common_currency`: a shared unit among the members. Either a basket unit of
//! account — the payer's currency is converted into the unit at the payer's debit and the unit
//! into the payee's currency when the RTGS settles, each conversion at the unit's spread, so a
//! payment waiting for the RTGS is worth what the basket's weights make of it — or a full
//! monetary union, where the members' monies are denominations of one currency and a payment
//! converts nothing. Either way a payment settles gross through ONE regional RTGS with its own
//! hours.

use chrono::Weekday;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::liquidity::Pool;
use super::{Ctx, LegUsd0, Next, Payment, RailContext, RailKind, Setup, member_listed};
use crate::calendar::{Calendar, CalendarSpec};
use crate::engine::Time;
use crate::fx::quote::bps_to_fraction;
use crate::input::{DelaySection, FeeSection};
use crate::ledger::{AccountId, Ledger};
use crate::money::{CurrencyId, Usd};
use crate::terms::{Delay, FeeSchedule};
use crate::world::World;
use crate::{Error, Result};

/// One currency of the basket and its weight (a share of the unit's value at the start).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasketEntry {
    pub currency: String,
    pub weight: f64,
}

/// The regional RTGS's calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RtgsSection {
    pub time_zone: String,
    pub open: String,
    pub cutoff: String,
    /// A bundled holiday set ("TR", …), or "none" (the default).
    pub holidays: Option<String>,
    /// Weekend days (default Saturday and Sunday).
    pub weekend: Option<Vec<String>>,
    /// Extra closing days, "YYYY-MM-DD".
    #[serde(default)]
    pub extra_closed: Vec<String>,
}

/// The `[[rail]]` table of kind `common_currency`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub name: String,
    /// Members that share the unit, or ["*"] (the default) for every member.
    #[serde(default = "every_member")]
    pub members: Vec<String>,
    /// The unit: currencies and weights summing to 1 (fixed amounts of each, worth USD 1 at the
    /// start). They set what a payment's units are worth in the payee's currency when the RTGS
    /// settles it, and the unit's carry while it waits.
    pub basket: Vec<BasketEntry>,
    /// Each conversion's margin against the mid, bps (to the unit, and from it).
    #[serde(default)]
    pub spread_bps: f64,
    /// A full union: one currency, no conversion cost and no rate risk in flight.
    #[serde(default)]
    pub union: bool,
    pub rtgs: RtgsSection,
    /// Working minutes at the payer's bank, in its own hours.
    pub processing_min: DelaySection,
    #[serde(default)]
    pub fee: FeeSection,
    /// Basket unit: the settlement agent's working balance in each member currency, in days of
    /// that currency's expected payouts (at least `desk_min_usd`). It is funded at the market:
    /// refilled by buying the currency with dollars when a payment would take it below half,
    /// and swept back to dollars above twice.
    #[serde(default = "one_day")]
    pub desk_days: f64,
    #[serde(default)]
    pub desk_min_usd: f64,
}

fn one_day() -> f64 {
    1.0
}

fn every_member() -> Vec<String> {
    vec!["*".to_string()]
}

/// Validated parameters.
#[derive(Debug, Clone)]
pub struct Params {
    /// Member codes sharing the unit; None = every member.
    pub members: Option<Vec<String>>,
    /// (currency, weight); weights sum to 1.
    pub basket: Vec<(CurrencyId, Decimal)>,
    /// Each conversion's margin, bps.
    pub spread_bps: f64,
    pub union: bool,
    pub rtgs: CalendarSpec,
    pub processing_min: Delay,
    pub fee: FeeSchedule,
    pub desk_days: f64,
    pub desk_min_usd: f64,
}

/// No run-dependent warnings for this kind.
impl super::RailWarnings for Params {}

impl Params {
    /// Checks a `[[rail]]` table of kind `common_currency`.
    pub fn from_section(s: &Section, cx: &RailContext) -> Result<Params> {
        let v = cx.check;
        let p = |key: &str| cx.path(&[key]);
        let at = |keys: &[&str], j: Option<usize>| {
            let mut path = cx.path(&keys[..1]);
            if let Some(j) = j {
                path.push(crate::input::Seg::Index(j));
            }
            for key in &keys[1..] {
                path.push(crate::input::Seg::Key((*key).to_string()));
            }
            path
        };
        let members = if s.members.iter().any(|m| m == "*") {
            None
        } else {
            let distinct: std::collections::BTreeSet<&String> = s.members.iter().collect();
            if distinct.len() < 2 {
                return Err(cx.err(&["members"], "list at least two members, or \"*\""));
            }
            for (j, code) in s.members.iter().enumerate() {
                if !cx.members.iter().any(|m| &m.code == code) {
                    return Err(v.err(
                        at(&["members"], Some(j)),
                        format!("unknown member \"{code}\""),
                    ));
                }
            }
            Some(s.members.clone())
        };
        if s.basket.is_empty() {
            return Err(cx.err(
                &["basket"],
                "list the unit's currencies and weights, e.g. [{ currency = \"TRY\", weight = 0.5 }, …]",
            ));
        }
        let mut basket: Vec<(CurrencyId, Decimal)> = Vec::new();
        let mut total = 0.0;
        for (j, e) in s.basket.iter().enumerate() {
            let ccy = cx.currencies.id(&e.currency).ok_or_else(|| {
                v.err(
                    at(&["basket", "currency"], Some(j)),
                    format!("unknown currency \"{}\"", e.currency),
                )
            })?;
            if basket.iter().any(|(c, _)| *c == ccy) {
                return Err(v.err(
                    at(&["basket", "currency"], Some(j)),
                    format!("currency \"{}\" is in the basket twice", e.currency),
                ));
            }
            let weight = v.probability(at(&["basket", "weight"], Some(j)), e.weight)?;
            total += weight;
            basket.push((ccy, crate::money::minor_from_f64(weight, 6)));
        }
        if (total - 1.0).abs() > 1e-6 {
            return Err(cx.err(
                &["basket"],
                format!("the basket's weights sum to {total}; they must sum to 1"),
            ));
        }
        // Weights held to six decimals: make them sum to exactly 1 (the last absorbs the
        // rounding), so the unit is worth exactly 1 USD at the start.
        let held: Decimal = basket.iter().map(|(_, w)| *w).sum();
        if let Some(last) = basket.last_mut() {
            last.1 += Decimal::ONE - held;
        }
        let spread_bps = cx.half_spread(&["spread_bps"], s.spread_bps)?;
        if s.union && spread_bps != 0.0 {
            return Err(cx.err(
                &["spread_bps"],
                format!("a full union (union = true) converts nothing: spread_bps must be 0, got {spread_bps}"),
            ));
        }
        let r = &s.rtgs;
        let rp = |key: &str| cx.path(&["rtgs", key]);
        let open_min = v.hhmm(rp("open"), &r.open)?;
        let cutoff_min = v.hhmm(rp("cutoff"), &r.cutoff)?;
        if cutoff_min == open_min {
            return Err(v.err(rp("cutoff"), "the cut-off must differ from the opening"));
        }
        let extra_closed = r
            .extra_closed
            .iter()
            .enumerate()
            .map(|(j, d)| {
                let mut path = rp("extra_closed");
                path.push(crate::input::Seg::Index(j));
                v.date(path, d)
            })
            .collect::<Result<Vec<_>>>()?;
        let rtgs = CalendarSpec {
            name: format!("{} RTGS", s.name),
            time_zone: v.time_zone(rp("time_zone"), &r.time_zone)?,
            open_min,
            cutoff_min,
            half_day_cutoff_min: cutoff_min,
            weekend: match &r.weekend {
                None => vec![Weekday::Sat, Weekday::Sun],
                Some(_) => v.weekend(rp("weekend"), &r.weekend)?,
            },
            holidays: v.holidays(rp("holidays"), &r.holidays, "none")?,
            extra_closed,
            extra_half: Vec::new(),
            // An opening later than the cut-off means "the evening before" (as for Fedwire).
            open_previous_evening: open_min > cutoff_min,
        };
        Ok(Params {
            members,
            basket,
            spread_bps,
            union: s.union,
            rtgs,
            processing_min: v.delay(p("processing_min"), &s.processing_min)?,
            fee: v.fee(p("fee"), &s.fee)?,
            desk_days: v.nonneg(p("desk_days"), s.desk_days)?,
            desk_min_usd: v.nonneg(p("desk_min_usd"), s.desk_min_usd)?,
        })
    }

    /// Both members share the unit (and differ).
    pub fn serves(&self, exporter: &str, importer: &str) -> bool {
        exporter != importer
            && member_listed(&self.members, exporter)
            && member_listed(&self.members, importer)
    }
}

/// Run-time state: the RTGS calendar and the conversion desk's accounts.
#[derive(Debug)]
pub struct CommonCurrency {
    p: Params,
    rtgs: Calendar,
    /// Per currency: the settlement agent's desk that converts into and out of the unit.
    desk: Vec<AccountId>,
    /// Basket unit: per currency, the desk's place in the pool and its target (None in a
    /// union, whose desks only change denominations of one currency).
    desk_balance: Vec<Option<(usize, Decimal)>>,
    /// The agent's dollar treasury, which buys and sells the desks' currencies.
    treasury: AccountId,
    pool: Pool,
    /// Each basket currency's amount in one unit: weight × its mid per USD at the start.
    amounts: Vec<(CurrencyId, Decimal)>,
    /// The unit's value in USD and its carry rate a year, per tick of the rate path: each is
    /// a function of the tick's mids, and working them out took five 28-digit divisions per
    /// basket currency each time, several times per payment (most of this rail's run time).
    unit_usd_by_tick: Vec<Decimal>,
    unit_carry_pa_by_tick: Vec<f64>,
}

/// The unit's minor units: amounts in the unit are held to the cent.
pub const UNIT_MINOR_UNITS: u32 = 2;

const STAGE_SUBMIT: u8 = 1;
const STAGE_RTGS: u8 = 2;

impl CommonCurrency {
    pub fn new(p: Params, setup: &Setup, ledger: &mut Ledger) -> Result<Self> {
        let (index, world) = (setup.index, setup.world);
        let rtgs = Calendar::new(&p.rtgs, world.epoch, world.span_days)
            .map_err(|e| Error::Invariant(format!("common RTGS calendar: {e}")))?;
        let desk: Vec<AccountId> = world
            .currencies
            .ids()
            .map(|c| {
                let code = world.currencies.code(c);
                ledger.open(&format!("rail{index}:unit-desk:{code}"), c, false)
            })
            .collect();
        let treasury = ledger.open(&format!("rail{index}:unit-usd:USD"), CurrencyId::USD, false);
        let mut pool = Pool::default();
        let mut desk_balance = vec![None; desk.len()];
        if !p.union {
            // Expected annual payouts in each currency: the flows to exporters paid in it.
            let n = world.members.len();
            let on: Vec<bool> = world
                .members
                .iter()
                .map(|m| member_listed(&p.members, &m.code))
                .collect();
            for (e, me) in world.members.iter().enumerate() {
                let c = me.currency;
                if !on[e] || desk_balance[c.index()].is_some() || c == CurrencyId::USD {
                    continue;
                }
                let outflow: f64 = world
                    .members
                    .iter()
                    .enumerate()
                    .filter(|(x, m)| on[*x] && m.currency == c)
                    .map(|(x, _)| (0..n).map(|i| setup.expected_flow_usd[i][x]).sum::<f64>())
                    .sum();
                let usd = (outflow / 365.0 * p.desk_days).max(p.desk_min_usd);
                let target = world
                    .currencies
                    .round(c, crate::money::minor_from_f64(usd, 2) * world.fx.mid(c, 0));
                let k = pool.add("desk".to_string(), c, desk[c.index()]);
                if !target.is_zero() {
                    ledger.issue(desk[c.index()], target);
                }
                desk_balance[c.index()] = Some((k, target));
            }
        }
        let amounts = p
            .basket
            .iter()
            .map(|&(c, w)| (c, w * world.fx.mid(c, 0)))
            .collect();
        let mut rail = Self {
            p,
            rtgs,
            desk,
            desk_balance,
            treasury,
            pool,
            amounts,
            unit_usd_by_tick: Vec::new(),
            unit_carry_pa_by_tick: Vec::new(),
        };
        (rail.unit_usd_by_tick, rail.unit_carry_pa_by_tick) = world
            .fx
            .path
            .per_tick(|t| rail.work_out_unit(world, t))
            .into_iter()
            .unzip();
        Ok(rail)
    }

    /// The unit's conversion spread for currency `c` at `t`: the scenario's, widened by a spread
    /// shock that covers the currency (docs/model.md, "Shocks").
    fn spread_bps(&self, world: &World, c: CurrencyId, t: Time) -> f64 {
        let shock = world.fx.spread_shock(c, c, t);
        if shock == 1.0 {
            self.p.spread_bps
        } else {
            crate::fx::quote::capped_half_bps(self.p.spread_bps * shock)
        }
    }

    /// The unit's value in USD at `t`: the sum of its fixed currency amounts at the mids of
    /// `t` (1 USD at the start, by construction).
    pub fn unit_usd(&self, world: &World, t: Time) -> Decimal {
        self.unit_usd_by_tick[world.fx.path.tick(t)]
    }

    /// The unit's carry rate a year at `t`: its currencies' rates (`liquidity_cost_pa`, the
    /// dollar's included) weighted by their shares of the unit's value at `t` — the time value
    /// of holding fixed amounts of each.
    pub fn unit_carry_pa(&self, world: &World, t: Time) -> f64 {
        self.unit_carry_pa_by_tick[world.fx.path.tick(t)]
    }

    /// [`Self::unit_usd`] and [`Self::unit_carry_pa`] worked out from the mids of `t`, each
    /// basket currency's amount valued in USD once for both.
    fn work_out_unit(&self, world: &World, t: Time) -> (Decimal, f64) {
        let usd: Vec<(CurrencyId, Decimal)> = self
            .amounts
            .iter()
            .map(|&(c, a)| {
                if c == CurrencyId::USD {
                    (c, a)
                } else {
                    (c, a / world.fx.mid(c, t))
                }
            })
            .collect();
        let value: Decimal = usd.iter().map(|&(_, u)| u).sum();
        let value_f64 = crate::money::to_f64(value);
        if value_f64 <= 0.0 {
            return (value, 0.0);
        }
        let carried: f64 = usd
            .iter()
            .map(|&(c, u)| crate::money::to_f64(u) * world.liquidity_cost_pa[c.index()])
            .sum();
        (value, carried / value_f64)
    }

    /// The instant whose mids price a conversion made at `now`: `now` in a basket; the
    /// payment's start in a union, whose members' monies are one currency, so nothing moves
    /// between them while a payment is in flight.
    fn priced_at(&self, p: &Payment, now: Time) -> Time {
        if self.p.union { p.t0 } else { now }
    }

    /// Units of `ccy` per USD at `t` (1 for the dollar).
    fn per_usd(world: &World, ccy: CurrencyId, t: Time) -> Decimal {
        if ccy == CurrencyId::USD {
            Decimal::ONE
        } else {
            world.fx.mid(ccy, t)
        }
    }

    /// The payer's conversion into the unit at `now` (priced at [`Self::priced_at`]), at the
    /// mid less `spread_bps`: what the payer gives of `from`, the unit amount (to its cent),
    /// and the leg's values at the t0 mids, the unit valued at its t0 value. Invoiced in
    /// `from`, the invoice amount is converted; otherwise the payer buys the units that pay the
    /// invoice's value in `to` at this instant's rates (what they pay when the payment settles
    /// depends on how the unit moves meanwhile).
    pub fn into_unit(
        &self,
        world: &World,
        p: &Payment,
        from: CurrencyId,
        to: CurrencyId,
        now: Time,
    ) -> (Decimal, Decimal, LegUsd0) {
        let c = &world.currencies;
        let t = self.priced_at(p, now);
        let (unit_usd, unit_usd0) = (self.unit_usd(world, t), self.unit_usd(world, p.t0));
        let keep = Decimal::ONE - bps_to_fraction(self.spread_bps(world, from, t));
        let m_from = Self::per_usd(world, from, t);
        let to_unit = keep / (m_from * unit_usd);
        let round_unit = |u: Decimal| crate::money::round_minor(u, UNIT_MINOR_UNITS);
        let (given, unit) = if p.invoice_ccy == from {
            (p.invoice_amount, round_unit(p.invoice_amount * to_unit))
        } else {
            let target = if p.invoice_ccy == to {
                p.invoice_amount
            } else {
                c.round(
                    to,
                    p.invoice_amount * world.fx.cross_mid(p.invoice_ccy, to, t),
                )
            };
            let from_unit = Self::per_usd(world, to, t) * unit_usd * keep;
            let unit = round_unit(target / from_unit);
            (c.round(from, unit / to_unit), unit)
        };
        let leg = LegUsd0 {
            given: p.usd0(world, from, given),
            at_mid: Usd::product(given / (m_from * unit_usd), unit_usd0),
            at_rate: Usd::product(given * to_unit, unit_usd0),
            received: Usd::product(unit, unit_usd0),
            // The unit amount is rounded to its cent, or the payer's amount to its minor unit.
            rounding: Usd::product(
                Decimal::new(5, UNIT_MINOR_UNITS + 1) + crate::fx::half_unit(c, from) * to_unit,
                unit_usd0,
            ),
        };
        (given, unit, leg)
    }

    /// The conversion of `unit` units into the payee's `to` at `now` (priced at
    /// [`Self::priced_at`]), at the mid less `spread_bps`: what the payee's bank receives, and
    /// the leg's values at the t0 mids. The unit's value in `to` at that instant is its basket
    /// at that instant's mids, so what a unit bought earlier pays out depends on the weights.
    pub fn out_of_unit(
        &self,
        world: &World,
        p: &Payment,
        unit: Decimal,
        to: CurrencyId,
        now: Time,
    ) -> (Decimal, LegUsd0) {
        let t = self.priced_at(p, now);
        let (unit_usd, unit_usd0) = (self.unit_usd(world, t), self.unit_usd(world, p.t0));
        let keep = Decimal::ONE - bps_to_fraction(self.spread_bps(world, to, t));
        let at_mid = unit * Self::per_usd(world, to, t) * unit_usd;
        let at_rate = at_mid * keep;
        let received = world.currencies.round(to, at_rate);
        let leg = LegUsd0 {
            given: Usd::product(unit, unit_usd0),
            at_mid: p.usd0(world, to, at_mid),
            at_rate: p.usd0(world, to, at_rate),
            received: p.usd0(world, to, received),
            rounding: p.usd0(world, to, crate::fx::half_unit(&world.currencies, to)),
        };
        (received, leg)
    }

    /// A payment between two members that share a currency converts nothing: the invoice's
    /// value in that currency at the mids of `now`.
    fn same_currency_amount(world: &World, p: &Payment, ccy: CurrencyId, now: Time) -> Decimal {
        if p.invoice_ccy == ccy {
            p.invoice_amount
        } else {
            world.currencies.round(
                ccy,
                p.invoice_amount * world.fx.cross_mid(p.invoice_ccy, ccy, now),
            )
        }
    }

    /// The payer's bank has worked the payment and executes it: it debits the payer and
    /// converts the payer's currency into the unit at this instant's rates (the settlement
    /// agent's desk takes the payer's currency). The payment, now an amount of the unit, goes
    /// to the regional RTGS and waits there for its window. Members sharing a currency convert
    /// nothing: the amount waits at the payer's bank.
    fn submit(&mut self, ctx: &mut Ctx, p: &mut Payment) -> Result<Next> {
        let w = ctx.world;
        let importer = &w.members[p.importer];
        let (ci, ce) = (importer.currency, w.members[p.exporter].currency);
        if ci == ce {
            let amount = Self::same_currency_amount(w, p, ci, ctx.now);
            p.debit(ctx, importer.bank_home, amount)?;
            p.amount = amount;
            p.ccy = ci;
        } else {
            let (given, unit, leg) = self.into_unit(w, p, ci, ce, ctx.now);
            p.debit(ctx, importer.bank_home, given)?;
            self.accrue_desk(ctx, ci);
            ctx.post(importer.bank_home, self.desk[ci.index()], given)?;
            self.sweep_desk(ctx, ci)?;
            p.account_leg(&leg);
            if ci == CurrencyId::USD {
                p.usd_sold += given;
            }
            // The principal is now an amount of the unit: no ledger account holds it (the
            // agent owes it to the payment), and it earns the unit's carry.
            p.unit_amount = unit;
            p.unit_usd0 = leg.received;
            let carry = self.unit_carry_pa(w, self.priced_at(p, ctx.now));
            p.hold_at_carry(carry, ctx.now);
        }
        p.stage = STAGE_RTGS;
        self.settle_in_rtgs(ctx, p)
    }

    /// The regional RTGS settles the payment inside its window (after its cut-off it waits for
    /// the next opening): the unit is converted into the payee's currency at this instant's
    /// rates, out of the agent's desk (which buys what it lacks at the market first), and the
    /// payee is credited less any fee it bears.
    fn settle_in_rtgs(&mut self, ctx: &mut Ctx, p: &mut Payment) -> Result<Next> {
        match self.rtgs.next_open(ctx.now) {
            Some(t) if t == ctx.now => {}
            Some(t) => return Ok(Next::At(t)),
            None => return Ok(Next::At(Time::MAX)),
        }
        let w = ctx.world;
        let (importer, exporter) = (&w.members[p.importer], &w.members[p.exporter]);
        let ce = exporter.currency;
        let received = if importer.currency == ce {
            ctx.post(importer.bank_home, exporter.bank_home, p.amount)?;
            p.amount
        } else {
            let (received, leg) = self.out_of_unit(w, p, p.unit_amount, ce, ctx.now);
            self.fund_desk(ctx, ce, received)?;
            ctx.post(self.desk[ce.index()], exporter.bank_home, received)?;
            if let Some((k, _)) = self.desk_balance[ce.index()] {
                self.pool.used_by(w, p, k, received);
            }
            p.hold(w, ce, ctx.now);
            p.account_leg(&leg);
            if ce == CurrencyId::USD {
                p.usd_bought += received;
            }
            p.unit_amount = Decimal::ZERO;
            p.unit_usd0 = Usd::ZERO;
            received
        };
        p.amount = Decimal::ZERO;
        let credit = p.bearer_fee(ctx, &self.p.fee, received)?;
        p.settle(ctx, credit)?;
        Ok(Next::Done)
    }
}

impl CommonCurrency {
    fn accrue_desk(&mut self, ctx: &mut Ctx, c: CurrencyId) {
        if let Some((k, _)) = self.desk_balance[c.index()] {
            self.pool.accrue(ctx.world, ctx.ledger, k, ctx.now);
        }
    }

    /// Before paying `need` of `c` out of a basket desk: if that would take it below half its
    /// target, the agent buys back to target (plus the need) with dollars at the market.
    fn fund_desk(&mut self, ctx: &mut Ctx, c: CurrencyId, need: Decimal) -> Result<()> {
        let Some((k, target)) = self.desk_balance[c.index()] else {
            return Ok(());
        };
        self.pool.accrue(ctx.world, ctx.ledger, k, ctx.now);
        let have = ctx.ledger.balance(self.desk[c.index()]);
        if have - need >= target / Decimal::TWO {
            return Ok(());
        }
        self.pool.buy(ctx, k, self.treasury, target + need - have)
    }

    /// After a basket desk took in `c`: above twice its target, the excess is sold for dollars.
    fn sweep_desk(&mut self, ctx: &mut Ctx, c: CurrencyId) -> Result<()> {
        let Some((k, target)) = self.desk_balance[c.index()] else {
            return Ok(());
        };
        let have = ctx.ledger.balance(self.desk[c.index()]);
        if have <= target * Decimal::TWO {
            return Ok(());
        }
        self.pool.sell(ctx, k, self.treasury, have - target)
    }
}

impl RailKind for CommonCurrency {
    fn step(&mut self, ctx: &mut Ctx, _slot: u32, p: &mut Payment) -> Result<Next> {
        let w = ctx.world;
        let importer = &w.members[p.importer];
        match p.stage {
            0 => {
                let work = self.p.processing_min.draw_min_s(&mut p.rng);
                p.hops = 1;
                p.stage = STAGE_SUBMIT;
                let ready = importer.calendar.process(ctx.now, work);
                Ok(Next::At(ready.unwrap_or(Time::MAX)))
            }
            STAGE_SUBMIT => self.submit(ctx, p),
            STAGE_RTGS => self.settle_in_rtgs(ctx, p),
            other => Err(Error::Invariant(format!(
                "common_currency: unknown stage {other}"
            ))),
        }
    }

    fn pool(&self) -> Option<&Pool> {
        Some(&self.pool)
    }

    fn pool_mut(&mut self) -> Option<&mut Pool> {
        Some(&mut self.pool)
    }
}
