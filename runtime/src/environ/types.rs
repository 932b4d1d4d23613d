//! Wasm types as a module declares them: function types refer to each other by their index in the module's
//! type section. The public types (`crate::types`) refer to registered types instead; the runtime converts.

/// The kind of a reference's referent.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WasmHeapType {
    /// Any function.
    Func,
    /// Host references.
    Extern,
    /// Functions of the type with this index in the module's type section.
    ConcreteFunc(u32),
}

/// A reference type.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WasmRefType {
    /// Whether null is a value of this type.
    pub nullable: bool,
    /// The referent's kind.
    pub heap_type: WasmHeapType,
}

impl WasmRefType {
    /// `funcref`.
    pub const FUNCREF: WasmRefType = WasmRefType { nullable: true, heap_type: WasmHeapType::Func };
}

/// The type of a wasm value.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WasmValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// 128-bit vector.
    V128,
    /// A reference.
    Ref(WasmRefType),
}

/// The type of a function.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WasmFuncType {
    /// The parameter types.
    pub params: Box<[WasmValType]>,
    /// The result types.
    pub results: Box<[WasmValType]>,
}

/// Size of a wasm page.
pub const WASM_PAGE_SIZE: usize = 65536;
/// Largest number of pages a 32-bit memory may have.
pub const MAX_PAGES: u64 = 65536;

/// Limits of a 32-bit memory, in 64 KiB pages.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WasmMemoryType {
    /// The minimum size.
    pub minimum: u64,
    /// The maximum size, if any.
    pub maximum: Option<u64>,
}

impl WasmMemoryType {
    /// The largest size in bytes a memory of this type may reach (4 GiB without a declared maximum).
    pub fn maximum_bytes(&self) -> u64 {
        self.maximum.unwrap_or(MAX_PAGES).min(MAX_PAGES) * WASM_PAGE_SIZE as u64
    }

    /// Whether a memory of this type may move when it grows, in an engine that reserves `reservation` bytes
    /// of address space per memory and lets memories move (`moving_allowed`): when its largest size does not
    /// fit in the reservation. Compiled code caches the base of a memory that never moves, and reloads it
    /// from the memory's definition where one may move; the runtime allocates by the same rule.
    pub fn may_move(&self, reservation: u64, moving_allowed: bool) -> bool {
        moving_allowed && self.maximum_bytes() > reservation
    }
}

/// The element type and limits of a table.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WasmTableType {
    /// The element type.
    pub element: WasmRefType,
    /// The minimum number of elements.
    pub minimum: u64,
    /// The maximum number of elements, if any.
    pub maximum: Option<u64>,
}

/// The type of a global.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WasmGlobalType {
    /// The value type.
    pub content: WasmValType,
    /// Whether it can be set.
    pub mutable: bool,
}
