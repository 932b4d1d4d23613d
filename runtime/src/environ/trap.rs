//! Traps: the ways wasm execution can stop abnormally, and what a trapping instruction of compiled code means.

use std::fmt;

/// A trap raised by WebAssembly code; find it with `error.downcast_ref::<Trap>()`.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// A component instance was entered when it may not be: after a trap, or while it is running.
    CannotEnterComponent,
    /// A component instance called an import when it may not (from `post-return` or `realloc`).
    CannotLeaveComponent,
    /// A `char` lifted from wasm was a surrogate or above `0x10FFFF`.
    InvalidChar,
    /// A string's bytes lie outside the guest's memory.
    StringOutOfBounds,
    /// A list's elements lie outside the guest's memory.
    ListOutOfBounds,
    /// A variant, enum, option or result had a discriminant beyond its cases.
    InvalidDiscriminant,
    /// A pointer into the guest's memory was not aligned for what it points to.
    UnalignedPointer,
}

impl Trap {
    /// Every trap compiled code can raise, in the order of their codes (see [`TrapSite::code`]); the
    /// component traps are raised by the component runtime only.
    const ALL: [Trap; 12] = [
        Trap::StackOverflow,
        Trap::MemoryOutOfBounds,
        Trap::TableOutOfBounds,
        Trap::IndirectCallToNull,
        Trap::BadSignature,
        Trap::IntegerOverflow,
        Trap::IntegerDivisionByZero,
        Trap::BadConversionToInteger,
        Trap::UnreachableCodeReached,
        Trap::Interrupt,
        Trap::OutOfFuel,
        Trap::NullReference,
    ];

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
            Trap::CannotEnterComponent => "cannot enter component instance",
            Trap::CannotLeaveComponent => "cannot leave component instance",
            Trap::InvalidChar => "invalid `char` bit pattern",
            Trap::StringOutOfBounds => "string content out-of-bounds",
            Trap::ListOutOfBounds => "list content out-of-bounds",
            Trap::InvalidDiscriminant => "invalid variant discriminant",
            Trap::UnalignedPointer => "unaligned pointer",
        }
    }
}

/// As Wasmtime's: `wasm trap: ` and the message.
impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "wasm trap: {}", self.message())
    }
}

impl std::error::Error for Trap {}

/// What a trapping instruction of compiled code means.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapSite {
    /// A wasm trap.
    Trap(Trap),
    /// A host function or builtin failed; its error or panic is stored in the current activation.
    HostCallFailed,
}

impl TrapSite {
    /// The site's number, as compiled code passes it to the `raise_trap` builtin.
    pub fn code(self) -> u32 {
        match self {
            TrapSite::HostCallFailed => 0,
            TrapSite::Trap(trap) => 1 + Trap::ALL.iter().position(|&t| t == trap).expect("every trap is listed") as u32,
        }
    }

    /// The site with number `code`, if there is one.
    pub fn from_code(code: u32) -> Option<TrapSite> {
        match code {
            0 => Some(TrapSite::HostCallFailed),
            n => Trap::ALL.get(n as usize - 1).map(|&t| TrapSite::Trap(t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for site in Trap::ALL.map(TrapSite::Trap).into_iter().chain([TrapSite::HostCallFailed]) {
            assert_eq!(TrapSite::from_code(site.code()), Some(site));
        }
        assert_eq!(TrapSite::from_code(Trap::ALL.len() as u32 + 1), None);
    }
}
