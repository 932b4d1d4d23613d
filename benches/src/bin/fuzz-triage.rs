//! The differential fuzzer with a third engine: every seed's module runs on Tenon, on wasmi (the oracle of
//! `cargo test`) and on Wasmtime 48, compared pairwise, so that a disagreement between Tenon and wasmi is
//! attributed to the engine the other two outvote before anyone calls it an oracle bug.
//!
//! `cargo run --release -p tenon-benches --bin fuzz-triage -- --seeds 0..10000 [--setup NAME|all] [--wat]`
//!
//! By default each seed runs under the Tenon configuration the differential test gives it
//! (`Setup::for_seed`), with Wasmtime configured the same way; `--setup all` runs every seed under every
//! setup. `--wat` prints the module of every seed on which the engines do not all agree. Exits non-zero if Tenon is outvoted on any seed.

use std::collections::BTreeMap;
use std::ops::Range;
use std::process::ExitCode;
use tenon_tests::differential::{Report, compare, wat};
use tenon_tests::generate::{self, TestModule};
use tenon_tests::run::Setup;
use tenon_tests::{run_tenon, run_wasmi};

/// The shared runner, instantiated for Wasmtime.
mod run_wasmtime {
    use tenon_tests::outcome::{Instantiation, Outcome, Signature, TrapKind, UNEXPORTED_FUNC, ValKind, Value};
    use tenon_tests::run::{Run, Setup, function_exports};
    use wasmtime as rt;

    /// Whether two handles name the same function: Wasmtime's handles have no equality, their raw
    /// function references do.
    fn same_func(store: &mut rt::Store<()>, a: &rt::Func, b: &rt::Func) -> bool {
        a.to_raw(&mut *store) == b.to_raw(&mut *store)
    }

    include!("../../../tests/src/run_embedding_api.rs");
}

/// How one seed's three comparisons came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    /// All three agree (or the module was not comparable: rejected by all, or skipped).
    Agree,
    /// Tenon and Wasmtime agree, wasmi differs: an oracle bug.
    WasmiOutvoted,
    /// Wasmtime and wasmi agree, Tenon differs: a Tenon bug.
    TenonOutvoted,
    /// Tenon and wasmi agree, Wasmtime differs.
    WasmtimeOutvoted,
    /// No two agree.
    AllDiffer,
    /// Tenon agrees with each of the others, which disagree with each other (possible where agreement is
    /// loose, as between traps of unnamed kinds).
    Inconclusive,
}

/// The engines of every setup.
struct Engines {
    tenon: Vec<(Setup, tenon::Engine)>,
    wasmtime: Vec<(Setup, wasmtime::Engine)>,
    wasmi: wasmi::Engine,
}

impl Engines {
    fn new() -> Engines {
        Engines {
            tenon: Setup::ALL.iter().map(|&s| (s, run_tenon::engine(s))).collect(),
            wasmtime: Setup::ALL.iter().map(|&s| (s, run_wasmtime::engine(s))).collect(),
            wasmi: run_wasmi::engine(),
        }
    }

    /// Runs the three pairwise comparisons of `module` under `setup`; returns the verdict, a description of
    /// each disagreement, and the calls after which Tenon's and Wasmtime's fuel consumption was compared.
    fn triage(&self, module: &TestModule, setup: Setup) -> (Verdict, Vec<String>, usize) {
        let tenon = &self.tenon.iter().find(|(s, _)| *s == setup).unwrap().1;
        let wasmtime = &self.wasmtime.iter().find(|(s, _)| *s == setup).unwrap().1;
        let wasm = &module.wasm;
        let tenon_run = || run_tenon::EngineRun::new(tenon, setup, wasm);
        let wasmtime_run = || run_wasmtime::EngineRun::new(wasmtime, setup, wasm);
        let wasmi_run = || run_wasmi::WasmiRun::new(&self.wasmi, wasm);
        let tenon_wasmi = compare(module, ["tenon", "wasmi"], tenon_run(), wasmi_run());
        let tenon_wasmtime = compare(module, ["tenon", "wasmtime"], tenon_run(), wasmtime_run());
        let wasmtime_wasmi = compare(module, ["wasmtime", "wasmi"], wasmtime_run(), wasmi_run());
        let agree = |report: &Report| report.mismatches.is_empty();
        let verdict = match (agree(&tenon_wasmi), agree(&tenon_wasmtime), agree(&wasmtime_wasmi)) {
            (true, true, true) => Verdict::Agree,
            (false, true, _) => Verdict::WasmiOutvoted,
            (false, false, true) => Verdict::TenonOutvoted,
            (true, false, _) => Verdict::WasmtimeOutvoted,
            (false, false, false) => Verdict::AllDiffer,
            (true, true, false) => Verdict::Inconclusive,
        };
        let fuel_compared = tenon_wasmtime.fuel_compared;
        let reports = [tenon_wasmi, tenon_wasmtime, wasmtime_wasmi];
        let found = reports.iter().flat_map(|report| report.mismatches.first()).map(|m| m.to_string()).collect();
        (verdict, found, fuel_compared)
    }
}

/// `A..B` as a range of seeds.
fn parse_seeds(text: &str) -> Option<Range<u64>> {
    let (start, end) = text.split_once("..")?;
    Some(start.parse().ok()?..end.parse().ok()?)
}

/// The setups to run `seed` under: its turn, or all of them.
fn setups(seed: u64, all: bool) -> Vec<Setup> {
    if all { Setup::ALL.to_vec() } else { vec![Setup::for_seed(seed)] }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let Some(seeds) = value("--seeds").and_then(|s| parse_seeds(s)) else {
        eprintln!("usage: fuzz-triage --seeds A..B [--setup NAME|all] [--wat]");
        return ExitCode::from(2);
    };
    let only: Option<Setup> = match value("--setup").map(String::as_str) {
        None | Some("all") => None,
        Some(name) => match Setup::ALL.iter().find(|s| format!("{s:?}").eq_ignore_ascii_case(name)) {
            Some(&setup) => Some(setup),
            None => {
                eprintln!("unknown setup `{name}`; one of {:?} or `all`", Setup::ALL);
                return ExitCode::from(2);
            }
        },
    };
    let all = value("--setup").is_some_and(|s| s == "all");
    let print_wat = args.iter().any(|a| a == "--wat");
    let engines = Engines::new();
    let mut counts: BTreeMap<Verdict, usize> = BTreeMap::new();
    let (mut runs, mut fuel_compared) = (0, 0);
    for seed in seeds.clone() {
        let Some(module) = generate::from_seed(seed) else { continue };
        let setups = only.map_or_else(|| setups(seed, all), |setup| vec![setup]);
        for setup in setups {
            runs += 1;
            let (verdict, found, fuel) = engines.triage(&module, setup);
            fuel_compared += fuel;
            *counts.entry(verdict).or_default() += 1;
            if verdict != Verdict::Agree {
                println!("seed {seed} ({setup:?}): {verdict:?}");
                for line in found {
                    println!("    {line}");
                }
                if print_wat {
                    println!("{}", wat(&module.wasm));
                }
            }
        }
    }
    println!(
        "fuzz-triage: seeds {}..{}, {runs} runs: {counts:?}; Tenon's and Wasmtime's fuel use compared after {fuel_compared} calls",
        seeds.start, seeds.end
    );
    if counts.contains_key(&Verdict::TenonOutvoted) { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
