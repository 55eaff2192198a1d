//! Rail kind `pvp_bridge`: a multi-CBDC platform in the style of mBridge. It runs 24/7 and
//! settles each payment payment-versus-payment: in one instant the payer bank's wholesale-CBDC
//! balance in the payer's currency pays the platform's liquidity provider, and the liquidity
//! provider's balance in the payee's currency pays the payee bank — both legs or neither.
//!
//! Every balance on the platform is prefunded from its currency's RTGS and topped up (or swept
//! back) only while that RTGS is open, so a payment short of balance outside RTGS hours waits
//! for the next opening or goes to the route's fallback rail. The idle balances cost carry.

use std::collections::VecDeque;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::liquidity::Pool;
use super::{Ctx, Next, Payment, RailContext, RailKind, Setup, member_listed};
use crate::engine::Time;
use crate::fx::Conversion;
use crate::fx::quote::bps_to_fraction;
use crate::input::{CrossSpread, DelaySection, FeeSection};
use crate::ledger::{AccountId, Ledger};
use crate::money::CurrencyId;
use crate::terms::{Delay, FeeSchedule, OnShort};
use crate::world::World;
use crate::{Error, Result};

/// A latency written as a number of seconds or as a lognormal `{ median, sigma }` in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LatencySection {
    Fixed(f64),
    Drawn(DelaySection),
}

/// By hand rather than `untagged`, so a wrong value says what is expected.
impl<'de> Deserialize<'de> for LatencySection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = LatencySection;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("seconds (a number) or a table { median = …, sigma = … }")
            }
            fn visit_f64<E: serde::de::Error>(self, x: f64) -> std::result::Result<Self::Value, E> {
                Ok(LatencySection::Fixed(x))
            }
            fn visit_i64<E: serde::de::Error>(self, x: i64) -> std::result::Result<Self::Value, E> {
                Ok(LatencySection::Fixed(x as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, x: u64) -> std::result::Result<Self::Value, E> {
                Ok(LatencySection::Fixed(x as f64))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                DelaySection::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(LatencySection::Drawn)
            }
        }
        d.deserialize_any(V)
    }
}

/// The `[[rail]]` table of kind `pvp_bridge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub name: String,
    /// Member codes on the platform, or ["*"] (the default) for every member.
    #[serde(default = "every_member")]
    pub members: Vec<String>,
    /// Per-payment fee.
    #[serde(default)]
    pub fee: FeeSection,
    /// Seconds from initiation to settlement on the platform.
    pub latency_s: LatencySection,
    /// The platform's own half-spread (bps of the mid) on every pair …
    pub quote_half_spread_bps: Option<f64>,
    /// … with per-pair exceptions, `{ pair = "TRY/KZT", half_spread_bps = 8 }` …
    #[serde(default)]
    pub quote_pair: Vec<CrossSpread>,
    /// … or, instead, this multiple of the market's half-spread for the pair and ticket.
    pub quote_market_multiplier: Option<f64>,
    /// Each balance's target: this many days of the flow it pays out.
    pub prefund_days: f64,
    /// A floor under every target, USD.
    #[serde(default)]
    pub prefund_min_usd: f64,
    /// Top up when a balance falls below this fraction of its target.
    pub topup_threshold: f64,
    /// Working minutes of an RTGS transfer to or from the platform once the RTGS is open.
    pub topup_min: Option<DelaySection>,
    /// Sweep back to the RTGS what a balance holds above this multiple of its target
    /// (default 2; 0 = never sweep).
    pub sweep_above: Option<f64>,
    /// What a payment short of balance does: "wait" (default) or "fallback".
    pub on_short: Option<String>,
}

fn every_member() -> Vec<String> {
    vec!["*".to_string()]
}

/// How the platform quotes a conversion.
#[derive(Debug, Clone)]
pub enum Quote {
    /// Its own half-spread, bps: one for every pair, with per-pair exceptions.
    Own {
        half_spread_bps: f64,
        pairs: Vec<((CurrencyId, CurrencyId), f64)>,
    },
    /// A multiple of the market's half-spread for the pair and ticket (size curve, depth).
    Market(f64),
}

/// Validated parameters.
#[derive(Debug, Clone)]
pub struct Params {
    /// Member codes on the platform; None = every member.
    pub members: Option<Vec<String>>,
    pub fee: FeeSchedule,
    /// Seconds from initiation to settlement.
    pub latency_s: Delay,
    pub quote: Quote,
    pub prefund_days: f64,
    pub prefund_min_usd: f64,
    pub topup_threshold: f64,
    /// Working minutes of an RTGS transfer (its median; drawn nothing, like bilateral top-ups).
    pub topup_min: Delay,
    /// Multiple of the target above which the excess is swept back; None = never.
    pub sweep_above: Option<f64>,
    pub on_short: OnShort,
}

/// No run-dependent warnings for this kind.
impl super::RailWarnings for Params {}

impl Params {
    /// Checks a `[[rail]]` table of kind `pvp_bridge`.
    /// Long because: one check per key of the section, in the order docs/rail-pvp-bridge.md
    /// lists them.
    pub fn from_section(s: &Section, cx: &RailContext) -> Result<Params> {
        let v = cx.check;
        let p = |key: &str| cx.path(&[key]);
        let members = if s.members.iter().any(|m| m == "*") {
            None
        } else {
            let distinct: std::collections::BTreeSet<&String> = s.members.iter().collect();
            if distinct.len() < 2 {
                return Err(cx.err(&["members"], "list at least two members, or \"*\""));
            }
            for (j, code) in s.members.iter().enumerate() {
                let mut path = p("members");
                path.push(crate::input::Seg::Index(j));
                if !cx.members.iter().any(|m| &m.code == code) {
                    return Err(v.err(path, format!("unknown member \"{code}\"")));
                }
            }
            Some(s.members.clone())
        };
        let latency_s = match &s.latency_s {
            LatencySection::Fixed(x) => Delay::fixed(v.nonneg(p("latency_s"), *x)?),
            LatencySection::Drawn(d) => v.delay(p("latency_s"), d)?,
        };
        let quote = match (s.quote_market_multiplier, s.quote_half_spread_bps) {
            (Some(_), Some(_)) => {
                return Err(cx.err(
                    &["quote_market_multiplier"],
                    "give either quote_half_spread_bps (the platform's own quote) or quote_market_multiplier, not both",
                ));
            }
            (Some(_), None) if !s.quote_pair.is_empty() => {
                return Err(cx.err(
                    &["quote_pair"],
                    "per-pair quotes go with quote_half_spread_bps, not with quote_market_multiplier",
                ));
            }
            (Some(m), None) => {
                let m = v.nonneg(p("quote_market_multiplier"), m)?;
                let worst = m * cx.max_market_half_bps;
                if worst >= crate::fx::quote::MAX_HALF_SPREAD_BPS {
                    return Err(cx.err(
                        &["quote_market_multiplier"],
                        format!(
                            "× the widest market half-spread ({} bps) reaches {worst} bps; \
                             every quote must stay below {} bps (50 % of the mid)",
                            cx.max_market_half_bps,
                            crate::fx::quote::MAX_HALF_SPREAD_BPS
                        ),
                    ));
                }
                Quote::Market(m)
            }
            (None, None) => {
                return Err(cx.err(
                    &["quote_half_spread_bps"],
                    "give the platform's quote: quote_half_spread_bps (bps of the mid) or quote_market_multiplier",
                ));
            }
            (None, Some(bps)) => {
                let half_spread_bps = cx.half_spread(&["quote_half_spread_bps"], bps)?;
                let mut pairs = Vec::new();
                for (j, q) in s.quote_pair.iter().enumerate() {
                    let at = |key: &str| {
                        let mut path = p("quote_pair");
                        path.push(crate::input::Seg::Index(j));
                        path.push(crate::input::Seg::Key(key.to_string()));
                        path
                    };
                    let (a, b) = q.pair.split_once('/').ok_or_else(|| {
                        v.err(
                            at("pair"),
                            format!("expected a pair such as \"TRY/KZT\", got \"{}\"", q.pair),
                        )
                    })?;
                    let id = |code: &str| {
                        cx.currencies.id(code).ok_or_else(|| {
                            v.err(at("pair"), format!("unknown currency \"{code}\""))
                        })
                    };
                    let (a, b) = (id(a)?, id(b)?);
                    if a == b {
                        return Err(v.err(at("pair"), "a pair needs two different currencies"));
                    }
                    let bps = v.nonneg(at("half_spread_bps"), q.half_spread_bps)?;
                    if bps >= crate::fx::quote::MAX_HALF_SPREAD_BPS {
                        return Err(v.err(
                            at("half_spread_bps"),
                            format!(
                                "must be below {} bps (50 % of the mid), got {bps}",
                                crate::fx::quote::MAX_HALF_SPREAD_BPS
                            ),
                        ));
                    }
                    pairs.push(((a.min(b), a.max(b)), bps));
                }
                Quote::Own {
                    half_spread_bps,
                    pairs,
                }
            }
        };
        let topup_threshold = v.probability(p("topup_threshold"), s.topup_threshold)?;
        let sweep_above = match s.sweep_above {
            None => Some(2.0),
            Some(0.0) => None,
            Some(x) => {
                let x = v.at_least(p("sweep_above"), x, 1.0)?;
                Some(x)
            }
        };
        Ok(Params {
            members,
            fee: v.fee(p("fee"), &s.fee)?,
            latency_s,
            quote,
            prefund_days: v.nonneg(p("prefund_days"), s.prefund_days)?,
            prefund_min_usd: v.nonneg(p("prefund_min_usd"), s.prefund_min_usd)?,
            topup_threshold,
            topup_min: v.delay_or(p("topup_min"), &s.topup_min, 30.0)?,
            sweep_above,
            on_short: v.on_short(p("on_short"), &s.on_short)?,
        })
    }

    fn on_platform(&self, code: &str) -> bool {
        member_listed(&self.members, code)
    }

    /// Both members on the platform (and different).
    pub fn serves(&self, exporter: &str, importer: &str) -> bool {
        exporter != importer && self.on_platform(exporter) && self.on_platform(importer)
    }
}

/// The holder name of the liquidity provider's balances.
const LP: &str = "LP";

/// One prefunded balance on the platform: a member's banks' wholesale CBDC in their own
/// currency, or the liquidity provider's balance in one currency.
#[derive(Debug)]
pub struct Balance {
    /// Index in the rail's liquidity pool.
    pub pool: usize,
    pub account: AccountId,
    /// Where top-ups come from and sweeps go: the holder's account at the currency's RTGS.
    pub rtgs_account: AccountId,
    /// The member whose RTGS calendar times the transfers.
    pub rtgs_member: usize,
    /// The liquidity provider's balances are funded from its dollar treasury: a top-up buys
    /// the currency at the market, a sweep sells it back (the holder's own RTGS account for
    /// a member bank's balance, same currency, no conversion).
    pub funded_in_usd: bool,
    pub target: Decimal,
    waiting: VecDeque<(u32, Decimal)>,
    transfer_pending: bool,
}

/// Run-time state: the platform's balances.
#[derive(Debug)]
pub struct PvpBridge {
    p: Params,
    /// Per member: its banks' balance (index in `balances`), if on the platform.
    member_balance: Vec<Option<usize>>,
    /// Per currency: the liquidity provider's balance, if a platform member uses it.
    lp_balance: Vec<Option<usize>>,
    pub balances: Vec<Balance>,
    pool: Pool,
    threshold: Decimal,
    sweep_above: Option<Decimal>,
}

/// The conversion at the platform's quote: units of `to` per `from` at the mid less the half-
/// spread. The payer gives `invoice` when invoiced in its own currency; otherwise the payee
/// receives the invoice's value in its currency (at today's mid if invoiced in a third one).
#[allow(clippy::too_many_arguments)]
pub fn platform_conversion(
    world: &World,
    from: CurrencyId,
    to: CurrencyId,
    invoice_ccy: CurrencyId,
    invoice_amount: Decimal,
    now: Time,
    half_spread_bps: f64,
) -> Conversion {
    let c = &world.currencies;
    let mid = world.fx.cross_mid(from, to, now);
    // A multiple of a market quote that volatility has widened is held under the bound too.
    let half_spread_bps = if from == to {
        0.0
    } else {
        crate::fx::quote::capped_half_bps(half_spread_bps)
    };
    let rate = mid * (Decimal::ONE - bps_to_fraction(half_spread_bps));
    let (given, received, rounding_to) = if invoice_ccy == from {
        (
            invoice_amount,
            c.round(to, invoice_amount * rate),
            crate::fx::half_unit(c, to),
        )
    } else {
        let received = if invoice_ccy == to {
            invoice_amount
        } else {
            c.round(
                to,
                invoice_amount * world.fx.cross_mid(invoice_ccy, to, now),
            )
        };
        (
            c.round(from, received / rate),
            received,
            crate::fx::half_unit(c, from) * rate,
        )
    };
    Conversion {
        from,
        to,
        at: now,
        given,
        received,
        received_at_mid: given * mid,
        mid,
        half_spread_bps,
        rate,
        at_rate: given * rate,
        rounding_to,
    }
}

impl PvpBridge {
    /// Opens the platform's balances: one per member on it (its own currency: what it pays
    /// as importer) and one per currency for the liquidity provider (what it pays out to the
    /// members of that currency as exporters), each funded with its target.
    pub fn new(p: Params, setup: &Setup, ledger: &mut Ledger) -> Result<Self> {
        let (index, world) = (setup.index, setup.world);
        let n = world.members.len();
        let flow = |i: usize, e: usize| {
            setup
                .expected_flow_usd
                .get(i)
                .and_then(|r| r.get(e))
                .copied()
                .unwrap_or(0.0)
        };
        let on: Vec<bool> = world
            .members
            .iter()
            .map(|m| p.on_platform(&m.code))
            .collect();
        let target_of = |ccy: CurrencyId, outflow_usd: f64| {
            let usd = (outflow_usd / 365.0 * p.prefund_days).max(p.prefund_min_usd);
            world.currencies.round(
                ccy,
                crate::money::minor_from_f64(usd, 2) * world.fx.mid(ccy, 0),
            )
        };
        let mut pool = Pool::default();
        let mut balances = Vec::new();
        let mut open = |holder: &str,
                        name: String,
                        ccy: CurrencyId,
                        rtgs_account: AccountId,
                        rtgs_member: usize,
                        target: Decimal,
                        ledger: &mut Ledger| {
            let funded_in_usd = holder == LP;
            let account = ledger.open(&name, ccy, true);
            if !target.is_zero() {
                ledger.issue(account, target);
            }
            let slot = pool.add(holder.to_string(), ccy, account);
            balances.push(Balance {
                pool: slot,
                account,
                rtgs_account,
                rtgs_member,
                funded_in_usd,
                target,
                waiting: VecDeque::new(),
                transfer_pending: false,
            });
            balances.len() - 1
        };
        let mut member_balance = vec![None; n];
        for (i, m) in world.members.iter().enumerate() {
            if !on[i] {
                continue;
            }
            let code = world.currencies.code(m.currency);
            let outflow: f64 = (0..n).filter(|&e| on[e]).map(|e| flow(i, e)).sum();
            member_balance[i] = Some(open(
                &m.code,
                format!("rail{index}:cbdc:{}:{code}", m.code),
                m.currency,
                m.bank_home,
                i,
                target_of(m.currency, outflow),
                ledger,
            ));
        }
        let mut lp_balance = vec![None; world.currencies.len()];
        // The liquidity provider's dollar treasury: it buys the currencies it pays out and sells
        // those it collects (its balance may go below zero: the provider borrows dollars).
        let lp_usd = ledger.open(&format!("rail{index}:lp-usd:USD"), CurrencyId::USD, false);
        for (i, m) in world.members.iter().enumerate() {
            let ccy = m.currency;
            if !on[i] || lp_balance[ccy.index()].is_some() {
                continue;
            }
            let code = world.currencies.code(ccy).to_string();
            // The liquidity provider pays this currency to every member that uses it.
            let mut outflow = 0.0;
            for (e, me) in world.members.iter().enumerate() {
                if on[e] && me.currency == ccy {
                    outflow += (0..n).filter(|&i| on[i]).map(|i| flow(i, e)).sum::<f64>();
                }
            }
            lp_balance[ccy.index()] = Some(open(
                LP,
                format!("rail{index}:lp:{code}"),
                ccy,
                lp_usd,
                i,
                target_of(ccy, outflow),
                ledger,
            ));
        }
        Ok(Self {
            threshold: crate::money::minor_from_f64(p.topup_threshold, 6),
            sweep_above: p.sweep_above.map(|x| crate::money::minor_from_f64(x, 6)),
            p,
            member_balance,
            lp_balance,
            balances,
            pool,
        })
    }

    /// The platform's half-spread for a conversion, bps.
    fn half_spread_bps(&self, ctx: &mut Ctx, from: CurrencyId, to: CurrencyId, ticket: f64) -> f64 {
        if from == to {
            return 0.0;
        }
        match &self.p.quote {
            Quote::Own {
                half_spread_bps,
                pairs,
            } => {
                let key = (from.min(to), from.max(to));
                let bps = pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map_or(*half_spread_bps, |(_, bps)| *bps);
                // A spread shock widens the platform's own quote too (docs/model.md, "Shocks").
                let shock = ctx.world.fx.spread_shock(from, to, ctx.now);
                if shock == 1.0 {
                    bps
                } else {
                    crate::fx::quote::capped_half_bps(bps * shock)
                }
            }
            Quote::Market(m) => {
                m * ctx
                    .quote_from(from, to, Decimal::ONE, ticket)
                    .half_spread_bps
            }
        }
    }

    /// Asks for an RTGS transfer that brings balance `k` back to target, once: it lands when
    /// the holder's RTGS is open and the transfer's working minutes have passed.
    fn request_transfer(&mut self, ctx: &mut Ctx, k: usize) {
        let b = &mut self.balances[k];
        if b.transfer_pending {
            return;
        }
        b.transfer_pending = true;
        // Transfer timing draws nothing random: it is the same in every replication.
        let work = (self.p.topup_min.median * 60.0).round() as Time;
        let at = ctx.world.members[b.rtgs_member]
            .calendar
            .process(ctx.now, work)
            .unwrap_or(Time::MAX);
        ctx.timers.push((at, k as u32));
    }

    /// After a payment, asks for transfers for balances that left their band.
    fn check_band(&mut self, ctx: &mut Ctx, k: usize) {
        let b = &self.balances[k];
        let balance = ctx.ledger.balance(b.account);
        let low = balance < b.target * self.threshold;
        let high = self
            .sweep_above
            .is_some_and(|x| balance > b.target * x && balance > Decimal::ZERO);
        if low || high {
            self.request_transfer(ctx, k);
        }
    }

    /// The two legs of a payment, payment-versus-payment: the payer bank's balance pays `x` to
    /// the liquidity provider's balance in the same currency, and the liquidity provider's
    /// balance in the payee's currency pays `y` to the payee bank's balance. Both are checked
    /// before either is booked; if the second were refused anyway, the first is reversed. So
    /// the ledger never holds one leg without the other.
    fn settle_legs(&mut self, ctx: &mut Ctx, legs: [(usize, usize, Decimal); 2]) -> Result<()> {
        let [(payer, lp_in, x), (lp_out, payee, y)] = legs;
        let acct = |k: usize| self.balances[k].account;
        let lp_gets = if lp_in == lp_out { x } else { Decimal::ZERO };
        if ctx.ledger.balance(acct(payer)) < x || ctx.ledger.balance(acct(lp_out)) + lp_gets < y {
            return Err(Error::Invariant(
                "pvp_bridge: settlement attempted without both legs funded".into(),
            ));
        }
        for k in [payer, lp_in, lp_out, payee] {
            self.pool
                .accrue(ctx.world, ctx.ledger, self.balances[k].pool, ctx.now);
        }
        ctx.post(acct(payer), acct(lp_in), x)?;
        if let Err(e) = ctx.ledger.post(acct(lp_out), acct(payee), y) {
            ctx.post(acct(lp_in), acct(payer), x)?;
            return Err(Error::Invariant(format!(
                "pvp_bridge: payee leg refused: {e}"
            )));
        }
        Ok(())
    }
}

const STAGE_SETTLE: u8 = 1;

impl RailKind for PvpBridge {
    fn step(&mut self, ctx: &mut Ctx, slot: u32, p: &mut Payment) -> Result<Next> {
        let w = ctx.world;
        let importer = &w.members[p.importer];
        let exporter = &w.members[p.exporter];
        match p.stage {
            0 => {
                // The platform runs around the clock: only its latency stands between the
                // payer's instruction and settlement.
                let latency = self.p.latency_s.draw(&mut p.rng).round() as Time;
                p.hops = 1;
                p.stage = STAGE_SETTLE;
                Ok(Next::At(ctx.now + latency.max(0)))
            }
            STAGE_SETTLE => {
                let (ci, ce) = (importer.currency, exporter.currency);
                let missing = || {
                    Error::Invariant(format!(
                        "pvp_bridge has no balance for {}→{}",
                        importer.code, exporter.code
                    ))
                };
                let payer = self.member_balance[p.importer].ok_or_else(missing)?;
                let payee = self.member_balance[p.exporter].ok_or_else(missing)?;
                let lp_in = self.lp_balance[ci.index()].ok_or_else(missing)?;
                let lp_out = self.lp_balance[ce.index()].ok_or_else(missing)?;
                let h = self.half_spread_bps(ctx, ci, ce, p.ticket_usd);
                let conv =
                    platform_conversion(w, ci, ce, p.invoice_ccy, p.invoice_amount, ctx.now, h);
                let (x, y) = (conv.given, conv.received);
                let balance = |k: usize| ctx.ledger.balance(self.balances[k].account);
                let lp_gets = if lp_in == lp_out { x } else { Decimal::ZERO };
                let short_payer = balance(payer) < x;
                let short_lp = balance(lp_out) + lp_gets < y;
                let queued = !self.balances[payer].waiting.is_empty()
                    || !self.balances[lp_out].waiting.is_empty();
                if short_payer || short_lp || queued {
                    if short_payer {
                        self.request_transfer(ctx, payer);
                    }
                    if short_lp {
                        self.request_transfer(ctx, lp_out);
                    }
                    match self.p.on_short {
                        OnShort::Fallback if short_payer || short_lp => return Ok(Next::Fallback),
                        OnShort::Fallback => {}
                        OnShort::Wait => {
                            // First in, first out behind whoever already waits.
                            let (k, need) =
                                if short_payer || !self.balances[payer].waiting.is_empty() {
                                    (payer, x)
                                } else {
                                    (lp_out, y)
                                };
                            self.balances[k].waiting.push_back((slot, need));
                            self.request_transfer(ctx, k);
                            return Ok(Next::Park);
                        }
                    }
                }
                self.settle_legs(ctx, [(payer, lp_in, x), (lp_out, payee, y)])?;
                // The payment draws on the payer bank's balance and the provider's balance in
                // the payee's currency: those two carry its liquidity cost.
                self.pool.used_by(w, p, self.balances[payer].pool, x);
                self.pool.used_by(w, p, self.balances[lp_out].pool, y);
                // Off the platform, the payer bank takes the importer's money into its books
                // (it has just paid the same amount out of its platform balance), and the
                // payee bank credits the exporter from its books (it has just received the
                // same amount on the platform).
                p.debit(ctx, importer.bank_home, x)?;
                p.account_conversion(w, &conv);
                if ci != ce {
                    ctx.traded(&conv, p.ticket_usd);
                }
                let credit = p.bearer_fee(ctx, &self.p.fee, y)?;
                p.settle(ctx, credit)?;
                for k in [payer, lp_in, lp_out, payee] {
                    self.check_band(ctx, k);
                }
                Ok(Next::Done)
            }
            other => Err(Error::Invariant(format!(
                "pvp_bridge: unknown stage {other}"
            ))),
        }
    }

    /// An RTGS transfer lands: the balance goes back to its target plus what waits on it
    /// (topped up from the holder's RTGS account, or the excess swept back to it), then the
    /// waiting payments retry in order.
    fn timer(&mut self, ctx: &mut Ctx, token: u32) -> Result<()> {
        let k = token as usize;
        let b = &self.balances[k];
        self.pool.accrue(ctx.world, ctx.ledger, b.pool, ctx.now);
        let waiting: Decimal = b.waiting.iter().map(|(_, need)| *need).sum();
        let want = b.target + waiting;
        let have = ctx.ledger.balance(b.account);
        let (account, rtgs, pool) = (b.account, b.rtgs_account, b.pool);
        let ccy = ctx.ledger.currency(account);
        // The provider funds its balances through dollars at the market; a member bank's
        // balance moves from and to its own RTGS account in the same currency.
        let convert = b.funded_in_usd && ccy != CurrencyId::USD;
        if want > have {
            if convert {
                self.pool.buy(ctx, pool, rtgs, want - have)?;
            } else {
                ctx.post(rtgs, account, want - have)?;
            }
        } else if have > want && self.sweep_above.is_some() {
            if convert {
                self.pool.sell(ctx, pool, rtgs, have - want)?;
            } else {
                ctx.post(account, rtgs, have - want)?;
            }
        }
        let b = &mut self.balances[k];
        b.transfer_pending = false;
        ctx.wake.extend(b.waiting.drain(..).map(|(slot, _)| slot));
        Ok(())
    }

    fn pool(&self) -> Option<&Pool> {
        Some(&self.pool)
    }

    fn pool_mut(&mut self) -> Option<&mut Pool> {
        Some(&mut self.pool)
    }
}
