//! Traps and limits at the component boundary: every kind of trap in a call (the callee, an import, a
//! `realloc`, a `post-return`, a bad value lifted) locks the instance down; the re-entrance and `may_leave`
//! rules; and the hostcall fuel that bounds what the host copies out of a guest.

use tenon::component::{Component, Instance, Linker, Val};
use tenon::{Engine, Store, Trap};
use tenon_tests::component::LIBC;

/// The store's data: the instance, so that host functions can call back into it.
type Data = Option<Instance>;

/// A component whose exports fail in every way a call can fail, importing `host: func(x: u32) -> u32` and
/// `sink: func(s: string)`.
fn component() -> String {
    let memory = r#"(memory (core memory $libc "memory"))"#;
    format!(
        r#"(component
          (import "host" (func $host (param "x" u32) (result u32)))
          (import "sink" (func $sink (param "s" string)))
          {LIBC}
          (core func $host-lowered (canon lower (func $host)))
          (core func $sink-lowered (canon lower (func $sink) {memory}))
          (core module $m
            (import "libc" "memory" (memory 1))
            (import "" "host" (func $host (param i32) (result i32)))
            (import "" "sink" (func $sink (param i32 i32)))
            (func (export "call-host") (param i32) (result i32) (call $host (local.get 0)))
            (func (export "take-string") (param i32 i32))
            (func (export "trapping-realloc") (param i32 i32 i32 i32) (result i32) unreachable)
            (func (export "leaving-realloc") (param i32 i32 i32 i32) (result i32)
              (drop (call $host (i32.const 0)))
              (i32.const 8))
            (func (export "get") (result i32) (i32.const 1))
            (func (export "trapping-post") (param i32) unreachable)
            (func (export "leaving-post") (param i32) (drop (call $host (i32.const 0))))
            ;; A string of 2 bytes 0xff 0xff at 16, through the return pointer at 0.
            (func (export "bad-utf8") (result i32)
              (i32.store16 (i32.const 16) (i32.const 0xffff))
              (i32.store (i32.const 0) (i32.const 16))
              (i32.store (i32.const 4) (i32.const 2))
              (i32.const 0))
            ;; The string of `n` bytes at 1024 ('a's), through the return pointer at 0.
            (func (export "long-string") (param $n i32) (result i32)
              (memory.fill (i32.const 1024) (i32.const 97) (local.get $n))
              (i32.store (i32.const 0) (i32.const 1024))
              (i32.store (i32.const 4) (local.get $n))
              (i32.const 0))
            ;; Passes the same string to `sink`.
            (func (export "send-long") (param $n i32)
              (memory.fill (i32.const 1024) (i32.const 97) (local.get $n))
              (call $sink (i32.const 1024) (local.get $n))))
          (core instance $i (instantiate $m
            (with "libc" (instance $libc))
            (with "" (instance (export "host" (func $host-lowered)) (export "sink" (func $sink-lowered))))))
          (func (export "call-host") (param "x" u32) (result u32) (canon lift (core func $i "call-host")))
          (func (export "trapping-realloc") (param "s" string)
            (canon lift (core func $i "take-string") {memory} (realloc (core func $i "trapping-realloc"))))
          (func (export "leaving-realloc") (param "s" string)
            (canon lift (core func $i "take-string") {memory} (realloc (core func $i "leaving-realloc"))))
          (func (export "trapping-post") (result u32) (canon lift (core func $i "get") (post-return (core func $i "trapping-post"))))
          (func (export "leaving-post") (result u32) (canon lift (core func $i "get") (post-return (core func $i "leaving-post"))))
          (func (export "bad-utf8") (result string) (canon lift (core func $i "bad-utf8") {memory}))
          (func (export "long-string") (param "n" u32) (result string) (canon lift (core func $i "long-string") {memory}))
          (func (export "send-long") (param "n" u32) (canon lift (core func $i "send-long"))))"#
    )
}

/// A store with a fresh instance of [`component`] whose `host` import runs `host` and whose `sink` import
/// takes any string.
fn setup(host: impl Fn(tenon::StoreContextMut<'_, Data>, u32) -> tenon::Result<u32> + Send + Sync + 'static) -> (Store<Data>, Instance) {
    let engine = Engine::default();
    let component = Component::new(&engine, component()).unwrap_or_else(|e| panic!("{e:#}"));
    let mut linker: Linker<Data> = Linker::new(&engine);
    linker.root().func_wrap("host", move |store, (x,): (u32,)| Ok((host(store, x)?,))).unwrap();
    linker.root().func_wrap("sink", |_, (s,): (String,)| {
        assert!(s.bytes().all(|b| b == b'a'));
        Ok(())
    })
    .unwrap();
    let mut store = Store::new(&engine, None);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    *store.data_mut() = Some(instance);
    (store, instance)
}

fn call(store: &mut Store<Data>, instance: Instance, name: &str, params: &[Val]) -> tenon::Result<Option<Val>> {
    let func = instance.get_func(&mut *store, name).unwrap_or_else(|| panic!("no export `{name}`"));
    let mut results = vec![Val::Bool(false); func.ty(&*store).results().len()];
    func.call(&mut *store, params, &mut results)?;
    Ok(results.pop())
}

fn trap(error: &tenon::Error) -> Option<Trap> {
    error.downcast_ref::<Trap>().copied()
}

/// Checks that `instance` refuses every call now, and that a new instance in the same store works.
fn assert_locked_down(store: &mut Store<Data>, instance: Instance) {
    let err = call(store, instance, "call-host", &[Val::U32(1)]).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::CannotEnterComponent), "{err:#}");
    assert_eq!(err.to_string(), "wasm trap: cannot enter component instance");
    let engine = store.engine().clone();
    let component = Component::new(&engine, component()).unwrap();
    let mut linker: Linker<Data> = Linker::new(&engine);
    linker.root().func_wrap("host", |_, (x,): (u32,)| Ok((x + 1,))).unwrap();
    linker.root().func_wrap("sink", |_, (_,): (String,)| Ok(())).unwrap();
    let fresh = linker.instantiate(&mut *store, &component).unwrap();
    assert_eq!(call(store, fresh, "call-host", &[Val::U32(1)]).unwrap(), Some(Val::U32(2)));
}

#[test]
fn calls_through_an_import_work() {
    let (mut store, instance) = setup(|_, x| Ok(x * 2));
    assert_eq!(call(&mut store, instance, "call-host", &[Val::U32(21)]).unwrap(), Some(Val::U32(42)));
}

#[test]
fn an_import_that_fails_locks_the_instance_down() {
    let (mut store, instance) = setup(|_, _| Err(tenon::Error::msg("the host gives up")));
    let err = call(&mut store, instance, "call-host", &[Val::U32(1)]).unwrap_err();
    assert!(format!("{err:#}").contains("the host gives up"), "{err:#}");
    assert_locked_down(&mut store, instance);
}

#[test]
fn a_trapping_realloc_locks_the_instance_down() {
    let (mut store, instance) = setup(|_, x| Ok(x));
    let err = call(&mut store, instance, "trapping-realloc", &[Val::String("hi".into())]).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::UnreachableCodeReached), "{err:#}");
    assert_locked_down(&mut store, instance);
}

#[test]
fn a_trapping_post_return_locks_the_instance_down() {
    let (mut store, instance) = setup(|_, x| Ok(x));
    let err = call(&mut store, instance, "trapping-post", &[]).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::UnreachableCodeReached), "{err:#}");
    assert_locked_down(&mut store, instance);
}

#[test]
fn a_bad_result_locks_the_instance_down() {
    let (mut store, instance) = setup(|_, x| Ok(x));
    let err = call(&mut store, instance, "bad-utf8", &[]).unwrap_err();
    assert_eq!(format!("{err:#}"), "`bad-utf8` result: invalid utf-8 sequence of 1 bytes from index 0");
    assert_locked_down(&mut store, instance);
}

#[test]
fn realloc_and_post_return_may_not_call_imports() {
    let (mut store, instance) = setup(|_, x| Ok(x));
    let err = call(&mut store, instance, "leaving-realloc", &[Val::String("hi".into())]).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::CannotLeaveComponent), "{err:#}");
    assert_locked_down(&mut store, instance);

    let (mut store, instance) = setup(|_, x| Ok(x));
    let err = call(&mut store, instance, "leaving-post", &[]).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::CannotLeaveComponent), "{err:#}");
    assert_eq!(err.root_cause().to_string(), "wasm trap: cannot leave component instance");
    assert_locked_down(&mut store, instance);
}

#[test]
fn an_instance_cannot_be_entered_while_it_runs() {
    // The host function calls back into the instance that called it.
    let (mut store, instance) = setup(|mut store, x| {
        let instance = store.data().expect("the instance is set");
        let func = instance.get_func(&mut store, "call-host").unwrap();
        let mut results = [Val::U32(0)];
        let err = func.call(&mut store, &[Val::U32(x)], &mut results).unwrap_err();
        assert_eq!(trap(&err), Some(Trap::CannotEnterComponent), "{err:#}");
        Err(err)
    });
    let err = call(&mut store, instance, "call-host", &[Val::U32(1)]).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::CannotEnterComponent), "{err:#}");
    assert_locked_down(&mut store, instance);
}

const FUEL_MESSAGE: &str = "too much data is being copied between the host and the guest: fuel allocated for hostcalls has been exhausted";

#[test]
fn hostcall_fuel_bounds_what_the_host_copies_out_of_a_guest() {
    let (mut store, instance) = setup(|_, x| Ok(x));
    assert_eq!(store.hostcall_fuel(), 128 << 20);
    store.set_hostcall_fuel(1000);
    assert_eq!(store.hostcall_fuel(), 1000);
    // Within the limit, every call gets the whole amount afresh.
    for _ in 0..3 {
        assert_eq!(call(&mut store, instance, "long-string", &[Val::U32(1000)]).unwrap(), Some(Val::String("a".repeat(1000))));
        call(&mut store, instance, "send-long", &[Val::U32(1000)]).unwrap();
    }
    let typed = instance.get_typed_func::<(u32,), (String,)>(&mut store, "long-string").unwrap();
    assert_eq!(typed.call(&mut store, (1000,)).unwrap().0.len(), 1000);

    // An export's result beyond it (through `Val`, then typed, in fresh instances).
    let err = call(&mut store, instance, "long-string", &[Val::U32(1001)]).unwrap_err();
    assert_eq!(format!("{err:#}"), format!("`long-string` result: {FUEL_MESSAGE}"));
    assert_locked_down(&mut store, instance);

    let (mut store, instance) = setup(|_, x| Ok(x));
    store.set_hostcall_fuel(1000);
    let typed = instance.get_typed_func::<(u32,), (String,)>(&mut store, "long-string").unwrap();
    let err = typed.call(&mut store, (1001,)).unwrap_err();
    assert_eq!(format!("{err:#}"), format!("`long-string` result: {FUEL_MESSAGE}"));

    // A host function's argument beyond it.
    let (mut store, instance) = setup(|_, x| Ok(x));
    store.set_hostcall_fuel(1000);
    let err = call(&mut store, instance, "send-long", &[Val::U32(1001)]).unwrap_err();
    assert_eq!(err.root_cause().to_string(), format!("`sink` argument `s`: {FUEL_MESSAGE}"));
    assert_locked_down(&mut store, instance);
}

#[test]
fn hostcall_fuel_counts_the_memory_lifted_lists_take_on_the_host() {
    // A list of 100 `u64`s is 800 bytes in the guest and as a `Vec<u64>`, and 100 `Val`s on the host.
    let wat = format!(
        r#"(component
          {LIBC}
          (core module $m
            (import "libc" "memory" (memory 1))
            (func (export "zeros") (result i32)
              (i32.store (i32.const 0) (i32.const 1024))
              (i32.store (i32.const 4) (i32.const 100))
              (i32.const 0)))
          (core instance $i (instantiate $m (with "libc" (instance $libc))))
          (func (export "zeros") (result (list u64)) (canon lift (core func $i "zeros") (memory (core memory $libc "memory")))))"#
    );
    let engine = Engine::default();
    let component = Component::new(&engine, wat).unwrap();
    let linker: Linker<()> = Linker::new(&engine);
    let val_bytes = 100 * std::mem::size_of::<Val>();
    for (fuel, typed_ok, val_ok) in [(800, true, false), (799, false, false), (val_bytes, true, true)] {
        let mut store = Store::new(&engine, ());
        store.set_hostcall_fuel(fuel);
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let typed = instance.get_typed_func::<(), (Vec<u64>,)>(&mut store, "zeros").unwrap();
        assert_eq!(typed.call(&mut store, ()).is_ok(), typed_ok, "typed, fuel {fuel}");
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let func = instance.get_func(&mut store, "zeros").unwrap();
        let mut results = [Val::Bool(false)];
        let result = func.call(&mut store, &[], &mut results);
        assert_eq!(result.is_ok(), val_ok, "Val, fuel {fuel}");
    }
}
