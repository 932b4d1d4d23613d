//! `tenon wast` itself: a script passes only for the right reasons. A wrong result, a rejection with the
//! wrong message, a trap that does not happen, or a stale skip-list entry make it exit non-zero; a refusal
//! of something not supported yet is counted apart, never as passed.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Writes the files `(name, text)` to a fresh temporary directory; returns their paths.
fn write(test: &str, files: &[(&str, &str)]) -> Vec<PathBuf> {
    let dir = std::env::temp_dir().join(format!("tenon-wast-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    files
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

fn tenon_wast(args: &[PathBuf], skip_list: Option<&PathBuf>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tenon"));
    command.arg("wast").args(args);
    if let Some(list) = skip_list {
        command.arg("--skip-list").arg(list);
    }
    command.output().unwrap()
}

/// The run's stdout and stderr, and whether it succeeded.
fn outcome(output: &Output) -> (String, String, bool) {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (stdout, stderr, output.status.success())
}

#[test]
fn a_passing_script_passes() {
    let files = write("pass", &[("ok.wast", r#"
        (module (func (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))
        (assert_return (invoke "f" (i32.const 1)) (i32.const 2))
        (assert_trap (module (func $s unreachable) (start $s)) "unreachable")
        (assert_invalid (module (func (result i32))) "type mismatch")
        (assert_malformed (module quote "(func (i32.const nan:0x1))") "unknown operator")
        (assert_return (invoke "f" (i32.const -1)) (i32.const 0))
    "#)]);
    let (stdout, stderr, ok) = outcome(&tenon_wast(&files, None));
    assert!(ok, "{stdout}{stderr}");
    // The module counts as a command too.
    assert!(stdout.contains("6 passed, 0 failed, 0 unsupported, 0 skipped"), "{stdout}");
}

#[test]
fn several_scripts_get_a_total() {
    let files = write("total", &[
        ("good.wast", r#"(module (func (export "f") (result i32) (i32.const 1)))
            (assert_return (invoke "f") (i32.const 1))"#),
        ("bad.wast", r#"(module (func (export "f") (result i32) (i32.const 1)))
            (assert_return (invoke "f") (i32.const 2))
            (assert_invalid (module (func (result v128) (i32.const 0))) "type mismatch")"#),
    ]);
    let (stdout, stderr, ok) = outcome(&tenon_wast(&files, None));
    assert!(!ok, "{stdout}{stderr}");
    assert!(stdout.contains("total: 1 of 2 files pass; 3 passed, 1 failed, 1 unsupported, 0 skipped"), "{stdout}");
}

#[test]
fn scripts_that_must_fail_fail() {
    let cases = [
        ("wrong-return.wast", r#"(module (func (export "f") (result i32) (i32.const 1)))
            (assert_return (invoke "f") (i32.const 2))"#, "result 0: expected"),
        ("wrong-message.wast", r#"(assert_invalid (module (func (result i32))) "unknown local")"#,
            "expected rejection `unknown local`"),
        ("no-trap.wast", r#"(module (func (export "f") (result i32) (i32.const 1)))
            (assert_trap (invoke "f") "unreachable")"#, "expected trap `unreachable`, but it succeeded"),
        ("wrong-trap.wast", r#"(module (func (export "f") (result i32) (i32.div_s (i32.const 1) (i32.const 0))))
            (assert_trap (invoke "f") "integer overflow")"#, "expected trap `integer overflow`"),
        ("accepted.wast", r#"(assert_invalid (module (func)) "type mismatch")"#, "but it succeeded"),
        ("wrong-null.wast", r#"(module (func (export "f") (result externref) (ref.null extern)))
            (assert_return (invoke "f") (ref.null func))"#, "result 0: expected"),
        ("wrong-function.wast", r#"(module (func (export "a")) (func (export "b"))
              (func (export "f") (result funcref) (ref.func 0)) (elem declare func 0))
            (assert_return (invoke "f") (ref.func 1))"#, "result 0: expected"),
    ];
    for (name, script, message) in cases {
        let files = write("fail", &[(name, script)]);
        let (stdout, stderr, ok) = outcome(&tenon_wast(&files, None));
        assert!(!ok, "{name} passed:\n{stdout}{stderr}");
        assert!(stderr.contains(message), "{name}: expected `{message}` in:\n{stderr}");
        assert!(stdout.contains(" 1 failed"), "{name}: {stdout}");
    }
}

#[test]
fn unsupported_refusals_are_not_passes() {
    // SIMD is not supported yet: the module is refused, but not for the reason the script expects, so the
    // command is neither passed nor failed.
    let files = write("unsupported", &[("simd.wast", r#"
        (assert_invalid (module (func (result v128) (i32.const 0))) "type mismatch")
        (assert_invalid (module (func (result i32))) "type mismatch")
    "#)]);
    let (stdout, stderr, ok) = outcome(&tenon_wast(&files, None));
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("1 passed, 0 failed, 1 unsupported, 0 skipped"), "{stdout}");
}

/// `(ref.func N)` results name a function of the invoked module: the runner checks which, where an export
/// gives it a handle to compare with, and counts the rest as unsupported.
#[test]
fn ref_func_results_are_checked_by_identity() {
    let files = write("ref-func", &[("ref-func.wast", r#"
        (module $m
          (func (export "a")) (func (export "b")) (func $hidden)
          (func (export "f") (param i32) (result funcref)
            (select (result funcref) (ref.func 1) (ref.func 2) (local.get 0)))
          (elem declare func 1 2))
        (assert_return (invoke "f" (i32.const 1)) (ref.func 1))
        (assert_return (invoke $m "f" (i32.const 1)) (ref.func 1))
        (assert_return (invoke "f" (i32.const 1)) (ref.func))
        (assert_return (invoke "f" (i32.const 0)) (ref.func 2))
    "#)]);
    let (stdout, stderr, ok) = outcome(&tenon_wast(&files, None));
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("4 passed, 0 failed, 1 unsupported, 0 skipped"), "{stdout}");
}

/// A script whose first module needs an unsupported proposal, then commands that use it and commands that
/// do not.
const WITH_SKIPPED_MODULE: &str = r#"(module $simd (func (export "f") (result i32) (v128.const i64x2 0 0) (drop) (i32.const 1)))
(assert_return (invoke "f") (i32.const 1))
(register "simd" $simd)
(module $user (import "simd" "f" (func (result i32))))
(assert_invalid (module (func (result i32))) "type mismatch")
(module (func (export "g") (result i32) (i32.const 7)))
(assert_return (invoke "g") (i32.const 7))
(assert_return (invoke $simd "f") (i32.const 1))
"#;

#[test]
fn a_skip_covers_its_module_and_the_commands_that_use_it() {
    let files = write("skips", &[("skipping.wast", WITH_SKIPPED_MODULE), ("list.txt", "skipping.wast:1 simd: v128\n")]);
    let (stdout, stderr, ok) = outcome(&tenon_wast(&files[..1], Some(&files[1])));
    assert!(ok, "{stdout}{stderr}");
    // Skipped: the module, its invoke, its registration, the module importing from it, the named invoke.
    // Run: the assert_invalid, the other module and its invoke.
    assert!(stdout.contains("3 passed, 0 failed, 0 unsupported, 5 skipped"), "{stdout}");
    // Without the entry, the module is refused as not supported yet, and everything that uses it is counted
    // unsupported too (never passed); the rest runs.
    let (stdout, stderr, ok) = outcome(&tenon_wast(&files[..1], None));
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("3 passed, 0 failed, 5 unsupported, 0 skipped"), "{stdout}");
}

#[test]
fn skip_list_errors() {
    let script = "(module (func (export \"f\")))\n(invoke \"f\")\n";
    let cases = [
        ("skipping.wast:1\n", "every entry needs a reason"),
        ("skipping.wast one two\n", "expected `file.wast:LINE reason`"),
        // Line 2 holds no module: a stale or mistyped entry.
        ("skipping.wast:2 wrong line\n", "skipping.wast:2: this skip-list entry names no module"),
        // The listed module compiles: its entry must go.
        ("skipping.wast:1 nothing is wrong with it\n", "skipping.wast:1: this skipped module compiles now"),
    ];
    for (list, message) in cases {
        let files = write("skip-errors", &[("skipping.wast", script), ("list.txt", list)]);
        let (stdout, stderr, ok) = outcome(&tenon_wast(&files[..1], Some(&files[1])));
        assert!(!ok, "`{list}` was accepted:\n{stdout}{stderr}");
        assert!(stderr.contains(message), "`{list}`: expected `{message}` in:\n{stderr}");
    }
}
