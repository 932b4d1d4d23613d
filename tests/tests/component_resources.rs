//! Host resources: a component importing a resource type the host defines (`LinkerInstance::resource`),
//! with handles moving both ways as `Resource<T>` and as `Val::Resource`, borrows lent for one call,
//! `resource.drop` running the host's destructor, and misuse as errors that lock the instance down.

use tenon::component::{Component, Instance, Linker, Resource, ResourceAny, ResourceTable, ResourceType, Val};
use tenon::{Engine, Store, Trap};

/// The host resource: a counter's value.
struct Counter(u32);

/// Another host resource type, to give where a counter is expected.
struct Other;

/// The store's data: the counters and which reps were dropped.
#[derive(Default)]
struct Host {
    table: ResourceTable,
    dropped: Vec<u32>,
}

/// The component the tests run: `tests/wat/host-counter.wat`.
const COMPONENT: &str = include_str!("../wat/host-counter.wat");

fn setup() -> (Store<Host>, Instance) {
    let engine = Engine::default();
    let component = Component::new(&engine, COMPONENT).unwrap_or_else(|e| panic!("{e:#}"));
    let mut linker: Linker<Host> = Linker::new(&engine);
    let mut root = linker.root();
    root.resource("counter", ResourceType::host::<Counter>(), |mut store, rep| {
        store.data_mut().dropped.push(rep);
        store.data_mut().table.delete(Resource::<Counter>::new_own(rep))?;
        Ok(())
    })
    .unwrap();
    root.func_wrap("new-counter", |mut store, (start,): (u32,)| Ok((store.data_mut().table.push(Counter(start))?,))).unwrap();
    root.func_wrap("get", |store, (c,): (Resource<Counter>,)| {
        assert!(!c.owned(), "a borrow reaches the host as a borrowed handle");
        Ok((store.data().table.get(&c)?.0,))
    })
    .unwrap();
    let mut store = Store::new(&engine, Host::default());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    (store, instance)
}

#[test]
fn the_guest_makes_borrows_and_drops_host_resources() {
    let (mut store, instance) = setup();
    let roundtrip = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "roundtrip").unwrap();
    assert_eq!(roundtrip.call(&mut store, (5,)).unwrap(), (5,));
    assert_eq!(store.data().dropped.len(), 1, "the guest's drop ran the host's destructor");
    assert!(store.data().table.is_empty());
}

#[test]
fn handles_move_between_host_and_guest() {
    let (mut store, instance) = setup();
    // An owned counter made in the guest comes out to the host.
    let make = instance.get_typed_func::<(u32,), (Resource<Counter>,)>(&mut store, "make").unwrap();
    let (counter,) = make.call(&mut store, (7,)).unwrap();
    assert!(counter.owned());
    assert_eq!(store.data().table.get(&counter).unwrap().0, 7);

    // Lent to the guest for one call, twice: each borrow ends with its call.
    let peek = instance.get_typed_func::<(Resource<Counter>,), (u32,)>(&mut store, "peek").unwrap();
    for _ in 0..2 {
        assert_eq!(peek.call(&mut store, (Resource::new_borrow(counter.rep()),)).unwrap(), (7,));
    }

    // Given back: the guest drops it, and the host's destructor runs.
    let rep = counter.rep();
    let consume = instance.get_typed_func::<(Resource<Counter>,), ()>(&mut store, "consume").unwrap();
    consume.call(&mut store, (counter,)).unwrap();
    assert_eq!(store.data().dropped, [rep]);

    // The same through `Val`s.
    let make = instance.get_func(&mut store, "make").unwrap();
    let mut results = [Val::Bool(false)];
    make.call(&mut store, &[Val::U32(9)], &mut results).unwrap();
    let Val::Resource(any) = results[0].clone() else { panic!("a resource, got {:?}", results[0]) };
    assert_eq!(any.ty(), ResourceType::host::<Counter>());
    assert!(any.owned());
    let peek = instance.get_func(&mut store, "peek").unwrap();
    let borrowed = ResourceAny::try_from_resource(Resource::<Counter>::new_borrow(any.try_into_resource::<Counter>(&mut store).unwrap().rep()), &mut store).unwrap();
    let mut results = [Val::U32(0)];
    peek.call(&mut store, &[Val::Resource(borrowed)], &mut results).unwrap();
    assert_eq!(results[0], Val::U32(9));
    assert_eq!(format!("{:?}", ResourceType::host::<Counter>()), format!("ResourceType::host::<{}>()", std::any::type_name::<Counter>()));
}

#[test]
fn misused_handles_are_errors_that_lock_the_instance_down() {
    // A handle dropped twice: the second drop names the handle.
    let (mut store, instance) = setup();
    let make = instance.get_typed_func::<(u32,), (Resource<Counter>,)>(&mut store, "make").unwrap();
    let (counter,) = make.call(&mut store, (1,)).unwrap();
    let twice = instance.get_typed_func::<(Resource<Counter>,), ()>(&mut store, "drop-twice").unwrap();
    let err = twice.call(&mut store, (counter,)).unwrap_err();
    assert!(format!("{err:#}").contains("`resource.drop`: unknown handle index"), "{err:#}");
    let err = make.call(&mut store, (1,)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::CannotEnterComponent));

    // A borrow the guest keeps past its call.
    let (mut store, instance) = setup();
    let make = instance.get_typed_func::<(u32,), (Resource<Counter>,)>(&mut store, "make").unwrap();
    let (counter,) = make.call(&mut store, (1,)).unwrap();
    let keep = instance.get_typed_func::<(Resource<Counter>,), (u32,)>(&mut store, "peek-and-keep").unwrap();
    let err = keep.call(&mut store, (Resource::new_borrow(counter.rep()),)).unwrap_err();
    assert_eq!(err.to_string(), "1 borrowed handle(s) still remain at the end of the call");
    assert_eq!(make.call(&mut store, (1,)).unwrap_err().downcast_ref::<Trap>(), Some(&Trap::CannotEnterComponent));

    // A handle index the guest never had.
    let (mut store, instance) = setup();
    let get = instance.get_typed_func::<(), (u32,)>(&mut store, "get-42").unwrap();
    let err = get.call(&mut store, ()).unwrap_err();
    assert!(format!("{err:#}").contains("unknown handle index 42"), "{err:#}");
    // Index 0, which no handle ever has.
    let (mut store, instance) = setup();
    let get = instance.get_typed_func::<(), (u32,)>(&mut store, "get-0").unwrap();
    let err = get.call(&mut store, ()).unwrap_err();
    assert!(format!("{err:#}").contains("unknown handle index 0"), "{err:#}");
    assert_eq!(get.call(&mut store, ()).unwrap_err().downcast_ref::<Trap>(), Some(&Trap::CannotEnterComponent));

    // A resource of another type: found when it is lowered, inside the call, so the instance locks down.
    let (mut store, instance) = setup();
    let peek = instance.get_typed_func::<(Resource<Other>,), (u32,)>(&mut store, "peek").unwrap();
    let err = peek.call(&mut store, (Resource::new_borrow(0),)).unwrap_err();
    assert!(format!("{err:#}").contains("resource type mismatch"), "{err:#}");

    // A borrow given as an owned handle: the `Val` check refuses it before the call, the instance stays
    // usable.
    let (mut store, instance) = setup();
    let consume = instance.get_func(&mut store, "consume").unwrap();
    let borrowed = ResourceAny::try_from_resource(Resource::<Counter>::new_borrow(0), &mut store).unwrap();
    let err = consume.call(&mut store, &[Val::Resource(borrowed)], &mut []).unwrap_err();
    assert!(format!("{err:#}").contains("a borrowed handle cannot be given as an owned one"), "{err:#}");
    let roundtrip = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "roundtrip").unwrap();
    assert_eq!(roundtrip.call(&mut store, (3,)).unwrap(), (3,));
}

#[test]
fn resource_imports_need_the_host_type() {
    let engine = Engine::default();
    let component = Component::new(&engine, COMPONENT).unwrap();
    let linker: Linker<Host> = Linker::new(&engine);
    let err = linker.instantiate_pre(&component).err().unwrap();
    assert_eq!(err.to_string(), "component imports a resource type `counter`, but a matching implementation was not found in the linker");
}

/// A resource the component defines: `resource.new`, `resource.rep`, and `resource.drop` running the
/// guest's destructor; handles of it reach the host as `ResourceAny` and come back.
#[test]
fn guest_resources_are_made_read_and_destroyed() {
    let wat = r#"(component
      (core module $dtor-m
        (global $dropped (export "dropped") (mut i32) (i32.const 0))
        (func (export "dtor") (param $rep i32)
          (global.set $dropped (i32.add (global.get $dropped) (local.get $rep)))))
      (core instance $d (instantiate $dtor-m))
      (type $r (resource (rep i32) (dtor (core func $d "dtor"))))
      (core func $new (canon resource.new $r))
      (core func $rep (canon resource.rep $r))
      (core func $drop (canon resource.drop $r))
      (core module $m
        (import "" "new" (func $new (param i32) (result i32)))
        (import "" "rep" (func $rep (param i32) (result i32)))
        (import "" "drop" (func $drop (param i32)))
        (import "" "dropped" (global $dropped (mut i32)))
        (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
        ;; A resource lent to the instance that defines it arrives as its representation.
        (func (export "rep-of") (param i32) (result i32) (local.get 0))
        (func (export "rep-of-handle") (param i32) (result i32) (call $rep (local.get 0)))
        (func (export "drop-it") (param i32) (call $drop (local.get 0)))
        (func (export "dropped") (result i32) (global.get $dropped)))
      (core instance $i (instantiate $m (with "" (instance
        (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))
        (export "dropped" (global $d "dropped"))))))
      (export $r2 "r" (type $r))
      (func (export "make") (param "rep" u32) (result (own $r2)) (canon lift (core func $i "make")))
      (func (export "rep-of") (param "x" (borrow $r2)) (result u32) (canon lift (core func $i "rep-of")))
      (func (export "rep-of-handle") (param "x" (own $r2)) (result u32) (canon lift (core func $i "rep-of-handle")))
      (func (export "drop-it") (param "x" (own $r2)) (canon lift (core func $i "drop-it")))
      (func (export "dropped") (result u32) (canon lift (core func $i "dropped"))))"#;
    let engine = Engine::default();
    let component = Component::new(&engine, wat).unwrap_or_else(|e| panic!("{e:#}"));
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let make = instance.get_typed_func::<(u32,), (ResourceAny,)>(&mut store, "make").unwrap();
    let rep_of = instance.get_typed_func::<(ResourceAny,), (u32,)>(&mut store, "rep-of").unwrap();
    let drop_it = instance.get_typed_func::<(ResourceAny,), ()>(&mut store, "drop-it").unwrap();
    let dropped = instance.get_typed_func::<(), (u32,)>(&mut store, "dropped").unwrap();

    let (a,) = make.call(&mut store, (40,)).unwrap();
    let (b,) = make.call(&mut store, (2,)).unwrap();
    assert!(a.owned() && a.ty() == b.ty());
    assert_ne!(a.ty(), ResourceType::host::<Counter>());
    // The host's owned handle, lent for the call as a borrow.
    assert_eq!(rep_of.call(&mut store, (a,)).unwrap(), (40,));
    drop_it.call(&mut store, (a,)).unwrap();
    drop_it.call(&mut store, (b,)).unwrap();
    assert_eq!(dropped.call(&mut store, ()).unwrap(), (42,), "the guest's destructor ran for both");

    // An owned handle given back: `resource.rep` reads it (the handle is then the guest's).
    let rep_of_handle = instance.get_typed_func::<(ResourceAny,), (u32,)>(&mut store, "rep-of-handle").unwrap();
    let (d,) = make.call(&mut store, (7,)).unwrap();
    assert_eq!(rep_of_handle.call(&mut store, (d,)).unwrap(), (7,));

    // The host drops one it holds: the guest's destructor runs.
    let (c,) = make.call(&mut store, (8,)).unwrap();
    c.resource_drop(&mut store).unwrap();
    assert_eq!(dropped.call(&mut store, ()).unwrap(), (50,));
}

#[test]
fn the_host_drops_host_resources_it_holds() {
    let (mut store, instance) = setup();
    let make = instance.get_typed_func::<(u32,), (ResourceAny,)>(&mut store, "make").unwrap();
    let (counter,) = make.call(&mut store, (7,)).unwrap();
    let rep = counter.try_into_resource::<Counter>(&mut store).unwrap().rep();
    counter.resource_drop(&mut store).unwrap();
    assert_eq!(store.data().dropped, [rep], "the destructor given to the linker ran");
    assert!(store.data().table.is_empty());
    let borrowed = ResourceAny::try_from_resource(Resource::<Counter>::new_borrow(1), &mut store).unwrap();
    borrowed.resource_drop(&mut store).unwrap();
    let made = ResourceAny::try_from_resource(Resource::<Counter>::new_own(2), &mut store).unwrap();
    made.resource_drop(&mut store).unwrap();
    assert_eq!(store.data().dropped, [rep], "as in Wasmtime, dropping a borrow or a handle the host made runs nothing");
}

/// `ResourceDynamic`: a host resource whose type is a number chosen at run time
/// (`ResourceType::host_dynamic`), made, lent and dropped as `Resource<T>` is; a handle of another type
/// number, or of a `host::<T>()` type, is refused.
#[test]
fn dynamically_typed_host_resources() {
    use tenon::component::ResourceDynamic;
    let engine = Engine::default();
    let component = Component::new(&engine, COMPONENT).unwrap();
    let mut linker: Linker<Vec<u32>> = Linker::new(&engine);
    let mut root = linker.root();
    root.resource("counter", ResourceType::host_dynamic(7), |mut store, rep| {
        store.data_mut().push(rep);
        Ok(())
    })
    .unwrap();
    root.func_wrap("new-counter", |_, (start,): (u32,)| Ok((ResourceDynamic::new_own(start + 100, 7),))).unwrap();
    root.func_wrap("get", |_, (c,): (ResourceDynamic,)| {
        assert!(!c.owned() && c.ty() == 7);
        Ok((c.rep() - 100,))
    })
    .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let roundtrip = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "roundtrip").unwrap();
    assert_eq!(roundtrip.call(&mut store, (5,)).unwrap(), (5,));
    assert_eq!(store.data(), &[105], "the guest's resource.drop ran the destructor with the rep");

    let make = instance.get_typed_func::<(u32,), (ResourceDynamic,)>(&mut store, "make").unwrap();
    let (made,) = make.call(&mut store, (1,)).unwrap();
    assert_eq!((made.rep(), made.ty(), made.owned()), (101, 7, true));
    let any = made.try_into_resource_any(&mut store).unwrap();
    assert_eq!(any.ty(), ResourceType::host_dynamic(7));
    assert_ne!(ResourceType::host_dynamic(7), ResourceType::host_dynamic(8));
    assert!(any.try_into_resource::<Counter>(&mut store).is_err(), "not a `host::<Counter>()` handle");
    let back = any.try_into_resource_dynamic(&mut store).unwrap();
    assert_eq!(format!("{back:?}"), "ResourceDynamic(own, 101, type 7)");

    // A handle of another type number is refused where it crosses.
    let peek = instance.get_typed_func::<(ResourceDynamic,), (u32,)>(&mut store, "peek").unwrap();
    let err = peek.call(&mut store, (ResourceDynamic::new_borrow(101, 8),)).unwrap_err();
    assert!(format!("{err:#}").contains("host_dynamic(8)"), "{err:#}");
}

/// Resources of nested components: one defining a resource works (the reference tests of `resources/` run
/// more), and instantiated twice it defines two resource types.
#[test]
fn nested_components_with_resources() {
    let definer = r#"(component $definer
        (type $r (resource (rep i32)))
        (core func $new (canon resource.new $r))
        (core func $rep (canon resource.rep $r))
        (core module $m
          (import "" "new" (func $new (param i32) (result i32)))
          (import "" "rep" (func $rep (param i32) (result i32)))
          (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
          ;; A borrow of its own resource reaches the defining component as the representation.
          (func (export "value") (param i32) (result i32) (local.get 0))
          (func (export "unused") (param i32) (result i32) (call $rep (local.get 0))))
        (core instance $i (instantiate $m (with "" (instance (export "new" (func $new)) (export "rep" (func $rep))))))
        (export $r' "r" (type $r))
        (func (export "make") (param "v" u32) (result (own $r')) (canon lift (core func $i "make")))
        (func (export "value") (param "x" (borrow $r')) (result u32) (canon lift (core func $i "value"))))"#;
    let engine = Engine::default();
    let once = format!(
        r#"(component {definer}
          (instance $a (instantiate $definer))
          (export "a" (instance $a)))"#
    );
    let component = Component::new(&engine, once).unwrap_or_else(|e| panic!("{e:#}"));
    let mut store = Store::new(&engine, Host::default());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let a = instance.get_export_index(&mut store, None, "a").unwrap();
    let make = instance.get_export_index(&mut store, Some(&a), "make").unwrap();
    let value = instance.get_export_index(&mut store, Some(&a), "value").unwrap();
    let make = instance.get_typed_func::<(u32,), (ResourceAny,)>(&mut store, &make).unwrap();
    let value = instance.get_typed_func::<(ResourceAny,), (u32,)>(&mut store, &value).unwrap();
    let (r,) = make.call(&mut store, (41,)).unwrap();
    assert_eq!(value.call(&mut store, (r,)).unwrap(), (41,));
    r.resource_drop(&mut store).unwrap();

    // Instantiated twice, each instance defines a type of its own: a handle of one is not the other's.
    let twice = format!(
        r#"(component {definer}
          (instance $a (instantiate $definer))
          (instance $b (instantiate $definer))
          (export "a" (instance $a))
          (export "b" (instance $b)))"#
    );
    let component = Component::new(&engine, twice).unwrap_or_else(|e| panic!("{e:#}"));
    let mut store = Store::new(&engine, Host::default());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let func = |store: &mut Store<Host>, which: &str, name: &str| {
        let parent = instance.get_export_index(&mut *store, None, which).unwrap();
        instance.get_export_index(&mut *store, Some(&parent), name).unwrap()
    };
    let (make_a, value_a, value_b) = (func(&mut store, "a", "make"), func(&mut store, "a", "value"), func(&mut store, "b", "value"));
    let make_a = instance.get_typed_func::<(u32,), (ResourceAny,)>(&mut store, &make_a).unwrap();
    let value_a = instance.get_typed_func::<(ResourceAny,), (u32,)>(&mut store, &value_a).unwrap();
    let value_b = instance.get_typed_func::<(ResourceAny,), (u32,)>(&mut store, &value_b).unwrap();
    let (r,) = make_a.call(&mut store, (7,)).unwrap();
    assert_eq!(value_a.call(&mut store, (r,)).unwrap(), (7,));
    let err = value_b.call(&mut store, (r,)).unwrap_err();
    assert!(format!("{err:#}").contains("resource type mismatch"), "{err:#}");
}
