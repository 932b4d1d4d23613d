//! Support code for Tenon's integration tests (which live in `tests/`): generating wasm modules from seeds
//! and comparing Tenon with the wasmi interpreter on them, shared with the cargo-fuzz target in `fuzz/`, and
//! the guest components built from `tests/guests`.

pub mod component;
pub mod differential;
pub mod generate;
pub mod guests;
pub mod outcome;
pub mod rng;
pub mod run;
pub mod run_tenon;
pub mod run_wasmi;
