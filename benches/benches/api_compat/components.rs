// Embedding code written once against the component API Tenon shares with Wasmtime 48 (`rt::component`).
// `api-compat.rs` includes this file twice, as it does `embedding.rs`: it must compile against both and
// pass the same assertions on both.

use rt::component::types::{ComponentItem, Type};
use rt::component::{Component, ComponentExportIndex, Func, Instance, Linker, TypedFunc, Val};
use rt::{Engine, Store, StoreContextMut, Trap};

/// Host state: what the guest logged.
#[derive(Default)]
pub struct Logs(Vec<String>);

/// A component that imports a logger and a doubler and exports functions over strings, lists, options,
/// results, records and variants, at the root and in the instance `tenon:demo/math`.
const COMPONENT: &str = r#"(component
  (import "tenon:demo/log" (instance $log (export "write" (func (param "msg" string)))))
  (import "double" (func $double (param "x" u32) (result u32)))
  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      (local.set $ptr (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $ptr) (local.get 3)))
      (local.get $ptr)))
  (core instance $libc (instantiate $libc))
  (alias export $log "write" (func $write))
  (core func $write-core (canon lower (func $write) (memory (core memory $libc "memory"))))
  (core func $double-core (canon lower (func $double)))
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "host" "write" (func $write (param i32 i32)))
    (import "host" "double" (func $double (param i32) (result i32)))
    (func (export "run") (param i32) (result i32) (i32.add (call $double (local.get 0)) (i32.const 1)))
    ;; Logs the string it gets, then returns it.
    (func (export "echo") (param i32 i32) (result i32)
      (call $write (local.get 0) (local.get 1))
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.const 0))
    (func (export "sum") (param i32 i32) (result i64)
      (local $i i32) (local $sum i64)
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get 1)))
        (local.set $sum (i64.add (local.get $sum)
          (i64.extend_i32_u (i32.load (i32.add (local.get 0) (i32.mul (local.get $i) (i32.const 4)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (local.get $sum))
    ;; option<u32> -> result<u32, u32>: some(x) is ok(x), none is err(0).
    (func (export "check") (param i32 i32) (result i32)
      (i32.store (i32.const 16) (i32.eqz (local.get 0)))
      (i32.store (i32.const 20) (local.get 1))
      (i32.const 16))
    (func (export "trap") unreachable))
  (core instance $i (instantiate $m
    (with "libc" (instance $libc))
    (with "host" (instance (export "write" (func $write-core)) (export "double" (func $double-core))))))
  (type $point (record (field "x" s32) (field "y" s32)))
  (export $point' "point" (type $point))
  (func $run (param "x" u32) (result u32) (canon lift (core func $i "run")))
  (export "run" (func $run))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (func (export "sum") (param "l" (list u32)) (result u64)
    (canon lift (core func $i "sum") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (func (export "check") (param "o" (option u32)) (result (result u32 (error u32)))
    (canon lift (core func $i "check") (memory (core memory $libc "memory"))))
  (func $trap (canon lift (core func $i "trap")))
  (export "trap" (func $trap))
  (instance $math (export "run" (func $run)))
  (export "tenon:demo/math" (instance $math)))"#;

/// A linker with the component's imports: `write` through `func_new`, `double` through `func_wrap`.
fn component_linker(engine: &Engine) -> rt::Result<Linker<Logs>> {
    let mut linker = Linker::new(engine);
    linker.root().func_wrap("double", |_store: StoreContextMut<'_, Logs>, (x,): (u32,)| Ok((x * 2,)))?;
    linker.instance("tenon:demo/log")?.func_new("write", |mut store, _ty, params, _results| {
        if let Val::String(message) = &params[0] {
            store.data_mut().0.push(message.clone());
        }
        Ok(())
    })?;
    Ok(linker)
}

fn component_calls(checks: &mut Checks, engine: &Engine) -> rt::Result<()> {
    let component = Component::new(engine, COMPONENT)?;
    let linker = component_linker(engine)?;
    let pre = linker.instantiate_pre(&component)?;
    let mut store = Store::new(engine, Logs::default());
    let instance: Instance = pre.instantiate(&mut store)?;

    let run: TypedFunc<(u32,), (u32,)> = instance.get_typed_func(&mut store, "run")?;
    checks.that(run.call(&mut store, (20,))? == (41,), "a typed call through a typed import");
    let echo = instance.get_typed_func::<(&str,), (String,)>(&mut store, "echo")?;
    checks.that(echo.call(&mut store, ("héllo",))?.0 == "héllo", "a string both ways");
    checks.that(store.data().0 == ["héllo"], "the dynamic import saw the string");
    let sum = instance.get_typed_func::<(&[u32],), (u64,)>(&mut store, "sum")?;
    checks.that(sum.call(&mut store, (&[1, 2, 3, u32::MAX],))?.0 == 6 + u32::MAX as u64, "a list in");
    let check = instance.get_typed_func::<(Option<u32>,), (Result<u32, u32>,)>(&mut store, "check")?;
    checks.that(check.call(&mut store, (Some(7),))?.0 == Ok(7), "option in, result out");
    checks.that(check.call(&mut store, (None,))?.0 == Err(0), "none in, err out");

    let func: Func = instance.get_func(&mut store, "echo").expect("echo");
    let mut results = [Val::Bool(false)];
    func.call(&mut store, &[Val::String("dyn".into())], &mut results)?;
    checks.that(results[0] == Val::String("dyn".into()), "a Val call");
    let ty = func.ty(&store);
    checks.that(ty.params().map(|(name, ty)| (name.to_string(), ty)).eq([("s".to_string(), Type::String)]), "parameter types");
    checks.that(ty.results().eq([Type::String]), "result types");

    let math: ComponentExportIndex = instance.get_export_index(&mut store, None, "tenon:demo/math").expect("math");
    let nested = instance.get_export_index(&mut store, Some(&math), "run").expect("math#run");
    let nested_run = instance.get_typed_func::<(u32,), (u32,)>(&mut store, &nested)?;
    checks.that(nested_run.call(&mut store, (1,))? == (3,), "a function of an exported instance");
    checks.that(instance.get_export_index(&mut store, Some(&math), "missing").is_none(), "a missing export");
    checks.that(instance.get_typed_func::<(u32,), ()>(&mut store, "run").is_err(), "a typed function of the wrong type");

    let trap = instance.get_typed_func::<(), ()>(&mut store, "trap")?;
    let err = trap.call(&mut store, ()).unwrap_err();
    checks.that(err.downcast_ref::<Trap>() == Some(&Trap::UnreachableCodeReached), "a trap");
    let err = run.call(&mut store, (1,)).unwrap_err();
    checks.that(err.downcast_ref::<Trap>() == Some(&Trap::CannotEnterComponent), "the instance is locked down");
    // After a trap Wasmtime 48 refuses every component instance of the store; Tenon only the one that
    // trapped, as the spec says. A new store works on both.
    let mut store = Store::new(engine, Logs::default());
    let fresh = pre.instantiate(&mut store)?;
    let run = fresh.get_typed_func::<(u32,), (u32,)>(&mut store, "run")?;
    checks.that(run.call(&mut store, (1,))? == (3,), "a new instance works");

    store.set_hostcall_fuel(1 << 20);
    checks.that(store.hostcall_fuel() == 1 << 20, "hostcall fuel");

    // A `Val` of the wrong type is an error, not a trap. (Wasmtime 48 then refuses every component instance
    // of the store; Tenon's instance stays usable, as no guest code ran.)
    let func = fresh.get_func(&mut store, "echo").expect("echo");
    let err = func.call(&mut store, &[Val::U32(1)], &mut results).unwrap_err();
    checks.that(err.downcast_ref::<Trap>().is_none(), "a Val of the wrong type is an error, not a trap");
    Ok(())
}

fn component_types(checks: &mut Checks, engine: &Engine) -> rt::Result<()> {
    let component = Component::new(engine, COMPONENT)?;
    let ty = component.component_type();
    let imports: Vec<&str> = ty.imports(engine).map(|(name, _)| name).collect();
    checks.that(imports == ["tenon:demo/log", "double"], "import names");
    let log = ty.get_import(engine, "tenon:demo/log").expect("log");
    let ComponentItem::ComponentInstance(log) = log.ty else { panic!("an instance import") };
    let write = log.get_export(engine, "write").expect("write");
    let ComponentItem::ComponentFunc(write) = write.ty else { panic!("a function") };
    checks.that(write.params().map(|(_, ty)| ty).eq([Type::String]), "an imported function's type");
    let point = ty.get_export(engine, "point").expect("point");
    let ComponentItem::Type(Type::Record(point)) = point.ty else { panic!("a record type") };
    checks.that(point.fields().map(|f| f.name).eq(["x", "y"]), "record fields");
    let (item, index) = component.get_export(None, "tenon:demo/math").expect("math");
    checks.that(matches!(item, ComponentItem::ComponentInstance(_)), "an exported instance");
    checks.that(component.get_export_index(Some(&index), "run").is_some(), "an index into it");
    let linker = Linker::<Logs>::new(engine);
    let err = linker.instantiate_pre(&component).err().expect("imports missing");
    checks.that(err.to_string().contains("tenon:demo/log"), "a missing import is named");
    Ok(())
}

/// A component importing a host resource type (`tests/wat/host-counter.wat`, shared with Tenon's tests).
const RESOURCES: &str = include_str!("../../../tests/wat/host-counter.wat");

/// Host resources, statically typed (`Resource<T>`) and typed at run time (`ResourceDynamic`), with the
/// conversions to and from `ResourceAny`.
fn host_resources(checks: &mut Checks, engine: &Engine) -> rt::Result<()> {
    use rt::component::{Resource, ResourceAny, ResourceDynamic, ResourceType};
    struct Counter;
    let component = Component::new(engine, RESOURCES)?;

    let mut linker = Linker::<Vec<u32>>::new(engine);
    let mut root = linker.root();
    root.resource("counter", ResourceType::host::<Counter>(), |mut store, rep| {
        store.data_mut().push(rep);
        Ok(())
    })?;
    root.func_wrap("new-counter", |_, (start,): (u32,)| Ok((Resource::<Counter>::new_own(start),)))?;
    root.func_wrap("get", |_, (c,): (Resource<Counter>,)| Ok((c.rep() * 10,)))?;
    let mut store = Store::new(engine, Vec::new());
    let instance = linker.instantiate(&mut store, &component)?;
    let roundtrip = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "roundtrip")?;
    checks.that(roundtrip.call(&mut store, (4,))? == (40,), "a host resource made, lent and read");
    checks.that(store.data() == &[4], "the guest's resource.drop ran the host's destructor");
    let make = instance.get_typed_func::<(u32,), (ResourceAny,)>(&mut store, "make")?;
    let (any,) = make.call(&mut store, (6,))?;
    checks.that(any.ty() == ResourceType::host::<Counter>() && any.owned(), "a ResourceAny of the host type");
    let typed: Resource<Counter> = any.try_into_resource(&mut store)?;
    checks.that(typed.rep() == 6, "ResourceAny::try_into_resource");
    let any = ResourceAny::try_from_resource(typed, &mut store)?;
    any.resource_drop(&mut store)?;
    checks.that(store.data() == &[4], "dropping a ResourceAny the host made runs no destructor");
    let (given,) = make.call(&mut store, (8,))?;
    given.resource_drop(&mut store)?;
    checks.that(store.data() == &[4, 8], "dropping one a guest gave runs the host's destructor");

    let mut linker = Linker::<Vec<u32>>::new(engine);
    let mut root = linker.root();
    root.resource("counter", ResourceType::host_dynamic(3), |mut store, rep| {
        store.data_mut().push(rep);
        Ok(())
    })?;
    root.func_wrap("new-counter", |_, (start,): (u32,)| Ok((ResourceDynamic::new_own(start, 3),)))?;
    root.func_wrap("get", |_, (c,): (ResourceDynamic,)| Ok((c.rep() + c.ty(),)))?;
    let mut store = Store::new(engine, Vec::new());
    let instance = linker.instantiate(&mut store, &component)?;
    let roundtrip = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "roundtrip")?;
    checks.that(roundtrip.call(&mut store, (4,))? == (7,), "a dynamically typed host resource");
    let make = instance.get_typed_func::<(u32,), (ResourceDynamic,)>(&mut store, "make")?;
    let (made,) = make.call(&mut store, (5,))?;
    checks.that(made.ty() == 3 && made.rep() == 5 && made.owned(), "ResourceDynamic lifted");
    let any = made.try_into_resource_any(&mut store)?;
    checks.that(any.ty() == ResourceType::host_dynamic(3), "its ResourceAny has the dynamic type");
    checks.that(any.try_into_resource::<Counter>(&mut store).is_err(), "not a static host type");
    Ok(())
}

/// Runs every component check; how many passed.
/// Two sibling components: `caller`'s `run` passes a string to `callee`'s `greet` and returns what comes back;
/// `bad` returns the `char` the callee's `bad` gives, a surrogate.
const SIBLINGS: &str = r#"(component
  (component $callee
    (core module $m
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.get $next) (global.set $next (i32.add (global.get $next) (i32.add (local.get 3) (i32.const 8)))))
      (data (i32.const 64) "hi, ")
      ;; "hi, " followed by the name, at 64.
      (func (export "greet") (param i32 i32) (result i32)
        (memory.copy (i32.const 68) (local.get 0) (local.get 1))
        (i32.store (i32.const 8) (i32.const 64))
        (i32.store (i32.const 12) (i32.add (local.get 1) (i32.const 4)))
        (i32.const 8))
      (func (export "bad") (result i32) (i32.const 0xd800)))
    (core instance $i (instantiate $m))
    (func (export "greet") (param "name" string) (result string)
      (canon lift (core func $i "greet") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    (func (export "bad") (result char) (canon lift (core func $i "bad"))))
  (component $caller
    (import "greet" (func $greet (param "name" string) (result string)))
    (import "bad" (func $bad (result char)))
    (core module $libc
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (global.get $next) (global.set $next (i32.add (global.get $next) (i32.add (local.get 3) (i32.const 8))))))
    (core instance $libc (instantiate $libc))
    (core func $greet (canon lower (func $greet) (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core func $bad (canon lower (func $bad)))
    (core module $m
      (import "" "greet" (func $greet (param i32 i32 i32)))
      (import "" "bad" (func $bad (result i32)))
      (func (export "run") (param i32 i32) (result i32) (call $greet (local.get 0) (local.get 1) (i32.const 0)) (i32.const 0))
      (func (export "bad") (result i32) (call $bad)))
    (core instance $i (instantiate $m (with "" (instance (export "greet" (func $greet)) (export "bad" (func $bad))))))
    (func (export "run") (param "name" string) (result string)
      (canon lift (core func $i "run") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (func (export "bad") (result u32) (canon lift (core func $i "bad"))))
  (instance $callee (instantiate $callee))
  (instance $caller (instantiate $caller (with "greet" (func $callee "greet")) (with "bad" (func $callee "bad"))))
  (export "run" (func $caller "run"))
  (export "bad" (func $caller "bad")))"#;

/// Sibling components calling each other through fused adapters.
fn siblings(checks: &mut Checks, engine: &Engine) -> rt::Result<()> {
    let component = Component::new(engine, SIBLINGS)?;
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, &component)?;
    let run = instance.get_typed_func::<(&str,), (String,)>(&mut store, "run")?;
    checks.that(run.call(&mut store, ("wörld",))?.0 == "hi, wörld", "a string from one component to another and back");
    checks.that(run.call(&mut store, ("again",))?.0 == "hi, again", "a second call between components");
    let bad = instance.get_typed_func::<(), (u32,)>(&mut store, "bad")?;
    let err = bad.call(&mut store, ()).unwrap_err();
    checks.that(err.downcast_ref::<Trap>() == Some(&Trap::InvalidChar), "a bad char between components traps");
    let err = run.call(&mut store, ("x",)).unwrap_err();
    checks.that(err.downcast_ref::<Trap>() == Some(&Trap::CannotEnterComponent), "after which the component is locked down");
    Ok(())
}

pub fn run_components() -> rt::Result<usize> {
    let mut checks = Checks::default();
    let engine = Engine::default();
    component_calls(&mut checks, &engine)?;
    component_types(&mut checks, &engine)?;
    host_resources(&mut checks, &engine)?;
    siblings(&mut checks, &engine)?;
    Ok(checks.0)
}
