//! Descriptions shared by the compiler and the runtime: what a module declares, the layout of the structures
//! compiled code reads, the builtins it calls, what its trapping instructions mean, and how the functions of
//! an image are named. Nothing here runs code or holds unsafe code; `compile/` depends on this layer only,
//! and `vm/` reads it to interpret what `compile/` produced.

pub mod builtins;
pub mod code;
pub mod module;
pub mod offsets;
pub mod trap;
pub mod types;

pub use builtins::{Builtin, BuiltinType};
pub use code::{CompiledFunction, FrameInfo, FrameNames, FuncKey};
pub use module::{EntityType, ModuleInfo};
pub use offsets::VMOffsets;
pub use trap::{Trap, TrapSite};
pub use types::{
    MAX_PAGES, WASM_PAGE_SIZE, WasmFuncType, WasmGlobalType, WasmHeapType, WasmMemoryType, WasmRefType, WasmTableType,
    WasmValType,
};
