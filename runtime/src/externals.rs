//! Memories, tables, globals and tags, and [`Extern`], anything a module imports or exports.

use crate::limits::ResourceLimiter;
use crate::store::{AsContext, AsContextMut, GlobalData, StoreContext, StoreContextMut, StoreOpaque, Stored, TableData};
use crate::types::{ExternType, GlobalType, MemoryType, Mutability, TableType, TagType};
use crate::vm::memory::{LinearMemory, WASM_PAGE_SIZE};
use crate::vm::table::TableStorage;
use crate::vm::vmcontext::GlobalStorage;
use crate::vm::{VMGlobalDefinition, VmBox};
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
        let mut store = store.as_context_mut();
        let (store, limiter) = store.0.get_mut().opaque_and_limiter();
        let index = store.create_memory(limiter, ty)?;
        Ok(Memory(store.stored(index as usize)))
    }

    fn get<'a>(&self, store: &'a StoreOpaque) -> &'a LinearMemory {
        &store.memories[store.index(self.0)]
    }

    /// The memory's type, as declared (growing it does not change the minimum).
    pub fn ty(&self, store: impl AsContext) -> MemoryType {
        MemoryType::from_wasm(self.get(&store.as_context().0.opaque).ty())
    }

    /// Current size in pages.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.get(&store.as_context().0.opaque).pages()
    }

    /// Current size in bytes.
    pub fn data_size(&self, store: impl AsContext) -> usize {
        self.get(&store.as_context().0.opaque).byte_size()
    }

    /// The page size in bytes.
    pub fn page_size(&self, _store: impl AsContext) -> u64 {
        WASM_PAGE_SIZE as u64
    }

    /// The base-2 logarithm of the page size.
    pub fn page_size_log2(&self, _store: impl AsContext) -> u8 {
        16
    }

    /// The memory's bytes.
    pub fn data<'a, T: 'static>(&self, store: impl Into<StoreContext<'a, T>>) -> &'a [u8] {
        let store = &store.into().0.opaque;
        store.memories[store.index(self.0)].data()
    }

    /// The memory's bytes, mutably.
    pub fn data_mut<'a, T: 'static>(&self, store: impl Into<StoreContextMut<'a, T>>) -> &'a mut [u8] {
        let store = &mut store.into().0.into_mut().opaque;
        let index = store.index(self.0);
        store.memories[index].data_mut()
    }

    /// The memory's bytes and the store's host state, both mutably.
    pub fn data_and_store_mut<'a, T: 'static>(&self, store: impl Into<StoreContextMut<'a, T>>) -> (&'a mut [u8], &'a mut T) {
        let inner = store.into().0.into_mut();
        let index = inner.opaque.index(self.0);
        (inner.opaque.memories[index].data_mut(), &mut inner.data)
    }

    /// The base address of the memory's bytes.
    pub fn data_ptr(&self, store: impl AsContext) -> *mut u8 {
        self.get(&store.as_context().0.opaque).base()
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
        let mut store = store.as_context_mut();
        let store = store.opaque();
        let index = store.index(self.0);
        let data = store.memories[index].data_mut();
        let end = offset.checked_add(buffer.len()).ok_or(MemoryAccessError)?;
        data.get_mut(offset..end).ok_or(MemoryAccessError)?.copy_from_slice(buffer);
        Ok(())
    }

    /// Grows the memory by `delta` pages and returns its previous size in pages.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64) -> Result<u64> {
        let mut store = store.as_context_mut();
        let (store, limiter) = store.0.get_mut().opaque_and_limiter();
        let index = store.index(self.0) as u32;
        match store.grow_memory(limiter, index, delta)? {
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
        let mut store = store.as_context_mut();
        let (store, limiter) = store.0.get_mut().opaque_and_limiter();
        init.check(store, ty.element())?;
        let raw = init.to_raw(store);
        let index = store.create_table(limiter, ty, raw)?;
        Ok(Table(store.stored(index as usize)))
    }

    fn data<'a>(&self, store: &'a StoreOpaque) -> &'a TableData {
        &store.tables[store.index(self.0)]
    }

    /// The table's type, as declared (growing it does not change the minimum).
    pub fn ty(&self, store: impl AsContext) -> TableType {
        self.data(&store.as_context().0.opaque).ty.clone()
    }

    /// Current number of elements.
    pub fn size(&self, store: impl AsContext) -> u64 {
        self.data(&store.as_context().0.opaque).storage.size()
    }

    /// Element `index`, or `None` if out of bounds.
    pub fn get(&self, mut store: impl AsContextMut, index: u64) -> Option<Ref> {
        let mut store = store.as_context_mut();
        let store = store.opaque();
        let table = self.data(store);
        let (raw, ty) = (table.storage.get(index)?, table.ty.element().clone());
        Ref::from_raw(store, &ty, raw).ok()
    }

    /// Sets element `index`.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, value: Ref) -> Result<()> {
        let mut store = store.as_context_mut();
        let store = store.opaque();
        let i = store.index(self.0);
        value.check(store, store.tables[i].ty.element())?;
        let raw = value.to_raw(store);
        ensure!(store.tables[i].storage.set(index, raw), "table element index out of bounds");
        Ok(())
    }

    /// Grows the table by `delta` elements set to `init`; returns the previous size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Ref) -> Result<u64> {
        let mut store = store.as_context_mut();
        let (store, limiter) = store.0.get_mut().opaque_and_limiter();
        let i = store.index(self.0);
        init.check(store, store.tables[i].ty.element())?;
        let raw = init.to_raw(store);
        match store.grow_table(limiter, i as u32, delta, raw)? {
            Some(old) => Ok(old),
            None => bail!("failed to grow table by `{delta}`"),
        }
    }

    /// Sets the `len` elements from `dst_index` to `value`.
    pub fn fill(&self, mut store: impl AsContextMut, dst_index: u64, value: Ref, len: u64) -> Result<()> {
        let mut store = store.as_context_mut();
        let store = store.opaque();
        let i = store.index(self.0);
        value.check(store, store.tables[i].ty.element())?;
        let raw = value.to_raw(store);
        let elements = store.tables[i].storage.elements_mut();
        let range = usize::try_from(dst_index).ok().zip(usize::try_from(len).ok());
        let Some(slots) = range.and_then(|(dst, len)| elements.get_mut(dst..dst.checked_add(len)?)) else {
            bail!("fill range is out of bounds of the table");
        };
        slots.fill(raw);
        Ok(())
    }

    /// Copies `len` elements of `src_table` from `src_index` to `dst_table` at `dst_index` (the two may be
    /// the same table, and the ranges may overlap).
    pub fn copy(
        mut store: impl AsContextMut,
        dst_table: &Table,
        dst_index: u64,
        src_table: &Table,
        src_index: u64,
        len: u64,
    ) -> Result<()> {
        let mut store = store.as_context_mut();
        let store = store.opaque();
        let (dst, src) = (store.index(dst_table.0), store.index(src_table.0));
        ensure!(
            store.tables[src].ty.element().matches(store.tables[dst].ty.element()),
            "type mismatch: source table's element type does not match destination table's element type"
        );
        let range = |index: u64| usize::try_from(index).ok().zip(usize::try_from(len).ok()).and_then(|(i, n)| Some(i..i.checked_add(n)?));
        let copied = range(src_index).and_then(|r| store.tables[src].storage.elements().get(r)).map(<[usize]>::to_vec);
        let target = range(dst_index).and_then(|r| Some(r).filter(|r| r.end <= store.tables[dst].storage.elements().len()));
        let (Some(copied), Some(target)) = (copied, target) else {
            bail!("copy range is out of bounds of the table");
        };
        store.tables[dst].storage.elements_mut()[target].copy_from_slice(&copied);
        Ok(())
    }
}

/// A global in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Global(pub(crate) Stored);

impl Global {
    /// A new global of type `ty` holding `value`.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, value: Val) -> Result<Global> {
        let mut store = store.as_context_mut();
        let store = store.opaque();
        value.check(store, ty.content())?;
        let raw = value.to_raw(store);
        let index = store.add_global(GlobalStorage::Owned(VmBox::new(VMGlobalDefinition(raw))), ty);
        Ok(Global(store.stored(index as usize)))
    }

    /// The global's type.
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        let store = &store.as_context().0.opaque;
        store.globals[store.index(self.0)].ty.clone()
    }

    /// The current value.
    pub fn get(&self, mut store: impl AsContextMut) -> Val {
        let mut store = store.as_context_mut();
        let store = store.opaque();
        let global = &store.globals[store.index(self.0)];
        let (ty, raw) = (global.ty.content().clone(), global.def.get());
        // A global holds a value of its type, which converts; a reference to a function of this store
        // always has a handle.
        Val::from_raw(store, &ty, raw).unwrap_or_else(|_| Val::zero_of(&ty))
    }

    /// Sets the value; errors if the global is immutable or `value` has the wrong type.
    pub fn set(&self, mut store: impl AsContextMut, value: Val) -> Result<()> {
        let mut store = store.as_context_mut();
        let store = store.opaque();
        let i = store.index(self.0);
        let ty = store.globals[i].ty.clone();
        ensure!(ty.mutability() == Mutability::Var, "immutable global cannot be set");
        value.check(store, ty.content())?;
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
        let mut store = store.as_context_mut();
        let store = store.opaque();
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

    pub(crate) fn create_memory(&mut self, limiter: Option<&mut dyn ResourceLimiter>, ty: MemoryType) -> Result<u32> {
        let min_bytes = usize::try_from(ty.minimum()).unwrap_or(usize::MAX).saturating_mul(WASM_PAGE_SIZE);
        let max_bytes = ty.maximum().map(|m| usize::try_from(m).unwrap_or(usize::MAX).saturating_mul(WASM_PAGE_SIZE));
        if let Some(limiter) = limiter
            && !limiter.memory_growing(0, min_bytes, max_bytes)?
        {
            bail!("memory minimum size of {} pages exceeds memory limits", ty.minimum());
        }
        let memory = LinearMemory::new(ty.to_wasm(), self.engine.memory_layout(), self.engine.reservations())?;
        self.memories.push(memory);
        Ok(self.memories.len() as u32 - 1)
    }

    pub(crate) fn create_table(&mut self, limiter: Option<&mut dyn ResourceLimiter>, ty: TableType, init: usize) -> Result<u32> {
        let maximum = ty.maximum().map(|m| usize::try_from(m).unwrap_or(usize::MAX));
        let minimum = usize::try_from(ty.minimum()).unwrap_or(usize::MAX);
        if let Some(limiter) = limiter
            && !limiter.table_growing(0, minimum, maximum)?
        {
            bail!("table minimum size of {} elements exceeds table limits", ty.minimum());
        }
        let storage = TableStorage::new(ty.minimum(), ty.maximum(), init)?;
        self.tables.push(TableData { storage, ty });
        Ok(self.tables.len() as u32 - 1)
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

macro_rules! extern_accessors {
    ($($variant:ident($ty:ty) $get:ident;)*) => {$(
        /// The item, if it is one of this kind.
        pub fn $get(self) -> Option<$ty> {
            match self {
                Extern::$variant(x) => Some(x),
                _ => None,
            }
        }
    )*};
}

impl Extern {
    extern_accessors! {
        Func(Func) into_func;
        Global(Global) into_global;
        Table(Table) into_table;
        Memory(Memory) into_memory;
        Tag(Tag) into_tag;
    }

    /// The item's type (memories and tables report it as declared).
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
