//! [`Access`]: a host function's way to the store and to its host data at once, given to the functions that
//! bindings mark `store` (Wasmtime 48's `component::Access`, without its concurrent `spawn`).

use super::linker::{HasData, HasSelf};
use crate::{AsContext, AsContextMut, StoreContext, StoreContextMut};

/// The store of a host function's call, with the getter that projects the store's data to the host data
/// `D` names: `get` gives the host data, [`AsContextMut`] the store.
pub struct Access<'a, T: 'static, D: HasData + ?Sized = HasSelf<T>> {
    store: StoreContextMut<'a, T>,
    get_data: fn(&mut T) -> D::Data<'_>,
}

impl<'a, T: 'static, D: HasData + ?Sized> Access<'a, T, D> {
    /// An `Access` to `store` whose host data `get_data` finds.
    pub fn new(store: StoreContextMut<'a, T>, get_data: fn(&mut T) -> D::Data<'_>) -> Self {
        Access { store, get_data }
    }

    /// The store's data.
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }

    /// The host data.
    pub fn get(&mut self) -> D::Data<'_> {
        (self.get_data)(self.store.data_mut())
    }

    /// The getter projecting the store's data to the host data.
    pub fn getter(&self) -> fn(&mut T) -> D::Data<'_> {
        self.get_data
    }
}

impl<T: 'static, D: HasData + ?Sized> AsContext for Access<'_, T, D> {
    type Data = T;

    fn as_context(&self) -> StoreContext<'_, T> {
        self.store.as_context()
    }
}

impl<T: 'static, D: HasData + ?Sized> AsContextMut for Access<'_, T, D> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, T> {
        self.store.as_context_mut()
    }
}
