//! Running a module on Tenon, with results in the engine-neutral representation of [`crate::outcome`]: the
//! runner shared with the Wasmtime triage driver, instantiated for Tenon.

use crate::outcome::{Instantiation, Outcome, Signature, TrapKind, UNEXPORTED_FUNC, ValKind, Value};
use crate::run::{Run, Setup, function_exports};
use tenon as rt;

/// Whether two handles name the same function: Tenon gives one function one handle in a store.
fn same_func(_store: &mut rt::Store<()>, a: &rt::Func, b: &rt::Func) -> bool {
    a == b
}

include!("run_embedding_api.rs");
