//! The official WebAssembly spec suite: the tiers of `TIERS.md` Tenon claims (wasm2, multi-memory,
//! function-references), run through the same code as `tenon wast` with the default configuration
//! (out-of-bounds accesses caught by guard pages). A `harness = false` target, so its summary is printed in
//! `cargo test`'s output; see `common/mod.rs` for the lists it enforces.

mod common;

fn main() {
    let problems = common::run_tiers("guard pages", &tenon::Config::new(), &["wasm2", "multi-memory", "function-references"]);
    common::finish(problems);
}
