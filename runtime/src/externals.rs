//! Memories, tables, globals and tags, and [`Extern`], anything a module imports or exports.

use crate::store::{AsContext, AsContextMut, GlobalData, StoreContext, StoreContextMut, StoreOpaque, Stored};
use crate::types::{ExternType, GlobalType, MemoryType, Mutability, TableType, TagType};
use crate::vm::VMGlobalDefinition;
use crate::vm::vmcontext::GlobalStorage;
use crate::vm::memory::{LinearMemory, WASM_PAGE_SIZE};
use crate::vm::table::TableStorage;
use crate::{Func, Ref, Result, Val};
use anyhow::{bail, ensure};

/// A linear memory in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Memory(pub(crate) Stored);

/// An out-of-bounds access through [`Memory::read`] or [`Memory::write`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryAccessError;

impl std::fmt::Display for MemoryAccessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("out of bounds memory access")
    }
}

impl std::error::Error for MemoryAccessError {}

impl Memory {
    /// A new memory of type `ty` owned by the store.
    pub fn new(mut store: impl AsContextMut, ty: MemoryType) -> Result<Memory> {
        let store = store.as_context_mut().0.opaque();
        let index = store.create_memory(ty)?;
        Ok(Memory(store.stored(index as usize)))
    }

    fn get<'a>(&self, store: &'a StoreOpaque) -> &'a LinearMemory {
        &store.memories[store.index(self.0)]
    }

    /// The memory's type, with its current size as minimum.
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        let memory = self.get(&store.as_context().0.opaque);
        MemoryType::new(memory.pages() as u32, memory.ty().maximum().map(|m| m as u32))
    }

    /// Current size in pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.get(&store.as_context().0.opaque).pages()
    }

    /// Current size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.get(&store.as_context().0.opaque).byte_size()
    }

    /// The memory's bytes.
    pub fn data<'a, T: 'a>(&self, store: impl Into<StoreContext<'a, T>>) -> &'a [u8] {
        let store = store.into().0;
        store.opaque.memories[store.opaque.index(self.0)].data()
    }

    /// The memory's bytes, mutably.
    pub fn data_mut<'a, T: 'a>(&self, store: impl Into<StoreContextMut<'a, T>>) -> &'a mut [u8] {
        let store = store.into().0.opaque();
        let index = store.index(self.0);
        store.memories[index].data_mut()
    }

    /// The base address of the memory's bytes.
    pub fn data_ptr(&self, store: impl AsContext) -> *mut u8 {
        self.get(&store.as_context().0.opaque).data().as_ptr() as *mut u8
    }

    /// Copies `buffer.len()` bytes at `offset` into `buffer`.
    pub fn read(&self, store: impl AsContext, offset: usize, buffer: &mut [u8]) -> Result<(), MemoryAccessError> {
        let data = self.get(&store.as_context().0.opaque).data();
        let end = offset.checked_add(buffer.len()).ok_or(MemoryAccessError)?;
        buffer.copy_from_slice(data.get(offset..end).ok_or(MemoryAccessError)?);
        Ok(())
    }

    /// Copies `buffer` into the memory at `offset`.
    pub fn write(&self, mut store: impl AsContextMut, offset: usize, buffer: &[u8]) -> Result<(), MemoryAccessError> {
        let store = store.as_context_mut().0.opaque();
        let index = store.index(self.0);
        let data = store.memories[index].data_mut();
        let end = offset.checked_add(buffer.len()).ok_or(MemoryAccessError)?;
        data.get_mut(offset..end).ok_or(MemoryAccessError)?.copy_from_slice(buffer);
        Ok(())
    }

    /// Grows the memory by `delta` pages and returns its previous size in pages.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let store = store.as_context_mut().0.opaque();
        let index = store.index(self.0) as u32;
        match store.grow_memory(index, delta)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow memory by `{delta}` pages"),
        }
    }
}

/// A table in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Table(pub(crate) Stored);

impl Table {
    /// A new table of type `ty` whose elements are all `init`.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Ref) -> Result<Table> {
        let store = store.as_context_mut().0.opaque();
        init.check(store, ty.element())?;
        let raw = init.to_raw(store);
        let index = store.create_table(ty, raw)?;
        Ok(Table(store.stored(index as usize)))
    }

    fn get_storage<'a>(&self, store: &'a StoreOpaque) -> &'a TableStorage {
        &store.tables[store.index(self.0)]
    }

    /// The table's type, with its current size as minimum.
    pub fn ty(&self, store: impl AsContext) -> TableType {
        let table = self.get_storage(&store.as_context().0.opaque);
        TableType::new(*table.ty().element(), table.size() as u32, table.ty().maximum())
    }

    /// Current number of elements.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.get_storage(&store.as_context().0.opaque).size()
    }

    /// Element `index`, or `None` if out of bounds.
    pub fn get(&self, mut store: impl AsContextMut, index: u64) -> Option<Ref> {
        let store = store.as_context_mut().0.opaque();
        let table = self.get_storage(store);
        let (raw, ty) = (table.get(index)?, *table.ty().element());
        Ref::from_raw(store, &ty, raw).ok()
    }

    /// Sets element `index`.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, value: Ref) -> Result<()> {
        let store = store.as_context_mut().0.opaque();
        let i = store.index(self.0);
        value.check(store, store.tables[i].ty().element())?;
        let raw = value.to_raw(store);
        ensure!(store.tables[i].set(index, raw), "table element index out of bounds");
        Ok(())
    }

    /// Grows the table by `delta` elements set to `init`; returns the previous size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Ref) -> Result<u64> {
        let store = store.as_context_mut().0.opaque();
        let i = store.index(self.0);
        init.check(store, store.tables[i].ty().element())?;
        let raw = init.to_raw(store);
        match store.grow_table(i as u32, delta, raw)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow table by `{delta}`"),
        }
    }
}

/// A global in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Global(pub(crate) Stored);

impl Global {
    /// A new global of type `ty` holding `value`.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, value: Val) -> Result<Global> {
        let store = store.as_context_mut().0.opaque();
        value.check(store, *ty.content())?;
        let raw = value.to_raw(store);
        let index = store.create_global(ty, raw);
        Ok(Global(store.stored(index as usize)))
    }

    /// The global's type.
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        let store = &store.as_context().0.opaque;
        store.globals[store.index(self.0)].ty
    }

    /// The current value.
    pub fn get(&self, mut store: impl AsContextMut) -> Val {
        let store = store.as_context_mut().0.opaque();
        let global = &store.globals[store.index(self.0)];
        let (ty, raw) = (*global.ty.content(), global.def.get());
        Val::from_raw(store, ty, raw).expect("a global holds a value of its type")
    }

    /// Sets the value; errors if the global is immutable or `value` has the wrong type.
    pub fn set(&self, mut store: impl AsContextMut, value: Val) -> Result<()> {
        let store = store.as_context_mut().0.opaque();
        let i = store.index(self.0);
        let ty = store.globals[i].ty;
        ensure!(ty.mutability() == Mutability::Var, "immutable global cannot be set");
        value.check(store, *ty.content())?;
        let raw = value.to_raw(store);
        store.globals[i].def.set(raw);
        Ok(())
    }
}

/// An exception tag in a store. Tags can be defined, imported and exported; throwing and catching
/// exceptions is not supported yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tag(pub(crate) Stored);

impl Tag {
    /// A new tag of type `ty`, distinct from every other tag.
    pub fn new(mut store: impl AsContextMut, ty: &TagType) -> Result<Tag> {
        ensure!(ty.ty().result_types().is_empty(), "a tag's function type must have no results");
        let store = store.as_context_mut().0.opaque();
        let index = store.create_tag(ty.clone());
        Ok(Tag(store.stored(index as usize)))
    }

    /// The tag's type.
    pub fn ty(&self, store: impl AsContext) -> TagType {
        let store = &store.as_context().0.opaque;
        store.tags[store.index(self.0)].clone()
    }
}

impl StoreOpaque {
    pub(crate) fn create_tag(&mut self, ty: TagType) -> u32 {
        self.tags.push(ty);
        self.tags.len() as u32 - 1
    }

    pub(crate) fn create_memory(&mut self, ty: MemoryType) -> Result<u32> {
        let min_bytes = usize::try_from(ty.minimum()).unwrap_or(usize::MAX).saturating_mul(WASM_PAGE_SIZE);
        let max_bytes = ty.maximum().map(|m| usize::try_from(m).unwrap_or(usize::MAX).saturating_mul(WASM_PAGE_SIZE));
        if let Some(limiter) = self.limiter()
            && !limiter.memory_growing(0, min_bytes, max_bytes)?
        {
            bail!("memory minimum size of {} pages exceeds memory limits", ty.minimum());
        }
        let config = self.engine.config();
        let guard = config.memory_guard_size as usize;
        let guard_before = if config.guard_before_linear_memory { guard } else { 0 };
        let pool = self.engine.reservations();
        let memory = LinearMemory::new(ty, config.memory_reservation as usize, guard_before, guard, pool)?;
        self.memories.push(Box::new(memory));
        Ok(self.memories.len() as u32 - 1)
    }

    pub(crate) fn create_table(&mut self, ty: TableType, init: usize) -> Result<u32> {
        let maximum = ty.maximum().map(|m| m as usize);
        if let Some(limiter) = self.limiter()
            && !limiter.table_growing(0, ty.minimum() as usize, maximum)?
        {
            bail!("table minimum size of {} elements exceeds table limits", ty.minimum());
        }
        self.tables.push(Box::new(TableStorage::new(ty, init)?));
        Ok(self.tables.len() as u32 - 1)
    }

    pub(crate) fn create_global(&mut self, ty: GlobalType, value: crate::vm::ValRaw) -> u32 {
        self.add_global(GlobalStorage::Owned(Box::new(VMGlobalDefinition(value))), ty)
    }

    /// Adds a global whose storage already exists (a defined global's slot in its instance's context).
    pub(crate) fn add_global(&mut self, def: GlobalStorage, ty: GlobalType) -> u32 {
        self.globals.push(GlobalData { def, ty });
        self.globals.len() as u32 - 1
    }
}

/// Anything a module can import or export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A global.
    Global(Global),
    /// A table.
    Table(Table),
    /// A memory.
    Memory(Memory),
    /// An exception tag.
    Tag(Tag),
}

impl Extern {
    /// The function, if this is one.
    pub fn into_func(self) -> Option<Func> {
        match self {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }
    /// The global, if this is one.
    pub fn into_global(self) -> Option<Global> {
        match self {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }
    /// The table, if this is one.
    pub fn into_table(self) -> Option<Table> {
        match self {
            Extern::Table(t) => Some(t),
            _ => None,
        }
    }
    /// The memory, if this is one.
    pub fn into_memory(self) -> Option<Memory> {
        match self {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }
    /// The tag, if this is one.
    pub fn into_tag(self) -> Option<Tag> {
        match self {
            Extern::Tag(t) => Some(t),
            _ => None,
        }
    }

    /// The item's type (memories and tables report their current size as minimum).
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        let store = store.as_context();
        match self {
            Extern::Func(f) => ExternType::Func(f.ty(&store)),
            Extern::Global(g) => ExternType::Global(g.ty(&store)),
            Extern::Table(t) => ExternType::Table(t.ty(&store)),
            Extern::Memory(m) => ExternType::Memory(m.ty(&store)),
            Extern::Tag(t) => ExternType::Tag(t.ty(&store)),
        }
    }

    pub(crate) fn stored(&self) -> Stored {
        match self {
            Extern::Func(f) => f.0,
            Extern::Global(g) => g.0,
            Extern::Table(t) => t.0,
            Extern::Memory(m) => m.0,
            Extern::Tag(t) => t.0,
        }
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}
impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}
impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}
impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}
impl From<Tag> for Extern {
    fn from(t: Tag) -> Extern {
        Extern::Tag(t)
    }
}
