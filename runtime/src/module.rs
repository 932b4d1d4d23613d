//! Compiled modules.

use crate::Engine;
use crate::code::{CodeBuilder, CodeImage};
use crate::compile;
use crate::environ::{FuncKey, ModuleInfo};
use crate::types::{ExportType, ExternType, FuncType, ImportType};
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::sync::Arc;

/// A validated, compiled WebAssembly module, ready to be instantiated any number of times; cheap to clone.
#[derive(Clone)]
pub struct Module(Arc<ModuleInner>);

struct ModuleInner {
    engine: Engine,
    info: Arc<ModuleInfo>,
    /// The machine code `defined_funcs` points into, mapped as long as the module lives.
    _image: CodeImage,
    /// The registered type of each entry of the type section (which keeps them registered).
    types: Box<[FuncType]>,
    /// Their ids, which compiled code compares (`call_indirect`).
    type_ids: Box<[u32]>,
    /// Code address and type id of each defined function, in index order: what instantiation copies into
    /// the instance's funcrefs.
    defined_funcs: Box<[(usize, u32)]>,
}

impl Module {
    /// Compiles a module from its binary or text (WAT) form.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = wat::parse_bytes(bytes.as_ref()).context("failed to parse WebAssembly text")?;
        Self::from_binary(engine, &bytes)
    }

    /// Compiles a module from its binary form.
    pub fn from_binary(engine: &Engine, binary: &[u8]) -> Result<Module> {
        Self::compile(engine, engine.tunables(), binary)
    }

    /// Compiles a component's fused adapter: core wasm the runtime generated, which may use several
    /// memories and bulk memory whatever the engine's features.
    pub(crate) fn adapter(engine: &Engine, binary: &[u8]) -> Result<Module> {
        let mut tunables = engine.tunables().clone();
        tunables.features |= wasmparser::WasmFeatures::MULTI_MEMORY | wasmparser::WasmFeatures::BULK_MEMORY;
        Self::compile(engine, &tunables, binary)
    }

    fn compile(engine: &Engine, tunables: &compile::Tunables, binary: &[u8]) -> Result<Module> {
        let compiled = compile::compile_module(engine.isa(), tunables, binary)?;
        let info = compiled.info;
        let mut code = CodeBuilder::default();
        for (key, f) in &compiled.functions {
            code.append(*key, f);
            engine.note_frame_size(f.frame_size);
        }
        let image = code.publish(Some(info.names.clone()))?;
        let mut types: Vec<FuncType> = Vec::with_capacity(info.types.len());
        for ty in &info.types {
            let registered = FuncType::from_wasm(ty, &types);
            types.push(registered);
        }
        let type_ids: Box<[u32]> = types.iter().map(|t| t.registered().id()).collect();
        let mut defined_funcs = Vec::with_capacity(info.funcs.len() - info.num_imported_funcs as usize);
        for ((key, code), index) in image.functions().zip(info.num_imported_funcs..) {
            if key != (FuncKey::Wasm { module: 0, index }) {
                bail!("the image's functions are not the module's defined functions in order");
            }
            defined_funcs.push((code as usize, type_ids[info.funcs[index as usize] as usize]));
        }
        Ok(Module(Arc::new(ModuleInner {
            engine: engine.clone(),
            info: Arc::new(info),
            _image: image,
            types: types.into(),
            type_ids,
            defined_funcs: defined_funcs.into(),
        })))
    }

    /// Compiles the module in a file (binary or text).
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
        Self::new(engine, bytes).with_context(|| format!("failed to compile `{}`", path.display()))
    }

    /// Checks that `binary` is a valid module Tenon supports, without keeping the compiled code.
    pub fn validate(engine: &Engine, binary: &[u8]) -> Result<()> {
        Self::from_binary(engine, binary).map(drop)
    }

    /// The module's name from its name section.
    pub fn name(&self) -> Option<&str> {
        self.0.info.names.module.as_deref()
    }

    /// The engine the module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.0.engine
    }

    /// The imports, in order.
    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> + '_ {
        self.0.info.imports.iter().map(|i| ImportType {
            module: &i.module,
            name: &i.name,
            ty: ExternType::from_entity(self.0.info.entity_type(i.index), &self.0.types),
        })
    }

    /// The exports, in order.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> + '_ {
        self.0.info.exports.iter().map(|(name, index)| ExportType {
            name,
            ty: ExternType::from_entity(self.0.info.entity_type(*index), &self.0.types),
        })
    }

    /// The type of the export named `name`, if any.
    pub fn get_export(&self, name: &str) -> Option<ExternType> {
        let index = *self.0.info.export_map.get(name)?;
        Some(ExternType::from_entity(self.0.info.entity_type(index), &self.0.types))
    }

    pub(crate) fn info(&self) -> &Arc<ModuleInfo> {
        &self.0.info
    }

    /// The registered type of each entry of the type section.
    pub(crate) fn types(&self) -> &[FuncType] {
        &self.0.types
    }

    pub(crate) fn type_ids(&self) -> &[u32] {
        &self.0.type_ids
    }

    /// Code address and type id of each defined function, in index order.
    pub(crate) fn defined_funcs(&self) -> &[(usize, u32)] {
        &self.0.defined_funcs
    }
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module").field("name", &self.name()).finish_non_exhaustive()
    }
}
