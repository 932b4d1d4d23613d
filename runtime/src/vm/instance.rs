//! The Rust side of an instance and its `VMContext` block.

use super::builtins;
use super::store::{VMStore, VmBox};
use super::vmcontext::{VMFuncRef, VMGlobalDefinition, VMMemoryDefinition, VMStoreContext, VMTableDefinition, ValRaw};
use crate::environ::{ModuleInfo, VMOffsets};
use std::alloc::Layout;
use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::Arc;

/// An instance's state: its context block and what its builtins need. It lives in a [`VmBox`], whose
/// pointer the context's first word holds.
pub struct InstanceData {
    /// The `VMContext` block, allocated raw (16-byte aligned, as its global slots need) and only ever
    /// written through this pointer.
    vmctx: NonNull<u8>,
    vmctx_layout: Layout,
    /// What the module declares.
    pub info: Arc<ModuleInfo>,
    offsets: VMOffsets,
    /// Store indices of the instance's memories, tables and globals (imported ones first).
    pub memories: Vec<u32>,
    /// See `memories`.
    pub tables: Vec<u32>,
    /// See `memories`.
    pub globals: Vec<u32>,
    /// Store indices of the instance's tags (imported ones first).
    pub tags: Vec<u32>,
    /// Passive element segments, evaluated; `None` once dropped.
    pub passive_elements: Vec<Option<Vec<usize>>>,
    /// Which data segments were dropped.
    pub dropped_data: Vec<bool>,
    /// Store function indices already created for this instance's functions.
    pub func_handles: HashMap<u32, u32>,
    /// The store that owns the instance, as builtins reach it.
    pub store: NonNull<dyn VMStore>,
    /// This instance's index in the store.
    pub index: u32,
}

// SAFETY: the context block is owned by this value; the store pointer is only used by builtins while the
// store runs this instance's code, on the thread that runs it.
unsafe impl Send for InstanceData {}
// SAFETY: shared references only read.
unsafe impl Sync for InstanceData {}

impl InstanceData {
    /// A new instance of the module `info` describes, with a zeroed context whose header is filled in.
    /// `type_ids` (the engine-wide id of each of the module's types) must stay valid as long as the
    /// instance: the store keeps the module alive.
    pub fn new(
        info: Arc<ModuleInfo>,
        type_ids: *const u32,
        store: NonNull<dyn VMStore>,
        store_context: *mut VMStoreContext,
        index: u32,
    ) -> anyhow::Result<VmBox<Self>> {
        let offsets = VMOffsets::for_module(&info);
        let vmctx_layout = Layout::from_size_align(offsets.size().max(16) as usize, 16)?;
        // SAFETY: the layout has a non-zero size.
        let vmctx = NonNull::new(unsafe { std::alloc::alloc_zeroed(vmctx_layout) })
            .ok_or_else(|| anyhow::anyhow!("failed to allocate an instance context of {} bytes", offsets.size()))?;
        let (num_elements, num_data) = (info.elements.len(), info.data.len());
        let mut instance = VmBox::new(InstanceData {
            vmctx,
            vmctx_layout,
            info,
            offsets,
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            tags: Vec::new(),
            passive_elements: vec![None; num_elements],
            dropped_data: vec![false; num_data],
            func_handles: HashMap::new(),
            store,
            index,
        });
        let self_ptr = instance.as_ptr().as_ptr();
        let data = instance.get_mut();
        data.write_usize(VMOffsets::INSTANCE, self_ptr as usize);
        data.write_usize(VMOffsets::STORE, store_context as usize);
        data.write_usize(VMOffsets::BUILTINS, builtins::table() as usize);
        data.write_usize(VMOffsets::TYPE_IDS, type_ids as usize);
        Ok(instance)
    }

    /// The instance's `VMContext`.
    pub fn vmctx(&self) -> *mut u8 {
        self.vmctx.as_ptr()
    }

    fn write_usize(&mut self, offset: u32, value: usize) {
        assert!(offset.is_multiple_of(8) && offset as usize + 8 <= self.vmctx_layout.size());
        // SAFETY: checked above: an 8-aligned word inside the context block, written through the block's
        // own pointer; compiled code of this instance is not running while the host sets it up.
        unsafe { self.vmctx().add(offset as usize).cast::<usize>().write(value) };
    }

    /// Initialises the slot of global `index`, which the module defines, to `value`; returns the slot.
    pub fn init_defined_global(&mut self, index: u32, value: ValRaw) -> *mut VMGlobalDefinition {
        let offset = self.offsets.defined_global(index) as usize;
        let slot = self.vmctx().wrapping_add(offset).cast::<VMGlobalDefinition>();
        assert!(offset + size_of::<VMGlobalDefinition>() <= self.vmctx_layout.size());
        // SAFETY: a 16-aligned global slot inside the context block (checked above).
        unsafe { slot.write(VMGlobalDefinition(value)) };
        slot
    }

    /// Function `index`'s `VMFuncRef` inside the context.
    pub fn funcref(&self, index: u32) -> *mut VMFuncRef {
        self.vmctx().wrapping_add(self.offsets.funcref(index) as usize).cast()
    }

    /// Where the context's array of `VMFuncRef`s starts (function `i`'s is element `i`).
    pub fn funcrefs(&self) -> *mut VMFuncRef {
        self.vmctx().wrapping_add(self.offsets.funcrefs_start() as usize).cast()
    }

    /// Sets function `index`'s `VMFuncRef` to a copy of `funcref`.
    pub fn set_funcref(&mut self, index: u32, funcref: &VMFuncRef) {
        assert!((index as usize) < self.info.funcs.len());
        let slot = self.funcref(index);
        // SAFETY: `slot` is a `VMFuncRef`-sized, 8-aligned region of the context block (checked above).
        unsafe { slot.write(VMFuncRef { func_ptr: funcref.func_ptr, vmctx: funcref.vmctx, type_id: funcref.type_id }) };
    }

    /// Points the funcrefs of the defined functions, `first` onwards, at their code (with the address and
    /// type id of each in `defined`) and at this instance.
    pub fn set_defined_funcrefs(&mut self, first: u32, defined: &[(usize, u32)]) {
        assert!(first as usize + defined.len() <= self.info.funcs.len());
        if defined.is_empty() {
            return;
        }
        let vmctx = self.vmctx();
        let slots = self.funcref(first);
        for (i, &(code, type_id)) in defined.iter().enumerate() {
            // SAFETY: the context block is sized for every function, so these funcrefs (checked above) lie
            // inside it, 8-aligned; nothing else references them yet.
            unsafe { slots.add(i).write(VMFuncRef { func_ptr: code as *const u8, vmctx, type_id }) };
        }
    }

    /// Sets the pointer to memory `index`'s definition, and the copy of its base.
    pub fn set_memory(&mut self, index: u32, def: *mut VMMemoryDefinition, base: *mut u8) {
        self.write_usize(self.offsets.memory(index), def as usize);
        self.write_usize(self.offsets.memory_base(index), base as usize);
    }

    /// Memory `index`'s base address and current size in bytes, as compiled code sees them.
    pub fn memory_bounds(&self, index: u32) -> (*mut u8, usize) {
        let offset = self.offsets.memory(index) as usize;
        assert!(offset + size_of::<usize>() <= self.vmctx_layout.size());
        // SAFETY: the slot (inside the context, checked above) holds the pointer to the definition of one of
        // the instance's memories, set at instantiation; memories live as long as the store, which is running
        // this instance's code.
        unsafe {
            let def = *self.vmctx().add(offset).cast::<*const VMMemoryDefinition>();
            ((*def).base, (*def).current_length)
        }
    }

    /// Sets the pointer to table `index`'s definition.
    pub fn set_table(&mut self, index: u32, def: *mut VMTableDefinition) {
        self.write_usize(self.offsets.table(index), def as usize);
    }

    /// Sets the pointer to global `index`'s storage.
    pub fn set_global(&mut self, index: u32, def: *mut VMGlobalDefinition) {
        self.write_usize(self.offsets.global(index), def as usize);
    }
}

impl Drop for InstanceData {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; the store drops its instances only when nothing can
        // run their code any more.
        unsafe { std::alloc::dealloc(self.vmctx.as_ptr(), self.vmctx_layout) };
    }
}

/// The instance whose context is `vmctx`.
///
/// # Safety
/// `vmctx` must be the context of a live instance whose store lends it to the running code (a call into
/// wasm is under way), and no other reference to the instance may be live.
pub unsafe fn instance_of<'a>(vmctx: *mut u8) -> &'a mut InstanceData {
    // SAFETY: a live context's first word is the owning pointer of its instance's box (set in `new`).
    unsafe { &mut **vmctx.cast::<*mut InstanceData>() }
}
