//! `tenon run` on components: WAVE calls in, WAVE results out, interface exports, and clear refusals (missing
//! imports, no `--invoke`, bad arguments, traps).

use std::process::{Command, Output};

/// A component exporting functions over strings, lists, records, variants, enums, options, results, flags
/// and tuples, at the root and in the interface `tenon:demo/math`.
const COMPONENT: &str = r#"(component
  (core module $m
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      (local.set $ptr (global.get $next))
      (global.set $next (i32.add (global.get $next) (local.get 3)))
      (local.get $ptr))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "same") (param i32) (result i32) (local.get 0))
    ;; Echoes a (pointer, length) pair through a return pointer.
    (func (export "echo-pair") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.const 0))
    ;; A record { x: s32, y: s32 } back with its fields swapped, through a return pointer.
    (func (export "swap") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 1))
      (i32.store (i32.const 4) (local.get 0))
      (i32.const 0))
    (func (export "trap") unreachable))
  (core instance $i (instantiate $m))
  (alias core export $i "memory" (core memory $mem))
  (alias core export $i "realloc" (core func $realloc))
  (type $color (enum "red" "green" "blue"))
  (export $color' "color" (type $color))
  (type $point (record (field "x" s32) (field "y" s32)))
  (export $point' "point" (type $point))
  (type $perms (flags "read" "write" "exec"))
  (export $perms' "perms" (type $perms))
  (func $add (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (instance $math (export "add" (func $add)))
  (export "add" (func $add))
  (export "tenon:demo/math" (instance $math))
  (func (export "paint") (param "c" $color') (result $color') (canon lift (core func $i "same")))
  (func (export "permit") (param "p" $perms') (result $perms') (canon lift (core func $i "same")))
  (func (export "greet") (param "s" string) (result string)
    (canon lift (core func $i "echo-pair") (memory $mem) (realloc (core func $realloc))))
  (func (export "bytes") (param "l" (list u8)) (result (list u8))
    (canon lift (core func $i "echo-pair") (memory $mem) (realloc (core func $realloc))))
  (func (export "swap") (param "p" $point') (result $point')
    (canon lift (core func $i "swap") (memory $mem)))
  (func (export "maybe") (param "o" (option u32)) (result (tuple bool u32))
    (canon lift (core func $i "echo-pair") (memory $mem)))
  (func (export "trap") (canon lift (core func $i "trap"))))"#;

/// Runs `tenon run` on `wat` (written to a temporary file named `name`) with `args` after the file name.
fn tenon_run(name: &str, wat: &str, args: &[&str]) -> Output {
    let dir = std::env::temp_dir().join(format!("tenon-run-component-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Tests run in parallel: each run gets its own file.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("{name}-{run}.wat"));
    std::fs::write(&path, wat).unwrap();
    Command::new(env!("CARGO_BIN_EXE_tenon")).arg("run").arg(&path).args(args).output().unwrap()
}

/// Runs `invoke` on [`COMPONENT`]; its standard output, checking that it succeeded.
fn invoke(call: &str) -> String {
    let output = tenon_run("demo", COMPONENT, &["--invoke", call]);
    assert!(output.status.success(), "{call}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `invoke` on [`COMPONENT`], expecting it to fail; its standard error.
fn failure(call: &[&str]) -> String {
    let output = tenon_run("demo", COMPONENT, call);
    assert!(!output.status.success(), "{call:?} should fail");
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn calls_take_and_print_wave() {
    assert_eq!(invoke("add(1, 2)"), "3\n");
    assert_eq!(invoke("paint(green)"), "green\n");
    assert_eq!(invoke("permit({read, exec})"), "{read, exec}\n");
    assert_eq!(invoke(r#"greet("héllo, \"you\"")"#), "\"héllo, \\\"you\\\"\"\n");
    assert_eq!(invoke("bytes([1, 2, 255])"), "[1, 2, 255]\n");
    assert_eq!(invoke("swap({x: 1, y: -2})"), "{x: -2, y: 1}\n");
    assert_eq!(invoke("maybe(some(7))"), "(true, 7)\n");
    assert_eq!(invoke("maybe(none)"), "(false, 0)\n");
}

#[test]
fn interface_exports_are_found_by_name() {
    assert_eq!(invoke("tenon:demo/math.add(40, 2)"), "42\n");
    assert_eq!(invoke("tenon:demo/math#add(40, 3)"), "43\n");
}

#[test]
fn mistakes_are_explained() {
    assert!(failure(&["--invoke", "add(1)"]).contains("invalid arguments in `add(1)`"));
    assert!(failure(&["--invoke", r#"add(1, "x")"#]).contains("invalid arguments"));
    assert!(failure(&["--invoke", "add(1,"]).contains("invalid `--invoke` call"));
    assert!(failure(&["--invoke", "nope()"]).contains("has no function export named `nope`"));
    assert!(failure(&["--invoke", "tenon:demo/math.sub(1, 2)"]).contains("has no function export named `tenon:demo/math#sub`"));
    assert!(failure(&["--invoke", "tenon:demo/math(1, 2)"]).contains("names an interface but no function"));
    assert!(failure(&[]).contains("a component runs with `--invoke 'NAME(ARGS)'`"));
    assert!(failure(&["--invoke", "add(1, 2)", "3"]).contains("a component's arguments go inside the `--invoke` call"));
}

#[test]
fn a_trap_is_reported() {
    let output = tenon_run("demo", COMPONENT, &["--invoke", "trap()"]);
    assert_eq!(output.status.code(), Some(134));
    assert!(String::from_utf8_lossy(&output.stderr).contains("wasm trap: wasm `unreachable` instruction executed"));
}

#[test]
fn missing_imports_are_named() {
    let wat = r#"(component
      (import "log" (func (param "m" string)))
      (import "wasi:cli/environment@0.2.0" (instance)))"#;
    let output = tenon_run("imports", wat, &["--invoke", "f()"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("needs imports that `tenon run` does not provide: `log` (a function), `wasi:cli/environment@0.2.0` (an instance)"),
        "{stderr}"
    );
}
