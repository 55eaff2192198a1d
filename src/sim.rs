//! One replication of a scenario: builds the world (calendars, rate path, accounts, rails),
//! then runs the event loop — arrivals, rail steps, rail timers, day ends — and hands each
//! finished payment to a [`Sink`]. The loop knows rails only through [`Rail`] and output only
//! through [`Sink`].

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::calendar::Calendar;
use crate::engine::{DAY_S, HOUR_S, Scheduler, StopReason, Time};
use crate::fx::depth::Depth;
use crate::fx::{Fx, FxPath};
use crate::ledger::Ledger;
use crate::money::{CurrencyId, Usd};
use crate::rails::{Ctx, Learned, Next, Payment, Rail};
use crate::record::{PaymentRecord, ReportRow, Sink};
use crate::rng::{self, Purpose};
use crate::scenario::Scenario;
use crate::shock::{InFlight, Kind, OutageMode, Who};
use crate::terms::Status;
use crate::trade::{Generator, Invoice};
use crate::world::{Member, World};
use crate::{Error, Result};

/// The model's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// A corridor's next invoice comes due for payment.
    Arrival(u32),
    /// A payment listed in the scenario.
    Explicit(u32),
    /// A payment (by slot) takes its next step on its rail.
    Step(u32),
    /// A timer a rail asked for.
    Timer { rail: u16, token: u32 },
    /// Midnight UTC: prefunded balances and market depth are sampled.
    DayEnd,
}

/// What a replication did, for the manifest and the terminal.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub events: u64,
    pub payments: u64,
    pub postings: u64,
    /// Largest |total − (fees + spread + drift)| over all payments, USD.
    pub max_residual_usd: Decimal,
    /// Largest |printed total − (printed fees + spread + drift)| over all payments, cents
    /// (rounding alone allows 2).
    pub max_printed_residual_cents: u64,
    /// Carry cost that no payment could absorb (a rail's balances with no payments at all).
    pub unallocated_carry_usd: f64,
    pub liquidity: Vec<crate::rails::LiquidityStats>,
    /// Per shock of the scenario: what it did to payments (rerouted, queued, failed) and to
    /// invoices (added, removed).
    pub shocks: Vec<ShockCount>,
    pub trade_effects: Vec<crate::trade::TradeEffect>,
    /// Every ledger account at the end: (account, currency, balance).
    pub final_balances: Vec<(String, String, Decimal)>,
}

/// A payment's place in the run: the rail order it tries.
struct Routing {
    /// Per corridor: cumulative shares over rails.
    shares: Vec<Vec<(usize, f64)>>,
    fallback: Vec<Vec<usize>>,
}

/// Builds the world of replication `replication`.
pub fn build_world(s: &Scenario, replication: u32) -> Result<(World, Ledger)> {
    let span_days = s.days + s.drain_days + 2;
    let mut ledger = Ledger::new();
    let member_ccys: Vec<(String, CurrencyId)> = s
        .members
        .iter()
        .map(|m| (m.code.clone(), m.currency))
        .collect();
    let (accounts, dealer) = World::open_accounts(&mut ledger, &s.currencies, &member_ccys);
    let mut members = Vec::with_capacity(s.members.len());
    for (m, (clients, bank_home, fees_home)) in s.members.iter().zip(accounts) {
        let calendar = Calendar::new(&m.calendar, s.epoch, span_days)
            .map_err(|e| Error::Invariant(format!("calendar of {}: {e}", m.code)))?;
        members.push(Member {
            code: m.code.clone(),
            currency: m.currency,
            calendar,
            clients,
            bank_home,
            fees_home,
        });
    }
    let tick_s = s.fx.tick_s;
    let n_ticks = (span_days as Time * DAY_S / tick_s) as usize + 1;
    // One stream per currency, keyed by its code.
    let mut fx_streams: Vec<rng::Stream> = (1..=s.fx.processes.len())
        .map(|i| {
            let code = s.currencies.code(CurrencyId(i as u16));
            rng::stream(s.seed, replication, Purpose::Fx, rng::key(code), 0)
        })
        .collect();
    let vol_shocks: Vec<crate::fx::process::VolShock> = s
        .shocks
        .iter()
        .filter_map(|sh| match sh.kind {
            crate::shock::Kind::Volatility { currency, factor } => {
                Some(crate::fx::process::VolShock {
                    process: currency.index() - 1,
                    from: sh.from,
                    to: sh.to,
                    factor,
                })
            }
            _ => None,
        })
        .collect();
    let path = FxPath::simulate(
        &s.fx.processes,
        &s.fx.correlation,
        &s.fx.jumps,
        &vol_shocks,
        tick_s,
        n_ticks,
        &s.fx.spreads.vol,
        &mut fx_streams,
    )
    .map_err(|e| Error::Invariant(format!("fx: {e}")))?;
    let world = World {
        epoch: s.epoch,
        span_days,
        trade_end: s.days as Time * DAY_S,
        currencies: s.currencies.clone(),
        members,
        fx: Fx::new(
            path,
            s.fx.spreads.clone(),
            s.shocks
                .iter()
                .filter_map(|sh| match sh.kind {
                    Kind::Spread { quotes, factor } => {
                        let (a, b) = match quotes {
                            crate::shock::Quotes::All => (None, None),
                            crate::shock::Quotes::Currency(c) => (Some(c), None),
                            crate::shock::Quotes::Pair(x, y) => (Some(x), Some(y)),
                        };
                        Some(crate::fx::SpreadShock {
                            from: sh.from,
                            to: sh.to,
                            a,
                            b,
                            factor,
                        })
                    }
                    _ => None,
                })
                .collect(),
        ),
        liquidity_cost_pa: s.liquidity_cost_pa.clone(),
        dealer,
        shocks: s.shocks.clone(),
    };
    Ok((world, ledger))
}

/// The most payments a replication may hold in memory at once (in flight): a few hundred
/// bytes each, so about a gigabyte.
pub const MAX_PAYMENTS_HELD: usize = 3_000_000;

/// The most payments one replication may start: twice what validation lets a scenario expect
/// ([`crate::scenario::MAX_EXPECTED_PAYMENTS`]), so an estimate that is off by less than 2×
/// never stops a valid run.
pub const MAX_PAYMENTS_STARTED: u64 = 100_000_000;

/// The rails of the scenario with their accounts opened (prefunded balances sized on the
/// expected annual flow per importer and exporter over each rail), and the routing table.
/// `learned`: per rail, what the first pass learned (the second pass).
fn rails_and_routing(
    s: &Scenario,
    world: &World,
    ledger: &mut Ledger,
    learned: Option<&[Learned]>,
) -> Result<(Vec<Rail>, Routing)> {
    // Expected annual flow per (importer, exporter) per rail, for sizing prefunded balances.
    let n_members = world.members.len();
    let mut flow = vec![vec![vec![0.0; n_members]; n_members]; s.rails.len()];
    for (c, corridor) in s.trade.corridors.iter().enumerate() {
        for &(r, share) in &s.routes[c].shares {
            flow[r][corridor.importer][corridor.exporter] += corridor.annual_usd * share;
        }
    }
    let rails = s
        .rails
        .iter()
        .enumerate()
        .map(|(i, spec)| Rail::new(spec, i, world, ledger, &flow[i], learned.map(|l| &l[i])))
        .collect::<Result<Vec<_>>>()?;
    let routing = Routing {
        shares: s
            .routes
            .iter()
            .map(|r| {
                let mut acc = 0.0;
                r.shares
                    .iter()
                    .map(|&(rail, share)| {
                        acc += share;
                        (rail, acc)
                    })
                    .collect()
            })
            .collect(),
        fallback: s.routes.iter().map(|r| r.fallback.clone()).collect(),
    };
    Ok((rails, routing))
}

/// Every currency's mid against the dollar each `fx.sample_h` hours up to `end`, for fx.csv.
fn sample_rates(s: &Scenario, world: &World, end: Time, sink: &mut dyn Sink) -> Result<()> {
    let sample_s = s.fx.sample_s.max(HOUR_S);
    let mut t = 0;
    while t <= end {
        for ccy in world.currencies.ids().skip(1) {
            sink.fx(t, ccy, world.fx.mid(ccy, t))?;
        }
        t += sample_s;
    }
    Ok(())
}

/// Runs replication `replication` of `s`, streaming rows into `sink`.
pub fn run(s: &Scenario, replication: u32, sink: &mut dyn Sink) -> Result<RunReport> {
    run_with_fault(s, replication, sink, None)
}

/// [`run`] with a fault injected into one payment, for the tests that show the run-time checks
/// stop a run that books wrongly.
#[doc(hidden)]
pub fn run_with_fault(
    s: &Scenario,
    replication: u32,
    sink: &mut dyn Sink,
    fault: Option<(crate::rails::Fault, u64)>,
) -> Result<RunReport> {
    // A balance's carry is charged per dollar paid out of it over the whole run, which is known
    // only when the run ends. A design with prefunded balances therefore runs the replication
    // twice: once, writing nothing, to learn each balance's rate, and once more (the same
    // draws, the same bookings) to write every payment with its charge. Memory stays
    // proportional to the payments in flight.
    // The world (calendars, the rate path) is the same in both passes: it is built once, and
    // each pass starts from a copy of its opening ledger.
    let (world, ledger) = build_world(s, replication)?;
    let (rails, _) = rails_and_routing(s, &world, &mut ledger.clone(), None)?;
    let first = if rails.iter().any(Rail::needs_second_pass) {
        let mut first_sink = Discard { outer: &mut *sink };
        let pass = run_pass(
            s,
            replication,
            &world,
            ledger.clone(),
            &mut first_sink,
            fault,
            None,
        )?;
        Some(pass.1)
    } else {
        None
    };
    let learned = first.as_deref();
    Ok(run_pass(s, replication, &world, ledger, sink, fault, learned)?.0)
}

/// What the first pass learns for the second, by rail: each balance's carry per dollar used
/// (None: a balance nobody used), and the charges deferred to the end of the run.
type FirstPass = Vec<Learned>;

/// The first of two passes keeps nothing, but still stops at the end of a day when the user
/// asks the run's own sink to stop (Ctrl-C).
struct Discard<'a> {
    outer: &'a mut dyn Sink,
}

impl Sink for Discard<'_> {
    fn payment(&mut self, _: &PaymentRecord) -> Result<()> {
        Ok(())
    }
    fn fx(&mut self, _: Time, _: crate::money::CurrencyId, _: Decimal) -> Result<()> {
        Ok(())
    }
    fn day(&mut self, _: Time) -> Result<()> {
        self.outer.interrupted()
    }
}

/// What the shocks let a payment do at its next step on its rail.
enum Gate {
    Go,
    /// Wait for an outage to end.
    Wait(Time),
    Fail,
    /// Go to the next rail of the fallback list that is open to it.
    Reroute,
}

/// What shocks did to payments: per shock, payments rerouted, queued and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShockCount {
    pub rerouted: u64,
    pub queued: u64,
    pub failed: u64,
}

/// Whether sanction `who` covers payment `p`.
fn sanctioned(w: &World, who: Who, p: &Payment) -> bool {
    let (e, i) = (p.exporter, p.importer);
    match who {
        Who::Corridor(ce, ci) => ce == e && ci == i,
        Who::Member(m) => m == e || m == i,
        Who::Currency(c) => w.members[e].currency == c || w.members[i].currency == c,
    }
}

/// Whether a shock closes rail `rail` to a payment arriving at it at `now`: a sanction that
/// covers it, or an outage.
fn closed(w: &World, rail: usize, p: &Payment, now: Time) -> bool {
    w.shocks.iter().any(|s| {
        s.active(now)
            && match s.kind {
                Kind::Sanction { rail: r, who } => r == rail && sanctioned(w, who, p),
                Kind::Outage { rail: r, .. } => r == rail,
                _ => false,
            }
    })
}

/// What the shocks active at `now` say about `p`'s next step on its rail (docs/model.md,
/// "Shocks"). A payment that has not begun on the rail (stage 0) is rerouted by a sanction
/// that covers it, and queued, failed or rerouted by an outage as the outage says; a payment
/// already on the rail carries on through a sanction, and through an outage unless it says
/// `in_flight = "wait"`. Counts what it did, per shock.
fn gate(w: &World, p: &Payment, now: Time, counts: &mut Vec<ShockCount>) -> Gate {
    if counts.len() < w.shocks.len() {
        counts.resize(w.shocks.len(), ShockCount::default());
    }
    for (k, s) in w.shocks.iter().enumerate() {
        if !s.active(now) {
            continue;
        }
        let g = match s.kind {
            Kind::Sanction { rail, who } if rail == p.rail && p.stage == 0 => {
                if sanctioned(w, who, p) {
                    Gate::Reroute
                } else {
                    Gate::Go
                }
            }
            Kind::Outage {
                rail,
                mode,
                in_flight,
            } if rail == p.rail => match (p.stage == 0, mode, in_flight) {
                (true, OutageMode::Queue, _) | (false, _, InFlight::Wait) => Gate::Wait(s.to),
                (true, OutageMode::Fail, _) => Gate::Fail,
                (true, OutageMode::Reroute, _) => Gate::Reroute,
                (false, _, InFlight::Finish) => Gate::Go,
            },
            _ => Gate::Go,
        };
        let c = &mut counts[k];
        match g {
            Gate::Go => continue,
            Gate::Wait(_) => c.queued += 1,
            Gate::Fail => c.failed += 1,
            Gate::Reroute => c.rerouted += 1,
        }
        return g;
    }
    Gate::Go
}

/// The invoice generator: one stream per corridor, keyed by its code, and arrival rates spread
/// over each importer's reference year.
fn trade_generator(s: &Scenario, world: &World, replication: u32) -> Result<Generator> {
    let stream = |name: &str| rng::stream(s.seed, replication, Purpose::Trade, rng::key(name), 0);
    // Each importer's calendar over a reference year, whatever the run's length: the arrival
    // rates are spread over it, so they do not depend on the horizon.
    let reference = s
        .members
        .iter()
        .map(|m| Calendar::new(&m.calendar, s.epoch, crate::trade::REFERENCE_DAYS))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Invariant(format!("reference calendar: {e}")))?;
    Ok(Generator::new(
        s.trade.clone(),
        world,
        s.days,
        &stream,
        &reference,
    ))
}

/// One pass over replication `replication`: the event loop, with every payment's liquidity
/// charged at the rates the first pass learned (`first`; zero without), returning the run's
/// report and what it learned about each rail.
#[allow(clippy::too_many_arguments)]
fn run_pass(
    s: &Scenario,
    replication: u32,
    world: &World,
    mut ledger: Ledger,
    sink: &mut dyn Sink,
    fault: Option<(crate::rails::Fault, u64)>,
    first: Option<&[Learned]>,
) -> Result<(RunReport, FirstPass)> {
    let (mut rails, routing) = rails_and_routing(s, world, &mut ledger, first)?;

    let end: Time = (s.days + s.drain_days) as Time * DAY_S;
    sample_rates(s, world, end, sink)?;

    let mut trade = trade_generator(s, world, replication)?;
    let mut sched: Scheduler<Event> = Scheduler::new(end, s.max_events);
    for c in 0..trade.lanes() {
        if let Some(t) = trade.next_arrival(c) {
            sched.schedule(t, Event::Arrival(c as u32));
        }
    }
    for (i, e) in s.trade.explicit.iter().enumerate() {
        sched.schedule(e.at, Event::Explicit(i as u32));
    }
    sched.schedule(DAY_S, Event::DayEnd);

    let mut state = RunState {
        s,
        fault,
        learned: first,
        world,
        ledger: &mut ledger,
        rails: &mut rails,
        routing: &routing,
        rail_keys: s.rails.iter().map(|r| rng::key(&r.name)).collect(),
        replication,
        slots: Vec::new(),
        free: Vec::new(),
        in_flight: 0,
        next_id: 1,
        finished: Vec::new(),
        timers: Vec::new(),
        wake: Vec::new(),
        report: RunReport::default(),
        error: None,
        arrivals_end: s.days as Time * DAY_S,
        depth: Depth::new(s.fx.depth.clone()),
        reports: Vec::new(),
    };
    let stats = sched.run(|sched, event| {
        if state.error.is_some() {
            return;
        }
        let result = state
            .handle(sched, event, &mut trade, sink)
            .and_then(|()| state.write_finished(sink))
            .and_then(|()| state.reports.drain(..).try_for_each(|r| sink.report(&r)));
        if let Err(e) = result {
            state.error = Some(e);
        }
    });
    if let Some(e) = state.error.take() {
        return Err(e);
    }
    if stats.reason == StopReason::EventLimit {
        return Err(Error::Budget(format!(
            "replication {replication} reached the event limit ({} events) at {}; raise [scenario] max_events",
            s.max_events,
            crate::engine::iso_time(s.epoch, stats.now)
        )));
    }
    // What is still in flight at the horizon is reported, not lost.
    let stop_at = stats.now.max(end);
    for slot in 0..state.slots.len() {
        if let Some(mut p) = state.slots[slot].take() {
            p.status = Status::Unsettled;
            // The principal of a payment still in transit at the horizon has been in transit
            // until then.
            p.stop_clock(stop_at);
            state.finish(&p, stop_at)?;
        }
    }
    state.close_day(stop_at, sink)?;
    state.report.events = stats.events;
    state.report.postings = state.ledger.postings();
    state.report.trade_effects = trade.effects.clone();
    state
        .report
        .shocks
        .resize(s.shocks.len(), ShockCount::default());
    state.report.liquidity = state.rails.iter().map(Rail::liquidity).collect();
    state.report.unallocated_carry_usd = state
        .report
        .liquidity
        .iter()
        .map(|l| l.carry_unallocated_usd)
        .sum();
    let learned: FirstPass = state.rails.iter().map(Rail::learned).collect();
    state.report.final_balances = state
        .ledger
        .accounts()
        .map(|(_, name, ccy, bal)| {
            (
                name.to_string(),
                world.currencies.code(ccy).to_string(),
                bal,
            )
        })
        .collect();
    state
        .ledger
        .check_conservation(&world.currencies)
        .map_err(|e| Error::Invariant(format!("replication {replication}: {e}")))?;
    Ok((state.report, learned))
}

struct RunState<'a> {
    s: &'a Scenario,
    fault: Option<(crate::rails::Fault, u64)>,
    /// What the first pass learned about each rail: its balances' carry per dollar (the second
    /// pass).
    learned: Option<&'a [Learned]>,
    world: &'a World,
    ledger: &'a mut Ledger,
    rails: &'a mut Vec<Rail>,
    routing: &'a Routing,
    /// Each rail's stream key: its name's.
    rail_keys: Vec<u64>,
    replication: u32,
    slots: Vec<Option<Payment>>,
    free: Vec<u32>,
    in_flight: usize,
    next_id: u64,
    /// Payments finished by the current event, written as soon as it has been handled: a
    /// payment's whole cost is known when it finishes (its balances' carry per dollar comes
    /// from the first pass), so nothing waits for the day's close and memory holds only the
    /// payments in flight.
    finished: Vec<PaymentRecord>,
    timers: Vec<(Time, u32)>,
    wake: Vec<u32>,
    report: RunReport,
    error: Option<Error>,
    arrivals_end: Time,
    /// Rolling traded volume per currency pair (market depth).
    depth: Depth,
    /// What rails reported during the current event.
    reports: Vec<ReportRow>,
}

impl RunState<'_> {
    fn handle(
        &mut self,
        sched: &mut Scheduler<Event>,
        event: Event,
        trade: &mut Generator,
        sink: &mut dyn Sink,
    ) -> Result<()> {
        let now = sched.now();
        match event {
            Event::Arrival(c) => {
                let c = c as usize;
                if now < self.arrivals_end {
                    let invoice = trade.invoice(c, now, self.world);
                    if trade.kept(c, &invoice) {
                        self.start(sched, invoice)?;
                    }
                    if let Some(t) = trade.next_arrival(c).filter(|&t| t < self.arrivals_end) {
                        sched.schedule(t, Event::Arrival(c as u32));
                    }
                }
            }
            Event::Explicit(i) => {
                let e = &self.s.trade.explicit[i as usize];
                let mid = self.world.fx.mid(e.currency, now).to_f64().unwrap_or(1.0);
                let invoice = Invoice {
                    corridor: e.corridor,
                    t0: now,
                    invoiced_at: now,
                    currency: e.currency,
                    amount: e.amount,
                    ticket_usd: e.amount.to_f64().unwrap_or(0.0) / mid,
                    bearer: e.bearer,
                    key: rng::key2(rng::key("explicit"), i as u64),
                };
                self.start(sched, invoice)?;
            }
            Event::Step(slot) => self.step(sched, slot)?,
            Event::Timer { rail, token } => {
                let mut ctx = Ctx {
                    now,
                    world: self.world,
                    ledger: &mut *self.ledger,
                    depth: &mut self.depth,
                    timers: &mut self.timers,
                    wake: &mut self.wake,
                    reports: &mut self.reports,
                    rail: &self.s.rails[rail as usize].name,
                    fault: self.fault,
                    payment: 0,
                };
                self.rails[rail as usize].timer(&mut ctx, token)?;
                // A rail's own clock books between its accounts, never a client's: a client's
                // posting belongs to a payment's step, where it is counted.
                if self.ledger.take_watched(|_, _, _| {}) {
                    return Err(Error::Invariant(format!(
                        "rail {:?} at t = {now} s: its timer posted to a client's account \
                         outside any payment's step",
                        self.s.rails[rail as usize].name
                    )));
                }
                self.flush_requests(sched, rail as usize);
            }
            Event::DayEnd => {
                self.close_day(now, sink)?;
                sink.day(now)?;
                if now < self.arrivals_end || self.in_flight > 0 {
                    sched.schedule(now + DAY_S, Event::DayEnd);
                }
            }
        }
        Ok(())
    }

    /// Turns rail requests (timers, wake-ups) into events.
    fn flush_requests(&mut self, sched: &mut Scheduler<Event>, rail: usize) {
        for (t, token) in self.timers.drain(..) {
            if t != Time::MAX {
                sched.schedule(
                    t,
                    Event::Timer {
                        rail: rail as u16,
                        token,
                    },
                );
            }
        }
        for slot in self.wake.drain(..) {
            sched.schedule(sched.now(), Event::Step(slot));
        }
    }

    fn start(&mut self, sched: &mut Scheduler<Event>, inv: Invoice) -> Result<()> {
        let id = self.next_id;
        self.next_id += 1;
        let corridor = &self.s.trade.corridors[inv.corridor];
        // The payment's own streams are keyed by (corridor, its number in the corridor), so the
        // same invoice routes and travels alike in every variant that shares it.
        let mut route_rng = rng::stream(self.s.seed, self.replication, Purpose::Route, inv.key, 0);
        let mut u: f64 = rand::RngExt::random(&mut route_rng);
        // A route-share shock sends its share of the corridor to its rail; the rest take their
        // route with the same draw, rescaled (so a payment's route depends only on its draw).
        let shifted = self
            .world
            .shocks
            .iter()
            .enumerate()
            .find_map(|(k, sh)| match sh.kind {
                Kind::RouteShare {
                    rail, corridors, ..
                } if corridors.covers(corridor.exporter, corridor.importer) => {
                    sh.route_share(inv.t0).map(|share| (k, rail, share))
                }
                _ => None,
            });
        let mut forced = None;
        if let Some((k, rail, share)) = shifted {
            if u < share {
                forced = Some(rail);
                // Counted in shocks.csv as sent to the rail by the shock.
                if self.report.shocks.len() < self.world.shocks.len() {
                    self.report
                        .shocks
                        .resize(self.world.shocks.len(), ShockCount::default());
                }
                self.report.shocks[k].rerouted += 1;
            } else if share < 1.0 {
                u = (u - share) / (1.0 - share);
            }
        }
        let shares = &self.routing.shares[inv.corridor];
        let rail = shares
            .iter()
            .find(|(_, c)| u < *c)
            .or(shares.last())
            .map_or(0, |(r, _)| *r);
        let rail = forced.unwrap_or(rail);
        let value_usd = self.world.fx.to_usd(inv.currency, inv.amount, inv.t0);
        let p = Payment {
            id,
            corridor: inv.corridor as u16,
            exporter: corridor.exporter,
            importer: corridor.importer,
            invoice_ccy: inv.currency,
            invoice_amount: inv.amount,
            value_usd,
            ticket_usd: inv.ticket_usd,
            bearer: inv.bearer,
            t0: inv.t0,
            invoiced_at: inv.invoiced_at,
            rail,
            fallback_taken: false,
            rerouted: false,
            queued_s: 0,
            stage: 0,
            hops: 0,
            hop: 0,
            flag: false,
            amount: Decimal::ZERO,
            ccy: self.world.members[corridor.importer].currency,
            unit_amount: Decimal::ZERO,
            unit_usd0: Usd::ZERO,
            fees_usd: Usd::ZERO,
            spread_usd: Usd::ZERO,
            drift_usd: Usd::ZERO,
            usd_bought: Decimal::ZERO,
            usd_sold: Decimal::ZERO,
            status: Status::Pending,
            settled_at: 0,
            debited_at: None,
            hold_carry_pa: self.world.liquidity_cost_pa
                [self.world.members[corridor.importer].currency.index()],
            hold_since: inv.t0,
            credited_at: None,
            float_usd: 0.0,
            ledger_debited_usd: Usd::ZERO,
            ledger_credited_usd: Usd::ZERO,
            rounding_allowance_usd: Usd::ZERO,
            spread_quote_usd: Usd::ZERO,
            uses: Vec::new(),
            key: inv.key,
            rng: rng::stream(
                self.s.seed,
                self.replication,
                Purpose::Rail,
                inv.key,
                self.rail_keys[rail],
            ),
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(p);
                slot
            }
            None => {
                self.slots.push(Some(p));
                (self.slots.len() - 1) as u32
            }
        };
        self.in_flight += 1;
        self.report.payments += 1;
        self.check_budget(sched.now())?;
        self.step(sched, slot)
    }

    /// Stops a run that would exhaust memory: too many payments held at once (waiting on a
    /// rail), or far more payments than validation estimated.
    fn check_budget(&self, now: Time) -> Result<()> {
        let held = self.in_flight;
        let when = || crate::engine::iso_time(self.s.epoch, now);
        if held > MAX_PAYMENTS_HELD {
            return Err(Error::Budget(format!(
                "replication {}: more than {MAX_PAYMENTS_HELD} payments are held at once at {} \
                 (waiting to settle); the run stopped before exhausting \
                 memory. Payments are piling up faster than the rails settle them: check \
                 trade.size (invoice sizes in USD), trade.scale and the rails' capacity",
                self.replication,
                when()
            )));
        }
        if self.report.payments > MAX_PAYMENTS_STARTED {
            return Err(Error::Budget(format!(
                "replication {}: more than {MAX_PAYMENTS_STARTED} payments by {}; the run \
                 stopped (the most one replication may generate)",
                self.replication,
                when()
            )));
        }
        Ok(())
    }

    fn step(&mut self, sched: &mut Scheduler<Event>, slot: u32) -> Result<()> {
        let now = sched.now();
        let missing = || Error::Invariant(format!("step of empty slot {slot}"));
        loop {
            // The payment stays in its slot while the rail works on it: moving a payment
            // (a few hundred bytes) out and back on every step showed up in profiles.
            let p = self.slots[slot as usize].as_mut().ok_or_else(missing)?;
            let rail = p.rail;
            let gate = gate(self.world, p, now, &mut self.report.shocks);
            let next = match gate {
                Gate::Go => None,
                Gate::Wait(until) => {
                    p.queued_s += until - now;
                    sched.schedule(until, Event::Step(slot));
                    return Ok(());
                }
                Gate::Fail => {
                    p.status = Status::Failed;
                    self.retire(slot, now)?;
                    return Ok(());
                }
                Gate::Reroute => {
                    p.rerouted = true;
                    Some(Next::Fallback)
                }
            };
            let next = match next {
                Some(n) => n,
                None => self.rail_step(sched, slot, now)?,
            };
            let p = self.slots[slot as usize].as_mut().ok_or_else(missing)?;
            match next {
                Next::At(t) => {
                    if t != Time::MAX {
                        sched.schedule(t, Event::Step(slot));
                    }
                }
                Next::Park => {}
                Next::Done => self.retire(slot, now)?,
                Next::Fallback => {
                    let fallback = &self.routing.fallback[p.corridor as usize];
                    let w = self.world;
                    // The next rail of the fallback list after this one that no shock closes
                    // to this payment now.
                    let start = fallback
                        .iter()
                        .position(|&r| r == rail)
                        .map_or(0, |i| i + 1);
                    let next_rail = fallback[start..]
                        .iter()
                        .copied()
                        .find(|&r| r != rail && !closed(w, r, p, now));
                    match next_rail {
                        Some(r) => {
                            p.rail = r;
                            p.fallback_taken = true;
                            p.stage = 0;
                            p.rng = rng::stream(
                                self.s.seed,
                                self.replication,
                                Purpose::Rail,
                                p.key,
                                self.rail_keys[r],
                            );
                            continue;
                        }
                        None => {
                            p.status = Status::Failed;
                            self.retire(slot, now)?;
                        }
                    }
                }
            }
            return Ok(());
        }
    }

    /// The payment in `slot` takes one step on its rail; returns what the rail wants next.
    fn rail_step(&mut self, sched: &mut Scheduler<Event>, slot: u32, now: Time) -> Result<Next> {
        let missing = || Error::Invariant(format!("step of empty slot {slot}"));
        {
            let p = self.slots[slot as usize].as_mut().ok_or_else(missing)?;
            let (rail, payment) = (p.rail, p.id);
            let mut ctx = Ctx {
                now,
                world: self.world,
                ledger: &mut *self.ledger,
                depth: &mut self.depth,
                timers: &mut self.timers,
                wake: &mut self.wake,
                reports: &mut self.reports,
                rail: &self.s.rails[rail].name,
                fault: self.fault,
                payment,
            };
            let next = self.rails[rail].step(&mut ctx, slot, p)?;
            // What this step moved out of and into the clients' accounts, from the ledger.
            let w = self.world;
            let p = self.slots[slot as usize].as_mut().ok_or_else(missing)?;
            self.ledger.take_watched(|ccy, out, inn| {
                p.ledger_debited_usd += w.fx.to_usd_fixed(ccy, out, p.t0);
                p.ledger_credited_usd += w.fx.to_usd_fixed(ccy, inn, p.t0);
            });
            self.flush_requests(sched, rail);
            Ok(next)
        }
    }

    /// Frees a finished payment's slot and records it.
    fn retire(&mut self, slot: u32, now: Time) -> Result<()> {
        let p = self.slots[slot as usize]
            .take()
            .ok_or_else(|| Error::Invariant(format!("retire of empty slot {slot}")))?;
        self.free.push(slot);
        self.finish(&p, now)
    }

    /// Records a finished payment (`end`: when it finished, for the principal still in transit
    /// of a payment unsettled at the horizon); it is written when the current event ends.
    fn finish(&mut self, p: &Payment, end: Time) -> Result<()> {
        self.in_flight -= 1;
        let w = self.world;
        let total_cost_usd = p.total_cost_usd(w);
        // Out of the USD values' range (±1.7e21 USD, beyond what validation lets a scenario
        // describe): stop rather than print saturated figures.
        let parts = [
            total_cost_usd,
            p.fees_usd,
            p.spread_usd,
            p.drift_usd,
            p.spread_quote_usd,
            p.rounding_allowance_usd,
            p.ledger_debited_usd,
            p.ledger_credited_usd,
        ];
        if parts.iter().any(|v| v.is_saturated()) {
            return Err(Error::Invariant(format!(
                "payment {} (seed {}, replication {}): a USD value left the range of the cost \
                 accounting (±1.7e21 USD)",
                p.id, self.s.seed, self.replication
            )));
        }
        // What the books show against the parts from the fee path, each conversion's quote and
        // mids: only each conversion's rounding to minor units may separate them (the USD
        // values are exact to 10⁻¹⁷ USD beyond that). A posting outside the paths, or a
        // conversion booked at another rate than its quote, breaks it.
        let residual = (total_cost_usd - (p.fees_usd + p.spread_quote_usd + p.drift_usd)).abs();
        if residual > p.rounding_allowance_usd + Usd::from_decimal(Decimal::new(1, 6)) {
            return Err(Error::Invariant(format!(
                "payment {} (seed {}, replication {}): the value the ledger shows debited \
                 minus credited differs from fees + spread + drift by {residual} USD",
                p.id, self.s.seed, self.replication
            )));
        }
        self.report.max_residual_usd = self.report.max_residual_usd.max(residual.to_decimal());
        let importer = &w.members[p.importer];
        let settled = p.status == Status::Settled;
        let latency_s = settled.then(|| p.settled_at - p.t0);
        let within_1bd = settled
            && importer
                .calendar
                .add_business_days(p.t0, 1)
                .is_some_and(|t| p.settled_at <= t);
        let same_day = settled && importer.calendar.same_local_date(p.settled_at, p.t0);
        let (liquidity, funding_bought, funding_sold) = self.balance_charges(p);
        self.finished.push(PaymentRecord {
            replication: self.replication,
            payment_id: p.id,
            corridor: p.corridor,
            exporter: p.exporter as u16,
            importer: p.importer as u16,
            rail: p.rail as u16,
            fallback: p.fallback_taken,
            rerouted: p.rerouted,
            queued_s: p.queued_s,
            bearer: p.bearer,
            invoice_ccy: p.invoice_ccy,
            invoice_amount: p.invoice_amount,
            value_usd: p.value_usd,
            invoiced_at: p.invoiced_at,
            initiated_at: p.t0,
            settled_at: settled.then_some(p.settled_at),
            latency_s,
            within_1h: latency_s.is_some_and(|l| l <= HOUR_S),
            same_day,
            within_1bd,
            hops: p.hops,
            fees_usd: p.fees_usd.to_decimal(),
            spread_usd: p.spread_usd.to_decimal(),
            drift_usd: p.drift_usd.to_decimal(),
            liquidity_usd: liquidity,
            float_usd: crate::money::minor_from_f64(p.float_usd, 6),
            total_cost_usd: total_cost_usd.to_decimal(),
            principal_at_risk_usd_h: Decimal::from_i128_with_scale(
                p.principal_at_risk_cents(end).0,
                2,
            ),
            usd_bought: p.usd_bought + funding_bought,
            usd_sold: p.usd_sold + funding_sold,
            status: p.status,
            cost_bps: Decimal::ZERO,
            cents: Default::default(),
        });
        Ok(())
    }

    /// What payment `p` pays for the balances it drew on: each use × that balance's carry per
    /// dollar over the run, and its share of the dollars bought and sold to fund them (zero in
    /// the first pass, which only learns the rates): (liquidity, USD bought, USD sold).
    fn balance_charges(&self, p: &Payment) -> (Decimal, Decimal, Decimal) {
        let Some(learned) = self.learned else {
            return (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        };
        let (mut carry, mut bought, mut sold) = (0.0, 0.0, 0.0);
        for &(rail, k, used_usd) in &p.uses {
            if let Some(r) = learned
                .get(rail as usize)
                .and_then(|l| l.rates.get(k as usize))
                .copied()
                .flatten()
            {
                carry += used_usd * r.carry_usd;
                bought += used_usd * r.usd_bought;
                sold += used_usd * r.usd_sold;
            }
        }
        let d = |x: f64| crate::money::minor_from_f64(x, 6);
        (d(carry), d(bought), d(sold))
    }

    /// Closes a day: samples the rails' balances and the pairs' depth, and writes what is still
    /// waiting (the payments reported unsettled at the horizon).
    fn close_day(&mut self, now: Time, sink: &mut dyn Sink) -> Result<()> {
        for (r, rail) in self.rails.iter_mut().enumerate() {
            rail.end_of_day(self.world, self.ledger, now);
            if now <= self.world.trade_end {
                for b in rail.balances(self.world, self.ledger, now) {
                    sink.liquidity(now, r, &b)?;
                }
            }
        }
        if now <= self.world.trade_end {
            for (a, b) in self.depth.pairs() {
                let volume = self.depth.volume_per_day(a, b, now);
                let base = self.world.fx.spreads.pair_half_bps(a, b);
                let factor = self.depth.factor(a, b, base, now);
                sink.depth(now, (a, b), volume, base * factor)?;
            }
        }
        self.write_finished(sink)
    }

    /// Closes the finished payments' rows (cost in bps, cents) and writes them, in the order
    /// they finished.
    fn write_finished(&mut self, sink: &mut dyn Sink) -> Result<()> {
        for row in &mut self.finished {
            row.close();
            // The identity again on the cents as printed: each of the three parts and the
            // total is rounded on its own (half a cent each), so they may differ by at most
            // two cents. A wider gap means a printed column is wrong (an overflow, a
            // saturation), and the manifest must not report a pass over it.
            let c = &row.cents;
            let printed = (c.total.0 - (c.fees.0 + c.spread.0 + c.drift.0)).abs();
            if printed > 2 {
                return Err(Error::Invariant(format!(
                    "payment {} (seed {}, replication {}): printed total_cost_usd {} differs \
                     from printed fees + spread + drift by {printed} cents",
                    row.payment_id, self.s.seed, self.replication, c.total
                )));
            }
            self.report.max_printed_residual_cents =
                self.report.max_printed_residual_cents.max(printed as u64);
        }
        for row in self.finished.drain(..) {
            sink.payment(&row)?;
        }
        Ok(())
    }
}
