//! Rail kind `common_currency`: a shared unit among the members. Either a basket unit of
//! account — the payer's currency is converted into the unit and the unit into the payee's
//! currency, each conversion at the unit's spread — or a full monetary union, where the
//! members' monies are denominations of one currency and a payment converts nothing. Either
//! way a payment settles gross through ONE regional RTGS with its own hours.

use chrono::Weekday;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::liquidity::Pool;
use super::{Ctx, Next, Payment, RailContext, RailKind, Setup, member_listed};
use crate::calendar::{Calendar, CalendarSpec};
use crate::engine::Time;
use crate::fx::Conversion;
use crate::fx::quote::bps_to_fraction;
use crate::input::{DelaySection, FeeSection};
use crate::ledger::{AccountId, Ledger};
use crate::money::CurrencyId;
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
    /// The unit: currencies and weights summing to 1.
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
}

/// The unit's minor units: amounts in the unit are held to the cent.
pub const UNIT_MINOR_UNITS: u32 = 2;

const STAGE_RTGS: u8 = 1;

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
        Ok(Self {
            p,
            rtgs,
            desk,
            desk_balance,
            treasury,
            pool,
            amounts,
        })
    }

    /// The unit's value in USD at `t`: the sum of its fixed currency amounts at the mids of
    /// `t` (1 USD at the start, by construction).
    pub fn unit_usd(&self, world: &World, t: Time) -> Decimal {
        self.amounts
            .iter()
            .map(|&(c, a)| {
                if c == CurrencyId::USD {
                    a
                } else {
                    a / world.fx.mid(c, t)
                }
            })
            .sum()
    }

    /// The payment's conversion through the unit, and the unit amount it passes through.
    /// Basket: at the mids of `now`, each leg (to the unit, from the unit) at the mid less
    /// `spread_bps`; the unit amount is rounded to its cent. Union: at the mids of the
    /// payment's start and no spread — the members' monies are one currency, so nothing moves
    /// between them while the payment is in flight.
    pub fn conversion(
        &self,
        world: &World,
        p: &Payment,
        from: CurrencyId,
        to: CurrencyId,
        now: Time,
    ) -> (Conversion, Decimal) {
        let c = &world.currencies;
        let t = if self.p.union { p.t0 } else { now };
        let unit_usd = self.unit_usd(world, t);
        // Units of the unit per unit of `from`, and units of `to` per unit, at the mids.
        let per_usd = |ccy: CurrencyId| {
            if ccy == CurrencyId::USD {
                Decimal::ONE
            } else {
                world.fx.mid(ccy, t)
            }
        };
        let (m_from, m_to) = (per_usd(from), per_usd(to));
        let keep = Decimal::ONE - bps_to_fraction(self.p.spread_bps);
        let to_unit = keep / (m_from * unit_usd);
        let from_unit = m_to * unit_usd * keep;
        let mid = world.fx.cross_mid(from, to, t);
        let round_unit = |u: Decimal| crate::money::round_minor(u, UNIT_MINOR_UNITS);
        let (given, unit, received) = if from == to {
            let amount = if p.invoice_ccy == from {
                p.invoice_amount
            } else {
                c.round(
                    to,
                    p.invoice_amount * world.fx.cross_mid(p.invoice_ccy, to, t),
                )
            };
            (amount, round_unit(amount / (m_from * unit_usd)), amount)
        } else if p.invoice_ccy == from {
            let unit = round_unit(p.invoice_amount * to_unit);
            (p.invoice_amount, unit, c.round(to, unit * from_unit))
        } else {
            let received = if p.invoice_ccy == to {
                p.invoice_amount
            } else {
                c.round(
                    to,
                    p.invoice_amount * world.fx.cross_mid(p.invoice_ccy, to, t),
                )
            };
            let unit = round_unit(received / from_unit);
            (c.round(from, unit / to_unit), unit, received)
        };
        let conv = Conversion {
            from,
            to,
            at: t,
            given,
            received,
            received_at_mid: given * mid,
            mid,
            // Two margins, one into the unit and one out of it.
            half_spread_bps: if from == to {
                0.0
            } else {
                2.0 * self.p.spread_bps
            },
            rate: if from == to {
                Decimal::ONE
            } else {
                to_unit * from_unit
            },
            // The unit amount is rounded to its cent on the way (half a cent of the unit, worth
            // `from_unit` of `to`), and either end to its minor unit.
            rounding_to: Decimal::new(5, UNIT_MINOR_UNITS + 1) * from_unit
                + crate::fx::half_unit(c, to)
                + crate::fx::half_unit(c, from) * to_unit * from_unit,
        };
        (conv, unit)
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
        let exporter = &w.members[p.exporter];
        match p.stage {
            0 => {
                let work = self.p.processing_min.draw_min_s(&mut p.rng);
                p.hops = 1;
                p.stage = STAGE_RTGS;
                let ready = importer.calendar.process(ctx.now, work);
                Ok(Next::At(ready.unwrap_or(Time::MAX)))
            }
            STAGE_RTGS => {
                // The regional RTGS settles only inside its own window: after its cut-off,
                // the payment waits for the next opening.
                match self.rtgs.next_open(ctx.now) {
                    Some(t) if t == ctx.now => {}
                    Some(t) => return Ok(Next::At(t)),
                    None => return Ok(Next::At(Time::MAX)),
                }
                let (ci, ce) = (importer.currency, exporter.currency);
                let (conv, _unit) = self.conversion(w, p, ci, ce, ctx.now);
                p.debit(ctx, importer.bank_home, conv.given)?;
                // The settlement agent's desk takes the payer's currency into the unit and
                // pays the payee's currency out of it; a basket desk that cannot pay buys
                // what it needs at the market first.
                self.fund_desk(ctx, ce, conv.received)?;
                self.accrue_desk(ctx, ci);
                ctx.post(importer.bank_home, self.desk[ci.index()], conv.given)?;
                ctx.post(self.desk[ce.index()], exporter.bank_home, conv.received)?;
                if let Some((k, _)) = self.desk_balance[ce.index()] {
                    self.pool.used_by(w, p, k, conv.received);
                }
                self.sweep_desk(ctx, ci)?;
                p.account_conversion(w, &conv);
                let credit = p.bearer_fee(ctx, &self.p.fee, conv.received)?;
                p.settle(ctx, credit)?;
                Ok(Next::Done)
            }
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
