//! Differential fuzzing: the fuzzer's bytes drive wasm-smith, and the module it builds must behave the same
//! on Tenon as on the wasmi interpreter (see `tenon_tests::differential`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tenon_tests::differential::{Oracle, wat};
use tenon_tests::generate;
use tenon_tests::run::Setup;

/// The engines, shared by all runs.
fn oracle() -> &'static Oracle {
    static ORACLE: OnceLock<Oracle> = OnceLock::new();
    ORACLE.get_or_init(Oracle::new)
}

fuzz_target!(|data: &[u8]| {
    let Some(module) = generate::from_data(data) else { return };
    let report = oracle().check(&module, Setup::for_seed(data.len() as u64));
    if let Some(mismatch) = report.mismatches.first() {
        panic!("Tenon and wasmi disagree: {mismatch}\n{}", wat(&module.wasm));
    }
});
