//! kervan: a discrete-event simulator of cross-border payment settlement among the member
//! states of the Organization of Turkic States.
//!
//! The floors, from the bottom up; a module names only modules on lower floors (see
//! `docs/architecture.md`, enforced by `tests/integration/architecture.rs`):
//! - [`engine`], [`money`], [`rng`], [`error`]: the event kernel (time, queue; no economics),
//!   exact amounts, named random streams, errors.
//! - [`calendar`], [`fx`], [`ledger`]: business hours, exchange rates and quotes, double-entry
//!   accounts; then [`terms`] (shared payment terms) and [`input`] (raw TOML sections and
//!   located errors).
//! - [`world`] (one replication's setting) and [`record`] (the per-payment record, the sink
//!   trait, report rows).
//! - [`trade`] generates payments; [`rails`] settle them, one file per kind.
//! - [`scenario`] reads and validates TOML; [`sim`] runs one replication; [`output`] writes
//!   CSV, the manifest and the summary; [`experiment`] runs replications.

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
pub mod shock;
pub mod sim;
pub mod terms;
pub mod trade;
pub mod world;

pub use error::{Error, Result};
