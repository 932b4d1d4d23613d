//! `tenon bindgen` and `tenon wit` from the command line: bindings for the test guests' WIT, the WIT of WIT
//! files, and clear refusals.

use std::process::{Command, Output};

fn tenon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenon")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

fn stdout(args: &[&str]) -> String {
    let output = tenon(args);
    assert!(output.status.success(), "tenon {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn bindgen_prints_formatted_bindings() {
    let code = stdout(&["bindgen", "../tests/guests/wit", "--world", "exports"]);
    for item in [
        "pub struct Exports {",
        "pub struct ExportsPre<T: 'static>",
        "pub fn call_add<S: ::tenon::AsContextMut>(",
        "pub fn tenon_guest_values(&self)",
        "pub mod exports {",
        "pub struct Point {",
        "pub enum Shape {",
    ] {
        assert!(code.contains(item), "`{item}` is not in the bindings");
    }
    let code = stdout(&["bindgen", "../tests/guests/wit", "--world", "imports", "--trappable-imports", "--tenon-crate", "crate::rt"]);
    assert!(code.contains("fn log(&mut self, msg: String) -> crate::rt::Result<()>;"), "{code}");
    assert!(code.contains("pub fn add_to_linker<T, D>("), "{code}");
}

/// A component's own type (decoded with `wit-component`) gives host bindings for its imports and exports.
#[test]
fn bindgen_reads_a_component() {
    let code = stdout(&["bindgen", "../examples/greeter/greeter.wasm"]);
    for item in [
        "pub struct Root {",
        "pub fn example_greeter_greetings(",
        "fn log(&mut self, msg: String);",
        "fn greeted(&mut self) -> u32;",
        "pub fn call_greet<S: ::tenon::AsContextMut>(",
        "pub enum Style {",
    ] {
        assert!(code.contains(item), "`{item}` is not in the bindings:\n{code}");
    }
    let output = tenon(&["bindgen", "../examples/greeter/greeter.wasm", "--world", "greeter"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("is a component: its world is its own, so `--world` does not apply"));
}

/// `--stub`: `HostStub` implements every host trait, `convert_<e>` methods of trappable errors included.
#[test]
fn bindgen_stub_implements_the_host_traits() {
    let dir = std::env::temp_dir().join(format!("tenon-bindgen-stub-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wit = dir.join("e.wit");
    std::fs::write(&wit, "package t:e; interface files { variant file-error { missing } open: func(path: string) -> result<u32, file-error>; } world w { import files; import log: func(msg: string); }").unwrap();
    let code = stdout(&["bindgen", wit.to_str().unwrap(), "--stub", "--trappable-error-type", "t:e/files.file-error=crate::MyError"]);
    std::fs::remove_dir_all(&dir).ok();
    for item in [
        "pub struct HostStub;",
        "impl self::t::e::files::Host for HostStub {",
        "fn open(&mut self, path: String) -> Result<u32, crate::MyError> {",
        "fn convert_file_error(",
        "impl self::WImports for HostStub {",
        "fn log(&mut self, msg: String) {",
        "todo!()",
    ] {
        assert!(code.contains(item), "`{item}` is not in the stub:\n{code}");
    }
}

#[test]
fn bindgen_writes_a_file() {
    let out = std::env::temp_dir().join(format!("tenon-bindgen-{}.rs", std::process::id()));
    stdout(&["bindgen", "../tests/guests/wit", "--world", "imports", "-o", out.to_str().unwrap()]);
    let code = std::fs::read_to_string(&out).unwrap();
    assert!(code.contains("pub trait Host {"));
    std::fs::remove_file(out).ok();
}

#[test]
fn wit_prints_wit() {
    let wit = stdout(&["wit", "../tests/guests/wit"]);
    assert!(wit.contains("package tenon:guest;") && wit.contains("world imports {") && wit.contains("interface values {"), "{wit}");
}

#[test]
fn mistakes_are_explained() {
    let dir = std::env::temp_dir().join(format!("tenon-bindgen-mistakes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wit = dir.join("r.wit");
    std::fs::write(&wit, "package a:b; world w { export f: async func(); }").unwrap();
    let output = tenon(&["bindgen", wit.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("async host functions are not supported yet"));

    let output = tenon(&["bindgen", "../tests/guests/wit"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("multiple worlds"), "{}", String::from_utf8_lossy(&output.stderr));
    std::fs::remove_dir_all(dir).ok();
}
