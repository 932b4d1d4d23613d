//! A real guest's resource (`tests/guests/resources`, written with `wit-bindgen`): counters made by the
//! guest's constructor, read through borrowed handles, moved to the host and back, and dropped (the
//! guest's destructor runs), through `Val`s, typed calls and the bindings `bindgen!` generates.

use tenon::component::{Component, ComponentExportIndex, Func, Instance, Linker, ResourceAny, Val};
use tenon::{Engine, Store};
use tenon_tests::guests;

fn setup() -> (Store<()>, Instance) {
    let engine = Engine::default();
    let component = Component::from_file(&engine, guests::RESOURCES).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    (store, instance)
}

/// Function `name` of the exported interface `tenon:guest/counters`.
fn func(store: &mut Store<()>, instance: Instance, name: &str) -> Func {
    let iface: ComponentExportIndex = instance.get_export_index(&*store, None, "tenon:guest/counters").unwrap();
    let index = instance.get_export_index(&*store, Some(&iface), name).unwrap_or_else(|| panic!("no `{name}`"));
    instance.get_func(&mut *store, &index).unwrap()
}

fn call(store: &mut Store<()>, f: Func, params: &[Val]) -> Option<Val> {
    let mut results = vec![Val::Bool(false); f.ty(&*store).results().len()];
    f.call(&mut *store, params, &mut results).unwrap_or_else(|e| panic!("{e:#}"));
    results.pop()
}

#[test]
fn guest_resources_travel_through_val() {
    let (mut store, instance) = setup();
    let new = func(&mut store, instance, "[constructor]counter");
    let get = func(&mut store, instance, "[method]counter.get");
    let increment = func(&mut store, instance, "[method]counter.increment");
    let sum = func(&mut store, instance, "[static]counter.sum");
    let next = func(&mut store, instance, "[method]counter.next");
    let dropped = func(&mut store, instance, "dropped");
    let consume = func(&mut store, instance, "consume");

    let Some(Val::Resource(a)) = call(&mut store, new, &[Val::U32(5)]) else { panic!("a counter") };
    let Some(Val::Resource(b)) = call(&mut store, new, &[Val::U32(10)]) else { panic!("a counter") };
    assert!(a.owned());
    call(&mut store, increment, &[Val::Resource(a), Val::U32(2)]);
    assert_eq!(call(&mut store, get, &[Val::Resource(a)]), Some(Val::U32(7)));
    assert_eq!(call(&mut store, sum, &[Val::Resource(a), Val::Resource(b)]), Some(Val::U32(17)));
    let Some(Val::Resource(c)) = call(&mut store, next, &[Val::Resource(b)]) else { panic!("a counter") };
    assert_eq!(call(&mut store, get, &[Val::Resource(c)]), Some(Val::U32(11)));

    assert_eq!(call(&mut store, dropped, &[]), Some(Val::U32(0)));
    assert_eq!(call(&mut store, consume, &[Val::Resource(c)]), Some(Val::U32(11)));
    assert_eq!(call(&mut store, dropped, &[]), Some(Val::U32(1)), "consume dropped it in the guest");
    a.resource_drop(&mut store).unwrap();
    b.resource_drop(&mut store).unwrap();
    assert_eq!(call(&mut store, dropped, &[]), Some(Val::U32(3)), "the host's drops ran the guest's destructor");
}

#[test]
fn guest_resources_travel_through_typed_calls() {
    let (mut store, instance) = setup();
    let iface = instance.get_export_index(&store, None, "tenon:guest/counters").unwrap();
    let index = |store: &Store<()>, name: &str| instance.get_export_index(store, Some(&iface), name).unwrap();
    let (new, get, consume) = (index(&store, "[constructor]counter"), index(&store, "[method]counter.get"), index(&store, "consume"));
    let new = instance.get_typed_func::<(u32,), (ResourceAny,)>(&mut store, &new).unwrap();
    let get = instance.get_typed_func::<(ResourceAny,), (u32,)>(&mut store, &get).unwrap();
    let consume = instance.get_typed_func::<(ResourceAny,), (u32,)>(&mut store, &consume).unwrap();
    let (a,) = new.call(&mut store, (41,)).unwrap();
    for _ in 0..3 {
        assert_eq!(get.call(&mut store, (a,)).unwrap(), (41,));
    }
    assert_eq!(consume.call(&mut store, (a,)).unwrap(), (41,));
    // `a` was given away: using it again is an error.
    let err = get.call(&mut store, (a,)).unwrap_err();
    assert!(format!("{err:#}").contains("this resource handle was given away or dropped already"), "{err:#}");
    assert!(a.resource_drop(&mut store).is_err());
}

mod bindings {
    tenon::component::bindgen!({ path: "guests/wit", world: "resources" });
}

/// The guest's resource through `bindgen!`: `Guest::counter()` gives the resource's constructor, methods
/// and statics as Wasmtime's bindings give them, over `ResourceAny` handles.
#[test]
fn guest_resources_through_generated_bindings() {
    use bindings::exports::tenon::guest::counters::Counter;
    let engine = Engine::default();
    let component = Component::from_file(&engine, guests::RESOURCES).unwrap();
    let mut store = Store::new(&engine, ());
    let world = bindings::Resources::instantiate(&mut store, &component, &Linker::new(&engine)).unwrap();
    let counters = world.tenon_guest_counters();
    let a: Counter = counters.counter().call_constructor(&mut store, 5).unwrap();
    counters.counter().call_increment(&mut store, a, 2).unwrap();
    assert_eq!(counters.counter().call_get(&mut store, a).unwrap(), 7);
    let b = counters.counter().call_next(&mut store, a).unwrap();
    assert_eq!(counters.counter().call_sum(&mut store, a, b).unwrap(), 15, "a static over two borrows");
    assert_eq!(counters.counter().func_get().call(&mut store, (b,)).unwrap(), (8,));
    assert_eq!(counters.call_consume(&mut store, b).unwrap(), 8, "an own given to the guest");
    assert_eq!(counters.call_dropped(&mut store).unwrap(), 1, "consumed, so dropped by the guest");
    a.resource_drop(&mut store).unwrap();
    assert_eq!(counters.call_dropped(&mut store).unwrap(), 2, "the host's drop ran the guest's destructor");
    let err = counters.counter().call_get(&mut store, b).unwrap_err();
    assert!(format!("{err:#}").contains("given away or dropped already"), "{err:#}");
}

/// Beyond Wasmtime: typed handles. `counter().new(..)` gives a `CounterHandle` whose methods call the guest;
/// dropping it cannot leak the guest's object — the drop waits for the store's next call into a component
/// (a Rust `Drop` has no store), or happens at once with `drop(&mut store)`.
#[test]
fn typed_handles_of_guest_resources() {
    let engine = Engine::default();
    let component = Component::from_file(&engine, guests::RESOURCES).unwrap();
    let mut store = Store::new(&engine, ());
    let world = bindings::Resources::instantiate(&mut store, &component, &Linker::new(&engine)).unwrap();
    let counters = world.tenon_guest_counters();
    let c = counters.counter().new(&mut store, 5).unwrap();
    c.increment(&mut store, 2).unwrap();
    assert_eq!(c.get(&mut store).unwrap(), 7);
    let next = c.next(&mut store).unwrap();
    assert_eq!(next.get(&mut store).unwrap(), 8);
    assert_eq!(counters.counter().sum(&mut store, &c, &next).unwrap(), 15, "a static over two lent handles");
    assert_eq!(format!("{c:?}").split('(').next(), Some("CounterHandle"));

    // Dropped in Rust: the guest's destructor runs at the next call into the store's components.
    drop(next);
    assert_eq!(counters.call_dropped(&mut store).unwrap(), 1);
    // Dropped explicitly: at once.
    c.drop(&mut store).unwrap();
    assert_eq!(counters.call_dropped(&mut store).unwrap(), 2);

    // A `ResourceAny` from the Wasmtime-shaped calls becomes a typed handle; one given away is gone.
    let any = counters.counter().call_constructor(&mut store, 1).unwrap();
    let typed = counters.counter().handle(&mut store, any).unwrap();
    let given = typed.into_resource(&store).unwrap();
    assert_eq!(counters.call_consume(&mut store, given).unwrap(), 1);
    assert_eq!(counters.call_dropped(&mut store).unwrap(), 3);

    // A handle used with another store is an error, before anything is called.
    let c = counters.counter().new(&mut store, 9).unwrap();
    let mut other = Store::new(&engine, ());
    let err = c.get(&mut other).unwrap_err();
    assert!(format!("{err:#}").contains("belongs to a different store"), "{err:#}");
    assert_eq!(c.get(&mut store).unwrap(), 9, "the instance is still usable");
}
