//! Tests of Tenon's embedding API: host functions, errors and panics crossing wasm, traps and backtraces,
//! linking instances together, memories, globals and tables seen from the host, re-entrance, and misuse.

use std::panic::{AssertUnwindSafe, catch_unwind};
use tenon::{
    Caller, Config, Engine, Extern, ExternRef, Func, FuncType, Global, GlobalType, Instance, Linker, Memory,
    MemoryType, Module, Mutability, Ref, RefType, Result, Store, Table, TableType, Trap, Val, ValType, WasmBacktrace,
    HeapType, Rooted, Tag, TagType,
};

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/// Host state used by most tests.
#[derive(Default, Debug)]
struct State {
    calls: u32,
    log: Vec<String>,
    max_depth: i32,
}

fn store(engine: &Engine) -> Store<State> {
    Store::new(engine, State::default())
}

fn module(engine: &Engine, wat: &str) -> Module {
    Module::new(engine, wat).expect("test module compiles")
}

/// Compiles `wat` and instantiates it through `linker`.
fn instantiate<T: 'static>(linker: &Linker<T>, store: &mut Store<T>, wat: &str) -> Instance {
    let module = module(linker.engine(), wat);
    linker.instantiate(store, &module).expect("test module instantiates")
}

/// Instantiates a module without imports.
fn instance(engine: &Engine, store: &mut Store<State>, wat: &str) -> Instance {
    instantiate(&Linker::new(engine), store, wat)
}

/// Calls export `name` with `args` through the untyped API, returning its results.
fn call<T>(store: &mut Store<T>, instance: Instance, name: &str, args: &[Val]) -> Result<Vec<Val>> {
    let func = instance.get_func(&mut *store, name).unwrap_or_else(|| panic!("no export `{name}`"));
    let mut results = vec![Val::I32(0); func.ty(&*store).results().len()];
    func.call(&mut *store, args, &mut results)?;
    Ok(results)
}

/// Calls an `() -> i32` export.
fn call_i32<T>(store: &mut Store<T>, instance: Instance, name: &str) -> i32 {
    instance.get_typed_func::<(), i32>(&mut *store, name).unwrap().call(&mut *store, ()).unwrap()
}

/// The panic message of a `catch_unwind` payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------------------
// 1. Host functions
// ---------------------------------------------------------------------------------------------------------

/// Imports one host function per value type and re-exports a wasm wrapper for each.
const ALL_TYPES_WAT: &str = r#"
(module
  (import "host" "i32" (func $h_i32 (param i32) (result i32)))
  (import "host" "i64" (func $h_i64 (param i64) (result i64)))
  (import "host" "f32" (func $h_f32 (param f32) (result f32)))
  (import "host" "f64" (func $h_f64 (param f64) (result f64)))
  (import "host" "funcref" (func $h_funcref (param funcref) (result funcref)))
  (import "host" "externref" (func $h_externref (param externref) (result externref)))
  (func (export "i32") (param i32) (result i32) local.get 0 call $h_i32)
  (func (export "i64") (param i64) (result i64) local.get 0 call $h_i64)
  (func (export "f32") (param f32) (result f32) local.get 0 call $h_f32)
  (func (export "f64") (param f64) (result f64) local.get 0 call $h_f64)
  (func (export "funcref") (param funcref) (result funcref) local.get 0 call $h_funcref)
  (func (export "externref") (param externref) (result externref) local.get 0 call $h_externref)
  (func (export "is_null_funcref") (param funcref) (result i32) local.get 0 call $h_funcref ref.is_null)
  (func (export "seven") (result i32) i32.const 7))
"#;

fn host_i32(x: i32) -> i32 {
    x.wrapping_add(1)
}
fn host_i64(x: i64) -> i64 {
    x.wrapping_mul(3)
}
fn host_f32(x: f32) -> f32 {
    x * 0.5
}
fn host_f64(x: f64) -> f64 {
    -x
}
fn host_funcref(f: Option<Func>) -> Option<Func> {
    f
}
fn host_externref(e: Option<Rooted<ExternRef>>) -> Option<Rooted<ExternRef>> {
    e
}

/// Checks the exports of an `ALL_TYPES_WAT` instance whose imports are the `host_*` functions above.
fn check_all_types(store: &mut Store<State>, instance: Instance) {
    let i32_f = instance.get_typed_func::<i32, i32>(&mut *store, "i32").unwrap();
    assert_eq!(i32_f.call(&mut *store, 41).unwrap(), 42);
    assert_eq!(i32_f.call(&mut *store, i32::MAX).unwrap(), i32::MIN);
    let i64_f = instance.get_typed_func::<i64, i64>(&mut *store, "i64").unwrap();
    assert_eq!(i64_f.call(&mut *store, 1 << 40).unwrap(), 3 << 40);
    assert_eq!(i64_f.call(&mut *store, -5).unwrap(), -15);
    let f32_f = instance.get_typed_func::<f32, f32>(&mut *store, "f32").unwrap();
    assert_eq!(f32_f.call(&mut *store, 3.0).unwrap(), 1.5);
    assert!(f32_f.call(&mut *store, f32::NAN).unwrap().is_nan());
    let f64_f = instance.get_typed_func::<f64, f64>(&mut *store, "f64").unwrap();
    assert_eq!(f64_f.call(&mut *store, 2.25).unwrap(), -2.25);
    assert_eq!(f64_f.call(&mut *store, f64::INFINITY).unwrap(), f64::NEG_INFINITY);

    // funcref: a wasm function and a host function survive the round trip and stay callable.
    let funcref_f = instance.get_typed_func::<Option<Func>, Option<Func>>(&mut *store, "funcref").unwrap();
    let seven = instance.get_func(&mut *store, "seven").unwrap();
    let back = funcref_f.call(&mut *store, Some(seven)).unwrap().expect("non-null funcref");
    assert_eq!(back, seven);
    assert_eq!(back.typed::<(), i32>(&*store).unwrap().call(&mut *store, ()).unwrap(), 7);
    let host = Func::wrap(&mut *store, |x: i32| x * 100);
    let back = funcref_f.call(&mut *store, Some(host)).unwrap().expect("non-null funcref");
    assert_eq!(back.typed::<i32, i32>(&*store).unwrap().call(&mut *store, 3).unwrap(), 300);
    assert_eq!(funcref_f.call(&mut *store, None).unwrap(), None);
    let is_null = instance.get_typed_func::<Option<Func>, i32>(&mut *store, "is_null_funcref").unwrap();
    assert_eq!(is_null.call(&mut *store, None).unwrap(), 1);
    assert_eq!(is_null.call(&mut *store, Some(seven)).unwrap(), 0);

    // externref: the host value comes back intact.
    let externref_f =
        instance.get_typed_func::<Option<Rooted<ExternRef>>, Option<Rooted<ExternRef>>>(&mut *store, "externref").unwrap();
    let r = ExternRef::new(&mut *store, String::from("hello")).unwrap();
    let back = externref_f.call(&mut *store, Some(r)).unwrap().expect("non-null externref");
    assert_eq!(back, r);
    assert_eq!(back.data(&*store).unwrap().unwrap().downcast_ref::<String>().map(String::as_str), Some("hello"));
    assert_eq!(externref_f.call(&mut *store, None).unwrap(), None);

    // The same through the untyped API.
    let results = call(store, instance, "f64", &[Val::from(1.5f64)]).unwrap();
    assert_eq!(results[0].unwrap_f64(), -1.5);
    let results = call(store, instance, "externref", &[Val::ExternRef(Some(r))]).unwrap();
    assert_eq!(results[0].externref(), Some(Some(&r)));
    let results = call(store, instance, "funcref", &[Val::FuncRef(Some(seven))]).unwrap();
    assert_eq!(results[0].funcref(), Some(Some(&seven)));
}

#[test]
fn host_functions_of_every_value_type_via_linker() {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "i32", host_i32)
        .unwrap()
        .func_wrap("host", "i64", host_i64)
        .unwrap()
        .func_wrap("host", "f32", host_f32)
        .unwrap()
        .func_wrap("host", "f64", host_f64)
        .unwrap()
        .func_wrap("host", "funcref", host_funcref)
        .unwrap()
        .func_wrap("host", "externref", host_externref)
        .unwrap();
    let mut store = store(&engine);
    let instance = instantiate(&linker, &mut store, ALL_TYPES_WAT);
    check_all_types(&mut store, instance);
}

#[test]
fn host_functions_of_every_value_type_via_func_wrap() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let imports: Vec<Extern> = vec![
        Func::wrap(&mut store, host_i32).into(),
        Func::wrap(&mut store, host_i64).into(),
        Func::wrap(&mut store, host_f32).into(),
        Func::wrap(&mut store, host_f64).into(),
        Func::wrap(&mut store, host_funcref).into(),
        Func::wrap(&mut store, host_externref).into(),
    ];
    assert_eq!(imports[1].ty(&store).func().unwrap(), &FuncType::new(&engine, [ValType::I64], [ValType::I64]));
    let instance = Instance::new(&mut store, &module(&engine, ALL_TYPES_WAT), &imports).unwrap();
    check_all_types(&mut store, instance);
    // Host functions can also be called directly.
    let f = imports[0].into_func().unwrap();
    assert_eq!(f.typed::<i32, i32>(&store).unwrap().call(&mut store, 9).unwrap(), 10);
}

#[test]
fn host_function_with_caller_uses_state_and_memory() {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    // Reads a string from guest memory into the host state, returns the number of calls so far.
    linker
        .func_wrap("host", "log", |mut caller: Caller<'_, State>, ptr: i32, len: i32| -> Result<i32> {
            let memory = caller.get_export("memory").and_then(Extern::into_memory).expect("memory export");
            let bytes = &memory.data(&caller)[ptr as usize..(ptr + len) as usize];
            let text = String::from_utf8(bytes.to_vec())?;
            caller.data_mut().log.push(text);
            caller.data_mut().calls += 1;
            Ok(caller.data().calls as i32)
        })
        .unwrap();
    // Writes into guest memory through the caller.
    linker
        .func_wrap("host", "poke", |mut caller: Caller<'_, State>, addr: i32, byte: i32| {
            let memory = caller.get_export("memory").unwrap().into_memory().unwrap();
            memory.data_mut(&mut caller)[addr as usize] = byte as u8;
            assert!(caller.get_export("no such export").is_none());
        })
        .unwrap();
    linker
        .func_wrap("host", "has_memory", |mut caller: Caller<'_, State>| caller.get_export("memory").is_some() as i32)
        .unwrap();
    let wat = r#"
      (module
        (import "host" "log" (func $log (param i32 i32) (result i32)))
        (import "host" "poke" (func $poke (param i32 i32)))
        (import "host" "has_memory" (func $has_memory (result i32)))
        (func (export "has_memory") (result i32) call $has_memory)
        (memory (export "memory") 1)
        (data (i32.const 16) "hello, host")
        (func (export "run") (result i32)
          (drop (call $log (i32.const 16) (i32.const 5)))
          (call $log (i32.const 23) (i32.const 4)))
        (func (export "poke_and_peek") (result i32)
          (call $poke (i32.const 100) (i32.const 0xab))
          (i32.load8_u (i32.const 100))))
    "#;
    let mut store = store(&engine);
    store.data_mut().calls = 10;
    let instance = instantiate(&linker, &mut store, wat);
    assert_eq!(call_i32(&mut store, instance, "run"), 12);
    assert_eq!(store.data().log, ["hello", "host"]);
    assert_eq!(call_i32(&mut store, instance, "poke_and_peek"), 0xab);

    // Called from the host rather than from wasm, the caller has no instance and hence no exports.
    let has_memory = linker.get(&mut store, "host", "has_memory").unwrap().into_func().unwrap();
    assert_eq!(has_memory.typed::<(), i32>(&store).unwrap().call(&mut store, ()).unwrap(), 0);
    assert_eq!(call_i32(&mut store, instance, "has_memory"), 1);
}

#[test]
fn host_functions_with_val_closures() {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    let ty = FuncType::new(&engine, [ValType::I32, ValType::I64, ValType::F32, ValType::F64], [ValType::F64, ValType::I32]);
    linker
        .func_new("host", "mix", ty.clone(), |mut caller: Caller<'_, State>, params, results| {
            caller.data_mut().calls += 1;
            let sum = params[0].unwrap_i32() as f64
                + params[1].unwrap_i64() as f64
                + params[2].unwrap_f32() as f64
                + params[3].unwrap_f64();
            results[0] = Val::from(sum);
            results[1] = Val::I32(params.len() as i32);
            Ok(())
        })
        .unwrap();
    let wat = r#"
      (module
        (import "host" "mix" (func $mix (param i32 i64 f32 f64) (result f64 i32)))
        (import "host" "ref" (func $ref (param externref) (result externref)))
        (func (export "run") (result f64 i32)
          (call $mix (i32.const 1) (i64.const 20) (f32.const 0.5) (f64.const 300.25)))
        (func (export "ref") (param externref) (result externref) local.get 0 call $ref))
    "#;
    let mut store = store(&engine);
    let ref_ty = FuncType::new(&engine, [ValType::EXTERNREF], [ValType::EXTERNREF]);
    let reference = Func::new(&mut store, ref_ty, |_caller, params, results| {
        results[0] = params[0];
        Ok(())
    });
    linker.define(&mut store, "host", "ref", reference).unwrap();
    let instance = instantiate(&linker, &mut store, wat);

    let results = call(&mut store, instance, "run", &[]).unwrap();
    assert_eq!(results, [Val::from(321.75f64), Val::I32(4)]);
    let run = instance.get_typed_func::<(), (f64, i32)>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), (321.75, 4));
    assert_eq!(store.data().calls, 2);

    let r = ExternRef::new(&mut store, 5u64).unwrap();
    assert_eq!(call(&mut store, instance, "ref", &[Val::ExternRef(Some(r))]).unwrap(), [Val::ExternRef(Some(r))]);
    assert_eq!(call(&mut store, instance, "ref", &[Val::ExternRef(None)]).unwrap(), [Val::ExternRef(None)]);

    // A Func::new host function called directly from the host.
    let direct = Func::new(&mut store, ty, |_caller, params, results| {
        results[0] = Val::from(params[3].unwrap_f64() * 2.0);
        results[1] = Val::I32(params[0].unwrap_i32() - 1);
        Ok(())
    });
    let mut results = [Val::I32(0), Val::I32(0)];
    let args = [Val::I32(10), Val::I64(0), Val::from(0f32), Val::from(4.0f64)];
    direct.call(&mut store, &args, &mut results).unwrap();
    assert_eq!(results, [Val::from(8.0f64), Val::I32(9)]);
}

#[test]
fn host_function_returning_values_of_the_wrong_type_errors() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let bad = Func::new(&mut store, FuncType::new(&engine, [], [ValType::I32]), |_caller, _params, results| {
        results[0] = Val::I64(1);
        Ok(())
    });
    let wat = r#"
      (module
        (import "host" "bad" (func $bad (result i32)))
        (func (export "run") (result i32) call $bad)
        (func (export "ok") (result i32) i32.const 1))
    "#;
    let instance = Instance::new(&mut store, &module(&engine, wat), &[bad.into()]).unwrap();
    let err = call(&mut store, instance, "run", &[]).unwrap_err();
    assert!(format!("{err:?}").contains("wrong type"), "{err:?}");
    assert_eq!(call_i32(&mut store, instance, "ok"), 1);
}

#[test]
fn multi_value_host_and_wasm_functions() {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "divmod", |a: i32, b: i32| (a / b, a % b, (a as i64) << 32)).unwrap();
    linker.func_wrap("host", "swap", |a: f32, b: f64| -> Result<(f64, f32)> { Ok((b, a)) }).unwrap();
    let wat = r#"
      (module
        (import "host" "divmod" (func $divmod (param i32 i32) (result i32 i32 i64)))
        (import "host" "swap" (func $swap (param f32 f64) (result f64 f32)))
        (func (export "divmod") (param i32 i32) (result i32 i32 i64)
          (call $divmod (local.get 0) (local.get 1)))
        (func (export "swap") (param f32 f64) (result f64 f32)
          (call $swap (local.get 0) (local.get 1)))
        (func (export "three") (param i32) (result i32 i64 f32)
          (local.get 0)
          (i64.extend_i32_s (i32.mul (local.get 0) (i32.const -2)))
          (f32.convert_i32_s (i32.add (local.get 0) (i32.const 1))))
        (func (export "two") (result i64 f64) (i64.const -1) (f64.const 0.125)))
    "#;
    let mut store = store(&engine);
    let instance = instantiate(&linker, &mut store, wat);

    // Host tuple results, through wasm, via Func::call and TypedFunc.
    let results = call(&mut store, instance, "divmod", &[Val::I32(17), Val::I32(5)]).unwrap();
    assert_eq!(results, [Val::I32(3), Val::I32(2), Val::I64(17 << 32)]);
    let divmod = instance.get_typed_func::<(i32, i32), (i32, i32, i64)>(&mut store, "divmod").unwrap();
    assert_eq!(divmod.call(&mut store, (-9, 4)).unwrap(), (-2, -1, -9i64 << 32));
    let swap = instance.get_typed_func::<(f32, f64), (f64, f32)>(&mut store, "swap").unwrap();
    assert_eq!(swap.call(&mut store, (1.5, -2.5)).unwrap(), (-2.5, 1.5));

    // Wasm functions returning several values.
    let results = call(&mut store, instance, "three", &[Val::I32(5)]).unwrap();
    assert_eq!(results, [Val::I32(5), Val::I64(-10), Val::from(6.0f32)]);
    let three = instance.get_typed_func::<i32, (i32, i64, f32)>(&mut store, "three").unwrap();
    assert_eq!(three.call(&mut store, -3).unwrap(), (-3, 6, -2.0));
    let two = instance.get_typed_func::<(), (i64, f64)>(&mut store, "two").unwrap();
    assert_eq!(two.call(&mut store, ()).unwrap(), (-1, 0.125));
    assert_eq!(call(&mut store, instance, "two", &[]).unwrap(), [Val::I64(-1), Val::from(0.125f64)]);
}

// ---------------------------------------------------------------------------------------------------------
// 2. Errors returned by host functions
// ---------------------------------------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
struct MyError(u32);

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "my error {}", self.0)
    }
}

impl std::error::Error for MyError {}

/// A module whose `run` calls host `fail` through two wasm frames.
const FAIL_WAT: &str = r#"
  (module
    (import "host" "fail" (func $fail (param i32) (result i32)))
    (func $inner (param i32) (result i32) (i32.add (call $fail (local.get 0)) (i32.const 1)))
    (func (export "run") (param i32) (result i32) (call $inner (local.get 0)))
    (func (export "ok") (result i32) i32.const 42))
"#;

#[test]
fn host_error_comes_out_of_the_call() {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "fail", |x: i32| -> Result<i32> {
            if x < 0 { Err(MyError(x.unsigned_abs()).into()) } else { Ok(x * 10) }
        })
        .unwrap();
    let mut store = store(&engine);
    let instance = instantiate(&linker, &mut store, FAIL_WAT);
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run").unwrap();

    let err = run.call(&mut store, -7).unwrap_err();
    assert_eq!(err.downcast_ref::<MyError>(), Some(&MyError(7)), "{err:?}");
    assert!(err.downcast_ref::<Trap>().is_none());
    assert!(format!("{err:?}").contains("my error 7"), "{err:?}");

    // The store is still usable: other exports, and the same export with good arguments.
    assert_eq!(call_i32(&mut store, instance, "ok"), 42);
    assert_eq!(run.call(&mut store, 3).unwrap(), 31);
    let err = call(&mut store, instance, "run", &[Val::I32(-1)]).unwrap_err();
    assert_eq!(err.downcast_ref::<MyError>(), Some(&MyError(1)));
    assert_eq!(run.call(&mut store, 4).unwrap(), 41);
}

#[test]
fn host_error_from_val_closure_comes_out_of_the_call() {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    let ty = FuncType::new(&engine, [ValType::I32], [ValType::I32]);
    linker
        .func_new("host", "fail", ty, |_caller, params, _results| Err(MyError(params[0].unwrap_i32() as u32).into()))
        .unwrap();
    let mut store = store(&engine);
    let instance = instantiate(&linker, &mut store, FAIL_WAT);
    let err = call(&mut store, instance, "run", &[Val::I32(99)]).unwrap_err();
    assert_eq!(err.downcast_ref::<MyError>(), Some(&MyError(99)), "{err:?}");
    assert_eq!(call_i32(&mut store, instance, "ok"), 42);
}

// ---------------------------------------------------------------------------------------------------------
// 3. Panics in host functions
// ---------------------------------------------------------------------------------------------------------

#[test]
fn host_panic_reaches_the_caller_and_the_store_survives() {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "fail", |mut caller: Caller<'_, State>, x: i32| -> i32 {
            caller.data_mut().calls += 1;
            if x == 13 {
                panic!("unlucky number {x}");
            }
            x
        })
        .unwrap();
    let mut store = store(&engine);
    let instance = instantiate(&linker, &mut store, FAIL_WAT);
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run").unwrap();

    let payload = catch_unwind(AssertUnwindSafe(|| run.call(&mut store, 13))).unwrap_err();
    assert_eq!(panic_message(&*payload), "unlucky number 13");

    // Through the untyped API too.
    let payload = catch_unwind(AssertUnwindSafe(|| call(&mut store, instance, "run", &[Val::I32(13)]))).unwrap_err();
    assert_eq!(panic_message(&*payload), "unlucky number 13");

    assert_eq!(store.data().calls, 2);
    assert_eq!(call_i32(&mut store, instance, "ok"), 42);
    assert_eq!(run.call(&mut store, 5).unwrap(), 6);
    assert_eq!(store.data().calls, 3);
}

// ---------------------------------------------------------------------------------------------------------
// 4. Traps
// ---------------------------------------------------------------------------------------------------------

const TRAPS_WAT: &str = r#"
(module $traps
  (type $v2v (func))
  (type $i2i (func (param i32) (result i32)))
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $nop)
  (func $nop)
  (func $unreachable (export "unreachable") unreachable)
  (func $oob_load (export "oob_load") (param i32) (result i32) (i32.load (local.get 0)))
  (func $div_zero (export "div_zero") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
  (func $div_overflow (export "div_overflow") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func $trunc (export "trunc") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func $call_null (export "call_null") (call_indirect (type $v2v) (i32.const 1)))
  (func $bad_sig (export "bad_sig") (result i32) (call_indirect (type $i2i) (i32.const 0) (i32.const 0)))
  (func $table_oob (export "table_oob") (param i32) (call_indirect (type $v2v) (local.get 0)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func $outer (export "nested") (call $middle))
  (func $middle (call $unreachable))
  (func (export "ok") (result i32) i32.const 7))
"#;

/// Calls `name` of a fresh `TRAPS_WAT` instance and checks the trap, its message and its backtrace, which
/// must start in the function `name`; then checks that the store still works.
fn assert_trap_with(config: &Config, name: &str, args: &[Val], trap: Trap, message: &str) {
    let engine = Engine::new(config).unwrap();
    let mut store = store(&engine);
    let instance = instance(&engine, &mut store, TRAPS_WAT);
    for _ in 0..2 {
        let err = call(&mut store, instance, name, args).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&trap), "{err:?}");
        assert_eq!(trap.message(), message);
        assert_eq!(trap.to_string(), format!("wasm trap: {message}"));
        assert_eq!(err.root_cause().to_string(), format!("wasm trap: {message}"));
        assert!(format!("{err:?}").contains(message), "{err:?}");
        let backtrace = err.downcast_ref::<WasmBacktrace>().unwrap_or_else(|| panic!("no backtrace: {err:?}"));
        let innermost = &backtrace.frames()[0];
        assert_eq!(innermost.func_name(), Some(name), "{backtrace}");
        assert_eq!(innermost.module_name(), Some("traps"), "{backtrace}");
        assert!(backtrace.to_string().contains(&format!("traps!{name}")), "{backtrace}");
        assert_eq!(call_i32(&mut store, instance, "ok"), 7);
    }
}

fn assert_trap(name: &str, args: &[Val], trap: Trap, message: &str) {
    assert_trap_with(&Config::default(), name, args, trap, message);
}

#[test]
fn trap_unreachable() {
    assert_trap("unreachable", &[], Trap::UnreachableCodeReached, "wasm `unreachable` instruction executed");
}

#[test]
fn trap_memory_out_of_bounds() {
    let msg = "out of bounds memory access";
    assert_trap("oob_load", &[Val::I32(65536)], Trap::MemoryOutOfBounds, msg);
    assert_trap("oob_load", &[Val::I32(65533)], Trap::MemoryOutOfBounds, msg);
    assert_trap("oob_load", &[Val::I32(-1)], Trap::MemoryOutOfBounds, msg);
}

#[test]
fn trap_memory_out_of_bounds_without_signals() {
    let mut config = Config::new();
    config.signals_based_traps(false);
    let msg = "out of bounds memory access";
    assert_trap_with(&config, "oob_load", &[Val::I32(65536)], Trap::MemoryOutOfBounds, msg);
    assert_trap_with(&config, "oob_load", &[Val::I32(65533)], Trap::MemoryOutOfBounds, msg);
}

#[test]
fn trap_integer_division_by_zero() {
    assert_trap("div_zero", &[Val::I32(1), Val::I32(0)], Trap::IntegerDivisionByZero, "integer divide by zero");
}

#[test]
fn trap_integer_overflow() {
    assert_trap("div_overflow", &[Val::I32(i32::MIN), Val::I32(-1)], Trap::IntegerOverflow, "integer overflow");
    assert_trap("trunc", &[Val::from(3e9f32)], Trap::IntegerOverflow, "integer overflow");
}

#[test]
fn trap_bad_conversion_to_integer() {
    let msg = "invalid conversion to integer";
    assert_trap("trunc", &[Val::from(f32::NAN)], Trap::BadConversionToInteger, msg);
}

#[test]
fn trap_indirect_call_to_null() {
    assert_trap("call_null", &[], Trap::IndirectCallToNull, "uninitialized element");
}

#[test]
fn trap_bad_signature() {
    assert_trap("bad_sig", &[], Trap::BadSignature, "indirect call type mismatch");
}

#[test]
fn trap_table_out_of_bounds() {
    let msg = "undefined element: out of bounds table access";
    assert_trap("table_oob", &[Val::I32(2)], Trap::TableOutOfBounds, msg);
    assert_trap("table_oob", &[Val::I32(-1)], Trap::TableOutOfBounds, msg);
}

#[test]
fn trap_stack_overflow() {
    assert_trap("recurse", &[Val::I32(0)], Trap::StackOverflow, "call stack exhausted");
}

#[test]
fn traps_of_several_kinds_interleave_with_successful_calls() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let instance = instance(&engine, &mut store, TRAPS_WAT);
    let div = instance.get_typed_func::<(i32, i32), i32>(&mut store, "div_zero").unwrap();
    assert_eq!(div.call(&mut store, (10, 3)).unwrap(), 3);
    // Alternate traps of several kinds with successful calls in one store.
    for _ in 0..3 {
        let err = div.call(&mut store, (10, 0)).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::IntegerDivisionByZero));
        let err = call(&mut store, instance, "recurse", &[Val::I32(0)]).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
        let err = call(&mut store, instance, "oob_load", &[Val::I32(1 << 20)]).unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
        assert_eq!(div.call(&mut store, (10, 5)).unwrap(), 2);
        assert_eq!(call(&mut store, instance, "oob_load", &[Val::I32(0)]).unwrap(), [Val::I32(0)]);
    }
}

#[test]
fn trap_backtrace_lists_every_named_frame() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let instance = instance(&engine, &mut store, TRAPS_WAT);
    let err = call(&mut store, instance, "nested", &[]).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::UnreachableCodeReached));
    let backtrace = err.downcast_ref::<WasmBacktrace>().expect("backtrace");
    let names: Vec<_> = backtrace.frames().iter().map(|f| f.func_name()).collect();
    assert_eq!(names, [Some("unreachable"), Some("middle"), Some("outer")], "{backtrace}");
}

#[test]
fn trap_in_start_function_fails_instantiation() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let wat = r#"(module (func $start unreachable) (start $start))"#;
    let err = Linker::new(&engine).instantiate(&mut store, &module(&engine, wat)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::UnreachableCodeReached), "{err:?}");
    let instance = instance(&engine, &mut store, TRAPS_WAT);
    assert_eq!(call_i32(&mut store, instance, "ok"), 7);
}

// ---------------------------------------------------------------------------------------------------------
// 5. Linking instances together
// ---------------------------------------------------------------------------------------------------------

#[test]
fn instances_share_memory_global_table_and_function() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let mut linker = Linker::new(&engine);
    let a = instantiate(
        &linker,
        &mut store,
        r#"
        (module $a
          (memory (export "memory") 1)
          (global (export "counter") (mut i32) (i32.const 10))
          (table (export "table") 2 funcref)
          (elem (i32.const 0) $double)
          (func $double (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
          (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
          (func (export "get_counter") (result i32) global.get 0))
        "#,
    );
    linker.instance(&mut store, "a", a).unwrap();
    let b = instantiate(
        &linker,
        &mut store,
        r#"
        (module $b
          (type $i2i (func (param i32) (result i32)))
          (import "a" "memory" (memory 1))
          (import "a" "counter" (global $counter (mut i32)))
          (import "a" "table" (table 2 funcref))
          (import "a" "double" (func $double (param i32) (result i32)))
          (elem (i32.const 1) $triple)
          (func $triple (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
          (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
          (func (export "bump") (result i32)
            (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
            (global.get $counter))
          (func (export "call_double") (param i32) (result i32) (call $double (local.get 0)))
          (func (export "call_table") (param i32 i32) (result i32)
            (call_indirect (type $i2i) (local.get 0) (local.get 1))))
        "#,
    );

    // Function import.
    let call_double = b.get_typed_func::<i32, i32>(&mut store, "call_double").unwrap();
    assert_eq!(call_double.call(&mut store, 21).unwrap(), 42);

    // Memory: B writes, A and the host read.
    let store_fn = b.get_typed_func::<(i32, i32), ()>(&mut store, "store").unwrap();
    store_fn.call(&mut store, (64, 0x1234_5678)).unwrap();
    let load = a.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
    assert_eq!(load.call(&mut store, 64).unwrap(), 0x1234_5678);
    let memory = a.get_memory(&mut store, "memory").unwrap();
    assert_eq!(memory.data(&store)[64..68], 0x1234_5678u32.to_le_bytes());
    memory.write(&mut store, 64, &7u32.to_le_bytes()).unwrap();
    assert_eq!(load.call(&mut store, 64).unwrap(), 7);

    // Global: B increments, A and the host see it; the host sets it, B sees it.
    assert_eq!(call_i32(&mut store, b, "bump"), 11);
    assert_eq!(call_i32(&mut store, a, "get_counter"), 11);
    let counter = a.get_global(&mut store, "counter").unwrap();
    assert_eq!(counter.get(&mut store), Val::I32(11));
    counter.set(&mut store, Val::I32(100)).unwrap();
    assert_eq!(call_i32(&mut store, b, "bump"), 101);
    assert_eq!(call_i32(&mut store, a, "get_counter"), 101);

    // Table: B's element segment wrote slot 1 of A's table.
    let call_table = b.get_typed_func::<(i32, i32), i32>(&mut store, "call_table").unwrap();
    assert_eq!(call_table.call(&mut store, (5, 0)).unwrap(), 10);
    assert_eq!(call_table.call(&mut store, (5, 1)).unwrap(), 15);
    let table = a.get_table(&mut store, "table").unwrap();
    let Some(Ref::Func(Some(triple))) = table.get(&mut store, 1) else { panic!("slot 1 holds B's $triple") };
    assert_eq!(triple.typed::<i32, i32>(&store).unwrap().call(&mut store, 7).unwrap(), 21);
    // The host swaps the slots; B's call_indirect sees it.
    let double = a.get_func(&mut store, "double").unwrap();
    table.set(&mut store, 0, Ref::Func(Some(triple))).unwrap();
    table.set(&mut store, 1, Ref::Func(Some(double))).unwrap();
    assert_eq!(call_table.call(&mut store, (5, 0)).unwrap(), 15);
    assert_eq!(call_table.call(&mut store, (5, 1)).unwrap(), 10);
    table.set(&mut store, 1, Ref::Func(None)).unwrap();
    let err = call_table.call(&mut store, (5, 1)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::IndirectCallToNull));

    // The exports B imported are the very same objects.
    assert_eq!(a.get_func(&mut store, "double"), linker.get(&mut store, "a", "double").ok().and_then(Extern::into_func));
}

#[test]
fn linker_module_instantiates_and_registers() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let mut linker = Linker::new(&engine);
    let lib = module(&engine, r#"(module (func (export "answer") (result i32) i32.const 42))"#);
    linker.module(&mut store, "lib", &lib).unwrap();
    let user = instantiate(
        &linker,
        &mut store,
        r#"(module (import "lib" "answer" (func $answer (result i32)))
                   (func (export "run") (result i32) (i32.add (call $answer) (i32.const 1))))"#,
    );
    assert_eq!(call_i32(&mut store, user, "run"), 43);
    // Registering the same names again is refused unless shadowing is allowed.
    assert!(linker.module(&mut store, "lib", &lib).is_err());
    linker.allow_shadowing(true);
    linker.module(&mut store, "lib", &lib).unwrap();
}

// ---------------------------------------------------------------------------------------------------------
// 6. Memory growth
// ---------------------------------------------------------------------------------------------------------

const MEMORY_WAT: &str = r#"
(module
  (memory (export "memory") 1 10)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) memory.size)
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))
"#;

const PAGE: usize = 65536;

fn check_memory_growth(config: &Config) {
    let engine = Engine::new(config).unwrap();
    let mut store = store(&engine);
    let instance = instance(&engine, &mut store, MEMORY_WAT);
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow").unwrap();
    let load8 = instance.get_typed_func::<i32, i32>(&mut store, "load8").unwrap();
    let store8 = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store8").unwrap();
    assert_eq!(memory.size(&store), 1);
    assert_eq!(memory.data_size(&store), PAGE);
    assert_eq!(memory.data(&store).len(), PAGE);
    assert_eq!(memory.ty(&store), MemoryType::new(1, Some(10)));

    // Wasm grows; the host sees it.
    assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
    assert_eq!(memory.size(&store), 3);
    assert_eq!(memory.data_size(&store), 3 * PAGE);
    assert_eq!(memory.data(&store).len(), 3 * PAGE);
    store8.call(&mut store, ((3 * PAGE - 1) as i32, 0xab)).unwrap();
    assert_eq!(memory.data(&store)[3 * PAGE - 1], 0xab);
    memory.data_mut(&mut store)[3 * PAGE - 2] = 0xcd;
    assert_eq!(load8.call(&mut store, (3 * PAGE - 2) as i32).unwrap(), 0xcd);

    // The host grows; wasm sees it.
    assert_eq!(memory.grow(&mut store, 1).unwrap(), 3);
    assert_eq!(call_i32(&mut store, instance, "size"), 4);
    assert_eq!(memory.data_size(&store), 4 * PAGE);
    store8.call(&mut store, ((4 * PAGE - 1) as i32, 0x5a)).unwrap();
    assert_eq!(memory.data(&store)[4 * PAGE - 1], 0x5a);
    assert_eq!(load8.call(&mut store, (4 * PAGE - 1) as i32).unwrap(), 0x5a);
    let err = load8.call(&mut store, (4 * PAGE) as i32).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));
    // New pages are zeroed and old contents kept.
    assert_eq!(memory.data(&store)[3 * PAGE..4 * PAGE - 1].iter().copied().max(), Some(0));
    assert_eq!(memory.data(&store)[3 * PAGE - 1], 0xab);

    // Growing past the maximum fails both ways and changes nothing.
    assert!(memory.grow(&mut store, 7).is_err());
    assert_eq!(grow.call(&mut store, 7).unwrap(), -1);
    assert_eq!(memory.size(&store), 4);
    assert_eq!(memory.grow(&mut store, 6).unwrap(), 4);
    assert_eq!(call_i32(&mut store, instance, "size"), 10);
    assert_eq!(grow.call(&mut store, 0).unwrap(), 10);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
    store8.call(&mut store, ((10 * PAGE - 1) as i32, 1)).unwrap();
}

#[test]
fn memory_growth_is_observed_by_host_and_wasm() {
    check_memory_growth(&Config::default());
}

#[test]
fn memory_growth_is_observed_by_host_and_wasm_without_signals() {
    let mut config = Config::new();
    config.signals_based_traps(false);
    check_memory_growth(&config);
}

#[test]
fn memory_read_write_bounds() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let instance = instance(&engine, &mut store, MEMORY_WAT);
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    memory.write(&mut store, PAGE - 4, &[1, 2, 3, 4]).unwrap();
    let mut buf = [0u8; 4];
    memory.read(&store, PAGE - 4, &mut buf).unwrap();
    assert_eq!(buf, [1, 2, 3, 4]);
    memory.read(&store, PAGE, &mut []).unwrap();

    assert!(memory.read(&store, PAGE - 3, &mut buf).is_err());
    assert!(memory.read(&store, PAGE, &mut buf).is_err());
    assert!(memory.read(&store, usize::MAX, &mut buf).is_err());
    assert!(memory.write(&mut store, PAGE - 1, &[9, 9]).is_err());
    assert!(memory.write(&mut store, usize::MAX - 1, &[9, 9, 9]).is_err());
    // A failed write changes nothing.
    assert_eq!(memory.data(&store)[PAGE - 1], 4);

    // After growing, the same accesses succeed.
    memory.grow(&mut store, 1).unwrap();
    memory.write(&mut store, PAGE - 1, &[9, 9]).unwrap();
    memory.read(&store, PAGE - 2, &mut buf).unwrap();
    assert_eq!(buf, [3, 9, 9, 0]);
}

#[test]
fn host_created_memory_is_importable() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let memory = Memory::new(&mut store, MemoryType::new(2, Some(3))).unwrap();
    memory.write(&mut store, 5, &[77]).unwrap();
    let wat = r#"
      (module
        (import "env" "memory" (memory 1 4))
        (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
        (func (export "size") (result i32) memory.size))
    "#;
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "env", "memory", memory).unwrap();
    let instance = instantiate(&linker, &mut store, wat);
    assert_eq!(call_i32(&mut store, instance, "size"), 2);
    assert_eq!(call(&mut store, instance, "load8", &[Val::I32(5)]).unwrap(), [Val::I32(77)]);
    // A memory without a maximum cannot satisfy an import that declares one.
    let unbounded = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    let err = Instance::new(&mut store, &module(&engine, wat), &[unbounded.into()]).unwrap_err();
    assert!(err.to_string().contains("incompatible import type"), "{err:?}");
}

// ---------------------------------------------------------------------------------------------------------
// 7. Re-entrance
// ---------------------------------------------------------------------------------------------------------

/// `sum(n)` returns `n + host(n - 1)`, and host `reenter(n)` calls `sum(n)` back through its caller.
const REENTER_WAT: &str = r#"
(module
  (import "host" "reenter" (func $reenter (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "sum") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else
        ;; Keep a value live across the host call, and record the depth in memory.
        (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
        (i32.add (local.get 0) (call $reenter (i32.sub (local.get 0) (i32.const 1))))))))
"#;

fn reenter_linker(engine: &Engine) -> Linker<State> {
    let mut linker = Linker::new(engine);
    linker
        .func_wrap("host", "reenter", |mut caller: Caller<'_, State>, n: i32| -> Result<i32> {
            let depth = caller.data().max_depth.max(n);
            caller.data_mut().max_depth = depth;
            let sum = caller.get_export("sum").and_then(Extern::into_func).expect("sum export");
            // Alternate between the typed and untyped calling paths.
            if n % 2 == 0 {
                sum.typed::<i32, i32>(&caller)?.call(&mut caller, n)
            } else {
                let mut results = [Val::I32(0)];
                sum.call(&mut caller, &[Val::I32(n)], &mut results)?;
                Ok(results[0].unwrap_i32())
            }
        })
        .unwrap();
    linker
}

fn check_reentrance(engine: &Engine, depth: i32) {
    let mut store = store(engine);
    let instance = instantiate(&reenter_linker(engine), &mut store, REENTER_WAT);
    let sum = instance.get_typed_func::<i32, i32>(&mut store, "sum").unwrap();
    for _ in 0..2 {
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        memory.write(&mut store, 0, &[0; 4]).unwrap();
        assert_eq!(sum.call(&mut store, depth).unwrap(), depth * (depth + 1) / 2);
        assert_eq!(store.data().max_depth, depth - 1);
        let mut count = [0u8; 4];
        memory.read(&store, 0, &mut count).unwrap();
        assert_eq!(i32::from_le_bytes(count), depth);
    }
}

#[test]
fn reentrance_host_wasm_host_depth_10() {
    check_reentrance(&Engine::default(), 10);
}

#[test]
fn reentrance_host_wasm_host_depth_1000() {
    // Host frames between wasm frames count towards `max_wasm_stack`; a debug build uses about 8.5 KiB of
    // stack per host/wasm round trip, so the default 512 KiB allows only about 60 levels, and 1000 levels
    // need more than a test thread's 2 MiB of native stack.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let mut config = Config::new();
            config.max_wasm_stack(32 << 20);
            check_reentrance(&Engine::new(&config).unwrap(), 1000);
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn reentrance_errors_and_traps_propagate_through_nested_calls() {
    let engine = Engine::default();
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "reenter", |mut caller: Caller<'_, State>, n: i32| -> Result<i32> {
            if n == 3 {
                return Err(MyError(3).into());
            }
            let sum = caller.get_export("sum").unwrap().into_func().unwrap();
            sum.typed::<i32, i32>(&caller)?.call(&mut caller, n)
        })
        .unwrap();
    let mut store = store(&engine);
    let instance = instantiate(&linker, &mut store, REENTER_WAT);
    let sum = instance.get_typed_func::<i32, i32>(&mut store, "sum").unwrap();
    let err = sum.call(&mut store, 8).unwrap_err();
    assert_eq!(err.downcast_ref::<MyError>(), Some(&MyError(3)), "{err:?}");
    assert_eq!(sum.call(&mut store, 3).unwrap(), 3 + 2 + 1);
}

#[test]
fn reentrance_stack_overflow_in_nested_call_is_a_trap() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let instance = instantiate(&reenter_linker(&engine), &mut store, REENTER_WAT);
    let sum = instance.get_typed_func::<i32, i32>(&mut store, "sum").unwrap();
    // Deep enough to exhaust the default 512 KiB wasm stack, which host frames between wasm frames count towards.
    let err = sum.call(&mut store, 1_000_000).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow), "{err:?}");
    assert_eq!(sum.call(&mut store, 4).unwrap(), 10);
}

// ---------------------------------------------------------------------------------------------------------
// 8. API misuse
// ---------------------------------------------------------------------------------------------------------

const ADD_WAT: &str = r#"
(module
  (func (export "add1") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))
"#;

#[test]
fn call_with_wrong_arguments_errors() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let instance = instance(&engine, &mut store, ADD_WAT);
    let add1 = instance.get_func(&mut store, "add1").unwrap();
    let mut results = [Val::I32(0)];
    assert!(add1.call(&mut store, &[], &mut results).is_err());
    assert!(add1.call(&mut store, &[Val::I32(1), Val::I32(2)], &mut results).is_err());
    assert!(add1.call(&mut store, &[Val::I64(1)], &mut results).is_err());
    assert!(add1.call(&mut store, &[Val::from(1.0f32)], &mut results).is_err());
    assert!(add1.call(&mut store, &[Val::FuncRef(None)], &mut results).is_err());
    assert!(add1.call(&mut store, &[Val::I32(1)], &mut []).is_err());
    assert!(add1.call(&mut store, &[Val::I32(1)], &mut [Val::I32(0), Val::I32(0)]).is_err());
    // Still works with the right ones.
    add1.call(&mut store, &[Val::I32(1)], &mut results).unwrap();
    assert_eq!(results, [Val::I32(2)]);
}

#[test]
fn typed_with_wrong_signature_errors() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let instance = instance(&engine, &mut store, ADD_WAT);
    let add1 = instance.get_func(&mut store, "add1").unwrap();
    assert!(add1.typed::<i64, i64>(&store).is_err());
    assert!(add1.typed::<i32, i64>(&store).is_err());
    assert!(add1.typed::<(), i32>(&store).is_err());
    assert!(add1.typed::<(i32, i32), i32>(&store).is_err());
    assert!(add1.typed::<i32, ()>(&store).is_err());
    assert!(add1.typed::<u32, u32>(&store).is_ok());
    assert!(instance.get_typed_func::<i64, i64>(&mut store, "add1").is_err());
    assert!(instance.get_typed_func::<i32, i32>(&mut store, "missing").is_err());
    assert_eq!(add1.typed::<i32, i32>(&store).unwrap().call(&mut store, 1).unwrap(), 2);
}

#[test]
fn missing_import_errors() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let module = module(&engine, r#"(module (import "env" "f" (func (param i32))))"#);
    let err = Linker::new(&engine).instantiate(&mut store, &module).unwrap_err();
    assert!(err.to_string().contains("unknown import"), "{err:?}");
    assert!(err.to_string().contains("env::f"), "{err:?}");
    // Positional instantiation with too few imports errors as well.
    assert!(Instance::new(&mut store, &module, &[]).is_err());
}

#[test]
fn import_of_the_wrong_type_errors() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let module = module(
        &engine,
        r#"(module (import "env" "f" (func (param i32) (result i32)))
                   (import "env" "g" (global i32)))"#,
    );
    let contains = |err: anyhow::Error| assert!(err.to_string().contains("incompatible import type"), "{err:?}");

    // A function with another signature.
    let mut linker = Linker::new(&engine);
    linker.func_wrap("env", "f", |x: i64| x).unwrap();
    let g = Global::new(&mut store, GlobalType::new(ValType::I32, Mutability::Const), Val::I32(0)).unwrap();
    linker.define(&mut store, "env", "g", g).unwrap();
    contains(linker.instantiate(&mut store, &module).unwrap_err());

    // A global where a function is expected.
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "env", "f", g).unwrap();
    linker.define(&mut store, "env", "g", g).unwrap();
    contains(linker.instantiate(&mut store, &module).unwrap_err());

    // A global of the wrong mutability.
    let f = Func::wrap(&mut store, |x: i32| x);
    let mut_g = Global::new(&mut store, GlobalType::new(ValType::I32, Mutability::Var), Val::I32(0)).unwrap();
    contains(Instance::new(&mut store, &module, &[f.into(), mut_g.into()]).unwrap_err());
    // The right imports work.
    Instance::new(&mut store, &module, &[f.into(), g.into()]).unwrap();
}

#[test]
fn malformed_modules_error() {
    let engine = Engine::default();
    assert!(Module::new(&engine, b"\0asm\x01\0\0\0\xff").is_err());
    assert!(Module::new(&engine, b"\0asm\x02\0\0\0").is_err());
    assert!(Module::new(&engine, b"\0asm").is_err());
    assert!(Module::new(&engine, "(module (func (result i32)))").is_err(), "invalid: missing result");
    assert!(Module::new(&engine, "(module (func (export \"f\") i32.add))").is_err());
    assert!(Module::new(&engine, "(module (func $f (param i32) local.get 5))").is_err());
    assert!(Module::new(&engine, "(module (func").is_err());
    assert!(Module::new(&engine, "(modle)").is_err());
    assert!(Module::new(&engine, "").is_err());
    assert!(Module::new(&engine, "(module)").is_ok());
    assert!(Module::new(&engine, b"\0asm\x01\0\0\0").is_ok());
}

#[test]
#[should_panic(expected = "wrong store")]
fn func_used_with_another_store_panics() {
    let engine = Engine::default();
    let mut store1 = store(&engine);
    let mut store2 = store(&engine);
    let instance = instance(&engine, &mut store1, ADD_WAT);
    let add1 = instance.get_func(&mut store1, "add1").unwrap();
    let mut results = [Val::I32(0)];
    let _ = add1.call(&mut store2, &[Val::I32(1)], &mut results);
}

const FUNCREF_ID_WAT: &str = r#"(module (func (export "id") (param funcref) (result funcref) local.get 0))"#;

#[test]
fn cross_store_imports_and_arguments_error() {
    let engine = Engine::default();
    let mut store1 = store(&engine);
    let mut store2 = store(&engine);
    let foreign = Func::wrap(&mut store1, |x: i32| x);
    let module = module(&engine, r#"(module (import "env" "f" (func (param i32) (result i32))))"#);
    let err = Instance::new(&mut store2, &module, &[foreign.into()]).unwrap_err();
    assert!(err.to_string().contains("cross-`Store`"), "{err:?}");

    // A funcref from another store as an argument, or stored in a table.
    let instance = instance(&engine, &mut store2, FUNCREF_ID_WAT);
    let id = instance.get_func(&mut store2, "id").unwrap();
    let mut results = [Val::FuncRef(None)];
    assert!(id.call(&mut store2, &[Val::FuncRef(Some(foreign))], &mut results).is_err());
    let typed = id.typed::<Option<Func>, Option<Func>>(&store2).unwrap();
    assert!(typed.call(&mut store2, Some(foreign)).is_err());
    let table = Table::new(&mut store2, TableType::new(RefType::FUNCREF, 1, None), Ref::Func(None)).unwrap();
    assert!(table.set(&mut store2, 0, Ref::Func(Some(foreign))).is_err());
}

// ---------------------------------------------------------------------------------------------------------
// 9. Globals and tables from the host
// ---------------------------------------------------------------------------------------------------------

#[test]
fn host_globals() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let var = Global::new(&mut store, GlobalType::new(ValType::I64, Mutability::Var), Val::I64(5)).unwrap();
    let konst = Global::new(&mut store, GlobalType::new(ValType::F64, Mutability::Const), Val::from(1.5f64)).unwrap();
    assert_eq!(var.get(&mut store), Val::I64(5));
    assert_eq!(konst.get(&mut store), Val::from(1.5f64));
    assert_eq!(var.ty(&store), GlobalType::new(ValType::I64, Mutability::Var));

    var.set(&mut store, Val::I64(-8)).unwrap();
    assert_eq!(var.get(&mut store), Val::I64(-8));
    assert!(konst.set(&mut store, Val::from(2.0f64)).is_err());
    assert_eq!(konst.get(&mut store), Val::from(1.5f64));
    assert!(var.set(&mut store, Val::I32(1)).is_err(), "wrong type");
    assert_eq!(var.get(&mut store), Val::I64(-8));
    assert!(Global::new(&mut store, GlobalType::new(ValType::I32, Mutability::Var), Val::I64(0)).is_err());

    // Reference globals.
    let f = Func::wrap(&mut store, || 3i32);
    let fg = Global::new(&mut store, GlobalType::new(ValType::FUNCREF, Mutability::Var), Val::FuncRef(None)).unwrap();
    assert_eq!(fg.get(&mut store), Val::FuncRef(None));
    fg.set(&mut store, f.into()).unwrap();
    assert_eq!(fg.get(&mut store), Val::FuncRef(Some(f)));

    // Wasm reads and writes host globals.
    let wat = r#"
      (module
        (import "env" "var" (global $var (mut i64)))
        (import "env" "konst" (global $konst f64))
        (func (export "bump") (result i64)
          (global.set $var (i64.add (global.get $var) (i64.const 10)))
          (global.get $var))
        (func (export "konst") (result f64) global.get $konst))
    "#;
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "env", "var", var).unwrap().define(&mut store, "env", "konst", konst).unwrap();
    let instance = instantiate(&linker, &mut store, wat);
    assert_eq!(instance.get_typed_func::<(), i64>(&mut store, "bump").unwrap().call(&mut store, ()).unwrap(), 2);
    assert_eq!(var.get(&mut store), Val::I64(2));
    var.set(&mut store, Val::I64(100)).unwrap();
    assert_eq!(instance.get_typed_func::<(), i64>(&mut store, "bump").unwrap().call(&mut store, ()).unwrap(), 110);
    assert_eq!(instance.get_typed_func::<(), f64>(&mut store, "konst").unwrap().call(&mut store, ()).unwrap(), 1.5);
}

#[test]
fn host_tables() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let ty = TableType::new(RefType::FUNCREF, 2, Some(5));
    let table = Table::new(&mut store, ty.clone(), Ref::Func(None)).unwrap();
    assert_eq!(table.size(&store), 2);
    assert_eq!(table.ty(&store), ty);
    assert_eq!(table.get(&mut store, 0), Some(Ref::Func(None)));
    assert_eq!(table.get(&mut store, 2), None);

    let f = Func::wrap(&mut store, |x: i32| x + 100);
    let g = Func::wrap(&mut store, |x: i32| x - 100);
    table.set(&mut store, 1, Ref::Func(Some(f))).unwrap();
    assert_eq!(table.get(&mut store, 1), Some(Ref::Func(Some(f))));
    assert!(table.set(&mut store, 2, Ref::Func(Some(f))).is_err());
    assert!(table.set(&mut store, 0, Ref::Extern(None)).is_err(), "wrong element type");

    assert_eq!(table.grow(&mut store, 2, Ref::Func(Some(g))).unwrap(), 2);
    assert_eq!(table.size(&store), 4);
    assert_eq!(table.get(&mut store, 3), Some(Ref::Func(Some(g))));
    assert!(table.grow(&mut store, 2, Ref::Func(None)).is_err(), "past the maximum");
    assert_eq!(table.size(&store), 4);
    assert!(table.grow(&mut store, 1, Ref::Extern(None)).is_err(), "wrong element type");
    assert_eq!(table.grow(&mut store, 0, Ref::Func(None)).unwrap(), 4);

    // Wasm calls through, grows and reads the host table.
    let wat = r#"
      (module
        (type $i2i (func (param i32) (result i32)))
        (import "env" "table" (table 2 funcref))
        (func (export "call") (param i32 i32) (result i32)
          (call_indirect (type $i2i) (local.get 1) (local.get 0)))
        (func (export "size") (result i32) table.size 0)
        (func (export "grow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))
    "#;
    let mut linker = Linker::new(&engine);
    linker.define(&mut store, "env", "table", table).unwrap();
    let instance = instantiate(&linker, &mut store, wat);
    let call_fn = instance.get_typed_func::<(i32, i32), i32>(&mut store, "call").unwrap();
    assert_eq!(call_fn.call(&mut store, (1, 5)).unwrap(), 105);
    assert_eq!(call_fn.call(&mut store, (3, 5)).unwrap(), -95);
    let err = call_fn.call(&mut store, (0, 5)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::IndirectCallToNull));
    assert_eq!(call_i32(&mut store, instance, "size"), 4);
    assert_eq!(call(&mut store, instance, "grow", &[Val::I32(1)]).unwrap(), [Val::I32(4)]);
    assert_eq!(table.size(&store), 5);
    assert_eq!(table.get(&mut store, 4), Some(Ref::Func(None)));
    table.set(&mut store, 4, Ref::Func(Some(f))).unwrap();
    assert_eq!(call_fn.call(&mut store, (4, 1)).unwrap(), 101);
    assert_eq!(call(&mut store, instance, "grow", &[Val::I32(1)]).unwrap(), [Val::I32(-1)]);
}

#[test]
fn host_externref_tables() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let r = ExternRef::new(&mut store, 42u32).unwrap();
    let table = Table::new(&mut store, TableType::new(RefType::EXTERNREF, 3, None), Ref::Extern(Some(r))).unwrap();
    assert_eq!(table.get(&mut store, 2), Some(Ref::Extern(Some(r))));
    table.set(&mut store, 0, Ref::Extern(None)).unwrap();
    assert_eq!(table.get(&mut store, 0), Some(Ref::Extern(None)));
    assert!(table.set(&mut store, 0, Ref::Func(None)).is_err());
    let Some(Ref::Extern(Some(back))) = table.get(&mut store, 1) else { panic!("non-null externref") };
    assert_eq!(back.data(&store).unwrap().unwrap().downcast_ref::<u32>(), Some(&42));
    assert_eq!(table.grow(&mut store, 10, Ref::Extern(None)).unwrap(), 3);
    assert_eq!(table.size(&store), 13);
}

// ---------------------------------------------------------------------------------------------------------
// Tags and typed function references
// ---------------------------------------------------------------------------------------------------------

#[test]
fn tags_link_by_identity_and_type() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let ty = TagType::new(FuncType::new(&engine, [ValType::I32], []));
    let tag = Tag::new(&mut store, &ty).unwrap();
    assert_eq!(tag.ty(&store), ty);

    let mut linker = Linker::new(&engine);
    linker.define(&store, "host", "tag", tag).unwrap();
    let exporter = instantiate(
        &linker,
        &mut store,
        r#"(module (import "host" "tag" (tag $t (param i32))) (export "same" (tag $t)) (tag (export "own") (param i32)))"#,
    );
    let same = exporter.get_export(&mut store, "same").and_then(Extern::into_tag).unwrap();
    let own = exporter.get_export(&mut store, "own").and_then(Extern::into_tag).unwrap();
    assert_eq!(same, tag, "re-exporting an imported tag keeps its identity");
    assert_ne!(own, tag, "each defined tag is new");
    assert_eq!(own.ty(&store), ty);

    let wrong = module(&engine, r#"(module (import "host" "tag" (tag (param f32))))"#);
    let err = linker.instantiate(&mut store, &wrong).unwrap_err();
    assert!(format!("{err}").contains("incompatible import type for `host::tag`"), "{err}");

    let results = TagType::new(FuncType::new(&engine, [], [ValType::I32]));
    assert!(Tag::new(&mut store, &results).is_err(), "a tag type has no results");
}

#[test]
fn throwing_is_reported_as_unsupported() {
    let engine = Engine::default();
    let err = Module::new(&engine, r#"(module (tag $e) (func (throw $e)))"#).unwrap_err();
    assert!(format!("{err:#}").contains("exception handling"), "{err:#}");
}

#[test]
fn concrete_function_references() {
    let engine = Engine::default();
    let mut store = store(&engine);
    let instance = instance(
        &engine,
        &mut store,
        r#"(module
             (type $unary (func (param i32) (result i32)))
             (func $inc (type $unary) (i32.add (local.get 0) (i32.const 1)))
             (func $nop)
             (global $g (export "g") (mut (ref null $unary)) (ref.null $unary))
             (elem declare func $inc $nop)
             (func (export "inc") (result (ref $unary)) (ref.func $inc))
             (func (export "nop") (result funcref) (ref.func $nop))
             (func (export "call_g") (param i32) (result i32)
               (call_ref $unary (local.get 0) (ref.as_non_null (global.get $g)))))"#,
    );
    let g = instance.get_global(&mut store, "g").unwrap();
    let unary = FuncType::new(&engine, [ValType::I32], [ValType::I32]);
    let expected = RefType::new(true, HeapType::ConcreteFunc(unary.clone()));
    assert_eq!(*g.ty(&store).content(), ValType::Ref(expected.clone()));
    assert_eq!(expected.to_string(), "(ref null (func (i32) -> (i32)))");

    let inc = instance.get_typed_func::<(), Option<Func>>(&mut store, "inc").unwrap().call(&mut store, ()).unwrap();
    let nop = instance.get_typed_func::<(), Option<Func>>(&mut store, "nop").unwrap().call(&mut store, ()).unwrap();
    let err = g.set(&mut store, Val::FuncRef(nop)).unwrap_err();
    assert!(format!("{err}").contains("type mismatch"), "{err}");
    g.set(&mut store, Val::FuncRef(inc)).unwrap();
    let call_g = instance.get_typed_func::<i32, i32>(&mut store, "call_g").unwrap();
    assert_eq!(call_g.call(&mut store, 41).unwrap(), 42);

    // Import matching: a global of `(ref null $unary)` is not a `funcref` global when mutable, and a
    // `funcref` global does not match `(ref null $t)`.
    let mut linker = Linker::new(&engine);
    linker.define(&store, "m", "g", g).unwrap();
    let as_funcref = module(&engine, r#"(module (global (import "m" "g") (mut funcref)))"#);
    assert!(linker.instantiate(&mut store, &as_funcref).is_err());
    let exact = module(
        &engine,
        r#"(module (type $u (func (param i32) (result i32))) (global (import "m" "g") (mut (ref null $u))))"#,
    );
    linker.instantiate(&mut store, &exact).unwrap();
}
