//! Stores move between threads, and engines, modules, linkers and `InstancePre`s are shared by them, as in
//! Wasmtime: `Store<T>` is `Send` when `T` is and `Sync` when `T` is; the handles are `Send + Sync`.

use std::sync::Arc;
use tenon::{
    Caller, Engine, Func, Global, Instance, InstancePre, Linker, Memory, Module, Store, Table, Trap, TypedFunc,
};

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

#[test]
fn bounds_hold_at_compile_time() {
    assert_send::<Store<()>>();
    assert_sync::<Store<()>>();
    assert_send::<Store<std::cell::Cell<u32>>>();
    assert_send::<Engine>();
    assert_sync::<Engine>();
    assert_send::<Module>();
    assert_sync::<Module>();
    assert_send::<Linker<()>>();
    assert_sync::<Linker<()>>();
    assert_send::<InstancePre<()>>();
    assert_sync::<InstancePre<()>>();
    assert_send::<Instance>();
    assert_sync::<Instance>();
    assert_send::<Func>();
    assert_sync::<Func>();
    assert_send::<TypedFunc<(i32, i64), f64>>();
    assert_sync::<TypedFunc<(i32, i64), f64>>();
    assert_send::<Memory>();
    assert_sync::<Memory>();
    assert_send::<Table>();
    assert_sync::<Table>();
    assert_send::<Global>();
    assert_sync::<Global>();
    assert_send::<tenon::StoreContextMut<'static, ()>>();

    // A store of data that is not `Send` is not `Send` either (nor `Sync` when its data is not): the
    // ambiguity below resolves only when the bound does not hold.
    trait AmbiguousIfSend<A> {
        fn some_item() {}
    }
    impl<T: ?Sized> AmbiguousIfSend<()> for T {}
    impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}
    <Store<std::rc::Rc<()>> as AmbiguousIfSend<_>>::some_item();
    trait AmbiguousIfSync<A> {
        fn some_item() {}
    }
    impl<T: ?Sized> AmbiguousIfSync<()> for T {}
    impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}
    <Store<std::cell::Cell<u32>> as AmbiguousIfSync<_>>::some_item();
}

const MODULE: &str = r#"
(module
  (import "host" "log" (func $log (param i32) (result i32)))
  (import "host" "fail" (func $fail))
  (memory (export "memory") 1)
  (func (export "run") (param i32) (result i32) (call $log (local.get 0)))
  (func (export "grow") (result i32) (memory.grow (i32.const 2)))
  (func (export "size") (result i32) (memory.size))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "trap") (result i32) (i32.div_s (i32.const 1) (i32.const 0)))
  (func (export "fail") (call $fail)))
"#;

/// A linker whose `log` records its argument in the store's data, and whose `fail` errors.
fn linker(engine: &Engine) -> Linker<Vec<i32>> {
    let mut linker = Linker::new(engine);
    linker
        .func_wrap("host", "log", |mut caller: Caller<'_, Vec<i32>>, x: i32| {
            caller.data_mut().push(x);
            x * 2
        })
        .unwrap();
    linker.func_wrap("host", "fail", || -> tenon::Result<()> { Err(tenon::Error::msg("the host failed")) }).unwrap();
    linker
}

#[test]
fn a_store_moves_to_another_thread_and_back() {
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE).unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker(&engine).instantiate(&mut store, &module).unwrap();
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run").unwrap();
    let store_i32 = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store").unwrap();
    assert_eq!(instance.get_typed_func::<(), i32>(&mut store, "grow").unwrap().call(&mut store, ()).unwrap(), 1);
    store_i32.call(&mut store, (100_000, 42)).unwrap();
    assert_eq!(run.call(&mut store, 1).unwrap(), 2);

    // On another thread: calls, host functions, the grown memory, a trap and a host error.
    let mut store = std::thread::spawn(move || {
        assert_eq!(run.call(&mut store, 2).unwrap(), 4);
        let load = instance.get_typed_func::<i32, i32>(&mut store, "load").unwrap();
        assert_eq!(load.call(&mut store, 100_000).unwrap(), 42);
        let trap = instance.get_typed_func::<(), i32>(&mut store, "trap").unwrap();
        assert_eq!(trap.call(&mut store, ()).unwrap_err().downcast_ref::<Trap>(), Some(&Trap::IntegerDivisionByZero));
        let fail = instance.get_typed_func::<(), ()>(&mut store, "fail").unwrap();
        assert_eq!(fail.call(&mut store, ()).unwrap_err().root_cause().to_string(), "the host failed");
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        memory.data_mut(&mut store)[8] = 9;
        store
    })
    .join()
    .unwrap();

    // And back.
    assert_eq!(run.call(&mut store, 3).unwrap(), 6);
    assert_eq!(store.data(), &[1, 2, 3]);
    let size = instance.get_typed_func::<(), i32>(&mut store, "size").unwrap();
    assert_eq!(size.call(&mut store, ()).unwrap(), 3);
    assert_eq!(instance.get_memory(&mut store, "memory").unwrap().data(&store)[8], 9);
}

#[test]
fn threads_share_an_engine_a_module_and_an_instance_pre() {
    let engine = Engine::default();
    let module = Module::new(&engine, MODULE).unwrap();
    let pre = Arc::new(linker(&engine).instantiate_pre(&module).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (engine, module, pre) = (engine.clone(), module.clone(), pre.clone());
            std::thread::spawn(move || {
                let mut total = 0;
                for i in 0..50 {
                    let mut store = Store::new(&engine, Vec::new());
                    let instance = pre.instantiate(&mut store).unwrap();
                    let run = instance.get_typed_func::<i32, i32>(&mut store, "run").unwrap();
                    total += run.call(&mut store, t * 1000 + i).unwrap();
                    assert_eq!(store.data(), &[t * 1000 + i]);
                    let trap = instance.get_typed_func::<(), i32>(&mut store, "trap").unwrap();
                    assert!(trap.call(&mut store, ()).is_err());
                }
                // The module is shared too: instantiate it directly as well.
                let mut store = Store::new(&engine, Vec::new());
                linker(&engine).instantiate(&mut store, &module).unwrap();
                total
            })
        })
        .collect();
    for (t, thread) in threads.into_iter().enumerate() {
        let t = t as i32;
        assert_eq!(thread.join().unwrap(), (0..50).map(|i| 2 * (t * 1000 + i)).sum::<i32>());
    }
}
