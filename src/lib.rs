//! kervan: a discrete-event simulator of cross-border payment settlement among the member
//! states of the Organization of Turkic States.
//!
//! The layers, from the bottom up (see `docs/architecture.md`):
//! - [`engine`]: the generic event kernel (time, queue, bounded run). No economics.
//! - [`calendar`], [`money`], [`fx`], [`ledger`]: business hours, exact amounts, exchange
//!   rates and quotes, double-entry accounts.
//! - [`trade`] generates payments; [`rails`] settle them; [`sim`] wires one run together.
//! - [`scenario`] reads and validates TOML; [`experiment`] runs replications;
//!   [`output`] writes CSV, the manifest and the summary table.

pub mod calendar;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod fx;
pub mod input;
pub mod ledger;
pub mod money;
pub mod output;
pub mod rails;
pub mod record;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod terms;
pub mod trade;
pub mod world;

pub use error::{Error, Result};
