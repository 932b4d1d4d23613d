//! Differential fuzzing: wasm-smith modules generated from fixed seeds run on Tenon and on the wasmi
//! interpreter, and every call's outcome and the exported state must agree. The seeds take turns among
//! Tenon's configurations ([`Setup`]): default, explicit checks, dynamic memories, fuel, epochs.
//!
//! `TENON_FUZZ_SEEDS` (how many seeds, default [`DEFAULT_SEEDS`]) and `TENON_FUZZ_START` (the first, default
//! 0) choose the seeds; [`REGRESSION_SEEDS`] always run and [`WASMI_BUG_SEEDS`] never do.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use tenon_tests::differential::{Oracle, Report, wat};
use tenon_tests::generate;
use tenon_tests::run::Setup;

/// Seeds run by default: about 10 s in the debug profile.
const DEFAULT_SEEDS: u64 = 3000;

/// Seeds that once found a mismatch in Tenon, run whatever the environment says.
const REGRESSION_SEEDS: &[u64] = &[];

/// Seeds whose modules wasmi 2.0.0 runs wrongly, skipped. After an `if` with block parameters whose `then` arm
/// holds a block with several results (even when that arm does not run), wasmi reads garbage for an operand
/// that was on the stack below the `if`: [`WASMI_BUG`] returns garbage for (7, 0) instead of 7. Wasmtime 48
/// agrees with Tenon on both seeds (`cargo run --release -p tenon-benches --bin fuzz-triage -- --seeds
/// 32620..32621`, and 33701). [`wasmi_bugs_are_still_there`] fails once wasmi is fixed.
const WASMI_BUG_SEEDS: &[u64] = &[32620, 33701];

/// The smallest module showing the wasmi bug of [`WASMI_BUG_SEEDS`]: `f(7, 0)` must return 7.
const WASMI_BUG: &str = r#"(module
  (func (export "f") (param i32 i32) (result i32)
    local.get 0
    i64.const 0
    local.get 1
    if (param i64)
      drop
      block (result i32 i32)
        i32.const 1
        i32.const 2
      end
      drop
      drop
    else
      drop
    end))"#;

/// How many failing modules are printed as text in the failure message.
const MODULES_SHOWN: usize = 3;

/// Counts over all seeds.
#[derive(Default)]
struct Totals {
    seeds: u64,
    generated: u64,
    validated: u64,
    compared: usize,
    typed: usize,
    table_elements: usize,
    /// Per setup: seeds run and calls compared.
    by_setup: BTreeMap<String, (u64, usize)>,
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
        let setup = Setup::for_seed(seed);
        let report = match catch_unwind(AssertUnwindSafe(|| oracle.check(&module, setup))) {
            Ok(report) => report,
            Err(payload) => {
                let message = payload.downcast_ref::<&str>().map(|s| s.to_string());
                let message = message.or_else(|| payload.downcast_ref::<String>().cloned()).unwrap_or_default();
                failures.push((seed, format!("panicked: {message}"), module.wasm));
                continue;
            }
        };
        totals.add(&report);
        let setup_totals = totals.by_setup.entry(format!("{setup:?}")).or_default();
        *setup_totals = (setup_totals.0 + 1, setup_totals.1 + report.compared);
        if let Some(mismatch) = report.mismatches.first() {
            failures.push((seed, mismatch.to_string(), module.wasm));
        }
    }
    println!(
        "differential: {} seeds, {} modules generated, {} validated, {} calls compared, skipped {:?}, {} mismatches",
        totals.seeds, totals.generated, totals.validated, totals.compared, totals.skipped, totals.mismatches
    );
    println!(
        "differential: {} of the calls typed (TypedFunc), {} table elements compared, (seeds, calls) by setup {:?}",
        totals.typed, totals.table_elements, totals.by_setup
    );
    println!("differential: outcomes of the compared calls {:?}", totals.outcomes);
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
    // Floors, so that an oracle that rejected everything, or a generator that stopped producing calls, cannot
    // look green. By default 3,000 seeds validate, and compare 23,817 calls (5,121 typed, 8,411 returning
    // normally, at least 4,482 per setup) and 193,451 table elements. Too few seeds prove nothing either way.
    if totals.seeds >= 500 {
        let seeds = totals.seeds as usize;
        let floor = |what: &str, count: usize, floor: usize| assert!(count >= floor, "only {count} {what} for {seeds} seeds");
        floor("modules validated", totals.validated as usize * 10, totals.generated as usize * 9);
        floor("calls compared", totals.compared, 6 * seeds);
        floor("typed calls compared", totals.typed, seeds);
        floor("table elements compared", totals.table_elements, 30 * seeds);
        floor("calls returned normally", totals.outcomes.get("returned").copied().unwrap_or(0), 2 * seeds);
        for (setup, &(setup_seeds, compared)) in &totals.by_setup {
            assert!(compared >= 5 * setup_seeds as usize, "only {compared} calls compared under {setup}");
        }
    }
}

impl Totals {
    /// Adds one module's report.
    fn add(&mut self, report: &Report) {
        self.validated += u64::from(report.validated);
        self.compared += report.compared;
        self.typed += report.typed;
        self.table_elements += report.table_elements;
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

/// The wasmi bug of [`WASMI_BUG_SEEDS`] is still there: its seeds still disagree, and [`WASMI_BUG`] still
/// returns the wrong value on wasmi (and the right one on Tenon). When this fails, wasmi is fixed: remove the
/// seeds from the skip list, and this test.
#[test]
fn wasmi_bugs_are_still_there() {
    let oracle = Oracle::new();
    for &seed in WASMI_BUG_SEEDS {
        let module = generate::from_seed(seed).expect("the seed makes a module");
        let report = oracle.check(&module, Setup::for_seed(seed));
        assert!(!report.mismatches.is_empty(), "seed {seed} no longer disagrees: is wasmi fixed?");
    }
    let wasm = wat::parse_str(WASMI_BUG).unwrap();
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, &wasm).unwrap();
    let mut store = wasmi::Store::new(&engine, ());
    let instance = wasmi::Instance::new(&mut store, &module, &[]).unwrap();
    let f = instance.get_typed_func::<(i32, i32), i32>(&store, "f").unwrap();
    assert_ne!(f.call(&mut store, (7, 0)).unwrap(), 7, "wasmi is fixed: remove WASMI_BUG_SEEDS and this test");

    let engine = tenon::Engine::default();
    let mut store = tenon::Store::new(&engine, ());
    let instance = tenon::Instance::new(&mut store, &tenon::Module::new(&engine, &wasm).unwrap(), &[]).unwrap();
    let f = instance.get_typed_func::<(i32, i32), i32>(&mut store, "f").unwrap();
    assert_eq!(f.call(&mut store, (7, 0)).unwrap(), 7);
}
