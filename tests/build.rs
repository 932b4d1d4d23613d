//! Builds the guest crates of `guests/` for `wasm32-unknown-unknown`, makes each core module a component
//! with `wit-component`, composes the `consumer` and `provider` components into one with `wasm-compose`, and
//! tells the test crate where the components are (`TENON_GUEST_*`; empty when building for cargo-fuzz, which
//! does not use them).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The guest crates: the name of the core module each builds, and the variable its component's path goes to.
const GUESTS: [(&str, &str); 3] = [
    ("tenon_guest_exports", "TENON_GUEST_EXPORTS"),
    ("tenon_guest_imports", "TENON_GUEST_IMPORTS"),
    ("tenon_guest_resources", "TENON_GUEST_RESOURCES"),
];

/// The variable the composed component's path goes to: `consumer` with its import of `tenon:guest/api`
/// satisfied by `provider`.
const COMPOSED: &str = "TENON_GUEST_COMPOSED";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let guests = manifest_dir.join("guests");
    for watched in
        ["Cargo.toml", "Cargo.lock", "wit", "exports", "imports", "resources", "provider", "consumer"]
    {
        println!("cargo:rerun-if-changed={}", guests.join(watched).display());
    }
    wasi_bindings(&manifest_dir, &out_dir);
    // The cargo-fuzz target uses this crate's library but not the guests, and builds with a nightly
    // toolchain that need not have the wasm32 target: leave the paths empty there.
    if std::env::var_os("CARGO_CFG_FUZZING").is_some() {
        for (_, variable) in GUESTS {
            println!("cargo:rustc-env={variable}=");
        }
        println!("cargo:rustc-env={COMPOSED}=");
        return;
    }
    let target_dir = out_dir.join("guests-target");
    let started = Instant::now();
    build(&guests, &target_dir);
    let built = started.elapsed();
    for (module, variable) in GUESTS {
        let wasm = target_dir.join("wasm32-unknown-unknown/release").join(format!("{module}.wasm"));
        let component = out_dir.join(format!("{module}.component.wasm"));
        componentize(&wasm, &component);
        println!("cargo:rustc-env={variable}={}", component.display());
    }
    // `wasm-compose` names a component after its file, in kebab case.
    std::fs::create_dir_all(out_dir.join("composed")).unwrap();
    let parts = ["provider", "consumer"].map(|part| {
        let component = out_dir.join(format!("composed/{part}.wasm"));
        componentize(&target_dir.join("wasm32-unknown-unknown/release").join(format!("tenon_guest_{part}.wasm")), &component);
        component
    });
    let composed = out_dir.join("tenon_guest_composed.component.wasm");
    compose(&parts[1], &parts[0], &composed);
    println!("cargo:rustc-env={COMPOSED}={}", composed.display());
    // Not a directive: kept in the build script's `output` file, and shown by `cargo build -vv`.
    println!("guests built in {built:.1?}, made components in {:.1?}", started.elapsed() - built);
}

/// Builds the guest workspace at `guests` (release, for wasm32) into `target_dir`.
fn build(guests: &Path, target_dir: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--locked", "--target", "wasm32-unknown-unknown", "--manifest-path"])
        .arg(guests.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        // The outer build's flags are for the host, not for the guests.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        // Under `cargo clippy` this is clippy-driver: the guests are not part of this workspace.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .expect("could not run cargo to build the test guests");
    if !status.success() {
        panic!(
            "building the test guests (tests/guests) for wasm32-unknown-unknown failed; \
             is the target installed? (`rustup target add wasm32-unknown-unknown`)"
        );
    }
}

/// Makes the core module at `wasm` (with the `component-type` section `wit-bindgen` embeds) a component,
/// validated, at `component`.
fn componentize(wasm: &Path, component: &Path) {
    let bytes = std::fs::read(wasm).unwrap_or_else(|e| panic!("reading {}: {e}", wasm.display()));
    let encoded = wit_component::ComponentEncoder::default()
        .module(&bytes)
        .and_then(|encoder| encoder.validate(true).encode())
        .unwrap_or_else(|e| panic!("making {} a component: {e:?}", wasm.display()));
    std::fs::write(component, encoded).unwrap_or_else(|e| panic!("writing {}: {e}", component.display()));
}

/// Composes component `root` with `dependency` satisfying its imports, into `composed`.
fn compose(root: &Path, dependency: &Path, composed: &Path) {
    let config = wasm_compose::config::Config { definitions: vec![dependency.to_path_buf()], ..Default::default() };
    let bytes = wasm_compose::composer::ComponentComposer::new(root, &config)
        .compose()
        .unwrap_or_else(|e| panic!("composing {} with {}: {e:?}", root.display(), dependency.display()));
    std::fs::write(composed, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", composed.display()));
}

/// When `../shared/wit` is there, prepares `bindgen!` calls for the WASI 0.2 worlds (`wasi_bindings.rs`
/// in `OUT_DIR`, read by `tests/bindgen_wasi.rs`, with the cfg `tenon_wasi_wit`): a root package including
/// the worlds, whose `deps/` is a link to the shared WIT (which is read in place, never copied).
fn wasi_bindings(manifest_dir: &Path, out_dir: &Path) {
    println!("cargo::rustc-check-cfg=cfg(tenon_wasi_wit)");
    let deps = manifest_dir.join("../../shared/wit/wasi-0.2/deps");
    println!("cargo:rerun-if-changed={}", deps.display());
    let Ok(deps) = deps.canonicalize() else { return };
    let root = out_dir.join("wasi-root");
    std::fs::create_dir_all(&root).unwrap();
    let link = root.join("deps");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&deps, &link).unwrap();
    // Every world of WASI 0.2, and worlds exporting its interfaces (their resources are then the guest's), as
    // a component virtualizing WASI would.
    std::fs::write(
        root.join("root.wit"),
        "package tenon:wasi-tests;\n\
         world command { include wasi:cli/command@0.2.12; }\n\
         world imports { include wasi:cli/imports@0.2.12; }\n\
         world proxy { include wasi:http/proxy@0.2.12; }\n\
         world http-imports { include wasi:http/imports@0.2.12; }\n\
         world exports-io { export wasi:io/error@0.2.12; export wasi:io/poll@0.2.12; export wasi:io/streams@0.2.12; }\n\
         world exports-http { import wasi:io/streams@0.2.12; export wasi:http/types@0.2.12; }\n\
         world exports-filesystem { import wasi:io/streams@0.2.12; import wasi:clocks/wall-clock@0.2.12; \
         export wasi:filesystem/types@0.2.12; export wasi:filesystem/preopens@0.2.12; }\n",
    )
    .unwrap();
    let worlds: String = ["command", "imports", "proxy", "http-imports", "exports-io", "exports-http", "exports-filesystem"]
        .iter()
        .map(|world| {
            let module = world.replace('-', "_");
            format!("pub mod {module} {{\n    ::tenon::component::bindgen!({{ path: {root:?}, world: {world:?} }});\n}}\n")
        })
        .collect();
    std::fs::write(out_dir.join("wasi_bindings.rs"), worlds).unwrap();
    println!("cargo::rustc-cfg=tenon_wasi_wit");
}
