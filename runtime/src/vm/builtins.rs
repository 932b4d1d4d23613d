//! The runtime functions compiled code calls through the builtin table of its `VMContext` (their slots and
//! signatures are described by [`crate::environ::Builtin`]).
//!
//! Each takes the calling instance's `vmctx` first. A builtin whose operands are out of bounds returns a
//! failure value and compiled code then traps; one whose store's resource limiter fails records the error
//! and returns [`GROW_ERROR`]; one that panics (a limiter that panics, say) ends the call into wasm with the
//! panic, which then resumes in the caller. No builtin unwinds into compiled code.

use super::instance::{InstanceData, instance_of};
use super::store::VMStore;
use super::traphandlers::{self, UnwindReason, catch_host_failure};
use crate::environ::Builtin;
use crate::environ::builtins::{BULK_OK, BULK_OUT_OF_BOUNDS, GROW_ERROR, GROW_FAILED};

/// The table compiled code indexes by [`Builtin`].
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

const _: () = assert!(size_of::<BuiltinTable>() == Builtin::COUNT * size_of::<usize>());
const _: () = assert!(std::mem::offset_of!(BuiltinTable, raise_trap) == Builtin::RaiseTrap as usize * 8);
const _: () = assert!(std::mem::offset_of!(BuiltinTable, elem_drop) == Builtin::ElemDrop as usize * 8);

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
    raise_trap: super::arch::raise_trap,
};

/// The address of the builtin table.
pub fn table() -> *const BuiltinTable {
    &TABLE
}

/// Runs builtin `body` for the instance whose context is `vmctx`, with the instance and its store; a panic
/// in it ends the call into wasm (see the module documentation).
///
/// # Safety
/// Must be called directly by a builtin that compiled code of a live instance called with its `vmctx`.
#[inline(always)]
unsafe fn with_context<R>(vmctx: *mut u8, body: impl FnOnce(&mut InstanceData, &mut dyn VMStore) -> R) -> R {
    // SAFETY: the caller's contract; the store lends itself to the running code, which holds no reference
    // into it, and the instance lives in its own allocation, apart from the store's.
    let (instance, store) = unsafe {
        let instance = instance_of(vmctx);
        let store = &mut *instance.store.as_ptr();
        (instance, store)
    };
    // SAFETY: called directly by the builtin that compiled code called; `body` owns nothing when this
    // returns or resumes.
    unsafe { catch_host_failure(|| Ok(body(instance, store))) }
}

/// Whether `[start, start + len)` lies within `size`.
fn in_bounds(start: u32, len: u32, size: usize) -> bool {
    u64::from(start) + u64::from(len) <= size as u64
}

/// The status a bulk builtin returns.
fn bulk_status(ok: bool) -> u32 {
    if ok { BULK_OK } else { BULK_OUT_OF_BOUNDS }
}

unsafe extern "sysv64" fn memory_grow(vmctx: *mut u8, mem: u32, delta: u32) -> i64 {
    let body = |instance: &mut InstanceData, store: &mut dyn VMStore| {
        grow_result(store.grow_memory(instance.memories[mem as usize], u64::from(delta)))
    };
    // SAFETY: called by compiled code of a live instance.
    unsafe { with_context(vmctx, body) }
}

/// The result of a `grow` builtin: the old size, [`GROW_FAILED`], or [`GROW_ERROR`] after recording the
/// error for the trap compiled code then raises.
fn grow_result(result: anyhow::Result<Option<u64>>) -> i64 {
    match result {
        Ok(Some(old)) => old as i64,
        Ok(None) => GROW_FAILED,
        Err(error) => {
            traphandlers::set_pending(UnwindReason::HostError(error));
            GROW_ERROR
        }
    }
}

unsafe extern "sysv64" fn memory_fill(vmctx: *mut u8, mem: u32, dst: u32, value: u32, len: u32) -> u32 {
    let body = |instance: &mut InstanceData, _: &mut dyn VMStore| {
        let (base, size) = instance.memory_bounds(mem);
        let ok = in_bounds(dst, len, size);
        if ok {
            // SAFETY: the range was checked against the memory's size, which is mapped read-write, and no
            // reference into it is live.
            unsafe { base.add(dst as usize).write_bytes(value as u8, len as usize) };
        }
        bulk_status(ok)
    };
    // SAFETY: called by compiled code of a live instance.
    unsafe { with_context(vmctx, body) }
}

unsafe extern "sysv64" fn memory_copy(vmctx: *mut u8, dst_mem: u32, src_mem: u32, dst: u32, src: u32, len: u32) -> u32 {
    let body = |instance: &mut InstanceData, _: &mut dyn VMStore| {
        let (src_base, src_size) = instance.memory_bounds(src_mem);
        let (dst_base, dst_size) = instance.memory_bounds(dst_mem);
        let ok = in_bounds(src, len, src_size) && in_bounds(dst, len, dst_size);
        if ok {
            // SAFETY: both ranges were checked against their memories' sizes, which are mapped read-write;
            // `copy` allows overlap (the two memories may be the same one), and no reference into either is
            // live.
            unsafe { std::ptr::copy(src_base.add(src as usize), dst_base.add(dst as usize), len as usize) };
        }
        bulk_status(ok)
    };
    // SAFETY: called by compiled code of a live instance.
    unsafe { with_context(vmctx, body) }
}

unsafe extern "sysv64" fn memory_init(vmctx: *mut u8, mem: u32, data: u32, dst: u32, src: u32, len: u32) -> u32 {
    let body = |instance: &mut InstanceData, _: &mut dyn VMStore| {
        let segment: &[u8] =
            if instance.dropped_data[data as usize] { &[] } else { &instance.info.data[data as usize].bytes };
        let (base, size) = instance.memory_bounds(mem);
        let ok = in_bounds(src, len, segment.len()) && in_bounds(dst, len, size);
        if ok {
            // SAFETY: the destination range was checked against the memory's size, which is mapped read-write,
            // and the source lies in the segment (checked); a segment never overlaps linear memory.
            unsafe {
                std::ptr::copy_nonoverlapping(segment.as_ptr().add(src as usize), base.add(dst as usize), len as usize)
            };
        }
        bulk_status(ok)
    };
    // SAFETY: called by compiled code of a live instance.
    unsafe { with_context(vmctx, body) }
}

unsafe extern "sysv64" fn data_drop(vmctx: *mut u8, data: u32) {
    let body = |instance: &mut InstanceData, _: &mut dyn VMStore| instance.dropped_data[data as usize] = true;
    // SAFETY: called by compiled code of a live instance.
    unsafe { with_context(vmctx, body) }
}

unsafe extern "sysv64" fn table_grow(vmctx: *mut u8, table: u32, init: u64, delta: u32) -> i64 {
    let body = |instance: &mut InstanceData, store: &mut dyn VMStore| {
        grow_result(store.grow_table(instance.tables[table as usize], u64::from(delta), init as usize))
    };
    // SAFETY: called by compiled code of a live instance.
    unsafe { with_context(vmctx, body) }
}

unsafe extern "sysv64" fn table_fill(vmctx: *mut u8, table: u32, dst: u32, value: u64, len: u32) -> u32 {
    let body = |instance: &mut InstanceData, store: &mut dyn VMStore| {
        let elements = store.table(instance.tables[table as usize]).elements_mut();
        let ok = in_bounds(dst, len, elements.len());
        if ok {
            elements[dst as usize..][..len as usize].fill(value as usize);
        }
        bulk_status(ok)
    };
    // SAFETY: called by compiled code of a live instance.
    unsafe { with_context(vmctx, body) }
}

unsafe extern "sysv64" fn table_copy(vmctx: *mut u8, dst_table: u32, src_table: u32, dst: u32, src: u32, len: u32) -> u32 {
    let body = |instance: &mut InstanceData, store: &mut dyn VMStore| {
        let (dst_table, src_table) = (instance.tables[dst_table as usize], instance.tables[src_table as usize]);
        let src_elements = store.table(src_table).elements();
        if !in_bounds(src, len, src_elements.len()) {
            return BULK_OUT_OF_BOUNDS;
        }
        let copied = src_elements[src as usize..][..len as usize].to_vec();
        let dst_elements = store.table(dst_table).elements_mut();
        let ok = in_bounds(dst, len, dst_elements.len());
        if ok {
            dst_elements[dst as usize..][..len as usize].copy_from_slice(&copied);
        }
        bulk_status(ok)
    };
    // SAFETY: called by compiled code of a live instance.
    unsafe { with_context(vmctx, body) }
}

unsafe extern "sysv64" fn table_init(vmctx: *mut u8, table: u32, elem: u32, dst: u32, src: u32, len: u32) -> u32 {
    let body = |instance: &mut InstanceData, store: &mut dyn VMStore| {
        let segment = instance.passive_elements[elem as usize].as_deref().unwrap_or(&[]);
        let elements = store.table(instance.tables[table as usize]).elements_mut();
        let ok = in_bounds(src, len, segment.len()) && in_bounds(dst, len, elements.len());
        if ok {
            elements[dst as usize..][..len as usize].copy_from_slice(&segment[src as usize..][..len as usize]);
        }
        bulk_status(ok)
    };
    // SAFETY: called by compiled code of a live instance.
    unsafe { with_context(vmctx, body) }
}

unsafe extern "sysv64" fn elem_drop(vmctx: *mut u8, elem: u32) {
    let body = |instance: &mut InstanceData, _: &mut dyn VMStore| instance.passive_elements[elem as usize] = None;
    // SAFETY: called by compiled code of a live instance.
    unsafe { with_context(vmctx, body) }
}
