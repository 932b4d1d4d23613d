//! The differential oracle: runs a generated module on two engines (Tenon under one of its [`Setup`]s and the
//! wasmi interpreter; in the triage driver also Wasmtime) and compares every exported function's outcome on
//! several argument vectors, through the dynamically and the statically typed call, then the exported
//! memories, globals and tables (with the identity of every reference), which must all agree.

use crate::generate::{FUEL, TestModule};
use crate::outcome::{Instantiation, Outcome, Signature, Value, list};
use crate::run::{Run, Setup, exports};
use crate::run_tenon::{self, EngineRun};
use crate::run_wasmi::{self, WasmiRun};
use std::collections::BTreeMap;
use std::fmt;
use wasmparser::ExternalKind;

/// Calls made per function export, each with its own argument vector.
pub const CALLS_PER_EXPORT: usize = 3;

/// Which of an export's calls goes through the statically typed call (`TypedFunc`) where the engine has one.
const TYPED_CALL: usize = 1;

/// The engines, created once and shared by all modules checked: Tenon under every [`Setup`], and wasmi.
pub struct Oracle {
    tenon: Vec<(Setup, tenon::Engine)>,
    wasmi: wasmi::Engine,
}

/// What checking one module found.
#[derive(Debug, Default)]
pub struct Report {
    /// Whether both engines accepted the module (if only one did, that is a mismatch).
    pub validated: bool,
    /// Calls whose outcomes were compared.
    pub compared: usize,
    /// Of those, the calls the first engine made through its statically typed call.
    pub typed: usize,
    /// Table elements compared (after instantiation and after each call).
    pub table_elements: usize,
    /// Calls after which the fuel each engine consumed was compared (both count fuel and both returned).
    pub fuel_compared: usize,
    /// The compared calls by [`Outcome::label`].
    pub outcomes: BTreeMap<&'static str, usize>,
    /// Calls that could not be compared, after which the module was abandoned.
    pub skipped: Vec<Skip>,
    /// Disagreements; checking stops at the first, since later state may follow from it.
    pub mismatches: Vec<Mismatch>,
}

/// A call that was not compared.
#[derive(Debug)]
pub struct Skip {
    /// The export called.
    pub export: String,
    /// Why, e.g. "stack overflow".
    pub reason: &'static str,
}

/// A disagreement between two engines.
#[derive(Debug)]
pub struct Mismatch {
    /// What disagreed, e.g. "call `f`" or "memory `m` after call `f`".
    pub what: String,
    /// Each engine's name and its side.
    pub sides: [(&'static str, String); 2],
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [(a, a_side), (b, b_side)] = &self.sides;
        write!(f, "{}: {a} {a_side} / {b} {b_side}", self.what)
    }
}

impl Default for Oracle {
    fn default() -> Self {
        Self::new()
    }
}

impl Oracle {
    /// Tenon under each [`Setup`], and wasmi configured by [`run_wasmi::engine`].
    pub fn new() -> Self {
        let tenon = Setup::ALL.iter().map(|&setup| (setup, run_tenon::engine(setup))).collect();
        Oracle { tenon, wasmi: run_wasmi::engine() }
    }

    /// Runs `module` on Tenon configured for `setup` and on wasmi, and compares them (see [`compare`]).
    pub fn check(&self, module: &TestModule, setup: Setup) -> Report {
        let engine = &self.tenon.iter().find(|(s, _)| *s == setup).expect("an engine for every setup").1;
        let tenon = EngineRun::new(engine, setup, &module.wasm);
        compare(module, ["tenon", "wasmi"], tenon, WasmiRun::new(&self.wasmi, &module.wasm))
    }
}

/// Compares two engines, named `names`, on `module`: how instantiation went, the state after it, then each function export
/// called in export order [`CALLS_PER_EXPORT`] times (refuelled before each call) with the outcome and the
/// state after each call. Checking stops at the first mismatch or stack overflow.
pub fn compare<A: Run, B: Run>(
    module: &TestModule,
    names: [&'static str; 2],
    a: Instantiation<A>,
    b: Instantiation<B>,
) -> Report {
    let mut report = Report {
        validated: !matches!(a, Instantiation::Rejected(_)) && !matches!(b, Instantiation::Rejected(_)),
        ..Report::default()
    };
    match (a, b) {
        (Instantiation::Ready(mut a), Instantiation::Ready(mut b)) => {
            call_exports(module, names, &mut a, &mut b, &mut report);
        }
        (Instantiation::Rejected(_), Instantiation::Rejected(_)) => {}
        (Instantiation::Failed(a), Instantiation::Failed(b)) => {
            let (a, b) = (Outcome::Trapped(a), Outcome::Trapped(b));
            if a.is_stack_overflow() || b.is_stack_overflow() {
                report.skipped.push(Skip { export: "(start)".to_string(), reason: "stack overflow" });
            } else if !a.agrees_with(&b) {
                report.mismatch("instantiation", names, a.to_string(), b.to_string());
            }
        }
        (a, b) => report.mismatch("instantiation", names, describe(&a), describe(&b)),
    }
    report
}

/// Compares the state after instantiation, then calls the function exports in order, comparing each outcome
/// and the state after it; stops at the first mismatch or stack overflow.
fn call_exports<A: Run, B: Run>(
    module: &TestModule,
    names: [&'static str; 2],
    a: &mut A,
    b: &mut B,
    report: &mut Report,
) {
    let exports = exports(&module.wasm);
    let funcs: Vec<&String> = exports.iter().filter(|(_, kind)| *kind == ExternalKind::Func).map(|(name, _)| name).collect();
    if !compare_state(report, names, a, b, &exports, "instantiation") {
        return;
    }
    for (position, &name) in funcs.iter().enumerate() {
        let signature = b.signature(name);
        if a.signature(name) != signature {
            let a = format!("{:?}", a.signature(name));
            report.mismatch(format!("signature of `{name}`"), names, a, format!("{signature:?}"));
            return;
        }
        for call in 0..CALLS_PER_EXPORT {
            let variant = position * CALLS_PER_EXPORT + call;
            let Some(args) = signature.as_ref().and_then(|signature| arguments(signature, variant, funcs.len())) else {
                report.skipped.push(Skip { export: name.clone(), reason: "parameter type not supported" });
                break;
            };
            let fuel = Value::I32(FUEL as i32);
            let refuelled = (a.set_global(&module.fuel_export, fuel), b.set_global(&module.fuel_export, fuel));
            if refuelled.0 != refuelled.1 {
                report.mismatch("refuelling", names, format!("{:?}", refuelled.0), format!("{:?}", refuelled.1));
                return;
            }
            let fuel_before = (a.fuel(), b.fuel());
            let typed = if call == TYPED_CALL { a.call_typed(name, &args) } else { None };
            report.typed += usize::from(typed.is_some());
            let (outcome_a, outcome_b) = (typed.unwrap_or_else(|| a.call(name, &args)), b.call(name, &args));
            if outcome_a.is_stack_overflow() || outcome_b.is_stack_overflow() {
                report.skipped.push(Skip { export: name.clone(), reason: "stack overflow" });
                return;
            }
            report.compared += 1;
            *report.outcomes.entry(outcome_b.label()).or_default() += 1;
            let call = format!("call `{name}` with {}", list(&args));
            if !outcome_a.agrees_with(&outcome_b) {
                report.mismatch(call, names, outcome_a.to_string(), outcome_b.to_string());
                return;
            }
            if let ((Some(a_before), Some(b_before)), Outcome::Returned(_)) = (fuel_before, &outcome_a) {
                let consumed = |before: u64, after: Option<u64>| before.saturating_sub(after.unwrap_or(0));
                let (a_used, b_used) = (consumed(a_before, a.fuel()), consumed(b_before, b.fuel()));
                report.fuel_compared += 1;
                if a_used != b_used {
                    report.mismatch(format!("fuel consumed by {call}"), names, a_used.to_string(), b_used.to_string());
                    return;
                }
            }
            if !compare_state(report, names, a, b, &exports, &call) {
                return;
            }
        }
    }
}

impl Report {
    /// Records a mismatch.
    fn mismatch(&mut self, what: impl Into<String>, names: [&'static str; 2], a: String, b: String) {
        self.mismatches.push(Mismatch { what: what.into(), sides: [(names[0], a), (names[1], b)] });
    }
}

/// The arguments for call variant `variant` of a function; `None` if a parameter type is not supported.
fn arguments(signature: &Signature, variant: usize, funcs: usize) -> Option<Vec<Value>> {
    let params = signature.params.iter().enumerate();
    params.map(|(index, &kind)| Value::argument(kind, index, variant, funcs)).collect()
}

/// Compares the exported memories, globals and tables after `when`; false (with a mismatch recorded) if they
/// differ.
fn compare_state<A: Run, B: Run>(
    report: &mut Report,
    names: [&'static str; 2],
    a: &mut A,
    b: &mut B,
    exports: &[(String, ExternalKind)],
    when: &str,
) -> bool {
    for (name, kind) in exports {
        match kind {
            ExternalKind::Memory => {
                let (a, b) = (a.memory(name), b.memory(name));
                if a != b {
                    let (a, b) = (memory_summary(a, b), memory_summary(b, a));
                    report.mismatch(format!("memory `{name}` after {when}"), names, a, b);
                    return false;
                }
            }
            ExternalKind::Global => {
                let (a, b) = (a.global(name), b.global(name));
                let agree = match (&a, &b) {
                    (Some(a), Some(b)) => a.agrees_with(b),
                    (a, b) => a.is_none() && b.is_none(),
                };
                if !agree {
                    let show = |value: Option<Value>| value.map_or("missing".to_string(), |value| value.to_string());
                    report.mismatch(format!("global `{name}` after {when}"), names, show(a), show(b));
                    return false;
                }
            }
            ExternalKind::Table => {
                let (a, b) = (a.table(name), b.table(name));
                let agree = match (&a, &b) {
                    (Some(a), Some(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.agrees_with(y)),
                    (a, b) => a.is_none() && b.is_none(),
                };
                if !agree {
                    let (a, b) = (table_summary(a.as_deref(), b.as_deref()), table_summary(b.as_deref(), a.as_deref()));
                    report.mismatch(format!("table `{name}` after {when}"), names, a, b);
                    return false;
                }
                report.table_elements += a.map_or(0, |elements| elements.len());
            }
            _ => {}
        }
    }
    true
}

/// Describes `table` where it differs from `other`: its size and the first differing element.
fn table_summary(table: Option<&[Value]>, other: Option<&[Value]>) -> String {
    let Some(table) = table else { return "no such table".to_string() };
    let other = other.unwrap_or_default();
    match table.iter().zip(other).position(|(x, y)| !x.agrees_with(y)) {
        Some(index) => format!("{} elements, element {index} = {}", table.len(), table[index]),
        None => format!("{} elements", table.len()),
    }
}

/// Describes `memory` where it differs from `other`: its size and the first differing byte.
fn memory_summary(memory: Option<&[u8]>, other: Option<&[u8]>) -> String {
    let Some(memory) = memory else { return "no such memory".to_string() };
    let other = other.unwrap_or_default();
    match memory.iter().zip(other).position(|(x, y)| x != y) {
        Some(offset) => format!("{} bytes, byte {offset:#x} = {:#04x}", memory.len(), memory[offset]),
        None => format!("{} bytes", memory.len()),
    }
}

/// A one-line account of how instantiation went.
fn describe<R>(instantiation: &Instantiation<R>) -> String {
    match instantiation {
        Instantiation::Rejected(message) => format!("rejected: {message}"),
        Instantiation::Failed(kind) => Outcome::Trapped(kind.clone()).to_string(),
        Instantiation::Ready(_) => "instantiated".to_string(),
    }
}

/// The module as text, for reproducing a mismatch.
pub fn wat(wasm: &[u8]) -> String {
    wasmprinter::print_bytes(wasm).unwrap_or_else(|err| format!("(; cannot print the module: {err} ;)"))
}
