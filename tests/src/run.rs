//! What the differential oracle needs from an engine (an instantiated module it can call and inspect), and
//! the engine configurations Tenon is checked under.

use crate::outcome::{Outcome, Signature, Value};
use wasmparser::{ExternalKind, Parser, Payload};

/// An instance of a module in an engine, seen through engine-neutral values.
pub trait Run {
    /// The signature of the exported function `name`, if there is one.
    fn signature(&mut self, name: &str) -> Option<Signature>;

    /// Calls the exported function `name` with `args` through the engine's dynamically typed call.
    fn call(&mut self, name: &str, args: &[Value]) -> Outcome;

    /// Calls the exported function `name` with `args` through the engine's statically typed call, if it has
    /// one and the signature is among those the runner instantiates it for; `None` otherwise.
    fn call_typed(&mut self, _name: &str, _args: &[Value]) -> Option<Outcome> {
        None
    }

    /// The value of the exported global `name`, if there is one of a comparable type.
    fn global(&mut self, name: &str) -> Option<Value>;

    /// Sets the exported global `name`.
    fn set_global(&mut self, name: &str, value: Value) -> Result<(), String>;

    /// The contents of the exported memory `name`, if there is one.
    fn memory(&mut self, name: &str) -> Option<&[u8]>;

    /// The elements of the exported table `name`, if there is one of a comparable type.
    fn table(&mut self, name: &str) -> Option<Vec<Value>>;

    /// The fuel left in the store, where the engine counts fuel in this setup.
    fn fuel(&mut self) -> Option<u64> {
        None
    }
}

/// The names of the module's function exports, in the binary's export order: a non-null `funcref` is
/// identified by its position among these (engines' own export iterators may use another order).
pub fn function_exports(wasm: &[u8]) -> Vec<String> {
    exports(wasm).into_iter().filter(|(_, kind)| *kind == ExternalKind::Func).map(|(name, _)| name).collect()
}

/// The module's exports in order: names and kinds.
pub fn exports(wasm: &[u8]) -> Vec<(String, ExternalKind)> {
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Ok(Payload::ExportSection(section)) = payload {
            exports.extend(section.into_iter().flatten().map(|export| (export.name.to_string(), export.kind)));
        }
    }
    exports
}

/// A configuration of an engine with Wasmtime's `Config` (Tenon, and Wasmtime in the triage driver): the
/// same module must behave the same under each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setup {
    /// The default configuration: guard pages catch out-of-bounds accesses.
    Default,
    /// `signals_based_traps(false)`: explicit bounds checks, and every trap raised without a signal.
    ExplicitChecks,
    /// `memory_reservation(0)`, `memory_reservation_for_growth(0)` and `memory_guard_size(0)`: memories
    /// are allocated at their size, checked explicitly, and move whenever they grow.
    DynamicMemory,
    /// `consume_fuel(true)`, with more fuel in the store than any generated module can use.
    Fuel,
    /// `epoch_interruption(true)`, with a deadline no generated module reaches.
    Epochs,
}

impl Setup {
    /// Every setup.
    pub const ALL: [Setup; 5] = [Setup::Default, Setup::ExplicitChecks, Setup::DynamicMemory, Setup::Fuel, Setup::Epochs];

    /// The setup seed `seed` runs under: the seeds take turns.
    pub fn for_seed(seed: u64) -> Setup {
        Setup::ALL[(seed % Setup::ALL.len() as u64) as usize]
    }
}
