//! Host resources through generated bindings: a `Host<Resource>` trait implemented over a `ResourceTable`,
//! the resource type mapped to the host's own type with `with`, handles made, borrowed, dropped and given to
//! the guest through a generated `call_*` method.

use tenon::component::{Component, HasSelf, Linker, Resource, ResourceTable};
use tenon::{Engine, Store};

/// The host's counter: what the resource `counter` stands for.
pub struct MyCounter(u32);

mod app {
    ::tenon::component::bindgen!({
        inline: "
            package test:res;
            interface counters {
                resource counter {
                    constructor(start: u32);
                    get: func() -> u32;
                    add: static func(a: borrow<counter>, b: borrow<counter>) -> u32;
                }
            }
            world app {
                import counters;
                use counters.{counter};
                export run: func(start: u32) -> u32;
                export give: func(c: counter) -> u32;
            }
        ",
        with: { "test:res/counters.counter": crate::MyCounter },
    });
}

use app::test::res::counters::{Host, HostCounter};

const COMPONENT: &str = r#"(component
  (import "test:res/counters" (instance $counters
    (export "counter" (type $c (sub resource)))
    (export "[constructor]counter" (func (param "start" u32) (result (own $c))))
    (export "[method]counter.get" (func (param "self" (borrow $c)) (result u32)))
    (export "[static]counter.add" (func (param "a" (borrow $c)) (param "b" (borrow $c)) (result u32)))))
  (alias export $counters "counter" (type $counter))
  (alias export $counters "[constructor]counter" (func $new))
  (alias export $counters "[method]counter.get" (func $get))
  (alias export $counters "[static]counter.add" (func $add))
  (core func $new-core (canon lower (func $new)))
  (core func $get-core (canon lower (func $get)))
  (core func $add-core (canon lower (func $add)))
  (core func $drop (canon resource.drop $counter))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "get" (func $get (param i32) (result i32)))
    (import "" "add" (func $add (param i32 i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    ;; Two counters, `start` and 10, added through the static function, then dropped.
    (func (export "run") (param i32) (result i32)
      (local $a i32) (local $b i32) (local $r i32)
      (local.set $a (call $new (local.get 0)))
      (local.set $b (call $new (i32.const 10)))
      (local.set $r (call $add (local.get $a) (local.get $b)))
      (call $drop (local.get $a))
      (call $drop (local.get $b))
      (local.get $r))
    ;; Reads the counter it is given, then drops it.
    (func (export "give") (param i32) (result i32)
      (local $v i32)
      (local.set $v (call $get (local.get 0)))
      (call $drop (local.get 0))
      (local.get $v)))
  (core instance $i (instantiate $m
    (with "" (instance (export "new" (func $new-core)) (export "get" (func $get-core)) (export "add" (func $add-core)) (export "drop" (func $drop))))))
  (func (export "run") (param "start" u32) (result u32) (canon lift (core func $i "run")))
  (func (export "give") (param "c" (own $counter)) (result u32) (canon lift (core func $i "give"))))"#;

#[derive(Default)]
struct State {
    table: ResourceTable,
    dropped: u32,
}

impl HostCounter for State {
    fn new(&mut self, start: u32) -> Resource<MyCounter> {
        self.table.push(MyCounter(start)).expect("room in the table")
    }
    fn get(&mut self, self_: Resource<MyCounter>) -> u32 {
        self.table.get(&self_).map_or(0, |c| c.0)
    }
    fn add(&mut self, a: Resource<MyCounter>, b: Resource<MyCounter>) -> u32 {
        self.get(a) + self.get(b)
    }
    fn drop(&mut self, rep: Resource<MyCounter>) -> tenon::Result<()> {
        self.table.delete(rep)?;
        self.dropped += 1;
        Ok(())
    }
}

impl Host for State {}

#[test]
fn generated_resource_traits_serve_the_guest() {
    let engine = Engine::default();
    let component = Component::new(&engine, COMPONENT).unwrap_or_else(|e| panic!("{e:#}"));
    let mut linker = Linker::new(&engine);
    app::App::add_to_linker::<State, HasSelf<State>>(&mut linker, |state| state).unwrap();
    let mut store = Store::new(&engine, State::default());
    let guest = app::App::instantiate(&mut store, &component, &linker).unwrap();

    assert_eq!(guest.call_run(&mut store, 5).unwrap(), 15);
    assert_eq!(store.data().dropped, 2);
    assert!(store.data().table.is_empty());

    let counter = store.data_mut().table.push(MyCounter(42)).unwrap();
    assert_eq!(guest.call_give(&mut store, counter).unwrap(), 42);
    assert_eq!(store.data().dropped, 3, "the guest dropped the counter it was given");
    assert!(store.data().table.is_empty());
}
