//! Bilateral local-currency accounts: the payer's bank holds a prefunded nostro in the payee's
//! currency at a bank in the payee's country. One conversion at the direct cross quote, one hop
//! that needs both RTGS systems open, and a top-up policy that refills the nostro — whose idle
//! balance costs carry.

use std::collections::VecDeque;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::{Bearer, Ctx, Delay, FeeSchedule, LiquidityStats, Next, Payment, Status};
use crate::calendar::next_joint_open;
use crate::engine::{Time, YEAR_S};
use crate::ledger::{AccountId, Ledger};
use crate::money::CurrencyId;
use crate::world::World;
use crate::{Error, Result};

/// What a payment does when the nostro cannot cover it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnShort {
    /// Wait for the next top-up.
    Wait,
    /// Go to the route's fallback rail.
    Fallback,
}

/// Validated parameters.
#[derive(Debug, Clone)]
pub struct Params {
    /// Member pairs served (either direction); None = every pair.
    pub pairs: Option<Vec<(String, String)>>,
    pub fee: FeeSchedule,
    pub processing_min: Delay,
    /// Nostro target in days of the corridor's expected flow.
    pub nostro_days: f64,
    /// A floor under every nostro's target, USD (a minimum working balance).
    pub nostro_min_usd: f64,
    /// Top up when the balance falls below this fraction of the target.
    pub topup_threshold: f64,
    pub topup_min: Delay,
    pub on_short: OnShort,
}

impl Params {
    pub fn serves(&self, exporter: &str, importer: &str) -> bool {
        match &self.pairs {
            None => exporter != importer,
            Some(pairs) => pairs
                .iter()
                .any(|(a, b)| (a == exporter && b == importer) || (a == importer && b == exporter)),
        }
    }
}

/// One nostro: the importer-side bank's balance in the exporter's currency.
#[derive(Debug)]
struct Nostro {
    importer: usize,
    exporter: usize,
    ccy: CurrencyId,
    account: AccountId,
    target: Decimal,
    waiting: VecDeque<(u32, Decimal)>,
    topup_pending: bool,
    /// Carry accrual: last instant accrued and carry (USD) not yet handed out.
    last_t: Time,
    carry_usd: f64,
}

#[derive(Debug)]
pub struct Bilateral {
    p: Params,
    n_members: usize,
    nostro_of: Vec<Option<usize>>,
    nostros: Vec<Nostro>,
    carry_total_usd: f64,
    samples: u64,
    sum_usd: f64,
    peak_usd: f64,
}

fn post(ledger: &mut Ledger, from: AccountId, to: AccountId, amount: Decimal) -> Result<()> {
    ledger
        .post(from, to, amount)
        .map_err(|e| Error::Invariant(e.to_string()))
}

fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

impl Bilateral {
    /// Opens a nostro for every member pair the rail serves, funded at the start with its
    /// target: `nostro_days` of the annual value routed to this rail for the pair.
    pub fn new(
        p: Params,
        index: usize,
        world: &World,
        ledger: &mut Ledger,
        expected_flow_usd: &[Vec<f64>],
    ) -> Result<Self> {
        let n = world.members.len();
        let mut nostro_of = vec![None; n * n];
        let mut nostros = Vec::new();
        for (i, mi) in world.members.iter().enumerate() {
            for (e, me) in world.members.iter().enumerate() {
                if i == e || !p.serves(&me.code, &mi.code) {
                    continue;
                }
                let ccy = me.currency;
                let account = ledger.open(
                    &format!(
                        "rail{index}:nostro:{}@{}:{}",
                        mi.code,
                        me.code,
                        world.currencies.code(ccy)
                    ),
                    ccy,
                    true,
                );
                let flow_usd = expected_flow_usd
                    .get(i)
                    .and_then(|r| r.get(e))
                    .copied()
                    .unwrap_or(0.0);
                let target_usd = (flow_usd / 365.0 * p.nostro_days).max(p.nostro_min_usd);
                let target = world.currencies.round(
                    ccy,
                    crate::money::minor_from_f64(target_usd, 2) * world.fx.mid(ccy, 0),
                );
                if !target.is_zero() {
                    ledger.issue(account, target);
                }
                nostro_of[i * n + e] = Some(nostros.len());
                nostros.push(Nostro {
                    importer: i,
                    exporter: e,
                    ccy,
                    account,
                    target,
                    waiting: VecDeque::new(),
                    topup_pending: false,
                    last_t: 0,
                    carry_usd: 0.0,
                });
            }
        }
        Ok(Self {
            p,
            n_members: n,
            nostro_of,
            nostros,
            carry_total_usd: 0.0,
            samples: 0,
            sum_usd: 0.0,
            peak_usd: 0.0,
        })
    }

    /// Adds the carry of nostro `k` from its last accrual to `now`.
    fn accrue(&mut self, world: &World, ledger: &Ledger, k: usize, now: Time) {
        let now = now.min(world.trade_end);
        let n = &mut self.nostros[k];
        if now > n.last_t {
            let bal_usd = to_f64(ledger.balance(n.account)) / to_f64(world.fx.mid(n.ccy, now));
            let rate = world.liquidity_cost_pa[n.ccy.index()];
            let carry = bal_usd * rate * (now - n.last_t) as f64 / YEAR_S as f64;
            n.carry_usd += carry;
            self.carry_total_usd += carry;
            n.last_t = now;
        }
    }

    pub fn step(&mut self, ctx: &mut Ctx, slot: u32, p: &mut Payment) -> Result<Next> {
        let w = ctx.world;
        let importer = &w.members[p.importer];
        let exporter = &w.members[p.exporter];
        match p.stage {
            0 => {
                let work = self.p.processing_min.draw_min_s(&mut p.rng);
                p.hops = 1;
                p.stage = 1;
                let t = importer
                    .calendar
                    .process(ctx.now, work)
                    .and_then(|t| next_joint_open(&importer.calendar, &exporter.calendar, t));
                Ok(Next::At(t.unwrap_or(Time::MAX)))
            }
            1 => {
                let (ci, ce, inv) = (importer.currency, exporter.currency, p.invoice_ccy);
                let conv = if inv == ci {
                    w.fx.convert_from(
                        &w.currencies,
                        ci,
                        ce,
                        p.invoice_amount,
                        ctx.now,
                        p.ticket_usd,
                    )
                } else {
                    let target = if inv == ce {
                        p.invoice_amount
                    } else {
                        // Invoiced in USD (or another currency): deliver its value in the
                        // exporter's currency at today's mid.
                        w.currencies
                            .round(ce, p.invoice_amount * w.fx.cross_mid(inv, ce, ctx.now))
                    };
                    w.fx.convert_to(&w.currencies, ci, ce, target, ctx.now, p.ticket_usd)
                };
                let k =
                    self.nostro_of[p.importer * self.n_members + p.exporter].ok_or_else(|| {
                        Error::Invariant(format!(
                            "bilateral rail has no nostro for {}→{}",
                            importer.code, exporter.code
                        ))
                    })?;
                let need = conv.received;
                let balance = ctx.ledger.balance(self.nostros[k].account);
                let queue_busy = !self.nostros[k].waiting.is_empty();
                if balance < need || queue_busy {
                    if self.p.on_short == OnShort::Fallback && balance < need {
                        self.request_topup(ctx, k);
                        return Ok(Next::Fallback);
                    }
                    if self.p.on_short == OnShort::Wait {
                        self.nostros[k].waiting.push_back((slot, need));
                        self.request_topup(ctx, k);
                        return Ok(Next::Park);
                    }
                }
                self.accrue(w, ctx.ledger, k, ctx.now);
                post(ctx.ledger, importer.clients, importer.bank_home, conv.given)?;
                p.debited += conv.given;
                // The payer's bank is the dealer: it keeps the lira and pays out of its nostro.
                p.account_conversion(w, &conv);
                post(
                    ctx.ledger,
                    self.nostros[k].account,
                    exporter.bank_home,
                    need,
                )?;
                let mut credit = need;
                match p.bearer {
                    Bearer::Our | Bearer::Sha => {
                        let fee = self.p.fee.in_currency(w, ci, p.value_usd, ctx.now);
                        p.charge_importer(w, ctx.ledger, importer.fees_home, fee)?;
                    }
                    Bearer::Ben => {
                        let fee = self
                            .p
                            .fee
                            .in_currency(w, ce, p.value_usd, ctx.now)
                            .min(credit);
                        p.fee(w, ctx.ledger, exporter.bank_home, exporter.fees_home, fee)?;
                        credit -= fee;
                    }
                }
                post(ctx.ledger, exporter.bank_home, exporter.clients, credit)?;
                p.credited = credit;
                p.credited_ccy = ce;
                p.amount = Decimal::ZERO;
                p.status = Status::Settled;
                p.settled_at = ctx.now;
                let n = &self.nostros[k];
                let threshold = n.target * crate::money::minor_from_f64(self.p.topup_threshold, 6);
                if ctx.ledger.balance(n.account) < threshold {
                    self.request_topup(ctx, k);
                }
                Ok(Next::Done)
            }
            other => Err(Error::Invariant(format!(
                "bilateral: unknown stage {other}"
            ))),
        }
    }

    /// Asks for a top-up of nostro `k`, once: it lands when both RTGS systems are open and the
    /// transfer's working time has passed.
    fn request_topup(&mut self, ctx: &mut Ctx, k: usize) {
        let n = &mut self.nostros[k];
        if n.topup_pending {
            return;
        }
        n.topup_pending = true;
        let (ci, ce) = (
            &ctx.world.members[n.importer].calendar,
            &ctx.world.members[n.exporter].calendar,
        );
        // Top-up timing draws nothing random: it is the same in every replication.
        let work = (self.p.topup_min.median * 60.0).round() as Time;
        let at = next_joint_open(ci, ce, ctx.now)
            .and_then(|t| ce.process(t, work))
            .unwrap_or(Time::MAX);
        ctx.timers.push((at, k as u32));
    }

    /// A top-up lands: the payer's bank buys the payee's currency in the interbank market to
    /// bring the nostro back to target plus what is waiting, then the waiting payments retry.
    pub fn timer(&mut self, ctx: &mut Ctx, token: u32) -> Result<()> {
        let k = token as usize;
        let w = ctx.world;
        self.accrue(w, ctx.ledger, k, ctx.now);
        let n = &mut self.nostros[k];
        n.topup_pending = false;
        let waiting: Decimal = n.waiting.iter().map(|(_, need)| *need).sum();
        let amount = n.target + waiting - ctx.ledger.balance(n.account);
        if amount > Decimal::ZERO {
            let (ci, ce) = (w.members[n.importer].currency, n.ccy);
            let ticket_usd = to_f64(amount) / to_f64(w.fx.mid(ce, ctx.now));
            let conv =
                w.fx.convert_to(&w.currencies, ci, ce, amount, ctx.now, ticket_usd);
            post(
                ctx.ledger,
                w.members[n.importer].bank_home,
                w.dealer[ci.index()],
                conv.given,
            )?;
            post(ctx.ledger, w.dealer[ce.index()], n.account, conv.received)?;
        }
        ctx.wake.extend(n.waiting.drain(..).map(|(slot, _)| slot));
        Ok(())
    }

    /// Hands out the carry accrued since the last call (call [`Bilateral::sample`] first).
    pub fn take_carry_usd(&mut self) -> f64 {
        let mut out = 0.0;
        for n in &mut self.nostros {
            out += n.carry_usd;
            n.carry_usd = 0.0;
        }
        out
    }

    /// Accrues every nostro up to `now` and records a liquidity sample (during trade only).
    pub fn sample(&mut self, world: &World, ledger: &Ledger, now: Time) {
        for k in 0..self.nostros.len() {
            self.accrue(world, ledger, k, now);
        }
        if now > world.trade_end {
            return;
        }
        let total: f64 = self
            .nostros
            .iter()
            .map(|n| to_f64(ledger.balance(n.account)) / to_f64(world.fx.mid(n.ccy, now)))
            .sum();
        self.samples += 1;
        self.sum_usd += total;
        self.peak_usd = self.peak_usd.max(total);
    }

    pub fn balances(
        &self,
        world: &World,
        ledger: &Ledger,
        now: Time,
    ) -> Vec<(String, CurrencyId, Decimal, Decimal)> {
        self.nostros
            .iter()
            .map(|n| {
                let bal = ledger.balance(n.account);
                let holder = format!(
                    "{}@{}",
                    world.members[n.importer].code, world.members[n.exporter].code
                );
                (holder, n.ccy, bal, world.fx.to_usd(n.ccy, bal, now))
            })
            .collect()
    }

    pub fn liquidity(&self) -> LiquidityStats {
        LiquidityStats {
            peak_usd: self.peak_usd,
            mean_usd: if self.samples > 0 {
                self.sum_usd / self.samples as f64
            } else {
                0.0
            },
            carry_usd: self.carry_total_usd,
        }
    }
}
