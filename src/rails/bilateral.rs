//! Bilateral local-currency accounts: the payer's bank holds a prefunded nostro in the payee's
//! currency at a bank in the payee's country. One conversion at the direct cross quote, one hop
//! that needs both RTGS systems open, and a top-up policy that refills the nostro — whose idle
//! balance costs carry.

use std::collections::VecDeque;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::liquidity::Pool;
use super::{Ctx, Next, Payment, RailContext, RailKind, Setup, pair_listed};
use crate::calendar::next_joint_open;
use crate::engine::Time;
use crate::input::{DelaySection, FeeSection};
use crate::ledger::{AccountId, Ledger};
use crate::terms::{Delay, FeeSchedule, OnShort};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub name: String,
    /// Member pairs served, "TR-AZ" (either direction), or ["*"] for every pair.
    pub pairs: Vec<String>,
    #[serde(default)]
    pub fee: FeeSection,
    pub processing_min: DelaySection,
    /// Nostro target: this many days of the corridor's expected flow.
    pub nostro_days: f64,
    /// A floor under every nostro's target, USD.
    #[serde(default)]
    pub nostro_min_usd: f64,
    /// Top up when a nostro falls below this fraction of its target.
    pub topup_threshold: f64,
    /// Working minutes a top-up takes once both RTGS systems are open.
    pub topup_min: Option<DelaySection>,
    /// What a payment does when the nostro is short: "wait" for the top-up or "fallback".
    pub on_short: Option<String>,
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

/// No run-dependent warnings for this kind.
impl super::RailWarnings for Params {}

impl Params {
    /// Checks a `[[rail]]` table of kind `bilateral`.
    pub fn from_section(b: &Section, cx: &RailContext) -> Result<Params> {
        let v = cx.check;
        let p = |key: &str| cx.path(&[key]);
        let pairs = cx.pairs("pairs", &b.pairs)?;
        Ok(Params {
            pairs,
            fee: v.fee(p("fee"), &b.fee)?,
            processing_min: v.delay(p("processing_min"), &b.processing_min)?,
            nostro_days: v.nonneg(p("nostro_days"), b.nostro_days)?,
            nostro_min_usd: v.nonneg(p("nostro_min_usd"), b.nostro_min_usd)?,
            topup_threshold: v.probability(p("topup_threshold"), b.topup_threshold)?,
            topup_min: v.delay_or(p("topup_min"), &b.topup_min, 30.0)?,
            on_short: v.on_short(p("on_short"), &b.on_short)?,
        })
    }

    pub fn serves(&self, exporter: &str, importer: &str) -> bool {
        pair_listed(&self.pairs, exporter, importer)
    }
}

/// One nostro: the importer-side bank's balance in the exporter's currency.
#[derive(Debug)]
pub struct Nostro {
    pub importer: usize,
    pub exporter: usize,
    /// Index in the rail's liquidity pool (which holds the account and currency).
    pub pool: usize,
    pub account: AccountId,
    pub target: Decimal,
    waiting: VecDeque<(u32, Decimal)>,
    topup_pending: bool,
}

#[derive(Debug)]
pub struct Bilateral {
    p: Params,
    n_members: usize,
    nostro_of: Vec<Option<usize>>,
    pub nostros: Vec<Nostro>,
    pool: Pool,
}

impl Bilateral {
    /// Opens a nostro for every member pair the rail serves, funded at the start with its
    /// target: `nostro_days` of the annual value routed to this rail for the pair.
    pub fn new(p: Params, setup: &Setup, ledger: &mut Ledger) -> Result<Self> {
        let (index, world) = (setup.index, setup.world);
        let n = world.members.len();
        let mut nostro_of = vec![None; n * n];
        let mut nostros = Vec::new();
        let mut pool = Pool::default();
        for (i, mi) in world.members.iter().enumerate() {
            for (e, me) in world.members.iter().enumerate() {
                if i == e || !p.serves(&me.code, &mi.code) {
                    continue;
                }
                let ccy = me.currency;
                let code = world.currencies.code(ccy);
                let account = ledger.open(
                    &format!("rail{index}:nostro:{}@{}:{code}", mi.code, me.code),
                    ccy,
                    true,
                );
                let flow_usd = setup
                    .expected_flow_usd
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
                let slot = pool.add(format!("{}@{}", mi.code, me.code), ccy, account);
                nostros.push(Nostro {
                    importer: i,
                    exporter: e,
                    pool: slot,
                    account,
                    target,
                    waiting: VecDeque::new(),
                    topup_pending: false,
                });
            }
        }
        Ok(Self {
            p,
            n_members: n,
            nostro_of,
            nostros,
            pool,
        })
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
}

impl RailKind for Bilateral {
    fn step(&mut self, ctx: &mut Ctx, slot: u32, p: &mut Payment) -> Result<Next> {
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
                let k =
                    self.nostro_of[p.importer * self.n_members + p.exporter].ok_or_else(|| {
                        Error::Invariant(format!(
                            "bilateral rail has no nostro for {}→{}",
                            importer.code, exporter.code
                        ))
                    })?;
                // The quote; it becomes a trade (and market volume) only if the nostro covers it.
                let conv = if inv == ci {
                    ctx.quote_from(ci, ce, p.invoice_amount, p.ticket_usd)
                } else {
                    let target = if inv == ce {
                        p.invoice_amount
                    } else {
                        // Invoiced in USD (or another currency): deliver its value in the
                        // exporter's currency at today's mid.
                        w.currencies
                            .round(ce, p.invoice_amount * w.fx.cross_mid(inv, ce, ctx.now))
                    };
                    ctx.quote_to(ci, ce, target, p.ticket_usd)
                };
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
                // The payer's bank sells the payee's currency to its client from its nostro: the
                // market trade is the top-up that refills the nostro, which counts towards the
                // pair's volume there, once (counting the client's quote too would count every
                // unit twice).
                self.pool
                    .accrue(w, ctx.ledger, self.nostros[k].pool, ctx.now);
                p.debit(ctx, importer.bank_home, conv.given)?;
                // The payer's bank is the dealer: it keeps the lira and pays out of its nostro.
                p.account_conversion(w, &conv);
                ctx.post(self.nostros[k].account, exporter.bank_home, need)?;
                self.pool.used_by(w, p, self.nostros[k].pool, need);
                let credit = p.bearer_fee(ctx, &self.p.fee, need)?;
                p.settle(ctx, credit)?;
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

    /// A top-up lands: the payer's bank buys the payee's currency in the interbank market to
    /// bring the nostro back to target plus what is waiting, then the waiting payments retry.
    fn timer(&mut self, ctx: &mut Ctx, token: u32) -> Result<()> {
        let k = token as usize;
        let w = ctx.world;
        self.pool
            .accrue(w, ctx.ledger, self.nostros[k].pool, ctx.now);
        let n = &mut self.nostros[k];
        n.topup_pending = false;
        let waiting: Decimal = n.waiting.iter().map(|(_, need)| *need).sum();
        let amount = n.target + waiting - ctx.ledger.balance(n.account);
        if amount > Decimal::ZERO {
            let (ci, ce) = (
                w.members[n.importer].currency,
                w.members[n.exporter].currency,
            );
            let ticket_usd = crate::money::to_f64(w.fx.to_usd(ce, amount, ctx.now));
            let (bank, account) = (w.members[n.importer].bank_home, n.account);
            let conv = ctx.convert_to(ci, ce, amount, ticket_usd);
            ctx.post(bank, w.dealer[ci.index()], conv.given)?;
            ctx.post(w.dealer[ce.index()], account, conv.received)?;
        }
        let n = &mut self.nostros[k];
        ctx.wake.extend(n.waiting.drain(..).map(|(slot, _)| slot));
        Ok(())
    }

    fn pool(&self) -> Option<&Pool> {
        Some(&self.pool)
    }

    fn pool_mut(&mut self) -> Option<&mut Pool> {
        Some(&mut self.pool)
    }
}
