// Embedding code written once against the core API Tenon shares with Wasmtime 48. `api-compat.rs`
// includes this file twice, with `rt` naming `tenon` and then `wasmtime`: it must compile against both and
// pass the same assertions on both. When it stops compiling against Tenon, Tenon has drifted from
// Wasmtime's API; the README's "Moving from Wasmtime" lists what is deliberately different.

use rt::{
    AsContext, AsContextMut, Caller, Config, Engine, Extern, ExternRef, ExternType, Func, FuncType, Global, GlobalType,
    HeapType, Instance, Linker, Memory, MemoryType, Module, Mutability, Ref, RefType, ResourceLimiter, Rooted, Store,
    StoreContext, StoreContextMut, StoreLimits, StoreLimitsBuilder, Table, TableType, Tag, TagType, Trap, TypedFunc,
    Val, ValType, WasmBacktrace,
};

/// Counts the checks made, so the report can say how many passed.
#[derive(Default)]
pub struct Checks(pub usize);

impl Checks {
    fn that(&mut self, ok: bool, what: &str) {
        assert!(ok, "{}: {what}", RUNTIME);
        self.0 += 1;
    }
}

/// Host state of the stores below.
#[derive(Default)]
pub struct Host {
    log: Vec<i32>,
    limits: Option<StoreLimits>,
}

const GUEST: &str = r#"
(module $guest
  (import "host" "log" (func $log (param i32)))
  (import "host" "double" (func $double (param i64) (result i64)))
  (import "host" "dynamic" (func $dynamic (param i32 f64) (result f64)))
  (import "host" "global" (global $imported (mut i32)))
  (type $unary (func (param i32) (result i32)))
  (memory (export "memory") 1 4)
  (table (export "table") 2 10 funcref)
  (global (export "counter") (mut i64) (i64.const 100))
  (global (export "pi") f64 (f64.const 3.25))
  (tag (export "tag") (param i32))
  (elem (i32.const 0) $inc)
  (func $inc (export "inc") (type $unary) (i32.add (local.get 0) (i32.const 1)))
  (func (export "log_twice") (param i32)
    (call $log (local.get 0))
    (call $log (i32.mul (local.get 0) (i32.const 2))))
  (func (export "double") (param i64) (result i64) (call $double (local.get 0)))
  (func (export "dynamic") (param i32 f64) (result f64) (call $dynamic (local.get 0) (local.get 1)))
  (func (export "bump") (result i32)
    (global.set $imported (i32.add (global.get $imported) (i32.const 1)))
    (global.get $imported))
  (func (export "indirect") (param i32 i32) (result i32)
    (call_indirect (type $unary) (local.get 1) (local.get 0)))
  (func (export "swap") (param i32 i64) (result i64 i32) (local.get 1) (local.get 0))
  (func (export "many") (param i32 i32 i32 i32 i32 i32 f32 f64) (result f64)
    (f64.add
      (f64.convert_i32_s
        (i32.add (i32.add (i32.add (local.get 0) (local.get 1)) (i32.add (local.get 2) (local.get 3)))
                 (i32.add (local.get 4) (local.get 5))))
      (f64.add (f64.promote_f32 (local.get 6)) (local.get 7))))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "divide") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func $deep (export "unreachable") unreachable)
  (func (export "nested") (call $deep))
  (func (export "spin") (loop $l (br $l)))
  (func (export "refs") (param externref funcref) (result funcref externref) (local.get 1) (local.get 0)))
"#;

/// The host functions the guest imports.
fn host_linker(engine: &Engine) -> rt::Result<Linker<Host>> {
    let mut linker = Linker::new(engine);
    linker.func_wrap("host", "log", |mut caller: Caller<'_, Host>, x: i32| caller.data_mut().log.push(x))?;
    linker.func_wrap("host", "double", |x: i64| -> rt::Result<i64> {
        if x < 0 {
            rt::bail!("negative: {x}");
        }
        Ok(x * 2)
    })?;
    let ty = FuncType::new(engine, [ValType::I32, ValType::F64], [ValType::F64]);
    linker.func_new("host", "dynamic", ty, |_caller, params, results| {
        results[0] = Val::F64((f64::from(params[0].unwrap_i32()) * params[1].unwrap_f64()).to_bits());
        Ok(())
    })?;
    Ok(linker)
}

fn engine_and_config(checks: &mut Checks) -> rt::Result<()> {
    let mut config = Config::new();
    config.consume_fuel(true).epoch_interruption(true).max_wasm_stack(1 << 20).signals_based_traps(true);
    config.memory_reservation(1 << 32).memory_guard_size(32 << 20).guard_before_linear_memory(true);
    config.wasm_multi_value(true).wasm_bulk_memory(true).wasm_reference_types(true).wasm_multi_memory(true);
    config.wasm_extended_const(true).wasm_function_references(true);
    config.wasm_backtrace_max_frames(std::num::NonZeroUsize::new(20));
    config.cranelift_opt_level(rt::OptLevel::Speed).parallel_compilation(false);
    let engine = Engine::new(&config)?;
    let same = engine.clone();
    checks.that(Engine::same(&engine, &same), "a cloned engine is the same engine");
    checks.that(!Engine::same(&engine, &Engine::default()), "two engines are not the same");
    engine.increment_epoch();

    // Fuel and epochs stop a loop.
    let module = Module::new(&engine, GUEST)?;
    let mut store = Store::new(&engine, Host::default());
    let mut linker = host_linker(&engine)?;
    let global = Global::new(&mut store, GlobalType::new(ValType::I32, Mutability::Var), Val::I32(0))?;
    linker.define(&store, "host", "global", global)?;
    let instance = linker.instantiate(&mut store, &module)?;
    let spin = instance.get_typed_func::<(), ()>(&mut store, "spin")?;
    store.set_fuel(10_000)?;
    store.set_epoch_deadline(1_000_000);
    let err = spin.call(&mut store, ()).unwrap_err();
    checks.that(err.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel), "fuel runs out");
    checks.that(store.get_fuel()? == 0, "no fuel left");
    store.set_fuel(u64::MAX)?;
    store.set_epoch_deadline(1);
    store.epoch_deadline_trap();
    let ticker = {
        let engine = engine.clone();
        std::thread::spawn(move || {
            for _ in 0..200 {
                std::thread::sleep(std::time::Duration::from_millis(5));
                engine.increment_epoch();
            }
        })
    };
    let err = spin.call(&mut store, ()).unwrap_err();
    checks.that(err.downcast_ref::<Trap>() == Some(&Trap::Interrupt), "the epoch deadline interrupts");
    ticker.join().unwrap();
    Ok(())
}

fn modules(checks: &mut Checks, engine: &Engine) -> rt::Result<()> {
    let module = Module::new(engine, GUEST)?;
    checks.that(module.name() == Some("guest"), "the module's name");
    checks.that(Engine::same(module.engine(), engine), "the module's engine");
    let imports: Vec<_> = module.imports().map(|i| (i.module().to_string(), i.name().to_string(), i.ty())).collect();
    checks.that(imports.len() == 4 && imports[0].0 == "host" && imports[0].1 == "log", "imports in order");
    checks.that(matches!(&imports[3].2, ExternType::Global(g) if g.mutability() == Mutability::Var), "imported global");
    let exports: Vec<_> = module.exports().map(|e| e.name().to_string()).collect();
    checks.that(exports.first().map(String::as_str) == Some("memory"), "exports in order");
    match module.get_export("double") {
        Some(ExternType::Func(ty)) => {
            checks.that(ty.params().len() == 1 && ty.results().len() == 1, "the export's function type");
            checks.that(ValType::eq(&ty.param(0).unwrap(), &ValType::I64), "the export's parameter type");
        }
        _ => checks.that(false, "`double` is a function export"),
    }
    match module.get_export("memory") {
        Some(ExternType::Memory(m)) => checks.that(m.minimum() == 1 && m.maximum() == Some(4), "memory limits"),
        _ => checks.that(false, "`memory` is a memory export"),
    }
    match module.get_export("table") {
        Some(ExternType::Table(t)) => {
            checks.that(t.minimum() == 2 && t.maximum() == Some(10) && t.element().is_nullable(), "table type")
        }
        _ => checks.that(false, "`table` is a table export"),
    }
    checks.that(module.get_export("nothing").is_none(), "a missing export");
    let binary = wat::parse_str(GUEST)?;
    Module::validate(engine, &binary)?;
    checks.that(Module::validate(engine, b"\0asm\x01\0\0\0\x01").is_err(), "an invalid binary does not validate");
    let from_binary = Module::from_binary(engine, &binary)?;
    checks.that(from_binary.exports().len() == module.exports().len(), "from_binary");
    let path = std::env::temp_dir().join(format!("api-compat-{}-{}.wat", RUNTIME, std::process::id()));
    std::fs::write(&path, GUEST)?;
    let from_file = Module::from_file(engine, &path);
    std::fs::remove_file(&path)?;
    checks.that(from_file?.imports().len() == 4, "from_file");
    checks.that(Module::new(engine, "(module (func (result i32)))").is_err(), "an invalid module is an error");
    Ok(())
}

/// Ahead-of-time artifacts: precompiled, serialized, detected, loaded (from bytes and from a file) and run;
/// refused by an engine of other settings, and when corrupted.
fn artifacts(checks: &mut Checks, engine: &Engine) -> rt::Result<()> {
    let wat = r#"(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;
    let bytes = engine.precompile_module(wat.as_bytes())?;
    checks.that(Engine::detect_precompiled(&bytes) == Some(rt::Precompiled::Module), "a precompiled module is detected");
    checks.that(Engine::detect_precompiled(&wat::parse_str(wat)?).is_none(), "a wasm binary is not precompiled");
    // SAFETY: made by this runtime just above.
    let module = unsafe { Module::deserialize(engine, &bytes) }?;
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let add = instance.get_typed_func::<(i32, i32), i32>(&mut store, "add")?;
    checks.that(add.call(&mut store, (2, 3))? == 5, "a loaded module runs");
    checks.that(!module.serialize()?.is_empty(), "a module serializes");
    let path = std::env::temp_dir().join(format!("api-compat-{}-{}.cwasm", RUNTIME, std::process::id()));
    std::fs::write(&path, &bytes)?;
    checks.that(Engine::detect_precompiled_file(&path)? == Some(rt::Precompiled::Module), "detected in a file");
    // SAFETY: as above.
    let from_file = unsafe { Module::deserialize_file(engine, &path) };
    std::fs::remove_file(&path)?;
    checks.that(from_file.is_ok(), "a module loads from a file");
    let path = std::env::temp_dir().join(format!("api-compat-open-{}-{}.cwasm", RUNTIME, std::process::id()));
    std::fs::write(&path, &bytes)?;
    // SAFETY: as above.
    let from_open_file = unsafe { Module::deserialize_open_file(engine, std::fs::File::open(&path)?) };
    std::fs::remove_file(&path)?;
    checks.that(from_open_file.is_ok(), "a module loads from an open file");
    // (`Module::deserialize_raw` is left out: Wasmtime 48 refuses it unless virtual memory is disabled.)
    let fuel = Engine::new(Config::new().consume_fuel(true))?;
    // SAFETY: as above; loading must refuse it.
    checks.that(unsafe { Module::deserialize(&fuel, &bytes) }.is_err(), "an engine with other settings refuses it");
    let mut corrupt = bytes.clone();
    corrupt.truncate(bytes.len() / 2);
    // SAFETY: as above; loading must refuse it.
    checks.that(unsafe { Module::deserialize(engine, &corrupt) }.is_err(), "a truncated artifact is refused");
    let component = r#"(component (core module $m) (core instance (instantiate $m)))"#;
    let bytes = engine.precompile_component(component.as_bytes())?;
    checks.that(Engine::detect_precompiled(&bytes) == Some(rt::Precompiled::Component), "a precompiled component is detected");
    // SAFETY: as above.
    let component = unsafe { rt::component::Component::deserialize(engine, &bytes) }?;
    checks.that(!component.serialize()?.is_empty(), "a loaded component serializes");
    Ok(())
}

/// A store with the guest instantiated in it.
fn guest(engine: &Engine) -> rt::Result<(Store<Host>, Instance, Global)> {
    let module = Module::new(engine, GUEST)?;
    let mut store = Store::new(engine, Host::default());
    let mut linker = host_linker(engine)?;
    let global = Global::new(&mut store, GlobalType::new(ValType::I32, Mutability::Var), Val::I32(10))?;
    linker.define(&store, "host", "global", global)?;
    let instance = linker.instantiate(&mut store, &module)?;
    Ok((store, instance, global))
}

fn calls(checks: &mut Checks, engine: &Engine) -> rt::Result<()> {
    let (mut store, instance, global) = guest(engine)?;
    let log_twice = instance.get_typed_func::<i32, ()>(&mut store, "log_twice")?;
    log_twice.call(&mut store, 21)?;
    checks.that(store.data().log == [21, 42], "host functions see the store's data");
    let double: TypedFunc<i64, i64> = instance.get_typed_func(&mut store, "double")?;
    checks.that(double.call(&mut store, 21)? == 42, "a typed call through a host function");
    let err = double.call(&mut store, -1).unwrap_err();
    checks.that(err.root_cause().to_string() == "negative: -1", "a host error comes out of the call");
    let swap = instance.get_typed_func::<(i32, i64), (i64, i32)>(&mut store, "swap")?;
    checks.that(swap.call(&mut store, (1, 2))? == (2, 1), "multiple results");
    let many = instance.get_typed_func::<(i32, i32, i32, i32, i32, i32, f32, f64), f64>(&mut store, "many")?;
    checks.that(many.call(&mut store, (1, 2, 3, 4, 5, 6, 0.5, 0.25))? == 21.75, "many parameters");
    checks.that(many.func().ty(&store).params().len() == 8, "TypedFunc::func");
    checks.that(instance.get_typed_func::<i32, i32>(&mut store, "swap").is_err(), "a wrong typed signature errors");
    checks.that(instance.get_typed_func::<(), ()>(&mut store, "nothing").is_err(), "a missing export errors");

    // Untyped calls.
    let dynamic = instance.get_func(&mut store, "dynamic").unwrap();
    let ty = dynamic.ty(&store);
    checks.that(ty.params().len() == 2 && ValType::eq(&ty.result(0).unwrap(), &ValType::F64), "Func::ty");
    checks.that(dynamic.matches_ty(&store, &ty), "Func::matches_ty");
    let mut results = [Val::F64(0)];
    dynamic.call(&mut store, &[Val::I32(3), Val::F64(1.5f64.to_bits())], &mut results)?;
    checks.that(results[0].unwrap_f64() == 4.5, "Func::call with Vals");
    checks.that(dynamic.call(&mut store, &[Val::I32(3)], &mut results).is_err(), "too few arguments");
    checks.that(dynamic.call(&mut store, &[Val::I64(3), Val::F64(0)], &mut results).is_err(), "a wrong argument type");
    let typed = dynamic.typed::<(i32, f64), f64>(&store)?;
    checks.that(typed.call(&mut store, (2, 2.0))? == 4.0, "Func::typed");

    // Globals, imported and exported.
    let bump = instance.get_typed_func::<(), i32>(&mut store, "bump")?;
    checks.that(bump.call(&mut store, ())? == 11, "wasm writes an imported global");
    checks.that(global.get(&mut store).unwrap_i32() == 11, "the host reads it");
    global.set(&mut store, Val::I32(20))?;
    checks.that(bump.call(&mut store, ())? == 21, "and writes it");
    let counter = instance.get_global(&mut store, "counter").unwrap();
    checks.that(counter.get(&mut store).i64() == Some(100), "an exported global");
    checks.that(counter.ty(&store).mutability() == Mutability::Var, "its type");
    let pi = instance.get_global(&mut store, "pi").unwrap();
    checks.that(pi.set(&mut store, Val::F64(0)).is_err(), "an immutable global cannot be set");
    checks.that(counter.set(&mut store, Val::I32(1)).is_err(), "a global is set only to its type");

    // Host functions made directly.
    let add = Func::wrap(&mut store, |a: i32, b: i32| a.wrapping_add(b));
    checks.that(add.typed::<(i32, i32), i32>(&store)?.call(&mut store, (2, 3))? == 5, "Func::wrap");
    let with_caller = Func::wrap(&mut store, |mut caller: Caller<'_, Host>| -> rt::Result<i32> {
        let memory = caller.get_export("memory");
        caller.data_mut().log.push(7);
        let _ = caller.engine();
        Ok(i32::from(memory.is_none()))
    });
    checks.that(with_caller.typed::<(), i32>(&store)?.call(&mut store, ())? == 1, "a Caller called by the host");
    let ty = FuncType::new(engine, [ValType::I64], [ValType::I64]);
    let negate = Func::new(&mut store, ty, |_, params, results| {
        results[0] = Val::I64(-params[0].unwrap_i64());
        Ok(())
    });
    checks.that(negate.typed::<i64, i64>(&store)?.call(&mut store, 5)? == -5, "Func::new");
    Ok(())
}

fn traps(checks: &mut Checks, engine: &Engine) -> rt::Result<()> {
    let (mut store, instance, _) = guest(engine)?;
    let divide = instance.get_typed_func::<(i32, i32), i32>(&mut store, "divide")?;
    let err = divide.call(&mut store, (1, 0)).unwrap_err();
    checks.that(err.downcast_ref::<Trap>() == Some(&Trap::IntegerDivisionByZero), "division by zero");
    let err = divide.call(&mut store, (i32::MIN, -1)).unwrap_err();
    checks.that(err.downcast_ref::<Trap>() == Some(&Trap::IntegerOverflow), "integer overflow");
    let nested = instance.get_typed_func::<(), ()>(&mut store, "nested")?;
    let err = nested.call(&mut store, ()).unwrap_err();
    checks.that(err.downcast_ref::<Trap>() == Some(&Trap::UnreachableCodeReached), "unreachable");
    let backtrace = err.downcast_ref::<WasmBacktrace>().expect("a backtrace");
    checks.that(backtrace.frames().len() >= 2, "the backtrace has both frames");
    checks.that(backtrace.frames()[0].func_name() == Some("deep"), "the innermost frame's name");
    checks.that(backtrace.frames()[0].func_index() == 14, "the innermost frame's index");
    let load = instance.get_typed_func::<i32, i32>(&mut store, "load")?;
    let err = load.call(&mut store, 1 << 20).unwrap_err();
    checks.that(err.downcast_ref::<Trap>() == Some(&Trap::MemoryOutOfBounds), "out of bounds");
    let indirect = instance.get_typed_func::<(i32, i32), i32>(&mut store, "indirect")?;
    checks.that(indirect.call(&mut store, (0, 41))? == 42, "call_indirect");
    let err = indirect.call(&mut store, (1, 0)).unwrap_err();
    checks.that(err.downcast_ref::<Trap>() == Some(&Trap::IndirectCallToNull), "a null table element");
    let err = indirect.call(&mut store, (5, 0)).unwrap_err();
    checks.that(err.downcast_ref::<Trap>() == Some(&Trap::TableOutOfBounds), "out of the table");
    checks.that(Trap::MemoryOutOfBounds.to_string() == "wasm trap: out of bounds memory access", "trap messages");
    checks.that(load.call(&mut store, 0)? == 0, "the store is usable after traps");
    Ok(())
}

fn memories_tables_tags(checks: &mut Checks, engine: &Engine) -> rt::Result<()> {
    let (mut store, instance, _) = guest(engine)?;
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    checks.that(memory.size(&store) == 1 && memory.data_size(&store) == 65536, "memory size");
    memory.write(&mut store, 8, &[1, 2, 3, 4])?;
    let mut buffer = [0; 4];
    memory.read(&store, 8, &mut buffer)?;
    checks.that(buffer == [1, 2, 3, 4], "Memory::read and write");
    checks.that(memory.read(&store, 65535, &mut buffer).is_err(), "reads are bounds-checked");
    memory.data_mut(&mut store)[0] = 42;
    checks.that(memory.data(&store)[0] == 42, "Memory::data(_mut)");
    let (data, host) = memory.data_and_store_mut(&mut store);
    host.log.push(i32::from(data[0]));
    checks.that(store.data().log == [42], "Memory::data_and_store_mut");
    checks.that(!memory.data_ptr(&store).is_null(), "Memory::data_ptr");
    checks.that(memory.grow(&mut store, 1)? == 1, "Memory::grow");
    checks.that(memory.ty(&store).minimum() == 1 && memory.size(&store) == 2, "the type stays as declared");
    checks.that(memory.grow(&mut store, 10).is_err(), "growth past the maximum fails");
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    checks.that(grow.call(&mut store, 10)? == -1, "memory.grow past the maximum is -1");
    checks.that(memory.page_size(&store) == 65536, "page size");
    let made = Memory::new(&mut store, MemoryType::new(2, None))?;
    checks.that(made.size(&store) == 2 && made.ty(&store).maximum().is_none(), "Memory::new");

    let table = instance.get_table(&mut store, "table").unwrap();
    checks.that(table.size(&store) == 2, "table size");
    let inc = table.get(&mut store, 0).unwrap();
    checks.that(inc.as_func().map(|f| f.is_some()) == Some(true), "an element segment's function");
    checks.that(table.get(&mut store, 5).is_none(), "out of bounds is None");
    table.set(&mut store, 1, inc.clone())?;
    let indirect = instance.get_typed_func::<(i32, i32), i32>(&mut store, "indirect")?;
    checks.that(indirect.call(&mut store, (1, 1))? == 2, "Table::set");
    checks.that(table.grow(&mut store, 3, Ref::Func(None))? == 2, "Table::grow");
    table.fill(&mut store, 2, inc.clone(), 3)?;
    checks.that(table.get(&mut store, 4).unwrap().as_func().map(|f| f.is_some()) == Some(true), "Table::fill");
    let other = Table::new(&mut store, TableType::new(RefType::FUNCREF, 4, None), Ref::Func(None))?;
    Table::copy(&mut store, &other, 0, &table, 3, 2)?;
    checks.that(other.get(&mut store, 1).unwrap().as_func().map(|f| f.is_some()) == Some(true), "Table::copy");
    checks.that(table.ty(&store).minimum() == 2 && table.size(&store) == 5, "the type stays as declared");
    checks.that(table.set(&mut store, 100, Ref::Func(None)).is_err(), "sets are bounds-checked");

    let tag = Tag::new(&mut store, &TagType::new(FuncType::new(engine, [ValType::I32], [])))?;
    checks.that(tag.ty(&store).ty().params().len() == 1, "Tag::new and ty");
    let exported = match instance.get_export(&mut store, "tag") {
        Some(Extern::Tag(tag)) => tag,
        _ => panic!("`tag` is a tag export"),
    };
    checks.that(exported.ty(&store).ty().param(0).is_some(), "an exported tag");

    let mut kinds = Vec::new();
    for export in instance.exports(&mut store) {
        #[allow(unreachable_patterns)] // Wasmtime has shared memories too.
        kinds.push(match export.into_extern() {
            Extern::Func(_) => 'f',
            Extern::Memory(_) => 'm',
            Extern::Table(_) => 't',
            Extern::Global(_) => 'g',
            Extern::Tag(_) => 'x',
            _ => '?',
        });
    }
    checks.that(kinds.iter().collect::<String>().starts_with("mtggxf"), "Instance::exports");
    let as_extern: Extern = memory.into();
    checks.that(matches!(as_extern.ty(&store), ExternType::Memory(_)) && as_extern.into_memory().is_some(), "Extern");
    Ok(())
}

fn references(checks: &mut Checks, engine: &Engine) -> rt::Result<()> {
    let (mut store, instance, _) = guest(engine)?;
    let refs = instance.get_typed_func::<(Option<Rooted<ExternRef>>, Option<Func>), (Option<Func>, Option<Rooted<ExternRef>>)>(
        &mut store, "refs",
    )?;
    let value = ExternRef::new(&mut store, String::from("hello"))?;
    let inc = instance.get_func(&mut store, "inc").unwrap();
    let (f, e) = refs.call(&mut store, (Some(value), Some(inc)))?;
    checks.that(f.is_some() && e.is_some(), "references through a typed call");
    let e = e.unwrap();
    checks.that(Rooted::ref_eq(&store, &e, &value)?, "the same host reference comes back");
    let data = e.data(&store)?.and_then(|d| d.downcast_ref::<String>()).cloned();
    checks.that(data.as_deref() == Some("hello"), "ExternRef::data");
    if let Some(s) = e.data_mut(&mut store)?.and_then(|d| d.downcast_mut::<String>()) {
        s.push('!');
    }
    let data = value.data(&store)?.and_then(|d| d.downcast_ref::<String>()).cloned();
    checks.that(data.as_deref() == Some("hello!"), "ExternRef::data_mut");
    let (f, e) = refs.call(&mut store, (None, None))?;
    checks.that(f.is_none() && e.is_none(), "null references");

    let untyped = instance.get_func(&mut store, "refs").unwrap();
    let mut results = [Val::null_func_ref(), Val::null_extern_ref()];
    untyped.call(&mut store, &[Val::ExternRef(Some(value)), Val::FuncRef(Some(inc))], &mut results)?;
    checks.that(results[0].funcref().map(|f| f.is_some()) == Some(true), "Val::funcref");
    checks.that(results[1].externref().map(|e| e.is_some()) == Some(true), "Val::externref");
    checks.that(results[1].ty(&store)?.is_ref(), "Val::ty");
    checks.that(results[1].matches_ty(&store, &ValType::EXTERNREF)?, "Val::matches_ty");
    checks.that(Val::default_for_ty(&ValType::FUNCREF).is_some_and(|v| matches!(v.funcref(), Some(None))), "default_for_ty");
    let non_null = ValType::Ref(RefType::new(false, HeapType::Func));
    checks.that(Val::default_for_ty(&non_null).is_none(), "a non-nullable type has no default");
    checks.that(ValType::FUNCREF.is_funcref() && ValType::EXTERNREF.is_externref(), "ValType predicates");
    checks.that(non_null.matches(&ValType::FUNCREF) && !ValType::FUNCREF.matches(&non_null), "ValType::matches");
    checks.that(RefType::FUNCREF.heap_type().is_func() && RefType::EXTERNREF.is_nullable(), "RefType");
    let r: Ref = inc.into();
    checks.that(r.is_func() && r.is_non_null() && Ref::Func(None).is_null(), "Ref");
    let r: Ref = value.into();
    checks.that(r.is_extern() && r.as_extern().is_some(), "Ref::as_extern");
    checks.that(Val::from(7i32).i32() == Some(7) && Val::from(1.5f64).f64() == Some(1.5), "Val conversions");
    Ok(())
}

/// A limiter that refuses memories over 2 pages and counts its calls.
struct Limiter(usize);

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> rt::Result<bool> {
        self.0 += 1;
        Ok(desired <= 2 * 65536)
    }
    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> rt::Result<bool> {
        self.0 += 1;
        Ok(desired <= 10)
    }
}

fn limits_and_linking(checks: &mut Checks, engine: &Engine) -> rt::Result<()> {
    let module = Module::new(engine, GUEST)?;
    let mut store = Store::new(engine, Host::default());
    store.data_mut().limits = Some(StoreLimitsBuilder::new().memory_size(2 * 65536).instances(2).build());
    store.limiter(|host| host.limits.as_mut().unwrap());
    let mut linker = host_linker(engine)?;
    let global = Global::new(&mut store, GlobalType::new(ValType::I32, Mutability::Var), Val::I32(0))?;
    linker.define(&store, "host", "global", global)?;
    let pre = linker.instantiate_pre(&module)?;
    checks.that(pre.module().name() == Some("guest"), "InstancePre::module");
    let instance = pre.instantiate(&mut store)?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    checks.that(grow.call(&mut store, 1)? == 1 && grow.call(&mut store, 1)? == -1, "StoreLimits bound memory growth");
    pre.instantiate(&mut store)?;
    checks.that(pre.instantiate(&mut store).is_err(), "StoreLimits bound instances");

    let mut store = Store::new(engine, Limiter(0));
    store.limiter(|limiter| limiter as &mut dyn ResourceLimiter);
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    checks.that(memory.grow(&mut store, 1).is_ok() && memory.grow(&mut store, 1).is_err(), "a custom limiter");
    checks.that(store.data().0 == 3, "the limiter sees every request");
    let store_data = store.into_data();
    checks.that(store_data.0 == 3, "Store::into_data");

    // Linking instances together by name.
    let mut store = Store::new(engine, Host::default());
    let mut linker = host_linker(engine)?;
    linker.allow_shadowing(true);
    let global = Global::new(&mut store, GlobalType::new(ValType::I32, Mutability::Var), Val::I32(0))?;
    linker.define(&store, "host", "global", global)?;
    linker.module(&mut store, "guest", &module)?;
    let user = Module::new(
        engine,
        r#"(module (import "guest" "inc" (func $inc (param i32) (result i32)))
                   (import "alias" "inc" (func $inc2 (param i32) (result i32)))
                   (func (export "twice") (param i32) (result i32) (call $inc2 (call $inc (local.get 0)))))"#,
    )?;
    checks.that(linker.instantiate(&mut store, &user).is_err(), "an unknown import");
    linker.alias("guest", "inc", "alias", "inc")?;
    let instance = linker.instantiate(&mut store, &user)?;
    checks.that(instance.get_typed_func::<i32, i32>(&mut store, "twice")?.call(&mut store, 1)? == 3, "Linker::alias");
    checks.that(linker.get(&mut store, "guest", "memory")?.into_memory().is_some(), "Linker::get");
    checks.that(linker.get(&mut store, "guest", "nothing").is_err(), "Linker::get of an unknown name");
    let import = user.imports().next().unwrap();
    checks.that(linker.get_by_import(&mut store, &import).is_some(), "Linker::get_by_import");
    linker.alias_module("guest", "copy")?;
    checks.that(linker.get(&mut store, "copy", "inc").is_ok(), "Linker::alias_module");
    checks.that(Engine::same(linker.engine(), engine), "Linker::engine");
    let mut trapping = Linker::<Host>::new(engine);
    trapping.define_unknown_imports_as_traps(&user)?;
    let instance = trapping.instantiate(&mut store, &user)?;
    let err = instance.get_typed_func::<i32, i32>(&mut store, "twice")?.call(&mut store, 1).unwrap_err();
    checks.that(format!("{err:?}").contains("unknown import"), "define_unknown_imports_as_traps");
    let mut defaults = Linker::<Host>::new(engine);
    defaults.define_unknown_imports_as_default_values(&mut store, &user)?;
    let instance = defaults.instantiate(&mut store, &user)?;
    let twice = instance.get_typed_func::<i32, i32>(&mut store, "twice")?;
    checks.that(twice.call(&mut store, 1)? == 0, "define_unknown_imports_as_default_values");
    let wrong = Module::new(engine, r#"(module (import "guest" "inc" (func (param i64))))"#)?;
    checks.that(linker.instantiate(&mut store, &wrong).is_err(), "an import of the wrong type");
    let direct = Instance::new(&mut store, &Module::new(engine, "(module (func (export \"f\")))")?, &[])?;
    checks.that(direct.get_func(&mut store, "f").is_some(), "Instance::new");
    checks.that(Instance::new(&mut store, &user, &[]).is_err(), "Instance::new with missing imports");

    // Contexts, and the conversions that let an `impl AsContextMut` or a `&mut Store` stand for a context.
    fn first_byte(mut cx: impl AsContextMut, memory: Memory) -> u8 {
        memory.data_mut(&mut cx)[0] = 5;
        memory.data(&cx)[0]
    }
    let memory = Memory::new(&mut store, MemoryType::new(1, None))?;
    checks.that(first_byte(&mut store, memory) == 5 && memory.data(&mut store)[0] == 5, "context conversions");
    let no_backtraces = Engine::new(Config::new().wasm_backtrace_max_frames(None))?;
    let module = Module::new(&no_backtraces, "(module (func (export \"f\") unreachable))")?;
    let mut quiet = Store::new(&no_backtraces, ());
    let f = Instance::new(&mut quiet, &module, &[])?.get_typed_func::<(), ()>(&mut quiet, "f")?;
    let err = f.call(&mut quiet, ()).unwrap_err();
    checks.that(err.downcast_ref::<WasmBacktrace>().is_none(), "wasm_backtrace_max_frames(None)");

    let context: StoreContext<'_, Host> = (&store).into();
    checks.that(context.data().log.is_empty() && Engine::same(context.engine(), engine), "StoreContext");
    let mut context: StoreContextMut<'_, Host> = (&mut store).into();
    context.data_mut().log.push(1);
    checks.that(context.as_context().data().log == [1], "StoreContextMut");
    checks.that(store.as_context_mut().data().log == [1], "AsContextMut");
    Ok(())
}

/// Runs every check; returns how many passed.
pub fn run() -> rt::Result<usize> {
    let mut checks = Checks::default();
    let engine = Engine::default();
    engine_and_config(&mut checks)?;
    modules(&mut checks, &engine)?;
    artifacts(&mut checks, &engine)?;
    calls(&mut checks, &engine)?;
    traps(&mut checks, &engine)?;
    memories_tables_tags(&mut checks, &engine)?;
    references(&mut checks, &engine)?;
    limits_and_linking(&mut checks, &engine)?;
    Ok(checks.0)
}
