//! Side-by-side benchmarks of Tenon and Wasmtime.
//!
//! `cargo bench -p tenon-benches` runs every workload on both runtimes in one process, alternating samples
//! between them, and prints the medians and the ratio Tenon/Wasmtime; compute kernels are also timed as the
//! same Rust code compiled natively. `cargo bench -p tenon-benches -- call` runs only the workloads whose name
//! contains `call`.

pub mod harness;
pub mod wasm;

pub use harness::{Bench, Report, Runner, Suite};
