//! Tables: growable arrays of raw references (`*const VMFuncRef` for funcref, an externref id for externref).

use super::store::VmBox;
use super::vmcontext::VMTableDefinition;
use anyhow::{Result, bail};

/// The most elements any table may have, whatever its declared maximum (80 MB of elements): larger tables
/// fail to instantiate and do not grow, instead of exhausting the host's memory.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// A table's storage.
pub struct TableStorage {
    /// What compiled code reads (through the box's pointer).
    def: VmBox<VMTableDefinition>,
    elements: Vec<usize>,
    /// The declared maximum, if any.
    declared_maximum: Option<u64>,
}

// SAFETY: `def.base` points into `elements`, which this value owns.
unsafe impl Send for TableStorage {}
// SAFETY: shared references only read; mutation requires `&mut self`.
unsafe impl Sync for TableStorage {}

impl TableStorage {
    /// A table of `minimum` elements set to `init`, which may grow to `maximum` elements; fails (instead of
    /// aborting) when the elements cannot be allocated.
    pub fn new(minimum: u64, maximum: Option<u64>, init: usize) -> Result<Self> {
        let mut table = TableStorage {
            def: VmBox::new(VMTableDefinition { base: std::ptr::null_mut(), current_elements: 0 }),
            elements: Vec::new(),
            declared_maximum: maximum,
        };
        if minimum > table.maximum() || table.resize(minimum, init).is_err() {
            bail!("table minimum size of {minimum} elements exceeds table limits");
        }
        Ok(table)
    }

    /// Resizes to `len` elements, new ones set to `init`; fails if the memory cannot be allocated.
    fn resize(&mut self, len: u64, init: usize) -> Result<()> {
        let len = usize::try_from(len)?;
        self.elements.try_reserve(len.saturating_sub(self.elements.len()))?;
        self.elements.resize(len, init);
        let def = self.def.get_mut();
        def.base = self.elements.as_mut_ptr();
        def.current_elements = self.elements.len();
        Ok(())
    }

    /// Current number of elements.
    pub fn size(&self) -> u64 {
        self.elements.len() as u64
    }

    /// The largest number of elements this table may reach.
    pub fn maximum(&self) -> u64 {
        self.declared_maximum.unwrap_or(u64::MAX).min(MAX_TABLE_ELEMENTS)
    }

    /// Grows by `delta` elements set to `init`; returns the old size, or `None` if it cannot grow that far
    /// (past its maximum, or out of host memory).
    pub fn grow(&mut self, delta: u64, init: usize) -> Option<u64> {
        let old = self.size();
        let new = old.checked_add(delta).filter(|&new| new <= self.maximum())?;
        self.resize(new, init).ok()?;
        Some(old)
    }

    /// Element `index`, if in bounds.
    pub fn get(&self, index: u64) -> Option<usize> {
        self.elements.get(usize::try_from(index).ok()?).copied()
    }

    /// Sets element `index`; `false` if out of bounds.
    pub fn set(&mut self, index: u64, value: usize) -> bool {
        match usize::try_from(index).ok().and_then(|i| self.elements.get_mut(i)) {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        }
    }

    /// All elements.
    pub fn elements(&self) -> &[usize] {
        &self.elements
    }

    /// All elements, mutably (the length cannot change through this).
    pub fn elements_mut(&mut self) -> &mut [usize] {
        &mut self.elements
    }

    /// The definition compiled code reads.
    pub fn definition(&self) -> *mut VMTableDefinition {
        self.def.as_ptr().as_ptr()
    }
}
