// The component workloads, written once against the component API Tenon shares with Wasmtime; `versus.rs`
// includes this file twice, with `rt` naming `tenon` and then `wasmtime`.

use rt::component::{Component, Linker, TypedFunc, Val};

/// A component with the exports the component rows call (see [`wasm::component`]), instantiated with its
/// host import `host-add`.
fn component_instance(engine: &rt::Engine) -> (rt::Store<()>, rt::component::Instance) {
    let component = Component::new(engine, wasm::component()).unwrap();
    let mut linker = Linker::new(engine);
    linker.root().func_wrap("host-add", |_store, (a, b): (u32, u32)| Ok((a.wrapping_add(b),))).unwrap();
    let mut store = rt::Store::new(engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    (store, instance)
}

/// Host → component: a typed call of `nop: func()`.
pub fn component_typed_nop(engine: &rt::Engine) -> Runner<'static> {
    let (mut store, instance) = component_instance(engine);
    let nop: TypedFunc<(), ()> = instance.get_typed_func(&mut store, "nop").unwrap();
    Box::new(move |iters| time(iters, || nop.call(&mut store, ()).unwrap()))
}

/// Host → component: a typed call of `add: func(a: u32, b: u32) -> u32`.
pub fn component_typed_add(engine: &rt::Engine) -> Runner<'static> {
    let (mut store, instance) = component_instance(engine);
    let add: TypedFunc<(u32, u32), (u32,)> = instance.get_typed_func(&mut store, "add").unwrap();
    Box::new(move |iters| {
        time(iters, || assert_eq!(add.call(&mut store, (black_box(1), black_box(2))).unwrap(), (3,)))
    })
}

/// Host → component: `add` through `Func::call` with `Val`s.
pub fn component_val_add(engine: &rt::Engine) -> Runner<'static> {
    let (mut store, instance) = component_instance(engine);
    let add = instance.get_func(&mut store, "add").unwrap();
    let mut results = [Val::U32(0)];
    Box::new(move |iters| {
        time(iters, || {
            add.call(&mut store, &[Val::U32(black_box(1)), Val::U32(black_box(2))], &mut results).unwrap();
            assert_eq!(results[0], Val::U32(3));
        })
    })
}

/// Component → host: one call of `host-loop(n)` making `n` calls of the typed host function `host-add`.
pub fn component_host_calls(engine: &rt::Engine) -> Runner<'static> {
    let (mut store, instance) = component_instance(engine);
    let host_loop: TypedFunc<(u32,), (u32,)> = instance.get_typed_func(&mut store, "host-loop").unwrap();
    let n = wasm::COMPONENT_HOST_CALLS as u32;
    let expected = wasm::host_calls_result(wasm::COMPONENT_HOST_CALLS) as u32;
    Box::new(move |iters| time(iters, || assert_eq!(host_loop.call(&mut store, (black_box(n),)).unwrap(), (expected,))))
}

/// A string of `len` bytes echoed: lowered into the guest, and lifted back out of it.
pub fn component_echo_string(engine: &rt::Engine, len: usize) -> Runner<'static> {
    let (mut store, instance) = component_instance(engine);
    let echo: TypedFunc<(&'static str,), (String,)> = instance.get_typed_func(&mut store, "echo-string").unwrap();
    // Leaked: one per benchmark row, so that the typed function can borrow it for as long as it lives.
    let text: &'static str = Box::leak("tenon ".chars().cycle().take(len).collect::<String>().into_boxed_str());
    Box::new(move |iters| time(iters, || assert_eq!(echo.call(&mut store, (text,)).unwrap().0.len(), len)))
}

/// A `list<u8>` of `len` bytes echoed.
pub fn component_echo_bytes(engine: &rt::Engine, len: usize) -> Runner<'static> {
    let (mut store, instance) = component_instance(engine);
    let echo: TypedFunc<(&'static [u8],), (Vec<u8>,)> = instance.get_typed_func(&mut store, "echo-bytes").unwrap();
    // Leaked, as in `component_echo_string`.
    let bytes: &'static [u8] = Box::leak((0..len).map(|i| i as u8).collect::<Vec<u8>>().into_boxed_slice());
    Box::new(move |iters| {
        time(iters, || {
            let (back,) = echo.call(&mut store, (bytes,)).unwrap();
            assert_eq!(back.len(), len);
        })
    })
}

/// A record-like tuple `(u32, string, f64)` echoed.
pub fn component_echo_record(engine: &rt::Engine) -> Runner<'static> {
    let (mut store, instance) = component_instance(engine);
    type Record = (u32, String, f64);
    let echo: TypedFunc<(Record,), (Record,)> = instance.get_typed_func(&mut store, "echo-record").unwrap();
    let record = (7, "a record".to_string(), 2.5);
    Box::new(move |iters| time(iters, || assert_eq!(echo.call(&mut store, (record.clone(),)).unwrap().0, record)))
}

/// A new store and an instance of the component from an `InstancePre`, per iteration.
pub fn component_instantiate(engine: &rt::Engine) -> Runner<'_> {
    component_instantiate_pre(engine, wasm::component())
}

/// The same for [`wasm::adapter_component`]: two component instances, two fused adapters.
pub fn component_instantiate_adapters(engine: &rt::Engine) -> Runner<'_> {
    component_instantiate_pre(engine, wasm::adapter_component())
}

/// A new store and an instance of component `wat` from an `InstancePre`, per iteration.
fn component_instantiate_pre(engine: &rt::Engine, wat: String) -> Runner<'_> {
    let component = Component::new(engine, wat).unwrap();
    let mut linker = Linker::new(engine);
    linker.root().func_wrap("host-add", |_store, (a, b): (u32, u32)| Ok((a.wrapping_add(b),))).unwrap();
    let pre = linker.instantiate_pre(&component).unwrap();
    Box::new(move |iters| {
        time(iters, || {
            let mut store = rt::Store::new(engine, ());
            black_box(pre.instantiate(&mut store).unwrap());
        })
    })
}

/// Component → component: one call of `export(n)` in the root of [`wasm::adapter_component`], making `n`
/// calls through a fused adapter; `expected` is its result.
pub fn component_adapter_calls(engine: &rt::Engine, export: &str, expected: u32) -> Runner<'static> {
    let component = Component::new(engine, wasm::adapter_component()).unwrap();
    let mut store = rt::Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, &component).unwrap();
    let run: TypedFunc<(u32,), (u32,)> = instance.get_typed_func(&mut store, export).unwrap();
    let n = wasm::ADAPTER_CALLS as u32;
    Box::new(move |iters| time(iters, || assert_eq!(run.call(&mut store, (black_box(n),)).unwrap_or_else(|e| panic!("{e:?}")), (expected,))))
}
