//! A component instance's handle table: the `own` and `borrow` handles its code holds, by index (index 0 is
//! never used), each slot with the resource type it was made for, checked on every use.

use super::abi::{AbiError, AbiResult};
use super::info::ResourceSlot;

/// The most handles an instance may hold at once.
pub const MAX_HANDLES: usize = 1 << 20;

/// One handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handle {
    /// An owned handle to the resource of type `ty` represented by `rep`.
    Own { ty: ResourceSlot, rep: u32 },
    /// A handle lent for a call: the `scope`th call into the instance of those running (0: the outermost),
    /// whose borrow count its drop decrements.
    Borrow { ty: ResourceSlot, rep: u32, scope: u32 },
}

impl Handle {
    fn ty(&self) -> ResourceSlot {
        match self {
            Handle::Own { ty, .. } | Handle::Borrow { ty, .. } => *ty,
        }
    }
}

/// The handles of one component instance.
#[derive(Debug, Default)]
pub struct HandleTable {
    /// Slot `i` holds handle `i + 1`.
    slots: Vec<Option<Handle>>,
    free: Vec<u32>,
    live: usize,
}

impl HandleTable {
    /// Adds `handle`; its index.
    pub fn insert(&mut self, handle: Handle) -> AbiResult<u32> {
        if self.live >= MAX_HANDLES {
            return Err(AbiError::msg(format!("too many resource handles: the limit is {MAX_HANDLES}")));
        }
        self.live += 1;
        match self.free.pop() {
            Some(index) => {
                self.slots[index as usize - 1] = Some(handle);
                Ok(index)
            }
            None => {
                self.slots.push(Some(handle));
                Ok(self.slots.len() as u32)
            }
        }
    }

    /// The handle at `index`, which must be of resource type `ty`.
    pub fn get(&self, index: u32, ty: ResourceSlot) -> AbiResult<Handle> {
        let handle = index
            .checked_sub(1)
            .and_then(|i| self.slots.get(i as usize).copied().flatten())
            .ok_or_else(|| AbiError::msg(format!("unknown handle index {index}")))?;
        if handle.ty() != ty {
            // Wasmtime's words (every handle of a component's table is a "guest-defined resource" to it), then
            // which resource types of the component were expected and found.
            return Err(AbiError::msg(format!(
                "handle index {index} used with the wrong type, expected guest-defined resource but found a different \
                 guest-defined resource (resource {} of the component, where {} was expected)",
                handle.ty().0,
                ty.0
            )));
        }
        Ok(handle)
    }

    /// Removes the handle at `index` (of resource type `ty`) and gives it back.
    pub fn remove(&mut self, index: u32, ty: ResourceSlot) -> AbiResult<Handle> {
        let handle = self.get(index, ty)?;
        self.slots[index as usize - 1] = None;
        self.free.push(index);
        self.live -= 1;
        Ok(handle)
    }
}
