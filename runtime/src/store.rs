//! Stores: everything instances create lives in one, and public handles are indices into it.

use crate::Engine;
use crate::engine::Trampolines;
use crate::types::{FuncType, GlobalType, TagType};
use crate::vm::instance::InstanceData;
use crate::vm::memory::LinearMemory;
use crate::vm::table::TableStorage;
use crate::vm::{VMFuncRef, VMGlobalDefinition, VMStoreContext};
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A collection of instances and host objects, with host state `T`.
///
/// Everything created in a store (instances, functions, memories, ...) lives until the store is dropped;
/// handles such as [`Func`](crate::Func) are small `Copy` values that name an object in one store.
pub struct Store<T> {
    inner: Box<StoreInner<T>>,
}

/// The store's contents: the typed host state and the untyped rest.
pub struct StoreInner<T> {
    pub(crate) opaque: StoreOpaque,
    pub(crate) data: T,
}

/// The data of one function handle.
pub(crate) struct FuncData {
    /// The function as compiled code sees it.
    pub funcref: *const VMFuncRef,
    /// Its type.
    pub ty: FuncType,
    /// Its trampolines.
    pub trampolines: Arc<Trampolines>,
}

/// One global's storage and type.
pub(crate) struct GlobalData {
    pub def: Box<VMGlobalDefinition>,
    pub ty: GlobalType,
}

/// The part of a store that does not depend on `T`.
pub struct StoreOpaque {
    id: u64,
    pub(crate) engine: Engine,
    pub(crate) vm_context: Box<VMStoreContext>,
    pub(crate) instances: Vec<Box<InstanceData>>,
    pub(crate) funcs: Vec<FuncData>,
    /// Function handle of each `VMFuncRef` address handed out so far.
    pub(crate) funcref_handles: HashMap<usize, u32>,
    pub(crate) memories: Vec<Box<LinearMemory>>,
    pub(crate) tables: Vec<Box<TableStorage>>,
    pub(crate) globals: Vec<GlobalData>,
    pub(crate) tags: Vec<TagType>,
    /// Host function contexts (each a `HostFuncContext<T>`), kept at stable addresses.
    pub(crate) host_funcs: Vec<Box<dyn Any>>,
    pub(crate) externrefs: Vec<Box<dyn Any + Send + Sync>>,
}

/// A handle's identity: which store, and which object in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Stored {
    pub store: u64,
    pub index: u32,
}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

impl<T> Store<T> {
    /// A new store for `engine` holding `data`.
    pub fn new(engine: &Engine, data: T) -> Self {
        Store {
            inner: Box::new(StoreInner {
                opaque: StoreOpaque {
                    id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                    engine: engine.clone(),
                    vm_context: Box::default(),
                    instances: Vec::new(),
                    funcs: Vec::new(),
                    funcref_handles: HashMap::new(),
                    memories: Vec::new(),
                    tables: Vec::new(),
                    globals: Vec::new(),
                    tags: Vec::new(),
                    host_funcs: Vec::new(),
                    externrefs: Vec::new(),
                },
                data,
            }),
        }
    }

    /// The host state.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    /// Consumes the store and returns its host state.
    pub fn into_data(self) -> T {
        self.inner.data
    }

    /// The store's engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.opaque.engine
    }
}

impl StoreOpaque {
    /// Makes a handle for object `index` of this store.
    pub(crate) fn stored(&self, index: usize) -> Stored {
        Stored { store: self.id, index: index as u32 }
    }

    /// Checks that `handle` belongs to this store and returns its index.
    pub(crate) fn index(&self, handle: Stored) -> usize {
        assert_eq!(handle.store, self.id, "object used with the wrong store");
        handle.index as usize
    }

    /// Whether `handle` belongs to this store.
    pub(crate) fn owns(&self, handle: Stored) -> bool {
        handle.store == self.id
    }

    pub(crate) fn memory_mut(&mut self, index: u32) -> &mut LinearMemory {
        &mut self.memories[index as usize]
    }

    pub(crate) fn table_mut(&mut self, index: u32) -> &mut TableStorage {
        &mut self.tables[index as usize]
    }

    /// Grows memory `index` by `delta` pages; the old size, or `None` if it cannot grow.
    pub(crate) fn grow_memory(&mut self, index: u32, delta: u64) -> Option<u64> {
        self.memories[index as usize].grow(delta)
    }

    /// Grows table `index` by `delta` elements set to `init`; the old size, or `None` if it cannot grow.
    pub(crate) fn grow_table(&mut self, index: u32, delta: u64, init: usize) -> Option<u64> {
        self.tables[index as usize].grow(delta, init)
    }

    /// Adds a function handle for `funcref` (or returns the one it already has).
    pub(crate) fn add_func(&mut self, funcref: *const VMFuncRef, ty: FuncType) -> anyhow::Result<u32> {
        if let Some(&index) = self.funcref_handles.get(&(funcref as usize)) {
            return Ok(index);
        }
        // SAFETY: `funcref` points to a live `VMFuncRef` owned by this store.
        let type_id = unsafe { (*funcref).type_id };
        let trampolines = self.engine.trampolines(type_id)?;
        let index = self.funcs.len() as u32;
        self.funcs.push(FuncData { funcref, ty, trampolines });
        self.funcref_handles.insert(funcref as usize, index);
        Ok(index)
    }

    /// The function handle for a raw funcref value produced by compiled code.
    pub(crate) fn func_from_raw(&mut self, raw: usize) -> anyhow::Result<u32> {
        if let Some(&index) = self.funcref_handles.get(&raw) {
            return Ok(index);
        }
        // SAFETY: non-null funcref values produced by this store's code point to live `VMFuncRef`s.
        let type_id = unsafe { (*(raw as *const VMFuncRef)).type_id };
        let ty = crate::types::registry::lookup(type_id);
        self.add_func(raw as *const VMFuncRef, ty)
    }

    /// The current stack pointer limit, setting it on the first entry into wasm.
    pub(crate) fn enter_wasm(&mut self) -> bool {
        if self.vm_context.stack_limit != usize::MAX {
            return false;
        }
        let sp = crate::vm::traphandlers::approximate_stack_pointer();
        self.vm_context.stack_limit = sp.saturating_sub(self.engine.config().max_wasm_stack);
        true
    }

    /// Undoes `enter_wasm` when the outermost call returns.
    pub(crate) fn exit_wasm(&mut self, was_first: bool) {
        if was_first {
            self.vm_context.stack_limit = usize::MAX;
        }
    }
}

impl<T> StoreInner<T> {
    /// The untyped part.
    pub(crate) fn opaque(&mut self) -> &mut StoreOpaque {
        &mut self.opaque
    }
}

/// Read access to a store, for APIs that only read.
pub struct StoreContext<'a, T>(pub(crate) &'a StoreInner<T>);

/// Write access to a store, for APIs that create objects or run code.
pub struct StoreContextMut<'a, T>(pub(crate) &'a mut StoreInner<T>);

impl<T> StoreContext<'_, T> {
    /// The host state.
    pub fn data(&self) -> &T {
        &self.0.data
    }
    /// The store's engine.
    pub fn engine(&self) -> &Engine {
        &self.0.opaque.engine
    }
}

impl<T> StoreContextMut<'_, T> {
    /// The host state.
    pub fn data(&self) -> &T {
        &self.0.data
    }
    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.0.data
    }
    /// The store's engine.
    pub fn engine(&self) -> &Engine {
        &self.0.opaque.engine
    }
}

/// Anything that gives read access to a store: `&Store<T>`, `&mut Store<T>`, `Caller<T>`, contexts.
pub trait AsContext {
    /// The host state type.
    type Data;
    /// Read access to the store.
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Anything that gives write access to a store.
pub trait AsContextMut: AsContext {
    /// Write access to the store.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(&self.inner)
    }
}

impl<T> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(&mut self.inner)
    }
}

impl<T> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0)
    }
}

impl<C: AsContext + ?Sized> AsContext for &C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}

impl<C: AsContext + ?Sized> AsContext for &mut C {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        (**self).as_context()
    }
}

impl<C: AsContextMut + ?Sized> AsContextMut for &mut C {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        (**self).as_context_mut()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("data", &self.inner.data).finish_non_exhaustive()
    }
}

impl<'a, T> From<&'a Store<T>> for StoreContext<'a, T> {
    fn from(store: &'a Store<T>) -> Self {
        StoreContext(&store.inner)
    }
}

impl<'a, T> From<&'a mut Store<T>> for StoreContext<'a, T> {
    fn from(store: &'a mut Store<T>) -> Self {
        StoreContext(&store.inner)
    }
}

impl<'a, T> From<&'a mut Store<T>> for StoreContextMut<'a, T> {
    fn from(store: &'a mut Store<T>) -> Self {
        StoreContextMut(&mut store.inner)
    }
}

impl<'a, T> From<&'a StoreContextMut<'_, T>> for StoreContext<'a, T> {
    fn from(store: &'a StoreContextMut<'_, T>) -> Self {
        StoreContext(store.0)
    }
}

impl<'a, T> From<&'a mut StoreContextMut<'_, T>> for StoreContextMut<'a, T> {
    fn from(store: &'a mut StoreContextMut<'_, T>) -> Self {
        StoreContextMut(store.0)
    }
}
