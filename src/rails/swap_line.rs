//! A central-bank currency swap line that funds a bilateral local-currency rail between two
//! members (the CBRT–NBK line: TRY 28 bn / KZT 423 bn, three years). The payer's bank draws the
//! payee's currency from the line for each payment, at the line's rate plus its own margin,
//! while the line has headroom and has not expired. Beyond the limit (or after expiry) a payment
//! converts at the market quote or goes to the route's fallback rail, as configured.
//!
//! Interest accrues on each draw for as long as that draw is outstanding: a draw of one side's
//! currency is repaid, first in first out, by what later payments in the other direction pay
//! into that side, and a draw still outstanding when the run ends runs to the line's expiry
//! (the far leg of the swap). So what a draw costs depends on the draws and repayments, never on
//! the run's length or on what else happened that day. Who pays it is a policy the scenario
//! states (`interest_borne_by`): the payer (its bank passes the cost on, charged as a fee when
//! the payment settles), or the central bank (a policy cost, reported in rails.csv). A draw's
//! interest is known only once it is repaid, so the replication runs twice (docs/model.md).
//!
//! Each central bank's side of the line is a prefunded ledger account issued at its limit
//! (`rail{i}:cb:KZ:KZT` holds the KZT the NBK can still lend): the drawn amount is
//! `limit − balance`, so the ledger itself refuses any draw beyond the limit.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Ctx, Next, Payment, RailContext, RailKind, Setup};
use crate::calendar::next_joint_open;
use crate::engine::{DAY_S, Time, YEAR_S};
use crate::fx::Conversion;
use crate::input::{DelaySection, FeeSection, Num};
use crate::ledger::{AccountId, Ledger};
use crate::money::CurrencyId;
use crate::terms::{Delay, FeeSchedule};
use crate::world::World;
use crate::{Error, Result};

/// The `[[rail]]` table of this kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub name: String,
    /// The two members whose central banks signed the line, e.g. ["TR", "KZ"]. The order sets
    /// the direction of `rate`.
    pub members: Vec<String>,
    /// The line's size in each member's currency, e.g. { TRY = 28e9, KZT = 423e9 }.
    pub limit: BTreeMap<String, Num>,
    /// Units of the second member's currency per unit of the first's; "spot" draws at the mid
    /// of the moment. Default: the ratio of the two limits.
    pub rate: Option<Num>,
    /// Days from the scenario's start until the line expires; no draws after that.
    pub tenor_days: f64,
    /// Annual interest on the drawn amount. Default: the drawn currency's `liquidity_cost_pa`
    /// (its central bank's policy rate in the bundled scenarios).
    pub cost_pa: Option<Num>,
    /// The payer's bank's margin on the line's rate, bps.
    #[serde(default)]
    pub margin_bps: f64,
    /// What a payment does when the line cannot fund it: "market" (convert at the dealer's
    /// cross quote) or "fallback" (the route's fallback rail).
    pub beyond_limit: Option<String>,
    /// The transfer fee, as on the bilateral rail.
    #[serde(default)]
    pub fee: FeeSection,
    /// Working minutes at the payer's bank.
    pub processing_min: DelaySection,
    /// Who pays the interest on the draws: "payer" (the importer, through its bank) or
    /// "central_bank" (a policy cost of the lending central bank).
    pub interest_borne_by: Option<String>,
}

/// The rate at which the line converts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LineRate {
    /// Units of the second member's currency per unit of the first's, for the whole tenor.
    Fixed(Decimal),
    /// The market mid at the moment of each draw (the usual convention for central-bank swap
    /// drawings; the far leg reverses at the same rate).
    Spot,
}

/// What happens to a payment the line cannot fund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beyond {
    /// The payer's bank buys the payee's currency at the dealer's cross quote.
    Market,
    /// The route's fallback rail takes the payment.
    Fallback,
}

/// Validated parameters.
#[derive(Debug, Clone)]
pub struct Params {
    /// Member codes: the line's first and second side.
    pub members: [String; 2],
    /// The limit in each side's currency.
    pub limit: [Decimal; 2],
    pub rate: LineRate,
    pub tenor_s: Time,
    /// Annual interest rate on the drawn amount; None = each currency's liquidity cost.
    pub cost_pa: Option<Decimal>,
    /// The bank's margin as a fraction of the rate.
    pub margin: Decimal,
    pub margin_bps: f64,
    pub beyond: Beyond,
    pub fee: FeeSchedule,
    pub processing_min: Delay,
    /// The payer pays the interest on its draw (else the central bank does).
    pub payer_pays_interest: bool,
}

/// No run-dependent warnings for this kind.
impl super::RailWarnings for Params {}

impl Params {
    /// Checks a `[[rail]]` table of kind `swap_line`.
    /// Long because: one check per key of the section, in the order docs/rail-swap-line.md
    /// lists them.
    pub fn from_section(s: &Section, cx: &RailContext) -> Result<Params> {
        let v = cx.check;
        let p = |key: &str| cx.path(&[key]);
        if s.members.len() != 2 {
            return Err(cx.err(
                &["members"],
                format!(
                    "list the two members whose central banks signed the line, e.g. [\"TR\", \"KZ\"]; got {} member(s)",
                    s.members.len()
                ),
            ));
        }
        let mut ccys = Vec::new();
        for code in &s.members {
            let m = cx.member(&["members"], code)?;
            ccys.push(cx.members[m].currency);
        }
        if s.members[0] == s.members[1] {
            return Err(cx.err(&["members"], "the two members must differ"));
        }
        if ccys[0] == ccys[1] {
            return Err(cx.err(
                &["members"],
                "the two members share a currency: a swap line between them converts nothing",
            ));
        }
        let codes = [
            cx.currencies.code(ccys[0]).to_string(),
            cx.currencies.code(ccys[1]).to_string(),
        ];
        if let Some(other) = s.limit.keys().find(|k| !codes.contains(k)) {
            return Err(cx.err(
                &["limit", other],
                format!(
                    "the line's limits are in {} and {}; \"{other}\" is neither",
                    codes[0], codes[1]
                ),
            ));
        }
        let mut limit = [Decimal::ZERO; 2];
        for (k, code) in codes.iter().enumerate() {
            let n = s.limit.get(code).ok_or_else(|| {
                cx.err(
                    &["limit"],
                    format!(
                        "give the limit in {code}, e.g. limit = {{ {} = ..., {} = ... }}",
                        codes[0], codes[1]
                    ),
                )
            })?;
            let x = v.decimal(cx.path(&["limit", code]), n)?;
            if x <= Decimal::ZERO {
                return Err(cx.err(&["limit", code], format!("must be positive, got {x}")));
            }
            if let Some(id) = cx.currencies.id(code)
                && cx.currencies.round(id, x) != x
            {
                return Err(cx.err(
                    &["limit", code],
                    format!(
                        "{x} is finer than {code}'s minor unit ({} decimals)",
                        cx.currencies.minor_units(id)
                    ),
                ));
            }
            limit[k] = x;
        }
        let rate = match &s.rate {
            None => LineRate::Fixed(limit[1] / limit[0]),
            Some(Num::Text(t)) if t.trim() == "spot" => LineRate::Spot,
            Some(n) => {
                let shown = match n {
                    Num::Text(t) => format!("\"{t}\""),
                    Num::Int(i) => i.to_string(),
                    Num::Float(f) => f.to_string(),
                };
                let r = v.decimal(p("rate"), n).map_err(|_| {
                    cx.err(
                        &["rate"],
                        format!(
                            "expected {} per {} (a positive number) or \"spot\", got {shown}",
                            codes[1], codes[0]
                        ),
                    )
                })?;
                if r <= Decimal::ZERO {
                    return Err(cx.err(&["rate"], format!("must be positive, got {r}")));
                }
                LineRate::Fixed(r)
            }
        };
        let tenor_days = v.positive(p("tenor_days"), s.tenor_days)?;
        let cost_pa = match &s.cost_pa {
            None => None,
            Some(n) => {
                let c = v.decimal(p("cost_pa"), n)?;
                if c < Decimal::ZERO {
                    return Err(cx.err(&["cost_pa"], format!("must not be negative, got {c}")));
                }
                Some(c)
            }
        };
        let margin_bps = cx.half_spread(&["margin_bps"], s.margin_bps)?;
        let beyond = match s.beyond_limit.as_deref() {
            None | Some("market") => Beyond::Market,
            Some("fallback") => Beyond::Fallback,
            Some(other) => {
                return Err(cx.err(
                    &["beyond_limit"],
                    format!("expected \"market\" or \"fallback\", got \"{other}\""),
                ));
            }
        };
        Ok(Params {
            members: [s.members[0].clone(), s.members[1].clone()],
            limit,
            rate,
            tenor_s: (tenor_days * DAY_S as f64).round() as Time,
            cost_pa,
            margin: crate::fx::quote::bps_to_fraction(margin_bps),
            margin_bps,
            beyond,
            fee: v.fee(p("fee"), &s.fee)?,
            processing_min: v.delay(p("processing_min"), &s.processing_min)?,
            payer_pays_interest: match s.interest_borne_by.as_deref() {
                Some("payer") => true,
                Some("central_bank") => false,
                Some(other) => {
                    return Err(cx.err(
                        &["interest_borne_by"],
                        format!("expected \"payer\" or \"central_bank\", got \"{other}\""),
                    ));
                }
                None => {
                    return Err(cx.err(
                        &["interest_borne_by"],
                        "say who pays the interest on the draws: \"payer\" (the importer, through \
                         its bank) or \"central_bank\" (a policy cost)",
                    ));
                }
            },
        })
    }

    /// The line serves its two members, in either direction.
    pub fn serves(&self, exporter: &str, importer: &str) -> bool {
        let [a, b] = &self.members;
        (exporter == a && importer == b) || (exporter == b && importer == a)
    }
}

/// One draw still outstanding: the payment that drew it, what of it is not yet repaid (in the
/// drawn side's currency), since when, and USD per unit at the moment of the draw.
#[derive(Debug, Clone)]
struct Draw {
    payment: u64,
    amount: Decimal,
    since: Time,
    usd_per_unit: Decimal,
}

/// Run-time state: the two central banks' sides of the line and the draws outstanding on it.
#[derive(Debug)]
pub struct SwapLine {
    p: Params,
    /// Member index of each side.
    member: [usize; 2],
    ccy: [CurrencyId; 2],
    /// Each central bank's undrawn capacity in its own currency: issued at the limit, prefunded
    /// (the ledger refuses to take it below zero). Drawn = limit − balance.
    cb: [AccountId; 2],
    /// The interest each side's importers paid (in their currency), owed to the lending
    /// central bank.
    interest: [AccountId; 2],
    /// Annual interest rate on what is drawn of each side's currency.
    cost_pa: [Decimal; 2],
    /// Draws end here; a draw never repaid runs to here.
    expiry: Time,
    /// Each side's draws not yet repaid, oldest first.
    outstanding: [std::collections::VecDeque<Draw>; 2],
    /// Interest each payment's draw has run up so far (and, once the run ends, in all), USD.
    interest_usd: BTreeMap<u64, f64>,
    /// The first pass's interest per payment (the second pass charges it).
    owed: Option<crate::rails::Deferred>,
}

const STAGE_PROCESS: u8 = 0;
const STAGE_SETTLE: u8 = 1;

/// A rate written as a decimal number: the scenario's floats, exactly as written.
fn rate_from_f64(x: f64) -> Decimal {
    x.to_string().parse().unwrap_or(Decimal::ZERO)
}

impl SwapLine {
    /// Opens the two central banks' sides of the line, each issued at its limit.
    pub fn new(p: Params, setup: &Setup, ledger: &mut Ledger) -> Result<Self> {
        let (index, world) = (setup.index, setup.world);
        let find = |code: &str| {
            world
                .members
                .iter()
                .position(|m| m.code == code)
                .ok_or_else(|| Error::Invariant(format!("swap line: no member {code}")))
        };
        let member = [find(&p.members[0])?, find(&p.members[1])?];
        let ccy = member.map(|m| world.members[m].currency);
        let mut cb = [AccountId(0); 2];
        let mut interest = [AccountId(0); 2];
        for k in 0..2 {
            let (code, c) = (&p.members[k], world.currencies.code(ccy[k]));
            cb[k] = ledger.open(&format!("rail{index}:cb:{code}:{c}"), ccy[k], true);
            ledger.issue(cb[k], p.limit[k]);
            interest[k] = ledger.open(&format!("rail{index}:interest:{code}:{c}"), ccy[k], false);
        }
        let cost_pa = ccy.map(|c| {
            p.cost_pa
                .unwrap_or_else(|| rate_from_f64(world.liquidity_cost_pa[c.index()]))
        });
        let expiry = p.tenor_s;
        Ok(Self {
            p,
            member,
            ccy,
            cb,
            interest,
            cost_pa,
            expiry,
            outstanding: Default::default(),
            interest_usd: BTreeMap::new(),
            owed: setup.learned.map(|l| l.deferred.clone()),
        })
    }

    /// What is drawn of side `k`'s currency now: negative when the other side has drawn more
    /// (the draws net out).
    fn drawn(&self, ledger: &Ledger, k: usize) -> Decimal {
        self.p.limit[k] - ledger.balance(self.cb[k])
    }

    /// The interest on the payment's draw, as the first pass found it (its draw repaid by
    /// later payments the other way, or running to the line's expiry), charged to the importer
    /// (side `i`) in its own currency when the scenario says the payer bears it.
    fn charge_interest(&mut self, ctx: &mut Ctx, p: &mut Payment, i: usize) -> Result<()> {
        let w = ctx.world;
        let ci = self.ccy[i];
        let owed_usd = self
            .owed
            .as_ref()
            .and_then(|o| o.get(&p.id))
            .copied()
            .unwrap_or(0.0);
        let usd = crate::money::minor_from_f64(owed_usd, 6);
        let fee = w.currencies.round(ci, usd * w.fx.mid(ci, ctx.now));
        if fee > Decimal::ZERO {
            p.charge_importer(ctx, self.interest[i], fee)?;
        }
        Ok(())
    }

    /// Interest on `amount` of a draw, from its start to `until`, USD.
    fn interest_on(&self, k: usize, d: &Draw, amount: Decimal, until: Time) -> f64 {
        let years = (until - d.since).max(0) as f64 / YEAR_S as f64;
        crate::money::to_f64(amount * d.usd_per_unit * self.cost_pa[k]) * years
    }

    /// `amount` of side `k`'s currency is paid into the line at `now`: it repays that side's
    /// oldest draws first, each repaid part's interest running until now.
    fn repay(&mut self, k: usize, mut amount: Decimal, now: Time) {
        while amount > Decimal::ZERO {
            let Some(d) = self.outstanding[k].front().cloned() else {
                break;
            };
            let part = amount.min(d.amount);
            let interest = self.interest_on(k, &d, part, now);
            *self.interest_usd.entry(d.payment).or_default() += interest;
            amount -= part;
            let front = self.outstanding[k].front_mut().expect("a draw");
            front.amount -= part;
            if front.amount.is_zero() {
                self.outstanding[k].pop_front();
            }
        }
    }

    /// Units of `to` per unit of `from` at the line's rate, as (numerator, denominator), so
    /// that amounts are computed with one division.
    fn line_price(&self, world: &World, from: usize, now: Time) -> (Decimal, Decimal) {
        match self.p.rate {
            // The rate is side 1 per side 0.
            LineRate::Fixed(r) if from == 0 => (r, Decimal::ONE),
            LineRate::Fixed(r) => (Decimal::ONE, r),
            LineRate::Spot => (
                world.fx.mid(self.ccy[1 - from], now),
                world.fx.mid(self.ccy[from], now),
            ),
        }
    }

    /// Draws `amount` of side `k`'s currency from the line into `to`; checks, before and after,
    /// that the drawn amount stays within the limit.
    fn draw(&mut self, ctx: &mut Ctx, k: usize, to: AccountId, amount: Decimal) -> Result<()> {
        if ctx.ledger.balance(self.cb[k]) < amount {
            return Err(Error::Invariant(format!(
                "swap line: a draw of {amount} would exceed the limit ({} drawn of {})",
                self.drawn(ctx.ledger, k),
                self.p.limit[k]
            )));
        }
        ctx.post(self.cb[k], to, amount)?;
        let drawn = self.drawn(ctx.ledger, k);
        if drawn > self.p.limit[k] {
            return Err(Error::Invariant(format!(
                "swap line: drawn {drawn} exceeds the limit {}",
                self.p.limit[k]
            )));
        }
        Ok(())
    }
}

impl RailKind for SwapLine {
    /// Long because: the settlement stage prices the draw at the line's rate less the bank's
    /// margin (widened by any spread shock) and books both legs in one place.
    fn step(&mut self, ctx: &mut Ctx, _slot: u32, p: &mut Payment) -> Result<Next> {
        let w = ctx.world;
        let importer = &w.members[p.importer];
        let exporter = &w.members[p.exporter];
        match p.stage {
            STAGE_PROCESS => {
                let work = self.p.processing_min.draw_min_s(&mut p.rng);
                p.hops = 1;
                p.stage = STAGE_SETTLE;
                // A draw moves money through both central banks' RTGS: both must be open.
                let t = importer
                    .calendar
                    .process(ctx.now, work)
                    .and_then(|t| next_joint_open(&importer.calendar, &exporter.calendar, t));
                Ok(Next::At(t.unwrap_or(Time::MAX)))
            }
            STAGE_SETTLE => {
                let (ci, ce, inv) = (importer.currency, exporter.currency, p.invoice_ccy);
                let i = if p.importer == self.member[0] { 0 } else { 1 };
                let e = 1 - i;
                if self.member[i] != p.importer || self.member[e] != p.exporter {
                    return Err(Error::Invariant(format!(
                        "swap line does not serve {}→{}",
                        importer.code, exporter.code
                    )));
                }
                // What the exporter is owed in its currency, or what the importer gives.
                let target = if inv == ci {
                    None
                } else if inv == ce {
                    Some(p.invoice_amount)
                } else {
                    // Invoiced in USD (or another currency): its value in the exporter's
                    // currency at today's mid.
                    Some(
                        w.currencies
                            .round(ce, p.invoice_amount * w.fx.cross_mid(inv, ce, ctx.now)),
                    )
                };
                let (num, den) = self.line_price(w, i, ctx.now);
                // A spread shock widens the bank's margin too (docs/model.md, "Shocks").
                let margin_bps = crate::fx::quote::capped_half_bps(
                    self.p.margin_bps * w.fx.spread_shock(ci, ce, ctx.now),
                );
                let client = Decimal::ONE - crate::fx::quote::bps_to_fraction(margin_bps);
                let (given, received) = match target {
                    None => (
                        p.invoice_amount,
                        w.currencies
                            .round(ce, p.invoice_amount * num * client / den),
                    ),
                    Some(k) => (w.currencies.round(ci, k * den / (num * client)), k),
                };
                let on_line = ctx.now < self.expiry && ctx.ledger.balance(self.cb[e]) >= received;
                let received = if on_line {
                    // The payer's bank pays the line's price into its own central bank's side
                    // and keeps its margin; the payee's central bank lends the payee's currency.
                    let to_line = w.currencies.round(ci, received * den / num);
                    // What the payee's side holds beyond its limit (paid in by earlier payments
                    // the other way) is lent first, and is no borrowing.
                    let surplus =
                        (ctx.ledger.balance(self.cb[e]) - self.p.limit[e]).max(Decimal::ZERO);
                    p.debit(ctx, importer.bank_home, given)?;
                    ctx.post(importer.bank_home, self.cb[i], to_line)?;
                    self.repay(i, to_line, ctx.now);
                    self.draw(ctx, e, exporter.bank_home, received)?;
                    let borrowed = received - received.min(surplus);
                    if borrowed > Decimal::ZERO {
                        self.outstanding[e].push_back(Draw {
                            payment: p.id,
                            amount: borrowed,
                            since: ctx.now,
                            usd_per_unit: w.fx.to_usd(ce, Decimal::ONE, ctx.now),
                        });
                    }
                    let mid = w.fx.cross_mid(ci, ce, ctx.now);
                    // The line's rate less the bank's margin (not the market's).
                    let rate = num * client / den;
                    p.account_conversion(
                        w,
                        &Conversion {
                            from: ci,
                            to: ce,
                            at: ctx.now,
                            given,
                            received,
                            received_at_mid: given * mid,
                            mid,
                            half_spread_bps: margin_bps,
                            rate,
                            at_rate: given * rate,
                            rounding_to: match target {
                                None => crate::fx::half_unit(&w.currencies, ce),
                                Some(_) => {
                                    crate::fx::half_unit(&w.currencies, ci) * num * client / den
                                }
                            },
                        },
                    );
                    received
                } else {
                    match self.p.beyond {
                        Beyond::Fallback => return Ok(Next::Fallback),
                        Beyond::Market => {
                            let conv = match target {
                                None => ctx.convert_from(ci, ce, p.invoice_amount, p.ticket_usd),
                                Some(k) => ctx.convert_to(ci, ce, k, p.ticket_usd),
                            };
                            p.debit(ctx, importer.bank_home, conv.given)?;
                            p.convert(ctx, &conv, importer.bank_home, exporter.bank_home)?;
                            conv.received
                        }
                    }
                };
                if on_line && self.p.payer_pays_interest {
                    self.charge_interest(ctx, p, i)?;
                }
                let credit = p.bearer_fee(ctx, &self.p.fee, received)?;
                p.settle(ctx, credit)?;
                Ok(Next::Done)
            }
            other => Err(Error::Invariant(format!(
                "swap_line: unknown stage {other}"
            ))),
        }
    }

    /// Every draw's interest: what repayments ran up, plus each draw still outstanding run to
    /// the line's expiry (the far leg of the swap).
    fn deferred_charges(&self) -> Option<crate::rails::Deferred> {
        let mut all = self.interest_usd.clone();
        for k in 0..2 {
            for d in &self.outstanding[k] {
                let until = self.expiry.max(d.since);
                *all.entry(d.payment).or_default() += self.interest_on(k, d, d.amount, until);
            }
        }
        Some(all)
    }

    fn add_stats(&self, stats: &mut crate::rails::LiquidityStats) {
        let total: f64 = self
            .deferred_charges()
            .unwrap_or_default()
            .values()
            .fold(0.0, |sum, x| sum + x);
        stats.line_interest_usd = total;
        stats.central_bank_cost_usd = if self.p.payer_pays_interest {
            0.0
        } else {
            total
        };
    }
}
