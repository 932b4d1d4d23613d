//! The API-compatibility check: `cargo bench -p tenon-benches` runs embedding programs, written once, against
//! Tenon and against Wasmtime 48, with the same assertions (see `api_compat/embedding.rs` for the core API,
//! `api_compat/components.rs` for the component API and `api_compat/bindings.rs` for `bindgen!`'s code).

// Some handles are `Copy` in Tenon and only `Clone` in Wasmtime: the shared code clones them.
#[allow(clippy::clone_on_copy)]
mod on_tenon {
    use tenon as rt;
    const RUNTIME: &str = "Tenon";
    include!("api_compat/embedding.rs");
    pub mod components {
        use super::{Checks, rt};
        include!("api_compat/components.rs");
    }
    pub mod bindings {
        use super::rt;
        include!("api_compat/bindings.rs");
    }
}

mod on_wasmtime {
    use wasmtime as rt;
    const RUNTIME: &str = "Wasmtime";
    include!("api_compat/embedding.rs");
    pub mod components {
        use super::{Checks, rt};
        include!("api_compat/components.rs");
    }
    pub mod bindings {
        use super::rt;
        include!("api_compat/bindings.rs");
    }
}

fn main() {
    let tenon = on_tenon::run().unwrap_or_else(|e| panic!("api-compat on Tenon: {e:?}"));
    let wasmtime = on_wasmtime::run().unwrap_or_else(|e| panic!("api-compat on Wasmtime: {e:?}"));
    assert_eq!(tenon, wasmtime, "both runtimes ran the same checks");
    println!("api-compat: the same embedding code passed {tenon} checks on Tenon and on Wasmtime 48");
    let tenon = on_tenon::components::run_components().unwrap_or_else(|e| panic!("api-compat (components) on Tenon: {e:?}"));
    let wasmtime = on_wasmtime::components::run_components().unwrap_or_else(|e| panic!("api-compat (components) on Wasmtime: {e:?}"));
    assert_eq!(tenon, wasmtime, "both runtimes ran the same component checks");
    println!("api-compat: the same component code passed {tenon} checks on Tenon and on Wasmtime 48");
    let tenon = on_tenon::bindings::run_bindings().unwrap_or_else(|e| panic!("api-compat (bindings) on Tenon: {e:?}"));
    let wasmtime = on_wasmtime::bindings::run_bindings().unwrap_or_else(|e| panic!("api-compat (bindings) on Wasmtime: {e:?}"));
    assert_eq!(tenon, wasmtime, "both runtimes ran the same bindings checks");
    println!("api-compat: the same host code over bindgen! output passed {tenon} checks on Tenon and on Wasmtime 48");
}
