//! Generation of random, valid, always-terminating wasm modules with wasm-smith, restricted to the features
//! Tenon supports.

use crate::rng::SplitMix64;
use arbitrary::Unstructured;
use std::convert::Infallible;
use wasm_encoder::reencode::{self, Reencode};

/// Fuel given to a module's functions before each call (wasm-smith's, a global the module counts down, not
/// the engine's): function entries and loop iterations each use one unit. A call that runs out traps as
/// `unreachable`.
pub const FUEL: u32 = 3_000;

/// Bytes of pseudo-random input drawn for a seed; more input gives larger modules.
const SEED_INPUT_LEN: usize = 4096;

/// A generated module and how to refuel it.
#[derive(Clone, Debug)]
pub struct TestModule {
    /// The binary module.
    pub wasm: Vec<u8>,
    /// The export name of the mutable `i32` global holding the remaining fuel.
    pub fuel_export: String,
}

/// The wasm-smith configuration: core wasm 2.0 without SIMD (mutable globals, sign extension, saturating
/// float-to-int, multi-value, bulk memory, reference types) plus multi-memory and extended constants, with
/// no imports, everything exported, canonical NaNs, and small bounded memories and tables.
pub fn config() -> wasm_smith::Config {
    wasm_smith::Config {
        max_imports: 0,
        export_everything: true,
        canonicalize_nans: true,
        // Enabled proposals.
        multi_value_enabled: true,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        extended_const_enabled: true,
        // Disabled proposals.
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        custom_descriptors_enabled: false,
        memory64_enabled: false,
        tail_call_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        compact_imports_enabled: false,
        // Sizes: small modules, and memories and tables that cannot grow large.
        min_types: 1,
        max_types: 10,
        min_funcs: 2,
        max_funcs: 10,
        max_globals: 10,
        max_instructions: 100,
        max_memories: 2,
        max_memory32_bytes: 16 * 65536,
        memory_max_size_required: true,
        max_tables: 2,
        max_table_elements: 64,
        table_max_size_required: true,
        max_data_segments: 4,
        max_element_segments: 4,
        max_elements: 16,
        ..wasm_smith::Config::default()
    }
}

/// Builds a module from arbitrary input bytes (as a fuzzer supplies them); `None` if wasm-smith cannot.
pub fn from_data(data: &[u8]) -> Option<TestModule> {
    let mut input = Unstructured::new(data);
    let mut module = wasm_smith::Module::new(config(), &mut input).ok()?;
    let fuel_global = module.ensure_termination(FUEL).ok()?;
    export_fuel(&module.to_bytes(), fuel_global)
}

/// Builds the module for `seed`: the same seed always gives the same module.
pub fn from_seed(seed: u64) -> Option<TestModule> {
    from_data(&SplitMix64::new(seed).bytes(SEED_INPUT_LEN))
}

/// Adds an export of the fuel global so that the host can refuel between calls; `None` if the module has no
/// export section (then it exports nothing, having nothing to export).
fn export_fuel(wasm: &[u8], fuel_global: u32) -> Option<TestModule> {
    let mut reencoder = FuelExporter { fuel_global, name: None };
    let mut module = wasm_encoder::Module::new();
    reencoder.parse_core_module(&mut module, wasmparser::Parser::new(0), wasm).ok()?;
    let fuel_export = reencoder.name?;
    Some(TestModule { wasm: module.finish(), fuel_export })
}

/// Re-encodes a module unchanged except for one more export: the fuel global.
struct FuelExporter {
    fuel_global: u32,
    /// The name given to the fuel export, once the export section has been seen.
    name: Option<String>,
}

impl Reencode for FuelExporter {
    type Error = Infallible;

    fn parse_export_section(
        &mut self,
        exports: &mut wasm_encoder::ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        let mut names = Vec::new();
        for export in section {
            let export = export?;
            names.push(export.name.to_string());
            self.parse_export(exports, export)?;
        }
        let mut name = String::from("fuel");
        while names.contains(&name) {
            name.push('_');
        }
        exports.export(&name, wasm_encoder::ExportKind::Global, self.fuel_global);
        self.name = Some(name);
        Ok(())
    }
}
