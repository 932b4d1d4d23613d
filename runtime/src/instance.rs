//! Instances: instantiation of a module with its imports, and access to its exports.

use crate::environ::module::{BinOp, ConstExpr, ConstOp, EntityIndex, SegmentMode};
use crate::func::HostFunc;
use crate::limits::ResourceLimiter;
use crate::store::{AsContextMut, InstanceRecord, StoreContextMut, StoreInner, StoreOpaque, Stored};
use crate::types::{ExternType, GlobalType, MemoryType, TableType, TagType};
use crate::vm::instance::InstanceData;
use crate::vm::vmcontext::GlobalStorage;
use crate::vm::{StorePtr, VMStore, ValRaw};
use crate::{Extern, Func, Global, Memory, Module, Result, Table, Tag, Trap, TypedFunc, WasmParams, WasmResults};
use anyhow::{Context, bail};
use std::ptr::NonNull;
use std::sync::Arc;

/// An instance of a module in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Instance(pub(crate) Stored);

/// One export of an instance.
#[derive(Clone, Debug)]
pub struct Export<'instance> {
    name: &'instance str,
    definition: Extern,
}

impl<'instance> Export<'instance> {
    /// The export's name.
    pub fn name(&self) -> &'instance str {
        self.name
    }
    /// The exported item's type.
    pub fn ty(&self, store: impl crate::AsContext) -> ExternType {
        self.definition.ty(store)
    }
    /// The exported item.
    pub fn into_extern(self) -> Extern {
        self.definition
    }
    /// The exported function, if it is one.
    pub fn into_func(self) -> Option<Func> {
        self.definition.into_func()
    }
    /// The exported table, if it is one.
    pub fn into_table(self) -> Option<Table> {
        self.definition.into_table()
    }
    /// The exported memory, if it is one.
    pub fn into_memory(self) -> Option<Memory> {
        self.definition.into_memory()
    }
    /// The exported global, if it is one.
    pub fn into_global(self) -> Option<Global> {
        self.definition.into_global()
    }
    /// The exported tag, if it is one.
    pub fn into_tag(self) -> Option<Tag> {
        self.definition.into_tag()
    }
}

impl Instance {
    /// Instantiates `module` with `imports`, given in the order of the module's imports.
    ///
    /// Errors if an import is missing or of the wrong type, or if initialisation or the start function traps.
    pub fn new(mut store: impl AsContextMut, module: &Module, imports: &[Extern]) -> Result<Instance> {
        let mut store = store.as_context_mut();
        for (import, decl) in imports.iter().zip(&module.info().imports) {
            let expected = ExternType::from_entity(module.info().entity_type(decl.index), module.types());
            if !store.opaque().owns(import.stored()) {
                bail!("cross-`Store` instantiation is not supported (import `{}::{}`)", decl.module, decl.name);
            }
            let actual = ImportType::of(store.opaque(), import)?;
            check_import(&decl.module, &decl.name, &expected, &actual)?;
        }
        instantiate(&mut store.0, module, imports)
    }

    /// The export `name`, if any.
    pub fn get_export(&self, mut store: impl AsContextMut, name: &str) -> Option<Extern> {
        let mut store = store.as_context_mut();
        let store = store.opaque();
        let index = store.index(self.0);
        let entity = *store.instances[index].module.info().export_map.get(name)?;
        export_entity(store, index, entity).ok()
    }

    /// All exports, in order.
    pub fn exports<'a, T: 'static>(
        &'a self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> impl ExactSizeIterator<Item = Export<'a>> + 'a {
        let store = &mut store.into().0.into_mut().opaque;
        let index = store.index(self.0);
        let info = store.instances[index].module.info().clone();
        // Making handles needs the store mutably; then the names are borrowed from it for `'a`.
        let definitions: Vec<Option<Extern>> =
            info.exports.iter().map(|(_, entity)| export_entity(store, index, *entity).ok()).collect();
        let store: &'a StoreOpaque = store;
        let names = store.instances[index].module.info().exports.iter().map(|(name, _)| name.as_str());
        names
            .zip(definitions)
            .filter_map(|(name, definition)| Some(Export { name, definition: definition? }))
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// The exported function `name`.
    pub fn get_func(&self, store: impl AsContextMut, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported function `name` with a checked static type.
    pub fn get_typed_func<Params: WasmParams, Results: WasmResults>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>> {
        let func = self
            .get_func(&mut store, name)
            .with_context(|| format!("failed to find function export `{name}`"))?;
        func.typed(&store).with_context(|| format!("failed to convert function `{name}` to given type"))
    }

    /// The exported memory `name`.
    pub fn get_memory(&self, store: impl AsContextMut, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported global `name`.
    pub fn get_global(&self, store: impl AsContextMut, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    /// The exported table `name`.
    pub fn get_table(&self, store: impl AsContextMut, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported tag `name`.
    pub fn get_tag(&self, store: impl AsContextMut, name: &str) -> Option<Tag> {
        self.get_export(store, name)?.into_tag()
    }

    /// The module this is an instance of.
    pub fn module<'a, T: 'static>(&self, store: impl Into<crate::StoreContext<'a, T>>) -> &'a Module {
        let store = &store.into().0.opaque;
        &store.instances[store.index(self.0)].module
    }
}

fn export_entity(store: &mut StoreOpaque, instance: usize, entity: EntityIndex) -> Result<Extern> {
    let data = store.instances[instance].data.get();
    Ok(match entity {
        EntityIndex::Func(i) => Extern::Func(instance_func(store, instance, i)?),
        EntityIndex::Memory(i) => Extern::Memory(Memory(store.stored(data.memories[i as usize] as usize))),
        EntityIndex::Table(i) => Extern::Table(Table(store.stored(data.tables[i as usize] as usize))),
        EntityIndex::Global(i) => Extern::Global(Global(store.stored(data.globals[i as usize] as usize))),
        EntityIndex::Tag(i) => Extern::Tag(Tag(store.stored(data.tags[i as usize] as usize))),
    })
}

/// The handle of function `index` of an instance, created on first use.
fn instance_func(store: &mut StoreOpaque, instance: usize, index: u32) -> Result<Func> {
    let record = &store.instances[instance];
    if let Some(&f) = record.data.get().func_handles.get(&index) {
        return Ok(Func(store.stored(f as usize)));
    }
    let funcref = record.data.get().funcref(index);
    let f = store.func_from_raw(funcref)?;
    store.instances[instance].data.get_mut().func_handles.insert(index, f);
    Ok(Func(store.stored(f as usize)))
}

/// What an import is given: its type and, for tables and memories, its current size.
#[derive(Clone, Debug)]
pub(crate) enum ImportType {
    Func(crate::FuncType),
    Global(GlobalType),
    Table(TableType, u64),
    Memory(MemoryType, u64),
    Tag(TagType),
}

impl ImportType {
    /// The type of `item`, which must belong to `store`.
    pub(crate) fn of(store: &StoreOpaque, item: &Extern) -> Result<ImportType> {
        if !store.owns(item.stored()) {
            bail!("cross-`Store` instantiation is not supported");
        }
        Ok(match item {
            Extern::Func(f) => ImportType::Func(store.funcs[store.index(f.0)].ty.clone()),
            Extern::Global(g) => ImportType::Global(store.globals[store.index(g.0)].ty.clone()),
            Extern::Tag(t) => ImportType::Tag(store.tags[store.index(t.0)].clone()),
            Extern::Table(t) => {
                let table = &store.tables[store.index(t.0)];
                ImportType::Table(table.ty.clone(), table.storage.size())
            }
            Extern::Memory(m) => {
                let memory = &store.memories[store.index(m.0)];
                ImportType::Memory(MemoryType::from_wasm(memory.ty()), memory.pages())
            }
        })
    }

    /// The type as an import matches it: tables and memories with their current size as minimum.
    fn as_extern_type(&self) -> ExternType {
        match self {
            ImportType::Func(t) => ExternType::Func(t.clone()),
            ImportType::Global(t) => ExternType::Global(t.clone()),
            ImportType::Tag(t) => ExternType::Tag(t.clone()),
            ImportType::Table(t, size) => {
                let max = t.maximum().map(|m| m as u32);
                ExternType::Table(TableType::new(t.element().clone(), *size as u32, max))
            }
            ImportType::Memory(t, pages) => {
                ExternType::Memory(MemoryType::new(*pages as u32, t.maximum().map(|m| m as u32)))
            }
        }
    }
}

/// Checks that an item of type `actual` may be imported as `module::name`, declared as `expected`.
pub(crate) fn check_import(module: &str, name: &str, expected: &ExternType, actual: &ImportType) -> Result<()> {
    let ok = match (expected, actual) {
        (ExternType::Func(e), ImportType::Func(a)) => a == e,
        (ExternType::Global(e), ImportType::Global(a)) => a.matches(e),
        (ExternType::Tag(e), ImportType::Tag(a)) => a == e,
        (ExternType::Table(e), ImportType::Table(a, size)) => a.matches(*size, e),
        (ExternType::Memory(e), ImportType::Memory(a, pages)) => a.matches(*pages, e),
        _ => false,
    };
    if !ok {
        bail!("incompatible import type for `{module}::{name}`: expected {expected}, found {}", actual.as_extern_type());
    }
    Ok(())
}

/// Instantiates `module` in the store `store` lends, with `imports` (in the order of the module's imports,
/// already checked against its import types), and runs its start function.
pub(crate) fn instantiate<T: 'static>(
    store: &mut StorePtr<'_, StoreInner<T>>,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance> {
    let vm_store: NonNull<dyn VMStore> = store.as_raw();
    let (opaque, limiter) = store.get_mut().opaque_and_limiter();
    let (instance, start) = build(opaque, limiter, vm_store, module, imports)?;
    if let Some(start) = start {
        crate::func::entry::call_vals(store, start, &[], &mut [])?;
    }
    Ok(instance)
}

/// Creates the instance: its context, globals, tables, memories and segments; returns it and its start
/// function, which the caller runs.
fn build(
    store: &mut StoreOpaque,
    mut limiter: Option<&mut dyn ResourceLimiter>,
    vm_store: NonNull<dyn VMStore>,
    module: &Module,
    imports: &[Extern],
) -> Result<(Instance, Option<Func>)> {
    if !crate::Engine::same(&store.engine, module.engine()) {
        bail!("cross-`Engine` instantiation is not supported");
    }
    let info = module.info();
    if imports.len() != info.imports.len() {
        bail!("expected {} imports, found {}", info.imports.len(), imports.len());
    }
    for (import, decl) in imports.iter().zip(&info.imports) {
        if !store.owns(import.stored()) {
            bail!("cross-`Store` instantiation is not supported (import `{}::{}`)", decl.module, decl.name);
        }
    }
    let defined_tables = info.tables.len() - info.num_imported_tables as usize;
    let defined_memories = info.memories.len() - info.num_imported_memories as usize;
    store.check_instance_limits(crate::limits::reborrow(&mut limiter), defined_tables, defined_memories)?;

    let index = store.instances.len();
    let context = store.vm_context.as_ptr().as_ptr();
    let data = InstanceData::new(Arc::clone(info), module.type_ids().as_ptr(), vm_store, context, index as u32)?;
    store.instances.push(InstanceRecord { data, module: module.clone() });
    // From here on the instance is in the store, even if a later step fails: its context holds the storage
    // of the globals it defines, and segments already written stay in effect, as the spec requires.
    initialize(store, limiter, index, imports)?;
    let handle = Instance(store.stored(index));
    let start = match info.start {
        Some(start) => Some(instance_func(store, index, start)?),
        None => None,
    };
    Ok((handle, start))
}

/// Fills in instance `index`'s functions, globals, tags, tables and memories, and applies its segments.
fn initialize(
    store: &mut StoreOpaque,
    mut limiter: Option<&mut dyn ResourceLimiter>,
    index: usize,
    imports: &[Extern],
) -> Result<()> {
    let module = store.instances[index].module.clone();
    let info = module.info();

    // Functions: imported ones copy the callee's funcref, defined ones point at this image.
    for (i, import) in imports.iter().filter_map(|e| e.into_func()).enumerate() {
        let f = store.index(import.0);
        let contents = store.funcs[f].contents;
        let instance = store.instances[index].data.get_mut();
        instance.set_funcref(i as u32, &contents);
        instance.func_handles.insert(i as u32, f as u32);
    }
    store.instances[index].data.get_mut().set_defined_funcrefs(info.num_imported_funcs, module.defined_funcs());

    // Globals: imported ones, then defined ones in order (an initialiser may read earlier globals).
    for import in imports.iter().filter_map(|e| e.into_global()) {
        let g = store.index(import.0) as u32;
        store.instances[index].data.get_mut().globals.push(g);
    }
    for (decl, i) in info.globals[info.num_imported_globals as usize..].iter().zip(info.num_imported_globals..) {
        let value = eval_const(store, index, &decl.init);
        let slot = store.instances[index].data.get_mut().init_defined_global(i, value);
        let g = store.add_global(GlobalStorage::InInstance(slot), GlobalType::from_wasm(decl.ty, module.types()));
        store.instances[index].data.get_mut().globals.push(g);
    }
    for i in 0..info.globals.len() {
        let g = store.instances[index].data.get().globals[i];
        let def = store.globals[g as usize].def.definition();
        store.instances[index].data.get_mut().set_global(i as u32, def);
    }

    // Tags: each defined tag is new, distinct from every other.
    for import in imports.iter().filter_map(|e| e.into_tag()) {
        let t = store.index(import.0) as u32;
        store.instances[index].data.get_mut().tags.push(t);
    }
    for &ty in &info.tags[info.num_imported_tags as usize..] {
        let t = store.create_tag(TagType::new(module.types()[ty as usize].clone()));
        store.instances[index].data.get_mut().tags.push(t);
    }

    // Tables and memories.
    for import in imports.iter().filter_map(|e| e.into_table()) {
        let t = store.index(import.0) as u32;
        store.instances[index].data.get_mut().tables.push(t);
    }
    for decl in &info.tables[info.num_imported_tables as usize..] {
        let init = decl.init.as_ref().map_or(0, |e| eval_const(store, index, e).get_reference());
        let t = store.create_table(crate::limits::reborrow(&mut limiter), TableType::from_wasm(decl.ty, module.types()), init)?;
        store.instances[index].data.get_mut().tables.push(t);
    }
    for i in 0..info.tables.len() {
        let t = store.instances[index].data.get().tables[i];
        let def = store.tables[t as usize].storage.definition();
        store.instances[index].data.get_mut().set_table(i as u32, def);
    }
    for import in imports.iter().filter_map(|e| e.into_memory()) {
        let m = store.index(import.0) as u32;
        store.instances[index].data.get_mut().memories.push(m);
    }
    for &ty in &info.memories[info.num_imported_memories as usize..] {
        let m = store.create_memory(crate::limits::reborrow(&mut limiter), MemoryType::from_wasm(ty))?;
        store.instances[index].data.get_mut().memories.push(m);
    }
    for i in 0..info.memories.len() {
        let m = store.instances[index].data.get().memories[i];
        let memory = &store.memories[m as usize];
        // Code never reads the cached base of a memory that may move (nor one whose type says it may).
        let base = if memory.may_move() { std::ptr::null_mut() } else { memory.base() };
        let def = memory.definition();
        store.instances[index].data.get_mut().set_memory(i as u32, def, base);
    }

    // Segments, in order; a failing one leaves the effects of those before it in place.
    for (i, segment) in info.elements.iter().enumerate() {
        let funcrefs = store.instances[index].data.get().funcrefs();
        let items: Vec<usize> = segment
            .items
            .iter()
            .map(|e| match e.0.as_slice() {
                // The usual item, a function: its funcref, without evaluating an expression.
                [ConstOp::RefFunc(f)] => funcrefs.wrapping_add(*f as usize) as usize,
                _ => eval_const(store, index, e).get_reference(),
            })
            .collect();
        match &segment.mode {
            SegmentMode::Passive => store.instances[index].data.get_mut().passive_elements[i] = Some(items),
            SegmentMode::Declared => {}
            SegmentMode::Active { index: table, offset } => {
                let offset = eval_const(store, index, offset).get_i32() as u32 as usize;
                let t = store.instances[index].data.get().tables[*table as usize];
                let elements = store.tables[t as usize].storage.elements_mut();
                let Some(dst) = offset.checked_add(items.len()).and_then(|end| elements.get_mut(offset..end)) else {
                    bail!(Trap::TableOutOfBounds);
                };
                dst.copy_from_slice(&items);
            }
        }
    }
    // Memory 0, the module's own and still untouched, becomes the module's image of its data when it has one
    // (then every active segment is in it, and none can fail).
    let image = module.memory_image();
    if let Some(image) = image {
        let m = store.instances[index].data.get().memories[0];
        store.memories[m as usize].map_image(image)?;
    }
    for (i, segment) in info.data.iter().enumerate() {
        if image.is_some() && matches!(segment.mode, SegmentMode::Active { .. }) {
            store.instances[index].data.get_mut().dropped_data[i] = true;
            continue;
        }
        if let SegmentMode::Active { index: memory, offset } = &segment.mode {
            let offset = eval_const(store, index, offset).get_i32() as u32 as usize;
            let m = store.instances[index].data.get().memories[*memory as usize];
            let bytes = store.memories[m as usize].data_mut();
            let Some(dst) = offset.checked_add(segment.bytes.len()).and_then(|end| bytes.get_mut(offset..end)) else {
                bail!(Trap::MemoryOutOfBounds);
            };
            dst.copy_from_slice(&segment.bytes);
            store.instances[index].data.get_mut().dropped_data[i] = true;
        }
    }
    Ok(())
}

/// Evaluates a constant expression in the context of instance `index`, which may be partly built.
fn eval_const(store: &StoreOpaque, index: usize, expr: &ConstExpr) -> ValRaw {
    let instance = store.instances[index].data.get();
    // Most are a single operand (an element segment has one per item): no stack needed.
    if let [op] = expr.0.as_slice()
        && let Some(value) = eval_operand(store, instance, op)
    {
        return value;
    }
    let mut stack: Vec<ValRaw> = Vec::with_capacity(2);
    for op in &expr.0 {
        let value = match *op {
            ConstOp::I32Bin(op) => {
                let (b, a) = (stack.pop().unwrap_or_default().get_i32(), stack.pop().unwrap_or_default().get_i32());
                ValRaw::i32(match op {
                    BinOp::Add => a.wrapping_add(b),
                    BinOp::Sub => a.wrapping_sub(b),
                    BinOp::Mul => a.wrapping_mul(b),
                })
            }
            ConstOp::I64Bin(op) => {
                let (b, a) = (stack.pop().unwrap_or_default().get_i64(), stack.pop().unwrap_or_default().get_i64());
                ValRaw::i64(match op {
                    BinOp::Add => a.wrapping_add(b),
                    BinOp::Sub => a.wrapping_sub(b),
                    BinOp::Mul => a.wrapping_mul(b),
                })
            }
            ref operand => eval_operand(store, instance, operand).unwrap_or_default(),
        };
        stack.push(value);
    }
    stack.pop().unwrap_or_default()
}

/// The value of an operand of a constant expression (`None` for an operator).
fn eval_operand(store: &StoreOpaque, instance: &InstanceData, op: &ConstOp) -> Option<ValRaw> {
    Some(match *op {
        ConstOp::I32(v) => ValRaw::i32(v),
        ConstOp::I64(v) => ValRaw::i64(v),
        ConstOp::F32(v) => ValRaw::f32(v),
        ConstOp::F64(v) => ValRaw::f64(v),
        ConstOp::RefNull => ValRaw::reference(0),
        ConstOp::RefFunc(f) => ValRaw::reference(instance.funcref(f) as usize),
        ConstOp::GlobalGet(g) => store.globals[instance.globals[g as usize] as usize].def.get(),
        ConstOp::I32Bin(_) | ConstOp::I64Bin(_) => return None,
    })
}

/// A module with its imports resolved and type-checked once by a [`Linker`](crate::Linker), ready to be
/// instantiated quickly any number of times (in any store of the linker's engine). Cheap to clone.
pub struct InstancePre<T: 'static> {
    module: Module,
    items: Arc<[PreItem<T>]>,
}

/// One resolved import of an [`InstancePre`].
pub(crate) enum PreItem<T: 'static> {
    /// An item of a store (usable only with that store).
    Extern(Extern),
    /// A host function, placed in each store the module is instantiated in.
    HostFunc(Arc<HostFunc<T>>),
}

impl<T: 'static> std::fmt::Debug for InstancePre<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstancePre").field("module", &self.module).finish_non_exhaustive()
    }
}

impl<T: 'static> Clone for InstancePre<T> {
    fn clone(&self) -> Self {
        InstancePre { module: self.module.clone(), items: self.items.clone() }
    }
}

impl<T: 'static> InstancePre<T> {
    /// Resolved imports `items` (in the order of `module`'s imports, checked against their types).
    pub(crate) fn new(module: Module, items: Vec<PreItem<T>>) -> Self {
        InstancePre { module, items: items.into() }
    }

    /// The module this instantiates.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Instantiates the module in `store`: host functions are placed in the store, and items defined in a
    /// store must belong to this one.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        let mut store = store.as_context_mut();
        let mut imports = Vec::with_capacity(self.items.len());
        for item in self.items.iter() {
            imports.push(match item {
                PreItem::Extern(e) => *e,
                PreItem::HostFunc(f) => Extern::Func(f.place_in(&mut store.0)?),
            });
        }
        instantiate(&mut store.0, &self.module, &imports)
    }
}
