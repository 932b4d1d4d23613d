//! [`Component`]: a compiled component, ready to instantiate in any store of its engine.

use super::adapter::{self, Direction, SideOptions};
use super::info::{ComponentInfo, FuncDef, Initializer};
use super::type_table::InterfaceType;
use super::translate::{self, inline};
use super::type_table::{ComponentTypes, ItemType};
use crate::artifact::{self, Kind, ModuleMeta};
use crate::environ::{ModuleInfo, WasmFuncType};
use crate::{Engine, Module};
use serde::{Deserialize, Serialize};
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
    /// The fused adapter of each initializer that lowers a function another part of the component lifted.
    adapters: Vec<Option<Adapter>>,
}

/// A component in an artifact: its description and its modules' and adapters' metadata (borrowed when
/// writing, owned when reading); its types are in the artifact's types section.
#[derive(Serialize, Deserialize)]
struct ComponentMeta<Info, Exports, Mod, Resources> {
    info: Info,
    exports: Exports,
    modules: Vec<ModuleMeta<Mod>>,
    adapters: Vec<Option<(ModuleMeta<Mod>, Resources)>>,
}

/// A compiled fused adapter (see [`adapter`](super::adapter)).
pub(crate) struct Adapter {
    pub module: Module,
    /// The handle types its `resource` helper moves, by code.
    pub resources: Arc<[(InterfaceType, Direction)]>,
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
        let adapters = compile_adapters(engine, &info, &types)?;
        Ok(Component { inner: Arc::new(ComponentInner { engine: engine.clone(), info, types, modules, exports: translation.exports, adapters }) })
    }

    /// The engine the component was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The component as an artifact: an ELF file that [`Component::deserialize`] loads without compiling,
    /// with an engine of the same settings.
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let inner = &*self.inner;
        let mut text = Vec::new();
        let module_parts: Vec<_> = inner.modules.iter().map(Module::parts).collect();
        let modules = module_parts.iter().map(|parts| parts.meta(&mut text)).collect::<Result<Vec<_>>>()?;
        let adapter_parts: Vec<_> = inner.adapters.iter().map(|a| a.as_ref().map(|a| (a.module.parts(), &a.resources[..]))).collect();
        let adapters = adapter_parts
            .iter()
            .map(|a| a.as_ref().map(|(parts, resources)| Ok((parts.meta(&mut text)?, *resources))).transpose())
            .collect::<Result<Vec<_>>>()?;
        let meta = ComponentMeta { info: &inner.info, exports: &inner.exports, modules, adapters };
        // The types: the component's table, then each module's function types (the modules', then the
        // adapters').
        let module_types: Vec<&[WasmFuncType]> = module_parts.iter().chain(adapter_parts.iter().flatten().map(|(p, _)| p)).map(|p| &p.info.types[..]).collect();
        artifact::write(&inner.engine, Kind::Component, &meta, &(&*inner.types, module_types), &text)
    }

    /// Loads a component from an artifact made by [`Component::serialize`] or
    /// [`Engine::precompile_component`]; checked as [`Module::deserialize`] checks a module's.
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize`]: the artifact must come from Tenon, unmodified since.
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Component> {
        type Owned = ComponentMeta<ComponentInfo, Vec<(String, ItemType)>, ModuleInfo, Vec<(InterfaceType, Direction)>>;
        let contents = artifact::read::<Owned, (ComponentTypes, Vec<Vec<WasmFuncType>>)>(engine, Kind::Component, bytes.as_ref())?;
        let (meta, text, (types, module_types)) = (contents.metadata, contents.text, contents.types);
        let mut module_types = module_types.into_iter();
        let mut load = |m: ModuleMeta<ModuleInfo>| {
            let types = module_types.next().context("the artifact is corrupt: it lacks a module's types")?;
            Module::from_meta(engine, m.with_types(types), text)
        };
        let modules = meta.modules.into_iter().map(&mut load).collect::<Result<Vec<_>>>()?;
        let adapters = meta
            .adapters
            .into_iter()
            .map(|a| a.map(|(m, resources)| Ok(Adapter { module: load(m)?, resources: resources.into() })).transpose())
            .collect::<Result<Vec<_>>>()?;
        meta.info.check_indices(modules.len(), types.funcs.len())?;
        if adapters.len() != meta.info.initializers.len() {
            anyhow::bail!("the artifact is corrupt: its adapters do not match its component");
        }
        let inner = ComponentInner { engine: engine.clone(), info: meta.info, types: Arc::new(types), modules, exports: meta.exports, adapters };
        Ok(Component { inner: Arc::new(inner) })
    }

    /// [`Component::deserialize`] of `memory`, copied out of it as [`Module::deserialize_raw`] says.
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize_raw`].
    pub unsafe fn deserialize_raw(engine: &Engine, memory: std::ptr::NonNull<[u8]>) -> Result<Component> {
        // SAFETY: per the contract, `memory` is readable for this call.
        let bytes = unsafe { memory.as_ref() };
        // SAFETY: the caller vouches for the artifact.
        unsafe { Self::deserialize(engine, bytes) }
    }

    /// [`Component::deserialize`] of the file at `path`.
    ///
    /// # Safety
    ///
    /// As for [`Component::deserialize`].
    pub unsafe fn deserialize_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Component> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
        // SAFETY: the caller vouches for the file.
        unsafe { Self::deserialize(engine, bytes) }.with_context(|| format!("failed to load `{}`", path.display()))
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

    /// The fused adapter of initializer `index`, if it lowers a lifted function.
    pub(crate) fn adapter(&self, index: usize) -> Option<&Adapter> {
        self.inner.adapters.get(index)?.as_ref()
    }

    /// Core module `index` of the component.
    pub(crate) fn module(&self, index: usize) -> &Module {
        &self.inner.modules[index]
    }
}

/// Generates and compiles (in parallel) the adapter of each lowering of a lifted function.
fn compile_adapters(engine: &Engine, info: &ComponentInfo, types: &ComponentTypes) -> Result<Vec<Option<Adapter>>> {
    let side = |options: usize| {
        let options = &info.options[options];
        SideOptions {
            instance: options.instance,
            encoding: options.string_encoding,
            memory: options.memory.is_some(),
            realloc: options.realloc.is_some(),
            post_return: options.post_return.is_some(),
        }
    };
    info.initializers
        .par_iter()
        .map(|initializer| {
            let Initializer::Lower { callee: FuncDef::Lifted { ty, options: callee, .. }, options: caller } = initializer else {
                return Ok(None);
            };
            let (caller, callee) = (side(*caller), side(*callee));
            let entering = info.entering_set(Some(caller.instance), callee.instance);
            let generated = adapter::generate(types, *ty, caller, callee, &entering)?;
            let module = Module::adapter(engine, &generated.bytes).context("compiling a fused adapter")?;
            Ok(Some(Adapter { module, resources: generated.resources.into() }))
        })
        .collect()
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component").field("imports", &self.inner.info.imports.len()).finish_non_exhaustive()
    }
}
