//! `tenon component new`: makes a core module built with a `wit-bindgen` guest crate (which embeds the
//! component type it needs) a component, as `wasm-tools component new` does.

use anyhow::{Context, Result};
use std::path::Path;

/// The component of the core module at `module`, validated.
pub fn component_new(module: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(module).with_context(|| format!("failed to read `{}`", module.display()))?;
    wit_component::ComponentEncoder::default()
        .module(&bytes)
        .and_then(|encoder| encoder.validate(true).encode())
        .with_context(|| format!("failed to make `{}` a component", module.display()))
}
