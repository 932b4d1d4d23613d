//! The WebAssembly Component Model: compiling components, linking their imports to host functions, and
//! calling their exports with [`Val`]s, through the canonical ABI.
//!
//! ```
//! use tenon::component::{Component, Linker, Val};
//! use tenon::{Engine, Store};
//!
//! # fn main() -> tenon::Result<()> {
//! let engine = Engine::default();
//! let component = Component::new(&engine, r#"
//!     (component
//!       (import "double" (func $double (param "x" u32) (result u32)))
//!       (core func $double-core (canon lower (func $double)))
//!       (core module $m
//!         (import "host" "double" (func $double (param i32) (result i32)))
//!         (func (export "run") (param i32) (result i32)
//!           (i32.add (call $double (local.get 0)) (i32.const 1))))
//!       (core instance $i (instantiate $m
//!         (with "host" (instance (export "double" (func $double-core))))))
//!       (func (export "run") (param "x" u32) (result u32)
//!         (canon lift (core func $i "run"))))
//! "#)?;
//! let mut linker = Linker::new(&engine);
//! linker.root().func_new("double", |_store, _ty, params, results| {
//!     let Val::U32(x) = params[0] else { unreachable!("checked against the import's type") };
//!     results[0] = Val::U32(x * 2);
//!     Ok(())
//! })?;
//! let mut store = Store::new(&engine, ());
//! let instance = linker.instantiate(&mut store, &component)?;
//! let run = instance.get_func(&mut store, "run").unwrap();
//! let mut result = [Val::U32(0)];
//! run.call(&mut store, &[Val::U32(20)], &mut result)?;
//! assert_eq!(result[0], Val::U32(41));
//! # Ok(())
//! # }
//! ```

mod abi;
mod compiled;
mod func;
mod host;
mod info;
mod instance;
mod lazy;
mod linker;
pub(crate) mod store;
mod translate;
pub mod typed;
mod typed_func;
mod type_table;
pub mod types;
mod values;

pub use compiled::Component;
pub use func::Func;
pub use lazy::{WasmList, WasmStr};
pub use instance::{ComponentExportIndex, Instance, InstanceExportLookup, InstancePre};
pub use linker::{Linker, LinkerInstance};
pub use typed::{ComponentNamedList, ComponentType, Lift, Lower};
pub use typed_func::TypedFunc;
pub use values::Val;
