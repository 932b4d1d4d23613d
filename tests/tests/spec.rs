//! The official WebAssembly spec suite (the wasm2 files of `TIERS.md`), run through the same code as
//! `tenon wast` with the default configuration: out-of-bounds accesses caught by guard pages. See
//! `common/mod.rs` for the skip list and the failing-file ratchet.

mod common;

#[test]
fn wasm2_spec_suite_guard_pages() {
    common::run_wasm2("guard pages", &tenon::Config::new());
}
