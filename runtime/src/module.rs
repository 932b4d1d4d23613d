//! Compiled modules.

use crate::Engine;
use crate::artifact::{self, Kind, ModuleMeta, ModuleParts};
use crate::code::{CodeBuilder, CodeImage};
use crate::compile;
use crate::environ::{FuncKey, ModuleInfo};
use crate::vm::memory::MemoryImage;
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
    image: CodeImage,
    /// The largest stack frame of its functions.
    max_frame_size: u32,
    /// The initial contents of its first memory as an image to map (made when first instantiated), if
    /// that memory is its own and its data is large and placed at constant offsets.
    memory_image: std::sync::OnceLock<Option<MemoryImage>>,
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
    /// memories, bulk memory, multiple results, sign extension and mutable imported globals whatever the
    /// engine's features.
    pub(crate) fn adapter(engine: &Engine, binary: &[u8]) -> Result<Module> {
        let mut tunables = engine.tunables().clone();
        use wasmparser::WasmFeatures as F;
        tunables.features |= F::MULTI_MEMORY | F::BULK_MEMORY | F::MULTI_VALUE | F::SIGN_EXTENSION | F::MUTABLE_GLOBAL;
        Self::compile(engine, &tunables, binary)
    }

    fn compile(engine: &Engine, tunables: &compile::Tunables, binary: &[u8]) -> Result<Module> {
        let compiled = compile::compile_module(engine.isa(), tunables, binary)?;
        let info = compiled.info;
        let mut code = CodeBuilder::default();
        for (key, f) in &compiled.functions {
            code.append(*key, f);
        }
        let max_frame_size = code.max_frame_size();
        let image = code.publish(Some(info.names.clone()))?;
        Self::from_image(engine, Arc::new(info), image, max_frame_size)
    }

    /// The module of `info` whose code is `image` (with frames of at most `max_frame_size` bytes).
    fn from_image(engine: &Engine, info: Arc<ModuleInfo>, image: CodeImage, max_frame_size: u32) -> Result<Module> {
        engine.note_frame_size(max_frame_size);
        let mut types: Vec<FuncType> = Vec::with_capacity(info.types.len());
        for ty in &info.types {
            let registered = FuncType::from_wasm(ty, &types);
            types.push(registered);
        }
        let type_ids: Box<[u32]> = types.iter().map(|t| t.registered().id()).collect();
        let num_defined = info.funcs.len().checked_sub(info.num_imported_funcs as usize).context("more imported functions than functions")?;
        let mut defined_funcs = Vec::with_capacity(num_defined);
        let mut image_funcs = image.functions();
        for index in info.num_imported_funcs..info.funcs.len() as u32 {
            let Some((key, code)) = image_funcs.next() else { bail!("the image lacks function {index}") };
            if key != (FuncKey::Wasm { module: 0, index }) {
                bail!("the image's functions are not the module's defined functions in order");
            }
            let type_id = type_ids.get(info.funcs[index as usize] as usize).context("a function of an unknown type")?;
            defined_funcs.push((code as usize, *type_id));
        }
        if image_funcs.next().is_some() {
            bail!("the image has more functions than the module defines");
        }
        drop(image_funcs);
        Ok(Module(Arc::new(ModuleInner {
            engine: engine.clone(),
            info,
            max_frame_size,
            memory_image: std::sync::OnceLock::new(),
            image,
            types: types.into(),
            type_ids,
            defined_funcs: defined_funcs.into(),
        })))
    }

    /// What an artifact holds of the module.
    pub(crate) fn parts(&self) -> ModuleParts<'_> {
        ModuleParts {
            info: &self.0.info,
            text: self.0.image.text(),
            functions: self.0.image.function_ranges(),
            traps: self.0.image.traps(),
            max_frame_size: self.0.max_frame_size,
        }
    }

    /// The module an artifact describes with `meta`, its code in the code section `text`.
    pub(crate) fn from_meta(engine: &Engine, meta: ModuleMeta<ModuleInfo>, text: &[u8]) -> Result<Module> {
        meta.info.check_indices()?;
        let code = meta.code(text)?;
        let info = Arc::new(meta.info);
        let image = CodeImage::publish(code, meta.functions, meta.traps, Some(info.names.clone()))?;
        Self::from_image(engine, info, image, meta.max_frame_size)
    }

    /// The module as an artifact: an ELF file that [`Module::deserialize`] loads without compiling, with an
    /// engine of the same settings.
    pub fn serialize(&self) -> Result<Vec<u8>> {
        let mut text = Vec::new();
        let parts = self.parts();
        let meta = parts.meta(&mut text)?;
        artifact::write(&self.0.engine, Kind::Module, &meta, &self.0.info.types, &text)
    }

    /// Loads a module from an artifact made by [`Module::serialize`] or [`Engine::precompile_module`].
    ///
    /// The artifact is checked: a file that is not one, or is truncated or corrupted (its checksum covers
    /// every byte), or was compiled with other settings than `engine`'s (each setting is named) is an
    /// error.
    ///
    /// # Safety
    ///
    /// The machine code in the artifact is run as it is: it must come from Tenon, unmodified since. An
    /// artifact crafted with a matching checksum can do anything the process can.
    pub unsafe fn deserialize(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let contents = artifact::read::<ModuleMeta<ModuleInfo>, _>(engine, Kind::Module, bytes.as_ref())?;
        Self::from_meta(engine, contents.metadata.with_types(contents.types), contents.text)
    }

    /// [`Module::deserialize`] of the file at `path`.
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize`].
    pub unsafe fn deserialize_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
        // SAFETY: the caller vouches for the file.
        unsafe { Self::deserialize(engine, bytes) }.with_context(|| format!("failed to load `{}`", path.display()))
    }

    /// [`Module::deserialize`] of an open file (for a process that may not open files itself).
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize`].
    pub unsafe fn deserialize_open_file(engine: &Engine, mut file: std::fs::File) -> Result<Module> {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes).context("failed to read the artifact")?;
        // SAFETY: the caller vouches for the file.
        unsafe { Self::deserialize(engine, bytes) }
    }

    /// [`Module::deserialize`] of `memory`. Tenon copies the code out of it, so (unlike Wasmtime, which runs
    /// it in place) the memory need not outlive the module.
    ///
    /// # Safety
    ///
    /// As for [`Module::deserialize`]; `memory` must be valid for reads for the duration of the call.
    pub unsafe fn deserialize_raw(engine: &Engine, memory: std::ptr::NonNull<[u8]>) -> Result<Module> {
        // SAFETY: per the contract, `memory` is readable for this call.
        let bytes = unsafe { memory.as_ref() };
        // SAFETY: the caller vouches for the artifact.
        unsafe { Self::deserialize(engine, bytes) }
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

    /// The image of memory 0's initial contents, if the module has one (see [`memory_image`]).
    pub(crate) fn memory_image(&self) -> Option<&MemoryImage> {
        self.0.memory_image.get_or_init(|| memory_image(&self.0.info)).as_ref()
    }

    /// Code address and type id of each defined function, in index order.
    pub(crate) fn defined_funcs(&self) -> &[(usize, u32)] {
        &self.0.defined_funcs
    }
}

/// Images of less data than this are not worth a mapping: for a module with a few bytes of data, mapping an
/// image (and mapping zeroes back at release) made instantiating it 4.8 -> 5.9 µs, where copying costs one
/// page fault.
const MIN_MEMORY_IMAGE: usize = 64 << 10;

/// The image of memory 0's initial contents, covering the whole pages from its first data to its last, when
/// instantiation can map it instead of copying the data segments: the memory is the module's own (an
/// imported one's contents are the importer's), every active data segment is for it, at a constant offset,
/// inside its initial size (so none can fail), and there is at least [`MIN_MEMORY_IMAGE`] of data, at least
/// half of the image (so that data spread thinly over a large memory is copied, not imaged). Failing to make
/// the file leaves the module on the copying path.
fn memory_image(info: &ModuleInfo) -> Option<MemoryImage> {
    use crate::environ::WASM_PAGE_SIZE;
    use crate::environ::module::{ConstOp, SegmentMode};
    if info.num_imported_memories != 0 || info.memories.is_empty() {
        return None;
    }
    let initial = usize::try_from(info.memories[0].minimum).ok()?.checked_mul(WASM_PAGE_SIZE)?;
    let mut parts = Vec::new();
    for segment in &info.data {
        let SegmentMode::Active { index, offset } = &segment.mode else { continue };
        let (0, [ConstOp::I32(at)]) = (*index, offset.0.as_slice()) else { return None };
        let start = *at as u32 as usize;
        start.checked_add(segment.bytes.len()).filter(|&end| end <= initial)?;
        parts.push((start, &segment.bytes[..]));
    }
    let data: usize = parts.iter().map(|(_, bytes)| bytes.len()).sum();
    let page = crate::vm::sys::page_size();
    let start = parts.iter().filter(|(_, b)| !b.is_empty()).map(|(at, _)| at - at % page).min()?;
    // Whole host pages; the initial size is whole wasm pages, so the range fits in it.
    let end = parts.iter().map(|(at, bytes)| at + bytes.len()).max()?.next_multiple_of(page).min(initial);
    if data < MIN_MEMORY_IMAGE || end - start > 2 * data {
        return None;
    }
    MemoryImage::new(start..end, parts.into_iter().filter(|(_, b)| !b.is_empty())).ok()
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module").field("name", &self.name()).finish_non_exhaustive()
    }
}
