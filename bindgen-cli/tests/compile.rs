//! `tenon compile` and `tenon run --allow-precompiled`: artifacts of modules and components, written and run,
//! refused without the flag, refused with settings that differ, and refused when corrupted.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MODULE: &str = r#"(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))"#;

const COMPONENT: &str = r#"(component
  (core module $m (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))"#;

fn tenon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenon")).args(args).output().expect("running tenon")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tenon-compile-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn compiled_modules_and_components_run_with_the_flag_only() {
    let dir = scratch("run");
    for (name, source, invoke, args) in [("m", MODULE, "add", &["2", "3"][..]), ("c", COMPONENT, "add(2, 3)", &[][..])] {
        let wat = dir.join(format!("{name}.wat"));
        std::fs::write(&wat, source).unwrap();
        let compiled = tenon(&["compile", path(&wat)]);
        assert!(compiled.status.success(), "{}", stderr(&compiled));
        let cwasm = dir.join(format!("{name}.cwasm"));
        assert!(cwasm.exists(), "the default output is the input with `.cwasm`");

        let mut run = vec!["run", "--allow-precompiled", "--invoke", invoke, path(&cwasm)];
        run.extend(args);
        let output = tenon(&run);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "5");

        let mut refused = vec!["run", "--invoke", invoke, path(&cwasm)];
        refused.extend(args);
        let output = tenon(&refused);
        assert!(!output.status.success());
        let message = stderr(&output);
        let kind = if name == "m" { "module" } else { "component" };
        assert!(message.contains(&format!("is a precompiled {kind}")) && message.contains("--allow-precompiled"), "{message}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn settings_must_match_and_corruption_is_refused() {
    let dir = scratch("settings");
    let wat = dir.join("m.wat");
    std::fs::write(&wat, MODULE).unwrap();
    let cwasm = dir.join("fuel.cwasm");
    let compiled = tenon(&["compile", "-W", "fuel=1000", path(&wat), "-o", path(&cwasm)]);
    assert!(compiled.status.success(), "{}", stderr(&compiled));
    let output = tenon(&["run", "--allow-precompiled", "--invoke", "add", path(&cwasm), "1", "2"]);
    let message = stderr(&output);
    assert!(message.contains("compiled with fuel instrumentation enabled, but this engine has it disabled"), "{message}");
    let output = tenon(&["run", "--allow-precompiled", "-W", "fuel=1000", "--invoke", "add", path(&cwasm), "1", "2"]);
    assert!(output.status.success(), "{}", stderr(&output));

    let mut bytes = std::fs::read(&cwasm).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&cwasm, &bytes).unwrap();
    let output = tenon(&["run", "--allow-precompiled", "-W", "fuel=1000", "--invoke", "add", path(&cwasm), "1", "2"]);
    let message = stderr(&output);
    assert!(!output.status.success() && message.contains("corrupt"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_elf_file_that_is_not_an_artifact_is_named_so() {
    let dir = scratch("elf");
    let file = dir.join("other.cwasm");
    std::fs::write(&file, b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0").unwrap();
    let output = tenon(&["run", "--allow-precompiled", path(&file)]);
    let message = stderr(&output);
    assert!(!output.status.success() && message.contains("not a Tenon artifact"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
}
