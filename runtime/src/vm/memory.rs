//! Linear memories: a virtual reservation whose accessible prefix grows in place, moved to a larger one
//! when a memory that may move outgrows it.

use super::store::VmBox;
use super::sys::{self, Access};
use super::vmcontext::VMMemoryDefinition;
pub use crate::environ::{MAX_PAGES, WASM_PAGE_SIZE};
use crate::environ::WasmMemoryType;
use anyhow::{Result, bail};
use std::sync::{Arc, Mutex};

/// How an engine lays out its memories (from its `Config`).
#[derive(Clone, Copy, Debug)]
pub struct MemoryLayout {
    /// Address space reserved for a memory; one whose largest size fits never moves.
    pub reservation: usize,
    /// Room reserved beyond a movable memory's size when it is allocated or moved.
    pub growth: usize,
    /// Whether memories whose largest size exceeds the reservation may move (otherwise they cannot grow
    /// past it).
    pub may_move: bool,
    /// Guard region before each memory.
    pub guard_before: usize,
    /// Guard region after each memory's reservation.
    pub guard: usize,
}

/// A 32-bit linear memory: a reservation of address space (between guard regions) of which the first
/// `current_length` bytes are readable and writable. The base never moves unless the memory's type
/// [may move](WasmMemoryType::may_move) under the layout; then growing past the reservation copies the
/// contents to a new, larger one.
pub struct LinearMemory {
    /// What compiled code reads (through the box's pointer).
    def: VmBox<VMMemoryDefinition>,
    /// The reservation the memory lives in.
    region: Reservation,
    ty: WasmMemoryType,
    layout: MemoryLayout,
    may_move: bool,
    /// Where reservations go when the memory is dropped or moves.
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

/// A range of a memory's initial contents in a file mapped copy-on-write into each new memory: instantiating
/// a module with large data segments then copies nothing, and only the pages a program writes get copies.
#[derive(Debug)]
pub struct MemoryImage {
    file: std::fs::File,
    /// Where the range starts in the memory, a multiple of the page size.
    offset: usize,
    /// Its length, a multiple of the page size.
    len: usize,
}

impl MemoryImage {
    /// An image of the whole pages `range` of a memory, holding `parts` (each at an offset from the memory's
    /// start, inside the range; later ones over earlier ones) and zeroes elsewhere.
    pub fn new<'a>(range: std::ops::Range<usize>, parts: impl IntoIterator<Item = (usize, &'a [u8])>) -> Result<Self> {
        let page = sys::page_size();
        assert!(range.start.is_multiple_of(page) && range.end.is_multiple_of(page), "a memory image is whole pages");
        let parts = parts.into_iter().map(|(at, bytes)| (at - range.start, bytes));
        Ok(MemoryImage { file: sys::memory_file(range.len(), parts)?, offset: range.start, len: range.len() })
    }
}

/// Most reservations a pool keeps (each is a few gigabytes of address space, no memory).
const POOLED_RESERVATIONS: usize = 32;
/// Memories up to this size are zeroed in place when released, their pages kept: the next memory then takes
/// no page faults for them (writing a data segment into a fresh page, and `madvise` giving it back, cost more
/// than clearing a few pages).
const KEEP_RESIDENT: usize = 64 << 10;
/// Most bytes a pooled reservation keeps accessible (zeroed), ready for the next memory.
const POOLED_ACCESSIBLE: usize = 1 << 20;

/// A mapping of `size` bytes: `guard_before` bytes of guard, `capacity` bytes for a memory, then guard.
/// At most the first `committed` bytes of the capacity are read-write (pooled ones are zero).
#[derive(Debug)]
struct Reservation {
    mapping: *mut u8,
    size: usize,
    guard_before: usize,
    capacity: usize,
    /// How many bytes from the base may be accessible: at least the memory's length, and more while a
    /// reused reservation's extra pages are being closed or after a failed `mprotect`. Release zeroes and
    /// closes up to here, so no page ever leaves with contents or stays open unaccounted for.
    committed: usize,
    /// The bytes (from the base) a [`MemoryImage`] is mapped over, if any (release maps zeroes over them).
    imaged: std::ops::Range<usize>,
}

// SAFETY: a pooled reservation is owned by the pool alone.
unsafe impl Send for Reservation {}

impl ReservationPool {
    fn take(&self, size: usize, guard_before: usize, capacity: usize) -> Option<Reservation> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let i = free.iter().rposition(|r| r.size == size && r.guard_before == guard_before && r.capacity == capacity)?;
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

impl Reservation {
    /// No reservation: what a dropped memory leaves behind.
    const EMPTY: Reservation =
        Reservation { mapping: std::ptr::null_mut(), size: 0, guard_before: 0, capacity: 0, committed: 0, imaged: 0..0 };

    /// A reservation with `capacity` bytes for a memory in `layout`'s guards, from `pool` if it has one of
    /// that shape, with nothing guaranteed accessible.
    fn obtain(capacity: usize, layout: &MemoryLayout, pool: &ReservationPool) -> Result<Reservation> {
        // A mapping cannot be empty: a memory of no capacity without guards still gets one inaccessible page.
        let size = (layout.guard_before + capacity + layout.guard).max(sys::page_size());
        if let Some(reserved) = pool.take(size, layout.guard_before, capacity) {
            return Ok(reserved);
        }
        Ok(Reservation {
            mapping: sys::map(size, Access::None, 0)?,
            size,
            guard_before: layout.guard_before,
            capacity,
            committed: 0,
            imaged: 0..0,
        })
    }

    /// Where a memory's bytes start.
    fn base(&self) -> *mut u8 {
        self.mapping.wrapping_add(self.guard_before)
    }

    /// Makes exactly the first `len` bytes accessible (the rest of what was committed is closed again).
    fn commit_exactly(&mut self, len: usize) -> Result<()> {
        match len.cmp(&self.committed) {
            std::cmp::Ordering::Greater => self.open(self.committed, len),
            std::cmp::Ordering::Less => self.close(len, self.committed),
            std::cmp::Ordering::Equal => Ok(()),
        }
    }

    /// Makes `[base + from, base + to)` read-write.
    fn open(&mut self, from: usize, to: usize) -> Result<()> {
        if to == from {
            return Ok(());
        }
        assert!(from < to && to <= self.capacity, "opening beyond a memory's reservation");
        // Counted before the call: a failing `mprotect` may still have opened part of the range.
        self.committed = self.committed.max(to);
        // SAFETY: `[base + from, base + to)` lies inside the capacity (checked above), which is part of this
        // reservation's own mapping; it only gains access.
        unsafe { sys::protect(self.base().add(from), to - from, Access::ReadWrite) }
            .map_err(|e| e.context("failed to commit linear memory pages"))
    }

    /// Makes `[base + from, base + to)` inaccessible again.
    fn close(&mut self, from: usize, to: usize) -> Result<()> {
        assert!(from < to && to <= self.capacity, "closing beyond a memory's reservation");
        // SAFETY: `[base + from, base + to)` lies inside this reservation's capacity (checked above), and the
        // host holds no reference into it (its memory is exclusively borrowed, or gone).
        unsafe { sys::protect(self.base().add(from), to - from, Access::None) }
            .map_err(|e| e.context("failed to decommit linear memory pages"))?;
        if to >= self.committed {
            self.committed = from;
        }
        Ok(())
    }

    /// Zeroes what a memory could touch (the pages return to the system) and gives the reservation to
    /// `pool` for reuse, or unmaps it.
    fn release(mut self, pool: &ReservationPool) {
        // An image's pages would read as the image again after `decommit`: zeroes are mapped over them.
        let imaged = std::mem::replace(&mut self.imaged, 0..0);
        // SAFETY: the imaged range lies inside the committed bytes of this reservation's own mapping, which
        // no memory uses any more.
        let unimaged = imaged.is_empty() || unsafe { sys::map_zeroed_over(self.base().add(imaged.start), imaged.len()) }.is_ok();
        let zeroed = unimaged
            && if imaged.is_empty() && self.committed <= KEEP_RESIDENT {
                // SAFETY: `[base, base + committed)` is accessible (committed) memory of this reservation's
                // own mapping, which no memory uses any more and nothing references.
                unsafe { std::ptr::write_bytes(self.base(), 0, self.committed) };
                true
            } else {
                // SAFETY: `[base, base + committed)` lies inside this reservation's own mapping, which no
                // memory uses any more.
                unsafe { sys::decommit(self.base(), self.committed) }
            };
        // A pooled reservation keeps at most a small accessible prefix: writable pages count against the
        // system's commit limit even when untouched.
        if zeroed && self.committed > POOLED_ACCESSIBLE {
            let _ = self.close(POOLED_ACCESSIBLE, self.committed);
        }
        if zeroed && self.committed <= POOLED_ACCESSIBLE {
            pool.put(self);
        } else {
            // SAFETY: the whole mapping, which nothing reaches any more.
            unsafe { sys::unmap(self.mapping, self.size) };
        }
    }
}

impl LinearMemory {
    /// A memory of type `ty` laid out as `layout` says, with its initial pages accessible and zero.
    pub fn new(ty: WasmMemoryType, layout: &MemoryLayout, pool: &Arc<ReservationPool>) -> Result<Self> {
        let min_bytes = (ty.minimum <= MAX_PAGES).then(|| ty.minimum as usize * WASM_PAGE_SIZE);
        let may_move = ty.may_move(layout.reservation as u64, layout.may_move);
        let capacity = match min_bytes {
            Some(min) if may_move => Self::movable_capacity(&ty, min, layout),
            _ => layout.reservation,
        };
        let Some(min_bytes) = min_bytes.filter(|&min| min <= capacity) else {
            bail!("memory minimum size of {} pages exceeds memory limits", ty.minimum);
        };
        let mut region = Reservation::obtain(capacity, layout, pool)?;
        let opened = region.commit_exactly(min_bytes);
        let memory = LinearMemory {
            def: VmBox::new(VMMemoryDefinition { base: region.base(), current_length: min_bytes }),
            region,
            ty,
            layout: *layout,
            may_move,
            pool: pool.clone(),
        };
        opened?;
        Ok(memory)
    }

    /// The capacity of a reservation for a movable memory of `len` bytes: room to grow by the layout's
    /// growth allowance, at least the layout's reservation, at most the type's largest size.
    fn movable_capacity(ty: &WasmMemoryType, len: usize, layout: &MemoryLayout) -> usize {
        let wanted = len.saturating_add(layout.growth).max(layout.reservation);
        wanted.min(ty.maximum_bytes() as usize).max(len)
    }

    /// The base address (the same for the memory's life unless it [may move](Self::may_move)).
    pub fn base(&self) -> *mut u8 {
        self.def.get().base
    }

    /// Whether growing may move the memory: compiled code must then read its base from the definition.
    pub fn may_move(&self) -> bool {
        self.may_move
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
        let by_type = self.ty.maximum_bytes() / WASM_PAGE_SIZE as u64;
        if self.may_move { by_type } else { by_type.min((self.region.capacity / WASM_PAGE_SIZE) as u64) }
    }

    /// Grows by `delta` pages, moving to a larger reservation if the memory may move and has outgrown its
    /// own; returns the old size in pages.
    pub fn grow(&mut self, delta: u64) -> Result<u64> {
        let old = self.pages();
        let new = old.checked_add(delta).filter(|&new| new <= self.maximum_pages());
        let Some(new) = new else { bail!("memory maximum size exceeded") };
        let new_bytes = new as usize * WASM_PAGE_SIZE;
        if new_bytes > self.region.capacity {
            self.move_to_larger(new_bytes)?;
        } else {
            self.region.open(self.byte_size(), new_bytes)?;
        }
        self.def.get_mut().current_length = new_bytes;
        Ok(old)
    }

    /// Copies the contents to a new reservation with room for `len` bytes (accessible) and more, and
    /// releases the old one. Only a memory that may move gets here (the others' maximum fits).
    fn move_to_larger(&mut self, len: usize) -> Result<()> {
        assert!(self.may_move, "a memory that may not move outgrew its reservation");
        let capacity = Self::movable_capacity(&self.ty, len, &self.layout);
        let mut region = Reservation::obtain(capacity, &self.layout, &self.pool)?;
        if let Err(error) = region.commit_exactly(len) {
            region.release(&self.pool);
            return Err(error);
        }
        let old_len = self.byte_size();
        // SAFETY: the first `old_len` bytes of the old reservation are accessible (the memory's length) and
        // the first `len >= old_len` bytes of the new one were just made so; the two mappings are distinct.
        unsafe { std::ptr::copy_nonoverlapping(self.region.base(), region.base(), old_len) };
        let old = std::mem::replace(&mut self.region, region);
        self.def.get_mut().base = self.region.base();
        old.release(&self.pool);
        Ok(())
    }

    /// Replaces the contents of the range `image` covers with it (mapped copy-on-write). The memory must
    /// not have been written yet (its pages are zero), the range must lie in it, and nothing may reference it.
    pub fn map_image(&mut self, image: &MemoryImage) -> Result<()> {
        let range = image.offset..image.offset + image.len;
        if range.end > self.byte_size() || !self.region.imaged.is_empty() {
            bail!("a memory image that does not fit its memory");
        }
        self.region.imaged = range;
        // SAFETY: the range lies inside the memory's accessible bytes (checked), part of the reservation's own
        // mapping; `&mut self` means the host holds no reference into it, and no wasm runs meanwhile.
        unsafe { sys::map_file_over(self.base().add(image.offset), image.len, &image.file) }
    }

    /// The definition compiled code reads.
    pub fn definition(&self) -> *mut VMMemoryDefinition {
        self.def.as_ptr().as_ptr()
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: `[base, base + current_length)` is mapped read-write for as long as `self` lives (and is
        // not moved: that needs `&mut self`), and no wasm runs while the host holds `&self` (calls into wasm
        // need the store exclusively).
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
        let region = std::mem::replace(&mut self.region, Reservation::EMPTY);
        region.release(&self.pool);
    }
}
