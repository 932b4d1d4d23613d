//! The guest components built from `tests/guests` by the build script: Rust crates using `wit-bindgen`,
//! compiled for `wasm32-unknown-unknown` and made components with `wit-component`. (In a cargo-fuzz build,
//! which does not use them, they are not built and the paths are empty.)

/// The path of the `exports` guest component (world `tenon:guest/exports` of `tests/guests/wit`): functions
/// over every WIT type that echo or transform their inputs, at the root and in the exported interface
/// `tenon:guest/values`, plus `boom`, which traps.
pub const EXPORTS: &str = env!("TENON_GUEST_EXPORTS");

/// The path of the `imports` guest component (world `tenon:guest/imports`): imports the host interface
/// `tenon:guest/host` and exports functions that call it and return what they made of its results.
pub const IMPORTS: &str = env!("TENON_GUEST_IMPORTS");

/// The path of the `resources` guest component (world `tenon:guest/resources`): defines and exports the
/// resource `counter` (interface `tenon:guest/counters`), written with `wit-bindgen`'s resource support.
pub const RESOURCES: &str = env!("TENON_GUEST_RESOURCES");

/// The path of the composed guest component: the `consumer` guest (world `tenon:guest/consumer`), whose
/// import of `tenon:guest/api` the `provider` guest satisfies, composed into one component by
/// `wasm-compose`; calls between the two cross from one nested component instance into the other.
pub const COMPOSED: &str = env!("TENON_GUEST_COMPOSED");
