//! Integration tests, in one binary so the crate is built once: runs of small scenarios,
//! the bad-input corpus, identities on every payment, and byte-identical reruns.

mod architecture;
mod bad_input;
mod baseline;
mod behaviour;
mod common;
mod determinism;
mod experiments;
mod identities;
mod netting;
mod observers;
mod outputs;
mod properties;
mod pvp_common;
mod resolved;
mod safety;
mod shocks;
mod swap_line;
mod worked_example;
