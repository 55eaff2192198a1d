//! Rail kind `pvp_bridge`: not built yet (see issue 3). Declaring it in a scenario is refused with
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
        Err(cx.err(&["kind"], "rail kind \"pvp_bridge\" is not available yet"))
    }

    pub fn serves(&self, _exporter: &str, _importer: &str) -> bool {
        false
    }
}

/// Run-time state.
#[derive(Debug)]
pub struct PvpBridge {}

impl PvpBridge {
    pub fn new(_p: Params, _setup: &Setup, _ledger: &mut Ledger) -> Result<Self> {
        Ok(Self {})
    }
}

impl RailKind for PvpBridge {
    fn step(&mut self, _ctx: &mut Ctx, _slot: u32, _p: &mut Payment) -> Result<Next> {
        Err(crate::Error::Invariant(
            "rail kind \"pvp_bridge\" is not available yet".into(),
        ))
    }
}
