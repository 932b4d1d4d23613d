//! Runtime functions that compiled code calls through the builtin table of its `VMContext`.
//!
//! Each takes the calling instance's `vmctx` first. Those that can fail return 0 on failure and compiled code
//! then traps with the code that fits the operation, so no builtin ever unwinds.

use super::instance::InstanceData;
use crate::store::StoreOpaque;

/// A value type in a builtin's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltinType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer (also raw references).
    I64,
}

/// A `grow` builtin's result when the memory or table cannot grow (`memory.grow` returns -1).
pub const GROW_FAILED: i64 = -1;
/// A `grow` builtin's result when the resource limiter failed: compiled code traps with
/// `HOST_CALL_FAILED`, raising the recorded error.
pub const GROW_ERROR: i64 = -2;

/// The builtins, in the order of their slots in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Builtin {
    /// `memory.grow(mem, delta) -> old pages, GROW_FAILED or GROW_ERROR` (as `i64`).
    MemoryGrow,
    /// `memory.fill(mem, dst, value, len) -> ok`.
    MemoryFill,
    /// `memory.copy(dst_mem, src_mem, dst, src, len) -> ok`.
    MemoryCopy,
    /// `memory.init(mem, data, dst, src, len) -> ok`.
    MemoryInit,
    /// `data.drop(data)`.
    DataDrop,
    /// `table.grow(table, init, delta) -> old size, GROW_FAILED or GROW_ERROR` (as `i64`).
    TableGrow,
    /// `table.fill(table, dst, value, len) -> ok`.
    TableFill,
    /// `table.copy(dst_table, src_table, dst, src, len) -> ok`.
    TableCopy,
    /// `table.init(table, elem, dst, src, len) -> ok`.
    TableInit,
    /// `elem.drop(elem)`.
    ElemDrop,
    /// `raise_trap(code)`: raises the trap with this Cranelift trap code (explicit-check mode).
    RaiseTrap,
}

impl Builtin {
    /// Parameter types after `vmctx`.
    pub fn params(self) -> &'static [BuiltinType] {
        use BuiltinType::{I32, I64};
        match self {
            Builtin::MemoryGrow => &[I32, I32],
            Builtin::MemoryFill => &[I32, I32, I32, I32],
            Builtin::MemoryCopy | Builtin::MemoryInit | Builtin::TableCopy | Builtin::TableInit => {
                &[I32, I32, I32, I32, I32]
            }
            Builtin::DataDrop | Builtin::ElemDrop | Builtin::RaiseTrap => &[I32],
            Builtin::TableGrow => &[I32, I64, I32],
            Builtin::TableFill => &[I32, I32, I64, I32],
        }
    }

    /// Result type, if any.
    pub fn result(self) -> Option<BuiltinType> {
        match self {
            Builtin::DataDrop | Builtin::ElemDrop | Builtin::RaiseTrap => None,
            Builtin::MemoryGrow | Builtin::TableGrow => Some(BuiltinType::I64),
            _ => Some(BuiltinType::I32),
        }
    }
}

/// The table compiled code indexes by `Builtin as usize`.
#[repr(C)]
pub struct BuiltinTable {
    memory_grow: unsafe extern "sysv64" fn(*mut u8, u32, u32) -> i64,
    memory_fill: unsafe extern "sysv64" fn(*mut u8, u32, u32, u32, u32) -> u32,
    memory_copy: unsafe extern "sysv64" fn(*mut u8, u32, u32, u32, u32, u32) -> u32,
    memory_init: unsafe extern "sysv64" fn(*mut u8, u32, u32, u32, u32, u32) -> u32,
    data_drop: unsafe extern "sysv64" fn(*mut u8, u32),
    table_grow: unsafe extern "sysv64" fn(*mut u8, u32, u64, u32) -> i64,
    table_fill: unsafe extern "sysv64" fn(*mut u8, u32, u32, u64, u32) -> u32,
    table_copy: unsafe extern "sysv64" fn(*mut u8, u32, u32, u32, u32, u32) -> u32,
    table_init: unsafe extern "sysv64" fn(*mut u8, u32, u32, u32, u32, u32) -> u32,
    elem_drop: unsafe extern "sysv64" fn(*mut u8, u32),
    raise_trap: unsafe extern "sysv64" fn(*mut u8, u32) -> !,
}

static TABLE: BuiltinTable = BuiltinTable {
    memory_grow,
    memory_fill,
    memory_copy,
    memory_init,
    data_drop,
    table_grow,
    table_fill,
    table_copy,
    table_init,
    elem_drop,
    raise_trap: super::traphandlers::raise_trap,
};

/// The address of the builtin table.
pub fn table() -> *const BuiltinTable {
    &TABLE
}

/// The calling instance and its store.
///
/// # Safety
/// `vmctx` must be the context of a live instance whose store is running it.
unsafe fn context<'a>(vmctx: *mut u8) -> (&'a mut InstanceData, &'a mut StoreOpaque) {
    // SAFETY: guaranteed by the caller; the store outlives every call into its instances.
    unsafe {
        let instance = InstanceData::from_vmctx(vmctx);
        let store = &mut *instance.store;
        (instance, store)
    }
}

/// Whether `[start, start + len)` lies within `size`.
fn in_bounds(start: u32, len: u32, size: usize) -> bool {
    u64::from(start) + u64::from(len) <= size as u64
}

unsafe extern "sysv64" fn memory_grow(vmctx: *mut u8, mem: u32, delta: u32) -> i64 {
    // SAFETY: called by compiled code of a live instance.
    let (instance, store) = unsafe { context(vmctx) };
    let memory = instance.memories[mem as usize];
    grow_result(store.grow_memory(memory, u64::from(delta)))
}

/// The result of a `grow` builtin: the old size, [`GROW_FAILED`], or [`GROW_ERROR`] after recording the
/// error for the trap compiled code then raises.
fn grow_result(result: anyhow::Result<Option<u64>>) -> i64 {
    match result {
        Ok(Some(old)) => old as i64,
        Ok(None) => GROW_FAILED,
        Err(error) => {
            super::traphandlers::set_pending(super::traphandlers::UnwindReason::HostError(error));
            GROW_ERROR
        }
    }
}

unsafe extern "sysv64" fn memory_fill(vmctx: *mut u8, mem: u32, dst: u32, value: u32, len: u32) -> u32 {
    // SAFETY: called by compiled code of a live instance.
    let (instance, store) = unsafe { context(vmctx) };
    let data = store.memory_mut(instance.memories[mem as usize]).data_mut();
    if !in_bounds(dst, len, data.len()) {
        return 0;
    }
    data[dst as usize..][..len as usize].fill(value as u8);
    1
}

unsafe extern "sysv64" fn memory_copy(vmctx: *mut u8, dst_mem: u32, src_mem: u32, dst: u32, src: u32, len: u32) -> u32 {
    // SAFETY: called by compiled code of a live instance.
    let (instance, store) = unsafe { context(vmctx) };
    let (dst_mem, src_mem) = (instance.memories[dst_mem as usize], instance.memories[src_mem as usize]);
    let src_data = store.memory_mut(src_mem).data_mut();
    let (src_ptr, src_size) = (src_data.as_mut_ptr(), src_data.len());
    let dst_data = store.memory_mut(dst_mem).data_mut();
    if !in_bounds(src, len, src_size) || !in_bounds(dst, len, dst_data.len()) {
        return 0;
    }
    // SAFETY: both ranges were checked against their memories' sizes; `copy` allows overlap.
    unsafe { std::ptr::copy(src_ptr.add(src as usize), dst_data.as_mut_ptr().add(dst as usize), len as usize) };
    1
}

unsafe extern "sysv64" fn memory_init(vmctx: *mut u8, mem: u32, data: u32, dst: u32, src: u32, len: u32) -> u32 {
    // SAFETY: called by compiled code of a live instance.
    let (instance, store) = unsafe { context(vmctx) };
    let segment: &[u8] =
        if instance.dropped_data[data as usize] { &[] } else { &instance.module.info().data[data as usize].bytes };
    let memory = store.memory_mut(instance.memories[mem as usize]).data_mut();
    if !in_bounds(src, len, segment.len()) || !in_bounds(dst, len, memory.len()) {
        return 0;
    }
    memory[dst as usize..][..len as usize].copy_from_slice(&segment[src as usize..][..len as usize]);
    1
}

unsafe extern "sysv64" fn data_drop(vmctx: *mut u8, data: u32) {
    // SAFETY: called by compiled code of a live instance.
    let (instance, _) = unsafe { context(vmctx) };
    instance.dropped_data[data as usize] = true;
}

unsafe extern "sysv64" fn table_grow(vmctx: *mut u8, table: u32, init: u64, delta: u32) -> i64 {
    // SAFETY: called by compiled code of a live instance.
    let (instance, store) = unsafe { context(vmctx) };
    let table = instance.tables[table as usize];
    grow_result(store.grow_table(table, u64::from(delta), init as usize))
}

unsafe extern "sysv64" fn table_fill(vmctx: *mut u8, table: u32, dst: u32, value: u64, len: u32) -> u32 {
    // SAFETY: called by compiled code of a live instance.
    let (instance, store) = unsafe { context(vmctx) };
    let elements = store.table_mut(instance.tables[table as usize]).elements_mut();
    if !in_bounds(dst, len, elements.len()) {
        return 0;
    }
    elements[dst as usize..][..len as usize].fill(value as usize);
    1
}

unsafe extern "sysv64" fn table_copy(vmctx: *mut u8, dst_table: u32, src_table: u32, dst: u32, src: u32, len: u32) -> u32 {
    // SAFETY: called by compiled code of a live instance.
    let (instance, store) = unsafe { context(vmctx) };
    let (dst_table, src_table) = (instance.tables[dst_table as usize], instance.tables[src_table as usize]);
    let src_elements = store.table_mut(src_table).elements();
    if !in_bounds(src, len, src_elements.len()) {
        return 0;
    }
    let copied = src_elements[src as usize..][..len as usize].to_vec();
    let dst_elements = store.table_mut(dst_table).elements_mut();
    if !in_bounds(dst, len, dst_elements.len()) {
        return 0;
    }
    dst_elements[dst as usize..][..len as usize].copy_from_slice(&copied);
    1
}

unsafe extern "sysv64" fn table_init(vmctx: *mut u8, table: u32, elem: u32, dst: u32, src: u32, len: u32) -> u32 {
    // SAFETY: called by compiled code of a live instance.
    let (instance, store) = unsafe { context(vmctx) };
    let segment = instance.passive_elements[elem as usize].as_deref().unwrap_or(&[]);
    let elements = store.table_mut(instance.tables[table as usize]).elements_mut();
    if !in_bounds(src, len, segment.len()) || !in_bounds(dst, len, elements.len()) {
        return 0;
    }
    elements[dst as usize..][..len as usize].copy_from_slice(&segment[src as usize..][..len as usize]);
    1
}

unsafe extern "sysv64" fn elem_drop(vmctx: *mut u8, elem: u32) {
    // SAFETY: called by compiled code of a live instance.
    let (instance, _) = unsafe { context(vmctx) };
    instance.passive_elements[elem as usize] = None;
}
