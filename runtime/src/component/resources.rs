//! [`Resource<T>`]: a handle to a host resource of Rust type `T`, owned or borrowed, named by its `rep` (the
//! host's own number for it, e.g. its key in a [`ResourceTable`](super::ResourceTable)).

use std::fmt;
use std::marker::PhantomData;

/// A handle to a host resource of type `T`: its representation `rep` and whether it is owned (`own<T>`: the
/// holder is responsible for it) or borrowed (`borrow<T>`: valid for one call). Not `Clone`: an owned handle
/// is used up when it is given away.
pub struct Resource<T: 'static> {
    rep: u32,
    own: bool,
    _type: PhantomData<fn() -> T>,
}

impl<T: 'static> Resource<T> {
    /// An owned handle to the resource represented by `rep`.
    pub fn new_own(rep: u32) -> Self {
        Resource { rep, own: true, _type: PhantomData }
    }

    /// A borrowed handle to the resource represented by `rep`.
    pub fn new_borrow(rep: u32) -> Self {
        Resource { rep, own: false, _type: PhantomData }
    }

    /// The resource's representation.
    pub fn rep(&self) -> u32 {
        self.rep
    }

    /// Whether the handle is owned (rather than borrowed).
    pub fn owned(&self) -> bool {
        self.own
    }
}

impl<T: 'static> fmt::Debug for Resource<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.own { "own" } else { "borrow" };
        write!(f, "Resource<{}>({kind}, {})", std::any::type_name::<T>(), self.rep)
    }
}
