// The differential runner for an engine with Wasmtime's embedding API, written once: `run_tenon.rs`
// includes it with `rt` naming `tenon`, and the benchmark workspace's triage driver with `rt` naming
// `wasmtime`. The including module imports `Instantiation`, `Outcome`, `Run`, `Setup`, `Signature`,
// `TrapKind`, `UNEXPORTED_FUNC`, `ValKind`, `Value` and `function_exports`, and defines
// `fn same_func(store: &mut rt::Store<()>, a: &rt::Func, b: &rt::Func) -> bool`.

/// Fuel put in the store under [`Setup::Fuel`]: all there is, since engines charge differently (Wasmtime
/// charges `table.grow` by the element, and a generated loop may ask for billions of elements a thousand
/// times); wasm-smith's own fuel stops the modules.
const STORE_FUEL: u64 = u64::MAX;

/// The epoch deadline under [`Setup::Epochs`], in ticks; nothing increments the epoch, so it is never reached.
const EPOCH_DEADLINE: u64 = 1 << 40;

/// The engine configured for `setup`, with the default wasm features.
pub fn engine(setup: Setup) -> rt::Engine {
    let mut config = rt::Config::new();
    match setup {
        Setup::Default => {}
        Setup::ExplicitChecks => {
            config.signals_based_traps(false);
        }
        Setup::DynamicMemory => {
            config.memory_reservation(0).memory_reservation_for_growth(0).memory_guard_size(0);
        }
        Setup::Fuel => {
            config.consume_fuel(true);
        }
        Setup::Epochs => {
            config.epoch_interruption(true);
        }
    }
    rt::Engine::new(&config).unwrap_or_else(|err| panic!("configuring the engine for {setup:?}: {err:#}"))
}

/// An instance of a module in its own store.
pub struct EngineRun {
    store: rt::Store<()>,
    instance: rt::Instance,
    /// The function exports in export order: a non-null `funcref` is identified by its position here.
    funcs: Vec<rt::Func>,
    /// The host references passed in so far, by the number each holds, so that a number always passes the
    /// same reference.
    externs: std::collections::HashMap<u32, rt::Rooted<rt::ExternRef>>,
}

impl EngineRun {
    /// Compiles `wasm` and instantiates it with no imports in a store prepared for `setup`.
    pub fn new(engine: &rt::Engine, setup: Setup, wasm: &[u8]) -> Instantiation<EngineRun> {
        let module = match rt::Module::new(engine, wasm) {
            Ok(module) => module,
            Err(err) => return Instantiation::Rejected(format!("{err:#}")),
        };
        let mut store = rt::Store::new(engine, ());
        match setup {
            Setup::Fuel => store.set_fuel(STORE_FUEL).expect("the engine consumes fuel"),
            Setup::Epochs => store.set_epoch_deadline(EPOCH_DEADLINE),
            Setup::Default | Setup::ExplicitChecks | Setup::DynamicMemory => {}
        }
        let instance = match rt::Instance::new(&mut store, &module, &[]) {
            Ok(instance) => instance,
            Err(err) => return Instantiation::Failed(trap_kind(&err)),
        };
        let funcs = function_exports(wasm)
            .iter()
            .map(|name| instance.get_func(&mut store, name).expect("a function export"))
            .collect();
        Instantiation::Ready(EngineRun { store, instance, funcs, externs: Default::default() })
    }

    /// The engine's value for `value`.
    fn engine_value(&mut self, value: Value) -> rt::Val {
        match value {
            Value::I32(v) => rt::Val::I32(v),
            Value::I64(v) => rt::Val::I64(v),
            Value::F32(bits) => rt::Val::F32(bits),
            Value::F64(bits) => rt::Val::F64(bits),
            Value::FuncRef(func) => rt::Val::FuncRef(func.map(|k| self.func(k))),
            Value::ExternRef(number) => rt::Val::ExternRef(number.map(|k| self.extern_ref(k))),
        }
    }

    /// Function export number `k`.
    fn func(&self, k: u32) -> rt::Func {
        *self.funcs.get(k as usize).unwrap_or_else(|| panic!("no function export #{k}"))
    }

    /// The host reference holding `k`, made on first use.
    fn extern_ref(&mut self, k: u32) -> rt::Rooted<rt::ExternRef> {
        if let Some(&reference) = self.externs.get(&k) {
            return reference;
        }
        let reference = rt::ExternRef::new(&mut self.store, k).expect("allocating a host reference");
        self.externs.insert(k, reference);
        reference
    }

    /// The neutral form of `val`; `None` for types the tests do not compare.
    fn neutral_value(&mut self, val: &rt::Val) -> Option<Value> {
        Some(match val {
            rt::Val::I32(v) => Value::I32(*v),
            rt::Val::I64(v) => Value::I64(*v),
            rt::Val::F32(bits) => Value::F32(*bits),
            rt::Val::F64(bits) => Value::F64(*bits),
            rt::Val::FuncRef(func) => Value::FuncRef(func.map(|func| self.func_identity(&func))),
            rt::Val::ExternRef(reference) => Value::ExternRef(reference.as_ref().map(|r| self.extern_identity(r))),
            _ => return None,
        })
    }

    /// The position of `func` among the function exports, or [`UNEXPORTED_FUNC`].
    fn func_identity(&mut self, func: &rt::Func) -> u32 {
        let store = &mut self.store;
        let position = self.funcs.iter().position(|export| same_func(store, export, func));
        position.map_or(UNEXPORTED_FUNC, |k| k as u32)
    }

    /// The number a host reference holds (`u32::MAX` if it holds something else, which the tests never make).
    fn extern_identity(&self, reference: &rt::Rooted<rt::ExternRef>) -> u32 {
        let data = reference.data(&self.store).ok().flatten();
        data.and_then(|data| data.downcast_ref::<u32>()).copied().unwrap_or(u32::MAX)
    }

    /// The exported function `name`, or the outcome that says it is missing.
    fn export(&mut self, name: &str) -> Result<rt::Func, Outcome> {
        let func = self.instance.get_func(&mut self.store, name);
        func.ok_or_else(|| Outcome::Trapped(TrapKind::Other(format!("no function export `{name}`"))))
    }

    /// Calls `func` through `TypedFunc<P, R>`.
    fn typed<P: rt::WasmParams, R: rt::WasmResults + TypedResults>(&mut self, func: rt::Func, params: P) -> Outcome {
        let typed = match func.typed::<P, R>(&self.store) {
            Ok(typed) => typed,
            Err(err) => return Outcome::Trapped(TrapKind::Other(format!("typing the function: {err:#}"))),
        };
        match typed.call(&mut self.store, params) {
            Ok(results) => Outcome::Returned(results.values(self)),
            Err(err) => Outcome::Trapped(trap_kind(&err)),
        }
    }

    /// Calls `func` through `TypedFunc<P, R>` with `R` chosen by its result types: none or one.
    fn typed_with_results<P: rt::WasmParams>(&mut self, func: rt::Func, params: P) -> Option<Outcome> {
        let results: Vec<ValKind> = func.ty(&self.store).results().map(kind).collect();
        Some(match results[..] {
            [] => self.typed::<P, ()>(func, params),
            [ValKind::I32] => self.typed::<P, i32>(func, params),
            [ValKind::I64] => self.typed::<P, i64>(func, params),
            [ValKind::F32] => self.typed::<P, f32>(func, params),
            [ValKind::F64] => self.typed::<P, f64>(func, params),
            [ValKind::FuncRef] => self.typed::<P, Option<rt::Func>>(func, params),
            [ValKind::ExternRef] => self.typed::<P, Option<rt::Rooted<rt::ExternRef>>>(func, params),
            _ => return None,
        })
    }

    /// The typed call of `func` whose first parameter is `first`, with `rest` (at most one value) after it.
    fn typed_after<A: rt::WasmTy>(&mut self, func: rt::Func, first: A, rest: &[Value]) -> Option<Outcome> {
        match *rest {
            [] => self.typed_with_results(func, (first,)),
            [Value::I32(v)] => self.typed_with_results(func, (first, v)),
            [Value::I64(v)] => self.typed_with_results(func, (first, v)),
            [Value::F32(bits)] => self.typed_with_results(func, (first, f32::from_bits(bits))),
            [Value::F64(bits)] => self.typed_with_results(func, (first, f64::from_bits(bits))),
            [Value::FuncRef(f)] => {
                let f = f.map(|k| self.func(k));
                self.typed_with_results(func, (first, f))
            }
            [Value::ExternRef(e)] => {
                let e = e.map(|k| self.extern_ref(k));
                self.typed_with_results(func, (first, e))
            }
            _ => None,
        }
    }
}

/// The results of a typed call as neutral values.
trait TypedResults {
    /// The values, in order.
    fn values(self, run: &mut EngineRun) -> Vec<Value>;
}

macro_rules! typed_results {
    ($($ty:ty => |$v:ident, $run:ident| $value:expr;)*) => {$(
        impl TypedResults for $ty {
            fn values(self, $run: &mut EngineRun) -> Vec<Value> {
                let $v = self;
                vec![$value]
            }
        }
    )*};
}

typed_results! {
    i32 => |v, _run| Value::I32(v);
    i64 => |v, _run| Value::I64(v);
    f32 => |v, _run| Value::F32(v.to_bits());
    f64 => |v, _run| Value::F64(v.to_bits());
    Option<rt::Func> => |v, run| Value::FuncRef(v.map(|f| run.func_identity(&f)));
    Option<rt::Rooted<rt::ExternRef>> => |v, run| Value::ExternRef(v.map(|r| run.extern_identity(&r)));
}

impl TypedResults for () {
    fn values(self, _run: &mut EngineRun) -> Vec<Value> {
        Vec::new()
    }
}

impl Run for EngineRun {
    fn signature(&mut self, name: &str) -> Option<Signature> {
        let ty = self.instance.get_func(&mut self.store, name)?.ty(&self.store);
        Some(Signature { params: ty.params().map(kind).collect(), results: ty.results().map(kind).collect() })
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Outcome {
        let func = match self.export(name) {
            Ok(func) => func,
            Err(missing) => return missing,
        };
        let args: Vec<rt::Val> = args.iter().map(|&arg| self.engine_value(arg)).collect();
        let mut results = vec![rt::Val::I32(0); func.ty(&self.store).results().len()];
        match func.call(&mut self.store, &args, &mut results) {
            Ok(()) => Outcome::Returned(results.iter().filter_map(|val| self.neutral_value(val)).collect()),
            Err(err) => Outcome::Trapped(trap_kind(&err)),
        }
    }

    /// Typed calls cover functions with at most two parameters and one result, of any comparable type.
    fn call_typed(&mut self, name: &str, args: &[Value]) -> Option<Outcome> {
        let func = self.export(name).ok()?;
        match *args {
            [] => self.typed_with_results(func, ()),
            [Value::I32(v), ref rest @ ..] => self.typed_after(func, v, rest),
            [Value::I64(v), ref rest @ ..] => self.typed_after(func, v, rest),
            [Value::F32(bits), ref rest @ ..] => self.typed_after(func, f32::from_bits(bits), rest),
            [Value::F64(bits), ref rest @ ..] => self.typed_after(func, f64::from_bits(bits), rest),
            [Value::FuncRef(f), ref rest @ ..] => {
                let f = f.map(|k| self.func(k));
                self.typed_after(func, f, rest)
            }
            [Value::ExternRef(e), ref rest @ ..] => {
                let e = e.map(|k| self.extern_ref(k));
                self.typed_after(func, e, rest)
            }
        }
    }

    fn global(&mut self, name: &str) -> Option<Value> {
        let value = self.instance.get_global(&mut self.store, name)?.get(&mut self.store);
        self.neutral_value(&value)
    }

    fn set_global(&mut self, name: &str, value: Value) -> Result<(), String> {
        let global = self.instance.get_global(&mut self.store, name).ok_or("no such global export")?;
        let value = self.engine_value(value);
        global.set(&mut self.store, value).map_err(|err| format!("{err:#}"))
    }

    fn memory(&mut self, name: &str) -> Option<&[u8]> {
        let memory = self.instance.get_memory(&mut self.store, name)?;
        Some(memory.data(&self.store))
    }

    fn fuel(&mut self) -> Option<u64> {
        self.store.get_fuel().ok()
    }

    fn table(&mut self, name: &str) -> Option<Vec<Value>> {
        let table = self.instance.get_table(&mut self.store, name)?;
        let size = table.size(&self.store);
        let mut elements = Vec::with_capacity(size as usize);
        for index in 0..size {
            let element = table.get(&mut self.store, index)?;
            elements.push(self.neutral_value(&rt::Val::from(element))?);
        }
        Some(elements)
    }
}

/// The neutral kind of a value type.
fn kind(ty: rt::ValType) -> ValKind {
    match ty {
        rt::ValType::I32 => ValKind::I32,
        rt::ValType::I64 => ValKind::I64,
        rt::ValType::F32 => ValKind::F32,
        rt::ValType::F64 => ValKind::F64,
        ty if ty.is_funcref() => ValKind::FuncRef,
        ty if ty.is_externref() => ValKind::ExternRef,
        _ => ValKind::Unsupported,
    }
}

/// The neutral kind of an error: its `Trap`, or `Other` with the message.
fn trap_kind(err: &rt::Error) -> TrapKind {
    match err.downcast_ref::<rt::Trap>() {
        Some(rt::Trap::StackOverflow) => TrapKind::StackOverflow,
        Some(rt::Trap::MemoryOutOfBounds) => TrapKind::MemoryOutOfBounds,
        Some(rt::Trap::TableOutOfBounds) => TrapKind::TableOutOfBounds,
        Some(rt::Trap::IndirectCallToNull) => TrapKind::IndirectCallToNull,
        Some(rt::Trap::BadSignature) => TrapKind::BadSignature,
        Some(rt::Trap::IntegerOverflow) => TrapKind::IntegerOverflow,
        Some(rt::Trap::IntegerDivisionByZero) => TrapKind::DivisionByZero,
        Some(rt::Trap::BadConversionToInteger) => TrapKind::InvalidConversion,
        Some(rt::Trap::UnreachableCodeReached) => TrapKind::Unreachable,
        Some(rt::Trap::NullReference) => TrapKind::NullReference,
        _ => TrapKind::Other(format!("{err:#}")),
    }
}
