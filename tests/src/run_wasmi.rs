//! Running a module on the wasmi interpreter, the reference engine, with results in the engine-neutral
//! representation of [`crate::outcome`].

use crate::outcome::{Instantiation, Outcome, Signature, TrapKind, UNEXPORTED_FUNC, ValKind, Value};
use crate::run::{Run, function_exports};
use std::collections::HashMap;
use wasmi::errors::{ErrorKind, InstantiationError, MemoryError};
use wasmi::{
    CompilationMode, Engine, ExternRef, F32, F64, Func, Instance, Module, Nullable, Store, TrapCode, Val,
    ValType,
};

/// A wasmi engine with the proposals of [`crate::generate::config`], eager compilation (so that invalid
/// functions are rejected up front, as Tenon does) and a recursion limit high enough that the modules' fuel
/// runs out first.
pub fn engine() -> Engine {
    let mut config = wasmi::Config::default();
    config
        .compilation_mode(CompilationMode::Eager)
        .set_max_recursion_depth(100_000)
        .wasm_mutable_global(true)
        .wasm_sign_extension(true)
        .wasm_saturating_float_to_int(true)
        .wasm_multi_value(true)
        .wasm_multi_memory(true)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true)
        .wasm_extended_const(true)
        .wasm_tail_call(false)
        .wasm_custom_page_sizes(false)
        .wasm_wide_arithmetic(false);
    Engine::new(&config)
}

/// An instance of a module in its own wasmi store.
pub struct WasmiRun {
    store: Store<()>,
    instance: Instance,
    /// The function exports in export order: a non-null `funcref` is identified by its position here.
    funcs: Vec<Func>,
    /// The host references passed in so far, by the number each holds.
    externs: HashMap<u32, ExternRef>,
}

impl WasmiRun {
    /// Compiles and instantiates `wasm` with no imports, running its start function.
    pub fn new(engine: &Engine, wasm: &[u8]) -> Instantiation<WasmiRun> {
        let module = match Module::new(engine, wasm) {
            Ok(module) => module,
            Err(err) => return Instantiation::Rejected(err.to_string()),
        };
        let mut store = Store::new(engine, ());
        let instance = match Instance::new(&mut store, &module, &[]) {
            Ok(instance) => instance,
            Err(err) => return Instantiation::Failed(trap_kind(&err)),
        };
        let funcs = function_exports(wasm)
            .iter()
            .map(|name| instance.get_func(&store, name).expect("a function export"))
            .collect();
        Instantiation::Ready(WasmiRun { store, instance, funcs, externs: HashMap::new() })
    }

    /// The wasmi value for `value`.
    fn engine_value(&mut self, value: Value) -> Val {
        match value {
            Value::I32(v) => Val::I32(v),
            Value::I64(v) => Val::I64(v),
            Value::F32(bits) => Val::F32(F32::from_bits(bits)),
            Value::F64(bits) => Val::F64(F64::from_bits(bits)),
            Value::FuncRef(None) => Val::FuncRef(Nullable::Null),
            Value::FuncRef(Some(k)) => {
                let func = *self.funcs.get(k as usize).unwrap_or_else(|| panic!("no function export #{k}"));
                Val::FuncRef(Nullable::Val(func))
            }
            Value::ExternRef(None) => Val::ExternRef(Nullable::Null),
            Value::ExternRef(Some(k)) => {
                let store = &mut self.store;
                Val::ExternRef(Nullable::Val(*self.externs.entry(k).or_insert_with(|| ExternRef::new(store, k))))
            }
        }
    }

    /// The neutral form of a wasmi value; `None` for `v128`.
    fn neutral_value(&self, val: &Val) -> Option<Value> {
        Some(match val {
            Val::I32(v) => Value::I32(*v),
            Val::I64(v) => Value::I64(*v),
            Val::F32(v) => Value::F32(v.to_bits()),
            Val::F64(v) => Value::F64(v.to_bits()),
            Val::FuncRef(Nullable::Null) => Value::FuncRef(None),
            Val::FuncRef(Nullable::Val(func)) => Value::FuncRef(Some(self.func_identity(func))),
            Val::ExternRef(Nullable::Null) => Value::ExternRef(None),
            Val::ExternRef(Nullable::Val(reference)) => {
                let data = reference.data(&self.store).downcast_ref::<u32>();
                Value::ExternRef(Some(data.copied().unwrap_or(u32::MAX)))
            }
            Val::V128(_) => return None,
        })
    }

    /// The position of `func` among the function exports, or [`UNEXPORTED_FUNC`]. wasmi offers no equality
    /// on function handles; a handle's debug form is its store and index, which identify the function.
    fn func_identity(&self, func: &Func) -> u32 {
        let key = format!("{func:?}");
        let position = self.funcs.iter().position(|export| format!("{export:?}") == key);
        position.map_or(UNEXPORTED_FUNC, |k| k as u32)
    }
}

impl Run for WasmiRun {
    fn signature(&mut self, name: &str) -> Option<Signature> {
        let ty = self.instance.get_func(&self.store, name)?.ty(&self.store);
        Some(Signature {
            params: ty.params().iter().map(|&ty| kind(ty)).collect(),
            results: ty.results().iter().map(|&ty| kind(ty)).collect(),
        })
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Outcome {
        let Some(func) = self.instance.get_func(&self.store, name) else {
            return Outcome::Trapped(TrapKind::Other(format!("no function export `{name}`")));
        };
        let args: Vec<Val> = args.iter().map(|&arg| self.engine_value(arg)).collect();
        let mut results: Vec<Val> = func.ty(&self.store).results().iter().map(|&ty| Val::default_for_ty(ty)).collect();
        match func.call(&mut self.store, &args, &mut results) {
            Ok(()) => Outcome::Returned(results.iter().filter_map(|val| self.neutral_value(val)).collect()),
            Err(err) => Outcome::Trapped(trap_kind(&err)),
        }
    }

    fn global(&mut self, name: &str) -> Option<Value> {
        let value = self.instance.get_global(&self.store, name)?.get(&self.store);
        self.neutral_value(&value)
    }

    fn set_global(&mut self, name: &str, value: Value) -> Result<(), String> {
        let global = self.instance.get_global(&self.store, name).ok_or("no such global export")?;
        let value = self.engine_value(value);
        global.set(&mut self.store, value).map_err(|err| err.to_string())
    }

    fn memory(&mut self, name: &str) -> Option<&[u8]> {
        let memory = self.instance.get_memory(&self.store, name)?;
        Some(memory.data(&self.store))
    }

    fn table(&mut self, name: &str) -> Option<Vec<Value>> {
        let table = self.instance.get_table(&self.store, name)?;
        let size = table.size(&self.store);
        (0..size).map(|index| self.neutral_value(&Val::from(table.get(&self.store, index)?))).collect()
    }
}

/// The neutral kind of a wasmi value type.
fn kind(ty: ValType) -> ValKind {
    match ty {
        ValType::I32 => ValKind::I32,
        ValType::I64 => ValKind::I64,
        ValType::F32 => ValKind::F32,
        ValType::F64 => ValKind::F64,
        ValType::FuncRef => ValKind::FuncRef,
        ValType::ExternRef => ValKind::ExternRef,
        ValType::V128 => ValKind::Unsupported,
    }
}

/// The neutral kind of a wasmi error: its trap code, or for instantiation the out-of-bounds segment errors
/// that wasmi reports as errors rather than traps, or `Other` with the message.
fn trap_kind(err: &wasmi::Error) -> TrapKind {
    match err.kind() {
        ErrorKind::TrapCode(TrapCode::StackOverflow) => TrapKind::StackOverflow,
        ErrorKind::TrapCode(TrapCode::MemoryOutOfBounds) => TrapKind::MemoryOutOfBounds,
        ErrorKind::TrapCode(TrapCode::TableOutOfBounds) => TrapKind::TableOutOfBounds,
        ErrorKind::TrapCode(TrapCode::IndirectCallToNull) => TrapKind::IndirectCallToNull,
        ErrorKind::TrapCode(TrapCode::BadSignature) => TrapKind::BadSignature,
        ErrorKind::TrapCode(TrapCode::IntegerOverflow) => TrapKind::IntegerOverflow,
        ErrorKind::TrapCode(TrapCode::IntegerDivisionByZero) => TrapKind::DivisionByZero,
        ErrorKind::TrapCode(TrapCode::BadConversionToInteger) => TrapKind::InvalidConversion,
        ErrorKind::TrapCode(TrapCode::UnreachableCodeReached) => TrapKind::Unreachable,
        ErrorKind::Memory(MemoryError::OutOfBoundsAccess) => TrapKind::MemoryOutOfBounds,
        ErrorKind::Instantiation(InstantiationError::ElementSegmentDoesNotFit { .. }) => TrapKind::TableOutOfBounds,
        _ => TrapKind::Other(err.to_string()),
    }
}
