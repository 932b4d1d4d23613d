//! The run-time side of compiled code: instance contexts, memories, tables, builtins, host-function shims
//! and traps. It depends on `environ/` only, and reaches the store that runs it through [`store::VMStore`].

pub mod arch;
pub mod builtins;
pub mod code_registry;
pub mod host;
pub mod instance;
pub mod memory;
pub mod stack;
pub mod store;
pub mod sys;
pub mod table;
pub mod traphandlers;
pub mod vmcontext;

pub use store::{StorePtr, VMStore, VmBox};
pub use vmcontext::{ComponentFlags, ValRaw, VMFuncRef, VMGlobalDefinition, VMStoreContext};
