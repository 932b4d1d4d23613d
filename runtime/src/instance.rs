//! Instances: instantiation of a module with its imports, and access to its exports.

use crate::compile::module_info::{BinOp, ConstExpr, ConstOp, EntityIndex, SegmentMode};
use crate::store::{AsContextMut, StoreOpaque, Stored};
use crate::types::{ExternType, TagType};
use crate::vm::ValRaw;
use crate::vm::vmcontext::GlobalStorage;
use crate::vm::instance::InstanceData;
use crate::{Extern, Func, Global, Memory, Module, Result, Table, Tag, Trap, TypedFunc, WasmParams, WasmResults};
use anyhow::{Context, bail};

/// An instance of a module in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Instance(pub(crate) Stored);

/// One export of an instance.
#[derive(Clone, Debug)]
pub struct Export {
    name: String,
    item: Extern,
}

impl Export {
    /// The export's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The exported item.
    pub fn into_extern(self) -> Extern {
        self.item
    }
}

impl Instance {
    /// Instantiates `module` with `imports`, given in the order of the module's imports.
    ///
    /// Errors if an import is missing or of the wrong type, or if initialisation or the start function traps.
    pub fn new(mut store: impl AsContextMut, module: &Module, imports: &[Extern]) -> Result<Instance> {
        let store = store.as_context_mut().0.opaque();
        instantiate(store, module, imports)
    }

    /// The export `name`, if any.
    pub fn get_export(&self, mut store: impl AsContextMut, name: &str) -> Option<Extern> {
        let store = store.as_context_mut().0.opaque();
        let index = store.index(self.0);
        let entity = *store.instances[index].module.info().export_map.get(name)?;
        Some(export_entity(store, index, entity))
    }

    /// All exports, in order.
    pub fn exports(&self, mut store: impl AsContextMut) -> Vec<Export> {
        let store = store.as_context_mut().0.opaque();
        let index = store.index(self.0);
        let module = store.instances[index].module.clone();
        module
            .info()
            .exports
            .iter()
            .map(|(name, entity)| Export { name: name.clone(), item: export_entity(store, index, *entity) })
            .collect()
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

    /// The module this is an instance of.
    pub fn module<'a, T: 'a>(&self, store: impl Into<crate::StoreContext<'a, T>>) -> &'a Module {
        let store = &store.into().0.opaque;
        &store.instances[store.index(self.0)].module
    }
}

fn export_entity(store: &mut StoreOpaque, instance: usize, entity: EntityIndex) -> Extern {
    let data = &store.instances[instance];
    match entity {
        EntityIndex::Func(i) => Extern::Func(instance_func(store, instance, i)),
        EntityIndex::Memory(i) => Extern::Memory(Memory(store.stored(data.memories[i as usize] as usize))),
        EntityIndex::Table(i) => Extern::Table(Table(store.stored(data.tables[i as usize] as usize))),
        EntityIndex::Global(i) => Extern::Global(Global(store.stored(data.globals[i as usize] as usize))),
        EntityIndex::Tag(i) => Extern::Tag(Tag(store.stored(data.tags[i as usize] as usize))),
    }
}

/// The handle of function `index` of an instance, created on first use.
fn instance_func(store: &mut StoreOpaque, instance: usize, index: u32) -> Func {
    let data = &store.instances[instance];
    if let Some(&f) = data.func_handles.get(&index) {
        return Func(store.stored(f as usize));
    }
    let funcref = data.funcref(index);
    let ty = data.module.info().func_type(index).clone();
    let f = store.add_func(funcref, ty).expect("compiling the trampolines of an exported function");
    store.instances[instance].func_handles.insert(index, f);
    Func(store.stored(f as usize))
}

fn check_import(store: &mut StoreOpaque, module: &Module, index: usize, import: &Extern) -> Result<()> {
    let decl = &module.info().imports[index];
    let name = || format!("`{}::{}`", decl.module, decl.name);
    if !store.owns(import.stored()) {
        bail!("cross-`Store` instantiation is not supported (import {})", name());
    }
    let expected = module.info().entity_type(decl.index);
    let ok = match (&expected, import) {
        (ExternType::Func(e), Extern::Func(f)) => store.funcs[store.index(f.0)].ty == *e,
        (ExternType::Global(e), Extern::Global(g)) => store.globals[store.index(g.0)].ty.matches(e),
        (ExternType::Tag(e), Extern::Tag(t)) => store.tags[store.index(t.0)] == *e,
        (ExternType::Table(e), Extern::Table(t)) => {
            let table = &store.tables[store.index(t.0)];
            table.ty().matches(table.size(), e)
        }
        (ExternType::Memory(e), Extern::Memory(m)) => {
            let memory = &store.memories[store.index(m.0)];
            memory.ty().matches(memory.pages(), e)
        }
        _ => false,
    };
    if !ok {
        let actual = match import {
            Extern::Func(f) => ExternType::Func(store.funcs[store.index(f.0)].ty.clone()),
            Extern::Global(g) => ExternType::Global(store.globals[store.index(g.0)].ty),
            Extern::Tag(t) => ExternType::Tag(store.tags[store.index(t.0)].clone()),
            Extern::Table(t) => {
                let table = &store.tables[store.index(t.0)];
                ExternType::Table(crate::TableType::new(*table.ty().element(), table.size() as u32, table.ty().maximum()))
            }
            Extern::Memory(m) => {
                let memory = &store.memories[store.index(m.0)];
                ExternType::Memory(crate::MemoryType::new(memory.pages() as u32, memory.ty().maximum().map(|m| m as u32)))
            }
        };
        bail!("incompatible import type for {}: expected {expected}, found {actual}", name());
    }
    Ok(())
}

pub(crate) fn instantiate(store: &mut StoreOpaque, module: &Module, imports: &[Extern]) -> Result<Instance> {
    if !crate::Engine::same(&store.engine, module.engine()) {
        bail!("cross-`Engine` instantiation is not supported");
    }
    let info = module.info();
    if imports.len() != info.imports.len() {
        bail!("expected {} imports, found {}", info.imports.len(), imports.len());
    }
    for (i, import) in imports.iter().enumerate() {
        check_import(store, module, i, import)?;
    }
    let defined_tables = info.tables.len() - info.num_imported_tables as usize;
    let defined_memories = info.memories.len() - info.num_imported_memories as usize;
    store.check_instance_limits(defined_tables, defined_memories)?;

    let index = store.instances.len();
    let store_ptr: *mut StoreOpaque = store;
    let mut instance = InstanceData::new(module.clone(), store_ptr, &mut *store.vm_context, index as u32);

    // Functions: imported ones copy the callee's funcref, defined ones point at this image.
    for (i, import) in imports.iter().filter_map(|e| e.into_func()).enumerate() {
        let data = &store.funcs[store.index(import.0)];
        // SAFETY: a function handle's funcref is live as long as its store.
        let (func_ptr, callee_vmctx, type_id) =
            unsafe { ((*data.funcref).func_ptr, (*data.funcref).vmctx, (*data.funcref).type_id) };
        instance.set_funcref(i as u32, func_ptr, callee_vmctx, type_id);
        instance.func_handles.insert(i as u32, store.index(import.0) as u32);
    }
    instance.set_defined_funcrefs(info.num_imported_funcs, module.defined_funcs());

    // Globals: imported ones, then defined ones in order (an initialiser may read earlier globals).
    for import in imports.iter().filter_map(|e| e.into_global()) {
        let g = store.index(import.0) as u32;
        instance.globals.push(g);
    }
    for (decl, i) in info.globals[info.num_imported_globals as usize..].iter().zip(info.num_imported_globals..) {
        let value = eval_const(store, &instance, &decl.init);
        let slot = instance.init_defined_global(i, value);
        let g = store.add_global(GlobalStorage::InInstance(slot), decl.ty);
        instance.globals.push(g);
    }
    for i in 0..instance.globals.len() {
        let def = store.globals[instance.globals[i] as usize].def.definition();
        instance.set_global(i as u32, def);
    }

    // Tags: each defined tag is new, distinct from every other.
    for import in imports.iter().filter_map(|e| e.into_tag()) {
        instance.tags.push(store.index(import.0) as u32);
    }
    for &ty in &info.tags[info.num_imported_tags as usize..] {
        let t = store.create_tag(TagType::new(info.types[ty as usize].clone()));
        instance.tags.push(t);
    }

    // Tables and memories.
    for import in imports.iter().filter_map(|e| e.into_table()) {
        instance.tables.push(store.index(import.0) as u32);
    }
    for decl in &info.tables[info.num_imported_tables as usize..] {
        let init = decl.init.as_ref().map_or(0, |e| eval_const(store, &instance, e).get_reference());
        let t = match store.create_table(decl.ty, init) {
            Ok(t) => t,
            // The instance's globals live in its context: it must outlive them, even unfinished.
            Err(e) => return Err(keep_unfinished(store, instance, e)),
        };
        instance.tables.push(t);
    }
    for i in 0..instance.tables.len() {
        let def = store.tables[instance.tables[i] as usize].definition();
        instance.set_table(i as u32, def);
    }
    for import in imports.iter().filter_map(|e| e.into_memory()) {
        instance.memories.push(store.index(import.0) as u32);
    }
    for ty in &info.memories[info.num_imported_memories as usize..] {
        let m = match store.create_memory(*ty) {
            Ok(m) => m,
            Err(e) => return Err(keep_unfinished(store, instance, e)),
        };
        instance.memories.push(m);
    }
    for i in 0..instance.memories.len() {
        let def = store.memories[instance.memories[i] as usize].definition();
        instance.set_memory(i as u32, def);
    }

    // Segments, in order; a failing one leaves the effects of those before it in place.
    for (i, segment) in info.elements.iter().enumerate() {
        let funcrefs = instance.funcrefs();
        let items: Vec<usize> = segment
            .items
            .iter()
            .map(|e| match e.0.as_slice() {
                // The usual item, a function: its funcref, without evaluating an expression.
                [ConstOp::RefFunc(f)] => funcrefs.wrapping_add(*f as usize) as usize,
                _ => eval_const(store, &instance, e).get_reference(),
            })
            .collect();
        match &segment.mode {
            SegmentMode::Passive => instance.passive_elements[i] = Some(items),
            SegmentMode::Declared => {}
            SegmentMode::Active { index: table, offset } => {
                let offset = eval_const(store, &instance, offset).get_i32() as u32 as usize;
                let table = store.table_mut(instance.tables[*table as usize]).elements_mut();
                let Some(dst) = offset.checked_add(items.len()).and_then(|end| table.get_mut(offset..end)) else {
                    return Err(keep_unfinished(store, instance, Trap::TableOutOfBounds.into()));
                };
                dst.copy_from_slice(&items);
            }
        }
    }
    for (i, segment) in info.data.iter().enumerate() {
        if let SegmentMode::Active { index: memory, offset } = &segment.mode {
            let offset = eval_const(store, &instance, offset).get_i32() as u32 as usize;
            let memory = store.memory_mut(instance.memories[*memory as usize]).data_mut();
            let Some(dst) = offset.checked_add(segment.bytes.len()).and_then(|end| memory.get_mut(offset..end)) else {
                return Err(keep_unfinished(store, instance, Trap::MemoryOutOfBounds.into()));
            };
            dst.copy_from_slice(&segment.bytes);
            instance.dropped_data[i] = true;
        }
    }

    store.instances.push(instance);
    let handle = Instance(store.stored(index));
    if let Some(start) = info.start {
        let func = instance_func(store, index, start);
        crate::func::invoke(store, func, &mut [ValRaw::default()])?;
    }
    Ok(handle)
}

/// Keeps an instance whose instantiation failed in its store (its context holds the storage of the globals it
/// created, and segments it already wrote stay in effect, as the spec requires) and returns `error`.
fn keep_unfinished(store: &mut StoreOpaque, instance: Box<InstanceData>, error: anyhow::Error) -> anyhow::Error {
    store.instances.push(instance);
    error
}

/// Evaluates a constant expression in the context of a partly built instance.
fn eval_const(store: &StoreOpaque, instance: &InstanceData, expr: &ConstExpr) -> ValRaw {
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
            ref operand => eval_operand(store, instance, operand).expect("operands are not operators"),
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

