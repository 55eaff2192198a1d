//! Rail kind `netting`: not built yet (see issue 3). Declaring it in a scenario is refused with
//! a clear message until it is.

use serde::{Deserialize, Serialize};

use super::{Ctx, Next, Payment, RailContext, RailKind, Setup};
use crate::Result;
use crate::ledger::Ledger;

/// The `[[rail]]` table of this kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub name: String,
}

/// Validated parameters.
#[derive(Debug, Clone)]
pub struct Params {}

impl Params {
    pub fn from_section(_s: &Section, cx: &RailContext) -> Result<Params> {
        Err(cx.err(&["kind"], "rail kind \"netting\" is not available yet"))
    }

    pub fn serves(&self, _exporter: &str, _importer: &str) -> bool {
        false
    }
}

/// Run-time state.
#[derive(Debug)]
pub struct Netting {}

impl Netting {
    pub fn new(_p: Params, _setup: &Setup, _ledger: &mut Ledger) -> Result<Self> {
        Ok(Self {})
    }
}

impl RailKind for Netting {
    fn step(&mut self, _ctx: &mut Ctx, _slot: u32, _p: &mut Payment) -> Result<Next> {
        Err(crate::Error::Invariant(
            "rail kind \"netting\" is not available yet".into(),
        ))
    }
}

/// One netting cycle, for netting.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleRecord {
    /// Index of the rail in the scenario.
    pub rail: usize,
    pub at: crate::engine::Time,
    /// Items settled and items unwound (a participant failed).
    pub items: u64,
    pub unwound_items: u64,
    /// Gross value of the items, and the sum of the positive net positions, at the cycle's mids.
    pub gross_usd: rust_decimal::Decimal,
    pub net_usd: rust_decimal::Decimal,
    pub unwound_usd: rust_decimal::Decimal,
    /// Net positions carried to the next cycle under credit quotas.
    pub carried_forward_usd: rust_decimal::Decimal,
    /// The member that failed at this cycle, if any.
    pub failed_member: Option<usize>,
}
