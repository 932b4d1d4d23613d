//! Host functions defined with `Func::wrap`, as compiled code calls them: directly through their native shim
//! when every value travels in a register, through the exit trampoline otherwise. Values must arrive intact
//! in both, and errors and panics must end the call into wasm with a backtrace of the wasm frames below.

use std::panic::{AssertUnwindSafe, catch_unwind};
use tenon::{Caller, Config, Engine, Func, Instance, Module, Result, Store, Val, WasmBacktrace};

fn instantiate<T: 'static>(store: &mut Store<T>, wat: &str, imports: &[Func]) -> Instance {
    let module = Module::new(store.engine(), wat).expect("test module compiles");
    let imports: Vec<_> = imports.iter().map(|&f| f.into()).collect();
    Instance::new(store, &module, &imports).expect("test module instantiates")
}

/// The function names of an error's wasm backtrace, innermost first.
fn backtrace_names(error: &anyhow::Error) -> Vec<String> {
    let backtrace = error.downcast_ref::<WasmBacktrace>().unwrap_or_else(|| panic!("no backtrace: {error:?}"));
    backtrace.frames().iter().map(|f| f.func_name().unwrap_or_default().to_string()).collect()
}

#[test]
fn mixed_integer_and_float_values_reach_the_host_and_come_back() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    // Interleaved classes: integers go to integer registers and floats to vector registers, in order.
    let mix = Func::wrap(&mut store, |a: i64, x: f64, b: i32, y: f32, c: u32, z: f64| -> f64 {
        a as f64 * 1000.0 + x * 100.0 + b as f64 * 10.0 + y as f64 + c as f64 * 0.5 + z * 0.25
    });
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "host" "mix" (func $mix (param i64 f64 i32 f32 i32 f64) (result f64)))
            (func (export "run") (result f64)
              (call $mix (i64.const 7) (f64.const 1.5) (i32.const -3) (f32.const 2.25) (i32.const -2) (f64.const 8))))"#,
        &[mix],
    );
    let run = instance.get_typed_func::<(), f64>(&mut store, "run").unwrap();
    let expected = 7.0 * 1000.0 + 150.0 - 30.0 + 2.25 + (u32::MAX - 1) as f64 * 0.5 + 2.0;
    assert_eq!(run.call(&mut store, ()).unwrap(), expected);
}

#[test]
fn signatures_that_do_not_fit_in_registers_use_the_trampoline() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    // Five integers are one more than the registers left after the two contexts; two results need the array.
    let five = Func::wrap(&mut store, |a: i32, b: i32, c: i32, d: i32, e: i32| a - b + c - d + e * 100);
    let pair = Func::wrap(&mut store, |a: i64| (a + 1, a * 2));
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "host" "five" (func $five (param i32 i32 i32 i32 i32) (result i32)))
            (import "host" "pair" (func $pair (param i64) (result i64 i64)))
            (func (export "five") (result i32) (call $five (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4) (i32.const 5)))
            (func (export "pair") (result i64) (call $pair (i64.const 20)) (i64.sub)))"#,
        &[five, pair],
    );
    assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "five").unwrap().call(&mut store, ()).unwrap(), 498);
    assert_eq!(instance.get_typed_func::<(), i64>(&mut store, "pair").unwrap().call(&mut store, ()).unwrap(), -19);
}

#[test]
fn a_failing_host_function_ends_the_call_with_a_backtrace_of_its_wasm_callers() {
    a_failing_host_function(&Engine::default());
    // Without signal handlers, the same path (no trap instruction is involved).
    a_failing_host_function(&Engine::new(Config::new().signals_based_traps(false)).unwrap());
}

fn a_failing_host_function(engine: &Engine) {
    let mut store = Store::new(engine, 0u32);
    let fail = Func::wrap(&mut store, |mut caller: Caller<'_, u32>, x: i32| -> Result<i32> {
        *caller.data_mut() += 1;
        if x > 10 { anyhow::bail!("too large: {x}") } else { Ok(x * 2) }
    });
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "host" "fail" (func $fail (param i32) (result i32)))
            (table 1 funcref)
            (elem (i32.const 0) $fail)
            (type $t (func (param i32) (result i32)))
            (func $direct (param i32) (result i32) (call $fail (local.get 0)))
            (func $indirect (param i32) (result i32) (call_indirect (type $t) (local.get 0) (i32.const 0)))
            (func (export "direct") (param i32) (result i32) (i32.add (call $direct (local.get 0)) (i32.const 1)))
            (func (export "indirect") (param i32) (result i32) (i32.add (call $indirect (local.get 0)) (i32.const 1))))"#,
        &[fail],
    );
    for (export, inner) in [("direct", "direct"), ("indirect", "indirect")] {
        let f = instance.get_typed_func::<i32, i32>(&mut store, export).unwrap();
        assert_eq!(f.call(&mut store, 4).unwrap(), 9);
        let error = f.call(&mut store, 11).unwrap_err();
        assert!(format!("{error:#}").contains("too large: 11"), "{error:#}");
        let names = backtrace_names(&error);
        assert_eq!(names.first().map(String::as_str), Some(inner), "{names:?}");
        assert_eq!(names.len(), 2, "{names:?}");
        // The store is usable afterwards.
        assert_eq!(f.call(&mut store, 1).unwrap(), 3);
    }
    assert_eq!(*store.data(), 6);

    // Called from the host, the same function fails without any wasm frame.
    let error = fail.call(&mut store, &[Val::I32(12)], &mut [Val::I32(0)]).unwrap_err();
    assert!(format!("{error:#}").contains("too large: 12"), "{error:#}");
    assert!(error.downcast_ref::<WasmBacktrace>().is_none_or(|b| b.frames().is_empty()));
}

#[test]
fn a_host_function_panic_resumes_in_the_caller_of_wasm() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let boom = Func::wrap(&mut store, |x: i32| -> i32 {
        if x == 0 {
            panic!("host function panicked");
        }
        x
    });
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "host" "boom" (func $boom (param i32) (result i32)))
            (func (export "run") (param i32) (result i32) (call $boom (local.get 0))))"#,
        &[boom],
    );
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run").unwrap();
    let payload = catch_unwind(AssertUnwindSafe(|| run.call(&mut store, 0))).expect_err("the panic propagates");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"host function panicked"));
    assert_eq!(run.call(&mut store, 5).unwrap(), 5);
}

#[test]
fn nested_failures_are_reported_to_the_right_caller() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, None::<Instance>);
    // `outer` calls back into wasm, whose own host call fails; `outer` sees that error and recovers.
    let inner = Func::wrap(&mut store, |x: i32| -> Result<i32> { anyhow::bail!("inner failure {x}") });
    let outer = Func::wrap(&mut store, |mut caller: Caller<'_, Option<Instance>>, x: i32| -> Result<i32> {
        let instance = caller.data().expect("instance recorded");
        let reenter = instance.get_typed_func::<i32, i32>(&mut caller, "reenter")?;
        let error = reenter.call(&mut caller, x).unwrap_err();
        assert!(format!("{error:#}").contains("inner failure"), "{error:#}");
        assert_eq!(backtrace_names(&error), ["reenter"]);
        Ok(x + 1000)
    });
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "host" "inner" (func $inner (param i32) (result i32)))
            (import "host" "outer" (func $outer (param i32) (result i32)))
            (func $reenter (export "reenter") (param i32) (result i32) (call $inner (local.get 0)))
            (func (export "run") (param i32) (result i32) (call $outer (local.get 0))))"#,
        &[inner, outer],
    );
    *store.data_mut() = Some(instance);
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, 7).unwrap(), 1007);
}

#[test]
fn a_host_function_called_by_the_host_inside_wasm_reports_no_outer_frames() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, None::<Func>);
    let fail = Func::wrap(&mut store, |x: i32| -> Result<i32> { anyhow::bail!("direct failure {x}") });
    *store.data_mut() = Some(fail);
    // wasm → `outer` (host) → `fail` (host, called directly through a TypedFunc: no wasm frame between).
    let outer = Func::wrap(&mut store, |mut caller: Caller<'_, Option<Func>>, x: i32| -> Result<i32> {
        let fail = caller.data().expect("recorded").typed::<i32, i32>(&caller)?;
        let error = fail.call(&mut caller, x).unwrap_err();
        assert!(format!("{error:#}").contains("direct failure"), "{error:#}");
        let frames = error.downcast_ref::<WasmBacktrace>().map_or(0, |b| b.frames().len());
        assert_eq!(frames, 0, "{error:?}");
        Ok(x * 3)
    });
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "host" "outer" (func $outer (param i32) (result i32)))
            (func $wasm_caller (export "run") (param i32) (result i32) (call $outer (local.get 0))))"#,
        &[outer],
    );
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, 5).unwrap(), 15);
}

#[test]
fn one_element_tuples_and_results_come_back_from_host_functions() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let tuple = Func::wrap(&mut store, |x: i64| (x * 2,));
    let result_tuple = Func::wrap(&mut store, |x: f32| -> Result<(f32,)> { Ok((x + 0.5,)) });
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "host" "tuple" (func $tuple (param i64) (result i64)))
            (import "host" "result_tuple" (func $result_tuple (param f32) (result f32)))
            (func (export "tuple") (param i64) (result i64) (call $tuple (local.get 0)))
            (func (export "result_tuple") (param f32) (result f32) (call $result_tuple (local.get 0))))"#,
        &[tuple, result_tuple],
    );
    let t = instance.get_typed_func::<i64, i64>(&mut store, "tuple").unwrap();
    assert_eq!(t.call(&mut store, -21).unwrap(), -42);
    let r = instance.get_typed_func::<f32, f32>(&mut store, "result_tuple").unwrap();
    assert_eq!(r.call(&mut store, 1.0).unwrap(), 1.5);
}
