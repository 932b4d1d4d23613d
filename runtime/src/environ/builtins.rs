//! The runtime functions compiled code calls through the builtin table of its `VMContext`: their slots and
//! signatures. Their implementations are in `vm::builtins`.
//!
//! Each takes the calling instance's `vmctx` first. Those that can fail return a failure value and compiled
//! code then traps with the code that fits the operation, so no builtin ever unwinds.

/// A value type in a builtin's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltinType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer (also raw references).
    I64,
}

/// A `grow` builtin's result when the memory or table cannot grow (`memory.grow` returns -1).
pub const GROW_FAILED: i64 = -1;
/// A `grow` builtin's result when the resource limiter failed: compiled code traps with
/// `HostCallFailed`, raising the recorded error.
pub const GROW_ERROR: i64 = -2;

/// A bulk builtin's (`memory.fill`, `table.copy`, ...) result when an operand is out of bounds: compiled
/// code traps with the out-of-bounds trap of the operation.
pub const BULK_OUT_OF_BOUNDS: u32 = 0;
/// A bulk builtin's result when it succeeded.
pub const BULK_OK: u32 = 1;

/// The builtins, in the order of their slots in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Builtin {
    /// `memory.grow(mem, delta) -> old pages, GROW_FAILED or GROW_ERROR` (as `i64`).
    MemoryGrow,
    /// `memory.fill(mem, dst, value, len) -> BULK_OK or BULK_OUT_OF_BOUNDS`.
    MemoryFill,
    /// `memory.copy(dst_mem, src_mem, dst, src, len) -> BULK_*`.
    MemoryCopy,
    /// `memory.init(mem, data, dst, src, len) -> BULK_*`.
    MemoryInit,
    /// `data.drop(data)`.
    DataDrop,
    /// `table.grow(table, init, delta) -> old size, GROW_FAILED or GROW_ERROR` (as `i64`).
    TableGrow,
    /// `table.fill(table, dst, value, len) -> BULK_*`.
    TableFill,
    /// `table.copy(dst_table, src_table, dst, src, len) -> BULK_*`.
    TableCopy,
    /// `table.init(table, elem, dst, src, len) -> BULK_*`.
    TableInit,
    /// `elem.drop(elem)`.
    ElemDrop,
    /// `raise_trap(code)`: raises the trap whose [`TrapSite::code`](super::TrapSite::code) is `code`
    /// (explicit-check mode); never returns.
    RaiseTrap,
}

impl Builtin {
    /// How many builtins there are: the number of slots in the table.
    pub const COUNT: usize = Builtin::RaiseTrap as usize + 1;

    /// Parameter types after `vmctx`.
    pub fn params(self) -> &'static [BuiltinType] {
        use BuiltinType::{I32, I64};
        match self {
            Builtin::MemoryGrow => &[I32, I32],
            Builtin::MemoryFill => &[I32, I32, I32, I32],
            Builtin::MemoryCopy | Builtin::MemoryInit | Builtin::TableCopy | Builtin::TableInit => {
                &[I32, I32, I32, I32, I32]
            }
            Builtin::DataDrop | Builtin::ElemDrop | Builtin::RaiseTrap => &[I32],
            Builtin::TableGrow => &[I32, I64, I32],
            Builtin::TableFill => &[I32, I32, I64, I32],
        }
    }

    /// Result type, if any.
    pub fn result(self) -> Option<BuiltinType> {
        match self {
            Builtin::DataDrop | Builtin::ElemDrop | Builtin::RaiseTrap => None,
            Builtin::MemoryGrow | Builtin::TableGrow => Some(BuiltinType::I64),
            _ => Some(BuiltinType::I32),
        }
    }

    /// Offset of the builtin's slot in the builtin table.
    pub fn offset(self) -> u32 {
        self as u32 * super::offsets::PTR
    }
}
