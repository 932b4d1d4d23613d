//! The run-time side of compiled code: instance contexts, memories, tables, builtins and traps.

pub mod builtins;
pub mod instance;
pub mod memory;
pub mod offsets;
pub mod stack;
pub mod table;
pub mod traphandlers;
pub mod vmcontext;

pub use vmcontext::{ValRaw, VMFuncRef, VMGlobalDefinition, VMMemoryDefinition, VMStoreContext, VMTableDefinition};
