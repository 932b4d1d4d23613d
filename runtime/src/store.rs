//! Stores: everything instances create lives in one, and public handles are indices into it.

use crate::Engine;
use crate::engine::Trampolines;
use crate::types::{FuncType, GlobalType, TagType};
use crate::vm::instance::InstanceData;
use crate::limits::ResourceLimiter;
use crate::vm::memory::{LinearMemory, WASM_PAGE_SIZE};
use crate::vm::table::TableStorage;
use crate::vm::vmcontext::GlobalStorage;
use crate::vm::{VMFuncRef, VMStoreContext};
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
    limiter: Option<Box<LimiterFn<T>>>,
}

/// The closure given to [`Store::limiter`].
type LimiterFn<T> = dyn (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync;

/// How untyped code reaches the `ResourceLimiter` inside a `StoreInner<T>`.
#[derive(Clone, Copy)]
struct LimiterHook {
    /// The `StoreInner<T>` that holds the `StoreOpaque`.
    inner: *mut (),
    /// Calls its limiter closure (`limiter_of::<T>`).
    get: unsafe fn(*mut ()) -> *mut dyn ResourceLimiter,
}

/// Calls the limiter closure of the `StoreInner<T>` at `inner`, which must have one.
///
/// # Safety
/// `inner` must point to a live `StoreInner<T>` with a limiter, and no reference to its `data` or
/// `limiter` fields may be live.
unsafe fn limiter_of<T>(inner: *mut ()) -> *mut dyn ResourceLimiter {
    let inner = inner.cast::<StoreInner<T>>();
    // SAFETY: per the contract; only the `data` and `limiter` fields are touched, through raw place
    // projections, so the caller's borrow of the `opaque` field is not invalidated.
    unsafe {
        let data = &mut *std::ptr::addr_of_mut!((*inner).data);
        let limiter = (*std::ptr::addr_of_mut!((*inner).limiter)).as_mut().expect("a limiter is installed");
        let limiter: *mut (dyn ResourceLimiter + '_) = limiter(data);
        // The pointer is used only while the store is borrowed (see `StoreOpaque::limiter`).
        std::mem::transmute::<*mut (dyn ResourceLimiter + '_), *mut (dyn ResourceLimiter + 'static)>(limiter)
    }
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
    pub def: GlobalStorage,
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
    limiter: Option<LimiterHook>,
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
                    vm_context: Box::new(VMStoreContext::new(engine.epoch_counter())),
                    instances: Vec::new(),
                    funcs: Vec::new(),
                    funcref_handles: HashMap::new(),
                    memories: Vec::new(),
                    tables: Vec::new(),
                    globals: Vec::new(),
                    tags: Vec::new(),
                    limiter: None,
                    host_funcs: Vec::new(),
                    externrefs: Vec::new(),
                },
                data,
                limiter: None,
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

    /// Installs a resource limiter: `limiter` returns it from the host state, e.g.
    /// `store.limiter(|state| &mut state.limits)` with a [`StoreLimits`](crate::StoreLimits) field.
    pub fn limiter(
        &mut self,
        limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        self.inner.limiter = Some(Box::new(limiter));
        let inner: *mut StoreInner<T> = &mut *self.inner;
        self.inner.opaque.limiter = Some(LimiterHook { inner: inner.cast(), get: limiter_of::<T> });
    }

    /// Sets the fuel wasm may consume before trapping with [`Trap::OutOfFuel`](crate::Trap::OutOfFuel);
    /// errors unless the engine was configured with [`Config::consume_fuel`](crate::Config::consume_fuel).
    pub fn set_fuel(&mut self, fuel: u64) -> anyhow::Result<()> {
        self.inner.opaque.set_fuel(fuel)
    }

    /// The fuel left; errors unless fuel is configured.
    pub fn get_fuel(&self) -> anyhow::Result<u64> {
        self.inner.opaque.get_fuel()
    }

    /// Sets the deadline `ticks` epochs after the engine's current epoch; wasm traps with
    /// [`Trap::Interrupt`](crate::Trap::Interrupt) once the epoch reaches it (with
    /// [`Config::epoch_interruption`](crate::Config::epoch_interruption)).
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        self.inner.opaque.set_epoch_deadline(ticks);
    }

    /// Makes reaching the epoch deadline trap. This is the only behaviour Tenon has (no async yielding), so
    /// it exists for Wasmtime compatibility.
    pub fn epoch_deadline_trap(&mut self) {}
}

impl StoreOpaque {
    pub(crate) fn set_fuel(&mut self, fuel: u64) -> anyhow::Result<()> {
        anyhow::ensure!(self.engine.config().consume_fuel, "fuel is not configured in this store");
        self.vm_context.fuel_consumed = -(i64::try_from(fuel).unwrap_or(i64::MAX));
        Ok(())
    }

    pub(crate) fn get_fuel(&self) -> anyhow::Result<u64> {
        anyhow::ensure!(self.engine.config().consume_fuel, "fuel is not configured in this store");
        Ok(self.vm_context.fuel_consumed.min(0).unsigned_abs())
    }

    pub(crate) fn set_epoch_deadline(&mut self, ticks: u64) {
        self.vm_context.epoch_deadline = self.engine.current_epoch().saturating_add(ticks);
    }

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

    /// The store's resource limiter, if one is installed.
    pub(crate) fn limiter(&mut self) -> Option<&mut dyn ResourceLimiter> {
        let hook = self.limiter?;
        // SAFETY: the hook was made by `Store::limiter` from the `StoreInner<T>` that contains `self`, which
        // is boxed and so still at that address; the limiter lives in its `data`/`limiter` fields, disjoint
        // from `self`, and the returned borrow of `self` keeps any other use of the store out while it lives.
        Some(unsafe { &mut *(hook.get)(hook.inner) })
    }

    /// Grows memory `index` by `delta` pages, as the limiter allows; the old size, or `None` if it cannot
    /// grow. An error from the limiter is returned (and traps when wasm asked).
    pub(crate) fn grow_memory(&mut self, index: u32, delta: u64) -> anyhow::Result<Option<u64>> {
        let memory = &self.memories[index as usize];
        let (current, old_pages, max_pages) = (memory.byte_size(), memory.pages(), memory.maximum_pages());
        let maximum = memory.ty().maximum().map(|m| m as usize * WASM_PAGE_SIZE);
        let Some(new_pages) = old_pages.checked_add(delta).filter(|&p| p <= max_pages) else {
            if let Some(limiter) = self.limiter() {
                limiter.memory_grow_failed(anyhow::anyhow!("memory maximum size exceeded"))?;
            }
            return Ok(None);
        };
        let desired = new_pages as usize * WASM_PAGE_SIZE;
        if let Some(limiter) = self.limiter()
            && !limiter.memory_growing(current, desired, maximum)?
        {
            return Ok(None);
        }
        match self.memories[index as usize].grow(delta) {
            Ok(old) => Ok(Some(old)),
            Err(error) => {
                if let Some(limiter) = self.limiter() {
                    limiter.memory_grow_failed(error)?;
                }
                Ok(None)
            }
        }
    }

    /// Grows table `index` by `delta` elements set to `init`, as the limiter allows; the old size, or `None`
    /// if it cannot grow. An error from the limiter is returned.
    pub(crate) fn grow_table(&mut self, index: u32, delta: u64, init: usize) -> anyhow::Result<Option<u64>> {
        let table = &self.tables[index as usize];
        let current = table.size();
        let maximum = table.ty().maximum().map(|m| m as usize);
        let Some(desired) = current.checked_add(delta).filter(|&d| d <= table.maximum()) else {
            if let Some(limiter) = self.limiter() {
                limiter.table_grow_failed(anyhow::anyhow!("table maximum size exceeded"))?;
            }
            return Ok(None);
        };
        if let Some(limiter) = self.limiter()
            && !limiter.table_growing(current as usize, desired as usize, maximum)?
        {
            return Ok(None);
        }
        Ok(self.tables[index as usize].grow(delta, init))
    }

    /// Checks that the store may hold one more instance with `tables` more tables and `memories` more
    /// memories.
    pub(crate) fn check_instance_limits(&mut self, tables: usize, memories: usize) -> anyhow::Result<()> {
        let counts = (self.instances.len(), self.tables.len(), self.memories.len());
        let Some(limiter) = self.limiter() else { return Ok(()) };
        if counts.0 + 1 > limiter.instances() {
            anyhow::bail!("resource limit exceeded: instance count too high at {}", counts.0 + 1);
        }
        if counts.1 + tables > limiter.tables() {
            anyhow::bail!("resource limit exceeded: table count too high at {}", counts.1 + tables);
        }
        if counts.2 + memories > limiter.memories() {
            anyhow::bail!("resource limit exceeded: memory count too high at {}", counts.2 + memories);
        }
        Ok(())
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
    #[inline]
    pub(crate) fn enter_wasm(&mut self) -> bool {
        if self.vm_context.stack_limit != usize::MAX {
            return false;
        }
        let sp = crate::vm::traphandlers::stack_pointer();
        // Never beyond the thread's own stack: on a thread with a small stack, deep recursion must end in a
        // trap, not in a fault on the stack's guard page.
        let limit = sp.saturating_sub(self.engine.config().max_wasm_stack).max(crate::vm::stack::wasm_floor());
        self.vm_context.stack_limit = limit;
        true
    }

    /// Undoes `enter_wasm` when the outermost call returns.
    #[inline]
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
