//! Traps: the ways wasm execution can stop abnormally, and the backtrace recorded when it does.

use crate::code::{FrameInfo, registry};
use std::fmt;

/// A trap raised by WebAssembly code; find it with `error.downcast_ref::<Trap>()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Trap {
    /// The call stack grew past `Config::max_wasm_stack`.
    StackOverflow,
    /// A load or store outside the bounds of a linear memory.
    MemoryOutOfBounds,
    /// An access outside the bounds of a table.
    TableOutOfBounds,
    /// `call_indirect` found a null element.
    IndirectCallToNull,
    /// `call_indirect` found a function of the wrong type.
    BadSignature,
    /// An integer arithmetic overflow (`INT_MIN / -1`, or a float too large for `trunc`).
    IntegerOverflow,
    /// An integer division or remainder by zero.
    IntegerDivisionByZero,
    /// A float-to-int conversion of NaN.
    BadConversionToInteger,
    /// An `unreachable` instruction ran.
    UnreachableCodeReached,
    /// Execution was interrupted by the epoch deadline.
    Interrupt,
    /// The store ran out of fuel.
    OutOfFuel,
    /// A null reference was dereferenced.
    NullReference,
}

impl Trap {
    /// The message Wasmtime uses for this trap.
    pub fn message(&self) -> &'static str {
        match self {
            Trap::StackOverflow => "call stack exhausted",
            Trap::MemoryOutOfBounds => "out of bounds memory access",
            Trap::TableOutOfBounds => "undefined element: out of bounds table access",
            Trap::IndirectCallToNull => "uninitialized element",
            Trap::BadSignature => "indirect call type mismatch",
            Trap::IntegerOverflow => "integer overflow",
            Trap::IntegerDivisionByZero => "integer divide by zero",
            Trap::BadConversionToInteger => "invalid conversion to integer",
            Trap::UnreachableCodeReached => "wasm `unreachable` instruction executed",
            Trap::Interrupt => "interrupt",
            Trap::OutOfFuel => "all fuel consumed by WebAssembly",
            Trap::NullReference => "null reference",
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Trap {}

/// The wasm frames active when a trap happened, innermost first; attached as context to trap errors and
/// found with `error.downcast_ref::<WasmBacktrace>()`.
#[derive(Clone, Debug, Default)]
pub struct WasmBacktrace {
    frames: Vec<FrameInfo>,
}

impl WasmBacktrace {
    pub(crate) fn from_pcs(pcs: &[usize]) -> Self {
        let frames =
            pcs.iter().filter_map(|&pc| registry::lookup(pc).and_then(|info| info.frame_at(pc))).collect();
        WasmBacktrace { frames }
    }

    /// The frames, innermost first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }
}

impl fmt::Display for WasmBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "wasm backtrace:")?;
        for (i, frame) in self.frames.iter().enumerate() {
            write!(f, "  {i:>3}: ")?;
            if let Some(module) = &frame.module_name {
                write!(f, "{module}!")?;
            }
            match &frame.func_name {
                Some(name) => writeln!(f, "{name}")?,
                None => writeln!(f, "<wasm function {}>", frame.func_index)?,
            }
        }
        Ok(())
    }
}
