//! [`ResourceTable`]: where a host keeps the objects behind its resources, each named by a
//! [`Resource<T>`] handle, with parent/child links and a capacity limit (Wasmtime's `ResourceTable`).
//!
//! ```
//! use tenon::component::ResourceTable;
//!
//! struct File { name: String }
//! struct Stream { position: u64 }
//!
//! let mut table = ResourceTable::new();
//! let file = table.push(File { name: "a.txt".into() })?;
//! let stream = table.push_child(Stream { position: 0 }, &file)?;
//! table.get_mut(&stream)?.position += 10;
//! assert_eq!(table.get(&file)?.name, "a.txt");
//! assert!(table.delete(file).is_err(), "a parent outlives its children");
//! # Ok::<(), tenon::component::ResourceTableError>(())
//! ```

use super::resources::Resource;
use std::any::Any;
use std::collections::BTreeSet;
use std::fmt;

/// Why a [`ResourceTable`] operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceTableError {
    /// The table holds as many entries as it may.
    Full,
    /// No entry has this handle (it was deleted, or never made).
    NotPresent,
    /// The entry is of another type than the handle says.
    WrongType,
    /// The entry has children: delete them first.
    HasChildren,
}

impl fmt::Display for ResourceTableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceTableError::Full => "resource table has no free keys",
            ResourceTableError::NotPresent => "resource not present",
            ResourceTableError::WrongType => "resource is of another type",
            ResourceTableError::HasChildren => "resource has children",
        })
    }
}

impl std::error::Error for ResourceTableError {}

/// A table of host objects named by [`Resource`] handles.
pub struct ResourceTable {
    entries: Vec<Slot>,
    /// The first free slot, if any (free slots link to the next).
    free: Option<u32>,
    max_capacity: usize,
}

enum Slot {
    Free { next: Option<u32> },
    Occupied(Entry),
}

struct Entry {
    value: Box<dyn Any + Send>,
    parent: Option<u32>,
    children: BTreeSet<u32>,
}

impl Default for ResourceTable {
    fn default() -> Self {
        ResourceTable::new()
    }
}

impl fmt::Debug for ResourceTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceTable").field("entries", &self.len()).field("max_capacity", &self.max_capacity).finish()
    }
}

impl ResourceTable {
    /// An empty table, with no limit but the handles' range.
    pub fn new() -> Self {
        ResourceTable::with_capacity(0)
    }

    /// An empty table with room for `capacity` entries before it grows.
    pub fn with_capacity(capacity: usize) -> Self {
        ResourceTable { entries: Vec::with_capacity(capacity), free: None, max_capacity: u32::MAX as usize }
    }

    /// The most entries the table holds at once.
    pub fn max_capacity(&self) -> usize {
        self.max_capacity
    }

    /// Sets the most entries the table holds at once; pushing beyond fails with
    /// [`ResourceTableError::Full`].
    pub fn set_max_capacity(&mut self, max: usize) {
        self.max_capacity = max.min(u32::MAX as usize);
    }

    /// Whether the table holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn len(&self) -> usize {
        self.entries.iter().filter(|slot| matches!(slot, Slot::Occupied(_))).count()
    }

    /// Adds `value`; the owned handle naming it.
    pub fn push<T: Send + 'static>(&mut self, value: T) -> Result<Resource<T>, ResourceTableError> {
        let index = self.insert(Entry { value: Box::new(value), parent: None, children: BTreeSet::new() })?;
        Ok(Resource::new_own(index))
    }

    /// Adds `value` as a child of `parent`, which cannot be deleted while the child lives.
    pub fn push_child<T: Send + 'static, U: 'static>(&mut self, value: T, parent: &Resource<U>) -> Result<Resource<T>, ResourceTableError> {
        self.occupied(parent.rep())?;
        let index = self.insert(Entry { value: Box::new(value), parent: Some(parent.rep()), children: BTreeSet::new() })?;
        self.occupied_mut(parent.rep())?.children.insert(index);
        Ok(Resource::new_own(index))
    }

    /// The value `resource` names.
    pub fn get<T: 'static>(&self, resource: &Resource<T>) -> Result<&T, ResourceTableError> {
        self.occupied(resource.rep())?.value.downcast_ref().ok_or(ResourceTableError::WrongType)
    }

    /// The value `resource` names, mutably.
    pub fn get_mut<T: 'static>(&mut self, resource: &Resource<T>) -> Result<&mut T, ResourceTableError> {
        self.occupied_mut(resource.rep())?.value.downcast_mut().ok_or(ResourceTableError::WrongType)
    }

    /// Removes the value `resource` names and gives it back; refused while it has children.
    pub fn delete<T: 'static>(&mut self, resource: Resource<T>) -> Result<T, ResourceTableError> {
        let index = resource.rep();
        let entry = self.occupied(index)?;
        if !entry.value.is::<T>() {
            return Err(ResourceTableError::WrongType);
        }
        if !entry.children.is_empty() {
            return Err(ResourceTableError::HasChildren);
        }
        let Slot::Occupied(entry) = std::mem::replace(&mut self.entries[index as usize], Slot::Free { next: self.free }) else {
            unreachable!("checked to be occupied above")
        };
        self.free = Some(index);
        if let Some(parent) = entry.parent
            && let Ok(parent) = self.occupied_mut(parent)
        {
            parent.children.remove(&index);
        }
        Ok(*entry.value.downcast().unwrap_or_else(|_| unreachable!("checked to be a `T` above")))
    }

    /// The handles of `parent`'s children, as handles of unknown type.
    pub fn iter_children<T: 'static>(&self, parent: &Resource<T>) -> Result<impl Iterator<Item = u32> + '_, ResourceTableError> {
        Ok(self.occupied(parent.rep())?.children.iter().copied())
    }

    fn insert(&mut self, entry: Entry) -> Result<u32, ResourceTableError> {
        if let Some(index) = self.free {
            let Slot::Free { next } = self.entries[index as usize] else { unreachable!("the free list holds free slots") };
            self.free = next;
            self.entries[index as usize] = Slot::Occupied(entry);
            return Ok(index);
        }
        if self.entries.len() >= self.max_capacity {
            return Err(ResourceTableError::Full);
        }
        self.entries.push(Slot::Occupied(entry));
        Ok(self.entries.len() as u32 - 1)
    }

    fn occupied(&self, index: u32) -> Result<&Entry, ResourceTableError> {
        match self.entries.get(index as usize) {
            Some(Slot::Occupied(entry)) => Ok(entry),
            _ => Err(ResourceTableError::NotPresent),
        }
    }

    fn occupied_mut(&mut self, index: u32) -> Result<&mut Entry, ResourceTableError> {
        match self.entries.get_mut(index as usize) {
            Some(Slot::Occupied(entry)) => Ok(entry),
            _ => Err(ResourceTableError::NotPresent),
        }
    }
}
