//! Two Rust guest components composed into one (`tests/guests/consumer` importing `tenon:guest/api`,
//! `tests/guests/provider` exporting it, composed by `wasm-compose` in the build script): strings, lists,
//! a variant, a resource and seventeen parameters cross from one nested instance into the other.

use tenon::component::{Component, Linker};
use tenon::{Engine, Store};
use tenon_tests::guests;

#[test]
fn composed_guests_call_each_other() {
    let engine = Engine::default();
    let component = Component::from_file(&engine, guests::COMPOSED).unwrap_or_else(|e| panic!("{e:#}"));
    let imports: Vec<String> = component.component_type().imports(&engine).map(|(name, _)| name.to_string()).collect();
    assert!(imports.is_empty(), "the provider satisfies the consumer's imports: {imports:?}");
    run(&engine, &component);
}

/// The same, with the composed component loaded from its artifact: nested modules, adapters and resources
/// come back whole.
#[test]
fn composed_guests_run_from_an_artifact() {
    let engine = Engine::default();
    let artifact = engine.precompile_component(&std::fs::read(guests::COMPOSED).unwrap()).unwrap();
    // SAFETY: made by this process just above.
    let component = unsafe { Component::deserialize(&engine, &artifact) }.unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(component.serialize().unwrap(), artifact);
    run(&engine, &component);
}

fn run(engine: &Engine, component: &Component) {
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine).instantiate(&mut store, component).unwrap();

    let shout = instance.get_typed_func::<(&str,), (String,)>(&mut store, "shout").unwrap();
    assert_eq!(shout.call(&mut store, ("héllo, wörld",)).unwrap().0, "HÉLLO, WÖRLD");
    let total = instance.get_typed_func::<(&[u32],), (u64,)>(&mut store, "total").unwrap();
    let xs: Vec<u32> = (0..10_000).collect();
    assert_eq!(total.call(&mut store, (&xs,)).unwrap().0, 49_995_000);
    let backwards = instance.get_typed_func::<(&[&str],), (Vec<String>,)>(&mut store, "backwards").unwrap();
    assert_eq!(backwards.call(&mut store, (&["a", "bb", "ccc"],)).unwrap().0, ["ccc", "bb", "a"]);
    let area = instance.get_typed_func::<(u8, f64, f64), (Option<f64>,)>(&mut store, "area-of").unwrap();
    assert_eq!(area.call(&mut store, (1, 2.0, 3.5)).unwrap().0, Some(7.0));
    assert!((area.call(&mut store, (0, 1.0, 0.0)).unwrap().0.unwrap() - std::f64::consts::PI).abs() < 1e-12);
    assert_eq!(area.call(&mut store, (2, 0.0, 0.0)).unwrap().0, None);
    let many = instance.get_typed_func::<(&str,), (String,)>(&mut store, "many").unwrap();
    assert_eq!(many.call(&mut store, ("sum",)).unwrap().0, "sum: 136", "seventeen parameters, through realloc");
    let count = instance.get_typed_func::<(u32, u32), (String,)>(&mut store, "count").unwrap();
    assert_eq!(count.call(&mut store, (5, 3)).unwrap().0, "counter at 8", "a resource of the provider, used by the consumer");
    // Again: the consumer dropped its counter (the provider's destructor ran), and makes a new one.
    assert_eq!(count.call(&mut store, (0, 100)).unwrap().0, "counter at 100");
}
