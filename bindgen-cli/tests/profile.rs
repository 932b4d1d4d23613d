//! `tenon run --profile perfmap` names every compiled function in `/tmp/perf-PID.map`, for `perf report`.

use std::process::Command;

#[test]
fn perfmap_names_the_compiled_functions() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/fib.wat");
    let child = Command::new(env!("CARGO_BIN_EXE_tenon"))
        .args(["run", "--profile", "perfmap", example, "--invoke", "fib", "10"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "55");
    let path = format!("/tmp/perf-{pid}.map");
    let map = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let _ = std::fs::remove_file(&path);
    // `START SIZE NAME`, hexadecimal, for the wasm function and for the trampolines.
    let fib = map.lines().find(|l| l.ends_with("::fib")).unwrap_or_else(|| panic!("no fib in:\n{map}"));
    let fields: Vec<&str> = fib.split(' ').collect();
    assert_eq!(fields.len(), 3, "{fib}");
    assert!(usize::from_str_radix(fields[0], 16).unwrap() > 0 && usize::from_str_radix(fields[1], 16).unwrap() > 0);
    assert!(map.contains("tenon::trampoline["), "{map}");
}

#[test]
fn unknown_profiling_strategies_are_refused() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/fib.wat");
    let output = Command::new(env!("CARGO_BIN_EXE_tenon"))
        .args(["run", "--profile", "vtune", example, "--invoke", "fib", "10"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown profiling strategy `vtune`"));
}
