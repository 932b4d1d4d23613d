//! The Rust side of an instance and its `VMContext` block.

use super::offsets::VMOffsets;
use super::vmcontext::{VMFuncRef, VMGlobalDefinition, VMStoreContext};
use crate::module::Module;
use crate::store::StoreOpaque;
use std::collections::HashMap;

/// An instance's state: its context block and what its builtins need.
pub struct InstanceData {
    /// The module this is an instance of.
    pub module: Module,
    /// The `VMContext` block (16-byte aligned, as its global slots need).
    vmctx: Box<[VMGlobalDefinition]>,
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
    /// The store that owns the instance.
    pub store: *mut StoreOpaque,
    /// This instance's index in the store.
    pub index: u32,
}

impl InstanceData {
    /// A new instance of `module` with a zeroed context whose header is filled in.
    pub fn new(
        module: Module,
        store: *mut StoreOpaque,
        store_context: *mut VMStoreContext,
        index: u32,
    ) -> Box<Self> {
        let offsets = module.offsets();
        let words = (offsets.size() as usize).div_ceil(8);
        let num_elements = module.info().elements.len();
        let num_data = module.info().data.len();
        let mut instance = Box::new(InstanceData {
            vmctx: vec![VMGlobalDefinition::default(); words.div_ceil(2)].into_boxed_slice(),
            memories: Vec::new(),
            tables: Vec::new(),
            globals: Vec::new(),
            tags: Vec::new(),
            passive_elements: vec![None; num_elements],
            dropped_data: vec![false; num_data],
            func_handles: HashMap::new(),
            store,
            index,
            module,
        });
        let self_ptr: *mut InstanceData = &mut *instance;
        let builtins = super::builtins::table();
        let type_ids = instance.module.type_ids().as_ptr();
        instance.write_usize(VMOffsets::INSTANCE, self_ptr as usize);
        instance.write_usize(VMOffsets::STORE, store_context as usize);
        instance.write_usize(VMOffsets::BUILTINS, builtins as usize);
        instance.write_usize(VMOffsets::TYPE_IDS, type_ids as usize);
        instance
    }

    /// The instance's `VMContext`.
    pub fn vmctx(&self) -> *mut u8 {
        self.vmctx.as_ptr() as *mut u8
    }

    /// The layout of the context.
    pub fn offsets(&self) -> &VMOffsets {
        self.module.offsets()
    }

    fn write_usize(&mut self, offset: u32, value: usize) {
        assert!(offset % 8 == 0 && (offset as usize) + 8 <= self.vmctx.len() * 16);
        // SAFETY: checked above: an 8-aligned word inside the context block, which this instance owns.
        unsafe { self.vmctx().add(offset as usize).cast::<usize>().write(value) };
    }

    /// Initialises the slot of global `index`, which the module defines, to `value`; returns the slot.
    pub fn init_defined_global(&mut self, index: u32, value: super::ValRaw) -> *mut VMGlobalDefinition {
        let offset = self.offsets().defined_global(index) as usize;
        let slot = &mut self.vmctx[offset / 16];
        *slot = VMGlobalDefinition(value);
        slot
    }

    /// Function `index`'s `VMFuncRef` inside the context.
    pub fn funcref(&self, index: u32) -> *mut VMFuncRef {
        debug_assert!((index as usize) < self.module.info().funcs.len());
        self.funcrefs().wrapping_add(index as usize)
    }

    /// Where the context's array of `VMFuncRef`s starts (function `i`'s is element `i`).
    pub fn funcrefs(&self) -> *mut VMFuncRef {
        self.vmctx().wrapping_add(self.offsets().funcrefs_start() as usize).cast()
    }

    /// Sets function `index`'s `VMFuncRef`.
    pub fn set_funcref(&mut self, index: u32, func_ptr: *const u8, vmctx: *mut u8, type_id: u32) {
        let slot = self.funcref(index);
        // SAFETY: `slot` points to a `VMFuncRef`-sized, 8-aligned region of the context block.
        unsafe { slot.write(VMFuncRef { func_ptr, vmctx, type_id }) };
    }

    /// Points the funcrefs of the defined functions, `first` onwards, at their code (with the address and
    /// type id of each in `defined`) and at this instance.
    pub fn set_defined_funcrefs(&mut self, first: u32, defined: &[(usize, u32)]) {
        if defined.is_empty() {
            return;
        }
        let vmctx = self.vmctx();
        // SAFETY: the context block is sized for every function, so the `defined.len()` funcrefs from
        // `first` (the first defined function) lie inside it, 8-aligned; nothing else references them yet.
        let slots = unsafe { std::slice::from_raw_parts_mut(self.funcref(first), defined.len()) };
        for (slot, &(code, type_id)) in slots.iter_mut().zip(defined) {
            *slot = VMFuncRef { func_ptr: code as *const u8, vmctx, type_id };
        }
    }

    /// Sets the pointer to memory `index`'s definition.
    pub fn set_memory(&mut self, index: u32, def: *mut super::VMMemoryDefinition) {
        let offset = self.offsets().memory(index);
        self.write_usize(offset, def as usize);
        // SAFETY: `def` points to a live memory definition owned by the store; its base never changes.
        let base = unsafe { (*def).base };
        let offset = self.offsets().memory_base(index);
        self.write_usize(offset, base as usize);
    }

    /// Sets the pointer to table `index`'s definition.
    pub fn set_table(&mut self, index: u32, def: *mut super::VMTableDefinition) {
        let offset = self.offsets().table(index);
        self.write_usize(offset, def as usize);
    }

    /// Sets the pointer to global `index`'s storage.
    pub fn set_global(&mut self, index: u32, def: *mut super::VMGlobalDefinition) {
        let offset = self.offsets().global(index);
        self.write_usize(offset, def as usize);
    }

    /// The instance a context belongs to.
    ///
    /// # Safety
    /// `vmctx` must be the context of a live instance.
    pub unsafe fn from_vmctx<'a>(vmctx: *mut u8) -> &'a mut InstanceData {
        // SAFETY: the caller guarantees `vmctx` is a live context, whose first word points to its instance.
        unsafe { &mut **(vmctx as *mut *mut InstanceData) }
    }
}
