//! The US-dollar baseline: a chain of correspondent banks. The payer's bank converts to the
//! settlement currency, one or more intermediaries (New York hours and holidays) pass it on,
//! each taking a fee unless the payer pays everything (OUR), and the payee's bank converts to
//! the exporter's currency. Compliance holds delay, returns send the money back.

use rand::RngExt;
use rust_decimal::Decimal;

use chrono::Weekday;
use serde::{Deserialize, Serialize};

use super::{Ctx, Next, Payment, RailContext, RailKind, Setup};
use crate::calendar::{Calendar, CalendarSpec};
use crate::engine::{HOUR_S, Time};
use crate::input::{Choice, DelaySection, FeeSection};
use crate::ledger::{AccountId, Ledger};
use crate::money::CurrencyId;
use crate::terms::{Bearer, Delay, Discrete, FeeSchedule, Status};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HopCalendar {
    pub time_zone: String,
    pub open: String,
    pub cutoff: String,
    pub holidays: Option<String>,
    pub weekend: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub name: String,
    /// Currency the chain settles in (default USD).
    pub settlement_currency: Option<String>,
    /// Number of intermediary banks between originator and beneficiary bank.
    pub intermediaries: Choice,
    /// Where the intermediaries work (default: Fedwire's day in New York, US holidays).
    pub hop_calendar: Option<HopCalendar>,
    /// Working minutes each bank spends on the payment.
    pub processing_min: DelaySection,
    #[serde(default)]
    pub originator_fee: FeeSection,
    #[serde(default)]
    pub intermediary_fee: FeeSection,
    #[serde(default)]
    pub beneficiary_fee: FeeSection,
    /// Surcharge for OUR (the originator guarantees the full amount arrives).
    #[serde(default)]
    pub our_fee: FeeSection,
    #[serde(default)]
    pub hold_probability: f64,
    /// Working hours a compliance hold adds.
    pub hold_h: Option<DelaySection>,
    #[serde(default)]
    pub return_probability: f64,
    /// Local hours in which the payee's bank credits its client, on the payee's business days
    /// (default: the payee's RTGS window). A bank credits its own client from its dollar nostro
    /// in its own books, which stay open past the domestic RTGS cut-off.
    pub beneficiary_hours: Option<Vec<String>>,
}

/// Validated parameters.
#[derive(Debug, Clone)]
pub struct Params {
    pub settlement_ccy: CurrencyId,
    /// Intermediary banks between the payer's and the payee's bank.
    pub intermediaries: Discrete<u8>,
    pub hop_calendar: CalendarSpec,
    /// Working minutes each bank spends on the payment.
    pub processing_min: Delay,
    pub originator_fee: FeeSchedule,
    pub intermediary_fee: FeeSchedule,
    pub beneficiary_fee: FeeSchedule,
    pub our_fee: FeeSchedule,
    pub hold_probability: f64,
    /// Working hours a compliance hold adds at the payee's bank.
    pub hold_h: Delay,
    pub return_probability: f64,
    /// The payee's bank's crediting hours (local minutes), None: the payee's RTGS window.
    pub beneficiary_hours_min: Option<(u32, u32)>,
}

/// No run-dependent warnings for this kind.
impl super::RailWarnings for Params {}

impl Params {
    /// Checks a `[[rail]]` table of kind `correspondent`.
    pub fn from_section(c: &Section, cx: &RailContext) -> Result<Params> {
        let v = cx.check;
        let p = |key: &str| cx.path(&[key]);
        let name = &c.name;
        let settlement_ccy = match &c.settlement_currency {
            None => CurrencyId::USD,
            Some(code) => cx.currencies.id(code).ok_or_else(|| {
                v.err(
                    p("settlement_currency"),
                    format!("unknown currency \"{code}\""),
                )
            })?,
        };
        let (values, cumulative) = v.choice(p("intermediaries"), &c.intermediaries)?;
        let values = values
            .iter()
            .map(|&x| {
                if x.fract() != 0.0 || !(0.0..=8.0).contains(&x) {
                    Err(v.err(
                        cx.path(&["intermediaries", "values"]),
                        format!("must be whole numbers from 0 to 8, got {x}"),
                    ))
                } else {
                    Ok(x as u8)
                }
            })
            .collect::<Result<Vec<u8>>>()?;
        let hop_calendar = match &c.hop_calendar {
            None => CalendarSpec {
                name: "US".into(),
                time_zone: chrono_tz::America::New_York,
                // Fedwire Funds: 21:00 ET the evening before to the 18:00 ET customer
                // deadline (docs/calibration.md §6.1).
                open_min: 21 * 60,
                cutoff_min: 18 * 60,
                half_day_cutoff_min: 18 * 60,
                weekend: vec![Weekday::Sat, Weekday::Sun],
                holidays: Some("US".into()),
                extra_closed: Vec::new(),
                extra_half: Vec::new(),
                open_previous_evening: true,
            },
            Some(h) => {
                let hp = |key: &str| cx.path(&["hop_calendar", key]);
                let open_min = v.hhmm(hp("open"), &h.open)?;
                let cutoff_min = v.hhmm(hp("cutoff"), &h.cutoff)?;
                // An opening after the cut-off means "the evening before" (Fedwire).
                let open_previous_evening = open_min > cutoff_min;
                if cutoff_min == open_min {
                    return Err(v.err(hp("cutoff"), "the cut-off must differ from the opening"));
                }
                CalendarSpec {
                    name: format!("{name} hops"),
                    time_zone: v.time_zone(hp("time_zone"), &h.time_zone)?,
                    open_min,
                    cutoff_min,
                    half_day_cutoff_min: cutoff_min,
                    weekend: v.weekend(hp("weekend"), &h.weekend)?,
                    holidays: v.holidays(hp("holidays"), &h.holidays, "none")?,
                    extra_closed: Vec::new(),
                    extra_half: Vec::new(),
                    open_previous_evening,
                }
            }
        };
        let hold_probability = v.probability(p("hold_probability"), c.hold_probability)?;
        let hold_h = match &c.hold_h {
            Some(d) => v.delay(p("hold_h"), d)?,
            None if hold_probability > 0.0 => {
                return Err(v.err(p("hold_h"), "is required when hold_probability is above 0"));
            }
            None => Delay::fixed(0.0),
        };
        Ok(Params {
            settlement_ccy,
            intermediaries: Discrete { values, cumulative },
            hop_calendar,
            processing_min: v.delay(p("processing_min"), &c.processing_min)?,
            originator_fee: v.fee(p("originator_fee"), &c.originator_fee)?,
            intermediary_fee: v.fee(p("intermediary_fee"), &c.intermediary_fee)?,
            beneficiary_fee: v.fee(p("beneficiary_fee"), &c.beneficiary_fee)?,
            our_fee: v.fee(p("our_fee"), &c.our_fee)?,
            hold_probability,
            hold_h,
            return_probability: v.probability(p("return_probability"), c.return_probability)?,
            beneficiary_hours_min: match &c.beneficiary_hours {
                None => None,
                Some(h) => {
                    if h.len() != 2 {
                        return Err(cx.err(
                            &["beneficiary_hours"],
                            "expected two local times [open, close], e.g. [\"09:00\", \"18:00\"]",
                        ));
                    }
                    let at = |j: usize| {
                        let mut path = p("beneficiary_hours");
                        path.push(crate::input::Seg::Index(j));
                        path
                    };
                    let (a, b) = (v.hhmm(at(0), &h[0])?, v.hhmm(at(1), &h[1])?);
                    if b <= a {
                        return Err(v.err(at(1), "must be after the opening time"));
                    }
                    Some((a, b))
                }
            },
        })
    }

    /// A dollar chain reaches every corridor.
    pub fn serves(&self, _exporter: &str, _importer: &str) -> bool {
        true
    }
}

/// Run-time state: the intermediaries' calendar and the settlement-currency accounts.
#[derive(Debug)]
pub struct Correspondent {
    p: Params,
    hop_calendar: Calendar,
    /// Each member's banks' settlement-currency book and fee account.
    bank_settle: Vec<AccountId>,
    fees_settle: Vec<AccountId>,
    /// The intermediaries' pooled account and their fee income.
    chain: AccountId,
    chain_fees: AccountId,
    /// Each member's banks' crediting hours, when they differ from its RTGS window.
    beneficiary_calendar: Vec<Option<Calendar>>,
    /// This rail's place in the scenario (what a derisking shock names).
    index: usize,
}

/// What derisking shocks on a rail add at `t`: (intermediaries, fee factor, hold probability).
fn derisking(world: &crate::world::World, rail: usize, t: Time) -> (u32, f64, f64) {
    world
        .shocks
        .iter()
        .filter(|s| s.active(t))
        .fold((0, 1.0, 0.0), |(n, f, h), s| match s.kind {
            crate::shock::Kind::Derisking {
                rail: r,
                extra_intermediaries,
                fee_factor,
                hold_probability_added,
            } if r == rail => (
                n + extra_intermediaries,
                f * fee_factor,
                h + hold_probability_added,
            ),
            _ => (n, f, h),
        })
}

const STAGE_ORIGINATE: u8 = 1;
const STAGE_HOP: u8 = 2;
const STAGE_BENEFICIARY: u8 = 3;
const STAGE_RETURNED: u8 = 4;

/// Where a calendar has no opening left in its precomputed range, the step never happens: the
/// payment stays in flight and is reported unsettled at the end.
fn when(t: Option<Time>) -> Next {
    Next::At(t.unwrap_or(Time::MAX))
}

impl Correspondent {
    pub fn new(p: Params, setup: &Setup, ledger: &mut Ledger) -> Result<Self> {
        let (index, world) = (setup.index, setup.world);
        let hop_calendar = Calendar::new(&p.hop_calendar, world.epoch, world.span_days)
            .map_err(|e| Error::Invariant(format!("hop calendar: {e}")))?;
        let s = p.settlement_ccy;
        let code = world.currencies.code(s).to_string();
        let bank_settle = world
            .members
            .iter()
            .map(|m| ledger.open(&format!("bank:{}:{code}", m.code), s, false))
            .collect();
        let fees_settle = world
            .members
            .iter()
            .map(|m| ledger.open(&format!("fees:{}:{code}", m.code), s, false))
            .collect();
        let chain = ledger.open(&format!("rail{index}:correspondents:{code}"), s, false);
        let chain_fees = ledger.open(&format!("rail{index}:correspondents-fees:{code}"), s, false);
        let beneficiary_calendar = match p.beneficiary_hours_min {
            None => world.members.iter().map(|_| None).collect(),
            Some((open_min, cutoff_min)) => world
                .members
                .iter()
                .map(|m| {
                    let mut spec = m.calendar.spec().clone();
                    spec.open_min = open_min;
                    spec.cutoff_min = cutoff_min;
                    spec.half_day_cutoff_min = spec.half_day_cutoff_min.min(cutoff_min);
                    Calendar::new(&spec, world.epoch, world.span_days)
                        .map(Some)
                        .map_err(|e| Error::Invariant(format!("beneficiary calendar: {e}")))
                })
                .collect::<Result<_>>()?,
        };
        Ok(Self {
            p,
            hop_calendar,
            bank_settle,
            fees_settle,
            chain,
            chain_fees,
            beneficiary_calendar,
            index: setup.index,
        })
    }

    /// A fee in `ccy` at `now`, raised by any derisking shock on the rail.
    fn derisked(&self, ctx: &Ctx, ccy: CurrencyId, fee: Decimal) -> Decimal {
        let (_, factor, _) = derisking(ctx.world, self.index, ctx.now);
        if factor == 1.0 {
            return fee;
        }
        let f = Decimal::try_from(factor).unwrap_or(Decimal::ONE);
        ctx.world.currencies.round(ccy, fee * f)
    }

    /// Sends the payment to the payee's bank, which may hold it for a compliance check.
    fn to_beneficiary(&self, ctx: &mut Ctx, p: &mut Payment) -> Result<Next> {
        p.stage = STAGE_BENEFICIARY;
        let mut work = self.work(p);
        let hold = self.p.hold_probability + derisking(ctx.world, self.index, ctx.now).2;
        if hold > 0.0 && p.rng.random::<f64>() < hold {
            work += crate::money::round_f64(self.p.hold_h.draw(&mut p.rng) * HOUR_S as f64) as Time;
        }
        let calendar = self.beneficiary_calendar[p.exporter]
            .as_ref()
            .unwrap_or(&ctx.world.members[p.exporter].calendar);
        Ok(when(calendar.process(ctx.now, work)))
    }

    /// The payer's bank converts (or not) into the settlement currency, debits the payer and
    /// charges the originator's fees; the payment enters the chain or goes straight across.
    fn originate(&mut self, ctx: &mut Ctx, p: &mut Payment) -> Result<Next> {
        let w = ctx.world;
        let importer = &w.members[p.importer];
        let s = self.p.settlement_ccy;
        let (ci, inv) = (importer.currency, p.invoice_ccy);
        let conv = if inv == ci {
            ctx.convert_from(ci, s, p.invoice_amount, p.ticket_usd)
        } else if inv == s {
            ctx.convert_to(ci, s, p.invoice_amount, p.ticket_usd)
        } else {
            // Invoiced in a third currency (the exporter's): send what buys the invoice
            // amount at today's payee-side quote; the payee converts it later.
            let need = w.fx.convert_to(
                &w.currencies,
                s,
                inv,
                p.invoice_amount,
                ctx.now,
                p.ticket_usd,
            );
            ctx.convert_to(ci, s, need.given, p.ticket_usd)
        };
        p.debit(ctx, importer.bank_home, conv.given)?;
        let settle = self.bank_settle[p.importer];
        p.convert(ctx, &conv, importer.bank_home, settle)?;
        p.amount = conv.received;
        p.ccy = s;
        match p.bearer {
            Bearer::Our | Bearer::Sha => {
                let mut fee = self.p.originator_fee.in_currency(
                    &w.fx,
                    &w.currencies,
                    ci,
                    p.value_usd,
                    ctx.now,
                );
                if p.bearer == Bearer::Our {
                    // OUR: the payer covers the whole chain. Its bank charges the guaranteed-OUR
                    // surcharge plus every fee the chain would otherwise deduct (each
                    // intermediary's and the beneficiary bank's), collects them and settles with
                    // the chain outside the payment, which then arrives in full. So OUR costs
                    // SHA's fees plus the surcharge (docs/calibration.md §3.2).
                    let in_ci = |f: &FeeSchedule| {
                        f.in_currency(&w.fx, &w.currencies, ci, p.value_usd, ctx.now)
                    };
                    fee += in_ci(&self.p.our_fee) + in_ci(&self.p.beneficiary_fee);
                    for _ in 1..p.hops {
                        fee += in_ci(&self.p.intermediary_fee);
                    }
                }
                let fee = self.derisked(ctx, ci, fee);
                p.charge_importer(ctx, importer.fees_home, fee)?;
            }
            Bearer::Ben => {
                let to = self.fees_settle[p.importer];
                self.deduct(ctx, p, &self.p.originator_fee, settle, to)?;
            }
        }
        if p.hops > 1 {
            ctx.post(settle, self.chain, p.amount)?;
            p.stage = STAGE_HOP;
            let work = self.work(p);
            Ok(when(self.hop_calendar.process(ctx.now, work)))
        } else {
            ctx.post(settle, self.bank_settle[p.exporter], p.amount)?;
            self.to_beneficiary(ctx, p)
        }
    }

    /// One intermediary passes the payment on, taking its fee unless the payer pays all (OUR).
    fn hop(&mut self, ctx: &mut Ctx, p: &mut Payment) -> Result<Next> {
        if p.bearer != Bearer::Our {
            self.deduct(
                ctx,
                p,
                &self.p.intermediary_fee,
                self.chain,
                self.chain_fees,
            )?;
        }
        p.hop += 1;
        if p.hop + 1 < p.hops {
            let work = self.work(p);
            Ok(when(self.hop_calendar.process(ctx.now, work)))
        } else {
            ctx.post(self.chain, self.bank_settle[p.exporter], p.amount)?;
            self.to_beneficiary(ctx, p)
        }
    }

    /// The payee's bank takes its fee and credits the payee in their currency, or rejects the
    /// payment back down the chain.
    fn beneficiary(&mut self, ctx: &mut Ctx, p: &mut Payment) -> Result<Next> {
        let w = ctx.world;
        let importer = &w.members[p.importer];
        let settle = self.bank_settle[p.exporter];
        if p.flag {
            // Rejected: the principal goes back down the chain to the payer's bank.
            ctx.post(settle, self.bank_settle[p.importer], p.amount)?;
            p.stage = STAGE_RETURNED;
            let back = self.work(p);
            let at_hub = self.hop_calendar.process(ctx.now, back);
            let work = self.work(p);
            return Ok(when(
                at_hub.and_then(|t| importer.calendar.process(t, work)),
            ));
        }
        if p.bearer != Bearer::Our {
            let to = self.fees_settle[p.exporter];
            self.deduct(ctx, p, &self.p.beneficiary_fee, settle, to)?;
        }
        self.credit(ctx, p, p.exporter, Status::Settled)
    }

    /// A rejected payment reaches the payer's bank, which converts it back and credits the payer.
    fn returned(&mut self, ctx: &mut Ctx, p: &mut Payment) -> Result<Next> {
        self.credit(ctx, p, p.importer, Status::Returned)
    }

    /// The last step either way: the principal, at `member`'s bank in the settlement currency,
    /// is converted into `member`'s currency and credited to its client (the exporter when
    /// settled, the importer when returned).
    fn credit(
        &mut self,
        ctx: &mut Ctx,
        p: &mut Payment,
        member: usize,
        status: Status,
    ) -> Result<Next> {
        let m = &ctx.world.members[member];
        let settle = self.bank_settle[member];
        let conv = ctx.convert_from(self.p.settlement_ccy, m.currency, p.amount, p.ticket_usd);
        p.convert(ctx, &conv, settle, m.bank_home)?;
        p.credit_client(ctx, member, conv.received, status)?;
        Ok(Next::Done)
    }

    /// A bank on the way takes its fee (in the settlement currency, at most what is left) out
    /// of the principal: booked from `from` to its fee account `to`.
    fn deduct(
        &self,
        ctx: &mut Ctx,
        p: &mut Payment,
        schedule: &FeeSchedule,
        from: AccountId,
        to: AccountId,
    ) -> Result<()> {
        let w = ctx.world;
        let fee = schedule.in_currency(
            &w.fx,
            &w.currencies,
            self.p.settlement_ccy,
            p.value_usd,
            ctx.now,
        );
        let fee = self.derisked(ctx, self.p.settlement_ccy, fee).min(p.amount);
        p.fee(ctx, from, to, fee)?;
        p.amount -= fee;
        Ok(())
    }

    fn work(&self, p: &mut Payment) -> Time {
        self.p.processing_min.draw_min_s(&mut p.rng)
    }
}

impl RailKind for Correspondent {
    fn step(&mut self, ctx: &mut Ctx, _slot: u32, p: &mut Payment) -> Result<Next> {
        let w = ctx.world;
        let importer = &w.members[p.importer];
        match p.stage {
            0 => {
                // Draws in a fixed order so a payment's path depends only on its own stream.
                let work = self.work(p);
                let extra = derisking(w, self.index, ctx.now).0;
                p.hops = (self.p.intermediaries.draw_unless_fixed(&mut p.rng) as u32 + 1 + extra)
                    .min(u8::MAX as u32) as u8;
                p.flag = p.rng.random::<f64>() < self.p.return_probability;
                p.stage = STAGE_ORIGINATE;
                Ok(when(importer.calendar.process(ctx.now, work)))
            }
            STAGE_ORIGINATE => self.originate(ctx, p),
            STAGE_HOP => self.hop(ctx, p),
            STAGE_BENEFICIARY => self.beneficiary(ctx, p),
            STAGE_RETURNED => self.returned(ctx, p),
            other => Err(Error::Invariant(format!(
                "correspondent: unknown stage {other}"
            ))),
        }
    }
}
