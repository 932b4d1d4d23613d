//! Linear memories: a fixed virtual reservation whose accessible prefix grows in place.

use super::vmcontext::VMMemoryDefinition;
use crate::types::MemoryType;
use anyhow::{Result, bail};

/// Size of a wasm page.
pub const WASM_PAGE_SIZE: usize = 65536;
/// Largest number of pages a 32-bit memory may have.
pub const MAX_PAGES: u64 = 65536;

/// A 32-bit linear memory: `reservation` bytes of address space between an optional guard before it and a
/// guard after it, of which the first `current_length` bytes are readable and writable. The base never moves.
#[derive(Debug)]
pub struct LinearMemory {
    def: VMMemoryDefinition,
    mapping: *mut u8,
    mapping_size: usize,
    reservation: usize,
    ty: MemoryType,
}

// SAFETY: the mapping is owned by this value and only reached through it (or through compiled code run
// by the store that owns it), so moving it to another thread is sound.
unsafe impl Send for LinearMemory {}
// SAFETY: shared references only read the definition; mutation requires `&mut self`.
unsafe impl Sync for LinearMemory {}

impl LinearMemory {
    /// Reserves address space for a memory of type `ty` (`guard_before` bytes of guard, `reservation` bytes,
    /// then `guard` bytes of guard) and makes its initial pages accessible.
    pub fn new(ty: MemoryType, reservation: usize, guard_before: usize, guard: usize) -> Result<Self> {
        let min_bytes = ty.minimum() as usize * WASM_PAGE_SIZE;
        if ty.minimum() > MAX_PAGES || min_bytes > reservation {
            bail!("memory minimum size of {} pages exceeds memory limits", ty.minimum());
        }
        let mapping_size = guard_before + reservation + guard;
        // SAFETY: an anonymous private mapping with no fixed address has no preconditions; the result is
        // checked for failure before use.
        let mapping = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                mapping_size,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if mapping == libc::MAP_FAILED {
            bail!("failed to reserve {mapping_size} bytes of address space for a linear memory");
        }
        let mut memory = LinearMemory {
            // SAFETY: `guard_before` is inside the mapping just made.
            def: VMMemoryDefinition { base: unsafe { mapping.cast::<u8>().add(guard_before) }, current_length: 0 },
            mapping: mapping.cast(),
            mapping_size,
            reservation,
            ty,
        };
        memory.make_accessible(0, min_bytes)?;
        memory.def.current_length = min_bytes;
        Ok(memory)
    }

    fn make_accessible(&mut self, from: usize, to: usize) -> Result<()> {
        if to == from {
            return Ok(());
        }
        debug_assert!(from < to && to <= self.reservation);

        // SAFETY: `[base + from, base + to)` lies inside this memory's reservation (`to <= reservation`,
        // checked above), which is part of its own mapping.
        let rc = unsafe {
            libc::mprotect(self.def.base.add(from).cast(), to - from, libc::PROT_READ | libc::PROT_WRITE)
        };
        if rc != 0 {
            bail!("failed to commit linear memory pages: {}", std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// The memory's type, with its current minimum.
    pub fn ty(&self) -> MemoryType {
        self.ty
    }

    /// Current size in pages.
    pub fn pages(&self) -> u64 {
        (self.def.current_length / WASM_PAGE_SIZE) as u64
    }

    /// Current size in bytes.
    pub fn byte_size(&self) -> usize {
        self.def.current_length
    }

    /// The largest size in pages this memory may reach.
    pub fn maximum_pages(&self) -> u64 {
        let by_reservation = (self.reservation / WASM_PAGE_SIZE) as u64;
        self.ty.maximum().unwrap_or(MAX_PAGES).min(MAX_PAGES).min(by_reservation)
    }

    /// Grows by `delta` pages; returns the old size in pages.
    pub fn grow(&mut self, delta: u64) -> Result<u64> {
        let old = self.pages();
        let new = old.checked_add(delta).filter(|&new| new <= self.maximum_pages());
        let Some(new) = new else { bail!("memory maximum size exceeded") };
        let new_bytes = new as usize * WASM_PAGE_SIZE;
        self.make_accessible(self.def.current_length, new_bytes)?;
        self.def.current_length = new_bytes;
        Ok(old)
    }

    /// The definition compiled code reads.
    pub fn definition(&mut self) -> *mut VMMemoryDefinition {
        &mut self.def
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: `[base, base + current_length)` is mapped read-write for as long as `self` lives.
        unsafe { std::slice::from_raw_parts(self.def.base, self.def.current_length) }
    }

    /// The accessible bytes, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` makes the access exclusive on the host side.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.def.current_length) }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        // SAFETY: the mapping was created by `mmap` in `new` with this size and is unmapped only here.
        unsafe {
            libc::munmap(self.mapping.cast(), self.mapping_size);
        }
    }
}
