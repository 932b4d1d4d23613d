//! Stores: everything instances create lives in one, and public handles are indices into it.
//!
//! A store's contents live in a [`VmBox`]: compiled code, host functions and builtins reach them through
//! the box's owning pointer while wasm runs, and the API reaches them through the same pointer (see
//! `vm::store`). [`StoreContextMut`] and [`Caller`](crate::Caller) hold that pointer with a lifetime
//! instead of a reference, so lending the store to a call into wasm invalidates nothing they still use.

use crate::engine::Engine;
use crate::func::FuncData;
use crate::limits::ResourceLimiter;
use crate::module::Module;
use crate::types::{GlobalType, TableType, TagType};
use crate::vm::host::HostFuncHandle;
use crate::vm::instance::InstanceData;
use crate::vm::memory::{LinearMemory, WASM_PAGE_SIZE};
use crate::vm::table::TableStorage;
use crate::vm::vmcontext::GlobalStorage;
use crate::vm::{StorePtr, VMStore, VMStoreContext, VmBox};
use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// A collection of instances and host objects, with host state `T`.
///
/// Everything created in a store (instances, functions, memories, ...) lives until the store is dropped;
/// handles such as [`Func`](crate::Func) are small `Copy` values that name an object in one store. A store is
/// `Send` when `T` is, and `Sync` when `T` is.
pub struct Store<T: 'static> {
    inner: VmBox<StoreInner<T>>,
}

/// The store's contents: the typed host state and the untyped rest.
pub struct StoreInner<T: 'static> {
    pub(crate) opaque: StoreOpaque,
    pub(crate) data: T,
    limiter: Option<Box<LimiterFn<T>>>,
}

/// The closure given to [`Store::limiter`].
type LimiterFn<T> = dyn (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync;

/// A global's storage and type.
pub(crate) struct GlobalData {
    pub def: GlobalStorage,
    pub ty: GlobalType,
}

/// A table's storage and type (as declared).
pub(crate) struct TableData {
    pub storage: TableStorage,
    pub ty: TableType,
}

/// An instance: its runtime state and the module it instantiates (which keeps its code alive).
pub(crate) struct InstanceRecord {
    pub data: VmBox<InstanceData>,
    pub module: Module,
}

/// The part of a store that does not depend on `T`.
pub struct StoreOpaque {
    id: u64,
    pub(crate) engine: Engine,
    pub(crate) vm_context: VmBox<VMStoreContext>,
    pub(crate) instances: Vec<InstanceRecord>,
    pub(crate) funcs: Vec<FuncData>,
    /// Function handle of each `VMFuncRef` address handed out so far.
    pub(crate) funcref_handles: HashMap<usize, u32>,
    pub(crate) memories: Vec<LinearMemory>,
    pub(crate) tables: Vec<TableData>,
    pub(crate) globals: Vec<GlobalData>,
    pub(crate) tags: Vec<TagType>,
    /// Host functions placed in the store; compiled code points into their contexts.
    pub(crate) host_funcs: Vec<HostFuncHandle>,
    pub(crate) externrefs: Vec<Box<dyn Any + Send + Sync>>,
    /// Component instances and functions.
    pub(crate) components: crate::component::store::ComponentStore,
    /// The stack limit of the current outermost call into wasm, before any room kept for frames (see
    /// `enter_wasm`).
    stack_base: usize,
}

// Moving a whole store to another thread, and sharing `&Store` between threads, is sound:
// - Everything a store owns is owned through it alone: memories, tables, instance contexts and host-function
//   contexts are allocations that only this store's objects and compiled code point into, and nothing
//   outside the store keeps a raw pointer into them (modules and engines hold no pointer into stores).
// - Compiled code and host functions only run inside a call that borrows the store exclusively (a call
//   into wasm needs `&mut`), so they never run while the store moves or while other threads share it; the
//   raw pointers they use are valid on whichever thread makes the call.
// - Per-thread state is never kept in the store: the stack limit is set from the calling thread's stack at
//   each outermost entry into wasm and cleared at its exit (`enter_wasm`/`exit_wasm`), and the activation
//   chain, the trap backtrace and the alternate signal stack are thread-locals of the calling thread.
// - Shared access (`&StoreOpaque`) only reads: nothing in it mutates through a shared reference.
// The host state `T`, the limiter closure and the externref values carry their own `Send`/`Sync` bounds.
// SAFETY: see above.
unsafe impl Send for StoreOpaque {}
// SAFETY: see above.
unsafe impl Sync for StoreOpaque {}

/// A handle's identity: which store, and which object in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Stored {
    pub store: u64,
    pub index: u32,
}

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

impl<T: 'static> Store<T> {
    /// A new store for `engine` holding `data`.
    pub fn new(engine: &Engine, data: T) -> Self {
        Store {
            inner: VmBox::new(StoreInner {
                opaque: StoreOpaque {
                    id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                    engine: engine.clone(),
                    vm_context: VmBox::new(VMStoreContext::new(engine.epoch_counter())),
                    instances: Vec::new(),
                    funcs: Vec::new(),
                    funcref_handles: HashMap::new(),
                    memories: Vec::new(),
                    tables: Vec::new(),
                    globals: Vec::new(),
                    tags: Vec::new(),
                    host_funcs: Vec::new(),
                    externrefs: Vec::new(),
                    components: Default::default(),
                    stack_base: usize::MAX,
                },
                data,
                limiter: None,
            }),
        }
    }

    /// The host state.
    pub fn data(&self) -> &T {
        &self.inner.get().data
    }

    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.get_mut().data
    }

    /// Consumes the store and returns its host state.
    pub fn into_data(self) -> T {
        self.inner.into_value().data
    }

    /// The store's engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.get().opaque.engine
    }

    /// Installs a resource limiter: `limiter` returns it from the host state, e.g.
    /// `store.limiter(|state| &mut state.limits)` with a [`StoreLimits`](crate::StoreLimits) field.
    pub fn limiter(
        &mut self,
        limiter: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) {
        self.inner.get_mut().limiter = Some(Box::new(limiter));
    }

    /// Sets the fuel wasm may consume before trapping with [`Trap::OutOfFuel`](crate::Trap::OutOfFuel);
    /// errors unless the engine was configured with [`Config::consume_fuel`](crate::Config::consume_fuel).
    pub fn set_fuel(&mut self, fuel: u64) -> anyhow::Result<()> {
        self.inner.get_mut().opaque.set_fuel(fuel)
    }

    /// The fuel left; errors unless fuel is configured.
    pub fn get_fuel(&self) -> anyhow::Result<u64> {
        self.inner.get().opaque.get_fuel()
    }

    /// Sets the deadline `ticks` epochs after the engine's current epoch; wasm traps with
    /// [`Trap::Interrupt`](crate::Trap::Interrupt) once the epoch reaches it (with
    /// [`Config::epoch_interruption`](crate::Config::epoch_interruption)).
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        self.inner.get_mut().opaque.set_epoch_deadline(ticks);
    }

    /// Makes reaching the epoch deadline trap. This is the only behaviour Tenon has (no async yielding), so
    /// it exists for Wasmtime compatibility.
    pub fn epoch_deadline_trap(&mut self) {}
}

impl<T: 'static> StoreInner<T> {
    /// The untyped part and the resource limiter (if one is installed), borrowed together.
    pub(crate) fn opaque_and_limiter(&mut self) -> (&mut StoreOpaque, Option<&mut dyn ResourceLimiter>) {
        let StoreInner { opaque, data, limiter } = self;
        (opaque, limiter.as_mut().map(|limiter| limiter(data)))
    }
}

impl<T: 'static> VMStore for StoreInner<T> {
    fn table(&mut self, index: u32) -> &mut TableStorage {
        &mut self.opaque.tables[index as usize].storage
    }

    fn grow_memory(&mut self, index: u32, delta: u64) -> anyhow::Result<Option<u64>> {
        let (opaque, limiter) = self.opaque_and_limiter();
        opaque.grow_memory(limiter, index, delta)
    }

    fn grow_table(&mut self, index: u32, delta: u64, init: usize) -> anyhow::Result<Option<u64>> {
        let (opaque, limiter) = self.opaque_and_limiter();
        opaque.grow_table(limiter, index, delta, init)
    }
}

impl StoreOpaque {
    pub(crate) fn set_fuel(&mut self, fuel: u64) -> anyhow::Result<()> {
        anyhow::ensure!(self.engine.config().consume_fuel, "fuel is not configured in this store");
        self.vm_context.get_mut().fuel_consumed = -(i64::try_from(fuel).unwrap_or(i64::MAX));
        Ok(())
    }

    pub(crate) fn get_fuel(&self) -> anyhow::Result<u64> {
        anyhow::ensure!(self.engine.config().consume_fuel, "fuel is not configured in this store");
        Ok(self.vm_context.get().fuel_consumed.min(0).unsigned_abs())
    }

    pub(crate) fn set_epoch_deadline(&mut self, ticks: u64) {
        self.vm_context.get_mut().epoch_deadline = self.engine.current_epoch().saturating_add(ticks);
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

    /// This store's identity, unique in the process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Whether `handle` belongs to this store.
    pub(crate) fn owns(&self, handle: Stored) -> bool {
        handle.store == self.id
    }

    /// Grows memory `index` by `delta` pages, as `limiter` allows; the old size, or `None` if it cannot
    /// grow. An error from the limiter is returned (and traps when wasm asked).
    pub(crate) fn grow_memory(
        &mut self,
        mut limiter: Option<&mut dyn ResourceLimiter>,
        index: u32,
        delta: u64,
    ) -> anyhow::Result<Option<u64>> {
        let memory = &self.memories[index as usize];
        let (current, old_pages, max_pages) = (memory.byte_size(), memory.pages(), memory.maximum_pages());
        let maximum = memory.ty().maximum.map(|m| m as usize * WASM_PAGE_SIZE);
        let Some(new_pages) = old_pages.checked_add(delta).filter(|&p| p <= max_pages) else {
            if let Some(limiter) = crate::limits::reborrow(&mut limiter) {
                limiter.memory_grow_failed(anyhow::anyhow!("memory maximum size exceeded"))?;
            }
            return Ok(None);
        };
        let desired = new_pages as usize * WASM_PAGE_SIZE;
        if let Some(limiter) = crate::limits::reborrow(&mut limiter)
            && !limiter.memory_growing(current, desired, maximum)?
        {
            return Ok(None);
        }
        match self.memories[index as usize].grow(delta) {
            Ok(old) => Ok(Some(old)),
            Err(error) => {
                if let Some(limiter) = limiter {
                    limiter.memory_grow_failed(error)?;
                }
                Ok(None)
            }
        }
    }

    /// Grows table `index` by `delta` elements set to `init`, as `limiter` allows; the old size, or `None`
    /// if it cannot grow. An error from the limiter is returned.
    pub(crate) fn grow_table(
        &mut self,
        mut limiter: Option<&mut dyn ResourceLimiter>,
        index: u32,
        delta: u64,
        init: usize,
    ) -> anyhow::Result<Option<u64>> {
        let table = &self.tables[index as usize];
        let current = table.storage.size();
        let maximum = table.ty.maximum().map(|m| m as usize);
        let Some(desired) = current.checked_add(delta).filter(|&d| d <= table.storage.maximum()) else {
            if let Some(limiter) = crate::limits::reborrow(&mut limiter) {
                limiter.table_grow_failed(anyhow::anyhow!("table maximum size exceeded"))?;
            }
            return Ok(None);
        };
        if let Some(limiter) = crate::limits::reborrow(&mut limiter)
            && !limiter.table_growing(current as usize, desired as usize, maximum)?
        {
            return Ok(None);
        }
        match self.tables[index as usize].storage.grow(delta, init) {
            Some(old) => Ok(Some(old)),
            None => {
                if let Some(limiter) = limiter {
                    limiter.table_grow_failed(anyhow::anyhow!("failed to allocate the grown table"))?;
                }
                Ok(None)
            }
        }
    }

    /// Checks that the store may hold one more instance with `tables` more tables and `memories` more
    /// memories.
    pub(crate) fn check_instance_limits(
        &self,
        limiter: Option<&mut dyn ResourceLimiter>,
        tables: usize,
        memories: usize,
    ) -> anyhow::Result<()> {
        let counts = (self.instances.len(), self.tables.len(), self.memories.len());
        let Some(limiter) = limiter else { return Ok(()) };
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

    /// Prepares a call into wasm: sets the stack limit on the outermost entry (returning whether this is
    /// it), or errors with a stack-overflow trap if there is not enough stack left to enter.
    ///
    /// With signal-based traps, every function's prologue checks the limit before it allocates its frame, so
    /// the limit is where wasm's stack ends: at most `max_wasm_stack` below the outermost entry, and never
    /// beyond the thread's own stack (minus a reserve for host code). Explicit checks run in the function
    /// body, after the prologue has allocated the frame, so there the limit also keeps room for the largest
    /// frame the engine's code has: a function that passed its check can call one more, whose frame still
    /// fits before its own check traps; and entering from the host needs that much stack too.
    #[inline]
    pub(crate) fn enter_wasm(&mut self) -> Result<bool, crate::Trap> {
        let context = self.vm_context.get_mut();
        let first = context.stack_limit == usize::MAX;
        if first {
            let sp = crate::vm::arch::stack_pointer();
            // Never beyond the thread's own stack: on a thread with a small stack, deep recursion must end in
            // a trap, not in a fault on the stack's guard page.
            self.stack_base = sp.saturating_sub(self.engine.config().max_wasm_stack).max(crate::vm::stack::wasm_floor());
            context.stack_limit = self.stack_base;
        }
        if !self.engine.config().signals_based_traps {
            let limit = self.stack_base.saturating_add(self.engine.max_frame_size());
            context.stack_limit = limit;
            if crate::vm::arch::stack_pointer() < limit {
                self.exit_wasm(first);
                return Err(crate::Trap::StackOverflow);
            }
        }
        Ok(first)
    }

    /// Undoes `enter_wasm` when the outermost call returns.
    #[inline]
    pub(crate) fn exit_wasm(&mut self, was_first: bool) {
        if was_first {
            self.vm_context.get_mut().stack_limit = usize::MAX;
        }
    }
}

/// Read access to a store, for APIs that only read.
pub struct StoreContext<'a, T: 'static>(pub(crate) &'a StoreInner<T>);

/// Write access to a store, for APIs that create objects or run code.
pub struct StoreContextMut<'a, T: 'static>(pub(crate) StorePtr<'a, StoreInner<T>>);

impl<'a, T: 'static> StoreContext<'a, T> {
    /// The host state.
    pub fn data(&self) -> &'a T {
        &self.0.data
    }
    /// The store's engine.
    pub fn engine(&self) -> &'a Engine {
        &self.0.opaque.engine
    }
    /// The fuel left (see [`Store::get_fuel`]).
    pub fn get_fuel(&self) -> anyhow::Result<u64> {
        self.0.opaque.get_fuel()
    }
}

impl<'a, T: 'static> StoreContextMut<'a, T> {
    /// The host state.
    pub fn data(&self) -> &T {
        &self.0.get().data
    }
    /// The host state, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.0.get_mut().data
    }
    /// The store's engine.
    pub fn engine(&self) -> &Engine {
        &self.0.get().opaque.engine
    }
    /// The fuel left (see [`Store::get_fuel`]).
    pub fn get_fuel(&self) -> anyhow::Result<u64> {
        self.0.get().opaque.get_fuel()
    }
    /// Sets the fuel (see [`Store::set_fuel`]).
    pub fn set_fuel(&mut self, fuel: u64) -> anyhow::Result<()> {
        self.0.get_mut().opaque.set_fuel(fuel)
    }
    /// Sets the epoch deadline (see [`Store::set_epoch_deadline`]).
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        self.0.get_mut().opaque.set_epoch_deadline(ticks);
    }
    /// The untyped part of the store.
    pub(crate) fn opaque(&mut self) -> &mut StoreOpaque {
        &mut self.0.get_mut().opaque
    }
}

/// Anything that gives read access to a store: `&Store<T>`, `&mut Store<T>`, `Caller<T>`, contexts.
pub trait AsContext {
    /// The host state type.
    type Data: 'static;
    /// Read access to the store.
    fn as_context(&self) -> StoreContext<'_, Self::Data>;
}

/// Anything that gives write access to a store.
pub trait AsContextMut: AsContext {
    /// Write access to the store.
    fn as_context_mut(&mut self) -> StoreContextMut<'_, Self::Data>;
}

impl<T: 'static> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.inner.get())
    }
}

impl<T: 'static> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.inner.lend())
    }
}

impl<T: 'static> AsContext for StoreContext<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0)
    }
}

impl<T: 'static> AsContext for StoreContextMut<'_, T> {
    type Data = T;
    fn as_context(&self) -> StoreContext<'_, T> {
        StoreContext(self.0.get())
    }
}

impl<T: 'static> AsContextMut for StoreContextMut<'_, T> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        StoreContextMut(self.0.reborrow())
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

impl<T: std::fmt::Debug + 'static> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("data", self.data()).finish_non_exhaustive()
    }
}

impl<'a, C: AsContext> From<&'a C> for StoreContext<'a, C::Data> {
    fn from(store: &'a C) -> Self {
        store.as_context()
    }
}

impl<'a, C: AsContext> From<&'a mut C> for StoreContext<'a, C::Data> {
    fn from(store: &'a mut C) -> Self {
        (*store).as_context()
    }
}

impl<'a, C: AsContextMut> From<&'a mut C> for StoreContextMut<'a, C::Data> {
    fn from(store: &'a mut C) -> Self {
        store.as_context_mut()
    }
}

impl<'a, T: 'static> From<StoreContextMut<'a, T>> for StoreContext<'a, T> {
    fn from(store: StoreContextMut<'a, T>) -> Self {
        StoreContext(store.0.into_ref())
    }
}
