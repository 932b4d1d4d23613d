//! How the VM holds what compiled code points into, and how it reaches the store.
//!
//! Compiled code, host functions and builtins reach a store and its objects through raw pointers saved in
//! instance contexts while wasm runs; the host reaches them through the API. For both to be sound under
//! Rust's aliasing rules, every such object is allocated by a [`VmBox`] and every access (the API's own
//! included) derives from the box's one owning raw pointer, never from a reference: a reference made from it
//! is short-lived, and no reference into a store is live across a call into wasm (the call path holds a
//! [`StorePtr`], which is a raw pointer with a lifetime). Host functions and builtins then make their own
//! short-lived references from the same raw pointer, which invalidates nothing the caller still uses.

use super::table::TableStorage;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// A heap allocation owned through a raw pointer, which compiled code and the runtime may copy and use for
/// as long as the box lives (see the module documentation).
pub struct VmBox<T: ?Sized>(NonNull<T>);

// SAFETY: a `VmBox<T>` owns its `T` like a `Box<T>` does; the copies of its pointer held by compiled code are
// only used while the owner of the box lends it (see the module documentation).
unsafe impl<T: ?Sized + Send> Send for VmBox<T> {}
// SAFETY: as for `Send`: shared access to the box gives shared access to the `T` only.
unsafe impl<T: ?Sized + Sync> Sync for VmBox<T> {}

impl<T> VmBox<T> {
    /// Moves `value` to the heap.
    pub fn new(value: T) -> Self {
        VmBox(NonNull::from(Box::leak(Box::new(value))))
    }

    /// Moves the value back out of the heap.
    pub fn into_value(self) -> T {
        let ptr = self.0;
        std::mem::forget(self);
        // SAFETY: the pointer came from `Box::leak` in `new`, and `self` is forgotten, so the box is
        // reclaimed once, here.
        *unsafe { Box::from_raw(ptr.as_ptr()) }
    }
}

impl<T: ?Sized> VmBox<T> {
    /// Takes over a boxed value (a slice, say).
    pub fn from_box(value: Box<T>) -> Self {
        VmBox(NonNull::from(Box::leak(value)))
    }

    /// The owning pointer, for compiled code and for access while the box is lent out.
    pub fn as_ptr(&self) -> NonNull<T> {
        self.0
    }

    /// Shared access.
    pub fn get(&self) -> &T {
        // SAFETY: the pointer is valid while the box lives; `&self` keeps the box's owner from making a
        // mutable reference meanwhile, and nothing else writes while the box is not lent to wasm.
        unsafe { self.0.as_ref() }
    }

    /// Exclusive access.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: as in `get`, with `&mut self` making the access exclusive.
        unsafe { self.0.as_mut() }
    }

    /// Lends the box's value for the lifetime of the borrow of the box.
    pub fn lend(&mut self) -> StorePtr<'_, T> {
        StorePtr { ptr: self.0, _borrow: PhantomData }
    }
}

impl<T: ?Sized> Drop for VmBox<T> {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `Box::leak` in `new` or `from_box` and is dropped once, here; whoever copied it
        // (compiled code, instance contexts) belongs to the same owner and is gone or unused by now.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// Exclusive access to a value owned by a [`VmBox`] (a store), lent for `'a`, held as the box's raw pointer
/// rather than a reference. It behaves like `&'a mut T`, except that passing it into a call into wasm
/// leaves host functions free to make their own references to the value.
pub struct StorePtr<'a, T: ?Sized> {
    ptr: NonNull<T>,
    _borrow: PhantomData<&'a mut T>,
}

// SAFETY: a `StorePtr` is exclusive access to a `T`, like `&mut T`, which is `Send` when `T` is.
unsafe impl<T: ?Sized + Send> Send for StorePtr<'_, T> {}
// SAFETY: shared access to a `StorePtr` gives shared access to the `T`, like `&&mut T`.
unsafe impl<T: ?Sized + Sync> Sync for StorePtr<'_, T> {}

impl<'a, T: ?Sized> StorePtr<'a, T> {
    /// Access through the owning pointer of a box whose value the caller has exclusive access to for `'a`.
    ///
    /// # Safety
    /// `ptr` must be the owning pointer of a live [`VmBox`] (or a pointer derived from it), and its value
    /// must not be accessed through anything else for `'a` (a host function called from wasm: the call into
    /// wasm that led to it lends the store for its duration).
    pub unsafe fn from_raw(ptr: NonNull<T>) -> Self {
        StorePtr { ptr, _borrow: PhantomData }
    }

    /// The owning pointer.
    pub fn as_raw(&self) -> NonNull<T> {
        self.ptr
    }

    /// Shared access for the borrow of `self`.
    pub fn get(&self) -> &T {
        // SAFETY: `self` stands for exclusive access to the value (see `from_raw` and `VmBox::lend`).
        unsafe { self.ptr.as_ref() }
    }

    /// Exclusive access for the borrow of `self`.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: as in `get`.
        unsafe { self.ptr.as_mut() }
    }

    /// Exclusive access for the rest of `'a`.
    pub fn into_mut(self) -> &'a mut T {
        // SAFETY: as in `get`; `self` is consumed, so this is the only access left.
        unsafe { &mut *self.ptr.as_ptr() }
    }

    /// Shared access for the rest of `'a`.
    pub fn into_ref(self) -> &'a T {
        // SAFETY: as in `into_mut`.
        unsafe { &*self.ptr.as_ptr() }
    }

    /// Lends the access on for the borrow of `self`.
    pub fn reborrow(&mut self) -> StorePtr<'_, T> {
        StorePtr { ptr: self.ptr, _borrow: PhantomData }
    }
}

/// An owned allocation whose type has been forgotten: it is only kept alive and dropped (a host function's
/// context, which compiled code points into, kept by its store).
pub struct ErasedBox {
    ptr: NonNull<()>,
    drop: unsafe fn(NonNull<()>),
}

// SAFETY: only made from `VmBox<T>` with `T: Send`, and never accessed again except to drop it.
unsafe impl Send for ErasedBox {}
// SAFETY: an `ErasedBox` gives no access to its value at all.
unsafe impl Sync for ErasedBox {}

impl ErasedBox {
    /// Keeps `value` alive until the `ErasedBox` is dropped; its pointer stays valid meanwhile.
    pub fn new<T: Send>(value: VmBox<T>) -> Self {
        /// Drops the `VmBox<T>` whose pointer is `ptr`.
        unsafe fn drop_box<T>(ptr: NonNull<()>) {
            // SAFETY: `ptr` is the owning pointer of a `VmBox<T>` forgotten by `ErasedBox::new`.
            drop(VmBox(ptr.cast::<T>()));
        }
        let ptr = value.as_ptr().cast();
        std::mem::forget(value);
        ErasedBox { ptr, drop: drop_box::<T> }
    }
}

impl Drop for ErasedBox {
    fn drop(&mut self) {
        // SAFETY: `drop` is the function `new` chose for the type behind `ptr`, called once.
        unsafe { (self.drop)(self.ptr) }
    }
}

/// What builtins need of the store that runs them; the root's store implements it. The indices are the
/// store's own (an instance maps its memory and table indices to the store's).
pub trait VMStore {
    /// The store's table `index`.
    fn table(&mut self, index: u32) -> &mut TableStorage;
    /// Grows memory `index` by `delta` pages, as the store's resource limiter allows: the old size, or
    /// `None` if it cannot grow; an error from the limiter traps.
    fn grow_memory(&mut self, index: u32, delta: u64) -> anyhow::Result<Option<u64>>;
    /// Grows table `index` by `delta` elements set to `init`, as the limiter allows (as `grow_memory`).
    fn grow_table(&mut self, index: u32, delta: u64, init: usize) -> anyhow::Result<Option<u64>>;
}
