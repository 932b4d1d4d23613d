//! Calls into and out of components: parameters and results through memory, `post-return`, lockdown after
//! a trap, the errors a guest's bad values produce (with where they were), host mistakes, linking, nested
//! components calling each other, exported instances, and string allocation as the spec prescribes it.

use tenon::component::{Component, Linker, Val, types::Type};
use tenon::{Engine, Store, Trap};
use tenon_tests::component::{LIBC, OPTIONS};


fn setup(wat: &str) -> (Store<()>, tenon::component::Instance) {
    let engine = Engine::default();
    let component = Component::new(&engine, wat).unwrap_or_else(|e| panic!("{e:#}"));
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    (store, instance)
}

fn call(store: &mut Store<()>, instance: tenon::component::Instance, name: &str, params: &[Val]) -> tenon::Result<Option<Val>> {
    let func = instance.get_func(&mut *store, name).unwrap_or_else(|| panic!("no export `{name}`"));
    let n = func.ty(&*store).results().len();
    let mut results = vec![Val::Bool(false); n];
    func.call(&mut *store, params, &mut results)?;
    Ok(results.pop())
}

fn trap(error: &tenon::Error) -> Option<Trap> {
    error.downcast_ref::<Trap>().copied()
}

#[test]
fn more_than_sixteen_parameters_go_through_memory() {
    let params: String = (0..17).map(|i| format!(r#"(param "p{i}" u32)"#)).collect();
    let wat = format!(
        r#"(component
          {LIBC}
          (core module $m
            (import "libc" "memory" (memory 1))
            ;; The 17 parameters are a tuple in memory; returns their sum.
            (func (export "sum") (param $ptr i32) (result i64)
              (local $i i32) (local $sum i64)
              (block $done (loop $next
                (br_if $done (i32.eq (local.get $i) (i32.const 17)))
                (local.set $sum (i64.add (local.get $sum)
                  (i64.extend_i32_u (i32.load (i32.add (local.get $ptr) (i32.mul (local.get $i) (i32.const 4)))))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))
              (local.get $sum)))
          (core instance $i (instantiate $m (with "libc" (instance $libc))))
          (func (export "sum") {params} (result u64) (canon lift (core func $i "sum") {OPTIONS})))"#
    );
    let (mut store, instance) = setup(&wat);
    let args: Vec<Val> = (1..=17).map(Val::U32).collect();
    assert_eq!(call(&mut store, instance, "sum", &args).unwrap(), Some(Val::U64((1..=17).sum())));
}

#[test]
fn post_return_runs_inside_call_after_the_results_are_read() {
    let wat = format!(
        r#"(component
          {LIBC}
          (core module $m
            (import "libc" "memory" (memory 1))
            (global $post (mut i32) (i32.const 0))
            (data $hello "hello")
            ;; Writes "hello" at 100 and returns a pointer to (100, 5).
            (func (export "get") (result i32)
              (memory.init $hello (i32.const 100) (i32.const 0) (i32.const 5))
              (i32.store (i32.const 200) (i32.const 100))
              (i32.store (i32.const 204) (i32.const 5))
              (i32.const 200))
            ;; Clobbers the string, as a guest freeing it would, and counts.
            (func (export "post") (param $ret i32)
              (memory.fill (i32.const 100) (i32.const 0) (i32.const 5))
              (global.set $post (i32.add (global.get $post) (i32.const 1))))
            (func (export "posts") (result i32) (global.get $post)))
          (core instance $i (instantiate $m (with "libc" (instance $libc))))
          (func (export "get") (result string) (canon lift (core func $i "get") {OPTIONS} (post-return (core func $i "post"))))
          (func (export "posts") (result u32) (canon lift (core func $i "posts"))))"#
    );
    let (mut store, instance) = setup(&wat);
    for n in 1..=3 {
        assert_eq!(call(&mut store, instance, "get", &[]).unwrap(), Some(Val::String("hello".into())));
        assert_eq!(call(&mut store, instance, "posts", &[]).unwrap(), Some(Val::U32(n)));
    }
}

/// A component whose exports return values the guest wrote into memory at 1000 (what `get-*` returns a
/// pointer to, or for flat results the value itself), to check what lifting makes of them.
fn bad_values() -> String {
    format!(
        r#"(component
          {LIBC}
          (core module $m
            (import "libc" "memory" (memory 1))
            ;; list<record {{ name: string }}> of 2 at 300: "ok" at 400, then 3 bytes with invalid UTF-8 at 410.
            (data (i32.const 400) "ok")
            (data (i32.const 410) "a\ff")
            (func (export "records") (result i32)
              (i32.store (i32.const 300) (i32.const 400)) (i32.store (i32.const 304) (i32.const 2))
              (i32.store (i32.const 308) (i32.const 410)) (i32.store (i32.const 312) (i32.const 2))
              (i32.store (i32.const 1000) (i32.const 300)) (i32.store (i32.const 1004) (i32.const 2))
              (i32.const 1000))
            (func (export "surrogate") (result i32) (i32.const 0xd800))
            (func (export "too-big") (result i32) (i32.const 0x110000))
            (func (export "enum") (result i32) (i32.const 3))
            (func (export "unaligned") (result i32)
              (i32.store (i32.const 1000) (i32.const 2)) (i32.store (i32.const 1004) (i32.const 1))
              (i32.const 1000))
            (func (export "string-oob") (result i32)
              (i32.store (i32.const 1000) (i32.const 65530)) (i32.store (i32.const 1004) (i32.const 100))
              (i32.const 1000))
            (func (export "retptr-oob") (result i32) (i32.const 65532))
            (func (export "option") (result i32) (i32.store8 (i32.const 1000) (i32.const 2)) (i32.const 1000))
            (func (export "list-oob") (result i32)
              (i32.store (i32.const 1000) (i32.const 65528)) (i32.store (i32.const 1004) (i32.const 100))
              (i32.const 1000))
            (func (export "too-long") (result i32)
              (i32.store (i32.const 1000) (i32.const 0)) (i32.store (i32.const 1004) (i32.const 0x10000000))
              (i32.const 1000))
            ;; One UTF-16 code unit at 1100: an unpaired surrogate.
            (func (export "utf16") (result i32)
              (i32.store16 (i32.const 1100) (i32.const 0xd800))
              (i32.store (i32.const 1000) (i32.const 1100)) (i32.store (i32.const 1004) (i32.const 1))
              (i32.const 1000))
            (func (export "nan") (result f32) (f32.reinterpret_i32 (i32.const 0x7fa00001)))
            (func (export "wide") (result i32) (i32.const 0x1ff))
            (func (export "ok") (param i32) (result i32) (i32.const 7))
            (func (export "boom") unreachable))
          (core instance $i (instantiate $m (with "libc" (instance $libc))))
          (type $r0 (record (field "name" string)))
          (export $r "r" (type $r0))
          (type $e0 (enum "a" "b" "c"))
          (export $e "e" (type $e0))
          (func (export "records") (result (list $r)) (canon lift (core func $i "records") {OPTIONS}))
          (func (export "surrogate") (result char) (canon lift (core func $i "surrogate")))
          (func (export "too-big") (result char) (canon lift (core func $i "too-big")))
          (func (export "enum") (result $e) (canon lift (core func $i "enum")))
          (func (export "unaligned") (result (list u32)) (canon lift (core func $i "unaligned") {OPTIONS}))
          (func (export "string-oob") (result string) (canon lift (core func $i "string-oob") {OPTIONS}))
          (func (export "retptr-oob") (result string) (canon lift (core func $i "retptr-oob") {OPTIONS}))
          (func (export "option") (result (option u32)) (canon lift (core func $i "option") {OPTIONS}))
          (func (export "list-oob") (result (list u32)) (canon lift (core func $i "list-oob") {OPTIONS}))
          (func (export "too-long") (result string) (canon lift (core func $i "too-long") {OPTIONS}))
          (func (export "utf16") (result string) (canon lift (core func $i "utf16") {OPTIONS} string-encoding=utf16))
          (type $f0 (flags "x" "y"))
          (export $f "f" (type $f0))
          (func (export "flags") (result $f) (canon lift (core func $i "wide")))
          (func (export "nan") (result f32) (canon lift (core func $i "nan")))
          (func (export "wide-u8") (result u8) (canon lift (core func $i "wide")))
          (func (export "wide-s8") (result s8) (canon lift (core func $i "wide")))
          (func (export "wide-bool") (result bool) (canon lift (core func $i "wide")))
          (func (export "ok") (param "x" u32) (result u32) (canon lift (core func $i "ok")))
          (func (export "boom") (canon lift (core func $i "boom"))))"#
    )
}

#[test]
fn bad_values_from_the_guest_are_errors_that_say_where() {
    let cases: [(&str, Option<Trap>, &str); 11] = [
        ("records", None, "`records` result: [1].name: invalid utf-8 sequence of 1 bytes from index 1"),
        ("surrogate", Some(Trap::InvalidChar), "invalid `char` bit pattern (0xd800)"),
        ("too-big", Some(Trap::InvalidChar), "0x110000"),
        ("enum", Some(Trap::InvalidDiscriminant), "3 of 3 cases"),
        ("unaligned", Some(Trap::UnalignedPointer), "list at 0x2"),
        ("string-oob", Some(Trap::StringOutOfBounds), "100 bytes at 0xfffa"),
        ("retptr-oob", Some(Trap::MemoryOutOfBounds), "8 bytes at 0xfffc"),
        ("option", Some(Trap::InvalidDiscriminant), "`option` result: invalid variant discriminant (2 of 2 cases)"),
        ("list-oob", Some(Trap::ListOutOfBounds), "400 bytes at 0xfff8"),
        ("too-long", Some(Trap::StringOutOfBounds), "268435456 bytes is too long"),
        ("utf16", None, "`utf16` result: invalid utf-16: unpaired surrogate at code unit 0"),
    ];
    for (name, expected_trap, message) in cases {
        // Each in a fresh instance: the error locks the instance down.
        let (mut store, instance) = setup(&bad_values());
        let err = call(&mut store, instance, name, &[]).unwrap_err();
        assert_eq!(trap(&err), expected_trap, "{name}: {err:#}");
        assert!(format!("{err:#}").contains(message), "{name}: `{message}` not in `{err:#}`");
        let again = call(&mut store, instance, "ok", &[Val::U32(1)]).unwrap_err();
        assert_eq!(trap(&again), Some(Trap::CannotEnterComponent), "{name}: {again:#}");
    }
}

#[test]
fn lifting_canonicalizes_nans_and_wraps_small_integers() {
    let (mut store, instance) = setup(&bad_values());
    let Some(Val::Float32(nan)) = call(&mut store, instance, "nan", &[]).unwrap() else { panic!() };
    assert_eq!(nan.to_bits(), 0x7fc0_0000);
    assert_eq!(call(&mut store, instance, "wide-u8", &[]).unwrap(), Some(Val::U8(0xff)));
    assert_eq!(call(&mut store, instance, "wide-s8", &[]).unwrap(), Some(Val::S8(-1)));
    assert_eq!(call(&mut store, instance, "wide-bool", &[]).unwrap(), Some(Val::Bool(true)));
    // Flag bits beyond the flags are ignored.
    assert_eq!(call(&mut store, instance, "flags", &[]).unwrap(), Some(Val::Flags(vec!["x".into(), "y".into()])));
    // The typed path reads the same way, and rejects the same values.
    assert_eq!(instance.get_typed_func::<(), (u8,)>(&mut store, "wide-u8").unwrap().call(&mut store, ()).unwrap(), (0xff,));
    let err = instance.get_typed_func::<(), (char,)>(&mut store, "surrogate").unwrap().call(&mut store, ()).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::InvalidChar), "{err:#}");
}

#[test]
fn a_trap_locks_the_instance_down_but_not_the_store() {
    let (mut store, instance) = setup(&bad_values());
    let err = call(&mut store, instance, "boom", &[]).unwrap_err();
    assert_eq!(trap(&err), Some(Trap::UnreachableCodeReached), "{err:#}");
    for name in ["ok", "boom", "nan"] {
        let params = if name == "ok" { vec![Val::U32(1)] } else { vec![] };
        let err = call(&mut store, instance, name, &params).unwrap_err();
        assert_eq!(trap(&err), Some(Trap::CannotEnterComponent), "{name}: {err:#}");
        assert_eq!(err.to_string(), "wasm trap: cannot enter component instance");
    }
    // Another instance in the same store works.
    let engine = store.engine().clone();
    let component = Component::new(&engine, bad_values()).unwrap();
    let other = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    assert_eq!(call(&mut store, other, "ok", &[Val::U32(1)]).unwrap(), Some(Val::U32(7)));
}

#[test]
fn host_mistakes_are_errors_that_leave_the_instance_usable() {
    let (mut store, instance) = setup(&bad_values());
    let err = call(&mut store, instance, "ok", &[Val::String("x".into())]).unwrap_err();
    assert_eq!(format!("{err:#}"), "`ok` argument `x`: type mismatch: expected u32, found string");
    let err = call(&mut store, instance, "ok", &[]).unwrap_err();
    assert_eq!(format!("{err:#}"), "expected 1 arguments, got 0");
    let func = instance.get_func(&mut store, "ok").unwrap();
    let err = func.call(&mut store, &[Val::U32(1)], &mut []).unwrap_err();
    assert_eq!(format!("{err:#}"), "expected 1 result slots, got 0");
    assert_eq!(call(&mut store, instance, "ok", &[Val::U32(1)]).unwrap(), Some(Val::U32(7)));
    assert!(instance.get_func(&mut store, "missing").is_none());
}

#[test]
fn function_types_are_visible() {
    let (store, instance) = setup(&bad_values());
    let mut store = store;
    let ty = instance.get_func(&mut store, "records").unwrap().ty(&store);
    assert_eq!(ty.params().len(), 0);
    let Some(Type::List(list)) = ty.results().next() else { panic!("a list result") };
    let Type::Record(record) = list.ty() else { panic!("of records") };
    let fields: Vec<_> = record.fields().map(|f| (f.name.to_string(), f.ty)).collect();
    assert_eq!(fields, vec![("name".to_string(), Type::String)]);
    let ty = instance.get_func(&mut store, "ok").unwrap().ty(&store);
    assert_eq!(ty.params().map(|(n, t)| (n.to_string(), t)).collect::<Vec<_>>(), vec![("x".to_string(), Type::U32)]);
    let ok = instance.get_func(&mut store, "ok").unwrap();
    assert_eq!(&*ok.params(&store), [("x".to_string(), Type::U32)]);
    assert_eq!(&*ok.results(&store), [Type::U32]);
}

#[test]
fn imports_are_checked_when_an_instance_is_prepared() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component
          (import "log" (func (param "msg" string)))
          (import "api" (instance (export "get" (func (result u32))) (export "put" (func (param "x" u32))))))"#,
    )
    .unwrap();
    let mut linker: Linker<()> = Linker::new(&engine);
    let err = linker.instantiate_pre(&component).err().unwrap();
    assert_eq!(err.to_string(), "component imports a function `log`, but a matching implementation was not found in the linker");
    linker.root().func_new("log", |_, _, _, _| Ok(())).unwrap();
    linker.instance("api").unwrap().func_new("get", |_, _, _, _| Ok(())).unwrap();
    let err = linker.instantiate_pre(&component).err().unwrap();
    assert_eq!(err.to_string(), "component imports a function `api#put`, but a matching implementation was not found in the linker");
    linker.instance("api").unwrap().instance("put").unwrap();
    let err = linker.instantiate_pre(&component).err().unwrap();
    assert_eq!(err.to_string(), "import `api#put` has the wrong type: expected a function, found an instance");
    let err = linker.root().func_new("log", |_, _, _, _| Ok(())).unwrap_err();
    assert_eq!(err.to_string(), "import `log` is defined more than once");
}

#[test]
fn nested_components_call_each_other() {
    // $C exports string functions in UTF-16; $D, in UTF-8, imports them; the root wires them up.
    let wat = format!(
        r#"(component
          (component $C
            {LIBC}
            (core module $m
              (import "libc" "memory" (memory 1))
              ;; shout(s) returns s with a "!" appended, in UTF-16.
              (func (export "shout") (param $ptr i32) (param $len i32) (result i32)
                (memory.copy (i32.const 2000) (local.get $ptr) (i32.mul (local.get $len) (i32.const 2)))
                (i32.store16 (i32.add (i32.const 2000) (i32.mul (local.get $len) (i32.const 2))) (i32.const 33))
                (i32.store (i32.const 1000) (i32.const 2000))
                (i32.store (i32.const 1004) (i32.add (local.get $len) (i32.const 1)))
                (i32.const 1000)))
            (core instance $i (instantiate $m (with "libc" (instance $libc))))
            (func (export "shout") (param "s" string) (result string)
              (canon lift (core func $i "shout") {OPTIONS} string-encoding=utf16)))
          (component $D
            (import "shout" (func $shout (param "s" string) (result string)))
            {LIBC}
            (core func $shout-lowered (canon lower (func $shout) {OPTIONS}))
            (core module $m
              (import "libc" "memory" (memory 1))
              (import "" "shout" (func $shout (param i32 i32 i32)))
              (func (export "twice") (param $ptr i32) (param $len i32) (result i32)
                (call $shout (local.get $ptr) (local.get $len) (i32.const 1000))
                (call $shout (i32.load (i32.const 1000)) (i32.load (i32.const 1004)) (i32.const 1000))
                (i32.const 1000)))
            (core instance $i (instantiate $m (with "libc" (instance $libc))
                                              (with "" (instance (export "shout" (func $shout-lowered))))))
            (func (export "twice") (param "s" string) (result string)
              (canon lift (core func $i "twice") {OPTIONS})))
          (instance $c (instantiate $C))
          (instance $d (instantiate $D (with "shout" (func $c "shout"))))
          (export "twice" (func $d "twice")))"#
    );
    let (mut store, instance) = setup(&wat);
    let result = call(&mut store, instance, "twice", &[Val::String("héllo 😀".into())]).unwrap();
    assert_eq!(result, Some(Val::String("héllo 😀!!".into())));
}

#[test]
fn exported_instances_have_export_indices() {
    let wat = r#"(component
      (core module $m (func (export "seven") (result i32) (i32.const 7)))
      (core instance $i (instantiate $m))
      (func $seven (result u32) (canon lift (core func $i "seven")))
      (instance $api (export "seven" (func $seven)))
      (export "api" (instance $api)))"#;
    let (mut store, instance) = setup(wat);
    let api = instance.get_export_index(&store, None, "api").unwrap();
    let seven = instance.get_export_index(&store, Some(&api), "seven").unwrap();
    assert!(instance.get_export_index(&store, Some(&api), "eight").is_none());
    let func = instance.get_func(&mut store, &seven).unwrap();
    let mut results = [Val::U32(0)];
    func.call(&mut store, &[], &mut results).unwrap();
    assert_eq!(results[0], Val::U32(7));
    // An instance export is not a function.
    assert!(instance.get_func(&mut store, "api").is_none());
}

/// Strings go into the guest with the `realloc` calls the spec's algorithm makes for a UTF-8 source: one
/// for UTF-8; for UTF-16 an allocation of the worst case, then one shrinking it; for latin1+utf16 one of a
/// byte per UTF-8 byte, then either a shrink (all Latin-1) or a growth to UTF-16 and a shrink.
#[test]
fn strings_are_allocated_as_the_spec_prescribes() {
    for (encoding, text, calls) in [
        ("utf8", "héllo", 1),
        ("utf16", "héllo", 2),
        ("utf16", "hello", 1),
        ("latin1+utf16", "hello", 1),
        ("latin1+utf16", "héllo", 2),
        ("latin1+utf16", "日本", 3),
    ] {
        let wat = format!(
            r#"(component
              {LIBC}
              (core module $m
                (import "libc" "calls" (global $calls (mut i32)))
                (func (export "take") (param i32 i32) (result i32) (global.get $calls)))
              (core instance $i (instantiate $m (with "libc" (instance $libc))))
              (func (export "take") (param "s" string) (result u32)
                (canon lift (core func $i "take") {OPTIONS} string-encoding={encoding})))"#
        );
        let (mut store, instance) = setup(&wat);
        let result = call(&mut store, instance, "take", &[Val::String(text.into())]).unwrap();
        assert_eq!(result, Some(Val::U32(calls)), "{encoding} {text:?}");
    }
}

/// An export that lifts the lowering of an import, with no core module in between, calls the host.
#[test]
fn a_lifted_lowered_import_calls_the_host_directly() {
    let engine = Engine::default();
    let component = Component::new(
        &engine,
        r#"(component
          (import "f" (func $f (param "x" u32) (result u32)))
          (core func $low (canon lower (func $f)))
          (func (export "g") (param "x" u32) (result u32) (canon lift (core func $low))))"#,
    )
    .unwrap();
    let mut linker: Linker<()> = Linker::new(&engine);
    linker.root().func_wrap("f", |_, (x,): (u32,)| Ok((x * 2,))).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let g = instance.get_typed_func::<(u32,), (u32,)>(&mut store, "g").unwrap();
    assert_eq!(g.call(&mut store, (21,)).unwrap(), (42,));
    assert_eq!(call(&mut store, instance, "g", &[Val::U32(5)]).unwrap(), Some(Val::U32(10)));
}
