//! Differential fuzzing: wasm-smith modules generated from fixed seeds run on Tenon and on the wasmi
//! interpreter, and every call's outcome and the exported state must agree.
//!
//! `TENON_FUZZ_SEEDS` (how many seeds, default [`DEFAULT_SEEDS`]) and `TENON_FUZZ_START` (the first, default
//! 0) choose the seeds; [`REGRESSION_SEEDS`] always run and [`WASMI_BUG_SEEDS`] never do.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use tenon_tests::differential::{Oracle, Report, wat};
use tenon_tests::generate;

/// Seeds run by default: about 10 s in the debug profile.
const DEFAULT_SEEDS: u64 = 3000;

/// Seeds that once found a mismatch in Tenon, run whatever the environment says.
const REGRESSION_SEEDS: &[u64] = &[];

/// Seeds whose modules wasmi 2.0.0 runs wrongly, skipped. After an `if` with block parameters whose `then` arm
/// holds a block with several results (even when that arm does not run), wasmi reads garbage for an operand
/// that was on the stack below the `if`: `(func (param i32 i32) (result i32) local.get 0 i64.const 0
/// local.get 1 if (param i64) drop block (result i32 i32) i32.const 1 i32.const 2 end drop drop else drop end)`
/// returns garbage for (7, 0) instead of 7, as Tenon does.
const WASMI_BUG_SEEDS: &[u64] = &[32620, 33701];

/// How many failing modules are printed as text in the failure message.
const MODULES_SHOWN: usize = 3;

/// Counts over all seeds.
#[derive(Default)]
struct Totals {
    seeds: u64,
    generated: u64,
    validated: u64,
    compared: usize,
    outcomes: BTreeMap<&'static str, usize>,
    skipped: BTreeMap<&'static str, usize>,
    mismatches: usize,
}

#[test]
fn tenon_agrees_with_wasmi() {
    let start = env_u64("TENON_FUZZ_START", 0);
    let count = env_u64("TENON_FUZZ_SEEDS", DEFAULT_SEEDS);
    let oracle = Oracle::new();
    let mut totals = Totals::default();
    let mut failures = Vec::new();
    let seeds = (start..start + count).filter(|seed| !WASMI_BUG_SEEDS.contains(seed));
    for seed in REGRESSION_SEEDS.iter().copied().chain(seeds) {
        totals.seeds += 1;
        let Some(module) = generate::from_seed(seed) else { continue };
        totals.generated += 1;
        let report = match catch_unwind(AssertUnwindSafe(|| oracle.check(&module))) {
            Ok(report) => report,
            Err(payload) => {
                let message = payload.downcast_ref::<&str>().map(|s| s.to_string());
                let message = message.or_else(|| payload.downcast_ref::<String>().cloned()).unwrap_or_default();
                failures.push((seed, format!("panicked: {message}"), module.wasm));
                continue;
            }
        };
        totals.add(&report);
        if let Some(mismatch) = report.mismatches.first() {
            failures.push((seed, mismatch.to_string(), module.wasm));
        }
    }
    println!(
        "differential: {} seeds, {} modules generated, {} validated, {} calls compared, skipped {:?}, {} mismatches",
        totals.seeds, totals.generated, totals.validated, totals.compared, totals.skipped, totals.mismatches
    );
    println!("differential: outcomes of the compared calls {:?}", totals.outcomes);
    // Floors, so that an oracle that rejected everything, or a generator that stopped producing calls, cannot
    // look green: by default 3,000 seeds validate and compare 7,966 calls, 2,756 of which return normally.
    assert!(totals.validated * 10 >= totals.generated * 9, "only {} of {} modules validated", totals.validated, totals.generated);
    assert!(totals.compared as u64 >= 2 * totals.seeds, "only {} calls compared for {} seeds", totals.compared, totals.seeds);
    let returned = totals.outcomes.get("returned").copied().unwrap_or(0) as u64;
    assert!(returned * 4 >= totals.seeds, "only {returned} calls returned normally for {} seeds", totals.seeds);
    if !failures.is_empty() {
        let mut message = format!("{} of {} seeds disagree:\n", failures.len(), totals.seeds);
        for (seed, failure, _) in &failures {
            message += &format!("  seed {seed}: {failure}\n");
        }
        for (seed, _, wasm) in failures.iter().take(MODULES_SHOWN) {
            message += &format!("\nseed {seed}:\n{}\n", wat(wasm));
        }
        panic!("{message}");
    }
}

impl Totals {
    /// Adds one module's report.
    fn add(&mut self, report: &Report) {
        self.validated += u64::from(report.validated);
        self.compared += report.compared;
        for (label, count) in &report.outcomes {
            *self.outcomes.entry(label).or_default() += count;
        }
        for skip in &report.skipped {
            *self.skipped.entry(skip.reason).or_default() += 1;
        }
        self.mismatches += report.mismatches.len();
    }
}

/// The environment variable `name` as a number, or `default` when unset.
fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value.parse().unwrap_or_else(|_| panic!("{name}={value} is not a number")),
        Err(_) => default,
    }
}
