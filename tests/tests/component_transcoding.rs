//! Strings between two component instances of different string encodings: for each of the nine pairs of
//! `utf8`, `utf16` and `latin1+utf16`, a caller component passes a string to a callee component that echoes
//! it back, so every pair is crossed in both directions (the argument one way, the result the other), with
//! ASCII, Latin-1, other BMP and astral text. A callee giving back an invalid string is a trap.

use tenon::component::{Component, Linker};
use tenon::{Engine, Store};

const ENCODINGS: [(&str, &str); 3] = [("utf8", "utf8"), ("utf16", "utf16"), ("latin1", "latin1+utf16")];

/// A core module with a memory, a bump `realloc` (copying on growth, as the transcoders need), and the
/// functions `body` defines.
fn module(body: &str) -> String {
    format!(
        r#"(core module
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
        (local $ret i32)
        (local.set $ret (i32.and (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
                                 (i32.sub (i32.const 0) (local.get $align))))
        (global.set $next (i32.add (local.get $ret) (local.get $size)))
        (if (i32.gt_u (global.get $next) (i32.mul (memory.size) (i32.const 65536)))
          (then (drop (memory.grow (i32.const 1)))))
        (if (local.get $old)
          (then (memory.copy (local.get $ret) (local.get $old)
            (select (local.get $old_size) (local.get $size) (i32.lt_u (local.get $old_size) (local.get $size))))))
        (local.get $ret))
      {body})"#
    )
}

/// The body of the callee component of encoding `encoding`: `echo` gives back the string it got; `bad` gives back bytes that are
/// not a valid string in its encoding.
fn callee(encoding: &str) -> String {
    // 0xff alone is no UTF-8; as UTF-16 the units 0xfeff 0xd800 end on an unpaired surrogate (tagged as
    // UTF-16 for latin1+utf16).
    let bad_len = match encoding {
        "utf8" => 1u32,
        "utf16" => 2,
        _ => 2 | 1 << 31,
    };
    let core = module(&format!(
        r#"(func (export "echo") (param i32 i32) (result i32)
          (i32.store (i32.const 8) (local.get 0)) (i32.store (i32.const 12) (local.get 1)) (i32.const 8))
        (data (i32.const 64) "\ff\fe\00\d8")
        (func (export "bad") (result i32)
          (i32.store (i32.const 8) (i32.const 64)) (i32.store (i32.const 12) (i32.const {bad_len})) (i32.const 8))"#
    ));
    format!(
        r#"{core}
      (core instance $i (instantiate 0))
      (alias core export $i "memory" (core memory $mem))
      (alias core export $i "realloc" (core func $realloc))
      (func (export "echo") (param "s" string) (result string)
        (canon lift (core func $i "echo") (memory $mem) (realloc $realloc) string-encoding={encoding}))
      (func (export "bad") (result string)
        (canon lift (core func $i "bad") (memory $mem) (realloc $realloc) string-encoding={encoding}))"#
    )
}

/// The body of the caller component of encoding `encoding`: `run` passes its string to the imported `echo` and returns what came
/// back; `bad` returns what the imported `bad` gives.
fn caller(encoding: &str) -> String {
    let libc = module("");
    format!(
        r#"(import "echo" (func $echo (param "s" string) (result string)))
      (import "bad" (func $bad (result string)))
      {libc}
      (core instance $libc (instantiate 0))
      (alias core export $libc "memory" (core memory $mem))
      (alias core export $libc "realloc" (core func $realloc))
      (core func $echo (canon lower (func $echo) (memory $mem) (realloc $realloc) string-encoding={encoding}))
      (core func $bad (canon lower (func $bad) (memory $mem) (realloc $realloc) string-encoding={encoding}))
      (core module $main
        (import "libc" "memory" (memory 1))
        (import "" "echo" (func $echo (param i32 i32 i32)))
        (import "" "bad" (func $bad (param i32)))
        (func (export "run") (param i32 i32) (result i32) (call $echo (local.get 0) (local.get 1) (i32.const 16)) (i32.const 16))
        (func (export "bad") (result i32) (call $bad (i32.const 16)) (i32.const 16)))
      (core instance $i (instantiate $main
        (with "libc" (instance $libc))
        (with "" (instance (export "echo" (func $echo)) (export "bad" (func $bad))))))
      (func (export "run") (param "s" string) (result string)
        (canon lift (core func $i "run") (memory $mem) (realloc $realloc) string-encoding={encoding}))
      (func (export "bad") (result string)
        (canon lift (core func $i "bad") (memory $mem) (realloc $realloc) string-encoding={encoding}))"#
    )
}

/// One component holding a caller and a callee for every pair: `run-<caller>-<callee>` and `bad-..`.
fn composed() -> String {
    let mut wat = String::from("(component\n");
    for (name, encoding) in ENCODINGS {
        wat += &format!("(component ${name}-callee {})\n(component ${name}-caller {})\n", callee(encoding), caller(encoding));
    }
    for (from, _) in ENCODINGS {
        for (to, _) in ENCODINGS {
            wat += &format!(
                "(instance ${to}-for-{from} (instantiate ${to}-callee))
                 (instance ${from}-to-{to} (instantiate ${from}-caller
                   (with \"echo\" (func ${to}-for-{from} \"echo\")) (with \"bad\" (func ${to}-for-{from} \"bad\"))))
                 (export \"run-{from}-{to}\" (func ${from}-to-{to} \"run\"))
                 (export \"bad-{from}-{to}\" (func ${from}-to-{to} \"bad\"))\n"
            );
        }
    }
    wat + ")"
}

#[test]
fn every_pair_of_string_encodings_both_ways() {
    let engine = Engine::default();
    let component = Component::new(&engine, composed()).unwrap_or_else(|e| panic!("{e:#}"));
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
    let texts = ["", "hello", "café au lait", "ÿ", "日本語のテキスト", "a𝄞b", "mixed: é 日 𝄞", &"long ".repeat(500)];
    let mut crossed = 0;
    for (from, _) in ENCODINGS {
        for (to, _) in ENCODINGS {
            let run = instance.get_typed_func::<(&str,), (String,)>(&mut store, &format!("run-{from}-{to}")).unwrap();
            for text in texts {
                let (back,) = run.call(&mut store, (text,)).unwrap_or_else(|e| panic!("{from} -> {to}, {text:?}: {e:#}"));
                assert_eq!(back, text, "{from} -> {to} -> {from}");
                crossed += 1;
            }
        }
    }
    assert_eq!(crossed, 9 * texts.len());
}

/// Invalid strings from the callee are errors that lock the caller down, whatever the caller's encoding: bytes not UTF-8 for `utf8`,
/// an unpaired surrogate for `utf16` and for `latin1+utf16` with its UTF-16 tag.
#[test]
fn invalid_strings_between_components_trap() {
    let engine = Engine::default();
    let component = Component::new(&engine, composed()).unwrap();
    for (from, _) in ENCODINGS {
        for (to, _) in ENCODINGS {
            let mut store = Store::new(&engine, ());
            let instance = Linker::new(&engine).instantiate(&mut store, &component).unwrap();
            let bad = instance.get_typed_func::<(), (String,)>(&mut store, &format!("bad-{from}-{to}")).unwrap();
            let err = bad.call(&mut store, ()).unwrap_err();
            let message = format!("{err:#}");
            let expected = if to == "utf8" { "invalid utf-8" } else { "invalid utf-16: unpaired surrogate" };
            assert!(message.contains(expected), "{from} <- {to}: {message}");
            // The callee is named by the name its instance exports it by.
            assert!(message.contains("`bad` result"), "{from} <- {to}: {message}");
            // The call trapped: the instance it entered is locked down.
            let run = instance.get_typed_func::<(&str,), (String,)>(&mut store, &format!("run-{from}-{to}")).unwrap();
            let err = run.call(&mut store, ("x",)).unwrap_err();
            assert!(format!("{err:#}").contains("cannot enter component instance"), "{err:#}");
        }
    }
}
