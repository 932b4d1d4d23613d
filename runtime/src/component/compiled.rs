//! [`Component`]: a compiled component, ready to instantiate in any store of its engine.

use super::info::ComponentInfo;
use super::translate::{self, inline};
use super::type_table::{ComponentTypes, ItemType};
use crate::{Engine, Module};
use anyhow::{Context, Result};
use rayon::prelude::*;
use std::path::Path;
use std::sync::Arc;

/// A compiled WebAssembly component: its core modules compiled, its structure flattened into the steps
/// that instantiate it. Cheap to clone, and shared between threads.
#[derive(Clone)]
pub struct Component {
    inner: Arc<ComponentInner>,
}

struct ComponentInner {
    engine: Engine,
    info: ComponentInfo,
    types: Arc<ComponentTypes>,
    modules: Vec<Module>,
    /// The root component's exports and their types.
    exports: Vec<(String, ItemType)>,
}

impl Component {
    /// Compiles a component from its binary or text (WAT) form.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Component> {
        let bytes = wat::parse_bytes(bytes.as_ref())?;
        Component::from_binary(engine, &bytes)
    }

    /// Compiles a component from the binary or text file at `path`.
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Component> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
        Component::new(engine, bytes).with_context(|| format!("failed to compile `{}`", path.display()))
    }

    /// Compiles a component from its binary form.
    pub fn from_binary(engine: &Engine, bytes: &[u8]) -> Result<Component> {
        let features = engine.config().features;
        if !features.contains(wasmparser::WasmFeatures::COMPONENT_MODEL) {
            anyhow::bail!("support for the component model is not enabled (`Config::wasm_component_model`)");
        }
        let translation = translate::translate(features, bytes)?;
        // Core modules compile in parallel, as their functions do.
        let modules = translation
            .modules
            .par_iter()
            .enumerate()
            .map(|(i, module)| Module::from_binary(engine, module.bytes).with_context(|| format!("core module {i}")))
            .collect::<Result<Vec<_>>>()?;
        let info = inline::inline(&translation.modules, &translation.components, translation.types.types())?;
        let types = Arc::new(translation.types.finish());
        Ok(Component { inner: Arc::new(ComponentInner { engine: engine.clone(), info, types, modules, exports: translation.exports }) })
    }

    /// The engine the component was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The component's type: what it imports and exports.
    pub fn component_type(&self) -> super::types::Component {
        super::types::Component::new(&self.inner.types, &self.inner.info.imports, &self.inner.exports)
    }

    /// The flattened description instantiation runs.
    pub(crate) fn info(&self) -> &ComponentInfo {
        &self.inner.info
    }

    /// The component's types.
    pub(crate) fn types(&self) -> &Arc<ComponentTypes> {
        &self.inner.types
    }

    /// Core module `index` of the component.
    pub(crate) fn module(&self, index: usize) -> &Module {
        &self.inner.modules[index]
    }
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component").field("imports", &self.inner.info.imports.len()).finish_non_exhaustive()
    }
}
