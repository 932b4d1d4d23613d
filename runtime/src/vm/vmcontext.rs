//! The `#[repr(C)]` structures that compiled code reads and writes; their offsets are in
//! [`crate::environ::offsets`].

use super::store::VmBox;
use crate::environ::offsets;
use std::mem::offset_of;

/// A function as compiled code sees it: what `ref.func`, tables and imports hold a pointer to.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VMFuncRef {
    /// Code address, called with the wasm calling convention `(callee_vmctx, caller_vmctx, params...)`.
    pub func_ptr: *const u8,
    /// The callee's context.
    pub vmctx: *mut u8,
    /// Engine-wide signature id.
    pub type_id: u32,
}

/// A linear memory's base and current size, read by compiled code.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemoryDefinition {
    /// Base address; fixed for the memory's lifetime.
    pub base: *mut u8,
    /// Current size in bytes.
    pub current_length: usize,
}

/// A table's elements and current size, read by compiled code.
#[repr(C)]
#[derive(Debug)]
pub struct VMTableDefinition {
    /// Address of element 0 (each element is a pointer-sized raw reference).
    pub base: *mut usize,
    /// Current number of elements.
    pub current_elements: usize,
}

/// Storage of one global: 16 bytes, the value in the low bytes.
#[repr(C, align(16))]
#[derive(Debug, Default, Clone, Copy)]
pub struct VMGlobalDefinition(pub ValRaw);

/// Where a global's value lives: in a box of its own (globals made by the host), or elsewhere in the store.
pub enum GlobalStorage {
    /// A global made by the host.
    Owned(VmBox<VMGlobalDefinition>),
    /// A global defined by a module (a slot in its instance's context), or a component instance's
    /// [`ComponentFlags`]: storage that lives as long as the store.
    InInstance(*mut VMGlobalDefinition),
}

/// The flags of a component's instances (the root and each nested one), each in a global's storage: the
/// runtime reads and writes them through this, and fused adapters, compiled code, import them as mutable
/// `i32` globals.
pub struct ComponentFlags(VmBox<[VMGlobalDefinition]>);

impl std::fmt::Debug for ComponentFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries((0..self.count()).map(|i| self.get(i))).finish()
    }
}

impl ComponentFlags {
    /// The instance may call its imports (it is not running its `realloc` or `post-return`).
    pub const MAY_LEAVE: i32 = 1;
    /// The instance is running a call: it may not be entered again.
    pub const ENTERED: i32 = 2;
    /// Something trapped in the instance's component: it may not be entered any more.
    pub const POISONED: i32 = 4;

    /// The flags of `count` instances, none running, all allowed to leave.
    pub fn new(count: usize) -> Self {
        let flags: Box<[VMGlobalDefinition]> = (0..count).map(|_| VMGlobalDefinition(ValRaw::i32(Self::MAY_LEAVE))).collect();
        ComponentFlags(VmBox::from_box(flags))
    }

    /// How many instances' flags these are.
    pub fn count(&self) -> usize {
        self.0.get().len()
    }

    /// The slot of instance `instance` (panics if there is no such instance).
    #[inline]
    fn slot(&self, instance: usize) -> *mut VMGlobalDefinition {
        assert!(instance < self.count(), "no component instance {instance}");
        self.0.as_ptr().as_ptr().cast::<VMGlobalDefinition>().wrapping_add(instance)
    }

    /// The current bits of instance `instance`.
    #[inline]
    pub fn get(&self, instance: usize) -> i32 {
        // SAFETY: the slot is in bounds (checked) of the box owned by `self`; compiled code writes it only
        // while it runs, and no compiled code runs while the host holds `&self`.
        unsafe { (*self.slot(instance)).0.get_i32() }
    }

    /// Sets or clears `bits` of instance `instance`.
    #[inline]
    pub fn set(&mut self, instance: usize, bits: i32, on: bool) {
        let value = if on { self.get(instance) | bits } else { self.get(instance) & !bits };
        // SAFETY: as in `get`, with `&mut self` making the host's access exclusive.
        unsafe { (*self.slot(instance)).0 = ValRaw::i32(value) };
    }

    /// The storage of a global that is instance `instance`'s flags (valid as long as they are: their owner
    /// keeps them for as long as the store lives).
    pub fn storage(&self, instance: usize) -> GlobalStorage {
        GlobalStorage::InInstance(self.slot(instance))
    }
}


impl GlobalStorage {
    /// The definition compiled code reads and writes.
    pub fn definition(&self) -> *mut VMGlobalDefinition {
        match self {
            GlobalStorage::Owned(b) => b.as_ptr().as_ptr(),
            GlobalStorage::InInstance(p) => *p,
        }
    }

    /// The current value.
    pub fn get(&self) -> ValRaw {
        // SAFETY: the definition is live (a box owned by `self`, or a slot in the context of an instance of
        // the same store, and instances live as long as their store); no compiled code runs while the host
        // holds `&self`.
        unsafe { (*self.definition()).0 }
    }

    /// Replaces the value.
    pub fn set(&mut self, value: ValRaw) {
        // SAFETY: as in `get`, with `&mut self` making the host's access exclusive.
        unsafe { (*self.definition()).0 = value };
    }
}

/// Per-store state read by compiled code.
#[repr(C)]
#[derive(Debug)]
pub struct VMStoreContext {
    /// Lowest stack address wasm may use; checked in every function prologue.
    pub stack_limit: usize,
    /// Fuel consumed minus fuel granted: negative while fuel remains (with `Config::consume_fuel`).
    pub fuel_consumed: i64,
    /// The epoch at which wasm is interrupted (with `Config::epoch_interruption`).
    pub epoch_deadline: u64,
    /// The engine's epoch counter.
    pub epoch_counter: *const std::sync::atomic::AtomicU64,
}

impl VMStoreContext {
    /// The context of a store of an engine whose epoch counter is `epoch_counter`.
    pub fn new(epoch_counter: *const std::sync::atomic::AtomicU64) -> Self {
        VMStoreContext { stack_limit: usize::MAX, fuel_consumed: 0, epoch_deadline: 0, epoch_counter }
    }
}

/// One untyped wasm value as it crosses the host boundary: 16 bytes, little-endian, low bytes first.
#[repr(C, align(16))]
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct ValRaw {
    lo: u64,
    hi: u64,
}

impl std::fmt::Debug for ValRaw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ValRaw({:#x}, {:#x})", self.lo, self.hi)
    }
}

impl ValRaw {
    /// An `i32`.
    #[inline]
    pub fn i32(v: i32) -> Self {
        ValRaw { lo: v as u32 as u64, hi: 0 }
    }
    /// An `i64`.
    #[inline]
    pub fn i64(v: i64) -> Self {
        ValRaw { lo: v as u64, hi: 0 }
    }
    /// An `f32` given by its bits.
    #[inline]
    pub fn f32(bits: u32) -> Self {
        ValRaw { lo: bits as u64, hi: 0 }
    }
    /// An `f64` given by its bits.
    #[inline]
    pub fn f64(bits: u64) -> Self {
        ValRaw { lo: bits, hi: 0 }
    }
    /// A `v128` given by its bits.
    #[inline]
    pub fn v128(bits: u128) -> Self {
        ValRaw { lo: bits as u64, hi: (bits >> 64) as u64 }
    }
    /// A raw reference (0 is null).
    #[inline]
    pub fn reference(raw: usize) -> Self {
        ValRaw { lo: raw as u64, hi: 0 }
    }
    /// The value as an `i32`.
    #[inline]
    pub fn get_i32(&self) -> i32 {
        self.lo as u32 as i32
    }
    /// The value as an `i64`.
    #[inline]
    pub fn get_i64(&self) -> i64 {
        self.lo as i64
    }
    /// The bits of an `f32`.
    #[inline]
    pub fn get_f32(&self) -> u32 {
        self.lo as u32
    }
    /// The bits of an `f64`.
    #[inline]
    pub fn get_f64(&self) -> u64 {
        self.lo
    }
    /// The bits of a `v128`.
    #[inline]
    pub fn get_v128(&self) -> u128 {
        (self.hi as u128) << 64 | self.lo as u128
    }
    /// A raw reference (0 is null).
    #[inline]
    pub fn get_reference(&self) -> usize {
        self.lo as usize
    }
}

// The layout constants that compiled code relies on must match these structures.
const _: () = {
    assert!(offset_of!(VMFuncRef, func_ptr) == offsets::funcref::FUNC_PTR as usize);
    assert!(offset_of!(VMFuncRef, vmctx) == offsets::funcref::VMCTX as usize);
    assert!(offset_of!(VMFuncRef, type_id) == offsets::funcref::TYPE_ID as usize);
    assert!(size_of::<VMFuncRef>() == offsets::funcref::SIZE as usize);
    assert!(offset_of!(VMMemoryDefinition, base) == offsets::memory::BASE as usize);
    assert!(offset_of!(VMMemoryDefinition, current_length) == offsets::memory::LENGTH as usize);
    assert!(offset_of!(VMTableDefinition, base) == offsets::table::BASE as usize);
    assert!(offset_of!(VMTableDefinition, current_elements) == offsets::table::LENGTH as usize);
    assert!(offset_of!(VMStoreContext, stack_limit) == offsets::store::STACK_LIMIT as usize);
    assert!(offset_of!(VMStoreContext, fuel_consumed) == offsets::store::FUEL_CONSUMED as usize);
    assert!(offset_of!(VMStoreContext, epoch_deadline) == offsets::store::EPOCH_DEADLINE as usize);
    assert!(offset_of!(VMStoreContext, epoch_counter) == offsets::store::EPOCH_COUNTER as usize);
    assert!(size_of::<ValRaw>() == 16);
};
