//! The layout of a `VMContext`: the one place that knows where each field of an instance's context lives.
//!
//! ```text
//! 0   instance      *mut InstanceData   (the Rust side of the instance)
//! 8   store         *mut VMStoreContext (stack limit, fuel, epoch deadline)
//! 16  builtins      *const BuiltinTable (runtime functions called by compiled code)
//! 24  type_ids      *const u32          (engine-wide signature id of each module type)
//! 32  defined_globals [VMGlobalDefinition; num_defined_globals]  (16 bytes each)
//!     memory_bases  [*mut u8; num_memories]
//!     memories      [*mut VMMemoryDefinition; num_memories]
//!     tables        [*mut VMTableDefinition; num_tables]
//!     globals       [*mut VMGlobalDefinition; num_globals]
//!     funcrefs      [VMFuncRef; num_funcs]
//! ```
//!
//! Every memory, table and global is reached through a pointer, whether it is imported or defined, so an
//! instance treats both kinds alike. Globals the module defines live in the context itself (the store's
//! handle for each points there), so compiled code reaches them without a pointer. A memory's base never
//! moves, so each instance also keeps a copy of it: accesses load it with one load instead of two.
//! The fixed-size fields come first, so their offsets stay small whatever the number of functions.

/// Size of a pointer on the host, in bytes.
pub const PTR: u32 = 8;

/// Offsets inside a `VMFuncRef`: `{ func_ptr, vmctx, type_id }`.
pub mod funcref {
    /// The code address, called with the wasm calling convention.
    pub const FUNC_PTR: u32 = 0;
    /// The callee's context (an instance's `VMContext` or a host function's context).
    pub const VMCTX: u32 = 8;
    /// The engine-wide signature id, compared by `call_indirect`.
    pub const TYPE_ID: u32 = 16;
    /// Size of one `VMFuncRef`.
    pub const SIZE: u32 = 24;
}

/// Offsets inside a `VMMemoryDefinition`: `{ base, current_length }`.
pub mod memory {
    /// Base address of the linear memory; it changes only when a memory that may move grows.
    pub const BASE: u32 = 0;
    /// Current size in bytes.
    pub const LENGTH: u32 = 8;
}

/// Offsets inside a `VMTableDefinition`: `{ base, current_elements }`.
pub mod table {
    /// Address of the first element; moves when the table grows.
    pub const BASE: u32 = 0;
    /// Current number of elements.
    pub const LENGTH: u32 = 8;
}

/// Offsets inside the store's `VMStoreContext`.
pub mod store {
    /// Lowest stack address wasm code may use.
    pub const STACK_LIMIT: u32 = 0;
    /// Fuel consumed minus fuel granted (`i64`).
    pub const FUEL_CONSUMED: u32 = 8;
    /// The epoch deadline (`u64`).
    pub const EPOCH_DEADLINE: u32 = 16;
    /// Pointer to the engine's epoch counter (`*const AtomicU64`).
    pub const EPOCH_COUNTER: u32 = 24;
}

/// Offsets inside a host function's context (`vm::host::HostFuncContext`), which exit trampolines receive
/// as their `vmctx`.
pub mod host_func {
    /// The Rust shim called by the exit trampoline.
    pub const SHIM: u32 = 8;
    /// Pointer to the builtin table (the exit trampoline raises failures through `raise_trap` without
    /// signals).
    pub const BUILTINS: u32 = 16;
}

/// Field offsets of the `VMContext` of one module's instances.
#[derive(Clone, Debug)]
pub struct VMOffsets {
    num_funcs: u32,
    num_memories: u32,
    num_tables: u32,
    num_globals: u32,
    num_imported_globals: u32,
}

impl VMOffsets {
    /// Offset of the pointer to the instance's Rust side.
    pub const INSTANCE: u32 = 0;
    /// Offset of the pointer to the store context.
    pub const STORE: u32 = 8;
    /// Offset of the pointer to the builtin function table.
    pub const BUILTINS: u32 = 16;
    /// Offset of the pointer to the signature-id array.
    pub const TYPE_IDS: u32 = 24;
    const DEFINED_GLOBALS: u32 = 32;
    /// Size of a `VMGlobalDefinition`, which is also its alignment.
    const GLOBAL_SIZE: u32 = 16;

    /// The layout of the instances of the module `info` describes.
    pub fn for_module(info: &super::ModuleInfo) -> Self {
        VMOffsets {
            num_funcs: info.funcs.len() as u32,
            num_memories: info.memories.len() as u32,
            num_tables: info.tables.len() as u32,
            num_globals: info.globals.len() as u32,
            num_imported_globals: info.num_imported_globals,
        }
    }

    /// Offset of the storage of global `index`, which the module defines (it is not imported).
    pub fn defined_global(&self, index: u32) -> u32 {
        debug_assert!(index >= self.num_imported_globals && index < self.num_globals);
        Self::DEFINED_GLOBALS + (index - self.num_imported_globals) * Self::GLOBAL_SIZE
    }

    fn memory_bases_start(&self) -> u32 {
        Self::DEFINED_GLOBALS + (self.num_globals - self.num_imported_globals) * Self::GLOBAL_SIZE
    }

    /// Offset of memory `index`'s base address: a copy of its definition's for a memory that never moves,
    /// null for one that may (code reads that one's base from the definition).
    pub fn memory_base(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_memories);
        self.memory_bases_start() + index * PTR
    }

    fn memories_start(&self) -> u32 {
        self.memory_bases_start() + self.num_memories * PTR
    }

    /// Offset of the pointer to memory `index`'s definition.
    pub fn memory(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_memories);
        self.memories_start() + index * PTR
    }

    fn tables_start(&self) -> u32 {
        self.memories_start() + self.num_memories * PTR
    }

    /// Offset of the pointer to table `index`'s definition.
    pub fn table(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_tables);
        self.tables_start() + index * PTR
    }

    fn globals_start(&self) -> u32 {
        self.tables_start() + self.num_tables * PTR
    }

    /// Offset of the pointer to global `index`'s storage.
    pub fn global(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_globals);
        self.globals_start() + index * PTR
    }

    /// Offset of the array of `VMFuncRef`s.
    pub fn funcrefs_start(&self) -> u32 {
        self.globals_start() + self.num_globals * PTR
    }

    /// Offset of function `index`'s `VMFuncRef`.
    pub fn funcref(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_funcs);
        self.funcrefs_start() + index * funcref::SIZE
    }

    /// Total size of the context in bytes.
    pub fn size(&self) -> u32 {
        self.funcrefs_start() + self.num_funcs * funcref::SIZE
    }
}
