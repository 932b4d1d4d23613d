//! Running a module on Tenon, with results in the engine-neutral representation of [`crate::outcome`].

use crate::outcome::{Instantiation, Outcome, Signature, TrapKind, ValKind, Value};
use tenon::{Engine, HeapType, Instance, Module, Store, Trap, Val, ValType};

/// An instance of a module in its own Tenon store.
pub struct TenonRun {
    store: Store<()>,
    instance: Instance,
}

impl TenonRun {
    /// Compiles and instantiates `wasm` with no imports.
    pub fn new(engine: &Engine, wasm: &[u8]) -> Instantiation<TenonRun> {
        let module = match Module::new(engine, wasm) {
            Ok(module) => module,
            Err(err) => return Instantiation::Rejected(format!("{err:#}")),
        };
        let mut store = Store::new(engine, ());
        match Instance::new(&mut store, &module, &[]) {
            Ok(instance) => Instantiation::Ready(TenonRun { store, instance }),
            Err(err) => Instantiation::Failed(trap_kind(&err)),
        }
    }

    /// The signature of the exported function `name`, if there is one.
    pub fn signature(&mut self, name: &str) -> Option<Signature> {
        let ty = self.instance.get_func(&mut self.store, name)?.ty(&self.store);
        Some(Signature { params: ty.params().map(kind).collect(), results: ty.results().map(kind).collect() })
    }

    /// Calls the exported function `name` with `args`.
    pub fn call(&mut self, name: &str, args: &[Value]) -> Outcome {
        let Some(func) = self.instance.get_func(&mut self.store, name) else {
            return Outcome::Trapped(TrapKind::Other(format!("no function export `{name}`")));
        };
        let args: Vec<Val> = args.iter().map(|&arg| to_val(arg)).collect();
        let mut results = vec![Val::I32(0); func.ty(&self.store).results().len()];
        match func.call(&mut self.store, &args, &mut results) {
            Ok(()) => Outcome::Returned(results.iter().filter_map(from_val).collect()),
            Err(err) => Outcome::Trapped(trap_kind(&err)),
        }
    }

    /// The value of the exported global `name`, if there is one of a comparable type.
    pub fn global(&mut self, name: &str) -> Option<Value> {
        from_val(&self.instance.get_global(&mut self.store, name)?.get(&mut self.store))
    }

    /// Sets the exported global `name`.
    pub fn set_global(&mut self, name: &str, value: Value) -> Result<(), String> {
        let global = self.instance.get_global(&mut self.store, name).ok_or("no such global export")?;
        global.set(&mut self.store, to_val(value)).map_err(|err| format!("{err:#}"))
    }

    /// The contents of the exported memory `name`, if there is one.
    pub fn memory(&mut self, name: &str) -> Option<&[u8]> {
        let memory = self.instance.get_memory(&mut self.store, name)?;
        Some(memory.data(&self.store))
    }
}

/// The neutral kind of a Tenon value type.
fn kind(ty: ValType) -> ValKind {
    match ty {
        ValType::I32 => ValKind::I32,
        ValType::I64 => ValKind::I64,
        ValType::F32 => ValKind::F32,
        ValType::F64 => ValKind::F64,
        ValType::Ref(r) if r.is_nullable() && *r.heap_type() == HeapType::Func => ValKind::FuncRef,
        ValType::Ref(r) if r.is_nullable() && *r.heap_type() == HeapType::Extern => ValKind::ExternRef,
        _ => ValKind::Unsupported,
    }
}

/// A Tenon value for `value`; references become null, the only references the tests pass.
fn to_val(value: Value) -> Val {
    match value {
        Value::I32(v) => Val::I32(v),
        Value::I64(v) => Val::I64(v),
        Value::F32(bits) => Val::F32(bits),
        Value::F64(bits) => Val::F64(bits),
        Value::FuncRef { .. } => Val::FuncRef(None),
        Value::ExternRef { .. } => Val::ExternRef(None),
    }
}

/// The neutral form of a Tenon value; `None` for `v128`.
fn from_val(val: &Val) -> Option<Value> {
    Some(match *val {
        Val::I32(v) => Value::I32(v),
        Val::I64(v) => Value::I64(v),
        Val::F32(bits) => Value::F32(bits),
        Val::F64(bits) => Value::F64(bits),
        Val::FuncRef(f) => Value::FuncRef { null: f.is_none() },
        Val::ExternRef(e) => Value::ExternRef { null: e.is_none() },
        Val::V128(_) => return None,
    })
}

/// The neutral kind of a Tenon error: its [`Trap`], or `Other` with the message.
fn trap_kind(err: &tenon::Error) -> TrapKind {
    match err.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => TrapKind::StackOverflow,
        Some(Trap::MemoryOutOfBounds) => TrapKind::MemoryOutOfBounds,
        Some(Trap::TableOutOfBounds) => TrapKind::TableOutOfBounds,
        Some(Trap::IndirectCallToNull) => TrapKind::IndirectCallToNull,
        Some(Trap::BadSignature) => TrapKind::BadSignature,
        Some(Trap::IntegerOverflow) => TrapKind::IntegerOverflow,
        Some(Trap::IntegerDivisionByZero) => TrapKind::DivisionByZero,
        Some(Trap::BadConversionToInteger) => TrapKind::InvalidConversion,
        Some(Trap::UnreachableCodeReached) => TrapKind::Unreachable,
        Some(Trap::NullReference) => TrapKind::NullReference,
        _ => TrapKind::Other(format!("{err:#}")),
    }
}
