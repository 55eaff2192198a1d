//! Scheduled shocks (`[[shock]]`): the what-ifs a scenario can state — a devaluation, a
//! volatility or spread blow-out, a rail outage, a sanction, correspondents withdrawing, a
//! change in trade, an observer joining, a netting participant failing — each with a name, a
//! window [from, to) of sim time where it applies and its target, as validated. The rest of the
//! model asks these questions of them; nothing here draws a random number, so a shock never
//! shifts another stream's draws (docs/model.md, "Shocks").

use crate::engine::Time;
use crate::money::CurrencyId;

/// What an outage does to payments that arrive at the rail while it is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutageMode {
    /// They wait and start on the rail when the window ends.
    Queue,
    /// They fail (counted, conserved: nothing was debited).
    Fail,
    /// They go to the route's fallback rail at once.
    Reroute,
}

/// What an outage does to payments already on the rail when it goes down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InFlight {
    /// They carry on: the outage stops new payments only.
    Finish,
    /// Their next step waits for the window's end.
    Wait,
}

/// Whom a sanction cuts off a rail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// One corridor: (exporter, importer) member indices.
    Corridor(usize, usize),
    /// Every corridor a member is on, either side.
    Member(usize),
    /// Every corridor whose importer or exporter uses this currency.
    Currency(CurrencyId),
}

/// Which corridors a trade shock scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corridors {
    All,
    Member(usize),
    Corridor(usize, usize),
}

impl Corridors {
    pub fn covers(&self, exporter: usize, importer: usize) -> bool {
        match *self {
            Corridors::All => true,
            Corridors::Member(m) => exporter == m || importer == m,
            Corridors::Corridor(e, i) => exporter == e && importer == i,
        }
    }
}

/// Which quotes a spread shock widens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quotes {
    All,
    /// Every pair with this currency on either side.
    Currency(CurrencyId),
    /// One pair, either way round.
    Pair(CurrencyId, CurrencyId),
}

impl Quotes {
    pub fn covers(&self, a: CurrencyId, b: CurrencyId) -> bool {
        match *self {
            Quotes::All => true,
            Quotes::Currency(c) => a == c || b == c,
            Quotes::Pair(x, y) => (a == x && b == y) || (a == y && b == x),
        }
    }
}

/// A shock's kind and target.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// The currency's mid jumps at `from` so that its value in dollars changes by
    /// `value_change` (−0.20: it loses a fifth; its rate per USD rises by 25 %).
    Devaluation {
        currency: CurrencyId,
        value_change: f64,
    },
    /// The currency's volatility × `factor` inside the window.
    Volatility { currency: CurrencyId, factor: f64 },
    /// Spreads × `factor` inside the window on the quotes covered, the rails' own quotes
    /// included (the bridge's platform quote, the unit's conversion spread, the swap line's
    /// margin).
    Spread { quotes: Quotes, factor: f64 },
    /// The rail is unavailable inside the window.
    Outage {
        rail: usize,
        mode: OutageMode,
        in_flight: InFlight,
    },
    /// The rail may not carry these payments inside the window (routing and fallback skip it).
    Sanction { rail: usize, who: Who },
    /// Correspondents withdraw: on the rail (a correspondent chain), inside the window, each
    /// payment passes `extra_intermediaries` more banks, each fee is `fee_factor` times higher,
    /// and holds are `hold_probability_added` likelier.
    Derisking {
        rail: usize,
        extra_intermediaries: u32,
        fee_factor: f64,
        hold_probability_added: f64,
    },
    /// The corridors' trade × a factor that goes from `factor_from` at `from` to `factor_to` at
    /// `to` (a constant when they are equal).
    TradeGrowth {
        corridors: Corridors,
        factor_from: f64,
        factor_to: f64,
    },
    /// A share of the corridors' payments, going from `share_from` at `from` to `share_to` at
    /// `to`, is sent to `rail`; the rest keep their route.
    RouteShare {
        rail: usize,
        corridors: Corridors,
        share_from: f64,
        share_to: f64,
    },
    /// The member trades from `from` on: its corridors carry no invoice before.
    Join { member: usize },
    /// A netting participant fails at the rail's first cycle in the window (and recovers at
    /// `to`).
    Default { rail: usize, member: usize },
}

/// One validated `[[shock]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Shock {
    pub name: String,
    /// Where it applies: [from, to). A devaluation or a join happens at `from`.
    pub from: Time,
    pub to: Time,
    pub kind: Kind,
    /// How it reads in shocks.csv: `TRY`, `TR->AZ`, `swift-usd`, `KZ`, …
    pub target: String,
}

impl Shock {
    pub fn active(&self, t: Time) -> bool {
        self.from <= t && t < self.to
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Devaluation { .. } => "devaluation",
            Kind::Volatility { .. } => "volatility",
            Kind::Spread { .. } => "spread",
            Kind::Outage { .. } => "outage",
            Kind::Sanction { .. } => "sanction",
            Kind::Derisking { .. } => "derisking",
            Kind::TradeGrowth { .. } => "trade_growth",
            Kind::RouteShare { .. } => "route_share",
            Kind::Join { .. } => "join",
            Kind::Default { .. } => "default",
        }
    }

    /// A route-share shock's share at `t` (None outside its window): linear across it.
    pub fn route_share(&self, t: Time) -> Option<f64> {
        match self.kind {
            Kind::RouteShare {
                share_from,
                share_to,
                ..
            } if self.active(t) => {
                let span = (self.to - self.from).max(1) as f64;
                Some(share_from + (share_to - share_from) * ((t - self.from) as f64 / span))
            }
            _ => None,
        }
    }

    /// A trade shock's factor at `t` (1 outside its window): linear from `factor_from` to
    /// `factor_to` across it.
    pub fn trade_factor(&self, t: Time) -> f64 {
        match self.kind {
            Kind::TradeGrowth {
                factor_from,
                factor_to,
                ..
            } if self.active(t) => {
                let span = (self.to - self.from).max(1) as f64;
                factor_from + (factor_to - factor_from) * ((t - self.from) as f64 / span)
            }
            _ => 1.0,
        }
    }
}

/// The kinds `kind = "…"` accepts.
pub const KINDS: &[&str] = &[
    "devaluation",
    "volatility",
    "spread",
    "outage",
    "sanction",
    "derisking",
    "trade_growth",
    "route_share",
    "join",
    "default",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ramp_goes_from_one_factor_to_the_other_inside_its_window() {
        let s = Shock {
            name: "ramp".into(),
            from: 100,
            to: 300,
            kind: Kind::TradeGrowth {
                corridors: Corridors::All,
                factor_from: 0.0,
                factor_to: 1.0,
            },
            target: "*".into(),
        };
        assert_eq!(s.trade_factor(99), 1.0);
        assert_eq!(s.trade_factor(100), 0.0);
        assert_eq!(s.trade_factor(200), 0.5);
        assert_eq!(s.trade_factor(300), 1.0);
        assert!(Quotes::Pair(CurrencyId(1), CurrencyId(2)).covers(CurrencyId(2), CurrencyId(1)));
        assert!(!Quotes::Currency(CurrencyId(3)).covers(CurrencyId(1), CurrencyId(2)));
        assert!(Corridors::Member(2).covers(2, 0) && !Corridors::Corridor(1, 2).covers(2, 1));
    }
}
