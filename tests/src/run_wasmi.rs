//! Running a module on the wasmi interpreter, the reference engine, with results in the engine-neutral
//! representation of [`crate::outcome`].

use crate::outcome::{Instantiation, Outcome, Signature, TrapKind, ValKind, Value};
use wasmi::errors::{ErrorKind, InstantiationError, MemoryError};
use wasmi::{CompilationMode, Engine, F32, F64, Instance, Module, Store, TrapCode, Val, ValType};

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
}

impl WasmiRun {
    /// Compiles and instantiates `wasm` with no imports, running its start function.
    pub fn new(engine: &Engine, wasm: &[u8]) -> Instantiation<WasmiRun> {
        let module = match Module::new(engine, wasm) {
            Ok(module) => module,
            Err(err) => return Instantiation::Rejected(err.to_string()),
        };
        let mut store = Store::new(engine, ());
        match Instance::new(&mut store, &module, &[]) {
            Ok(instance) => Instantiation::Ready(WasmiRun { store, instance }),
            Err(err) => Instantiation::Failed(trap_kind(&err)),
        }
    }

    /// The signature of the exported function `name`, if there is one.
    pub fn signature(&mut self, name: &str) -> Option<Signature> {
        let ty = self.instance.get_func(&self.store, name)?.ty(&self.store);
        Some(Signature {
            params: ty.params().iter().map(|&ty| kind(ty)).collect(),
            results: ty.results().iter().map(|&ty| kind(ty)).collect(),
        })
    }

    /// Calls the exported function `name` with `args`.
    pub fn call(&mut self, name: &str, args: &[Value]) -> Outcome {
        let Some(func) = self.instance.get_func(&self.store, name) else {
            return Outcome::Trapped(TrapKind::Other(format!("no function export `{name}`")));
        };
        let args: Vec<Val> = args.iter().map(|&arg| to_val(arg)).collect();
        let mut results: Vec<Val> = func.ty(&self.store).results().iter().map(|&ty| Val::default_for_ty(ty)).collect();
        match func.call(&mut self.store, &args, &mut results) {
            Ok(()) => Outcome::Returned(results.iter().filter_map(from_val).collect()),
            Err(err) => Outcome::Trapped(trap_kind(&err)),
        }
    }

    /// The value of the exported global `name`, if there is one of a comparable type.
    pub fn global(&mut self, name: &str) -> Option<Value> {
        from_val(&self.instance.get_global(&self.store, name)?.get(&self.store))
    }

    /// Sets the exported global `name`.
    pub fn set_global(&mut self, name: &str, value: Value) -> Result<(), String> {
        let global = self.instance.get_global(&self.store, name).ok_or("no such global export")?;
        global.set(&mut self.store, to_val(value)).map_err(|err| err.to_string())
    }

    /// The contents of the exported memory `name`, if there is one.
    pub fn memory(&mut self, name: &str) -> Option<&[u8]> {
        let memory = self.instance.get_memory(&self.store, name)?;
        Some(memory.data(&self.store))
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

/// A wasmi value for `value`; references become null, the only references the tests pass.
fn to_val(value: Value) -> Val {
    match value {
        Value::I32(v) => Val::I32(v),
        Value::I64(v) => Val::I64(v),
        Value::F32(bits) => Val::F32(F32::from_bits(bits)),
        Value::F64(bits) => Val::F64(F64::from_bits(bits)),
        Value::FuncRef { .. } => Val::FuncRef(wasmi::Nullable::Null),
        Value::ExternRef { .. } => Val::ExternRef(wasmi::Nullable::Null),
    }
}

/// The neutral form of a wasmi value; `None` for `v128`.
fn from_val(val: &Val) -> Option<Value> {
    Some(match val {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(v) => Value::F32(v.to_bits()),
        Val::F64(v) => Value::F64(v.to_bits()),
        Val::FuncRef(f) => Value::FuncRef { null: f.is_null() },
        Val::ExternRef(e) => Value::ExternRef { null: e.is_null() },
        Val::V128(_) => return None,
    })
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
