//! [`GuestResource`]: an owned handle to a resource a guest defines, which cannot leak the guest's object.
//! Generated bindings wrap one in a typed handle per exported resource (`CounterHandle`), beyond what
//! Wasmtime's bindings give (their `ResourceAny` leaks the object unless `resource_drop` is called).

use super::resources::ResourceAny;
use crate::{AsContext, AsContextMut, StoreContextMut};
use anyhow::{Result, bail};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Handles dropped without their store, waiting for it; shared by a store and its handles.
pub(crate) type DropQueue = Arc<Dropped>;

/// The handles of a [`DropQueue`], and whether there are any (so that a call checks a flag, not a lock).
#[derive(Default)]
pub(crate) struct Dropped {
    pending: AtomicBool,
    handles: Mutex<Vec<ResourceAny>>,
}

impl Dropped {
    fn push(&self, resource: ResourceAny) {
        self.handles.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(resource);
        self.pending.store(true, Ordering::Release);
    }

    fn take(&self) -> Vec<ResourceAny> {
        self.pending.store(false, Ordering::Release);
        std::mem::take(&mut *self.handles.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

/// An owned handle to a guest's resource, tied to its store: dropping it drops the guest's object — at the
/// store's next call into a component (a Rust `Drop` has no store to call the destructor with), or at once
/// with [`drop`](Self::drop).
pub struct GuestResource {
    resource: Option<ResourceAny>,
    store: u64,
    dropped: DropQueue,
}

impl GuestResource {
    /// Takes ownership of `resource`, an owned handle a guest gave the host in `store`.
    pub fn new(mut store: impl AsContextMut, resource: ResourceAny) -> Result<Self> {
        if !resource.owned() {
            bail!("a borrowed handle cannot be owned: only an owned one can become a `GuestResource`");
        }
        let store = store.as_context_mut();
        let opaque = &store.0.get().opaque;
        Ok(GuestResource { resource: Some(resource), store: opaque.id(), dropped: opaque.components.dropped.clone() })
    }

    /// The handle, to pass to a call in `store` (lent or given: see [`into_resource`](Self::into_resource)).
    pub fn resource(&self, store: impl AsContext) -> Result<ResourceAny> {
        if store.as_context().0.opaque.id() != self.store {
            bail!("this guest resource handle belongs to a different store");
        }
        self.resource.ok_or_else(|| anyhow::anyhow!("this guest resource handle was given up"))
    }

    /// Gives up ownership without dropping the guest's object: for passing the handle on to the guest
    /// (a parameter `own<T>`).
    pub fn into_resource(mut self, store: impl AsContext) -> Result<ResourceAny> {
        let resource = self.resource(store)?;
        self.resource = None;
        Ok(resource)
    }

    /// Drops the guest's object now: its destructor runs.
    pub fn drop(self, mut store: impl AsContextMut) -> Result<()> {
        let resource = self.into_resource(&mut store)?;
        resource.resource_drop(store)
    }
}

impl Drop for GuestResource {
    fn drop(&mut self) {
        if let Some(resource) = self.resource.take() {
            self.dropped.push(resource);
        }
    }
}

impl std::fmt::Debug for GuestResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestResource").field("resource", &self.resource).finish()
    }
}

/// Drops the guest objects whose handles were dropped since the last call, unless a component of the store
/// is running (they wait for the next call from the host then). The first destructor's error is returned.
pub(crate) fn run_dropped<T: 'static>(store: &mut StoreContextMut<'_, T>) -> Result<()> {
    let components = &store.0.get().opaque.components;
    if !components.dropped.pending.load(Ordering::Acquire) || components.instances.iter().any(|i| i.running()) {
        return Ok(());
    }
    let pending = components.dropped.take();
    let mut first_error = None;
    for resource in pending {
        if let Err(e) = resource.resource_drop(&mut *store) {
            first_error.get_or_insert(e.context("dropping a guest resource whose handle was dropped"));
        }
    }
    first_error.map_or(Ok(()), Err)
}
