//! Tenon: a WebAssembly runtime with its own Cranelift back end.
//!
//! The API follows Wasmtime's: compile a [`Module`] with an [`Engine`], create a [`Store`] for host state,
//! define imports in a [`Linker`], instantiate, and call exports through [`Func`] or [`TypedFunc`].
//!
//! ```
//! use tenon::{Engine, Linker, Module, Store};
//!
//! # fn main() -> tenon::Result<()> {
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"
//!     (module
//!       (import "host" "double" (func $double (param i32) (result i32)))
//!       (func (export "run") (param i32) (result i32)
//!         local.get 0
//!         call $double
//!         i32.const 1
//!         i32.add))
//! "#)?;
//! let mut linker = Linker::new(&engine);
//! linker.func_wrap("host", "double", |x: i32| x * 2)?;
//! let mut store = Store::new(&engine, ());
//! let instance = linker.instantiate(&mut store, &module)?;
//! let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
//! assert_eq!(run.call(&mut store, 20)?, 41);
//! # Ok(())
//! # }
//! ```

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod artifact;
mod code;
pub mod component;
mod compile;
mod config;
mod environ;
mod engine;
mod externals;
mod func;
mod instance;
mod limits;
mod linker;
mod module;
mod store;
mod trap;
mod types;
mod values;
mod vm;

pub use environ::{FrameInfo, Trap};
pub use config::{Config, OptLevel, ProfilingStrategy};
pub use artifact::Precompiled;
pub use engine::Engine;
pub use externals::{Extern, Global, Memory, MemoryAccessError, Table, Tag};
#[doc(hidden)]
pub use func::HostFunc;
pub use func::{Caller, Func, IntoFunc, TypedFunc, WasmParams, WasmResults, WasmRet, WasmTy};
pub use instance::{Export, Instance, InstancePre};
pub use limits::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
pub use linker::Linker;
pub use module::Module;
pub use store::{AsContext, AsContextMut, Store, StoreContext, StoreContextMut};
pub use trap::WasmBacktrace;
pub use types::{
    ExportType, ExternType, FuncType, GlobalType, HeapType, ImportType, MemoryType, Mutability, RefType, TableType,
    TagType, ValType,
};
pub use values::{ExternRef, GcRef, Ref, Rooted, V128, Val};

pub use anyhow::{Context, anyhow as format_err, bail, ensure};

/// Tenon's error type (anyhow's).
pub type Error = anyhow::Error;
/// Tenon's result type (anyhow's).
pub type Result<T, E = Error> = anyhow::Result<T, E>;
