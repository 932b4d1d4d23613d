//! Linear memories: a fixed virtual reservation whose accessible prefix grows in place.

use super::store::VmBox;
use super::sys::{self, Access};
use super::vmcontext::VMMemoryDefinition;
use crate::environ::WasmMemoryType;
use anyhow::{Result, bail};
use std::sync::{Arc, Mutex};

/// Size of a wasm page.
pub const WASM_PAGE_SIZE: usize = 65536;
/// Largest number of pages a 32-bit memory may have.
pub const MAX_PAGES: u64 = 65536;

/// A 32-bit linear memory: `reservation` bytes of address space between an optional guard before it and a
/// guard after it, of which the first `current_length` bytes are readable and writable. The base never moves.
pub struct LinearMemory {
    /// What compiled code reads (through the box's pointer).
    def: VmBox<VMMemoryDefinition>,
    mapping: *mut u8,
    mapping_size: usize,
    reservation: usize,
    /// How many bytes from the base may be accessible: at least `current_length`, and more while a
    /// reused reservation's extra pages are being closed or after a failed `mprotect`. Drop zeroes and
    /// closes up to here, so no page ever leaves with contents or stays open unaccounted for.
    committed: usize,
    ty: WasmMemoryType,
    /// Where the reservation goes when the memory is dropped.
    pool: Arc<ReservationPool>,
}

// SAFETY: the mapping is owned by this value and only reached through it (or through compiled code run
// by the store that owns it), so moving it to another thread is sound.
unsafe impl Send for LinearMemory {}
// SAFETY: shared references only read the definition; mutation requires `&mut self`.
unsafe impl Sync for LinearMemory {}

/// Address-space reservations of dropped memories, zeroed and kept by an engine for its next memories:
/// a memory of the same initial size as the one dropped costs one `madvise` (at drop) instead of an `mmap`,
/// an `mprotect` and a `munmap`; other sizes add an `mprotect`.
#[derive(Debug, Default)]
pub struct ReservationPool {
    free: Mutex<Vec<Reservation>>,
}

/// Most reservations a pool keeps (each is a few gigabytes of address space, no memory).
const POOLED_RESERVATIONS: usize = 32;
/// Most bytes a pooled reservation keeps accessible (zeroed), ready for the next memory.
const POOLED_ACCESSIBLE: usize = 1 << 20;

/// A mapping of `size` bytes whose first `accessible` bytes after `guard_before` are read-write and zero.
#[derive(Debug)]
struct Reservation {
    mapping: *mut u8,
    size: usize,
    guard_before: usize,
    accessible: usize,
}

// SAFETY: a pooled reservation is owned by the pool alone.
unsafe impl Send for Reservation {}

impl ReservationPool {
    fn take(&self, size: usize, guard_before: usize) -> Option<Reservation> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let i = free.iter().rposition(|r| r.size == size && r.guard_before == guard_before)?;
        Some(free.swap_remove(i))
    }

    /// Keeps `reservation` if there is room; otherwise it is unmapped.
    fn put(&self, reservation: Reservation) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < POOLED_RESERVATIONS {
            free.push(reservation);
        } else {
            drop(free);
            // SAFETY: a whole reservation that no memory uses any more.
            unsafe { sys::unmap(reservation.mapping, reservation.size) };
        }
    }
}

impl Drop for ReservationPool {
    fn drop(&mut self) {
        for r in self.free.get_mut().unwrap_or_else(|e| e.into_inner()).drain(..) {
            // SAFETY: a whole reservation that no memory uses any more.
            unsafe { sys::unmap(r.mapping, r.size) };
        }
    }
}

impl LinearMemory {
    /// A memory of type `ty` in a reservation of `guard_before` bytes of guard, `reservation` bytes, then
    /// `guard` bytes of guard (taken from `pool` if it has one of that shape), with its initial pages
    /// accessible and zero.
    pub fn new(
        ty: WasmMemoryType,
        reservation: usize,
        guard_before: usize,
        guard: usize,
        pool: &Arc<ReservationPool>,
    ) -> Result<Self> {
        let min_bytes = ty.minimum as usize * WASM_PAGE_SIZE;
        if ty.minimum > MAX_PAGES || min_bytes > reservation {
            bail!("memory minimum size of {} pages exceeds memory limits", ty.minimum);
        }
        let mapping_size = guard_before + reservation + guard;
        let reserved = match pool.take(mapping_size, guard_before) {
            Some(reserved) => reserved,
            None => Reservation {
                mapping: sys::map(mapping_size, Access::None, 0)?,
                size: mapping_size,
                guard_before,
                accessible: 0,
            },
        };
        let mut memory = LinearMemory {
            def: VmBox::new(VMMemoryDefinition {
                base: reserved.mapping.wrapping_add(guard_before),
                current_length: 0,
            }),
            mapping: reserved.mapping,
            mapping_size,
            reservation,
            committed: reserved.accessible,
            ty,
            pool: pool.clone(),
        };
        if min_bytes >= reserved.accessible {
            memory.make_accessible(reserved.accessible, min_bytes)?;
        } else {
            memory.make_inaccessible(min_bytes, reserved.accessible)?;
        }
        memory.def.get_mut().current_length = min_bytes;
        Ok(memory)
    }

    /// Makes `[base + from, base + to)` inaccessible again (a reused reservation larger than needed).
    fn make_inaccessible(&mut self, from: usize, to: usize) -> Result<()> {
        debug_assert!(from < to && to <= self.reservation);
        // SAFETY: `[base + from, base + to)` lies inside this memory's reservation, and the host holds no
        // reference into it (the memory is exclusively borrowed).
        unsafe { sys::protect(self.base().add(from), to - from, Access::None) }
            .map_err(|e| e.context("failed to decommit linear memory pages"))?;
        if to >= self.committed {
            self.committed = from;
        }
        Ok(())
    }

    fn make_accessible(&mut self, from: usize, to: usize) -> Result<()> {
        if to == from {
            return Ok(());
        }
        debug_assert!(from < to && to <= self.reservation);
        // Counted before the call: a failing `mprotect` may still have opened part of the range.
        self.committed = self.committed.max(to);

        // SAFETY: `[base + from, base + to)` lies inside this memory's reservation (`to <= reservation`,
        // checked above), which is part of its own mapping; it only gains access.
        unsafe { sys::protect(self.base().add(from), to - from, Access::ReadWrite) }
            .map_err(|e| e.context("failed to commit linear memory pages"))
    }

    /// The base address, which never changes.
    pub fn base(&self) -> *mut u8 {
        self.def.get().base
    }

    /// The memory's type as declared.
    pub fn ty(&self) -> WasmMemoryType {
        self.ty
    }

    /// Current size in pages.
    pub fn pages(&self) -> u64 {
        (self.byte_size() / WASM_PAGE_SIZE) as u64
    }

    /// Current size in bytes.
    pub fn byte_size(&self) -> usize {
        self.def.get().current_length
    }

    /// The largest size in pages this memory may reach.
    pub fn maximum_pages(&self) -> u64 {
        let by_reservation = (self.reservation / WASM_PAGE_SIZE) as u64;
        self.ty.maximum.unwrap_or(MAX_PAGES).min(MAX_PAGES).min(by_reservation)
    }

    /// Grows by `delta` pages; returns the old size in pages.
    pub fn grow(&mut self, delta: u64) -> Result<u64> {
        let old = self.pages();
        let new = old.checked_add(delta).filter(|&new| new <= self.maximum_pages());
        let Some(new) = new else { bail!("memory maximum size exceeded") };
        let new_bytes = new as usize * WASM_PAGE_SIZE;
        // Instances keep copies of the base (see `VMOffsets::memory_base`): growing never moves it.
        self.make_accessible(self.byte_size(), new_bytes)?;
        self.def.get_mut().current_length = new_bytes;
        Ok(old)
    }

    /// The definition compiled code reads.
    pub fn definition(&self) -> *mut VMMemoryDefinition {
        self.def.as_ptr().as_ptr()
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: `[base, base + current_length)` is mapped read-write for as long as `self` lives, and no
        // wasm runs while the host holds `&self` (calls into wasm need the store exclusively).
        unsafe { std::slice::from_raw_parts(self.base(), self.byte_size()) }
    }

    /// The accessible bytes, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` makes the access exclusive on the host side.
        unsafe { std::slice::from_raw_parts_mut(self.base(), self.byte_size()) }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        // Zero what wasm could touch (the pages return to the system) and offer the reservation for reuse.
        let mut accessible = self.committed.max(self.byte_size());
        // SAFETY: `[base, base + accessible)` lies inside this memory's own mapping, which nothing reaches
        // once the memory is dropped.
        let zeroed = unsafe { sys::decommit(self.base(), accessible) };
        // A pooled reservation keeps at most a small accessible prefix: writable pages count against the
        // system's commit limit even when untouched.
        if zeroed && accessible > POOLED_ACCESSIBLE && self.make_inaccessible(POOLED_ACCESSIBLE, accessible).is_ok() {
            accessible = POOLED_ACCESSIBLE;
        }
        if zeroed && accessible <= POOLED_ACCESSIBLE {
            self.pool.put(Reservation {
                mapping: self.mapping,
                size: self.mapping_size,
                guard_before: self.base() as usize - self.mapping as usize,
                accessible,
            });
        } else {
            // SAFETY: the memory's whole mapping, which nothing reaches once the memory is dropped.
            unsafe { sys::unmap(self.mapping, self.mapping_size) };
        }
    }
}
