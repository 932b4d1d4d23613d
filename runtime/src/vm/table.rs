//! Tables: growable arrays of raw references (`*const VMFuncRef` for funcref, an externref id for externref).

use super::vmcontext::VMTableDefinition;
use crate::types::TableType;

/// The most elements a table without a declared maximum may grow to.
const MAX_ELEMENTS: u64 = 10_000_000;

/// A table's storage.
#[derive(Debug)]
pub struct TableStorage {
    def: VMTableDefinition,
    elements: Vec<usize>,
    ty: TableType,
}

// SAFETY: `def.base` points into `elements`, which this value owns.
unsafe impl Send for TableStorage {}
// SAFETY: shared references only read; mutation requires `&mut self`.
unsafe impl Sync for TableStorage {}

impl TableStorage {
    /// A table of type `ty` with `ty.minimum()` elements set to `init`.
    pub fn new(ty: TableType, init: usize) -> anyhow::Result<Self> {
        if ty.minimum() > MAX_ELEMENTS.max(ty.maximum().unwrap_or(0) as u64) {
            anyhow::bail!("table minimum size of {} elements exceeds table limits", ty.minimum());
        }
        let mut table = TableStorage {
            def: VMTableDefinition { base: std::ptr::null_mut(), current_elements: 0 },
            elements: vec![init; ty.minimum() as usize],
            ty,
        };
        table.sync();
        Ok(table)
    }

    fn sync(&mut self) {
        self.def.base = self.elements.as_mut_ptr();
        self.def.current_elements = self.elements.len();
    }

    /// The table's type.
    pub fn ty(&self) -> TableType {
        self.ty
    }

    /// Current number of elements.
    pub fn size(&self) -> u64 {
        self.elements.len() as u64
    }

    /// The largest number of elements this table may reach.
    pub fn maximum(&self) -> u64 {
        self.ty.maximum().map_or(MAX_ELEMENTS, u64::from).min(u32::MAX as u64)
    }

    /// Grows by `delta` elements set to `init`; returns the old size, or `None` if it cannot grow that far.
    pub fn grow(&mut self, delta: u64, init: usize) -> Option<u64> {
        let old = self.size();
        let new = old.checked_add(delta)?;
        if new > self.maximum() {
            return None;
        }
        self.elements.resize(new as usize, init);
        self.sync();
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
    pub fn definition(&mut self) -> *mut VMTableDefinition {
        &mut self.def
    }
}
