//! Hostile modules run through `tenon run` end in the right trap or refusal, with a non-zero exit status and
//! never by a signal.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Writes `wat` to a temporary file and runs `tenon run` on it with `args` before the file name.
fn tenon_run(name: &str, wat: &str, args: &[&str]) -> Output {
    tenon_run_with(name, wat, args, &[])
}

/// Like `tenon_run`, with `after` following the file name (arguments of the invoked export). A run that takes
/// longer than a minute (a broken fuel or timeout limit) is killed, and fails.
fn tenon_run_with(name: &str, wat: &str, args: &[&str], after: &[&str]) -> Output {
    let dir = std::env::temp_dir().join(format!("tenon-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.wat"));
    std::fs::write(&path, wat).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tenon"))
        .arg("run")
        .args(args)
        .arg(&path)
        .args(after)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("`tenon run {name}` was still running after a minute");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// Checks that the run failed with an exit status (not a signal) and that stderr says `message`.
fn assert_refused(output: &Output, message: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.signal(), None, "killed by a signal; stderr: {stderr}");
    assert!(!output.status.success(), "expected failure; stderr: {stderr}");
    assert!(stderr.contains(message), "expected `{message}` in stderr:\n{stderr}");
}

const SPIN: &str = r#"(module (func (export "_start") (loop $l (br $l))))"#;

#[test]
fn recursion_exhausts_the_stack() {
    let wat = r#"(module (func $f (export "_start") (call $f)))"#;
    let output = tenon_run("recursion", wat, &[]);
    assert_refused(&output, "wasm trap: call stack exhausted");
    assert_eq!(output.status.code(), Some(134));
    assert!(String::from_utf8_lossy(&output.stderr).contains("wasm backtrace:"));
}

#[test]
fn recursion_with_a_small_stack_limit() {
    let wat = r#"(module (func $f (export "_start") (call $f)))"#;
    let output = tenon_run("recursion-small", wat, &["-W", "max-wasm-stack=64K"]);
    assert_refused(&output, "call stack exhausted");
}

#[test]
fn out_of_bounds_access() {
    let wat = r#"(module (memory 1) (func (export "_start") (drop (i32.load (i32.const 65536)))))"#;
    assert_refused(&tenon_run("oob", wat, &[]), "wasm trap: out of bounds memory access");
}

#[test]
fn endless_loop_under_fuel() {
    assert_refused(&tenon_run("spin-fuel", SPIN, &["-W", "fuel=100000"]), "all fuel consumed by WebAssembly");
}

#[test]
fn endless_loop_under_timeout() {
    assert_refused(&tenon_run("spin-timeout", SPIN, &["-W", "timeout=100ms"]), "wasm trap: interrupt");
}

#[test]
fn growth_past_the_memory_limit() {
    let wat = r#"(module (memory 1)
        (func (export "_start")
          (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1)) (then unreachable))))"#;
    assert!(tenon_run("grow-ok", wat, &[]).status.success());
    let output = tenon_run("grow", wat, &["-W", "max-memory-size=1MiB"]);
    assert_refused(&output, "wasm `unreachable` instruction executed");

    let big = r#"(module (memory 32) (func (export "_start")))"#;
    assert_refused(&tenon_run("big", big, &["-W", "max-memory-size=1MiB"]), "exceeds memory limits");
}

#[test]
fn division_by_zero() {
    let wat = r#"(module (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0))))"#;
    let ok = tenon_run_with("div-ok", wat, &["--invoke", "div"], &["1"]);
    assert_eq!(String::from_utf8_lossy(&ok.stdout), "1\n");
    let output = tenon_run_with("div", wat, &["--invoke", "div"], &["0"]);
    assert_refused(&output, "wasm trap: integer divide by zero");
}

#[test]
fn signature_mismatch() {
    let wat = r#"(module
        (type $unary (func (param i32) (result i32)))
        (table 1 funcref) (elem (i32.const 0) $nullary)
        (func $nullary (result i32) (i32.const 1))
        (func (export "_start") (drop (call_indirect (type $unary) (i32.const 0) (i32.const 0)))))"#;
    assert_refused(&tenon_run("sig", wat, &[]), "wasm trap: indirect call type mismatch");
}

#[test]
fn bad_options_are_reported() {
    assert_refused(&tenon_run("opts", SPIN, &["-W", "fuel=lots"]), "invalid value for `-W fuel`");
    assert_refused(&tenon_run("opts2", SPIN, &["-W", "speed=11"]), "unknown option `-W speed`");
}
