//! Compiled modules.

use crate::Engine;
use crate::code::CodeImage;
use crate::compile::{self, module_info::ModuleInfo};
use crate::types::{ExportType, ImportType};
use crate::vm::offsets::VMOffsets;
use anyhow::{Context, Result};
use std::path::Path;
use std::sync::Arc;

/// A validated, compiled WebAssembly module, ready to be instantiated any number of times; cheap to clone.
#[derive(Clone)]
pub struct Module(Arc<ModuleInner>);

struct ModuleInner {
    engine: Engine,
    info: ModuleInfo,
    /// The machine code `defined_funcs` points into, mapped as long as the module lives.
    _image: CodeImage,
    offsets: VMOffsets,
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
        let compiled = compile::compile_module(engine.isa(), engine.tunables(), binary)?;
        let offsets = compile::offsets_for(&compiled.info);
        let type_ids = compiled.info.type_ids.clone().into_boxed_slice();
        let info = &compiled.info;
        let defined_funcs = (info.num_imported_funcs..info.funcs.len() as u32)
            .map(|i| {
                let code = compiled.image.function(i).expect("every defined function is in the image");
                (code as usize, type_ids[info.funcs[i as usize] as usize])
            })
            .collect();
        Ok(Module(Arc::new(ModuleInner {
            engine: engine.clone(),
            info: compiled.info,
            _image: compiled.image,
            offsets,
            type_ids,
            defined_funcs,
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
            ty: self.0.info.entity_type(i.index),
        })
    }

    /// The exports, in order.
    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> + '_ {
        self.0.info.exports.iter().map(|(name, index)| ExportType { name, ty: self.0.info.entity_type(*index) })
    }

    /// The export named `name`, if any.
    pub fn get_export(&self, name: &str) -> Option<crate::ExternType> {
        self.0.info.export_map.get(name).map(|&i| self.0.info.entity_type(i))
    }

    pub(crate) fn info(&self) -> &ModuleInfo {
        &self.0.info
    }

    pub(crate) fn offsets(&self) -> &VMOffsets {
        &self.0.offsets
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
