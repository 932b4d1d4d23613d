//! Builds the guest crate (`guest/`) for `wasm32-unknown-unknown` and tells the benchmarks where the module is.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    for watched in [
        "guest/src",
        "guest/Cargo.toml",
        "guest/Cargo.lock",
        "kernels/src",
        "kernels/Cargo.toml",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            manifest_dir.join(watched).display()
        );
    }
    let target_dir = out_dir.join("guest-target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-unknown-unknown",
            "--manifest-path",
        ])
        .arg(manifest_dir.join("guest/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        // The outer build's flags are for the host, not for the guest.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("could not run cargo to build the benchmark guest");
    if !status.success() {
        panic!(
            "building the benchmark guest for wasm32-unknown-unknown failed; \
             is the target installed? (`rustup target add wasm32-unknown-unknown`)"
        );
    }
    let wasm = target_dir.join("wasm32-unknown-unknown/release/tenon_bench_guest.wasm");
    println!("cargo:rustc-env=TENON_BENCH_GUEST={}", wasm.display());
}
