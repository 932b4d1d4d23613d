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

/// The names of the public items (`pub fn`, `struct`, `trait`, `enum`, `type`, `mod`) in generated code.
fn public_names(code: &str) -> std::collections::BTreeSet<String> {
    let words: Vec<&str> = code.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    let kinds = ["fn", "struct", "trait", "enum", "type", "mod"];
    words.windows(3).filter(|w| w[0] == "pub" && kinds.contains(&w[1])).map(|w| format!("{} {}", w[1], w[2])).collect()
}

/// `bindgen!`'s code for the same worlds, from Tenon and from Wasmtime 48: the same public names, and beyond
/// them only Tenon's typed handles of guest resources.
fn same_generated_names() -> usize {
    let worlds = [
        (
            ::tenon::component::bindgen!({ path: "../tests/guests/wit", world: "exports", stringify: true }),
            ::wasmtime::component::bindgen!({ path: "../tests/guests/wit", world: "exports", stringify: true }),
        ),
        (
            ::tenon::component::bindgen!({ path: "../tests/guests/wit", world: "imports", stringify: true }),
            ::wasmtime::component::bindgen!({ path: "../tests/guests/wit", world: "imports", stringify: true }),
        ),
        (
            ::tenon::component::bindgen!({ path: "../tests/guests/wit", world: "resources", stringify: true }),
            ::wasmtime::component::bindgen!({ path: "../tests/guests/wit", world: "resources", stringify: true }),
        ),
        (
            ::tenon::component::bindgen!({ path: "../tests/wit/corpus", world: "corpus", stringify: true }),
            ::wasmtime::component::bindgen!({ path: "../tests/wit/corpus", world: "corpus", stringify: true }),
        ),
    ];
    for (tenon, wasmtime) in worlds {
        let (tenon, wasmtime) = (public_names(tenon), public_names(wasmtime));
        assert!(wasmtime.len() > 20 && wasmtime.contains("fn instantiate"), "{wasmtime:?}");
        // Every name of Wasmtime's; beyond them, only the typed handles of guest resources (`<Resource>Handle`,
        // with `new`/statics on `Guest<Resource>` and methods on the handle).
        let missing: Vec<_> = wasmtime.difference(&tenon).collect();
        assert!(missing.is_empty(), "public names only Wasmtime's: {missing:?}");
        let extra: Vec<_> = tenon.difference(&wasmtime).collect();
        let handles = extra.iter().any(|name| name.starts_with("struct ") && name.ends_with("Handle"));
        assert!(extra.iter().all(|name| name.starts_with("fn ") && handles || name.starts_with("struct ") && name.ends_with("Handle")), "public names only Tenon's: {extra:?}");
    }
    worlds.len()
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
    let worlds = same_generated_names();
    println!("api-compat: bindgen! generates the public names of Wasmtime 48's (and typed handles) for {worlds} worlds");
}
