//! A central-bank currency swap line that funds a bilateral local-currency rail between two
//! members (the CBRT–NBK line: TRY 28 bn / KZT 423 bn, three years). The payer's bank draws the
//! payee's currency from the line for each payment, at the line's rate plus its own margin,
//! while the line has headroom and has not expired; draws in one direction are repaid by draws
//! in the other. Beyond the limit (or after expiry) a payment converts at the market quote or
//! goes to the route's fallback rail, as configured. Interest on the drawn amount accrues
//! exactly between draws; at each day's close it is charged, as a fee, to the day's payments
//! that drew that currency, by value (the borrower pays), so a payment on the line finishes at
//! the close of the day it was credited in.
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
        })
    }

    /// The line serves its two members, in either direction.
    pub fn serves(&self, exporter: &str, importer: &str) -> bool {
        let [a, b] = &self.members;
        (exporter == a && importer == b) || (exporter == b && importer == a)
    }
}

/// Run-time state: the two central banks' sides of the line and the interest owed on it.
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
    /// Draws end here.
    expiry: Time,
    /// Interest accrues until here: the end of trade or the expiry, whichever is first.
    accrual_end: Time,
    accrued_to: Time,
    /// Interest accrued on what is drawn of each side's currency and not yet charged, USD.
    pending_usd: [Decimal; 2],
    /// Payments credited since the last charge, waiting for their share: (slot, value_usd,
    /// the side whose currency they drew).
    awaiting: Vec<(u32, Decimal, usize)>,
    /// Each woken payment's share of the interest, USD, by slot.
    share_usd: BTreeMap<u32, Decimal>,
    /// The day close a timer is already set for.
    close_at: Option<Time>,
}

const STAGE_PROCESS: u8 = 0;
const STAGE_SETTLE: u8 = 1;
const STAGE_INTEREST: u8 = 2;

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
            accrual_end: expiry.min(world.trade_end),
            accrued_to: 0,
            pending_usd: [Decimal::ZERO; 2],
            awaiting: Vec::new(),
            share_usd: BTreeMap::new(),
            close_at: None,
        })
    }

    /// What is drawn of side `k`'s currency now: negative when the other side has drawn more
    /// (the draws net out).
    fn drawn(&self, ledger: &Ledger, k: usize) -> Decimal {
        self.p.limit[k] - ledger.balance(self.cb[k])
    }

    /// Accrues interest on the drawn amounts up to `now`. Call it before every draw.
    fn accrue(&mut self, world: &World, ledger: &Ledger, now: Time) {
        let t = now.min(self.accrual_end);
        if t <= self.accrued_to {
            return;
        }
        let dt = Decimal::from(t - self.accrued_to);
        for k in 0..2 {
            let drawn = self.drawn(ledger, k);
            if drawn > Decimal::ZERO && !self.cost_pa[k].is_zero() {
                let usd = world.fx.to_usd(self.ccy[k], drawn, t);
                self.pending_usd[k] += usd * self.cost_pa[k] * dt / Decimal::from(YEAR_S);
            }
        }
        self.accrued_to = t;
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

    /// Waits for the day's close, when the interest accrued on the line is shared out.
    fn await_interest(&mut self, ctx: &mut Ctx, slot: u32, p: &mut Payment, k: usize) -> Next {
        p.stage = STAGE_INTEREST;
        self.awaiting.push((slot, p.value_usd, k));
        // The close of the day the payment settled in (midnight UTC, as for carry).
        let close = (ctx.now + DAY_S - 1).div_euclid(DAY_S) * DAY_S;
        if self.close_at != Some(close) {
            self.close_at = Some(close);
            ctx.timers.push((close, 0));
        }
        Next::Park
    }
}

impl RailKind for SwapLine {
    fn step(&mut self, ctx: &mut Ctx, slot: u32, p: &mut Payment) -> Result<Next> {
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
                let client = Decimal::ONE - self.p.margin;
                let (given, received) = match target {
                    None => (
                        p.invoice_amount,
                        w.currencies
                            .round(ce, p.invoice_amount * num * client / den),
                    ),
                    Some(k) => (w.currencies.round(ci, k * den / (num * client)), k),
                };
                self.accrue(w, ctx.ledger, ctx.now);
                let on_line = ctx.now < self.expiry && ctx.ledger.balance(self.cb[e]) >= received;
                let received = if on_line {
                    // The payer's bank pays the line's price into its own central bank's side
                    // and keeps its margin; the payee's central bank lends the payee's currency.
                    let to_line = w.currencies.round(ci, received * den / num);
                    p.debit(ctx, importer.bank_home, given)?;
                    ctx.post(importer.bank_home, self.cb[i], to_line)?;
                    self.draw(ctx, e, exporter.bank_home, received)?;
                    let mid = w.fx.cross_mid(ci, ce, ctx.now);
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
                            half_spread_bps: self.p.margin_bps,
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
                let credit = p.bearer_fee(ctx, &self.p.fee, received)?;
                p.settle(ctx, credit)?;
                // The interest on a currency is shared by the payments that drew it (the
                // borrowers); a payment converted at the market did not use the line.
                if on_line
                    && !self.cost_pa[e].is_zero()
                    && (ctx.now < self.accrual_end || !self.pending_usd[e].is_zero())
                {
                    return Ok(self.await_interest(ctx, slot, p, e));
                }
                Ok(Next::Done)
            }
            STAGE_INTEREST => {
                // The payment's share of the interest on the line, charged to the importer in
                // its own currency at today's mid.
                let share = self.share_usd.remove(&slot).unwrap_or_default();
                let ci = importer.currency;
                let k = if p.importer == self.member[0] { 0 } else { 1 };
                let fee = w.currencies.round(ci, share * w.fx.mid(ci, ctx.now));
                if fee > Decimal::ZERO {
                    p.charge_importer(ctx, self.interest[k], fee)?;
                }
                Ok(Next::Done)
            }
            other => Err(Error::Invariant(format!(
                "swap_line: unknown stage {other}"
            ))),
        }
    }

    /// The day's close: the interest accrued on each currency since the last close goes to the
    /// payments that drew that currency since then, by value; with none, it waits for the next
    /// close that has some.
    fn timer(&mut self, ctx: &mut Ctx, _token: u32) -> Result<()> {
        self.close_at = None;
        self.accrue(ctx.world, ctx.ledger, ctx.now);
        for k in 0..2 {
            let value: Decimal = self.awaiting.iter().filter(|a| a.2 == k).map(|a| a.1).sum();
            // With no payment that drew this currency, its interest waits for the next close.
            if value.is_zero() {
                continue;
            }
            let pending = std::mem::take(&mut self.pending_usd[k]);
            for &(slot, v, _) in self.awaiting.iter().filter(|a| a.2 == k) {
                self.share_usd.insert(slot, pending * v / value);
            }
        }
        for (slot, _, _) in self.awaiting.drain(..) {
            ctx.wake.push(slot);
        }
        Ok(())
    }
}
