#!/usr/bin/env bash
# Rebuilds examples/greeter/greeter.wasm from guest/: compiles the guest for wasm32-unknown-unknown and makes
# the core module a component with `tenon component new`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rustup target add wasm32-unknown-unknown
cargo build --release --target wasm32-unknown-unknown --manifest-path "$here/guest/Cargo.toml" --target-dir "$here/guest/target"
cargo run --release -p tenon-cli --manifest-path "$here/../../Cargo.toml" -- \
  component new "$here/guest/target/wasm32-unknown-unknown/release/greeter_guest.wasm" -o "$here/greeter.wasm"
