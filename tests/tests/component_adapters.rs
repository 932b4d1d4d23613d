//! Fused adapters: calls from one component instance into another, compiled as core wasm. Two instances of
//! one component calling each other, both sides on one memory, values the adapter checks (discriminants,
//! `char`s, pointers, bounds) and narrows (`bool`, `u8`, `s8`), `may_leave` while the callee's `realloc`
//! runs, re-entrance, and handles lent and moved across.

use tenon::component::{Component, Linker};
use tenon::{Engine, Store};

/// A core module with a memory and a bump `realloc`, then `body`.
fn libc(body: &str) -> String {
    format!(
        r#"(core module
      {body}
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ret i32)
        (local.set $ret (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                                 (i32.sub (i32.const 0) (local.get 2))))
        (global.set $next (i32.add (local.get $ret) (local.get 3)))
        (local.get $ret)))"#
    )
}

fn instantiate(wat: &str) -> (Store<()>, tenon::component::Instance) {
    let engine = Engine::default();
    let component = Component::new(&engine, wat).unwrap_or_else(|e| panic!("{e:#}"));
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.root().func_wrap("base", |_, (s,): (String,)| Ok((format!("<{s}>"),))).unwrap();
    let instance = linker.instantiate(&mut store, &component).unwrap_or_else(|e| panic!("{e:#}"));
    (store, instance)
}

#[test]
fn two_instances_of_one_component_call_each_other() {
    // `echo` of component $C passes its string to its import `next`: the second instance's import is the
    // first instance's `echo`, whose import is the host's `base`.
    let libc = libc("");
    let wat = format!(
        r#"(component
      (import "base" (func $base (param "s" string) (result string)))
      (component $C
        (import "next" (func $next (param "s" string) (result string)))
        {libc}
        (core instance $libc (instantiate 0))
        (core func $next (canon lower (func $next) (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
        (core module $main
          (import "libc" "memory" (memory 1))
          (import "" "next" (func $next (param i32 i32 i32)))
          (func (export "echo") (param i32 i32) (result i32) (call $next (local.get 0) (local.get 1) (i32.const 16)) (i32.const 16)))
        (core instance $i (instantiate $main (with "libc" (instance $libc)) (with "" (instance (export "next" (func $next))))))
        (func (export "echo") (param "s" string) (result string)
          (canon lift (core func $i "echo") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc")))))
      (instance $c1 (instantiate $C (with "next" (func $base))))
      (instance $c2 (instantiate $C (with "next" (func $c1 "echo"))))
      (export "echo" (func $c2 "echo")))"#
    );
    let (mut store, instance) = instantiate(&wat);
    let echo = instance.get_typed_func::<(&str,), (String,)>(&mut store, "echo").unwrap();
    for text in ["", "hi", "日本語 𝄞", &"long ".repeat(300)] {
        assert_eq!(echo.call(&mut store, (text,)).unwrap().0, format!("<{text}>"));
    }
}

#[test]
fn both_sides_on_one_memory() {
    // The root lifts `echo` from one core instance and lowers it for another using the same memory; that
    // instance's start function calls it and keeps the result, and its `run` calls it too.
    let provider = libc(
        r#"(func (export "echo") (param i32 i32) (result i32)
          (i32.store (i32.const 8) (local.get 0)) (i32.store (i32.const 12) (local.get 1)) (i32.const 8))"#,
    );
    let wat = format!(
        r#"(component
      {provider}
      (core instance $p (instantiate 0))
      (func $echo (param "s" string) (result string)
        (canon lift (core func $p "echo") (memory (core memory $p "memory")) (realloc (core func $p "realloc"))))
      (core func $echo (canon lower (func $echo) (memory (core memory $p "memory")) (realloc (core func $p "realloc"))))
      (core module $user
        (import "p" "memory" (memory 1))
        (import "" "echo" (func $echo (param i32 i32 i32)))
        (data (i32.const 100) "shared")
        (func $start (call $echo (i32.const 100) (i32.const 6) (i32.const 200)))
        (start $start)
        (func (export "result") (result i32) (i32.const 200))
        (func (export "run") (result i32) (call $echo (i32.const 100) (i32.const 3) (i32.const 300)) (i32.const 300)))
      (core instance $u (instantiate $user (with "p" (instance $p)) (with "" (instance (export "echo" (func $echo))))))
      (func (export "result") (result string) (canon lift (core func $u "result") (memory (core memory $p "memory"))))
      (func (export "run") (result string) (canon lift (core func $u "run") (memory (core memory $p "memory")))))"#
    );
    let (mut store, instance) = instantiate(&wat);
    let result = instance.get_typed_func::<(), (String,)>(&mut store, "result").unwrap();
    assert_eq!(result.call(&mut store, ()).unwrap().0, "shared");
    // While the root runs, it calls its own `echo` again: the spec's entering set is empty (the caller is
    // inside already), so this is no re-entrance.
    let run = instance.get_typed_func::<(), (String,)>(&mut store, "run").unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap().0, "sha");
}

/// A callee giving back bad values, and a caller whose exports call it; each export returns a number
/// from what came back.
fn checked_values() -> String {
    let callee = libc(
        r#"(data (i32.const 32) "\05")
        (func (export "bad-variant") (result i32) (i32.const 32))
        (func (export "bad-char") (result i32) (i32.const 0xd800))
        (func (export "bad-list") (result i32) (i32.store (i32.const 40) (i32.const 2)) (i32.store (i32.const 44) (i32.const 1)) (i32.const 40))
        (func (export "far-list") (result i32) (i32.store (i32.const 40) (i32.const 0xfff0)) (i32.store (i32.const 44) (i32.const 0x100)) (i32.const 40))
        (func (export "pack") (param i32 i32 i32) (result i64)
          (i64.or (i64.or (i64.extend_i32_u (local.get 0)) (i64.shl (i64.extend_i32_u (local.get 1)) (i64.const 8)))
                  (i64.shl (i64.extend_i32_u (local.get 2)) (i64.const 32))))"#,
    );
    let caller = libc(
        r#"(import "" "bad-variant" (func $variant (param i32)))
        (import "" "bad-char" (func $char (result i32)))
        (import "" "bad-list" (func $list (param i32)))
        (import "" "far-list" (func $far (param i32)))
        (import "" "pack" (func $pack (param i32 i32 i32) (result i64)))
        (func (export "variant") (result i32) (call $variant (i32.const 16)) (i32.load8_u (i32.const 16)))
        (func (export "char") (result i32) (call $char))
        (func (export "list") (result i32) (call $list (i32.const 16)) (i32.load (i32.const 20)))
        (func (export "far") (result i32) (call $far (i32.const 16)) (i32.load (i32.const 20)))
        (func (export "pack") (result i64) (call $pack (i32.const 7) (i32.const 0x1ff) (i32.const 0x180)))"#,
    );
    format!(
        r#"(component
      (component $callee
        {callee}
        (core instance $i (instantiate 0))
        (func (export "bad-variant") (result (option u32)) (canon lift (core func $i "bad-variant") (memory (core memory $i "memory"))))
        (func (export "bad-char") (result char) (canon lift (core func $i "bad-char")))
        (func (export "bad-list") (result (list u32)) (canon lift (core func $i "bad-list") (memory (core memory $i "memory"))))
        (func (export "far-list") (result (list u8)) (canon lift (core func $i "far-list") (memory (core memory $i "memory"))))
        (func (export "pack") (param "b" bool) (param "x" u8) (param "y" s8) (result u64) (canon lift (core func $i "pack"))))
      (instance $callee (instantiate $callee))
      (core module $libc (memory (export "memory") 1)
        (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 4096)))
      (core instance $libc (instantiate $libc))
      (core func $variant (canon lower (func $callee "bad-variant") (memory (core memory $libc "memory"))))
      (core func $char (canon lower (func $callee "bad-char")))
      (core func $list (canon lower (func $callee "bad-list") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
      (core func $far (canon lower (func $callee "far-list") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
      (core func $pack (canon lower (func $callee "pack")))
      {caller}
      (core instance $c (instantiate 1 (with "" (instance
        (export "bad-variant" (func $variant)) (export "bad-char" (func $char)) (export "bad-list" (func $list))
        (export "far-list" (func $far)) (export "pack" (func $pack))))))
      (func (export "variant") (result u32) (canon lift (core func $c "variant")))
      (func (export "char") (result u32) (canon lift (core func $c "char")))
      (func (export "list") (result u32) (canon lift (core func $c "list")))
      (func (export "far") (result u32) (canon lift (core func $c "far")))
      (func (export "pack") (result u64) (canon lift (core func $c "pack"))))"#
    )
}

#[test]
fn bad_values_from_the_callee_trap_and_lock_the_instance_down() {
    for (export, expected) in [
        ("variant", "invalid variant discriminant"),
        ("char", "invalid `char` bit pattern"),
        ("list", "unaligned pointer"),
        ("far", "list content out-of-bounds"),
    ] {
        let (mut store, instance) = instantiate(&checked_values());
        let func = instance.get_typed_func::<(), (u32,)>(&mut store, export).unwrap();
        let err = func.call(&mut store, ()).unwrap_err();
        assert!(format!("{err:#}").contains(expected), "{export}: {err:#}");
        assert!(err.downcast_ref::<tenon::Trap>().is_some(), "{export}: {err:#} is a trap");
        let pack = instance.get_typed_func::<(), (u64,)>(&mut store, "pack").unwrap();
        let err = pack.call(&mut store, ()).unwrap_err();
        assert!(format!("{err:#}").contains("cannot enter component instance"), "{export}: {err:#}");
    }
}

#[test]
fn narrow_values_arrive_narrowed() {
    // The caller passes 7, 0x1ff and 0x180 for a bool, a u8 and an s8: the callee sees 1, 0xff and -128.
    let (mut store, instance) = instantiate(&checked_values());
    let pack = instance.get_typed_func::<(), (u64,)>(&mut store, "pack").unwrap();
    assert_eq!(pack.call(&mut store, ()).unwrap().0, 1 | 0xff << 8 | 0xffff_ff80 << 32);
}

/// A root that calls a nested callee: `take` (whose `realloc` calls the callee's import `ping`, which it may
/// not), `back` (which calls the root's `again` while the root is running: a child calling its parent,
/// which the spec allows), and `twice` (the same, but `again` then calls the callee's `poke`: entering the
/// running child again, which traps).
fn flags() -> String {
    let callee = libc(
        r#"(import "" "ping" (func $ping))
        (import "" "again" (func $again))
        (func (export "bad-realloc") (param i32 i32 i32 i32) (result i32) (call $ping) (i32.const 64))
        (func (export "take") (param i32 i32))
        (func (export "back") (call $again))
        (func (export "poke"))"#,
    );
    let root = libc(
        r#"(import "" "take" (func $take (param i32 i32)))
        (import "" "back" (func $back))
        (import "" "set" (func $set (param i32)))
        (data (i32.const 100) "text")
        (func (export "take") (call $take (i32.const 100) (i32.const 4)))
        (func (export "back") (call $set (i32.const 0)) (call $back))
        (func (export "twice") (call $set (i32.const 1)) (call $back))"#,
    );
    format!(
        r#"(component
      (import "ping" (func $ping))
      (core module $again
        (import "" "poke" (table 1 funcref))
        (global $poke (mut i32) (i32.const 0))
        (type $f (func))
        (func (export "set") (param i32) (global.set $poke (local.get 0)))
        (func (export "again") (if (global.get $poke) (then (call_indirect (type $f) (i32.const 0))))))
      (core module $table (table (export "t") 1 funcref))
      (core instance $table (instantiate $table))
      (core instance $again (instantiate $again (with "" (instance (export "poke" (table $table "t"))))))
      (func $again (canon lift (core func $again "again")))
      (component $callee
        (import "ping" (func $ping))
        (import "again" (func $again))
        (core func $ping (canon lower (func $ping)))
        (core func $again (canon lower (func $again)))
        {callee}
        (core instance $i (instantiate 0 (with "" (instance (export "ping" (func $ping)) (export "again" (func $again))))))
        (func (export "take") (param "s" string)
          (canon lift (core func $i "take") (memory (core memory $i "memory")) (realloc (core func $i "bad-realloc"))))
        (func (export "back") (canon lift (core func $i "back")))
        (func (export "poke") (canon lift (core func $i "poke"))))
      (instance $callee (instantiate $callee (with "ping" (func $ping)) (with "again" (func $again))))
      (core func $poke (canon lower (func $callee "poke")))
      (core module $fill (import "" "t" (table 1 funcref)) (import "" "poke" (func $poke)) (elem (i32.const 0) func $poke))
      (core instance (instantiate $fill (with "" (instance (export "t" (table $table "t")) (export "poke" (func $poke))))))
      {root}
      (core module $libc (memory (export "memory") 1))
      (core instance $libc (instantiate $libc))
      (core func $take (canon lower (func $callee "take") (memory (core memory $libc "memory"))))
      (core func $back (canon lower (func $callee "back")))
      (core instance $r (instantiate 3 (with "" (instance (export "take" (func $take)) (export "back" (func $back))
        (export "set" (func $again "set"))))))
      (func (export "take") (canon lift (core func $r "take")))
      (func (export "back") (canon lift (core func $r "back")))
      (func (export "twice") (canon lift (core func $r "twice"))))"#
    )
}

#[test]
fn the_callee_may_not_leave_from_realloc_nor_reenter_a_running_instance() {
    let engine = Engine::default();
    let component = Component::new(&engine, flags()).unwrap_or_else(|e| panic!("{e:#}"));
    let mut linker = Linker::new(&engine);
    linker.root().func_wrap("ping", |_, (): ()| Ok(())).unwrap();
    for (export, expected) in
        [("take", Some("cannot leave component instance")), ("back", None), ("twice", Some("cannot enter component instance"))]
    {
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let func = instance.get_typed_func::<(), ()>(&mut store, export).unwrap();
        match (func.call(&mut store, ()), expected) {
            (Ok(()), None) => {}
            (Err(err), Some(expected)) => assert!(format!("{err:#}").contains(expected), "{export}: {err:#}"),
            (result, _) => panic!("{export}: {result:?}"),
        }
    }
}

/// A root that makes handles of its resource type and passes them to a nested callee: `both` lends and
/// moves one handle in one call; `keep` returns without dropping a borrow it got; `pass` moves one and
/// gets it back.
fn handles() -> String {
    let root = libc(
        r#"(import "" "new" (func $new (param i32) (result i32)))
        (import "" "rep" (func $rep (param i32) (result i32)))
        (import "" "both" (func $both (param i32 i32)))
        (import "" "keep" (func $keep (param i32)))
        (import "" "pass" (func $pass (param i32) (result i32)))
        (func (export "both") (local $h i32) (local.set $h (call $new (i32.const 7))) (call $both (local.get $h) (local.get $h)))
        (func (export "keep") (call $keep (call $new (i32.const 7))))
        (func (export "pass") (result i32) (call $rep (call $pass (call $new (i32.const 42)))))"#,
    );
    let callee = r#"(core module
          (import "" "drop" (func $drop (param i32)))
          (func (export "both") (param i32 i32) (call $drop (local.get 0)) (call $drop (local.get 1)))
          (func (export "keep") (param i32))
          (func (export "pass") (param i32) (result i32) (local.get 0)))"#;
    format!(
        r#"(component
      (type $r (resource (rep i32)))
      (component $callee
        (import "r" (type $r (sub resource)))
        (core func $drop (canon resource.drop $r))
        {callee}
        (core instance $i (instantiate 0 (with "" (instance (export "drop" (func $drop))))))
        (func (export "both") (param "a" (borrow $r)) (param "b" (own $r)) (canon lift (core func $i "both")))
        (func (export "keep") (param "a" (borrow $r)) (canon lift (core func $i "keep")))
        (func (export "pass") (param "a" (own $r)) (result (own $r)) (canon lift (core func $i "pass"))))
      (instance $callee (instantiate $callee (with "r" (type $r))))
      (core func $new (canon resource.new $r))
      (core func $rep (canon resource.rep $r))
      (core func $both (canon lower (func $callee "both")))
      (core func $keep (canon lower (func $callee "keep")))
      (core func $pass (canon lower (func $callee "pass")))
      {root}
      (core instance $c (instantiate 0 (with "" (instance (export "new" (func $new)) (export "rep" (func $rep))
        (export "both" (func $both)) (export "keep" (func $keep)) (export "pass" (func $pass))))))
      (func (export "both") (canon lift (core func $c "both")))
      (func (export "keep") (canon lift (core func $c "keep")))
      (func (export "pass") (result u32) (canon lift (core func $c "pass"))))"#
    )
}

#[test]
fn handles_cross_the_adapter_and_misuse_traps() {
    let (mut store, instance) = instantiate(&handles());
    let pass = instance.get_typed_func::<(), (u32,)>(&mut store, "pass").unwrap();
    assert_eq!(pass.call(&mut store, ()).unwrap().0, 42);
    assert_eq!(pass.call(&mut store, ()).unwrap().0, 42);
    for (export, expected) in
        [("both", "cannot remove owned resource while borrowed"), ("keep", "borrowed handle(s) still remain")]
    {
        let (mut store, instance) = instantiate(&handles());
        let func = instance.get_typed_func::<(), ()>(&mut store, export).unwrap();
        let err = func.call(&mut store, ()).unwrap_err();
        assert!(format!("{err:#}").contains(expected), "{export}: {err:#}");
        let pass = instance.get_typed_func::<(), (u32,)>(&mut store, "pass").unwrap();
        let err = pass.call(&mut store, ()).unwrap_err();
        assert!(format!("{err:#}").contains("cannot enter component instance"), "{export}: {err:#}");
    }
}

/// A callee that gives back its arguments and a caller that forwards its own arguments to it: a variant
/// whose payloads share joined flat types (`f32` and `s8` carried in an `i64`), and a list of strings
/// (copied element by element), both ways through the adapter.
#[test]
fn joined_payloads_and_lists_of_strings_round_trip() {
    use tenon::component::Val;
    let callee = libc(
        r#"(func (export "v") (param i32 i64) (result i32)
          (i32.store8 (i32.const 256) (local.get 0)) (i64.store (i32.const 264) (local.get 1)) (i32.const 256))
        (func (export "l") (param i32 i32) (result i32)
          (i32.store (i32.const 256) (local.get 0)) (i32.store (i32.const 260) (local.get 1)) (i32.const 256))"#,
    );
    let caller = libc(
        r#"(import "" "v" (func $v (param i32 i64 i32)))
        (import "" "l" (func $l (param i32 i32 i32)))
        (func (export "v") (param i32 i64) (result i32) (call $v (local.get 0) (local.get 1) (i32.const 512)) (i32.const 512))
        (func (export "l") (param i32 i32) (result i32) (call $l (local.get 0) (local.get 1) (i32.const 512)) (i32.const 512))"#,
    );
    let wat = format!(
        r#"(component
      (type $v' (variant (case "a" f32) (case "b" u64) (case "c" s8) (case "d")))
      (export $v "v-ty" (type $v'))
      (component $callee
        (type $v' (variant (case "a" f32) (case "b" u64) (case "c" s8) (case "d")))
        (export $v "v-ty" (type $v'))
        {callee}
        (core instance $i (instantiate 0))
        (func (export "v") (param "x" $v) (result $v) (canon lift (core func $i "v") (memory (core memory $i "memory"))))
        (func (export "l") (param "x" (list string)) (result (list string))
          (canon lift (core func $i "l") (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))
      (instance $callee (instantiate $callee))
      (core module $libc (memory (export "memory") 1)
        (global $next (mut i32) (i32.const 4096))
        (func (export "realloc") (param i32 i32 i32 i32) (result i32)
          (global.get $next) (global.set $next (i32.and (i32.add (global.get $next) (i32.add (local.get 3) (i32.const 7))) (i32.const -8)))))
      (core instance $libc (instantiate $libc))
      (core func $v (canon lower (func $callee "v") (memory (core memory $libc "memory"))))
      (core func $l (canon lower (func $callee "l") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
      {caller}
      (core instance $c (instantiate 1 (with "" (instance (export "v" (func $v)) (export "l" (func $l))))))
      (func (export "v") (param "x" $v) (result $v) (canon lift (core func $c "v") (memory (core memory $libc "memory"))))
      (func (export "l") (param "x" (list string)) (result (list string))
        (canon lift (core func $c "l") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc")))))"#
    );
    let (mut store, instance) = instantiate(&wat);
    let v = instance.get_func(&mut store, "v").unwrap();
    for value in [
        Val::Variant("a".into(), Some(Box::new(Val::Float32(-1.5)))),
        Val::Variant("b".into(), Some(Box::new(Val::U64(u64::MAX - 1)))),
        Val::Variant("c".into(), Some(Box::new(Val::S8(-3)))),
        Val::Variant("d".into(), None),
    ] {
        let mut out = [Val::Bool(false)];
        v.call(&mut store, std::slice::from_ref(&value), &mut out).unwrap_or_else(|e| panic!("{value:?}: {e:#}"));
        assert_eq!(out[0], value);
    }
    let l = instance.get_typed_func::<(Vec<String>,), (Vec<String>,)>(&mut store, "l").unwrap();
    let list: Vec<String> = ["", "a", "bb", "日本語", "𝄞"].iter().map(|s| s.to_string()).chain((0..100).map(|i| i.to_string())).collect();
    assert_eq!(l.call(&mut store, (list.clone(),)).unwrap().0, list);
}

/// A root lent a host handle `b` (and given `o`) calls its child, which calls the root back lending it a
/// handle again: in that inner call the root drops both the inner call's borrow and the outer call's `b`.
/// Each call counts its own borrows, so both calls end with none left.
#[test]
fn a_borrow_of_an_outer_call_dropped_in_an_inner_one_counts_for_the_outer() {
    use tenon::component::{Resource, ResourceType};
    let wat = r#"(component
      (import "r" (type $r (sub resource)))
      (core func $drop (canon resource.drop $r))
      (core module $A
        (import "" "drop" (func $drop (param i32)))
        (global (export "h") (mut i32) (i32.const 0))
        (func (export "inner") (param i32) (call $drop (global.get 0)) (call $drop (local.get 0))))
      (core instance $a (instantiate $A (with "" (instance (export "drop" (func $drop))))))
      (func $inner (param "x" (borrow $r)) (canon lift (core func $a "inner")))
      (component $C
        (import "r" (type $r (sub resource)))
        (import "inner" (func $inner (param "x" (borrow $r))))
        (core func $inner (canon lower (func $inner)))
        (core func $drop (canon resource.drop $r))
        (core module $M
          (import "" "inner" (func $inner (param i32)))
          (import "" "drop" (func $drop (param i32)))
          (func (export "ping") (param i32) (call $inner (local.get 0)) (call $drop (local.get 0))))
        (core instance $m (instantiate $M (with "" (instance (export "inner" (func $inner)) (export "drop" (func $drop))))))
        (func (export "ping") (param "o" (own $r)) (canon lift (core func $m "ping"))))
      (instance $c (instantiate $C (with "r" (type $r)) (with "inner" (func $inner))))
      (core func $ping (canon lower (func $c "ping")))
      (core module $B
        (import "" "ping" (func $ping (param i32)))
        (import "" "h" (global $h (mut i32)))
        (func (export "outer") (param i32 i32) (global.set $h (local.get 0)) (call $ping (local.get 1))))
      (core instance $b (instantiate $B (with "" (instance (export "ping" (func $ping)) (export "h" (global $a "h"))))))
      (func (export "outer") (param "b" (borrow $r)) (param "o" (own $r)) (canon lift (core func $b "outer"))))"#;
    let engine = Engine::default();
    let component = Component::new(&engine, wat).unwrap_or_else(|e| panic!("{e:#}"));
    let mut linker = Linker::<Vec<u32>>::new(&engine);
    linker.root().resource("r", ResourceType::host::<u32>(), |mut store, rep| {
        store.data_mut().push(rep);
        Ok(())
    }).unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &component).unwrap_or_else(|e| panic!("{e:#}"));
    let outer = instance.get_typed_func::<(Resource<u32>, Resource<u32>), ()>(&mut store, "outer").unwrap();
    outer.call(&mut store, (Resource::new_borrow(1), Resource::new_own(2))).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(store.data(), &[2], "the child dropped the owned handle it was given");
    // And again: nothing was left counted.
    outer.call(&mut store, (Resource::new_borrow(3), Resource::new_own(4))).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(store.data(), &[2, 4]);
}

/// A root lends its owned handle to its child, which calls the root back; the root then drops the handle, or
/// moves it to a host function or to another child through an adapter: each traps while the handle is lent
/// (the spec's `num_lends`).
#[test]
fn a_handle_lent_to_a_running_call_cannot_be_dropped_or_moved() {
    use tenon::component::{Resource, ResourceType};
    for (action, expected) in [
        ("drop", "it is lent to a call that is still running"),
        ("sink", "cannot remove owned resource while borrowed"),
        ("give", "cannot remove owned resource while borrowed"),
    ] {
        let wat = format!(
            r#"(component
          (import "r" (type $r (sub resource)))
          (import "sink" (func $sink (param "o" (own $r))))
          (component $D
            (import "r" (type $r (sub resource)))
            (core func $drop (canon resource.drop $r))
            (core module $N (import "" "drop" (func $drop (param i32))) (func (export "take") (param i32) (call $drop (local.get 0))))
            (core instance $n (instantiate $N (with "" (instance (export "drop" (func $drop))))))
            (func (export "take") (param "o" (own $r)) (canon lift (core func $n "take"))))
          (instance $d (instantiate $D (with "r" (type $r))))
          (core func $sink (canon lower (func $sink)))
          (core func $give (canon lower (func $d "take")))
          (core func $drop (canon resource.drop $r))
          (core module $A
            (import "" "move" (func $move (param i32)))
            (global (export "h") (mut i32) (i32.const 0))
            (func (export "inner") (call $move (global.get 0))))
          (core instance $a (instantiate $A (with "" (instance (export "move" (func ${action}))))))
          (func $inner (canon lift (core func $a "inner")))
          (component $C
            (import "r" (type $r (sub resource)))
            (import "inner" (func $inner))
            (core func $inner (canon lower (func $inner)))
            (core func $drop (canon resource.drop $r))
            (core module $M
              (import "" "inner" (func $inner))
              (import "" "drop" (func $drop (param i32)))
              (func (export "look") (param i32) (call $inner) (call $drop (local.get 0))))
            (core instance $m (instantiate $M (with "" (instance (export "inner" (func $inner)) (export "drop" (func $drop))))))
            (func (export "look") (param "b" (borrow $r)) (canon lift (core func $m "look"))))
          (instance $c (instantiate $C (with "r" (type $r)) (with "inner" (func $inner))))
          (core func $look (canon lower (func $c "look")))
          (core module $B
            (import "" "look" (func $look (param i32)))
            (import "" "h" (global $h (mut i32)))
            (func (export "outer") (param i32) (global.set $h (local.get 0)) (call $look (local.get 0))))
          (core instance $b (instantiate $B (with "" (instance (export "look" (func $look)) (export "h" (global $a "h"))))))
          (func (export "outer") (param "o" (own $r)) (canon lift (core func $b "outer"))))"#
        );
        let engine = Engine::default();
        let component = Component::new(&engine, wat).unwrap_or_else(|e| panic!("{e:#}"));
        let mut linker = Linker::<()>::new(&engine);
        linker.root().resource("r", ResourceType::host::<u32>(), |_, _| Ok(())).unwrap();
        linker.root().func_wrap("sink", |_, (_o,): (Resource<u32>,)| Ok(())).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let outer = instance.get_typed_func::<(Resource<u32>,), ()>(&mut store, "outer").unwrap();
        let err = outer.call(&mut store, (Resource::new_own(1),)).unwrap_err();
        assert!(format!("{err:#}").contains(expected), "{action}: {err:#}");
    }
}

/// Fixed-length lists through an adapter: 100,000 bytes in memory (copied, not unrolled), and three strings
/// flat one way and in memory back.
#[test]
fn fixed_length_lists_cross_the_adapter() {
    // Memories of 8 pages, allocators bumping from 400,000.
    let callee = r#"(core module
          (memory (export "memory") 8)
          (global $next (mut i32) (i32.const 400000))
          (func (export "realloc") (param i32 i32 i32 i32) (result i32)
            (global.get $next) (global.set $next (i32.add (global.get $next) (local.get 3))))
          (func (export "big") (param i32) (result i32) (local.get 0))
          (func (export "three") (param i32 i32 i32 i32 i32 i32) (result i32)
            (i32.store (i32.const 256) (local.get 0)) (i32.store (i32.const 260) (local.get 1))
            (i32.store (i32.const 264) (local.get 2)) (i32.store (i32.const 268) (local.get 3))
            (i32.store (i32.const 272) (local.get 4)) (i32.store (i32.const 276) (local.get 5))
            (i32.const 256)))"#;
    let caller = r#"(core module
          (import "libc" "memory" (memory 8))
          (import "" "big" (func $big (param i32 i32)))
          (import "" "three" (func $three (param i32 i32 i32 i32 i32 i32 i32)))
          (data (i32.const 64) "onetwothree")
          (func (export "big") (result i32)
            (local $i i32)
            (loop $l
              (i32.store8 offset=4096 (local.get $i) (local.get $i))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 100000))))
            (call $big (i32.const 4096) (i32.const 200000))
            (i32.add (i32.load8_u (i32.const 299999)) (i32.load8_u (i32.const 200001))))
          (func (export "three") (result i32)
            (call $three (i32.const 64) (i32.const 3) (i32.const 67) (i32.const 3) (i32.const 70) (i32.const 5) (i32.const 512))
            (i32.add (i32.load (i32.const 516)) (i32.add (i32.load (i32.const 524)) (i32.load (i32.const 532))))))"#;
    let wat = format!(
        r#"(component
      (component $callee
        {callee}
        (core instance $i (instantiate 0))
        (func (export "big") (param "x" (list u8 100000)) (result (list u8 100000))
          (canon lift (core func $i "big") (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
        (func (export "three") (param "x" (list string 3)) (result (list string 3))
          (canon lift (core func $i "three") (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))
      (instance $callee (instantiate $callee))
      (core module $libc (memory (export "memory") 8)
        (global $next (mut i32) (i32.const 400000))
        (func (export "realloc") (param i32 i32 i32 i32) (result i32)
          (global.get $next) (global.set $next (i32.add (global.get $next) (local.get 3)))))
      (core instance $libc (instantiate $libc))
      (core func $big (canon lower (func $callee "big") (memory (core memory $libc "memory"))))
      (core func $three (canon lower (func $callee "three") (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
      {caller}
      (core instance $c (instantiate 1 (with "libc" (instance $libc)) (with "" (instance (export "big" (func $big)) (export "three" (func $three))))))
      (func (export "big") (result u32) (canon lift (core func $c "big")))
      (func (export "three") (result u32) (canon lift (core func $c "three"))))"#
    );
    let mut config = tenon::Config::new();
    config.wasm_component_model_fixed_length_lists(true);
    let engine = Engine::new(&config).unwrap();
    let component = Component::new(&engine, &wat).unwrap_or_else(|e| panic!("{e:#}"));
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let big = instance.get_typed_func::<(), (u32,)>(&mut store, "big").unwrap();
    assert_eq!(big.call(&mut store, ()).unwrap().0, (99_999 % 256) + 1);
    let three = instance.get_typed_func::<(), (u32,)>(&mut store, "three").unwrap();
    assert_eq!(three.call(&mut store, ()).unwrap().0, 3 + 3 + 5);
}
