//! Ahead-of-time artifacts: modules and components serialized and loaded again, the same bytes back, each
//! engine setting that differs refused by name, and corrupted or truncated artifacts refused.

use tenon::component::{Component, Linker};
use tenon::{Config, Engine, Instance, Module, Precompiled, Store};

const MODULE: &str = r#"(module
  (memory (export "memory") 1)
  (data (i32.const 0) "hello")
  (func $fib (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
      (then (local.get 0))
      (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1))) (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "boom") (result i32) (i32.div_u (i32.const 1) (i32.const 0))))"#;

/// A component with a nested instance it calls through an adapter.
const COMPONENT: &str = r#"(component
  (component $inner
    (core module $m (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
    (core instance $i (instantiate $m))
    (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))
  (instance $inner (instantiate $inner))
  (core func $add (canon lower (func $inner "add")))
  (core module $outer
    (import "" "add" (func $add (param i32 i32) (result i32)))
    (func (export "twice") (param i32) (result i32) (call $add (local.get 0) (local.get 0))))
  (core instance $o (instantiate $outer (with "" (instance (export "add" (func $add))))))
  (func (export "twice") (param "x" u32) (result u32) (canon lift (core func $o "twice"))))"#;

fn load_module(engine: &Engine, bytes: &[u8]) -> tenon::Result<Module> {
    // SAFETY: the artifacts of these tests come from this process's Tenon (or are corrupted copies, which
    // loading must refuse).
    unsafe { Module::deserialize(engine, bytes) }
}

fn load_component(engine: &Engine, bytes: &[u8]) -> tenon::Result<Component> {
    // SAFETY: as in `load_module`.
    unsafe { Component::deserialize(engine, bytes) }
}

#[test]
fn modules_round_trip_to_the_same_bytes_and_run() {
    let engine = Engine::default();
    let bytes = engine.precompile_module(MODULE.as_bytes()).unwrap();
    assert_eq!(Engine::detect_precompiled(&bytes), Some(Precompiled::Module));
    assert_eq!(Engine::detect_precompiled(&wat::parse_str(MODULE).unwrap()), None);
    let module = load_module(&engine, &bytes).unwrap();
    assert_eq!(module.serialize().unwrap(), bytes, "deserialize then serialize gives the same bytes");
    // SAFETY: as in `load_module`; the bytes are read during the call only.
    let raw = unsafe { Module::deserialize_raw(&engine, std::ptr::NonNull::from(&bytes[..])) }.unwrap();
    assert_eq!(raw.serialize().unwrap(), bytes);
    assert_eq!(engine.precompile_module(MODULE.as_bytes()).unwrap(), bytes, "compiling is deterministic");

    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let fib = instance.get_typed_func::<i32, i32>(&mut store, "fib").unwrap();
    assert_eq!(fib.call(&mut store, 20).unwrap(), 6765);
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    assert_eq!(&memory.data(&store)[..5], b"hello");
    // Traps are found in loaded code as in compiled code.
    let boom = instance.get_typed_func::<(), i32>(&mut store, "boom").unwrap();
    let err = boom.call(&mut store, ()).unwrap_err();
    assert_eq!(err.downcast_ref::<tenon::Trap>(), Some(&tenon::Trap::IntegerDivisionByZero), "{err:?}");
}

#[test]
fn components_round_trip_to_the_same_bytes_and_run() {
    let engine = Engine::default();
    let bytes = engine.precompile_component(COMPONENT.as_bytes()).unwrap();
    assert_eq!(Engine::detect_precompiled(&bytes), Some(Precompiled::Component));
    let component = load_component(&engine, &bytes).unwrap();
    assert_eq!(component.serialize().unwrap(), bytes);
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let twice = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "twice").unwrap();
    assert_eq!(twice.call(&mut store, (21,)).unwrap(), (42,));

    let dir = std::env::temp_dir().join(format!("tenon-artifact-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.cwasm");
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(Engine::detect_precompiled_file(&path).unwrap(), Some(Precompiled::Component));
    // SAFETY: written just above from this process's artifact.
    let from_file = unsafe { Component::deserialize_file(&engine, &path) }.unwrap();
    assert_eq!(from_file.serialize().unwrap(), bytes);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_module_is_not_a_component() {
    let engine = Engine::default();
    let module = engine.precompile_module(MODULE.as_bytes()).unwrap();
    let component = engine.precompile_component(COMPONENT.as_bytes()).unwrap();
    let err = load_component(&engine, &module).unwrap_err();
    assert!(format!("{err:#}").contains("the artifact is a module, not a component"), "{err:#}");
    let err = load_module(&engine, &component).unwrap_err();
    assert!(format!("{err:#}").contains("the artifact is a component, not a module"), "{err:#}");
    let err = load_module(&engine, &wat::parse_str(MODULE).unwrap()).unwrap_err();
    assert!(format!("{err:#}").contains("not a Tenon artifact"), "{err:#}");
}

/// Changes one setting of a configuration.
type Configure = fn(&mut Config);

#[test]
fn every_setting_that_differs_is_named() {
    let default = Engine::default();
    let bytes = default.precompile_module(MODULE.as_bytes()).unwrap();
    let cases: [(&str, Configure); 9] = [
        ("the artifact was compiled with fuel instrumentation disabled, but this engine has it enabled", |c| {
            c.consume_fuel(true);
        }),
        ("the artifact was compiled with epoch interruption disabled, but this engine has it enabled", |c| {
            c.epoch_interruption(true);
        }),
        ("the artifact was compiled with signals-based traps enabled, but this engine has it disabled", |c| {
            c.signals_based_traps(false);
        }),
        ("the artifact was compiled with moving memories", |c| {
            c.memory_may_move(false);
        }),
        ("the artifact was compiled for a memory reservation of", |c| {
            c.memory_reservation(1 << 30);
        }),
        ("the artifact was compiled for a memory guard of", |c| {
            c.memory_guard_size(1 << 20);
        }),
        ("the artifact was compiled with wasm feature `multi_memory` enabled, but this engine has it disabled", |c| {
            c.wasm_multi_memory(false);
        }),
        ("the artifact was compiled with Cranelift setting `opt_level=speed`, but this engine has `opt_level=none`", |c| {
            c.cranelift_opt_level(tenon::OptLevel::None);
        }),
        ("the artifact was compiled with wasm feature `component_model` enabled, but this engine has it disabled", |c| {
            c.wasm_component_model(false);
        }),
    ];
    for (expected, configure) in cases {
        let mut config = Config::new();
        configure(&mut config);
        let engine = Engine::new(&config).unwrap();
        let err = load_module(&engine, &bytes).unwrap_err();
        assert!(format!("{err:#}").contains(expected), "expected {expected:?}, got: {err:#}");
        // And the other way round: that engine's artifacts do not load in the default engine.
        let theirs = engine.precompile_module(MODULE.as_bytes()).unwrap();
        assert!(load_module(&default, &theirs).is_err());
    }
}

/// The ranges of the sections of an ELF file (from its section headers), skipping the null section.
fn section_ranges(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    let u16_at = |at: usize| u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap()) as usize;
    let (table, entry_size, count) = (u64_at(0x28), u16_at(0x3a), u16_at(0x3c));
    (1..count)
        .map(|i| {
            let header = table + i * entry_size;
            let (offset, size) = (u64_at(header + 0x18), u64_at(header + 0x20));
            offset..offset + size
        })
        .filter(|r| !r.is_empty() && r.end <= bytes.len())
        .collect()
}

#[test]
fn corrupted_and_truncated_artifacts_are_errors() {
    let engine = Engine::default();
    for (bytes, is_module) in [
        (engine.precompile_module(MODULE.as_bytes()).unwrap(), true),
        (engine.precompile_component(COMPONENT.as_bytes()).unwrap(), false),
    ] {
        let load = |bytes: &[u8]| if is_module { load_module(&engine, bytes).map(drop) } else { load_component(&engine, bytes).map(drop) };
        let sections = section_ranges(&bytes);
        assert!(sections.len() >= 4, "settings, metadata, code, checksum and the names: {sections:?}");
        // Bytes flipped in every section (first, middle and last byte of each), and in the ELF headers.
        let mut places: Vec<usize> = sections.iter().flat_map(|r| [r.start, (r.start + r.end) / 2, r.end - 1]).collect();
        places.extend([0, 4, 16, 0x28, bytes.len() - 1]);
        places.extend((0..bytes.len()).step_by(61));
        for at in places {
            let mut corrupt = bytes.clone();
            corrupt[at] ^= 0x5a;
            let err = load(&corrupt).expect_err(&format!("a flipped byte at {at} of {}", bytes.len()));
            let message = format!("{err:#}");
            assert!(message.contains("corrupt") || message.contains("not a Tenon artifact"), "byte {at}: {message}");
        }
        for len in (0..bytes.len()).step_by(37).chain([bytes.len() - 1]) {
            assert!(load(&bytes[..len]).is_err(), "truncated to {len} bytes");
        }
    }
}

#[test]
fn engines_with_the_same_settings_share_artifacts_and_hashes() {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    let hash = |engine: &Engine| BuildHasherDefault::<DefaultHasher>::default().hash_one(engine.precompile_compatibility_hash());
    let (a, b) = (Engine::default(), Engine::new(&Config::new()).unwrap());
    let fuel = Engine::new(Config::new().consume_fuel(true)).unwrap();
    assert_eq!(hash(&a), hash(&b));
    assert_ne!(hash(&a), hash(&fuel));
    let bytes = a.precompile_module(MODULE.as_bytes()).unwrap();
    let module = load_module(&b, &bytes).unwrap();
    let mut store = Store::new(&b, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let fib = instance.get_typed_func::<i32, i32>(&mut store, "fib").unwrap();
    assert_eq!(fib.call(&mut store, 10).unwrap(), 55);
    // Fuel instrumentation compiled in is counted by a loaded module too.
    let bytes = fuel.precompile_module(MODULE.as_bytes()).unwrap();
    let module = load_module(&fuel, &bytes).unwrap();
    let mut store = Store::new(&fuel, ());
    store.set_fuel(1_000).unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let fib = instance.get_typed_func::<i32, i32>(&mut store, "fib").unwrap();
    let err = fib.call(&mut store, 25).unwrap_err();
    assert_eq!(err.downcast_ref::<tenon::Trap>(), Some(&tenon::Trap::OutOfFuel));
}
