//! The differential oracle: runs a generated module on Tenon and on wasmi and compares every exported
//! function's outcome, then the exported memories and globals, which must all agree.

use crate::generate::{FUEL, TestModule};
use crate::outcome::{Instantiation, Outcome, Signature, Value, list};
use crate::run_tenon::TenonRun;
use crate::run_wasmi::{self, WasmiRun};
use std::collections::BTreeMap;
use std::fmt;
use wasmparser::{ExternalKind, Parser, Payload};

/// The two engines, created once and shared by all modules checked.
pub struct Oracle {
    tenon: tenon::Engine,
    wasmi: wasmi::Engine,
}

/// What checking one module found.
#[derive(Debug, Default)]
pub struct Report {
    /// Whether the engines accepted the module (if only one did, that is a mismatch).
    pub validated: bool,
    /// Calls whose outcomes were compared.
    pub compared: usize,
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

/// A disagreement between Tenon and wasmi.
#[derive(Debug)]
pub struct Mismatch {
    /// What disagreed, e.g. "call `f`" or "memory `m` after call `f`".
    pub what: String,
    /// Tenon's side.
    pub tenon: String,
    /// wasmi's side.
    pub wasmi: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: tenon {} / wasmi {}", self.what, self.tenon, self.wasmi)
    }
}

impl Default for Oracle {
    fn default() -> Self {
        Self::new()
    }
}

impl Oracle {
    /// Tenon with its default configuration, and wasmi configured by [`run_wasmi::engine`].
    pub fn new() -> Self {
        Oracle { tenon: tenon::Engine::default(), wasmi: run_wasmi::engine() }
    }

    /// Instantiates `module` on both engines, then calls each exported function in export order, refuelling
    /// before each call, and compares the outcome and then every exported memory and global.
    pub fn check(&self, module: &TestModule) -> Report {
        let mut report = Report::default();
        if let Some((mut tenon, mut wasmi)) = self.instantiate(&module.wasm, &mut report) {
            call_exports(module, &mut tenon, &mut wasmi, &mut report);
        }
        report
    }

    /// Instantiates the module on both engines; `None` (with the outcome in `report`) unless both succeed.
    fn instantiate(&self, wasm: &[u8], report: &mut Report) -> Option<(TenonRun, WasmiRun)> {
        let (tenon, wasmi) = (TenonRun::new(&self.tenon, wasm), WasmiRun::new(&self.wasmi, wasm));
        report.validated = !matches!(wasmi, Instantiation::Rejected(_));
        match (tenon, wasmi) {
            (Instantiation::Ready(tenon), Instantiation::Ready(wasmi)) => return Some((tenon, wasmi)),
            (Instantiation::Rejected(_), Instantiation::Rejected(_)) => {}
            (Instantiation::Failed(a), Instantiation::Failed(b)) => {
                let (a, b) = (Outcome::Trapped(a), Outcome::Trapped(b));
                if a.is_stack_overflow() || b.is_stack_overflow() {
                    report.skipped.push(Skip { export: "(start)".to_string(), reason: "stack overflow" });
                } else if !a.agrees_with(&b) {
                    report.mismatch("instantiation", a.to_string(), b.to_string());
                }
            }
            (tenon, wasmi) => report.mismatch("instantiation", describe(&tenon), describe(&wasmi)),
        }
        None
    }
}

/// Compares the state after instantiation, then calls the function exports in order, comparing each outcome
/// and the state after it; stops at the first mismatch or stack overflow.
fn call_exports(module: &TestModule, tenon: &mut TenonRun, wasmi: &mut WasmiRun, report: &mut Report) {
    let exports = exports(&module.wasm);
    if !compare_state(report, tenon, wasmi, &exports, "instantiation") {
        return;
    }
    for (position, (name, _)) in exports.iter().filter(|(_, kind)| *kind == ExternalKind::Func).enumerate() {
        let signature = wasmi.signature(name);
        if tenon.signature(name) != signature {
            let tenon = format!("{:?}", tenon.signature(name));
            report.mismatch(format!("signature of `{name}`"), tenon, format!("{signature:?}"));
            return;
        }
        let Some(args) = signature.and_then(|signature| arguments(&signature, position)) else {
            report.skipped.push(Skip { export: name.clone(), reason: "parameter type not supported" });
            continue;
        };
        let fuel = Value::I32(FUEL as i32);
        let refuelled = (tenon.set_global(&module.fuel_export, fuel), wasmi.set_global(&module.fuel_export, fuel));
        if refuelled.0 != refuelled.1 {
            report.mismatch("refuelling", format!("{:?}", refuelled.0), format!("{:?}", refuelled.1));
            return;
        }
        let (a, b) = (tenon.call(name, &args), wasmi.call(name, &args));
        if a.is_stack_overflow() || b.is_stack_overflow() {
            report.skipped.push(Skip { export: name.clone(), reason: "stack overflow" });
            return;
        }
        report.compared += 1;
        *report.outcomes.entry(b.label()).or_default() += 1;
        if !a.agrees_with(&b) {
            report.mismatch(format!("call `{name}` with {}", list(&args)), a.to_string(), b.to_string());
            return;
        }
        if !compare_state(report, tenon, wasmi, &exports, &format!("call `{name}`")) {
            return;
        }
    }
}

impl Report {
    /// Records a mismatch.
    fn mismatch(&mut self, what: impl Into<String>, tenon: String, wasmi: String) {
        self.mismatches.push(Mismatch { what: what.into(), tenon, wasmi });
    }
}

/// The arguments for a call of the function at `position` among the function exports; `None` if a parameter
/// type is not supported.
fn arguments(signature: &Signature, position: usize) -> Option<Vec<Value>> {
    signature.params.iter().enumerate().map(|(index, &kind)| Value::argument(kind, index, position)).collect()
}

/// Compares the exported memories and globals after `when`; false (with a mismatch recorded) if they differ.
fn compare_state(
    report: &mut Report,
    tenon: &mut TenonRun,
    wasmi: &mut WasmiRun,
    exports: &[(String, ExternalKind)],
    when: &str,
) -> bool {
    for (name, kind) in exports {
        match kind {
            ExternalKind::Memory => {
                let (a, b) = (tenon.memory(name), wasmi.memory(name));
                if a != b {
                    let (a, b) = (memory_summary(a, b), memory_summary(b, a));
                    report.mismatch(format!("memory `{name}` after {when}"), a, b);
                    return false;
                }
            }
            ExternalKind::Global => {
                let (a, b) = (tenon.global(name), wasmi.global(name));
                let agree = match (&a, &b) {
                    (Some(a), Some(b)) => a.agrees_with(b),
                    (a, b) => a.is_none() && b.is_none(),
                };
                if !agree {
                    let show = |value: Option<Value>| value.map_or("missing".to_string(), |value| value.to_string());
                    report.mismatch(format!("global `{name}` after {when}"), show(a), show(b));
                    return false;
                }
            }
            _ => {}
        }
    }
    true
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

/// The module's exports in order: names and kinds.
fn exports(wasm: &[u8]) -> Vec<(String, ExternalKind)> {
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Ok(Payload::ExportSection(section)) = payload {
            exports.extend(section.into_iter().flatten().map(|export| (export.name.to_string(), export.kind)));
        }
    }
    exports
}

/// The module as text, for reproducing a mismatch.
pub fn wat(wasm: &[u8]) -> String {
    wasmprinter::print_bytes(wasm).unwrap_or_else(|err| format!("(; cannot print the module: {err} ;)"))
}
